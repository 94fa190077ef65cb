"""One-hidden-layer Leaky ReLU autoencoders ``f(x) = A φ(B x)`` trained in torch
(paper Section 6 and Appendix H), with the latent space taken as the pre-activation ``B x``.

Weights are saved with safetensors (no pickle) under a file name that hashes everything that
determines them (data, architecture, optimizer, seed), so an unchanged chapter reloads them
instead of retraining.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np

from .validation import as_finite_array, check_positive


def _torch():
    import torch
    return torch


def make_autoencoder(d: int, hidden: int, negative_slope: float = 0.01, bias: bool = True):
    """``nn.Sequential(Linear(d, hidden), LeakyReLU, Linear(hidden, d))``; encoder = layer 0."""
    torch = _torch()
    if d < 1 or hidden < 1:
        raise ValueError(f"d and hidden must be positive, got d={d}, hidden={hidden}")
    return torch.nn.Sequential(torch.nn.Linear(d, hidden, bias=bias),
                               torch.nn.LeakyReLU(negative_slope),
                               torch.nn.Linear(hidden, d, bias=bias))


def fingerprint(X: np.ndarray, **config) -> str:
    """A short hash of the data and the training configuration (the weights' cache key)."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(X, dtype=np.float32).tobytes())
    h.update(json.dumps(config, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def train_autoencoder(X, hidden: int, *, optimizer: str = "sgd", lr: float = 0.1,
                      momentum: float = 0.9, batch_size: int = 1024, max_epochs: int = 20,
                      tol: float = 1e-4, seed: int = 0, negative_slope: float = 0.01,
                      device=None, weights_path: str | Path | None = None,
                      progress: bool = True, desc: str = "autoencoder"):
    """Train ``A φ(B x)`` on the rows of ``X`` with the mean squared reconstruction loss.

    Stops when the epoch loss changes by less than ``tol`` (Appendix H) or after
    ``max_epochs`` (a cap, reported in ``history['stopped']``). With ``weights_path`` given and
    present, the weights are loaded (``safetensors``) instead of trained; otherwise they are
    saved there after training.

    Returns ``(model, history)``; ``history`` has per-epoch ``loss`` and ``seconds``.
    """
    torch = _torch()
    from tqdm.auto import tqdm

    from .device import torch_device

    X = as_finite_array(X, "X", ndim=2, dtype=np.float32)
    check_positive(lr, "lr")
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    if max_epochs < 1 or batch_size < 1:
        raise ValueError("max_epochs and batch_size must be >= 1")
    dev = torch_device(device)
    torch.manual_seed(seed)
    model = make_autoencoder(X.shape[1], hidden, negative_slope).to(dev)
    meta_path = Path(weights_path).with_suffix(".json") if weights_path else None
    if weights_path and Path(weights_path).is_file():
        from safetensors.torch import load_file
        model.load_state_dict(load_file(str(weights_path), device=str(dev)))
        history = json.loads(meta_path.read_text()) if meta_path and meta_path.is_file() else {}
        history["loaded"] = True
        return model.eval(), history

    data = torch.from_numpy(X).to(dev)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    opt = (torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum) if optimizer == "sgd"
           else torch.optim.Adam(model.parameters(), lr=lr))
    history = {"loss": [], "seconds": [], "stopped": "max_epochs", "device": str(dev)}
    prev = None
    bar = tqdm(range(max_epochs), desc=desc, disable=not progress, unit="epoch")
    for epoch in bar:
        t0 = time.perf_counter()
        perm = torch.randperm(len(data), generator=gen).to(dev)
        total = 0.0
        model.train()
        for start in range(0, len(data), batch_size):
            batch = data[perm[start:start + batch_size]]
            loss = ((model(batch) - batch) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(batch)
        epoch_loss = total / len(data)
        if not np.isfinite(epoch_loss):
            raise FloatingPointError(f"training diverged at epoch {epoch + 1} (loss {epoch_loss})")
        history["loss"].append(epoch_loss)
        history["seconds"].append(time.perf_counter() - t0)
        bar.set_postfix(loss=f"{epoch_loss:.5f}", s_per_epoch=f"{history['seconds'][-1]:.1f}")
        if prev is not None and abs(prev - epoch_loss) < tol:
            history["stopped"] = "tol"
            break
        prev = epoch_loss
    model.eval()
    if weights_path:
        from safetensors.torch import save_file
        Path(weights_path).parent.mkdir(parents=True, exist_ok=True)
        save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
                  str(weights_path))
        meta_path.write_text(json.dumps(history))
    return model, history


def encode(model, X, batch_size: int = 65536) -> np.ndarray:
    """Latent codes: the first layer's pre-activation ``B x + b`` for each row of ``X``."""
    torch = _torch()
    X = as_finite_array(X, "X", ndim=2, dtype=np.float32)
    first = model[0]
    dev = first.weight.device
    out = []
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            out.append(first(torch.from_numpy(X[start:start + batch_size]).to(dev)).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, first.out_features), np.float32)
