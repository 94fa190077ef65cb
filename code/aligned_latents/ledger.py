"""The claims ledger: the book's opening page, its errata page and its rerun summaries.

Every chapter writes ``results/<chapter>/claims.csv`` (see :mod:`aligned_latents.claims`).
At build time the opening page (``book/intro.md``) calls :func:`build` to read all of them,
writes ``results/ledger/ledger.csv`` and ``results/ledger/ledger.json`` (with the sha256 of
every ``claims.csv`` it read) and renders one table with :func:`ledger_markdown`.
:func:`check` compares a written ledger with the current files (and with the rendered
``_build/html/intro.html``), so a stale or missing ledger is caught by the tests.

A chapter without a ``claims.csv`` is not skipped: it appears as one *missing* row, which
counts as a check that does not hold.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .chapters import CHAPTERS
from .claims import CLAIM_COLUMNS, ERRATA_COLUMNS
from .paths import results_root

#: Where each named statement, figure or table of the paper is (section, appendix).
PAPER_LOCATIONS: dict[str, str] = {
    "Lemma 1": "Section 3, Appendix A",
    "Lemma 2": "Section 4.1, Appendix B",
    "Corollary 1": "Section 4.2, Appendix C",
    "Corollary 2": "Section 4.2, Appendix D",
    "Definition 1": "Section 5.1",
    "Definition 2": "Section 5.1",
    "Theorem 1": "Section 5.2, Appendix E",
    "Corollary 3": "Section 5.2",
    "Corollary 4": "Section 5.3, Appendix F",
    "Theorem 2": "Section 5.4, Appendix G",
    "Lemma 3": "Appendix G",
    "Lemma 4": "Appendix G",
    "Figure 1": "Section 1",
    "Figure 2": "Section 3",
    "Figure 3": "Section 6.1.1",
    "Table 1": "Sections 6.1.2-6.2",
    "Figure 4": "Section 6.3",
    "Figure 5": "Appendix D",
    "Figure 6": "Appendix I.1",
    "Figure 7": "Appendix I.2",
    "Figure 8": "Appendix I.3",
    "Figure 9": "Appendix I.3",
    "Figure 10": "Appendix I.4",
    "Table 2": "Appendix I.4",
}

_NAMED = re.compile(r"\b(Lemma|Theorem|Corollary|Definition|Figure|Table)\s+(\d+)", re.I)
_SECTION = re.compile(r"\b(Section|Appendix|Eq\.?|Equation)\s*\(?([A-Z]?\d+(?:\.\d+)*|[A-I](?:\.\d+)?)\)?")

#: Label of each chapter's page (``(ch-<name>)=`` at its top) and of the errata page.
CHAPTER_LABELS = {name: f"ch-{name}" for name in CHAPTERS}
ERRATA_LABEL = "errata"

LEDGER_COLUMNS = ["chapter", "claim", "where", "quantity", "expected", "measured",
                  "tolerance", "holds", "status"]


@dataclass(frozen=True)
class Headline:
    """A chapter's headline numbers: a CSV in its results folder and the columns to report."""

    csv: str
    columns: tuple[str, ...]
    label: str | None = None  # the column naming the rows (None: first non-headline column)


#: Headline numbers of a rerun, per chapter; other chapters report the count of claims that hold.
HEADLINES: dict[str, Headline] = {
    "glove": Headline("table1.csv", ("analogy", "wsim_mturk771", "wsim_men", "analogy_accuracy")),
}


def _cmap_data_label(figure4_path) -> str:
    """', SIMULATED data' unless the CMap chapter says it ran on real data (data_source.json)."""
    import json

    src = figure4_path.parent / "data_source.json"
    try:
        simulated = json.loads(src.read_text())["simulated"]
    except (OSError, ValueError, KeyError):
        simulated = True  # unknown: say so rather than pass it off as real data
    return ",\nSIMULATED data" if simulated else ",\nreal L1000 data"


def paper_location(claim: str, chapter: str | None = None, errata: pd.DataFrame | None = None) -> str:
    """Where in the paper a claim is, from its name ("Theorem 1" -> "Section 5.2, Appendix E").

    An ``Erratum: NAME`` claim takes the ``location`` of that erratum in ``errata`` when given.
    A name naming no statement falls back to an explicit "Section ..."/"Appendix ..." in it,
    then to the chapter's part of the paper.
    """
    claim = str(claim)
    if claim.startswith("Erratum: ") and errata is not None and len(errata):
        hit = errata.loc[errata["erratum"].astype(str) == claim[len("Erratum: "):], "location"]
        if len(hit):
            return str(hit.iloc[0])
    places = []
    for kind, num in _NAMED.findall(claim):
        key = f"{kind.capitalize()} {num}"
        if key in PAPER_LOCATIONS and PAPER_LOCATIONS[key] not in places:
            places.append(PAPER_LOCATIONS[key])
    if places:
        return "; ".join(places)
    explicit = [f"{k.capitalize()} {n}" for k, n in _SECTION.findall(claim)]
    if explicit:
        return ", ".join(explicit)
    if chapter in CHAPTERS:
        return CHAPTERS[chapter].paper
    return "?"


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _holds(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return bool(value)


@dataclass
class Ledger:
    """Every chapter's claims in one frame, with the files it was built from."""

    table: pd.DataFrame
    errata: pd.DataFrame
    sources: dict = field(default_factory=dict)  # chapter -> {"path", "sha256"} or None
    root: Path | None = None

    @property
    def n_checks(self) -> int:
        return len(self.table)

    @property
    def n_hold(self) -> int:
        return int(self.table["holds"].sum())

    @property
    def missing(self) -> list[str]:
        return [c for c, s in self.sources.items() if s is None]

    @property
    def digest(self) -> str:
        """One hash of all sources (what the rendered page shows, to detect a stale page)."""
        text = json.dumps({c: (s or {}).get("sha256") for c, s in sorted(self.sources.items())})
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def summary(self) -> str:
        s = f"{self.n_hold} of {self.n_checks} checks hold"
        if self.missing:
            s += f"; results missing for {len(self.missing)} chapter(s): {', '.join(self.missing)}"
        return s

    def per_chapter(self) -> pd.DataFrame:
        g = self.table.groupby("chapter", sort=False)["holds"]
        return pd.DataFrame({"checks": g.size(), "hold": g.sum().astype(int)}).reset_index()


def build(root: Path | None = None, chapters=None) -> Ledger:
    """Read every ``<root>/<chapter>/claims.csv`` (and ``errata.csv``) into a :class:`Ledger`.

    ``root`` defaults to :func:`aligned_latents.paths.results_root`; ``chapters`` to every
    chapter of the book, in reading order. A missing or unreadable file gives a failing
    ``missing`` row for that chapter.
    """
    root = Path(root) if root is not None else results_root()
    chapters = list(chapters) if chapters is not None else list(CHAPTERS)
    rows, errata, sources = [], [], {}
    for ch in chapters:
        path = root / ch / "claims.csv"
        err_path = root / ch / "errata.csv"
        err = pd.DataFrame(columns=ERRATA_COLUMNS)
        if err_path.is_file():
            err = pd.read_csv(err_path, dtype=str, keep_default_na=False)
            missing_cols = set(ERRATA_COLUMNS) - set(err.columns)
            if missing_cols:
                raise ValueError(f"{err_path} lacks columns {sorted(missing_cols)}")
            errata.append(err.assign(chapter=ch, source_sha256=sha256(err_path)))
        if not path.is_file():
            sources[ch] = None
            rows.append(dict(chapter=ch, claim="(no results)", where=CHAPTERS[ch].paper
                             if ch in CHAPTERS else "?", quantity=f"{path} is missing",
                             expected="", measured="", tolerance="", holds=False,
                             status="missing"))
            continue
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        lacking = set(CLAIM_COLUMNS) - set(df.columns)
        if lacking:
            raise ValueError(f"{path} lacks columns {sorted(lacking)}; expected {CLAIM_COLUMNS}")
        sources[ch] = {"path": f"{ch}/claims.csv", "sha256": sha256(path), "rows": len(df)}
        if df.empty:
            rows.append(dict(chapter=ch, claim="(no checks)", where=CHAPTERS[ch].paper
                             if ch in CHAPTERS else "?", quantity=f"{path} has no rows",
                             expected="", measured="", tolerance="", holds=False, status="empty"))
        for r in df.to_dict("records"):
            h = _holds(r["holds"])
            rows.append(dict(chapter=ch, claim=r["claim"],
                             where=paper_location(r["claim"], ch, err),
                             quantity=r["quantity"], expected=r["expected"],
                             measured=r["measured"], tolerance=r["tolerance"], holds=h,
                             status="holds" if h else "fails"))
    table = pd.DataFrame(rows, columns=LEDGER_COLUMNS)
    table["holds"] = table["holds"].astype(bool)
    errata_df = (pd.concat(errata, ignore_index=True) if errata
                 else pd.DataFrame(columns=ERRATA_COLUMNS + ["chapter", "source_sha256"]))
    return Ledger(table, errata_df, sources, root)


def write(ledger: Ledger, out_dir: Path | None = None) -> Path:
    """Write ``ledger.csv`` and ``ledger.json`` (default ``<results root>/ledger/``)."""
    out = Path(out_dir) if out_dir is not None else (ledger.root or results_root()) / "ledger"
    out.mkdir(parents=True, exist_ok=True)
    ledger.table.to_csv(out / "ledger.csv", index=False)
    meta = {"checks": ledger.n_checks, "hold": ledger.n_hold, "missing": ledger.missing,
            "digest": ledger.digest, "sources": ledger.sources,
            "ledger_csv_sha256": sha256(out / "ledger.csv")}
    (out / "ledger.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return out / "ledger.json"


DIGEST_PREFIX = "ledger digest "


def check(root: Path | None = None, html: Path | None = None) -> list[str]:
    """Problems with the written ledger: missing, stale against the claims files, or against
    the rendered page ``html`` (when that file exists). An empty list means up to date."""
    root = Path(root) if root is not None else results_root()
    meta_path = root / "ledger" / "ledger.json"
    if not meta_path.is_file():
        return [f"{meta_path} is missing: build the book (make book)"]
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    problems = []
    current = build(root, chapters=list(meta["sources"]) or None)
    for ch, src in current.sources.items():
        old = meta["sources"].get(ch)
        if (old or {}).get("sha256") != (src or {}).get("sha256"):
            what = "appeared" if old is None else "disappeared" if src is None else "changed"
            problems.append(f"results/{ch}/claims.csv {what} since the ledger was built")
    for ch in set(CHAPTERS) - set(meta["sources"]):
        problems.append(f"chapter {ch} is not in the ledger")
    csv = root / "ledger" / "ledger.csv"
    if not csv.is_file() or sha256(csv) != meta.get("ledger_csv_sha256"):
        problems.append(f"{csv} is missing or does not match ledger.json")
    if html is not None and Path(html).is_file():
        text = Path(html).read_text(encoding="utf-8")
        m = re.search(DIGEST_PREFIX + r"([0-9a-f]{16})", text)
        if not m:
            problems.append(f"{html} shows no ledger digest (not built from the ledger?)")
        elif m.group(1) != meta["digest"]:
            problems.append(f"{html} shows ledger {m.group(1)}, the results give {meta['digest']}: "
                            "the rendered page is stale")
    return problems


# -- rendering (MyST markdown, parsed by myst-nb with render_markdown_format: myst) ----------
_FAIL = "color:#b02a37;font-weight:bold"


def md_escape(text) -> str:
    """Escape text for a MyST table cell (every ASCII punctuation mark that means something)."""
    text = "" if text is None else str(text)
    text = re.sub(r"([\\`*_{}\[\]<>()#+!|$~^&])", r"\\\1", text)
    return text.replace("\n", " ")


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def short_numbers(text) -> str:
    """Long numbers in a ledger cell to 6 significant digits (the CSV keeps them in full)."""
    def fmt(m):
        s = m.group(0)
        if not any(c in s for c in ".eE") or len(s) <= 8:
            return s
        return f"{float(s):.6g}"

    return _NUMBER.sub(fmt, "" if text is None else str(text))


def _red(text: str) -> str:
    return f'<span class="ledger-fail" style="{_FAIL}">{text}</span>' if text else text


def chapter_ref(chapter: str) -> str:
    label = CHAPTER_LABELS.get(chapter)
    return f"{{ref}}`{chapter} <{label}>`" if label else md_escape(chapter)


def ledger_markdown(ledger: Ledger) -> str:
    """The ledger as MyST tables, one per chapter (linked), the verdict first; failing and
    missing rows in red."""
    blocks = []
    for ch, sub in ledger.table.groupby("chapter", sort=False):
        n, ok = len(sub), int(sub["holds"].sum())
        title = md_escape(CHAPTERS[ch].title) if ch in CHAPTERS else ""
        count = f"{ok} of {n} hold" if ch not in ledger.missing else "results missing"
        head = f"**{chapter_ref(ch)}** ({title}): " + (count if ok == n else _red(count))
        lines = ["| holds | claim | where in the paper | quantity | expected | measured |",
                 "|---|---|---|---|---|---|"]
        for r in sub.to_dict("records"):
            cells = [md_escape(r[c]) for c in ("claim", "where", "quantity")]
            cells += [md_escape(short_numbers(r[c])) for c in ("expected", "measured")]
            verdict = "yes" if r["holds"] else ("MISSING" if r["status"] == "missing" else
                                                "EMPTY" if r["status"] == "empty" else "NO")
            if not r["holds"]:
                cells = [_red(c) for c in cells]
                verdict = _red(verdict)
            lines.append("| " + " | ".join([verdict, *cells]) + " |")
        blocks.append(head + "\n\n" + "\n".join(lines))
    return "\n\n".join(blocks)


def summary_markdown(ledger: Ledger) -> str:
    """Count of checks that hold, per chapter, with links (and the digest the tests read)."""
    pc = ledger.per_chapter()
    n_fail = ledger.n_checks - ledger.n_hold
    head = f"**{ledger.n_hold} of {ledger.n_checks} checks hold**"
    if n_fail:
        head += f"; {_red(f'{n_fail} do not')}"
    head += (f" (errata: {len(ledger.errata)} recorded, see {{ref}}`the errata page <{ERRATA_LABEL}>`).")
    items = []
    for r in pc.to_dict("records"):
        ch = r["chapter"]
        if ch in ledger.missing:
            text = _red(f"results missing ({md_escape(ch + '/claims.csv')} not found)")
        else:
            text = f"{r['hold']} of {r['checks']} hold"
            if r["hold"] < r["checks"]:
                text = _red(text)
        title = md_escape(CHAPTERS[ch].title) if ch in CHAPTERS else ""
        items.append(f"- {chapter_ref(ch)} ({title}): {text}")
    foot = (f"\n\n<small>{DIGEST_PREFIX}{ledger.digest}; written to "
            f"{md_escape('results/ledger/ledger.csv')} and {md_escape('ledger.json')}.</small>")
    return head + "\n\n" + "\n".join(items) + foot


def errata_markdown(ledger: Ledger) -> str:
    """Every chapter's errata, one entry each (a correction the numbers stop supporting is red)."""
    if ledger.errata.empty:
        return "No chapter has recorded an erratum in this build."
    blocks = []
    for i, r in enumerate(ledger.errata.to_dict("records"), 1):
        ok = _holds(r["supports"])
        verdict = "supported by the computation" if ok else _red("NOT supported by the computation")
        nums = (f"paper value {md_escape(short_numbers(r['paper_value']))}, corrected value "
                f"{md_escape(short_numbers(r['corrected_value']))}, measured "
                f"{md_escape(short_numbers(r['measured']))}")
        blocks.append(
            f"**{i}. {md_escape(r['erratum'])}** ({chapter_ref(r['chapter'])}; "
            f"{md_escape(r['location'])}): {verdict}\n\n"
            f"- the paper says: {md_escape(r['paper_says'])}\n"
            f"- the computation says: {md_escape(r['computation_says'])}\n"
            f"- checked on {md_escape(r['quantity'])}: " + (nums if ok else _red(nums)))
    return "\n\n".join(blocks)


def parameters_markdown(chapter: str) -> str:
    """The chapter's parameters (name, default, meaning) as a MyST table."""
    from .chapters import parameters

    lines = ["| parameter | default | meaning |", "|---|---|---|"]
    for p in parameters(chapter).values():
        lines.append(f"| `{p.name}` | `{p.default!r}` | {md_escape(p.meaning)} |")
    return "\n".join(lines)


# -- Figure 1 of the paper, from this book's results -----------------------------------------
FIGURE1_SOURCES = {"a": ("glove", "figure3.csv"), "b": ("cmap", "figure4.csv")}


def figure1(root: Path | None = None):
    """The paper's Figure 1 from the book's own results.

    (a) negation pairs (``results/glove/figure3.csv``: MDS coordinates, ``space`` original or
    ``linear_k2``), an arrow from each word to its negation, original beside aligned;
    (b) drug signatures (``results/cmap/figure4.csv``): cosine similarity of each drug's
    signatures in two cell types, original vs latent space, one colour per model.
    A missing file leaves its panel with a message saying so. Returns (figure, notes) where
    ``notes`` lists the missing inputs.
    """
    import matplotlib.pyplot as plt

    root = Path(root) if root is not None else results_root()
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    notes = []
    path_a = root.joinpath(*FIGURE1_SOURCES["a"])
    if path_a.is_file():
        df = pd.read_csv(path_a)
        for ax, space, title in [(axes[0], "original", "(a) negation pairs, original GloVe"),
                                 (axes[1], "linear_k2", "(a) after linear autoencoding, k = 2")]:
            sub = df[df["space"] == space]
            for r in sub.to_dict("records"):
                ax.annotate("", xy=(r["xb"], r["yb"]), xytext=(r["xa"], r["ya"]),
                            arrowprops=dict(arrowstyle="->", color="tab:blue", lw=1.2))
                ax.plot([r["xa"], r["xb"]], [r["ya"], r["yb"]], "o", ms=3, color="tab:blue")
                ax.annotate(str(r["word_a"]), (r["xa"], r["ya"]), fontsize=7)
                ax.annotate(str(r["word_b"]), (r["xb"], r["yb"]), fontsize=7, color="tab:red")
            ax.set_title(title, fontsize=10)
            if sub.empty:
                ax.text(0.5, 0.5, f"no rows with space={space}", ha="center",
                        transform=ax.transAxes)
            ax.set_xticks([]), ax.set_yticks([])
    else:
        notes.append("/".join(FIGURE1_SOURCES["a"]))
        for ax in axes[:2]:
            ax.text(0.5, 0.5, "missing:\nresults/glove/figure3.csv", ha="center", va="center",
                    color="#b02a37", transform=ax.transAxes)
            ax.set_xticks([]), ax.set_yticks([])
        axes[0].set_title("(a) negation pairs (missing)", fontsize=10)
    ax = axes[2]
    path_b = root.joinpath(*FIGURE1_SOURCES["b"])
    if path_b.is_file():
        df = pd.read_csv(path_b)
        for model, sub in df.groupby("model", sort=False):
            ax.scatter(sub["cos_original"], sub["cos_latent"], s=18, label=str(model))
        lo = float(min(df["cos_original"].min(), df["cos_latent"].min(), 0))
        ax.plot([lo, 1], [lo, 1], "k--", lw=0.8, label="no change")
        ax.set_xlabel("cosine, original space")
        ax.set_ylabel("cosine, latent space")
        ax.legend(fontsize=7)
        ax.set_title(f"(b) drug signatures across cell types{_cmap_data_label(path_b)}",
                     fontsize=10)
    else:
        notes.append("/".join(FIGURE1_SOURCES["b"]))
        ax.text(0.5, 0.5, "missing:\nresults/cmap/figure4.csv", ha="center", va="center",
                color="#b02a37", transform=ax.transAxes)
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_title("(b) drug signatures (missing)", fontsize=10)
    fig.tight_layout()
    return fig, notes


# -- sweeps (aligned-latents rerun --sweep) -------------------------------------------------
def headline_frame(chapter: str, results: Path) -> pd.DataFrame:
    """A run's headline numbers: :data:`HEADLINES` rows, or the count of claims that hold.

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
            raise ValueError(f"{path} lacks headline columns {lacking}; has {list(df.columns)}")
        label = h.label or next((c for c in df.columns if c not in h.columns), None)
        rows = df[list(h.columns)].copy()
        rows.insert(0, "row", df[label].astype(str) if label else df.index.astype(str))
        return rows.reset_index(drop=True)
    path = results / "claims.csv"
    if not path.is_file():
        raise ValueError(f"{path} is missing: the run wrote no claims")
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    hold = sum(_holds(v) for v in df["holds"])
    return pd.DataFrame({"row": ["claims"], "claims_hold": [hold], "claims_total": [len(df)]})
