"""The ``aligned-latents`` command: argument parsing, refusals, real reruns and sweeps."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from aligned_latents import cli
from aligned_latents.chapters import CHAPTERS, Chapter, parameters
from aligned_latents.paths import REPO_ROOT

#: The chapter used for real reruns: the cheapest to execute.
CHEAP = "stretching"


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# -- parsing ----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, value", [
    ("3", 3), ("0.5", 0.5), ("[1,3]", [1, 3]), ("True", True), ("None", None),
    ("adam", "adam"), ("'adam'", "adam"), ("1e-3", 1e-3), ("[1, 'a']", [1, "a"]),
    ("(", "("), ("", ""),
])
def test_parse_value(text, value):
    assert cli.parse_value(text) == value
    assert type(cli.parse_value(text)) is type(value)


def test_parser_collects_params_and_sweep():
    args = cli.build_parser().parse_args(
        ["rerun", "glove", "-p", "seed", "3", "-p", "epochs", "2", "--sweep", "degrees", "1",
         "3", "--out", "x"])
    assert args.param == [["seed", "3"], ["epochs", "2"]]
    assert args.sweep == ["degrees", "1", "3"] and args.out == Path("x")


def test_list_shows_every_chapter_and_parameter(capsys):
    code, out, _ = run_cli(capsys, "list")
    assert code == 0
    for name in CHAPTERS:
        assert f"{name}:" in out
        for p in parameters(name).values():
            assert p.name in out and repr(p.default) in out


# -- refusals (before anything runs) ----------------------------------------------------------
def test_unknown_parameter_refused_with_valid_names(capsys, tmp_path):
    code, _, err = run_cli(capsys, "rerun", CHEAP, "-p", "no_such_name", "1",
                           "--out", str(tmp_path / "o"))
    assert code == 2
    assert "has no parameter 'no_such_name'" in err
    for name in parameters(CHEAP):
        assert name in err
    assert not (tmp_path / "o").exists(), "nothing may run (or be created) after a refusal"


def test_wrong_type_refused(capsys, tmp_path):
    spec = parameters(CHEAP)
    name = next(n for n, p in spec.items()
                if isinstance(p.default, (int, float)) and not isinstance(p.default, bool))
    code, _, err = run_cli(capsys, "rerun", CHEAP, "-p", name, "'text'", "--out",
                           str(tmp_path / "o"))
    assert code == 2 and f"parameter {name!r}" in err and "expects a value like" in err
    assert not (tmp_path / "o").exists()


def test_wrong_type_in_sweep_refused_before_any_run(capsys, tmp_path):
    name = next(n for n, p in parameters(CHEAP).items() if type(p.default) is int)
    code, _, err = run_cli(capsys, "rerun", CHEAP, "--sweep", name, "1", "oops", "--out",
                           str(tmp_path / "o"))
    assert code == 2 and "'oops'" in err
    assert not (tmp_path / "o").exists()


def test_other_refusals(capsys, tmp_path):
    out = str(tmp_path / "o")
    name = next(iter(parameters(CHEAP)))
    code, _, err = run_cli(capsys, "rerun", CHEAP, "--out", str(REPO_ROOT))
    assert code == 2 and "book's own results" in err
    code, _, err = run_cli(capsys, "rerun", CHEAP, "--out", str(REPO_ROOT / "results" / "x"))
    assert code == 2 and "book's own results" in err
    code, _, err = run_cli(capsys, "rerun", CHEAP, "-p", name, "1", "--sweep", name, "1", "2",
                           "--out", out)
    assert code == 2 and "both swept and set" in err
    code, _, err = run_cli(capsys, "rerun", CHEAP, "--sweep", name, "1", "1", "--out", out)
    assert code == 2 and "repeat" in err
    code, _, err = run_cli(capsys, "rerun", CHEAP, "--sweep", name, "--out", out)
    assert code == 2 and "at least one value" in err
    code, _, err = run_cli(capsys, "rerun", CHEAP, "-j", "0", "--out", out)
    assert code == 2 and "--jobs" in err
    with pytest.raises(SystemExit):  # argparse: unknown chapter
        cli.main(["rerun", "nochapter", "--out", out])
    assert "invalid choice" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_single_value_of_list_parameter_becomes_list(monkeypatch, tmp_path):
    """--sweep degrees 1 3 on a list-valued parameter runs [1] and [3]."""
    fake = tmp_path / "book"
    fake.mkdir()
    src = fake / "fake.md"
    src.write_text("```{code-cell} ipython3\n:tags: [parameters]\n"
                   "degrees = [1, 2]  # degrees k\nseed = 0  # random seed\n```\n")

    class FakeChapter(Chapter):
        @property
        def path(self):
            return src

    monkeypatch.setitem(CHAPTERS, "fake", FakeChapter("fake", "Fake", "nowhere"))
    runs = cli._validated("fake", {}, "degrees", [1, 3])
    assert runs == [{"degrees": [1], "seed": 0}, {"degrees": [3], "seed": 0}]
    runs = cli._validated("fake", {"seed": 5}, "degrees", [[1, 2]])
    assert runs == [{"degrees": [1, 2], "seed": 5}]


# -- real runs ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_real_rerun_of_a_cheap_chapter(tmp_path):
    """The console script, end to end: results under --out, the book's results untouched."""
    exe = Path(sys.executable).parent / "aligned-latents"
    assert exe.is_file(), "console script missing: pip install -e ."
    name, p = next(iter(parameters(CHEAP).items()))
    book_claims = REPO_ROOT / "results" / CHEAP / "claims.csv"
    before = book_claims.stat().st_mtime_ns if book_claims.exists() else None
    out = tmp_path / "run"
    proc = subprocess.run([str(exe), "rerun", CHEAP, "-p", name, repr(p.default), "-q",
                           "--out", str(out)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (out / f"{CHEAP}.ipynb").is_file()
    claims = pd.read_csv(out / "results" / CHEAP / "claims.csv")
    assert len(claims) > 0 and set(claims.columns) >= {"claim", "holds"}
    assert "done in" in proc.stdout
    after = book_claims.stat().st_mtime_ns if book_claims.exists() else None
    assert after == before, "a rerun wrote into the book's own results/"


def test_failed_run_leaves_partial_notebook_and_says_where(monkeypatch, tmp_path, capsys):
    src = tmp_path / "broken.md"
    src.write_text("---\njupytext:\n  text_representation:\n    extension: .md\n"
                   "    format_name: myst\nkernelspec:\n  display_name: Python 3\n"
                   "  language: python\n  name: python3\n---\n\n"
                   "```{code-cell} ipython3\n:tags: [parameters]\nx = 1  # a number\n```\n\n"
                   "```{code-cell} ipython3\nassert x == 1, 'x must be 1'\n```\n")

    class FakeChapter(Chapter):
        @property
        def path(self):
            return src

    monkeypatch.setitem(CHAPTERS, "broken", FakeChapter("broken", "Broken", "nowhere"))
    code, out, err = run_cli(capsys, "rerun", "broken", "-p", "x", "2", "-q",
                             "--out", str(tmp_path / "o"))
    nb = tmp_path / "o" / "broken.ipynb"
    assert code == 1
    assert "FAILED" in err and "AssertionError: x must be 1" in err
    assert f"the partial notebook is at {nb}" in err and nb.is_file()
    assert "x must be 1" in nb.read_text()


@pytest.mark.slow
def test_sweep_runs_in_parallel_and_writes_csv_and_plot(tmp_path, capsys):
    name = "seed" if "seed" in parameters(CHEAP) else next(
        n for n, p in parameters(CHEAP).items() if type(p.default) is int)
    out = tmp_path / "sweep"
    code, stdout, err = run_cli(capsys, "rerun", CHEAP, "--sweep", name, "1", "2", "--out",
                                str(out))
    assert code == 0, err
    df = pd.read_csv(out / "sweep.csv")
    assert sorted(df[name]) == [1, 2]
    assert {"claims_hold", "claims_total"} <= set(df.columns)
    for v in (1, 2):
        assert (out / f"{name}-{v}" / f"{CHEAP}.ipynb").is_file()
    assert (out / "sweep.png").stat().st_size > 1000
    assert "2/2 done" in stdout


# -- sweep tables and plots from fake runs (the GloVe headline numbers) --------------------------
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
    shutil.rmtree(dirs[2] / "results")  # a run that wrote nothing is reported, not dropped silently
    df, problems = cli.combine_sweep("glove", "degrees", [1, 3, 5], dirs)
    assert len(problems) == 1 and "table1.csv is missing" in problems[0]
    assert list(df.columns[:3]) == ["degrees", "run", "row"]
    assert list(df["degrees"]) == [1, 1, 3, 3]
    assert list(df["analogy"]) == [0.5, 0.55, 0.5, 0.6]
    png = cli.plot_sweep("glove", "degrees", df, tmp_path / "sweep.png")
    assert png.stat().st_size > 1000
    # rows naming the swept value follow one line across the sweep
    assert cli._series_key("linear k=3", 3) == cli._series_key("linear k=1", 1)
    assert cli._series_key("linear k=13", 3) == "linear k=13"


def test_headline_columns_checked(tmp_path):
    from aligned_latents.ledger import headline_frame

    res = tmp_path / "results" / "glove"
    res.mkdir(parents=True)
    pd.DataFrame({"model": ["a"], "analogy": [0.1]}).to_csv(res / "table1.csv", index=False)
    with pytest.raises(ValueError, match="lacks headline columns"):
        headline_frame("glove", res)
