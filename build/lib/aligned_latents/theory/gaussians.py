"""Gaussian mixtures of Section 4 and Appendices B-D: sampling, second moments, power method.

Convention: as in Section 4 of the paper, a data matrix ``X`` is ``d x N`` with one sample
per *column*; for a mixture of ``m`` components with ``n`` samples each, ``N = m n`` and the
paper's ``(1/n) X Xᵀ`` divides by the number of samples *per component* (so that its limit
is ``Σ_j E[x^{(j)} x^{(j)ᵀ}]``, Appendix B).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from aligned_latents.util.validation import as_finite_array, check_degree, check_int

# -- mixtures --------------------------------------------------------------------------------


class Mixture(NamedTuple):
    """Means (m, d), covariances (m, d, d) and the ``D_j`` (m, d, d) they were built from."""
    mus: np.ndarray
    covs: np.ndarray
    Ds: np.ndarray


def _check_n(n) -> int:
    """A number of samples per component: an integer >= 1."""
    return check_int(n, "n", minimum=1)


def cor1_mixture(c) -> Mixture:
    """Corollary 1's setting: ``μ_1 = e_1``, ``μ_2 = e_2``, ``Σ_j = D_j + J`` with
    ``D_1 = diag(c+1, 1)``, ``D_2 = diag(1, c+1)`` (so ``Σ_j D_j = (c+2) I``)."""
    from aligned_latents.theory.closed_forms import cor1_covariances, cor1_D

    return Mixture(np.eye(2), np.stack(cor1_covariances(c)), np.stack(cor1_D(c)))


def lemma2_covariances(mus, Ds, symmetrize: bool = False) -> np.ndarray:
    """Lemma 2's ``Σ_j = D_j + μ_j (Σ_{i≠j} μ_i)ᵀ`` (as printed: not symmetric in general).

    With ``symmetrize=True`` the rank-two term is replaced by its symmetric part
    ``(μ_j s_jᵀ + s_j μ_jᵀ)/2`` (``s_j = Σ_{i≠j} μ_i``); the sum over ``j`` is unchanged,
    so Lemma 2's limit is unchanged, and ``Σ_j`` can be a covariance.

    Parameters
    ----------
    mus : array-like (m, d)
    Ds : array-like (m, d, d)
    """
    mus = as_finite_array(mus, "mus", ndim=2)
    m, d = mus.shape
    Ds = as_finite_array(Ds, "Ds", shape=(m, d, d))
    total = mus.sum(axis=0)
    out = []
    for j in range(m):
        s_j = total - mus[j]
        R = np.outer(mus[j], s_j)
        out.append(Ds[j] + (0.5 * (R + R.T) if symmetrize else R))
    return np.stack(out)


def lemma2_mixture(mus, c: float, spread=None) -> Mixture:
    """A valid instance of Lemma 2 (symmetrized covariances) with ``Σ_j D_j = c I``.

    ``D_j = w_j c I`` with weights ``w_j`` (default equal, ``1/m``); raises if a resulting
    ``Σ_j`` is not positive semi-definite (take ``c`` larger).
    """
    mus = as_finite_array(mus, "mus", ndim=2)
    m, d = mus.shape
    c = float(as_finite_array(c, "c", ndim=0))
    w = np.full(m, 1.0 / m) if spread is None else as_finite_array(spread, "spread", shape=(m,))
    if not np.isclose(w.sum(), 1.0):
        raise ValueError(f"spread must sum to 1, got {w.sum()}")
    Ds = np.stack([w[j] * c * np.eye(d) for j in range(m)])
    covs = lemma2_covariances(mus, Ds, symmetrize=True)
    for j, S in enumerate(covs):
        lo = np.linalg.eigvalsh(S).min()
        if lo < -1e-12:
            raise ValueError(f"Σ_{j + 1} has a negative eigenvalue {lo:.3g}: not a covariance; "
                             f"take c larger")
    return Mixture(mus, covs, Ds)


def _check_covariance(S, name):
    if not np.allclose(S, S.T, rtol=0, atol=1e-12 * max(1.0, np.abs(S).max())):
        asym = np.abs(S - S.T).max()
        raise ValueError(f"{name} is not symmetric (max |Σ - Σᵀ| = {asym:.3g}): "
                         "not a covariance matrix")
    w, V = np.linalg.eigh(S)
    if w.min() < -1e-10 * max(1.0, w.max()):
        raise ValueError(f"{name} has a negative eigenvalue {w.min():.3g}: not a covariance")
    return V * np.sqrt(np.clip(w, 0, None))


def sample_mixture(mus, covs, n: int, rng):
    """``n`` samples from each ``N(μ_j, Σ_j)``: returns ``X`` (d, m n) and labels (m n,).

    Columns are samples (the paper's convention). ``rng`` is a ``numpy.random.Generator`` or
    a seed. Covariances must be symmetric positive semi-definite: Lemma 2's printed
    ``Σ_j`` is refused (see :func:`lemma2_covariances`).
    """
    mus = as_finite_array(mus, "mus", ndim=2)
    m, d = mus.shape
    covs = as_finite_array(covs, "covs", shape=(m, d, d))
    n = _check_n(n)
    rng = np.random.default_rng(rng)
    blocks = []
    for j in range(m):
        L = _check_covariance(covs[j], f"covs[{j}]")
        z = rng.standard_normal((d, n))
        blocks.append(mus[j][:, None] + L @ z)
    return np.concatenate(blocks, axis=1), np.repeat(np.arange(m), n)


def second_moment(X, n: int) -> np.ndarray:
    """The paper's ``(1/n) X Xᵀ`` (``n`` samples per component; ``X`` is d x N)."""
    X = as_finite_array(X, "X", ndim=2)
    n = _check_n(n)
    return X @ X.T / n


def mixture_second_moment(mus, covs) -> np.ndarray:
    """Exact ``E[(1/n) X Xᵀ] = Σ_j (Σ_j + μ_j μ_jᵀ)`` (Appendix B, before plugging in Σ_j)."""
    mus = as_finite_array(mus, "mus", ndim=2)
    m, d = mus.shape
    covs = as_finite_array(covs, "covs", shape=(m, d, d))
    return covs.sum(axis=0) + mus.T @ mus


def second_moment_rms_error(mus, covs, n: int) -> float:
    """Exact root-mean-square Frobenius error ``√E‖(1/n)XXᵀ - E[(1/n)XXᵀ]‖²_F``.

    For ``x ~ N(μ, Σ)``, ``E‖xxᵀ - M‖²_F = E[(xᵀx)²] - ‖M‖²_F`` with ``M = Σ + μμᵀ`` and
    ``E[(xᵀx)²] = 2 tr(Σ²) + 4 μᵀΣμ + (tr Σ + ‖μ‖²)²``; the ``m n`` samples are independent,
    so the mean squared error is ``(1/n) Σ_j (E[(x_jᵀx_j)²] - ‖M_j‖²_F)`` — the ``n^{-1/2}``
    rate of the strong law in Lemma 2's proof, with its constant.
    """
    mus = as_finite_array(mus, "mus", ndim=2)
    m, d = mus.shape
    covs = as_finite_array(covs, "covs", shape=(m, d, d))
    n = _check_n(n)
    total = 0.0
    for mu, S in zip(mus, covs):
        M = S + np.outer(mu, mu)
        fourth = 2 * np.trace(S @ S) + 4 * mu @ S @ mu + (np.trace(S) + mu @ mu) ** 2
        total += fourth - np.sum(M * M)
    return float(np.sqrt(total / n))


def loglog_slope(ns, errors):
    """Least-squares slope of ``log(error)`` on ``log(n)`` and its standard error.

    ``errors`` is (len(ns), R): R independent repetitions per ``n``. Each point is the root of
    the mean squared error over the repetitions; its log's standard deviation is estimated by
    the delta method from the spread of the squared errors, and propagated to the slope.

    Returns
    -------
    slope, stderr, rms (len(ns),)
    """
    ns = as_finite_array(ns, "ns", ndim=1)
    errors = as_finite_array(errors, "errors", ndim=2)
    if errors.shape[0] != ns.size or ns.size < 2 or errors.shape[1] < 2:
        raise ValueError(f"errors must be (len(ns) >= 2, R >= 2), got {errors.shape} for "
                         f"{ns.size} values of n")
    if np.any(ns <= 0) or np.any(errors <= 0):
        raise ValueError("ns and errors must be positive for a log-log fit")
    sq = errors ** 2
    mse = sq.mean(axis=1)
    rms = np.sqrt(mse)
    x, y = np.log(ns), np.log(rms)
    xc = x - x.mean()
    slope = float(xc @ (y - y.mean()) / (xc @ xc))
    # sd of log(rms) = 0.5 * sd(mean of sq) / mean(sq)
    sd_y = 0.5 * sq.std(axis=1, ddof=1) / np.sqrt(sq.shape[1]) / mse
    stderr = float(np.sqrt(np.sum((xc / (xc @ xc)) ** 2 * sd_y ** 2)))
    return slope, stderr, rms


# -- power method ----------------------------------------------------------------------------


def power_iterates(X, M, steps, dtype=np.float64):
    """``M^t X`` for each ``t`` in ``steps`` (sorted, >= 0), each rescaled by ``‖M‖_2^{-t}``.

    The rescaling changes no cosine and keeps large ``t`` finite. ``dtype`` is the working
    precision of the iteration (``numpy.float32`` or ``numpy.float64``: footnote 2 of the
    paper, "the number of iterations needed to produce perfect alignment depends on the
    numerical precision"). Returns a list of d x N arrays of that dtype.
    """
    X = as_finite_array(X, "X", ndim=2)
    d = X.shape[0]
    M = as_finite_array(M, "M", shape=(d, d))
    steps = [check_degree(t, "steps") for t in steps]
    if steps != sorted(steps):
        raise ValueError("steps must be sorted increasingly")
    dtype = _float_dtype(dtype)
    Mn = (M / np.linalg.norm(M, 2)).astype(dtype)
    X = X.astype(dtype)
    out, Y, t_now = [], X.copy(), 0
    for t in steps:
        for _ in range(t - t_now):
            Y = Mn @ Y
        t_now = t
        out.append(Y.copy())
    return out


def difference_cosines(Y, n_pairs: int, rng):
    """Cosines ``cos(y_a - y_b, y_c - y_e)`` for ``n_pairs`` random quadruples of distinct
    columns of ``Y`` (the paper's "difference of pairs of unique points", Section 4)."""
    Y = as_finite_array(Y, "Y", ndim=2)
    return pair_cosines(Y, random_quadruples(Y.shape[1], n_pairs, rng))


def _float_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def pair_cosines(Y, idx):
    """Cosines between ``Y[:, a] - Y[:, b]`` and ``Y[:, c] - Y[:, e]`` for rows (a, b, c, e),
    computed in ``Y``'s precision (float32 stays float32)."""
    dtype = Y.dtype if getattr(Y, "dtype", None) == np.float32 else np.float64
    Y = as_finite_array(Y, "Y", ndim=2, dtype=dtype)
    idx = np.asarray(idx)
    if idx.ndim != 2 or idx.shape[1] != 4 or idx.size == 0:
        raise ValueError(f"idx must be (n_pairs, 4) column indices, got shape {idx.shape}")
    u = Y[:, idx[:, 0]] - Y[:, idx[:, 1]]
    v = Y[:, idx[:, 2]] - Y[:, idx[:, 3]]
    den = np.linalg.norm(u, axis=0) * np.linalg.norm(v, axis=0)
    return np.sum(u * v, axis=0) / den


def random_quadruples(N: int, n_pairs: int, rng) -> np.ndarray:
    """``n_pairs`` rows of 4 distinct column indices out of ``N``."""
    n_pairs = check_degree(n_pairs, "n_pairs")
    if N < 4 or n_pairs < 1:
        raise ValueError(f"need at least 4 points and 1 pair, got N={N}, n_pairs={n_pairs}")
    rng = np.random.default_rng(rng)
    return np.stack([rng.choice(N, 4, replace=False) for _ in range(n_pairs)])


def steps_to_alignment(X, M, idx, dtype=np.float64, share: float = 0.99,
                       ulps: int = 4, max_steps: int = 1000):
    """The number of multiplications by ``M`` after which at least ``share`` of the pairs
    of differences ``idx`` (see :func:`pair_cosines`) have ``|cos| = 1`` to the working
    precision (``1 - |cos| <= ulps · eps(dtype)``): the power method's "perfect alignment"
    (Section 4 and its footnote 2). ``None`` if ``max_steps`` do not suffice.
    """
    X = as_finite_array(X, "X", ndim=2)
    dtype = _float_dtype(dtype)
    tol = ulps * np.finfo(dtype).eps
    check_int(max_steps, "max_steps", minimum=0)
    Y = power_iterates(X, M, [0], dtype)[0]
    Mn = (M / np.linalg.norm(M, 2)).astype(dtype)
    for t in range(max_steps + 1):
        cos = pair_cosines(Y, idx)
        if np.mean(1 - np.abs(cos) <= tol) >= share:
            return t
        Y = Mn @ Y
    return None


def predicted_steps_to_alignment(X, M, idx, eps: float, share: float = 0.99,
                                 ulps: int = 4) -> int:
    """First-order prediction of :func:`steps_to_alignment` for precision ``eps``.

    Write each difference in the eigenbasis of ``M``, ``u = a v_1 + b v_2 + ...``, with
    ``r = b/a`` (only the two top eigenvectors are kept: the others shrink faster). After
    ``t`` multiplications ``1 - |cos(u, w)| ≈ ½ ρ^{2t} (r_u - r_w)²`` with
    ``ρ = λ_2/λ_1``, so a pair reaches ``ulps · eps`` after
    ``t = log(2 ulps eps / (r_u - r_w)²) / (2 log ρ)`` steps; the prediction is the
    ``share`` quantile of these, rounded up. Fewer steps are needed when ``eps`` is
    larger (float32) than smaller (float64): footnote 2 of the paper.
    """
    X = as_finite_array(X, "X", ndim=2)
    d = X.shape[0]
    M = as_finite_array(M, "M", shape=(d, d))
    if d < 2:
        raise ValueError("need at least two dimensions")
    w, V = np.linalg.eigh((M + M.T) / 2)
    rho = abs(w[-2]) / abs(w[-1])
    if not 0 < rho < 1:
        raise ValueError(f"the top eigenvalue must dominate: |λ2/λ1| = {rho:.3g}")
    idx = np.asarray(idx)
    Z = V[:, -2:].T @ X                      # rows: v_2, v_1 coordinates
    u = Z[:, idx[:, 0]] - Z[:, idx[:, 1]]
    v = Z[:, idx[:, 2]] - Z[:, idx[:, 3]]
    dr2 = (u[0] / u[1] - v[0] / v[1]) ** 2
    with np.errstate(divide="ignore"):
        t = np.log(2 * ulps * eps / dr2) / (2 * np.log(rho))
    return int(np.ceil(np.quantile(np.maximum(t, 0.0), share)))


def sample_major_axes(X, labels) -> np.ndarray:
    """Top eigenvector of each component's sample covariance (rows; entries summing to a
    positive number): the major axes of the Gaussians estimated from their points."""
    from aligned_latents.theory.closed_forms import top_eigenvector

    X = as_finite_array(X, "X", ndim=2)
    labels = np.asarray(labels)
    if labels.shape != (X.shape[1],):
        raise ValueError(f"labels must have one entry per column of X, got {labels.shape}")
    out = []
    for j in np.unique(labels):
        pts = X[:, labels == j]
        if pts.shape[1] < 2:
            raise ValueError(f"component {j} has fewer than two points")
        out.append(top_eigenvector(np.cov(pts)))
    return np.stack(out)


def axis_gain(axes, B) -> float:
    """``cos(B a_1, B a_2) - cos(a_1, a_2)`` for two axes (rows of ``axes``)."""
    from aligned_latents.theory.closed_forms import cosine, direct_cosine_after

    axes = as_finite_array(axes, "axes", ndim=2)
    if axes.shape[0] != 2:
        raise ValueError(f"need two axes, got {axes.shape[0]}")
    return direct_cosine_after(B, axes[0], axes[1]) - cosine(axes[0], axes[1])


def sample_gain_spread(mus, covs, n: int, B, reps: int, rng) -> np.ndarray:
    """``reps`` independent values of :func:`axis_gain` for major axes estimated from
    ``n`` points per Gaussian: the Monte Carlo spread of a figure's measured gain."""
    reps = check_int(reps, "reps", minimum=2)
    rng = np.random.default_rng(rng)
    out = []
    for _ in range(reps):
        X, labels = sample_mixture(mus, covs, n, rng)
        out.append(axis_gain(sample_major_axes(X, labels), B))
    return np.array(out)


def axis_angle_after(M, k: int, q1, q2) -> float:
    """The angle (radians) between ``M^k q1`` and ``M^k q2`` for a symmetric 2 x 2 ``M``,
    computed in the eigenbasis of ``M`` so that it stays accurate when the cosine rounds
    to 1 (Figure 5's ``k = 35``: angles of order ``1e-16``); compare with
    :func:`aligned_latents.theory.closed_forms.cor2_angle`.
    """
    M = as_finite_array(M, "M", shape=(2, 2))
    q1 = as_finite_array(q1, "q1", shape=(2,))
    q2 = as_finite_array(q2, "q2", shape=(2,))
    k = check_degree(k)
    w, V = np.linalg.eigh((M + M.T) / 2)
    r = (w / w[np.argmax(np.abs(w))]) ** k
    z1, z2 = r * (V.T @ q1), r * (V.T @ q2)
    cross = z1[0] * z2[1] - z1[1] * z2[0]
    return float(np.arctan2(abs(cross), z1 @ z2))


def matrix_power_sym(M, k: int, scale: float = 1.0) -> np.ndarray:
    """``(M / scale)^k`` for a symmetric ``M``, through its eigendecomposition."""
    M = as_finite_array(M, "M", ndim=2)
    if M.shape[0] != M.shape[1]:
        raise ValueError(f"M must be square, got {M.shape}")
    if not np.allclose(M, M.T, rtol=1e-12, atol=1e-12 * max(1.0, np.abs(M).max())):
        raise ValueError("M must be symmetric")
    k = check_degree(k)
    w, V = np.linalg.eigh((M + M.T) / 2)
    return (V * (w / scale) ** k) @ V.T


def reconstruction_error(B, X) -> float:
    """Relative error ``‖X̂ - X‖_F / ‖X‖_F`` of recovering ``X`` from ``Y = B X`` by solving
    ``B X̂ = Y`` (the invertibility of a partial power iteration, Section 4). A ``B`` that is
    singular in floating point is solved in the least-squares sense (error of order one)."""
    B = as_finite_array(B, "B", ndim=2)
    X = as_finite_array(X, "X", shape=(B.shape[1], None))
    Y = B @ X
    try:
        Xh = np.linalg.solve(B, Y)
    except np.linalg.LinAlgError:   # exactly singular in floating point: least squares
        Xh = np.linalg.lstsq(B, Y, rcond=None)[0]
    return float(np.linalg.norm(Xh - X) / np.linalg.norm(X))


def symmetric_gradient_norm(f, M, step: float = 1e-6) -> float:
    """Frobenius norm of the gradient of a function ``f`` of a symmetric matrix ``M``.

    Central finite differences along an orthonormal basis of symmetric matrices.
    Multiplied by the RMS error of ``M`` (:func:`second_moment_rms_error`) it gives the
    first-order size of the Monte Carlo error of ``f((1/n) X Xᵀ)``.
    """
    M = as_finite_array(M, "M", ndim=2)
    d = M.shape[0]
    h = step * max(1.0, np.abs(M).max())
    grad2 = 0.0
    for i in range(d):
        for j in range(i, d):
            E = np.zeros((d, d))
            if i == j:
                E[i, i] = 1.0
            else:
                E[i, j] = E[j, i] = 1 / np.sqrt(2)
            grad2 += ((f(M + h * E) - f(M - h * E)) / (2 * h)) ** 2
    return float(np.sqrt(grad2))


def cosine_sensitivity(M, k: int, q1, q2, step: float = 1e-6) -> float:
    """Frobenius norm of the gradient of ``M ↦ cos(M^k q1, M^k q2)`` over symmetric ``M``
    (:func:`symmetric_gradient_norm`): times the RMS error of ``M`` it is the first-order
    size of the Monte Carlo error of the cosine in Corollary 2.
    """
    from aligned_latents.theory.closed_forms import direct_cosine_after

    k = check_degree(k)
    return symmetric_gradient_norm(
        lambda A: direct_cosine_after(matrix_power_sym(A, k), q1, q2), M, step)


def log_angle_sensitivity(M, k: int, q1, q2, step: float = 1e-6) -> float:
    """As :func:`cosine_sensitivity`, for ``log`` of :func:`axis_angle_after` (the
    relative Monte Carlo error of the angle)."""
    k = check_degree(k)
    return symmetric_gradient_norm(
        lambda A: np.log(axis_angle_after(A, k, q1, q2)), M, step)
