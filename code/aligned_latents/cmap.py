"""Drug signatures across cell types from CMap / LINCS L1000 (paper Section 6.3, Figure 4).

The pipeline runs on GSE92742's own formats: a ``.gctx`` matrix (read with
:mod:`aligned_latents.gctx`) and the tab-separated ``inst_info``, ``pert_info`` and
``cell_info`` tables. It follows the companion code of Belyaeva et al. (2021), reference [5]
of the paper, with its steps made explicit:

1. select the profiles of the compared cell types: compound treatments (``pert_type`` =
   ``trt_cp``) and vehicle controls (``pert_iname`` = ``DMSO``);
2. ``log2(x + 1)``, then min-max scaling of each profile to [0, 1];
3. per cell type, split the DMSO controls in two by k-means and keep the larger cluster;
4. signature of a drug in a cell type = mean of its profiles - mean of the kept controls;
5. keep the drugs present in both cell types (optionally only those in a given list, e.g.
   FDA-approved drugs).

:func:`simulate_l1000` writes a simulated data set in the same formats (default run of the
book's chapter, since GSE92742 cannot be downloaded on the build machines).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .gctx import read_gctx, write_gctx
from .validation import as_finite_array, check_positive

INST_COLUMNS = ["inst_id", "pert_id", "pert_iname", "pert_type", "cell_id"]
PERT_COLUMNS = ["pert_id", "pert_iname", "pert_type"]
CELL_COLUMNS = ["cell_id"]
CONTROL_INAME = "DMSO"
DRUG_TYPE = "trt_cp"


# --------------------------------------------------------------------------------------------
# metadata tables
# --------------------------------------------------------------------------------------------
def read_table(path, required: list[str], name: str) -> pd.DataFrame:
    """Read a tab-separated metadata table (``.txt`` or ``.txt.gz``), checking its columns.

    A missing file or column raises a ``ValueError`` naming the table, the file and the
    missing column(s).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{name} table not found: {path}")
    df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"{name} table {path} lacks column(s) {missing}; it has "
                         f"{list(df.columns)}")
    return df


def load_metadata(inst_info, pert_info=None, cell_info=None) -> pd.DataFrame:
    """The profiles' metadata: ``inst_info`` checked against ``pert_info`` and ``cell_info``.

    Returns ``inst_info`` (one row per profile, index ``inst_id``). With ``pert_info`` given,
    every ``pert_id`` of ``inst_info`` must be listed there; with ``cell_info`` given, every
    ``cell_id`` likewise (GSE92742's tables satisfy both).
    """
    inst = read_table(inst_info, INST_COLUMNS, "inst_info")
    if inst["inst_id"].duplicated().any():
        raise ValueError(f"inst_info {inst_info}: inst_id values must be unique")
    for path, columns, name, key in ((pert_info, PERT_COLUMNS, "pert_info", "pert_id"),
                                     (cell_info, CELL_COLUMNS, "cell_info", "cell_id")):
        if path is None:
            continue
        table = read_table(path, columns, name)
        unknown = sorted(set(inst[key]) - set(table[key]))
        if unknown:
            raise ValueError(f"{len(unknown)} {key}(s) of inst_info are not in {name} "
                             f"{path}, e.g. {unknown[:5]}")
    return inst.set_index("inst_id", drop=False)


def read_drug_list(drugs) -> list[str] | None:
    """``None``, a list of ``pert_iname`` values, or a text file with one name per line."""
    if drugs is None:
        return None
    if isinstance(drugs, (str, Path)):
        path = Path(drugs)
        if not path.is_file():
            raise ValueError(f"drug list file not found: {path}")
        names = [line.strip() for line in path.read_text().splitlines()]
        return [n for n in names if n and not n.startswith("#")]
    return [str(d) for d in drugs]


def select_profiles(inst: pd.DataFrame, cell_types, control_iname: str = CONTROL_INAME,
                    drug_type: str = DRUG_TYPE, drugs=None) -> pd.DataFrame:
    """Rows of ``inst`` for the given cell types: drug treatments and vehicle controls.

    Adds a boolean column ``is_control``. Unknown cell types, or a cell type without
    controls, raise a ``ValueError``.
    """
    cell_types = [str(c) for c in cell_types]
    if len(cell_types) < 1:
        raise ValueError("give at least one cell type")
    known = set(inst["cell_id"])
    unknown = [c for c in cell_types if c not in known]
    if unknown:
        raise ValueError(f"unknown cell type(s) {unknown}; inst_info has {len(known)} cell "
                         f"types, e.g. {sorted(known)[:10]}")
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


# --------------------------------------------------------------------------------------------
# processing
# --------------------------------------------------------------------------------------------
def process_profiles(raw, log: bool = True) -> np.ndarray:
    """``log2(x + 1)`` (when ``log``), then min-max scaling of each profile (row) to [0, 1].

    The companion code's ``min_max_scale(vectors.T).T``: each profile is mapped to
    ``(x - min x) / (max x - min x)`` over its genes.
    """
    x = as_finite_array(raw, "raw profiles", ndim=2)
    if log:
        if np.any(x <= -1):
            raise ValueError("log2(x + 1) needs x > -1; the raw profiles contain values <= -1")
        x = np.log2(x + 1.0)
    lo = x.min(axis=1, keepdims=True)
    span = x.max(axis=1, keepdims=True) - lo
    if np.any(span == 0):
        raise ValueError(f"{int(np.sum(span == 0))} profile(s) are constant: min-max scaling "
                         "is undefined")
    return (x - lo) / span


def kmeans_controls(controls, seed: int = 0) -> np.ndarray:
    """Split control profiles in two with k-means; boolean mask of the larger cluster.

    Ties (equal sizes) keep the cluster of the first profile. At least 2 profiles needed.
    """
    from sklearn.cluster import KMeans

    x = as_finite_array(controls, "controls", ndim=2)
    if len(x) < 2:
        raise ValueError(f"k-means control selection needs at least 2 control profiles, got {len(x)}")
    labels = KMeans(n_clusters=2, n_init=10, random_state=seed).fit_predict(x)
    sizes = np.bincount(labels, minlength=2)
    keep = labels[0] if sizes[0] == sizes[1] else int(np.argmax(sizes))
    return labels == keep


def drug_signatures(profiles, drugs, control_mask) -> pd.DataFrame:
    """Signature of each drug: mean of its profiles minus the mean of the kept controls.

    Parameters
    ----------
    profiles : array (n, d)
        Profiles of one cell type (processed, or encoded: the same step runs in latent space).
    drugs : sequence of length n
        Drug name of each profile; ignored where it is a control.
    control_mask : bool array (n,)
        The kept controls (see :func:`kmeans_controls`).
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
    """One cell type after processing."""

    cell_id: str
    profiles: np.ndarray        # processed profiles (n, genes): drugs and all controls
    drugs: np.ndarray           # pert_iname per profile ('' for controls)
    is_control: np.ndarray      # bool per profile
    kept_control: np.ndarray    # bool per profile: control in the larger k-means cluster
    signatures: pd.DataFrame = field(default=None)  # drugs x genes


@dataclass
class CMapData:
    """Processed profiles and drug signatures of the compared cell types."""

    cells: dict                 # cell_id -> CellData
    common_drugs: list          # drugs present in every compared cell type (sorted)
    gene_ids: np.ndarray

    def training_profiles(self, cell_types=None) -> np.ndarray:
        """Processed profiles (drugs and all controls) of the given cell types, stacked."""
        cell_types = list(self.cells) if cell_types is None else list(cell_types)
        return np.concatenate([self.cells[c].profiles for c in cell_types])

    def signature_matrix(self, cell_id: str) -> np.ndarray:
        """Signatures of the common drugs in one cell type (rows in ``common_drugs`` order)."""
        return self.cells[cell_id].signatures.loc[self.common_drugs].to_numpy()


def load_cmap(gctx_path, inst_info, pert_info=None, cell_info=None, cell_types=("A549", "MCF7"),
              drugs=None, control_iname: str = CONTROL_INAME, drug_type: str = DRUG_TYPE,
              log: bool = True, seed: int = 0) -> CMapData:
    """The whole pipeline: metadata, selection, streaming read, processing, signatures.

    Only the selected profiles are read from the ``.gctx`` file. Drugs present in some but
    not all of ``cell_types`` are dropped from ``common_drugs`` (their profiles still serve
    as training data); an empty intersection raises a ``ValueError``.
    """
    inst = load_metadata(inst_info, pert_info, cell_info)
    sel = select_profiles(inst, cell_types, control_iname, drug_type, drugs)
    data = read_gctx(gctx_path, profile_ids=sel["inst_id"].tolist())
    processed = process_profiles(data.data, log=log)
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
        raise ValueError(f"no drug is present in all of the cell types {list(cell_types)}")
    return CMapData(cells, common, data.gene_ids)


def _signatures_of(cd: CellData, x: np.ndarray) -> pd.DataFrame:
    """Signatures from profiles ``x`` (processed or encoded) of one cell type."""
    use = ~cd.is_control | cd.kept_control
    ctl_mask = cd.kept_control[use]
    sig = drug_signatures(x[use], cd.drugs[use], ctl_mask)
    return sig.drop(index="", errors="ignore")


def latent_signatures(data: CMapData, cell_id: str, encode_fn) -> np.ndarray:
    """Signatures of the common drugs computed in a latent space.

    ``encode_fn`` maps processed profiles (n, d) to latent codes (n, h); the signature step
    (drug mean minus kept-control mean) is then run on the codes.
    """
    cd = data.cells[cell_id]
    z = np.asarray(encode_fn(cd.profiles), dtype=float)
    return _signatures_of(cd, z).loc[data.common_drugs].to_numpy()


# --------------------------------------------------------------------------------------------
# Figure 4
# --------------------------------------------------------------------------------------------
def rowwise_cosine(a, b) -> np.ndarray:
    """Cosine similarity of corresponding rows of ``a`` and ``b``."""
    a = as_finite_array(a, "a", ndim=2)
    b = as_finite_array(b, "b", ndim=2)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"a and b need the same number of rows, got {a.shape} and {b.shape}")
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    if np.any(na == 0) or np.any(nb == 0):
        raise ValueError("cosine similarity of a zero vector is undefined")
    return np.einsum("ij,ij->i", a, b) / (na * nb)


def mismatch_permutation(n: int, seed: int = 0) -> np.ndarray:
    """A seeded derangement of ``range(n)``: pairs each drug with a *different* drug."""
    if n < 2:
        raise ValueError("need at least 2 drugs to pair different drugs")
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    perm = np.empty(n, int)
    perm[order] = np.roll(order, 1)
    return perm


def figure4_table(drugs, sig_a, sig_b, latent: dict) -> pd.DataFrame:
    """Figure 4's points: per drug and model, the cosine across cell types of the original
    signatures (x) and of the latent signatures (y).

    ``latent`` maps model name -> (latent signatures in cell a, latent signatures in cell b).
    Columns: ``drug, model, cos_original, cos_latent``.
    """
    cos0 = rowwise_cosine(sig_a, sig_b)
    frames = [pd.DataFrame({"drug": list(drugs), "model": name, "cos_original": cos0,
                            "cos_latent": rowwise_cosine(za, zb)})
              for name, (za, zb) in latent.items()]
    return pd.concat(frames, ignore_index=True)


def figure4_summary(table: pd.DataFrame, mismatched: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per model: number of drugs, share whose alignment increased, median increase, medians.

    ``mismatched`` (same columns as ``table``, pairs of *different* drugs) adds the median
    absolute cosine of mismatched pairs before and after encoding (a specificity control).
    """
    rows = []
    for model, g in table.groupby("model", sort=False):
        diff = g["cos_latent"] - g["cos_original"]
        row = dict(model=model, n_drugs=len(g), share_increased=float((diff > 0).mean()),
                   median_increase=float(diff.median()),
                   median_cos_original=float(g["cos_original"].median()),
                   median_cos_latent=float(g["cos_latent"].median()))
        if mismatched is not None:
            m = mismatched[mismatched["model"] == model]
            row["mismatched_median_abs_cos_original"] = float(m["cos_original"].abs().median())
            row["mismatched_median_abs_cos_latent"] = float(m["cos_latent"].abs().median())
        rows.append(row)
    return pd.DataFrame(rows)


def lemma1_cosine(B, q1, q2) -> float:
    """Lemma 1: ``cos(B q1, B q2)`` from the SVD of ``B`` (singular values and right vectors)."""
    B = as_finite_array(B, "B", ndim=2)
    _, s, vt = np.linalg.svd(B, full_matrices=False)
    c1 = vt @ (np.asarray(q1, float) / np.linalg.norm(q1))
    c2 = vt @ (np.asarray(q2, float) / np.linalg.norm(q2))
    s2 = s ** 2
    return float(np.sum(s2 * c1 * c2) / np.sqrt(np.sum(s2 * c1 ** 2) * np.sum(s2 * c2 ** 2)))


# --------------------------------------------------------------------------------------------
# simulated L1000-like data
# --------------------------------------------------------------------------------------------
@dataclass
class SimulationConfig:
    """Parameters of the generative model of :func:`simulate_profiles` (log2 scale)."""

    n_genes: int = 978
    cell_types: tuple = ("A549", "MCF7", "PC3", "HA1E")
    n_drugs: int = 300
    replicates: int = 3
    n_controls: int = 120
    p_present: float = 0.9          # chance that a drug was profiled in a given cell type
    baseline_low: float = 4.0       # gene baselines ~ U(low, high) (log2 units)
    baseline_high: float = 12.0
    cell_sd: float = 0.5            # cell-type baseline deviation per gene
    shared_scale: float = 0.5       # per-gene RMS of the shared drug effect
    shared_on_top: float = 0.2      # fraction of the shared effect's energy on the broad program
    specific_scale: float = 0.5     # per-gene RMS of the cell-specific drug effect
    noise_sd: float = 0.3           # per-profile noise
    outlier_fraction: float = 0.3   # share of controls in the second (outlier) control cluster
    outlier_shift_sd: float = 1.0   # per-gene RMS of the outlier clusters' shift
    seed: int = 0

    def check(self):
        for name in ("shared_scale", "specific_scale", "noise_sd", "cell_sd", "outlier_shift_sd"):
            check_positive(getattr(self, name), name, allow_zero=True)
        for name in ("shared_on_top", "p_present", "outlier_fraction"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0 or isinstance(v, bool):
                raise ValueError(f"{name} must be in [0, 1], got {v!r}")
        for name in ("n_genes", "n_drugs", "replicates", "n_controls"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if self.n_controls < 4:
            raise ValueError("n_controls must be >= 4 (k-means splits the controls in two)")
        if self.n_genes < 20:
            raise ValueError("n_genes must be >= 20")
        if not self.baseline_low < self.baseline_high:
            raise ValueError("baseline_low must be < baseline_high")
        return self


def broad_program(baseline: np.ndarray) -> np.ndarray:
    """The shared 'broad' response direction (per-gene RMS 1): a uniform shift of the genes
    whose baseline lies between the 10th and 90th percentile, none on the extremes.

    Per-profile min-max scaling removes any shift that is affine in the baseline (including
    a shift of *all* genes); a shift of the mid-expressed genes only survives it and moves
    the profile along the processed data's top singular vector (the mean profile).
    """
    lo, hi = np.quantile(baseline, [0.1, 0.9])
    t = ((baseline > lo) & (baseline < hi)).astype(float)
    return t / np.sqrt(np.mean(t ** 2))


def simulate_profiles(cfg: SimulationConfig):
    """Draw raw (linear-scale) profiles and their metadata from the generative model.

    On the log2 scale, profile ``p`` of cell type ``c`` treated with drug ``j`` is

    ``z_p = mu_c + a_j (sqrt(f) t + sqrt(1 - f) w_j) + s_sp e_jc + eps_p``

    with gene baselines ``mu_c = mu_0 + eta_c`` (``mu_0 ~ U(low, high)``, ``eta_c ~ N(0,
    cell_sd²)``), the shared effect's size ``a_j = shared_scale * sign_j * |N(1, 0.25²)|`` (sign
    ±1 at random: drugs that raise or lower the broad program), the broad program ``t``
    (:func:`broad_program`), a drug-specific random direction ``w_j ~ N(0, I)``, the
    cell-specific effect ``e_jc ~ N(0, I)`` scaled by ``specific_scale`` and noise ``eps_p ~
    N(0, noise_sd²)``. ``f = shared_on_top``. DMSO controls have no drug term; a share
    ``outlier_fraction`` of them carries a fixed shift ``o_c ~ N(0, outlier_shift_sd²)`` (a
    second control cluster, which the k-means step must discard). Raw values are
    ``2^z - 1`` so that ``log2(x + 1)`` recovers ``z``.

    Returns ``(raw, inst, truth)``: raw profiles (n, genes), the ``inst_info`` rows and a dict
    of the true effects (for checks).
    """
    cfg.check()
    rng = np.random.default_rng(cfg.seed)
    g = cfg.n_genes
    mu0 = rng.uniform(cfg.baseline_low, cfg.baseline_high, g)
    t = broad_program(mu0)
    f = cfg.shared_on_top
    sign = rng.choice([-1.0, 1.0], cfg.n_drugs)
    a = cfg.shared_scale * sign * np.abs(rng.normal(1.0, 0.25, cfg.n_drugs))
    w = rng.standard_normal((cfg.n_drugs, g))
    shared = a[:, None] * (np.sqrt(f) * t[None, :] + np.sqrt(1.0 - f) * w)
    drug_names = [f"SIM-DRUG-{j:03d}" for j in range(cfg.n_drugs)]
    blocks, meta, specific, outlier_shifts = [], [], {}, {}
    for ci, cell in enumerate(cfg.cell_types):
        mu = mu0 + cfg.cell_sd * rng.standard_normal(g)
        present = rng.random(cfg.n_drugs) < cfg.p_present
        e = cfg.specific_scale * rng.standard_normal((cfg.n_drugs, g))
        specific[cell] = e
        shift = cfg.outlier_shift_sd * rng.standard_normal(g)
        outlier_shifts[cell] = shift
        n_out = int(round(cfg.outlier_fraction * cfg.n_controls))
        for i in range(cfg.n_controls):
            z = mu + cfg.noise_sd * rng.standard_normal(g) + (shift if i < n_out else 0.0)
            blocks.append(z)
            meta.append(dict(pert_id="DMSO", pert_iname="DMSO", pert_type="ctl_vehicle",
                             cell_id=cell, control_cluster="outlier" if i < n_out else "main"))
        for j in np.flatnonzero(present):
            for r in range(cfg.replicates):
                z = mu + shared[j] + e[j] + cfg.noise_sd * rng.standard_normal(g)
                blocks.append(z)
                meta.append(dict(pert_id=f"BRD-SIM{j:05d}", pert_iname=drug_names[j],
                                 pert_type="trt_cp", cell_id=cell, control_cluster=""))
    z = np.array(blocks)
    inst = pd.DataFrame(meta)
    # profile order as on a plate run: shuffled, so selection must use the metadata
    order = rng.permutation(len(inst))
    z, inst = z[order], inst.iloc[order].reset_index(drop=True)
    inst.insert(0, "inst_id", [f"SIM001_{i:06d}" for i in range(len(inst))])
    inst["rna_plate"] = [f"SIM001_P{i // 384:03d}" for i in range(len(inst))]
    inst["rna_well"] = [f"{chr(65 + (i % 384) // 24)}{(i % 24) + 1:02d}" for i in range(len(inst))]
    inst["pert_dose"] = np.where(inst["pert_type"] == "trt_cp", "10.0", "0.1")
    inst["pert_dose_unit"] = np.where(inst["pert_type"] == "trt_cp", "µM", "%")
    inst["pert_time"] = "24"
    inst["pert_time_unit"] = "h"
    raw = np.exp2(z) - 1.0
    truth = dict(baseline=mu0, broad=t, shared=shared, specific=specific,
                 outlier_shift=outlier_shifts, drug_names=drug_names)
    return raw, inst, truth


def write_simulated_l1000(out_dir, cfg: SimulationConfig, compression: str | None = "gzip") -> dict:
    """Simulate (:func:`simulate_profiles`) and write GSE92742-style files into ``out_dir``.

    Writes ``sim_level3.gctx`` (profiles x genes, float32) and tab-separated
    ``inst_info.txt``, ``pert_info.txt``, ``cell_info.txt``; returns their paths (keys
    ``gctx, inst_info, pert_info, cell_info``) and ``truth``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    raw, inst, truth = simulate_profiles(cfg)
    gene_ids = [str(10000 + i) for i in range(cfg.n_genes)]
    paths = dict(gctx=out / "sim_level3.gctx", inst_info=out / "inst_info.txt",
                 pert_info=out / "pert_info.txt", cell_info=out / "cell_info.txt")
    write_gctx(paths["gctx"], raw, inst["inst_id"], gene_ids, compression=compression,
               col_meta={"cell_id": inst["cell_id"].to_numpy(),
                         "pert_iname": inst["pert_iname"].to_numpy()},
               row_meta={"pr_gene_symbol": np.array([f"SIMG{i:04d}" for i in range(cfg.n_genes)]),
                         "pr_is_lm": np.ones(cfg.n_genes, dtype=np.int8)})
    cols = ["inst_id", "rna_plate", "rna_well", "pert_id", "pert_iname", "pert_type",
            "pert_dose", "pert_dose_unit", "pert_time", "pert_time_unit", "cell_id"]
    inst[cols].to_csv(paths["inst_info"], sep="\t", index=False)
    pert = inst[["pert_id", "pert_iname", "pert_type"]].drop_duplicates().sort_values("pert_id")
    pert["is_touchstone"] = "0"
    pert["inchi_key"] = "-666"      # GSE92742's placeholder for 'unknown'
    pert["canonical_smiles"] = "-666"
    pert.to_csv(paths["pert_info"], sep="\t", index=False)
    cell = pd.DataFrame({"cell_id": list(cfg.cell_types), "cell_type": "cell line",
                         "primary_site": "simulated", "sample_type": "tumor"})
    cell.to_csv(paths["cell_info"], sep="\t", index=False)
    return {**paths, "truth": truth, "inst": inst}


# --------------------------------------------------------------------------------------------
# models
# --------------------------------------------------------------------------------------------
def linear_ae_latents(data: CMapData, degrees, cell_a: str = "A549", cell_b: str = "MCF7",
                      train_cell_types=None) -> tuple[dict, dict]:
    """Latent signatures under linear autoencoders with asymmetric spectral initialization.

    For each degree ``k``, the encoder is Theorem 1's limit from ``A0 = 0``,
    ``B0 = (XᵀX/(n g) + I)^k`` (:func:`aligned_latents.linear_ae.asymmetric_encoder`, the
    companion code's normalization ``n * g``), ``X`` the processed profiles of
    ``train_cell_types`` (default: the compared cell types). Returns
    ``({'linear k=K': (latent sigs a, latent sigs b)}, {'linear k=K': B})``.
    """
    from .linear_ae import asymmetric_encoder

    X = data.training_profiles(train_cell_types)
    n, g = X.shape
    latents, encoders = {}, {}
    for k in degrees:
        B = asymmetric_encoder(X, int(k), normalizer=n * g)
        name = f"linear k={int(k)}"
        latents[name] = (latent_signatures(data, cell_a, lambda x: x @ B.T),
                         latent_signatures(data, cell_b, lambda x: x @ B.T))
        encoders[name] = B
    return latents, encoders


def alignment_tables(data: CMapData, latents: dict, cell_a: str = "A549", cell_b: str = "MCF7",
                     seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Figure 4's table (matched drugs) and the mismatched-drug control table."""
    sa, sb = data.signature_matrix(cell_a), data.signature_matrix(cell_b)
    table = figure4_table(data.common_drugs, sa, sb, latents)
    perm = mismatch_permutation(len(sa), seed)
    names = [f"{d}|{data.common_drugs[p]}" for d, p in zip(data.common_drugs, perm)]
    mism = figure4_table(names, sa, sb[perm], {m: (za, zb[perm]) for m, (za, zb) in latents.items()})
    return table, mism


def top_direction_shares(data: CMapData, cell_a: str = "A549", cell_b: str = "MCF7",
                         train_cell_types=None) -> pd.DataFrame:
    """Per drug, ``cos(s_a, v_1)`` and ``cos(s_b, v_1)`` for the training data's top right
    singular vector ``v_1``: the quantities Lemma 1 says decide the limit of high degree,
    ``cos(B s_a, B s_b) -> sign(cos(s_a, v_1) cos(s_b, v_1))`` once ``B`` stretches ``v_1``
    far more than every other direction."""
    X = data.training_profiles(train_cell_types)
    _, _, vt = np.linalg.svd(X, full_matrices=False)
    v1 = vt[0]
    sa, sb = data.signature_matrix(cell_a), data.signature_matrix(cell_b)
    ca = sa @ v1 / np.linalg.norm(sa, axis=1)
    cb = sb @ v1 / np.linalg.norm(sb, axis=1)
    return pd.DataFrame({"drug": data.common_drugs, "cos_a_v1": ca, "cos_b_v1": cb,
                         "predicted_limit": np.sign(ca * cb)})


def stretch_factors(X, degrees, top: int = 5, normalizer: float | None = None) -> pd.DataFrame:
    """Theorem 1's singular values ``b_inf`` of the encoder along the training data's top
    ``top`` right singular vectors, per degree (``A0 = 0``, ``B0 = (XᵀX/normalizer + I)^k``,
    default normalizer ``n g``), and the ratio to the second one."""
    from .linear_ae import theorem1_final

    X = as_finite_array(X, "X", ndim=2)
    n, g = X.shape
    normalizer = float(n * g) if normalizer is None else check_positive(normalizer, "normalizer")
    s = np.linalg.svd(X, compute_uv=False)[:top]
    lam = s ** 2 / normalizer
    rows = []
    for k in degrees:
        _, b = theorem1_final(np.zeros_like(lam), (lam + 1.0) ** int(k))
        rows.append({"degree": int(k), **{f"b_{i + 1}": float(v) for i, v in enumerate(b)},
                     "b_1 / b_2": float(b[0] / b[1]) if len(b) > 1 else float("nan")})
    out = pd.DataFrame(rows)
    out.attrs["eigenvalues"] = lam
    return out


def leaky_relu_latents(data: CMapData, hidden: int = 1024, lr: float = 1e-4, batch_size: int = 128,
                       max_epochs: int = 30, tol: float = 1e-4, seed: int = 0,
                       cell_a: str = "A549", cell_b: str = "MCF7", train_cell_types=None,
                       weights_dir=None, progress: bool = True):
    """Train the Leaky ReLU autoencoder of Appendix H (Adam, ``lr``, ``hidden`` units) on the
    processed profiles and return ``(latent sigs a, latent sigs b), model, history``.

    The latent space is the first layer's pre-activation ``W x + c``; the bias cancels in
    a signature (a difference of means), so a latent signature is ``W s``. Weights are saved
    in ``weights_dir`` under a name hashing the data and the configuration (reloaded when
    present).
    """
    from .nonlinear_ae import encode, fingerprint, train_autoencoder

    X = data.training_profiles(train_cell_types).astype(np.float32)
    config = dict(hidden=hidden, optimizer="adam", lr=lr, batch_size=batch_size,
                  max_epochs=max_epochs, tol=tol, seed=seed)
    path = None
    if weights_dir is not None:
        path = Path(weights_dir) / f"leakyrelu-{fingerprint(X, **config)}.safetensors"
    model, history = train_autoencoder(X, hidden, optimizer="adam", lr=lr, batch_size=batch_size,
                                       max_epochs=max_epochs, tol=tol, seed=seed,
                                       weights_path=path, progress=progress,
                                       desc="Leaky ReLU autoencoder")
    def f(x):
        return encode(model, x)
    return (latent_signatures(data, cell_a, f), latent_signatures(data, cell_b, f)), model, history


def sweep_shared_on_top(values, base: SimulationConfig, degrees, cell_a: str = "A549",
                        cell_b: str = "MCF7", seed: int = 0) -> pd.DataFrame:
    """Rerun the simulation -> .gctx -> signatures -> linear autoencoder pipeline for each
    ``shared_on_top`` value (only the two compared cell types are simulated) and summarize.

    Adds to :func:`figure4_summary`'s columns ``shared_on_top``, ``share_negative_latent``
    (drugs whose latent cosine is < 0) and ``share_negative_original``.
    """
    import dataclasses
    import tempfile

    out = []
    with tempfile.TemporaryDirectory(prefix="cmap-sweep-") as tmp:
        for f in values:
            cfg = dataclasses.replace(base, shared_on_top=float(f), cell_types=(cell_a, cell_b))
            paths = write_simulated_l1000(Path(tmp) / f"f{f}", cfg, compression=None)
            data = load_cmap(paths["gctx"], paths["inst_info"], paths["pert_info"],
                             paths["cell_info"], cell_types=(cell_a, cell_b), seed=seed)
            latents, _ = linear_ae_latents(data, degrees, cell_a, cell_b)
            table, mism = alignment_tables(data, latents, cell_a, cell_b, seed)
            summ = figure4_summary(table, mism)
            neg = table.groupby("model", sort=False).apply(
                lambda g: pd.Series({"share_negative_latent": float((g["cos_latent"] < 0).mean()),
                                     "share_negative_original": float((g["cos_original"] < 0).mean())}),
                include_groups=False).reset_index()
            summ = summ.merge(neg, on="model")
            summ.insert(0, "shared_on_top", float(f))
            out.append(summ)
    return pd.concat(out, ignore_index=True)
