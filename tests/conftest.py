"""Shared fixtures.

* ``run_chapter(name, **params)`` executes a chapter through papermill (the same code path as
  ``aligned-latents rerun``) into a temporary folder and returns that run's results folder.
* ``book_results(name)`` is the book's own ``results/<name>/`` as written by ``make book``
  (``make test`` builds the book before running pytest); a missing folder is a failure that
  says to build the book, not a skip.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from aligned_latents.util.paths import REPO_ROOT


def pytest_configure(config):
    """Under pytest-xdist (``make test``: one worker per CPU), every worker computes on one
    thread, and so do the kernels and processes it starts: two workers each running
    two-thread BLAS/torch operations on two cores wait on each other (measured: the full
    analogy-search test took 112 s beside another worker against 21 s alone)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"  # for the kernels and subprocesses the tests start
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # BLAS already loaded in this worker
    import torch

    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _close_figures():
    """Each test's figures are closed after it: pyplot keeps every figure it made until
    closed, and a worker runs many files' tests (matplotlib warned of more than 20 open
    figures)."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


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
