"""The claims ledger (book/intro.md, book/errata.md) and the button logic of sphinx_ext.

Unit tests build ledgers from fake claims files in a temporary results root; the last tests
check the book's own ledger (written by ``make book``) against the current claims files and
against the rendered opening page, so a stale or missing ledger fails the suite.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from aligned_latents import ledger as L
from aligned_latents.chapters import CHAPTERS
from aligned_latents.claims import Claims
from aligned_latents.paths import REPO_ROOT, RESULTS_ENV
from aligned_latents.sphinx_ext import DEFAULT_BINDERHUB, repository_buttons


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A results root with genuine claims files (written by Claims) for every chapter."""
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path))
    for ch in CHAPTERS:
        c = Claims(ch)
        c.close("Theorem 1", "sigma", expected=2.0, measured=2.0 + 1e-12, tolerance=1e-9)
        c.at_least("Figure 7", "mean cosine gain", measured=0.2, bound=0.0)
        c.write()
    return tmp_path


def test_all_holding(root):
    led = L.build(root)
    assert led.n_checks == 2 * len(CHAPTERS)
    assert led.n_hold == led.n_checks and not led.missing
    assert list(led.table["chapter"].unique()) == list(CHAPTERS)  # reading order
    assert set(led.table["where"]) == {"Section 5.2, Appendix E", "Appendix I.2"}


def test_failing_claim_is_shown_failing_in_red(root, monkeypatch):
    c = Claims("glove")
    c.close("Table 1", "analogy (k=2)", expected=0.55, measured=0.40, tolerance=0.01)
    c.write()
    led = L.build(root)
    row = led.table[led.table["chapter"] == "glove"].iloc[0]
    assert not row["holds"] and row["status"] == "fails"
    assert row["where"] == "Sections 6.1.2-6.2"
    assert led.n_hold == led.n_checks - 1
    md = L.ledger_markdown(led)
    failing = [line for line in md.splitlines() if "analogy" in line]
    assert len(failing) == 1 and "ledger-fail" in failing[0] and failing[0].startswith(
        '| <span class="ledger-fail" style="color:#b02a37;font-weight:bold">NO</span>')
    assert "{ref}`glove <ch-glove>`** (Aligning GloVe word embeddings): <span" in md
    holding = [line for line in md.splitlines() if "sigma" in line]
    assert holding and all("ledger-fail" not in line for line in holding)
    summary = L.summary_markdown(led)
    assert f"{led.n_hold} of {led.n_checks} checks hold" in summary
    assert "1 do not" in summary and "{ref}`glove <ch-glove>`" in summary


def test_missing_chapter_is_listed_not_skipped(root):
    (root / "cmap" / "claims.csv").unlink()
    led = L.build(root)
    assert led.missing == ["cmap"]
    row = led.table[led.table["chapter"] == "cmap"]
    assert len(row) == 1 and row.iloc[0]["status"] == "missing" and not row.iloc[0]["holds"]
    assert "MISSING" in L.ledger_markdown(led)
    assert "results missing" in L.summary_markdown(led)


def test_written_ledger_detects_stale_and_missing(root):
    assert L.check(root) == [f"{root / 'ledger' / 'ledger.json'} is missing: build the book "
                             "(make book)"]
    led = L.build(root)
    L.write(led)
    meta = json.loads((root / "ledger" / "ledger.json").read_text())
    assert meta["sources"]["glove"]["sha256"] == L.sha256(root / "glove" / "claims.csv")
    assert meta["checks"] == led.n_checks and meta["hold"] == led.n_hold
    assert pd.read_csv(root / "ledger" / "ledger.csv").shape[0] == led.n_checks
    assert L.check(root) == []
    # a chapter re-run after the ledger was built: the ledger is stale
    c = Claims("glove")
    c.close("Table 1", "analogy", expected=0.5, measured=0.5, tolerance=0.0)
    c.write()
    problems = L.check(root)
    assert problems == ["results/glove/claims.csv changed since the ledger was built"]
    L.write(L.build(root))
    (root / "gaussians" / "claims.csv").unlink()
    assert L.check(root) == ["results/gaussians/claims.csv disappeared since the ledger was built"]


def test_rendered_page_digest_compared(root, tmp_path_factory):
    led = L.build(root)
    L.write(led)
    html = tmp_path_factory.mktemp("html") / "intro.html"
    html.write_text(f"<p><small>{L.DIGEST_PREFIX}{led.digest}; ...</small></p>")
    assert L.check(root, html) == []
    c = Claims("stretching")
    c.true("Lemma 1", "changed", True, "changed")
    c.write()
    L.write(L.build(root))  # ledger files rebuilt, but the page was not
    problems = L.check(root, html)
    assert len(problems) == 1 and "the rendered page is stale" in problems[0]
    html.write_text("<p>no digest here</p>")
    assert "shows no ledger digest" in L.check(root, html)[0]


def test_errata_collected_with_locations(root):
    c = Claims("autoencoders")
    c.erratum("Eq. 7 exponent", "Appendix E, eq. (7)", "k+1", "k", "sigma ratio",
              paper_value=3.0, corrected_value=2.0, measured=2.0000001, tolerance=1e-4)
    c.erratum("bad correction", "Appendix F", "a", "b", "q",
              paper_value=1.0, corrected_value=2.0, measured=1.0, tolerance=1e-3)
    c.write()
    led = L.build(root)
    assert len(led.errata) == 2
    md = L.errata_markdown(led)
    lines = [line for line in md.splitlines() if "Appendix" in line]
    assert "supported by" in lines[0] and "ledger-fail" not in lines[0]
    assert "NOT supported" in lines[1] and "ledger-fail" in lines[1]
    assert "paper value 3, corrected value 2, measured 2" in md
    rows = led.table[led.table["claim"].str.startswith("Erratum")]
    assert list(rows["where"]) == ["Appendix E, eq. (7)", "Appendix F"]
    assert list(rows["holds"]) == [True, False]


def test_paper_locations():
    assert L.paper_location("Lemma 1") == "Section 3, Appendix A"
    assert L.paper_location("Corollary 4 (k=2)") == "Section 5.3, Appendix F"
    assert L.paper_location("Theorem 2 and Lemma 4") == "Section 5.4, Appendix G; Appendix G"
    assert L.paper_location("Figure 10") == "Appendix I.4"  # not Figure 1
    assert L.paper_location("Appendix D step 3") == "Appendix D"
    assert L.paper_location("Placeholder", "cmap") == CHAPTERS["cmap"].paper
    # every statement, figure and table of the paper has a location
    for name in ["Lemma 1", "Lemma 2", "Lemma 3", "Lemma 4", "Corollary 1", "Corollary 2",
                 "Corollary 3", "Corollary 4", "Theorem 1", "Theorem 2", "Definition 1",
                 "Definition 2", "Table 1", "Table 2", *[f"Figure {i}" for i in range(1, 11)]]:
        assert name in L.PAPER_LOCATIONS


def test_markdown_escaping():
    assert L.md_escape("a|b") == "a\\|b"
    assert L.md_escape("<= 1") == "\\<= 1"
    assert L.md_escape("max_i |x|") == "max\\_i \\|x\\|"


def test_bad_claims_file_is_refused(root):
    (root / "glove" / "claims.csv").write_text("claim,measured\nTable 1,3\n")
    with pytest.raises(ValueError, match="lacks columns"):
        L.build(root)


def test_figure1_says_what_is_missing(root):
    import matplotlib

    matplotlib.use("Agg")
    fig, missing = L.figure1(root)
    assert missing == ["glove/figure3.csv", "cmap/figure4.csv"]
    pd.DataFrame({"space": ["original", "linear_k2"], "pair": [0, 0],
                  "word_a": ["able", "able"], "word_b": ["unable", "unable"],
                  "xa": [0.0, 0.0], "ya": [0.0, 0.0], "xb": [1.0, 1.0], "yb": [0.5, 1.0]}
                 ).to_csv(root / "glove" / "figure3.csv", index=False)
    pd.DataFrame({"drug": ["d1", "d2"], "model": ["linear", "linear"],
                  "cos_original": [0.1, 0.2], "cos_latent": [0.6, 0.7]}
                 ).to_csv(root / "cmap" / "figure4.csv", index=False)
    fig, missing = L.figure1(root)
    assert missing == []
    # two arrows (one per space) and one scatter collection
    assert sum(len(ax.patches) + len([c for c in ax.texts if c.arrow_patch is not None])
               for ax in fig.axes[:2]) >= 2
    assert len(fig.axes[2].collections) == 1


# -- repository.url drives the repository/issues/launch buttons ------------------------------
def test_buttons_off_without_repository_url():
    opts = repository_buttons({"repository_url": "", "use_repository_button": True,
                               "launch_buttons": {"binderhub_url": "https://mybinder.org"}})
    assert opts["use_repository_button"] is False and opts["use_issues_button"] is False
    assert opts["launch_buttons"]["binderhub_url"] == ""
    assert repository_buttons({})["use_issues_button"] is False


def test_buttons_on_with_repository_url():
    opts = repository_buttons({"repository_url": "https://github.com/o/r/",
                               "launch_buttons": {"binderhub_url": "", "thebe": False}})
    assert opts["repository_url"] == "https://github.com/o/r"
    assert opts["use_repository_button"] and opts["use_issues_button"]
    assert opts["launch_buttons"] == {"binderhub_url": DEFAULT_BINDERHUB, "thebe": False}
    own = repository_buttons({"launch_buttons": {"binderhub_url": "https://hub.example"}},
                             repository_url="https://gitlab.com/o/r")
    assert own["launch_buttons"]["binderhub_url"] == "https://hub.example"
    with pytest.raises(ValueError, match="http"):
        repository_buttons({"repository_url": "github.com/o/r"})


def test_config_leaves_repository_url_empty():
    import yaml

    cfg = yaml.safe_load((REPO_ROOT / "_config.yml").read_text())
    assert cfg["repository"]["url"] == "", "no invented repository address in _config.yml"


# -- the book's own ledger ------------------------------------------------------------------
def test_book_ledger_is_current():
    """The ledger written by the last `make book` matches the chapters' claims files now and
    the rendered opening page (catches a cached or stale ledger page)."""
    import os

    root = Path(os.environ.get("BOOK_RESULTS", REPO_ROOT / "results"))
    html = Path(os.environ.get("BOOK_HTML", REPO_ROOT / "_build" / "html")) / "intro.html"
    if not (root / "ledger" / "ledger.json").is_file():
        pytest.fail(f"{root}/ledger/ledger.json is missing: build the book first (make book)")
    problems = L.check(root, html)
    assert not problems, "; ".join(problems)


def test_figure1_cmap_panel_says_when_data_are_simulated(tmp_path):
    from aligned_latents.ledger import _cmap_data_label

    fig4 = tmp_path / "figure4.csv"
    assert "SIMULATED" in _cmap_data_label(fig4)  # no data_source.json: never passed off as real
    (tmp_path / "data_source.json").write_text('{"simulated": true}')
    assert "SIMULATED" in _cmap_data_label(fig4)
    (tmp_path / "data_source.json").write_text('{"simulated": false}')
    assert "real L1000" in _cmap_data_label(fig4)
