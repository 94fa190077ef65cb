"""wsim and analogy metrics on tiny embeddings whose answers are known by construction."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aligned_latents.data.embeddings import Embeddings
from aligned_latents.metrics import analogy as an
from aligned_latents.metrics import wsim as ws
from aligned_latents.metrics.vectors import project_prefixes, project_rows


def toy():
    # man/woman, king/queen: exact parallelogram along e2; 'apple' far away.
    words = ["man", "woman", "king", "queen", "apple", "boy", "girl"]
    V = np.array([[1, 0, 0], [1, 1, 0], [3, 0, 0.1], [3, 1, 0.1], [0, 0, 5],
                  [0.5, 0, 0.2], [0.5, 1.2, 0.2]], dtype=np.float32)
    return Embeddings(words, V)


def questions(rows):
    return pd.DataFrame([("family", *r) for r in rows], columns=["relation", "w1", "w2", "w3", "w4"])


def test_analogy_cosine_parallelogram():
    emb = toy()
    q = an.lookup_questions(emb, questions([("Man", "Woman", "King", "Queen"), ("man", "woman", "x", "y")]))
    assert q.found == 1 and q.total == 2            # lower-cased lookup, OOV dropped
    np.testing.assert_allclose(an.analogy_cosines(emb.vectors, q), [1.0], atol=1e-12)
    # the other reading: cos(king - man, queen - woman) = cos((2,0,.1),(2,0,.1)) = 1 here too,
    # so use a non-parallelogram for it
    q2 = an.lookup_questions(emb, questions([("man", "woman", "boy", "girl")]))
    np.testing.assert_allclose(an.analogy_cosines(emb.vectors, q2), [1.0], atol=1e-7)
    s = np.array([-0.5, 0, 0.2]); t = np.array([-0.5, 0.2, 0.2])
    np.testing.assert_allclose(an.analogy_cosines(emb.vectors, q2, sides=True),
                               [s @ t / np.linalg.norm(s) / np.linalg.norm(t)], atol=1e-6)


def test_accuracy_protocols_differ_by_exclusion():
    # man, woman, king are unit vectors, so both protocols query t = (-1, 1, 1): exactly queen
    # (whatever queen's length, the search is over unit-normalised candidates).
    emb = Embeddings(["man", "woman", "king", "queen", "apple"],
                     np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [-2, 2, 2], [1, 1, 0]], np.float32))
    q = an.lookup_questions(emb, questions([("man", "woman", "king", "queen")]))
    pc, sc, pp, ps = an.analogy_accuracy(emb.vectors, q, return_predictions=True, device="cpu")
    assert pc.tolist() == [True] and sc.tolist() == [True]
    # A question whose raw query vector is closest to w3 itself: apple + tiny offset.
    words = ["a", "b", "c", "d", "e"]
    V = np.array([[1, 0, 0], [1, 0.01, 0], [0, 0, 1], [0, 1, 1], [0, 0.5, 1]], np.float32)
    e = Embeddings(words, V)
    q = an.lookup_questions(e, questions([("a", "b", "c", "e")]))
    pc, sc, pp, ps = an.analogy_accuracy(e.vectors, q, return_predictions=True, chunk=1, device="cpu")
    assert pp.tolist() == [2]                       # paper protocol: c itself (not excluded)
    assert ps.tolist() == [4] and sc.tolist() == [True]   # standard: c excluded -> e


@pytest.mark.parametrize("block", [4096, 37])  # one tile, and many tiles with a ragged last one
def test_accuracy_matches_brute_force_on_random_vectors(block):
    rng = np.random.default_rng(0)
    V = rng.normal(size=(300, 8)).astype(np.float32)
    e = Embeddings([f"w{i}" for i in range(300)], V)
    rows = [tuple(f"w{j}" for j in rng.choice(300, 4, replace=False)) for _ in range(50)]
    q = an.lookup_questions(e, questions(rows))
    _, _, pp, ps = an.analogy_accuracy(V, q, chunk=7, return_predictions=True, device="cpu",
                                       block=block)
    Vn = V / np.linalg.norm(V, axis=1, keepdims=True)
    for r, (i1, i2, i3, _) in enumerate(q.idx):
        t = V[i2] - V[i1] + V[i3]
        assert pp[r] == np.argmax(Vn @ t)
        s = Vn @ (Vn[i2] - Vn[i1] + Vn[i3])
        s[[i1, i2, i3]] = -np.inf
        assert ps[r] == np.argmax(s)


def test_per_relation():
    q = an.AnalogyQuestions(np.zeros((4, 4), int), np.array(["r1", "r1", "r2", "r1"]), 4)
    df = an.per_relation(q, x=[1, 0, 1, 1])
    assert df.relation.tolist() == ["r1", "r2"] and df.questions.tolist() == [3, 1]
    np.testing.assert_allclose(df.x, [2 / 3, 1])


def test_wsim_known_rankings_and_origin():
    words = ["a", "b", "c", "d", "e", "f"]
    V = np.array([[1, 0], [1, 0.1], [1, 0.5], [1, 1], [1, 2], [0, 1]], float)
    emb = Embeddings(words, V)
    df = pd.DataFrame({"word1": ["A", "a", "a", "a"], "word2": ["b", "c", "d", "e"], "score": [4, 3, 2, 1]})
    p = ws.lookup_pairs("x", emb, df)
    assert p.found == 4 and p.total == 4
    assert ws.wsim(V, p) == pytest.approx(1.0)      # cosines decrease with the score
    # seen from o = (0, 3): cos(a-o, b-o) ordering reverses for this construction
    o = np.array([0.0, -10.0])
    cos = [np.dot(V[0] - o, V[j] - o) / np.linalg.norm(V[0] - o) / np.linalg.norm(V[j] - o) for j in (1, 2, 3, 4)]
    from scipy.stats import spearmanr
    assert ws.wsim(V, p, o) == pytest.approx(spearmanr(cos, [4, 3, 2, 1]).statistic)
    with pytest.raises(ValueError, match="reference point"):
        ws.wsim(V, p, V[0])
    with pytest.raises(ValueError, match="shape"):
        ws.wsim(V, p, np.zeros(3))


def test_top_singular_sign_and_value():
    rng = np.random.default_rng(1)
    u = np.array([3.0, 4.0]) / 5
    X = rng.normal(size=(500, 1)) * 0.1 + 2.0          # positive coefficients along u
    X = X * u + rng.normal(size=(500, 2)) * 0.01
    lam, u1 = ws.top_singular(X)
    np.testing.assert_allclose(u1, u, atol=1e-3)      # sign convention: sum_i x_i.u1 > 0
    assert lam == pytest.approx(np.linalg.svd(X, compute_uv=False)[0], rel=1e-10)
    lam2, u2 = ws.top_singular(-X)
    np.testing.assert_allclose(u2, -u, atol=1e-3)


def test_top_singular_of_gram_is_top_singular():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 6)) + np.r_[1.0, np.zeros(5)]
    lam, u1 = ws.top_singular_of_gram(X.T @ X, X.sum(axis=0))
    assert lam == pytest.approx(np.linalg.svd(X, compute_uv=False)[0], rel=1e-12)
    want = np.linalg.svd(X, full_matrices=False)[2][0]
    np.testing.assert_allclose(u1, want if want @ X.sum(axis=0) > 0 else -want, atol=1e-12)
    lam2, u2 = ws.top_singular_of_gram(X.T @ X, -X.sum(axis=0))  # the data's sign decides
    assert lam2 == lam and np.array_equal(u2, -u1)


def test_project_prefixes_is_project_rows_bit_for_bit():
    """Every length, below, at and across block boundaries (chunk 64), and 0: the same bits
    as project_rows of that prefix, and within rounding of the float64 product."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 7)).astype(np.float32)
    lengths = [0, 1, 63, 64, 65, 128, 200, 300]
    U = rng.normal(size=(7, len(lengths)))
    got = project_prefixes(X, U, lengths, chunk=64)
    for k, n in enumerate(lengths):
        assert np.array_equal(got[k], project_rows(X[:n], U[:, k], chunk=64))
        np.testing.assert_allclose(got[k], X[:n].astype(np.float64) @ U[:, k], rtol=1e-12,
                                   atol=1e-12)
    with pytest.raises(ValueError, match="one length"):
        project_prefixes(X, U, lengths[:-1])
    with pytest.raises(ValueError, match="one length"):
        project_prefixes(X, U[:, :1], [301])
    with pytest.raises(ValueError, match="matrix"):
        project_prefixes(X, U[:6], lengths)


def test_benchmarks_files():
    assert len(ws.load_wordsim("mturk771")) == 771 and len(ws.load_wordsim("men")) == 3000
    q = an.load_google_analogy()
    assert len(q) == 19544 and q.relation.nunique() == 14
    with pytest.raises(ValueError, match="unknown"):
        ws.load_wordsim("simlex")


def test_accuracy_single_protocol_and_bad_protocol():
    rng = np.random.default_rng(3)
    V = rng.normal(size=(120, 6)).astype(np.float32)
    e = Embeddings([f"w{i}" for i in range(120)], V)
    rows = [tuple(f"w{j}" for j in rng.choice(120, 4, replace=False)) for _ in range(30)]
    q = an.lookup_questions(e, questions(rows))
    both = an.analogy_accuracy(V, q, device="cpu")
    (std,) = an.analogy_accuracy(V, q, device="cpu", protocols=("standard",))
    np.testing.assert_array_equal(std, both[1])
    with pytest.raises(ValueError, match="protocols"):
        an.analogy_accuracy(V, q, protocols=("cosmul",))


def test_accuracy_ties_go_to_the_lowest_index_across_tiles():
    # rows 3, 40 and 77 are the same vector, in three different tiles of 37 rows: a query
    # pointing at it must get row 3, as numpy's argmax over the whole vocabulary does
    rng = np.random.default_rng(5)
    V = rng.normal(size=(100, 5)).astype(np.float32)
    V[40] = V[77] = V[3]
    e = Embeddings([f"w{i}" for i in range(100)], V)
    q = an.lookup_questions(e, questions([("w10", "w10", "w3", "w3")]))
    _, _, pp, _ = an.analogy_accuracy(V, q, chunk=4, block=37, return_predictions=True,
                                      device="cpu")
    Vn = V / np.linalg.norm(V, axis=1, keepdims=True)
    assert pp[0] == np.argmax(Vn @ V[3]) == 3
