"""The GloVe chapter's gradient-descent check of Theorem 1 (Appendix E): one
gradient-descent implementation (linear_ae.train_linear_gd), the same iterates as the
earlier per-word-loss loop, and bounded work in high dimension (top-r principal
subspace). Sizes are small so that each test runs in about a second."""

from __future__ import annotations

import numpy as np
import pytest

from aligned_latents.applications import glove as gl
from aligned_latents.theory import linear_ae as lae


def _words(n, d, seed=0):
    rng = np.random.default_rng(seed)
    scales = np.linspace(2.0, 0.5, d)  # distinct eigenvalues
    return (rng.normal(size=(n, d)) * scales).astype(np.float32)


def _per_word_loop(sub, k, steps, lr_scale):
    """The earlier gd_check loop: loss (1/2n) Σ‖x - ABx‖², NumPy, no early stop."""
    n, d = sub.shape
    S = sub.T @ sub / n
    eye = np.eye(d)
    B0 = np.linalg.matrix_power(S + eye, k)
    A, B = np.zeros((d, d)), B0.copy()
    lr = lr_scale / (np.linalg.eigvalsh(S)[-1] * np.linalg.norm(B0, 2) ** 2)
    for _ in range(steps):
        G = (eye - A @ B) @ S
        gA, gB = G @ B.T, A.T @ G
        A += lr * gA
        B += lr * gB
    return B, lr


def test_same_iterates_as_the_per_word_loss():
    # Eq. (1) with step lr / (2n) is the per-word loss with step lr: same iterates
    X = _words(400, 6)
    res = gl.gd_check(X, k=1, n_words=150, max_steps=3000, lr_scale=1.0, seed=4)
    rng = np.random.default_rng(4)
    sub = np.asarray(X[np.sort(rng.choice(400, 150, replace=False))], np.float64)
    B_old, lr_old = _per_word_loop(sub, 1, 3000, 1.0)
    assert res["steps"] == 3000 and res["r"] == res["d"] == 6
    assert res["space"] == "all d coordinates"
    assert res["lr"] == pytest.approx(lr_old / (2 * 150), rel=1e-12)
    np.testing.assert_allclose(res["B_gd"], B_old, rtol=0, atol=1e-12)


def test_converges_to_the_closed_form():
    X = _words(2000, 5, seed=1)
    res = gl.gd_check(X, k=1, n_words=500, max_steps=40_000, lr_scale=1.0, seed=0)
    # finite step: GD follows the flow up to O(step); interpolation reached
    assert res["rel_diff"] < 1e-2 and res["interp"] < 1e-6
    np.testing.assert_allclose(res["sv_closed"], res["sv_pred"], rtol=1e-8)


def test_gradient_rule_stops_on_a_multiple_of_1000():
    X = _words(500, 4, seed=2)
    res = gl.gd_check(
        X, k=1, n_words=200, max_steps=50_000, lr_scale=1.0, grad_tol=1e-6
    )
    assert res["converged"] and res["steps"] % 1000 == 0 and res["steps"] < 50_000
    assert res["grad_norm"] / (2 * res["n_words"]) < 1e-6


def test_high_dimension_runs_in_the_top_r_subspace():
    # d = 300 (the paper's glove.840B.300d) restricted to r = 12 directions
    X = _words(1000, 300, seed=3)
    res = gl.gd_check(X, k=1, n_words=400, max_steps=2000, rank=12)
    assert (res["d"], res["r"], res["space"]) == (300, 12, "top-r principal subspace")
    assert res["B_gd"].shape == res["B_closed"].shape == (12, 12)
    # a random basis of the subspace: X'X is a full matrix, not diagonal
    assert np.abs(res["B_closed"] - np.diag(np.diag(res["B_closed"]))).max() > 1e-3
    # the subspace holds the top eigenvalue: σ_max(B_closed) matches the full data's
    sub = X[np.sort(np.random.default_rng(0).choice(1000, 400, replace=False))]
    full_top = np.linalg.eigvalsh(sub.T.astype(np.float64) @ sub / 400)[-1]
    _, b_top = lae.theorem1_final(0.0, full_top + 1.0)
    assert res["sv_closed"][0] == pytest.approx(b_top, rel=1e-8)


def test_diagonal_recursion_is_the_same_loop():
    # gd_singular_values runs train_linear_gd's loop on diagonal matrices
    rng = np.random.default_rng(5)
    s = np.array([2.0, 1.2, 0.5])
    U, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    X = (U * s).T  # XᵀX = U diag(s²) Uᵀ
    b0 = np.array([3.0, 2.0, 1.5])
    lr = lae.stable_step(s[0], np.zeros(3), b0, 0.2)
    a, b = lae.gd_singular_values(s, np.zeros(3), b0, lr, 500)
    res = lae.train_linear_gd(
        X, np.zeros((3, 3)), (U * b0) @ U.T, lr, max_steps=500, tol=None
    )
    np.testing.assert_allclose(np.diag(U.T @ res["B"] @ U), b, atol=1e-12)
    np.testing.assert_allclose(np.diag(U.T @ res["A"] @ U), a, atol=1e-12)


def _flat(n, d, seed=6):
    """Random vectors: a flat spectrum, as benchmarks/paper_scale.py's 840B-shaped file."""
    return np.random.default_rng(seed).normal(0.0, 0.35, size=(n, d)).astype(np.float32)


def test_flow_gap_predicts_the_full_matrix_result():
    # Appendix E's recursion on the singular values gives, before the run, the relative
    # difference that full-matrix GD (in a random basis) then shows
    res = gl.gd_check(_flat(600, 40), k=1, n_words=300, max_steps=20_000, rank=8,
                      lr_scale=1.0, flow_tol=1.0)
    assert res["lr_scale"] == 1.0 and res["converged"]
    assert res["flow_gap"] == pytest.approx(res["rel_diff"], rel=1e-6)


def test_flow_tol_halves_the_step_on_a_flat_spectrum():
    # at the stability-derived step every direction of a flat spectrum moves at the
    # largest rate: GD converges, but to its own limit, O(step) from the flow's
    X = _flat(600, 40)
    kw = {"k": 1, "n_words": 300, "max_steps": 20_000, "rank": 8}
    big = gl.gd_check(X, lr_scale=1.0, **kw)
    assert big["converged"] and big["rel_diff"] > 1e-2
    small = gl.gd_check(X, lr_scale=1.0, flow_tol=5e-3, **kw)
    assert small["lr_scale"] < 1.0 and small["converged"]
    assert small["flow_gap"] <= 5e-3
    assert small["rel_diff"] == pytest.approx(small["flow_gap"], rel=1e-6)
    # the largest such step: twice it misses flow_tol
    twice = gl.gd_check(X, lr_scale=2 * small["lr_scale"], flow_tol=1.0, **kw)
    assert twice["flow_gap"] > 5e-3


def test_data_gram_over_blocks():
    X = _flat(1000, 7)
    Y = X.astype(np.float64)
    want = Y.T @ Y
    np.testing.assert_array_equal(lae.data_gram(X, chunk=5000), want)  # one block
    np.testing.assert_allclose(lae.data_gram(X, chunk=64), want, rtol=1e-13)
    bad = X.copy()
    bad[700, 3] = np.inf
    with pytest.raises(ValueError, match="non-finite"):
        lae.data_gram(bad, chunk=64)
    with pytest.raises(ValueError, match="chunk"):
        lae.data_gram(X, chunk=0)
    # several degrees from one Gram matrix: the same encoders
    G = lae.data_gram(X)
    for k in (0, 2):
        np.testing.assert_array_equal(lae.asymmetric_encoder(X, k, gram=G),
                                      lae.asymmetric_encoder(X, k))
    with pytest.raises(ValueError, match="gram"):
        lae.asymmetric_encoder(X, 1, gram=G[:3])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"flow_tol": 0.0},
        {"halvings": -1},
        {"rank": 0},
        {"n_words": 0},
        {"lr_scale": -1.0},
        {"grad_tol": 0.0},
        {"max_steps": 1.5},
        {"k": -1},
    ],
)
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        gl.gd_check(_words(50, 3), **kwargs)


def test_bad_data():
    with pytest.raises(ValueError, match="matrix"):
        gl.gd_check(np.ones(5))
    with pytest.raises(ValueError, match="non-finite"):
        gl.gd_check(np.full((10, 2), np.nan))
