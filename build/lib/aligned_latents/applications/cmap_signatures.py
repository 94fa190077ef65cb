"""Drug signatures across cell types from CMap / LINCS L1000 (Section 6.3): the pipeline
from GSE92742's files (read by :mod:`aligned_latents.data.cmap_tables` and
:mod:`aligned_latents.data.gctx`) to processed profiles and drug signatures.

The pipeline runs on GSE92742's own formats: the Level 3 ``.gctx`` matrix (read with
:mod:`aligned_latents.data.gctx`), the tab-separated ``inst_info``, ``pert_info`` and
``cell_info`` tables, and ``gene_info`` (which genes are the 978 measured landmarks,
``pr_is_lm = 1``, among the file's 12,328). It follows the companion code of Belyaeva et
al. (2021), reference [5] of the paper, with its steps made explicit:

1. select the profiles of the compared cell types: compound treatments (``pert_type`` =
   ``trt_cp``) and vehicle controls (``pert_iname`` = ``DMSO``), and the landmark genes;
2. ``log2(x + 1)``, then min-max scaling of each profile to [0, 1] (both per profile, so
   the profiles are read and processed in blocks);
3. per cell type, split the DMSO controls in two by k-means and keep the larger
   cluster;
4. signature of a drug in a cell type = mean of its profiles - mean of the kept
   controls;
5. keep the drugs present in both cell types (optionally only those in a given list,
   e.g. FDA-approved drugs).

The simulated data set of the book's default run (GSE92742 cannot be downloaded on the
build machines) is written by :mod:`aligned_latents.data.l1000_sim` in the same formats.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from aligned_latents.data.cmap_tables import (
    CHUNK_PROFILES,
    CONTROL_INAME,
    DRUG_TYPE,
    load_metadata,
    memory_note,
    select_genes,
    select_profiles,
)
from aligned_latents.data.gctx import gctx_meta, iter_gctx
from aligned_latents.metrics.vectors import minmax_rows
from aligned_latents.util.validation import as_finite_array, check_int


# --------------------------------------------------------------------------------------
# processing
# --------------------------------------------------------------------------------------
def process_profiles(raw, log: bool = True) -> np.ndarray:
    """``log2(x + 1)`` (when ``log``), then min-max scaling of each profile (row).

    The companion code's ``min_max_scale(vectors.T).T``: each profile is mapped to
    ``(x - min x) / (max x - min x)`` over its genes (:func:`vectors.minmax_rows`). Both
    steps act on each profile alone, so processing blocks of profiles gives exactly the
    result of processing all of them at once.

    Parameters
    ----------
    raw : array-like (n, genes)
    log : bool

    Returns
    -------
    ndarray (n, genes), float64
    """
    x = as_finite_array(raw, "raw profiles", ndim=2)
    if log:
        if np.any(x <= -1):
            raise ValueError("log2(x + 1) needs x > -1; the raw profiles contain "
                             "values <= -1")
        x = np.log2(x + 1.0)
    return minmax_rows(x)


def read_processed(gctx_path, profile_ids, gene_ids=None, log: bool = True,
                   chunk_profiles: int = CHUNK_PROFILES) -> np.ndarray:
    """Read profiles from a ``.gctx`` file and process them (:func:`process_profiles`)
    block by block.

    Peak memory: the processed result (float64) plus one block of ``chunk_profiles``
    profiles and its processing temporaries.

    Parameters
    ----------
    gctx_path : str or Path
    profile_ids : sequence
        Profiles, in the order of the result's rows.
    gene_ids : sequence, optional
        Genes, in the order of the result's columns; None: all genes of the file.
    log : bool
    chunk_profiles : int >= 1

    Returns
    -------
    ndarray (len(profile_ids), genes), float64
    """
    ids = np.asarray([str(p) for p in profile_ids], dtype=object)
    if gene_ids is None:
        gene_ids = gctx_meta(gctx_path, "row").index.to_numpy()
    out = np.empty((len(ids), len(gene_ids)))
    for where, block in iter_gctx(gctx_path, ids, gene_ids, chunk_profiles):
        try:
            out[where] = process_profiles(block, log=log)
        except ValueError as exc:
            finite = np.isfinite(block).all(axis=1)
            safe = np.where(finite[:, None], block, 0.0)
            bad = ~finite | (safe.max(axis=1) == safe.min(axis=1))
            if log:
                bad |= (safe <= -1).any(axis=1)
            raise ValueError(f"{gctx_path}: profile(s) {list(ids[where[bad]][:3])}: "
                             f"{exc}") from None
    return out


def kmeans_controls(controls, seed: int = 0) -> np.ndarray:
    """Split control profiles in two with k-means; boolean mask of the larger cluster.

    Parameters
    ----------
    controls : array-like (n, genes), n >= 2
    seed : int
        ``random_state`` of scikit-learn's ``KMeans`` (10 initializations).

    Returns
    -------
    ndarray of bool (n,)
        Ties (equal sizes) keep the cluster of the first profile.
    """
    from sklearn.cluster import KMeans

    x = as_finite_array(controls, "controls", ndim=2)
    check_int(seed, "seed", minimum=0)
    if len(x) < 2:
        raise ValueError(f"k-means control selection needs at least 2 control "
                         f"profiles, got {len(x)}")
    labels = KMeans(n_clusters=2, n_init=10, random_state=seed).fit_predict(x)
    sizes = np.bincount(labels, minlength=2)
    keep = labels[0] if sizes[0] == sizes[1] else int(np.argmax(sizes))
    return labels == keep


def drug_signatures(profiles, drugs, control_mask) -> pd.DataFrame:
    """Signature of each drug: mean of its profiles minus the mean of the kept controls.

    Parameters
    ----------
    profiles : array-like (n, d)
        Profiles of one cell type (processed, or encoded: the same step runs in latent
        space).
    drugs : sequence of length n
        Drug name of each profile; ignored where it is a control.
    control_mask : bool array (n,)
        The kept controls (see :func:`kmeans_controls`).

    Returns
    -------
    DataFrame
        One row per drug name (sorted), ``d`` columns.
    """
    x = as_finite_array(profiles, "profiles", ndim=2)
    drugs = np.asarray(drugs, dtype=object)
    control_mask = np.asarray(control_mask, dtype=bool)
    if len(drugs) != len(x) or len(control_mask) != len(x):
        raise ValueError("profiles, drugs and control_mask must have the same length")
    if not control_mask.any():
        raise ValueError("no control profiles kept")
    ctl = x[control_mask].mean(axis=0)
    frame = pd.DataFrame(x, index=pd.Index(drugs, name="drug"))
    return frame.groupby(level=0, sort=True).mean().sub(ctl, axis=1)


@dataclass
class CellData:
    """One cell type after processing.

    Attributes
    ----------
    cell_id : str
    profiles : ndarray (n, genes)
        Processed profiles: drugs and all controls.
    drugs : ndarray of str (n,)
        ``pert_iname`` per profile (``''`` for controls).
    is_control : ndarray of bool (n,)
    kept_control : ndarray of bool (n,)
        Control in the larger k-means cluster.
    signatures : DataFrame
        Drugs x genes.
    """

    cell_id: str
    profiles: np.ndarray
    drugs: np.ndarray
    is_control: np.ndarray
    kept_control: np.ndarray
    signatures: pd.DataFrame = field(default=None)


@dataclass
class CMapData:
    """Processed profiles and drug signatures of the compared cell types.

    Attributes
    ----------
    cells : dict
        cell_id -> :class:`CellData`.
    common_drugs : list of str
        Drugs present in every compared cell type (sorted).
    gene_ids : ndarray of str
        The genes read (file order).
    """

    cells: dict
    common_drugs: list
    gene_ids: np.ndarray

    def training_profiles(self, cell_types=None) -> np.ndarray:
        """Processed profiles (drugs and all controls) of the cell types, stacked."""
        cell_types = list(self.cells) if cell_types is None else list(cell_types)
        return np.concatenate([self.cells[c].profiles for c in cell_types])

    def signature_matrix(self, cell_id: str) -> np.ndarray:
        """Signatures of the common drugs in one cell type (rows in ``common_drugs``
        order)."""
        return self.cells[cell_id].signatures.loc[self.common_drugs].to_numpy()


def load_cmap(gctx_path, inst_info, pert_info=None, cell_info=None,
              cell_types=("A549", "MCF7"), drugs=None,
              control_iname: str = CONTROL_INAME, drug_type: str = DRUG_TYPE,
              log: bool = True, seed: int = 0, *,
              gene_info=None, genes: str = "landmark",
              chunk_profiles: int = CHUNK_PROFILES, verbose: bool = True) -> CMapData:
    """The whole pipeline: metadata, selection, block-wise read and processing,
    signatures.

    Only the selected profiles and genes are read from the ``.gctx`` file, in blocks of
    ``chunk_profiles`` profiles, each processed (:func:`process_profiles`) as soon as it
    is read. Drugs present in some but not all of ``cell_types`` are dropped from
    ``common_drugs`` (their profiles still serve as training data).

    Parameters
    ----------
    gctx_path : str or Path
        Level 3 matrix (GSE92742:
        ``GSE92742_Broad_LINCS_Level3_INF_mlr12k_n1319138x12328.gctx``) or a simulated
        one (:mod:`aligned_latents.data.l1000_sim`).
    inst_info, pert_info, cell_info : str or Path
        GSE92742 tables (see :func:`load_metadata`).
    cell_types : sequence of str
    drugs : see :func:`read_drug_list`
    control_iname, drug_type : str
        See :func:`select_profiles`.
    log : bool
        Apply ``log2(x + 1)`` before min-max scaling.
    seed : int
        Seed of the k-means control selection.
    gene_info : str or Path, optional
        GSE92742 ``gene_info`` table (``GSE92742_Broad_LINCS_gene_info.txt``) naming the
        landmark genes; see :func:`select_genes`.
    genes : {"landmark", "all"}
        The 978 landmark genes (default, the paper's choice) or all genes of the file.
    chunk_profiles : int >= 1
        Profiles read and processed at a time.
    verbose : bool
        Print :func:`memory_note` before reading.

    Returns
    -------
    CMapData

    Raises
    ------
    ValueError
        Bad files (naming them), unknown cell types, and an empty drug intersection.
    """
    chunk_profiles = check_int(chunk_profiles, "chunk_profiles", minimum=1)
    inst = load_metadata(inst_info, pert_info, cell_info)
    sel = select_profiles(inst, cell_types, control_iname, drug_type, drugs)
    gene_ids = select_genes(gctx_path, gene_info, genes)
    if verbose:
        print(memory_note(gctx_path, len(sel), len(gene_ids), chunk_profiles))
    processed = read_processed(gctx_path, sel["inst_id"].tolist(), gene_ids, log,
                               chunk_profiles)
    cells, per_cell_drugs = {}, []
    for c in cell_types:
        rows = (sel["cell_id"] == c).to_numpy()
        is_ctl = sel["is_control"].to_numpy()[rows]
        x = processed[rows]
        names = np.where(is_ctl, "", sel["pert_iname"].to_numpy()[rows]).astype(object)
        kept = np.zeros(len(x), bool)
        kept[np.flatnonzero(is_ctl)[kmeans_controls(x[is_ctl], seed=seed)]] = True
        cd = CellData(c, x, names, is_ctl, kept)
        cd.signatures = _signatures_of(cd, x)
        cells[c] = cd
        per_cell_drugs.append(set(cd.signatures.index))
    common = sorted(set.intersection(*per_cell_drugs))
    if not common:
        raise ValueError(f"no drug is present in all of the cell types "
                         f"{list(cell_types)}")
    return CMapData(cells, common, np.asarray(gene_ids, dtype=object))


def _signatures_of(cd: CellData, x: np.ndarray) -> pd.DataFrame:
    """Signatures from profiles ``x`` (processed or encoded) of one cell type."""
    use = ~cd.is_control | cd.kept_control
    ctl_mask = cd.kept_control[use]
    sig = drug_signatures(x[use], cd.drugs[use], ctl_mask)
    return sig.drop(index="", errors="ignore")


def latent_signatures(data: CMapData, cell_id: str, encode_fn) -> np.ndarray:
    """Signatures of the common drugs computed in a latent space.

    Parameters
    ----------
    data : CMapData
    cell_id : str
    encode_fn : callable
        Maps processed profiles (n, d) to latent codes (n, h); the signature step (drug
        mean minus kept-control mean) is then run on the codes.

    Returns
    -------
    ndarray (n_common_drugs, h)
    """
    cd = data.cells[cell_id]
    z = np.asarray(encode_fn(cd.profiles), dtype=float)
    return _signatures_of(cd, z).loc[data.common_drugs].to_numpy()
