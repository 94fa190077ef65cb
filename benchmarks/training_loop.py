"""Time the Leaky ReLU autoencoder's training loop (``nonlinear_ae.train_autoencoder``,
paper Appendix H) against a minimal inline PyTorch loop on the same data, model and
optimizer, in one process, alternating the two.

Setup (the GloVe chapter's): GloVe 6B 50d rows in file order, width 400, SGD with
learning rate 0.1 and momentum 0.9, batches of 1024, contiguous batch slices (no
shuffling). To run in well under two minutes on a 2-core CPU the default uses the 50,000
most frequent words (``--words 0``: all 400,000, the chapter's vocabulary); the
per-epoch cost is proportional to the number of words.

The minimal loop is forward, ``mse_loss``, ``zero_grad``, ``backward``, ``step`` on
``data[s:s + 1024]``, nothing else (no loss bookkeeping). ``--old`` also times the
earlier loop (a random permutation gathered per batch, ``float(loss)`` per batch).

Each timed run trains a fresh model (same seed) for ``--epochs`` epochs; after one
untimed warm-up run of each loop, the runs are interleaved ``--repeats`` times,
alternating their order, so that the loops see the same load on a shared machine.

Usage: ``.venv/bin/python benchmarks/training_loop.py [--words N] [--epochs E]
[--repeats R] [--threads T] [--old]``. The last line printed is a JSON object with the
per-epoch times of both loops (wall-clock medians and minima over all timed epochs, and
the median process CPU time per epoch, the steadiest on a shared CPU), their ratios
(ours / minimal) and the setup.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch

from aligned_latents.data.embeddings import load_default
from aligned_latents.theory import nonlinear_ae as nae

HIDDEN, LR, MOMENTUM, BATCH = 400, 0.1, 0.9, 1024


def _sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def minimal_loop(X: np.ndarray, epochs: int, dev, seed: int = 0) -> list[float]:
    """Per-epoch seconds of the minimal loop."""
    torch.manual_seed(seed)
    model = nae.make_autoencoder(X.shape[1], HIDDEN).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    data = torch.from_numpy(X).to(dev)
    out = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        for s in range(0, len(data), BATCH):
            batch = data[s : s + BATCH]
            loss = torch.nn.functional.mse_loss(model(batch), batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        _sync(dev)
        out.append(time.perf_counter() - t0)
    return out


def old_loop(X: np.ndarray, epochs: int, dev, seed: int = 0) -> list[float]:
    """Per-epoch seconds of the earlier loop: permutation gather and a host sync per
    batch."""
    torch.manual_seed(seed)
    model = nae.make_autoencoder(X.shape[1], HIDDEN).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    data = torch.from_numpy(X).to(dev)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    out = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(len(data), generator=gen).to(dev)
        total = 0.0
        for s in range(0, len(data), BATCH):
            batch = data[perm[s : s + BATCH]]
            loss = ((model(batch) - batch) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(batch)
        out.append(time.perf_counter() - t0)
    return out


def ours(X: np.ndarray, epochs: int, dev, seed: int = 0) -> list[float]:
    """Per-epoch seconds of ``train_autoencoder`` (tol = 0: exactly ``epochs``
    epochs)."""
    config = nae.TrainConfig(HIDDEN, lr=LR, momentum=MOMENTUM, batch_size=BATCH,
                             max_epochs=epochs, tol=0.0, seed=seed)
    _, hist = nae.train_autoencoder(X, config, device=dev.type, progress=False)
    return hist["seconds"]


def _timed(fn, X, epochs, dev):
    """Per-epoch wall seconds of one run, and the process CPU seconds of the whole run
    (model set-up included, the same for all loops)."""
    c0 = time.process_time()
    wall = fn(X, epochs, dev)
    return wall, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--words",
        type=int,
        default=50_000,
        help="most frequent words used (0: all 400,000)",
    )
    ap.add_argument("--epochs", type=int, default=1, help="epochs per timed run")
    ap.add_argument(
        "--repeats", type=int, default=6, help="runs of each loop, interleaved"
    )
    ap.add_argument(
        "--threads", type=int, default=0, help="torch threads (0: torch's default)"
    )
    ap.add_argument("--old", action="store_true", help="also time the earlier loop")
    ap.add_argument(
        "--device", default=None, help="cpu or cuda (default: cuda if present)"
    )
    args = ap.parse_args()
    if args.words < 0 or args.epochs < 1 or args.repeats < 1 or args.threads < 0:
        raise SystemExit("--words, --threads must be >= 0, --epochs and --repeats >= 1")

    from aligned_latents.util.device import torch_device

    if args.threads:
        torch.set_num_threads(args.threads)
    dev = torch_device(args.device)
    X = load_default(args.words or None).vectors
    loops = {"ours": ours, "minimal": minimal_loop}
    if args.old:
        loops["old"] = old_loop
    wall = {name: [] for name in loops}
    cpu = {name: [] for name in loops}
    for (
        fn
    ) in loops.values():  # warm-up (thread pools, allocator, lazy imports), untimed
        fn(X[:4096], 1, dev)
    for r in range(args.repeats):
        order = list(loops) if r % 2 == 0 else list(loops)[::-1]
        for name in order:
            t, c = _timed(loops[name], X, args.epochs, dev)
            wall[name] += t
            cpu[name].append(c / args.epochs)
            print(
                f"repeat {r + 1} {name:8s} wall "
                + " ".join(f"{x:.2f}" for x in t)
                + f" s, cpu {c:.2f} s",
                flush=True,
            )
    med = {name: statistics.median(t) for name, t in wall.items()}
    low = {name: min(t) for name, t in wall.items()}
    cmed = {name: statistics.median(t) for name, t in cpu.items()}
    result = {
        "words": len(X),
        "dim": int(X.shape[1]),
        "hidden": HIDDEN,
        "batch_size": BATCH,
        "epochs": args.epochs,
        "repeats": args.repeats,
        "device": str(dev),
        "threads": torch.get_num_threads(),
        "ours_s_per_epoch": round(med["ours"], 4),
        "minimal_s_per_epoch": round(med["minimal"], 4),
        "ratio": round(med["ours"] / med["minimal"], 4),
        "ours_min_s_per_epoch": round(low["ours"], 4),
        "minimal_min_s_per_epoch": round(low["minimal"], 4),
        "ratio_min": round(low["ours"] / low["minimal"], 4),
        "ours_cpu_s_per_epoch": round(cmed["ours"], 4),
        "minimal_cpu_s_per_epoch": round(cmed["minimal"], 4),
        "ratio_cpu": round(cmed["ours"] / cmed["minimal"], 4),
    }
    if "old" in med:
        result.update(
            old_s_per_epoch=round(med["old"], 4),
            old_ratio=round(med["old"] / med["minimal"], 4),
            old_ratio_min=round(low["old"] / low["minimal"], 4),
            old_ratio_cpu=round(cmed["old"] / cmed["minimal"], 4),
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
