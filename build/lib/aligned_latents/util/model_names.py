"""The names of the paper's models, built and parsed in one place.

A model is a kind (``"original"``: no encoding, ``"linear"``: the linear autoencoder of
degree ``k``, Theorem 1 and Appendix H, ``"leaky_relu"``: the Leaky ReLU autoencoder of
Appendix H) and, for the linear one, its degree ``k``. The results files name it in one of
three styles, kept as the book has always written them:

========== ====================== ================ ===========
style      linear, k = 2          Leaky ReLU       original
========== ====================== ================ ===========
``table``  ``Linear AE (k=2)``    ``Leaky ReLU AE`` ``Original``
``short``  ``linear k=2``         ``Leaky ReLU``   ``original``
``slug``   ``linear_k2``          ``leaky_relu``   ``original``
========== ====================== ================ ===========

``table`` is the paper's Tables 1-2 (and the figures' legends), ``short`` the CMap
chapter's model names, ``slug`` the file-safe names of the GloVe MDS files (and their
``cos_<slug>`` columns). A short linear name may carry the normalizer of ``XᵀX`` of the
fluVaccine analogue: ``linear k=2, XᵀX/(n)``.
"""
from __future__ import annotations

import re
from typing import NamedTuple

KINDS = ("original", "linear", "leaky_relu")
STYLES: dict[str, dict[str, str]] = {
    "table": {"original": "Original", "linear": "Linear AE (k={k})",
              "leaky_relu": "Leaky ReLU AE"},
    "short": {"original": "original", "linear": "linear k={k}", "leaky_relu": "Leaky ReLU"},
    "slug": {"original": "original", "linear": "linear_k{k}", "leaky_relu": "leaky_relu"},
}
_NORMALIZER = ", XᵀX/({normalizer})"


class Model(NamedTuple):
    """A parsed model name: its kind, degree (linear only) and normalizer (fluVaccine)."""

    kind: str
    k: int | None = None
    normalizer: str | None = None


def model_label(kind: str, k: int | None = None, style: str = "table",
                normalizer: str | None = None) -> str:
    """The name of a model in ``style`` (see the module's table); ``k`` is required for,
    and only for, the linear autoencoder; ``normalizer`` (short style only) names the
    normalizer of ``XᵀX`` (``"n*g"`` or ``"n"``)."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(STYLES)}, got {style!r}")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if (kind == "linear") != (k is not None):
        raise ValueError(f"a degree k is given for, and only for, the linear model "
                         f"(kind {kind!r}, k={k!r})")
    if normalizer is not None and (kind != "linear" or style != "short"):
        raise ValueError("a normalizer names only a linear model in the short style")
    name = STYLES[style][kind].format(k=int(k) if k is not None else None)
    return name + (_NORMALIZER.format(normalizer=normalizer) if normalizer else "")


def model_slug(kind: str, k: int | None = None) -> str:
    """The file-safe name of a model (``linear_k2``, ``leaky_relu``, ``original``)."""
    return model_label(kind, k, style="slug")


def _pattern(template: str) -> str:
    return re.escape(template).replace(re.escape("{k}"), r"(?P<k>\d+)")


_PATTERNS = [(re.compile(_pattern(t) + (rf"(?:{re.escape(', XᵀX/(')}(?P<n>[^)]+)\))?"
                                        if (style, kind) == ("short", "linear") else "")),
              kind)
             for style, names in STYLES.items() for kind, t in names.items()]


def parse_model(name) -> Model | None:
    """The model a name (any style) names, or None when it names none."""
    for pattern, kind in _PATTERNS:
        m = pattern.fullmatch(str(name))
        if m:
            k = m.groupdict().get("k")
            return Model(kind, int(k) if k is not None else None, m.groupdict().get("n"))
    return None


def linear_degree(name) -> int | None:
    """The degree ``k`` of a linear model's name without a normalizer (``'linear k=11'``,
    ``'linear_k11'``, ``'Linear AE (k=11)'`` -> 11); None for any other name."""
    model = parse_model(name)
    if model is None or model.kind != "linear" or model.normalizer is not None:
        return None
    return model.k
