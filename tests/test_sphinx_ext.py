"""A chapter's cached execution is reused only while every input it depends on is unchanged
(issue 20): the package modules its kernel imported (any subfolder), the package's other
files (``paper_statements.csv``), the files of ``data/`` and the library versions; the build
says per chapter why it ran, and re-executes (and Sphinx re-reads) a chapter whose key
changed. The tiny book at the end runs the real ``jupyter-book build``."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from aligned_latents.book.side_by_side import OTHERS_NICENESS
from aligned_latents.book.sphinx_ext import (
    RECORDS,
    Inputs,
    changes,
    chapter_key,
    current_inputs,
    data_files,
    record_key,
    record_of,
    status_line,
)
from aligned_latents.util.files import package_digest, package_files
from aligned_latents.util.paths import REPO_ROOT


@pytest.fixture
def tree(tmp_path):
    """A small package (a subfolder module, a CSV) and a data folder (committed, fetched)."""
    pkg, data = tmp_path / "pkg", tmp_path / "data"
    (pkg / "book" / "figures").mkdir(parents=True)
    (pkg / "book" / "figures" / "glove.py").write_text("def figure3():\n    return 1\n")
    (pkg / "book" / "figures" / "cmap.py").write_text("def figure4():\n    return 1\n")
    (pkg / "record").mkdir()
    (pkg / "record" / "paper_statements.csv").write_text("id,quote\na,b\n")
    (pkg / "book" / "figures" / "__pycache__").mkdir()
    (pkg / "book" / "figures" / "__pycache__" / "glove.cpython-311.pyc").write_bytes(b"x")
    (data / "external").mkdir(parents=True)
    (data / "MEN.txt").write_text("cat dog 40\n")
    (data / "external" / "fluVaccine.RData").write_bytes(b"\x00\x01")
    return pkg, data


def _inputs(pkg, data, versions=None):
    return Inputs(package_files(pkg), data_files(data),
                  versions or {"numpy": "2.0.0", "torch": "2.3.0"})


def _glove_record(pkg, data):
    """The record of a GloVe execution that imported figures/glove.py only."""
    return record_of(["book/figures/glove.py"], _inputs(pkg, data), "e1")


def test_key_unchanged_when_nothing_changed(tree):
    pkg, data = tree
    rec = _glove_record(pkg, data)
    assert chapter_key(rec, _inputs(pkg, data)) == record_key(rec)
    assert changes(rec, _inputs(pkg, data)) == []


def test_package_files_cover_every_extension_recursively(tree):
    pkg, _ = tree
    assert set(package_files(pkg)) == {"book/figures/glove.py", "book/figures/cmap.py",
                                       "record/paper_statements.csv"}  # no __pycache__


def test_package_digest_follows_every_file(tree):
    pkg, _ = tree
    first = package_digest(pkg)
    (pkg / "record" / "paper_statements.csv").write_text("id,quote\na,c\n")
    assert package_digest(pkg) != first
    assert len(package_digest()) == 64  # the package itself


def test_key_follows_an_imported_subfolder_module_only(tree):
    pkg, data = tree
    rec = _glove_record(pkg, data)
    (pkg / "book" / "figures" / "cmap.py").write_text("def figure4():\n    return 2\n")
    assert chapter_key(rec, _inputs(pkg, data)) == record_key(rec)  # not imported by glove
    (pkg / "book" / "figures" / "glove.py").write_text("def figure3():\n    return 2\n")
    assert chapter_key(rec, _inputs(pkg, data)) != record_key(rec)
    assert changes(rec, _inputs(pkg, data)) == [
        "code/aligned_latents/book/figures/glove.py changed"]


def test_key_follows_paper_statements_csv(tree):
    pkg, data = tree
    rec = _glove_record(pkg, data)
    (pkg / "record" / "paper_statements.csv").write_text("id,quote\na,c\n")
    assert chapter_key(rec, _inputs(pkg, data)) != record_key(rec)
    assert changes(rec, _inputs(pkg, data)) == [
        "code/aligned_latents/record/paper_statements.csv changed"]
    (pkg / "record" / "new.json").write_text("{}")
    assert "code/aligned_latents/record/new.json added" in changes(rec, _inputs(pkg, data))


@pytest.mark.parametrize("rel", ["MEN.txt", "external/fluVaccine.RData"])
def test_key_follows_data_files(tree, rel):
    pkg, data = tree
    rec = _glove_record(pkg, data)
    (data / rel).write_bytes((data / rel).read_bytes() + b"1")
    assert chapter_key(rec, _inputs(pkg, data)) != record_key(rec)
    assert changes(rec, _inputs(pkg, data)) == [f"data/{rel} changed"]
    (data / rel).unlink()
    assert changes(rec, _inputs(pkg, data)) == [f"data/{rel} removed"]


def test_key_follows_library_versions(tree):
    pkg, data = tree
    rec = _glove_record(pkg, data)
    newer = _inputs(pkg, data, {"numpy": "2.1.0", "torch": "2.3.0"})
    assert chapter_key(rec, newer) != record_key(rec)
    assert changes(rec, newer) == ["numpy 2.0.0 -> 2.1.0"]


def test_data_index_spares_hashing_and_sees_edits(tree):
    _, data = tree
    index = {}
    first = data_files(data, index)
    assert set(index) == {"MEN.txt", "external/fluVaccine.RData"}
    # same size and mtime: the recorded hash is taken without reading the file
    index["MEN.txt"][2] = "recorded"
    assert data_files(data, index)["MEN.txt"] == "recorded"
    # an edit (new mtime) is hashed again
    (data / "MEN.txt").write_text("cat dog 41\n")
    os.utime(data / "MEN.txt", ns=(1, 1))
    assert data_files(data, index)["MEN.txt"] not in ("recorded", first["MEN.txt"])


def test_current_inputs_of_the_installed_package():
    now = current_inputs()
    assert "book/figures/glove.py" in now.package
    assert "record/paper_statements.csv" in now.package_data
    assert {"numpy", "scipy", "torch", "pandas", "scikit-learn", "gensim", "matplotlib",
            "h5py"} <= set(now.versions)
    assert now.versions["numpy"] is not None


def test_status_line():
    assert status_line("glove", []) == "glove: from cache"
    assert status_line("glove", ["numpy 1 -> 2", "data/MEN.txt changed"]) == (
        "glove: executed because: numpy 1 -> 2; data/MEN.txt changed")


# -- a tiny book through the real jupyter-book build ----------------------------------

CONFIG = """\
title: tiny
execute:
  execute_notebooks: cache
  run_in_temp: false
sphinx:
  extra_extensions:
    - aligned_latents.book.sphinx_ext
"""

TOC = "format: jb-book\nroot: index\nchapters:\n  - file: stretching\n"

# the front matter (jupytext, kernel) of the book's own chapters
FRONT_MATTER = "---\n" + (REPO_ROOT / "book" / "stretching.md").read_text().split("---\n")[1] \
    + "---\n"

CHAPTER = FRONT_MATTER + """\
# Tiny

```{code-cell} ipython3
from aligned_latents.book.figures import stretching  # noqa: F401
from aligned_latents.util.paths import data_dir, results_dir

out = results_dir("stretching")
print("DATA:", (data_dir() / "MEN.txt").read_text().strip())
```
"""


def _build(root: Path) -> tuple[str, str]:
    env = dict(os.environ, ALIGNED_LATENTS_ROOT=str(root))
    for var in ("ALIGNED_LATENTS_RESULTS", "ALIGNED_LATENTS_EXECUTION_LOG"):
        env.pop(var, None)
    exe = Path(sys.executable).parent / "jupyter-book"
    proc = subprocess.run([str(exe if exe.is_file() else "jupyter-book"), "build",
                           str(root / "book"), "--path-output", str(root)],
                          cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    status = re.findall(r"\[aligned_latents\] (stretching: .*)", proc.stdout + proc.stderr)
    page = (root / "_build" / "html" / "stretching.html").read_text()
    return (status[0] if status else ""), page


def test_tiny_book_reexecutes_a_chapter_whose_key_changed(tmp_path):
    root = tmp_path / "repo"
    (root / "book").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "data" / "MEN.txt").write_text("first")
    (root / "book" / "_config.yml").write_text(CONFIG)
    (root / "book" / "_toc.yml").write_text(TOC)
    (root / "book" / "index.md").write_text("# Index\n")
    (root / "book" / "stretching.md").write_text(CHAPTER)
    cache = root / "_build" / ".jupyter_cache"

    status, page = _build(root)
    assert status.startswith("stretching: executed because: its code has no cached")
    assert "DATA: first" in page
    record = json.loads((cache / RECORDS / "stretching.json").read_text())
    # the modules the kernel imported, a subfolder module among them
    assert {"book/figures/stretching.py", "util/paths.py"} <= set(record["modules"])
    stamp = json.loads((root / "results" / "stretching" / ".execution.json").read_text())
    assert stamp["execution"] == record["execution"]

    status, page = _build(root)  # nothing changed
    assert status == "stretching: from cache"
    assert json.loads((root / "results" / "stretching" / ".execution.json").read_text()
                      ) == stamp

    (root / "data" / "MEN.txt").write_text("second")  # a data file the chapter reads
    status, page = _build(root)
    assert status == "stretching: executed because: data/MEN.txt changed"
    assert "DATA: second" in page  # re-executed and re-read by Sphinx

    # a recorded module whose hash differs = that subfolder module was edited since
    record = json.loads((cache / RECORDS / "stretching.json").read_text())
    record["modules"]["book/figures/stretching.py"] = "0" * 64
    (cache / RECORDS / "stretching.json").write_text(json.dumps(record))
    status, _ = _build(root)
    assert status == ("stretching: executed because: "
                      "code/aligned_latents/book/figures/stretching.py changed")
    new = json.loads((root / "results" / "stretching" / ".execution.json").read_text())
    assert new["execution"] != stamp["execution"]

    # results/stretching/ replaced by another execution (papermill with the defaults, say)
    stamp_path = root / "results" / "stretching" / ".execution.json"
    stamp_path.write_text(json.dumps(dict(new, execution="f" * 32)))
    status, _ = _build(root)
    assert status.startswith("stretching: executed because: results/stretching/ was written "
                             "by another execution")


def test_ledger_pages_refuse_results_of_another_execution(tmp_path, monkeypatch):
    """The check made when the opening and errata pages are read: a results folder whose
    stamp is not the execution recorded for the cache is reported (a warning: -W fails)."""
    from types import SimpleNamespace

    from aligned_latents.book import sphinx_ext
    from aligned_latents.util import paths

    cache, results = tmp_path / "cache", tmp_path / "results"
    monkeypatch.setattr(paths, "results_root", lambda: results)
    for name in ("stretching", "gaussians"):
        (results / name).mkdir(parents=True)
        (results / name / ".execution.json").write_text(json.dumps({"execution": name}))
        (cache / RECORDS).mkdir(parents=True, exist_ok=True)
        (cache / RECORDS / f"{name}.json").write_text(json.dumps({"execution": name}))
    (results / "gaussians" / ".execution.json").write_text(json.dumps({"execution": "x"}))
    warnings = []
    monkeypatch.setattr(sphinx_ext.logger, "warning",
                        lambda msg, **kw: warnings.append(msg))
    app = SimpleNamespace(env=SimpleNamespace(aligned_latents_cache=str(cache)))
    sphinx_ext._check_stamps(app, "reruns", [""])  # not a page that reads the results
    assert warnings == []
    sphinx_ext._check_stamps(app, "intro", [""])
    flagged = [w for w in warnings if "does not hold the results" in w]
    assert any("gaussians" in w for w in flagged)
    assert not any("of stretching" in w for w in flagged)


def test_status_command_prints_one_line_per_chapter(tmp_path, capsys):
    from aligned_latents.runs import cli
    from aligned_latents.util.chapters import CHAPTERS

    assert cli.main(["status", "--cache", str(tmp_path / "no-cache")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{c}: executed because: its code has no cached execution"
                     for c in CHAPTERS]


# -- chapters executed side by side (aligned_latents.book.side_by_side) ----------------

SIDE_CHAPTER = FRONT_MATTER + """\
# {name}

```{{code-cell}} ipython3
import json, os, time
from aligned_latents.util.paths import results_dir

start = time.time()
top = results_dir("{name}").parent  # (results_dir stamps the folder it is asked for)
(top / "started-{name}").touch()
{extra}
while time.time() - start < 60:  # both chapters running at once: each sees the other
    both = [(top / f"started-{{n}}").exists() for n in ("stretching", "gaussians")]
    if all(both):
        break
    time.sleep(0.1)
(results_dir("{name}") / "span.json").write_text(
    json.dumps([start, time.time(), os.nice(0), all(both)]))
print("RAN {name}")
```
"""


def _side_book(root: Path, extra: dict | None = None) -> None:
    (root / "book").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "book" / "_config.yml").write_text(
        CONFIG + "  config:\n    aligned_latents_execution_jobs: 2\n")
    (root / "book" / "_toc.yml").write_text(
        "format: jb-book\nroot: index\nchapters:\n  - file: stretching\n  - file: gaussians\n")
    (root / "book" / "index.md").write_text("# Index\n")
    for name in ("stretching", "gaussians"):
        (root / "book" / f"{name}.md").write_text(
            SIDE_CHAPTER.format(name=name, extra=(extra or {}).get(name, "")))


def _jb(root: Path):
    env = dict(os.environ, ALIGNED_LATENTS_ROOT=str(root))
    for var in ("ALIGNED_LATENTS_RESULTS", "ALIGNED_LATENTS_EXECUTION_LOG"):
        env.pop(var, None)
    exe = Path(sys.executable).parent / "jupyter-book"
    return subprocess.run([str(exe if exe.is_file() else "jupyter-book"), "build",
                           str(root / "book"), "--path-output", str(root)],
                          cwd=root, env=env, capture_output=True, text=True, timeout=600)


def test_chapters_run_side_by_side_and_land_in_the_cache(tmp_path):
    root = tmp_path / "repo"
    _side_book(root)
    proc = _jb(root)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert "executing 2 chapters side by side, 2 at a time: gaussians, stretching" in log
    spans = [json.loads((root / "results" / n / "span.json").read_text())
             for n in ("stretching", "gaussians")]
    # the two ran at once: each saw the other started before it ended (a handshake, not
    # a fixed sleep, so a slow kernel start on a loaded machine does not matter)
    assert all(s[3] for s in spans), spans
    assert max(s[0] for s in spans) < min(s[1] for s in spans)
    # the longest chapter (by Chapter.cost: gaussians) at the build's priority, the other
    # lower
    assert spans[0][2] - spans[1][2] == OTHERS_NICENESS
    cache = root / "_build" / ".jupyter_cache"
    for name in ("stretching", "gaussians"):
        page = (root / "_build" / "html" / f"{name}.html").read_text()
        assert f"RAN {name}" in page
        # myst-nb took the execution from the cache; the kernel listed its modules
        assert re.search(rf"reading sources\.\.\. .*{name}", log)
        record = json.loads((cache / RECORDS / f"{name}.json").read_text())
        assert "util/paths.py" in record["modules"]
        stamp = json.loads((root / "results" / name / ".execution.json").read_text())
        assert stamp["execution"] == record["execution"]

    again = _jb(root)  # nothing changed: both from the cache, nothing run
    log = again.stdout + again.stderr
    assert again.returncode == 0, log[-3000:]
    assert "side by side" not in log
    assert "stretching: from cache" in log and "gaussians: from cache" in log


def test_a_chapter_failing_side_by_side_fails_the_build_as_usual(tmp_path):
    root = tmp_path / "repo"
    _side_book(root, extra={"gaussians": 'raise RuntimeError("planted failure")'})
    proc = _jb(root)
    log = proc.stdout + proc.stderr
    assert "side by side: gaussians failed" in log
    assert "side by side: stretching executed in" in log
    # myst-nb ran it again while reading the page and reported the cell's error (a
    # warning here; the book's -W and nb_execution_raise_on_error make it fail the build)
    assert "Executing notebook failed" in log
    report = root / "_build" / "html" / "reports" / "gaussians.err.log"
    assert "planted failure" in report.read_text()
    assert (root / "results" / "stretching" / "span.json").is_file()


def test_build_jobs_default_and_refusals(monkeypatch):
    from aligned_latents.book import side_by_side

    monkeypatch.setattr(side_by_side.os, "sched_getaffinity", lambda pid: set(range(2)))
    assert side_by_side.build_jobs(0) == 1  # 2 CPUs: off (measured no faster there)
    monkeypatch.setattr(side_by_side.os, "sched_getaffinity", lambda pid: set(range(8)))
    assert side_by_side.build_jobs(0) == 4 and side_by_side.build_jobs(3) == 3
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="aligned_latents_execution_jobs must be"):
            side_by_side.build_jobs(bad)
