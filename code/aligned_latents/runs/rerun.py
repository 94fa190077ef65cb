"""Execute a chapter with new parameters (papermill), atomically, outside the book's
results.

``execute_chapter('glove', {'degrees': [3]}, 'reruns/k3')`` checks the parameters
against the chapter's schema (:func:`aligned_latents.runs.params.validate`), converts
``book/glove.md`` with jupytext and executes it with papermill (working directory
``book/``). The kernel inherits ``ALIGNED_LATENTS_RESULTS``, so the book's own
``results/`` is never touched.

A run is atomic. It executes into a fresh staging folder beside the target
(``DIR.partial-<pid>/``) and is renamed to ``DIR`` only when every cell succeeded, so
``DIR`` only ever holds a complete run:

``DIR/CHAPTER.ipynb``
    the executed notebook;
``DIR/CHAPTER.html``
    the same, to read in a browser (outputs only);
``DIR/results/CHAPTER/``
    the run's results (``claims.csv``, the tables and figures' numbers);
``DIR/run.json``
    what ran and where: parameters as given and as resolved, versions, git commit,
    device, start and end, the time of every cell, sha256 of every input file,
    ``status``;
``DIR/verdicts.csv``, ``DIR/verdict_changes.csv``
    the run's verdicts on the paper's statements and those that differ from the book's
    (:mod:`aligned_latents.record.compare`).

A failed or interrupted run is kept as ``DIR.failed-<YYYYmmdd-HHMMSS>/`` (its
``run.json`` says ``failed`` or ``interrupted`` and why), never at ``DIR``. ``DIR.lock``
(the holder's pid) keeps two runs out of one folder; a lock whose process is gone is
taken over. A non-empty ``DIR`` is replaced only with ``force``, and only once the new
run is complete.

The output folder's checks, lock and staging slot live in
:mod:`aligned_latents.runs.output`; what ``run.json`` records of the environment and the
inputs, in :mod:`aligned_latents.runs.provenance`.
"""
from __future__ import annotations

import os
import signal
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aligned_latents.runs.output import OutputSlot, check_target
from aligned_latents.runs.params import reported_parameters, validate
from aligned_latents.runs.provenance import (
    _write_json,
    cell_times,
    environment,
    input_files,
    now_iso,
)
from aligned_latents.util.chapters import get_chapter, parameters
from aligned_latents.util.execution import read_stamp
from aligned_latents.util.paths import RESULTS_ENV, book_dir
from aligned_latents.util.text import one_line

#: Seconds to wait for the execution to end after its kernel was stopped (Ctrl-C).
STOP_WAIT_S = 20


class RunFailed(RuntimeError):
    """A cell failed (or the kernel died): the run is kept in ``kept``
    (``DIR.failed-*``)."""

    def __init__(self, chapter: str, error: str, kept: Path, notebook: Path):
        self.chapter, self.error = chapter, error
        self.kept, self.notebook = kept, notebook
        where = notebook if notebook.is_file() else f"{notebook} (not written)"
        super().__init__(f"rerun of {chapter} FAILED: {error}; the partial notebook is "
                         f"at {where}")


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run: the partial run is kept in ``kept`` (``DIR.failed-*``)."""

    def __init__(self, kept: Path | None):
        self.kept = kept
        where = f"; the partial run is kept in {kept}" if kept else ""
        super().__init__(f"interrupted{where}")


@dataclass
class Run:
    """A complete run: its folder, notebook, HTML page, ``run.json`` record and the
    lines comparing its verdicts with the book's."""

    chapter: str
    out: Path
    record: dict
    verdict_lines: list = field(default_factory=list)

    @property
    def notebook(self) -> Path:
        return self.out / f"{self.chapter}.ipynb"

    @property
    def html(self) -> Path:
        return self.out / f"{self.chapter}.html"

    @property
    def results(self) -> Path:
        return self.out / "results" / self.chapter

    @property
    def seconds(self) -> float:
        return float(self.record.get("seconds", 0.0))


# -- the HTML page ---------------------------------------------------------------------
def write_html(notebook: Path, path: Path, verdicts_href: str | None = None) -> Path:
    """The executed notebook as one HTML page (outputs, no code).

    nbconvert's ``HTMLExporter(exclude_input=True)`` when nbconvert is installed, else a
    plain page built here (markdown rendered with markdown-it, outputs as text, tables
    and images). The verdict lines' "all verdicts" links (``#verdicts``, the book's
    opening page's label: nothing on this page) point to ``verdicts_href`` when given (the
    run's ``verdicts.csv``), else they are left as they are.
    """
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    try:
        from nbconvert import HTMLExporter
    except ImportError:
        html = _plain_html(nb, notebook.stem)
    else:
        with warnings.catch_warnings():  # papermill's record mimetypes: harmless
            warnings.simplefilter("ignore", UserWarning)
            html, _ = HTMLExporter(exclude_input=True).from_notebook_node(nb)
    if verdicts_href is not None:
        html = html.replace('href="#verdicts"', f'href="{verdicts_href}"')
    path.write_text(html, encoding="utf-8")
    return path


def _plain_html(nb, title: str) -> str:
    import html as H
    import re

    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    ansi = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
    parts = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if "remove-cell" in tags:
            continue
        if cell.cell_type == "markdown":
            parts.append(md.render(cell.source))
            continue
        if cell.cell_type != "code" or "remove-output" in tags:
            continue
        for o in cell.get("outputs", []):
            if o.output_type == "stream":
                parts.append(f'<pre class="stream">{H.escape(o.text)}</pre>')
            elif o.output_type == "error":
                tb = ansi.sub("", "\n".join(o.get("traceback", [])))
                parts.append(f'<pre class="error">{H.escape(tb or o.ename)}</pre>')
            else:
                data = o.get("data", {})
                if "image/png" in data:
                    png = "".join(data["image/png"]).replace("\n", "")
                    parts.append(f'<img src="data:image/png;base64,{png}">')
                elif "image/svg+xml" in data:
                    parts.append("".join(data["image/svg+xml"]))
                elif "text/html" in data:
                    parts.append("".join(data["text/html"]))
                elif "text/markdown" in data:
                    parts.append(md.render("".join(data["text/markdown"])))
                elif "text/plain" in data:
                    parts.append(f"<pre>{H.escape(''.join(data['text/plain']))}</pre>")
    style = ("body{font-family:sans-serif;max-width:60em;margin:auto;padding:1em}"
             "pre{background:#f6f6f6;padding:.5em;overflow-x:auto}"
             "pre.error{background:#fbeaea}img{max-width:100%}"
             "table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:2px 6px}")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"
            f"{H.escape(title)}</title><style>{style}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


# -- execution -------------------------------------------------------------------------
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


def _stop_kernels(managers: list):
    """Kill the kernels (and their process groups) that this run started."""
    for km in managers:
        prov = getattr(km, "provisioner", None)
        pid, pgid = getattr(prov, "pid", None), getattr(prov, "pgid", None)
        try:
            if pgid and pgid != os.getpgid(0):
                os.killpg(pgid, signal.SIGKILL)
            elif pid:
                os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            pass


def glued_values(notebook: Path, names) -> dict:
    """The values a notebook glued (myst-nb ``glue``) under ``names``, read from its
    plain-text outputs (a Python literal when one, else the text)."""
    import ast

    import nbformat

    try:
        nb = nbformat.read(str(notebook), as_version=4)
    except (OSError, ValueError):
        return {}
    found = {}
    for cell in nb.cells:
        for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
            name = o.get("metadata", {}).get("scrapbook", {}).get("name")
            if name not in names:
                continue
            text = next((v for k, v in o.get("data", {}).items()
                         if k.endswith("text/plain")), None)
            if text is None:
                continue
            text = "".join(text) if isinstance(text, list) else text
            try:
                found[name] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                found[name] = text
    return found


def used_parameters(chapter: str, notebook: Path, effective: dict) -> dict:
    """``{parameter: value actually used}`` for the parameters whose chapter reports
    the value it used (:func:`aligned_latents.runs.params.reported_parameters`), e.g.
    ``vocab_size``: the words read, fewer than asked when the file is shorter."""
    reported = reported_parameters(chapter)
    glued = glued_values(notebook, set(reported.values()))
    return {name: glued[g] for name, g in reported.items()
            if g in glued and effective.get(name) is not None}


def used_notes(record: dict) -> list[str]:
    """One line per parameter whose value used differs from the value asked."""
    p = record.get("parameters", {})
    return [f"note: {name} = {p['effective'][name]!r} asked, {used!r} used (the input "
            "has fewer)" for name, used in p.get("used", {}).items()
            if used != p["effective"].get(name)]


def _papermill(nb, out_nb: Path, params: dict, progress, timeout: int,
               kernel_log=None):
    """Execute with papermill in a helper thread, so that Ctrl-C reaches this (main)
    thread as ``KeyboardInterrupt`` (nbclient swallows SIGINT in the main thread), stops
    the kernel and lets papermill save the partial notebook. The kernel process's own
    output (start-up warnings, C libraries) goes to ``kernel_log`` (an open file)."""
    import papermill as pm
    from jupyter_client.manager import AsyncKernelManager

    managers = []

    class TrackedKernelManager(AsyncKernelManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            managers.append(self)

        async def start_kernel(self, **kwargs):
            if kernel_log is not None:
                kwargs.setdefault("stdout", kernel_log)
                kwargs.setdefault("stderr", kernel_log)
            return await super().start_kernel(**kwargs)

    box = {}

    def target():
        try:
            pm.execute_notebook(nb, str(out_nb), parameters=params, cwd=str(book_dir()),
                                progress_bar=progress, kernel_name="python3",
                                execution_timeout=timeout,
                                kernel_manager_class=TrackedKernelManager)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            box["exc"] = exc

    worker = threading.Thread(target=target, name="aligned-latents-rerun", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        _stop_kernels(managers)
        worker.join(STOP_WAIT_S)
        raise
    if "exc" in box:
        raise box["exc"]


def _error_text(exc: BaseException) -> str:
    import papermill as pm

    if isinstance(exc, pm.PapermillExecutionError):
        return f"cell {exc.exec_count}: {exc.ename}: {one_line(exc.evalue)}"
    return f"{type(exc).__name__}: {one_line(exc)}"


def execute_chapter(chapter: str, params: dict | None, out_dir, progress=True,
                    timeout: int = 3600, force: bool = False, html: bool = True,
                    verdicts: bool = True, book_verdicts=None, env: dict | None = None
                    ) -> Run:
    """Execute one chapter with ``params`` into ``out_dir``, atomically; return the
    :class:`Run`.

    Refusals (bad parameters, ``out_dir`` a file, not empty without ``force``, inside
    the book's ``results/``, held by another run) are one-line ``ValueError`` s raised
    before anything runs. A failed cell raises :class:`RunFailed`, Ctrl-C
    :class:`RunInterrupted`; both keep the partial run in ``DIR.failed-*``.
    ``progress``: papermill's progress bar (``True``/``False``, or a dict of ``tqdm``
    arguments such as ``{"file": log}``). ``run.json``'s ``parameters.used`` holds the
    values the chapter reports it used (:func:`used_parameters`).
    ``verdicts``: compare the run's verdicts with the book's (``book_verdicts``, default
    ``results/ledger/verdicts.csv``). ``env``: the record of :func:`environment`, when
    the caller already has it (sweeps).
    """
    import jupytext

    ch = get_chapter(chapter)
    given = dict(params or {})
    resolved = validate(chapter, given)
    defaults = {p.name: p.default for p in parameters(chapter).values()}
    effective = {**defaults, **resolved}
    out = check_target(out_dir, force)
    with OutputSlot(out, force) as slot:
        stage = slot.staging
        record = {"chapter": chapter, "status": "running", "out": str(out),
                  "parameters": {"given": given, "resolved": resolved,
                                 "effective": effective},
                  "inputs": input_files(chapter, effective), **(env or environment()),
                  "started": now_iso()}
        _write_json(stage / "run.json", record)
        (stage / "results").mkdir()
        nb = jupytext.read(ch.path)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        out_nb = stage / f"{chapter}.ipynb"
        t0 = time.perf_counter()
        status, error = "complete", None
        log_path = stage / "kernel.log"
        try:
            with _environ(**{RESULTS_ENV: stage / "results"}), \
                    open(log_path, "w") as log:
                _papermill(nb, out_nb, resolved, progress, timeout, log)
        except KeyboardInterrupt:
            status, error = "interrupted", "interrupted (Ctrl-C)"
        except Exception as exc:  # noqa: BLE001 - any failure keeps the run as failed
            status, error = "failed", _error_text(exc)
        stamp = read_stamp(stage / "results" / chapter) or {}
        record["parameters"]["used"] = used_parameters(chapter, out_nb, effective)
        record.update(status=status, error=error, ended=now_iso(),
                      seconds=round(time.perf_counter() - t0, 3),
                      cells=cell_times(out_nb), networks=stamp.get("networks", []))
        if log_path.is_file() and log_path.stat().st_size == 0:
            log_path.unlink()
        lines = []
        if status != "interrupted" and html and out_nb.is_file():
            try:
                write_html(out_nb, stage / f"{chapter}.html",
                           "verdicts.csv" if verdicts else None)
            except Exception as exc:  # noqa: BLE001 - the page is a convenience
                record["html_error"] = _error_text(exc)
        if status == "complete" and verdicts:
            from aligned_latents.record.compare import verdicts_against_book

            lines, changes = verdicts_against_book(chapter, stage, book_verdicts)
            record["verdicts"] = {"lines": lines,
                                  "changed": None if changes is None else len(changes)}
        _write_json(stage / "run.json", record)
        final = slot.commit() if status == "complete" else slot.keep_failed()
    if status == "interrupted":
        raise RunInterrupted(final)
    if status == "failed":
        raise RunFailed(chapter, error, final, final / f"{chapter}.ipynb")
    return Run(chapter, final, record, lines)
