"""The book's figures: one module per chapter, one function per figure.

Each function draws its figure from the numbers the chapter wrote under
``results/<chapter>/`` (so the picture can be redrawn, and compared with a baseline, from
the CSV alone) and returns the matplotlib ``Figure``; it uses the book's style
(:mod:`aligned_latents.book.style`).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd


def read_results(results, name: str, columns=(), nonempty: bool = False,
                 **read_csv) -> pd.DataFrame:
    """The CSV ``name`` of a chapter's results folder, for a figure: a missing file, a
    missing column (of ``columns``) or, with ``nonempty``, an empty table is a clear
    error naming the file."""
    path = Path(results) / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run the chapter first")
    df = pd.read_csv(path, **read_csv)
    lacking = [c for c in columns if c not in df.columns]
    if lacking:
        raise ValueError(f"{path} lacks columns {lacking}")
    if nonempty and df.empty:
        raise ValueError(f"{path} has no rows")
    return df
