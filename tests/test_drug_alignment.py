"""Figure 4's alignment measures and the numbers behind Section 6.3's checks
(aligned_latents.metrics.drug_alignment)."""
import numpy as np
import pandas as pd
import pytest

from aligned_latents.metrics import drug_alignment as da
from aligned_latents.record.claims import EVIDENCE
from aligned_latents.util.model_names import parse_model


def test_evidence_follows_the_data_source():
    assert da.evidence_for(True) == "designed-data"
    assert da.evidence_for(False) == "substitute-data"
    assert {da.evidence_for(True), da.evidence_for(False)} <= set(EVIDENCE)
    assert "simulated" in da.data_description(True)
    assert "paper's own data" in da.data_description(False)


def test_flu_space_names_parse_back():
    assert da.flu_space(3, "n") == "linear k=3, XᵀX/(n)"
    assert parse_model(da.flu_space(3, "n*g")) == ("linear", 3, "n*g")


def test_mismatch_permutation_is_a_seeded_derangement():
    for n in (2, 3, 17):
        p = da.mismatch_permutation(n, seed=4)
        assert sorted(p) == list(range(n))
        assert np.all(p != np.arange(n))
        assert np.array_equal(p, da.mismatch_permutation(n, seed=4))
    with pytest.raises(ValueError, match="at least 2"):
        da.mismatch_permutation(1)


def test_figure4_table_known_cosines():
    sa = np.array([[1.0, 0.0], [1.0, 1.0]])
    sb = np.array([[0.0, 1.0], [1.0, 1.0]])
    latent = {"m": (np.array([[1.0, 0.0], [1.0, 0.0]]),
                    np.array([[1.0, 0.0], [-1.0, 0.0]]))}
    t = da.figure4_table(["x", "y"], sa, sb, latent)
    assert list(t.columns) == ["drug", "model", "cos_original", "cos_latent"]
    assert np.allclose(t["cos_original"], [0.0, 1.0])
    assert np.allclose(t["cos_latent"], [1.0, -1.0])
    with pytest.raises(ValueError, match="2 drugs but 1"):
        da.figure4_table(["x", "y"], sa[:1], sb[:1], latent)
    with pytest.raises(ValueError, match="zero vector"):
        da.figure4_table(["x", "y"], np.zeros((2, 2)), sb, latent)
    with pytest.raises(ValueError, match="at least one model"):
        da.figure4_table(["x", "y"], sa, sb, {})


def test_figure4_summary_known_values():
    table = pd.DataFrame({"drug": list("abcd") * 2,
                          "model": ["A"] * 4 + ["B"] * 4,
                          "cos_original": [0.1, 0.2, 0.3, -0.4] * 2,
                          "cos_latent": [0.95, 0.1, 0.9, -0.99, 0.2, 0.3, 0.4, 0.5]})
    mism = table.assign(cos_original=[0.1, -0.3, 0.5, 0.0] * 2,
                        cos_latent=[-0.9, 0.8, 0.2, 1.0, 0.0, 0.1, 0.2, 0.3])
    s = da.figure4_summary(table, mism).set_index("model")
    assert list(s.index) == ["A", "B"]
    assert s.loc["A", "share_increased"] == 0.5          # a and c rise, b and d fall
    gains = [0.85, -0.1, 0.6, -0.59]
    assert s.loc["A", "median_increase"] == pytest.approx(np.median(gains))
    assert s.loc["A", "share_nearly_aligned"] == 0.5    # 0.95 and 0.9 (>= 0.9 counts)
    assert s.loc["A", "share_negative_latent"] == 0.25
    assert s.loc["A", "share_negative_original"] == 0.25
    assert s.loc["B", "share_increased"] == 1.0
    assert s.loc["A", "mismatched_median_abs_cos_latent"] == pytest.approx(0.85)
    assert s.loc["A", "mismatched_median_abs_cos_original"] == pytest.approx(0.2)
    assert "mismatched_median_abs_cos_latent" not in da.figure4_summary(table).columns
    with pytest.raises(ValueError, match="no rows of model 'B'"):
        da.figure4_summary(table, mism[mism.model == "A"])


class _FakeData:
    def __init__(self, sa, sb):
        self.common_drugs = [f"d{i}" for i in range(len(sa))]
        self._s = {"A": sa, "B": sb}

    def signature_matrix(self, cell):
        return self._s[cell]


def test_alignment_tables_pairs_each_drug_with_another():
    rng = np.random.default_rng(0)
    sa, sb = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    B = rng.normal(size=(3, 4))
    latents = {"lin": (sa @ B.T, sb @ B.T)}
    table, mism = da.alignment_tables(_FakeData(sa, sb), latents, "A", "B", seed=1)
    perm = da.mismatch_permutation(6, 1)
    assert list(table["drug"]) == [f"d{i}" for i in range(6)]
    assert list(mism["drug"]) == [f"d{i}|d{p}" for i, p in enumerate(perm)]
    a, b = sa[2], sb[perm[2]]
    assert mism["cos_original"].iloc[2] == pytest.approx(a @ b / np.linalg.norm(a)
                                                         / np.linalg.norm(b))
    za, zb = B @ a, B @ b
    assert mism["cos_latent"].iloc[2] == pytest.approx(za @ zb / np.linalg.norm(za)
                                                       / np.linalg.norm(zb))


def test_linear_vs_leaky():
    summary = pd.DataFrame({"model": ["Leaky ReLU", "linear k=2", "linear k=9"],
                            "median_cos_latent": [0.5, 0.4, 0.8]})
    gaps = da.linear_vs_leaky(summary)
    assert gaps.to_dict() == pytest.approx({"linear k=2": -0.1, "linear k=9": 0.3})
    with pytest.raises(ValueError, match="no model 'other'"):
        da.linear_vs_leaky(summary, "other")
    with pytest.raises(ValueError, match="no linear model"):
        da.linear_vs_leaky(summary.iloc[:1])


def test_lemma1_sign_limit_predicts_the_high_degree_cosine():
    """A data set with one dominant direction: at a high degree the cosine of B s_a and
    B s_b is the sign of cos(s_a, v1) cos(s_b, v1) (Lemma 1's limit), whatever the
    original cosine."""
    from aligned_latents.metrics.vectors import rowwise_cosine
    from aligned_latents.theory.linear_ae import asymmetric_encoder

    rng = np.random.default_rng(3)
    d = 6
    v = np.ones(d) / np.sqrt(d)
    X = 3.0 * rng.normal(size=(200, 1)) * v + 0.1 * rng.normal(size=(200, d))
    sa, sb = rng.normal(size=(40, d)), rng.normal(size=(40, d))
    lim = da.lemma1_sign_limit(X, sa, sb)
    assert list(lim.columns) == ["cos_a_v1", "cos_b_v1", "predicted_limit"]
    assert np.allclose(np.abs(lim["cos_a_v1"]), np.abs(sa @ v) / np.linalg.norm(sa, axis=1),
                       atol=0.05)
    B = asymmetric_encoder(X, 40, normalizer=len(X))
    cos = rowwise_cosine(sa @ B.T, sb @ B.T)
    assert np.all(np.sign(cos) == lim["predicted_limit"])
    assert np.all(np.abs(cos) > 0.99)


def test_lemma1_max_error_detects_a_wrong_direct_cosine():
    from aligned_latents.metrics.vectors import rowwise_cosine

    rng = np.random.default_rng(1)
    B = rng.normal(size=(5, 5))
    sa, sb = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    direct = rowwise_cosine(sa @ B.T, sb @ B.T)
    assert da.lemma1_max_error(B, sa, sb, direct, range(4)) < 1e-12
    wrong = direct.copy()
    wrong[2] += 0.01
    assert da.lemma1_max_error(B, sa, sb, wrong, range(4)) == pytest.approx(0.01, rel=1e-6)
    assert da.lemma1_max_error(B, sa, sb, wrong, [0, 1]) < 1e-12
    with pytest.raises(ValueError, match="at least one"):
        da.lemma1_max_error(B, sa, sb, direct, [])


def _flu_pairs():
    rows = []
    for kind in (da.VACCINE, da.CONTROL):
        for space, shift in (("original", 0.0), (da.flu_space(3, "n*g"), 0.1),
                             (da.flu_space(3, "n"), 0.5)):
            for comp, cos in (("within X", [0.1, 0.2]),
                              ("across X x Y", [-0.3, 0.0, 0.4])):
                rows += [{"kind": kind, "comparison": comp, "space": space,
                          "cosine": c + shift} for c in cos]
    return pd.DataFrame(rows)


def test_flu_pair_table_matches_pairs_across_spaces():
    t = da.flu_pair_table(_flu_pairs())
    assert list(t.columns) == ["comparison", "pair", "space", "cos_original", "cos_latent"]
    assert len(t) == 2 * 5
    assert set(t["space"]) == {"linear k=3, XᵀX/(n*g)", "linear k=3, XᵀX/(n)"}
    n = t[t.space == da.flu_space(3, "n")]
    assert np.allclose(n["cos_latent"] - n["cos_original"], 0.5)
    acr = n[n.comparison == "across X x Y"]
    assert np.allclose(acr["cos_original"], [-0.3, 0.0, 0.4])
    with pytest.raises(ValueError, match="no pairs of kind"):
        da.flu_pair_table(_flu_pairs(), kind="other")


def test_share_nearly_aligned_and_flu_median_table():
    assert da.share_nearly_aligned([0.95, 0.9, 0.89, -1.0]) == 0.5
    with pytest.raises(ValueError, match="no cosines"):
        da.share_nearly_aligned([])
    pairs = _flu_pairs()
    summary = (pairs.groupby(["kind", "comparison", "space"], sort=False)["cosine"]
               .agg(median_cos="median").reset_index())
    t = da.flu_median_table(summary)
    assert list(t.columns) == ["within X", "across X x Y"]
    assert list(t.index) == ["original", "linear k=3, XᵀX/(n*g)", "linear k=3, XᵀX/(n)"]
    assert t.loc["original", "within X"] == pytest.approx(0.15)
    assert t.loc["linear k=3, XᵀX/(n)", "across X x Y"] == pytest.approx(0.5)


def test_kmeans_agreement_on_a_small_simulation(tmp_path):
    from aligned_latents.applications import cmap_signatures
    from aligned_latents.data import l1000_sim

    cfg = l1000_sim.SimulationConfig(n_genes=40, cell_types=("A549", "MCF7"), n_drugs=12,
                                replicates=2, n_controls=16, seed=2)
    sim = l1000_sim.write_simulated_l1000(tmp_path, cfg, compression=None)
    data = cmap_signatures.load_cmap(sim["gctx"], sim["inst_info"], sim["pert_info"],
                          sim["cell_info"], cell_types=("A549", "MCF7"), seed=2)
    truth = sim["inst"].set_index("inst_id")["control_cluster"]
    km = da.kmeans_agreement(data, sim["inst_info"], truth)
    assert list(km["cell type"]) == ["A549", "MCF7"]
    assert (km["controls"] == 16).all()
    assert (km["agree"] == km["controls"]).all()
    # a wrong truth is seen
    flipped = truth.map({"main": "outlier", "outlier": "main"}).fillna(truth)
    assert (da.kmeans_agreement(data, sim["inst_info"], flipped)["agree"] == 0).all()
