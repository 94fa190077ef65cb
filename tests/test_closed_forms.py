"""Closed forms of Sections 3-4 (Lemma 1, Lemma 2, Corollaries 1-2) against direct
computation or simulation, and the input checks of closed_forms / gaussians."""
from __future__ import annotations

import numpy as np
import pytest

from aligned_latents.theory import closed_forms as cf
from aligned_latents.theory import gaussians as g

# Two double-precision routes to the same cosine (SVD vs direct products) of well-conditioned
# random data agree to a few hundred ulps; 1e-12 leaves a margin of ~100x over what we see.
EXACT = 1e-12


# -- Lemma 1 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("h,d", [(2, 2), (3, 7), (7, 3), (20, 20), (1, 4)])
def test_lemma1_matches_direct_cosine(h, d):
    rng = np.random.default_rng(h * 100 + d)
    for _ in range(25):
        B = rng.standard_normal((h, d)) * rng.uniform(0.1, 10, size=(1, d))
        q1, q2 = rng.standard_normal(d), rng.standard_normal(d)
        assert abs(cf.lemma1_cosine(B, q1, q2) - cf.direct_cosine_after(B, q1, q2)) < EXACT


def test_lemma1_identity_map_keeps_cosine():
    rng = np.random.default_rng(1)
    q1, q2 = rng.standard_normal(5), rng.standard_normal(5)
    assert abs(cf.lemma1_cosine(np.eye(5), q1, q2) - cf.cosine(q1, q2)) < EXACT


def test_lemma1_null_space_and_bad_input():
    B = np.array([[1.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="null space"):
        cf.lemma1_cosine(B, [0.0, 1.0, 0.0], [1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="shape"):
        cf.lemma1_cosine(np.eye(3), [1.0, 0.0], [0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="non-finite"):
        cf.lemma1_cosine(np.array([[np.nan, 0], [0, 1.0]]), [1.0, 0], [0, 1.0])
    with pytest.raises(ValueError, match="nonzero"):
        cf.lemma1_cosine(np.eye(2), [0.0, 0.0], [0, 1.0])
    with pytest.raises(ValueError, match="dimension"):
        cf.lemma1_cosine(np.ones(3), [1.0], [1.0])


@pytest.mark.parametrize("h,d", [(4, 4), (3, 6), (6, 3)])
def test_appendix_a_second_line_as_intended(h, d):
    # BᵀB = V Σ_BᵀΣ_B Vᵀ (the printed "V Σ B² Vᵀ" with the subscript restored), any shape
    B = np.random.default_rng(2).standard_normal((h, d))
    gram, factored = cf.lemma1_gram_factorizations(B)
    assert gram.shape == factored.shape == (d, d)
    assert np.abs(gram - factored).max() < EXACT * np.abs(gram).max()


def test_spectrum_condition_trial():
    rng = np.random.default_rng(11)
    for h, d in [(2, 2), (3, 8), (8, 3)]:
        before, after = cf.spectrum_condition_trial(h, d, 10.0, rng)
        assert -1 <= before <= 1 and -1 <= after <= 1
        assert after > before
    with pytest.raises(ValueError, match="ratio > 1"):
        cf.spectrum_condition_trial(3, 3, 1.0, rng)
    with pytest.raises(ValueError, match="d must be an integer >= 2"):
        cf.spectrum_condition_trial(3, 1, 10.0, rng)


# -- Lemma 2 ---------------------------------------------------------------------------------

def test_lemma2_limit_eigenpairs():
    mus = np.array([[1.0, 0, 0], [0, 2.0, 0], [0.5, 0.5, 1.0]])
    lim = cf.lemma2_limit(mus, 6.0)
    w, V = np.linalg.eigh(lim.matrix)
    assert np.allclose(np.sort(w)[::-1], lim.eigenvalues, atol=EXACT * 10)
    assert abs(abs(V[:, -1] @ lim.top_eigenvector) - 1) < EXACT
    # the limit equals Σ_j (Σ_j + μ_j μ_jᵀ) for the (symmetrized) Lemma 2 covariances
    mix = g.lemma2_mixture(mus, 6.0)
    assert np.allclose(g.mixture_second_moment(mix.mus, mix.covs), lim.matrix, atol=1e-12)


def test_lemma2_printed_covariance_not_symmetric_but_same_sum():
    mus = np.array([[1.0, 0, 0], [0, 2.0, 0], [0.5, 0.5, 1.0]])
    Ds = np.stack([np.eye(3)] * 3)
    printed = g.lemma2_covariances(mus, Ds)
    sym = g.lemma2_covariances(mus, Ds, symmetrize=True)
    assert np.abs(printed[0] - printed[0].T).max() > 0.5
    assert np.allclose(printed.sum(0), sym.sum(0), atol=1e-14)
    with pytest.raises(ValueError, match="not symmetric"):
        g.sample_mixture(mus, printed, 10, 0)


def test_lemma2_monte_carlo_error_matches_exact_rms():
    # The exact RMS error formula vs the empirical RMS over 200 repetitions: the relative
    # sd of an average of 200 squared errors is ~sqrt(2/200) ~ 0.1 at most (chi-square-like),
    # so a 30% band on the mean squared error is > 3 sd.
    mus = np.array([[1.0, 0, 0], [0, 1.0, 0], [0.5, 0.5, 1.0]])
    mix = g.lemma2_mixture(mus, 4.0)
    lim = cf.lemma2_limit(mus, 4.0)
    n, rng = 400, np.random.default_rng(3)
    sq = []
    for _ in range(200):
        X, _ = g.sample_mixture(mix.mus, mix.covs, n, rng)
        sq.append(np.sum((g.second_moment(X, n) - lim.matrix) ** 2))
    rms = g.second_moment_rms_error(mix.mus, mix.covs, n)
    assert abs(np.mean(sq) / rms ** 2 - 1) < 0.3


def test_lemma2_bad_input():
    with pytest.raises(ValueError, match="sum to zero"):
        cf.lemma2_limit([[1.0, 0], [-1.0, 0]], 1.0)
    with pytest.raises(ValueError, match="dimension"):
        cf.lemma2_limit([1.0, 0], 1.0)
    with pytest.raises(ValueError, match="non-finite"):
        cf.lemma2_limit([[1.0, np.inf]], 1.0)
    with pytest.raises(ValueError, match="negative eigenvalue"):
        g.lemma2_mixture([[1.0, 0], [0, 1.0]], 0.1)


# -- Corollary 1 -----------------------------------------------------------------------------

@pytest.mark.parametrize("c", [-1.4, -0.9, 0.3, 2.0, 50.0])
def test_cor1_closed_form_vs_direct(c):
    S1, S2 = cf.cor1_covariances(c)
    q1, q2 = cf.top_eigenvector(S1), cf.top_eigenvector(S2)
    e1, e2 = cf.cor1_top_eigenvectors(c)
    assert abs(abs(q1 @ e1) - 1) < EXACT and abs(abs(q2 @ e2) - 1) < EXACT
    for alpha, beta in [(2.0, 1.0), (5.0, -3.0), (-1.0, 0.2), (1e3, 1.0)]:
        before, after, gamma = cf.cor1_cosines(c, alpha, beta)
        B = cf.cor1_B(alpha, beta)
        assert abs(before - cf.cosine(q1, q2)) < EXACT
        assert abs(after - cf.direct_cosine_after(B, q1, q2)) < EXACT
        assert abs(after - cf.lemma1_cosine(B, q1, q2)) < EXACT
        assert after > before and 0 < gamma <= 1


def test_cor1_eigenvectors_printed_in_appendix_c_are_swapped():
    for c in [-0.9, 2.0]:
        S1, _ = cf.cor1_covariances(c)
        p1, p2 = cf.paper_top_eigenvectors(c)
        q1 = cf.top_eigenvector(S1)
        assert abs(q1 @ p2 - 1) < EXACT
        assert abs(q1 @ p1 - 2 / np.hypot(c, 2)) < EXACT


def test_cor1_expected_second_moment_by_simulation():
    # n = 2e5 per component: entries of (1/n)XXᵀ have sd <= the exact RMS Frobenius error
    # (~0.03 at c = 2); 5 x that RMS is a > 5-sd band, and I + 2J is 5 away on the diagonal.
    c, n = 2.0, 200_000
    mix = g.cor1_mixture(c)
    X, _ = g.sample_mixture(mix.mus, mix.covs, n, 4)
    M = g.second_moment(X, n)
    tol = 5 * g.second_moment_rms_error(mix.mus, mix.covs, n)
    assert np.abs(M - cf.cor1_second_moment(c)).max() < tol
    assert np.abs(M - (np.eye(2) + 2 * np.ones((2, 2)))).max() > 10 * tol
    w = np.linalg.eigvalsh(M)
    assert abs(w[1] - (c + 7)) < tol and abs(w[0] - (c + 3)) < tol


def test_cor1_bad_input():
    with pytest.raises(ValueError, match="alpha\\*\\*2 > beta\\*\\*2"):
        cf.cor1_cosines(1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="alpha\\*\\*2 > beta\\*\\*2"):
        cf.cor1_cosines(1.0, 1.0, -2.0)
    with pytest.raises(ValueError, match="positive semi-definite"):
        cf.cor1_cosines(-2.0, 2.0, 1.0)
    with pytest.raises(ValueError, match="non-finite"):
        cf.cor1_cosines(np.nan, 2.0, 1.0)


def test_cor1_broadcasts():
    before, after, gamma = cf.cor1_cosines(np.array([0.5, 1.0, 3.0]), 2.0, 1.0)
    assert before.shape == after.shape == gamma.shape == (3,)
    assert np.all(after > before)


# -- Corollary 2 -----------------------------------------------------------------------------

def test_cor2_matches_cor1_with_powers_and_increases_with_k():
    for c in [-0.9, 0.5, 3.0]:
        vals = [cf.cor2_cosine(c, k) for k in range(1, 8)]
        for k, v in zip(range(1, 8), vals):
            a, b = cf.cor2_alpha_beta(c, k)
            assert abs(v - cf.cor1_cosines(c, a, b)[1]) < EXACT
        assert np.all(np.diff(vals) > 0)
    # no overflow for large degrees: the limit is cos = 1
    assert abs(cf.cor2_cosine(0.5, 2000) - 1) < EXACT


def test_cor2_simulation_within_statistical_tolerance():
    # First-order error bound: |Δcos| <= ‖∇cos‖ ‖ΔM‖_F; 5 x (gradient x exact RMS of ‖ΔM‖_F)
    # is a >= 5-sd band (Chebyshev: fails with probability < 4%, and far less in practice,
    # the bound being loose); 1e-12 floor for rounding of two cosines near 1.
    n = 100_000
    for c in [-0.9, 2.0]:
        mix = g.cor1_mixture(c)
        X, _ = g.sample_mixture(mix.mus, mix.covs, n, 5)
        M = g.second_moment(X, n)
        q1, q2 = cf.cor1_top_eigenvectors(c)
        rms = g.second_moment_rms_error(mix.mus, mix.covs, n)
        for k in [1, 3, 10]:
            sim = cf.direct_cosine_after(g.matrix_power_sym(M, k), q1, q2)
            L = g.cosine_sensitivity(cf.cor1_second_moment(c), k, q1, q2)
            assert abs(sim - cf.cor2_cosine(c, k)) <= 5 * L * rms + 1e-12


def test_cor2_bad_degree():
    for k in [-1, 0, 1.5, True]:
        with pytest.raises(ValueError):
            cf.cor2_alpha_beta(1.0, k)
        with pytest.raises(ValueError):
            cf.cor2_cosine(1.0, k)


def test_cor2_eigenvalue_readings_and_printed_matrix():
    # the printed I + 2J has eigenvalues 5 and 1 whatever c
    assert np.allclose(np.linalg.eigvalsh(cf.printed_second_moment()), [1.0, 5.0])
    assert np.allclose(np.linalg.eigvalsh(cf.cor1_second_moment(-0.9)), [2.1, 6.1])
    for c in [-0.9, 2.0]:
        for k in [1, 3]:
            assert abs(cf.cor2_cosine(c, k, eigenvalues=(c + 7, c + 3))
                       - cf.cor2_cosine(c, k)) < EXACT
            assert abs(cf.cor2_cosine(c, k, eigenvalues=(5.0, 1.0))
                       - cf.cor1_cosines(c, 5.0 ** k, 1.0)[1]) < EXACT
    with pytest.raises(ValueError, match="eigenvalues"):
        cf.cor2_cosine(1.0, 1, eigenvalues=(1.0, 2.0))


@pytest.mark.parametrize("c", [-0.9, 0.5, 10.0])
def test_cor2_angle_matches_cosine_and_eigenbasis_route(c):
    # where the cosine is well below 1, the angle is its arccos
    for k in [1, 2]:
        theta = cf.cor2_angle(c, k)
        assert abs(theta - np.arccos(cf.cor2_cosine(c, k))) < 1e-9 * theta
    # at large k the cosine rounds to 1 but the angle does not; the eigenbasis
    # computation on the exact expectation is an independent route to it
    for k in [20, 35]:
        theta = cf.cor2_angle(c, k)
        if k == 35 and c == -0.9:      # Figure 5: the cosine is exactly 1.0
            assert cf.cor2_cosine(c, k) == 1.0 and theta > 0
        q1, q2 = cf.cor1_top_eigenvectors(c)
        direct = g.axis_angle_after(cf.cor1_second_moment(c), k, q1, q2)
        assert abs(direct - theta) < 1e-8 * theta


def test_major_axis_closed_form_vs_direct():
    for c in [-1.4, -0.9, 2.0, 20.0]:
        q1, q2 = cf.cor1_top_eigenvectors(c)
        for a, b in [(2.0, 1.0), (6.1, 2.1), (-3.0, 1.0)]:
            direct = cf.direct_cosine_after(cf.stretch_along(q1, a, b), q1, q2)
            assert abs(direct - cf.major_axis_cosine_after(c, a, b)) < EXACT
    # stretch_along([1, 1]) is Corollary 1's B
    assert np.allclose(cf.stretch_along([1.0, 1.0], 3.0, 0.5), cf.cor1_B(3.0, 0.5))
    with pytest.raises(ValueError, match="both zero"):
        cf.major_axis_cosine_after(1.0, 0.0, 0.0)


# -- sampling, power method ------------------------------------------------------------------

def test_sample_mixture_moments_and_checks():
    mix = g.cor1_mixture(1.0)
    X, labels = g.sample_mixture(mix.mus, mix.covs, 50_000, 6)
    assert X.shape == (2, 100_000) and np.bincount(labels).tolist() == [50_000, 50_000]
    # sample covariance of 5e4 points: entries have sd <= ~sqrt(2*9/5e4) ~ 0.02; 0.1 is 5 sd
    assert np.abs(np.cov(X[:, labels == 0]) - mix.covs[0]).max() < 0.1
    with pytest.raises(ValueError, match="negative eigenvalue"):
        g.sample_mixture([[0.0, 0]], [[[1.0, 0], [0, -1.0]]], 5, 0)
    with pytest.raises(ValueError, match="shape"):
        g.sample_mixture([[0.0, 0]], np.eye(2), 5, 0)
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        g.sample_mixture(mix.mus, mix.covs, -3, 0)
    with pytest.raises(ValueError, match="non-finite"):
        g.second_moment(np.array([[1.0, np.nan]]), 1)


def test_power_iterates_align_differences_and_partial_map_invertible():
    mix = g.cor1_mixture(-0.9)
    X, _ = g.sample_mixture(mix.mus, mix.covs, 100, 7)
    M = g.second_moment(X, 100)
    Y0, Y40 = g.power_iterates(X, M, [0, 40])
    cos0 = g.difference_cosines(Y0, 300, 8)
    cos40 = g.difference_cosines(Y40, 300, 8)
    assert np.mean(np.abs(cos0) > 1 - 1e-6) < 0.05
    # after 40 steps the second direction shrinks by (λ2/λ1)^40 ~ 1e-19: all on a line
    assert np.all(np.abs(cos40) > 1 - 1e-9)
    # partial iteration (k = 3): cond ~ 25, the solve recovers X to ~cond * eps
    assert g.reconstruction_error(g.matrix_power_sym(M, 3), X) < 1e-12
    with pytest.raises(ValueError, match="sorted"):
        g.power_iterates(X, M, [3, 1])
    with pytest.raises(ValueError, match="shape"):
        g.power_iterates(X, np.eye(3), [1])


def test_loglog_slope_recovers_known_rate():
    rng = np.random.default_rng(9)
    ns = np.array([100, 1000, 10_000, 100_000])
    errors = ns[:, None] ** -0.5 * np.abs(rng.normal(1, 0.05, size=(4, 50)))
    slope, se, _ = g.loglog_slope(ns, errors)
    assert abs(slope + 0.5) < 5 * se + 1e-3
    with pytest.raises(ValueError, match="positive"):
        g.loglog_slope(ns, -errors)


def test_power_method_precision_and_prediction():
    mix = g.cor1_mixture(-0.9)
    X, _ = g.sample_mixture(mix.mus, mix.covs, 80, 12)
    M = g.second_moment(X, 80)
    idx = g.random_quadruples(X.shape[1], 300, 13)
    (Y32,) = g.power_iterates(X, M, [3], dtype=np.float32)
    assert Y32.dtype == np.float32 and g.pair_cosines(Y32, idx).dtype == np.float32
    t32 = g.steps_to_alignment(X, M, idx, dtype=np.float32)
    t64 = g.steps_to_alignment(X, M, idx, dtype=np.float64)
    assert t64 > t32
    for dt, t in [(np.float32, t32), (np.float64, t64)]:
        assert abs(g.predicted_steps_to_alignment(X, M, idx, np.finfo(dt).eps) - t) <= 1
    assert g.steps_to_alignment(X, M, idx, max_steps=0) is None
    with pytest.raises(ValueError, match="float32 or float64"):
        g.power_iterates(X, M, [1], dtype=np.float16)


def test_sample_major_axes_and_gain_spread():
    mix = g.cor1_mixture(4.0)
    B = cf.cor1_B(3.0, 1.0)
    X, labels = g.sample_mixture(mix.mus, mix.covs, 20_000, 14)
    axes = g.sample_major_axes(X, labels)
    exact = np.stack([cf.top_eigenvector(S) for S in mix.covs])
    # 2e4 points: the sample axes are within ~0.01 rad of the exact ones
    assert np.all(np.abs(np.sum(axes * exact, axis=1)) > 1 - 1e-3)
    before, after, _ = cf.cor1_cosines(4.0, 3.0, 1.0)
    spread = g.sample_gain_spread(mix.mus, mix.covs, 400, B, 50, 15)
    assert spread.shape == (50,)
    # the mean measured gain is within 4 standard errors of Corollary 1's gain
    assert abs(spread.mean() - (after - before)) < 4 * spread.std(ddof=1) / np.sqrt(50)
    assert abs(g.axis_gain(exact, B) - (after - before)) < EXACT


def test_symmetric_gradient_norm_and_log_angle_sensitivity():
    M = np.array([[2.0, 0.3], [0.3, 1.0]])
    # the gradient of the trace is the identity: Frobenius norm √2
    assert abs(g.symmetric_gradient_norm(np.trace, M) - np.sqrt(2)) < 1e-8
    q1, q2 = cf.cor1_top_eigenvectors(-0.9)
    L = g.log_angle_sensitivity(cf.cor1_second_moment(-0.9), 35, q1, q2)
    assert np.isfinite(L) and L > 0


def test_lemma1_cosine_with_precomputed_svd_is_the_same():
    rng = np.random.default_rng(3)
    B = rng.normal(size=(5, 7))
    svd = cf.lemma1_svd(B)
    for _ in range(5):
        q1, q2 = rng.normal(size=7), rng.normal(size=7)
        assert cf.lemma1_cosine(B, q1, q2, svd=svd) == cf.lemma1_cosine(B, q1, q2)
    with pytest.raises(ValueError, match="svd does not belong"):
        cf.lemma1_cosine(B, q1, q2, svd=cf.lemma1_svd(B[:, :6]))
