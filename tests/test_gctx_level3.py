"""GSE92742's Level 3 layout read as the paper read it: the 978 landmark genes (from
``gene_info``) of the selected profiles, read and processed in blocks of profiles.

The files are written here in the layout of
``GSE92742_Broad_LINCS_Level3_INF_mlr12k_n1319138x12328.gctx`` (``/0/DATA/0/matrix``
stored profiles x genes, 12,328 genes of which 978 are landmarks scattered among them,
Entrez gene ids, plate-style profile ids) with a tab-separated ``gene_info`` table.
"""
from __future__ import annotations

import tracemalloc

import h5py
import numpy as np
import pandas as pd
import pytest

from aligned_latents.applications import cmap_signatures
from aligned_latents.data import cmap_tables
from aligned_latents.data.gctx import MATRIX, iter_gctx, read_gctx

N_GENES = 12328
N_LANDMARKS = 978
CELLS = ("A549", "MCF7")


def _gene_ids(rng):
    """12,328 distinct Entrez-like ids and a mask of 978 landmarks scattered among
    them."""
    ids = rng.choice(np.arange(1, 120000), N_GENES, replace=False)
    landmark = np.zeros(N_GENES, bool)
    landmark[rng.choice(N_GENES, N_LANDMARKS, replace=False)] = True
    return np.array([str(i) for i in ids]), landmark


def _profile_ids(n):
    plates = [f"CPC{p:03d}_{c}_6H_X{r}_B3_DUO52HI53LO" for p in range(1, 99)
              for c in CELLS for r in (1, 2, 3)]
    wells = [f"{row}{col:02d}" for row in "ABCDEFGHIJKLMNOP" for col in range(1, 25)]
    return [f"{plates[i // 384]}:{wells[i % 384]}" for i in range(n)]


def write_level3(folder, n_profiles, seed=0, block=500):
    """Write ``level3.gctx``, ``gene_info.txt``, ``inst_info.txt``; return their paths,
    the gene ids, the landmark mask and the profile ids."""
    rng = np.random.default_rng(seed)
    gene_ids, landmark = _gene_ids(rng)
    cids = _profile_ids(n_profiles)
    path = folder / "level3.gctx"
    text = h5py.string_dtype("utf-8")
    with h5py.File(path, "w") as f:      # the matrix is written in blocks of profiles
        f.attrs["version"] = "GCTX1.0"
        f.create_dataset("/0/META/COL/id", data=np.array(cids, dtype=object),
                         dtype=text)
        f.create_dataset("/0/META/ROW/id", data=gene_ids.astype(object), dtype=text)
        dset = f.create_dataset(MATRIX, shape=(n_profiles, N_GENES), dtype=np.float32,
                                chunks=(min(block, n_profiles), N_GENES))
        for start in range(0, n_profiles, block):
            stop = min(start + block, n_profiles)
            # Level 3 values: log2-scale expression, 2 to 15
            dset[start:stop] = rng.uniform(2, 15, (stop - start, N_GENES)).astype(
                np.float32)
    order = rng.permutation(N_GENES)      # gene_info is not in the file's order
    pd.DataFrame({"pr_gene_id": gene_ids[order],
                  "pr_gene_symbol": [f"SYM{i}" for i in order],
                  "pr_gene_title": [f"gene {i}" for i in order],
                  "pr_is_lm": landmark[order].astype(int),
                  "pr_is_bing": 1}).to_csv(folder / "gene_info.txt", sep="\t",
                                           index=False)
    cell = np.array(CELLS)[rng.integers(0, 2, n_profiles)]
    ctl = rng.random(n_profiles) < 0.3
    drug = np.array([f"drug{j}" for j in rng.integers(0, 20, n_profiles)])
    pd.DataFrame({"inst_id": cids, "pert_id": np.where(ctl, "DMSO", "BRD-" + drug),
                  "pert_iname": np.where(ctl, "DMSO", drug),
                  "pert_type": np.where(ctl, "ctl_vehicle", "trt_cp"),
                  "cell_id": cell}).to_csv(folder / "inst_info.txt", sep="\t",
                                           index=False)
    return {"gctx": path, "gene_info": folder / "gene_info.txt",
            "inst_info": folder / "inst_info.txt", "gene_ids": gene_ids,
            "landmark": landmark, "cids": cids}


@pytest.fixture(scope="module")
def level3(tmp_path_factory):
    return write_level3(tmp_path_factory.mktemp("level3"), 300)


class _MatrixReads:
    """Records every selection read from the matrix dataset."""

    def __init__(self, monkeypatch):
        self.calls = []
        original = h5py.Dataset.__getitem__

        def spy(dset, args, **kw):
            out = original(dset, args, **kw)
            if dset.name == MATRIX:
                self.calls.append((args, out.shape))
            return out

        monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)


def test_landmarks_only_are_read(level3, monkeypatch, capsys):
    reads = _MatrixReads(monkeypatch)
    data = cmap_signatures.load_cmap(level3["gctx"], level3["inst_info"], cell_types=CELLS,
                          gene_info=level3["gene_info"], chunk_profiles=64)
    lm_pos = np.flatnonzero(level3["landmark"])
    assert list(data.gene_ids) == list(level3["gene_ids"][lm_pos])    # file order
    assert data.cells["A549"].profiles.shape[1] == N_LANDMARKS
    assert reads.calls, "the matrix was not read"
    for (rows, genes), shape in reads.calls:
        # every read selects the 978 landmark columns inside HDF5 (never all 12,328)
        assert isinstance(rows, slice)
        assert np.array_equal(genes, lm_pos)
        assert shape[1] == N_LANDMARKS and shape[0] <= 64
    note = capsys.readouterr().out
    assert "300 profiles x 978 genes" in note and "MiB" in note


def test_processed_values_and_all_genes(level3):
    full = read_gctx(level3["gctx"])                    # the whole small file
    lm = level3["landmark"]
    ids = level3["cids"][::-3]                           # scattered, reversed order
    got = cmap_signatures.read_processed(level3["gctx"], ids, level3["gene_ids"][lm],
                              chunk_profiles=50)
    rows = [level3["cids"].index(i) for i in ids]
    want = cmap_signatures.process_profiles(full.data[rows][:, lm])
    assert np.array_equal(got, want)
    genes = cmap_tables.select_genes(level3["gctx"], level3["gene_info"], genes="all")
    assert len(genes) == N_GENES
    assert np.array_equal(genes, level3["gene_ids"])


@pytest.mark.parametrize("chunk", [1, 7, 64, 299])
def test_chunked_processing_equals_unchunked(level3, chunk):
    lm_ids = cmap_tables.select_genes(level3["gctx"], level3["gene_info"])
    ids = level3["cids"]
    whole = cmap_signatures.read_processed(level3["gctx"], ids, lm_ids, chunk_profiles=10 ** 6)
    part = cmap_signatures.read_processed(level3["gctx"], ids, lm_ids, chunk_profiles=chunk)
    assert np.array_equal(part, whole)                   # exact: per-profile steps
    # and the blocks cover every profile once
    seen = np.concatenate([w for w, _ in iter_gctx(level3["gctx"], ids, lm_ids,
                                                   chunk_profiles=chunk)])
    assert np.array_equal(np.sort(seen), np.arange(len(ids)))


def test_load_cmap_chunked_equals_unchunked(level3):
    kw = {"cell_types": CELLS, "gene_info": level3["gene_info"], "verbose": False}
    a = cmap_signatures.load_cmap(level3["gctx"], level3["inst_info"], chunk_profiles=5, **kw)
    b = cmap_signatures.load_cmap(level3["gctx"], level3["inst_info"], chunk_profiles=10 ** 6,
                       **kw)
    for c in CELLS:
        assert np.array_equal(a.cells[c].profiles, b.cells[c].profiles)
        assert a.cells[c].signatures.equals(b.cells[c].signatures)
    assert a.common_drugs == b.common_drugs


def test_peak_memory_follows_the_selection(tmp_path):
    # 4,000 profiles x 12,328 genes (188 MiB as float32); select 3,000 scattered
    # profiles and the 978 landmarks: 22.4 MiB processed (float64), while the same
    # profiles with all genes would need 141 MiB as stored and 282 MiB processed.
    files = write_level3(tmp_path, 4000, seed=1)
    rng = np.random.default_rng(2)
    ids = list(np.array(files["cids"])[np.sort(rng.choice(4000, 3000, replace=False))])
    lm_ids = cmap_tables.select_genes(files["gctx"], files["gene_info"])
    chunk = 500
    processed = 3000 * N_LANDMARKS * 8
    tracemalloc.start()
    try:
        out = cmap_signatures.read_processed(files["gctx"], ids, lm_ids, chunk_profiles=chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.shape == (3000, N_LANDMARKS)
    # Measured (chunk 500): peak 35.9 MiB = the result (22.4 MiB) + 13.5 MiB, i.e. about
    # 3.6 float64 blocks of 500 x 978 (3.7 MiB each: one block's float32 slab and copy,
    # its float64 copy, log2(x + 1) and min-max temporaries). In one block of 3,000
    # profiles the same read peaks at 117 MiB; reading all 12,328 genes adds a 23.5 MiB
    # float32 slab per block. Bound: the result + 8 float64 blocks + 4 MiB (ids) = 56
    # MiB, a 1.5x margin over the measurement that still fails both of those.
    bound = processed + 8 * chunk * N_LANDMARKS * 8 + 4 * 2 ** 20
    assert peak < bound, f"peak {peak / 2**20:.1f} MiB >= bound {bound / 2**20:.1f} MiB"
    assert peak < 2 * processed + 8 * 2 ** 20
