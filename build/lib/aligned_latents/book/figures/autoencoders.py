"""Figures of the autoencoders chapter (paper Section 5, Appendices E-G).

Each function reads only the CSV files the chapter wrote under ``results/autoencoders/``
and returns the matplotlib ``Figure``. None of them is a figure of the paper (Section 5
has none); they show the book's evidence for Theorem 1, Corollary 4 and Theorem 2.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from aligned_latents.book import style
from aligned_latents.book.figures import read_results

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _read(results: Path, name: str) -> pd.DataFrame:
    return read_results(results, name)


def theorem1_dynamics(results: Path) -> Figure:
    """Theorem 1: singular values of the encoder ``B`` over flow time, one panel per
    initialization: gradient flow (ODE, lines), gradient descent (circles, GD step ``k``
    at time ``k·lr``), Appendix E's closed form (dashed) and Theorem 1's formula as
    printed (crosses at the right edge; absent where it has no real value).

    Reads ``theorem1_dynamics.csv`` (init, method, direction, t, b) and
    ``theorem1_table.csv`` (init, direction, in_span, b_pred, b_printed).
    """
    import matplotlib.pyplot as plt

    style.use()
    dyn = _read(results, "theorem1_dynamics.csv")
    table = _read(results, "theorem1_table.csv")
    inits = list(dict.fromkeys(dyn["init"]))
    fig, axes = plt.subplots(1, len(inits), figsize=(7.0, 3.6), sharey=True,
                             squeeze=False)
    for ax, init in zip(axes[0], inits):
        d = dyn[(dyn["init"] == init) & (dyn["t"] > 0)]
        t_lo, t_hi = d["t"].min(), d["t"].max()
        tab = table[(table["init"] == init) & table["in_span"].astype(bool)]
        for j, (direction, g) in enumerate(d.groupby("direction")):
            colour = style.PALETTE[j % (len(style.PALETTE) - 1)]
            flow = g[g["method"] == "gradient flow"]
            gd = g[g["method"] == "gradient descent"]
            ax.plot(flow["t"], flow["b"], "-", color=colour, lw=1.4)
            ax.plot(gd["t"].iloc[::3], gd["b"].iloc[::3], "o", mfc="none", ms=4.5,
                    color=colour)
            row = tab[tab["direction"] == direction]
            if len(row):
                ax.hlines(row["b_pred"].iloc[0], t_lo, t_hi, colors=colour, lw=0.9,
                          linestyles="--")
                if np.isfinite(row["b_printed"].iloc[0]):
                    ax.plot([t_hi * 1.8], [row["b_printed"].iloc[0]], "x", color=colour,
                            ms=6, clip_on=False)
        ax.set_xscale("log")
        ax.set(title=f"{init} initialization", xlabel="flow time t (GD: step × lr)")
    axes[0][0].set_ylabel(r"singular value $b_i(t)$ of $B$")
    handles = [plt.Line2D([], [], color="k", lw=1.4, label="gradient flow (ODE)"),
               plt.Line2D([], [], color="k", marker="o", mfc="none", ls="none",
                          label="gradient descent"),
               plt.Line2D([], [], color="k", ls="--", lw=0.9,
                          label="closed form (Appendix E)"),
               plt.Line2D([], [], color="k", marker="x", ls="none",
                          label="Theorem 1 as printed")]
    axes[0][-1].legend(handles=handles, loc="best", fontsize=8)
    return fig


def corollary4(results: Path) -> Figure:
    """Corollary 4: ``cos(Bq_Σ1, Bq_Σ2)`` against the degree ``k`` for both
    initializations: the Corollary's n → ∞ formula (lines), the trained encoder (dots),
    and the cosine before embedding (dotted).

    Reads ``corollary4.csv`` (init, k, cos_pred, cos_trained, cos_before).
    """
    import matplotlib.pyplot as plt

    style.use()
    c4 = _read(results, "corollary4.csv")
    fig, ax = plt.subplots(figsize=(7.0, 3.4))
    for j, (label, g) in enumerate(c4.groupby("init", sort=False)):
        g = g.sort_values("k")
        colour = style.PALETTE[2 + j]
        ax.plot(g["k"], g["cos_pred"], "-", color=colour,
                label=f"Corollary 4 formula, {label}")
        ax.plot(g["k"], g["cos_trained"], "o", color=colour, label=f"trained, {label}")
    ax.axhline(c4["cos_before"].iloc[0], color="0.5", ls=":", label="before embedding")
    ax.set(xlabel="degree k", ylabel=r"$\cos(Bq_{\Sigma_1}, Bq_{\Sigma_2})$")
    ax.set_xticks(sorted(c4["k"].unique()))
    ax.legend(fontsize=8)
    return fig


def theorem2_training(results: Path) -> Figure:
    """Theorem 2 and Lemmas 3-4 along SGD: left, the quantities that the lemmas say are
    zero (rank-one residuals of A and B, Lemma 4's law relative to its scale, and the
    distance from equilibrium ``|1 - η aᵀφ(b)|``); right, ``‖Bx‖²`` minus Theorem 2's
    closed form against the step, with the discrete-GD value and a band of ±5e-4
    (agreement to the third decimal place), on a symmetric-log axis.

    Reads ``theorem2_trajectory.csv`` and ``theorem2_summary.csv`` (eta,
    Bx_norm2_closed, Bx_norm2_recursion).
    """
    import matplotlib.pyplot as plt

    style.use()
    traj = _read(results, "theorem2_trajectory.csv")
    summ = _read(results, "theorem2_summary.csv").iloc[0]
    t = traj[traj["step"] > 0]
    fig, ax = plt.subplots(1, 2, figsize=(7.0, 3.4))
    floor = 1e-18  # exact zeros on a log axis
    ax[0].semilogy(t["step"], t["rank1_residual_A"] + floor,
                   label=r"A: residual of $xa^T$")
    ax[0].semilogy(t["step"], t["rank1_residual_B"] + floor,
                   label=r"B: residual of $bx^T$")
    ax[0].semilogy(t["step"], t["conservation_residual"] / t["conservation_scale"],
                   label="Lemma 4 law (relative)")
    ax[0].semilogy(t["step"], np.abs(1 - summ["eta"] * t["a_phi_b"]) + floor,
                   label=r"$|1 - \eta\, a^T\phi(b)|$")
    # fixed limits: the residuals sit at rounding level (~1e-16), whose exact value
    # differs between BLAS builds; an autoscaled axis would move with it
    ax[0].set_ylim(1e-19, 1e1)
    ax[0].set(xlabel="SGD step", title="Lemmas 3-4 along SGD")
    ax[0].legend(fontsize=7.5)
    gap = t["Bx_norm2"] - summ["Bx_norm2_closed"]
    ax[1].axhspan(-5e-4, 5e-4, color="0.85", label="third decimal (±5e-4)")
    ax[1].plot(t["step"], gap, color=style.PALETTE[0], label="SGD")
    ax[1].axhline(0.0, color="k", ls="--", lw=1, label="Theorem 2 (gradient flow)")
    ax[1].axhline(summ["Bx_norm2_recursion"] - summ["Bx_norm2_closed"],
                  color=style.PALETTE[1], ls=":", label="discrete-GD recursion")
    ax[1].set_yscale("symlog", linthresh=1e-3)
    ax[1].set_ylim(top=2e-3)
    ax[1].set(xlabel="SGD step", ylabel=r"$\|Bx\|^2$ minus Theorem 2's value",
              title=r"$\|Bx\|^2$ along SGD")
    ax[1].legend(fontsize=7.5, loc="lower right")
    return fig
