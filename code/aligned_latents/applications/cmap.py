"""Drug signatures across cell types from CMap / LINCS L1000 (Section 6.3, Figure 4).

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

import gzip
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from aligned_latents.data.gctx import gctx_meta, iter_gctx
from aligned_latents.data.l1000_sim import (  # noqa: F401
    SimulationConfig,
    broad_program,
    simulate_profiles,
    write_simulated_l1000,
)
from aligned_latents.metrics.drug_alignment import (  # noqa: F401
    alignment_tables,
    figure4_summary,
    figure4_table,
    mismatch_permutation,
)
from aligned_latents.metrics.vectors import minmax_rows

# Names that used to live here, kept importable as cmap.X for book/cmap.md: the
# simulation's home is l1000_sim, Lemma 1's closed_forms, Figure 4's drug_alignment.
from aligned_latents.theory.closed_forms import lemma1_cosine  # noqa: F401
from aligned_latents.util.validation import as_finite_array, check_degree, check_int, check_positive

INST_COLUMNS = ["inst_id", "pert_id", "pert_iname", "pert_type", "cell_id"]
PERT_COLUMNS = ["pert_id", "pert_iname", "pert_type"]
CELL_COLUMNS = ["cell_id"]
GENE_COLUMNS = ["pr_gene_id", "pr_is_lm"]
CONTROL_INAME = "DMSO"
DRUG_TYPE = "trt_cp"
CHUNK_PROFILES = 10000
SWEEP_COLUMNS = ["model", "n_drugs", "share_increased", "median_increase",
                 "median_cos_original", "median_cos_latent",
                 "mismatched_median_abs_cos_original",
                 "mismatched_median_abs_cos_latent",
                 "share_negative_latent", "share_negative_original"]


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# --------------------------------------------------------------------------------------
# metadata tables
# --------------------------------------------------------------------------------------
def read_table(path, required: list[str], name: str) -> pd.DataFrame:
    """Read a tab-separated metadata table (``.txt`` or ``.txt.gz``), check its columns.

    Every value is read as a string (``-666``, GSE92742's 'unknown', stays a string).

    Parameters
    ----------
    path : str or Path
    required : list of str
        Columns the table must have.
    name : str
        The table's name in messages (``inst_info``, ...).

    Returns
    -------
    DataFrame

    Raises
    ------
    ValueError
        Naming the file: missing, empty (no header, or no rows), not gzip / truncated
        gzip, not tab-separated text, missing column(s).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: {name} table not found")
    try:
        df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: empty table (no header, no rows)") from None
    except gzip.BadGzipFile as exc:
        if str(exc).startswith("Not a gzipped file"):
            raise ValueError(f"{path}: not a gzip file") from None
        raise ValueError(f"{path}: corrupt gzip file ({_one_line(exc)})") from None
    except EOFError:
        raise ValueError(f"{path}: truncated gzip file") from None
    except zlib.error as exc:
        raise ValueError(f"{path}: corrupt gzip file ({_one_line(exc)})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: the {name} table is not UTF-8 text") from None
    except pd.errors.ParserError as exc:
        raise ValueError(f"{path}: not a tab-separated {name} table "
                         f"({_one_line(exc)})") from None
    if df.empty:
        raise ValueError(f"{path}: empty table (a header, no rows)")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: {name} table lacks column(s) {missing}; it has "
                         f"{list(df.columns)}")
    return df


def load_metadata(inst_info, pert_info=None, cell_info=None) -> pd.DataFrame:
    """The profiles' metadata (``inst_info``), checked against the other tables.

    Parameters
    ----------
    inst_info : str or Path
        One row per profile (GSE92742 ``inst_info``).
    pert_info, cell_info : str or Path, optional
        When given, every ``pert_id`` (``cell_id``) of ``inst_info`` must be listed
        there (GSE92742's tables satisfy both).

    Returns
    -------
    DataFrame
        ``inst_info``, index ``inst_id`` (also kept as a column).
    """
    inst = read_table(inst_info, INST_COLUMNS, "inst_info")
    dup = inst["inst_id"].duplicated()
    if dup.any():
        raise ValueError(f"{inst_info}: inst_id values must be unique; "
                         f"{int(dup.sum())} repeated, e.g. "
                         f"{inst['inst_id'][dup].tolist()[:5]}")
    for path, columns, name, key in ((pert_info, PERT_COLUMNS, "pert_info", "pert_id"),
                                     (cell_info, CELL_COLUMNS, "cell_info", "cell_id")):
        if path is None:
            continue
        table = read_table(path, columns, name)
        unknown = sorted(set(inst[key]) - set(table[key]))
        if unknown:
            raise ValueError(f"{path}: {len(unknown)} {key}(s) of inst_info "
                             f"({inst_info}) are not in {name}, e.g. {unknown[:5]}")
    return inst.set_index("inst_id", drop=False)


def read_drug_list(drugs) -> list[str] | None:
    """The drugs to keep.

    Parameters
    ----------
    drugs : None, sequence of str, or str / Path
        ``pert_iname`` values, or a text file with one name per line (blank lines and
        lines starting with ``#`` skipped).

    Returns
    -------
    list of str or None
    """
    if drugs is None:
        return None
    if isinstance(drugs, (str, Path)):
        path = Path(drugs)
        if not path.is_file():
            raise ValueError(f"{path}: drug list file not found")
        names = [line.strip() for line in path.read_text().splitlines()]
        return [n for n in names if n and not n.startswith("#")]
    return [str(d) for d in drugs]


def select_profiles(inst: pd.DataFrame, cell_types, control_iname: str = CONTROL_INAME,
                    drug_type: str = DRUG_TYPE, drugs=None) -> pd.DataFrame:
    """Rows of ``inst`` for the given cell types: drug treatments and vehicle controls.

    Parameters
    ----------
    inst : DataFrame
        From :func:`load_metadata`.
    cell_types : sequence of str
    control_iname : str
        ``pert_iname`` of the controls.
    drug_type : str
        ``pert_type`` of the drug treatments.
    drugs : see :func:`read_drug_list`

    Returns
    -------
    DataFrame
        The selected rows with a boolean column ``is_control``.

    Raises
    ------
    ValueError
        Unknown cell types, or a cell type without controls.
    """
    cell_types = [str(c) for c in cell_types]
    if len(cell_types) < 1:
        raise ValueError("give at least one cell type")
    known = set(inst["cell_id"])
    unknown = [c for c in cell_types if c not in known]
    if unknown:
        raise ValueError(f"unknown cell type(s) {unknown}; inst_info has {len(known)} "
                         f"cell types, e.g. {sorted(known)[:10]}")
    sel = inst[inst["cell_id"].isin(cell_types)]
    is_ctl = sel["pert_iname"] == control_iname
    is_drug = (sel["pert_type"] == drug_type) & ~is_ctl
    names = read_drug_list(drugs)
    if names is not None:
        is_drug &= sel["pert_iname"].isin(names)
    out = sel[is_ctl | is_drug].copy()
    out["is_control"] = is_ctl[is_ctl | is_drug].to_numpy()
    for c in cell_types:
        if not out[(out["cell_id"] == c) & out["is_control"]].shape[0]:
            raise ValueError(f"cell type {c!r} has no {control_iname} control profiles")
    return out


# --------------------------------------------------------------------------------------
# genes
# --------------------------------------------------------------------------------------
def read_gene_info(path) -> pd.DataFrame:
    """GSE92742's ``gene_info`` table (``pr_gene_id``, ``pr_is_lm``, ...), checked.

    Parameters
    ----------
    path : str or Path
        ``GSE92742_Broad_LINCS_gene_info.txt`` (tab-separated; columns ``pr_gene_id``,
        ``pr_gene_symbol``, ``pr_gene_title``, ``pr_is_lm``, ``pr_is_bing``).

    Returns
    -------
    DataFrame
        All values as strings.

    Raises
    ------
    ValueError
        Naming the file: see :func:`read_table`; repeated ``pr_gene_id``; a ``pr_is_lm``
        other than 0 / 1; no landmark gene.
    """
    table = read_table(path, GENE_COLUMNS, "gene_info")
    dup = table["pr_gene_id"].duplicated()
    if dup.any():
        raise ValueError(f"{path}: pr_gene_id values must be unique; "
                         f"{int(dup.sum())} repeated, e.g. "
                         f"{table['pr_gene_id'][dup].tolist()[:5]}")
    bad = sorted(set(table["pr_is_lm"]) - {"0", "1"})
    if bad:
        raise ValueError(f"{path}: pr_is_lm must be 0 or 1, found {bad[:5]}")
    if not (table["pr_is_lm"] == "1").any():
        raise ValueError(f"{path}: no landmark gene (pr_is_lm = 1)")
    return table


def select_genes(gctx_path, gene_info=None, genes: str = "landmark") -> np.ndarray:
    """Identifiers of the genes to read, in the order of the ``.gctx`` file.

    Parameters
    ----------
    gctx_path : str or Path
    gene_info : str or Path, optional
        GSE92742 ``gene_info`` table; without it the landmarks come from the file's own
        row metadata field ``pr_is_lm`` (the simulated files have it).
    genes : {"landmark", "all"}
        The landmark genes (``pr_is_lm = 1``, 978 in GSE92742, the paper's choice) or
        all genes of the file (12,328 in the Level 3 file: measured and inferred).

    Returns
    -------
    ndarray of str
    """
    if genes not in ("landmark", "all"):
        raise ValueError(f"genes must be 'landmark' or 'all', got {genes!r}")
    row_meta = gctx_meta(gctx_path, "row")
    rids = row_meta.index.to_numpy()
    if genes == "all":
        return rids
    if gene_info is not None:
        table = read_gene_info(gene_info)
        landmarks = table.loc[table["pr_is_lm"] == "1", "pr_gene_id"].to_numpy()
        absent = sorted(set(landmarks) - set(rids))
        if absent:
            raise ValueError(f"{gctx_path}: {len(absent)} of the {len(landmarks)} "
                             f"landmark genes of {gene_info} are not among its gene "
                             f"ids, e.g. {absent[:5]}")
        return rids[np.isin(rids, landmarks)]
    if "pr_is_lm" not in row_meta.columns:
        raise ValueError(f"{gctx_path}: no row metadata pr_is_lm to find the landmark "
                         f"genes among its {len(rids)}: give gene_info (GSE92742's "
                         "gene_info table) or genes='all'")
    flag = pd.to_numeric(pd.Series(row_meta["pr_is_lm"].to_numpy()), errors="coerce")
    if not flag.isin([0, 1]).all():
        raise ValueError(f"{gctx_path}: row metadata pr_is_lm must be 0 or 1")
    if not (flag == 1).any():
        raise ValueError(f"{gctx_path}: no landmark gene (pr_is_lm = 1)")
    return rids[(flag == 1).to_numpy()]


def memory_note(gctx_path, n_profiles: int, n_genes: int,
                chunk_profiles: int = CHUNK_PROFILES) -> str:
    """One line estimating the memory a selection needs, printed before reading it.

    The processed profiles are float64 (``n_profiles * n_genes * 8`` bytes); they are
    read as stored (float32, half that) in blocks of ``chunk_profiles`` profiles.

    Parameters
    ----------
    gctx_path : str or Path
    n_profiles, n_genes : int
        The selection.
    chunk_profiles : int

    Returns
    -------
    str
    """
    stored = n_profiles * n_genes * 4
    mib = 2 ** 20
    return (f"{Path(gctx_path).name}: reading {n_profiles:,} profiles x {n_genes:,} "
            f"genes ({stored / mib:,.1f} MiB as stored in float32, "
            f"{2 * stored / mib:,.1f} MiB processed in float64) in blocks of "
            f"{min(chunk_profiles, max(n_profiles, 1)):,} profiles")


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


# --------------------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------------------
def linear_ae_latents(data: CMapData, degrees, cell_a: str = "A549",
                      cell_b: str = "MCF7", train_cell_types=None) -> tuple[dict, dict]:
    """Latent signatures under linear autoencoders with asymmetric spectral
    initialization.

    For each degree ``k``, the encoder is Theorem 1's limit from ``A0 = 0``,
    ``B0 = (XᵀX/(n g) + I)^k`` (:func:`aligned_latents.theory.linear_ae.asymmetric_encoder`,
    the companion code's normalization ``n * g``), ``X`` the processed profiles of
    ``train_cell_types`` (default: the compared cell types).

    Parameters
    ----------
    data : CMapData
    degrees : sequence of int >= 0
    cell_a, cell_b : str
    train_cell_types : sequence of str, optional

    Returns
    -------
    latents : dict
        ``'linear k=K'`` -> (latent signatures in cell a, in cell b).
    encoders : dict
        ``'linear k=K'`` -> encoder ``B`` (d, d).
    """
    from aligned_latents.theory.linear_ae import asymmetric_encoder

    X = data.training_profiles(train_cell_types)
    n, g = X.shape
    latents, encoders = {}, {}
    for k in degrees:
        k = check_degree(k, "degree")
        B = asymmetric_encoder(X, k, normalizer=n * g)
        name = f"linear k={k}"
        latents[name] = (latent_signatures(data, cell_a, lambda x, B=B: x @ B.T),
                         latent_signatures(data, cell_b, lambda x, B=B: x @ B.T))
        encoders[name] = B
    return latents, encoders


def stretch_factors(X, degrees, top: int = 5,
                    normalizer: float | None = None) -> pd.DataFrame:
    """Theorem 1's singular values ``b_inf`` of the encoder along the training data's
    top right singular vectors, per degree, and the ratio of the first two.

    Parameters
    ----------
    X : array-like (n, g)
    degrees : sequence of int
        ``B0 = (XᵀX/normalizer + I)^k`` with ``A0 = 0``.
    top : int >= 1
    normalizer : float, optional
        Default ``n g`` (the companion code's).

    Returns
    -------
    DataFrame
        One row per degree; ``attrs["eigenvalues"]`` holds ``λ_i / normalizer``.
    """
    from aligned_latents.theory.linear_ae import theorem1_final

    X = as_finite_array(X, "X", ndim=2)
    top = check_int(top, "top", minimum=1)
    n, g = X.shape
    normalizer = (float(n * g) if normalizer is None
                  else check_positive(normalizer, "normalizer"))
    s = np.linalg.svd(X, compute_uv=False)[:top]
    lam = s ** 2 / normalizer
    rows = []
    for k in degrees:
        k = check_degree(k, "degree")
        _, b = theorem1_final(np.zeros_like(lam), (lam + 1.0) ** k)
        rows.append({"degree": k, **{f"b_{i + 1}": float(v) for i, v in enumerate(b)},
                     "b_1 / b_2": float(b[0] / b[1]) if len(b) > 1 else float("nan")})
    out = pd.DataFrame(rows)
    out.attrs["eigenvalues"] = lam
    return out


def leaky_relu_latents(data: CMapData, hidden: int = 1024, lr: float = 1e-4,
                       batch_size: int = 128, max_epochs: int = 30, tol: float = 1e-4,
                       seed: int = 0, cell_a: str = "A549", cell_b: str = "MCF7",
                       train_cell_types=None, weights_dir=None, progress: bool = True):
    """Train the Leaky ReLU autoencoder of Appendix H on the processed profiles.

    Adam with learning rate ``lr`` and ``hidden`` units. The latent space is the first
    layer's pre-activation ``W x + c``; the bias cancels in a signature (a difference of
    means), so a latent signature is ``W s``. Weights are saved in ``weights_dir`` under
    a name hashing the data and the configuration (reloaded when present).

    Parameters
    ----------
    data : CMapData
    hidden, batch_size, max_epochs : int >= 1
    lr, tol : float
    seed : int
    cell_a, cell_b : str
    train_cell_types : sequence of str, optional
    weights_dir : str or Path, optional
    progress : bool

    Returns
    -------
    (latent signatures in cell a, in cell b), model, history
    """
    from aligned_latents.theory.nonlinear_ae import encode, fingerprint, train_autoencoder

    for name, value in (("hidden", hidden), ("batch_size", batch_size),
                        ("max_epochs", max_epochs)):
        check_int(value, name, minimum=1)
    X = data.training_profiles(train_cell_types).astype(np.float32)
    config = {"hidden": hidden, "optimizer": "adam", "lr": lr,
              "batch_size": batch_size, "max_epochs": max_epochs, "tol": tol,
              "seed": seed}
    path = None
    if weights_dir is not None:
        path = Path(weights_dir) / f"leakyrelu-{fingerprint(X, **config)}.safetensors"
    model, history = train_autoencoder(X, hidden, optimizer="adam", lr=lr,
                                       batch_size=batch_size, max_epochs=max_epochs,
                                       tol=tol, seed=seed, weights_path=path,
                                       progress=progress, desc="Leaky ReLU autoencoder")

    def f(x):
        return encode(model, x)
    sigs = (latent_signatures(data, cell_a, f), latent_signatures(data, cell_b, f))
    return sigs, model, history


def sweep_shared_on_top(values, base: SimulationConfig, degrees, cell_a: str = "A549",
                        cell_b: str = "MCF7", seed: int = 0) -> pd.DataFrame:
    """Rerun simulation -> .gctx -> signatures -> linear autoencoders for each
    ``shared_on_top`` value (only the two compared cell types are simulated).

    An experiment on the pipeline of this module, fed by
    :func:`aligned_latents.data.l1000_sim.write_simulated_l1000` and measured by
    :mod:`aligned_latents.metrics.drug_alignment`.

    Parameters
    ----------
    values : sequence of float in [0, 1]
    base : SimulationConfig
        Every other parameter of the simulation.
    degrees : sequence of int >= 0
    cell_a, cell_b : str
    seed : int
        Seed of k-means and of the mismatched pairs.

    Returns
    -------
    DataFrame
        One row per value and linear model: ``shared_on_top``, ``model``, ``n_drugs``,
        ``share_increased``, ``median_increase``, the median cosines, the mismatched
        pairs' median absolute cosines, ``share_negative_latent`` (drugs whose latent
        cosine is < 0) and ``share_negative_original``.
    """
    import dataclasses
    import tempfile

    out = []
    with tempfile.TemporaryDirectory(prefix="cmap-sweep-") as tmp:
        for f in values:
            cfg = dataclasses.replace(base, shared_on_top=float(f),
                                      cell_types=(cell_a, cell_b))
            paths = write_simulated_l1000(Path(tmp) / f"f{f}", cfg, compression=None)
            data = load_cmap(paths["gctx"], paths["inst_info"], paths["pert_info"],
                             paths["cell_info"], cell_types=(cell_a, cell_b), seed=seed,
                             verbose=False)
            latents, _ = linear_ae_latents(data, degrees, cell_a, cell_b)
            table, mism = alignment_tables(data, latents, cell_a, cell_b, seed)
            summ = figure4_summary(table, mism)[SWEEP_COLUMNS]
            summ.insert(0, "shared_on_top", float(f))
            out.append(summ)
    return pd.concat(out, ignore_index=True)
