"""Linear autoencoders f(x) = A B x: Theorem 1's gradient-flow solution and the asymmetric
spectral initialization (paper Section 5.2, Appendix E).

Conventions: data matrices passed to :func:`asymmetric_encoder` hold one *sample per row*
(``X`` of shape ``(n, d)``, as word vectors or expression profiles are stored); the paper
writes ``X`` as ``d x n``, so its ``(1/n) X Xᵀ`` is our ``Xᵀ X / n``.
"""
from __future__ import annotations

import numpy as np

from .validation import as_finite_array, check_degree, check_positive


def theorem1_final(sigma_a0, sigma_b0):
    """Theorem 1: singular values (a_inf, b_inf) reached by gradient flow from (a_0, b_0).

    Solves the two conditions of Appendix E for each nonzero singular direction of the data,
    the conservation law (Eq. 2) ``a² - a0² = b² - b0²`` and interpolation (Eq. 3) ``a b = 1``:

    .. math:: b_\\infty = \\sqrt{\\tfrac{c^2}{2} + \\sqrt{1 + \\tfrac{c^4}{4}}},
              \\quad c^2 = b_0^2 - a_0^2, \\quad a_\\infty = 1 / b_\\infty .

    This is Appendix E's derivation; the formula displayed in Theorem 1 of the paper differs
    (see the errata page). Arrays broadcast.
    """
    a0 = as_finite_array(sigma_a0, "sigma_a0")
    b0 = as_finite_array(sigma_b0, "sigma_b0")
    c2 = b0 ** 2 - a0 ** 2
    b_inf = np.sqrt(c2 / 2.0 + np.sqrt(1.0 + c2 ** 2 / 4.0))
    return 1.0 / b_inf, b_inf


def asymmetric_encoder(X, k: int, normalizer: float | None = None, rank_tol: float = 1e-10):
    """Encoder ``B_inf`` of a linear autoencoder trained to convergence (gradient flow) from
    the asymmetric spectral initialization ``A0 = 0``, ``B0 = (XᵀX / normalizer + I)^k``.

    Parameters
    ----------
    X : array-like (n, d)
        Training data, one sample per row.
    k : int >= 0
        Degree of the matrix polynomial (Corollary 3, asymmetric initialization).
    normalizer : float, optional
        Divides ``XᵀX``; default ``n`` (the paper's ``(1/n) X Xᵀ``). The CMap companion code
        uses ``n * g`` (g genes).
    rank_tol : float
        Directions with ``XᵀX`` eigenvalue below ``rank_tol * max eigenvalue`` carry no data:
        gradient flow does not move them (Theorem 1 holds on the data's rank-r span only),
        so ``B_inf`` keeps ``B0`` there.

    Returns
    -------
    B : ndarray (d, d)
        Symmetric encoder ``V diag(b_inf) Vᵀ`` (Theorem 1 with ``a0 = 0``).
    """
    X = as_finite_array(X, "X", ndim=2)
    k = check_degree(k)
    n, d = X.shape
    if n == 0 or d == 0:
        raise ValueError(f"X must be non-empty, got shape {X.shape}")
    normalizer = float(n) if normalizer is None else check_positive(normalizer, "normalizer")
    gram = X.T @ X
    evals, V = np.linalg.eigh(gram)
    evals = np.clip(evals, 0.0, None)
    b0 = (evals / normalizer + 1.0) ** k
    _, b_inf = theorem1_final(np.zeros_like(b0), b0)
    in_span = evals > rank_tol * max(evals.max(), np.finfo(float).tiny)
    b = np.where(in_span, b_inf, b0)
    return (V * b) @ V.T
