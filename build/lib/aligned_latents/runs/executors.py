"""Where the points of a sweep run (:mod:`aligned_latents.runs.sweep`): one point in a
worker (:func:`run_point`: the same atomic
:func:`aligned_latents.runs.rerun.execute_chapter` as a single rerun), a local process
pool (:class:`LocalPool`) or Dask tasks (:class:`DaskPool`) on a cluster that either
shares the sweep's folder or returns each finished point as a tar archive
(:func:`unpack`); :func:`make_pool` picks one. No scheduler, queue or RPC of our own:
the local pool is :mod:`concurrent.futures`', the cluster Dask's.
"""
from __future__ import annotations

import io
import os
import shutil
import signal
import tarfile
import tempfile
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor
from concurrent.futures import wait as _wait
from pathlib import Path

#: A file in the sweep's folder that a worker reads to know it shares that folder.
TOKEN_FILE = ".sweep-token"
#: Seconds to try to reach a Dask scheduler.
CONNECT_TIMEOUT_S = 20
#: Seconds to wait for a Dask scheduler's first worker (batch jobs may queue).
WORKER_WAIT_S = 120
#: Environment variable naming a Dask scheduler (as Dask's own clients read it).
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"


# -- one point, in a worker ------------------------------------------------------------
_ACTIVE = False  # in a worker: a run is executing, so Ctrl-C must stop it
_STOP = None  # in a worker: the sweep's stop event (set on Ctrl-C: start no more runs)


def _worker_sigint(signum, frame):
    """Ctrl-C in a worker: start no further run, and interrupt the one it executes
    (once)."""
    global _ACTIVE
    if _STOP is not None:
        _STOP.set()
    if _ACTIVE:
        _ACTIVE = False
        raise KeyboardInterrupt


def _worker_init(stop=None):
    global _STOP
    _STOP = stop
    signal.signal(signal.SIGINT, _worker_sigint)


def _shares_folder(out: Path, token: str | None) -> bool:
    """Whether this worker sees the sweep's folder (its token file holds ``token``)."""
    if token is None:
        return True
    try:
        return (out.parent / TOKEN_FILE).read_text().strip() == token
    except OSError:
        return False


def _tar(paths: list[Path]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for p in paths:
            if p.exists():
                tar.add(p, arcname=p.name)
    return buf.getvalue()


def run_point(chapter: str, params: dict, out: str, threads: int | None = None,
              env: dict | None = None, token: str | None = None) -> dict:
    """Execute one sweep point (in a worker process or a Dask worker); never raises.

    The run goes to ``out`` (atomic, :func:`aligned_latents.runs.rerun.execute_chapter`)
    and its progress to ``out.log``. When the worker does not see the sweep's folder
    (``token`` not in its :data:`TOKEN_FILE`), the run executes in a temporary folder and
    returns as ``archive`` (a tar.gz of the point's folder and log; :func:`unpack`).
    Returns a dict with ``status`` (``complete``/``failed``/``interrupted``), ``dir``
    (the point's folder name, or ``DIR.failed-*``), ``seconds``, ``error`` (one line),
    ``verdicts`` and ``host``. ``env``: the versions/device record of
    :func:`aligned_latents.runs.provenance.environment`, computed once by a local parent.
    """
    global _ACTIVE
    import platform

    from aligned_latents.runs.provenance import now_iso
    from aligned_latents.runs.rerun import RunFailed, RunInterrupted, execute_chapter

    if threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[var] = str(threads)
    t0 = time.perf_counter()
    out = Path(out)
    res = {"status": "complete", "dir": out.name, "error": None, "verdicts": None,
           "host": platform.node()}
    if _STOP is not None and _STOP.is_set():
        return dict(res, status="interrupted", dir=None, error="not started",
                    seconds=0.0)
    shared = _shares_folder(out, token)
    tmp = None if shared else Path(tempfile.mkdtemp(prefix="aligned-latents-point-"))
    target = out if shared else tmp / out.name
    log_path = target.parent / f"{out.name}.log"
    _ACTIVE = True
    try:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"{now_iso()} {chapter} {params} on {res['host']} "
                      f"(pid {os.getpid()}) -> {target}\n")
            log.flush()
            try:
                run = execute_chapter(chapter, params, target, env=env,
                                      progress={"file": log, "mininterval": 5.0})
                _ACTIVE = False
                changed = run.record.get("verdicts", {}).get("changed")
                if changed is not None:
                    res["verdicts"] = f"{changed} verdict(s) differ from the book's"
            except RunInterrupted as exc:
                res.update(status="interrupted", error="interrupted",
                           dir=Path(exc.kept).name if exc.kept else None)
            except KeyboardInterrupt:
                res.update(status="interrupted", error="interrupted", dir=None)
            except RunFailed as exc:
                res.update(status="failed", dir=Path(exc.kept).name, error=exc.error)
            except Exception as exc:  # noqa: BLE001 - a worker reports, the parent decides
                res.update(status="failed", dir=None,
                           error=f"{type(exc).__name__}: {exc}".splitlines()[0])
            res["seconds"] = time.perf_counter() - t0
            log.write(f"{now_iso()} {res['status']} in {res['seconds']:.1f} s"
                      f"{': ' + res['error'] if res['error'] else ''}\n")
    finally:
        _ACTIVE = False
    if tmp is not None:
        kept = [log_path] + ([tmp / res["dir"]] if res["dir"] else [])
        res["archive"] = _tar(kept)
        shutil.rmtree(tmp, ignore_errors=True)
    return res


def unpack(res: dict, stage: Path) -> dict:
    """Extract a point's ``archive`` (from a worker without the shared folder) into the
    sweep's folder; returns ``res`` without it."""
    data = res.pop("archive", None)
    if data:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            tar.extractall(stage, filter="data")
    return res


# -- executors -------------------------------------------------------------------------
class LocalPool:
    """The points in local worker processes (fork), ``workers`` at a time with
    ``threads`` BLAS threads each; Ctrl-C reaches the running points."""

    def __init__(self, workers: int, threads: int):
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        self.slots, self.threads = workers, threads
        self._stop = ctx.Event()
        self._pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_init,
                                         initargs=(self._stop,), mp_context=ctx)
        self.env = None
        self.token = None
        self.where = f"{workers} at a time ({threads} thread(s) each)"

    def submit(self, chapter, params, out):
        return self._pool.submit(run_point, chapter, params, out, self.threads, self.env,
                                 self.token)

    window = property(lambda self: self.slots)  # one point per worker at a time

    @staticmethod
    def wait_any(futures):
        done, rest = _wait(futures, return_when=FIRST_COMPLETED)
        return done, rest

    def interrupt(self):
        self._stop.set()
        for proc in list(getattr(self._pool, "_processes", {}).values()):
            try:
                os.kill(proc.pid, signal.SIGINT)  # when only this process was signalled
            except (ProcessLookupError, PermissionError):
                pass

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskPool:
    """The points as tasks of a Dask distributed scheduler (``tcp://host:8786``).

    Refuses (one-line ``ValueError``) a scheduler that cannot be reached, has no
    workers, or whose workers import other package code than this process (the
    :func:`aligned_latents.util.files.package_digest` of each worker's package)."""

    def __init__(self, address: str, timeout: float | None = None):
        try:
            from distributed import Client
        except ImportError:
            raise ValueError("--scheduler needs Dask: pip install -e '.[cluster]' "
                             "(dask[distributed])") from None
        try:
            self.client = Client(address, timeout=timeout or CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"--scheduler {address}: cannot connect ({exc})") from None
        try:
            self._check_workers(address)
        except BaseException:
            self.client.close()
            raise
        self.env = None  # each worker records its own versions and device
        self.token = None
        self.where = (f"on Dask scheduler {address} ({len(self._nthreads)} worker(s), "
                      f"{self.slots} thread(s))")

    def _check_workers(self, address: str):
        from aligned_latents.util.files import package_digest

        try:
            self.client.wait_for_workers(1, timeout=WORKER_WAIT_S)
        except TimeoutError:
            raise ValueError(f"--scheduler {address} has no workers after "
                             f"{WORKER_WAIT_S} s; start some (dask worker "
                             f"{address})") from None
        self._nthreads = self.client.nthreads()
        self.slots = sum(self._nthreads.values())
        mine = package_digest()
        theirs = self.client.run(package_digest)
        other = sorted(w for w, d in theirs.items() if d != mine)
        if other:
            raise ValueError(f"--scheduler {address}: worker(s) {', '.join(other)} "
                             "import other aligned_latents code than this checkout; "
                             "start them with the same checkout (PYTHONPATH or pip "
                             "install -e)")

    def submit(self, chapter, params, out):
        return self.client.submit(run_point, chapter, params, out, None, None, self.token,
                                  pure=False, key=f"point-{Path(out).name}-{uuid.uuid4()}")

    @property
    def window(self) -> int:
        """The workers' threads now (a cluster that scales up gets more points)."""
        self.slots = max(1, sum(self.client.nthreads().values()))
        return self.slots

    @staticmethod
    def wait_any(futures):
        from distributed import wait

        done, rest = wait(list(futures), return_when="FIRST_COMPLETED")
        return set(done), set(rest)

    def interrupt(self):
        self.client.cancel(list(self._submitted))

    def close(self):
        self.client.close()

    _submitted = ()


def make_pool(n_points: int, jobs: int | None = None, scheduler: str | None = None):
    """:class:`DaskPool` when a scheduler is given (or ``DASK_SCHEDULER_ADDRESS`` is
    set), else :class:`LocalPool` with ``min(points, jobs, cores)`` workers."""
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if scheduler:
        return DaskPool(scheduler)
    cores = os.cpu_count() or 1
    workers = max(1, min(n_points, jobs or cores, cores))
    return LocalPool(workers, max(1, cores // workers))
