"""Shared fixtures.

* ``run_chapter(name, **params)`` executes a chapter through papermill (the same code path as
  ``aligned-latents rerun``) into a temporary folder and returns that run's results folder.
* ``book_results(name)`` is the book's own ``results/<name>/`` as written by ``make book``
  (``make test`` builds the book before running pytest); a missing folder is a failure that
  says to build the book, not a skip.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from aligned_latents.util.paths import REPO_ROOT


@pytest.fixture(scope="session")
def run_chapter(tmp_path_factory):
    from aligned_latents.runs.rerun import execute_chapter

    def _run(name: str, **params) -> Path:
        out = tmp_path_factory.mktemp(f"rerun-{name}")
        execute_chapter(name, params, out, progress=False)
        return out / "results" / name

    return _run


@pytest.fixture(scope="session")
def book_results():
    def _get(name: str) -> Path:
        path = REPO_ROOT / "results" / name
        if not (path / "claims.csv").is_file():
            pytest.fail(f"{path}/claims.csv is missing: build the book first (make book); "
                        "make test does this before running pytest")
        return path

    return _get
