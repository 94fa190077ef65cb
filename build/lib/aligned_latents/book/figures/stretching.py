"""Figures of the chapter ``stretching`` (Section 3 of the paper), drawn from the CSV files
the chapter writes under ``results/stretching/``.

* :func:`figure2` -- the paper's Figure 2: two Gaussians before and after a map ``B`` that
  stretches along ``[1, 1]`` (``figure2.csv``, ``figure2_axes.csv``);
* :func:`stretch_sweep` -- the cosine of the images of the two major axes against the
  stretch ratio of ``B`` (``figure2_stretch_sweep.csv``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from aligned_latents.book import style
from aligned_latents.book.figures import read_results

#: Colours of the two Gaussians (and of their axes).
_COLOURS = (style.PALETTE[0], style.PALETTE[1])


def _read(results: Path, name: str, columns: list[str]) -> pd.DataFrame:
    return read_results(results, name, columns)


def figure2(results: Path):
    """Figure 2: the points of two Gaussians before (a) and after (b) the map ``B``, each
    with its major axis (a) and the image of that axis (b), and the cosines in the titles.

    Reads ``figure2.csv`` (component, x, y, stretched_x, stretched_y) and
    ``figure2_axes.csv`` (component, q_x, q_y, Bq_x, Bq_y, c, stretch, cos_before,
    cos_after; one row per Gaussian).
    """
    import matplotlib.pyplot as plt

    style.use()
    pts = _read(results, "figure2.csv", ["component", "x", "y", "stretched_x",
                                         "stretched_y"])
    axes_df = _read(results, "figure2_axes.csv",
                    ["component", "q_x", "q_y", "Bq_x", "Bq_y", "c", "stretch",
                     "cos_before", "cos_after"]).sort_values("component")
    first = axes_df.iloc[0]
    fig, axes = plt.subplots(1, 2, figsize=(7.0, 3.6))
    panels = [
        (axes[0], ("x", "y"), ("q_x", "q_y"),
         f"(a) before: $X$, c = {first.c:g}\ncos of the major axes {first.cos_before:.3f}"),
        (axes[1], ("stretched_x", "stretched_y"), ("Bq_x", "Bq_y"),
         (f"(b) after: $BX$, stretch {first.stretch:g} along $[1,1]$\n"
         f"cos of their images {first.cos_after:.3f}")),
    ]
    for ax, (cx, cy), (dx, dy), title in panels:
        for (comp, grp), colour in zip(pts.groupby("component"), _COLOURS):
            ax.scatter(grp[cx], grp[cy], s=4, alpha=0.35, color=colour,
                       label=f"Gaussian {comp}")
            row = axes_df[axes_df.component == comp].iloc[0]
            v = np.array([row[dx], row[dy]])
            centre = np.array([grp[cx].mean(), grp[cy].mean()])
            spread = np.sqrt(np.linalg.eigvalsh(np.cov(grp[[cx, cy]].to_numpy().T)).max())
            v = v / np.linalg.norm(v) * 3 * spread
            ax.plot(*np.c_[centre - v, centre + v], color="black" if comp == 1 else
                    style.PALETTE[3], lw=2)
        ax.set_title(title)
        ax.set_aspect("equal", adjustable="datalim")
        ax.legend(loc="lower right", markerscale=3)
    return fig


def stretch_sweep(results: Path):
    """The cosine of the images ``B q_Σ1, B q_Σ2`` against the stretch ratio of ``B``
    (eigenvalue along ``[1, 1]`` over eigenvalue along ``[1, -1]``), with the cosine
    before the map. Reads ``figure2_stretch_sweep.csv`` (stretch, cos_direct,
    cos_before)."""
    import matplotlib.pyplot as plt

    style.use()
    df = _read(results, "figure2_stretch_sweep.csv", ["stretch", "cos_direct",
                                                       "cos_before"])
    fig, ax = plt.subplots(figsize=(7.0, 3.2))
    ax.semilogx(df.stretch, df.cos_direct, color=style.PALETTE[0],
                label=r"after: $\cos(Bq_{\Sigma_1}, Bq_{\Sigma_2})$")
    ax.axhline(df.cos_before.iloc[0], color="grey", ls="--",
               label=r"before: $\cos(q_{\Sigma_1}, q_{\Sigma_2})$")
    ax.axvline(1.0, color="grey", lw=0.8, ls=":")
    ax.set_xlabel(r"stretch ratio $\sigma_{[1,1]} / \sigma_{[1,-1]}$ of $B$")
    ax.set_ylabel("cosine")
    ax.set_title("alignment depends on the spectrum of $B$")
    ax.legend(loc="lower right")
    return fig
