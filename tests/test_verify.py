"""``aligned-latents verify`` (``make verify``): a rebuild from nothing, compared with the
committed baselines by the baseline tests themselves. The full rebuild takes as long as a
cold ``make book``; these tests check what it runs and how it reports, with the two
commands stubbed."""
from __future__ import annotations

import subprocess

import pytest

from aligned_latents.runs import cli, verify
from aligned_latents.util.execution import LOG_ENV
from aligned_latents.util.paths import REPO_ROOT, RESULTS_ENV


def test_rebuild_is_isolated_from_the_book(tmp_path, monkeypatch):
    monkeypatch.setenv(LOG_ENV, "/somewhere")
    env = verify.environment(tmp_path)
    assert env[RESULTS_ENV] == str(tmp_path / "results")
    assert env["ALIGNED_LATENTS_WEIGHTS"] == str(tmp_path / "weights")  # no saved weights
    assert LOG_ENV not in env
    build, compare = verify.commands(tmp_path)
    assert build[1:] == ["build", str(REPO_ROOT / "book"), "--path-output", str(tmp_path),
                         "-W", "-n", "--keep-going"]  # fresh _build/ and cache in tmp_path
    assert all((REPO_ROOT / t).is_file() for t in verify.BASELINE_TESTS)
    assert compare[-len(verify.BASELINE_TESTS):] == list(verify.BASELINE_TESTS)
    assert "--mpl" in compare


def test_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "old").write_text("x")
    assert cli.main(["verify", "--out", str(tmp_path)]) == 2


@pytest.mark.parametrize(("codes", "status", "says"), [
    ((0, 0), 0, "matches tests/baselines/"),
    ((0, 1), 1, "DIFFERS from tests/baselines/"),
    ((1,), 1, "the build failed"),
])
def test_reports_the_comparison(tmp_path, monkeypatch, capsys, codes, status, says):
    calls = []

    def fake_run(cmd, cwd, env):
        calls.append((cmd, env))
        return subprocess.CompletedProcess(cmd, codes[len(calls) - 1])

    monkeypatch.setattr(verify.subprocess, "run", fake_run)
    assert verify.verify(tmp_path / "new") == status
    assert len(calls) == len(codes)
    assert all(env[RESULTS_ENV] == str(tmp_path / "new" / "results") for _, env in calls)
    assert says in capsys.readouterr().out
