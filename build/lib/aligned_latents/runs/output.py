"""Where a rerun writes (:mod:`aligned_latents.runs.rerun`): ``--out`` checked before
anything runs (:func:`check_out`, :func:`check_writable`, :func:`check_target`: never the
book's ``results/``, a folder that can be written, empty unless ``--force``), a lock file
naming the pid of the run that holds the folder (:func:`hold_lock`), and the staging slot
that makes a run atomic (:class:`OutputSlot`: ``DIR.partial-<pid>/`` renamed to ``DIR``
when complete, kept as ``DIR.failed-<time>/`` otherwise).
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from aligned_latents.util.paths import REPO_ROOT


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
