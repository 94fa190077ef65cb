"""The pruned analogy search returns exactly the exhaustive float32 search's predictions
(paper Section 6.1.2, analogy-accuracy; both protocols), on the full default data and on
small adversarial cases: ties, tiny vocabularies, excluded question words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aligned_latents.data.embeddings import Embeddings, load_default
from aligned_latents.metrics import analogy as an


def _questions(rows):
    return pd.DataFrame(
        [("r", *r) for r in rows], columns=["relation", "w1", "w2", "w3", "w4"]
    )


def _both(V, q, **kw):
    """Predictions (paper, standard) of the pruned and of the exhaustive search."""
    info = {}
    pruned = an.analogy_accuracy(
        V, q, device="cpu", search="pruned", info=info, return_predictions=True, **kw
    )[2:]
    exhaustive = an.analogy_accuracy(
        V, q, device="cpu", search="exhaustive", return_predictions=True, **kw
    )[2:]
    return pruned, exhaustive, info


def _brute(V, idx):
    """Plain NumPy float64 arg-max (first index on ties), both protocols."""
    Vn = V / np.linalg.norm(V, axis=1, keepdims=True)
    out = ([], [])
    for i1, i2, i3, _ in idx:
        out[0].append(int(np.argmax(Vn @ (V[i2] - V[i1] + V[i3]))))
        s = Vn @ (Vn[i2] - Vn[i1] + Vn[i3])
        s[[i1, i2, i3]] = -np.inf
        out[1].append(int(np.argmax(s)))
    return out


def test_full_default_set_identical_predictions():
    # GloVe 6B 50d, 400,000 words, every Google question found: the same prediction as
    # the exhaustive float32 reference for every question and both protocols
    emb = load_default()
    q = an.lookup_questions(emb)
    assert q.found > 19_000
    pruned, exhaustive, info = _both(emb.vectors, q)
    for name, p, e in zip(("paper", "standard"), pruned, exhaustive):
        np.testing.assert_array_equal(p, e, err_msg=name)
        # the certificate settles most questions; the rest are scanned
        assert info[name]["certified"] > 0.7 * q.found
        assert info[name]["certified"] + info[name]["scanned"] == q.found


@pytest.mark.parametrize("seed", [0, 1])
def test_random_vocabulary_all_three_paths(seed):
    # big enough for lists shorter than the vocabulary, small tiles and ragged chunks
    rng = np.random.default_rng(seed)
    n = 3000
    V = rng.normal(size=(n, 8)).astype(np.float32)
    V[rng.choice(n, 200, replace=False)] *= 5  # varied norms (paper protocol)
    words = [f"w{i}" for i in range(n)]
    # relation structure: pairs reused across questions, as in the Google set
    pairs = [tuple(rng.choice(n, 2, replace=False)) for _ in range(25)]
    rows = [
        (words[a], words[b], words[c], words[e])
        for i, (a, b) in enumerate(pairs)
        for j, (c, e) in enumerate(pairs)
        if i != j
    ]
    q = an.lookup_questions(Embeddings(words, V), _questions(rows))
    pruned, exhaustive, info = _both(V, q, chunk=37, block=256, list_size=64)
    for p, e, b in zip(pruned, exhaustive, _brute(V, q.idx)):
        np.testing.assert_array_equal(p, e)
        np.testing.assert_array_equal(p, b)
    assert info["paper"]["certified"] > 0 and info["standard"]["scanned"] > 0


def test_exact_ties_go_to_the_lowest_row_across_tiles():
    # rows 5, 700 and 2900 hold the same vector, in different tiles and lists: questions
    # pointing at it must get the lowest non-excluded of them, as the reference does
    rng = np.random.default_rng(3)
    n = 3000
    V = rng.normal(size=(n, 6)).astype(np.float32)
    V[700] = V[2900] = V[5]
    V[1200] = V[1201] = V[40]
    words = [f"w{i}" for i in range(n)]
    rows = [
        ("w10", "w10", "w5", "w700"),  # t = w5: paper -> 5, standard -> 700
        ("w11", "w11", "w700", "w5"),  # standard excludes 700 -> 5
        ("w12", "w12", "w2900", "w5"),  # standard excludes 2900 -> 5
        ("w13", "w13", "w1201", "w40"),  # paper: 40 (lowest of 40, 1200, 1201)
        ("w5", "w700", "w40", "w1200"),
    ]  # w2 - w1 = 0 exactly
    q = an.lookup_questions(Embeddings(words, V), _questions(rows))
    pruned, exhaustive, info = _both(V, q, chunk=2, block=128, list_size=32)
    np.testing.assert_array_equal(pruned[0], exhaustive[0])
    np.testing.assert_array_equal(pruned[1], exhaustive[1])
    assert pruned[0].tolist() == [5, 5, 5, 40, 40]
    assert pruned[1].tolist() == [700, 5, 5, 40, 1200]
    assert info["paper"]["near_ties"] + info["standard"]["near_ties"] > 0


@pytest.mark.parametrize("n", [3, 4, 5, 9])
def test_tiny_vocabularies(n):
    rng = np.random.default_rng(n)
    V = rng.normal(size=(n, 3)).astype(np.float32)
    words = [f"w{i}" for i in range(n)]
    rows = [tuple(words[j] for j in rng.integers(0, n, 4)) for _ in range(20)]
    rows.append((words[0], words[1], words[2], words[0]))
    q = an.lookup_questions(Embeddings(words, V), _questions(rows))
    pruned, exhaustive, _ = _both(V, q, chunk=3, block=2, list_size=2)
    np.testing.assert_array_equal(pruned[0], exhaustive[0])
    np.testing.assert_array_equal(pruned[1], exhaustive[1])


def test_every_word_excluded_gives_row_zero():
    # three words, all in the question: the standard protocol has no candidate left and
    # the reference answers row 0; the paper protocol searches all three
    V = np.array([[1, 0], [0, 1], [1, 1]], np.float32)
    words = ["a", "b", "c"]
    q = an.lookup_questions(Embeddings(words, V), _questions([("c", "b", "a", "a")]))
    pruned, exhaustive, _ = _both(V, q)
    assert pruned[1].tolist() == exhaustive[1].tolist() == [0]
    assert pruned[0].tolist() == exhaustive[0].tolist()


def test_nearest_words_are_the_excluded_ones():
    # w3 is by far the closest word to t: the paper protocol predicts it, the standard
    # protocol must fall back to the next one, whichever path settles the question
    rng = np.random.default_rng(7)
    V = rng.normal(size=(500, 5)).astype(np.float32)
    V[1] = V[0] * 1.0001
    words = [f"w{i}" for i in range(500)]
    q = an.lookup_questions(
        Embeddings(words, V),
        _questions([("w0", "w1", "w2", "w3"), ("w1", "w0", "w2", "w3")]),
    )
    pruned, exhaustive, _ = _both(V, q, list_size=16, block=64)
    np.testing.assert_array_equal(pruned[0], exhaustive[0])
    np.testing.assert_array_equal(pruned[1], exhaustive[1])
    assert pruned[0].tolist() == [2, 2]
    assert 2 not in pruned[1].tolist()


def test_search_arguments_are_checked():
    V = np.eye(4, dtype=np.float32)
    q = an.AnalogyQuestions(np.array([[0, 1, 2, 3]]), np.array(["r"]), 1)
    with pytest.raises(ValueError, match="search"):
        an.analogy_accuracy(V, q, search="approximate")
    with pytest.raises(ValueError, match="list_size"):
        an.analogy_accuracy(V, q, list_size=0)
    with pytest.raises(ValueError, match="question rows"):
        an.analogy_accuracy(
            V, an.AnalogyQuestions(np.array([[0, 1, 2, 9]]), np.array(["r"]), 1)
        )


def _low_rank_vocabulary(rng, n, d, rank, noise=0.0):
    """``n`` words in R^d spanning ``rank`` dimensions (plus ``noise`` times a full-rank
    Gaussian), with varied norms, as float32."""
    A = rng.normal(size=(n, rank)) @ rng.normal(size=(rank, d))
    A += noise * np.linalg.norm(A, axis=1, keepdims=True) / np.sqrt(d) * rng.normal(
        size=(n, d))
    A *= rng.uniform(0.5, 3.0, size=(n, 1))
    return A.astype(np.float32)


def _tie_questions(V, words, rng, pairs=20):
    """Questions whose target is one planted word (``w1 = w2``: ``t = w3``), and
    relation questions over random pairs, as in :func:`test_random_vocabulary_all_three_paths`."""
    n = len(V)
    rows = [(words[10], words[10], words[j], words[j]) for j in (5, 700, 1500, 2900)]
    pair = [tuple(rng.choice(n, 2, replace=False)) for _ in range(pairs)]
    rows += [(words[a], words[b], words[c], words[e])
             for i, (a, b) in enumerate(pair) for j, (c, e) in enumerate(pair) if i != j]
    return rows


@pytest.mark.parametrize("seed", [0, 1])
def test_low_rank_scan_identical_with_planted_ties(seed):
    """Rank-5 words in R^24: the low-rank path (listing, candidates and scan on 5-dim
    coordinates) gives the exhaustive search's predictions, both protocols, with exact
    ties (one vector in three tiles: the lowest non-excluded row wins), near ties below
    the float32 window (settled by the reference's own tile products) and above it
    (settled by the bounds)."""
    rng = np.random.default_rng(seed)
    n, d = 3000, 24
    V = _low_rank_vocabulary(rng, n, d, 5)
    V[700] = V[2900] = V[5]  # exact ties (the same unit vector)
    V[1500] = V[5] * np.float32(1.0 + 2.0**-20)  # its unit vector: 5's or one ulp off
    tiny = V[5] + np.float32(1e-7) * V[40]  # below the window (~1.6e-6 |t|)
    V[1200], V[1201] = tiny, V[5] + np.float32(1e-3) * V[40]  # and far above it
    words = [f"w{i}" for i in range(n)]
    rows = _tie_questions(V, words, rng)
    rows += [(words[10], words[10], words[j], words[j]) for j in (1200, 1201)]
    q = an.lookup_questions(Embeddings(words, V), _questions(rows))
    pruned, exhaustive, info = _both(V, q, chunk=37, block=256, list_size=64)
    for name, p, e in zip(("paper", "standard"), pruned, exhaustive):
        np.testing.assert_array_equal(p, e, err_msg=name)
        assert info[name]["rank"] == 5
        assert info[name]["low_rank"] > 0  # the low-rank scan settled questions
    # t = w5 (paper): row 5, the lowest of its three copies; the standard protocol
    # excludes the question's own word: 700 for w5, 5 for w700
    assert pruned[0][:2].tolist() == [5, 5]
    assert pruned[1][:2].tolist() == [700, 5]
    assert info["paper"]["near_ties"] + info["standard"]["near_ties"] > 0


@pytest.mark.parametrize("noise", [1e-4, 3e-2])
def test_low_rank_bounds_hold_with_large_residuals(monkeypatch, noise):
    """Words only approximately of rank 4 (residuals ``noise`` of each norm, far above
    float32 rounding), the rank forced to 4: the residual bounds make the low-rank
    listing and scan keep more candidates (or decline questions to the full scan), and
    the predictions stay the exhaustive search's."""
    from aligned_latents.metrics import analogy_search as S

    rng = np.random.default_rng(5)
    n, d = 3000, 16
    V = _low_rank_vocabulary(rng, n, d, 4, noise)
    monkeypatch.setattr(an, "low_rank_rows",
                        lambda Vn, block: S.low_rank_rows(Vn, block, rank=4))
    words = [f"w{i}" for i in range(n)]
    q = an.lookup_questions(Embeddings(words, V), _questions(_tie_questions(V, words, rng)))
    pruned, exhaustive, info = _both(V, q, chunk=64, block=256, list_size=64)
    for name, p, e in zip(("paper", "standard"), pruned, exhaustive):
        np.testing.assert_array_equal(p, e, err_msg=name)
        assert info[name]["rank"] == 4 and info[name]["scanned"] > 0
    if noise < 1e-3:  # residuals well inside the scores' gaps: the fast path decides
        assert info["standard"]["low_rank"] > 0


def test_low_rank_declined_without_low_rank_structure():
    """A full-rank vocabulary has no low-rank factorisation (the full scan runs)."""
    import torch

    from aligned_latents.metrics import analogy_search as S

    V = torch.from_numpy(np.random.default_rng(0).normal(size=(2000, 16)).astype(np.float32))
    assert S.low_rank_rows(V / V.norm(dim=1, keepdim=True)) is None
    W = torch.from_numpy(_low_rank_vocabulary(np.random.default_rng(0), 2000, 16, 6))
    assert S.low_rank_rows(W / W.norm(dim=1, keepdim=True)).rank == 6


def test_glove_leaky_like_codes_identical_predictions():
    """GloVe 6B 50d's 100,000 most frequent words through a seeded affine map to R^400
    (as the Leaky ReLU encoder's codes ``B x + b``: rank 51), every fifth question
    within them: the low-rank search gives the exhaustive search's predictions, both
    protocols, on rank 51."""
    emb = load_default()
    X = emb.vectors[:100_000]
    rng = np.random.default_rng(0)
    B = rng.normal(size=(50, 400)).astype(np.float32) / np.float32(7.0)
    Z = X @ B + rng.normal(size=400).astype(np.float32)
    q = an.lookup_questions(emb)
    keep = (q.idx < len(X)).all(axis=1) & (np.arange(q.found) % 5 == 0)
    q = an.AnalogyQuestions(q.idx[keep], q.relation[keep], q.total)
    assert q.found > 3000
    pruned, exhaustive, info = _both(Z, q)
    for name, p, e in zip(("paper", "standard"), pruned, exhaustive):
        np.testing.assert_array_equal(p, e, err_msg=name)
        assert info[name]["rank"] == 51 and info[name]["low_rank"] > 0


@pytest.mark.parametrize("low_rank", [False, True])
def test_unit_rows_read_the_normalised_copy(low_rank):
    """UnitRows divides each tile as it is read: bit for bit the rows of ``V / norms``,
    and the same predictions from both searches as with that copy, both protocols,
    with exact and near ties (a rank-6 vocabulary, so the low-rank path runs too)."""
    import torch

    from aligned_latents.metrics import analogy_search as S

    rng = np.random.default_rng(11)
    n, d = 3000, 20
    V = _low_rank_vocabulary(rng, n, d, 6)
    V[700] = V[2900] = V[5]
    V[1200] = V[5] + np.float32(1e-7) * V[40]
    words = [f"w{i}" for i in range(n)]
    rows = _tie_questions(V, words, rng)
    q = an.lookup_questions(Embeddings(words, V), _questions(rows))
    Vt = torch.from_numpy(V)
    idx = torch.from_numpy(q.idx)
    norms = Vt.norm(dim=1, keepdim=True).clamp_min(torch.finfo(torch.float32).tiny)
    copy, unit = Vt / norms, S.UnitRows(Vt, norms)
    assert torch.equal(unit[100:357], copy[100:357])
    assert torch.equal(unit[::7], copy[::7])
    assert torch.equal(unit.index_select(0, idx[:, 0]), copy[idx[:, 0]])
    for protocol in ("paper", "standard"):
        exclude = protocol == "standard"
        t_copy = S.targets(Vt, copy, idx, protocol)
        t_unit = S.targets(Vt, unit, idx, protocol)
        assert torch.equal(t_copy, t_unit)
        W = Vt if protocol == "paper" else copy
        got = []
        for Vn in (copy, unit):
            factors = S.low_rank_rows(Vn, 256) if low_rank else None
            assert (factors is not None) == low_rank
            Wp = W if protocol == "paper" else Vn
            got.append(S.search_pruned(Vn, Wp, idx, t_copy, exclude, 37, 256, 64,
                                       low_rank=factors))
            got.append(S.search_exhaustive(Vn, idx, t_copy, exclude, 37, 256))
        for g in got[1:]:
            assert torch.equal(g, got[0]), protocol
