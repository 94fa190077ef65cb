"""Figure 4's alignment measures and the numbers behind the checks of Section 6.3.

Figure 4 of the paper plots, for each drug, the cosine similarity of its signatures in
two cell types in the original space (x) against the same cosine in an autoencoder's latent
space (y); points above the diagonal are drugs whose signatures became more aligned.
Section 6.3 says that linear autoencoders with the asymmetric spectral initialization
align more than the Leaky ReLU autoencoder of its reference [5], and that at degree 30
"all drug signatures [are] nearly perfectly aligned". This module computes those
quantities from signatures
(:mod:`aligned_latents.applications.cmap` loads and processes the data and
builds the encoders), the control of pairs of *different* drugs, Lemma 1's high-degree
limit, and the same measures on the fluVaccine analogue
(:mod:`aligned_latents.applications.fluvaccine`).

It also says which kind of evidence a check is (:func:`evidence_for`): the book's
simulated L1000 data set is ``designed-data``; a real ``.gctx`` file is recorded as
``substitute-data`` (the evidence kinds of :mod:`aligned_latents.record.claims` have no entry
for the paper's own data set; the page says so).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from aligned_latents.data.cmap_tables import load_metadata, select_profiles
from aligned_latents.metrics.vectors import rowwise_cosine
from aligned_latents.theory.closed_forms import lemma1_cosine, lemma1_svd
from aligned_latents.util.model_names import linear_degree, model_label
from aligned_latents.util.validation import as_finite_array

#: A cosine at least this large counts as "nearly perfectly aligned" (Section 6.3).
NEARLY_ALIGNED = 0.9
#: Landmark genes of L1000 (GSE92742's ``gene_info``, ``pr_is_lm = 1``).
L1000_LANDMARK_GENES = 978


# -- evidence ------------------------------------------------------------
def evidence_for(simulated: bool) -> str:
    """The evidence kind of a check on the chapter's CMap data.

    ``designed-data`` for the book's simulated L1000 data set (it illustrates the
    mechanism and is no evidence for the paper's empirical claim); ``substitute-data``
    for a real ``.gctx`` file. For GSE92742, the paper's own data set, no kind of
    :data:`aligned_latents.record.claims.EVIDENCE` fits; ``substitute-data``, the kind for real
    data, is the closest, and :func:`data_description` says which data it is.
    """
    return "designed-data" if simulated else "substitute-data"


def data_description(simulated: bool) -> str:
    """One phrase naming the data a check ran on (the ``detail`` of its row)."""
    if simulated:
        return "simulated L1000-like data designed by this book"
    return ("real L1000 data given as gctx_path (for GSE92742: the paper's own data "
            "set, recorded as substitute-data since no evidence kind names it)")


# -- the processing (simulated data: the truth is known) --------------------
def kmeans_agreement(data, inst_info, truth, drugs=None) -> pd.DataFrame:
    """Per cell type, whether the DMSO controls kept by the k-means step of
    :func:`aligned_latents.applications.cmap_signatures.load_cmap` are the simulation's
    main control cluster.

    ``data`` is the loaded :class:`~aligned_latents.applications.cmap_signatures.CMapData`,
    ``inst_info`` the table it was loaded from and ``truth`` maps ``inst_id`` to the simulated
    ``control_cluster`` (``"main"`` or not). Columns ``cell type, controls, agree``.
    """
    inst = load_metadata(inst_info)
    truth = pd.Series(truth)
    rows = []
    for c, cd in data.cells.items():
        sel = select_profiles(inst, [c], drugs=drugs)
        ids = sel.index[sel["is_control"].to_numpy()]
        main = truth.reindex(ids).to_numpy() == "main"
        kept = cd.kept_control[cd.is_control]
        if len(kept) != len(main):
            raise ValueError(f"{c}: {len(kept)} controls loaded but {len(main)} "
                             "selected")
        rows.append({"cell type": c, "controls": len(main),
                     "agree": int((kept == main).sum())})
    return pd.DataFrame(rows)


# -- Figure 4 ------------------------------------------------------------
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
    """Figure 4's points: per drug and model, the cosine across the two cell types of the
    original signatures (x) and of the latent signatures (y).

    ``latent`` maps a model name to (latent signatures in cell a, in cell b), rows in the
    order of ``drugs``. Columns: ``drug, model, cos_original, cos_latent``.
    """
    drugs = list(drugs)
    sig_a = as_finite_array(sig_a, "sig_a", ndim=2)
    if len(drugs) != len(sig_a):
        raise ValueError(f"{len(drugs)} drugs but {len(sig_a)} signatures")
    cos0 = rowwise_cosine(sig_a, sig_b)
    frames = [pd.DataFrame({"drug": drugs, "model": name, "cos_original": cos0,
                            "cos_latent": rowwise_cosine(za, zb)})
              for name, (za, zb) in latent.items()]
    if not frames:
        raise ValueError("latent must name at least one model")
    return pd.concat(frames, ignore_index=True)


def alignment_tables(data, latents: dict, cell_a: str, cell_b: str,
                     seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Figure 4's table (each drug with itself) and the control table (each drug's
    signature in ``cell_a`` with a *different* drug's in ``cell_b``, a seeded
    derangement); ``data`` is a :class:`aligned_latents.applications.cmap.CMapData`."""
    sa, sb = data.signature_matrix(cell_a), data.signature_matrix(cell_b)
    drugs = list(data.common_drugs)
    table = figure4_table(drugs, sa, sb, latents)
    perm = mismatch_permutation(len(sa), seed)
    names = [f"{d}|{drugs[p]}" for d, p in zip(drugs, perm)]
    mism = figure4_table(names, sa, sb[perm],
                         {m: (za, zb[perm]) for m, (za, zb) in latents.items()})
    return table, mism


def figure4_summary(table: pd.DataFrame, mismatched: pd.DataFrame | None = None,
                    threshold: float = NEARLY_ALIGNED) -> pd.DataFrame:
    """Per model (in the table's order): the numbers Section 6.3's sentences are about.

    ``share_increased`` (points above the diagonal), ``median_increase`` (median over
    drugs of cos latent - cos original), the medians of both cosines,
    ``share_nearly_aligned`` (latent cosine >= ``threshold``) and the shares of negative
    cosines. ``mismatched`` (pairs of different drugs, same columns as ``table``) adds
    the median absolute cosine of those pairs before and after encoding.
    """
    rows = []
    for model, g in table.groupby("model", sort=False):
        diff = g["cos_latent"] - g["cos_original"]
        row = {"model": model, "n_drugs": len(g),
                   "share_increased": float((diff > 0).mean()),
                   "median_increase": float(diff.median()),
                   "median_cos_original": float(g["cos_original"].median()),
                   "median_cos_latent": float(g["cos_latent"].median()),
                   "share_nearly_aligned": float((g["cos_latent"] >= threshold).mean()),
                   "share_negative_original": float((g["cos_original"] < 0).mean()),
                   "share_negative_latent": float((g["cos_latent"] < 0).mean())}
        if mismatched is not None:
            m = mismatched[mismatched["model"] == model]
            if m.empty:
                raise ValueError(f"the mismatched table has no rows of model {model!r}")
            row["mismatched_median_abs_cos_original"] = float(
                m["cos_original"].abs().median())
            row["mismatched_median_abs_cos_latent"] = float(
                m["cos_latent"].abs().median())
        rows.append(row)
    return pd.DataFrame(rows)


def linear_vs_leaky(summary: pd.DataFrame, leaky: str = "Leaky ReLU") -> pd.Series:
    """Per linear model: its median latent cosine minus the Leaky ReLU autoencoder's
    (Figure 4: "linear autoencoders can lead to greater alignment")."""
    s = summary.set_index("model")["median_cos_latent"]
    if leaky not in s.index:
        raise ValueError(f"the summary has no model {leaky!r}")
    lin = [m for m in s.index if linear_degree(m) is not None]
    if not lin:
        raise ValueError("the summary has no linear model ('linear k=K')")
    return (s[lin] - s[leaky]).rename("median_cos_minus_leaky")


#: The columns of ``results/cmap/leaky_relu_seeds.csv`` (:func:`leaky_seed_table`).
SEED_COLUMNS = ["seed", "model", "n_drugs", "share_increased", "median_increase",
                "median_cos_latent", "share_nearly_aligned", "share_negative_latent",
                "mismatched_median_abs_cos_latent", "best_linear",
                "best_linear_minus_leaky"]


def leaky_seed_table(data, leaky_by_seed: dict, linear_summary: pd.DataFrame,
                     cell_a: str, cell_b: str, pair_seed: int = 0,
                     leaky: str = "Leaky ReLU") -> pd.DataFrame:
    """Figure 4's numbers of the Leaky ReLU autoencoder, one row per initialization seed.

    ``leaky_by_seed`` maps a network seed to its (latent signatures in ``cell_a``, in
    ``cell_b``); ``linear_summary`` is :func:`figure4_summary` of the linear models (they
    do not depend on a seed). Each row has the seed, the Leaky ReLU row of
    :func:`figure4_summary` (the control pairs drawn with ``pair_seed``, the same for every
    network) and the gap of the best linear model in median latent cosine
    (:func:`linear_vs_leaky`, the sentence "linear autoencoders can lead to greater
    alignment"). Columns :data:`SEED_COLUMNS`.
    """
    if not leaky_by_seed:
        raise ValueError("leaky_by_seed must hold at least one seed")
    lin = linear_summary[linear_summary["model"] != leaky]
    rows = []
    for s, sigs in leaky_by_seed.items():
        table, mism = alignment_tables(data, {leaky: sigs}, cell_a, cell_b, pair_seed)
        summ = figure4_summary(table, mism)
        gaps = linear_vs_leaky(pd.concat([summ, lin], ignore_index=True), leaky)
        row = summ.iloc[0].to_dict()
        rows.append({**row, "seed": int(s), "best_linear": gaps.idxmax(),
                     "best_linear_minus_leaky": float(gaps.max())})
    return pd.DataFrame(rows)[SEED_COLUMNS]


# -- Lemma 1 at high degree ----------------------------------------------
def lemma1_sign_limit(X, sig_a, sig_b) -> pd.DataFrame:
    """Lemma 1's limit when one direction dominates the encoder's spectrum.

    ``v_1`` is the top right singular vector of the training profiles ``X`` (the
    encoder's top right singular vector: it is a polynomial of ``XᵀX``). When ``σ_1`` is
    far larger than every other ``σ_i``, Lemma 1 gives ``cos(B s_a, B s_b) ->
    sign(cos(s_a, v_1) cos(s_b, v_1))``. Columns ``cos_a_v1, cos_b_v1,
    predicted_limit`` (one row per signature pair; the sign of ``v_1`` cancels).
    """
    X = as_finite_array(X, "X", ndim=2)
    sig_a = as_finite_array(sig_a, "sig_a", ndim=2)
    sig_b = as_finite_array(sig_b, "sig_b", ndim=2)
    v1 = np.linalg.eigh(X.T @ X)[1][:, -1]     # top eigenvector of XᵀX
    ca = rowwise_cosine(sig_a, np.broadcast_to(v1, sig_a.shape))
    cb = rowwise_cosine(sig_b, np.broadcast_to(v1, sig_b.shape))
    return pd.DataFrame({"cos_a_v1": ca, "cos_b_v1": cb,
                         "predicted_limit": np.sign(ca * cb)})


def lemma1_max_error(B, sig_a, sig_b, direct, rows) -> float:
    """max over ``rows`` of |Lemma 1's formula for ``cos(B a_i, B b_i)`` - ``direct[i]``|.

    ``direct`` are the same cosines computed another way (the chapter: the signature
    step run on the encoded profiles); the formula is
    :func:`aligned_latents.theory.closed_forms.lemma1_cosine` (the SVD of ``B``).
    """
    rows = list(rows)
    if not rows:
        raise ValueError("rows must name at least one signature pair")
    direct = np.asarray(direct, float)
    svd = lemma1_svd(B)                     # one SVD for every pair
    return float(max(abs(lemma1_cosine(B, sig_a[i], sig_b[i], svd=svd) - direct[i])
                     for i in rows))


# -- fluVaccine ----------------------------------------------------------
VACCINE = "vaccine (d7 - d0)"
CONTROL = "baseline deviation (control)"


def flu_space(k: int, normalizer: str) -> str:
    """The name :func:`aligned_latents.applications.fluvaccine.alignment_summary` gives a latent
    space."""
    return model_label("linear", int(k), "short", normalizer)


def flu_pair_table(pairs: pd.DataFrame, kind: str = VACCINE) -> pd.DataFrame:
    """Figure 4's layout for the fluVaccine signatures: one row per pair of subjects and
    latent space, with the pair's cosine in the original space and in that latent space.

    ``pairs`` is the first output of
    :func:`aligned_latents.applications.fluvaccine.alignment_summary`
    (rows of one (kind, comparison) in the same pair order in every space). Columns
    ``comparison, pair, space, cos_original, cos_latent``.
    """
    p = pairs[pairs["kind"] == kind].copy()
    if p.empty:
        raise ValueError(f"no pairs of kind {kind!r}")
    p["pair"] = p.groupby(["comparison", "space"], sort=False).cumcount()
    orig = p[p["space"] == "original"].set_index(["comparison", "pair"])["cosine"]
    lat = p[p["space"] != "original"]
    out = lat.assign(cos_original=orig.reindex(
        pd.MultiIndex.from_frame(lat[["comparison", "pair"]])).to_numpy())
    out = out.rename(columns={"cosine": "cos_latent"})
    return out[["comparison", "pair", "space", "cos_original", "cos_latent"]].reset_index(
        drop=True)


def share_nearly_aligned(cos, threshold: float = NEARLY_ALIGNED) -> float:
    """Share of cosines >= ``threshold`` (Section 6.3's "nearly perfectly aligned")."""
    cos = as_finite_array(cos, "cos", ndim=1)
    if cos.size == 0:
        raise ValueError("no cosines")
    return float(np.mean(cos >= threshold))


def flu_median_table(summary: pd.DataFrame, kind: str = VACCINE,
                     column: str = "median_cos") -> pd.DataFrame:
    """The fluVaccine summary of one kind, narrow: one row per space, one column per
    comparison (``within ...``, ``across ...``), values ``column``."""
    s = summary[summary["kind"] == kind]
    if s.empty:
        raise ValueError(f"no rows of kind {kind!r}")
    t = s.pivot(index="space", columns="comparison", values=column)
    return t.loc[list(dict.fromkeys(s["space"])), list(dict.fromkeys(s["comparison"]))]
