"""Files: their digests, and the book's CSV files read as text with their columns checked."""
from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes (hex), read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_book_csv(path: Path, columns):
    """A CSV the book wrote (``claims.csv``, ``errata.csv``), every cell as text (empty,
    never NaN); ``ValueError`` naming the file when one of ``columns`` is missing."""
    import pandas as pd

    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    lacking = [c for c in columns if c not in df.columns]
    if lacking:
        raise ValueError(f"{path} lacks columns {lacking} (it must have {list(columns)}; "
                         "a file written by an older version of the book: rebuild it)")
    return df
