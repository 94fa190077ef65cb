"""Every loader refuses a bad file with a one-line ``ValueError`` that names the file
and the problem: word vectors (text, .gz, .zip), GCTX, the GSE92742 tables and
fluVaccine.RData (and its fetch script's sha256 check). The files are written here."""
from __future__ import annotations

import gzip
import io
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from aligned_latents.applications import cmap_signatures, fluvaccine
from aligned_latents.data import cmap_tables
from aligned_latents.data.embeddings import load_text
from aligned_latents.data.gctx import (
    COL_META,
    MATRIX,
    ROW_META,
    gctx_ids,
    iter_gctx,
    read_gctx,
    write_gctx,
)
from aligned_latents.util.paths import REPO_ROOT

VECTORS = "".join(f"w{i} " + " ".join(f"{(i + j) % 7 * 0.5}" for j in range(5)) + "\n"
                  for i in range(3000))


def raises_naming(path, what, fn, *args, **kwargs):
    """``fn(*args)`` raises a one-line ValueError naming ``path``, matching ``what``."""
    with pytest.raises(ValueError) as info:
        fn(*args, **kwargs)
    msg = str(info.value)
    assert "\n" not in msg, msg
    assert str(path) in msg, msg
    assert re.search(what, msg), msg
    return msg


# --------------------------------------------------------------------------------------
# word vectors
# --------------------------------------------------------------------------------------
def _zip_bytes(text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("vectors.txt", text)
    return buf.getvalue()


def test_gz_files(tmp_path):
    good = gzip.compress(VECTORS.encode())
    cases = {
        "truncated.txt.gz": (good[: len(good) // 2], "truncated gzip file$"),
        "plain.txt.gz": (VECTORS.encode(), "not a gzip file$"),
        "crc.txt.gz": (good[:-8] + b"\0\0\0\0" + good[-4:], "corrupt gzip file"),
        "corrupt.txt.gz": (good[:40] + bytes(200) + good[240:], "corrupt gzip file"),
    }
    for name, (data, what) in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        raises_naming(p, f"^{re.escape(str(p))}: {what}", load_text, p)


def test_zip_files(tmp_path):
    good = _zip_bytes(VECTORS)
    fake = tmp_path / "fake.zip"
    fake.write_text(VECTORS)
    raises_naming(fake, "not a zip file$", load_text, fake)
    cut = tmp_path / "cut.zip"
    cut.write_bytes(good[: len(good) // 2])       # the central directory is at the end
    raises_naming(cut, "not a zip file$", load_text, cut)
    bad = tmp_path / "bad.zip"
    i = good.find(b"vectors.txt") + 40
    bad.write_bytes(good[:i] + bytes(60) + good[i + 60:])
    raises_naming(bad, "corrupt zip file", load_text, bad)
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    raises_naming(empty, "empty zip archive", load_text, empty)


def test_bad_vector_lines_name_file_and_line(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("a 1 2 3\nb 1 x 3\n")
    raises_naming(p, "line 2: value 'x' is not a number", load_text, p)


# --------------------------------------------------------------------------------------
# GCTX
# --------------------------------------------------------------------------------------
def _raw_gctx(path, data, cids, rids, col_meta=None, row_meta=None):
    with h5py.File(path, "w") as f:
        f.attrs["version"] = "GCTX1.0"
        f.create_dataset(MATRIX, data=np.asarray(data, np.float32))
        f.create_dataset(f"{COL_META}/id", data=cids)
        f.create_dataset(f"{ROW_META}/id", data=rids)
        for group, meta in ((COL_META, col_meta), (ROW_META, row_meta)):
            for key, values in (meta or {}).items():
                f.create_dataset(f"{group}/{key}", data=values)
    return path


@pytest.mark.parametrize("reader", [read_gctx, gctx_ids,
                                    lambda p: next(iter_gctx(p)),
                                    lambda p: cmap_tables.select_genes(p)])
def test_gctx_not_hdf5(tmp_path, reader):
    for name, data in (("text.gctx", b"id\tA\tB\ng1\t1\t2\n"), ("empty.gctx", b"")):
        p = tmp_path / name
        p.write_bytes(data)
        raises_naming(p, r": not a GCTX \(HDF5\) file$", reader, p)


def test_gctx_truncated(tmp_path):
    p = write_gctx(tmp_path / "t.gctx", np.random.default_rng(0).random((400, 50)),
                   [f"p{i}" for i in range(400)], [f"g{i}" for i in range(50)],
                   compression=None)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    raises_naming(p, "truncated", read_gctx, p)


def test_gctx_duplicate_ids(tmp_path):
    p = _raw_gctx(tmp_path / "dup.gctx", np.ones((3, 2)), np.array([b"a", b"b", b"a"]),
                  np.array([b"g1", b"g2"]))
    raises_naming(p, r"1 duplicate profile id\(s\) in /0/META/COL/id, e.g. \['a'\]",
                  read_gctx, p)
    p = _raw_gctx(tmp_path / "dupg.gctx", np.ones((2, 2)), np.array([b"a", b"b"]),
                  np.array([7, 7]))
    raises_naming(p, r"duplicate gene id", gctx_ids, p)


def test_gctx_metadata_length_mismatch(tmp_path):
    # one value for two profiles: refused (pandas would broadcast it silently)
    p = _raw_gctx(tmp_path / "m.gctx", np.ones((2, 3)), np.array([b"a", b"b"]),
                  np.array([b"g1", b"g2", b"g3"]),
                  col_meta={"cell_id": np.array([b"A549"])})
    raises_naming(p, r"metadata field /0/META/COL/cell_id has shape \(1,\), expected "
                     r"one value per id \(2\)", read_gctx, p)


def test_gctx_matrix_shape_and_requests(tmp_path):
    p = _raw_gctx(tmp_path / "t.gctx", np.ones((3, 2)), np.array([b"a", b"b"]),
                  np.array([b"g1", b"g2", b"g3"]))
    raises_naming(p, "stored genes x profiles", read_gctx, p)
    p = write_gctx(tmp_path / "ok.gctx", np.ones((2, 2)), ["a", "b"], ["g1", "g2"])
    raises_naming(p, r"1 requested profile id\(s\) are not in the file", read_gctx, p,
                  profile_ids=["a", "zz"])
    raises_naming(p, "requested gene ids contain duplicates", read_gctx, p,
                  gene_ids=["g1", "g1"])


def test_bad_profiles_name_file_and_profile(tmp_path):
    data = np.array([[1.0, 2.0, 3.0], [4.0, 4.0, 4.0], [0.5, 1.0, 2.0]])
    p = write_gctx(tmp_path / "c.gctx", data, ["p0", "pconst", "p2"],
                   ["g1", "g2", "g3"])
    raises_naming(p, r"profile\(s\) \['pconst'\]: .*constant", cmap_signatures.read_processed, p,
                  ["p0", "pconst", "p2"])
    data[2, 0] = -2.0
    p = write_gctx(tmp_path / "n.gctx", data, ["p0", "p1", "pneg"], ["g1", "g2", "g3"])
    raises_naming(p, r"\['p1', 'pneg'\]: log2\(x \+ 1\) needs x > -1",
                  cmap_signatures.read_processed, p, ["p0", "p1", "pneg"])


# --------------------------------------------------------------------------------------
# GSE92742 tables
# --------------------------------------------------------------------------------------
INST = ("inst_id\tpert_id\tpert_iname\tpert_type\tcell_id\n"
        "i1\tDMSO\tDMSO\tctl_vehicle\tA549\n")


def test_empty_tables(tmp_path):
    for name, text in (("empty.txt", ""), ("header.txt", INST.splitlines()[0] + "\n")):
        p = tmp_path / name
        p.write_text(text)
        raises_naming(p, ": empty table", cmap_tables.load_metadata, p)
    good = tmp_path / "inst.txt"
    good.write_text(INST)
    empty = tmp_path / "pert.txt"
    empty.write_text("")
    raises_naming(empty, ": empty table", cmap_tables.load_metadata, good, pert_info=empty)
    raises_naming(empty, ": empty table", cmap_tables.read_gene_info, empty)


def test_gz_tables(tmp_path):
    text = INST + "".join(f"i{i}\tp\tn\ttrt_cp\tA549\n" for i in range(2, 5000))
    g = gzip.compress(text.encode())
    cut = tmp_path / "inst_info.txt.gz"
    cut.write_bytes(g[: len(g) // 2])
    raises_naming(cut, ": truncated gzip file$", cmap_tables.load_metadata, cut)
    plain = tmp_path / "plain.txt.gz"
    plain.write_text(text)
    raises_naming(plain, ": not a gzip file$", cmap_tables.load_metadata, plain)
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00garbage\x80\x81\n")
    raises_naming(binary, "not UTF-8 text", cmap_tables.load_metadata, binary)
    none = tmp_path / "none.txt"
    raises_naming(none, "inst_info table not found", cmap_tables.load_metadata, none)


def test_gene_info_problems(tmp_path):
    gctx = write_gctx(tmp_path / "d.gctx", np.ones((1, 3)) * [1, 2, 3], ["p"],
                      ["5720", "466", "6009"])
    gi = tmp_path / "gene_info.txt"

    def table(ids, lm):
        pd.DataFrame({"pr_gene_id": ids, "pr_gene_symbol": "S", "pr_gene_title": "t",
                      "pr_is_lm": lm, "pr_is_bing": 1}).to_csv(gi, sep="\t",
                                                              index=False)

    table(["5720", "466"], ["1", "yes"])
    raises_naming(gi, r"pr_is_lm must be 0 or 1, found \['yes'\]", cmap_tables.read_gene_info,
                  gi)
    table(["5720", "5720"], ["1", "1"])
    raises_naming(gi, "pr_gene_id values must be unique", cmap_tables.read_gene_info, gi)
    table(["5720", "466"], ["0", "0"])
    raises_naming(gi, r"no landmark gene \(pr_is_lm = 1\)", cmap_tables.read_gene_info, gi)
    table(["5720", "999"], ["1", "1"])
    msg = raises_naming(gctx, r"1 of the 2 landmark genes of .* are not among its gene "
                              r"ids, e.g. \['999'\]", cmap_tables.select_genes, gctx, gi)
    assert str(gi) in msg
    # no gene_info and no pr_is_lm in the file: say what to give
    raises_naming(gctx, "no row metadata pr_is_lm .* give gene_info", cmap_tables.select_genes,
                  gctx)


# --------------------------------------------------------------------------------------
# fluVaccine.RData
# --------------------------------------------------------------------------------------
def test_fluvaccine_missing_truncated_garbage(tmp_path):
    raises_naming(tmp_path / "none.RData", "not found.*make data",
                  fluvaccine.load_fluvaccine, tmp_path / "none.RData")
    garbage = tmp_path / "garbage.RData"
    garbage.write_text("hello\n")
    raises_naming(garbage, "truncated or corrupt.*delete it and run `make data`",
                  fluvaccine.load_fluvaccine, garbage)
    real = fluvaccine.default_path()
    if real.is_file():
        cut = tmp_path / "cut.RData"
        cut.write_bytes(real.read_bytes()[:400000])
        raises_naming(cut, "truncated or corrupt.*delete it and run `make data`",
                      fluvaccine.load_fluvaccine, cut)
    else:
        bz = tmp_path / "cut.RData"         # an RData file is bzip2/gzip/xz compressed
        bz.write_bytes(b"BZh91AY&SY" + bytes(100))
        raises_naming(bz, "truncated or corrupt", fluvaccine.load_fluvaccine, bz)


SCRIPT = REPO_ROOT / "scripts" / "fetch_fluvaccine.sh"


def test_fetch_script_checksum(tmp_path):
    text = SCRIPT.read_text()
    assert f"SHA256={fluvaccine.SHA256}" in text
    # a PATH without apt-get: nothing is downloaded, only the check runs
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tools = ("mkdir", "mv", "sha256sum", "mktemp", "rm", "find", "head", "cut", "cp")
    for tool in tools:
        os.symlink(shutil.which(tool), bin_dir / tool)
    env = {"PATH": str(bin_dir)}
    bash = shutil.which("bash")
    dest = tmp_path / "ext"
    dest.mkdir()
    (dest / "fluVaccine.RData").write_bytes(b"truncated")
    out = subprocess.run([bash, str(SCRIPT), str(dest)], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert "failed its sha256 check" in out and "could not fetch" in out
    assert not (dest / "fluVaccine.RData").exists()
    assert (dest / "fluVaccine.RData.bad").read_bytes() == b"truncated"
    real = fluvaccine.default_path()
    if real.is_file():           # a good file is kept as it is, nothing fetched
        good = tmp_path / "good"
        good.mkdir()
        shutil.copy(real, good / "fluVaccine.RData")
        out = subprocess.run([bash, str(SCRIPT), str(good)], env=env,
                             capture_output=True, text=True, check=True).stdout
        assert out == ""
        assert (good / "fluVaccine.RData").read_bytes() == real.read_bytes()
        assert not Path(str(good / "fluVaccine.RData") + ".bad").exists()
