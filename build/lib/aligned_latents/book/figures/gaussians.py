"""Figures of the chapter ``gaussians`` (Section 4 and Appendices B-D of the paper), drawn
from the CSV files the chapter writes under ``results/gaussians/``.

* :func:`power_method` -- histograms of the cosines between differences of points after
  ``t`` multiplications by ``(1/n) X Xᵀ`` (``power_method_cosines.csv``);
* :func:`lemma2_convergence` -- the Monte Carlo error of Lemma 2 against ``n`` on log-log
  axes, with the ``n^{-1/2}`` line (``lemma2_convergence.csv``);
* :func:`corollary2` -- Corollary 2's closed form against the simulation, by degree
  (``corollary2.csv``, ``corollary2_closed.csv``);
* :func:`figure5` -- the paper's Figure 5 (``figure5.csv``, ``figure5_axes.csv``).
* :func:`figure5_frame` -- one frame of Figure 5's slider over the degree ``k`` (points and
  images of the major axes after ``B``, drawn from arrays).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from aligned_latents.book import style
from aligned_latents.book.figures import read_results

_COLOURS = (style.PALETTE[0], style.PALETTE[1])


def _read(results: Path, name: str, columns: list[str]) -> pd.DataFrame:
    return read_results(results, name, columns)


def power_method(results: Path, steps=None):
    """One histogram per number of multiplications ``t`` (``steps``; default every column
    ``t=...`` of ``power_method_cosines.csv``), sharing the y axis."""
    import matplotlib.pyplot as plt

    style.use()
    path = Path(results) / "power_method_cosines.csv"
    df = _read(results, "power_method_cosines.csv", [])
    cols = [c for c in df.columns if c.startswith("t=")]
    if steps is not None:
        want = [f"t={int(t)}" for t in steps]
        lacking = [c for c in want if c not in cols]
        if lacking:
            raise ValueError(f"{path} lacks columns {lacking}")
        cols = want
    if not cols:
        raise ValueError(f"{path} has no column t=...")
    fig, axes = plt.subplots(1, len(cols), figsize=(7.0, 2.4), sharey=True,
                             squeeze=False)
    for ax, col in zip(axes[0], cols):
        ax.hist(df[col], bins=np.linspace(-1, 1, 41), color=style.PALETTE[0])
        ax.set_title(col.replace("=", " = "))
        ax.set_xticks([-1, 0, 1])
        ax.set_xlabel("cosine")
    axes[0][0].set_ylabel("pairs")
    return fig


def lemma2_convergence(results: Path):
    """Lemma 2 by Monte Carlo: the RMS Frobenius error of ``(1/n) X Xᵀ`` (dots), the
    exact RMS error, which is ``∝ n^{-1/2}`` (dashed line), and the mean errors of the
    top eigenvalue and eigenvector, against ``n`` on log-log axes; the title gives the
    fitted slope. Reads ``lemma2_convergence.csv`` (n, frobenius_error, exact_rms,
    eigenvalue_error, eigenvector_sin)."""
    import matplotlib.pyplot as plt

    from aligned_latents.theory.gaussians import loglog_slope

    style.use()
    df = _read(results, "lemma2_convergence.csv",
               ["n", "frobenius_error", "exact_rms", "eigenvalue_error",
                "eigenvector_sin"])
    grp = df.groupby("n")
    ns = np.array(sorted(df.n.unique()))
    errs = np.stack([grp.get_group(n).frobenius_error.to_numpy() for n in ns])
    slope, se, rms = loglog_slope(ns, errs)
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    ax.loglog(ns, rms, "o", color=style.PALETTE[0],
              label=r"RMS $\Vert\frac{1}{n}XX^T - L\Vert_F$ (Monte Carlo)")
    ax.loglog(ns, grp.exact_rms.first().loc[ns], "--", color="black",
              label=r"exact RMS error $\propto n^{-1/2}$")
    ax.loglog(ns, grp.eigenvalue_error.mean().loc[ns], "s-", color=style.PALETTE[2],
              label=r"mean $|\hat\lambda_1 - \lambda_1|$")
    ax.loglog(ns, grp.eigenvector_sin.mean().loc[ns], "^-", color=style.PALETTE[3],
              label=r"mean $\sin\angle(\hat v_1, v_1)$")
    ax.set_xlabel("samples per Gaussian $n$")
    ax.set_ylabel("error")
    ax.set_title(f"fitted slope {slope:.3f} ± {se:.3f} (rate $n^{{-1/2}}$: −0.5)")
    ax.legend(fontsize=8.5)
    return fig


def corollary2(results: Path):
    """Corollary 2: the closed form against the degree ``k`` (lines), the simulation
    (dots) and the cosine before the map (dotted), one colour per ``c``. Reads
    ``corollary2.csv`` (c, k, simulated) and ``corollary2_closed.csv`` (c, k,
    closed_form, before)."""
    import matplotlib.pyplot as plt

    style.use()
    sim = _read(results, "corollary2.csv", ["c", "k", "simulated"])
    closed = _read(results, "corollary2_closed.csv", ["c", "k", "closed_form", "before"])
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    for i, (c, grp) in enumerate(closed.groupby("c")):
        colour = style.PALETTE[i % len(style.PALETTE)]
        ax.plot(grp.k, grp.closed_form, lw=1.2, color=colour)
        s = sim[sim.c == c]
        ax.plot(s.k, s.simulated, "o", color=colour, label=f"c = {c:g}")
        ax.axhline(grp.before.iloc[0], color=colour, ls=":", lw=0.9)
    ax.set_xscale("log")
    ax.set_xlabel("degree $k$ of $B = (\\frac{1}{n}XX^T)^k$")
    ax.set_ylabel(r"$\cos(Bq_{\Sigma_1}, Bq_{\Sigma_2})$")
    ax.set_title("closed form (lines), simulation (dots), before the map (dotted)")
    ax.legend(fontsize=8.5, ncol=2, loc="lower right")
    return fig


def figure5(results: Path):
    """Figure 5: the two Gaussians before (a) and after (b) ``B = (\\frac{1}{s n}XX^T)^k``,
    with their major axes (a) and the images of the axes (b). Reads ``figure5.csv``
    (component, x, y, embedded_x, embedded_y) and ``figure5_axes.csv`` (component, q_x,
    q_y, Bq_x, Bq_y, c, k, scale, cos_before, angle_after)."""
    import matplotlib.pyplot as plt

    style.use()
    pts = _read(results, "figure5.csv", ["component", "x", "y", "embedded_x",
                                         "embedded_y"])
    ax_df = _read(results, "figure5_axes.csv",
                  ["component", "q_x", "q_y", "Bq_x", "Bq_y", "c", "k", "scale",
                   "cos_before", "angle_after"]).sort_values("component")
    first = ax_df.iloc[0]
    fig, axes = plt.subplots(1, 2, figsize=(7.0, 3.6))
    panels = [
        (axes[0], ("x", "y"), ("q_x", "q_y"),
         f"(a) before, c = {first.c:g}\ncos of the major axes {first.cos_before:.3f}"),
        (axes[1], ("embedded_x", "embedded_y"), ("Bq_x", "Bq_y"),
         (f"(b) after $B = (\\frac{{1}}{{{first.scale:g}n}}XX^T)^{{{int(first.k)}}}$\n"
         f"angle between the images {first.angle_after:.1e} rad")),
    ]
    for ax, (cx, cy), (dx, dy), title in panels:
        extent = np.abs(pts[[cx, cy]].to_numpy()).max()
        for (comp, grp), colour in zip(pts.groupby("component"), _COLOURS):
            ax.scatter(grp[cx], grp[cy], s=5, alpha=0.4, color=colour,
                       label=f"Gaussian {comp}")
            row = ax_df[ax_df.component == comp].iloc[0]
            v = np.array([row[dx], row[dy]])
            v = v / np.linalg.norm(v) * extent
            ax.plot([-v[0], v[0]], [-v[1], v[1]], lw=1.5,
                    color="black" if comp == 1 else style.PALETTE[3])
        ax.set_title(title)
        ax.legend(loc="lower right", markerscale=3)
    axes[0].set_aspect("equal", adjustable="datalim")
    return fig


def figure5_frame(X, labels, B, q1, q2, title: str = "", size: float = 4.2):
    """One frame of Figure 5's slider: the points ``X`` (2 x N, Gaussian ``labels`` 0/1 or
    1/2) mapped by ``B`` and divided by their largest absolute coordinate (the scale grows
    like ``λ1^k``; only the shape matters), with the lines through the origin along
    ``B q1`` and ``B q2``, the images of the two major axes. The limits are fixed to
    ``[-1.05, 1.05]`` so that consecutive frames line up."""
    import matplotlib.pyplot as plt

    style.use()
    X = np.asarray(X, dtype=float)
    labels = np.asarray(labels)
    B = np.asarray(B, dtype=float)
    if X.ndim != 2 or X.shape[0] != 2 or labels.shape != (X.shape[1],):
        raise ValueError(f"X must be 2 x N with one label per column, got {X.shape} and "
                         f"{labels.shape}")
    if B.shape != (2, 2):
        raise ValueError(f"B must be 2 x 2, got {B.shape}")
    Y = B @ X
    extent = np.abs(Y).max()
    Y = Y / extent if extent > 0 else Y
    fig, ax = plt.subplots(figsize=(size, size))
    comps = np.unique(labels)
    for j, (comp, colour) in enumerate(zip(comps, _COLOURS)):
        pts = Y[:, labels == comp]
        ax.scatter(pts[0], pts[1], s=5, alpha=0.4, color=colour, label=f"Gaussian {j + 1}")
    for j, q in enumerate((q1, q2)):
        v = B @ np.asarray(q, dtype=float)
        v = v / np.abs(v).max() * 1.05   # to the frame's edge
        ax.plot([-v[0], v[0]], [-v[1], v[1]], lw=1.5,
                color="black" if j == 0 else style.PALETTE[3],
                label=f"$Bq_{{\\Sigma_{j + 1}}}$")
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-1.05, 1.05)
    ax.set_aspect("equal")
    ax.set_xlabel("first coordinate / largest |coordinate|")
    if title:
        ax.set_title(title)
    ax.legend(loc="lower right", markerscale=3, fontsize=8.5)
    return fig
