"""Chapters executed side by side during a book build (``jupyter-book build book/``).

Sphinx reads the pages one after another, and myst-nb executes each notebook that has no
cached execution while reading it: on a clean clone the five chapters run one after the
other (about 220 s on a 2-core CPU, 157 s of it the GloVe chapter). Just before Sphinx
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

The longest chapter runs at the build's priority, the others at a lower one
(:data:`OTHERS_NICENESS`): they fill the CPU time it leaves idle (its one-thread cells)
instead of slowing it down.

``aligned_latents_execution_jobs`` (a Sphinx option, ``sphinx: config:`` in
``_config.yml``): how many chapters run at once; ``0`` (the default) means one per two
CPUs (:func:`build_jobs`: off on the project's 2-core machine, where it did not shorten
the build), ``1`` switches this off (myst-nb executes the chapters while reading them).
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

#: Sphinx option: chapters executed at once (0: one per two CPUs; 1: none side by side).
JOBS_OPTION = "aligned_latents_execution_jobs"
#: Niceness of every chapter but the longest: the build lasts as long as the longest
#: chapter, so the others use only the CPU time it leaves (measured on the 2-core machine
#: at equal priority: the CMap chapter's two-thread BLAS calls, beside the GloVe
#: chapter's two training processes, took it from 25 s alone to 110 s, and the GloVe
#: chapter 70 s longer; the book took as long as one chapter after the other).
OTHERS_NICENESS = 10


def build_jobs(option: int | None) -> int:
    """How many chapters run at once for the option's value ``option`` (``0`` or None:
    one per two CPUs this process may use, so none side by side on 2 or 3 CPUs).

    Why not one per CPU: the GloVe chapter trains its networks on every CPU, and on the
    project's 2-core machine the book took as long side by side as one chapter after the
    other (the GloVe chapter 225-228 s beside the others against 157 s alone; the book's
    notebooks 226-229 s against about 221 s in a row: two busy CPUs there do not give
    twice the work of one)."""
    if isinstance(option, bool) or not isinstance(option, int) or option < 0:
        raise ValueError(f"{JOBS_OPTION} must be an integer >= 0 (0: one per two CPUs), "
                         f"got {option!r}")
    if option:
        return option
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, cpus // 2)


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
        from myst_nb.core.nb_to_tokens import nb_node_to_dict

        overrides = nb_node_to_dict(notebook.metadata[nb_config.metadata_key])
        overrides.pop("output_folder", None)
        nb_config = nb_config.copy(**overrides)
    return path, notebook, nb_config, reader.read_fmt


def pending_chapters(env, docnames, cache) -> dict[str, tuple]:
    """The chapters among ``docnames`` (the pages Sphinx is about to read) that myst-nb
    would execute: in cache mode, with no cached execution of their code; each with its
    notebook as myst-nb reads it (:func:`_read_notebook`)."""
    from aligned_latents.util.chapters import CHAPTERS

    if env.mystnb_config.execution_mode != "cache":
        return {}
    out = {}
    for name in docnames:
        if name not in CHAPTERS:
            continue
        read = _read_notebook(env, name)
        if read is None:
            continue
        try:
            cache.match_cache_notebook(read[1])
        except KeyError:
            out[name] = read
    return out


def _execute(nb_json: str, cwd: str | None, timeout, allow_errors: bool, nice: int = 0):
    """Run in a fresh worker process: execute the notebook (JSON text) in ``cwd`` (None: a
    temporary folder), its kernel at the niceness ``nice`` above the build's; return the
    executed notebook (JSON text), the seconds and the error text (None on success)."""
    from contextlib import nullcontext

    if nice:
        os.nice(nice)  # inherited by the kernel and the processes it starts
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


def execute_side_by_side(pending: dict[str, tuple], cache, jobs: int) -> dict[str, str | None]:
    """Execute the chapters of ``pending`` (:func:`pending_chapters`), ``jobs`` at a time,
    and store each successful execution in ``cache`` as myst-nb would. Returns
    ``{name: None}`` for a stored execution and ``{name: error text}`` for a failed one."""
    import nbformat
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.cache.db import NbProjectRecord

    reads = {n: pending[n] for n in _order(list(pending))}
    outcome: dict[str, str | None] = {}
    t0 = time.perf_counter()
    # a fresh process per chapter (its niceness is its own)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"),
                             max_tasks_per_child=1) as pool:
        futures = {}
        for i, (name, (path, nb, cfg, _)) in enumerate(reads.items()):
            futures[pool.submit(_execute, nbformat.writes(nb),
                                str(path.parent) if not cfg.execution_in_temp else None,
                                cfg.execution_timeout, cfg.execution_allow_errors,
                                0 if i == 0 else OTHERS_NICENESS)] = name
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
    pending = pending_chapters(env, docnames, cache)
    if len(pending) < 2:
        return  # nothing to run side by side: myst-nb executes it while reading
    jobs = min(jobs, len(pending))
    logger.info(f"[aligned_latents] executing {len(pending)} chapters side by side, {jobs} "
                f"at a time: {', '.join(_order(list(pending)))}")
    execute_side_by_side(pending, cache, jobs)


def setup(app):
    """Registered by :mod:`aligned_latents.book.sphinx_ext` (after its own hooks, so that
    the stale executions are dropped first)."""
    app.add_config_value(JOBS_OPTION, 0, "", types=[int])  # no re-read when changed
    app.connect("env-before-read-docs", _before_read, priority=900)
    return {"parallel_read_safe": False, "parallel_write_safe": True}
