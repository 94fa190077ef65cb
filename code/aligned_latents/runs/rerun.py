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
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aligned_latents.runs.params import path_parameters, reported_parameters, validate
from aligned_latents.util.chapters import get_chapter, parameters
from aligned_latents.util.execution import read_stamp
from aligned_latents.util.files import sha256_file
from aligned_latents.util.paths import REPO_ROOT, RESULTS_ENV, book_dir
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


# -- the output folder: checks, lock, staging ------------------------------------------
def _book_results() -> Path:
    return (REPO_ROOT / "results").resolve()


def check_out(out) -> Path:
    """``out`` resolved; refused (one-line ``ValueError``) when it is a file, or when
    the run's results would land in the book's own ``results/``."""
    if out is None or str(out).strip() == "":
        raise ValueError("give an output folder (--out DIR)")
    out = Path(out).expanduser().resolve()
    book = _book_results()
    target = out / "results"
    if target == book or book in target.parents or out == book or book in out.parents:
        raise ValueError(f"--out {out} would write into the book's own results "
                         f"({book}); choose a folder outside it, e.g. reruns/NAME")
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder; choose a folder")
    if out.name.endswith(".lock"):
        raise ValueError(f"--out {out}: a folder name may not end in .lock")
    check_writable(out)
    return out


def check_writable(out: Path):
    """Refuse (one-line ``ValueError``) an output folder that cannot be created: the
    nearest existing folder above it (where the lock, the staging folder and ``DIR`` go)
    must take a file. The probe file is removed at once; nothing else is created."""
    base = out.parent
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        raise ValueError(f"--out {out}: {base} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".aligned-latents-probe-", dir=base)
    except OSError as exc:
        raise ValueError(f"--out {out}: cannot write in {base} ({exc.strerror or exc}); "
                         "choose a folder you can write to") from None
    os.close(fd)
    os.unlink(probe)


def check_target(out: Path, force: bool = False) -> Path:
    """:func:`check_out`, and refuse a non-empty folder unless ``force``, or a folder
    that another rerun holds (its ``DIR.lock`` names a live process)."""
    out = check_out(out)
    holder = lock_holder(out)
    if holder is not None:
        raise ValueError(_held(out, holder))
    _check_empty(out, force)
    return out


def _check_empty(out: Path, force: bool):
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ValueError(f"--out {out} is not empty; give --force to replace it once "
                         "the new run is complete, or choose another folder")


def _held(out: Path, pid: int) -> str:
    return (f"--out {out} is being written by another rerun (pid {pid}, lock "
            f"{lock_path(out)}); wait for it to end or choose another folder")


def lock_holder(out: Path) -> int | None:
    """The pid of the live process that holds ``DIR.lock``, or ``None``."""
    try:
        pid = int(lock_path(out).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if pid_alive(pid) else None


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (one we may not signal counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_path(out: Path) -> Path:
    """``DIR.lock``: beside the output folder, holding the pid of the run that writes
    it."""
    return out.parent / f"{out.name}.lock"


@contextmanager
def hold_lock(out: Path):
    """Hold ``DIR.lock`` for the block; a lock held by a live process is a
    ``ValueError``, one whose process is gone is taken over."""
    path = lock_path(out)
    me = os.getpid()
    for _ in range(5):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                holder = int(path.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                holder = -1  # unreadable or half-written: wait, then take it over
                time.sleep(0.2)
            if holder > 0 and pid_alive(holder):
                raise ValueError(_held(out, holder)) from None
            try:
                path.unlink()  # stale: its process is gone
            except FileNotFoundError:
                pass
            continue
        except OSError as exc:  # a folder that cannot be written: one line, not a trace
            raise ValueError(f"--out {out}: cannot write the lock {path} "
                             f"({exc.strerror or exc})") from None
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{me}\n")
        break
    else:
        raise ValueError(f"could not take the lock {path}; remove it if no rerun is "
                         "running")
    try:
        yield path
    finally:
        try:
            if path.read_text().split()[0] == str(me):
                path.unlink()
        except (OSError, IndexError):
            pass


def _free_name(parent: Path, name: str) -> Path:
    path = parent / name
    n = 2
    while path.exists():
        path = parent / f"{name}-{n}"
        n += 1
    return path


class OutputSlot:
    """The lock on ``DIR`` and a fresh staging folder ``DIR.partial-<pid>`` for one run.

    ``commit()`` moves the staging folder to ``DIR`` (replacing a non-empty ``DIR`` only
    when ``force``, and removing the old one only after the new one is in place);
    ``keep_failed()`` moves it to ``DIR.failed-<YYYYmmdd-HHMMSS>``. Leaving the block
    without either (an exception) keeps it as failed. ``adopt``: a kept folder of an
    earlier run of ``DIR`` (``DIR.failed-*``) that becomes the staging folder (a resumed
    sweep), renamed under the lock.
    """

    def __init__(self, out, force: bool = False, adopt: Path | None = None):
        self.out = check_out(out)
        self.force = force
        self.staging = self.out.parent / f"{self.out.name}.partial-{os.getpid()}"
        self.adopt = Path(adopt) if adopt is not None else None
        self.final: Path | None = None
        self._lock = None

    def __enter__(self) -> OutputSlot:
        self._lock = hold_lock(self.out)
        self._lock.__enter__()
        try:
            _check_empty(self.out, self.force)
            if self.adopt is not None and self.adopt.resolve() == self.staging.resolve():
                pass  # resuming our own staging folder
            elif self.staging.exists():
                shutil.rmtree(self.staging)
            if self.adopt is not None and not self.staging.exists():
                os.rename(self.adopt, self.staging)
            else:
                self.staging.mkdir(parents=True, exist_ok=True)
        except BaseException:
            self._lock.__exit__(*sys.exc_info())
            raise
        return self

    def commit(self) -> Path:
        """Put the staging folder in place as ``DIR``."""
        out = self.out
        old = None
        if out.is_dir():
            if any(out.iterdir()):
                if not self.force:  # cannot happen under the lock, but never lose a run
                    raise ValueError(f"--out {out} is not empty; give --force to "
                                     "replace it")
                old = _free_name(out.parent, f"{out.name}.replaced-{os.getpid()}")
                os.rename(out, old)
            else:
                out.rmdir()
        os.rename(self.staging, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        self.final = out
        return out

    def keep_failed(self) -> Path:
        """Keep the staging folder as ``DIR.failed-<YYYYmmdd-HHMMSS>``."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        dest = _free_name(self.out.parent, f"{self.out.name}.failed-{stamp}")
        os.rename(self.staging, dest)
        self.final = dest
        return dest

    def __exit__(self, *exc):
        try:
            if self.final is None and self.staging.exists():
                self.keep_failed()
        finally:
            self._lock.__exit__(*exc)
        return False


# -- what ran: run.json ----------------------------------------------------------------
def now_iso() -> str:
    """The local time, ISO 8601 with its UTC offset, to the second."""
    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def git_state(root: Path | None = None) -> dict | None:
    """``{"commit": sha, "dirty": bool}`` of the checkout, or ``None`` without git."""
    root = Path(root) if root is not None else REPO_ROOT
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=20)
        if sha.returncode != 0:
            return None
        st = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                             "--untracked-files=no"], capture_output=True, text=True,
                            timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    dirty = bool(st.stdout.strip()) if st.returncode == 0 else None
    return {"commit": sha.stdout.strip(), "dirty": dirty}


def device_name() -> str:
    """The torch device the chapters will use (``cuda``/``cpu``; ``unknown`` without
    torch)."""
    try:
        from aligned_latents.util.device import device_label, torch_device

        dev = torch_device()
    except Exception:  # noqa: BLE001 - torch missing or broken: never fail a run
        return "unknown"
    return device_label(dev)


def environment() -> dict:
    """Versions, git state, the package's code digest and device, for ``run.json``."""
    from aligned_latents.book.sphinx_ext import package_digest

    return {
        "package_version": _version("aligned-latents"),
        "package_digest": package_digest(),
        "git": git_state(),
        "versions": {"python": platform.python_version(), "torch": _version("torch"),
                     "numpy": _version("numpy"),
                     "jupyter-book": _version("jupyter-book"),
                     "papermill": _version("papermill")},
        "device": device_name(),
        "platform": platform.platform(),
    }


def input_files(chapter: str, effective: dict) -> dict:
    """``{parameter: {"path", "sha256"}}`` for every path parameter that names a
    file."""
    out = {}
    for name in path_parameters(chapter):
        value = effective.get(name)
        if (isinstance(value, str) and Path(value).is_absolute()
                and Path(value).is_file()):
            out[name] = {"path": value, "sha256": sha256_file(Path(value))}
    return out


def cell_times(notebook: Path) -> list[dict]:
    """Each code cell's papermill record: index, execution count, status, seconds."""
    import nbformat

    try:
        nb = nbformat.read(str(notebook), as_version=4)
    except (OSError, ValueError):
        return []
    rows = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        pm = cell.get("metadata", {}).get("papermill", {})
        tags = cell.get("metadata", {}).get("tags", [])
        rows.append({"index": i, "execution_count": cell.get("execution_count"),
                     "status": pm.get("status"), "seconds": pm.get("duration"),
                     "tags": list(tags)})
    return rows


def _write_json(path: Path, data: dict):
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


# -- the HTML page ---------------------------------------------------------------------
def write_html(notebook: Path, path: Path) -> Path:
    """The executed notebook as one HTML page (outputs, no code).

    nbconvert's ``HTMLExporter(exclude_input=True)`` when nbconvert is installed, else a
    plain page built here (markdown rendered with markdown-it, outputs as text, tables
    and images).
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
                write_html(out_nb, stage / f"{chapter}.html")
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
