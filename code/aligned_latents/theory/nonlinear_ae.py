"""One-hidden-layer Leaky ReLU autoencoders ``f(x) = A φ(B x)`` trained in torch
(paper Section 6 and Appendix H), with the latent space taken as the pre-activation
``B x``.

Training follows Appendix H and the companion code: minibatch SGD (or Adam for CMap) on
the mean squared reconstruction error, batches taken in file order (no shuffling), until
the epoch loss changes by less than ``tol`` (``1e-4``), with a generous epoch cap as a
safety net. The loop is the minimal PyTorch loop: contiguous batch slices, the loss
summed on the device and read once per epoch (see ``benchmarks/training_loop.py``).

Weights are saved with safetensors (no pickle) under a file name that hashes everything
that determines them (data, architecture, optimizer, seed); the training configuration
is stored beside them and checked on reload, so weights trained differently are
retrained.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np

from aligned_latents.util.validation import as_finite_array, check_int, check_positive

__all__ = [
    "DEFAULT_MAX_EPOCHS",
    "STOP_CAP",
    "STOP_TOL",
    "encode",
    "fingerprint",
    "make_autoencoder",
    "train_autoencoder",
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


def fingerprint(X: np.ndarray, **config) -> str:
    """A short hash of the data and the training configuration (the weights' cache
    key)."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(X, dtype=np.float32).tobytes())
    h.update(json.dumps(config, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def train_autoencoder(
    X,
    hidden: int,
    *,
    optimizer: str = "sgd",
    lr: float = 0.1,
    momentum: float = 0.9,
    batch_size: int = 1024,
    max_epochs: int = DEFAULT_MAX_EPOCHS,
    tol: float = 1e-4,
    seed: int = 0,
    negative_slope: float = 0.01,
    shuffle: bool = False,
    device=None,
    threads: int | None = None,
    weights_path: str | Path | None = None,
    progress: bool = True,
    desc: str = "autoencoder",
):
    """Train ``A φ(B x)`` on the rows of ``X`` (Appendix H).

    Minimizes the mean squared reconstruction error (Eq. (1) up to the constant factor
    ``1 / (n d)``) by minibatch SGD with momentum (or Adam), from PyTorch's default
    initialization under ``torch.manual_seed(seed)``. An epoch goes once through the
    rows in file order, in contiguous batches (the companion code shuffles nothing); its
    loss is the mean over the epoch of the batch losses, weighted by batch size, summed
    on the device and read once per epoch.

    Stopping rule (the companion code's; the paper states none): stop after the first
    epoch whose loss differs from the previous epoch's by less than ``tol``;
    ``max_epochs`` is only a safety cap (its default is not reached on the default GloVe
    data).

    Parameters
    ----------
    X : array-like (n, d)
        Training data, one sample per row.
    hidden : int
        Hidden width (Appendix H: 400 for GloVe, 1024 for CMap).
    optimizer : {'sgd', 'adam'}
    lr, momentum : float
        Learning rate; SGD momentum (Appendix H: 0.1 and 0.9).
    batch_size : int
    max_epochs : int
        Safety cap on the number of epochs.
    tol : float
        Stop when ``|loss_e - loss_{e-1}| < tol``.
    seed : int
        Seeds the initialization (and the order when ``shuffle``).
    negative_slope : float
        Of the Leaky ReLU.
    shuffle : bool
        Draw a random permutation per epoch (not the paper's setup; off by default).
    device : str, optional
        'cpu' or 'cuda'; default CUDA when present.
    threads : int, optional
        torch intra-op threads while training (restored after); None keeps the current
        count. On a CPU shared with other jobs, 1 is much faster than 2: on the book's
        2-core machine an epoch over the 400,000 GloVe words takes 1.3 s on one thread
        whatever the load, 0.9 s on two when the machine is idle but 15-100 s when it is
        busy (each operation waits for the slower thread).
    weights_path : str or Path, optional
        When the file exists and its stored configuration matches this call, the weights
        are loaded instead of trained; otherwise they are trained and saved there
        (safetensors, with the history as JSON beside it).
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
        :data:`STOP_CAP` ``'max_epochs cap'``), ``device``, ``threads``, ``config``;
        and ``loaded=True`` when the weights were reloaded.
    """
    torch = _torch()
    from aligned_latents.util.device import device_label, torch_device
    from aligned_latents.util.execution import note_network

    X = as_finite_array(X, "X", ndim=2, dtype=np.float32)
    if len(X) == 0:
        raise ValueError("X must have at least one row")
    hidden = check_int(hidden, "hidden", minimum=1)
    lr = check_positive(lr, "lr")
    momentum = check_positive(momentum, "momentum", allow_zero=True)
    tol = check_positive(tol, "tol", allow_zero=True)
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    max_epochs = check_int(max_epochs, "max_epochs", minimum=1)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    seed = check_int(seed, "seed")
    if threads is not None:
        threads = check_int(threads, "threads", minimum=1)
    dev = torch_device(device)
    config = {
        "hidden": hidden,
        "optimizer": optimizer,
        "lr": lr,
        "momentum": momentum if optimizer == "sgd" else None,
        "batch_size": batch_size,
        "max_epochs": max_epochs,
        "tol": tol,
        "seed": seed,
        "negative_slope": negative_slope,
        "shuffle": bool(shuffle),
        "n": int(X.shape[0]),
        "d": int(X.shape[1]),
        "loop": LOOP_VERSION,
    }
    torch.manual_seed(seed)
    model = make_autoencoder(X.shape[1], hidden, negative_slope).to(dev)
    meta_path = Path(weights_path).with_suffix(".json") if weights_path else None
    if weights_path and Path(weights_path).is_file():
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        if meta.get("config") == config:
            from safetensors.torch import load_file

            model.load_state_dict(load_file(str(weights_path), device=str(dev)))
            meta["loaded"] = True
            note_network(desc, meta.get("device", "unrecorded"), reloaded=True)
            return model.eval(), meta

    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        history = _train(
            model,
            torch.from_numpy(X).to(dev),
            optimizer,
            lr,
            momentum,
            batch_size,
            max_epochs,
            tol,
            shuffle,
            seed,
            progress,
            desc,
        )
    finally:
        torch.set_num_threads(before)
    history.update(threads=threads or before, config=config, device=device_label(dev))
    note_network(desc, history["device"], reloaded=False)
    if weights_path:
        from safetensors.torch import save_file

        Path(weights_path).parent.mkdir(parents=True, exist_ok=True)
        state = {
            k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()
        }
        save_file(state, str(weights_path))
        meta_path.write_text(json.dumps(history))
    return model, history


def _train(
    model,
    data,
    optimizer,
    lr,
    momentum,
    batch_size,
    max_epochs,
    tol,
    shuffle,
    seed,
    progress,
    desc,
) -> dict:
    """The training loop of :func:`train_autoencoder` (Appendix H); returns the history.

    Contiguous batch slices of ``data`` in row order (or of one permuted copy per epoch
    with ``shuffle``), the loss summed on the device, one host sync per epoch.
    """
    torch = _torch()
    from tqdm.auto import tqdm

    dev = data.device
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
    ``X``."""
    torch = _torch()
    X = as_finite_array(X, "X", ndim=2, dtype=np.float32)
    first = model[0]
    dev = first.weight.device
    out = []
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            out.append(
                first(torch.from_numpy(X[start : start + batch_size]).to(dev))
                .cpu()
                .numpy()
            )
    return np.concatenate(out) if out else np.zeros((0, first.out_features), np.float32)
