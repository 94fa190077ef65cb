"""The claims ledger: every chapter records each checked statement of the paper.

Each chapter writes ``results/<chapter>/claims.csv`` with the columns
``claim,quantity,expected,measured,tolerance,holds`` (one row per checked statement), and,
where the paper is wrong or ambiguous, ``results/<chapter>/errata.csv`` with the columns of
:data:`ERRATA_COLUMNS`. The book's opening page and its errata page are built from these
files at build time (see :mod:`aligned_latents.ledger`).

Example
-------
>>> ledger = Claims("autoencoders")                      # doctest: +SKIP
>>> ledger.close("Theorem 1", "sigma_B[3]", expected=2.1, measured=2.1000001, tolerance=1e-6)
>>> ledger.at_least("Corollary 3", "min_i sigma_i(B_inf) - sigma_i(B_0)", measured=0.3, bound=0.0)
>>> ledger.write()
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .paths import results_dir

CLAIM_COLUMNS = ["claim", "quantity", "expected", "measured", "tolerance", "holds"]
ERRATA_COLUMNS = ["erratum", "location", "paper_says", "computation_says", "quantity",
                  "paper_value", "corrected_value", "measured", "supports"]


def _num(x) -> float:
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"a checked quantity must be finite, got {x}")
    return x


@dataclass
class Claims:
    """Collects the checks of one chapter and writes them as ``claims.csv``/``errata.csv``."""

    chapter: str
    rows: list = field(default_factory=list)
    errata: list = field(default_factory=list)

    # -- recording ---------------------------------------------------------------------
    def close(self, claim: str, quantity: str, expected, measured, tolerance: float,
              relative: bool = False) -> bool:
        """|measured - expected| <= tolerance (times |expected| when ``relative``)."""
        e, m, t = _num(expected), _num(measured), _num(tolerance)
        bound = t * abs(e) if relative else t
        holds = abs(m - e) <= bound
        tol = f"rel {t:g}" if relative else f"{t:g}"
        return self._add(claim, quantity, f"{e:.10g}", f"{m:.10g}", tol, holds)

    def at_least(self, claim: str, quantity: str, measured, bound, tolerance: float = 0.0) -> bool:
        """measured >= bound - tolerance (an inequality of the paper)."""
        m, b, t = _num(measured), _num(bound), _num(tolerance)
        return self._add(claim, quantity, f">= {b:.10g}", f"{m:.10g}", f"{t:g}", m >= b - t)

    def at_most(self, claim: str, quantity: str, measured, bound, tolerance: float = 0.0) -> bool:
        """measured <= bound + tolerance."""
        m, b, t = _num(measured), _num(bound), _num(tolerance)
        return self._add(claim, quantity, f"<= {b:.10g}", f"{m:.10g}", f"{t:g}", m <= b + t)

    def true(self, claim: str, quantity: str, holds: bool, measured: str = "") -> bool:
        """A statement checked as a whole (e.g. 'increases with k'); ``measured`` describes it."""
        return self._add(claim, quantity, "True", measured or str(bool(holds)), "", bool(holds))

    def _add(self, claim, quantity, expected, measured, tolerance, holds) -> bool:
        if not claim or not quantity:
            raise ValueError("claim and quantity must be non-empty strings")
        self.rows.append(dict(claim=claim, quantity=quantity, expected=expected,
                              measured=measured, tolerance=tolerance, holds=bool(holds)))
        return bool(holds)

    def erratum(self, erratum: str, location: str, paper_says: str, computation_says: str,
                quantity: str, paper_value, corrected_value, measured, tolerance: float) -> bool:
        """Record a place where the paper's statement disagrees with a computation.

        ``supports`` is True when ``measured`` is within ``tolerance`` of the corrected value
        and not of the paper's. The row also enters ``claims.csv`` (claim ``Erratum: ...``), so
        a correction that the numbers stop supporting shows as a failing claim.
        """
        p, c, m, t = _num(paper_value), _num(corrected_value), _num(measured), _num(tolerance)
        supports = abs(m - c) <= t and abs(m - p) > t
        self.errata.append(dict(erratum=erratum, location=location, paper_says=paper_says,
                                computation_says=computation_says, quantity=quantity,
                                paper_value=f"{p:.10g}", corrected_value=f"{c:.10g}",
                                measured=f"{m:.10g}", supports=supports))
        return self._add(f"Erratum: {erratum}", quantity, f"{c:.10g} (paper: {p:.10g})",
                         f"{m:.10g}", f"{t:g}", supports)

    # -- output --------------------------------------------------------------------------
    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=CLAIM_COLUMNS)

    def errata_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.errata, columns=ERRATA_COLUMNS)

    def write(self) -> Path:
        """Write ``claims.csv`` (and ``errata.csv`` when any erratum was recorded)."""
        out = results_dir(self.chapter)
        self.frame().to_csv(out / "claims.csv", index=False)
        if self.errata:
            self.errata_frame().to_csv(out / "errata.csv", index=False)
        elif (out / "errata.csv").exists():
            (out / "errata.csv").unlink()
        return out / "claims.csv"

    def summary(self) -> str:
        n, ok = len(self.rows), sum(r["holds"] for r in self.rows)
        return f"{ok} of {n} checks hold" + ("" if ok == n else f" ({n - ok} FAIL)")

    def show(self):
        """The chapter's checks as a styled table (failing rows in red), for the page."""
        df = self.frame()

        def colour(row):
            c = "" if row["holds"] else "background-color: #f8d7da; color: #842029"
            return [c] * len(row)

        return df.style.apply(colour, axis=1).hide(axis="index")
