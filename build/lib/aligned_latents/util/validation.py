"""Input checks shared by the package: bad input raises a ``ValueError`` that says what was
wrong, never a silent NaN further down."""
from __future__ import annotations

import numbers

import numpy as np


def as_finite_array(x, name: str, ndim: int | None = None, shape: tuple | None = None,
                    dtype=np.float64) -> np.ndarray:
    """Convert ``x`` to a finite ``dtype`` array, checking its number of dimensions and shape.

    ``shape`` may contain ``None`` for a free axis, e.g. ``(d, None)``.
    """
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric, could not convert: {exc}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != a
                                         for s, a in zip(shape, arr.shape)):
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if arr.size and not _all_finite(arr):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} non-finite value(s) (NaN or inf)")
    return arr


def _all_finite(arr: np.ndarray, elements: int = 1 << 20) -> bool:
    """Whether every value of ``arr`` is finite, checked over blocks of leading-axis rows
    of about ``elements`` values: the boolean temporary is 1 MB, not one byte per value
    (150 MB for a 500,000 x 300 matrix)."""
    if arr.ndim == 0 or arr.size <= elements:
        return bool(np.all(np.isfinite(arr)))
    rows = max(1, elements // max(1, arr[0].size))
    return all(bool(np.all(np.isfinite(arr[s:s + rows]))) for s in range(0, len(arr), rows))


def check_int(x, name: str, minimum: int | None = None) -> int:
    """An integer (``bool`` and floats such as ``5e5`` refused) that is ``>= minimum``.

    The one integer-argument check of the package: sizes, step counts, seeds, degrees.
    """
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        hint = ""
        if isinstance(x, float) and x.is_integer():
            hint = f" (write {int(x)} without a decimal point or exponent)"
        what = "an integer" if minimum is None else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {what}, got {x!r}{hint}")
    if minimum is not None and x < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {x}")
    return int(x)


def check_degree(k, name: str = "k") -> int:
    """A polynomial degree: an integer >= 0 (``bool`` refused)."""
    return check_int(k, name, minimum=0)


def check_positive(x, name: str, allow_zero: bool = False) -> float:
    """A finite real number > 0 (or >= 0 with ``allow_zero``)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not np.isfinite(x):
        raise ValueError(f"{name} must be a finite real number, got {x!r}")
    if x < 0 or (x == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {x}")
    return float(x)
