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
    from the chapter's checks (``claims.verdict``) and links to the opening page's table.
    """
    df = claims.frame()
    df = df[df["statement"] == statement]
    verdict = claims.verdict(statement)
    ev = ", ".join(dict.fromkeys(df["evidence"]))
    n, ok = len(df), int(df["holds"].sum())
    return (f"**Verdict — {label}: {verdict}** ({ev}; {ok} of {n} checks hold; "
            f"[all verdicts](intro.html#verdicts), id `{statement}`)")


def show_verdict(claims, statement: str, label: str) -> None:
    """Display :func:`verdict_line` as Markdown (use in a ``remove-input`` cell)."""
    from IPython.display import Markdown, display

    display(Markdown(verdict_line(claims, statement, label)))
