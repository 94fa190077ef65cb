"""One verdict per statement of the paper, from the chapters' checks, by rules a referee
would sign: the same evidence qualifies a pass and a failure.

Every row of ``paper_statements.csv`` (:mod:`aligned_latents.record.statements`) gets a verdict
from the ``claims.csv`` rows that name it (:mod:`aligned_latents.record.claims`). The rules,
in the order :func:`statement_verdict` applies them:

1. **Setup.** A statement whose checks are all ``setup`` rows (a setting the paper
   states, used here) is ``setup, used as stated`` (or ``setup, not used as stated``);
   it is not a confirmation. ``setup`` rows beside other checks are left out.
2. **Designed data never counts for or against** an empirical claim: a statement whose
   only checks are on ``designed-data`` is ``only illustrated on designed data``,
   whatever they say; beside other evidence they are left out.
3. **An exact identity checked numerically decides nothing until the method has
   converged**: a failing ``converged`` row gives ``did not converge``.
4. **Noise.** A seed check whose seeds disagree (some pass, some fail: the gap is within
   the seed spread) is no failure: if no other check fails, the statement is ``within
   the seed spread``. A *confirmed* needs every seed to pass, a *not reproduced* every
   seed to fail, and either needs the check's minimum number of seeds
   (:data:`aligned_latents.record.claims.MIN_SEEDS`, 5; fewer only with a written
   reason, carried in the ``check`` field as ``seeds_close min 3``): a seed check whose
   seeds agree but are fewer has no noise scale, and counts neither way. If no other
   check fails and none is within the seed spread (a spread, however few the seeds,
   is a noise scale), the statement is ``no noise scale (too few seeds)``: neither a
   pass nor a failure, like ``within the seed spread``. Where another check fails, the
   failure rules below decide, the unscaled check counting as not holding (as a mixed
   one does).
5. **Pass.** Every check holds: ``erratum`` when an erratum of kind ``error`` holds (the
   text is wrong, the corrected statement holds); ``confirmed with a hypothesis
   added`` when one of kind ``missing hypothesis`` holds; otherwise ``confirmed``
   (``exact`` or ``simulation`` evidence) or ``confirmed on substitute data``.
6. **Failure, symmetric to the pass.** No check holds: ``not reproduced``, or ``not
   reproduced on substitute data`` when every failing check is on substitute data.
   Some hold: ``partly``, or ``partly, on substitute data`` likewise.

Where the paper's sentence uses a quantifier (``substantially``, ``nearly perfectly``,
``does not significantly``...: the ``quantifier`` column of the statements table), every
inequality check of it must state a threshold: a bound of 0 is refused
(:func:`quantifier_problems`), and the check's ``detail`` must give the reason. A
statement the paper makes about its own data set, a definition, a schematic or the
authors' hardware is ``not checkable here``, with the reason.

Two further values are not verdicts but gaps, and the tests refuse them: ``missing``
(the chapter that checks the statement wrote no results) and ``not checked`` (the
chapter ran but recorded no check of it).

Every ``claims.csv`` is read through :func:`read_claims_file`, which recomputes each
row's ``holds`` with the rule that recorded it
(:func:`aligned_latents.record.claims.recompute_holds`): a row whose stored ``holds``
disagrees with its own numbers, or whose numbers cannot be read, is a ``ValueError``
naming the file and the row. ``verdicts.csv`` files are read by :func:`read_verdicts`
alone.

A build's verdicts are recorded with :func:`record_verdicts`
(``tests/recorded_verdicts.csv``) and later builds are checked against that record by
:func:`recorded_problems`, so that a verdict that changes is seen.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from aligned_latents.record.claims import (
    CLAIM_COLUMNS,
    EVIDENCE,
    check_kind,
    recompute_holds,
    row_outcome,
    too_few_seeds,
)
from aligned_latents.record.statements import STATEMENT_COLUMNS
from aligned_latents.util.chapters import RESULT_PAGES
from aligned_latents.util.files import read_book_csv
from aligned_latents.util.paths import REPO_ROOT, results_root

VERDICTS = ("confirmed", "confirmed on substitute data",
            "confirmed with a hypothesis added", "erratum",
            "only illustrated on designed data", "setup, used as stated",
            "within the seed spread", "no noise scale (too few seeds)", "partly",
            "partly, on substitute data",
            "did not converge", "not reproduced", "not reproduced on substitute data",
            "setup, not used as stated", "not checkable here")
#: Verdicts that count as the paper's statement reproduced (on the paper's setting or
#: on substitute data), and as not reproduced: the opening page and README keep the
#: substitute-data ones apart. The others count neither way (among them ``within the
#: seed spread`` and ``no noise scale (too few seeds)``).
PASSES = ("confirmed", "confirmed on substitute data", "confirmed with a hypothesis added",
          "erratum")
FAILURES = ("partly", "partly, on substitute data", "not reproduced",
            "not reproduced on substitute data")
GAPS = ("missing", "not checked")

#: The columns of ``results/ledger/verdicts.csv``; the first four are the issue's.
VERDICT_COLUMNS = ["statement", "location", "evidence", "verdict", "kind", "chapter",
                   "quote", "n_checks", "n_hold", "checked", "not_holding", "note"]

#: The recorded verdicts of a build that the tests compare later builds with.
RECORDED_VERDICTS = REPO_ROOT / "tests" / "recorded_verdicts.csv"

#: Stored ``holds`` values and what they mean.
_BOOL = {"true": True, "false": False, "1": True, "0": False}


def _statements(statements: pd.DataFrame | None) -> pd.DataFrame:
    """``statements`` (or ``paper_statements.csv``) as strings, its columns checked."""
    if statements is None:
        from aligned_latents.record.statements import load_statements

        statements = load_statements()
    if "quantifier" not in statements.columns:  # a table built in code may omit it
        statements = statements.assign(quantifier="")
    lacking = [c for c in STATEMENT_COLUMNS if c not in statements.columns]
    if lacking:
        raise ValueError(f"the statements table lacks columns {lacking}; "
                         f"it must have {STATEMENT_COLUMNS}")
    out = statements.fillna("").astype(str)
    dup = sorted(set(out["statement"][out["statement"].duplicated()]))
    if dup:
        raise ValueError("statement ids repeat in the statements table: "
                         + ", ".join(dup))
    return out


def _row_name(path: Path, i: int, row: dict) -> str:
    return (f"{path}, row {i + 1} (line {i + 2}: claim {row.get('claim', '')!r}, "
            f"quantity {row.get('quantity', '')!r})")


def read_claims_file(path: Path) -> pd.DataFrame:
    """One ``claims.csv``, every row re-checked (``holds`` recomputed, a bool column).

    Raises ``ValueError`` naming the file and the row when a column is missing, a row's
    numbers cannot be read, its stored ``holds`` is neither True nor False, or the
    stored ``holds`` disagrees with the one its ``expected``/``measured``/``tolerance``
    give.
    """
    path = Path(path)
    df = read_book_csv(path, CLAIM_COLUMNS)
    holds = []
    for i, row in enumerate(df.to_dict("records")):
        stored = _BOOL.get(str(row["holds"]).strip().lower())
        if stored is None:
            raise ValueError(f"{_row_name(path, i, row)}: holds must be True or False, "
                             f"got {row['holds']!r}")
        if row["evidence"] not in EVIDENCE:
            raise ValueError(f"{_row_name(path, i, row)}: evidence must be one of "
                             f"{EVIDENCE}, got {row['evidence']!r}")
        if not str(row["statement"]).strip():
            raise ValueError(f"{_row_name(path, i, row)}: names no statement")
        try:
            now = recompute_holds(row)
        except ValueError as exc:
            raise ValueError(f"{_row_name(path, i, row)}: {exc}") from None
        if now != stored:
            raise ValueError(
                f"{_row_name(path, i, row)}: holds says {stored}, but expected "
                f"{row['expected']!r}, measured {row['measured']!r} and tolerance "
                f"{row['tolerance']!r} ({row['check']}) give {now}: the file was "
                "edited or written by a different rule; rerun the chapter")
        holds.append(now)
    df["holds"] = pd.Series(holds, index=df.index, dtype=bool)
    return df


def read_claims(root: Path | None = None, chapters=None) -> dict[str, pd.DataFrame]:
    """``claims.csv`` of each chapter that has one (default
    :data:`aligned_latents.util.chapters.RESULT_PAGES`), by chapter name, re-checked
    (:func:`read_claims_file`), with a ``chapter`` column."""
    root = Path(root) if root is not None else results_root()
    out = {}
    for name in (chapters if chapters is not None else RESULT_PAGES):
        path = root / name / "claims.csv"
        if path.is_file():
            df = read_claims_file(path)
            df["chapter"] = name
            out[name] = df
    return out


def erratum_kind(claim: str) -> str:
    """The kind of an erratum check (``Erratum (error): ...`` -> ``error``), else ''."""
    claim = str(claim)
    if claim.startswith("Erratum (") and ")" in claim:
        return claim[len("Erratum ("):claim.index(")")]
    return ""


def statement_verdict(checks: pd.DataFrame) -> str:
    """The verdict of one statement from its checks (a ``claims.csv`` slice), by the
    rules of this module's docstring, in their order."""
    if checks.empty:
        raise ValueError("a statement with no checks has no verdict (it is a gap)")
    checks = checks.fillna("")
    setup = checks["check"].map(check_kind) == "setup"
    if setup.all():
        ok = checks["holds"].astype(bool).all()
        return "setup, used as stated" if ok else "setup, not used as stated"
    rest = checks[~setup]
    designed = rest["evidence"] == "designed-data"
    if designed.all():
        return "only illustrated on designed data"
    rest = rest[~designed]
    is_conv = rest["check"].map(check_kind) == "converged"
    others = rest[~is_conv] if (~is_conv).any() else rest
    if (~rest.loc[is_conv, "holds"].astype(bool)).any() and not others[
            "holds"].astype(bool).all():
        return "did not converge"
    rest = others
    outcome = rest.apply(row_outcome, axis=1)
    if (outcome == "holds").all():
        kinds = set(rest["claim"].map(erratum_kind))
        if "error" in kinds:
            return "erratum"
        if "missing hypothesis" in kinds:
            return "confirmed with a hypothesis added"
        if set(rest["evidence"]) & {"exact", "simulation"}:
            return "confirmed"
        return "confirmed on substitute data"
    if not (outcome == "fails").any():
        if (outcome == "mixed").any():
            return "within the seed spread"
        return "no noise scale (too few seeds)"
    failing = rest[outcome != "holds"]
    on_substitute = set(failing["evidence"]) == {"substitute-data"}
    if not (outcome == "holds").any():
        return "not reproduced on substitute data" if on_substitute else "not reproduced"
    return "partly, on substitute data" if on_substitute else "partly"


def _is_zero_bound(row) -> bool:
    exp = str(row["expected"]).strip()
    for prefix in (">=", "<="):
        if exp.startswith(prefix):
            try:
                return float(exp.removeprefix(prefix)) == 0.0
            except ValueError:
                return False
    return False


def quantifier_problems(statements: pd.DataFrame, checks: pd.DataFrame) -> list[str]:
    """Checks that do not test a statement's quantifier: an inequality (``at_least``,
    ``at_most`` or their seed forms) with a bound of 0, or with no ``detail`` giving
    the threshold's reason, on a statement whose ``quantifier`` is set ("substantially"
    is not ``>= 0``)."""
    words = dict(zip(statements["statement"], statements["quantifier"]))
    problems = []
    ineq = ("at_least", "at_most", "seeds_at_least", "seeds_at_most")
    for r in checks.fillna("").to_dict("records"):
        word = str(words.get(r["statement"], "")).strip()
        if not word or check_kind(r["check"]) not in ineq:
            continue
        where = f"{r['statement']} ({r.get('chapter', '')}: {r['quantity']!r})"
        if _is_zero_bound(r):
            problems.append(f"{where}: the paper says {word!r}, the check tests "
                            f"{r['expected']}: state a threshold and its reason")
        elif not str(r["detail"]).strip():
            problems.append(f"{where}: the paper says {word!r}; the check's detail must "
                            "give the reason for its threshold")
    return problems


def _describe(rows: pd.DataFrame, limit: int = 3) -> str:
    items = list(dict.fromkeys(str(q) for q in rows["quantity"]))
    text = "; ".join(items[:limit])
    return text + (f"; and {len(items) - limit} more" if len(items) > limit else "")


def verdict_table(root: Path | None = None, chapters=None,
                  statements: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every statement with its verdict (columns :data:`VERDICT_COLUMNS`).

    ``statements`` defaults to ``paper_statements.csv``. With ``chapters`` (a rerun of
    some chapters), only the statements whose listed chapter is among them, or that
    their checks name, are included. A check naming a statement that is not in the
    statements table, or a statement listed as not checkable that a chapter checks, is a
    ``ValueError``.
    """
    statements = _statements(statements)
    claims = read_claims(root, chapters)
    allc = (pd.concat(claims.values(), ignore_index=True) if claims else
            pd.DataFrame(columns=CLAIM_COLUMNS + ["chapter"]))
    known = set(statements["statement"])
    unknown = sorted(set(allc["statement"]) - known)
    if unknown:
        where = sorted(set(allc.loc[allc["statement"].isin(unknown), "chapter"]))
        raise ValueError("checks of " + ", ".join(where) + " name statements that are "
                         "not in paper_statements.csv: " + ", ".join(unknown))
    bad = quantifier_problems(statements, allc)
    if bad:
        raise ValueError("checks that do not test the paper's quantifier:\n  "
                         + "\n  ".join(bad))
    rows = []
    for st in statements.itertuples(index=False):
        checks = allc[allc["statement"] == st.statement]
        if chapters is not None and st.chapter not in chapters and checks.empty:
            continue
        failing = checks[~checks["holds"].astype(bool)]
        if st.not_checkable.strip():
            if not checks.empty:
                who = ", ".join(sorted(set(checks["chapter"])))
                raise ValueError(f"statement {st.statement!r} is listed as not "
                                 f"checkable ({st.not_checkable}) but {who} check it")
            verdict, note = "not checkable here", st.not_checkable
        elif checks.empty:
            ran = st.chapter in claims or st.chapter not in RESULT_PAGES
            verdict = "not checked" if ran else "missing"
            note = ("no check of this statement was recorded" if ran else
                    f"results/{st.chapter}/claims.csv is missing")
        else:
            verdict = statement_verdict(checks)
            note = " ".join(dict.fromkeys(d for d in failing["detail"] if d))
            few = [f"{q}: {w}" for q, w in zip(checks["quantity"],
                                                checks.apply(too_few_seeds, axis=1)) if w]
            if few:
                note = " ".join(x for x in ("No noise scale: " + "; ".join(few) + ".",
                                            note) if x)
        ev = [e for e in EVIDENCE if e in set(checks["evidence"])]
        rows.append({"statement": st.statement, "location": st.location,
                     "evidence": "+".join(ev), "verdict": verdict, "kind": st.kind,
                     "chapter": st.chapter, "quote": st.quote,
                     "n_checks": len(checks),
                     "n_hold": int(checks["holds"].astype(bool).sum()),
                     "checked": _describe(checks) if len(checks) else "",
                     "not_holding": _describe(failing) if len(failing) else "",
                     "note": note})
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


def verdict_counts(table: pd.DataFrame) -> dict[str, int]:
    """How many statements got each verdict, in :data:`VERDICTS` order (every verdict,
    zero or not), then each gap that occurs."""
    counts = table["verdict"].value_counts()
    unknown = sorted(set(counts.index) - set(VERDICTS + GAPS))
    if unknown:
        raise ValueError(f"unknown verdicts {unknown}; verdicts are {VERDICTS + GAPS}")
    return {v: int(counts.get(v, 0)) for v in VERDICTS + GAPS
            if v in VERDICTS or counts.get(v, 0)}


def strongest_evidence(table: pd.DataFrame) -> pd.Series:
    """Each statement's strongest kind of evidence (``none`` when it has no check)."""
    return table["evidence"].fillna("").astype(str).str.split("+").str[0].replace(
        "", "none")


def evidence_counts(table: pd.DataFrame) -> pd.DataFrame:
    """Statements by strongest evidence kind (rows, :data:`EVIDENCE` order then
    ``none``) and verdict (columns, :data:`VERDICTS` then gaps); kinds and verdicts that
    do not occur are left out."""
    ct = pd.crosstab(strongest_evidence(table), table["verdict"])
    rows = [e for e in (*EVIDENCE, "none") if e in ct.index]
    cols = [v for v in VERDICTS + GAPS if v in ct.columns]
    out = ct.reindex(index=rows, columns=cols).fillna(0).astype(int)
    out.index.name, out.columns.name = "evidence", "verdict"
    return out


def write_verdicts(table: pd.DataFrame, root: Path | None = None, *,
                   out_dir: Path | None = None) -> Path:
    """Write ``verdicts.csv`` to ``out_dir`` (default ``<results root>/ledger/``), the
    columns in :data:`VERDICT_COLUMNS` order."""
    lacking = [c for c in VERDICT_COLUMNS if c not in table.columns]
    if lacking:
        raise ValueError(f"the verdict table lacks columns {lacking}")
    if out_dir is None:
        out_dir = (Path(root) if root is not None else results_root()) / "ledger"
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table[VERDICT_COLUMNS].to_csv(out / "verdicts.csv", index=False)
    return out / "verdicts.csv"


def read_verdicts(path: Path, what: str = "verdicts") -> pd.DataFrame:
    """A ``verdicts.csv`` (all columns strings, no NaN): the one reader of the format.

    ``ValueError`` when the file cannot be read, lacks ``statement`` or ``verdict``, or
    lists a statement twice."""
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {what} {path}: {exc}") from None
    lacking = [c for c in ("statement", "verdict") if c not in df.columns]
    if lacking:
        raise ValueError(f"{what} {path} lacks columns {lacking}")
    dup = sorted(set(df["statement"][df["statement"].duplicated()]))
    if dup:
        raise ValueError(f"{what} {path} lists statements twice: {', '.join(dup)}")
    return df


def record_verdicts(path: Path | None = None, root: Path | None = None) -> Path:
    """Record a build's verdicts: ``<root>/ledger/verdicts.csv`` -> ``path``
    (default :data:`RECORDED_VERDICTS`), columns ``statement,verdict``.

    Refuses (``ValueError``) a build with gaps (``missing``/``not checked``): such a
    build is not one to compare later builds with.
    """
    root = Path(root) if root is not None else results_root()
    src = root / "ledger" / "verdicts.csv"
    if not src.is_file():
        raise ValueError(f"{src} is missing: build the book first (make book)")
    df = read_verdicts(src, "the build's verdicts")
    gaps = df[df["verdict"].isin(GAPS)]
    if len(gaps):
        raise ValueError("the build has gaps, not recording it: " + ", ".join(
            f"{s} ({v})" for s, v in zip(gaps["statement"], gaps["verdict"])))
    path = Path(path) if path is not None else RECORDED_VERDICTS
    path.parent.mkdir(parents=True, exist_ok=True)
    df[["statement", "verdict"]].to_csv(path, index=False)
    return path


def recorded_problems(build: Path, recorded: Path,
                      statements: pd.DataFrame | None = None) -> list[str]:
    """What differs between a build's ``verdicts.csv`` and the recorded verdicts.

    One line per problem: a statement of the statements table with no verdict or with a
    gap verdict, a verdict naming a statement that is not in the statements table, a
    verdict that changed (``statement: recorded -> now``), a statement recorded but no
    longer in the build. An empty list means the build gives the recorded verdicts.
    """
    statements = _statements(statements)
    now = read_verdicts(build, "the build's verdicts")
    old = read_verdicts(recorded, "the recorded verdicts")
    ids = list(statements["statement"])
    got = dict(zip(now["statement"], now["verdict"]))
    was = dict(zip(old["statement"], old["verdict"]))
    problems = [f"{s}: no verdict in the build" for s in ids if s not in got]
    why = {"missing": "results missing", "not checked": "no check recorded"}
    problems += [f"{s}: gap verdict {got[s]!r} ({why[got[s]]})" for s in ids
                 if got.get(s) in GAPS]
    problems += [f"{s}: verdict {v!r} for a statement not in the statements file"
                 for s, v in got.items() if s not in set(ids)]
    problems += [f"{s}: {was[s]} -> {got[s]}" for s in ids
                 if s in was and s in got and was[s] != got[s]]
    problems += [f"{s}: not recorded ({got[s]} now): record the verdicts again"
                 for s in ids if s in got and s not in was]
    problems += [f"{s}: recorded ({v}) but not in the statements file any more"
                 for s, v in was.items() if s not in set(ids)]
    return problems
