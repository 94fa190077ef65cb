"""``aligned-latents verify`` (``make verify``): rebuild the book from nothing and compare it
with the committed baselines.

The book is built into a fresh temporary folder with an empty execution cache and no saved
network weights (``ALIGNED_LATENTS_RESULTS`` and ``ALIGNED_LATENTS_WEIGHTS`` point into the
folder), so every chapter is executed and every network trained; then every results file
and every figure is compared with ``tests/baselines/`` by the baseline tests themselves
(``tests/test_baselines.py``, ``tests/test_figure_images.py``: one implementation of the
comparison, under the tolerances of ``tests/baselines/tolerances.csv``). Differences are
printed by pytest; the exit status is 0 when the rebuilt book matches.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from aligned_latents.util.execution import LOG_ENV
from aligned_latents.util.paths import REPO_ROOT, RESULTS_ENV

#: The tests that compare a results folder with tests/baselines/.
BASELINE_TESTS = ("tests/test_baselines.py", "tests/test_figure_images.py")


def _tool(name: str) -> str:
    """The command ``name`` of this Python's environment (the venv's bin/)."""
    here = Path(sys.executable).parent / name
    return str(here) if here.is_file() else name


def commands(folder: Path) -> list[list[str]]:
    """The build and the comparison, in order, for a rebuild in ``folder``."""
    return [
        [_tool("jupyter-book"), "build", str(REPO_ROOT / "book"), "--path-output",
         str(folder), "-W", "-n", "--keep-going"],
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--mpl",
         f"--mpl-results-path={folder / 'mpl'}", *BASELINE_TESTS],
    ]


def environment(folder: Path) -> dict:
    """The environment of the rebuild: results and weights inside ``folder``."""
    env = dict(os.environ)
    env.pop(LOG_ENV, None)
    env[RESULTS_ENV] = str(folder / "results")
    env["ALIGNED_LATENTS_WEIGHTS"] = str(folder / "weights")
    return env


def verify(folder: Path | None = None) -> int:
    """Rebuild the book in ``folder`` (a new temporary folder by default; it must not exist
    or be empty) and compare it with the baselines. Returns 0 when everything matches."""
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="aligned-latents-verify-"))
    folder = Path(folder).resolve()
    if folder.exists() and any(folder.iterdir()):
        raise ValueError(f"verify builds from nothing: {folder} must be new or empty")
    folder.mkdir(parents=True, exist_ok=True)
    env = environment(folder)
    build, compare = commands(folder)
    print(f"verify: building the book from nothing in {folder} (every chapter executed, "
          "every network trained)", flush=True)
    if subprocess.run(build, cwd=REPO_ROOT, env=env).returncode != 0:
        print(f"verify: the build failed (log above; the partial build is in {folder})")
        return 1
    print("verify: comparing every results file and figure with tests/baselines/",
          flush=True)
    if subprocess.run(compare, cwd=REPO_ROOT, env=env).returncode != 0:
        print(f"verify: the rebuilt book DIFFERS from tests/baselines/ (differences above; "
              f"results in {folder / 'results'}, figure diffs in {folder / 'mpl'})")
        return 1
    print(f"verify: the book rebuilt from nothing matches tests/baselines/ ({folder})")
    return 0
