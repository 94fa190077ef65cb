"""What one execution of a chapter was: its stamp in the results folder and, during a book
build, the package modules its kernel imported.

* Every results folder ``results/<chapter>/`` holds a stamp, :data:`STAMP`
  (``.execution.json``: an id drawn once per kernel, the time, the parameters that differ
  from the chapter's defaults). The book's build records the id of the execution whose
  outputs it shows (:mod:`aligned_latents.book.sphinx_ext`), so results written by any other
  execution (a papermill run, an interrupted build) are noticed: the chapter is executed
  again and the ledger pages refuse to read such a folder.
* When the build sets :data:`LOG_ENV`, the kernel writes ``<log>/<chapter>.json`` after each
  cell: the execution id and the files of the ``aligned_latents`` modules loaded in
  ``sys.modules``. A module the chapter never imported cannot have computed anything it
  shows, so the build re-executes a chapter only when one of *its* modules changed.
* The stamp also lists the networks the execution trained or reloaded and the device that
  trained each (:func:`note_network`, called by the training function).

Called by :func:`aligned_latents.util.paths.results_dir`; the chapters never call it.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import sys
import uuid
from pathlib import Path

#: The stamp written into every results folder (a dot file: not a result, no baseline).
STAMP = ".execution.json"
#: Set by the book build: the folder where each chapter's kernel lists its modules.
LOG_ENV = "ALIGNED_LATENTS_EXECUTION_LOG"
#: The package's folder (code/aligned_latents/).
PACKAGE_DIR = Path(__file__).resolve().parents[1]

_executions: dict[str, str] = {}  # chapter -> this kernel's execution id
_stamps: dict[str, Path] = {}  # chapter -> its stamp file
_networks: list[dict] = []  # the networks this kernel trained or reloaded


def package_modules() -> list[str]:
    """The files (relative to the package folder, POSIX) of every loaded ``aligned_latents``
    module."""
    files = set()
    for name, module in list(sys.modules.items()):
        if name != "aligned_latents" and not name.startswith("aligned_latents."):
            continue
        path = getattr(module, "__file__", None)
        if path and Path(path).resolve().is_relative_to(PACKAGE_DIR):
            files.add(Path(path).resolve().relative_to(PACKAGE_DIR).as_posix())
    return sorted(files)


def _write_json(path: Path, obj) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, indent=1) + "\n")
    os.replace(tmp, path)


def read_stamp(folder: Path) -> dict | None:
    """The stamp of a results folder, or None when it has none (or an unreadable one)."""
    try:
        return json.loads((Path(folder) / STAMP).read_text())
    except (OSError, ValueError):
        return None


def note_network(name: str, device: str, reloaded: bool) -> None:
    """Record in the stamp of every results folder of this kernel that network ``name`` was
    trained on ``device`` (``reloaded``: its weights were trained on that device by an
    earlier run and loaded). ``aligned-latents rerun`` copies the list into ``run.json``."""
    _networks.append({"network": name, "device": device, "reloaded": bool(reloaded)})
    for path in _stamps.values():
        stamp = read_stamp(path.parent)
        if stamp is not None:
            stamp["networks"] = list(_networks)
            _write_json(path, stamp)


def _log_modules(log: Path, chapter: str, execution: str) -> None:
    _write_json(log / f"{chapter}.json",
                {"chapter": chapter, "execution": execution, "modules": package_modules()})


def begin(chapter: str, folder: Path, non_default: dict | None = None) -> str:
    """Stamp ``folder`` (``results/<chapter>/``) with this kernel's execution of ``chapter``
    (once per kernel) and, in a book build, start listing the modules it imports. Returns the
    execution id."""
    if chapter in _executions:
        return _executions[chapter]
    execution = uuid.uuid4().hex
    _executions[chapter] = execution
    _stamps[chapter] = Path(folder) / STAMP
    _write_json(_stamps[chapter], {
        "chapter": chapter, "execution": execution,
        "started": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "non_default_parameters": {k: repr(v) for k, v in (non_default or {}).items()},
        "networks": list(_networks),
    })
    log = os.environ.get(LOG_ENV)
    if log:
        log = Path(log)
        log.mkdir(parents=True, exist_ok=True)
        _log_modules(log, chapter, execution)
        try:
            from IPython import get_ipython
        except ImportError:
            return execution
        shell = get_ipython()
        if shell is not None:  # after every cell: the modules imported so far
            shell.events.register("post_run_cell",
                                  lambda *_: _log_modules(log, chapter, execution))
    return execution
