"""The opening page's figure: the paper's Figure 1, redrawn from the chapters' results
(its checks, statement ``fig1``, are :func:`aligned_latents.record.frontpage.figure1_claims`)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from aligned_latents.book import style
from aligned_latents.record.frontpage import (
    FIGURE1_SOURCES,
    cmap_data_label,
    figure1a_seeds,
    figure1a_spread,
    highest_linear_degree,
)
from aligned_latents.util.model_names import model_slug

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def figure1(results) -> Figure:
    """The paper's Figure 1 from the book's own results.

    (a) negation pairs (``results/glove/figure3.csv``: MDS coordinates, ``space``
    original or ``linear_k2``), an arrow from each word to its negation, original beside
    aligned: the picture of one MDS seed, its title giving that seed and the arrows'
    alignment (mean pairwise cosine) for it and over every MDS seed
    (``results/glove/mds_alignment_seeds.csv``, :func:`figure1a_seeds`); (b) drug
    signatures (``results/cmap/figure4.csv``): cosine similarity of each drug's
    signatures in two cell types, original vs latent space, one colour per model. A
    missing file leaves its panel with a message saying so (:func:`missing_inputs`
    lists them). ``results`` is ``results/intro``; the inputs are
    read from its siblings. The checks of the figure are
    :func:`aligned_latents.record.frontpage.figure1_claims`.
    """
    import matplotlib.pyplot as plt

    style.use()
    root = Path(results).parent
    # large enough to read at the page's width: (a) two panels on top, (b) below
    fig = plt.figure(figsize=(8.5, 8.8))
    grid = fig.add_gridspec(2, 2, height_ratios=[1, 1.05])
    axes = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]),
            fig.add_subplot(grid[1, :])]
    path_a = root.joinpath(*FIGURE1_SOURCES["a"])
    if path_a.is_file():
        df = pd.read_csv(path_a)
        k_hi = highest_linear_degree(df["space"])
        space_hi = model_slug("linear", k_hi) if k_hi is not None else "linear"
        seeds = figure1a_seeds(root)
        notes = {"original": "", space_hi: ""}
        if seeds is not None:
            drawn = seeds[seeds["picture"]].iloc[0]
            for space, col in (("original", "original"), (space_hi, "aligned")):
                notes[space] = (f"\nMDS seed {drawn['seed']}: arrows' alignment "
                                f"{drawn[col]:.2f}\n({figure1a_spread(seeds, col)})")
        for ax, space, title in [
                (axes[0], "original", "(a) negation pairs, original GloVe"),
                (axes[1], space_hi, f"(a) after linear autoencoding, k = {k_hi}")]:
            title += notes[space]
            sub = df[df["space"] == space]
            for r in sub.to_dict("records"):
                ax.annotate("", xy=(r["xb"], r["yb"]), xytext=(r["xa"], r["ya"]),
                            arrowprops={"arrowstyle": "->", "color": "tab:blue",
                                        "lw": 1.2})
                ax.plot([r["xa"], r["xb"]], [r["ya"], r["yb"]], "o", ms=3,
                        color="tab:blue")
                ax.annotate(str(r["word_a"]), (r["xa"], r["ya"]), fontsize=9)
                ax.annotate(str(r["word_b"]), (r["xb"], r["yb"]), fontsize=9,
                            color="tab:red")
            ax.set_title(title, fontsize=11)
            if sub.empty:
                ax.text(0.5, 0.5, f"no rows with space={space}", ha="center",
                        transform=ax.transAxes)
            ax.set_xticks([]), ax.set_yticks([])
    else:
        for ax in axes[:2]:
            ax.text(0.5, 0.5, "missing:\nresults/glove/figure3.csv", ha="center",
                    va="center", color="#b02a37", transform=ax.transAxes)
            ax.set_xticks([]), ax.set_yticks([])
        axes[0].set_title("(a) negation pairs (missing)", fontsize=11)
    ax = axes[2]
    path_b = root.joinpath(*FIGURE1_SOURCES["b"])
    if path_b.is_file():
        df = pd.read_csv(path_b)
        for model, sub in df.groupby("model", sort=False):
            ax.scatter(sub["cos_original"], sub["cos_latent"], s=18, label=str(model))
        lo = float(min(df["cos_original"].min(), df["cos_latent"].min(), 0))
        ax.plot([lo, 1], [lo, 1], "k--", lw=0.8, label="no change")
        ax.set_xlabel("cosine, original space")
        ax.set_ylabel("cosine, latent space")
        ax.legend(fontsize=9)
        ax.set_title("(b) drug signatures across cell types"
                     f"{cmap_data_label(path_b)}".replace(",\n", ", "), fontsize=11)
    else:
        ax.text(0.5, 0.5, "missing:\nresults/cmap/figure4.csv", ha="center",
                va="center", color="#b02a37", transform=ax.transAxes)
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_title("(b) drug signatures (missing)", fontsize=11)
    return fig


def missing_inputs(results) -> list[str]:
    """The inputs of :func:`figure1` missing next to ``results`` (``results/intro``), as
    ``chapter/file`` (e.g. ``glove/figure3.csv``)."""
    root = Path(results).parent
    return ["/".join(src) for src in FIGURE1_SOURCES.values()
            if not root.joinpath(*src).is_file()]
