"""Small helpers for the chapters' notebooks."""
from __future__ import annotations


def glue(name: str, value, display: bool = False):
    """``myst_nb.glue`` that stores numpy scalars as Python numbers.

    With NumPy 2 a ``np.float64`` is stored by its repr ``np.float64(0.5)``, which myst-nb
    cannot format (``{glue:text}`name:.3f``` then warns and the -W build fails).
    """
    from myst_nb import glue as _glue

    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()
    return _glue(name, value, display=display)
