"""Sweeps that grow (issue 19): grids (``--sweep`` repeated), resumable sweeps, the Dask
executor, the sweep's progress line, and two rough edges of single reruns (``--out`` that
cannot be written, a ``vocab_size`` larger than the file).

The resume and executor mechanics run on a tiny fake chapter (a kernel start and one
short cell, a point fails while its flag file exists); the grid, in the local pool and
through a ``distributed.LocalCluster``, on the cheapest real chapter with tiny
parameters.
"""
from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from aligned_latents.runs import cli, executors, params, rerun, sweep, sweep_report
from test_rerun_atomic import FAKE_MD as ATOMIC_MD
from test_rerun_atomic import (
    fake,  # noqa: F401 - the fixture, used by flags
    run_cli,
)

CHEAP = "stretching"
TINY = ["-p", "n_draws", "3", "-p", "shapes", "[[2, 2]]", "-p", "fig2_samples", "20"]
GRID = ["--sweep", "fig2_c", "0", "1", "--sweep", "seed", "0", "1"]

#: The fake chapter of tests/test_rerun_atomic.py (its front matter) with other cells.
FAKE_MD = ATOMIC_MD.split("```{code-cell}")[0] + textwrap.dedent("""\
    ```{code-cell} ipython3
    :tags: [parameters]
    x = 1  # the measured value
    seed = 0  # a seed
    n = 10  # at most so many items; 3 are there
    ```

    ```{code-cell} ipython3
    import os
    from myst_nb import glue
    from aligned_latents.record.claims import Claims
    flag = os.path.join(os.environ.get("FAKE_FLAGS", "/nonexistent"), f"fail-{x}")
    assert not os.path.exists(flag), f"forced failure of x = {x}"
    glue("n_used", min(n, 3))
    c = Claims("fake", evidence="exact")
    c.close("fake", "x", 1.0, float(x), 10.0, statement="thm1")
    c.write()
    ```
    """)

FAKE_SCHEMA = {"x": params.Spec("int", minimum=0), "seed": params.Spec("int", minimum=0),
               "n": params.Spec("int", minimum=1, reported="n_used")}


@pytest.fixture
def flags(fake, tmp_path, monkeypatch):  # noqa: F811 - the imported fixture
    """The fake chapter of tests/test_rerun_atomic.py with this file's cells and schema;
    returns the folder of its flag files (``fail-X`` makes the point x = X fail)."""
    fake.write_text(FAKE_MD)
    monkeypatch.setitem(params.PARAMS, "fake", FAKE_SCHEMA)
    folder = tmp_path / "flags"
    folder.mkdir()
    monkeypatch.setenv("FAKE_FLAGS", str(folder))
    return folder


def kept(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f"{out.name}.failed-*"))


# -- planning a grid -------------------------------------------------------------------
def test_grid_plan_is_the_cross_product_named_by_every_value():
    points = sweep.plan_grid(CHEAP, {"n_draws": 3}, [("fig2_c", [0, 1.5]), ("seed", [0, 1])])
    assert [p.folder for p in points] == ["fig2_c-0__seed-0", "fig2_c-0__seed-1",
                                          "fig2_c-1.5__seed-0", "fig2_c-1.5__seed-1"]
    assert [p.values for p in points][1] == {"fig2_c": 0, "seed": 1}
    assert points[2].params == {"n_draws": 3, "fig2_c": 1.5, "seed": 0}
    with pytest.raises(ValueError, match="'seed' is swept twice"):
        sweep.plan_grid(CHEAP, {}, [("seed", [0]), ("seed", [1])])


def test_refused_grid_runs_nothing(tmp_path, capsys):
    """One bad value anywhere in the grid: one line, rc 2, nothing created."""
    out = tmp_path / "grid"
    code, stdout, err = run_cli(capsys, "rerun", CHEAP, *TINY, "--sweep", "fig2_c", "0",
                                "1", "--sweep", "seed", "0", "-1", "--out", str(out))
    assert code == 2 and stdout == ""
    assert err.count("\n") == 1 and "'seed' must be an integer >= 0, got -1" in err
    assert list(tmp_path.iterdir()) == []


# -- resuming --------------------------------------------------------------------------
def test_failed_point_then_resume_runs_only_that_point(flags, tmp_path, capsys):
    out = tmp_path / "s"
    (flags / "fail-2").touch()
    code, stdout, err = run_cli(capsys, "rerun", "fake", "--sweep", "x", "1", "2", "3",
                                "--keep-going", "-j", "2", "--out", str(out))
    assert code == 1 and not out.exists()
    (folder,) = kept(out)
    assert "x = 2 FAILED: cell" in err and "forced failure of x = 2" in err
    assert f"--resume {folder}" in err
    info = json.loads((folder / "sweep.json").read_text())
    assert [p["status"] for p in info["points"]] == ["complete", "failed", "complete"]
    assert "forced failure of x = 2" in info["points"][1]["error"]
    first = {v: json.loads((folder / f"x-{v}" / "run.json").read_text())["started"]
             for v in (1, 3)}

    (flags / "fail-2").unlink()
    code, stdout, err = run_cli(capsys, "rerun", "fake", "--resume", str(folder))
    assert code == 0, err
    assert "3 point(s), 1 to run, 2 kept from" in stdout
    assert "sweep: 1/1 done (0 failed)" in stdout
    assert not folder.exists() and not kept(out), "the kept sweep became DIR"
    info = json.loads((out / "sweep.json").read_text())
    assert info["status"] == "complete"
    assert [p.get("resumed_from") is not None for p in info["points"]] == [True, False,
                                                                           True]
    for v in (1, 3):  # not run again
        assert json.loads((out / f"x-{v}" / "run.json").read_text())["started"] == first[v]
    assert json.loads((out / "x-2" / "run.json").read_text())["status"] == "complete"
    assert not list(out.glob("x-2.failed-*"))
    df = pd.read_csv(out / "sweep.csv")
    assert sorted(df.loc[df["quantity"] == "claims_hold", "x"]) == [1, 2, 3]
    assert "complete in" in (out / "x-2.log").read_text()
    assert not (out / sweep.TOKEN_FILE).exists()


def test_resume_by_the_same_command_and_refusals(flags, tmp_path, capsys):
    out = tmp_path / "s"
    (flags / "fail-2").touch()
    argv = ["rerun", "fake", "--sweep", "x", "1", "2", "3", "-j", "1", "--out", str(out)]
    code, _, err = run_cli(capsys, *argv)
    assert code == 1
    (folder,) = kept(out)
    info = json.loads((folder / "sweep.json").read_text())
    # without --keep-going the failure stops the points not yet started
    assert [p["status"] for p in info["points"]] == ["complete", "failed", "not started"]
    assert "x-3: not started" in err

    # a point made with other package code is refused before anything runs
    rec_path = folder / "x-1" / "run.json"
    rec = json.loads(rec_path.read_text())
    rec_path.write_text(json.dumps(dict(rec, package_digest="0" * 64)))
    code, _, err = run_cli(capsys, *argv, "--resume")
    assert code == 2 and "other package code" in err and err.count("\n") == 1
    rec_path.write_text(json.dumps(rec))
    # another grid than the kept one's is refused
    code, _, err = run_cli(capsys, "rerun", "fake", "--sweep", "x", "1", "--out", str(out),
                           "--resume")
    assert code == 2 and "is not in this grid" in err

    (flags / "fail-2").unlink()
    code, stdout, err = run_cli(capsys, *argv, "--resume")
    assert code == 0, err
    assert "3 point(s), 2 to run, 1 kept" in stdout
    assert json.loads((out / "sweep.json").read_text())["status"] == "complete"
    code, stdout, _ = run_cli(capsys, *argv, "--resume")
    assert code == 0 and "nothing to resume" in stdout
    code, _, err = run_cli(capsys, "rerun", "fake", "--resume", str(tmp_path / "none"))
    assert code == 2 and "no kept sweep" in err


# -- executors -------------------------------------------------------------------------
def test_point_returns_as_an_archive_without_the_shared_folder(flags, tmp_path):
    """A worker that does not see the sweep's folder runs in a temporary folder and
    sends the finished point back."""
    stage = tmp_path / "stage"
    stage.mkdir()
    (stage / sweep.TOKEN_FILE).write_text("mine\n")
    res = executors.run_point("fake", {"x": 4}, str(stage / "x-4"), token="another")
    assert res["status"] == "complete" and res["archive"]
    assert not (stage / "x-4").exists()
    executors.unpack(res, stage)
    assert "archive" not in res
    rec = json.loads((stage / "x-4" / "run.json").read_text())
    assert rec["status"] == "complete" and rec["parameters"]["given"] == {"x": 4}
    assert "complete in" in (stage / "x-4.log").read_text()
    res = executors.run_point("fake", {"x": 5}, str(stage / "x-5"), token="mine")
    assert "archive" not in res and (stage / "x-5" / "run.json").is_file()


def test_progress_line():
    line = sweep._progress_line(8, 3, 1, 2, 60.0, [30.0, 50.0], 2)
    assert line == ("sweep: 4/8 done (1 failed), 2 running, 2 queued; 60 s elapsed, "
                    "about 80 s left")
    assert "time left unknown" in sweep._progress_line(2, 0, 0, 2, 5.0, [], 2)


def test_scheduler_that_cannot_be_reached_is_one_line(flags, tmp_path, capsys,
                                                       monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT_S", 2)
    out = tmp_path / "s"
    code, _, err = run_cli(capsys, "rerun", "fake", "--sweep", "x", "1", "--scheduler",
                           "tcp://127.0.0.1:9", "--out", str(out))
    assert code == 2 and "cannot connect" in err and err.count("\n") == 1
    assert not out.exists() and not kept(out)


# -- the grid on a real chapter: local pool and a Dask LocalCluster --------------------
@pytest.fixture(scope="module")
def local_grid(tmp_path_factory):
    out = tmp_path_factory.mktemp("grid") / "local"
    code = cli.main(["rerun", CHEAP, *TINY, *GRID, "-j", "2", "--out", str(out)])
    assert code == 0
    return out


def results_files(out: Path) -> dict:
    """Every results file of a sweep's points, but the execution stamps
    (``.execution.json``: an id unique to each execution, by design different)."""
    return {str(f.relative_to(out)): f.read_bytes()
            for f in sorted(out.glob("*/results/**/*"))
            if f.is_file() and not f.name.startswith(".")}


@pytest.mark.slow
def test_grid_in_the_local_pool(local_grid, capsys):
    out = local_grid
    info = json.loads((out / "sweep.json").read_text())
    assert info["status"] == "complete"
    assert info["sweeps"] == [["fig2_c", [0, 1]], ["seed", [0, 1]]]
    folders = ["fig2_c-0__seed-0", "fig2_c-0__seed-1", "fig2_c-1__seed-0",
               "fig2_c-1__seed-1"]
    assert [p["folder"] for p in info["points"]] == folders
    df = pd.read_csv(out / "sweep.csv")
    assert list(df.columns) == ["fig2_c", "seed", "run", "row", "quantity", "value"]
    assert len(df) == 4 * 2 and set(df["run"]) == set(folders)
    for f in folders:
        rec = json.loads((out / f / "run.json").read_text())
        c, s = (int(t.split("-")[1]) for t in f.split("__"))
        assert rec["parameters"]["given"]["fig2_c"] == c
        assert rec["parameters"]["given"]["seed"] == s
    assert (out / "sweep.png").stat().st_size > 1000
    code, stdout, _ = run_cli(capsys, "compare", str(out), str(out))
    assert code == 0 and stdout.count("no verdict changed") == 4


@pytest.mark.slow
def test_grid_through_dask_gives_identical_results(local_grid, tmp_path, monkeypatch,
                                                   capsys):
    distributed = pytest.importorskip("distributed")
    # the workers' BLAS threads as the local pool's (cores // 2 for two points at once)
    threads = str(max(1, (os.cpu_count() or 1) // 2))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.setenv(var, threads)
    out = tmp_path / "dask"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        code, stdout, err = run_cli(capsys, "rerun", CHEAP, *TINY, *GRID, "--scheduler",
                                    cluster.scheduler_address, "--out", str(out))
    assert code == 0, err
    assert "on Dask scheduler" in stdout and "2 worker(s)" in stdout
    info = json.loads((out / "sweep.json").read_text())
    assert info["status"] == "complete"
    mine, local = results_files(out), results_files(local_grid)
    assert len(mine) >= 4 and mine.keys() == local.keys()
    differ = [k for k in mine if mine[k] != local[k]]
    assert not differ, f"results differ from the local pool's: {differ}"


# -- rough edges of single reruns ------------------------------------------------------
@pytest.mark.parametrize("target", ["/proc/x", "/proc/x/y/z"])
def test_out_that_cannot_be_written_is_one_line(target, capsys):
    code, stdout, err = run_cli(capsys, "rerun", CHEAP, *TINY, "--out", target)
    assert code == 2 and stdout == ""
    assert err.count("\n") == 1 and "cannot write in /proc" in err
    assert not Path(target).exists() and not Path("/proc/x.lock").exists()


def test_vocab_size_beyond_the_default_file_refused(capsys, tmp_path):
    from aligned_latents.data.embeddings import default_size

    assert default_size() == 400_000  # glove.6B.50d
    code, _, err = run_cli(capsys, "rerun", "glove", "-p", "vocab_size", "900000", "--out",
                           str(tmp_path / "g"))
    assert code == 2 and err.count("\n") == 1
    assert "'vocab_size' = 900000 exceeds the 400,000 words" in err
    assert not (tmp_path / "g").exists()
    assert params.validate("glove", {"vocab_size": 400_000}) == {"vocab_size": 400_000}
    # another file's length is not known before reading it: the run reports it
    other = tmp_path / "vectors.txt"
    other.write_text("the 0.1 0.2\n")
    assert params.validate("glove", {"vocab_size": 900_000, "embeddings": str(other)})


def test_words_used_reported_in_output_and_run_json(flags, tmp_path, capsys):
    out = tmp_path / "r"
    code, stdout, err = run_cli(capsys, "rerun", "fake", "-p", "n", "900000", "-q",
                                "--out", str(out))
    assert code == 0, err
    assert "note: n = 900000 asked, 3 used (the input has fewer)" in stdout
    rec = json.loads((out / "run.json").read_text())
    assert rec["parameters"]["used"] == {"n": 3}
    assert rec["parameters"]["effective"]["n"] == 900000
    assert rerun.used_notes(dict(rec, parameters=dict(rec["parameters"],
                                                      used={"n": 900000}))) == []
    # the glove chapter glues the words it used, under the name its schema reports
    assert params.reported_parameters("glove") == {"vocab_size": "n_words"}
    glove = (Path(rerun.book_dir()) / "glove.md").read_text()
    assert 'glue("n_words", len(emb))' in glove


# -- the grid's plot: mean and band over seeds, a line per other value -----------------
def test_sweep_lines_mean_and_band_over_seeds(tmp_path):
    rows = []
    for k, vocab, seed, score in [(1, 50, 0, 0.5), (1, 50, 1, 0.7), (3, 50, 0, 0.6),
                                  (3, 50, 1, 0.6), (1, 90, 0, 0.4), (1, 90, 1, 0.4)]:
        rows.append({"degrees": json.dumps([k]), "vocab_size": vocab, "seed": seed,
                     "run": f"r{k}{vocab}{seed}", "row": f"Linear AE (k={k})",
                     "quantity": "analogy", "value": score})
    frame = pd.DataFrame(rows)
    lines, cats = sweep_report.sweep_lines(frame, ["degrees", "vocab_size", "seed"])
    assert cats is None  # one-element lists are numbers on the x axis
    at = lines.set_index(["series", "x"])
    one = at.loc[("Linear AE (k=*), vocab_size=50", 1.0)]
    assert (one["mean"], one["low"], one["high"], one["count"]) == (0.6, 0.5, 0.7, 2)
    assert at.loc[("Linear AE (k=*), vocab_size=50", 3.0), "high"] == 0.6
    assert at.loc[("Linear AE (k=*), vocab_size=90", 1.0), "mean"] == 0.4
    assert len(lines) == 3
    png = sweep_report.plot_sweep("glove", ["degrees", "vocab_size", "seed"], frame,
                           tmp_path / "sweep.png")
    assert png.stat().st_size > 1000


def test_a_sweep_record_from_before_grids_reads_as_a_grid_of_one():
    old = {"chapter": "glove", "parameter": "degrees", "values": [1, 3],
           "parameters": [{"degrees": 1, "seed": 0}, {"degrees": 3, "seed": 0}],
           "points": [{"value": 1, "status": "complete", "dir": "degrees-1"},
                      {"value": 3, "status": "failed", "dir": None}]}
    assert sweep.grid_of(old) == ([("degrees", [1, 3])], {"seed": 0})
    assert [sweep._folder_of(old, p) for p in old["points"]] == ["degrees-1", "degrees-3"]
    with pytest.raises(ValueError, match="names no swept parameter"):
        sweep.grid_of({"chapter": "glove"})
