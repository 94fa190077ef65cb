"""The word-vector loader beside the usual readers, on one GloVe-840B-shaped text file:
:func:`aligned_latents.data.embeddings.load_text`, gensim's
``KeyedVectors.load_word2vec_format``, ``pandas.read_csv`` (the C reader, floats only,
no checks), ``numpy.loadtxt`` and ``pyarrow.csv.read_csv`` (the parser inside
``load_text``, alone: the whole file to an Arrow table of float64 columns, no matrix,
no tokens, no checks; the ratio to it is what the rest of the loader costs).

The file (written to ``/tmp`` by ``paper_scale.write_file``, deleted at the end) has a
word2vec header line ``count dim`` so that gensim can read it, and no token with spaces
(gensim and the table readers would split them); every reader reads all of it. Each
reader runs once, on the file in the page cache, single-threaded, the process pinned to
one core (``os.sched_setaffinity``); its speed is given in MB/s of text per second of
wall time and per second of this process's CPU time (the CPU figure is the one-core
speed: on a shared machine the wall figure also counts the time other processes held
the core). ``ratio_*`` divides ``load_text``'s CPU speed by the other reader's. All
readers must give the same matrix (checked).

Usage: ``.venv/bin/python benchmarks/loader_speed.py [--words N] [--dim D]``; the last
line printed is a JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from aligned_latents.data.embeddings import load_text
from paper_scale import write_file


def timed(fn):
    """``fn()``, its wall time and its CPU time (this process), in seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--path", default="/tmp/loader_speed.840B-shaped.txt")
    args = ap.parse_args()
    if args.words < 1 or args.dim < 1:
        raise SystemExit("--words and --dim must be >= 1")
    if hasattr(os, "sched_setaffinity"):  # one core (the lowest this process may use)
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    path = Path(args.path)
    words = [f"w{i:07d}" for i in range(args.words)]
    tmp = path.with_suffix(".body")
    try:
        write_file(tmp, words, args.dim)
        with open(path, "wb") as out, open(tmp, "rb") as body:
            out.write(f"{args.words} {args.dim}\n".encode())
            while chunk := body.read(1 << 24):
                out.write(chunk)
        tmp.unlink()
        size_mb = path.stat().st_size / 1e6
        path.read_bytes()  # into the page cache
        cols = range(1, args.dim + 1)
        readers = {
            "load_text": lambda: load_text(path).vectors,
            "pandas_read_csv": lambda: pd.read_csv(
                path, sep=" ", header=None, skiprows=1, usecols=cols,
                dtype=np.float32, engine="c", quoting=csv.QUOTE_NONE,
                na_filter=False).to_numpy(),
            "numpy_loadtxt": lambda: np.loadtxt(
                path, dtype=np.float32, delimiter=" ", skiprows=1, usecols=cols,
                comments=None, quotechar=None, encoding="utf-8"),
            "pyarrow_csv_read_csv": lambda: _arrow(path, args.dim),
            "gensim_load_word2vec_format": lambda: _gensim(path),
        }
        out = {"words": args.words, "dim": args.dim, "file_mb": round(size_mb, 1),
               "cpu_count": os.cpu_count(), "load_avg_1min": os.getloadavg()[0],
               "cores_used": len(os.sched_getaffinity(0))
               if hasattr(os, "sched_getaffinity") else None}
        first = None
        for name, fn in readers.items():
            X, wall, cpu = timed(fn)
            if name == "pyarrow_csv_read_csv":  # an Arrow table: its matrix, untimed
                X = np.column_stack([c.to_numpy() for c in X.columns])
            if first is None:
                first = X
            elif not np.array_equal(np.asarray(X, dtype=np.float32), first):
                raise SystemExit(f"{name} read different values from load_text")
            del X
            out[name] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                         "mb_per_s_wall": round(size_mb / wall, 1),
                         "mb_per_s_cpu": round(size_mb / cpu, 1)}
            print(f"{name}: {size_mb / cpu:.0f} MB/s (CPU), {size_mb / wall:.0f} MB/s "
                  "(wall)", flush=True)
    finally:
        path.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    ours = out["load_text"]["mb_per_s_cpu"]
    for name in readers:
        if name != "load_text":
            out[f"ratio_to_{name}"] = round(ours / out[name]["mb_per_s_cpu"], 2)
    out["load_avg_1min_end"] = os.getloadavg()[0]
    out["target_200_mb_per_s_cpu"] = ours >= 200
    print(json.dumps(out))


def _arrow(path: Path, dim: int):
    """Arrow's CSV reader alone, as ``load_text`` calls it (one thread, 2 MB blocks,
    float64 values, the token column skipped): the parse to an Arrow table, without
    the copy to a float32 matrix, the tokens or any check."""
    columns = [f"f{j}" for j in range(1, dim + 1)]
    return pa_csv.read_csv(
        path, read_options=pa_csv.ReadOptions(use_threads=False, skip_rows=1,
                                              autogenerate_column_names=True,
                                              block_size=1 << 21),
        parse_options=pa_csv.ParseOptions(delimiter=" ", quote_char=False),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.float64()), include_columns=columns))


def _gensim(path: Path) -> np.ndarray:
    from gensim.models import KeyedVectors

    return KeyedVectors.load_word2vec_format(str(path), binary=False).vectors


if __name__ == "__main__":
    main()
