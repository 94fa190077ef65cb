"""A real-data analogue of the CMap experiment: influenza vaccination signatures.

``fluVaccine.RData`` (Bioconductor/Debian package *qusage*, fetched into
``data/external/`` by ``scripts/fetch_fluvaccine.sh``, which checks its sha256) holds
blood expression (log2, 7,018 genes) of subjects on day 0 and day 7 after vaccination,
in two GEO cohorts, GSE59635 (8 subjects) and GSE59654 (11 subjects). Each subject's
day-7 minus day-0 difference is a "perturbation signature" of the same perturbation (the
vaccine) in a different individual; we ask how the linear autoencoder with asymmetric
spectral initialization changes the alignment of these signatures across subjects and
across cohorts, as Figure 4 asks it of drugs across cell types.

The R object is read without R by the ``rdata`` package: ``fluVaccine`` is a list with
``esets`` (cohort -> genes x samples matrix, samples named
``SUBJECT.d0``/``SUBJECT.d7``) and ``phenoData`` (cohort -> table with ``subjectId``,
``responder``, ``bloodDrawDay``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from aligned_latents.metrics.vectors import minmax_rows
from aligned_latents.theory.linear_ae import theorem1_final
from aligned_latents.util.model_names import model_label
from aligned_latents.util.paths import external_data_dir
from aligned_latents.util.validation import as_finite_array, check_degree, check_positive

FETCH_HINT = ("fluVaccine.RData is not in data/external/. Get it with `make data` "
              "(runs scripts/fetch_fluvaccine.sh: `apt-get download r-bioc-qusage`, "
              "`dpkg-deb -x` the .deb and copy data/fluVaccine.RData, checked against "
              "its sha256), or copy data/fluVaccine.RData from the Bioconductor "
              "package qusage into data/external/.")
#: sha256 of fluVaccine.RData in Debian's r-bioc-qusage 2.32.0-1 (bookworm), the value
#: scripts/fetch_fluvaccine.sh checks (keep the two equal).
SHA256 = "fdd80451d2c84c10701331fa0b78f9c2ae0e36399a38999f7988ea8f80440327"
VACCINE = "vaccine (d7 - d0)"
CONTROL = "baseline deviation (control)"


def default_path() -> Path:
    """``data/external/fluVaccine.RData``, where ``make data`` puts the file."""
    return external_data_dir() / "fluVaccine.RData"


@dataclass
class Cohort:
    """One GEO cohort of ``fluVaccine.RData``.

    Attributes
    ----------
    name : str
    expr : DataFrame
        Samples x genes (log2).
    pheno : DataFrame
        One row per sample: ``subjectId``, ``responder``, ``bloodDrawDay``.
    """

    name: str
    expr: pd.DataFrame
    pheno: pd.DataFrame


def load_fluvaccine(path=None) -> dict[str, Cohort]:
    """Read ``fluVaccine.RData``.

    Parameters
    ----------
    path : str or Path, optional
        Default :func:`default_path`.

    Returns
    -------
    dict
        Cohort name -> :class:`Cohort` (samples x genes).

    Raises
    ------
    ValueError
        Naming the file: missing (saying how to get it), unreadable (truncated or
        corrupt: delete it and run ``make data``), without the expected objects.
    """
    import warnings

    import rdata

    path = Path(path) if path is not None else default_path()
    if not path.is_file():
        raise ValueError(f"{path}: not found. {FETCH_HINT}")
    try:
        with warnings.catch_warnings():     # rdata warns before failing on non-RData
            warnings.simplefilter("ignore")
            obj = rdata.conversion.convert(rdata.parser.parse_file(str(path)))
    # rdata fails in many ways on a damaged file (ValueError, EOFError, OSError,
    # NotImplementedError, ...): each becomes one line naming the file.
    except Exception as exc:  # noqa: BLE001
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ValueError(f"{path}: cannot read this RData file, it is truncated or "
                         f"corrupt ({reason}); delete it and run `make data`") from None
    if "fluVaccine" not in obj:
        raise ValueError(f"{path}: no object 'fluVaccine' (found {list(obj)})")
    fv = obj["fluVaccine"]
    out = {}
    for name, arr in fv["esets"].items():
        name = str(name)
        genes = [str(g) for g in arr.coords[arr.dims[0]].values]
        samples = [str(s) for s in arr.coords[arr.dims[1]].values]
        expr = pd.DataFrame(np.asarray(arr.values, float).T, index=samples,
                            columns=genes)
        pheno = fv["phenoData"][name].copy()
        pheno.index = samples
        for col in ("subjectId", "bloodDrawDay"):
            if col not in pheno.columns:
                raise ValueError(f"{path}: phenoData of {name} lacks column {col!r}")
        pheno = pheno.astype({"subjectId": str, "bloodDrawDay": str})
        out[name] = Cohort(name, expr, pheno)
    return out


def vaccine_signatures(cohort: Cohort, processed: pd.DataFrame) -> pd.DataFrame:
    """Per subject: day-7 profile minus day-0 profile.

    Parameters
    ----------
    cohort : Cohort
    processed : DataFrame
        The cohort's processed profiles (samples x genes).

    Returns
    -------
    DataFrame
        Subjects x genes (subjects without both days are left out).
    """
    ph = cohort.pheno
    rows = {}
    for subj, g in ph.groupby("subjectId", sort=True):
        days = dict(zip(g["bloodDrawDay"], g.index, strict=True))
        if "d0" in days and "d7" in days:
            rows[subj] = (processed.loc[days["d7"]].to_numpy()
                          - processed.loc[days["d0"]].to_numpy())
    if not rows:
        raise ValueError(f"cohort {cohort.name}: no subject has both d0 and d7 samples")
    return pd.DataFrame(rows, index=processed.columns).T


def baseline_deviations(cohort: Cohort, processed: pd.DataFrame) -> pd.DataFrame:
    """Per subject: day-0 profile minus the cohort's mean day-0 profile.

    No vaccine in it: the control for how much encoding aligns *any* difference vectors.

    Returns
    -------
    DataFrame
        Subjects (sorted) x genes.
    """
    ph = cohort.pheno
    d0 = processed.loc[ph.index[ph["bloodDrawDay"] == "d0"]]
    dev = d0 - d0.mean(axis=0)
    dev.index = ph.loc[d0.index, "subjectId"].to_numpy()
    return dev.sort_index()


def apply_asymmetric_encoder(X, S, k: int, normalizer: float | None = None,
                             rank_tol: float = 1e-10) -> np.ndarray:
    """``S @ B`` for the encoder ``B`` of
    :func:`aligned_latents.theory.linear_ae.asymmetric_encoder`, without forming ``B``.

    With ``XᵀX = V diag(λ) Vᵀ`` from the thin SVD of ``X``,
    ``B = V diag(b_inf) Vᵀ + (I - V Vᵀ)`` (Theorem 1 with ``a0 = 0``,
    ``b0 = (λ/normalizer + 1)^k`` on the data's span; outside it ``B0 = I`` is kept), so
    ``S B = S + ((S V) (b_inf - 1)) Vᵀ``. Here d = 7,018 genes and n = 38 samples:
    ``asymmetric_encoder`` eigendecomposes the d x d matrix ``XᵀX`` (about 3 minutes per
    call on 2 cores, 8 calls in the chapter) and overflows for ``k = 30`` with
    ``normalizer = n`` (``b0`` near 1e80 is squared twice in :func:`theorem1_final`);
    this route takes 0.1 s and works with ``log b0``.

    Parameters
    ----------
    X : array-like (n, d)
        Training profiles.
    S : array-like (m, d)
        Rows to encode.
    k : int >= 0
    normalizer : float, optional
        Divides ``XᵀX``; default ``n`` (the same default as ``asymmetric_encoder``).
    rank_tol : float
        Directions with ``λ <= rank_tol * max λ`` are outside the data's span.

    Returns
    -------
    ndarray (m, d)
        ``S @ B``, divided by a positive scalar when the largest ``b_inf`` exceeds 1e100
        (every cosine unchanged).
    """
    X = as_finite_array(X, "X", ndim=2)
    S = as_finite_array(S, "S", ndim=2)
    k = check_degree(k)
    n, d = X.shape
    if S.shape[1] != d:
        raise ValueError(f"S must have {d} columns like X, got shape {S.shape}")
    normalizer = (float(n) if normalizer is None
                  else check_positive(normalizer, "normalizer"))
    _, s, vt = np.linalg.svd(X, full_matrices=False)
    lam = s ** 2
    keep = lam > rank_tol * max(lam.max(), np.finfo(float).tiny)
    vt, lam = vt[keep], lam[keep]
    # b0 = (λ/normalizer + 1)^k overflows float64 for large k (and theorem1_final
    # squares it twice), so work with log b0: where b0 > 1e30, b_inf = b0 (1 + O(b0^-4))
    # to double precision; the result is divided by the largest b_inf when that exceeds
    # 1e100, a positive scalar that leaves every cosine unchanged.
    log_b0 = k * np.log1p(lam / normalizer)
    small = log_b0 < np.log(1e30)
    log_b = log_b0.copy()
    _, b_small = theorem1_final(np.zeros(small.sum()), np.exp(log_b0[small]))
    log_b[small] = np.log(b_small)
    shift = max(0.0, log_b.max() - np.log(1e100)) if len(log_b) else 0.0
    b_scaled = np.exp(log_b - shift)
    return np.exp(-shift) * S + ((S @ vt.T) * (b_scaled - np.exp(-shift))) @ vt


def pairwise_cosines(A, B=None) -> np.ndarray:
    """Cosines of all pairs: within ``A`` (upper triangle, row-major) or between every
    row of ``A`` and every row of ``B`` (``A``-major).

    Returns
    -------
    ndarray (1-d)
    """
    A = as_finite_array(A, "A", ndim=2)
    An = A / np.linalg.norm(A, axis=1, keepdims=True)
    if B is None:
        C = An @ An.T
        return C[np.triu_indices(len(A), 1)]
    B = as_finite_array(B, "B", ndim=2)
    Bn = B / np.linalg.norm(B, axis=1, keepdims=True)
    return (An @ Bn.T).ravel()


def alignment_summary(cohorts: dict[str, Cohort], degrees,
                      normalizers=("n*g",)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cosines of vaccine signatures (and of baseline deviations, the control) within
    each cohort and across the two cohorts, in the original space and after the linear
    autoencoder of each degree and normalizer.

    The autoencoders train on all processed samples of both cohorts (per-profile min-max
    scaling; the data are already log2).

    Parameters
    ----------
    cohorts : dict
        From :func:`load_fluvaccine`; the cohorts must share their genes.
    degrees : sequence of int
    normalizers : sequence of {"n*g", "n"}
        Divisor of ``XᵀX``: ``"n*g"`` (the CMap companion code's) or ``"n"`` (Section
        5's ``(1/n) X Xᵀ``).

    Returns
    -------
    pairs : DataFrame
        One row per pair and space: ``kind, comparison, space, cosine``.
    summary : DataFrame
        Per (kind, comparison, space): ``n_pairs``, ``median_cos``, ``median_abs_cos``,
        ``share_positive``.
    """
    names = sorted(cohorts)
    genes = cohorts[names[0]].expr.columns
    for nm in names[1:]:
        if not cohorts[nm].expr.columns.equals(genes):
            raise ValueError("cohorts must share the same genes in the same order")
    degrees = [check_degree(k, "degree") for k in degrees]
    processed = {nm: pd.DataFrame(minmax_rows(cohorts[nm].expr.to_numpy()),
                                  index=cohorts[nm].expr.index, columns=genes)
                 for nm in names}
    X = np.concatenate([processed[nm].to_numpy() for nm in names])
    n, g = X.shape
    kinds = {VACCINE: vaccine_signatures, CONTROL: baseline_deviations}
    rows = []
    for kind, fn in kinds.items():
        sig = {nm: fn(cohorts[nm], processed[nm]) for nm in names}
        spaces = {"original": lambda S: S}
        for norm in normalizers:
            if norm not in ("n*g", "n"):
                raise ValueError(f"normalizer must be 'n*g' or 'n', got {norm!r}")
            value = float(n * g) if norm == "n*g" else float(n)
            for k in degrees:
                spaces[model_label("linear", k, "short", norm)] = (
                    lambda S, k=k, value=value:
                    apply_asymmetric_encoder(X, S, k, value))
        for space, f in spaces.items():
            enc = {nm: f(sig[nm].to_numpy()) for nm in names}
            comps = {f"within {nm}": pairwise_cosines(enc[nm]) for nm in names}
            if len(names) == 2:
                comps[f"across {names[0]} x {names[1]}"] = pairwise_cosines(
                    enc[names[0]], enc[names[1]])
            for comp, cos in comps.items():
                rows += [{"kind": kind, "comparison": comp, "space": space, "cosine": c}
                         for c in cos]
    pairs = pd.DataFrame(rows)
    summary = (pairs.groupby(["kind", "comparison", "space"], sort=False)["cosine"]
               .agg(n_pairs="size", median_cos="median",
                    median_abs_cos=lambda c: float(np.median(np.abs(c))),
                    share_positive=lambda c: float(np.mean(c > 0)))
               .reset_index())
    return pairs, summary
