"""What the opening page (``book/intro.md``) and the errata page show.

Both pages are executed at every build, after every chapter (see
:mod:`aligned_latents.book.sphinx_ext`); they read the ledger
(:func:`aligned_latents.record.ledger.build`) and render it with the functions here as MyST
Markdown, displayed with ``display(Markdown(...))`` (myst-nb parses it with
``render_markdown_format: myst``, so the ``{ref}`` roles and ``{dropdown}`` directives
work):

* :func:`counts_markdown`: the verdict counts in plain words;
* :func:`scope_markdown`: what is and is not checked here;
* :func:`problems_markdown`: the statements that do not, or only partly, reproduce;
* :func:`evidence_markdown`: verdicts by kind of evidence;
* :func:`verdicts_markdown`: every statement with its verdict, one dropdown per chapter;
* :func:`ledger_markdown`: every check, one dropdown per chapter;
* :func:`errata_summary_markdown` and :func:`errata_markdown`: the errata, by kind;
* :func:`figure1_claims`: the opening page's own checks of the paper's Figure 1
  (``results/intro/``), which :func:`aligned_latents.book.figures.intro.figure1` redraws
  from the same inputs (:data:`FIGURE1_SOURCES`); panel (a) over every MDS seed:
  :func:`figure1a_seeds`, :func:`figure1a_spread`, :func:`figure1a_markdown`.

No number on these pages is typed: every one is computed from the ledger here.

Why one module of ~620 lines: it is one topic, the Markdown of the two ledger pages; its
builders share the quoting and escaping of the paper's words (:func:`md_quote`, with its
TeX handling) and the verdict wording, so that the opening page and the errata page
cannot drift apart.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from aligned_latents.record.claims import ERRATUM_KINDS, ERRATUM_MEANINGS, mean_sd
from aligned_latents.record.ledger import (
    CHAPTER_LABELS,
    DIGEST_PREFIX,
    Ledger,
    chapter_ref,
    md_escape,
    short_numbers,
)
from aligned_latents.record.verdicts import (
    EVIDENCE,
    FAILURES,
    GAPS,
    VERDICTS,
    strongest_evidence,
    verdict_counts,
)
from aligned_latents.util.chapters import CHAPTERS
from aligned_latents.util.model_names import model_label, model_slug, parse_model
from aligned_latents.util.paths import results_root

_FAIL = "color:#b02a37;font-weight:bold"

#: Verdicts shown in red (the statement does not, or only partly, reproduce; or a gap).
RED_VERDICTS = (*FAILURES, "did not converge", "setup, not used as stated", *GAPS)

#: How each verdict reads in a sentence ("3 are confirmed ..."): singular, plural.
_PHRASES = {
    "confirmed": ("is confirmed (exactly or on the paper's own simulations)",
                  "are confirmed (exactly or on the paper's own simulations)"),
    "confirmed on substitute data": (
        "is confirmed on substitute data (real data other than the paper's)",
        "are confirmed on substitute data (real data other than the paper's)"),
    "only illustrated on designed data": (
        ("is only illustrated on data this book designed (no evidence for the paper's "
         "empirical claim)"),
        ("are only illustrated on data this book designed (no evidence for the paper's "
         "empirical claim)")),
    "confirmed with a hypothesis added": (
        "is confirmed once a missing hypothesis is added (it fails only in a degenerate "
        "case)", "are confirmed once a missing hypothesis is added (they fail only in a "
        "degenerate case)"),
    "erratum": ("is an erratum whose corrected form holds",
                "are errata whose corrected form holds"),
    "setup, used as stated": ("is a setting of the paper, used as stated (no result)",
                              "are settings of the paper, used as stated (no result)"),
    "setup, not used as stated": ("is a setting of the paper that this book does not use",
                                  "are settings of the paper that this book does not "
                                  "use"),
    "within the seed spread": (
        "is undecided: the gap is within the spread over random seeds",
        "are undecided: the gap is within the spread over random seeds"),
    "no noise scale (too few seeds)": (
        "is undecided: its seed-dependent checks ran on too few seeds to have a noise "
        "scale", "are undecided: their seed-dependent checks ran on too few seeds to "
        "have a noise scale"),
    "partly": ("partly reproduces", "partly reproduce"),
    "partly, on substitute data": (
        "partly reproduces on substitute data (untested on the paper's data)",
        "partly reproduce on substitute data (untested on the paper's data)"),
    "did not converge": (
        "is undecided: the numerical check of an exact identity did not converge",
        "are undecided: the numerical checks of exact identities did not converge"),
    "not reproduced": ("does not reproduce", "do not reproduce"),
    "not reproduced on substitute data": (
        "does not reproduce on substitute data (untested on the paper's data)",
        "do not reproduce on substitute data (untested on the paper's data)"),
    "not checkable here": ("cannot be checked here", "cannot be checked here"),
    "missing": ("has no results in this build (its chapter did not run)",
                "have no results in this build (their chapter did not run)"),
    "not checked": ("has no check recorded", "have no check recorded"),
}


#: Kinds of statement in a sentence (singular, plural), in the order they are listed.
_KINDS = {"definition": ("definition", "definitions"), "lemma": ("lemma", "lemmas"),
          "theorem": ("theorem", "theorems"),
          "corollary": ("corollary", "corollaries"), "figure": ("figure", "figures"),
          "table": ("table", "tables"),
          "equation": ("displayed equation", "displayed equations"),
          "sentence": ("sentence of the text", "sentences of the text")}

#: Evidence kinds in table headers (short, so that tables stay narrow).
_EVIDENCE_HEAD = {"exact": "exact", "simulation": "simulation",
                  "substitute-data": "substitute data",
                  "designed-data": "designed data", "none": "no check"}


def red(text: str) -> str:
    """Text in the red of failing rows (class ``ledger-fail``)."""
    return f'<span class="ledger-fail" style="{_FAIL}">{text}</span>' if text else text


def _verdict_cell(verdict: str) -> str:
    text = md_escape(verdict)
    return red(text) if verdict in RED_VERDICTS else text


_TEX = re.compile(r"\\[A-Za-z]+|[\^_]\{|&=|\^T\b")


_ATOM = r"(?:\{(?:[^{}]|\{[^{}]*\})*\}|\\[A-Za-z]+|\w)"
#: a base with two subscripts or two superscripts (``\Sigma_A^{(0)}_{i,i}``): TeX and
#: MathJax refuse it
_DOUBLE = re.compile(rf"_{_ATOM}\^{_ATOM}_|\^{_ATOM}_{_ATOM}\^|_{_ATOM}_|\^{_ATOM}\^")


def _balanced(tex: str) -> bool:
    depth = 0
    for ch in tex:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _tex(segment: str, limit: int | None = None) -> str:
    """A piece of the paper's TeX: typeset inline (``$...$``) when it is a whole
    formula; shown as its source in a code span when the quote cut it (unbalanced
    braces, an ellipsis, an alignment fragment), so no raw TeX sits in prose."""
    cut = "..." in segment or "…" in segment
    seg = re.sub(r"\\(quad|qquad)\b", " ", segment.replace("&", " "))
    seg = " ".join(seg.replace("\\\\", " ").split()).strip(" ,.;")
    # in a table (a limit given) a long formula cannot wrap: shown as wrapping source
    whole = (not cut and _balanced(seg) and not _DOUBLE.search(seg)
             and (limit is None or len(seg) <= min(limit, 60)))
    if whole:
        return "$" + seg.replace("|", "\\|") + "$"
    src = " ".join(segment.replace("\\\\", " ").split())
    if limit is not None and len(src) > limit:
        src = src[:limit].rstrip() + " …"
    return "`" + src.replace("`", "'") + "`"


def md_quote(text, limit: int | None = None) -> str:
    """The paper's words for a MyST table cell or paragraph: its inline math typeset,
    a formula quoted without ``$`` (a displayed equation) typeset too, a formula that the
    quote cuts shown as TeX source in a code span (:func:`_tex`); everything else
    escaped (:func:`md_escape`) and cut at a word boundary outside math to about
    ``limit`` characters, with an ellipsis."""
    text = " ".join(str("" if text is None else text).split()).replace("$$", "$")
    if text.count("$") % 2:          # a fragment of a display: its $ are not pairs
        if not _TEX.search(text.replace("$", "")):
            return md_escape(text)
        text = text.replace("$", "")
    if "$" not in text and _TEX.search(text):
        return _tex(text, limit)
    if limit is not None and len(text) > limit:
        cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
        if cut.count("$") % 2:
            cut = cut[:cut.rindex("$")].rstrip()
        text = cut.rstrip(" ,;:") + " …"
    parts = text.split("$")
    return "".join(md_escape(p) if i % 2 == 0 else _tex(p, limit)
                   for i, p in enumerate(parts))


def _number(n: int, verdict: str) -> str:
    one, many = _PHRASES[verdict]
    return f"{n} {one if n == 1 else many}"


def _hold(ok: int, n: int) -> str:
    """'1 of 2 checks hold', '0 of 1 check holds'."""
    return f"{ok} of {n} check{'s' if n != 1 else ''} hold{'s' if n == 1 else ''}"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# -- the verdicts ---------------------------------------------------------------------
def counts_markdown(verdicts: pd.DataFrame) -> str:
    """The verdict counts in one sentence (the verdicts that occur; gaps in red).

    Designed-data verdicts are never added to a confirmed total.
    """
    counts = verdict_counts(verdicts)
    n = len(verdicts)
    items = [_number(counts[v], v) for v in VERDICTS if counts[v]]
    items += [red(_number(counts[g], g)) for g in GAPS if counts.get(g)]
    head = f"Of the paper's {n} statement{'s' if n != 1 else ''}, "
    return head + _join(items) + "."


#: The substitute data of each chapter of the default build, and the paper's data it
#: stands in for (the opening page names both in every sentence about such evidence).
SUBSTITUTE_DATA = {"glove": ("GloVe 6B 50d", "the paper's 840B data"),
                   "cmap": ("the fluVaccine data", "the paper's CMap data")}


def _where(rows: pd.DataFrame, limit: int = 8) -> str:
    items = list(dict.fromkeys(md_escape(x) for x in rows["location"]))
    more = len(items) - limit
    return "; ".join(items[:limit]) + (f"; and {more} more" if more > 0 else "")


def _sentence(n: int, what: str, rows: pd.DataFrame | None = None) -> str:
    """``**n statements** <what>`` with the verb of ``what`` (written for the plural:
    its first word ``do``, ``are``, ``reproduce``) in the singular when ``n`` is 1."""
    if n == 1:
        first, _, rest = what.partition(" ")
        first = {"do": "does", "are": "is", "reproduce": "reproduces"}.get(first, first)
        what = f"{first} {rest}".replace("are settings", "is a setting")
        what = what.replace("is settings of the paper", "is a setting of the paper")
    text = f"**{n} statement{'s' if n != 1 else ''}** {what}"
    return text + (f" ({_where(rows)})" if rows is not None and len(rows) else "") + "."


def findings_markdown(verdicts: pd.DataFrame) -> str:
    """The opening page's first screen: in words, what reproduces and what does not,
    each sentence naming its kind of evidence (and, for substitute data, the paper's
    data that stays untested)."""
    v = verdicts
    out = []
    exact = v[v["verdict"].isin(["confirmed", "confirmed with a hypothesis added",
                                 "erratum"])]
    if len(exact):
        fixed = int((exact["verdict"] != "confirmed").sum())
        out.append(_sentence(len(exact), "reproduce exactly or on the paper's own "
                             "simulations" + (f", {fixed} of them once the text is "
                                              "corrected (an erratum or a missing "
                                              "hypothesis)" if fixed else "")))
    failing = v[v["verdict"].isin(["not reproduced", "partly"])]
    if len(failing):
        out.append(_sentence(len(failing), "do not reproduce, or only partly, exactly "
                             "or in the paper's own simulations", failing))
    for ch, (data, untested) in SUBSTITUTE_DATA.items():
        sub = v[v["chapter"] == ch]
        ok = sub[sub["verdict"] == "confirmed on substitute data"]
        bad = sub[sub["verdict"].isin(["not reproduced on substitute data",
                                       "partly, on substitute data"])]
        if len(ok):
            out.append(_sentence(len(ok), f"reproduce on {data}; untested on {untested}"))
        if len(bad):
            out.append(_sentence(len(bad), f"do not reproduce, or only partly, on "
                                 f"{data}; untested on {untested}", bad))
    undecided = v[v["verdict"].isin(["within the seed spread", "did not converge",
                                     "no noise scale (too few seeds)"])]
    if len(undecided):
        out.append(_sentence(len(undecided), "are undecided (within the spread over "
                             "random seeds, too few seeds to have a noise scale, or a "
                             "numerical check that did not converge)", undecided))
    for verdict, what in (("only illustrated on designed data",
                           "are only illustrated on data this book designed, which "
                           "counts neither for nor against the paper's empirical "
                           "claims"),
                          ("setup, used as stated", "are settings of the paper, used as "
                           "stated (no result)"),
                          ("setup, not used as stated", "are settings of the paper that "
                           "this book does not use"),
                          ("not checkable here", "cannot be checked here (see below "
                           "why)")):
        n = int((v["verdict"] == verdict).sum())
        if n:
            out.append(_sentence(n, what))
    return "\n".join(f"- {x}" for x in out)


def scope_markdown(verdicts: pd.DataFrame) -> str:
    """What this edition checks and what it does not: the number of statements listed,
    checked, and those that cannot be checked here with the reason of each."""
    n = len(verdicts)
    nc = verdicts[verdicts["verdict"] == "not checkable here"]
    checked = int((verdicts["n_checks"].astype(int) > 0).sum())
    n_checks = int(verdicts["n_checks"].astype(int).sum())
    kinds = verdicts["kind"].value_counts()
    order = [k for k in _KINDS if k in kinds] + [k for k in kinds.index
                                                 if k not in _KINDS]
    parts = [f"{int(kinds[k])} {_KINDS.get(k, (k, k + 's'))[int(kinds[k]) != 1]}"
             for k in order]
    text = (f"Every statement of the paper ({n} in all: {_join(parts)}) is listed "
            f"below with a verdict. {checked} of them are checked by {n_checks} "
            "computations of the chapters")
    if nc.empty:
        return text + "; none is left unchecked for want of data or code."
    text += (f"; {len(nc)} could not be checked here, because no computation of this "
             "book can bear on them:\n\n")
    return text + "\n".join(f"- {md_escape(r['location'])}: {md_escape(r['note'])}"
                            for r in nc.to_dict("records"))


def _failing_lines(checks: pd.DataFrame, limit: int = 4) -> list[str]:
    lines = []
    for r in checks.head(limit).to_dict("records"):
        lines.append(f"{md_escape(r['quantity'])}: expected "
                     f"{md_escape(short_numbers(r['expected']))}, measured "
                     f"{md_escape(short_numbers(r['measured']))}")
    if len(checks) > limit:
        lines.append(f"and {len(checks) - limit} more (see the checks below)")
    return lines


def problems_markdown(ledger: Ledger) -> str:
    """The statements that do not reproduce, then those that partly do, in plain words:
    where, the paper's words, what was measured, and the likely reason (the checks'
    ``detail``)."""
    v = ledger.verdicts
    rows = pd.concat([v[v["verdict"] == x] for x in (
        "not reproduced", "not reproduced on substitute data", "partly",
        "partly, on substitute data", "did not converge", "within the seed spread")])
    if rows.empty:
        return "Every statement that could be checked reproduces, at least in part."
    table = ledger.table
    items = []
    for r in rows.to_dict("records"):
        failing = table[(table["statement"] == r["statement"]) & ~table["holds"]]
        said = (f"**{md_escape(r['location'])}** ({chapter_ref(r['chapter'])}; "
                f"{red(md_escape(r['verdict']))}): the paper says “"
                f"{md_quote(r['quote'])}”. ")
        said += (_hold(int(r["n_hold"]), int(r["n_checks"])) + "; not holding: "
                 + "; ".join(_failing_lines(failing)) + ".")
        if r["note"]:
            said += f" Likely reason: {md_escape(r['note'])}"
        items.append("- " + said)
    return "\n".join(items)


def evidence_markdown(verdicts: pd.DataFrame) -> str:
    """Statements by verdict (rows) and strongest kind of evidence (columns), with
    totals; kinds of evidence that no statement has are left out."""
    ev = strongest_evidence(verdicts)
    kinds = [e for e in (*EVIDENCE, "none") if (ev == e).any()]
    ct = pd.crosstab(verdicts["verdict"], ev)

    def whole(text) -> str:  # a heading or a count never breaks inside a word
        return f'<span class="al-nobreak">{text}</span>'

    lines = ["| verdict | " + " | ".join(whole(_EVIDENCE_HEAD[k]) for k in kinds)
             + f" | {whole('all')} |", "|---|" + "---:|" * (len(kinds) + 1)]
    for verdict in [x for x in VERDICTS + GAPS if x in ct.index]:
        cells = [int(ct.loc[verdict].get(k, 0)) for k in kinds]
        lines.append(f"| {_verdict_cell(verdict)} | " + " | ".join(map(whole, cells))
                     + f" | {whole(int(ct.loc[verdict].sum()))} |")
    lines.append("| all | " + " | ".join(whole(int((ev == k).sum())) for k in kinds)
                 + f" | {whole(len(verdicts))} |")
    return "\n".join(lines)


def _groups(frame: pd.DataFrame):
    """(chapter, rows) in reading order, then any other chapter names."""
    names = [c for c in CHAPTERS if (frame["chapter"] == c).any()]
    names += [c for c in dict.fromkeys(frame["chapter"]) if c not in CHAPTERS]
    for name in names:
        yield name, frame[frame["chapter"] == name]


def _title(chapter: str) -> str:
    if chapter in CHAPTERS:
        return md_escape(CHAPTERS[chapter].title)
    return "The opening page" if chapter == "intro" else md_escape(chapter)


def _dropdown(title: str, body: str) -> str:
    return f"```{{dropdown}} {title}\n{body}\n```"


def verdicts_markdown(verdicts: pd.DataFrame, quote_limit: int = 110) -> str:
    """Every statement with its verdict, one dropdown per chapter: where, the paper's
    words (shortened to ``quote_limit`` characters), evidence, verdict, chapter link."""
    blocks = []
    for ch, sub in _groups(verdicts):
        counts = sub["verdict"].value_counts()
        tally = ", ".join(f"{int(counts[v])} {v}" for v in VERDICTS + GAPS
                          if v in counts)
        lines = ["| where | the paper says | evidence | verdict | chapter |",
                 "|---|---|---|---|---|"]
        for r in sub.to_dict("records"):
            ev = md_escape(r["evidence"].replace("+", ", ")) or "none"
            link = chapter_ref(r["chapter"]) if r["chapter"] in CHAPTER_LABELS else ""
            lines.append(f"| {md_escape(r['location'])} | "
                         f"{md_quote(r['quote'], quote_limit)} | {ev} | "
                         f"{_verdict_cell(r['verdict'])} | {link} |")
        head = f"{_title(ch)}: {len(sub)} statement{'s' if len(sub) != 1 else ''}"
        blocks.append(_dropdown(f"{head} ({tally})", "\n".join(lines)))
    return "\n\n".join(blocks)


def ledger_markdown(ledger: Ledger) -> str:
    """Every check, one dropdown per chapter (failing and missing rows in red), and the
    ledger digest that :func:`aligned_latents.record.ledger.check` reads on the page."""
    blocks = []
    for ch, sub in _groups(ledger.table):
        if ch in ledger.missing:
            body = red(f"results missing: {md_escape(f'results/{ch}/claims.csv')} was "
                       "not written in this build")
            blocks.append(_dropdown(f"{_title(ch)}: results missing", body))
            continue
        n, ok = len(sub), int(sub["holds"].sum())
        lines = ["| holds | statement | quantity | expected | measured | evidence |",
                 "|---|---|---|---|---|---|"]
        for r in sub.to_dict("records"):
            cells = [md_escape(r["statement"]), md_escape(r["quantity"]),
                     md_escape(short_numbers(r["expected"])),
                     md_escape(short_numbers(r["measured"])), md_escape(r["evidence"])]
            verdict = "yes"
            if not r["holds"]:
                cells, verdict = [red(c) for c in cells], red("NO")
            lines.append("| " + " | ".join([verdict, *cells]) + " |")
        blocks.append(_dropdown(f"{_title(ch)}: {_hold(ok, n)}",
                                f"Chapter {chapter_ref(ch)}.\n\n" + "\n".join(lines)))
    return "\n\n".join(blocks) + "\n\n" + digest_markdown(ledger)


def digest_markdown(ledger: Ledger) -> str:
    """The small print naming the ledger files and the digest the tests compare."""
    return (f"<small>{DIGEST_PREFIX}{ledger.digest}; written to "
            f"{md_escape('results/ledger/ledger.csv')}, "
            f"{md_escape('verdicts.csv')} and {md_escape('ledger.json')}.</small>")


# -- the errata -----------------------------------------------------------------------
def errata_definitions_markdown() -> str:
    """The definition of each kind of erratum (the errata page leads with it)."""
    return "\n".join(f"- **{kind}**: {md_escape(ERRATUM_MEANINGS[kind])}."
                     for kind in ERRATUM_KINDS)


def errata_summary_markdown(errata: pd.DataFrame) -> str:
    """How many distinct errata of each kind (one slip met in several places is one
    erratum), in how many places, and how many the computation supports."""
    lines = ["| kind | distinct errata | places | supported |", "|---|---:|---:|---:|"]
    for kind in ERRATUM_KINDS:
        sub = errata[errata["kind"] == kind]
        ok = sub.groupby("erratum")["supports"].agg(
            lambda x: all(str(s).strip().lower() == "true" for s in x))
        places = sub.drop_duplicates(["erratum", "location"])
        n_ok = int(ok.astype(bool).sum())
        cell = str(n_ok) if n_ok == len(ok) else red(str(n_ok))
        lines.append(f"| {kind} | {len(ok)} | {len(places)} | {cell} |")
    return "\n".join(lines)


def errata_markdown(errata: pd.DataFrame, kind: str) -> str:
    """The errata of one kind: the paper's words, the computation's, and the numbers
    (the paper's value only where it states one); a correction the numbers stop
    supporting is red."""
    if kind not in ERRATUM_KINDS:
        raise ValueError(f"kind must be one of {ERRATUM_KINDS}, got {kind!r}")
    sub = errata[errata["kind"] == kind]
    if sub.empty:
        return f"No erratum of kind *{kind}* was recorded in this build."
    blocks = []
    for i, r in enumerate(sub.to_dict("records"), 1):
        ok = str(r["supports"]).strip().lower() == "true"
        verdict = ("supported by the computation" if ok
                   else red("NOT supported by the computation"))
        nums = []
        if str(r["paper_value"]).strip():
            nums.append(f"paper value {md_escape(short_numbers(r['paper_value']))}")
        nums.append(f"corrected value {md_escape(short_numbers(r['corrected_value']))}")
        nums.append(f"measured {md_escape(short_numbers(r['measured']))}")
        nums = ", ".join(nums)
        where = f"{chapter_ref(r['chapter'])}; {md_escape(r['location'])}"
        if str(r.get("statement", "")).strip():
            where += f"; statement {md_escape(r['statement'])}"
        blocks.append(
            f"**{i}. {md_escape(r['erratum'])}** ({where}): {verdict}\n\n"
            f"- the paper says: “{md_quote(r['paper_says'])}”\n"
            f"- the computation says: {md_quote(r['computation_says'])}\n"
            f"- checked on {md_escape(r['quantity'])}: " + (nums if ok else red(nums)))
    return "\n\n".join(blocks)


# -- Figure 1 of the paper, from this book's results ----------------------------------
#: The inputs of Figure 1: (a) the picture (``figure3.csv``, the GloVe chapter's first
#: MDS seed) and the arrows' alignment for every MDS seed (``mds_alignment_seeds.csv``);
#: (b) the drug signatures.
FIGURE1_SOURCES = {"a": ("glove", "figure3.csv"),
                   "a_seeds": ("glove", "mds_alignment_seeds.csv"),
                   "b": ("cmap", "figure4.csv")}
#: The rows of ``mds_alignment_seeds.csv`` that belong to Figure 1 (a): Figure 3's
#: subset of the negation pairs.
FIGURE1A_PICTURE = "figure3"


def cmap_data_label(figure4_path) -> str:
    """', SIMULATED data' unless the CMap chapter says it ran on real data
    (``data_source.json``)."""
    src = Path(figure4_path).parent / "data_source.json"
    try:
        simulated = json.loads(src.read_text())["simulated"]
    except (OSError, ValueError, KeyError):
        simulated = True  # unknown: say so rather than pass it off as real data
    return ",\nSIMULATED data" if simulated else ",\nreal L1000 data"


def highest_linear_degree(spaces) -> int | None:
    """The highest k among space names ``linear_k<k>`` (the chapter's highest degree,
    whatever ``degrees`` was), or None when there is none."""
    ks = [model.k for s in set(map(str, spaces))
          if (model := parse_model(s)) and model.kind == "linear"]
    return max(ks) if ks else None


def figure1a_seeds(root: Path | None = None) -> pd.DataFrame | None:
    """Figure 1 (a) over the MDS seeds: one row per seed of the GloVe chapter's
    ``mds_alignment_seeds.csv`` (Figure 3's negation pairs), columns ``seed``,
    ``original``, ``aligned`` (the highest-degree linear AE), ``gain``, ``picture``
    (True for the seed whose MDS coordinates ``figure3.csv`` holds, the one drawn), and
    ``space``, the name of the aligned space. None when either file is missing.

    ``ValueError`` when the seeds file has no rows for Figure 3 or no linear space, or
    when ``figure3.csv`` matches none of its seeds (the two files come from different
    runs)."""
    from aligned_latents.applications.glove import arrow_alignment

    root = Path(root) if root is not None else results_root()
    pic, seeds = (root.joinpath(*FIGURE1_SOURCES[k]) for k in ("a", "a_seeds"))
    if not (pic.is_file() and seeds.is_file()):
        return None
    df = pd.read_csv(seeds)
    df = df[df["figure"] == FIGURE1A_PICTURE]
    k_hi = highest_linear_degree(df.columns)
    if df.empty or k_hi is None:
        raise ValueError(f"{seeds}: no rows for {FIGURE1A_PICTURE} with a linear space")
    space = model_slug("linear", k_hi)
    drawn = arrow_alignment(pd.read_csv(pic))
    out = pd.DataFrame({"seed": df["seed"].astype(int), "original": df["original"],
                        "aligned": df[space], "gain": df[space] - df["original"],
                        "space": space}).reset_index(drop=True)
    out["picture"] = ((out["original"] - drawn.get("original", float("nan"))).abs()
                      <= 1e-9) & ((out["aligned"] - drawn.get(space, float("nan")))
                                  .abs() <= 1e-9)
    if not out["picture"].any():
        raise ValueError(f"{pic} matches none of the MDS seeds of {seeds}: the two "
                         "files come from different runs of the GloVe chapter")
    return out


def figure1a_spread(seeds: pd.DataFrame, column: str) -> str:
    """``mean ± sd over n seeds`` of a column of :func:`figure1a_seeds`
    (:func:`~aligned_latents.record.claims.mean_sd`; one seed: no spread)."""
    v = seeds[column].astype(float).tolist()
    if len(v) == 1:
        return f"{v[0]:.2f}, 1 seed: no spread"
    mean, sd = mean_sd(v)
    return f"{mean:.2f} ± {sd:.2f} over {len(v)} seeds"


def figure1a_markdown(root: Path | None = None) -> str:
    """Figure 1 (a)'s numbers over the MDS seeds as a MyST table (the seed drawn in
    bold), or a sentence saying which results are missing."""
    seeds = figure1a_seeds(root)
    if seeds is None:
        return "(Figure 1 (a)'s MDS seeds are not in this build's results.)"
    lines = ["| MDS seed | arrows' alignment, original | after the linear AE | gain |",
             "|---:|---:|---:|---:|"]
    for r in seeds.to_dict("records"):
        cells = [str(r["seed"]), f"{r['original']:.3f}", f"{r['aligned']:.3f}",
                 f"{r['gain']:+.3f}"]
        if r["picture"]:
            cells = [f"**{c}**" for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figure1_claims(root: Path | None = None):
    """The opening page's checks of Figure 1 (statement ``fig1``), from the chapters'
    results; the caller writes them (``.write()`` -> ``results/intro/claims.csv``).

    (a) the mean pairwise cosine between the negation arrows of Figure 3's MDS picture
    is larger after linear autoencoding than before, for every MDS seed of the GloVe
    chapter (:func:`figure1a_seeds`; a seed check, the same numbers as Figure 3's check;
    GloVe 6B 50d: substitute data); (b) for each model of ``results/cmap/figure4.csv``,
    the median cosine of a drug's signatures across the two cell types is larger in the
    latent space than in the original space (designed data unless ``data_source.json``
    says the CMap chapter ran on real L1000 data). A missing file gives no check, so
    ``fig1`` is then reported as a gap.
    """
    from aligned_latents.record.claims import Claims

    root = Path(root) if root is not None else results_root()
    claims = Claims("intro")
    seeds = figure1a_seeds(root)
    if seeds is not None:
        k_hi = parse_model(seeds["space"].iloc[0]).k
        claims.seeds(
            "Figure 1 (a)", "mean cosine between negation arrows (Figure 3 MDS): "
            f"{model_label('linear', k_hi, 'short')} minus original, every MDS seed",
            seeds["gain"], "at_least", 0.0, statement="fig1", evidence="substitute-data",
            detail="GloVe 6B 50d, two-dimensional MDS of the negation pairs, one "
                   "picture per MDS seed (results/glove/mds_alignment_seeds.csv, the "
                   "numbers of Figure 3's check)")
    path_b = root.joinpath(*FIGURE1_SOURCES["b"])
    if path_b.is_file():
        df = pd.read_csv(path_b)
        real = "real" in cmap_data_label(path_b)
        for model, sub in df.groupby("model", sort=False):
            diff = float((sub["cos_latent"] - sub["cos_original"]).median())
            claims.at_least(
                "Figure 1 (b)", f"median over drugs of cos latent minus cos original "
                f"({model})", diff, 0.0, statement="fig1.b",
                evidence="substitute-data" if real else "designed-data",
                detail=("real L1000 data" if real else
                        "simulated L1000-like data designed by this book"))
    return claims
