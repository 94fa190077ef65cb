"""The ledger (:mod:`aligned_latents.record.ledger`), the pages built from it
(:mod:`aligned_latents.record.frontpage`: book/intro.md, book/errata.md) and the button logic
of sphinx_ext.

Unit tests build ledgers from claims files that they write into a temporary results
root, with a small statements table; the pages' code cells are executed on such a root;
the last tests check the book's own ledger (written by ``make book``) against the
current claims files and against the rendered opening page, so a stale, missing or
tampered ledger fails the suite.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from aligned_latents.book.sphinx_ext import DEFAULT_BINDERHUB, repository_buttons
from aligned_latents.record import frontpage as F
from aligned_latents.record import ledger as L
from aligned_latents.record import verdicts as V
from aligned_latents.record.claims import Claims
from aligned_latents.util.chapters import RESULT_PAGES
from aligned_latents.util.files import sha256_file
from aligned_latents.util.paths import REPO_ROOT, RESULTS_ENV

STATEMENTS = pd.DataFrame(
    [
        ("lemma1", "Section 3, Lemma 1", "lemma", "stretching",
         ("$\\cos(Bq_1, Bq_2) = \\frac{\\sum_i \\sigma_i^2 ...}{...}$ for unit "
          "vectors $q_1, q_2$ and any $B$ whose singular values are $\\sigma_i$"), ""),
        ("lemma2", "Section 4.1, Lemma 2", "lemma", "gaussians",
         "the top eigenvector of $XX^T$ is ...", ""),
        ("thm1", "Section 5.2, Theorem 1", "theorem", "autoencoders",
         "the singular values of B evolve as ...", ""),
        ("thm1.display", "Section 5.2, Theorem 1", "equation", "autoencoders",
         "$\\Sigma_A(\\infty) = ...$", ""),
        ("thm2", "Section 5.4, Theorem 2", "theorem", "autoencoders",
         "SGD with learning rate 0.1 converges", ""),
        ("table1", "Section 6.1.2, Table 1", "table", "glove",
         "Table 1: analogy scores improve after autoencoding", ""),
        ("fig10", "Appendix I.4, Figure 10", "figure", "glove",
         "Figure 10: A schematic depicting reference point correction.",
         "a schematic, not a result"),
        ("fig4", "Section 6.3, Figure 4", "figure", "cmap",
         "Figure 4: Alignment of drug signatures across 2 cell types", ""),
        ("fig1", "Section 1, Figure 1", "figure", "intro",
         "Figure 1: Examples of aligned latent spaces.", ""),
    ],
    columns=V.STATEMENT_COLUMNS[:6])  # the quantifier column may be left out


def write_claims(root: Path, claims: Claims) -> Path:
    """Write a chapter's checks as Claims.write would, without the statements file."""
    out = root / claims.chapter
    out.mkdir(parents=True, exist_ok=True)
    claims.frame().to_csv(out / "claims.csv", index=False)
    if claims.errata:
        claims.errata_frame().to_csv(out / "errata.csv", index=False)
    return out / "claims.csv"


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A results root with genuine claims files for every chapter and the intro."""
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path))
    st = Claims("stretching", evidence="exact")
    st.close("Lemma 1", "cos(Bq1, Bq2): formula - direct", expected=0.0,
             measured=1e-14, tolerance=1e-12, statement="lemma1")
    ga = Claims("gaussians", evidence="simulation")
    ga.close("Lemma 2", "top eigenvalue", expected=3.0, measured=3.0001, tolerance=1e-3,
             statement="lemma2")
    ae = Claims("autoencoders", evidence="simulation")
    ae.close("Theorem 1", "sigma_B[0]: ODE - prediction", expected=2.0, measured=2.0,
             tolerance=1e-9, statement="thm1")
    ae.erratum("Sigma_A(inf) garbled", "Theorem 1 (Section 5.2)", "Sigma_A = 3",
               "Sigma_A = 2", "Sigma_A(inf)", paper_value=3.0, corrected_value=2.0,
               measured=2.0000001, tolerance=1e-4, kind="error",
               statement="thm1.display")
    ae.erratum("factor 2 omitted", "Appendix E", "the update is -eta grad",
               "the update is -2 eta grad", "step ratio", paper_value=None,
               corrected_value=2.0, measured=2.0, tolerance=1e-9, kind="typo",
               statement="thm1")
    ae.true("Theorem 2", "SGD lr 0.1 converges", False, "diverged after 12 steps",
            statement="thm2")
    gl = Claims("glove", evidence="substitute-data")
    gl.at_least("Table 1", "analogy gain (k=2)", measured=0.02, bound=0.0,
                statement="table1")
    gl.close("Table 1", "analogy (k=2)", expected=0.55, measured=0.40, tolerance=0.01,
             statement="table1", detail="GloVe 6B 50d, not the paper's 840B 300d")
    cm = Claims("cmap", evidence="designed-data")
    cm.at_least("Figure 4", "median cosine gain", measured=0.3, bound=0.0,
                statement="fig4")
    intro = Claims("intro", evidence="substitute-data")
    intro.at_least("Figure 1 (a)", "arrow cosine gain", measured=0.2, bound=0.0,
                   statement="fig1")
    for c in (st, ga, ae, gl, cm, intro):
        write_claims(tmp_path, c)
    return tmp_path


def build(root, **kw):
    return L.build(root, statements=STATEMENTS, **kw)


def test_every_check_with_its_statement_location(root):
    led = build(root)
    assert led.n_checks == 10 and led.n_hold == 8 and not led.missing
    assert list(led.table["chapter"].unique()) == list(RESULT_PAGES)
    assert list(led.table.columns) == L.LEDGER_COLUMNS
    row = led.table[led.table["quantity"] == "analogy (k=2)"].iloc[0]
    assert row["location"] == "Section 6.1.2, Table 1" and row["status"] == "fails"
    assert row["detail"] == "GloVe 6B 50d, not the paper's 840B 300d"
    verdicts = dict(zip(led.verdicts["statement"], led.verdicts["verdict"]))
    assert verdicts == {"lemma1": "confirmed", "lemma2": "confirmed",
                        "thm1": "confirmed", "thm1.display": "erratum",
                        "thm2": "not reproduced",
                        "table1": "partly, on substitute data", "fig10": "not checkable here",
                        "fig4": "only illustrated on designed data",
                        "fig1": "confirmed on substitute data"}
    assert led.complete
    assert led.summary().startswith("8 of 10 checks hold; 9 statements: 3 confirmed, ")


def test_missing_chapter_is_listed_not_skipped(root):
    (root / "gaussians" / "claims.csv").unlink()
    led = build(root)
    assert led.missing == ["gaussians"] and not led.complete
    row = led.table[led.table["chapter"] == "gaussians"]
    assert len(row) == 1 and row.iloc[0]["status"] == "missing"
    assert not row.iloc[0]["holds"] and led.n_checks == 9
    assert list(led.gaps["statement"]) == ["lemma2"]
    assert "results missing for 1 chapter(s): gaussians" in led.summary()


def test_written_ledger_detects_stale_and_missing(root):
    json_path = root / "ledger" / "ledger.json"
    assert L.check(root, statements=STATEMENTS) == [
        f"{json_path} is missing: build the book (make book)"]
    led = build(root)
    L.write(led)
    meta = json.loads(json_path.read_text())
    assert meta["sources"]["glove"]["sha256"] == sha256_file(root / "glove" / "claims.csv")
    assert meta["checks"] == led.n_checks and meta["hold"] == led.n_hold
    assert meta["verdicts"]["partly, on substitute data"] == 1
    assert pd.read_csv(root / "ledger" / "ledger.csv").shape[0] == len(led.table)
    verdicts = pd.read_csv(root / "ledger" / "verdicts.csv")
    assert list(verdicts.columns[:4]) == ["statement", "location", "evidence",
                                          "verdict"]
    assert L.check(root, statements=STATEMENTS) == []
    # a chapter re-run after the ledger was built: the ledger is stale
    gl = Claims("glove", evidence="substitute-data")
    gl.close("Table 1", "analogy", expected=0.5, measured=0.5, tolerance=0.0,
             statement="table1")
    write_claims(root, gl)
    assert L.check(root, statements=STATEMENTS) == [
        "results/glove/claims.csv changed since the ledger was built"]
    L.write(build(root))
    (root / "gaussians" / "claims.csv").unlink()
    assert L.check(root, statements=STATEMENTS) == [
        "results/gaussians/claims.csv disappeared since the ledger was built"]


def test_changed_statements_or_verdicts_file_make_the_ledger_stale(root):
    L.write(build(root))
    st = STATEMENTS.copy()
    st.loc[0, "quote"] = "another quote"
    assert L.check(root, statements=st) == [
        "the statements file changed since the ledger was built"]
    path = root / "ledger" / "verdicts.csv"
    path.write_text(path.read_text().replace("not reproduced", "confirmed"))
    assert L.check(root, statements=STATEMENTS) == [
        f"{path} is missing or does not match ledger.json"]


def test_tampered_claims_file_is_an_error_and_never_up_to_date(root):
    L.write(build(root))
    path = root / "glove" / "claims.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[1, "holds"] = "True"  # measured 0.40, expected 0.55 +- 0.01
    df.to_csv(path, index=False)
    where = f"{path}, row 2 (line 3: claim 'Table 1', quantity 'analogy (k=2)')"
    with pytest.raises(ValueError, match=re.escape(where)):
        build(root)
    problems = L.check(root, statements=STATEMENTS)
    assert len(problems) == 1 and "do not pass their own checks" in problems[0]
    assert str(path) in problems[0] and "row 2" in problems[0]


def test_non_numeric_measured_is_an_error(root):
    path = root / "stretching" / "claims.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[0, "measured"] = "about 0"
    df.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"stretching/claims\.csv, row 1 .*measured: "
                                         r"not a finite number: 'about 0'"):
        build(root)


def test_rendered_page_digest_compared(root, tmp_path_factory):
    led = build(root)
    L.write(led)
    html = tmp_path_factory.mktemp("html") / "intro.html"
    html.write_text(f"<p>{F.digest_markdown(led)}</p>")
    assert L.check(root, html, statements=STATEMENTS) == []
    st = Claims("stretching", evidence="exact")
    st.true("Lemma 1", "changed", True, "changed", statement="lemma1")
    write_claims(root, st)
    L.write(build(root))  # ledger files rebuilt, but the page was not
    problems = L.check(root, html, statements=STATEMENTS)
    assert len(problems) == 1 and "the rendered page is stale" in problems[0]
    html.write_text("<p>no digest here</p>")
    assert "shows no ledger digest" in L.check(root, html, statements=STATEMENTS)[0]


def test_errata_collected_with_kind(root):
    led = build(root)
    assert list(led.errata["kind"]) == ["error", "typo"]
    assert list(led.errata["statement"]) == ["thm1.display", "thm1"]
    assert list(led.errata["paper_value"]) == ["3.0", ""]
    rows = led.table[led.table["claim"].str.startswith("Erratum")]
    assert list(rows["location"]) == ["Section 5.2, Theorem 1"] * 2


def test_errata_supports_must_agree_with_its_check(root):
    path = root / "autoencoders" / "errata.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[0, "supports"] = "False"
    df.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"errata\.csv, row 1 .*supports says False"):
        build(root)
    df.loc[0, "kind"] = "mistake"
    df.to_csv(path, index=False)
    with pytest.raises(ValueError, match="kind must be one of"):
        build(root)


def test_markdown_escaping():
    assert L.md_escape("a|b") == "a\\|b"
    assert L.md_escape("<= 1") == "\\<= 1"
    assert L.md_escape("max_i |x|") == "max\\_i \\|x\\|"


def test_headline_frame_counts_rechecked_claims(root):
    df = L.headline_frame("autoencoders", root / "autoencoders")
    assert df.to_dict("records") == [{"row": "claims", "claims_hold": 3,
                                      "claims_total": 4}]
    path = root / "autoencoders" / "claims.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[0, "holds"] = "False"  # the numbers say True
    df.to_csv(path, index=False)
    with pytest.raises(ValueError, match="holds says False"):
        L.headline_frame("autoencoders", root / "autoencoders")


# -- what the pages show ---------------------------------------------------------------
def test_counts_in_plain_words(root):
    led = build(root)
    text = F.counts_markdown(led.verdicts)
    assert text == (
        "Of the paper's 9 statements, 3 are confirmed (exactly or on the paper's own "
        "simulations), 1 is confirmed on substitute data (real data other than the "
        "paper's), 1 is an erratum whose corrected form holds, 1 is only illustrated on "
        "data this book designed (no evidence for the paper's empirical claim), 1 "
        "partly reproduces on substitute data (untested on the paper's data), 1 does "
        "not reproduce and 1 cannot be checked here.")
    (root / "gaussians" / "claims.csv").unlink()
    text = F.counts_markdown(build(root).verdicts)
    assert "2 are confirmed" in text and "ledger-fail" in text
    assert "1 has no results in this build" in text


def test_scope_names_what_cannot_be_checked(root):
    text = F.scope_markdown(build(root).verdicts)
    assert text.startswith("Every statement of the paper (9 in all: 2 lemmas, 2 "
                           "theorems, 3 figures, 1 table and 1 displayed equation) is "
                           "listed below with a verdict. 8 of them are checked by 10 "
                           "computations of the chapters; 1 could not be checked here")
    assert "1 could not be checked here" in text
    assert "- Appendix I.4, Figure 10: a schematic, not a result" in text


def test_problems_in_plain_words(root):
    text = F.problems_markdown(build(root))
    lines = text.splitlines()
    assert len(lines) == 2  # thm2 (not reproduced) first, then table1 (partly)
    assert lines[0].startswith("- **Section 5.4, Theorem 2** ({ref}`autoencoders "
                               "<ch-autoencoders>`; ")
    assert "the paper says “SGD with learning rate 0.1 converges”" in lines[0]
    assert "0 of 1 check holds" in lines[0]
    assert "Likely reason: diverged after 12" in lines[0]
    assert "partly" in lines[1] and "1 of 2 checks hold" in lines[1]
    assert "analogy \\(k=2\\): expected 0.55, measured 0.4" in lines[1]
    assert "Likely reason: GloVe 6B 50d, not the paper's 840B 300d" in lines[1]


def test_verdict_table_per_chapter_narrow_and_linked(root):
    text = F.verdicts_markdown(build(root).verdicts)
    assert text.count("```{dropdown}") == 6  # five chapters and the opening page
    assert "```{dropdown} Aligning GloVe word embeddings: 2 statements (1 partly, on " \
           "substitute data, 1 not checkable here)" in text
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert all(line.count(" | ") == 4 for line in rows if "\\|" not in line)
    assert "{ref}`glove <ch-glove>`" in text and "{ref}`intro <intro>`" in text
    lemma1 = next(line for line in rows if line.startswith("| Section 3, Lemma 1"))
    assert "`\\cos(Bq_1, Bq_2) = " in lemma1 and lemma1.count("$") % 2 == 0  # cut: source
    assert "…" in lemma1  # the long quote is shortened
    partly = next(line for line in rows if "partly" in line)
    assert "ledger-fail" in partly


def test_md_quote_keeps_math_and_shortens():
    assert F.md_quote("if $|x| < 1$ then *a*") == "if $\\|x\\| < 1$ then \\*a\\*"
    assert F.md_quote("a $b$ c $d") == "a \\$b\\$ c \\$d"  # unbalanced: no math
    short = F.md_quote("word " * 10 + "$x^2 + y^2 = z^2$ and more", limit=60)
    assert short.endswith("…") and short.count("$") % 2 == 0
    assert len(F.md_quote("x " * 200, limit=110)) <= 112
    # a displayed formula quoted without $: typeset whole; cut by the quote: its source
    # in a code span (never raw TeX in prose, never a broken formula for MathJax)
    assert F.md_quote(r"&= q_1^T V \Sigma B^2 V^T q_2 \\") == r"$= q_1^T V \Sigma B^2 V^T q_2$"
    assert F.md_quote(r"\quad \alpha\beta = \frac{1}{\eta}.$") == r"$\alpha\beta = \frac{1}{\eta}$"
    double = F.md_quote(r"\Sigma_A^{(0)}_{i,i} = 1")    # MathJax refuses it: source
    assert double.startswith("`") and double.endswith("`")
    cut = F.md_quote(r"$$\cos(x) = \frac{\sum_i a_i}...")
    assert cut.startswith("`") and cut.endswith("`") and "..." in cut


def test_evidence_table(root):
    text = F.evidence_markdown(build(root).verdicts)
    lines = text.splitlines()
    def row(*cells):  # headings and counts never break inside a word
        return "| " + " | ".join([cells[0]] + [f'<span class="al-nobreak">{c}</span>'
                                               for c in cells[1:]]) + " |"

    assert lines[0] == row("verdict", "exact", "simulation", "substitute data",
                           "designed data", "no check", "all")
    assert row("confirmed", 1, 2, 0, 0, 0, 3) in lines
    assert lines[-1] == row("all", 1, 4, 2, 1, 1, 9)


def test_ledger_collapsed_per_chapter_failing_in_red(root):
    led = build(root)
    text = F.ledger_markdown(led)
    assert text.count("```{dropdown}") == 6
    assert "```{dropdown} Aligning GloVe word embeddings: 1 of 2 checks hold" in text
    failing = [line for line in text.splitlines() if "analogy \\(k=2\\)" in line]
    assert len(failing) == 1 and failing[0].startswith(
        '| <span class="ledger-fail" style="color:#b02a37;font-weight:bold">NO</span>')
    assert f"{L.DIGEST_PREFIX}{led.digest}" in text
    (root / "cmap" / "claims.csv").unlink()
    assert "Aligning drug signatures across cell types: results missing" in \
        F.ledger_markdown(build(root))


def test_errata_by_kind(root):
    errata = build(root).errata
    summary = F.errata_summary_markdown(errata)
    assert "| error | 1 | 1 | 1 |" in summary  # distinct errata, places, supported
    assert "| ambiguity | 0 | 0 | 0 |" in summary
    assert "**missing hypothesis**: the result holds except in a degenerate case" in (
        F.errata_definitions_markdown())
    error = F.errata_markdown(errata, "error")
    assert "**1. Sigma\\_A\\(inf\\) garbled**" in error
    assert "the paper says: “Sigma\\_A = 3”" in error
    assert "paper value 3, corrected value 2, measured 2" in error
    typo = F.errata_markdown(errata, "typo")
    assert "paper value" not in typo and "corrected value 2, measured 2" in typo
    assert F.errata_markdown(errata, "convention") == (
        "No erratum of kind *convention* was recorded in this build.")
    with pytest.raises(ValueError, match="kind must be one of"):
        F.errata_markdown(errata, "slip")


def test_pages_execute_on_a_results_root(root, monkeypatch):
    """The code cells of intro.md and errata.md run (on the package's statements file,
    with every chapter missing) and write results/ledger/ and results/intro/."""
    import jupytext
    import matplotlib
    import myst_nb

    matplotlib.use("Agg")
    monkeypatch.setattr(myst_nb, "glue", lambda *a, **k: None)
    for ch in RESULT_PAGES:
        (root / ch / "claims.csv").unlink()
    for page in ("intro", "errata"):
        nb = jupytext.read(REPO_ROOT / "book" / f"{page}.md")
        namespace = {}
        for cell in nb.cells:
            if cell.cell_type == "code":
                code = compile(cell.source, f"{page}.md", "exec")
                exec(code, namespace)  # noqa: S102 (the page's own code, as the build)
    verdicts = pd.read_csv(root / "ledger" / "verdicts.csv", dtype=str,
                           keep_default_na=False)
    got = dict(zip(verdicts["statement"], verdicts["verdict"]))
    assert got.pop("fig1") == "not checked"  # this page ran, without Figure 1's inputs
    assert got.pop("fig1.b") == "not checked"
    assert set(got.values()) <= {"missing", "not checkable here"}
    assert (root / "intro" / "claims.csv").is_file()


# -- Figure 1 (its drawing and checks: tests/test_frontpage_figure1.py) ----------------
def test_figure1_cmap_panel_says_when_data_are_simulated(tmp_path):
    fig4 = tmp_path / "figure4.csv"
    assert "SIMULATED" in F.cmap_data_label(fig4)  # no data_source.json: never real
    (tmp_path / "data_source.json").write_text('{"simulated": true}')
    assert "SIMULATED" in F.cmap_data_label(fig4)
    (tmp_path / "data_source.json").write_text('{"simulated": false}')
    assert "real L1000" in F.cmap_data_label(fig4)


# -- repository.url drives the repository/issues/launch buttons ------------------------
def test_buttons_off_without_repository_url():
    opts = repository_buttons({"repository_url": "", "use_repository_button": True,
                               "launch_buttons": {
                                   "binderhub_url": "https://mybinder.org"}})
    assert opts["use_repository_button"] is False and opts["use_issues_button"] is False
    assert opts["launch_buttons"]["binderhub_url"] == ""
    assert repository_buttons({})["use_issues_button"] is False


def test_buttons_on_with_repository_url():
    opts = repository_buttons({"repository_url": "https://github.com/o/r/",
                               "launch_buttons": {"binderhub_url": "", "thebe": False}})
    assert opts["repository_url"] == "https://github.com/o/r"
    assert opts["use_repository_button"] and opts["use_issues_button"]
    assert opts["launch_buttons"] == {"binderhub_url": DEFAULT_BINDERHUB,
                                      "thebe": False}
    own = repository_buttons(
        {"launch_buttons": {"binderhub_url": "https://hub.example"}},
        repository_url="https://gitlab.com/o/r")
    assert own["launch_buttons"]["binderhub_url"] == "https://hub.example"
    with pytest.raises(ValueError, match="http"):
        repository_buttons({"repository_url": "github.com/o/r"})


def test_config_leaves_repository_url_empty():
    import yaml

    cfg = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())
    assert cfg["repository"]["url"] == "", (
        "no invented repository address in _config.yml")


# -- the book's own ledger -------------------------------------------------------------
def test_book_ledger_is_current():
    """The ledger written by the last `make book` matches the chapters' claims files now
    (each row re-checked) and the rendered opening page (catches a cached, stale or
    tampered ledger page)."""
    root = Path(os.environ.get("BOOK_RESULTS", REPO_ROOT / "results"))
    html_dir = Path(os.environ.get("BOOK_HTML", REPO_ROOT / "_build" / "html"))
    html = html_dir / "intro.html"
    if not (root / "ledger" / "ledger.json").is_file():
        pytest.fail(f"{root}/ledger/ledger.json is missing: build the book first "
                    "(make book)")
    problems = L.check(root, html)
    assert not problems, "; ".join(problems)


def test_findings_name_the_evidence_in_each_sentence(root):
    text = F.findings_markdown(build(root).verdicts)
    # a failure on substitute data says so, and that the paper's data stay untested
    assert ("**1 statement** does not reproduce, or only partly, on GloVe 6B 50d; "
            "untested on the paper's 840B data (Section 6.1.2, Table 1)." in text)
    assert "**1 statement** is only illustrated on data this book designed" in text
