"""Small helpers for the chapters' notebooks."""
from __future__ import annotations


def glue(name: str, value, display: bool = False):
    """``myst_nb.glue`` that stores numpy scalars as Python numbers.

    With NumPy 2 a ``np.float64`` is stored by its repr ``np.float64(0.5)``, which myst-nb
    cannot format (``{glue:text}`name:.3f``` then warns and the -W build fails).
    """
    from myst_nb import glue as _glue

    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()
    return _glue(name, value, display=display)


def verdict_line(claims, statement: str, label: str) -> str:
    """One Markdown line with a statement's verdict, for the page right after its evidence.

    ``label`` is how the page names the statement (e.g. ``"Lemma 1"``). The verdict comes
    from the chapter's checks (:func:`aligned_latents.record.verdicts.statement_verdict`),
    in plain words: the evidence kind and the count of checks in a short parenthesis,
    then the noise scale of each seed check ("0.31 ± 0.02 over 5 seeds (...)"), and a
    link to the opening page's table (its label ``verdicts``; the statement's internal id
    only as the link's title). The chapters render Markdown outputs as MyST
    (``render_markdown_format: myst``), where ``#verdicts`` finds that label.
    """
    from aligned_latents.record.claims import SEED_CHECKS, check_kind, too_few_seeds
    from aligned_latents.record.verdicts import statement_verdict

    df = claims.frame()
    df = df[df["statement"] == statement]
    if df.empty:
        raise ValueError(f"{claims.chapter}: no check of statement {statement!r} yet")
    verdict = statement_verdict(df)
    ev = ", ".join(e.replace("-", " ") for e in dict.fromkeys(df["evidence"]))
    n, ok = len(df), int(df["holds"].sum())
    checks = "1 check" if n == 1 else f"{n} checks"
    held = "holds" if n == 1 else "hold"
    noise = []
    for r in df.to_dict("records"):
        if check_kind(r["check"]) in SEED_CHECKS:
            spread, few = r["detail"].split(";")[0], too_few_seeds(r)
            noise.append(f"{r['quantity']}: " + (f"none, {few} ({spread})" if few
                                                 else spread))
    extra = (" Noise scale: " + "; ".join(noise) + ".") if noise else ""
    return (f"**Verdict — {label}: {verdict}** ({ev}; {ok} of {checks} {held}; "
            f"[all verdicts](#verdicts \"{statement}\")).{extra}")


def show_verdict(claims, statement: str, label: str) -> None:
    """Display :func:`verdict_line` as Markdown (use in a ``remove-input`` cell)."""
    from IPython.display import Markdown, display

    display(Markdown(verdict_line(claims, statement, label)))


SEED_TABLE_COLUMNS = ["seed", "statement", "claim", "quantity", "check", "expected",
                      "tolerance", "value", "passes"]


def seed_table(claims, seeds):
    """Every seed's value of each seed check of a chapter (``Claims.seeds`` rows), one
    row per check and seed, with the ``seed`` column: what a chapter writes next to its
    results (``monte_carlo_seeds.csv``). ``passes`` is that seed's outcome by the
    check's rule (:func:`aligned_latents.record.claims.seed_passes`)."""
    import pandas as pd

    from aligned_latents.record.claims import (
        SEED_CHECKS,
        check_kind,
        seed_passes,
        seed_values,
    )

    seeds = list(seeds)
    df = claims.frame()
    rows = []
    for r in df[df["check"].map(check_kind).isin(SEED_CHECKS)].to_dict("records"):
        values = seed_values(r)
        if len(values) != len(seeds):
            raise ValueError(f"check {r['quantity']!r} has {len(values)} seed values, "
                             f"not one per seed of {seeds}")
        rows += [{"seed": s, **{k: r[k] for k in SEED_TABLE_COLUMNS[1:7]}, "value": v,
                  "passes": ok} for s, v, ok in zip(seeds, values, seed_passes(r))]
    return pd.DataFrame(rows, columns=SEED_TABLE_COLUMNS)


def seed_summary(table):
    """Mean, standard deviation (n - 1; 0 for one seed), range and passing seeds of each
    check of a :func:`seed_table`, in the checks' order."""
    grouped = table.groupby(["statement", "quantity"], sort=False)
    out = grouped["value"].agg(["count", "mean", "std", "min", "max"]).fillna(0.0)
    out["passing seeds"] = grouped["passes"].sum().astype(int)
    return out.rename(columns={"count": "seeds", "std": "sd"}).reset_index()
