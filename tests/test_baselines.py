"""Data baselines: every table the book writes under ``results/`` against its committed copy.

For each ``results/<chapter>/<file>.csv`` of the build there is a baseline
``tests/baselines/data/<chapter>/<file>.csv``, compared with pytest-regressions'
``dataframe_regression`` under the tolerances of ``tests/baselines/tolerances.csv`` (one row
per rule, each with its reason; the most specific rule wins). Non-numeric columns are compared
exactly. JSON files are compared as JSON, numbers under the same tolerances (the "column" of a
number is its dotted key path). Tables longer than :data:`ROW_LIMIT` rows are stored reduced:
every :data:`ROW_STEP`-th row and the last one (with their ``source_row``), plus the summary
statistics of every numeric column over all rows in ``<file>.summary.csv``.

* A file added to, removed from or renamed in ``results/`` without its baseline fails
  (:func:`test_every_result_has_a_baseline_and_every_baseline_a_result`), except the files of
  ``tests/baselines/exclusions.csv`` (each with its reason).
* Without a build (no ``results/``) the tests skip; with a build but without baselines they
  fail and say to run ``make baselines``.
* ``ALIGNED_LATENTS_RESULTS`` points the tests at another results root (a rerun),
  ``ALIGNED_LATENTS_BASELINES`` at another baselines folder.
* ``make baselines`` regenerates everything (``--regen-all``, see the Makefile and
  ``tests/baselines/README.md``).
"""
from __future__ import annotations

import fnmatch
import functools
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from aligned_latents.util.paths import REPO_ROOT, results_root

#: Another baselines folder than ``tests/baselines`` (used to try the machinery on a scratch copy).
BASELINES_ENV = "ALIGNED_LATENTS_BASELINES"
#: Tables with more rows than this are stored reduced (see the module docstring).
ROW_LIMIT = 5000
#: The reduced baseline keeps every ROW_STEP-th row (and the last one).
ROW_STEP = 100
#: Every baseline together (data, images, tables) stays below this many bytes.
SIZE_LIMIT = 5_000_000
#: A baseline with this many numeric columns (or a cell with this many numbers) would hold
#: raw word vectors (GloVe 6B has 50 dimensions), which the book may not redistribute.
VECTOR_DIM = 50
TABLE_SUFFIXES = (".csv", ".json")
SUMMARY_SUFFIX = ".summary.csv"
TOLERANCE_COLUMNS = ["chapter", "file", "column", "atol", "rtol", "reason"]


def baselines_root() -> Path:
    root = os.environ.get(BASELINES_ENV)
    return Path(root).resolve() if root else Path(__file__).resolve().parent / "baselines"


def data_root() -> Path:
    return baselines_root() / "data"


def _regenerating(config) -> bool:
    return bool(config.getoption("force_regen") or config.getoption("regen_all"))


def _results_or_skip(config) -> Path:
    """The results root; skip when the book was not built (fail when regenerating baselines)."""
    root = results_root()
    if not root.is_dir() or not any(p.is_dir() for p in root.iterdir()):
        msg = (f"no results at {root}: build the book first (make book), or point "
               f"ALIGNED_LATENTS_RESULTS at a rerun's results folder")
        if _regenerating(config):
            pytest.fail(msg + " -- nothing to regenerate the baselines from")
        pytest.skip(msg)
    return root


# ---------------------------------------------------------------------- exclusions and files

def read_exclusions() -> pd.DataFrame:
    path = baselines_root() / "exclusions.csv"
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def excluded(rel: str, exclusions: pd.DataFrame) -> bool:
    return any(fnmatch.fnmatchcase(rel, p) for p in exclusions["pattern"])


def result_files(root: Path) -> tuple[list[str], list[str]]:
    """``(tables, others)``: paths relative to ``root`` (POSIX) of every file not excluded,
    split into those compared here (CSV, JSON) and any other kind (which has no baseline)."""
    exclusions = read_exclusions()
    tables, others = [], []
    if not root.is_dir():
        return tables, others
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if (not path.is_file() or excluded(rel, exclusions)
                or any(part.startswith(".") for part in rel.split("/"))):
            continue
        # a table outside a chapter folder has no chapter: it counts as "other"
        (tables if path.suffix in TABLE_SUFFIXES and "/" in rel else others).append(rel)
    return tables, others


def read_table(path: Path, index_col: int | None = None) -> pd.DataFrame:
    """A results CSV as written by a chapter: empty cells are missing values, the string
    ``"nan"`` or ``"null"`` stays a word (GloVe has both); text columns as plain ``str``.
    ``index_col=0`` for a baseline, whose first column is dataframe_regression's row index."""
    df = pd.read_csv(path, keep_default_na=False, na_values=[""], index_col=index_col)
    if index_col is not None:
        df = df.reset_index(drop=True)
    # a column without a header (a table written with its index) gets a name that survives
    # the round trip through a baseline, which adds its own unnamed index column
    df = df.rename(columns=lambda c: re.sub(r"^Unnamed: (\d+)$", r"(unnamed \1)", str(c)))
    if df.empty:  # a header only: nothing to compare but the columns
        return df.astype(float)
    for col in df.columns:
        if not (pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col])):
            df[col] = df[col].map(lambda v: "" if pd.isna(v) else str(v)).astype(object)
    return df


def is_reduced(df: pd.DataFrame) -> bool:
    return len(df) > ROW_LIMIT


def reduce_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Every ROW_STEP-th row and the last one, with their row number in ``source_row``."""
    rows = list(range(0, len(df), ROW_STEP))
    if rows[-1] != len(df) - 1:
        rows.append(len(df) - 1)
    out = df.iloc[rows].reset_index(drop=True)
    out.insert(0, "source_row", rows)
    return out


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """Count, mean, std, min, quartiles and max of every numeric column over all rows
    (one row per statistic, one column per numeric column of the table)."""
    num = df.select_dtypes(include="number")
    num = num[[c for c in num.columns if not pd.api.types.is_bool_dtype(num[c])]]
    if num.shape[1] == 0:
        return pd.DataFrame({"rows": [len(df)]}, index=["count"])
    return num.astype(float).describe()


@functools.cache
def _row_count(path: str, mtime: float) -> int:
    return len(pd.read_csv(path, usecols=[0], keep_default_na=False))


def expected_baselines(rel: str, root: Path) -> list[str]:
    """The baseline files (relative to ``data/``) of the result file ``rel``: the same name,
    and for a table of more than ROW_LIMIT rows also ``<name>.summary.csv``."""
    path = root / rel
    if (rel.endswith(".csv") and path.is_file()
            and _row_count(str(path), path.stat().st_mtime) > ROW_LIMIT):
        return [rel, rel[: -len(".csv")] + SUMMARY_SUFFIX]
    return [rel]


def baseline_files() -> list[str]:
    root = data_root()
    if not root.is_dir():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_file() and not p.name.startswith("."))


# ---------------------------------------------------------------------------- tolerances

def read_tolerances() -> pd.DataFrame:
    path = baselines_root() / "tolerances.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in ("atol", "rtol"):
        df[col] = df[col].astype(float)
    return df


def _specificity(pattern: str, name: str) -> int | None:
    """2: exact; 1: a pattern with literal characters (``share_*``); 0: ``*``; None: no match."""
    if pattern == name:
        return 2
    if fnmatch.fnmatchcase(name, pattern):
        return 0 if pattern == "*" else 1
    return None


def tolerance_for(rules: pd.DataFrame, chapter: str, file: str, column: str) -> dict:
    """``{"atol", "rtol", "reason"}`` of the most specific rule (chapter, then file, then
    column); two equally specific rules that disagree are an error."""
    best, best_key = [], None
    for rule in rules.itertuples(index=False):
        key = tuple(_specificity(p, n) for p, n in
                    ((rule.chapter, chapter), (rule.file, file), (rule.column, column)))
        if None in key:
            continue
        if best_key is None or key > best_key:
            best, best_key = [rule], key
        elif key == best_key:
            best.append(rule)
    if not best:
        raise LookupError(f"no tolerance rule matches {chapter}/{file} column {column!r}: "
                          "tolerances.csv needs a '*,*,*' default row")
    if len({(r.atol, r.rtol) for r in best}) > 1:
        raise ValueError(f"tolerances.csv: equally specific rules disagree for {chapter}/{file} "
                         f"column {column!r}: {[tuple(r) for r in best]}")
    return {"atol": best[0].atol, "rtol": best[0].rtol, "reason": best[0].reason}


def _tolerances_for_frame(rules, chapter, file, columns):
    tols = {c: tolerance_for(rules, chapter, file, str(c)) for c in columns}
    default = tolerance_for(rules, chapter, file, "*")
    return ({c: {"atol": t["atol"], "rtol": t["rtol"]} for c, t in tols.items()},
            {"atol": default["atol"], "rtol": default["rtol"]})


# ---------------------------------------------------------------------------- comparison

def _show(path: Path) -> str:
    """A path relative to the repository when it is inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def _baseline_frame(path: Path) -> pd.DataFrame:
    """A baseline written by dataframe_regression (its first column is the row index)."""
    return read_table(path, index_col=0)


def moved_columns(obtained: pd.DataFrame, expected: pd.DataFrame, tols: dict) -> list[str]:
    """``"column (n rows, max |Δ| x)"`` for each column outside its tolerance."""
    moved = []
    for col in obtained.columns:
        a, b = obtained[col], expected[col]
        if (pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b)
                and not pd.api.types.is_bool_dtype(a) and not pd.api.types.is_bool_dtype(b)):
            x, y = a.to_numpy(float), b.to_numpy(float)
            bad = ~np.isclose(x, y, equal_nan=True, **tols[col])
            if bad.any():
                d = np.abs(x - y)[bad]
                finite = d[np.isfinite(d)]
                big = f", max |Δ| {finite.max():.3g}" if finite.size else ""
                moved.append(f"{col} ({int(bad.sum())} of {len(x)} rows{big}, "
                             f"atol {tols[col]['atol']:g}, rtol {tols[col]['rtol']:g})")
        else:
            bad = a.astype(str).to_numpy() != b.astype(str).to_numpy()
            if bad.any():
                moved.append(f"{col} ({int(bad.sum())} of {len(a)} rows, compared exactly)")
    return moved


def _dump_frame(data_object: pd.DataFrame, filename) -> None:
    data_object.to_csv(str(filename), float_format=lambda v: repr(float(v)))


def check_frame(dataframe_regression, request, df: pd.DataFrame, baseline: Path,
                label: str, chapter: str, file: str) -> None:
    """``dataframe_regression`` on ``df`` against ``baseline``; a failure names the table
    ``label`` and the columns that moved."""
    __tracebackhide__ = True
    rules = read_tolerances()
    tols, default = _tolerances_for_frame(rules, chapter, file, df.columns)
    head, moved = f"{label} no longer matches its baseline {_show(baseline)}", []
    if not _regenerating(request.config):
        expected = _baseline_frame(baseline)
        gone = [c for c in expected.columns if c not in df.columns]
        new = [c for c in df.columns if c not in expected.columns]
        if gone or new:
            pytest.fail(f"{head}: columns removed {gone}, columns added {new}. If the change is "
                        "deliberate, run `make baselines` and commit the new baselines.")
        if len(expected) != len(df):
            pytest.fail(f"{head}: {len(df)} rows, the baseline has {len(expected)}. If the change "
                        "is deliberate, run `make baselines` and commit the new baselines.")
        moved = moved_columns(df, expected[list(df.columns)], tols)
    # pytest-regressions writes floats with '%.17g', which drops the '.0' of an integral float
    # (4.0 -> '4'): read back as an integer column, it would be compared exactly against a
    # baseline of 4.000000000000001. Python's shortest round-trip repr keeps every float a
    # float (and exact, and deterministic, and the files smaller).
    dataframe_regression._dump_fn = _dump_frame
    try:
        dataframe_regression.check(df, fullpath=baseline, tolerances=tols,
                                   default_tolerance=default)
    except AssertionError as err:
        raise AssertionError(
            f"{head}; columns that moved: {'; '.join(moved) or '(see below)'}.\n"
            "If the change is deliberate, run `make baselines` and commit the new baselines.\n\n"
            f"{err}") from None


def _json_numbers_differ(a, b, path: str, rules, chapter: str, file: str, out: list) -> None:
    def is_num(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            sub = f"{path}.{k}" if path else str(k)
            if k not in a or k not in b:
                out.append(f"{sub}: {'removed' if k not in a else 'added'}")
            else:
                _json_numbers_differ(a[k], b[k], sub, rules, chapter, file, out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} items, the baseline has {len(b)}")
        else:
            for x, y in zip(a, b):
                _json_numbers_differ(x, y, path, rules, chapter, file, out)
    elif is_num(a) and is_num(b):
        t = tolerance_for(rules, chapter, file, path)
        if not (math.isclose(a, b, rel_tol=t["rtol"], abs_tol=t["atol"])
                or (math.isnan(a) and math.isnan(b))):
            out.append(f"{path}: {a!r}, the baseline has {b!r} "
                       f"(atol {t['atol']:g}, rtol {t['rtol']:g})")
    elif a != b:
        out.append(f"{path}: {a!r}, the baseline has {b!r}")


def dump_json(obj, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                    encoding="utf-8")


# --------------------------------------------------------------------------------- tests

RESULTS = results_root()
TABLES, OTHERS = result_files(RESULTS)


def test_tolerances_table_is_valid():
    rules = read_tolerances()
    assert list(rules.columns) == TOLERANCE_COLUMNS, (
        f"tolerances.csv columns are {list(rules.columns)}, expected {TOLERANCE_COLUMNS}")
    assert ((rules.chapter == "*") & (rules.file == "*") & (rules.column == "*")).any(), (
        "tolerances.csv needs a default row '*,*,*'")
    no_reason = rules[rules.reason.str.strip() == ""]
    assert no_reason.empty, f"tolerance rules without a reason:\n{no_reason}"
    bad = rules[~((rules.atol >= 0) & (rules.rtol >= 0))]
    assert bad.empty, f"tolerances must be non-negative numbers:\n{bad}"
    dup = rules[rules.duplicated(["chapter", "file", "column"], keep=False)]
    assert dup.empty, f"tolerance rules given twice:\n{dup}"
    # a rule naming a file must name one that has a baseline (or results), else it is stale
    known = set(baseline_files()) | set(TABLES)
    stale = [f"{r.chapter}/{r.file}" for r in rules.itertuples()
             if "*" not in r.chapter + r.file and (data_root() / r.chapter).is_dir()
             and f"{r.chapter}/{r.file}" not in known]
    assert not stale, f"tolerance rules for files that no longer exist: {stale}"


def test_exclusions_table_is_valid():
    ex = read_exclusions()
    assert list(ex.columns) == ["pattern", "reason"]
    no_reason = ex[ex.reason.str.strip() == ""]
    assert no_reason.empty, f"exclusions without a reason:\n{no_reason}"


@pytest.mark.parametrize("rel", TABLES or [None], ids=lambda r: r or "no-results")
def test_data_baseline(rel, dataframe_regression, request):
    """One results file against its baseline (the test id is the file, e.g.
    ``test_data_baseline[gaussians/figure5.csv]``)."""
    root = _results_or_skip(request.config)
    if rel is None:
        pytest.skip(f"no CSV or JSON file under {root}")
    path = root / rel
    chapter, file = rel.split("/", 1)
    regen = _regenerating(request.config)
    targets = [data_root() / b for b in expected_baselines(rel, root)]
    missing = [t for t in targets if not t.is_file()]
    if missing and not regen:
        pytest.fail(f"results/{rel} has no baseline ({', '.join(_show(m) for m in missing)}): "
                    "run `make baselines` (after `make book`) and commit tests/baselines/",
                    pytrace=False)
    if rel.endswith(".json"):
        obtained = json.loads(path.read_text(encoding="utf-8"))
        if regen:
            differs = targets[0].is_file() and json.loads(targets[0].read_text()) != obtained
            dump_json(obtained, targets[0])
            if differs and request.config.getoption("force_regen"):
                pytest.fail(f"results/{rel} differed from its baseline: regenerated "
                            f"{_show(targets[0])}")
            return
        out = []
        _json_numbers_differ(obtained, json.loads(targets[0].read_text(encoding="utf-8")),
                             "", read_tolerances(), chapter, file, out)
        assert not out, (f"results/{rel} no longer matches its baseline {_show(targets[0])}; keys that "
                         "moved:\n  " + "\n  ".join(out) + "\nIf the change is deliberate, run "
                         "`make baselines` and commit the new baselines.")
        return
    df = read_table(path)
    if is_reduced(df):
        check_frame(dataframe_regression, request, reduce_rows(df), targets[0],
                    f"results/{rel} (every {ROW_STEP}th row)", chapter, file)
        check_frame(dataframe_regression, request, summarize(df), targets[1],
                    f"results/{rel} (column statistics over all {len(df)} rows)", chapter, file)
    else:
        check_frame(dataframe_regression, request, df, targets[0], f"results/{rel}",
                    chapter, file)


def test_baselines_hold_no_raw_vectors():
    """No baseline may hold GloVe's vectors (not ours to redistribute): no table with 50 or
    more numeric columns, no text cell holding 50 or more numbers."""
    number = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
    offenders = []
    for rel in baseline_files():
        if not rel.endswith(".csv"):
            continue
        df = read_table(data_root() / rel, index_col=0)
        numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
        if len(numeric) >= VECTOR_DIM:
            offenders.append(f"{rel}: {len(numeric)} numeric columns")
        for col in df.columns.difference(numeric):
            cells = df[col].astype(str)
            if cells.map(lambda s: len(number.findall(s)) >= VECTOR_DIM).any():
                offenders.append(f"{rel}: column {col!r} holds cells of >= {VECTOR_DIM} numbers")
    assert not offenders, ("baselines that look like raw word vectors (exclude or reduce the "
                           "results file, see tests/baselines/README.md):\n  "
                           + "\n  ".join(offenders))


def test_baselines_are_small():
    root = baselines_root()
    sizes = sorted(((p.stat().st_size, p.relative_to(root).as_posix())
                    for p in root.rglob("*") if p.is_file()), reverse=True)
    total = sum(s for s, _ in sizes)
    largest = ", ".join(f"{n} ({s / 1e6:.2f} MB)" for s, n in sizes[:5])
    assert total < SIZE_LIMIT, (f"tests/baselines holds {total / 1e6:.2f} MB (limit "
                                f"{SIZE_LIMIT / 1e6:.0f} MB); largest: {largest}")


def test_every_result_has_a_baseline_and_every_baseline_a_result(request):
    """The set of files in results/ (less the exclusions) and the set of baselines agree.
    (Last in this module: when regenerating it checks what was just written.)"""
    root = _results_or_skip(request.config)
    if not data_root().is_dir() and not _regenerating(request.config):
        pytest.fail(f"no baselines at {data_root()}: run `make baselines` (after `make book`) "
                    "and commit tests/baselines/")
    expected = {b for rel in TABLES for b in expected_baselines(rel, root)}
    present = set(baseline_files())
    problems = []
    if OTHERS:
        problems.append("files in results/ that are neither CSV nor JSON and not excluded "
                        "(add a pattern with its reason to tests/baselines/exclusions.csv): "
                        + ", ".join(OTHERS))
    if expected - present:
        problems.append("results without a baseline (new or renamed figure/table files): "
                        + ", ".join(sorted(expected - present)))
    if present - expected:
        problems.append("baselines without a result (removed or renamed in results/): "
                        + ", ".join(sorted(present - expected)))
    assert not problems, ("\n".join(problems) + "\nIf the change is deliberate, run "
                          "`make baselines` and commit tests/baselines/.")
