"""GCTX reader/writer on small files written by the tests (layout of GSE92742).

Files that are not GCTX, or GCTX files with bad content, are in
``test_loaders_bad_files.py``; the Level 3 layout (12,328 genes, landmarks) in
``test_gctx_level3.py``.
"""
import h5py
import numpy as np
import pandas as pd
import pytest

from aligned_latents.data.gctx import (
    COL_META,
    MATRIX,
    ROW_META,
    gctx_ids,
    gctx_meta,
    iter_gctx,
    read_gctx,
    write_gctx,
)


@pytest.fixture()
def small(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.random((6, 4)).astype(np.float32)          # 6 profiles x 4 genes
    cids = [f"P{i}" for i in range(6)]
    rids = ["g1", "g2", "g3", "g4"]
    path = write_gctx(tmp_path / "x.gctx", data, cids, rids,
                      col_meta={"cell_id": np.array(["A", "B", "A", "B", "A", "B"])},
                      row_meta={"pr_gene_symbol": np.array(["a", "b", "c", "d"])})
    return path, data, cids, rids


def test_layout_is_gctx1(small):
    path, _, cids, rids = small
    with h5py.File(path, "r") as f:
        assert f.attrs["version"] == "GCTX1.0"
        assert f[MATRIX].shape == (6, 4)                   # stored profiles x genes
        assert [x.decode() for x in f["/0/META/COL/id"][()]] == cids
        assert [x.decode() for x in f["/0/META/ROW/id"][()]] == rids
        assert "cell_id" in f["/0/META/COL"] and "pr_gene_symbol" in f["/0/META/ROW"]


def test_roundtrip_and_selection_order(small):
    path, data, cids, rids = small
    full = read_gctx(path)
    np.testing.assert_array_equal(full.data, data)          # float32 stored exactly
    assert list(full.profile_ids) == cids and list(full.gene_ids) == rids
    sel = read_gctx(path, profile_ids=["P4", "P0", "P3"], gene_ids=["g3", "g1"])
    np.testing.assert_array_equal(sel.data, data[[4, 0, 3]][:, [2, 0]])
    assert list(sel.profile_ids) == ["P4", "P0", "P3"]
    assert list(sel.col_meta["cell_id"]) == ["A", "A", "B"]
    assert list(sel.row_meta["pr_gene_symbol"]) == ["c", "a"]
    ids = gctx_ids(path)
    assert list(ids[0]) == cids


def test_errors(small, tmp_path):
    path, *_ = small
    with pytest.raises(ValueError, match="not found"):
        read_gctx(tmp_path / "missing.gctx")
    with pytest.raises(ValueError, match="requested profile id.* not in the file"):
        read_gctx(path, profile_ids=["P1", "nope"])
    with pytest.raises(ValueError, match="duplicates"):
        read_gctx(path, profile_ids=["P1", "P1"])
    bad = tmp_path / "plain.h5"
    with h5py.File(bad, "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    with pytest.raises(ValueError, match="not a GCTX file"):
        read_gctx(bad)
    with pytest.raises(ValueError, match="2 profile ids"):
        write_gctx(tmp_path / "y.gctx", np.zeros((3, 2)), ["a", "b"], ["g1", "g2"])
    with pytest.raises(ValueError, match="unique"):
        write_gctx(tmp_path / "y.gctx", np.zeros((2, 2)), ["a", "a"], ["g1", "g2"])


def _write_raw(path, data, cids, rids, col_meta=None, row_meta=None):
    """A GCTX file written with h5py directly, as another tool (cmapPy) may write it."""
    with h5py.File(path, "w") as f:
        f.attrs["version"] = "GCTX1.0"
        f.create_dataset(MATRIX, data=np.asarray(data, np.float32))
        f.create_dataset(f"{COL_META}/id", data=cids)
        f.create_dataset(f"{ROW_META}/id", data=rids)
        for group, meta in ((COL_META, col_meta), (ROW_META, row_meta)):
            for key, values in (meta or {}).items():
                f.create_dataset(f"{group}/{key}", data=values)
    return path


def test_integer_ids_are_compared_as_strings(tmp_path):
    data = np.arange(12, dtype=np.float32).reshape(3, 4)
    path = _write_raw(tmp_path / "int.gctx", data, np.array([7, 8, 9]),
                      np.array([5720, 466, 6009, 2101], dtype=np.int64))
    cids, rids = gctx_ids(path)
    assert list(cids) == ["7", "8", "9"]
    assert list(rids) == ["5720", "466", "6009", "2101"]
    sel = read_gctx(path, profile_ids=[9, "7"], gene_ids=["466", 2101])
    np.testing.assert_array_equal(sel.data, data[[2, 0]][:, [1, 3]])
    assert list(sel.profile_ids) == ["9", "7"]


def test_cmappy_missing_values_read_as_nan(tmp_path):
    # cmapPy writes every metadata field as strings, a float NaN as "-666"
    path = _write_raw(
        tmp_path / "m.gctx", np.ones((3, 2)), np.array([b"a", b"b", b"c"]),
        np.array([b"g1", b"g2"]),
        col_meta={"pert_dose": np.array([b"10.0", b"-666", b"0.5"]),
                  "pert_iname": np.array([b"DMSO", b"-666", b"drugX"]),
                  "pert_time": np.array([24, -666, 6])},
        row_meta={"pr_is_lm": np.array([b"1", b"0"])})
    col = gctx_meta(path, "col")
    assert col["pert_dose"].dtype == float
    np.testing.assert_array_equal(col["pert_dose"].to_numpy(), [10.0, np.nan, 0.5])
    assert col.loc["a", "pert_iname"] == "DMSO" and pd.isna(col.loc["b", "pert_iname"])
    np.testing.assert_array_equal(col["pert_time"].to_numpy(), [24.0, np.nan, 6.0])
    assert list(gctx_meta(path, "row")["pr_is_lm"]) == [1, 0]       # numbers
    assert read_gctx(path).col_meta["pert_dose"].isna().tolist() == [False, True, False]


def test_iter_gctx_blocks_and_gene_order(small):
    path, data, cids, _ = small
    want = ["P5", "P1", "P2", "P0"]
    seen = {}
    for where, block in iter_gctx(path, want, ["g4", "g2"], chunk_profiles=2):
        assert len(where) <= 2
        for w, row in zip(where, block, strict=True):
            seen[want[w]] = row
    assert sorted(seen) == sorted(want)
    for cid, row in seen.items():
        np.testing.assert_array_equal(row, data[cids.index(cid)][[3, 1]])
    with pytest.raises(ValueError, match="chunk_profiles must be an integer >= 1"):
        next(iter_gctx(path, chunk_profiles=0))
