"""Read and write GCTX files, the HDF5 format of CMap/LINCS L1000 (GSE92742), with h5py.

The Broad's own reader, cmapPy 4.0.1, no longer runs on NumPy 2 / pandas 3 (its writer
calls ``numpy.string_``, its parser ``pd.to_numeric(errors="ignore")``), so this module
implements the documented layout directly:

* root attribute ``version`` = ``"GCTX1.0"``;
* the expression matrix at ``/0/DATA/0/matrix``, stored **profiles x genes** (HDF5 row =
  one profile, i.e. the transpose of the ``.gct`` text orientation genes x profiles);
* profile identifiers at ``/0/META/COL/id`` (the ``.gct`` columns, "cid"), gene
  identifiers at ``/0/META/ROW/id`` ("rid"); further metadata fields as 1-d datasets
  beside them.

Identifiers are compared as strings (a file may store them as integers, e.g. Entrez gene
ids). Metadata follow cmapPy's conventions: ``-666`` (number or string) marks a missing
value and is read as NaN, and a field whose values are all numbers is read as numbers.

:func:`iter_gctx` reads a selection of profiles and genes in blocks of at most
``chunk_profiles`` profiles; genes are selected in HDF5 (h5py fancy indexing along the
gene axis), so only the selected genes of the selected profiles reach memory. GSE92742's
Level 3 file holds 1.3 million profiles x 12,328 genes (tens of GB).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from aligned_latents.util.text import one_line
from aligned_latents.util.validation import check_int

MATRIX = "/0/DATA/0/matrix"
ROW_META = "/0/META/ROW"
COL_META = "/0/META/COL"
VERSION = "GCTX1.0"
MISSING = -666          # CMap's placeholder for a missing metadata value
CHUNK_CACHE_BYTES = 32 * 2 ** 20   # HDF5 chunk cache per open file (h5py's: 1 MB)
MERGE_GAP = 64          # read unselected runs of up to this many profiles with their
                        # neighbours: one h5py call costs ~2 ms, a profile ~0.05 ms


def _h5py():
    import h5py
    return h5py


def _check_file(path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: GCTX file not found")
    return path


@contextmanager
def _open(path):
    """Open a GCTX file for reading, checking that it is HDF5 with the GCTX layout."""
    h5py = _h5py()
    path = _check_file(path)
    if not h5py.is_hdf5(path):
        raise ValueError(f"{path}: not a GCTX (HDF5) file")
    try:
        f = h5py.File(path, "r", rdcc_nbytes=CHUNK_CACHE_BYTES)
    except OSError as exc:
        raise ValueError(f"{path}: cannot open this HDF5 file, it may be truncated "
                         f"({one_line(exc)})") from None
    try:
        _check_layout(f, path)
        yield f
    finally:
        f.close()


def _check_layout(f, path):
    version = f.attrs.get("version")
    if isinstance(version, bytes):
        version = version.decode()
    if version is None or not str(version).startswith("GCTX"):
        raise ValueError(f"{path}: not a GCTX file: root attribute 'version' is "
                         f"{version!r}, expected {VERSION!r}")
    for key in (MATRIX, f"{COL_META}/id", f"{ROW_META}/id"):
        if key not in f:
            raise ValueError(f"{path}: not a valid GCTX file: dataset {key} is missing")


def _as_str(values) -> np.ndarray:
    """Identifiers as an object array of ``str`` (integers written without ``.0``)."""
    arr = np.asarray(values)
    if arr.dtype.kind == "S":
        return np.char.decode(arr, "utf-8").astype(object)
    if arr.dtype.kind == "O":
        return np.array([v.decode() if isinstance(v, bytes) else str(v) for v in arr],
                        dtype=object)
    if (arr.dtype.kind == "f" and np.all(np.isfinite(arr))
            and np.all(arr == np.round(arr))):
        arr = arr.astype(np.int64)
    return arr.astype(str).astype(object)


def _meta_values(values) -> np.ndarray:
    """A metadata field as cmapPy reads it: ``-666`` -> NaN, numeric text -> numbers."""
    arr = np.asarray(values)
    if arr.dtype.kind in ("S", "O", "U"):
        text = pd.Series(_as_str(arr), dtype=object)
        nums = pd.to_numeric(text, errors="coerce")
        if len(text) and nums.notna().all():
            arr = nums.to_numpy()
        else:
            missing = (text == str(MISSING)) | (nums == MISSING)
            return np.where(missing, np.nan, text.to_numpy()).astype(object)
    if arr.dtype.kind in ("i", "u", "f") and np.any(arr == MISSING):
        arr = np.where(arr == MISSING, np.nan, arr.astype(float))
    return arr


def _read_ids(f, key, path, kind) -> np.ndarray:
    ds = f[key]
    if ds.ndim != 1:
        raise ValueError(f"{path}: {key} must be 1-d, got shape {ds.shape}")
    ids = _as_str(ds[()])
    dup = pd.Index(ids).duplicated()
    if dup.any():
        raise ValueError(f"{path}: {int(dup.sum())} duplicate {kind} id(s) in {key}, "
                         f"e.g. {list(ids[dup][:5])}")
    return ids


def _meta(f, group_key, ids, path) -> pd.DataFrame:
    h5py = _h5py()
    group = f[group_key]
    cols = {}
    for key in group:
        ds = group[key]
        if key == "id" or not isinstance(ds, h5py.Dataset):
            continue
        if ds.shape != (len(ids),):
            raise ValueError(f"{path}: metadata field {group_key}/{key} has shape "
                             f"{ds.shape}, expected one value per id ({len(ids)})")
        cols[key] = _meta_values(ds[()])
    return pd.DataFrame(cols, index=pd.Index(ids, name="id"))


def _matrix(f, path, n_profiles, n_genes):
    dset = f[MATRIX]
    if dset.shape != (n_profiles, n_genes):
        hint = (" (it looks stored genes x profiles)"
                if dset.shape == (n_genes, n_profiles) else "")
        raise ValueError(f"{path}: matrix shape {dset.shape} does not match "
                         f"{n_profiles} profile ids x {n_genes} gene ids; GCTX stores "
                         f"profiles x genes{hint}")
    return dset


@dataclass
class GCTX:
    """A (selection of a) GCTX file: ``data`` is profiles x genes (as stored).

    Attributes
    ----------
    data : ndarray (n_profiles, n_genes)
    profile_ids : ndarray of str (n_profiles,)
        ``cid``.
    gene_ids : ndarray of str (n_genes,)
        ``rid``.
    col_meta : DataFrame
        Profile metadata stored in the file (index: cid).
    row_meta : DataFrame
        Gene metadata stored in the file (index: rid).
    """

    data: np.ndarray
    profile_ids: np.ndarray
    gene_ids: np.ndarray
    col_meta: pd.DataFrame
    row_meta: pd.DataFrame

    def frame(self) -> pd.DataFrame:
        """The data as a DataFrame, profiles x genes."""
        return pd.DataFrame(self.data, index=self.profile_ids, columns=self.gene_ids)


def write_gctx(path, data, profile_ids, gene_ids, col_meta: dict | None = None,
               row_meta: dict | None = None, dtype=np.float32,
               compression: str | None = "gzip", chunk_profiles: int = 256) -> Path:
    """Write a GCTX file.

    Parameters
    ----------
    path : str or Path
        The file (its folder is created when missing).
    data : array-like (n_profiles, n_genes)
        Profiles in rows, as GCTX stores them.
    profile_ids, gene_ids : sequences
        Written as strings to ``/0/META/COL/id`` and ``/0/META/ROW/id``; must be unique.
    col_meta, row_meta : dict of name -> 1-d array, optional
        Extra metadata fields (e.g. ``pr_gene_symbol``), one value per profile / gene.
    dtype : numpy dtype
        Stored type of the matrix.
    compression : str or None
        HDF5 filter of the matrix.
    chunk_profiles : int >= 1
        Profiles per HDF5 chunk (a chunk holds all genes of these profiles).

    Returns
    -------
    Path
    """
    h5py = _h5py()
    path = Path(path)
    chunk_profiles = check_int(chunk_profiles, "chunk_profiles", minimum=1)
    data = np.asarray(data, dtype=dtype)
    if data.ndim != 2:
        raise ValueError(f"{path}: data must be 2-d (profiles x genes), got shape "
                         f"{data.shape}")
    n, g = data.shape
    profile_ids = [str(x) for x in profile_ids]
    gene_ids = [str(x) for x in gene_ids]
    if len(profile_ids) != n or len(gene_ids) != g:
        raise ValueError(f"{path}: data is {n} profiles x {g} genes but got "
                         f"{len(profile_ids)} profile ids and {len(gene_ids)} gene ids")
    for name, ids in (("profile_ids", profile_ids), ("gene_ids", gene_ids)):
        if len(set(ids)) != len(ids):
            raise ValueError(f"{path}: {name} must be unique")
    path.parent.mkdir(parents=True, exist_ok=True)
    str_dt = h5py.string_dtype("utf-8")
    with h5py.File(path, "w") as f:
        f.attrs["version"] = VERSION
        chunks = (min(max(n, 1), chunk_profiles), g) if n and g else None
        f.create_dataset(MATRIX, data=data, chunks=chunks,
                         compression=compression if chunks else None)
        f.create_dataset(f"{COL_META}/id", data=np.array(profile_ids, dtype=object),
                         dtype=str_dt)
        f.create_dataset(f"{ROW_META}/id", data=np.array(gene_ids, dtype=object),
                         dtype=str_dt)
        for group, meta, size in ((COL_META, col_meta, n), (ROW_META, row_meta, g)):
            for key, values in (meta or {}).items():
                if key == "id":
                    raise ValueError(f"{path}: metadata field 'id' is reserved for the "
                                     "identifiers")
                values = np.asarray(values)
                if values.shape != (size,):
                    raise ValueError(f"{path}: metadata field {key!r} must have {size} "
                                     f"values, got shape {values.shape}")
                if values.dtype.kind in ("U", "O", "S"):
                    text = values.astype(str).astype(object)
                    f.create_dataset(f"{group}/{key}", data=text, dtype=str_dt)
                else:
                    f.create_dataset(f"{group}/{key}", data=values)
    return path


def gctx_ids(path) -> tuple[np.ndarray, np.ndarray]:
    """The identifiers of a GCTX file, without reading its matrix.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    profile_ids, gene_ids : ndarray of str

    Raises
    ------
    ValueError
        Naming the file: not HDF5, not the GCTX layout, duplicate ids.
    """
    with _open(path) as f:
        return (_read_ids(f, f"{COL_META}/id", path, "profile"),
                _read_ids(f, f"{ROW_META}/id", path, "gene"))


def gctx_meta(path, which: str = "row") -> pd.DataFrame:
    """The gene (``which="row"``) or profile (``"col"``) metadata of a GCTX file.

    Parameters
    ----------
    path : str or Path
    which : {"row", "col"}

    Returns
    -------
    DataFrame
        One row per id (index ``id``), one column per metadata field; ``-666`` read as
        NaN, all-numeric fields as numbers.
    """
    if which not in ("row", "col"):
        raise ValueError(f"which must be 'row' or 'col', got {which!r}")
    group = ROW_META if which == "row" else COL_META
    with _open(path) as f:
        ids = _read_ids(f, f"{group}/id", path, "gene" if which == "row" else "profile")
        return _meta(f, group, ids, path)


def _positions(all_ids, wanted, kind, path) -> np.ndarray | None:
    if wanted is None:
        return None
    wanted = [str(w) for w in wanted]
    pos = pd.Index(all_ids).get_indexer(wanted)
    if np.any(pos < 0):
        missing = [w for w, p in zip(wanted, pos) if p < 0]
        raise ValueError(f"{path}: {len(missing)} requested {kind} id(s) are not in "
                         f"the file, e.g. {missing[:5]}")
    dup = pd.Index(wanted).duplicated()
    if dup.any():
        raise ValueError(f"{path}: the requested {kind} ids contain duplicates, e.g. "
                         f"{list(np.asarray(wanted, dtype=object)[dup][:5])}")
    return pos.astype(np.int64)


def _gene_selection(cols, n_genes):
    """``(selection for h5py, permutation back to the requested order or None)``."""
    if cols is None:
        return slice(None), None
    order = np.argsort(cols, kind="stable")
    sorted_cols = cols[order]
    back = None if np.all(order == np.arange(len(order))) else np.argsort(order)
    if len(sorted_cols) == n_genes:
        return slice(None), back
    if len(sorted_cols) and sorted_cols[-1] - sorted_cols[0] + 1 == len(sorted_cols):
        return slice(int(sorted_cols[0]), int(sorted_cols[-1]) + 1), back
    return sorted_cols, back


def _slabs(rows: np.ndarray, span: int):
    """Split sorted file rows into slabs ``(a, b)`` (indices into ``rows``), each read
    by one h5py call: gaps of at most :data:`MERGE_GAP` rows are bridged and a slab
    spans at most ``span`` file rows."""
    if not len(rows):
        return []
    slabs = []
    breaks = np.flatnonzero(np.diff(rows) > MERGE_GAP + 1) + 1
    for start, stop in zip(np.r_[0, breaks], np.r_[breaks, len(rows)]):
        piece = (rows[start:stop] - rows[start]) // span
        cuts = np.flatnonzero(np.diff(piece)) + 1
        for a, b in zip(np.r_[0, cuts] + start, np.r_[cuts, stop - start] + start):
            slabs.append((int(a), int(b)))
    return slabs


def _blocks(dset, path, rows, cols, chunk_profiles):
    """The generator behind :func:`iter_gctx` (file open, positions resolved)."""
    n_genes = dset.shape[1]
    order = np.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    gene_sel, back = _gene_selection(cols, n_genes)
    n_cols = n_genes if cols is None else len(cols)
    slabs = _slabs(sorted_rows, chunk_profiles)
    i = 0
    while i < len(slabs):
        j, first = i, slabs[i][0]
        while j < len(slabs) and slabs[j][1] - first <= chunk_profiles:
            j += 1
        last = slabs[j - 1][1]
        block = np.empty((last - first, n_cols), dtype=dset.dtype)
        for a, b in slabs[i:j]:
            lo, hi = int(sorted_rows[a]), int(sorted_rows[b - 1]) + 1
            try:
                slab = dset[lo:hi, gene_sel]
            except OSError as exc:
                raise ValueError(f"{path}: cannot read profiles {lo}..{hi - 1} of "
                                 f"{MATRIX}, the file may be truncated "
                                 f"({one_line(exc)})") from None
            if hi - lo == b - a:
                block[a - first:b - first] = slab
            else:
                block[a - first:b - first] = slab[sorted_rows[a:b] - lo]
        if back is not None:
            block = block[:, back]
        yield order[first:last], block
        i = j


def iter_gctx(path, profile_ids=None, gene_ids=None, chunk_profiles: int = 10000):
    """Read a selection of a GCTX file in blocks of at most ``chunk_profiles`` profiles.

    Profiles are read in file order (increasing row numbers, as HDF5 needs). Genes are
    selected inside HDF5 (h5py fancy indexing along the gene axis, or a slice when the
    selection is contiguous): the file's other genes never reach memory. Each h5py call
    reads a slab of at most ``chunk_profiles`` consecutive profiles of the file, gaps
    of at most :data:`MERGE_GAP` unselected profiles included, so the memory used is
    that of one block, whatever the size of the selection.

    Parameters
    ----------
    path : str or Path
    profile_ids, gene_ids : sequences, optional
        Identifiers (compared as strings); ``None``: all of them. Unknown or duplicate
        identifiers raise a ``ValueError``.
    chunk_profiles : int >= 1

    Yields
    ------
    where : ndarray of int
        Positions of the block's profiles in ``profile_ids`` (in the file when
        ``profile_ids`` is None).
    block : ndarray (len(where), n_genes selected)
        Stored values (float32 in GSE92742), genes in the order of ``gene_ids``.
    """
    chunk_profiles = check_int(chunk_profiles, "chunk_profiles", minimum=1)
    with _open(path) as f:
        all_cids = _read_ids(f, f"{COL_META}/id", path, "profile")
        all_rids = _read_ids(f, f"{ROW_META}/id", path, "gene")
        dset = _matrix(f, path, len(all_cids), len(all_rids))
        rows = _positions(all_cids, profile_ids, "profile", path)
        rows = np.arange(len(all_cids)) if rows is None else rows
        cols = _positions(all_rids, gene_ids, "gene", path)
        yield from _blocks(dset, path, rows, cols, chunk_profiles)


def read_gctx(path, profile_ids=None, gene_ids=None,
              chunk_profiles: int = 10000) -> GCTX:
    """Read a GCTX file, optionally only some profiles (``cid``) and genes (``rid``).

    Parameters
    ----------
    path : str or Path
    profile_ids, gene_ids : sequences, optional
        Identifiers to read (compared as strings); the result keeps their order.
    chunk_profiles : int >= 1
        Profiles read per block (:func:`iter_gctx`).

    Returns
    -------
    GCTX

    Raises
    ------
    ValueError
        Naming the file: missing, not HDF5, not the GCTX layout, duplicate ids,
        metadata of the wrong length, unknown or duplicate requested ids, a truncated
        matrix.
    """
    chunk_profiles = check_int(chunk_profiles, "chunk_profiles", minimum=1)
    with _open(path) as f:
        all_cids = _read_ids(f, f"{COL_META}/id", path, "profile")
        all_rids = _read_ids(f, f"{ROW_META}/id", path, "gene")
        col_meta = _meta(f, COL_META, all_cids, path)
        row_meta = _meta(f, ROW_META, all_rids, path)
        dset = _matrix(f, path, len(all_cids), len(all_rids))
        rows = _positions(all_cids, profile_ids, "profile", path)
        rows = np.arange(len(all_cids)) if rows is None else rows
        cols = _positions(all_rids, gene_ids, "gene", path)
        n_cols = len(all_rids) if cols is None else len(cols)
        data = np.empty((len(rows), n_cols), dtype=dset.dtype)
        for where, block in _blocks(dset, path, rows, cols, chunk_profiles):
            data[where] = block
    cols = np.arange(len(all_rids)) if cols is None else cols
    return GCTX(data, all_cids[rows], all_rids[cols], col_meta.iloc[rows],
                row_meta.iloc[cols])
