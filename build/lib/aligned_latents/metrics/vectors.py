"""Row-wise vector operations shared by the metrics and the data processing.

One implementation each: the cosine similarity of corresponding rows (word-pair arrows,
relation vectors, drug signatures in two cell types) and the min-max scaling of profiles
(the CMap processing of Section 6.3 and the fluVaccine analogue).
"""
from __future__ import annotations

import numpy as np

from aligned_latents.util.validation import as_finite_array


def rowwise_cosine(a, b, zero: str = "raise") -> np.ndarray:
    """Cosine similarity of corresponding rows, ``<a_i, b_i> / (||a_i|| ||b_i||)``.

    Parameters
    ----------
    a, b : array-like (n, d)
    zero : {"raise", "zero"}
        What a zero row gives: a ``ValueError`` (default: its cosine is undefined) or 0
        (the convention of the analogy metric, where a repeated word gives a zero arrow).
    """
    if zero not in ("raise", "zero"):
        raise ValueError(f"zero must be 'raise' or 'zero', got {zero!r}")
    a = as_finite_array(a, "a", ndim=2)
    b = as_finite_array(b, "b", ndim=2)
    if a.shape != b.shape:
        raise ValueError(f"a and b need the same shape, got {a.shape} and {b.shape}")
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    dots = np.einsum("ij,ij->i", a, b)
    bad = (na == 0) | (nb == 0)
    if np.any(bad):
        if zero == "raise":
            raise ValueError(f"cosine similarity of a zero vector is undefined "
                             f"({int(bad.sum())} zero row(s))")
        out = np.zeros(len(a))
        ok = ~bad
        out[ok] = dots[ok] / (na[ok] * nb[ok])
        return out
    return dots / (na * nb)


def project_rows(X, u, chunk: int = 8192) -> np.ndarray:
    """``X @ u`` in float64 (one projection per row: ``x_i · u``), over blocks of
    ``chunk`` rows converted to float64 in turn: no float64 copy of a float32 ``X``
    (``X @ u`` with a float64 ``u`` makes one: 1.2 GB for 500,000 x 300)."""
    X = np.asarray(X)
    u = as_finite_array(u, "u", ndim=1)
    if X.ndim != 2 or X.shape[1] != len(u):
        raise ValueError(f"X must be an (n, {len(u)}) matrix, got shape {X.shape}")
    out = np.empty(len(X))
    for s in range(0, len(X), chunk):
        out[s:s + chunk] = np.asarray(X[s:s + chunk], dtype=np.float64) @ u
    return out


def minmax_rows(x) -> np.ndarray:
    """Min-max scale each profile (row) to [0, 1] (Section 6.3's processing, after log2)."""
    x = as_finite_array(x, "profiles", ndim=2)
    lo = x.min(axis=1, keepdims=True)
    span = x.max(axis=1, keepdims=True) - lo
    if np.any(span == 0):
        raise ValueError("a constant profile cannot be min-max scaled")
    return (x - lo) / span
