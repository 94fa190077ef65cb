"""A chapter executed with other parameters than its defaults never writes into the book's
``results/`` (issue 20, item 4), and every results folder is stamped with the execution that
wrote it (the book build compares the stamp with the execution it shows)."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aligned_latents.util import execution, paths
from aligned_latents.util.paths import REPO_ROOT, RESULTS_ENV


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """Results in a temporary root; this process's notes and executions forgotten after."""
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path)
    monkeypatch.delenv(RESULTS_ENV, raising=False)
    monkeypatch.delenv(execution.LOG_ENV, raising=False)
    monkeypatch.setattr(paths, "_non_default", {})
    monkeypatch.setattr(execution, "_executions", {})
    monkeypatch.setattr(execution, "_stamps", {})
    monkeypatch.setattr(execution, "_networks", [])
    return tmp_path


def test_default_parameters_write_the_book_results_and_stamp_them(fresh):
    paths.note_parameters("stretching", {})
    out = paths.results_dir("stretching")
    assert out == fresh / "results" / "stretching"
    stamp = execution.read_stamp(out)
    assert stamp["chapter"] == "stretching" and len(stamp["execution"]) == 32
    assert stamp["non_default_parameters"] == {}
    assert paths.results_dir("stretching") == out  # same kernel: same execution
    assert execution.read_stamp(out) == stamp


def test_non_default_parameters_without_the_variable_are_refused(fresh):
    paths.note_parameters("stretching", {"n_draws": 50})
    with pytest.raises(ValueError, match=f"n_draws.*set {RESULTS_ENV} to a folder") as exc:
        paths.results_dir("stretching")
    assert "\n" not in str(exc.value)
    assert not (fresh / "results").exists()


def test_non_default_parameters_with_the_variable_go_there(fresh, monkeypatch):
    monkeypatch.setenv(RESULTS_ENV, str(fresh / "elsewhere"))
    paths.note_parameters("stretching", {"n_draws": 50})
    out = paths.results_dir("stretching")
    assert out == fresh / "elsewhere" / "stretching"
    assert execution.read_stamp(out)["non_default_parameters"] == {"n_draws": "50"}
    assert not (fresh / "results").exists()


def test_stamp_lists_the_networks_and_their_devices(fresh):
    import numpy as np

    from aligned_latents.theory import nonlinear_ae as nae

    paths.note_parameters("cmap", {})
    out = paths.results_dir("cmap")
    X = np.random.default_rng(0).standard_normal((64, 5)).astype(np.float32)
    config = nae.TrainConfig(8, max_epochs=2)
    for _ in range(2):  # trained, then reloaded from its weights
        nae.train_autoencoder(X, config, weights_dir=fresh / "w", device="cpu",
                              progress=False, desc="tiny AE")
    assert execution.read_stamp(out)["networks"] == [
        {"network": "tiny AE", "device": "cpu", "reloaded": False},
        {"network": "tiny AE", "device": "cpu", "reloaded": True}]


def test_check_notebook_parameters_notes_only_what_differs(monkeypatch):
    from aligned_latents.runs.params import check_notebook_parameters
    from aligned_latents.util.chapters import parameters

    monkeypatch.setattr(paths, "_non_default", {})
    defaults = {n: p.default for n, p in parameters("stretching").items()}
    check_notebook_parameters("stretching", dict(defaults))
    assert paths._non_default["stretching"] == {}
    check_notebook_parameters("stretching", dict(defaults, n_draws=50))
    assert paths._non_default["stretching"] == {"n_draws": 50}


def _tree_digest(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_papermill_with_other_parameters_leaves_the_book_results_byte_identical(tmp_path):
    """The issue's papermill line, without ALIGNED_LATENTS_RESULTS, on the real chapter
    (in a copy of the repository's book/ and results/, so that a build running meanwhile
    cannot interfere): the run stops with the one-line error naming the variable, and
    results/ is byte for byte the same."""
    root = tmp_path / "repo"
    shutil.copytree(REPO_ROOT / "book", root / "book", symlinks=True)
    results = root / "results"
    if (REPO_ROOT / "results" / "stretching").is_dir():
        shutil.copytree(REPO_ROOT / "results" / "stretching", results / "stretching")
    else:  # no build yet: a stand-in of the book's five-shape table
        (results / "stretching").mkdir(parents=True)
        (results / "stretching" / "lemma1_check.csv").write_text("h,d\n" + "1,1\n" * 5)
    before = _tree_digest(results)
    env = {k: v for k, v in os.environ.items()
           if k not in (RESULTS_ENV, execution.LOG_ENV)}
    env["ALIGNED_LATENTS_ROOT"] = str(root)
    bin_dir = Path(sys.executable).parent
    tool = {n: str(bin_dir / n) if (bin_dir / n).is_file() else shutil.which(n) or n
            for n in ("jupytext", "papermill")}
    cmd = (f"{tool['jupytext']} --to ipynb -o - book/stretching.md | {tool['papermill']} "
           f"--cwd book - {tmp_path / 'out.ipynb'} -p n_draws 50 "
           "-y 'shapes: [[2, 2], [4, 6]]'")
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert (f"stretching runs with non-default parameters (n_draws, shapes) and would "
            f"overwrite the book's results/stretching/: set {RESULTS_ENV} to a folder for "
            "this run's results") in proc.stdout + proc.stderr
    assert _tree_digest(results) == before
