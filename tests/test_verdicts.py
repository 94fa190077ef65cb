"""One verdict per statement of the paper (:mod:`aligned_latents.record.verdicts`).

The unit tests write small statements tables and genuine ``claims.csv`` files (recorded
with :class:`aligned_latents.record.claims.Claims`) into a temporary results root, one file per
chapter, and check each verdict rule, the re-checking of every row (a tampered or
unreadable file is an error naming the file and the row) and ``verdicts.csv``. The last
test compares the book's own verdicts (``results/ledger/verdicts.csv``, written by the
build) with the recorded ones (``tests/recorded_verdicts.csv``).
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from aligned_latents.record import verdicts as V
from aligned_latents.record.claims import Claims
from aligned_latents.util.paths import REPO_ROOT, RESULTS_ENV

STATEMENTS = pd.DataFrame(
    [
        ("lemma1", "Section 3, Lemma 1", "lemma", "stretching",
         "$\\cos(Bq_1, Bq_2) = \\frac{\\sum_i \\sigma_i^2 ...}{...}$", ""),
        ("fig2", "Section 3, Figure 2", "figure", "stretching",
         "Figure 2: Embedding data from a Gaussian mixture ...", ""),
        ("thm1", "Section 5.2, Theorem 1", "theorem", "autoencoders",
         "the singular values of B evolve as ...", ""),
        ("thm1.display", "Section 5.2, Theorem 1", "equation", "autoencoders",
         "$\\Sigma_A(\\infty) = ...$", ""),
        ("cor4", "Section 5.3, Corollary 4", "corollary", "autoencoders",
         "cos(Bq1, Bq2) increases with k", ""),
        ("thm2", "Section 5.4, Theorem 2", "theorem", "autoencoders",
         "SGD with learning rate 0.1 converges", ""),
        ("table1", "Section 6.1.2, Table 1", "table", "glove",
         "Table 1: analogy scores improve after autoencoding", ""),
        ("fig4", "Section 6.3, Figure 4", "figure", "cmap",
         "Figure 4: Alignment of drug signatures across 2 cell types", ""),
        ("fig10", "Appendix I.4, Figure 10", "figure", "glove",
         "Figure 10: A schematic depicting reference point correction.",
         "a schematic, not a result"),
        ("lemma2", "Section 4.1, Lemma 2", "lemma", "gaussians",
         "the top eigenvector of XX^T is ...", ""),
    ],
    columns=V.STATEMENT_COLUMNS[:6])  # the quantifier column may be left out

EXPECTED = {
    "lemma1": "confirmed",
    "fig2": "not checked",
    "thm1": "confirmed",
    "thm1.display": "erratum",
    "cor4": "partly",
    "thm2": "not reproduced",
    "table1": "confirmed on substitute data",
    "fig4": "only illustrated on designed data",
    "fig10": "not checkable here",
    "lemma2": "missing",
}


def write_claims(root: Path, claims: Claims) -> Path:
    """Write a chapter's checks as Claims.write would, without the statements file."""
    out = root / claims.chapter
    out.mkdir(parents=True, exist_ok=True)
    claims.frame().to_csv(out / "claims.csv", index=False)
    if claims.errata:
        claims.errata_frame().to_csv(out / "errata.csv", index=False)
    return out / "claims.csv"


def book_claims(root: Path) -> dict[str, Claims]:
    """One claims file per chapter (gaussians left out: its results are missing)."""
    st = Claims("stretching", evidence="exact")
    st.close("Lemma 1", "cos(Bq1, Bq2): formula - direct", expected=0.0,
             measured=1e-14, tolerance=1e-12, statement="lemma1")
    st.at_least("Lemma 1", "on designed directions", measured=0.1, bound=0.0,
                statement="lemma1", evidence="designed-data")
    ae = Claims("autoencoders", evidence="simulation")
    ae.close("Theorem 1", "sigma_B[0]: ODE - prediction", expected=2.0, measured=2.0,
             tolerance=1e-9, statement="thm1")
    ae.erratum("Theorem 1 typo", "Theorem 1", "a_i", "b_i", "index", paper_value=None,
               corrected_value=1.0, measured=1.0, tolerance=1e-9, kind="typo",
               statement="thm1", evidence="exact")
    ae.erratum("Sigma_A(inf) garbled", "Theorem 1", "Sigma_A = 3", "Sigma_A = 2",
               "Sigma_A(inf)", paper_value=3.0, corrected_value=2.0, measured=2.0,
               tolerance=1e-6, kind="error", statement="thm1.display")
    ae.close("Corollary 4", "alpha (k=2)", expected=0.5, measured=0.5, tolerance=0.01,
             statement="cor4")
    ae.close("Corollary 4", "alpha (k=3)", expected=0.5, measured=0.7, tolerance=0.01,
             statement="cor4", detail="finite n: the n -> inf formula is approached "
             "slowly")
    ae.true("Theorem 2", "SGD lr 0.1 converges", False, "diverged after 12 steps",
            statement="thm2")
    gl = Claims("glove", evidence="substitute-data")
    gl.at_least("Table 1", "analogy gain (k=2)", measured=0.02, bound=0.0,
                statement="table1")
    cm = Claims("cmap", evidence="designed-data")
    cm.at_least("Figure 4", "median cosine gain", measured=0.3, bound=0.0,
                statement="fig4")
    out = {c.chapter: c for c in (st, ae, gl, cm)}
    for c in out.values():
        write_claims(root, c)
    return out


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path))
    book_claims(tmp_path)
    return tmp_path


def verdicts_of(root) -> dict[str, str]:
    table = V.verdict_table(root, statements=STATEMENTS)
    return dict(zip(table["statement"], table["verdict"]))


# -- the verdict rules ---------------------------------------------------------------
def test_each_verdict_rule(root):
    assert verdicts_of(root) == EXPECTED


def test_verdict_table_says_why(root):
    table = V.verdict_table(root, statements=STATEMENTS).set_index("statement")
    assert table.loc["cor4", "note"] == ("finite n: the n -> inf formula is approached "
                                         "slowly")
    assert (table.loc["cor4", "n_checks"], table.loc["cor4", "n_hold"]) == (2, 1)
    assert table.loc["cor4", "not_holding"] == "alpha (k=3)"
    assert table.loc["fig10", "note"] == "a schematic, not a result"
    assert table.loc["lemma2", "note"] == "results/gaussians/claims.csv is missing"
    assert table.loc["fig2", "note"] == "no check of this statement was recorded"
    # strongest evidence first; the designed-data check does not weaken lemma1
    assert table.loc["lemma1", "evidence"] == "exact+designed-data"
    assert table.loc["thm1", "evidence"] == "exact+simulation"


def test_designed_data_is_never_confirmed(root):
    cm = Claims("cmap", evidence="designed-data")
    cm.close("Figure 4", "exact-looking check on simulated data", expected=1.0,
             measured=1.0, tolerance=0.0, statement="fig4")
    write_claims(root, cm)
    assert verdicts_of(root)["fig4"] == "only illustrated on designed data"
    counts = V.verdict_counts(V.verdict_table(root, statements=STATEMENTS))
    assert counts["confirmed"] == 2 and counts["confirmed on substitute data"] == 1
    assert counts["only illustrated on designed data"] == 1


def test_errors_make_erratum_verdicts_but_typos_do_not(root):
    assert verdicts_of(root)["thm1"] == "confirmed"  # a typo erratum that holds
    ae = Claims("autoencoders", evidence="simulation")
    ae.erratum("Sigma_A(inf) garbled", "Theorem 1", "3", "2", "Sigma_A(inf)",
               paper_value=3.0, corrected_value=2.0, measured=3.0, tolerance=1e-6,
               kind="error", statement="thm1.display")
    write_claims(root, ae)  # the numbers now agree with the paper: no erratum holds
    assert verdicts_of(root)["thm1.display"] == "not reproduced"


def test_gap_when_chapter_ran_without_checking(root):
    st = STATEMENTS.copy()
    st.loc[st["statement"] == "lemma2", "chapter"] = "glove"
    table = V.verdict_table(root, statements=st).set_index("statement")
    assert table.loc["lemma2", "verdict"] == "not checked"


def test_counts_and_evidence(root):
    table = V.verdict_table(root, statements=STATEMENTS)
    counts = V.verdict_counts(table)
    assert list(counts)[:len(V.VERDICTS)] == list(V.VERDICTS)
    assert counts["missing"] == 1 and counts["not checked"] == 1
    assert sum(counts.values()) == len(STATEMENTS)
    ev = V.evidence_counts(table)
    assert list(ev.index) == ["exact", "simulation", "substitute-data", "designed-data",
                              "none"]
    assert ev.loc["exact", "confirmed"] == 2  # lemma1 and thm1 (exact + simulation)
    assert ev.loc["none", "not checkable here"] == 1
    assert int(ev.to_numpy().sum()) == len(STATEMENTS)


def test_rerun_of_some_chapters(root):
    table = V.verdict_table(root, chapters=["glove"], statements=STATEMENTS)
    assert set(table["statement"]) == {"table1", "fig10"}


# -- the referee's rules (issue 17): each test fails under the old, one-sided rules ---
def _one(chapter, evidence="substitute-data"):
    return Claims(chapter, evidence=evidence)


def _verdict_of(claims: Claims, statement: str) -> str:
    df = claims.frame()
    return V.statement_verdict(df[df["statement"] == statement])


def test_substitute_data_failure_is_named_as_such():
    gl = _one("glove")
    gl.at_least("Table 1", "gain", measured=-0.1, bound=0.0, statement="table1")
    assert _verdict_of(gl, "table1") == "not reproduced on substitute data"
    gl.at_least("Table 1", "other gain", measured=0.2, bound=0.0, statement="table1")
    assert _verdict_of(gl, "table1") == "partly, on substitute data"
    # a failing exact check beside it: the failure is not only on substitute data
    gl.close("Table 1", "identity", expected=1.0, measured=2.0, tolerance=1e-9,
             statement="table1", evidence="exact")
    assert _verdict_of(gl, "table1") == "partly"
    assert "not reproduced on substitute data" in V.VERDICTS
    assert "partly, on substitute data" in V.FAILURES


def test_designed_data_counts_neither_for_nor_against():
    cm = _one("cmap", "designed-data")
    cm.at_least("Figure 4", "median gain", measured=-0.3, bound=0.0, statement="fig4")
    assert _verdict_of(cm, "fig4") == "only illustrated on designed data"
    # beside real evidence the designed check is left out, whichever way it goes
    cm.at_least("Figure 4", "fluVaccine gain", measured=0.2, bound=0.0, statement="fig4",
                evidence="substitute-data")
    assert _verdict_of(cm, "fig4") == "confirmed on substitute data"


def test_setup_is_not_a_confirmation():
    gl = _one("glove")
    assert gl.setup("Appendix H", "hidden width", 400, 400, statement="apph.setup")
    assert _verdict_of(gl, "apph.setup") == "setup, used as stated"
    assert not gl.setup("Appendix H", "learning rate", 0.01, 0.1, statement="apph.lr")
    assert _verdict_of(gl, "apph.lr") == "setup, not used as stated"
    assert "setup, used as stated" not in V.PASSES
    # beside a real check, a setup row neither confirms nor weakens it
    gl.at_least("Appendix H", "a result", measured=1.0, bound=0.5, statement="apph.setup")
    assert _verdict_of(gl, "apph.setup") == "confirmed on substitute data"


def test_quantifier_needs_a_threshold(root):
    st = STATEMENTS.assign(quantifier="")
    st.loc[st["statement"] == "table1", "quantifier"] = "substantially"
    with pytest.raises(ValueError, match=r"table1 .*'substantially'.*>= 0\.0"):
        V.verdict_table(root, statements=st)  # book_claims tests the gain >= 0
    gl = Claims("glove", evidence="substitute-data")
    gl.at_least("Table 1", "analogy gain (k=2)", measured=0.08, bound=0.05,
                statement="table1")
    write_claims(root, gl)
    with pytest.raises(ValueError, match="detail must give the reason"):
        V.verdict_table(root, statements=st)
    gl = Claims("glove", evidence="substitute-data")
    gl.at_least("Table 1", "analogy gain (k=2)", measured=0.08, bound=0.05,
                statement="table1", detail="half the paper's smallest gain")
    write_claims(root, gl)
    assert verdicts_of_table(root, st)["table1"] == "confirmed on substitute data"


def verdicts_of_table(root, st) -> dict[str, str]:
    table = V.verdict_table(root, statements=st)
    return dict(zip(table["statement"], table["verdict"]))


def test_exact_identity_that_did_not_converge():
    ae = _one("autoencoders", "exact")
    ae.close("Theorem 1", "||B_GD - B_closed|| / ||B_closed||", expected=0.0,
             measured=0.10, tolerance=0.01, statement="thm1")
    assert _verdict_of(ae, "thm1") == "not reproduced"  # the old rule's verdict
    ae.converged("Theorem 1", "gradient norm at the end", residual=1e-4, bound=1e-10,
                 statement="thm1")
    assert _verdict_of(ae, "thm1") == "did not converge"
    ok = _one("autoencoders", "exact")
    ok.close("Theorem 1", "relative difference", expected=0.0, measured=1e-3,
             tolerance=0.01, statement="thm1")
    ok.converged("Theorem 1", "gradient norm at the end", residual=1e-4, bound=1e-10,
                 statement="thm1")
    assert _verdict_of(ok, "thm1") == "confirmed"  # agreement decides even so
    ok.converged("Theorem 1", "another run", residual=1e-12, bound=1e-10,
                 statement="thm2")
    ok.close("Theorem 2", "identity", expected=0.0, measured=0.5, tolerance=0.01,
             statement="thm2")
    assert _verdict_of(ok, "thm2") == "not reproduced"  # converged, and it misses


def test_seed_checks_need_a_gap_beyond_the_spread():
    gl = _one("glove")
    assert gl.seeds("Figure 7", "share (Leaky)", [0.6, 0.7, 0.65, 0.62, 0.61],
                    "at_least", 0.5, statement="fig7")
    assert _verdict_of(gl, "fig7") == "confirmed on substitute data"
    assert gl.frame()["detail"].iloc[0].startswith("0.636 ± 0.04 over 5 seeds")
    gl.seeds("Table 1", "gain (Leaky)", [0.01, -0.01, 0.02, 0.0, -0.02], "at_least",
             0.0, statement="table1")
    assert _verdict_of(gl, "table1") == "within the seed spread"
    gl.seeds("Table 2", "gain (Leaky)", [-0.01, -0.02, -0.03], "at_least", 0.0,
             statement="table2", min_seeds=3, min_seeds_reason="costly: a test")
    assert _verdict_of(gl, "table2") == "not reproduced on substitute data"
    gl.seeds("Figure 8", "close to 0.76", [0.74, 0.85], "close", 0.76, 0.05,
             statement="fig8")
    assert _verdict_of(gl, "fig8") == "within the seed spread"
    with pytest.raises(ValueError, match="rule must be"):
        gl.seeds("x", "y", [1.0], "roughly", 0.0, statement="fig8")


def test_a_seed_check_on_too_few_seeds_has_no_noise_scale(tmp_path, monkeypatch):
    # the old rule: one seed that passes "holds for every seed", so confirmed
    gl = _one("glove")
    assert gl.seeds("Figure 9", "MDS gain", [0.02], "at_least", 0.0, statement="fig9")
    assert _verdict_of(gl, "fig9") == "no noise scale (too few seeds)"
    gl.seeds("Figure 8", "MDS gain", [-0.02], "at_least", 0.0, statement="fig8")
    assert _verdict_of(gl, "fig8") == "no noise scale (too few seeds)"  # both ways
    gl.seeds("Table 1", "gain", [0.1, 0.2, 0.1, 0.3, 0.2], "at_least", 0.0,
             statement="table1")
    assert _verdict_of(gl, "table1") == "confirmed on substitute data"
    gl.seeds("Table 2", "gain", [0.1, 0.2, 0.1], "at_least", 0.0, statement="table2",
             min_seeds=3, min_seeds_reason="costly: one seed trains in 40 s")
    assert _verdict_of(gl, "table2") == "confirmed on substitute data"
    row = gl.frame().iloc[-1]
    assert row["check"] == "seeds_at_least min 3"  # the minimum, read without prose
    assert "at least 3 seeds: costly: one seed trains in 40 s" in row["detail"]
    gl.seeds("Figure 7", "share", [0.6, 0.7], "at_least", 0.5, statement="fig7",
             min_seeds=3, min_seeds_reason="costly")
    assert _verdict_of(gl, "fig7") == "no noise scale (too few seeds)"
    from aligned_latents.book.bookutils import verdict_line

    line = verdict_line(gl, "fig7", "Figure 7")    # the page says there is none
    assert "no noise scale (too few seeds)** (substitute data; 1 of 1 check holds" in line
    assert "Noise scale: share: none, 2 seeds of the 3 required (0.65 ± 0.071" in line
    # seeds that disagree are a noise scale however few they are
    gl.seeds("Figure 3", "MDS gain", [0.02, -0.01], "at_least", 0.0, statement="fig3")
    assert _verdict_of(gl, "fig3") == "within the seed spread"
    # another check decides: a failure beside an unscaled seed check is a failure
    gl.at_least("Figure 9", "other measure", measured=-0.5, bound=0.0, statement="fig9")
    assert _verdict_of(gl, "fig9") == "not reproduced on substitute data"
    for bad in (3, 0):
        with pytest.raises(ValueError, match="min_seeds"):
            gl.seeds("x", "y", [1.0, 1.0, 1.0], "at_least", 0.0, statement="fig8",
                     min_seeds=bad)
    with pytest.raises(ValueError, match="min_seeds_reason"):
        gl.seeds("x", "y", [1.0] * 3, "at_least", 0.0, statement="fig8", min_seeds=3,
                 min_seeds_reason="  ")
    # the ledger reads the minimum back from claims.csv and says what is lacking
    monkeypatch.setenv(RESULTS_ENV, str(tmp_path))
    write_claims(tmp_path, gl)
    st = pd.DataFrame([(s, f"Section, {s}", "figure", "glove", "...", "")
                       for s in ("fig3", "fig7", "fig8", "fig9", "table1", "table2")],
                      columns=V.STATEMENT_COLUMNS[:6])
    table = V.verdict_table(tmp_path, chapters=["glove"], statements=st).set_index(
        "statement")
    assert table.loc["table2", "verdict"] == "confirmed on substitute data"
    assert table.loc["fig7", "verdict"] == "no noise scale (too few seeds)"
    assert table.loc["fig7", "note"] == ("No noise scale: share: 2 seeds of the 3 "
                                         "required.")
    assert table.loc["fig8", "note"].startswith("No noise scale: MDS gain: 1 seed of "
                                                "the 5 required.")
    assert V.verdict_counts(table.reset_index())["no noise scale (too few seeds)"] == 2


def test_seed_minimum_in_the_check_field_is_validated():
    from aligned_latents.record.claims import check_holds, parse_check

    assert parse_check("seeds_close") == ("seeds_close", 5)
    assert parse_check("seeds_at_most min 3") == ("seeds_at_most", 3)
    assert parse_check("close") == ("close", None)
    for bad in ("close min 3", "seeds_close min", "seeds_close min 0",
                "seeds_close max 3", "seeds_close min three"):
        with pytest.raises(ValueError, match="unknown check kind"):
            parse_check(bad)
    # recompute_holds still recomputes such a row
    assert check_holds("seeds_at_least min 3", ">= 0.0", "0.1;0.2;0.3", "0.0")
    assert not check_holds("seeds_at_least min 3", ">= 0.0", "0.1;-0.2;0.3", "0.0")


def test_missing_hypothesis_is_not_a_wrong_result():
    gs = _one("gaussians", "exact")
    gs.close("Corollary 1", "cos gain, c != 0", expected=0.0, measured=0.0,
             tolerance=1e-9, statement="cor1")
    gs.erratum("Corollary 1 fails at c = 0", "Corollary 1", ">", ">= (= at c = 0)",
               "cos gain at c = 0", None, 0.0, 0.0, 1e-12,
               kind="missing hypothesis", statement="cor1")
    assert _verdict_of(gs, "cor1") == "confirmed with a hypothesis added"


def test_one_slip_in_two_places_gets_one_kind(tmp_path):
    from aligned_latents.record import ledger as L

    gs = Claims("gaussians", evidence="simulation")
    gs.erratum("I + 2J", "Appendix C", "I + 2J", "(c+3)I + 2J", "entry (1,1)", None,
               2.1, 2.1, 0.01, kind="error", statement="lemma2")
    ae = Claims("autoencoders", evidence="simulation")
    ae.erratum("I + 2J", "Appendix F", "I + 2J", "(c+3)I + 2J", "eigenvalue", None,
               6.1, 6.1, 0.01, kind="typo", statement="cor4")
    for c in (gs, ae):
        write_claims(tmp_path, c)
    with pytest.raises(ValueError, match=r"'I \+ 2J' is recorded with 2 kinds "
                                         r"\(error, typo\)"):
        L.build(tmp_path, chapters=["gaussians", "autoencoders"],
                statements=STATEMENTS)
    gs.errata[0]["kind"] = "typo"
    gs.rows[0]["claim"] = "Erratum (typo): I + 2J"
    write_claims(tmp_path, gs)
    led = L.build(tmp_path, chapters=["gaussians", "autoencoders"],
                  statements=STATEMENTS)
    distinct = L.distinct_errata(led.errata)
    assert distinct.to_dict("records") == [{"erratum": "I + 2J", "kind": "typo",
                                            "places": 2, "supported": True}]


def test_claims_and_verdicts_import_no_circle():
    import subprocess
    import sys

    code = ("import sys, aligned_latents.record.claims; "
            "sys.exit('aligned_latents.record.verdicts' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], env=os.environ).returncode == 0


def test_seed_setup_converged_rows_are_rechecked(root):
    gl = Claims("glove", evidence="substitute-data")
    gl.seeds("Table 1", "gain (Leaky)", [0.1, 0.2, 0.3], "at_least", 0.0,
             statement="table1")
    gl.setup("Appendix H", "width", 400, 400, statement="table1")
    gl.converged("Appendix H", "gradient", 1e-12, 1e-10, statement="table1")
    path = write_claims(root, gl)
    assert V.read_claims_file(path)["holds"].tolist() == [True, True, True]
    _tamper(path, 0, measured="0.1;-0.2;0.3")
    with pytest.raises(ValueError, match="holds says True"):
        V.read_claims_file(path)
    _tamper(path, 0, measured="0.1;x;0.3")
    with pytest.raises(ValueError, match="not a finite number"):
        V.read_claims_file(path)


# -- nothing taken on trust ----------------------------------------------------------
def _tamper(path: Path, row: int, **values) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for k, v in values.items():
        df.loc[row, k] = v
    df.to_csv(path, index=False)


def test_tampered_holds_is_an_error_naming_file_and_row(root):
    path = root / "glove" / "claims.csv"
    gl = Claims("glove", evidence="substitute-data")
    gl.at_least("Table 1", "analogy gain (k=2)", measured=0.02, bound=0.0,
                statement="table1")
    gl.close("Table 1", "analogy (k=2)", expected=0.55, measured=0.40, tolerance=0.01,
             statement="table1")
    write_claims(root, gl)
    _tamper(path, 1, holds="True")  # measured far outside tolerance, holds says True
    with pytest.raises(ValueError) as err:
        V.verdict_table(root, statements=STATEMENTS)
    msg = str(err.value)
    assert str(path) in msg and "row 2 (line 3" in msg and "'analogy (k=2)'" in msg
    assert "holds says True" in msg and "give False" in msg


def test_non_numeric_measured_is_an_error(root):
    path = root / "cmap" / "claims.csv"
    _tamper(path, 0, measured="n/a")
    with pytest.raises(ValueError, match=r"cmap/claims\.csv, row 1 .*not a finite "
                                         r"number: 'n/a'"):
        V.read_claims_file(path)


@pytest.mark.parametrize("column,value,match", [
    ("holds", "maybe", "holds must be True or False"),
    ("evidence", "anecdote", "evidence must be one of"),
    ("check", "roughly", "unknown check kind"),
    ("statement", "", "names no statement"),
])
def test_malformed_rows_are_errors(root, column, value, match):
    path = root / "glove" / "claims.csv"
    _tamper(path, 0, **{column: value})
    with pytest.raises(ValueError, match=match):
        V.read_claims_file(path)


def test_old_claims_file_is_refused(root):
    (root / "glove" / "claims.csv").write_text("claim,quantity,expected,measured,"
                                               "tolerance,holds\nT,q,1,1,0,True\n")
    with pytest.raises(ValueError, match="lacks columns.*rebuild"):
        V.read_claims_file(root / "glove" / "claims.csv")


def test_unknown_statement_and_checked_uncheckable_are_errors(root):
    gl = Claims("glove", evidence="substitute-data")
    gl.at_least("Figure 10", "angle change", measured=0.0, bound=0.0, statement="fig10")
    write_claims(root, gl)
    with pytest.raises(ValueError, match="'fig10' is listed as not checkable"):
        V.verdict_table(root, statements=STATEMENTS)
    gl = Claims("glove", evidence="substitute-data")
    gl.at_least("Table 9", "x", measured=0.0, bound=0.0, statement="table9")
    write_claims(root, gl)
    with pytest.raises(ValueError, match="checks of glove name statements that are not "
                                         "in paper_statements.csv: table9"):
        V.verdict_table(root, statements=STATEMENTS)


def test_statements_table_is_checked():
    with pytest.raises(ValueError, match="lacks columns"):
        V.verdict_table(statements=STATEMENTS.drop(columns="quote"))
    with pytest.raises(ValueError, match="repeat.*lemma1"):
        V.verdict_table(statements=pd.concat([STATEMENTS, STATEMENTS.head(1)]))


# -- verdicts.csv, recording and comparing ---------------------------------------------
def test_verdicts_csv_columns(root):
    path = V.write_verdicts(V.verdict_table(root, statements=STATEMENTS), root)
    assert path == root / "ledger" / "verdicts.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(df.columns[:4]) == ["statement", "location", "evidence", "verdict"]
    assert list(df.columns) == V.VERDICT_COLUMNS
    assert dict(zip(df["statement"], df["verdict"])) == EXPECTED


def _verdict_file(path: Path, verdicts: dict) -> Path:
    pd.DataFrame({"statement": list(verdicts), "verdict": list(verdicts.values())}
                 ).to_csv(path, index=False)
    return path


def test_record_verdicts_refuses_gaps_then_records(root, tmp_path_factory):
    V.write_verdicts(V.verdict_table(root, statements=STATEMENTS), root)
    target = tmp_path_factory.mktemp("rec") / "recorded_verdicts.csv"
    with pytest.raises(ValueError, match="gaps.*lemma2 \\(missing\\)"):
        V.record_verdicts(target, root)
    full = {k: v for k, v in EXPECTED.items() if v not in V.GAPS}
    _verdict_file(root / "ledger" / "verdicts.csv", full)
    assert V.record_verdicts(target, root) == target
    assert pd.read_csv(target).columns.tolist() == ["statement", "verdict"]
    st = STATEMENTS[STATEMENTS["statement"].isin(full)]
    assert V.recorded_problems(root / "ledger" / "verdicts.csv", target, st) == []


def test_recorded_problems_lists_every_difference(tmp_path):
    recorded = _verdict_file(tmp_path / "recorded.csv",
                             {"lemma1": "confirmed", "thm2": "partly",
                              "gone": "confirmed"})
    build = _verdict_file(tmp_path / "build.csv",
                          {"lemma1": "confirmed", "thm2": "not reproduced",
                           "fig2": "not checked",
                           "table1": "confirmed on substitute data",
                           "stray": "confirmed"})
    st = STATEMENTS[STATEMENTS["statement"].isin(["lemma1", "thm2", "fig2", "table1",
                                                  "cor4"])]
    problems = V.recorded_problems(build, recorded, st)
    assert "thm2: partly -> not reproduced" in problems
    assert "cor4: no verdict in the build" in problems
    assert "fig2: gap verdict 'not checked' (no check recorded)" in problems
    assert ("stray: verdict 'confirmed' for a statement not in the statements file"
            in problems)
    assert "table1: not recorded (confirmed on substitute data now): record the " \
           "verdicts again" in problems
    assert ("gone: recorded (confirmed) but not in the statements file any more"
            in problems)
    assert not any(p.startswith("lemma1") for p in problems)


# -- the book's own verdicts -----------------------------------------------------------
def test_book_verdicts_match_recorded():
    """The build's verdicts (results/ledger/verdicts.csv) are the recorded ones, with a
    verdict for every statement of paper_statements.csv and no gap."""
    root = Path(os.environ.get("BOOK_RESULTS", REPO_ROOT / "results"))
    build = root / "ledger" / "verdicts.csv"
    if not build.is_file():
        pytest.skip(f"{build} does not exist: the book was not built (make book)")
    if not V.RECORDED_VERDICTS.is_file():
        pytest.fail(f"{V.RECORDED_VERDICTS} is missing: after a full build, record the "
                    "verdicts with: .venv/bin/python -c 'from aligned_latents.record.verdicts "
                    "import record_verdicts; print(record_verdicts())'")
    problems = V.recorded_problems(build, V.RECORDED_VERDICTS)
    assert not problems, ("the build's verdicts differ from "
                          "tests/recorded_verdicts.csv:\n  " + "\n  ".join(problems))


def test_mean_sd_is_the_sample_spread_everywhere():
    """One home for "mean ± sd over n seeds": the seed checks' spread and Figure 1 (a)'s
    both come from ``claims.mean_sd`` (sample sd, n - 1), checked against numpy."""
    import numpy as np

    from aligned_latents.record.claims import mean_sd, seed_spread
    from aligned_latents.record.frontpage import figure1a_spread

    v = [0.31, 0.29, 0.35, 0.30]
    mean, sd = mean_sd(v)
    assert mean == pytest.approx(np.mean(v)) and sd == pytest.approx(np.std(v, ddof=1))
    assert mean_sd([2.5]) == (2.5, 0.0)
    with pytest.raises(ValueError, match="no values"):
        mean_sd([])
    assert seed_spread(v) == "0.3125 ± 0.026 over 4 seeds (0.29 .. 0.35)"
    seeds = pd.DataFrame({"gain": v})
    assert figure1a_spread(seeds, "gain") == "0.31 ± 0.03 over 4 seeds"
    assert figure1a_spread(seeds.iloc[:1], "gain") == "0.31, 1 seed: no spread"


def test_checks_table_on_the_page_is_short_and_the_csv_is_full():
    """The page's checks table (``Claims.show``) gives numbers to 6 significant digits and
    yes/no; the recorded rows keep full precision (what ``recompute_holds`` compares)."""
    cl = Claims("autoencoders", evidence="simulation")
    cl.close("Theorem 2", "||Bx||² vs the closed form", expected=128.4980619863884,
             measured=128.49486104474215, tolerance=1e-4 / 1.001, relative=True,
             statement="thm2.bx_norm")
    cl.at_least("Lemma 4", "a bound", measured=-0.003200941643267826, bound=0.5,
                statement="lemma4")
    shown = cl.show().data
    assert shown["expected"].tolist() == ["128.498", ">= 0.5"]
    assert shown["measured"].tolist() == ["128.495", "-0.00320094"]
    assert shown["tolerance"].tolist() == ["rel 9.99001e-05", "0"]
    assert shown["holds"].tolist() == ["yes", "no"]
    assert shown["evidence"].tolist() == ["simulation", "simulation"]
    html = cl.show().to_html()  # the failing row (the second), and only it, in red
    red = html.split("{")[0]
    assert "background-color: #f8d7da" in html and "_row1_col0" in red
    assert "_row0_" not in red
    full = cl.frame()
    assert full["measured"].tolist() == ["128.49486104474215", "-0.003200941643267826"]
    from aligned_latents.record.claims import _short_numbers

    assert _short_numbers("0.8403912;-0.2658391;x1.5") == "0.840391; -0.265839; x1.5"
