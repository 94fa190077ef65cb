"""Unit tests of aligned_latents.theory.linear_ae (Theorem 1, Corollaries 3-4, Appendices E-F)."""
import numpy as np
import pytest
import torch

from aligned_latents.theory import closed_forms as cf
from aligned_latents.theory import linear_ae as lae


def _data(n=60, d=6, r=4, seed=0):
    rng = np.random.default_rng(seed)
    W = np.linalg.qr(rng.standard_normal((d, r)))[0]
    return rng.standard_normal((n, r)) * np.sqrt(np.linspace(2.0, 0.5, r)) @ W.T


def test_theorem1_final_solves_conservation_and_interpolation():
    # independent: the positive root of b⁴ - c² b² - 1 = 0 via np.roots
    for a0, b0 in [(0.0, 1.0), (0.3, 2.5), (2.0, 0.5), (1.2, 1.2)]:
        a, b = lae.theorem1_final(a0, b0)
        c2 = b0 ** 2 - a0 ** 2
        roots = np.roots([1.0, 0.0, -c2, 0.0, -1.0])
        b_ref = max(r.real for r in roots if abs(r.imag) < 1e-12)
        assert b == pytest.approx(b_ref, rel=1e-12)       # float64 roundoff
        assert a * b == pytest.approx(1.0, rel=1e-12)
        assert a ** 2 - a0 ** 2 == pytest.approx(b ** 2 - b0 ** 2, abs=1e-12)


def test_theorem1_as_printed_formula_and_nan():
    a, b = lae.theorem1_as_printed(0.0, 1.0)
    assert b == pytest.approx(np.sqrt(0.5) + np.sqrt(1.25), rel=1e-14)
    assert a == pytest.approx(1 / b, rel=1e-14)
    assert abs(b - lae.theorem1_final(0.0, 1.0)[1]) > 0.5      # the display disagrees
    _, b_neg = lae.theorem1_as_printed(0.5, 0.5)               # b0² - a0 < 0
    assert np.isnan(b_neg)


def test_ode_matches_theorem1_and_null_directions_stay():
    s = np.array([3.0, 1.5, 0.7, 0.0])
    a0 = np.array([0.0, 0.2, 1.5, 0.0])
    b0 = np.array([2.0, 1.0, 0.3, 1.0])
    a, b, info = lae.gradient_flow_singular_values(s, a0, b0)
    ap, bp = lae.theorem1_final(a0, b0)
    assert info["success"]
    # rtol 1e-11 and e^-40 decay of the slowest mode: 1e-8 is far above both
    np.testing.assert_allclose(b[:3], bp[:3], atol=1e-8)
    np.testing.assert_allclose(a[:3], ap[:3], atol=1e-8)
    assert b[3] == b0[3] and a[3] == a0[3]                   # s = 0: the flow does not move


def test_full_matrix_gd_matches_diagonal_recursion_and_stays_polynomial():
    X = _data()
    U, s, r = lae.data_svd(X)
    assert r == 4 and np.all(s[4:] == 0)
    B0 = lae.polynomial_initialization(X, 2)
    A0 = np.zeros_like(B0)
    b0, off = lae.singular_values_in_basis(B0, U)
    assert off < 1e-12
    lr = lae.stable_step(s[0], np.zeros(6), b0, 0.2)
    res = lae.train_linear_gd(X, A0, B0, lr, max_steps=3000, check_every=100, tol=1e-300)
    a_rec, b_rec = lae.gd_singular_values(s, np.zeros(6), b0, lr, res["steps"])
    b_gd, offB = lae.singular_values_in_basis(res["B"], U)
    a_gd, _ = lae.singular_values_in_basis(res["A"], U)
    # same arithmetic in two bases: roundoff only
    np.testing.assert_allclose(b_gd, b_rec, atol=1e-10)
    np.testing.assert_allclose(a_gd, a_rec, atol=1e-10)
    assert offB < 1e-10 and res["max_commutator"] < 1e-10


def test_gd_limit_approaches_flow_linearly_in_step():
    s = np.array([2.0, 1.0]); a0 = np.zeros(2); b0 = np.array([3.0, 1.5])
    _, bp = lae.theorem1_final(a0, b0)
    errs = []
    for f in (0.1, 0.05):
        lr = lae.stable_step(s[0], a0, b0, f)
        _, b = lae.gd_singular_values(s, a0, b0, lr, int(600 / f))
        errs.append(np.abs(b - bp).max())
    # first order in the step: halving it halves the error (±20 % for O(step²) terms)
    assert errs[0] / errs[1] == pytest.approx(2.0, rel=0.2)


def test_gradients_match_autograd_and_appendix_e_factor_two():
    X = _data(n=30, d=5, r=5, seed=1)
    rng = np.random.default_rng(2)
    A, B = rng.standard_normal((2, 5, 5))
    At = torch.tensor(A, requires_grad=True); Bt = torch.tensor(B, requires_grad=True)
    Xt = torch.tensor(X)
    ((Xt - Xt @ Bt.T @ At.T) ** 2).sum().backward()
    gA, gB = lae.linear_gradients(A, B, X)
    np.testing.assert_allclose(gA, At.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gB, Bt.grad.numpy(), rtol=1e-10, atol=1e-10)
    uA, uB = lae.appendix_e_update(A, B, X)
    np.testing.assert_allclose(gA, -2 * uA, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(gB, -2 * uB, rtol=1e-12, atol=1e-10)
    assert lae.linear_loss(A, B, X) == pytest.approx(float(((X - X @ B.T @ A.T) ** 2).sum()))


def test_polynomial_initialization_and_asymmetric_encoder():
    X = _data()
    lam = np.linalg.eigvalsh(X.T @ X / len(X))
    for shift in (0.0, 1.0):
        ev = np.linalg.eigvalsh(lae.polynomial_initialization(X, 3, shift=shift))
        np.testing.assert_allclose(np.sort(ev), np.sort((lam + shift) ** 3), rtol=1e-10, atol=1e-10)
    # asymmetric_encoder = Theorem 1 applied to B0 = (XᵀX/n + I)^k on the span, B0 off it
    U, s, _r = lae.data_svd(X)
    b0, _ = lae.singular_values_in_basis(lae.polynomial_initialization(X, 2), U)
    _, b = lae.theorem1_final(np.zeros_like(b0), b0)
    b[s == 0] = b0[s == 0]
    np.testing.assert_allclose(lae.asymmetric_encoder(X, 2), (U * b) @ U.T, atol=1e-9)



def test_asymmetric_encoder_blas_threads(monkeypatch):
    """``blas_threads=1``: the eigen-decomposition runs on one BLAS thread (seen from
    inside it), the threads are restored after, the encoder is the default one up to
    rounding, and a bad value is refused before ``XᵀX`` is formed."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    X = _data()
    before = [i["num_threads"] for i in threadpoolctl.threadpool_info()
              if i["user_api"] == "blas"]
    seen, eigh = [], np.linalg.eigh

    def spy(a):
        seen.append([i["num_threads"] for i in threadpoolctl.threadpool_info()
                     if i["user_api"] == "blas"])
        return eigh(a)

    monkeypatch.setattr(lae.np.linalg, "eigh", spy)
    B1 = lae.asymmetric_encoder(X, 2, blas_threads=1)
    assert seen[-1] == [1] * len(before)
    assert [i["num_threads"] for i in threadpoolctl.threadpool_info()
            if i["user_api"] == "blas"] == before
    B = lae.asymmetric_encoder(X, 2)
    assert seen[-1] == before
    np.testing.assert_allclose(B1, B, rtol=1e-12, atol=1e-12 * np.abs(B).max())
    monkeypatch.setattr(lae, "data_gram", lambda *a: pytest.fail("XᵀX formed"))
    for bad in (0, 1.5, "1"):
        with pytest.raises(ValueError, match="blas_threads"):
            lae.asymmetric_encoder(X, 2, blas_threads=bad)

def test_corollary4_alpha_beta_and_cosine():
    c, k = 2.0, 2
    al, be = lae.corollary4_alpha_beta(c, k)
    # the displayed formula of Corollary 4, typed independently
    assert al == pytest.approx(np.sqrt((c + 7) ** (2 * k) / 2 + np.sqrt(1 + (c + 7) ** (4 * k) / 4)))
    assert be == pytest.approx(np.sqrt((c + 3) ** (2 * k) / 2 + np.sqrt(1 + (c + 3) ** (4 * k) / 4)))
    al1, _be1 = lae.corollary4_alpha_beta(c, k, shift=1.0)
    assert al1 == pytest.approx(lae.theorem1_final(0.0, (c + 8) ** k)[1])
    # Corollary 1's closed-form cosine vs the cosine of an explicit B
    u1, u2 = np.array([1, 1]) / np.sqrt(2), np.array([1, -1]) / np.sqrt(2)
    B = al * np.outer(u1, u1) + be * np.outer(u2, u2)
    J = np.ones((2, 2))
    q1 = np.linalg.eigh(np.diag([c + 1, 1]) + J)[1][:, -1]
    q2 = np.linalg.eigh(np.diag([1, c + 1]) + J)[1][:, -1]
    q1, q2 = q1 * np.sign(q1.sum()), q2 * np.sign(q2.sum())
    after = cf.cor1_cosines(c, al, be, strict=False)[1]
    assert after == pytest.approx(lae.cosine(B @ q1, B @ q2), abs=1e-12)
    # degree 0: no stretch (alpha = beta), the cosine is unchanged; outside the
    # Corollary's hypothesis unless strict=False
    al0, be0 = lae.corollary4_alpha_beta(c, 0)
    assert al0 == be0
    before, after0, gamma0 = cf.cor1_cosines(c, al0, be0, strict=False)
    assert gamma0 == 0 and after0 == pytest.approx(before, abs=1e-15)
    with pytest.raises(ValueError, match="alpha\\*\\*2 > beta"):
        cf.cor1_cosines(c, al0, be0)
    with pytest.raises(ValueError, match="alpha\\*\\*2 > beta"):
        cf.cor1_cosines(c, 0.0, 0.0, strict=False)


def test_mixture_sample_gram_limit():
    c, n = 2.0, 100_000
    X, _, _ = lae.mixture_sample(n, c, seed=3)
    G = X.T @ X / n
    # E[(1/n)XXᵀ] = (c+3)I + 2J; sd of an entry ~ sqrt(2·Var/n) ~ 0.02 at n = 1e5, 0.1 is 5 sd
    np.testing.assert_allclose(G, (c + 3) * np.eye(2) + 2 * np.ones((2, 2)), atol=0.1)


def test_flow_trajectory_conserves_eq2_and_matches_the_end_point():
    s = np.array([3.0, 1.5, 0.0])
    a0, b0 = np.array([0.0, 0.4, 0.0]), np.array([2.0, 1.0, 1.0])
    t_eval = np.geomspace(1e-4, 1.0, 30)
    _a, b, info = lae.gradient_flow_singular_values(s, a0, b0, t_end=1.0, t_eval=t_eval)
    assert info["a_t"].shape == (info["t"].size, 3) and info["t"][-1] == 1.0
    np.testing.assert_allclose(info["b_t"][-1], b)
    # Eq. (2) along the whole trajectory (ODE rtol 1e-11)
    drift = (info["a_t"] ** 2 - a0 ** 2) - (info["b_t"] ** 2 - b0 ** 2)
    assert np.abs(drift).max() < 1e-8
    with pytest.raises(ValueError):
        lae.gradient_flow_singular_values(s, a0, b0, t_end=1.0, t_eval=[0.5, 0.1])


def test_theorem1_dynamics_gd_follows_the_flow():
    s = np.array([2.0, 1.0, 0.0])
    a0, b0 = np.zeros(3), np.array([3.0, 1.5, 1.0])
    lr = lae.stable_step(2.0, a0, b0, 0.01)
    df = lae.theorem1_dynamics(s, a0, b0, lr, n_points=12)
    assert set(df.method) == {"gradient flow", "gradient descent"}
    assert set(df.direction) == {1, 2}                        # s = 0 left out
    wide = df.pivot_table(index=["step", "direction"], columns="method", values="b")
    # same times: GD is within O(step) of the flow (step fraction 0.01)
    assert (wide["gradient flow"] - wide["gradient descent"]).abs().max() < 0.01
    end = df[df.step == df.step.max()]
    _, b_inf = lae.theorem1_final(a0, b0)
    flow_end = end[end.method == "gradient flow"].sort_values("direction").b.to_numpy()
    np.testing.assert_allclose(flow_end, b_inf[:2], atol=1e-7)


def test_step_study_error_and_drift_are_first_order():
    s = np.array([2.0, 1.0]); a0 = np.zeros(2); b0 = np.array([3.0, 1.5])
    st = lae.step_study(s, a0, b0, [0.1, 0.05])
    assert list(st.columns[:3]) == ["step_fraction", "lr", "steps"]
    # halving the step halves both the error of the limit and the drift of Eq. (2)
    assert st.max_err_b[0] / st.max_err_b[1] == pytest.approx(2.0, rel=0.2)
    assert st.max_drift[0] / st.max_drift[1] == pytest.approx(2.0, rel=0.2)


def test_corollary4_experiment_columns_and_values():
    c, n = 2.0, 4000
    X, q1, q2 = lae.mixture_sample(n, c, seed=1)
    df = lae.corollary4_experiment(X, q1, q2, c, [0, 1], normalizer=n, step_fraction=0.1)
    assert list(df.init.unique()) == ["power", "plus identity"] and len(df) == 4
    k0 = df[df.k == 0]
    # B0 = I: the flow ends at a multiple of the identity, no change of the cosine;
    # GD only by its O(step) bias
    np.testing.assert_allclose(k0.cos_sample_flow, k0.cos_before, atol=1e-12)
    np.testing.assert_allclose(k0.cos_trained, k0.cos_before, atol=0.01)
    k1 = df[(df.k == 1) & (df.init == "power")].iloc[0]
    assert k1.cos_trained > k1.cos_before
    assert k1.alpha_flow == pytest.approx(k1.alpha_pred, rel=0.05)   # n = 4000: ~1 %
    assert k1.alpha_trained == pytest.approx(k1.alpha_flow, rel=0.1)  # GD, step 0.1


@pytest.mark.parametrize("call", [
    lambda: lae.polynomial_initialization(np.ones((4, 3)), -1),
    lambda: lae.polynomial_initialization(np.ones((4, 3)), 1.5),
    lambda: lae.polynomial_initialization(np.array([[1.0, np.nan]]), 1),
    lambda: lae.data_svd(np.ones(3)),
    lambda: lae.linear_loss(np.ones((3, 2)), np.ones((3, 3)), np.ones((5, 3))),
    lambda: lae.spectral_initialization(np.ones((3, 3)), np.ones(3), np.ones(3)),
    lambda: lae.spectral_initialization(np.eye(3), -np.ones(3), np.ones(3)),
    lambda: lae.spectral_initialization(np.eye(3), np.ones(2), np.ones(3)),
    lambda: lae.stable_step(1.0, [0.0], [1.0], 1.5),
    lambda: lae.gradient_flow_singular_values([-1.0], [0.0], [1.0]),
    lambda: lae.gradient_flow_singular_values([0.0], [0.0], [1.0]),
    lambda: lae.gd_singular_values([1.0], [0.0], [1.0], 0.1, -1),
    lambda: lae.train_linear_gd(np.ones((4, 3)), np.eye(3), np.eye(3), 0.1, max_steps=0),
    lambda: lae.theorem1_as_printed([np.inf], [1.0]),
    lambda: lae.corollary4_alpha_beta(2.0, -1),
    lambda: lae.mixture_sample(0, 2.0),
    lambda: lae.mixture_sample(2.0, 2.0),
    lambda: lae.theorem1_dynamics([1.0], [0.0], [1.0], 0.01, n_points=1),
    lambda: lae.theorem1_dynamics([0.0], [0.0], [1.0], 0.01),
    lambda: lae.cosine([0.0, 0.0], [1.0, 0.0]),
])
def test_bad_input_raises(call):
    with pytest.raises(ValueError):
        call()
