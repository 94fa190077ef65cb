"""One-hidden-layer Leaky ReLU autoencoders ``f(x) = A φ(B x)`` trained in torch
(paper Section 6 and Appendix H), with the latent space taken as the pre-activation
``B x``.

Training follows Appendix H and the companion code: minibatch SGD (or Adam for CMap) on
the mean squared reconstruction error, batches taken in file order (no shuffling), until
the epoch loss changes by less than ``tol`` (``1e-4``), with a generous epoch cap as a
safety net. The loop is the minimal PyTorch loop: contiguous batch slices, the loss
summed on the device and read once per epoch (see ``benchmarks/training_loop.py``).

The settings are one :class:`TrainConfig`. :func:`train_autoencoder` owns the weights'
cache: given a folder, it saves them with safetensors (no pickle) under a file name that
hashes everything that determines them (data, architecture, optimizer, seed); the
training configuration is stored beside them and checked on reload, so weights trained
differently are retrained.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aligned_latents.util.validation import as_finite_array, check_int, check_positive

__all__ = [
    "DEFAULT_MAX_EPOCHS",
    "STOP_CAP",
    "STOP_TOL",
    "TrainConfig",
    "encode",
    "AutoencoderTraining",
    "make_autoencoder",
    "start_autoencoders",
    "train_autoencoder",
    "train_autoencoders",
]

#: ``history['stopped']`` when the epoch loss changed by less than ``tol`` (the
#: companion code's rule; the paper states no stopping rule).
STOP_TOL = "loss change < tol"
#: ``history['stopped']`` when the safety cap ``max_epochs`` ended training.
STOP_CAP = "max_epochs cap"
#: Default safety cap. On the default data (GloVe 6B 50d, 400,000 words, width 400, SGD
#: 0.1/0.9, batches of 1024, seed 0) the loss-change rule stops training after 17 epochs
#: (epoch loss 0.00160, last change 9.1e-5), far below it.
DEFAULT_MAX_EPOCHS = 200
#: Version of the training loop, stored with the weights: weights saved by another loop
#: (the earlier one shuffled every epoch) are retrained instead of reloaded.
LOOP_VERSION = 2


def _torch():
    import torch

    return torch


def make_autoencoder(
    d: int, hidden: int, negative_slope: float = 0.01, bias: bool = True
):
    """``nn.Sequential(Linear(d, hidden), LeakyReLU, Linear(hidden, d))``.

    The encoder ``B`` is layer 0, the decoder ``A`` layer 2 (Appendix H's architecture).
    """
    torch = _torch()
    if d < 1 or hidden < 1:
        raise ValueError(f"d and hidden must be positive, got d={d}, hidden={hidden}")
    return torch.nn.Sequential(
        torch.nn.Linear(d, hidden, bias=bias),
        torch.nn.LeakyReLU(negative_slope),
        torch.nn.Linear(hidden, d, bias=bias),
    )


@dataclass(frozen=True)
class TrainConfig:
    """The training settings of the Leaky ReLU autoencoder (Appendix H), written once.

    A caller builds one (the GloVe chapter: SGD, learning rate 0.1, momentum 0.9, width
    400; CMap: Adam, learning rate 1e-4, width 1024; values in
    :mod:`aligned_latents.util.paper`) and passes it to :func:`train_autoencoder`, which
    also names the weights' file from it. Bad values are refused when it is built.

    Attributes
    ----------
    hidden : int >= 1
        Hidden width.
    optimizer : {'sgd', 'adam'}
    lr : float > 0
        Learning rate.
    momentum : float >= 0
        SGD momentum (not used by Adam, and then not part of the configuration).
    batch_size : int >= 1
    max_epochs : int >= 1
        Safety cap on the number of epochs.
    tol : float >= 0
        Stop after the first epoch whose loss differs from the previous one's by less.
    seed : int
        Seeds the initialization (and the order when ``shuffle``).
    negative_slope : float
        Of the Leaky ReLU.
    shuffle : bool
        Draw a random permutation per epoch (not the paper's setup; off by default).
    """

    hidden: int
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    batch_size: int = 1024
    max_epochs: int = DEFAULT_MAX_EPOCHS
    tol: float = 1e-4
    seed: int = 0
    negative_slope: float = 0.01
    shuffle: bool = False

    def __post_init__(self):
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")
        checked = {
            "hidden": check_int(self.hidden, "hidden", minimum=1),
            "lr": check_positive(self.lr, "lr"),
            "momentum": check_positive(self.momentum, "momentum", allow_zero=True),
            "batch_size": check_int(self.batch_size, "batch_size", minimum=1),
            "max_epochs": check_int(self.max_epochs, "max_epochs", minimum=1),
            "tol": check_positive(self.tol, "tol", allow_zero=True),
            "seed": check_int(self.seed, "seed"),
            "shuffle": bool(self.shuffle),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    def record(self, X: np.ndarray) -> dict:
        """What determines the weights, as stored beside them: these settings (momentum
        only for SGD), the data's shape and the loop's version."""
        return {
            "hidden": self.hidden,
            "optimizer": self.optimizer,
            "lr": self.lr,
            "momentum": self.momentum if self.optimizer == "sgd" else None,
            "batch_size": self.batch_size,
            "max_epochs": self.max_epochs,
            "tol": self.tol,
            "seed": self.seed,
            "negative_slope": self.negative_slope,
            "shuffle": self.shuffle,
            "n": int(X.shape[0]),
            "d": int(X.shape[1]),
            "loop": LOOP_VERSION,
        }

    def weights_file(self, X: np.ndarray, prefix: str = "leaky_relu") -> str:
        """The weights' file name: ``<prefix>-<hash>.safetensors``, the hash (16 hex
        digits) of the data and :meth:`record`."""
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(X, dtype=np.float32))  # its buffer, no bytes copy
        h.update(json.dumps(self.record(X), sort_keys=True, default=str).encode())
        return f"{prefix}-{h.hexdigest()[:16]}.safetensors"


def train_autoencoder(
    X,
    config: TrainConfig,
    *,
    weights_dir: str | Path | None = None,
    prefix: str = "leaky_relu",
    device=None,
    threads: int | None = None,
    progress: bool = True,
    desc: str = "autoencoder",
):
    """Train ``A φ(B x)`` on the rows of ``X`` (Appendix H) with the settings ``config``.

    Minimizes the mean squared reconstruction error (Eq. (1) up to the constant factor
    ``1 / (n d)``) by minibatch SGD with momentum (or Adam), from PyTorch's default
    initialization under ``torch.manual_seed(config.seed)``. An epoch goes once through
    the rows in file order, in contiguous batches (the companion code shuffles nothing);
    its loss is the mean over the epoch of the batch losses, weighted by batch size,
    summed on the device and read once per epoch.

    Stopping rule (the companion code's; the paper states none): stop after the first
    epoch whose loss differs from the previous epoch's by less than ``config.tol``;
    ``config.max_epochs`` is only a safety cap (its default is not reached on the
    default GloVe data).

    Parameters
    ----------
    X : array-like (n, d)
        Training data, one sample per row.
    config : TrainConfig
        The training settings.
    weights_dir : str or Path, optional
        The weights' cache: the file :meth:`TrainConfig.weights_file` names there (hashing
        the data and ``config``) is loaded when it exists and its stored configuration
        matches; otherwise the weights are trained and saved there (safetensors, with the
        history as JSON beside it). None: no cache.
    prefix : str
        Start of the file's name.
    device : str, optional
        'cpu' or 'cuda'; default CUDA when present.
    threads : int, optional
        torch intra-op threads while training (restored after); None keeps the current
        count. On a CPU shared with other jobs, 1 is much faster than 2: on the book's
        2-core machine an epoch over the 400,000 GloVe words takes 1.3 s on one thread
        whatever the load, 0.9 s on two when the machine is idle but 15-100 s when it is
        busy (each operation waits for the slower thread).
    progress : bool
        Show a tqdm bar (one update per epoch).
    desc : str
        Label of the progress bar.

    Returns
    -------
    model : torch.nn.Sequential
        In eval mode.
    history : dict
        ``loss`` and ``seconds`` (per epoch), ``epochs``, ``final_loss``,
        ``total_seconds``, ``stopped`` (:data:`STOP_TOL` ``'loss change < tol'`` or
        :data:`STOP_CAP` ``'max_epochs cap'``), ``device``, ``threads``, ``config`` (the
        record), ``weights_path`` (None without a cache); and ``loaded=True`` when the
        weights were reloaded.
    """
    torch = _torch()
    from aligned_latents.util.device import device_label, torch_device
    from aligned_latents.util.execution import note_network

    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    X = as_finite_array(X, "X", ndim=2, dtype=np.float32)
    if len(X) == 0:
        raise ValueError("X must have at least one row")
    if threads is not None:
        threads = check_int(threads, "threads", minimum=1)
    dev = torch_device(device)
    record = config.record(X)
    weights_path = (Path(weights_dir) / config.weights_file(X, prefix)
                    if weights_dir is not None else None)
    torch.manual_seed(config.seed)
    model = make_autoencoder(X.shape[1], config.hidden, config.negative_slope).to(dev)
    meta_path = weights_path.with_suffix(".json") if weights_path else None
    meta = _cached_meta(weights_path, record)
    if meta is not None:
        _load_weights(model, weights_path, dev)
        meta.update(loaded=True, weights_path=str(weights_path))
        note_network(desc, meta.get("device", "unrecorded"), reloaded=True)
        return model, meta

    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        history = _train(model, torch.from_numpy(X).to(dev), config, progress, desc)
    finally:
        torch.set_num_threads(before)
    history.update(threads=threads or before, config=record, device=device_label(dev))
    note_network(desc, history["device"], reloaded=False)
    if weights_path:
        from safetensors.torch import save_file

        weights_path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()
        }
        save_file(state, str(weights_path))
        meta_path.write_text(json.dumps(history))
    history["weights_path"] = str(weights_path) if weights_path else None
    return model, history


def _cached_meta(weights_path: Path | None, record: dict) -> dict | None:
    """The stored history of the weights at ``weights_path`` when they exist and were
    trained with the configuration ``record``; else None (they must be trained)."""
    if weights_path is None or not weights_path.is_file():
        return None
    meta_path = weights_path.with_suffix(".json")
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    return meta if meta.get("config") == record else None


def _load_weights(model, weights_path: Path, dev):
    """Load the cached weights at ``weights_path`` into ``model``; returns it in eval mode."""
    from safetensors.torch import load_file

    model.load_state_dict(load_file(str(weights_path), device=str(dev)))
    return model.eval()


def _watch_parent() -> None:
    """In a worker process: exit as soon as the process that started it ends (killed,
    crashed or interrupted), so that no training outlives the chapter that wanted it."""
    import multiprocessing
    import os
    import threading
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return

    def watch():
        wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _train_in_worker(x_path: str, config: TrainConfig, weights_dir: str, prefix: str,
                     desc: str) -> dict:
    """One network of :func:`start_autoencoders`, in a worker process: trains on one
    thread and saves the weights in the cache; returns the history. The data are a
    copy-on-write mapping of the file ``x_path``: its pages are the page cache's, shared
    with every process that maps the file (nothing writes to them)."""
    X = np.load(x_path, mmap_mode="c")
    _, history = train_autoencoder(X, config, weights_dir=weights_dir, prefix=prefix,
                                   device="cpu", threads=1, progress=False, desc=desc)
    return history


def _caller_threads(n: int):
    """Sets this process's torch intra-op and BLAS threads to ``n``; returns the function
    that restores the previous counts."""
    from threadpoolctl import threadpool_limits

    torch = _torch()
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    blas = threadpool_limits(n, user_api="blas")

    def restore():
        blas.restore_original_limits()
        torch.set_num_threads(before)

    return restore


class AutoencoderTraining:
    """Networks of :func:`start_autoencoders`, being trained; :meth:`result` collects them.

    Attributes
    ----------
    data : ndarray (n, d), float32
        The data the networks are trained on, to be used in place of the caller's: in the
        background (:attr:`background`), a copy-on-write mapping of the file the workers
        map (the same values; one copy in memory for the caller and the workers, where
        the caller's own array would be a second); otherwise the caller's array.
    background : bool
        Whether the networks are already training in worker processes. Meanwhile this
        process computes on the CPUs they leave: its torch and BLAS threads are the
        CPUs less :attr:`workers` (at least one) until :meth:`result` or :meth:`cancel`
        restores them (two threads sharing one CPU with a worker wait on each other at
        every operation's barrier).
    workers : int
        Processes that train (or will train) networks; 0 when none is trained in one.
    """

    def __init__(self, X, configs, weights_dir, prefix, device, workers, progress, desc):
        import os
        import threading
        import weakref

        from aligned_latents.util.device import torch_device

        configs = list(configs)
        if not configs or not all(isinstance(c, TrainConfig) for c in configs):
            raise TypeError("configs must be a non-empty list of TrainConfig")
        if weights_dir is None:
            raise ValueError("train_autoencoders needs a weights_dir (the weights' cache)")
        if workers is not None:
            workers = check_int(workers, "workers", minimum=1)
        X = as_finite_array(X, "X", ndim=2, dtype=np.float32)
        self.data = X
        self._configs, self._prefix, self._device = configs, prefix, device
        self._progress, self._desc = progress, desc
        self._weights_dir = Path(weights_dir)
        self._dev = torch_device(device)
        self._labels = [f"{desc}, seed {c.seed}" for c in configs]
        self._paths = [self._weights_dir / c.weights_file(X, prefix) for c in configs]
        self._todo = [i for i, (c, path) in enumerate(zip(configs, self._paths))
                      if _cached_meta(path, c.record(X)) is None]
        cpus = os.cpu_count() or 1
        n_workers = min(workers or cpus, len(self._todo))
        # in the background only when a CPU is left to the caller: fewer networks to
        # train than CPUs (workers=1 asks for training in the caller, one by one)
        self.background = (self._dev.type == "cpu" and workers != 1
                           and 0 < len(self._todo) < cpus)
        self.workers = n_workers if self._dev.type == "cpu" and (
            n_workers > 1 or self.background) else 0
        self._pool = self._tmp = self._threads = None
        self._futures: dict = {}
        self._done = False
        if self.background:
            self._launch()
            self._threads = _caller_threads(max(1, cpus - self.workers))
            # before concurrent.futures' own exit hook, which would wait for the
            # networks: an interpreter that ends without collecting them stops them
            ref = weakref.ref(self)  # the hook does not keep the data alive

            def stop():
                training = ref()
                if training is not None:
                    training.cancel()

            register = getattr(threading, "_register_atexit", None)
            if register is not None:
                register(stop)
            else:  # pragma: no cover  (CPython has it since 3.9)
                import atexit

                atexit.register(stop)

    def _launch(self) -> None:
        """Writes the data to a file in the cache (in the background, :attr:`data`
        becomes a mapping of it) and starts the worker processes (spawned: nothing of
        this process's state is shared), each network submitted."""
        import multiprocessing
        import tempfile
        from concurrent.futures import ProcessPoolExecutor

        self._weights_dir.mkdir(parents=True, exist_ok=True)
        self._tmp = tempfile.mkdtemp(dir=self._weights_dir, prefix=".train-")
        try:
            x_path = str(Path(self._tmp) / "X.npy")
            np.save(x_path, self.data)
            if self.background:  # the caller goes on with the workers' copy
                self.data = np.asarray(np.load(x_path, mmap_mode="c"))
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context,
                                             initializer=_watch_parent)
            self._futures = {
                self._pool.submit(_train_in_worker, x_path, self._configs[i],
                                  str(self._weights_dir), self._prefix, self._labels[i]): i
                for i in self._todo}
        except BaseException:
            self.cancel()
            raise

    def cancel(self) -> None:
        """Stops the worker processes (their networks are lost) and removes the data's
        file; :meth:`result` then raises. Called on an error or an interruption while
        collecting, and when the interpreter ends without collecting."""
        self._close(stop=True)

    def _close(self, stop: bool) -> None:
        """Shuts the worker processes down (``stop``: terminates them at once; else
        waits for them, done with their work) and removes the data's file (a mapping of
        it stays valid)."""
        import shutil

        threads, self._threads = self._threads, None
        if threads is not None:
            threads()  # restores this process's thread counts
        pool, self._pool = self._pool, None
        if pool is not None and stop:
            processes = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)  # forgets its processes
            for proc in processes:
                proc.terminate()
            for proc in processes:
                proc.join()
        elif pool is not None:
            pool.shutdown(wait=True)
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def result(self) -> list:
        """The networks, in the order of the configurations: waits for those training in
        the background (a worker's error is raised here, with its traceback), trains
        the others, loads the cached ones. See :func:`train_autoencoders`."""
        from tqdm.auto import tqdm

        from aligned_latents.util.execution import note_network

        if self._done:
            raise RuntimeError("the networks were collected already")
        self._done = True
        X, configs, labels, paths = self.data, self._configs, self._labels, self._paths
        histories = {}
        try:
            if self._threads is not None:  # waiting now: the caller's threads back
                self._threads, restore = None, self._threads
                restore()
            if self.workers and not self.background:
                self._launch()
            if self._futures:
                from concurrent.futures import as_completed

                n, w = len(self._todo), self.workers
                bar = tqdm(total=n, disable=not self._progress, unit="network",
                           desc=f"{self._desc}: {n} network{'s' * (n != 1)} on {w} "
                           f"process{'es' * (w != 1)}"
                           + (", started in the background" if self.background else ""))
                for future in as_completed(self._futures):
                    histories[self._futures[future]] = future.result()
                    bar.update()
                bar.close()
        except BaseException:  # a worker's error, an interruption: no worker outlives it
            self.cancel()
            raise
        self._close(stop=False)
        out = []
        for i, config in enumerate(configs):
            if i not in histories:  # cached before this call, or trained here
                out.append(train_autoencoder(X, config, weights_dir=self._weights_dir,
                                             prefix=self._prefix, device=self._device,
                                             threads=1, progress=self._progress,
                                             desc=labels[i]))
                continue
            _torch().manual_seed(config.seed)  # the global generator ends as after a reload
            model = make_autoencoder(X.shape[1], config.hidden,
                                     config.negative_slope).to(self._dev)
            note_network(labels[i], histories[i]["device"], reloaded=False)
            out.append((_load_weights(model, paths[i], self._dev),
                        {**histories[i], "weights_path": str(paths[i])}))
        return out


def start_autoencoders(
    X,
    configs,
    *,
    weights_dir: str | Path,
    prefix: str = "leaky_relu",
    device=None,
    workers: int | None = None,
    progress: bool = True,
    desc: str = "autoencoder",
) -> AutoencoderTraining:
    """Starts :func:`train_autoencoders`' work and returns at once; ``.result()`` of the
    returned :class:`AutoencoderTraining` gives its networks.

    On a CPU with fewer networks to train than CPUs (and ``workers`` not 1), they start
    training now in worker processes, one thread each, while the caller goes on with
    the CPU left: the caller should then use the returned object's ``data`` in place
    of ``X`` (the same values, mapped from the file the workers read, so that the data
    are in memory once). Otherwise nothing runs before ``.result()``, which then does
    exactly what :func:`train_autoencoders` does. Either way the weights are those of
    :func:`train_autoencoder` on one thread, bit for bit. Arguments as for
    :func:`train_autoencoders`; bad values are refused here, before anything runs.
    """
    return AutoencoderTraining(X, configs, weights_dir, prefix, device, workers,
                               progress, desc)


def train_autoencoders(X, configs, **options) -> list:
    """:func:`train_autoencoder` for several configurations (one per seed), the networks
    not in the cache trained side by side in ``workers`` processes on a CPU.

    Each network is trained exactly as :func:`train_autoencoder` trains it on one thread
    (same code, same seed, same data; the weights are bit-identical to a serial run, which
    ``tests/test_foundation.py`` checks), in a fresh process, and saved in the cache
    ``weights_dir``; this process then loads it. On a CUDA device, with ``workers=1``, or
    with at most one network to train and one CPU, they are trained here one after the
    other. The workers map one copy of ``X`` written to a file in the cache (removed at
    the end); a worker's error is raised here, and an interruption stops the workers.
    :func:`start_autoencoders` starts the same work without waiting for it; ``options``
    are its keyword-only arguments.

    Parameters
    ----------
    X : array-like (n, d)
    configs : iterable of TrainConfig
    weights_dir : str or Path
        The weights' cache (required: the workers hand the weights over through it).
    prefix, device, progress : as for :func:`train_autoencoder`
    workers : int >= 1, optional
        Processes; default the number of CPUs, at most the number of networks to train.
    desc : str
        Label; each network's is ``"<desc>, seed <seed>"``.

    Returns
    -------
    list of (model, history)
        In the order of ``configs``; ``history`` as :func:`train_autoencoder` returns it
        (``loaded=True`` only for weights found in the cache before this call).
    """
    return start_autoencoders(X, configs, **options).result()


def _train(model, data, config: TrainConfig, progress: bool, desc: str) -> dict:
    """The training loop of :func:`train_autoencoder` (Appendix H); returns the history.

    Contiguous batch slices of ``data`` in row order (or of one permuted copy per epoch
    with ``shuffle``), the loss summed on the device, one host sync per epoch.
    """
    torch = _torch()
    from tqdm.auto import tqdm

    dev = data.device
    optimizer, lr, momentum = config.optimizer, config.lr, config.momentum
    batch_size, max_epochs, tol = config.batch_size, config.max_epochs, config.tol
    shuffle, seed = config.shuffle, config.seed
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator(device="cpu").manual_seed(seed) if shuffle else None
    n = len(data)
    starts = range(0, n, batch_size)
    history = {"loss": [], "seconds": [], "stopped": STOP_CAP, "device": str(dev)}
    prev = None
    model.train()
    t_start = time.perf_counter()
    bar = tqdm(range(max_epochs), desc=desc, disable=not progress, unit="epoch")
    for epoch in bar:
        t0 = time.perf_counter()
        src = data[torch.randperm(n, generator=gen).to(dev)] if shuffle else data
        total = torch.zeros((), dtype=data.dtype, device=dev)
        for s in starts:
            batch = src[s : s + batch_size]
            loss = torch.nn.functional.mse_loss(model(batch), batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total.add_(loss.detach(), alpha=len(batch))
        epoch_loss = float(total) / n  # the epoch's one host sync
        if not np.isfinite(epoch_loss):
            raise FloatingPointError(
                f"training diverged at epoch {epoch + 1} (loss {epoch_loss})"
            )
        history["loss"].append(epoch_loss)
        history["seconds"].append(time.perf_counter() - t0)
        bar.set_postfix(
            loss=f"{epoch_loss:.5f}", s_per_epoch=f"{history['seconds'][-1]:.1f}"
        )
        if prev is not None and abs(prev - epoch_loss) < tol:
            history["stopped"] = STOP_TOL
            break
        prev = epoch_loss
    bar.close()
    model.eval()
    history.update(
        epochs=len(history["loss"]),
        final_loss=history["loss"][-1],
        total_seconds=time.perf_counter() - t_start,
    )
    return history


def encode(model, X, batch_size: int = 65536) -> np.ndarray:
    """Latent codes: the first layer's pre-activation ``B x + b`` for each row of
    ``X``, written batch by batch into one float32 array (no list of batches
    concatenated at the end, which held the codes twice: 1.6 GB for 500,000 words and
    400 hidden units)."""
    torch = _torch()
    X = as_finite_array(X, "X", ndim=2, dtype=np.float32)
    first = model[0]
    dev = first.weight.device
    out = np.empty((len(X), first.out_features), dtype=np.float32)
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            out[start:start + batch_size] = (
                first(torch.from_numpy(X[start : start + batch_size]).to(dev)).cpu().numpy())
    return out
