"""The ``aligned-latents`` command: argument parsing, refusals before anything runs,
sweeps, verdict comparison, and real reruns of the cheapest chapter with tiny
parameters.

Atomic runs, locks, Ctrl-C and run.json are tested with fake chapters in
``tests/test_rerun_atomic.py``; the parameter schema in ``tests/test_params.py``.
"""
from __future__ import annotations

import ast
import inspect
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from aligned_latents.record import compare
from aligned_latents.runs import cli, params, sweep, sweep_report
from aligned_latents.util.chapters import CHAPTERS, Chapter, parameters
from aligned_latents.util.paths import REPO_ROOT

#: The chapter used for real reruns: the cheapest to execute.
CHEAP = "stretching"
#: Its tiny parameters (a few seconds).
TINY = ["-p", "n_draws", "3", "-p", "shapes", "[[2, 2]]", "-p", "fig2_samples", "20"]


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# -- parsing ---------------------------------------------------------------------------
@pytest.mark.parametrize("text, value", [
    ("3", 3), ("0.5", 0.5), ("[1,3]", [1, 3]), ("True", True), ("None", None),
    ("adam", "adam"), ("'adam'", "adam"), ("1e-3", 1e-3), ("[1, 'a']", [1, "a"]),
    ("(", "("), ("", ""), ("5e5", 5e5),
])
def test_parse_value(text, value):
    assert cli.parse_value(text) == value
    assert type(cli.parse_value(text)) is type(value)


def test_parser_collects_params_sweep_force_and_compare():
    args = cli.build_parser().parse_args(
        ["rerun", "glove", "-p", "seed", "3", "-p", "epochs", "2", "--sweep", "degrees",
         "1", "3", "--out", "x", "--force"])
    assert args.param == [["seed", "3"], ["epochs", "2"]]
    assert args.sweep == [["degrees", "1", "3"]] and args.out == Path("x") and args.force
    args = cli.build_parser().parse_args(["compare", "a", "b"])
    assert (args.command, args.first, args.second) == ("compare", "a", "b")


def test_cli_is_thin():
    """Argument parsing and one small function per command; the engines live
    elsewhere."""
    for name in ("combine_sweep", "plot_sweep", "_sweep", "_x_positions", "_series_key",
                 "_run_one", "_check_out"):
        assert not hasattr(cli, name), f"{name} belongs in sweep.py, sweep_report.py or rerun.py"
    tree = ast.parse(Path(cli.__file__).read_text())
    imported = {a.asname or a.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom)) for a in node.names}
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    used |= {n.value.id for n in ast.walk(tree)
             if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
    assert imported - used - {"annotations"} == set(), "unused imports in cli.py"
    for fn in (cli.cmd_list, cli.cmd_rerun, cli.cmd_compare, cli.cmd_ledger):
        span = len(inspect.getsourcelines(fn)[0])
        assert span < 40, f"{fn.__name__} is {span} lines: move the work out of cli.py"


def test_list_shows_every_chapter_parameter_and_its_type(capsys):
    code, out, _ = run_cli(capsys, "list")
    assert code == 0
    for name in CHAPTERS:
        assert f"{name}:" in out
        for p, kind in zip(parameters(name).values(), params.describe(name).values()):
            assert p.name in out and repr(p.default) in out and f"[{kind}]" in out
    assert "[int >= 1 or None]" in out  # glove's vocab_size


# -- refusals (before anything runs) ---------------------------------------------------
BRIEF_REFUSALS = [
    (["glove", "-p", "degrees", "[1.5]"], "'degrees' (item 1) must be an integer >= 0"),
    (["glove", "-p", "degrees", "[-1]"], "'degrees' (item 1) must be an integer >= 0"),
    (["glove", "-p", "vocab_size", "0"], "'vocab_size' must be an integer >= 1, got 0"),
    (["glove", "-p", "vocab_size", "5e5"],
     "'vocab_size' must be an integer >= 1, got 500000.0 (write 500000 without a "
     "decimal point or exponent)"),
    (["stretching", "-p", "n_draws", "0"], "'n_draws' must be an integer >= 1, got 0"),
    (["glove", "-p", "sweep_degrees", "[]"], "'sweep_degrees' must not be empty"),
    (["glove", "-p", "sweep_degrees", "[1, 1]"], "'sweep_degrees' repeats 1"),
    (["glove", "--sweep", "degrees", "1", "1.0"],
     "sweep of parameter 'degrees' repeats 1.0 (values 1 and 2) (1 and 1.0 are the "
     "same value)"),
    (["glove", "--sweep", "degrees", "1", "-2"],
     "'degrees' (item 1) must be an integer"),
    (["glove", "-p", "embeddings", "no/such/vectors.txt"],
     "'embeddings': no such file"),
]


@pytest.mark.parametrize("argv, message", BRIEF_REFUSALS)
def test_bad_values_refused_before_anything_runs(argv, message, capsys, tmp_path):
    out = tmp_path / "o"
    code, stdout, err = run_cli(capsys, "rerun", *argv, "--out", str(out))
    assert code == 2
    assert message in err and f"chapter {argv[0]!r}" in err
    assert len(err.strip().splitlines()) == 1 and stdout == ""
    assert list(tmp_path.iterdir()) == [], "nothing may run (or be created)"


def test_unknown_parameter_refused_with_valid_names(capsys, tmp_path):
    code, _, err = run_cli(capsys, "rerun", CHEAP, "-p", "no_such_name", "1",
                           "--out", str(tmp_path / "o"))
    assert code == 2
    assert "has no parameter 'no_such_name'" in err
    for name in parameters(CHEAP):
        assert name in err
    assert not (tmp_path / "o").exists(), "nothing may run (or be created)"


def test_wrong_type_refused(capsys, tmp_path):
    spec = parameters(CHEAP)
    name = next(n for n, p in spec.items()
                if isinstance(p.default, (int, float))
                and not isinstance(p.default, bool))
    code, _, err = run_cli(capsys, "rerun", CHEAP, "-p", name, "'text'", "--out",
                           str(tmp_path / "o"))
    assert code == 2 and f"parameter {name!r} must be" in err and "'text'" in err
    assert not (tmp_path / "o").exists()


def test_wrong_type_in_sweep_refused_before_any_run(capsys, tmp_path):
    name = next(n for n, p in parameters(CHEAP).items() if type(p.default) is int)
    code, _, err = run_cli(capsys, "rerun", CHEAP, "--sweep", name, "1", "oops",
                           "--out", str(tmp_path / "o"))
    assert code == 2 and "'oops'" in err
    assert not (tmp_path / "o").exists()


def test_other_refusals(capsys, tmp_path):
    out = str(tmp_path / "o")
    name = next(iter(parameters(CHEAP)))
    code, _, err = run_cli(capsys, "rerun", CHEAP, "--out", str(REPO_ROOT))
    assert code == 2 and "book's own results" in err
    code, _, err = run_cli(capsys, "rerun", CHEAP, "--out",
                           str(REPO_ROOT / "results" / "x"))
    assert code == 2 and "book's own results" in err
    code, _, err = run_cli(capsys, "rerun", CHEAP, "-p", name, "1", "--sweep", name,
                           "1", "2", "--out", out)
    assert code == 2 and "both swept and set" in err
    code, _, err = run_cli(capsys, "rerun", CHEAP, "--sweep", name, "1", "1",
                           "--out", out)
    assert code == 2 and "repeats" in err
    code, _, err = run_cli(capsys, "rerun", CHEAP, "--sweep", name, "--out", out)
    assert code == 2 and "at least one value" in err
    code, _, err = run_cli(capsys, "rerun", CHEAP, "-j", "0", "--out", out)
    assert code == 2 and "--jobs" in err
    code, _, err = run_cli(capsys, "rerun", CHEAP, "-p", name, "1", "-p", name, "2",
                           "--out", out)
    assert code == 2 and "given twice" in err
    with pytest.raises(SystemExit):  # argparse: unknown chapter
        cli.main(["rerun", "nochapter", "--out", out])
    assert "invalid choice" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_sweep_plan_gives_each_run_its_parameters(monkeypatch, tmp_path):
    """--sweep degrees 1 3 on a list-valued parameter runs [1] and [3], seeded alike."""
    src = tmp_path / "fake.md"
    src.write_text("```{code-cell} ipython3\n:tags: [parameters]\n"
                   "degrees = [1, 2]  # degrees k\nseed = 0  # random seed\n```\n")

    class FakeChapter(Chapter):
        @property
        def path(self):
            return src

    monkeypatch.setitem(CHAPTERS, "fake", FakeChapter("fake", "Fake", "nowhere"))
    monkeypatch.setitem(params.PARAMS, "fake", {
        "degrees": params.Spec("list[int]", minimum=0, nonempty=True, unique=True),
        "seed": params.Spec("int", minimum=0)})
    runs = sweep.plan_sweep("fake", {}, "degrees", [1, 3])
    assert runs == [{"degrees": 1, "seed": 0}, {"degrees": 3, "seed": 0}]
    assert [params.validate("fake", r)["degrees"] for r in runs] == [[1], [3]]
    runs = sweep.plan_sweep("fake", {"seed": 5}, "degrees", [[1, 2]])
    assert runs == [{"degrees": [1, 2], "seed": 5}]
    with pytest.raises(ValueError, match="repeats"):
        sweep.plan_sweep("fake", {}, "degrees", [[1, 2], [1.0, 2.0]])
    with pytest.raises(ValueError, match="must be an integer >= 0"):
        sweep.plan_sweep("fake", {}, "degrees", [1, -3])
    assert sweep.slug("degrees", [1, 2]) == "degrees-1_2"


# -- real runs of the cheapest chapter, tiny parameters --------------------------------
@pytest.mark.slow
def test_real_rerun_of_a_cheap_chapter(tmp_path):
    """The console script, end to end: results under --out, the book's results
    untouched."""
    exe = Path(sys.executable).parent / "aligned-latents"
    assert exe.is_file(), "console script missing: pip install -e ."
    book_claims = REPO_ROOT / "results" / CHEAP / "claims.csv"
    before = book_claims.stat().st_mtime_ns if book_claims.exists() else None
    out = tmp_path / "run"
    proc = subprocess.run([str(exe), "rerun", CHEAP, *TINY, "-q", "--out", str(out)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (out / f"{CHEAP}.ipynb").is_file() and (out / f"{CHEAP}.html").is_file()
    claims = pd.read_csv(out / "results" / CHEAP / "claims.csv")
    assert len(claims) > 0 and set(claims.columns) >= {"claim", "holds"}
    rec = json.loads((out / "run.json").read_text())
    assert rec["status"] == "complete" and rec["parameters"]["resolved"]["n_draws"] == 3
    assert "done in" in proc.stdout
    after = book_claims.stat().st_mtime_ns if book_claims.exists() else None
    assert after == before, "a rerun wrote into the book's own results/"


@pytest.mark.slow
def test_sweep_runs_in_parallel_and_writes_csv_and_plot(tmp_path, capsys):
    out = tmp_path / "sweep"
    code, stdout, err = run_cli(capsys, "rerun", CHEAP, *TINY, "--sweep", "seed", "1",
                                "2", "--out", str(out))
    assert code == 0, err
    df = pd.read_csv(out / "sweep.csv")  # long form: a row per point and quantity
    assert sorted(df["seed"]) == [1, 1, 2, 2]
    assert sorted(set(df["run"])) == ["seed-1", "seed-2"]
    assert set(df["quantity"]) == {"claims_hold", "claims_total"}
    for v in (1, 2):
        rec = json.loads((out / f"seed-{v}" / "run.json").read_text())
        assert rec["status"] == "complete" and rec["parameters"]["given"]["seed"] == v
    info = json.loads((out / "sweep.json").read_text())
    assert info["status"] == "complete" and [p["dir"] for p in info["points"]] == [
        "seed-1", "seed-2"]
    assert (out / "sweep.png").stat().st_size > 1000
    assert "2/2 done" in stdout


# -- sweep tables and plots from fake runs (the GloVe headline numbers) ----------------
def _fake_glove_run(d: Path, k: int, score: float):
    res = d / "results" / "glove"
    res.mkdir(parents=True)
    pd.DataFrame({"model": ["original", f"linear k={k}"],
                  "analogy": [0.5, score], "wsim_mturk771": [0.6, 0.58],
                  "wsim_men": [0.7, 0.69], "analogy_accuracy": [0.4, score - 0.1]}
                 ).to_csv(res / "table1.csv", index=False)


def test_glove_sweep_table_and_plot(tmp_path):
    dirs = [tmp_path / "degrees-1", tmp_path / "degrees-3", tmp_path / "degrees-5"]
    for d, k, s in zip(dirs, [1, 3, 5], [0.55, 0.6, 0.58]):
        _fake_glove_run(d, k, s)
    shutil.rmtree(dirs[2] / "results")  # a run that wrote nothing is reported
    df, problems = sweep_report.combine_sweep("glove", [{"degrees": k} for k in (1, 3, 5)], dirs)
    assert len(problems) == 1 and "table1.csv is missing" in problems[0]
    assert list(df.columns) == ["degrees", "run", "row", "quantity", "value"]
    analogy = df[df["quantity"] == "analogy"]
    assert list(analogy["degrees"]) == [1, 1, 3, 3]
    assert list(analogy["run"]) == ["degrees-1", "degrees-1", "degrees-3", "degrees-3"]
    assert list(analogy["value"]) == [0.5, 0.55, 0.5, 0.6]
    png = sweep_report.plot_sweep("glove", "degrees", df, tmp_path / "sweep.png")
    assert png.stat().st_size > 1000
    # rows naming the swept value follow one line across the sweep
    assert sweep_report._series_key("linear k=3", 3) == sweep_report._series_key("linear k=1", 1)
    assert sweep_report._series_key("linear k=13", 3) == "linear k=13"


def test_headline_columns_checked(tmp_path):
    from aligned_latents.record.ledger import headline_frame

    res = tmp_path / "results" / "glove"
    res.mkdir(parents=True)
    pd.DataFrame({"model": ["a"], "analogy": [0.1]}).to_csv(res / "table1.csv",
                                                           index=False)
    with pytest.raises(ValueError, match="lacks headline columns"):
        headline_frame("glove", res)


# -- verdict comparison ----------------------------------------------------------------
def _verdicts(rows):
    return pd.DataFrame(rows, columns=["statement", "location", "evidence", "verdict"])


BOOK = _verdicts([
    ["table1.k1_accuracy_gain", "Section 6.1.2, Table 1", "substitute-data",
     "not reproduced"],
    ["lemma1", "Section 3, Lemma 1", "exact", "confirmed"],
    ["fig4", "Section 6.3, Figure 4", "designed-data", "partly"],
])
RUN = _verdicts([
    ["lemma1", "Section 3, Lemma 1", "exact", "confirmed"],
    ["table1.k1_accuracy_gain", "Section 6.1.2, Table 1", "substitute-data",
     "confirmed"],
    ["new.statement", "Section 9", "exact", "partly"],
])


def test_compare_verdicts_lists_the_changes_only():
    df = compare.compare_verdicts(BOOK, RUN)
    assert list(df.columns) == compare.CHANGE_COLUMNS
    assert df.to_dict("records") == [{
        "statement": "table1.k1_accuracy_gain", "location": "Section 6.1.2, Table 1",
        "evidence": "substitute-data", "verdict_before": "not reproduced",
        "verdict_after": "confirmed", "change": "changed"}]
    assert compare.format_changes(df, "book", "this run") == (
        "Section 6.1.2, Table 1 (table1.k1_accuracy_gain): not reproduced (book) -> "
        "confirmed (this run)")
    assert compare.summary_line(df) == "1 verdict(s) changed"


def test_compare_verdicts_one_sided_rows_shown_as_such():
    df = compare.compare_verdicts(BOOK, RUN, one_sided=True)
    assert list(df["change"]) == ["changed", "only after", "only before"]
    text = compare.format_changes(df, "A", "B").splitlines()
    assert text[1] == "Section 9 (new.statement): absent (A) -> partly (B)"
    assert text[2] == "Section 6.3, Figure 4 (fig4): partly (A) -> absent (B)"
    assert compare.summary_line(df) == ("1 verdict(s) changed, 2 statement(s) on one "
                                        "side only")


def test_compare_verdicts_no_change_and_bad_tables():
    same = compare.compare_verdicts(BOOK, BOOK.iloc[::-1])
    assert same.empty and compare.format_changes(same, "a", "b") == "no verdict changed"
    no_location = BOOK[["statement", "verdict"]]
    df = compare.compare_verdicts(no_location, RUN[["statement", "verdict"]])
    assert compare.format_changes(df, "a", "b") == (
        "table1.k1_accuracy_gain: not reproduced (a) -> confirmed (b)")
    with pytest.raises(ValueError, match="lack columns \\['verdict'\\]"):
        compare.compare_verdicts(BOOK, RUN[["statement"]])
    with pytest.raises(ValueError, match="list statements twice: lemma1"):
        compare.compare_verdicts(pd.concat([BOOK, BOOK.iloc[1:2]]), RUN)
    with pytest.raises(ValueError, match="must be a DataFrame"):
        compare.compare_verdicts([], RUN)
    with pytest.raises(ValueError, match="not a table of verdict changes"):
        compare.format_changes(BOOK, "a", "b")


def _run_folder(d: Path, table: pd.DataFrame):
    d.mkdir(parents=True)
    (d / "run.json").write_text(json.dumps({"chapter": "glove", "status": "complete"}))
    table.to_csv(d / "verdicts.csv", index=False)


def test_compare_command_runs_and_sweeps(tmp_path, capsys):
    _run_folder(tmp_path / "a", BOOK)
    _run_folder(tmp_path / "b", RUN)
    code, out, _ = run_cli(capsys, "compare", str(tmp_path / "a"), str(tmp_path / "b"))
    assert code == 0
    assert out.splitlines()[0] == ("1 verdict(s) changed, 2 statement(s) on one side "
                                   "only")
    assert (f"Section 6.1.2, Table 1 (table1.k1_accuracy_gain): not reproduced "
            f"({tmp_path / 'a'}) -> confirmed ({tmp_path / 'b'})") in out
    for name, table in (("s1", BOOK), ("s2", RUN)):
        root = tmp_path / name
        _run_folder(root / "degrees-1", table)
        _run_folder(root / "degrees-2", BOOK)
        points = [{"value": 1, "status": "complete", "dir": "degrees-1"},
                  {"value": 2, "status": "complete", "dir": "degrees-2"}]
        if name == "s2":
            points.append({"value": 3, "status": "complete", "dir": "degrees-2"})
        (root / "sweep.json").write_text(json.dumps({"parameter": "degrees",
                                                     "points": points}))
    code, out, _ = run_cli(capsys, "compare", str(tmp_path / "s1"),
                           str(tmp_path / "s2"))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == ("degrees = 1: 1 verdict(s) changed, 2 statement(s) on one "
                        "side only")
    assert "degrees = 2: no verdict changed" in lines
    assert f"degrees = 3: only in {tmp_path / 's2'}" in lines
    code, _, err = run_cli(capsys, "compare", str(tmp_path / "s1"), str(tmp_path / "a"))
    assert code == 2 and "a sweep and a run" in err
    code, _, err = run_cli(capsys, "compare", str(tmp_path / "a"),
                           str(tmp_path / "nope"))
    assert code == 2 and "is not a folder" in err
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(capsys, "compare", str(tmp_path / "a"),
                           str(tmp_path / "empty"))
    assert code == 2 and "neither a rerun folder" in err


def test_compare_with_the_book(tmp_path, capsys, monkeypatch):
    _run_folder(tmp_path / "a", RUN)
    book = tmp_path / "verdicts.csv"
    monkeypatch.setattr(compare, "book_verdicts_path", lambda: book)
    code, _, err = run_cli(capsys, "compare", "book", str(tmp_path / "a"))
    assert code == 2 and "the book's verdicts are not built yet" in err
    BOOK.to_csv(book, index=False)
    code, out, _ = run_cli(capsys, "compare", "book", str(tmp_path / "a"))
    assert code == 0
    assert out.splitlines() == [  # statements on one side only are not news here
        "1 verdict(s) changed",
        "Section 6.1.2, Table 1 (table1.k1_accuracy_gain): not reproduced (book) -> "
        f"confirmed ({tmp_path / 'a'})"]


def test_verdicts_against_book_without_verdict_module(tmp_path, monkeypatch):
    monkeypatch.setattr(compare, "verdict_function", lambda: None)
    lines, changes = compare.verdicts_against_book("glove", tmp_path)
    assert changes is None and lines == [
        "verdicts not compared: aligned_latents.record.verdicts is not available"]


def test_rerun_page_links_all_verdicts_to_the_runs_file(tmp_path):
    """A verdict line's "all verdicts" link (``#verdicts``, the book's opening page)
    points to the run's own verdicts.csv on a rerun's page (nothing on that page has the
    label); left as it is when no verdicts are written."""
    import nbformat

    from aligned_latents.runs.rerun import write_html

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data={"text/markdown": '**Verdict** ([all verdicts](#verdicts "s"))'})]
    nb.cells = [cell]
    src = tmp_path / "c.ipynb"
    nbformat.write(nb, str(src))
    page = write_html(src, tmp_path / "a.html", "verdicts.csv").read_text()
    assert 'href="verdicts.csv"' in page and 'href="#verdicts"' not in page
    page = write_html(src, tmp_path / "b.html").read_text()
    assert 'href="#verdicts"' in page
