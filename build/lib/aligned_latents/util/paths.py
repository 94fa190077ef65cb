"""One place for every path the book uses (results, data, weights).

Chapters never build paths by hand: they call :func:`results_dir`, :func:`data_dir`, ...
A rerun (``aligned-latents rerun``) points ``ALIGNED_LATENTS_RESULTS`` at its own folder so
that it never touches the book's own ``results/``. A chapter executed with parameters other
than its defaults (declared by :func:`note_parameters`) without that variable is refused a
results folder: only the book's own execution writes the book's ``results/``.
"""
from __future__ import annotations

import os
from pathlib import Path

#: Repository root: code/aligned_latents/util/paths.py -> parents[3]. The package is installed
#: editable (``pip install -e .``), so this is the checkout the book is built from.
REPO_ROOT = Path(os.environ.get("ALIGNED_LATENTS_ROOT", Path(__file__).resolve().parents[3]))

#: Environment variable that redirects every chapter's results (used by reruns and tests).
RESULTS_ENV = "ALIGNED_LATENTS_RESULTS"


def results_root() -> Path:
    """Folder holding ``<chapter>/`` result folders: ``$ALIGNED_LATENTS_RESULTS`` or
    ``results/``."""
    root = os.environ.get(RESULTS_ENV)
    return Path(root) if root else REPO_ROOT / "results"


_non_default: dict[str, dict] = {}  # chapter -> {parameter: value} differing from defaults


def note_parameters(chapter: str, non_default: dict) -> None:
    """Declare the parameters of this kernel's execution of ``chapter`` that differ from the
    chapter's defaults (called by :func:`aligned_latents.runs.params.check_notebook_parameters`
    before the chapter asks for its results folder)."""
    _non_default[chapter] = dict(non_default)


def results_dir(chapter: str) -> Path:
    """``results/<chapter>/``, created if missing, and stamped with this execution
    (:func:`aligned_latents.util.execution.begin`). ``chapter`` is the chapter's short name.

    Refused (``ValueError``, one line naming :data:`RESULTS_ENV`) when the chapter runs with
    parameters other than its defaults and ``ALIGNED_LATENTS_RESULTS`` is not set: such a run
    (papermill, say) would otherwise replace the book's own results.
    """
    from aligned_latents.util import execution

    if not chapter or "/" in chapter or chapter.startswith("."):
        raise ValueError(f"chapter must be a plain short name such as 'glove', got {chapter!r}")
    changed = _non_default.get(chapter) or {}
    if changed and not os.environ.get(RESULTS_ENV):
        raise ValueError(
            f"{chapter} runs with non-default parameters ({', '.join(sorted(changed))}) and "
            f"would overwrite the book's results/{chapter}/: set {RESULTS_ENV} to a folder "
            "for this run's results")
    path = results_root() / chapter
    path.mkdir(parents=True, exist_ok=True)
    execution.begin(chapter, path, changed)
    return path


def data_dir() -> Path:
    """The repository's ``data/`` folder (committed benchmark files and their provenance)."""
    return REPO_ROOT / "data"


def external_data_dir() -> Path:
    """``data/external/``: files fetched by ``make`` (not committed), created if missing."""
    path = data_dir() / "external"
    path.mkdir(parents=True, exist_ok=True)
    return path


def weights_dir(chapter: str) -> Path:
    """Where a chapter keeps trained network weights (``weights/<chapter>/``, not committed).

    Weights are keyed by a hash of everything that determines them, so a rerun with other
    parameters trains anew while an unchanged chapter reloads them.
    """
    root = os.environ.get("ALIGNED_LATENTS_WEIGHTS")
    path = (Path(root) if root else REPO_ROOT / "weights") / chapter
    path.mkdir(parents=True, exist_ok=True)
    return path


def book_dir() -> Path:
    """The book's source folder ``book/``."""
    return REPO_ROOT / "book"
