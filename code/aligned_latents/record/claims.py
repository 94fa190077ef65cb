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
import re
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

#: Kinds of erratum, one definition each (the errata page leads with them; a slip that
#: recurs in several places has one kind and one title everywhere):
#: ``error``: the mathematics of the text is wrong and neither the display nor the proof
#: shows the intended meaning;
#: ``typo``: notation, typesetting or a cross-reference; the same display, the proof or
#: the surrounding text shows the intended meaning;
#: ``ambiguity``: the text admits two readings that give different numbers (the chapter
#: shows both);
#: ``convention``: a normalisation, factor, sign or order the paper leaves implicit;
#: ``missing hypothesis``: the result holds except at a degenerate parameter or case
#: (e.g. c = 0) that the statement does not exclude.
ERRATUM_KINDS = ("error", "typo", "ambiguity", "convention", "missing hypothesis")

#: The definition of each kind, as the errata page states it (one home).
ERRATUM_MEANINGS = {
    "error": "the mathematics of the text is wrong, and neither the display nor the "
             "proof shows the intended meaning",
    "typo": "notation, typesetting or a cross-reference; the same display, the proof or "
            "the surrounding text shows the intended meaning",
    "ambiguity": "the text admits two readings that give different numbers; the "
                 "chapter shows both",
    "convention": "a normalisation, factor, sign or order the paper leaves implicit, on "
                  "which the numbers depend",
    "missing hypothesis": "the result holds except in a degenerate case (e.g. c = 0) "
                          "that the statement does not exclude",
}

#: How a row is checked (one rule per kind, :func:`check_holds`, used when recording and
#: when re-checking): ``close`` |m - e| <= t (or t |e| for ``rel``); ``at_least``
#: m >= b - t; ``at_most`` m <= b + t; ``true`` a statement checked as a whole;
#: ``erratum`` the corrected value and not the paper's; ``setup`` a setting the paper
#: states, used as stated (m = e; not a confirmation); ``converged`` the residual of a
#: numerical method that checks an exact identity, m <= b (when it fails the identity's
#: check decides nothing); ``seeds_close``, ``seeds_at_least``, ``seeds_at_most`` the
#: rule of ``close``, ``at_least``, ``at_most`` applied to each seed's value (``measured``
#: lists them, ``;``-separated): it holds when every seed passes.
SEED_CHECKS = ("seeds_close", "seeds_at_least", "seeds_at_most")
CHECKS = ("close", "at_least", "at_most", "true", "erratum", "setup", "converged",
          *SEED_CHECKS)

#: The seeds a seed check needs to have a noise scale (issue 17: at least 5, or 3 where
#: one seed is costly, saying so). A seed check's ``check`` field carries its minimum when
#: it is not this one: ``seeds_close min 3`` (:func:`parse_check`); a plain
#: ``seeds_close`` needs 5. So ``claims.csv`` keeps its columns, the rows recorded with
#: the default keep their text, and the verdicts read the minimum without parsing prose.
MIN_SEEDS = 5

#: What a row says (:func:`row_outcome`): it holds, it fails, or (a seed check only) some
#: seeds pass and some do not, so the gap is within the seed spread (``mixed``), or every
#: seed agrees but there are fewer seeds than the check's minimum, so the agreement has no
#: noise scale (``unscaled``).
OUTCOMES = ("holds", "fails", "mixed", "unscaled")

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

    # -- recording (each method writes a row; :func:`check_holds` decides it) ----------
    def close(self, claim: str, quantity: str, expected, measured, tolerance: float,
              relative: bool = False, *, statement: str,
              evidence: str | None = None, detail: str = "") -> bool:
        """|measured - expected| <= tolerance (times |expected| when ``relative``)."""
        e, m, t = _num(expected), _num(measured), _num(tolerance)
        tol = f"rel {_fmt(t)}" if relative else _fmt(t)
        return self._add(claim, quantity, _fmt(e), _fmt(m), tol, statement, evidence,
                         "close", detail)

    def at_least(self, claim: str, quantity: str, measured, bound,
                 tolerance: float = 0.0, *, statement: str,
                 evidence: str | None = None, detail: str = "") -> bool:
        """measured >= bound - tolerance (an inequality of the paper)."""
        m, b, t = _num(measured), _num(bound), _num(tolerance)
        return self._add(claim, quantity, f">= {_fmt(b)}", _fmt(m), _fmt(t), statement,
                         evidence, "at_least", detail)

    def at_most(self, claim: str, quantity: str, measured, bound,
                tolerance: float = 0.0, *, statement: str,
                evidence: str | None = None, detail: str = "") -> bool:
        """measured <= bound + tolerance.

        Every check takes ``detail``: what a reader should know about the number (how it
        was measured, the reason for its threshold, or the likely reason it does not
        match the paper).
        """
        m, b, t = _num(measured), _num(bound), _num(tolerance)
        return self._add(claim, quantity, f"<= {_fmt(b)}", _fmt(m), _fmt(t), statement,
                         evidence, "at_most", detail)

    def true(self, claim: str, quantity: str, holds: bool, measured: str = "", *,
             statement: str, evidence: str | None = None) -> bool:
        """A statement checked as a whole (e.g. 'increases with k').

        ``measured`` describes what was seen (the numbers); it goes to ``detail``.
        """
        return self._add(claim, quantity, "True", str(bool(holds)), "", statement,
                         evidence, "true", detail=measured)

    def setup(self, claim: str, quantity: str, used, stated, *, statement: str,
              evidence: str | None = None, detail: str = "") -> bool:
        """A setting the paper states (a width, a learning rate), as this run uses it.

        Not a confirmation of anything: the statement's verdict is *setup, used as
        stated* (or *not used as stated* when ``used`` differs from ``stated``).
        """
        return self._add(claim, quantity, _setting(stated), _setting(used), "",
                         statement, evidence, "setup", detail)

    def converged(self, claim: str, quantity: str, residual, bound, *, statement: str,
                  evidence: str | None = None, detail: str = "") -> bool:
        """The residual of a numerical method that checks an exact identity (a gradient
        norm, a change per step) is at most ``bound``.

        When it is not, the identity's other checks decide nothing: the statement's
        verdict is *did not converge* (:mod:`aligned_latents.record.verdicts`), never
        *not reproduced*.
        """
        r, b = _num(residual), _num(bound)
        return self._add(claim, quantity, f"<= {_fmt(b)}", _fmt(r), "0.0", statement,
                         evidence, "converged", detail)

    def seeds(self, claim: str, quantity: str, values, rule: str, bound,
              tolerance: float = 0.0, relative: bool = False, *, statement: str,
              evidence: str | None = None, detail: str = "",
              min_seeds: int = MIN_SEEDS, min_seeds_reason: str = "") -> bool:
        """A seed-dependent number, one value per seed, checked seed by seed.

        ``rule`` is ``close`` (``bound`` is the expected value), ``at_least`` or
        ``at_most``; each seed's value is checked by that rule. The row holds when every
        seed passes; when some pass and some do not, :func:`row_outcome` says ``mixed``
        (the gap is within the seed spread) and the statement cannot be *not
        reproduced*. When every seed agrees but there are fewer than ``min_seeds``
        values, the row has no noise scale (``unscaled``): the statement is neither
        confirmed nor not reproduced by it. A ``min_seeds`` below :data:`MIN_SEEDS` needs
        ``min_seeds_reason`` (e.g. "costly: one seed trains in 40 s"), which goes to
        ``detail``. ``detail`` is prefixed with the mean ± standard deviation.
        """
        vals = [_num(v) for v in values]
        if not vals:
            raise ValueError(f"check {claim!r} / {quantity!r}: no seed values")
        if rule not in ("close", "at_least", "at_most"):
            raise ValueError(f"check {claim!r} / {quantity!r}: rule must be close, "
                             f"at_least or at_most, got {rule!r}")
        if isinstance(min_seeds, bool) or not isinstance(min_seeds, int) or min_seeds < 1:
            raise ValueError(f"check {claim!r} / {quantity!r}: min_seeds must be an "
                             f"integer >= 1, got {min_seeds!r}")
        reason = str(min_seeds_reason or "").strip()
        if min_seeds < MIN_SEEDS and not reason:
            raise ValueError(f"check {claim!r} / {quantity!r}: min_seeds = {min_seeds} is "
                             f"below {MIN_SEEDS}: give min_seeds_reason (e.g. 'costly: "
                             "one seed trains in 40 s')")
        b, t = _num(bound), _num(tolerance)
        if relative and rule != "close":
            raise ValueError("relative applies to the close rule only")
        expected = {"close": _fmt(b), "at_least": f">= {_fmt(b)}",
                    "at_most": f"<= {_fmt(b)}"}[rule]
        tol = f"rel {_fmt(t)}" if relative else _fmt(t)
        spread = seed_spread(vals)
        if reason:
            spread += f"; at least {min_seeds} seeds: {reason}"
        return self._add(claim, quantity, expected, ";".join(_fmt(v) for v in vals),
                         tol, statement, evidence, seed_check(rule, min_seeds),
                         spread + (f"; {detail}" if detail else ""))

    def _add(self, claim, quantity, expected, measured, tolerance, statement,
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
        holds = check_holds(check, expected, measured, tolerance)
        self.rows.append({"claim": claim, "quantity": quantity, "expected": expected,
                          "measured": measured, "tolerance": tolerance, "holds": holds,
                          "statement": statement, "evidence": evidence, "check": check,
                          "detail": detail})
        return holds

    def erratum(self, erratum: str, location: str, paper_says: str,
                computation_says: str, quantity: str, paper_value, corrected_value,
                measured, tolerance: float, *, kind: str, statement: str,
                evidence: str | None = None, detail: str = "") -> bool:
        """Record a place where the paper's text disagrees with a computation.

        ``kind`` is one of :data:`ERRATUM_KINDS`; a slip met in several places is
        recorded with the same ``erratum`` title and kind in each (the ledger refuses two
        kinds for one title). ``paper_value`` is a number only where the paper states it
        in so many words; otherwise ``None`` (``paper_says`` quotes its words).
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
        expected = _fmt(c) if p is None else f"{_fmt(c)} (paper: {_fmt(p)})"
        supports = check_holds("erratum", expected, _fmt(m), _fmt(t))
        self.errata.append({"erratum": erratum, "kind": kind, "statement": statement,
                                "location": location, "paper_says": paper_says,
                                "computation_says": computation_says, "quantity": quantity,
                                "paper_value": "" if p is None else _fmt(p),
                                "corrected_value": _fmt(c), "measured": _fmt(m),
                                "supports": supports})
        return self._add(f"Erratum ({kind}): {erratum}", quantity, expected, _fmt(m),
                         _fmt(t), statement, evidence, "erratum", detail)

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

    def summary(self) -> str:
        n, ok = len(self.rows), sum(r["holds"] for r in self.rows)
        return f"{ok} of {n} checks hold" + ("" if ok == n else f" ({n - ok} do not)")

    def show(self):
        """The chapter's checks as a styled table (failing rows in red), for the page:
        numbers to 6 significant digits (``claims.csv`` keeps them in full)."""
        df = self.frame()[["statement", "quantity", "expected", "measured", "tolerance",
                           "holds", "evidence"]].copy()
        for col in ("expected", "measured", "tolerance"):
            df[col] = df[col].map(_short_numbers)
        df["holds"] = df["holds"].map({True: "yes", False: "no"})
        df["evidence"] = df["evidence"].str.replace("-", " ")  # "substitute data"

        def colour(row):
            c = "" if row["holds"] == "yes" else "background-color: #f8d7da; color: #842029"
            return [c] * len(row)

        # class al-checks (book/_static/reader.css): cells break between words only
        return (df.style.apply(colour, axis=1).hide(axis="index")
                .set_table_attributes('class="al-checks"'))


_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])")


def _short_numbers(text) -> str:
    """``text`` with each number in it to 6 significant digits and a space after each
    ``;`` of a list of values (for the page's table, where cells break between words)."""
    short = _NUMBER.sub(lambda m: f"{float(m.group()):.6g}", str(text))
    return re.sub(r";(?! )", "; ", short)


def _setting(value) -> str:
    """A setting as text: numbers in full precision, anything else as given."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return _fmt(value)


def mean_sd(values) -> tuple[float, float]:
    """Mean and sample standard deviation (with n - 1; 0 for one value) of values over
    seeds: the one home of the book's "mean ± sd over n seeds"."""
    v = [float(x) for x in values]
    n = len(v)
    if n == 0:
        raise ValueError("mean_sd: no values")
    mean = sum(v) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in v) / (n - 1)) if n > 1 else 0.0
    return mean, sd


def seed_spread(values) -> str:
    """``mean ± sd over n seeds (min .. max)`` of a seed check's values
    (:func:`mean_sd`)."""
    v = [float(x) for x in values]
    n = len(v)
    mean, sd = mean_sd(v)
    return (f"{mean:.4g} ± {sd:.2g} over {n} seed{'s' if n != 1 else ''} "
            f"({min(v):.4g} .. {max(v):.4g})")


def _parse_num(text, what: str) -> float:
    try:
        return _num(text)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: not a finite number: {text!r}") from None


def _one_value(check: str, exp: str, m: float, tol: str) -> bool:
    """The rule of ``close``, ``at_least``, ``at_most`` (also ``converged``) on one
    measured value."""
    if check in ("at_least", "at_most", "converged"):
        prefix = ">=" if check == "at_least" else "<="
        if not exp.startswith(prefix):
            raise ValueError(f"expected of a {check} check must start with {prefix!r}, "
                             f"got {exp!r}")
        b = _parse_num(exp.removeprefix(prefix), "expected")
        t = _parse_num(tol, "tolerance")
        return m >= b - t if check == "at_least" else m <= b + t
    rel = tol.startswith("rel ")
    t = _parse_num(tol.removeprefix("rel "), "tolerance")
    e = _parse_num(exp, "expected")
    return abs(m - e) <= (t * abs(e) if rel else t)


def seed_check(rule: str, min_seeds: int = MIN_SEEDS) -> str:
    """The ``check`` field of a seed check: ``seeds_<rule>``, with `` min N`` when its
    minimum ``N`` of seeds is not :data:`MIN_SEEDS` (read back by :func:`parse_check`)."""
    return f"seeds_{rule}" + ("" if min_seeds == MIN_SEEDS else f" min {min_seeds}")


def parse_check(check) -> tuple[str, int | None]:
    """A ``check`` field as (kind of :data:`CHECKS`, minimum number of seeds): the
    minimum is :data:`MIN_SEEDS` for a plain seed check, ``N`` for ``seeds_<rule> min
    N``, None for any other kind. ``ValueError`` for an unknown kind, or a minimum that
    is not an integer >= 1 or is given to a check that is not a seed check."""
    kind, _, rest = str(check).strip().partition(" ")
    if kind not in CHECKS:
        raise ValueError(f"unknown check kind {str(check)!r} (one of {CHECKS})")
    if not rest:
        return kind, (MIN_SEEDS if kind in SEED_CHECKS else None)
    word, _, n = rest.partition(" ")
    if kind not in SEED_CHECKS or word != "min" or not n.isdigit() or int(n) < 1:
        raise ValueError(f"unknown check kind {str(check)!r}: only a seed check may add "
                         "' min N' (N >= 1 seeds)")
    return kind, int(n)


def check_kind(check) -> str:
    """The kind of a ``check`` field (``seeds_close min 3`` -> ``seeds_close``)."""
    return parse_check(check)[0]


def seed_values(row) -> list[float]:
    """The per-seed values of a seed check's ``measured``."""
    meas = str(row["measured"]).strip()
    return [_parse_num(x, "measured (a seed's value)") for x in meas.split(";")]


def seed_passes(row) -> list[bool]:
    """Whether each seed's value of a seed check passes its rule."""
    rule = check_kind(row.get("check", "")).removeprefix("seeds_")
    return [_one_value(rule, str(row["expected"]).strip(), v,
                       str(row["tolerance"]).strip()) for v in seed_values(row)]


def check_holds(check: str, expected: str, measured: str, tolerance: str) -> bool:
    """Whether a check holds, from the text of its ``expected``, ``measured`` and
    ``tolerance`` (the one rule per kind of :data:`CHECKS`; ``ValueError`` when they
    cannot be read)."""
    row = {"check": check, "expected": expected, "measured": measured,
           "tolerance": tolerance}
    return recompute_holds(row)


def recompute_holds(row) -> bool:
    """Whether a ``claims.csv`` row holds, from its ``expected``, ``measured`` and
    ``tolerance`` alone (``ValueError`` when they cannot be read). The
    :class:`Claims` methods decide ``holds`` with this same function."""
    check = check_kind(row.get("check", ""))
    exp, meas = str(row["expected"]).strip(), str(row["measured"]).strip()
    tol = str(row["tolerance"]).strip()
    if check == "true":
        if meas not in ("True", "False"):
            raise ValueError(f"measured of a whole-statement check must be True or "
                             f"False, got {meas!r}")
        return meas == "True"
    if check == "setup":
        try:
            return _num(meas) == _num(exp)
        except (TypeError, ValueError):
            return meas == exp
    if check in SEED_CHECKS:
        return all(seed_passes(row))
    if check in ("close", "at_least", "at_most", "converged"):
        return _one_value(check, exp, _parse_num(meas, "measured"), tol)
    if check == "erratum":
        m = _parse_num(meas, "measured")
        corrected, _, paper = exp.partition(" (paper: ")
        c = _parse_num(corrected, "expected")
        t = _parse_num(tol, "tolerance")
        p = _parse_num(paper.rstrip(")"), "paper value") if paper else None
        return abs(m - c) <= t and (p is None or abs(m - p) > t)
    raise ValueError(f"unknown check kind {check!r} (one of {CHECKS})")


def row_outcome(row) -> str:
    """``holds``, ``fails``, or for a seed check ``mixed`` (its seeds disagree: that is
    a noise scale whatever their number) or ``unscaled`` (its seeds agree, but they are
    fewer than the check's minimum); one of :data:`OUTCOMES`."""
    kind, minimum = parse_check(row.get("check", ""))
    if kind in SEED_CHECKS:
        passes = seed_passes(row)
        if any(passes) and not all(passes):
            return "mixed"
        if len(passes) < minimum:
            return "unscaled"
        return "holds" if all(passes) else "fails"
    return "holds" if recompute_holds(row) else "fails"


def too_few_seeds(row) -> str:
    """For an ``unscaled`` seed check, what it lacks ("1 seed of the 5 required");
    otherwise ''."""
    if row_outcome(row) != "unscaled":
        return ""
    n, minimum = len(seed_values(row)), parse_check(row.get("check", ""))[1]
    return f"{n} seed{'s' if n != 1 else ''} of the {minimum} required"
