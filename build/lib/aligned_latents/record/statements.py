"""The paper's numbered statements and checkable sentences, as listed in paper_statements.csv.

``paper_statements.csv`` (shipped with the package) has one row per numbered definition,
lemma, corollary, theorem, figure and table of the paper, and one row per sentence or
displayed equation that states something a computation can check. Its columns:

``statement``
    a stable id, lower case, letters, digits, dots and underscores (``lemma1``,
    ``fig7.share_76``, ``s6_3.degree30_nearly_perfect``);
``location``
    where in the paper (``Section 3, Lemma 1``, ``Appendix I.2, Figure 7``);
``kind``
    one of :data:`KINDS`;
``chapter``
    the book chapter that checks it, one of :data:`aligned_latents.util.chapters.RESULT_PAGES`;
``quote``
    the paper's words, copied exactly (cut with ``...``, never paraphrased);
``not_checkable``
    empty when the book can check the statement, otherwise the reason why no computation
    can bear on it (a schematic, a definition, the authors' hardware, a value that
    describes the paper's own data set rather than its method);
``quantifier``
    the word of the sentence that a check must put a threshold on ("substantially",
    "nearly perfectly", "does not significantly"), or empty: every inequality check of a
    statement with a quantifier needs a non-zero bound and a written reason
    (:func:`aligned_latents.record.verdicts.quantifier_problems`).

Example
-------
>>> from aligned_latents.record.statements import load_statements
>>> table = load_statements()
>>> table.set_index("statement").loc["fig7.share_76", "chapter"]
'glove'
"""
from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pandas as pd

from aligned_latents.util.chapters import RESULT_PAGES

#: The columns of ``paper_statements.csv``, in order.
STATEMENT_COLUMNS = ["statement", "location", "kind", "chapter", "quote", "not_checkable",
                     "quantifier"]

#: What a row is: a numbered object of the paper, a sentence or a displayed equation.
KINDS = ("definition", "lemma", "corollary", "theorem", "figure", "table", "sentence", "equation")

_ID = re.compile(r"^[a-z0-9_.]+$")
_FILE = "paper_statements.csv"


def _read(path: str | Path | None) -> tuple[pd.DataFrame, str]:
    if path is None:
        res = resources.files("aligned_latents.record").joinpath(_FILE)
        with resources.as_file(res) as p:
            return pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8"), str(p)
    path = Path(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8"), str(path)


def load_statements(path: str | Path | None = None) -> pd.DataFrame:
    """The statements table, validated.

    Parameters
    ----------
    path : str or Path, optional
        A CSV with the columns of :data:`STATEMENT_COLUMNS`; by default the package's
        ``paper_statements.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per statement, all columns strings (``not_checkable`` is ``""`` when the
        statement is checkable).

    Raises
    ------
    ValueError
        If the columns are not exactly :data:`STATEMENT_COLUMNS`, or a row has a malformed or
        repeated id, an unknown kind or chapter, or an empty quote; the message names the row
        (its 1-based line in the file and its id).
    """
    table, where = _read(path)
    if list(table.columns) != STATEMENT_COLUMNS:
        raise ValueError(f"{where}: columns must be exactly {STATEMENT_COLUMNS}, "
                         f"found {list(table.columns)}")
    seen: dict[str, int] = {}
    for i, row in enumerate(table.itertuples(index=False)):
        line = i + 2  # the header is line 1
        sid = row.statement.strip()
        name = f"{where}, line {line} (statement {row.statement!r})"
        if not _ID.match(sid) or sid != row.statement:
            raise ValueError(f"{name}: the id must match {_ID.pattern}")
        if sid in seen:
            raise ValueError(f"{name}: duplicate id, first on line {seen[sid]}")
        seen[sid] = line
        if row.kind not in KINDS:
            raise ValueError(f"{name}: kind {row.kind!r} is not one of {', '.join(KINDS)}")
        if row.chapter not in RESULT_PAGES:
            raise ValueError(f"{name}: chapter {row.chapter!r} is not one of "
                             f"{', '.join(RESULT_PAGES)}")
        if not row.quote.strip():
            raise ValueError(f"{name}: the quote is empty")
        if not row.location.strip():
            raise ValueError(f"{name}: the location is empty")
        if row.quantifier.strip() and row.quantifier.strip().lower() not in (
                row.quote.lower()):
            raise ValueError(f"{name}: the quantifier {row.quantifier!r} is not in the "
                             "quote")
    return table


def statement_ids(path: str | Path | None = None) -> list[str]:
    """The ids of all statements, in the order of the file."""
    return load_statements(path)["statement"].tolist()
