"""The word-vector loader on small files written by the tests (GloVe and word2vec
formats). Damaged files: ``test_loaders_bad_files.py``."""
from __future__ import annotations

import gzip
import re
import zipfile

import numpy as np
import pytest

from aligned_latents.data.embeddings import Embeddings, load_default, load_text

GLOVE = ("the 0.1 0.2 0.3\nnan 1 2 3\nnull 4 5 6\nNA 7 8 9\n. . . 0.5 0.5 0.5\n"
         "the 9 9 9\nNone -1 -2 -3\n")


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_glove_text_special_tokens_spaces_duplicates(tmp_path):
    emb = load_text(write(tmp_path, "v.txt", GLOVE))
    assert emb.words == ["the", "nan", "null", "NA", ". . .", "None"]
    assert emb.duplicates == 1
    # the first 'the' is kept, not the duplicate's 9 9 9
    np.testing.assert_array_equal(emb.vectors[0], np.float32([0.1, 0.2, 0.3]))
    np.testing.assert_array_equal(emb.vectors[emb.index["nan"]], [1, 2, 3])
    np.testing.assert_array_equal(emb.vectors[emb.index[". . ."]], [0.5, 0.5, 0.5])
    assert emb.vectors.dtype == np.float32 and emb.dim == 3
    assert not emb.lowercase and emb.key("NA") == "NA"


def test_vocab_size_counts_distinct_words(tmp_path):
    emb = load_text(write(tmp_path, "v.txt", GLOVE), vocab_size=5)
    assert emb.words == ["the", "nan", "null", "NA", ". . ."]
    emb = load_text(write(tmp_path, "v.txt", GLOVE), vocab_size=2)
    assert len(emb) == 2 and emb.vectors.shape == (2, 3)


def test_word2vec_header_gz_zip(tmp_path):
    text = "3 2\ncat 1 0\ndog 0 1\nnan 1 1\n"
    plain = load_text(write(tmp_path, "w2v.txt", text))
    assert plain.words == ["cat", "dog", "nan"] and plain.dim == 2
    gz = tmp_path / "w2v.txt.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as fh:
        fh.write(text)
    zp = tmp_path / "w2v.zip"
    with zipfile.ZipFile(zp, "w") as zf:
        zf.writestr("inner/w2v.txt", text)
    for p in (gz, zp):
        e = load_text(p)
        assert e.words == plain.words
        np.testing.assert_array_equal(e.vectors, plain.vectors)
    # a header whose count is smaller than the file: read that many words
    assert len(load_text(write(tmp_path, "h.txt", "2 2\na 1 1\nb 2 2\nc 3 3\n"))) == 2


def test_crlf_and_trailing_space(tmp_path):
    e = load_text(write(tmp_path, "v.txt", "a 1 2 \r\nb 3 4\r\n"))
    assert e.words == ["a", "b"]
    np.testing.assert_array_equal(e.vectors[1], [3, 4])


@pytest.mark.parametrize("text,line,what", [
    ("a 1 2 3\nb 1 2\nc 1 2 3\n", 2, "expected a token and 3 values"),
    ("a 1 2 3\nb 1 2 3 4\n", 2, "expected a token and 3 values"),
    ("a 1 2 3\nb 1 x 3\n", 2, "is not a number"),
    ("a 1 2 3\nb 1 2 3\nc nan 1 2\n", 3, "non-finite"),
])
def test_bad_lines_name_the_line(tmp_path, text, line, what):
    with pytest.raises(ValueError, match=f"line {line}: .*{what}"):
        load_text(write(tmp_path, "bad.txt", text))


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_text(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="vocab_size"):
        load_text(write(tmp_path, "v.txt", GLOVE), vocab_size=0)
    with pytest.raises(ValueError, match="no word vectors"):
        load_text(write(tmp_path, "e.txt", "\n\n"))
    with pytest.raises(ValueError, match="one row per word"):
        Embeddings(["a", "b"], np.zeros((3, 2)))


def test_default_glove_offline():
    emb = load_default(vocab_size=1000)
    assert emb.vectors.shape == (1000, 50) and emb.words[:3] == ["the", ",", "."]
    assert emb.lowercase and emb.key("Paris") == "paris"
    kv = emb.to_keyed_vectors()
    np.testing.assert_array_equal(kv["the"], emb.vectors[0])


def test_byte_order_mark_is_dropped(tmp_path):
    for name in ("bom.txt", "bom.txt.gz"):
        p = tmp_path / name
        data = "\ufeffthe 1 2\nof 3 4\n".encode()
        p.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        for block_bytes in (1, 2, 4096):  # the mark split over reads too
            e = load_text(p, block_bytes=block_bytes)
            assert e.words == ["the", "of"] and e.index["the"] == 0
    # a word2vec header after the mark is still a header
    e = load_text(write(tmp_path, "h.txt", "\ufeff2 2\na 1 1\nb 2 2\n"))
    assert e.words == ["a", "b"]


def test_tab_separated_files(tmp_path):
    text = "the\t0.1\t0.2\nnew york\t1\t2\t\nof\t3\t4\n"
    e = load_text(write(tmp_path, "t.txt", text))
    assert e.words == ["the", "new york", "of"]             # a token may contain spaces
    np.testing.assert_array_equal(e.vectors[1], [1, 2])
    e = load_text(write(tmp_path, "w.txt", "2\t2\nx\t1\t1\ny\t2\t2\n"))   # w2v header
    assert e.words == ["x", "y"]
    # in a space-separated file a tab stays inside the token (glove.840B behaviour)
    e = load_text(write(tmp_path, "s.txt", "a 1 2\nb\tc 3 4\n"))
    assert e.words == ["a", "b\tc"]


def test_spaces_in_tokens_and_speed_path_unchanged(tmp_path):
    # glove.840B.300d: the last dim fields are the vector, the token is the rest
    e = load_text(write(tmp_path, "v.txt", "a 1 2\n. . . 3 4\nat&t ceo 5 6\n"))
    assert e.words == ["a", ". . .", "at&t ceo"]
    np.testing.assert_array_equal(e.vectors[2], [5, 6])


def _line_by_line(path):
    """The reference: every line through ``_Reader.line`` (the loader's slow path)."""
    from aligned_latents.data.embeddings import _Reader

    reader = _Reader(path, None, 4)
    reader.lines(path.read_bytes() + b"\n", 1)
    return reader.result()


EDGE_LINES = ["a 1 2 3", "b -1.5e-3 +2 .5", ". . . 1 2 3", "at & t 4 5 6", "c 1 2 3 ",
              "", "   ", "d 1 2 3\r", "nan 1 2 3", "b 7 7 7", "e\tf 1 2 3", '"q 1 2 3',
              "caf\u00e9 0.1 0.2 0.3", "g 1_0 2 3", "h 1e-45 3.4028235e38 0", "#c 1 2 3",
              "i  1 2", "j 1. 2. 3."]
BAD_LINES = ["k 1 2", "l 1 2 3 4", "m 1 x 3", "n 1 nan 3", " 1 2 3", "o 1 2 1e400",
             "p 1  2", "q 1 2 3\r\r"]


@pytest.mark.parametrize("seed", range(12))
def test_block_reader_matches_line_reader(tmp_path, seed):
    """The block parser (pandas' C reader) gives what the line-by-line reader gives:
    same words, bit-identical float32 values, same duplicates, same error naming the
    same line, across block boundaries (small blocks) and on random digits."""
    rng = np.random.default_rng(seed)
    lines = [f"w{i} " + " ".join(f"{v:.{rng.integers(1, 10)}g}" for v in
                                 rng.normal(size=3) * 10.0 ** rng.integers(-6, 6))
             for i in range(300)]
    for pos in rng.integers(0, len(lines), size=8):
        lines.insert(int(pos), EDGE_LINES[rng.integers(len(EDGE_LINES))])
    if seed % 3 == 2:
        lines.insert(int(rng.integers(50, len(lines))), BAD_LINES[seed % len(BAD_LINES)])
    p = tmp_path / "v.txt"
    p.write_bytes(("\n".join(lines) + "\n").encode() + b"z\xff\xfe 1 2 3")
    try:
        want = _line_by_line(p)
    except ValueError as exc:
        for block_bytes in (97, 4096, 1 << 20):
            with pytest.raises(ValueError, match=re.escape(str(exc))):
                load_text(p, block_bytes=block_bytes)
        return
    for block_bytes in (97, 4096, 1 << 20):
        got = load_text(p, block_bytes=block_bytes)
        assert got.words == want.words and got.duplicates == want.duplicates
        np.testing.assert_array_equal(got.vectors, want.vectors)


def _near_midpoints(rng, count: int) -> list[str]:
    """Decimal strings a hair (1e-20 relative) above or below the midpoint of two
    neighbouring float32 values: Python's ``float`` rounds each to the midpoint
    itself (a double), which float32 then rounds to even; rounding the decimal
    straight to float32 would go the other way for about half of them."""
    from decimal import Decimal, getcontext

    getcontext().prec = 60
    out = []
    for _ in range(count):
        x = np.float32(rng.normal() * 10.0 ** rng.integers(-20, 20))
        y = np.nextafter(x, np.float32(np.inf))
        mid = (Decimal(float(x)) + Decimal(float(y))) / 2
        out.append(f"{mid * (1 + Decimal(int(rng.choice([-1, 1]))) * Decimal('1e-20')):e}")
    return out


@pytest.mark.parametrize("seed", range(3))
def test_values_are_float32_of_python_float(tmp_path, seed):
    """Every value is ``float32(float(field))`` (the line reader's rounding: correctly
    rounded to float64, then to float32), in the block reader too, for long digit
    strings next to float32 midpoints and exponents; rounding straight to float32
    (Arrow's float32 parser) differs on some of these fields, so the test tells the
    two apart."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    fields = _near_midpoints(rng, 4 * 500)
    fields[::7] = [f"{v:.17e}" for v in rng.normal(size=len(fields[::7])) * 1e30]
    fields[1::7] = [f"{v:.3E}" for v in rng.normal(size=len(fields[1::7])) * 1e-30]
    lines = [f"w{i} " + " ".join(fields[4 * i:4 * i + 4]) for i in range(500)]
    p = tmp_path / "v.txt"
    p.write_text("\n".join(lines) + "\n")
    want = np.float32([float(f) for f in fields]).reshape(500, 4)
    direct = pa.array(fields).cast(pa.float32()).to_numpy().reshape(500, 4)
    assert (direct != want).sum() > 100  # the fields do tell the roundings apart
    np.testing.assert_array_equal(_line_by_line(p).vectors, want)
    for block_bytes in (97, 4096, 1 << 20):
        got = load_text(p, block_bytes=block_bytes)
        assert got.vectors.tobytes() == want.tobytes()


def test_block_boundaries_inside_tokens_with_spaces(tmp_path):
    """Tokens with spaces, numeric-looking tokens and exponents read the same whatever
    the block size, block boundaries falling inside tokens, inside values and on
    newlines."""
    lines = ["the 1 2 3", ". . . 0.5 -1.5e-3 +2E+2", "1.5 4 5 6", "-3 7 8 9",
             "new york city 1e5 .5 5.", "2e5 1 1 1", "at & t 3 3 3", "x\u00e9 y 1 2 3",
             "z 0.1 0.2 0.3"] * 4
    p = tmp_path / "v.txt"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    want = _line_by_line(p)
    assert want.words[:5] == ["the", ". . .", "1.5", "-3", "new york city"]
    for block_bytes in [*range(1, 48), 4096]:
        got = load_text(p, block_bytes=block_bytes)
        assert got.words == want.words and got.duplicates == want.duplicates
        assert got.vectors.tobytes() == want.vectors.tobytes()


@pytest.mark.parametrize("bad,what", [
    ("r 1 nan(1) 3", "value 'nan\\(1\\)' is not a number"),  # Arrow reads NaN here
    ("s -inf 1 2", "non-finite"), ("t 1 2 Infinity", "non-finite"),
    ("u NaN 1 2", "non-finite"), ("v 1 2 1e999", "non-finite"),
    ("w 1 0x10 2", "value '0x10' is not a number"), ("x 1 2 3 4", "got 4 values"),
    ("y 1 2", "expected a token and 3 values"), ("z 1 2 3e", "not a number"),
])
def test_bad_values_same_error_in_every_block(tmp_path, bad, what):
    """A NaN, infinite or malformed value (including ones Arrow's parser accepts and
    Python's ``float`` refuses, such as ``nan(1)``) is named with its line number,
    whatever the block size."""
    lines = [f"w{i} 1 2 3" for i in range(400)]
    lines.insert(250, bad)
    p = tmp_path / "v.txt"
    p.write_text("\n".join(lines) + "\n")
    for block_bytes in (97, 4096, 1 << 20):
        with pytest.raises(ValueError, match=f"line 251: .*{what}"):
            load_text(p, block_bytes=block_bytes)


def test_digits_python_reads_and_arrow_does_not(tmp_path):
    """Fields Python's ``float`` reads and Arrow's parser refuses (underscores,
    Arabic-Indic or full-width digits) send their block to the line reader: same
    values."""
    text = "".join(f"w{i} 1 2 3\n" for i in range(200)) + "a 1_0 \u0661 \uff12\n"
    p = tmp_path / "v.txt"
    p.write_text(text, encoding="utf-8")
    e = load_text(p)
    np.testing.assert_array_equal(e.vectors[-1], [10, 1, 2])


def test_vocab_size_reads_only_the_first_lines(tmp_path):
    """With ``vocab_size``, reading stops after the first block that holds enough
    words: a bad line 200 kB further on is never read."""
    p = tmp_path / "v.txt"
    p.write_text("".join(f"w{i} 1 2 3\n" for i in range(20_000)) + "bad 1 x 3\n")
    with pytest.raises(ValueError, match="line 20001"):
        load_text(p)
    e = load_text(p, vocab_size=10)
    assert e.words == [f"w{i}" for i in range(10)] and e.vectors.shape == (10, 3)


@pytest.mark.parametrize("name", ["v.txt", "v.txt.gz", "v.zip"])
def test_matrix_grows_when_the_size_estimate_is_short(tmp_path, name):
    """The matrix is sized from the first lines' bytes per row; long first lines
    (40-digit values) then short ones make that estimate ~10x short: the matrix
    grows and the result is the line reader's (also for .gz, whose size is not
    known, and .zip)."""
    rng = np.random.default_rng(0)
    long = [f"l{i} " + " ".join(f"{v:.40f}" for v in rng.normal(size=3)) for i in range(50)]
    text = "\n".join(long + [f"s{i} 1 2 3" for i in range(5000)]) + "\n"
    plain = write(tmp_path, "plain.txt", text)
    want = _line_by_line(plain)
    p = tmp_path / name
    if name.endswith(".gz"):
        p.write_bytes(gzip.compress(text.encode()))
    elif name.endswith(".zip"):
        with zipfile.ZipFile(p, "w") as zf:
            zf.writestr("v.txt", text)
    else:
        p.write_text(text)
    for block_bytes in (4096, 1 << 20):
        got = load_text(p, block_bytes=block_bytes, chunk_rows=16)
        assert got.words == want.words
        assert got.vectors.tobytes() == want.vectors.tobytes()


def test_lines_longer_than_arrows_block(tmp_path, monkeypatch):
    """Arrow refuses a line longer than the bytes it parses at a time: the block reader
    asks for at least four average lines, so long lines stay on the fast path (the
    line reader is not called) and read the same."""
    import aligned_latents.data.embeddings as emb

    monkeypatch.setattr(emb, "_ARROW_BLOCK", 64)
    p = write(tmp_path, "v.txt", "".join(f"w{i} " + " ".join(["0.125"] * 40) + "\n"
                                         for i in range(100)))
    want = _line_by_line(p)

    def refuse(*args):
        raise AssertionError("the line reader was called")

    monkeypatch.setattr(emb._Reader, "lines", refuse)
    got = load_text(p)
    assert got.words == want.words and got.vectors.tobytes() == want.vectors.tobytes()
