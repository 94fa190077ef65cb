"""What a rerun records of how it ran, for its ``run.json``
(:mod:`aligned_latents.runs.rerun`): the time, package and library versions, the git
state, the device (:func:`environment`), the sha256 of every input file
(:func:`input_files`) and each cell's time (:func:`cell_times`).
"""
from __future__ import annotations

import datetime as _dt
import json
import platform
import subprocess
from pathlib import Path

from aligned_latents.runs.params import path_parameters
from aligned_latents.util.files import sha256_file
from aligned_latents.util.paths import REPO_ROOT


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
    from aligned_latents.util.files import package_digest

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
