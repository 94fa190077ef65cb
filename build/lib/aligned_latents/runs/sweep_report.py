"""The table and plot of a finished sweep (:mod:`aligned_latents.runs.sweep`):
``sweep.csv`` in long form (:func:`combine_sweep`), the table the command prints
(:func:`wide_table`) and ``sweep.png`` (:func:`plot_sweep`).
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path


# -- the sweep's table and plot --------------------------------------------------------
def combine_sweep(chapter: str, points: list[dict], run_dirs: list[Path], ok=None):
    """One long table of every point's headline numbers
    (:func:`aligned_latents.record.ledger.headline_frame`): one column per swept
    parameter (lists as JSON), then ``run`` (the point's folder), ``row`` (the headline
    table's row label), ``quantity`` and ``value``, one row per point and headline
    number. Returns (frame, problems)."""
    import pandas as pd

    from aligned_latents.record.ledger import headline_frame

    frames, problems = [], []
    ok = ok if ok is not None else [True] * len(points)
    for values, d, good in zip(points, run_dirs, ok):
        label = ", ".join(f"{n} = {v!r}" for n, v in values.items())
        if not good:
            problems.append(f"{label}: run did not complete, left out of sweep.csv")
            continue
        try:
            f = headline_frame(chapter, Path(d) / "results" / chapter)
        except ValueError as exc:
            problems.append(f"{label}: {exc}")
            continue
        f = f.melt(id_vars="row", var_name="quantity", value_name="value")
        f.insert(0, "run", Path(d).name)  # relative: the sweep folder moves at the end
        for i, (n, v) in enumerate(values.items()):
            f.insert(i, n, json.dumps(v) if isinstance(v, (list, dict)) else v)
        frames.append(f)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return frame, problems


def wide_table(frame, names):
    """The long table of :func:`combine_sweep` with one column per headline quantity
    (what the command prints)."""
    keys = list(names) + ["row"]
    return frame.pivot_table(index=keys, columns="quantity", values="value",
                             aggfunc="first", sort=False).rename_axis(columns=None)


def _x_positions(values):
    """Numeric x for numbers (or one-element lists of numbers), else category
    positions."""
    def num(v):
        if isinstance(v, str):
            try:
                v = json.loads(v)
            except ValueError:
                return None
        if isinstance(v, list) and len(v) == 1:
            v = v[0]
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            return float(v)
        return None

    xs = [num(v) for v in values]
    if all(x is not None for x in xs):
        return xs, None
    cats = list(dict.fromkeys(str(v) for v in values))
    return [float(cats.index(str(v))) for v in values], cats


def _series_key(row: str, value) -> str:
    """Group rows across runs: a row label naming the swept value (``linear k=3``)
    becomes ``linear k=*`` so that one line follows it across the sweep."""
    v = value
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except ValueError:
            pass
    if isinstance(v, list) and len(v) == 1:
        v = v[0]
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        token = re.escape(f"{v:g}" if isinstance(v, float) else str(v))
        return re.sub(rf"(?<![0-9.]){token}(?![0-9.])", "*", row)
    return row


def _seed_names(names) -> list[str]:
    """The swept parameters after the first that are seeds (``seed``, ``*_seed``)."""
    return [n for n in names[1:] if n == "seed" or n.endswith("_seed")]


def sweep_lines(frame, names):
    """What :func:`plot_sweep` draws: per headline ``quantity`` and ``series`` (a row
    label, with the values of swept parameters other than the first and the seeds), at
    each ``x`` (the first swept parameter's value), the ``mean``, ``low`` and ``high``
    over the seeds and their ``count``. Returns (lines, category labels of x or None)."""
    import pandas as pd

    names = [names] if isinstance(names, str) else list(names)
    first, seeds = names[0], _seed_names(names)
    split = [n for n in names[1:] if n not in seeds]
    xs, cats = _x_positions(list(frame[first]))
    # on a numeric axis a row naming the swept value (``k=3``) follows it as ``k=*``;
    # on a categorical one (lists of several degrees) each row label is its own line
    keys = [_series_key(r, v) if cats is None else r
            for r, v in zip(frame["row"], frame[first])]
    for n in split:
        keys = [f"{k}, {n}={v}" for k, v in zip(keys, frame[n])]
    f = frame.assign(x=xs, series=keys)
    lines = (f.groupby(["quantity", "series", "x"], sort=False)["value"]
             .agg(mean="mean", low="min", high="max", count="count").reset_index())
    return pd.DataFrame(lines), cats


def plot_sweep(chapter: str, names, frame, path: Path) -> Path:
    """Plot each headline quantity of the long table (:func:`combine_sweep`) against the
    first swept parameter, one line per series of :func:`sweep_lines`: the mean over the
    seeds swept (``seed``, ``*_seed``) and a band from their lowest to highest value;
    any other swept parameter gives a line per value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [names] if isinstance(names, str) else list(names)
    seeds = _seed_names(names)
    lines, cats = sweep_lines(frame, names)
    quantities = list(dict.fromkeys(lines["quantity"]))
    if "claims_total" in quantities:  # fall-back headline: share of claims that hold
        quantities = ["claims_hold"]
    fig, axes = plt.subplots(1, len(quantities),
                             figsize=(max(5.0, 3.6 * len(quantities)), 3.6), squeeze=False)
    for ax, q in zip(axes[0], quantities):
        for key, sub in lines[lines["quantity"] == q].groupby("series", sort=False):
            sub = sub.sort_values("x")
            line, = ax.plot(sub["x"], sub["mean"], "o-", label=key)
            if (sub["count"] > 1).any():
                ax.fill_between(sub["x"], sub["low"], sub["high"],
                                color=line.get_color(), alpha=0.2, lw=0)
        if q == "claims_hold":
            tot = lines[lines["quantity"] == "claims_total"].sort_values("x")
            if len(tot):
                ax.plot(tot["x"], tot["mean"], "k--", lw=0.8, label="checks run")
        ax.set_xlabel(names[0])
        ax.set_title(q, fontsize=10)
        if cats is not None:
            ax.set_xticks(range(len(cats)), cats, rotation=30)
    axes[0][0].legend(fontsize=7)
    spread = (f"\n(mean, and range over {', '.join(seeds)})" if seeds else "")
    fig.suptitle(f"{chapter}: headline numbers against {names[0]}{spread}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
