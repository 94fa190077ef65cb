"""The GloVe chapter: a reduced run through papermill whose labels and checks follow its
parameters (degrees [1, 3], a sweep without k = 0, no Leaky ReLU network), two runs give
identical tables, and the book's default run against values recorded from it."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aligned_latents.record.statements import load_statements

#: vocab_size 20,000: every check of the 50,000-word run is made here too (the same 46
#: rows of claims.csv, statement and quantity; 12,042 analogy questions found instead of
#: 17,407, every MDS and slider file non-empty), at 3 CPU s less per run.
REDUCED = {"vocab_size": 20000, "train_leaky_relu": False, "degrees": [1, 3],
           "sweep_degrees": [1, 2, 3], "gd_steps": 100000}

#: Statements that need the Leaky ReLU network (skipped when it is not trained) or k = 2.
NEEDS_LEAKY = {"table1.linear_vs_leaky", "fig7.linear_more", "apph.glove_leaky_setup"}
NEEDS_K2 = {"fig7.share_76"}

#: Checks that fail on the book's default data (glove.6B.50d instead of glove.840B.300d):
#: results, not errors; each has its likely reason in claims.csv's detail column. Among
#: them: the Leaky ReLU AE's analogy gain is below the threshold of "substantially" for
#: every seed; Figure 9's MDS gain is mixed over the MDS seeds (within the spread); the
#: gradient-descent check of Theorem 1 stops before its gradient tolerance (its closed
#: form still agrees, so the statement is decided).
FAILING_ON_6B = {"table1.k1_accuracy_gain", "fig6.frequent_aligned", "fig7.share_76",
                 "table2.corrected_stable", "table1.analogy_boost",
                 "appi4.angle_much_larger", "s1.word_analogy_improvement", "fig9",
                 "apph.linear_closed_form"}

# Values measured by the book's default run (glove.6B.50d, 400,000 words, seed 0; the Leaky
# ReLU network trained to the companion code's loss-change rule: 17 epochs). Tolerance 1e-3: the linear rows are deterministic closed forms evaluated in
# float32/64 (differences across BLAS builds are ~1e-6); the Leaky ReLU row depends on
# torch's CPU kernels and on aligned_latents.theory.nonlinear_ae's training loop (recorded with
# its unshuffled, rule-stopped loop of 2026-11-27; re-record it when that loop changes).
RECORDED_TABLE1 = {
    "Original": {"wsim_mturk771": 0.513674, "wsim_men": 0.621718, "analogy": 0.438257,
                 "analogy_accuracy": 0.316619, "analogy_accuracy_standard": 0.462188},
    "Linear AE (k=1)": {"wsim_mturk771": 0.501086, "wsim_men": 0.610847,
                        "analogy": 0.491713, "analogy_accuracy": 0.309967,
                        "analogy_accuracy_standard": 0.370088},
    "Linear AE (k=2)": {"wsim_mturk771": 0.474062, "wsim_men": 0.583288,
                        "analogy": 0.565260, "analogy_accuracy": 0.266169,
                        "analogy_accuracy_standard": 0.230710},
    "Leaky ReLU AE": {"wsim_mturk771": 0.512969, "wsim_men": 0.621076, "analogy": 0.472249,
                      "analogy_accuracy": 0.317642, "analogy_accuracy_standard": 0.428878},
}
RECORDED_TABLE2 = {
    "Original": {"mturk771_default": 0.554221, "men_default": 0.657398,
                 "mturk771_corrected": 0.513674, "men_corrected": 0.621718},
    "Linear AE (k=1)": {"mturk771_default": 0.351747, "men_default": 0.438937,
                        "mturk771_corrected": 0.501086, "men_corrected": 0.610847},
    "Linear AE (k=2)": {"mturk771_default": 0.206970, "men_default": 0.249581,
                        "mturk771_corrected": 0.474062, "men_corrected": 0.583288},
    "Leaky ReLU AE": {"mturk771_default": 0.498363, "men_default": 0.603031,
                      "mturk771_corrected": 0.512969, "men_corrected": 0.621076},
}


def glove_statements() -> set:
    t = load_statements()
    return set(t.statement[(t.chapter == "glove") & (t.not_checkable == "")])


@pytest.fixture(scope="module")
def reduced_runs(run_chapter):
    return run_chapter("glove", **REDUCED), run_chapter("glove", **REDUCED)


def test_reduced_run_follows_its_parameters(reduced_runs):
    res, _ = reduced_runs
    claims = pd.read_csv(res / "claims.csv")
    checked = set(claims.statement)
    assert glove_statements() - checked == NEEDS_LEAKY | NEEDS_K2
    assert not checked & (NEEDS_LEAKY | NEEDS_K2)
    # the sweep lacks k = 0: its growth checks are skipped, not vacuous or crashing
    assert not claims.quantity.str.contains("at k = 0|for k = ", regex=True).any()
    t1 = pd.read_csv(res / "table1.csv")
    assert t1.columns.tolist() == ["model", "wsim_mturk771", "wsim_men", "analogy",
                                   "analogy_accuracy", "analogy_accuracy_standard"]
    assert t1.model.tolist() == ["Original", "Linear AE (k=1)", "Linear AE (k=3)"]
    t2 = pd.read_csv(res / "table2.csv")
    np.testing.assert_array_equal(t1.wsim_men, t2.men_corrected)  # Table 1 = corrected
    f3 = pd.read_csv(res / "figure3.csv")
    assert f3.columns.tolist() == ["space", "pair", "word_a", "word_b", "xa", "ya", "xb",
                                   "yb"]
    assert set(f3.space) == {"original", "linear_k3"}
    assert np.isfinite(f3[["xa", "ya", "xb", "yb"]]).all().all()
    f6 = pd.read_csv(res / "figure6.csv")
    assert len(f6) == REDUCED["vocab_size"] and f6.cos_u1.between(-1, 1).all()
    f7 = pd.read_csv(res / "figure7.csv")
    assert f7.columns.tolist() == ["relation", "cos_original", "cos_linear_k3"]
    assert f7[["cos_original", "cos_linear_k3"]].abs().le(1 + 1e-9).all().all()
    f10 = pd.read_csv(res / "figure10.csv")
    assert set(f10.model) == {"Linear AE (k=3)"}
    sweep = pd.read_csv(res / "degree_sweep.csv")
    assert sweep.k.tolist() == [1, 2, 3]
    assert len(pd.read_csv(res / "table1_per_relation.csv")) == 14
    u1 = pd.read_csv(res / "u1_sign_sweep.csv")
    assert u1.n_words.max() == REDUCED["vocab_size"] and u1.n_words.is_monotonic_increasing
    for name in ("figure8", "figure9", "u1_sign", "mds_alignment", "accuracy_protocols"):
        assert len(pd.read_csv(res / f"{name}.csv")) > 0, name
    # no label anywhere says k = 2 when the degrees are 1 and 3 (word columns aside:
    # the vocabulary has words such as 'k2')
    words = {"word", "word1", "word2", "word_a", "word_b"}
    for path in res.glob("*.csv"):
        df = pd.read_csv(path)
        labels = list(df.columns) + [str(v) for c in df.columns if c not in words
                                     and df[c].dtype == object for v in df[c]]
        assert not [t for t in labels if "k=2" in t or "k2" in t], path.name


def test_two_runs_identical(reduced_runs):
    a, b = reduced_runs
    for name in ("table1.csv", "table2.csv", "degree_sweep.csv", "figure3.csv",
                 "u1_sign_sweep.csv", "claims.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(a / name), pd.read_csv(b / name),
                                      check_exact=True)


def test_book_tables_match_recorded(book_results):
    res = book_results("glove")
    t1 = pd.read_csv(res / "table1.csv").set_index("model")
    t2 = pd.read_csv(res / "table2.csv").set_index("model")
    for model, row in RECORDED_TABLE1.items():
        for col, value in row.items():
            assert t1.loc[model, col] == pytest.approx(value, abs=1e-3), (model, col)
    for model, row in RECORDED_TABLE2.items():
        for col, value in row.items():
            assert t2.loc[model, col] == pytest.approx(value, abs=1e-3), (model, col)


def test_book_checks_cover_every_statement(book_results):
    claims = pd.read_csv(book_results("glove") / "claims.csv")
    assert glove_statements() <= set(claims.statement)
    failing = set(claims.statement[~claims.holds])
    assert failing <= FAILING_ON_6B, claims[~claims.holds].to_string()
    assert (claims.detail[~claims.holds].fillna("").str.len() > 0).all()
    # the Leaky ReLU metrics over >= 5 seeds, one row per seed
    seeds = pd.read_csv(book_results("glove") / "leaky_relu_seeds.csv")
    assert len(seeds) >= 5 and seeds["seed"].is_unique
    t1 = pd.read_csv(book_results("glove") / "table1.csv").set_index("model")
    assert seeds["analogy"].iloc[0] == pytest.approx(t1.loc["Leaky ReLU AE", "analogy"])
    assert seeds["analogy"].std() > 0  # the seeds give different networks
    errata = pd.read_csv(book_results("glove") / "errata.csv")
    assert "Table 1 and Table 2 disagree on the Leaky ReLU AE's MEN score" in set(
        errata.erratum)
