"""Closed forms of Sections 3-4 of the paper: Lemma 1, Lemma 2, Corollaries 1 and 2.

Every function here is a formula of the paper (or its corrected form, where the paper has a
slip: see the ``stretching`` and ``gaussians`` chapters and the errata page). Simulations of
the same quantities live in :mod:`aligned_latents.gaussians`; the tests compare the two.

Conventions: vectors are 1-D arrays; ``B`` is ``h x d`` and acts on ``q ∈ R^d``.
References are to Jain, Radhakrishnan & Uhler (2021), *A Mechanism for Producing Aligned
Latent Spaces with Autoencoders*.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .validation import as_finite_array, check_degree

#: Smallest ``c`` for which Corollary 1's ``Σ_1 = D_1 + J = [[c+2, 1], [1, 2]]`` is positive
#: semi-definite (``det = 2(c+2) - 1 >= 0``); the paper does not state a range for ``c``.
C_MIN = -1.5


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


def lemma1_cosine(B, q1, q2) -> float:
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
    _, s, Vt = np.linalg.svd(B, full_matrices=True)
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
    """``(BᵀB, V Σ_Bᵀ Σ_B Vᵀ, V Σ_B B² Vᵀ)`` for a square ``B``.

    The proof of Lemma 1 (Appendix A) writes ``qᵀBᵀBq = qᵀ V Σ B^2 Vᵀ q``; the intended
    middle factor is ``Σ_B²`` (the squared singular values). The third matrix is the
    expression read literally (``Σ = Σ_B`` times ``B²``), used to show that it is a typo.
    """
    B = as_finite_array(B, "B", ndim=2)
    if B.shape[0] != B.shape[1] or B.size == 0:
        raise ValueError(f"B must be a non-empty square matrix, got shape {B.shape}")
    _, s, Vt = np.linalg.svd(B)
    V, S = Vt.T, np.diag(s)
    return B.T @ B, V @ S @ S @ V.T, V @ S @ B @ B @ V.T


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


def cor1_covariances(c):
    """Corollary 1's ``Σ_1 = D_1 + J = [[c+2, 1], [1, 2]]`` and ``Σ_2 = D_2 + J``."""
    c = float(_check_c(c))
    J = np.ones((2, 2))
    return np.diag([c + 1, 1.0]) + J, np.diag([1.0, c + 1]) + J


def cor1_second_moment(c) -> np.ndarray:
    """``E[(1/n) X Xᵀ] = Σ_j (Σ_j + μ_j μ_jᵀ) = (c+3) I + 2J`` in Corollary 1's setting.

    (Appendices C and D print ``I + 2J``; their eigenvalues ``c+7``, ``c+3`` are those of
    ``(c+3) I + 2J``.)
    """
    c = float(_check_c(c))
    return (c + 3.0) * np.eye(2) + 2.0 * np.ones((2, 2))


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


def cor1_cosines(c, alpha, beta):
    """Corollary 1: cosines of the major axes of the two Gaussians before and after ``B``.

    .. math:: \\cos(q_{Σ_1}, q_{Σ_2}) = \\frac{2}{\\sqrt{c^2+4}}, \\qquad
              \\cos(Bq_{Σ_1}, Bq_{Σ_2}) = \\frac{2 + γ\\sqrt{c^2+4}}{2γ + \\sqrt{c^2+4}},
              \\qquad γ = \\frac{α^2 - β^2}{α^2 + β^2}.

    Arguments broadcast (arrays give arrays; scalars give floats).

    Returns
    -------
    cos_before, cos_after, gamma

    Raises
    ------
    ValueError
        Non-finite input, ``c < -3/2`` (no longer a covariance), or ``α² <= β²`` (the
        Corollary's hypothesis).
    """
    c = _check_c(c)
    alpha = as_finite_array(alpha, "alpha")
    beta = as_finite_array(beta, "beta")
    a2, b2 = np.broadcast_arrays(alpha ** 2, beta ** 2)
    if np.any(a2 <= b2):
        raise ValueError("Corollary 1 requires alpha**2 > beta**2 (stretch along u1 = [1,1]/√2)")
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
    c = _check_c(c)
    return (c + 7.0) ** k, (c + 3.0) ** k


def cor2_cosine(c, k):
    """Corollary 2: the a.s. limit of ``cos(B q_Σ1, B q_Σ2)`` for ``B = ((1/n) X Xᵀ)^k``.

    Computed through γ in log space, ``γ = tanh(k log((c+7)/|c+3|))``, so that large ``k``
    does not overflow ``(c+7)^{2k}``.
    """
    k = check_degree(k)
    if k < 1:
        raise ValueError(f"Corollary 2 needs a degree k >= 1, got {k}")
    c = _check_c(c)
    gamma = np.tanh(k * np.log((c + 7.0) / np.abs(c + 3.0)))
    s = np.sqrt(c ** 2 + 4.0)
    out = (2.0 + gamma * s) / (2.0 * gamma + s)
    return float(out) if np.ndim(out) == 0 else out
