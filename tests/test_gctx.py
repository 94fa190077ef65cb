"""GCTX reader/writer on small files written by the tests (layout of GSE92742)."""
import h5py
import numpy as np
import pytest

from aligned_latents.gctx import MATRIX, gctx_ids, read_gctx, write_gctx


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
    path, data, cids, rids = small
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
    with pytest.raises(ValueError, match="not in the GCTX file"):
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
