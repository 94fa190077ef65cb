"""Which verdicts on the paper's statements changed between two runs (or a run and the
book).

A verdict table (:func:`aligned_latents.record.verdicts.verdict_table`, the book's
``results/ledger/verdicts.csv``) has one row per statement with at least the columns
``statement, location, evidence, verdict``; a ``verdicts.csv`` is read by
:func:`aligned_latents.record.verdicts.read_verdicts` (the one reader of the format).
:func:`compare_verdicts` (the one comparison of two verdict tables) lists the
statements whose verdict differs between two such tables; :func:`format_changes` says it
in lines such as ``Section 6.1.2, Table 1 (table1.k1_accuracy_gain): not reproduced
(book) -> confirmed (this run)``.

:func:`run_verdicts` computes (or reads back) the verdicts of one rerun folder; the
command ``aligned-latents compare DIR1 DIR2`` and the end of ``aligned-latents rerun``
use it.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from aligned_latents.record.verdicts import read_verdicts
from aligned_latents.util.paths import REPO_ROOT
from aligned_latents.util.text import one_line

#: Columns of :func:`compare_verdicts`' result (and of ``verdict_changes.csv``).
CHANGE_COLUMNS = ["statement", "location", "evidence", "verdict_before",
                  "verdict_after", "change"]
#: The columns a verdict table must have.
NEEDED = ["statement", "verdict"]
#: Written into a run folder by a complete rerun.
VERDICTS_CSV = "verdicts.csv"
CHANGES_CSV = "verdict_changes.csv"


def book_verdicts_path() -> Path:
    """The book's own verdicts (``results/ledger/verdicts.csv``, written by the
    build)."""
    return REPO_ROOT / "results" / "ledger" / "verdicts.csv"


def _table(df: pd.DataFrame, side: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"the {side} verdicts must be a DataFrame, "
                         f"got {type(df).__name__}")
    lacking = [c for c in NEEDED if c not in df.columns]
    if lacking:
        raise ValueError(f"the {side} verdicts lack columns {lacking}; "
                         f"they have {list(df.columns)}")
    out = df.copy()
    for col in ("location", "evidence"):
        if col not in out.columns:
            out[col] = ""
    out = out[["statement", "location", "evidence", "verdict"]].fillna("").astype(str)
    dup = sorted(set(out["statement"][out["statement"].duplicated()]))
    if dup:
        raise ValueError(f"the {side} verdicts list statements twice: {', '.join(dup)}")
    return out


def compare_verdicts(before: pd.DataFrame, after: pd.DataFrame,
                     one_sided: bool = False) -> pd.DataFrame:
    """The statements whose verdict differs between ``before`` and ``after``.

    Rows are matched on ``statement``. Columns :data:`CHANGE_COLUMNS`; ``change`` is
    ``changed``. A statement present on one side only is left out, unless ``one_sided``,
    when it is listed with ``change`` ``only before`` or ``only after`` (and an empty
    verdict on the other side). Order: ``after``'s order, then statements only in
    ``before``. ``location`` and ``evidence`` are taken from ``after`` when it has the
    row.
    """
    b = _table(before, "before").set_index("statement")
    a = _table(after, "after").set_index("statement")
    rows = []
    for st, ra in a.iterrows():
        if st in b.index:
            vb = b.at[st, "verdict"]
            if vb != ra["verdict"]:
                rows.append([st, ra["location"] or b.at[st, "location"], ra["evidence"],
                             vb, ra["verdict"], "changed"])
        elif one_sided:
            rows.append([st, ra["location"], ra["evidence"], "", ra["verdict"],
                         "only after"])
    if one_sided:
        for st, rb in b.iterrows():
            if st not in a.index:
                rows.append([st, rb["location"], rb["evidence"], rb["verdict"], "",
                             "only before"])
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)


def format_changes(df: pd.DataFrame, before_label: str, after_label: str) -> str:
    """One line per row of :func:`compare_verdicts`: ``LOCATION (STATEMENT): VERDICT
    (before_label) -> VERDICT (after_label)``, ``absent`` for a missing side;
    ``no verdict changed`` when ``df`` is empty."""
    lacking = [c for c in CHANGE_COLUMNS if c not in df.columns]
    if lacking:
        raise ValueError(f"not a table of verdict changes: it lacks {lacking}")
    if df.empty:
        return "no verdict changed"
    lines = []
    for r in df.fillna("").to_dict("records"):
        where = (f"{r['location']} ({r['statement']})" if r["location"]
                 else r["statement"])
        vb = r["verdict_before"] or "absent"
        va = r["verdict_after"] or "absent"
        lines.append(f"{where}: {vb} ({before_label}) -> {va} ({after_label})")
    return "\n".join(lines)


def summary_line(df: pd.DataFrame) -> str:
    """``no verdict changed`` or ``N verdict(s) changed`` (one-sided rows counted
    apart)."""
    n = int((df["change"] == "changed").sum())
    other = len(df) - n
    text = "no verdict changed" if n == 0 else f"{n} verdict(s) changed"
    return text + (f", {other} statement(s) on one side only" if other else "")


# -- verdicts of run folders -----------------------------------------------------------
def verdict_function():
    """``aligned_latents.record.verdicts.verdict_table``, or ``None`` when it is not
    available."""
    try:
        from aligned_latents.record import verdicts
    except ImportError:
        return None
    return getattr(verdicts, "verdict_table", None)


def run_info(run_dir: Path) -> dict:
    """``run.json`` of a rerun folder (``ValueError`` when it is missing or
    unreadable)."""
    path = Path(run_dir) / "run.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        raise ValueError(f"{run_dir} is not a rerun folder: it has no "
                         "run.json") from None
    except ValueError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from None


def compute_run_verdicts(chapter: str, run_dir: Path) -> pd.DataFrame:
    """The verdicts of a run's own results (``run_dir/results/CHAPTER/claims.csv``)."""
    table = verdict_function()
    if table is None:
        raise ValueError("aligned_latents.record.verdicts.verdict_table is not available")
    return table(Path(run_dir) / "results", chapters=[chapter])


def run_verdicts(run_dir: Path) -> pd.DataFrame:
    """A rerun folder's verdicts: its ``verdicts.csv``, else computed from its
    results."""
    run_dir = Path(run_dir)
    saved = run_dir / VERDICTS_CSV
    if saved.is_file():
        return read_verdicts(saved)
    info = run_info(run_dir)
    return compute_run_verdicts(info["chapter"], run_dir)


def verdicts_against_book(chapter: str, run_dir: Path, book: Path | None = None,
                          label: str = "this run"
                          ) -> tuple[list[str], pd.DataFrame | None]:
    """After a complete run: its verdicts compared with the book's.

    Writes ``run_dir/verdicts.csv`` (the run's verdicts) and, when the book's verdicts
    exist, ``run_dir/verdict_changes.csv``. Returns (lines to print, changes or None).
    Never raises for a missing or unreadable input: the lines say what could not be
    done.
    """
    run_dir = Path(run_dir)
    if verdict_function() is None:
        return ["verdicts not compared: aligned_latents.record.verdicts is not "
                "available"], None
    try:
        mine = compute_run_verdicts(chapter, run_dir)
    except (ValueError, KeyError, OSError) as exc:
        return [f"verdicts not compared: {one_line(exc)}"], None
    mine.to_csv(run_dir / VERDICTS_CSV, index=False)
    book = Path(book) if book is not None else book_verdicts_path()
    if not book.is_file():
        return [f"the book's verdicts are not built yet ({book} is missing): "
                "build the book to compare this run's verdicts with them"], None
    try:
        # like with like: the book's verdicts from the same chapter's checks alone (a
        # statement also checked by another chapter would otherwise differ by evidence)
        book_root = book.parent.parent
        if (book_root / chapter / "claims.csv").is_file():
            base = verdict_function()(book_root, chapters=[chapter])
        else:
            base = read_verdicts(book)
        changes = compare_verdicts(base, mine)
    except (ValueError, KeyError, OSError) as exc:
        return [f"verdicts not compared: {one_line(exc)}"], None
    changes.to_csv(run_dir / CHANGES_CSV, index=False)
    head = f"verdicts against the book's ({len(mine)} statement(s) of {chapter}): "
    lines = [head + summary_line(changes)]
    if len(changes):
        lines += format_changes(changes, "book", label).splitlines()
    return lines, changes


# -- aligned-latents compare A B -------------------------------------------------------
def _kind(path: Path) -> str:
    if (path / "run.json").is_file():
        return "run"
    if (path / "sweep.json").is_file():
        return "sweep"
    raise ValueError(f"{path} is neither a rerun folder (run.json) nor a sweep folder "
                     "(sweep.json), nor 'book'")


def _sweep_points(path: Path) -> tuple[dict[str, Path], str]:
    """A sweep's complete points (JSON of the value -> folder) and the swept name."""
    try:
        info = json.loads((path / "sweep.json").read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ValueError(f"{path / 'sweep.json'} is not valid JSON: {exc}") from None
    out = {}
    for p in info.get("points", []):
        if p.get("status") == "complete" and p.get("dir"):
            out[json.dumps(p["value"])] = path / p["dir"]
    return out, info.get("parameter", "value")


def compare_folders(first: str, second: str) -> list[str]:
    """Lines comparing the verdicts of two rerun folders, two sweep folders (value by
    value), or ``book`` (the book's ``results/ledger/verdicts.csv``) and a rerun
    folder."""
    def load(arg):
        if arg == "book":
            path = book_verdicts_path()
            if not path.is_file():
                raise ValueError(f"the book's verdicts are not built yet ({path} is "
                                 "missing)")
            return "book", read_verdicts(path)
        path = Path(arg)
        if not path.is_dir():
            raise ValueError(f"{arg} is not a folder (give two rerun or sweep folders)")
        return _kind(path), path

    k1, a = load(first)
    k2, b = load(second)
    l1, l2 = str(first), str(second)
    if "sweep" in (k1, k2):
        if k1 != k2:
            raise ValueError("compare two sweeps, or two runs: got a sweep and a run")
        (pa, name), (pb, _) = _sweep_points(a), _sweep_points(b)
        lines = []
        for value in list(pa) + [v for v in pb if v not in pa]:
            if value not in pa or value not in pb:
                where = l2 if value not in pa else l1
                lines.append(f"{name} = {value}: only in {where}")
                continue
            df = compare_verdicts(run_verdicts(pa[value]), run_verdicts(pb[value]),
                                  one_sided=True)
            lines.append(f"{name} = {value}: {summary_line(df)}")
            if len(df):
                lines += ["  " + s for s in format_changes(df, l1, l2).splitlines()]
        return lines or ["the two sweeps have no complete point"]
    va = a if k1 == "book" else run_verdicts(a)
    vb = b if k2 == "book" else run_verdicts(b)
    # the book covers every chapter, a run one: statements on one side only are not news
    df = compare_verdicts(va, vb, one_sided="book" not in (k1, k2))
    text = format_changes(df, l1, l2)
    return [summary_line(df)] + (text.splitlines() if len(df) else [])
