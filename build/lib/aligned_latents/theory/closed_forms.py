"""Closed forms of Sections 3-4 of the paper: Lemma 1, Lemma 2, Corollaries 1 and 2, and
the remark of Section 4.2 on stretching along one Gaussian's major axis.

Every function here is a formula of the paper (or its corrected form, where the paper has a
slip: see the ``stretching`` and ``gaussians`` chapters and the errata page). Simulations of
the same quantities live in :mod:`aligned_latents.theory.gaussians`; the tests compare the two.

Conventions: vectors are 1-D arrays; ``B`` is ``h x d`` and acts on ``q ∈ R^d``.
References are to Jain, Radhakrishnan & Uhler (2021), *A Mechanism for Producing Aligned
Latent Spaces with Autoencoders*.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from aligned_latents.util.paper import C_MIN
from aligned_latents.util.validation import as_finite_array, check_degree


def _unit(q, name: str) -> np.ndarray:
    q = as_finite_array(q, name, ndim=1)
    norm = np.linalg.norm(q)
    if norm == 0.0:
        raise ValueError(f"{name} must be a nonzero vector")
    return q / norm


def cosine(a, b) -> float:
    """Cosine similarity ``aᵀb / (‖a‖ ‖b‖)`` of two nonzero vectors of the same length."""
    a = as_finite_array(a, "a", ndim=1)
    b = as_finite_array(b, "b", ndim=1)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same length, got {a.shape} and {b.shape}")
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0.0 or nb == 0.0:
        raise ValueError("cosine similarity is undefined for a zero vector")
    return float(a @ b / (na * nb))


def direct_cosine_after(B, q1, q2) -> float:
    """``cos(B q1, B q2)`` computed directly (the left-hand side of Lemma 1)."""
    B = as_finite_array(B, "B", ndim=2)
    q1 = as_finite_array(q1, "q1", shape=(B.shape[1],))
    q2 = as_finite_array(q2, "q2", shape=(B.shape[1],))
    return cosine(B @ q1, B @ q2)


def lemma1_svd(B):
    """``(σ, Vᵀ)`` of ``B`` (full ``d x d`` right factor), the SVD Lemma 1 needs; compute
    it once to evaluate :func:`lemma1_cosine` on many pairs with the same ``B``."""
    B = as_finite_array(B, "B", ndim=2)
    _, s, Vt = np.linalg.svd(B, full_matrices=True)
    return s, Vt


def lemma1_cosine(B, q1, q2, svd=None) -> float:
    """Lemma 1: cosine of two directions after the linear map ``B``, from its SVD.

    With ``B = U Σ_B Vᵀ`` (``h x d``), singular values ``σ_i`` and right singular vectors
    ``v_i`` (``i = 1..d``; ``σ_i = 0`` for ``i > min(h, d)``),

    .. math:: \\cos(Bq_1, Bq_2) = \\frac{\\sum_i σ_i^2 \\cos(q_1, v_i)\\cos(q_2, v_i)}
              {\\sqrt{\\sum_i σ_i^2 \\cos^2(q_1, v_i)\\ \\sum_i σ_i^2 \\cos^2(q_2, v_i)}}.

    Parameters
    ----------
    B : array-like (h, d)
    q1, q2 : array-like (d,)
        Nonzero directions (normalized here; the Lemma takes unit vectors).
    svd : tuple, optional
        ``lemma1_svd(B)``, when it was computed already.

    Raises
    ------
    ValueError
        On bad shapes or non-finite entries, and when ``B q1 = 0`` or ``B q2 = 0`` (possible
        for ``h < d``; the cosine is then undefined and the Lemma's denominator vanishes).
    """
    B = as_finite_array(B, "B", ndim=2)
    h, d = B.shape
    if h == 0 or d == 0:
        raise ValueError(f"B must be non-empty, got shape {B.shape}")
    q1 = _unit(as_finite_array(q1, "q1", shape=(d,)), "q1")
    q2 = _unit(as_finite_array(q2, "q2", shape=(d,)), "q2")
    s, Vt = lemma1_svd(B) if svd is None else svd
    if Vt.shape != (d, d) or s.size > d:
        raise ValueError(f"svd does not belong to a matrix with {d} columns")
    sigma2 = np.zeros(d)
    sigma2[: s.size] = s ** 2
    c1, c2 = Vt @ q1, Vt @ q2           # cos(q_j, v_i) for unit q_j, v_i
    n1, n2 = sigma2 @ c1 ** 2, sigma2 @ c2 ** 2
    scale = max(sigma2.max(), np.finfo(float).tiny)
    if n1 <= 1e-28 * scale or n2 <= 1e-28 * scale:
        raise ValueError("B q1 or B q2 is zero: q lies in the null space of B and the "
                         "cosine of Lemma 1 is undefined")
    return float(sigma2 @ (c1 * c2) / np.sqrt(n1 * n2))


def lemma1_gram_factorizations(B):
    """``(BᵀB, V Σ_BᵀΣ_B Vᵀ)``: the two sides of the second line of Appendix A.

    The proof of Lemma 1 writes ``q₁ᵀBᵀBq₂ = q₁ᵀ V Σ B² Vᵀ q₂``; ``Σ B²`` is ``Σ_B²``
    (the squared singular values) with its subscript flattened in typesetting. Here
    ``V`` is the full ``d x d`` matrix of right singular vectors of ``B`` (``h x d``) and
    ``Σ_BᵀΣ_B = diag(σ_1², ..., σ_d²)`` with ``σ_i = 0`` for ``i > min(h, d)``.
    """
    B = as_finite_array(B, "B", ndim=2)
    if B.size == 0:
        raise ValueError(f"B must be non-empty, got shape {B.shape}")
    d = B.shape[1]
    s, Vt = lemma1_svd(B)
    sigma2 = np.zeros(d)
    sigma2[: s.size] = s ** 2
    return B.T @ B, (Vt.T * sigma2) @ Vt


def _haar(n: int, rng) -> np.ndarray:
    """A Haar-random ``n x n`` orthogonal matrix."""
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


def spectrum_condition_trial(h: int, d: int, ratio: float, rng,
                             t_range=(0.35, 0.9), spread: float = 0.05):
    """One random instance of the condition stated after Lemma 1 (Section 3): "if σ_1 is
    much larger than σ_i for i > 1 and ... cos(q_1, v_1) ≈ cos(q_2, v_1), then q_1 and
    q_2 will become more aligned".

    ``B = U Σ_B Vᵀ`` (``h x d``) with Haar-random ``U``, ``V``, ``σ_1 = ratio`` and
    ``σ_i`` uniform in ``[0.1, 1]`` for ``1 < i <= min(h, d)``; unit ``q_1, q_2`` with
    ``cos(q_j, v_1) = t_j``, ``t_1`` uniform in ``t_range``, ``t_2 = t_1 + e`` with ``e``
    uniform in ``[-spread, spread]``, and random components orthogonal to ``v_1``.

    Returns
    -------
    cos(q_1, q_2), cos(B q_1, B q_2)
    """
    from aligned_latents.util.validation import check_int

    h, d = check_int(h, "h", minimum=1), check_int(d, "d", minimum=2)
    lo, hi = t_range
    if not (0 < lo - spread and hi + spread < 1 and ratio > 1):
        raise ValueError("need 0 < t_range[0] - spread, t_range[1] + spread < 1, ratio > 1")
    rng = np.random.default_rng(rng)
    U, V = _haar(h, rng), _haar(d, rng)
    r = min(h, d)
    S = np.zeros((h, d))
    S[np.arange(r), np.arange(r)] = np.r_[ratio, rng.uniform(0.1, 1.0, r - 1)]
    B, v1 = U @ S @ V.T, V[:, 0]
    t1 = rng.uniform(lo, hi)
    qs = []
    for t in (t1, t1 + rng.uniform(-spread, spread)):
        w = rng.standard_normal(d)
        w -= (w @ v1) * v1
        qs.append(t * v1 + np.sqrt(1 - t * t) * w / np.linalg.norm(w))
    return cosine(*qs), direct_cosine_after(B, *qs)


class Lemma2Limit(NamedTuple):
    """Lemma 2's limit of ``(1/n) X Xᵀ``: the matrix, its top eigenvector and all eigenvalues
    (descending)."""
    matrix: np.ndarray
    top_eigenvector: np.ndarray
    eigenvalues: np.ndarray


def lemma2_limit(mus, c) -> Lemma2Limit:
    """Lemma 2: ``E[(1/n) X Xᵀ] = cI + (Σ_j μ_j)(Σ_j μ_j)ᵀ``.

    Top eigenvector ``s / ‖s‖`` (``s = Σ_j μ_j``) with eigenvalue ``c + ‖s‖²``; every
    direction orthogonal to ``s`` has eigenvalue ``c``.

    Parameters
    ----------
    mus : array-like (m, d)
        The means ``μ_j``, one per row.
    c : float
        ``Σ_j D_j = c I``.

    Raises
    ------
    ValueError
        Bad shapes, non-finite values, or ``Σ_j μ_j = 0`` (no distinguished top eigenvector).
    """
    mus = as_finite_array(mus, "mus", ndim=2)
    if mus.shape[0] == 0 or mus.shape[1] == 0:
        raise ValueError(f"mus must be non-empty (m, d), got shape {mus.shape}")
    c = float(as_finite_array(c, "c", ndim=0))
    d = mus.shape[1]
    s = mus.sum(axis=0)
    norm2 = float(s @ s)
    if norm2 == 0.0:
        raise ValueError("the means sum to zero: Lemma 2's top eigenvector is undefined")
    matrix = c * np.eye(d) + np.outer(s, s)
    eigenvalues = np.full(d, c)
    eigenvalues[0] = c + norm2
    return Lemma2Limit(matrix, s / np.sqrt(norm2), eigenvalues)


def _check_c(c, name="c"):
    c = as_finite_array(c, name)
    if np.any(c < C_MIN):
        raise ValueError(f"{name} must be >= {C_MIN} (otherwise Σ_1 = D_1 + J of Corollary 1 is "
                         f"not positive semi-definite, hence not a covariance), got {c}")
    return c


def cor1_D(c):
    """Corollary 1's ``D_1 = diag(c+1, 1)`` and ``D_2 = diag(1, c+1)`` (so
    ``Σ_j D_j = (c+2) I``)."""
    c = float(_check_c(c))
    return np.diag([c + 1, 1.0]), np.diag([1.0, c + 1])


def cor1_covariances(c):
    """Corollary 1's ``Σ_1 = D_1 + J = [[c+2, 1], [1, 2]]`` and ``Σ_2 = D_2 + J``
    (``D_j``: :func:`cor1_D`)."""
    J = np.ones((2, 2))
    D1, D2 = cor1_D(c)
    return D1 + J, D2 + J


def cor1_second_moment(c) -> np.ndarray:
    """``E[(1/n) X Xᵀ] = Σ_j (Σ_j + μ_j μ_jᵀ) = (c+3) I + 2J`` in Corollary 1's setting.

    (Appendices C, D and F print ``I + 2J = (c+3)I + 4v̂v̂ᵀ``; only the second expression
    is right, and the eigenvalues ``c+7``, ``c+3`` they state are its eigenvalues.)
    """
    c = float(_check_c(c))
    return (c + 3.0) * np.eye(2) + 2.0 * np.ones((2, 2))


def cor1_eigenvalues(c):
    """The eigenvalues ``c + 7`` (along ``[1, 1]``) and ``c + 3`` (along ``[1, -1]``) of
    :func:`cor1_second_moment`, ``E[(1/n) X Xᵀ] = (c+3) I + 2J`` (Appendices C, D, F).
    Arguments broadcast."""
    c = _check_c(c)
    return c + 7.0, c + 3.0


def printed_second_moment() -> np.ndarray:
    """``I + 2J``, the first expression Appendices C and D print for ``E[(1/n) X Xᵀ]``.

    It omits ``Σ_j D_j = (c+2) I`` (see :func:`cor1_second_moment`); its eigenvalues are
    5 (along ``[1, 1]``) and 1, whatever ``c``.
    """
    return np.eye(2) + 2.0 * np.ones((2, 2))


def cor1_top_eigenvectors(c):
    """Unit top eigenvectors of ``Σ_1`` and ``Σ_2`` of Corollary 1 (entries >= 0).

    ``q_Σ1 ∝ [2, -c + √(c²+4)]`` and ``q_Σ2 ∝ [2, c + √(c²+4)]``. Appendix C prints the two
    the other way round (see :func:`paper_top_eigenvectors`); the cosine between them is the
    same either way.
    """
    c = float(_check_c(c))
    s = np.hypot(c, 2.0)
    q1, q2 = np.array([2.0, -c + s]), np.array([2.0, c + s])
    return q1 / np.linalg.norm(q1), q2 / np.linalg.norm(q2)


def paper_top_eigenvectors(c):
    """Appendix C's printed ``q_Σ1 = [2, c + √(c²+4)]``, ``q_Σ2 = [2, -c + √(c²+4)]`` (unit)."""
    q2, q1 = cor1_top_eigenvectors(c)
    return q1, q2


def top_eigenvector(S) -> np.ndarray:
    """Unit eigenvector of the largest eigenvalue of a symmetric matrix, sign fixed so that
    its entries sum to a positive number (first nonzero entry positive if they sum to 0)."""
    S = as_finite_array(S, "S", ndim=2)
    if S.shape[0] != S.shape[1] or S.size == 0:
        raise ValueError(f"S must be a non-empty square matrix, got shape {S.shape}")
    if not np.allclose(S, S.T, rtol=1e-12, atol=1e-12 * np.abs(S).max()):
        raise ValueError("S must be symmetric")
    _, V = np.linalg.eigh((S + S.T) / 2)
    v = V[:, -1]
    total = v.sum()
    if abs(total) <= 1e-12:
        total = v[np.flatnonzero(np.abs(v) > 1e-12)[0]]
    return v * np.sign(total)


def cor1_B(alpha, beta) -> np.ndarray:
    """``B = α u1 u1ᵀ + β u2 u2ᵀ = (α J + β J̃)/2`` with ``u1 = [1,1]/√2``, ``u2 = [1,-1]/√2``
    (Appendix C)."""
    alpha = float(as_finite_array(alpha, "alpha", ndim=0))
    beta = float(as_finite_array(beta, "beta", ndim=0))
    J, Jt = np.ones((2, 2)), np.array([[1.0, -1.0], [-1.0, 1.0]])
    return 0.5 * (alpha * J + beta * Jt)


def cor1_cosines(c, alpha, beta, strict: bool = True):
    """Corollary 1: cosines of the major axes of the two Gaussians before and after ``B``.

    .. math:: \\cos(q_{Σ_1}, q_{Σ_2}) = \\frac{2}{\\sqrt{c^2+4}}, \\qquad
              \\cos(Bq_{Σ_1}, Bq_{Σ_2}) = \\frac{2 + γ\\sqrt{c^2+4}}{2γ + \\sqrt{c^2+4}},
              \\qquad γ = \\frac{α^2 - β^2}{α^2 + β^2}.

    Arguments broadcast (arrays give arrays; scalars give floats). With
    ``strict=False`` the formula is also evaluated at ``α² = β²`` (``γ = 0``: no stretch,
    e.g. a degree-0 initialization), outside the Corollary's hypothesis.

    Returns
    -------
    cos_before, cos_after, gamma

    Raises
    ------
    ValueError
        Non-finite input, ``c < -3/2`` (no longer a covariance), or ``α² <= β²`` (the
        Corollary's hypothesis; ``α² < β²`` or ``α = β = 0`` with ``strict=False``).
    """
    c = _check_c(c)
    alpha = as_finite_array(alpha, "alpha")
    beta = as_finite_array(beta, "beta")
    a2, b2 = np.broadcast_arrays(alpha ** 2, beta ** 2)
    if np.any(a2 <= b2) if strict else np.any((a2 < b2) | (a2 == 0)):
        raise ValueError("Corollary 1 requires alpha**2 > beta**2 (stretch along u1 = [1,1]/√2)"
                         + ("" if strict else "; alpha**2 = beta**2 > 0 is accepted here"))
    gamma = (a2 - b2) / (a2 + b2)
    s = np.sqrt(c ** 2 + 4.0)
    before = 2.0 / s
    after = (2.0 + gamma * s) / (2.0 * gamma + s)
    before, after = np.broadcast_arrays(before, after)
    if before.ndim == 0:
        return float(before), float(after), float(gamma)
    return before.copy(), after.copy(), np.broadcast_to(gamma, after.shape).copy()


def cor2_alpha_beta(c, k):
    """Corollary 2: the eigenvalues ``α = (c+7)^k``, ``β = (c+3)^k`` of the limit of
    ``B = ((1/n) X Xᵀ)^k`` (degree ``k >= 1``)."""
    k = check_degree(k)
    if k < 1:
        raise ValueError(f"Corollary 2 needs a degree k >= 1, got {k}")
    l1, l2 = cor1_eigenvalues(c)
    return l1 ** k, l2 ** k


def _log_ratio(c, k, eigenvalues):
    """``(k, k log(λ1/|λ2|))`` for Corollary 2 (``λ = (c+7, c+3)`` unless given)."""
    k = check_degree(k)
    if k < 1:
        raise ValueError(f"Corollary 2 needs a degree k >= 1, got {k}")
    c = _check_c(c)
    if eigenvalues is None:
        l1, l2 = cor1_eigenvalues(c)
    else:
        l1, l2 = (as_finite_array(e, "eigenvalues") for e in eigenvalues)
        if np.any(np.abs(l1) <= np.abs(l2)) or np.any(l2 == 0):
            raise ValueError("eigenvalues (l1, l2) need |l1| > |l2| > 0 (a stretch along "
                             "u1 = [1,1]/√2)")
    return c, k * np.log(np.abs(l1) / np.abs(l2))


def cor2_cosine(c, k, eigenvalues=None):
    """Corollary 2: the a.s. limit of ``cos(B q_Σ1, B q_Σ2)`` for ``B = ((1/n) X Xᵀ)^k``.

    ``α = λ1^k``, ``β = λ2^k`` with the eigenvalues ``(λ1, λ2) = (c+7, c+3)`` of
    ``E[(1/n) X Xᵀ]`` (Appendix D), or the pair given in ``eigenvalues`` (to evaluate
    another reading of the expectation, e.g. ``(5, 1)`` for the printed ``I + 2J``).
    Computed through γ in log space, ``γ = tanh(k log(λ1/|λ2|))``, so that large ``k``
    does not overflow ``λ1^{2k}``.
    """
    c, x = _log_ratio(c, k, eigenvalues)
    gamma = np.tanh(x)
    s = np.sqrt(c ** 2 + 4.0)
    out = (2.0 + gamma * s) / (2.0 * gamma + s)
    return float(out) if np.ndim(out) == 0 else out


def cor2_angle(c, k, eigenvalues=None):
    """The angle (radians) between ``B q_Σ1`` and ``B q_Σ2`` of Corollary 2, without
    cancellation.

    Corollary 2's cosine rounds to 1 in double precision once the angle is below about
    ``1e-8`` (``c = -0.9``: from ``k ≈ 10``); the angle itself stays computable:
    ``1 - cos = (1 - γ)(s - 2)/(2γ + s)`` with ``s = √(c²+4)`` and
    ``1 - γ = 2/(1 + (α/β)²)`` evaluated in log space, and
    ``θ = 2 arcsin(√((1 - cos)/2))``. ``eigenvalues`` as in :func:`cor2_cosine`.
    """
    c, x = _log_ratio(c, k, eigenvalues)
    one_minus_gamma = 2.0 * np.exp(-np.logaddexp(0.0, 2.0 * x))
    gamma = 1.0 - one_minus_gamma
    s = np.sqrt(c ** 2 + 4.0)
    one_minus_cos = one_minus_gamma * (s - 2.0) / (2.0 * gamma + s)
    out = 2.0 * np.arcsin(np.sqrt(one_minus_cos / 2.0))
    return float(out) if np.ndim(out) == 0 else out


def stretch_along(v, alpha, beta) -> np.ndarray:
    """The symmetric 2 x 2 map with eigenvector ``v`` (eigenvalue ``α``) and ``v⊥``
    (eigenvalue ``β``): ``α v̂v̂ᵀ + β v̂⊥v̂⊥ᵀ``. ``stretch_along([1, 1], α, β)`` is
    :func:`cor1_B`; with ``v = q_Σ1`` it stretches along the major axis of the first
    Gaussian (Section 4.2, Remarks)."""
    v = _unit(as_finite_array(v, "v", shape=(2,)), "v")
    alpha = float(as_finite_array(alpha, "alpha", ndim=0))
    beta = float(as_finite_array(beta, "beta", ndim=0))
    p = np.array([-v[1], v[0]])
    return alpha * np.outer(v, v) + beta * np.outer(p, p)


def major_axis_cosine_after(c, alpha, beta):
    """``cos(B q_Σ1, B q_Σ2)`` when ``B`` stretches along the major axis ``q_Σ1`` of the
    first Gaussian instead of along ``[1, 1]`` (Section 4.2, Remarks: "stretching instead
    along the major axis of one of the Gaussians").

    With ``C = cos(q_Σ1, q_Σ2) = 2/√(c²+4)`` and ``B = stretch_along(q_Σ1, α, β)``,
    ``B q_Σ1 = α q_Σ1`` and ``B q_Σ2 = α C q_Σ1 + β √(1-C²) q_Σ1⊥``, so

    .. math:: \\cos(Bq_{Σ_1}, Bq_{Σ_2}) = \\frac{|α| C}{\\sqrt{α^2 C^2 + β^2 (1 - C^2)}}.

    Arguments broadcast.
    """
    c = _check_c(c)
    alpha = as_finite_array(alpha, "alpha")
    beta = as_finite_array(beta, "beta")
    if np.any((alpha == 0) & (beta == 0)):
        raise ValueError("alpha and beta are both zero: B is not a map")
    C = 2.0 / np.sqrt(c ** 2 + 4.0)
    out = np.abs(alpha) * C / np.sqrt(alpha ** 2 * C ** 2 + beta ** 2 * (1.0 - C ** 2))
    return float(out) if np.ndim(out) == 0 else out
