"""Image baselines: every figure function of the book against its committed picture.

The figures are the public functions of the modules ``aligned_latents.book.figures.<chapter>``
whose first parameter is the results folder (named ``results``, or annotated ``Path``) and
whose return annotation, when there is one, is a ``Figure`` (``cmap.data_source -> dict`` is
not a figure). Each is called on ``results/<chapter>/`` of the build and compared with
``tests/baselines/images/<chapter>-<function>.png`` by pytest-mpl, which compares only when
pytest runs with ``--mpl`` (``make test`` passes it, with the HTML summary of the comparison in
``test-output/mpl/``); without ``--mpl`` the figures are drawn, not compared.

* A figure function without a baseline image fails (naming it), and so does an image whose
  function is gone (:func:`test_every_figure_has_a_baseline_image_and_every_image_a_figure`).
* Without a build (no ``results/``) the tests skip.
* ``make baselines`` redraws every image (``--mpl-generate-path``).

Images are saved at 80 dpi (560 x 288 pixels for the book's 7 x 3.6 inch figures, the width
the page shows them at) with no software/date metadata, so regenerating gives the same bytes.
"""
from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
from pathlib import Path

import pytest

from aligned_latents.util.paths import results_root

BASELINES_ENV = "ALIGNED_LATENTS_BASELINES"
#: RMS difference (0-255 scale) allowed between a figure and its baseline. Text is rendered
#: with matplotlib's own FreeType and DejaVu Sans on every machine, so two identical figures
#: give RMS 0; what remains are antialiasing differences from data that moved by rounding
#: (sub-pixel shifts of markers and lines, up to RMS ~1) and from another matplotlib release's
#: text layout (RMS 1-3). A figure whose data or labels changed for real moves well beyond it.
TOLERANCE = 3
#: ``"chapter.function": (RMS, reason)`` for a figure that needs another tolerance. Prefer
#: fixing the figure: e.g. a log axis autoscaled to data at rounding level (1e-16) moves with
#: the BLAS, and every gridline and label with it; fixed limits keep the picture still.
FIGURE_TOLERANCE: dict[str, tuple[float, str]] = {}
SAVEFIG = {"dpi": 80, "metadata": {"Software": None}}


def baselines_root() -> Path:
    root = os.environ.get(BASELINES_ENV)
    return Path(root).resolve() if root else Path(__file__).resolve().parent / "baselines"


def images_root() -> Path:
    return baselines_root() / "images"


def _is_figure_function(fn) -> bool:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    params = list(sig.parameters.values())
    if not params:
        return False
    first = params[0]
    takes_results = first.name.startswith("results") or "Path" in str(first.annotation)
    ret = sig.return_annotation
    returns_figure = ret is inspect.Signature.empty or "Figure" in str(ret)
    return takes_results and returns_figure


def figure_functions() -> tuple[list[tuple[str, str]], dict[str, str]]:
    """``([(chapter, function)], {chapter: import error})`` over every figures module."""
    import aligned_latents.book.figures as package

    found, broken = [], {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"{package.__name__}.{info.name}")
        except Exception as err:  # noqa: BLE001 -- a module being written fails its own test
            broken[info.name] = f"{type(err).__name__}: {err}"
            continue
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if (not name.startswith("_") and fn.__module__ == module.__name__
                    and _is_figure_function(fn)):
                found.append((info.name, name))
    return found, broken


FIGURES, BROKEN = figure_functions()


def image_name(chapter: str, name: str) -> str:
    return f"{chapter}-{name}.png"


def _case(chapter: str, name: str):
    return pytest.param(
        chapter, name, id=f"{chapter}.{name}",
        marks=pytest.mark.mpl_image_compare(
            baseline_dir=str(images_root()), filename=image_name(chapter, name),
            tolerance=FIGURE_TOLERANCE.get(f"{chapter}.{name}", (TOLERANCE, ""))[0],
            savefig_kwargs=SAVEFIG, style="default", deterministic=True))


def _results_or_skip(config) -> Path:
    root = results_root()
    if not root.is_dir() or not any(p.is_dir() for p in root.iterdir()):
        msg = (f"no results at {root}: build the book first (make book), or point "
               "ALIGNED_LATENTS_RESULTS at a rerun's results folder")
        if config.getoption("--mpl-generate-path", None):
            pytest.fail(msg + " -- nothing to draw the baseline images from")
        pytest.skip(msg)
    return root


@pytest.mark.parametrize("chapter", sorted(BROKEN) or [None], ids=lambda c: c or "none")
def test_figure_modules_import(chapter):
    if chapter is None:
        return
    pytest.fail(f"aligned_latents.book.figures.{chapter} does not import, so its figures are not "
                f"compared: {BROKEN[chapter]}")


@pytest.mark.parametrize(("chapter", "name"), [_case(c, n) for c, n in FIGURES])
def test_figure_image(chapter, name, request):
    """``figures.<chapter>.<name>(results/<chapter>)`` against its baseline image."""
    from matplotlib.figure import Figure

    root = _results_or_skip(request.config)
    generating = request.config.getoption("--mpl-generate-path", None)
    baseline = images_root() / image_name(chapter, name)
    if not generating and not baseline.is_file():
        pytest.fail(f"figure aligned_latents.book.figures.{chapter}.{name} has no baseline image "
                    f"{baseline}: run `make baselines` (after `make book`) and commit "
                    "tests/baselines/", pytrace=False)
    folder = root / chapter
    if not folder.is_dir():
        pytest.fail(f"{folder} is missing: the chapter {chapter!r} was not built (make book)")
    module = importlib.import_module(f"aligned_latents.book.figures.{chapter}")
    fig = getattr(module, name)(folder)
    assert isinstance(fig, Figure), (
        f"aligned_latents.book.figures.{chapter}.{name}(results) returned {type(fig).__name__}, not "
        "a matplotlib Figure: annotate its return type (e.g. '-> dict') or make it private")
    return fig


def test_figure_tolerances_are_explained():
    figures = {f"{c}.{n}" for c, n in FIGURES}
    for key, (rms, reason) in FIGURE_TOLERANCE.items():
        assert key in figures, f"FIGURE_TOLERANCE names {key}, which is not a figure function"
        assert rms >= 0 and reason.strip(), f"FIGURE_TOLERANCE[{key!r}] needs an RMS and a reason"


def test_every_figure_has_a_baseline_image_and_every_image_a_figure(request):
    """The figure functions and the baseline images match one to one. (Last in this module:
    when generating it checks what was just drawn.)"""
    _results_or_skip(request.config)
    expected = {image_name(c, n) for c, n in FIGURES}
    present = ({p.name for p in images_root().glob("*.png")} if images_root().is_dir()
               else set())
    problems = []
    if expected - present:
        problems.append("figure functions without a baseline image: "
                        + ", ".join(sorted(expected - present)))
    # (the images of a module that does not import are not judged: test_figure_modules_import)
    stale = {p for p in present - expected if p.split("-", 1)[0] not in BROKEN}
    if stale:
        problems.append("baseline images without a figure function (removed or renamed): "
                        + ", ".join(sorted(stale)))
    assert not problems, ("\n".join(problems) + "\nRun `make baselines` (after `make book`) "
                          "and commit tests/baselines/.")
