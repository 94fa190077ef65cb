"""Execute a chapter with new parameters (papermill), outside the book's own results.

``execute_chapter('glove', {'degrees': [3]}, out_dir)`` converts ``book/glove.md`` with
jupytext, executes it with papermill (working directory ``book/``), writes the executed
notebook to ``out_dir/glove.ipynb`` and that run's results to ``out_dir/results/glove/``.
The book's own ``results/`` is never touched: the kernel inherits ``ALIGNED_LATENTS_RESULTS``.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from .chapters import get_chapter, parameters
from .paths import RESULTS_ENV, book_dir


def _type_name(x) -> str:
    return type(x).__name__


def validate_parameters(chapter: str, given: dict) -> dict:
    """Check names and types of ``given`` against the chapter's parameters cell.

    Returns the values to pass to papermill. Unknown names and wrongly typed values raise a
    ``ValueError`` listing the valid names (papermill itself would only warn). An int is
    accepted for a float parameter; a single value for a list parameter becomes a list of one;
    a parameter whose default is ``None`` takes any value.
    """
    spec = parameters(chapter)
    out = {}
    for key, value in given.items():
        if key not in spec:
            valid = ", ".join(f"{p.name} (default {p.default!r})" for p in spec.values())
            raise ValueError(f"chapter {chapter!r} has no parameter {key!r}; valid names: {valid}")
        default = spec[key].default
        if default is None:
            out[key] = value
            continue
        if isinstance(default, list) and not isinstance(value, list):
            value = [value]
        if isinstance(default, bool):
            ok = isinstance(value, bool)
        elif isinstance(default, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            value = float(value) if ok else value
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif isinstance(default, list):
            ok = True
            kinds = {type(v) for v in default}
            if kinds and all(k in (int, float) for k in kinds):
                ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
                if float in kinds:
                    value = [float(v) for v in value]
            elif kinds == {str}:
                ok = all(isinstance(v, str) for v in value)
        else:
            ok = isinstance(value, type(default))
        if not ok:
            raise ValueError(f"parameter {key!r} of chapter {chapter!r} expects a value like "
                             f"{default!r} ({_type_name(default)}), got {value!r} "
                             f"({_type_name(value)})")
        out[key] = value
    return out


@contextmanager
def _environ(**values):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute_chapter(chapter: str, params: dict | None, out_dir, progress: bool = True,
                    timeout: int = 3600) -> Path:
    """Execute one chapter with ``params``; return the executed notebook's path.

    A failed run raises ``papermill.PapermillExecutionError``; the partial notebook is left
    at the returned path (named in the exception's message by the caller, see ``cli``).
    """
    import jupytext
    import papermill as pm

    ch = get_chapter(chapter)
    params = validate_parameters(chapter, params or {})
    out_dir = Path(out_dir).resolve()
    (out_dir / "results").mkdir(parents=True, exist_ok=True)
    nb = jupytext.read(ch.path)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    out_nb = out_dir / f"{chapter}.ipynb"
    with _environ(**{RESULTS_ENV: out_dir / "results"}):
        pm.execute_notebook(nb, str(out_nb), parameters=params, cwd=str(book_dir()),
                            progress_bar=progress, kernel_name="python3",
                            execution_timeout=timeout)
    return out_nb
