"""Figures of the chapter on drug signatures (paper Section 6.3), drawn from the CSVs the
chapter writes under ``results/cmap/``.

* :func:`figure4`: the paper's Figure 4 (``figure4.csv``, ``data_source.json``);
* :func:`lemma1_sweep`: the book's sweep of the simulated shared effect
  (``lemma1_sweep.csv``);
* :func:`fluvaccine`: Figure 4's layout for the fluVaccine signatures
  (``fluvaccine_pairs.csv``).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from aligned_latents.book import style
from aligned_latents.book.figures import read_results

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _read(path: Path, columns: list[str]) -> pd.DataFrame:
    return read_results(Path(path).parent, Path(path).name, columns, nonempty=True)


def data_source(results: Path) -> dict:
    """``data_source.json``: whether the run was simulated and which cell types it
    compared (a missing file counts as simulated, cell types unnamed)."""
    path = Path(results) / "data_source.json"
    try:
        src = json.loads(path.read_text())
    except (OSError, ValueError):
        src = {}
    return {"simulated": bool(src.get("simulated", True)),
            "cell_a": src.get("cell_a", "cell type a"),
            "cell_b": src.get("cell_b", "cell type b")}


def _tag(simulated: bool) -> str:
    return "SIMULATED data" if simulated else "real L1000 data"


def _diagonal_scatter(ax, x, y, color, label=None):
    ax.scatter(x, y, s=9, alpha=0.6, color=color, label=label, linewidths=0)
    ax.plot([-1, 1], [-1, 1], "k--", lw=0.8)
    ax.set(xlim=(-1.05, 1.05), ylim=(-1.05, 1.05), aspect="equal")


def figure4(results: Path):
    """Figure 4: for each drug, the cosine of its signatures in the two cell types in
    the original space (x) and in each model's latent space (y), one panel per model in
    the order of ``figure4.csv`` (the paper: (a) Leaky ReLU, (b, c) linear k = 11,
    30)."""
    import matplotlib.pyplot as plt

    style.use()
    results = Path(results)
    df = _read(results / "figure4.csv", ["drug", "model", "cos_original", "cos_latent"])
    src = data_source(results)
    models = list(dict.fromkeys(df["model"]))
    ncol = min(3, len(models))
    nrow = -(-len(models) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(7.0, 2.75 * nrow + 0.5), squeeze=False,
                             sharey=True)
    for i, (ax, m) in enumerate(zip(axes.flat, models)):
        g = df[df["model"] == m]
        _diagonal_scatter(ax, g["cos_original"], g["cos_latent"], style.model_color(m))
        ax.set_title(f"({_LETTERS[i % 26]}) {m}")
        ax.set_xlabel("cosine, original space")
        if i % ncol == 0:
            ax.set_ylabel("cosine, latent space")
    for ax in list(axes.flat)[len(models):]:
        ax.set_visible(False)
    fig.suptitle(f"{_tag(src['simulated'])}: {src['cell_a']} vs {src['cell_b']} "
                 f"signatures, {df['drug'].nunique()} drugs")
    return fig


def lemma1_sweep(results: Path):
    """The share of drugs whose alignment increased (left) and the share with a negative
    latent cosine (right), against the simulation's ``shared_on_top`` f, per linear model
    (dashed: negative cosines in the original space)."""
    import matplotlib.pyplot as plt

    style.use()
    df = _read(Path(results) / "lemma1_sweep.csv",
               ["shared_on_top", "model", "share_increased", "share_negative_latent",
                "share_negative_original"])
    fig, axes = plt.subplots(1, 2, figsize=(7.0, 3.2), sharex=True)
    for m, g in df.groupby("model", sort=False):
        g = g.sort_values("shared_on_top")
        c = style.model_color(m)
        axes[0].plot(g["shared_on_top"], g["share_increased"], "o-", color=c, label=m)
        axes[1].plot(g["shared_on_top"], g["share_negative_latent"], "o-", color=c,
                     label=m)
    g0 = df[df["model"] == df["model"].iloc[0]].sort_values("shared_on_top")
    axes[1].plot(g0["shared_on_top"], g0["share_negative_original"], "k--",
                 label="original space")
    for ax, title in zip(axes, ["alignment increased", "latent cosine < 0"]):
        ax.set(xlabel="f (shared effect on the broad program)", ylim=(-0.03, 1.03),
               title=title)
    axes[0].set_ylabel("share of drugs")
    axes[1].legend()
    fig.suptitle("SIMULATED data: Lemma 1 sweep")
    return fig


def fluvaccine(results: Path):
    """Figure 4's layout for the fluVaccine vaccine signatures: each pair of subjects'
    cosine in the original space (x) and after the linear autoencoder (y), one panel per
    latent space in ``fluvaccine_pairs.csv``, colour by comparison (within a cohort,
    across the cohorts)."""
    import matplotlib.pyplot as plt

    style.use()
    df = _read(Path(results) / "fluvaccine_pairs.csv",
               ["comparison", "space", "cos_original", "cos_latent"])
    spaces = list(dict.fromkeys(df["space"]))
    comps = list(dict.fromkeys(df["comparison"]))
    order = (0, 2, 4, 3, 5, 6)
    colors = {c: style.PALETTE[order[j % len(order)]] for j, c in enumerate(comps)}
    fig, axes = plt.subplots(1, len(spaces), figsize=(7.0, 3.3), squeeze=False,
                             sharey=True)
    for i, (ax, sp) in enumerate(zip(axes[0], spaces)):
        g = df[df["space"] == sp]
        for comp in comps:
            h = g[g["comparison"] == comp]
            _diagonal_scatter(ax, h["cos_original"], h["cos_latent"], colors[comp],
                              label=comp)
        ax.set_title(f"({_LETTERS[i % 26]}) {sp}")
        ax.set_xlabel("cosine, original space")
    axes[0][0].set_ylabel("cosine, latent space")
    axes[0][0].legend(loc="upper left", fontsize=8)
    fig.suptitle("fluVaccine (real data): vaccine signatures of pairs of subjects")
    return fig
