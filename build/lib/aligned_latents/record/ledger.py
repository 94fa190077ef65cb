"""The ledger: every chapter's checks in one table, beside one verdict per statement.

Every chapter writes ``results/<chapter>/claims.csv`` (see
:mod:`aligned_latents.record.claims`). At build time the opening page (``book/intro.md``) calls
:func:`build` to read all of them and :func:`write` to write ``results/ledger/``:

* ``ledger.csv``: every check of every chapter (:data:`LEDGER_COLUMNS`), with the
  location in the paper of the statement it checks;
* ``verdicts.csv``: one verdict per statement of ``paper_statements.csv``
  (:mod:`aligned_latents.record.verdicts`);
* ``ledger.json``: the sha256 of every ``claims.csv`` read, of the statements table and
  of the two CSV files, and the verdict counts.

Nothing is taken on trust: each row's ``holds`` is recomputed from its ``expected``,
``measured`` and ``tolerance`` (:func:`aligned_latents.record.verdicts.read_claims_file`), and
a row whose stored ``holds`` disagrees, or whose numbers cannot be read, is a
``ValueError`` naming the file and the row. :func:`check` compares a written ledger with
the current files (and with the rendered ``_build/html/intro.html``), so a stale,
missing or tampered ledger is caught by the tests and by ``aligned-latents ledger
--check``.

A chapter without a ``claims.csv`` is not skipped: it appears as one ``missing`` row,
and the statements it checks get the gap verdict ``missing``.

The opening page's rendering is in :mod:`aligned_latents.record.frontpage`; the helpers shared
by the pages (:func:`md_escape`, :func:`chapter_ref`, :func:`parameters_markdown`) stay
here.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from aligned_latents.record import verdicts as V
from aligned_latents.record.claims import ERRATA_COLUMNS, ERRATUM_KINDS
from aligned_latents.util.chapters import CHAPTERS, RESULT_PAGES
from aligned_latents.util.files import read_book_csv, sha256_file
from aligned_latents.util.paths import results_root

#: Label of each chapter's page (``(ch-<name>)=`` at its top) and of the errata page.
CHAPTER_LABELS = {**{name: f"ch-{name}" for name in CHAPTERS}, "intro": "intro"}
ERRATA_LABEL = "errata"

#: The columns of ``results/ledger/ledger.csv``.
LEDGER_COLUMNS = ["chapter", "statement", "location", "claim", "quantity", "expected",
                  "measured", "tolerance", "holds", "evidence", "check", "detail",
                  "status"]

#: What the rendered opening page shows so that :func:`check` can tell it is current.
DIGEST_PREFIX = "ledger digest "


@dataclass(frozen=True)
class Headline:
    """A chapter's headline numbers: a CSV in its results folder and the columns to
    report."""

    csv: str
    columns: tuple[str, ...]
    label: str | None = None  # the column naming the rows (None: first other column)


#: Headline numbers of a rerun, per chapter; other chapters report the count of checks
#: that hold.
HEADLINES: dict[str, Headline] = {
    "glove": Headline("table1.csv", ("analogy", "wsim_mturk771", "wsim_men",
                                     "analogy_accuracy")),
}


def _truthy(value) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes")


def statements_digest(statements: pd.DataFrame) -> str:
    """sha256 of a statements table's CSV text (so a changed statements file shows)."""
    text = statements.to_csv(index=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Ledger:
    """Every chapter's checks in one frame, the verdicts, and the files read.

    ``table`` has :data:`LEDGER_COLUMNS`; ``verdicts`` has
    :data:`aligned_latents.record.verdicts.VERDICT_COLUMNS`; ``errata`` has the columns of
    :data:`aligned_latents.record.claims.ERRATA_COLUMNS` plus ``chapter`` and
    ``source_sha256``.
    """

    table: pd.DataFrame
    errata: pd.DataFrame
    verdicts: pd.DataFrame
    sources: dict = field(default_factory=dict)  # chapter -> {path, sha256, rows}/None
    statements_sha256: str = ""
    root: Path | None = None

    @property
    def checks(self) -> pd.DataFrame:
        """The recorded checks (the ledger without its ``missing`` placeholder rows)."""
        return self.table[self.table["status"].isin(["holds", "fails"])]

    @property
    def n_checks(self) -> int:
        """Number of checks recorded by the chapters."""
        return len(self.checks)

    @property
    def n_hold(self) -> int:
        """Number of recorded checks that hold."""
        return int(self.checks["holds"].sum())

    @property
    def missing(self) -> list[str]:
        """Chapters whose ``claims.csv`` is missing."""
        return [c for c, s in self.sources.items() if s is None]

    @property
    def gaps(self) -> pd.DataFrame:
        """Statements with a gap verdict (``missing`` or ``not checked``)."""
        return self.verdicts[self.verdicts["verdict"].isin(V.GAPS)]

    @property
    def complete(self) -> bool:
        """Every chapter wrote its checks and every statement has a verdict (no gap)."""
        return not self.missing and self.gaps.empty

    @property
    def digest(self) -> str:
        """One hash of all sources and the statements (shown on the rendered page, to
        detect a stale page)."""
        text = json.dumps({"sources": {c: (s or {}).get("sha256")
                                       for c, s in sorted(self.sources.items())},
                           "statements": self.statements_sha256})
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def counts(self) -> dict[str, int]:
        """Statements per verdict (:func:`aligned_latents.record.verdicts.verdict_counts`)."""
        return V.verdict_counts(self.verdicts)

    def summary(self) -> str:
        """One line: checks that hold, statements per verdict, missing results."""
        n_st = len(self.verdicts)
        parts = [f"{self.n_hold} of {self.n_checks} checks hold",
                 f"{n_st} statements: " + ", ".join(
                     f"{n} {v}" for v, n in self.counts().items() if n)]
        if self.missing:
            parts.append(f"results missing for {len(self.missing)} chapter(s): "
                         + ", ".join(self.missing))
        return "; ".join(parts)

    def per_chapter(self) -> pd.DataFrame:
        """Checks and checks that hold, per chapter (reading order)."""
        g = self.checks.groupby("chapter", sort=False)["holds"]
        return pd.DataFrame({"checks": g.size(), "hold": g.sum().astype(int)}
                            ).reset_index()


def _read_errata(path: Path, chapter: str) -> pd.DataFrame:
    err = read_book_csv(path, ERRATA_COLUMNS)
    for i, r in enumerate(err.to_dict("records")):
        if r["kind"] not in ERRATUM_KINDS:
            raise ValueError(f"{path}, row {i + 1} (erratum {r['erratum']!r}): kind "
                             f"must be one of {ERRATUM_KINDS}, got {r['kind']!r}")
    return err.assign(chapter=chapter, source_sha256=sha256_file(path))


def _check_errata(err: pd.DataFrame, claims: pd.DataFrame, path: Path) -> None:
    """Each erratum's ``supports`` must agree with its re-checked claims.csv row."""
    for i, r in enumerate(err.to_dict("records")):
        name = f"Erratum ({r['kind']}): {r['erratum']}"
        hit = claims[(claims["claim"] == name) & (claims["quantity"] == r["quantity"])]
        if hit.empty:
            raise ValueError(f"{path}, row {i + 1} (erratum {r['erratum']!r}, quantity "
                             f"{r['quantity']!r}) has no row in claims.csv")
        if _truthy(r["supports"]) not in set(hit["holds"]):
            raise ValueError(f"{path}, row {i + 1} (erratum {r['erratum']!r}): "
                             f"supports says {r['supports']}, its check in claims.csv "
                             f"gives {bool(hit['holds'].iloc[0])}")


def check_errata_kinds(errata: pd.DataFrame) -> None:
    """One slip, one kind: the errata that share a title (the same slip met in several
    places) must share a kind, else ``ValueError`` naming the places and kinds."""
    for title, sub in errata.groupby("erratum", sort=False):
        kinds = sorted(set(sub["kind"]))
        if len(kinds) > 1:
            where = "; ".join(f"{r['chapter']}: {r['location']} ({r['kind']})"
                              for r in sub.drop_duplicates(["chapter", "location",
                                                            "kind"]).to_dict("records"))
            raise ValueError(f"erratum {title!r} is recorded with {len(kinds)} kinds "
                             f"({', '.join(kinds)}): {where}; one slip gets one kind "
                             "(aligned_latents.record.claims.ERRATUM_MEANINGS)")


def distinct_errata(errata: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct erratum (title): its kind, the number of places it is met
    in, and whether the computation supports it everywhere."""
    rows = []
    for title, sub in errata.groupby("erratum", sort=False):
        rows.append({"erratum": title, "kind": sub["kind"].iloc[0],
                     "places": len(sub.drop_duplicates(["chapter", "location"])),
                     "supported": all(_truthy(x) for x in sub["supports"])})
    return pd.DataFrame(rows, columns=["erratum", "kind", "places", "supported"])


def build(root: Path | None = None, chapters=None,
          statements: pd.DataFrame | None = None) -> Ledger:
    """Read every ``<root>/<chapter>/claims.csv`` (and ``errata.csv``) into a
    :class:`Ledger`, with the verdict of every statement.

    ``root`` defaults to :func:`aligned_latents.util.paths.results_root`; ``chapters`` to
    every chapter of the book, in reading order, then the opening page
    (:data:`aligned_latents.util.chapters.RESULT_PAGES`); ``statements`` to
    ``paper_statements.csv``. A missing file gives a ``missing`` row for that chapter. A
    file with missing columns, unreadable numbers or a ``holds`` its numbers do not give
    is a ``ValueError`` naming the file and the row.
    """
    root = Path(root) if root is not None else results_root()
    everything = list(RESULT_PAGES)
    chapters = list(chapters) if chapters is not None else everything
    statements = V._statements(statements)
    where = dict(zip(statements["statement"], statements["location"]))
    claims = V.read_claims(root, chapters)
    rows, errata, sources = [], [], {}
    for ch in chapters:
        path = root / ch / "claims.csv"
        if ch not in claims:
            sources[ch] = None
            rows.append({"chapter": ch, "statement": "",
                         "location": CHAPTERS[ch].paper if ch in CHAPTERS else "",
                         "claim": "(no results)",
                         "quantity": f"results/{ch}/claims.csv is missing",
                         "holds": False, "status": "missing"})
            continue
        df = claims[ch]
        sources[ch] = {"path": f"{ch}/claims.csv", "sha256": sha256_file(path),
                       "rows": len(df)}
        err_path = root / ch / "errata.csv"
        if err_path.is_file():
            err = _read_errata(err_path, ch)
            _check_errata(err, df, err_path)
            errata.append(err)
        for r in df.to_dict("records"):
            rows.append(dict(r, chapter=ch, location=where.get(r["statement"], ""),
                             status="holds" if r["holds"] else "fails"))
    table = pd.DataFrame(rows, columns=LEDGER_COLUMNS).astype(object)
    table = table.where(table.notna(), "")
    table["holds"] = table["holds"].astype(bool)
    errata_df = (pd.concat(errata, ignore_index=True) if errata else
                 pd.DataFrame(columns=ERRATA_COLUMNS + ["chapter", "source_sha256"]))
    check_errata_kinds(errata_df)
    verdicts = V.verdict_table(root, chapters if chapters != everything else None,
                               statements=statements)
    return Ledger(table, errata_df, verdicts, sources, statements_digest(statements),
                  root)


def write(ledger: Ledger, out_dir: Path | None = None) -> Path:
    """Write ``ledger.csv``, ``verdicts.csv`` and ``ledger.json`` (default
    ``<results root>/ledger/``); returns the path of ``ledger.json``."""
    out = (Path(out_dir) if out_dir is not None
           else (ledger.root or results_root()) / "ledger")
    out.mkdir(parents=True, exist_ok=True)
    ledger.table.to_csv(out / "ledger.csv", index=False)
    vpath = V.write_verdicts(ledger.verdicts, out_dir=out)
    meta = {"checks": ledger.n_checks, "hold": ledger.n_hold, "missing": ledger.missing,
            "verdicts": ledger.counts(), "digest": ledger.digest,
            "sources": ledger.sources, "statements_sha256": ledger.statements_sha256,
            "ledger_csv_sha256": sha256_file(out / "ledger.csv"),
            "verdicts_csv_sha256": sha256_file(vpath)}
    (out / "ledger.json").write_text(json.dumps(meta, indent=2) + "\n",
                                     encoding="utf-8")
    return out / "ledger.json"


def check(root: Path | None = None, html: Path | None = None,
          statements: pd.DataFrame | None = None) -> list[str]:
    """Problems with the written ledger: missing; stale against the claims files or the
    statements; a claims file that no longer passes its own checks (tampered); or stale
    against the rendered page ``html`` (when that file exists). An empty list means up
    to date."""
    root = Path(root) if root is not None else results_root()
    meta_path = root / "ledger" / "ledger.json"
    if not meta_path.is_file():
        return [f"{meta_path} is missing: build the book (make book)"]
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    problems = []
    try:
        current = build(root, chapters=list(meta["sources"]) or None,
                        statements=statements)
    except ValueError as exc:
        return [f"the claims files do not pass their own checks: {exc}"]
    for ch, src in current.sources.items():
        old = meta["sources"].get(ch)
        if (old or {}).get("sha256") != (src or {}).get("sha256"):
            what = ("appeared" if old is None else "disappeared" if src is None
                    else "changed")
            problems.append(f"results/{ch}/claims.csv {what} since the ledger was "
                            "built")
    for ch in [c for c in RESULT_PAGES if c not in meta["sources"]]:
        problems.append(f"chapter {ch} is not in the ledger")
    if meta.get("statements_sha256") != current.statements_sha256:
        problems.append("the statements file changed since the ledger was built")
    for name, key in (("ledger.csv", "ledger_csv_sha256"),
                      ("verdicts.csv", "verdicts_csv_sha256")):
        csv = root / "ledger" / name
        if not csv.is_file() or sha256_file(csv) != meta.get(key):
            problems.append(f"{csv} is missing or does not match ledger.json")
    if html is not None and Path(html).is_file():
        text = Path(html).read_text(encoding="utf-8")
        m = re.search(DIGEST_PREFIX + r"([0-9a-f]{16})", text)
        if not m:
            problems.append(f"{html} shows no ledger digest (not built from the "
                            "ledger?)")
        elif m.group(1) != meta["digest"]:
            problems.append(f"{html} shows ledger {m.group(1)}, the results give "
                            f"{meta['digest']}: the rendered page is stale")
    return problems


# -- MyST helpers shared by the pages (myst-nb, render_markdown_format: myst) ---------
def md_escape(text) -> str:
    """Escape text for a MyST table cell (every ASCII punctuation mark that means
    something)."""
    text = "" if text is None else str(text)
    text = re.sub(r"([\\`*_{}\[\]<>()#+!|$~^&])", r"\\\1", text)
    return text.replace("\n", " ")


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def short_numbers(text) -> str:
    """Long numbers in a ledger cell to 6 significant digits (the CSV keeps them in
    full)."""
    def fmt(m):
        s = m.group(0)
        if not any(c in s for c in ".eE"):
            return s
        return f"{float(s):.6g}"

    return _NUMBER.sub(fmt, "" if text is None else str(text))


def chapter_ref(chapter: str) -> str:
    """A ``{ref}`` role to a chapter's page (its short name as text)."""
    label = CHAPTER_LABELS.get(chapter)
    return f"{{ref}}`{chapter} <{label}>`" if label else md_escape(chapter)


def parameters_markdown(chapter: str) -> str:
    """The chapter's parameters (name, default, meaning) as a MyST table."""
    from aligned_latents.util.chapters import parameters

    lines = ["| parameter | default | meaning |", "|---|---|---|"]
    for p in parameters(chapter).values():
        lines.append(f"| `{p.name}` | `{p.default!r}` | {md_escape(p.meaning)} |")
    return "\n".join(lines)


# -- sweeps (aligned-latents rerun --sweep) -------------------------------------------
def headline_frame(chapter: str, results: Path) -> pd.DataFrame:
    """A run's headline numbers: :data:`HEADLINES` rows, or the checks that hold.

    Raises ``ValueError`` when the run's files are missing or lack the headline columns.
    """
    results = Path(results)
    if chapter in HEADLINES:
        h = HEADLINES[chapter]
        path = results / h.csv
        if not path.is_file():
            raise ValueError(f"{path} is missing: the run wrote no headline table")
        df = pd.read_csv(path)
        lacking = [c for c in h.columns if c not in df.columns]
        if lacking:
            raise ValueError(f"{path} lacks headline columns {lacking}; has "
                             f"{list(df.columns)}")
        label = h.label or next((c for c in df.columns if c not in h.columns), None)
        rows = df[list(h.columns)].copy()
        rows.insert(0, "row", df[label].astype(str) if label else df.index.astype(str))
        return rows.reset_index(drop=True)
    path = results / "claims.csv"
    if not path.is_file():
        raise ValueError(f"{path} is missing: the run wrote no claims")
    df = V.read_claims_file(path)
    return pd.DataFrame({"row": ["claims"], "claims_hold": [int(df["holds"].sum())],
                         "claims_total": [len(df)]})
