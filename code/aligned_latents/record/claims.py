"""A chapter's checks of the paper, written as ``results/<chapter>/claims.csv``.

Every check names the statement of the paper it bears on (an id of
``paper_statements.csv``, see :mod:`aligned_latents.record.statements`) and the kind of evidence
it is (:data:`EVIDENCE`). A check that fails is a result, not an error: it is written with
``holds = False`` and the statement's verdict (:mod:`aligned_latents.record.verdicts`) says so.
Where the paper's text is wrong, a typo, ambiguous or a convention, :meth:`Claims.erratum`
also writes a row of ``results/<chapter>/errata.csv``.

Every row can be re-checked from its own columns (:func:`recompute_holds`), so a
``claims.csv`` whose ``holds`` column disagrees with its numbers is caught.

Example
-------
>>> claims = Claims("autoencoders", evidence="exact")          # doctest: +SKIP
>>> claims.close("Theorem 1", "sigma_B[3]", expected=2.1, measured=2.1000001,
...              tolerance=1e-6, statement="thm1")
>>> claims.at_least("Corollary 3", "min_i sigma_i(B_inf) - sigma_i(B_0)", measured=0.3,
...                 bound=0.0, statement="cor3", evidence="simulation")
>>> claims.write()
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from aligned_latents.util.paths import results_dir

#: Kinds of evidence, strongest first.
#: ``exact``: a closed form against an independent direct computation;
#: ``simulation``: the paper's own synthetic setting (Monte Carlo, its toy problems);
#: ``substitute-data``: real data other than the paper's (GloVe 6B 50d, fluVaccine);
#: ``designed-data``: data this book generated (the L1000 simulation): it illustrates a
#: mechanism and is no evidence for the paper's empirical claim.
EVIDENCE = ("exact", "simulation", "substitute-data", "designed-data")

#: Kinds of erratum: ``error`` (the mathematics is wrong), ``typo`` (notation or
#: typesetting; the intended meaning is clear), ``ambiguity``, ``convention``.
ERRATUM_KINDS = ("error", "typo", "ambiguity", "convention")

#: How a row is checked: ``close`` |m - e| <= t (or t |e| for ``rel``), ``at_least``
#: m >= b - t, ``at_most`` m <= b + t, ``true`` a statement checked as a whole,
#: ``erratum`` the corrected value and not the paper's.
CHECKS = ("close", "at_least", "at_most", "true", "erratum")

CLAIM_COLUMNS = ["claim", "quantity", "expected", "measured", "tolerance", "holds",
                 "statement", "evidence", "check", "detail"]
ERRATA_COLUMNS = ["erratum", "kind", "statement", "location", "paper_says",
                  "computation_says", "quantity", "paper_value", "corrected_value",
                  "measured", "supports"]


def _num(x) -> float:
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"a checked quantity must be finite, got {x}")
    return x


def _fmt(x: float) -> str:
    """Full precision, so that :func:`recompute_holds` sees the numbers that were compared."""
    return repr(float(x))


@dataclass
class Claims:
    """Collects the checks of one chapter and writes ``claims.csv`` / ``errata.csv``.

    ``evidence`` is the default evidence kind of this chapter's checks; each check may
    override it.
    """

    chapter: str
    evidence: str | None = None
    rows: list = field(default_factory=list)
    errata: list = field(default_factory=list)

    def __post_init__(self):
        if self.evidence is not None and self.evidence not in EVIDENCE:
            raise ValueError(f"evidence must be one of {EVIDENCE}, got {self.evidence!r}")

    # -- recording ---------------------------------------------------------------------
    def close(self, claim: str, quantity: str, expected, measured, tolerance: float,
              relative: bool = False, *, statement: str,
              evidence: str | None = None, detail: str = "") -> bool:
        """|measured - expected| <= tolerance (times |expected| when ``relative``)."""
        e, m, t = _num(expected), _num(measured), _num(tolerance)
        bound = t * abs(e) if relative else t
        tol = f"rel {_fmt(t)}" if relative else _fmt(t)
        return self._add(claim, quantity, _fmt(e), _fmt(m), tol, abs(m - e) <= bound,
                         statement, evidence, "close", detail)

    def at_least(self, claim: str, quantity: str, measured, bound,
                 tolerance: float = 0.0, *, statement: str,
                 evidence: str | None = None, detail: str = "") -> bool:
        """measured >= bound - tolerance (an inequality of the paper)."""
        m, b, t = _num(measured), _num(bound), _num(tolerance)
        return self._add(claim, quantity, f">= {_fmt(b)}", _fmt(m), _fmt(t),
                         m >= b - t, statement, evidence, "at_least", detail)

    def at_most(self, claim: str, quantity: str, measured, bound,
                tolerance: float = 0.0, *, statement: str,
                evidence: str | None = None, detail: str = "") -> bool:
        """measured <= bound + tolerance.

        Every check takes ``detail``: what a reader should know about the number (how it
        was measured, or the likely reason it does not match the paper).
        """
        m, b, t = _num(measured), _num(bound), _num(tolerance)
        return self._add(claim, quantity, f"<= {_fmt(b)}", _fmt(m), _fmt(t),
                         m <= b + t, statement, evidence, "at_most", detail)

    def true(self, claim: str, quantity: str, holds: bool, measured: str = "", *,
             statement: str, evidence: str | None = None) -> bool:
        """A statement checked as a whole (e.g. 'increases with k').

        ``measured`` describes what was seen (the numbers); it goes to ``detail``.
        """
        return self._add(claim, quantity, "True", str(bool(holds)), "", bool(holds),
                         statement, evidence, "true", detail=measured)

    def _add(self, claim, quantity, expected, measured, tolerance, holds, statement,
             evidence, check, detail="") -> bool:
        if not claim or not quantity:
            raise ValueError("claim and quantity must be non-empty strings")
        if not statement or not isinstance(statement, str):
            raise ValueError(f"check {claim!r} / {quantity!r} must name the statement "
                             "of the paper it checks (statement=...)")
        evidence = evidence or self.evidence
        if evidence not in EVIDENCE:
            raise ValueError(f"check {claim!r} / {quantity!r}: evidence must be one of "
                             f"{EVIDENCE}, got {evidence!r}")
        self.rows.append({"claim": claim, "quantity": quantity, "expected": expected,
                              "measured": measured, "tolerance": tolerance, "holds": bool(holds),
                              "statement": statement, "evidence": evidence, "check": check,
                              "detail": detail})
        return bool(holds)

    def erratum(self, erratum: str, location: str, paper_says: str,
                computation_says: str, quantity: str, paper_value, corrected_value,
                measured, tolerance: float, *, kind: str, statement: str,
                evidence: str | None = None, detail: str = "") -> bool:
        """Record a place where the paper's text disagrees with a computation.

        ``kind`` is one of :data:`ERRATUM_KINDS`. ``paper_value`` is a number only where
        the paper states one; otherwise ``None`` (``paper_says`` quotes its words).
        ``supports`` is True when ``measured`` is within ``tolerance`` of the corrected
        value (and, where the paper states a value, not within it of that value). The row
        also enters ``claims.csv`` (claim ``Erratum: ...``), so a correction that the
        numbers stop supporting shows as a failing check.
        """
        if kind not in ERRATUM_KINDS:
            raise ValueError(f"erratum {erratum!r}: kind must be one of {ERRATUM_KINDS}, "
                             f"got {kind!r}")
        c, m, t = _num(corrected_value), _num(measured), _num(tolerance)
        p = None if paper_value is None else _num(paper_value)
        supports = abs(m - c) <= t and (p is None or abs(m - p) > t)
        self.errata.append({"erratum": erratum, "kind": kind, "statement": statement,
                                "location": location, "paper_says": paper_says,
                                "computation_says": computation_says, "quantity": quantity,
                                "paper_value": "" if p is None else _fmt(p),
                                "corrected_value": _fmt(c), "measured": _fmt(m),
                                "supports": supports})
        expected = _fmt(c) if p is None else f"{_fmt(c)} (paper: {_fmt(p)})"
        return self._add(f"Erratum ({kind}): {erratum}", quantity, expected, _fmt(m),
                         _fmt(t), supports, statement, evidence, "erratum", detail)

    # -- output --------------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=CLAIM_COLUMNS)

    def errata_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.errata, columns=ERRATA_COLUMNS)

    def write(self) -> Path:
        """Write ``claims.csv`` (and ``errata.csv`` when any erratum was recorded).

        Every ``statement`` must be an id of ``paper_statements.csv``.
        """
        from aligned_latents.record.statements import statement_ids

        known = set(statement_ids())
        unknown = sorted({r["statement"] for r in self.rows} - known)
        if unknown:
            raise ValueError(f"{self.chapter}: checks name statements that are not in "
                             f"paper_statements.csv: {', '.join(unknown)}")
        out = results_dir(self.chapter)
        self.frame().to_csv(out / "claims.csv", index=False)
        if self.errata:
            self.errata_frame().to_csv(out / "errata.csv", index=False)
        elif (out / "errata.csv").exists():
            (out / "errata.csv").unlink()
        return out / "claims.csv"

    def verdict(self, statement: str) -> str:
        """The verdict of ``statement`` from this chapter's checks so far
        (:func:`aligned_latents.record.verdicts.statement_verdict`)."""
        from aligned_latents.record.verdicts import statement_verdict

        df = self.frame()
        df = df[df["statement"] == statement]
        if df.empty:
            raise ValueError(f"{self.chapter}: no check of statement {statement!r} yet")
        return statement_verdict(df)

    def summary(self) -> str:
        n, ok = len(self.rows), sum(r["holds"] for r in self.rows)
        return f"{ok} of {n} checks hold" + ("" if ok == n else f" ({n - ok} do not)")

    def show(self):
        """The chapter's checks as a styled table (failing rows in red), for the page."""
        df = self.frame()[["statement", "quantity", "expected", "measured", "tolerance",
                           "holds", "evidence"]]

        def colour(row):
            c = "" if row["holds"] else "background-color: #f8d7da; color: #842029"
            return [c] * len(row)

        return df.style.apply(colour, axis=1).hide(axis="index")


def _parse_num(text, what: str) -> float:
    try:
        return _num(text)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: not a finite number: {text!r}") from None


def recompute_holds(row) -> bool:
    """Whether a ``claims.csv`` row holds, from its ``expected``, ``measured`` and
    ``tolerance`` alone (``ValueError`` when they cannot be read)."""
    check = row.get("check", "")
    exp, meas = str(row["expected"]).strip(), str(row["measured"]).strip()
    tol = str(row["tolerance"]).strip()
    if check == "true":
        if meas not in ("True", "False"):
            raise ValueError(f"measured of a whole-statement check must be True or "
                             f"False, got {meas!r}")
        return meas == "True"
    m = _parse_num(meas, "measured")
    if check == "at_least":
        return m >= _parse_num(exp.removeprefix(">="), "expected") - _parse_num(
            tol, "tolerance")
    if check == "at_most":
        return m <= _parse_num(exp.removeprefix("<="), "expected") + _parse_num(
            tol, "tolerance")
    if check == "close":
        rel = tol.startswith("rel ")
        t = _parse_num(tol.removeprefix("rel "), "tolerance")
        e = _parse_num(exp, "expected")
        return abs(m - e) <= (t * abs(e) if rel else t)
    if check == "erratum":
        corrected, _, paper = exp.partition(" (paper: ")
        c = _parse_num(corrected, "expected")
        t = _parse_num(tol, "tolerance")
        p = _parse_num(paper.rstrip(")"), "paper value") if paper else None
        return abs(m - c) <= t and (p is None or abs(m - p) > t)
    raise ValueError(f"unknown check kind {check!r} (one of {CHECKS})")
