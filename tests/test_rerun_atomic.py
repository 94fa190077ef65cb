"""Atomic reruns (aligned_latents.runs.rerun): DIR appears only complete; failed and
interrupted runs are kept apart; a lock keeps two runs out of one folder; run.json says
what ran.

Every execution here is a tiny fake chapter (a kernel start and two short cells).
"""
from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from aligned_latents.record import compare
from aligned_latents.runs import cli, output, params, provenance, rerun
from aligned_latents.util.chapters import CHAPTERS, Chapter

FAKE_MD = textwrap.dedent("""\
    ---
    jupytext:
      text_representation:
        extension: .md
        format_name: myst
    kernelspec:
      display_name: Python 3
      language: python
      name: python3
    ---

    # A fake chapter

    ```{code-cell} ipython3
    :tags: [parameters]
    x = 1  # must stay below 5
    data = None  # an input file
    sleep = 0.0  # seconds to wait
    ```

    ```{code-cell} ipython3
    import time
    from aligned_latents.util.paths import results_dir
    if sleep:  # tells a test that the kernel is in this cell
        (results_dir("fake") / "sleeping").write_text("")
    time.sleep(sleep)
    assert x < 5, "x must be below 5"
    text = open(data).read().strip() if data else ""
    (results_dir("fake") / "out.txt").write_text(f"x={x} data={data} text={text}")
    print("the answer is", x)
    ```
    """)

FAKE_SCHEMA = {"x": params.Spec("int", minimum=0),
               "data": params.Spec("path", optional=True),
               "sleep": params.Spec("float", minimum=0.0)}

#: Registers the fake chapter in a separate process (for the Ctrl-C and lock tests).
DRIVER = textwrap.dedent("""\
    import signal
    import sys
    # Ctrl-C as from a terminal, also when the tests run in a background job (a shell
    # starts those with SIGINT ignored, and Python then keeps it ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from pathlib import Path
    from aligned_latents.runs import cli
    from aligned_latents.runs import params
    from aligned_latents.util.chapters import CHAPTERS, Chapter

    class Fake(Chapter):
        @property
        def path(self):
            return Path(sys.argv[1])

    CHAPTERS["fake"] = Fake("fake", "Fake", "nowhere")
    params.PARAMS["fake"] = {"x": params.Spec("int", minimum=0),
                             "data": params.Spec("path", optional=True),
                             "sleep": params.Spec("float", minimum=0.0)}
    sys.exit(cli.main(sys.argv[2:]))
    """)


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A fake chapter 'fake' (parameters x, data, sleep); returns its source path."""
    src = tmp_path / "fake.md"
    src.write_text(FAKE_MD)

    class FakeChapter(Chapter):
        @property
        def path(self):
            return src

    monkeypatch.setitem(CHAPTERS, "fake", FakeChapter("fake", "Fake", "nowhere"))
    monkeypatch.setitem(params.PARAMS, "fake", FAKE_SCHEMA)
    return src


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def siblings(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(out.name))


def failed_dirs(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f"{out.name}.failed-*"))


# -- a complete run --------------------------------------------------------------------
def test_complete_run_writes_notebook_page_and_run_json(fake, tmp_path, monkeypatch,
                                                        capsys):
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "d.txt").write_text("hello\n")
    monkeypatch.chdir(tmp_path)  # the relative path below is resolved against it
    out = tmp_path / "runs" / "a"
    code, stdout, err = run_cli(capsys, "rerun", "fake", "-p", "x", "2", "-p", "data",
                                "inputs/d.txt", "-q", "--out", "runs/a")
    assert code == 0, err
    assert siblings(out) == ["a"], "no staging folder, lock or failed run may be left"
    data = str(tmp_path / "inputs" / "d.txt")
    written = (out / "results" / "fake" / "out.txt").read_text()
    assert written == f"x=2 data={data} text=hello"
    assert (out / "fake.ipynb").is_file()
    page = (out / "fake.html").read_text()
    assert "the answer is 2" in page and "<html" in page.lower()
    assert "done in" in stdout and str(out / "fake.html") in stdout

    rec = json.loads((out / "run.json").read_text())
    assert rec["chapter"] == "fake" and rec["status"] == "complete"
    assert rec["error"] is None
    assert rec["parameters"]["given"] == {"x": 2, "data": "inputs/d.txt"}
    assert rec["parameters"]["resolved"] == {"x": 2, "data": data}
    assert rec["parameters"]["effective"] == {"x": 2, "data": data, "sleep": 0.0}
    assert rec["package_version"] == "0.1.0"
    git = rec["git"]
    assert git is None or (len(git["commit"]) == 40 and "dirty" in git)
    assert set(rec["versions"]) >= {"python", "torch", "numpy", "jupyter-book",
                                    "papermill"}
    assert rec["device"].split()[0].split(":")[0] in ("cpu", "cuda", "unknown")
    start = dt.datetime.fromisoformat(rec["started"])
    end = dt.datetime.fromisoformat(rec["ended"])
    assert start <= end and start.tzinfo is not None and rec["seconds"] > 0
    code_cells = [c for c in rec["cells"] if c["status"] == "completed"]
    assert len(code_cells) == 3  # parameters, injected parameters, the chapter's cell
    assert all(isinstance(c["seconds"], float) for c in code_cells)
    import hashlib

    assert rec["inputs"] == {"data": {"path": data, "sha256": hashlib.sha256(
        b"hello\n").hexdigest()}}


# -- failed and interrupted runs -------------------------------------------------------
def test_failing_cell_leaves_no_dir_and_keeps_the_failed_run(fake, tmp_path, capsys):
    out = tmp_path / "o"
    code, _, err = run_cli(capsys, "rerun", "fake", "-p", "x", "7", "-q", "--out",
                           str(out))
    assert code == 1
    assert not out.exists()
    (kept,) = failed_dirs(out)
    assert kept.name.startswith("o.failed-") and len(kept.name) == len("o.failed-") + 15
    rec = json.loads((kept / "run.json").read_text())
    assert rec["status"] == "failed"
    assert "AssertionError: x must be below 5" in rec["error"]
    assert "FAILED" in err and "AssertionError: x must be below 5" in err
    assert f"the partial notebook is at {kept / 'fake.ipynb'}" in err
    assert "x must be below 5" in (kept / "fake.ipynb").read_text()
    assert "failed" in [c["status"] for c in rec["cells"]]
    assert not (tmp_path / "o.lock").exists()
    assert len(err.strip().splitlines()) == 1


def test_interrupt_in_process_is_clean(fake, tmp_path, capsys, monkeypatch):
    """KeyboardInterrupt during execution: exit 130, one line, the run kept as
    interrupted."""
    import papermill

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(papermill, "execute_notebook", interrupted)
    out = tmp_path / "o"
    code, _, err = run_cli(capsys, "rerun", "fake", "-q", "--out", str(out))
    assert code == 130
    assert not out.exists()
    (kept,) = failed_dirs(out)
    assert err == f"aligned-latents: interrupted; the partial run is kept in {kept}\n"
    rec = json.loads((kept / "run.json").read_text())
    assert rec["status"] == "interrupted" and rec["ended"]


def test_ctrl_c_stops_a_real_run_cleanly(fake, tmp_path):
    """SIGINT to the command while a cell runs: the kernel is stopped, exit 130, one
    line on stderr and no traceback, DIR absent, DIR.failed-*/run.json says
    interrupted."""
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    out = tmp_path / "o"
    proc = subprocess.Popen([sys.executable, str(driver), str(fake), "rerun", "fake",
                             "-p", "sleep", "60", "-q", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    # wait until the kernel is in the sleeping cell (a fixed wait after the notebook
    # appeared raced a kernel that started slowly on a busy machine)
    while (not list(tmp_path.glob("o.partial-*/results/fake/sleeping"))
           and time.time() - t0 < 120):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("aligned-latents: interrupted")
    assert not out.exists() and not (tmp_path / "o.lock").exists()
    (kept,) = failed_dirs(out)
    rec = json.loads((kept / "run.json").read_text())
    assert rec["status"] == "interrupted"
    assert time.time() - t0 < 100


# -- one folder, one run ---------------------------------------------------------------
def test_two_runs_into_one_folder_never_mix(fake, tmp_path, capsys):
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    out = tmp_path / "o"
    first = subprocess.Popen([sys.executable, str(driver), str(fake), "rerun", "fake",
                              "-p", "x", "1", "-p", "sleep", "4", "-q", "--out",
                              str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        t0 = time.time()
        while not (tmp_path / "o.lock").exists() and time.time() - t0 < 60:
            time.sleep(0.1)
        code, _, err = run_cli(capsys, "rerun", "fake", "-p", "x", "2", "-q", "--out",
                               str(out))
        assert code == 2
        assert f"is being written by another rerun (pid {first.pid}" in err
        assert len(err.strip().splitlines()) == 1
        _, ferr = first.communicate(timeout=120)
    finally:
        first.kill()
    assert first.returncode == 0, ferr
    assert (out / "results" / "fake" / "out.txt").read_text().startswith("x=1 ")
    assert siblings(out) == ["o"]


def test_lock_of_a_live_process_refused_stale_lock_taken_over(fake, tmp_path, capsys):
    out = tmp_path / "o"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / "o.lock").write_text(f"{holder.pid}\n")
        code, _, err = run_cli(capsys, "rerun", "fake", "-q", "--out", str(out))
        assert code == 2 and f"pid {holder.pid}" in err and not out.exists()
        with pytest.raises(ValueError, match="being written by another rerun"):
            with output.hold_lock(out):
                pass
    finally:
        holder.kill()
        holder.wait()
    assert not output.pid_alive(holder.pid)
    # the lock's process is gone now: the lock is stale and taken over
    code, _, err = run_cli(capsys, "rerun", "fake", "-q", "--out", str(out))
    assert code == 0, err
    assert (out / "run.json").is_file() and not (tmp_path / "o.lock").exists()


def test_non_empty_out_needs_force_and_force_replaces_only_when_complete(fake, tmp_path,
                                                                         capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "old.txt").write_text("keep me")
    code, stdout, err = run_cli(capsys, "rerun", "fake", "-q", "--out", str(out))
    assert code == 2 and "is not empty; give --force" in err and stdout == ""
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]
    code, _, err = run_cli(capsys, "rerun", "fake", "-p", "x", "9", "--force", "-q",
                           "--out", str(out))
    assert code == 1
    assert (out / "old.txt").read_text() == "keep me", "a failed run replaced DIR"
    code, _, err = run_cli(capsys, "rerun", "fake", "-p", "x", "3", "--force", "-q",
                           "--out", str(out))
    assert code == 0, err
    assert not (out / "old.txt").exists()
    assert (out / "results" / "fake" / "out.txt").read_text().startswith("x=3 ")
    assert [p for p in siblings(out) if ".failed-" not in p] == ["o"]


def test_empty_existing_out_is_used(fake, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    run = rerun.execute_chapter("fake", {"x": 4}, out, progress=False, verdicts=False)
    assert run.out == out and (out / "run.json").is_file() and run.seconds > 0


def test_out_a_file_is_one_line_error(fake, tmp_path, capsys):
    f = tmp_path / "file.txt"
    f.write_text("x")
    code, _, err = run_cli(capsys, "rerun", "fake", "-q", "--out", str(f))
    assert code == 2 and err == (f"aligned-latents: error: --out {f} is a file, not a "
                                 "folder; choose a folder\n")
    code, _, err = run_cli(capsys, "rerun", "fake", "--sweep", "x", "1", "2", "--out",
                           str(f))
    assert code == 2 and "is a file" in err


def test_refusals_come_before_anything_runs(fake, tmp_path, capsys):
    out = tmp_path / "o"
    for argv in (["-p", "x", "-1"], ["-p", "x", "1.5"], ["-p", "data", "missing.txt"],
                 ["--sweep", "x", "1", "1.0"], ["--sweep", "x", "1", "-2"]):
        code, stdout, err = run_cli(capsys, "rerun", "fake", *argv, "--out", str(out))
        assert code == 2 and ("parameter 'x'" in err or "parameter 'data'" in err), err
        assert len(err.strip().splitlines()) == 1 and stdout == ""
    assert list(tmp_path.iterdir()) == [tmp_path / "fake.md"]


# -- verdicts against the book's -------------------------------------------------------
def _fake_verdicts(verdict: str):
    def table(root, chapters=None):
        assert chapters == ["fake"] and (Path(root) / "fake" / "out.txt").is_file()
        return pd.DataFrame({"statement": ["s1", "s2"],
                             "location": ["Table 1", "Lemma 1"],
                             "evidence": ["simulation", "exact"],
                             "verdict": [verdict, "confirmed"]})
    return table


def test_verdict_changes_printed_and_written(fake, tmp_path, capsys, monkeypatch):
    book = tmp_path / "book_verdicts.csv"
    pd.DataFrame({"statement": ["s1", "s2", "other"],
                  "location": ["Table 1", "Lemma 1", "x"], "evidence": ["", "", ""],
                  "verdict": ["not reproduced", "confirmed", "partly"]}
                 ).to_csv(book, index=False)
    monkeypatch.setattr(compare, "verdict_function",
                        lambda: _fake_verdicts("confirmed"))
    monkeypatch.setattr(compare, "book_verdicts_path", lambda: book)
    out = tmp_path / "o"
    code, stdout, err = run_cli(capsys, "rerun", "fake", "-q", "--out", str(out))
    assert code == 0, err
    assert "1 verdict(s) changed" in stdout
    assert "Table 1 (s1): not reproduced (book) -> confirmed (this run)" in stdout
    changes = pd.read_csv(out / "verdict_changes.csv")
    assert list(changes["statement"]) == ["s1"]
    assert list(pd.read_csv(out / "verdicts.csv")["statement"]) == ["s1", "s2"]
    assert json.loads((out / "run.json").read_text())["verdicts"]["changed"] == 1

    monkeypatch.setattr(compare, "verdict_function",
                        lambda: _fake_verdicts("not reproduced"))
    code, stdout, _ = run_cli(capsys, "rerun", "fake", "-q", "--out",
                              str(tmp_path / "p"))
    assert code == 0 and "no verdict changed" in stdout

    code, stdout, _ = run_cli(capsys, "compare", str(out), str(tmp_path / "p"))
    assert code == 0
    line = f"Table 1 (s1): confirmed ({out}) -> not reproduced ({tmp_path / 'p'})"
    assert line in stdout

    book.unlink()
    code, stdout, _ = run_cli(capsys, "rerun", "fake", "-q", "--out",
                              str(tmp_path / "q"))
    assert code == 0 and "the book's verdicts are not built yet" in stdout
    assert not (tmp_path / "q" / "verdict_changes.csv").exists()


# -- sweeps: every point an atomic run -------------------------------------------------
def test_sweep_points_are_atomic_runs(fake, tmp_path, capsys):
    out = tmp_path / "s"
    code, stdout, err = run_cli(capsys, "rerun", "fake", "--sweep", "x", "1", "8", "-j",
                                "2", "--out", str(out))
    assert code == 1, err
    assert not out.exists(), "a sweep with a failed point is not put in place"
    (kept,) = failed_dirs(out)
    info = json.loads((kept / "sweep.json").read_text())
    assert info["status"] == "failed" and info["values"] == [1, 8]
    ok, bad = info["points"]
    assert ok["status"] == "complete" and ok["dir"] == "x-1"
    assert json.loads((kept / "x-1" / "run.json").read_text())["status"] == "complete"
    assert bad["status"] == "failed" and bad["dir"].startswith("x-8.failed-")
    bad_run = json.loads((kept / bad["dir"] / "run.json").read_text())
    assert bad_run["status"] == "failed"
    assert not (kept / "x-8").exists()
    assert "2/2 done" in stdout and "x = 8 FAILED" in err
    assert not list(tmp_path.glob("s.partial-*")) and not (tmp_path / "s.lock").exists()


def test_git_state_without_git(tmp_path, monkeypatch):
    """run.json tolerates a checkout that is not a git repository, or no git at all."""
    assert provenance.git_state(tmp_path) is None
    monkeypatch.setenv("PATH", str(tmp_path))  # no git program on the PATH
    assert provenance.git_state() is None
