"""End to end on the real book (issue 20): an edit of a figure module in a subfolder of the
package shows on the page at the next build, and reverting it brings the page back.

Runs after ``make book`` (``make test`` builds the book first): it edits
``code/aligned_latents/book/figures/stretching.py`` (a line printed when the chapter imports
it), rebuilds with the command of ``make book``, checks that only the stretching chapter was
executed and that its page shows the line, then restores the file and rebuilds. The cheapest
chapter is re-executed twice, every other one comes from the cache: about a minute on the
project's 2-core machine (two warm builds plus two executions of the stretching chapter).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from aligned_latents.util.chapters import CHAPTERS
from aligned_latents.util.paths import REPO_ROOT

MODULE = REPO_ROOT / "code" / "aligned_latents" / "book" / "figures" / "stretching.py"
PAGE = REPO_ROOT / "_build" / "html" / "stretching.html"


def _build() -> dict[str, str]:
    """``jupyter-book build book/ -W -n --keep-going`` (as ``make book``); the status line of
    each chapter."""
    exe = Path(sys.executable).parent / "jupyter-book"
    env = {k: v for k, v in os.environ.items()
           if k not in ("ALIGNED_LATENTS_RESULTS", "ALIGNED_LATENTS_EXECUTION_LOG")}
    proc = subprocess.run([str(exe) if exe.is_file() else "jupyter-book", "build", "book/",
                           "-W", "-n", "--keep-going"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=1200)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    return dict(re.findall(r"\[aligned_latents\] (\w+): (.*)", log))


@pytest.mark.slow
@pytest.mark.exclusive  # rewrites results/ and _build/: make test runs it after the others
def test_an_edited_figure_module_shows_on_the_page_and_reverting_restores_it():
    if not PAGE.is_file():
        pytest.fail(f"{PAGE} is missing: build the book first (make book); make test does "
                    "this before running pytest")
    original = MODULE.read_bytes()
    marker = f"E2E-{uuid.uuid4().hex[:12]}"
    before = PAGE.read_text()
    assert marker not in before
    try:
        MODULE.write_bytes(original + f'\nprint("{marker}")\n'.encode())
        status = _build()
        changed = "code/aligned_latents/book/figures/stretching.py changed"
        assert status["stretching"] == f"executed because: {changed}"
        assert {status[c] for c in CHAPTERS if c != "stretching"} == {"from cache"}
        assert marker in PAGE.read_text()
    finally:
        MODULE.write_bytes(original)
    status = _build()
    assert status["stretching"] == f"executed because: {changed}"
    assert marker not in PAGE.read_text()
