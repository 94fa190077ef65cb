"""Figures of the GloVe chapter (paper Sections 6.1-6.2, Appendix I), each drawn from the
CSV files the chapter writes under ``results/glove/``.

One function per figure; each takes the results folder, reads only its CSV, applies the
book's style (:mod:`aligned_latents.book.style`) and returns the matplotlib ``Figure``:

========================  ==============================  =================================
function                  reads                           paper
========================  ==============================  =================================
:func:`figure6`           ``figure6.csv``                 Figure 6 (Appendix I.1)
:func:`u1_sign_sweep`     ``u1_sign_sweep.csv``           Figure 6's direction against N
:func:`figure7`           ``figure7.csv``                 Figure 7 (Appendix I.2)
:func:`figure3`           ``figure3.csv``                 Figure 3 (Section 6.1.1)
:func:`figure8`           ``figure8.csv``                 Figure 8 (Appendix I.3)
:func:`figure9`           ``figure9.csv``                 Figure 9 (Appendix I.3)
:func:`figure10`          ``figure10.csv``                Figure 10 (Appendix I.4), from data
:func:`degree_sweep`      ``degree_sweep.csv``            the degree trade-off (Table 1's k)
========================  ==============================  =================================
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from aligned_latents.book import style
from aligned_latents.util.model_names import model_label, parse_model

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["degree_sweep", "figure3", "figure6", "figure7", "figure8", "figure9",
           "figure10", "space_label", "u1_sign_sweep"]


def _read(results, name: str) -> pd.DataFrame:
    path = Path(results) / name
    if not path.is_file():
        raise ValueError(f"{path} is missing: run the GloVe chapter first")
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def _plt():
    import matplotlib.pyplot as plt

    style.use()
    return plt


def space_label(space: str) -> str:
    """A figure title for a space name of the MDS files (``original``, ``linear_k<k>``,
    ``leaky_relu``): the model's name in Tables 1-2 (other names unchanged)."""
    model = parse_model(space)
    return model_label(model.kind, model.k) if model else space


def figure6(results) -> Figure:
    """Figure 6: ``cos(w, u1)`` against the frequency rank of ``w`` (hexagonal density).

    Reads ``figure6.csv`` (columns ``rank``, ``cos_u1``; ``u1`` with the book's sign
    convention ``Σ_i x_iᵀu1 > 0``).
    """
    df = _read(results, "figure6.csv")
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    hb = ax.hexbin(df["rank"], df["cos_u1"], gridsize=60, mincnt=1, bins="log")
    ax.axhline(0.0, color="0.3", lw=0.8)
    ax.set_xlabel("frequency rank of $w$ (1 = most frequent)")
    ax.set_ylabel(r"$\cos(w, u_1)$")
    ax.grid(False)
    fig.colorbar(hb, ax=ax, label="words (log scale)")
    ax.set_title(f"Figure 6: alignment with $u_1$ against frequency ({len(df):,} words)")
    return fig


def u1_sign_sweep(results) -> Figure:
    """Figure 6's rank correlation for the ``N`` most frequent words against ``N``.

    Reads ``u1_sign_sweep.csv`` (columns ``n_words``, ``rho``): below zero, frequent words
    are more aligned with ``u1`` (the paper's statement), above zero the rare ones.
    """
    df = _read(results, "u1_sign_sweep.csv").sort_values("n_words")
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.0, 3.4))
    ax.plot(df["n_words"], df["rho"], "o-", ms=3, color=style.PALETTE[0])
    ax.axhline(0.0, color="0.3", lw=0.8)
    flip = df[df["rho"] >= 0]
    if len(flip) and (df["rho"] < 0).any():
        n = int(flip["n_words"].iloc[0])
        ax.axvline(n, color=style.PALETTE[1], ls="--", lw=1,
                   label=f"direction flips at N = {n:,}")
        ax.legend(loc="lower right")
    ax.set_xlabel("N: the most frequent words kept")
    ax.set_ylabel(r"Spearman(rank, $\cos(w, u_1)$)")
    ax.set_title(r"Figure 6's direction, $u_1$ signed so that $\Sigma_i\, x_i^\top u_1 > 0$")
    return fig


def figure7(results) -> Figure:
    """Figure 7: ``cos(a2 - a1, b2 - b1)`` after against before autoencoding, one panel per
    model.

    Reads ``figure7.csv``: ``cos_original`` and one column per model, ``cos_linear_k<k>``
    and (when trained) ``cos_leaky_relu``.
    """
    df = _read(results, "figure7.csv")
    cols = [c for c in df.columns if c.startswith("cos_") and c != "cos_original"]
    if not cols:
        raise ValueError("figure7.csv has no column of an encoded space (cos_linear_k<k>, "
                         "cos_leaky_relu)")
    plt = _plt()
    fig, axes = plt.subplots(1, len(cols), figsize=(3.6 * len(cols) + 0.4, 3.8),
                             squeeze=False, sharey=True)
    for ax, c in zip(axes[0], cols):
        ax.hexbin(df["cos_original"], df[c], gridsize=45, mincnt=1, bins="log",
                  extent=(-1, 1, -1, 1))
        ax.plot([-1, 1], [-1, 1], color="0.3", ls="--", lw=0.8)
        ax.axhline(0.5, color=style.PALETTE[1], lw=0.8)
        share = float((df[c] > 0.5).mean())
        ax.set_title(f"{space_label(c[4:])}\n{100 * share:.0f}% of pairs above 0.5")
        ax.set_xlabel("cosine, original space")
        ax.set_aspect("equal")
        ax.grid(False)
    axes[0][0].set_ylabel("cosine after encoding")
    fig.suptitle(f"Figure 7: {len(df):,} pairs of one relationship")
    return fig


def _mds(results, name: str, title: str, labels: bool) -> Figure:
    df = _read(results, name)
    spaces = list(dict.fromkeys(df["space"]))
    plt = _plt()
    fig, axes = plt.subplots(1, len(spaces), figsize=(4.2 * len(spaces), 4.4),
                             squeeze=False)
    for ax, space in zip(axes[0], spaces):
        g = df[df["space"] == space]
        colour = style.model_color(space_label(space))
        for r in g.itertuples():
            ax.annotate("", xy=(r.xb, r.yb), xytext=(r.xa, r.ya),
                        arrowprops={"arrowstyle": "->", "color": colour, "lw": 1.0})
            if labels:
                ax.annotate(str(r.word_a), (r.xa, r.ya), fontsize=8, color="0.25")
                ax.annotate(str(r.word_b), (r.xb, r.yb), fontsize=8, color="0.25")
        xs = np.r_[g["xa"], g["xb"]]
        ys = np.r_[g["ya"], g["yb"]]
        ax.scatter(xs, ys, s=6, color="0.35", zorder=3)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(space_label(space))
    fig.suptitle(title)
    return fig


def figure3(results) -> Figure:
    """Figure 3: MDS of a subset of the negation pairs, original and linearly encoded
    space, labelled arrows (``figure3.csv``)."""
    return _mds(results, "figure3.csv", "Figure 3: a subset of the negation pairs (MDS)",
                labels=True)


def figure8(results) -> Figure:
    """Figure 8: MDS of all negation pairs (``figure8.csv``)."""
    return _mds(results, "figure8.csv", "Figure 8: all negation pairs (MDS)", labels=False)


def figure9(results) -> Figure:
    """Figure 9: MDS of all superlative pairs (``figure9.csv``)."""
    return _mds(results, "figure9.csv", "Figure 9: all superlative pairs (MDS)",
                labels=False)


def figure10(results) -> Figure:
    """Figure 10 drawn from data: each MEN pair's cosine before and after the linear
    encoder, seen from the origin (left) and from the corrected reference point (right,
    ``1 - cos`` on log axes since those cosines are all close to 1).

    Reads ``figure10.csv`` (``model``, ``default_before``, ``default_after``,
    ``corrected_before``, ``corrected_after``).
    """
    from scipy.stats import spearmanr

    df = _read(results, "figure10.csv")
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(7.4, 3.7))
    for ax, c, title in [(axes[0], "default", "default origin $o = 0$"),
                         (axes[1], "corrected", r"corrected $o' = \lambda_1 u_1$")]:
        before, after = df[f"{c}_before"], df[f"{c}_after"]
        keep = spearmanr(before, after).statistic
        if c == "corrected":
            before, after = 1 - before, 1 - after
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(r"$1 - \cos$ before")
            ax.set_ylabel(r"$1 - \cos$ after")
        else:
            ax.set_xlabel(r"$\cos$ before")
            ax.set_ylabel(r"$\cos$ after")
        ax.scatter(before, after, s=3, alpha=0.4, color=style.PALETTE[0])
        ax.set_title(f"{title}\nrank agreement {keep:.3f}")
    fig.suptitle(f"Figure 10 from data: MEN pairs, {df['model'].iloc[0]}")
    return fig


def degree_sweep(results) -> Figure:
    """Analogy and word similarity of the linear autoencoder against its degree ``k``
    (``degree_sweep.csv``)."""
    df = _read(results, "degree_sweep.csv").sort_values("k")
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.0, 3.8))
    ax.plot(df["k"], df["analogy"], "o-", color="k", label="analogy (Google)")
    lines = [("wsim_mturk771", "wsim MTurk-771, corrected", style.PALETTE[2], "s-"),
             ("wsim_men", "wsim MEN, corrected", style.PALETTE[3], "s-"),
             ("mturk771_default", "wsim MTurk-771, default origin", style.PALETTE[2], "s--"),
             ("men_default", "wsim MEN, default origin", style.PALETTE[3], "s--")]
    for col, label, colour, fmt in lines:
        ax.plot(df["k"], df[col], fmt, color=colour, label=label, alpha=0.85, ms=4)
    ax.set_xlabel(r"degree $k$ of $B_0 = (\frac{1}{N}X^\top X + I)^k$")
    ax.set_ylabel("metric")
    ax.set_xticks(df["k"])
    ax.legend(fontsize=8.5, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.set_title("Alignment against word similarity")
    return fig


# -- frames of the degree sliders (aligned_latents.book.sliders) ----------------------------
def mds_frame(frame: pd.DataFrame, lims, title: str) -> Figure:
    """One frame of the Figure 3 slider: the arrows ``word_a -> word_b`` of one space
    (columns ``word_a, word_b, xa, ya, xb, yb``, already Procrustes-aligned to the
    previous frame), labelled, on the fixed axes ``lims`` (``sliders.common_limits``)."""
    plt = _plt()
    style.use()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for r in frame.itertuples():
        ax.annotate("", xy=(r.xb, r.yb), xytext=(r.xa, r.ya),
                    arrowprops={"arrowstyle": "->", "color": style.PALETTE[2], "lw": 1.2})
        ax.annotate(str(r.word_a), (r.xa, r.ya), fontsize=8.5, color="0.25")
        ax.annotate(str(r.word_b), (r.xb, r.yb), fontsize=8.5, color=style.PALETTE[1])
    ax.set_xlim(*lims[0])
    ax.set_ylim(*lims[1])
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title)
    return fig


def tradeoff_frame(sweep: pd.DataFrame, k: int, wsim: str = "wsim_men") -> Figure:
    """One frame of the trade-off slider: ``analogy`` against ``wsim`` (corrected
    reference point) over the swept degrees (``degree_sweep.csv``), the point of degree
    ``k`` marked."""
    plt = _plt()
    style.use()
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    ax.plot(sweep[wsim], sweep["analogy"], "-o", color="0.6", ms=4, zorder=1)
    for r in sweep.itertuples():
        ax.annotate(f"k={r.k}", (getattr(r, wsim), r.analogy), fontsize=8,
                    xytext=(4, 4), textcoords="offset points", color="0.4")
    row = sweep[sweep["k"] == k].iloc[0]
    ax.scatter([row[wsim]], [row["analogy"]], s=90, color=style.PALETTE[1], zorder=3)
    ax.set_xlabel(f"{wsim.replace('wsim_', 'wsim ').replace('men', 'MEN')} "
                  "(corrected reference point)")
    ax.set_ylabel("analogy (mean cosine)")
    ax.set_title(f"The trade-off at k = {k}")
    return fig
