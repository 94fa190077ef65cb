"""aligned_latents.applications.glove_sweep on tiny embeddings whose answers are known by construction."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from aligned_latents.applications import glove as gl
from aligned_latents.applications import glove_sweep as gs
from aligned_latents.data.embeddings import Embeddings
from aligned_latents.metrics import analogy as an
from aligned_latents.metrics import wsim as ws


def tiny_bench(n=60, d=5, seed=0):
    """Random vectors with two relations of questions and two word-similarity sets."""
    rng = np.random.default_rng(seed)
    V = rng.normal(size=(n, d)) + np.r_[3.0, np.zeros(d - 1)]
    words = [f"w{i}" for i in range(n)]
    emb = Embeddings(words, V)
    q = pd.DataFrame([("rel-a", f"w{i}", f"w{i + 1}", f"w{i + 2}", f"w{i + 3}")
                      for i in range(0, 20, 2)]
                     + [("rel-b", f"w{i}", f"w{i + 5}", f"w{i + 1}", f"w{i + 6}")
                        for i in range(20, 40, 2)],
                     columns=["relation", "w1", "w2", "w3", "w4"])
    pairs = pd.DataFrame({"word1": [f"w{i}" for i in range(10)],
                          "word2": [f"w{i + 20}" for i in range(10)],
                          "score": np.arange(10.0)})
    bench = gl.Benchmarks(an.lookup_questions(emb, q), ws.lookup_pairs("a", emb, pairs),
                          ws.lookup_pairs("b", emb, pairs))
    return emb, bench


def test_degree_sweep_matches_evaluate_and_sorts():
    emb, bench = tiny_bench()
    X = emb.vectors
    lam1, u1 = ws.top_singular(X)
    o = lam1 * u1
    df = gs.degree_sweep(X, o, bench, [2, 0, 1])
    assert df.columns.tolist() == gs.SWEEP_COLUMNS and df.k.tolist() == [0, 1, 2]
    B = gl.linear_model(X, 2)
    r = gl.evaluate(gl.encode_linear(X, B), o @ B, bench, accuracy=False)
    for c in gs.SWEEP_COLUMNS[1:]:
        assert df.loc[2, c] == pytest.approx(r[c], abs=1e-12)
    # k = 0: B0 = I, B_inf a multiple of I, so analogy equals the original's
    orig = an.analogy_cosines(X, bench.questions).mean()
    assert df.loc[0, "analogy"] == pytest.approx(orig, abs=1e-6)
    with pytest.raises(ValueError, match="degree"):
        gs.degree_sweep(X, o, bench, [-1])
    with pytest.raises(ValueError, match="at least one"):
        gs.degree_sweep(X, o, bench, [])


def test_benchmarks_on_rows_stand_for_the_whole_matrix():
    """Scores from the codes of the benchmark words alone equal those from every word's
    codes (what degree_sweep relies on), and the MDS of a relation from its words alone
    equals the one from the whole vocabulary (the chapter's sliders)."""
    emb, bench = tiny_bench()
    X = emb.vectors
    B = gl.linear_model(X, 2)
    o = ws.top_singular(X)[0] * ws.top_singular(X)[1] @ B
    rows = gs.benchmark_rows(bench)
    assert len(rows) < len(X) and np.all(np.diff(rows) > 0)
    whole = gl.evaluate(gl.encode_linear(X, B), o, bench, accuracy=False)
    part = gl.evaluate(gl.encode_linear(X[rows], B), o, gs.benchmarks_on_rows(bench, rows),
                       accuracy=False)
    assert whole.keys() == part.keys()
    for key in whole:
        assert np.array_equal(whole[key], part[key]), key
    sweep = gs.degree_sweep(X, o, bench, [2])
    assert sweep.loc[0, "analogy"] == whole["analogy"]
    rel = gs.relation_rows(bench.questions, "rel-b")
    q = gs.questions_on_rows(bench.questions, rel)
    assert q.found == int((bench.questions.relation == "rel-b").sum()) and set(q.relation) == {
        "rel-b"}
    words = [emb.words[i] for i in rel]
    for every in (1, 3):
        full = gs.relation_mds(emb.words, {"s": X}, bench.questions, "rel-b", every=every)
        assert full.equals(gs.relation_mds(words, {"s": X[rel]}, q, "rel-b", every=every))
    with pytest.raises(ValueError, match="every word"):
        gs.benchmarks_on_rows(bench, rows[1:])
    with pytest.raises(ValueError, match="sorted"):
        gs.benchmarks_on_rows(bench, rows[::-1])
    with pytest.raises(ValueError, match="sorted"):
        gs.questions_on_rows(bench.questions, np.r_[rel, rel[-1]])


def frequency_data(n=3000, d=4, seed=1):
    """Rows whose u1 component falls with the row index and then turns negative: frequent
    (early) rows point one way along e1, rare (late) rows, more numerous, the other."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / n
    X = rng.normal(scale=0.3, size=(n, d))
    X[:, 0] += 2.0 * (0.3 - t)
    return X


def test_u1_vocabulary_sweep_agrees_with_top_singular():
    X = frequency_data()
    df = gs.u1_vocabulary_sweep(X, [500, 3000])
    for n in (500, 3000):
        lam, u = ws.top_singular(X[:n])
        cos = X[:n] @ u / np.linalg.norm(X[:n], axis=1)
        row = df[df.n_words == n].iloc[0]
        assert row.lam1 == pytest.approx(lam, rel=1e-10)
        assert row.rho == pytest.approx(spearmanr(np.arange(n), cos).statistic, abs=1e-12)
    with pytest.raises(ValueError, match="exceeds"):
        gs.u1_vocabulary_sweep(X, [4000])
    with pytest.raises(ValueError, match=">= 3"):
        gs.u1_vocabulary_sweep(X, [2])


def sweep_by_definition(X, n):
    """Figure 6's lam1 and rho for the first n rows, straight from the definition: u1 from
    numpy.linalg.eigh of the first n rows' Gram matrix (float64), signed so that
    sum_i x_i.u1 > 0, and scipy's Spearman correlation of rank and cos(w, u1)."""
    Y = np.asarray(X[:n], dtype=np.float64)
    evals, evecs = np.linalg.eigh(Y.T @ Y)
    u1 = evecs[:, -1] if Y.sum(axis=0) @ evecs[:, -1] > 0 else -evecs[:, -1]
    cos = Y @ u1 / np.linalg.norm(Y, axis=1)
    return np.sqrt(evals[-1]), spearmanr(np.arange(n), cos).statistic


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_u1_vocabulary_sweep_is_the_definition_at_every_size(dtype):
    """The two-pass sweep (sizes grouped under the memory budget: 3000 x 4 float32 rows
    give groups of one to three sizes) against the definition, for X and -X: the sign
    convention flips u1 with the data, so rho is the same; without it one would be
    negated. The raw eigenvector's sign is checked to need the flip at some size."""
    X = frequency_data().astype(dtype)
    sizes = [3, 7, 100, 500, 1000, 1500, 2048, 2500, 3000]
    fast, flipped = gs.u1_vocabulary_sweep(X, sizes), gs.u1_vocabulary_sweep(-X, sizes)
    assert fast.n_words.tolist() == sizes
    for n, lam, rho, rho_neg in zip(sizes, fast.lam1, fast.rho, flipped.rho):
        want_lam, want_rho = sweep_by_definition(X, n)
        assert lam == pytest.approx(want_lam, rel=1e-6 if dtype == np.float32 else 1e-12)
        assert rho == pytest.approx(want_rho, abs=1e-12)
        assert rho_neg == pytest.approx(want_rho, abs=1e-12)
    raw = [np.linalg.eigh(Z[:n].T.astype(float) @ Z[:n])[1][:, -1] @ Z[:n].sum(axis=0)
           for Z in (X, -X) for n in sizes[2:]]
    assert min(raw) < 0  # the eigen-solver's sign was wrong somewhere: the flip was tested
    assert fast.rho.iloc[2] < 0 < fast.rho.iloc[-1]  # the relation's direction flips


def test_u1_vocabulary_sweep_refuses_a_zero_word():
    X = frequency_data()
    X[1700] = 0.0
    assert len(gs.u1_vocabulary_sweep(X, [1000, 1700])) == 2  # the rows before it
    with pytest.raises(ValueError, match="zero"):
        gs.u1_vocabulary_sweep(X, [1000, 1701])


def test_u1_vocabulary_sweep_restores_the_blas_threads():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [i["num_threads"] for i in threadpoolctl.threadpool_info()]
    gs.u1_vocabulary_sweep(frequency_data(), [500, 3000])
    assert [i["num_threads"] for i in threadpoolctl.threadpool_info()] == before


def test_u1_sign_cutoff_finds_the_flip():
    X = frequency_data()
    sweep, cutoff = gs.u1_sign_cutoff(X, coarse=500, fine=50)
    # the sign convention follows the majority: early rows are aligned until the late
    # (negative) rows outweigh them, after which the relation flips
    assert cutoff is not None and 500 < cutoff <= 3000
    before = sweep[sweep.n_words < cutoff]
    assert (before.rho < 0).all() and (sweep.loc[sweep.n_words == cutoff, "rho"] >= 0).all()
    assert set(sweep.grid) == {"coarse", "fine"}
    assert sweep.n_words.is_monotonic_increasing
    # a vocabulary whose rows all point along +e1 with a falling weight never flips
    Y = np.random.default_rng(2).normal(scale=0.1, size=(3000, 4))
    Y[:, 0] = 2.0 - np.arange(len(Y)) / len(Y)
    _, none = gs.u1_sign_cutoff(Y, coarse=500, fine=50)
    assert none is None


def test_relation_mds_pairs_and_words():
    emb, bench = tiny_bench()
    X = emb.vectors
    df = gs.relation_mds(emb.words, {"original": X, "linear_k2": 2 * X}, bench.questions,
                         "rel-a", every=2)
    assert df.columns.tolist() == ["space", "pair", "word_a", "word_b", "xa", "ya", "xb",
                                   "yb"]
    rows = bench.questions.idx[bench.questions.relation == "rel-a"][::2]
    pairs = list(dict.fromkeys([(a, b) for a, b, _, _ in rows]
                               + [(c, e) for _, _, c, e in rows]))
    assert len(df) == 2 * len(pairs)
    first = df[df.space == "original"]
    assert list(zip(first.word_a, first.word_b)) == [(emb.words[a], emb.words[b])
                                                     for a, b in pairs]
    with pytest.raises(ValueError, match="no question"):
        gs.relation_mds(emb.words, {"original": X}, bench.questions, "rel-z")


def test_companion_accuracy_drops_the_partial_batch():
    correct = np.r_[np.ones(1000, bool), np.zeros(544, bool)]
    acc, n = gs.companion_accuracy(correct)
    assert (acc, n) == (1.0, 1000)
    acc, n = gs.companion_accuracy(correct, batch=500)
    assert n == 1500 and acc == pytest.approx(1000 / 1500)
    acc, n = gs.companion_accuracy(np.ones(10, bool))
    assert n == 0 and np.isnan(acc)
    with pytest.raises(ValueError):
        gs.companion_accuracy(correct, batch=0)


def test_side_by_side_layout():
    ours = pd.DataFrame({"model": ["Original", "Linear AE (k=3)"], "x": [0.1, 0.2],
                         "y": [1.0, 2.0]})
    paper = pd.DataFrame({"model": ["Original", "Linear AE (k=2)"], "x": [0.5, 0.6]})
    t = gs.side_by_side(ours, paper, {"x": "metric x", "y": "metric y"})
    assert t.columns.tolist() == ["Original", "Linear AE (k=3)"]
    assert t.index.tolist() == [("metric x", "this book"), ("metric x", "paper"),
                                ("metric y", "this book"), ("metric y", "paper")]
    assert t.loc[("metric x", "paper"), "Original"] == 0.5
    assert np.isnan(t.loc[("metric x", "paper"), "Linear AE (k=3)"])
    assert np.isnan(t.loc[("metric y", "paper"), "Original"])  # the paper has no y


def test_pair_cosines_is_rowwise_cosine_from_the_reference_point():
    emb, bench = tiny_bench()
    X = emb.vectors
    o = np.full(X.shape[1], 0.5)
    got = ws.pair_cosines(X, bench.mturk771, o)
    a, b = X[bench.mturk771.i] - o, X[bench.mturk771.j] - o
    want = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert ws.wsim(X, bench.mturk771, o) == pytest.approx(
        spearmanr(got, bench.mturk771.score).statistic)
