"""Chapters executed side by side during a book build (``jupyter-book build book/``).

Sphinx reads the pages one after another, and myst-nb executes each notebook that has no
cached execution while reading it: on a clean clone the five chapters run one after the
other (about 280 s on a 2-core CPU, 200 s of it the GloVe chapter). Just before Sphinx
starts reading (``env-before-read-docs``), this module executes every chapter that will
need an execution, up to :func:`build_jobs` at a time, longest first, and stores each
executed notebook in the execution cache exactly as myst-nb's cache client does
(:class:`myst_nb.core.execute.cache.NotebookClientCache`: the same notebook reader and
configuration, :func:`jupyter_cache.executors.utils.single_nb_execution` in the chapter's
folder, the same project and cache records). When Sphinx then reads a chapter, myst-nb
finds its execution in the cache (``Using cached notebook``), as on any later build.

Nothing of the results depends on this: each chapter still runs in its own kernel, with
the same environment (the kernels list their modules for
:mod:`aligned_latents.book.sphinx_ext` as before) and its own results folder; only the
clock time changes. A chapter whose execution fails here is left alone: myst-nb executes
it again while reading it and reports the error the usual way (``-W`` fails the build).

``aligned_latents_execution_jobs`` (a Sphinx option, ``sphinx: config:`` in
``_config.yml``): how many chapters run at once; ``0`` (the default) means one per CPU,
``1`` switches this off (myst-nb executes the chapters while reading them).
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

from sphinx.util import logging

__all__ = ["build_jobs", "execute_side_by_side", "pending_chapters", "setup"]

logger = logging.getLogger(__name__)

#: Sphinx option: chapters executed at once (0: one per CPU; 1: none side by side).
JOBS_OPTION = "aligned_latents_execution_jobs"


def build_jobs(option: int | None) -> int:
    """How many chapters run at once for the option's value ``option`` (``0`` or None: one
    per CPU this process may use)."""
    if isinstance(option, bool) or not isinstance(option, int) or option < 0:
        raise ValueError(f"{JOBS_OPTION} must be an integer >= 0 (0: one per CPU), got "
                         f"{option!r}")
    if option:
        return option
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _read_notebook(env, docname: str):
    """The chapter ``docname`` as myst-nb reads it (its reader, its file-level
    configuration and kernel name), with the reader's format for the cache's project
    record: ``(path, notebook, nb_config, read_fmt)``."""
    import re

    from myst_nb.core.read import create_nb_reader

    path = Path(env.doc2path(docname))
    text = path.read_text(encoding="utf-8")
    nb_config = env.mystnb_config
    reader = create_nb_reader(str(path), env.myst_config, nb_config, text)
    if reader is None:
        return None
    notebook = reader.read(text)
    kernel = notebook.metadata.get("kernelspec", {}).get("name")
    for rgx, alias in (nb_config.kernel_rgx_aliases or {}).items():
        if kernel is not None and re.fullmatch(rgx, kernel):
            notebook.metadata["kernelspec"]["name"] = alias
            break
    if nb_config.metadata_key in notebook.metadata:
        from myst_nb.core.utils import nb_node_to_dict

        overrides = nb_node_to_dict(notebook.metadata[nb_config.metadata_key])
        overrides.pop("output_folder", None)
        nb_config = nb_config.copy(**overrides)
    return path, notebook, nb_config, reader.read_fmt


def pending_chapters(env, docnames, cache) -> list[str]:
    """The chapters among ``docnames`` (the pages Sphinx is about to read) that myst-nb
    would execute: in cache mode, with no cached execution of their code."""
    from aligned_latents.util.chapters import CHAPTERS

    if env.mystnb_config.execution_mode != "cache":
        return []
    out = []
    for name in docnames:
        if name not in CHAPTERS:
            continue
        read = _read_notebook(env, name)
        if read is None:
            continue
        try:
            cache.match_cache_notebook(read[1])
        except KeyError:
            out.append(name)
    return out


def _execute(nb_json: str, cwd: str | None, timeout, allow_errors: bool):
    """Run in a worker process: execute the notebook (JSON text) in ``cwd`` (None: a
    temporary folder); return the executed notebook (JSON text), the seconds and the
    error text (None on success)."""
    from contextlib import nullcontext
    from tempfile import TemporaryDirectory

    import nbformat
    from jupyter_cache.executors.utils import single_nb_execution

    nb = nbformat.reads(nb_json, as_version=4)
    with TemporaryDirectory() if cwd is None else nullcontext(cwd) as where:
        result = single_nb_execution(nb, cwd=os.path.abspath(where), timeout=timeout,
                                     allow_errors=allow_errors, meta_override=True)
    err = None if result.err is None else (result.exc_string or repr(result.err))
    return nbformat.writes(nb), result.time, err


def _order(names: list[str]) -> list[str]:
    """Longest first (:attr:`aligned_latents.util.chapters.Chapter.cost`), so that the
    longest chapter never starts last."""
    from aligned_latents.util.chapters import CHAPTERS

    return sorted(names, key=lambda n: -CHAPTERS[n].cost)


def execute_side_by_side(env, names: list[str], cache, jobs: int) -> dict[str, str | None]:
    """Execute the chapters ``names`` (docnames), ``jobs`` at a time, and store each
    successful execution in ``cache`` as myst-nb would. Returns ``{name: None}`` for a
    stored execution and ``{name: error text}`` for a failed one."""
    import nbformat
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.cache.db import NbProjectRecord

    reads = {n: _read_notebook(env, n) for n in _order(names)}
    outcome: dict[str, str | None] = {}
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futures = {}
        for name, (path, nb, cfg, _) in reads.items():
            futures[pool.submit(_execute, nbformat.writes(nb),
                                str(path.parent) if not cfg.execution_in_temp else None,
                                cfg.execution_timeout, cfg.execution_allow_errors)] = name
        for fut in as_completed(futures):
            name = futures[fut]
            path, _, _, read_fmt = reads[name]
            try:
                nb_json, seconds, err = fut.result()
            except Exception as exc:  # a worker that died: myst-nb runs the chapter again
                nb_json, seconds, err = None, 0.0, repr(exc)
            outcome[name] = err
            if err is not None:
                logger.info(f"[aligned_latents] side by side: {name} failed after "
                            f"{seconds:.0f} s; it runs again while its page is read")
                continue
            stage = cache.add_nb_to_project(str(path), read_data=read_fmt)
            NbProjectRecord.remove_tracebacks([stage.pk], cache.db)
            cache.cache_notebook_bundle(
                CacheBundleIn(nbformat.reads(nb_json, as_version=4), stage.uri,
                              data={"execution_seconds": seconds}),
                check_validity=False, overwrite=True)
            logger.info(f"[aligned_latents] side by side: {name} executed in {seconds:.0f} s "
                        f"({time.perf_counter() - t0:.0f} s since the first started)")
    return outcome


def _before_read(app, env, docnames):
    """env-before-read-docs: execute, side by side, the chapters Sphinx is about to read
    that have no cached execution (after :mod:`aligned_latents.book.sphinx_ext` dropped
    the stale ones at builder-inited)."""
    from jupyter_cache import get_cache

    if getattr(env, "aligned_latents_cache", None) is None:
        return  # not an html build in cache mode (sphinx_ext's _check_inputs)
    jobs = build_jobs(app.config[JOBS_OPTION])
    if jobs < 2:
        return
    cache = get_cache(env.mystnb_config.execution_cache_path)
    names = pending_chapters(env, docnames, cache)
    if len(names) < 2:
        return  # nothing to run side by side: myst-nb executes it while reading
    jobs = min(jobs, len(names))
    logger.info(f"[aligned_latents] executing {len(names)} chapters side by side, {jobs} at "
                f"a time: {', '.join(_order(names))}")
    execute_side_by_side(env, names, cache, jobs)


def setup(app):
    """Registered by :mod:`aligned_latents.book.sphinx_ext` (after its own hooks, so that
    the stale executions are dropped first)."""
    app.add_config_value(JOBS_OPTION, 0, "", types=[int])  # no re-read when changed
    app.connect("env-before-read-docs", _before_read, priority=900)
    return {"parallel_read_safe": False, "parallel_write_safe": True}
