"""The book's one matplotlib style: sizes for the page width, readable fonts, a
colour-blind-safe palette (Okabe and Ito), and the same colour for the same model in every
figure.

Call :func:`use` once at the top of a chapter; use :func:`model_color` for a model's
colour (``"Original"``, ``"Linear AE (k=2)"``, ``"Leaky ReLU AE"``...).
"""
from __future__ import annotations

from aligned_latents.util.model_names import parse_model

#: Okabe-Ito colour-blind-safe palette.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
           "#F0E442", "#000000")

#: rc settings: the page's text column is about 7 inches at 96 dpi; fonts ship with
#: matplotlib (DejaVu Sans), so images are the same on every machine.
RC = {
    "figure.figsize": (7.0, 3.6),
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "figure.constrained_layout.use": True,
    "font.family": "DejaVu Sans",
    "font.size": 10.5,
    "axes.titlesize": 11.5,
    "axes.labelsize": 10.5,
    "legend.fontsize": 9.5,
    "xtick.labelsize": 9.5,
    "ytick.labelsize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "image.cmap": "viridis",
}


def use() -> None:
    """Apply the book's style (rc settings and colour cycle) to matplotlib."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(RC)
    mpl.rcParams["axes.prop_cycle"] = cycler(color=list(PALETTE))


def model_color(name: str) -> str:
    """The colour of a model in every figure: Original blue, Leaky ReLU vermillion,
    linear autoencoders by degree k (k = 1 green, 2 purple, 3 orange, ...); ``name`` in any
    style of :mod:`aligned_latents.util.model_names`, other names black."""
    model = parse_model(name)
    if model is None:
        return PALETTE[7]
    if model.kind == "original":
        return PALETTE[0]
    if model.kind == "leaky_relu":
        return PALETTE[1]
    return PALETTE[2 + (model.k - 1) % 5] if model.k >= 1 else PALETTE[0]
