"""Read and write GCTX files (the HDF5 format of CMap/LINCS L1000, GEO GSE92742) with h5py.

The Broad's own reader, cmapPy 4.0.1, no longer runs on NumPy 2 / pandas 3 (its writer calls
``numpy.string_``, its parser ``pd.to_numeric(errors="ignore")``), so this module implements the
documented layout directly:

* root attribute ``version`` = ``"GCTX1.0"``;
* the expression matrix at ``/0/DATA/0/matrix``, stored **profiles x genes** (HDF5 row = one
  profile, i.e. the transpose of the ``.gct`` text orientation genes x profiles);
* profile identifiers at ``/0/META/COL/id`` (the ``.gct`` columns, "cid"), gene identifiers at
  ``/0/META/ROW/id`` ("rid"); further metadata fields as 1-d datasets beside them.

:func:`read_gctx` selects profiles by h5py fancy indexing on *sorted* row numbers, so the
memory used follows the selection, not the file (GSE92742's Level 3 file holds 1.3 million
profiles, tens of GB).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

MATRIX = "/0/DATA/0/matrix"
ROW_META = "/0/META/ROW"
COL_META = "/0/META/COL"
VERSION = "GCTX1.0"


def _h5py():
    import h5py
    return h5py


def _decode(values) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind in ("S", "O"):
        return np.array([v.decode() if isinstance(v, bytes) else str(v) for v in arr], dtype=object)
    return arr


def _check_file(path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"GCTX file not found: {path}")
    return path


@dataclass
class GCTX:
    """A (selection of a) GCTX file: ``data`` is profiles x genes (as stored)."""

    data: np.ndarray          # (n_profiles, n_genes)
    profile_ids: np.ndarray   # cid, length n_profiles
    gene_ids: np.ndarray      # rid, length n_genes
    col_meta: pd.DataFrame    # profile metadata stored in the file (index: cid)
    row_meta: pd.DataFrame    # gene metadata stored in the file (index: rid)

    def frame(self) -> pd.DataFrame:
        """The data as a DataFrame, profiles x genes."""
        return pd.DataFrame(self.data, index=self.profile_ids, columns=self.gene_ids)


def write_gctx(path, data, profile_ids, gene_ids, col_meta: dict | None = None,
               row_meta: dict | None = None, dtype=np.float32, compression: str | None = "gzip",
               chunk_profiles: int = 256) -> Path:
    """Write a GCTX file.

    Parameters
    ----------
    data : array (n_profiles, n_genes)
        Profiles in rows, as GCTX stores them.
    profile_ids, gene_ids : sequences of str
        Written to ``/0/META/COL/id`` and ``/0/META/ROW/id``; must be unique.
    col_meta, row_meta : dict of name -> 1-d array, optional
        Extra metadata fields (e.g. ``pr_gene_symbol``), one value per profile / gene.
    """
    h5py = _h5py()
    data = np.asarray(data, dtype=dtype)
    if data.ndim != 2:
        raise ValueError(f"data must be 2-d (profiles x genes), got shape {data.shape}")
    n, g = data.shape
    profile_ids = [str(x) for x in profile_ids]
    gene_ids = [str(x) for x in gene_ids]
    if len(profile_ids) != n or len(gene_ids) != g:
        raise ValueError(f"data is {n} profiles x {g} genes but got {len(profile_ids)} profile ids "
                         f"and {len(gene_ids)} gene ids")
    for name, ids in (("profile_ids", profile_ids), ("gene_ids", gene_ids)):
        if len(set(ids)) != len(ids):
            raise ValueError(f"{name} must be unique")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    str_dt = h5py.string_dtype("utf-8")
    with h5py.File(path, "w") as f:
        f.attrs["version"] = VERSION
        chunks = (min(max(n, 1), chunk_profiles), g) if n and g else None
        f.create_dataset(MATRIX, data=data, chunks=chunks, compression=compression if chunks else None)
        f.create_dataset(f"{COL_META}/id", data=np.array(profile_ids, dtype=object), dtype=str_dt)
        f.create_dataset(f"{ROW_META}/id", data=np.array(gene_ids, dtype=object), dtype=str_dt)
        for group, meta, size in ((COL_META, col_meta, n), (ROW_META, row_meta, g)):
            for key, values in (meta or {}).items():
                if key == "id":
                    raise ValueError("metadata field 'id' is reserved for the identifiers")
                values = np.asarray(values)
                if values.shape != (size,):
                    raise ValueError(f"metadata field {key!r} must have {size} values, got shape "
                                     f"{values.shape}")
                if values.dtype.kind in ("U", "O", "S"):
                    f.create_dataset(f"{group}/{key}", data=values.astype(str).astype(object),
                                     dtype=str_dt)
                else:
                    f.create_dataset(f"{group}/{key}", data=values)
    return path


def _meta(group) -> pd.DataFrame:
    cols = {k: _decode(group[k][()]) for k in group.keys()}
    ids = cols.pop("id")
    return pd.DataFrame(cols, index=pd.Index(ids, name="id"))


def gctx_ids(path) -> tuple[np.ndarray, np.ndarray]:
    """``(profile_ids, gene_ids)`` of a GCTX file, without reading its matrix."""
    h5py = _h5py()
    path = _check_file(path)
    with h5py.File(path, "r") as f:
        _check_layout(f, path)
        return _decode(f[f"{COL_META}/id"][()]), _decode(f[f"{ROW_META}/id"][()])


def _check_layout(f, path):
    version = f.attrs.get("version")
    if isinstance(version, bytes):
        version = version.decode()
    if version is None or not str(version).startswith("GCTX"):
        raise ValueError(f"{path} is not a GCTX file: root attribute 'version' is {version!r}, "
                         f"expected {VERSION!r}")
    for key in (MATRIX, f"{COL_META}/id", f"{ROW_META}/id"):
        if key not in f:
            raise ValueError(f"{path} is not a valid GCTX file: dataset {key} is missing")


def read_gctx(path, profile_ids=None, gene_ids=None) -> GCTX:
    """Read a GCTX file, optionally only some profiles (``cid``) and genes (``rid``).

    Profiles are read with h5py fancy indexing on their sorted row numbers, so only the
    selected rows are loaded; the result keeps the order of ``profile_ids`` as given.
    Unknown identifiers raise a ``ValueError`` naming (some of) them.
    """
    h5py = _h5py()
    path = _check_file(path)
    with h5py.File(path, "r") as f:
        _check_layout(f, path)
        all_cids = _decode(f[f"{COL_META}/id"][()])
        all_rids = _decode(f[f"{ROW_META}/id"][()])
        col_meta = _meta(f[COL_META])
        row_meta = _meta(f[ROW_META])
        dset = f[MATRIX]
        if dset.shape != (len(all_cids), len(all_rids)):
            raise ValueError(f"{path}: matrix shape {dset.shape} does not match "
                             f"{len(all_cids)} profile ids x {len(all_rids)} gene ids "
                             "(GCTX stores profiles x genes)")
        rows = _positions(all_cids, profile_ids, "profile")
        cols = _positions(all_rids, gene_ids, "gene")
        if rows is None:
            block = dset[()]
            rows = np.arange(len(all_cids))
        else:
            order = np.argsort(rows, kind="stable")
            sorted_rows = rows[order]
            if len(sorted_rows) and np.any(np.diff(sorted_rows) == 0):
                raise ValueError("profile_ids contains duplicates")
            block = np.empty((len(rows), dset.shape[1]), dtype=dset.dtype)
            if len(rows):
                block[order] = dset[sorted_rows, :]   # h5py needs increasing indices
        if cols is not None:
            block = block[:, cols]
        else:
            cols = np.arange(len(all_rids))
    return GCTX(block, all_cids[rows], all_rids[cols], col_meta.iloc[rows], row_meta.iloc[cols])


def _positions(all_ids, wanted, kind) -> np.ndarray | None:
    if wanted is None:
        return None
    lookup = pd.Index(all_ids)
    wanted = [str(w) for w in wanted]
    pos = lookup.get_indexer(wanted)
    if np.any(pos < 0):
        missing = [w for w, p in zip(wanted, pos) if p < 0]
        raise ValueError(f"{len(missing)} {kind} id(s) not in the GCTX file, e.g. {missing[:5]}")
    return pos.astype(np.int64)
