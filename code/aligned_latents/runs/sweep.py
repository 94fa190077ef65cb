"""``aligned-latents rerun CHAPTER --sweep NAME V1 V2 ... --out DIR``: one run per
value.

Every value is validated before anything runs (:func:`plan_sweep`: a value given twice,
``1`` and ``1.0`` alike, or a value the schema refuses is a one-line ``ValueError``).
The runs execute in parallel worker processes (:func:`run_sweep`); each is an atomic run
(:func:`aligned_latents.runs.rerun.execute_chapter`) in ``DIR/NAME-V/``, and the sweep itself
is atomic too: it is built in ``DIR.partial-<pid>/`` and moved to ``DIR`` when every run
completed, else kept as ``DIR.failed-<time>/``. It writes ``sweep.json`` (the points and
their status), ``sweep.csv`` (every run's headline numbers,
:func:`aligned_latents.record.ledger.headline_frame`) and ``sweep.png`` (those numbers against
the swept value).
"""
from __future__ import annotations

import json
import math
import os
import re
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from aligned_latents.runs.params import repeat_note, validate
from aligned_latents.util.chapters import get_chapter, parameters


def slug(name: str, value) -> str:
    """The folder name of one sweep point: ``degrees-1``, ``seed-3``,
    ``degrees-_1_2``."""
    text = re.sub(r"[^A-Za-z0-9.+-]+", "_",
                  repr(value) if not isinstance(value, str) else value)
    return f"{name}-{text.strip('_') or 'value'}"


def plan_sweep(chapter: str, params: dict, name: str, values: list) -> list[dict]:
    """The parameters of every run of a sweep, all validated before anything runs.

    Each run gets ``params`` with ``name`` set to one value (and the chapter's default
    ``seed`` unless given, so that the runs differ in the swept value only). Returns the
    parameters as given (one dict per value); raises a one-line ``ValueError`` when a
    value repeats (``1`` and ``1.0`` are the same value) or any run's parameters are
    refused.
    """
    get_chapter(chapter)
    if not name:
        raise ValueError("--sweep needs a parameter name and at least one value")
    if name in params:
        raise ValueError(f"parameter {name!r} is both swept and set with -p; give it "
                         "once")
    if not values:
        raise ValueError("--sweep needs a parameter name and at least one value")
    note = repeat_note(values, noun="values")
    if note is not None:
        raise ValueError(f"chapter {chapter!r}: sweep of parameter {name!r} {note}; "
                         "give each value once")
    slugs = [slug(name, v) for v in values]
    if len(set(slugs)) != len(slugs):
        raise ValueError(f"chapter {chapter!r}: sweep values {values!r} of {name!r} "
                         "would share a folder name; give values that differ in more "
                         "than punctuation")
    spec = parameters(chapter)
    runs = []
    for v in values:
        p = dict(params)
        p[name] = v
        if "seed" in spec and "seed" not in p:
            p["seed"] = spec["seed"].default  # every run seeded, recorded in run.json
        validate(chapter, p)
        runs.append(p)
    return runs


# -- worker processes ------------------------------------------------------------------
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


def run_point(chapter: str, params: dict, out: str, threads: int | None = None,
              progress: bool = False, env: dict | None = None) -> dict:
    """Execute one sweep point (in a worker process); never raises. Returns a dict with
    ``status`` (``complete``/``failed``/``interrupted``), ``dir`` (where the run is),
    ``seconds``, ``error`` and ``verdicts`` (how many verdicts differ from the book's).
    ``env``: the versions/device record of :func:`aligned_latents.runs.rerun.environment`,
    computed once by the parent."""
    global _ACTIVE
    from aligned_latents.runs.rerun import RunFailed, RunInterrupted, execute_chapter

    if threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[var] = str(threads)
    t0 = time.perf_counter()
    res = {"status": "complete", "dir": out, "error": None, "verdicts": None}
    if _STOP is not None and _STOP.is_set():
        return dict(res, status="interrupted", dir=None, error="not started",
                    seconds=0.0)
    _ACTIVE = True
    try:
        run = execute_chapter(chapter, params, out, progress=progress, env=env)
        _ACTIVE = False
        changed = run.record.get("verdicts", {}).get("changed")
        if changed is not None:
            res["verdicts"] = f"{changed} verdict(s) differ from the book's"
    except RunInterrupted as exc:
        res.update(status="interrupted", dir=str(exc.kept), error="interrupted")
    except KeyboardInterrupt:
        res.update(status="interrupted", error="interrupted")
    except RunFailed as exc:
        res.update(status="failed", dir=str(exc.kept), error=exc.error)
    except Exception as exc:  # noqa: BLE001 - a worker reports, the parent decides
        res.update(status="failed", error=f"{type(exc).__name__}: {exc}")
    finally:
        _ACTIVE = False
    res["seconds"] = time.perf_counter() - t0
    return res


def run_sweep(chapter: str, name: str, values: list, runs: list[dict], out, jobs=None,
              force: bool = False) -> int:
    """Execute the runs of :func:`plan_sweep` in parallel into ``out`` (atomically, see
    the module's docstring); print progress and the table. Returns the exit status (0
    when every run completed and gave headline numbers, else 1); Ctrl-C raises
    :class:`aligned_latents.runs.rerun.RunInterrupted` once the running points are
    stopped."""
    from aligned_latents.runs.rerun import OutputSlot, RunInterrupted, environment, now_iso

    cores = os.cpu_count() or 1
    workers = max(1, min(len(runs), jobs or cores, cores))
    threads = max(1, cores // workers)
    with OutputSlot(out, force) as slot:
        stage = slot.staging
        print(f"sweep {chapter}: {name} in {values}, {len(runs)} runs, {workers} at a "
              f"time ({threads} thread(s) each) -> {slot.out}", flush=True)
        info = {"chapter": chapter, "parameter": name, "values": values,
                "parameters": [dict(r) for r in runs], "started": now_iso(),
                "status": "running", "points": []}
        results, interrupted = _execute(chapter, name, values, runs, stage, workers,
                                        threads, environment())
        points = []
        for v, r in zip(values, results):
            r = r or {"status": "interrupted", "dir": None, "error": "not started",
                          "seconds": 0.0}
            d = Path(r["dir"]) if r.get("dir") else None
            points.append({"value": v, "status": r["status"], "error": r.get("error"),
                           "seconds": round(r.get("seconds", 0.0), 3),
                           "dir": d.name if d is not None and d.exists() else None})
        ok = [p["status"] == "complete" for p in points]
        frame, problems = combine_sweep(chapter, name, values,
                                        [stage / slug(name, v) for v in values], ok)
        for p in problems if not interrupted else []:
            print(f"  warning: {p.replace(str(stage) + os.sep, '')}", file=sys.stderr)
        if not frame.empty:
            frame.to_csv(stage / "sweep.csv", index=False)
            plot_sweep(chapter, name, frame, stage / "sweep.png")
        status = ("interrupted" if interrupted else
                  "complete" if all(ok) and not frame.empty else "failed")
        info.update(points=points, status=status, ended=now_iso())
        text = json.dumps(info, indent=2, default=str) + "\n"
        (stage / "sweep.json").write_text(text, encoding="utf-8")
        final = slot.commit() if status == "complete" else slot.keep_failed()
    if interrupted:
        raise RunInterrupted(final)
    if frame.empty:
        print(f"no run produced headline numbers; no sweep.csv written (kept in "
              f"{final})", file=sys.stderr)
        return 1
    print(f"wrote {final / 'sweep.csv'} and {final / 'sweep.png'}")
    print(frame.to_string(index=False))
    if status != "complete":
        print(f"not every run completed: the sweep is kept in {final}", file=sys.stderr)
        return 1
    return 0


def _execute(chapter, name, values, runs, stage: Path, workers: int, threads: int,
             env: dict):
    """Run every point in a process pool; returns (results by point, interrupted)."""
    import multiprocessing

    results = [None] * len(runs)
    t0 = time.perf_counter()
    stop = multiprocessing.get_context("fork").Event()
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_init,
                               initargs=(stop,),
                               mp_context=multiprocessing.get_context("fork"))
    futures = {pool.submit(run_point, chapter, p, str(stage / slug(name, v)), threads,
                           False, env): i
               for i, (p, v) in enumerate(zip(runs, values))}
    for i in range(len(runs)):
        print(f"  [{i + 1}/{len(runs)}] {name} = {values[i]!r}: queued", flush=True)
    interrupted = False
    try:
        done = 0
        for fut in as_completed(futures):
            i = futures[fut]
            res = results[i] = fut.result()
            done += 1
            extra = f"; {res['verdicts']}" if res.get("verdicts") else ""
            print(f"  [{done}/{len(runs)} done, {time.perf_counter() - t0:.0f} s] "
                  f"{name} = {values[i]!r}: {res['status']} in {res['seconds']:.1f} s"
                  f"{extra}", flush=True)
            if res["status"] != "complete":
                kept = Path(res["dir"]).name if res.get("dir") else "nothing kept"
                print(f"  {name} = {values[i]!r} {res['status'].upper()}: "
                      f"{res['error']} ({kept})", file=sys.stderr)
    except KeyboardInterrupt:
        interrupted = True
        stop.set()
        for proc in list(getattr(pool, "_processes", {}).values()):
            try:
                os.kill(proc.pid, signal.SIGINT)  # when only this process was signalled
            except (ProcessLookupError, PermissionError):
                pass
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    for fut, i in futures.items():
        if results[i] is None and fut.done() and not fut.cancelled():
            try:
                results[i] = fut.result()
            except Exception:  # noqa: BLE001 - a worker that died: reported as not run
                pass
    return results, interrupted


# -- the sweep's table and plot --------------------------------------------------------
def combine_sweep(chapter: str, name: str, values: list, run_dirs: list[Path], ok=None):
    """One table of every run's headline numbers
    (:func:`aligned_latents.record.ledger.headline_frame`) with the swept value in column
    ``name``. Returns (frame, problems)."""
    import pandas as pd

    from aligned_latents.record.ledger import headline_frame

    frames, problems = [], []
    ok = ok if ok is not None else [True] * len(values)
    for v, d, good in zip(values, run_dirs, ok):
        if not good:
            problems.append(f"{name} = {v!r}: run did not complete, left out of "
                            "sweep.csv")
            continue
        try:
            f = headline_frame(chapter, Path(d) / "results" / chapter)
        except ValueError as exc:
            problems.append(f"{name} = {v!r}: {exc}")
            continue
        f.insert(0, name, json.dumps(v) if isinstance(v, (list, dict)) else v)
        f.insert(1, "run", Path(d).name)  # relative: the sweep folder moves at the end
        frames.append(f)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return frame, problems


def _x_positions(values):
    """Numeric x for numbers (or one-element lists of numbers), else category
    positions."""
    def num(v):
        if isinstance(v, str):
            try:
                v = json.loads(v)
            except ValueError:
                return None
        if isinstance(v, list) and len(v) == 1:
            v = v[0]
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            return float(v)
        return None

    xs = [num(v) for v in values]
    if all(x is not None for x in xs):
        return xs, None
    cats = list(dict.fromkeys(str(v) for v in values))
    return [float(cats.index(str(v))) for v in values], cats


def _series_key(row: str, value) -> str:
    """Group rows across runs: a row label naming the swept value (``linear k=3``)
    becomes ``linear k=*`` so that one line follows it across the sweep."""
    v = value
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except ValueError:
            pass
    if isinstance(v, list) and len(v) == 1:
        v = v[0]
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        token = re.escape(f"{v:g}" if isinstance(v, float) else str(v))
        return re.sub(rf"(?<![0-9.]){token}(?![0-9.])", "*", row)
    return row


def plot_sweep(chapter: str, name: str, frame, path: Path) -> Path:
    """Plot each headline column against the swept parameter, one line per row label."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = [c for c in frame.columns if c not in (name, "run", "row")]
    if "claims_total" in columns:  # fall-back headline: share of claims that hold
        columns = ["claims_hold"]
    xs, cats = _x_positions(list(frame[name]))
    keys = [_series_key(r, v) for r, v in zip(frame["row"], frame[name])]
    frame = frame.assign(_x=xs, _key=keys)
    fig, axes = plt.subplots(1, len(columns), figsize=(3.6 * len(columns), 3.2),
                             squeeze=False)
    for ax, col in zip(axes[0], columns):
        for key, sub in frame.groupby("_key", sort=False):
            sub = sub.sort_values("_x")
            ax.plot(sub["_x"], sub[col], "o-", label=key)
        if col == "claims_hold" and "claims_total" in frame:
            ax.plot(frame["_x"], frame["claims_total"], "k--", lw=0.8,
                    label="checks run")
        ax.set_xlabel(name)
        ax.set_title(col, fontsize=10)
        if cats is not None:
            ax.set_xticks(range(len(cats)), cats, rotation=30)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(f"{chapter}: headline numbers against {name}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
