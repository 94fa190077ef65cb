"""The opening page's figure: the paper's Figure 1, redrawn from the chapters' results."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def figure1(results) -> Figure:
    """Figure 1 from ``results/intro``'s siblings: ``../glove/figure3.csv`` (panel a) and
    ``../cmap/figure4.csv`` (panel b); see :func:`aligned_latents.record.frontpage.figure1`,
    which the page calls (it also reports missing inputs)."""
    from aligned_latents.record.frontpage import figure1 as draw

    fig, _ = draw(Path(results).parent)
    return fig
