"""Files: their digests (one file, the whole package), and the book's CSV files read as text
with their columns checked."""
from __future__ import annotations

import hashlib
import json
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


def digest_of(*parts) -> str:
    """sha256 of JSON-serialisable ``parts`` (dicts with sorted keys): a cache or run key."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def package_files(root: Path | None = None) -> dict[str, str]:
    """``{path relative to the package: sha256}`` of every file of the package, any
    extension (``paper_statements.csv`` too), less ``__pycache__``."""
    root = Path(__file__).parents[1] if root is None else Path(root)
    return {f.relative_to(root).as_posix(): sha256_file(f) for f in sorted(root.rglob("*"))
            if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc"}


def package_digest(root: Path | None = None) -> str:
    """sha256 of the whole package (every file of :func:`package_files`, with its path): two
    processes with the same digest run the same code (reruns and sweeps record it)."""
    return digest_of(package_files(root))
