"""``aligned-latents rerun CHAPTER --sweep NAME V1 V2 ... [--sweep NAME2 ...] --out DIR``:
one run per point of a grid.

* **Grid.** ``--sweep`` may be given several times; the points are the cross product of
  the swept values (:func:`plan_grid`), every point validated before anything runs (a
  value given twice, ``1`` and ``1.0`` alike, or a value the schema refuses is a
  one-line ``ValueError``). Each point is an atomic run
  (:func:`aligned_latents.runs.rerun.execute_chapter`) in ``DIR/NAME-V__NAME2-W/``
  (:func:`point_folder`), its progress in ``DIR/NAME-V__NAME2-W.log``.
* **Atomic and resumable.** The sweep is built in ``DIR.partial-<pid>/`` and moved to
  ``DIR`` when every point completed, else kept as ``DIR.failed-<time>/``. A failed point
  stops the queued ones unless ``keep_going``. ``--resume`` adopts the newest kept folder
  (:func:`find_resumable`), checks that its complete points were made with the same
  parameters, package code and input files (their ``run.json``, :func:`check_resume`)
  and reruns only the others.
* **Executors.** The points run in a local process pool (:class:`~.executors.LocalPool`) or, given a
  scheduler address, as Dask tasks (:class:`~.executors.DaskPool`): each task runs the same
  :func:`~.executors.run_point` on a worker that either sees the sweep folder (a shared file system)
  or returns the finished point folder as a tar archive.
* **Output.** ``sweep.json`` (the grid, every point's status and one-line error),
  ``sweep.csv`` in long form (one row per point and headline number,
  :func:`~.sweep_report.combine_sweep`) and ``sweep.png`` (each headline against the first swept
  parameter, mean and band over the others, :func:`~.sweep_report.plot_sweep`).
"""
from __future__ import annotations

import itertools
import json
import math
import os
import re
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from aligned_latents.runs.executors import TOKEN_FILE, LocalPool, make_pool, unpack
from aligned_latents.runs.params import repeat_note, validate
from aligned_latents.runs.sweep_report import combine_sweep, plot_sweep, wide_table
from aligned_latents.util.chapters import get_chapter, parameters


def slug(name: str, value) -> str:
    """The folder name of one swept value: ``degrees-1``, ``seed-3``,
    ``degrees-1_2``."""
    text = re.sub(r"[^A-Za-z0-9.+-]+", "_",
                  repr(value) if not isinstance(value, str) else value)
    return f"{name}-{text.strip('_') or 'value'}"


def point_folder(values: dict) -> str:
    """The folder of one grid point: the slugs of its swept values joined by ``__``
    (``degrees-1_2__seed-0``; a slug never holds two ``_`` in a row)."""
    return "__".join(slug(n, v) for n, v in values.items())


@dataclass(frozen=True)
class Point:
    """One point of a grid: the swept values (in ``--sweep`` order), the parameters of
    its run and its folder name."""

    values: dict
    params: dict
    folder: str

    def label(self) -> str:
        return ", ".join(f"{n} = {v!r}" for n, v in self.values.items())


def plan_grid(chapter: str, params: dict, sweeps: list) -> list[Point]:
    """Every point of the grid ``sweeps`` (``[(name, values), ...]``: the cross product),
    each validated before anything runs.

    Each run gets ``params`` with the swept names set (and the chapter's default ``seed``
    unless given or swept, so that the runs differ in the swept values only). Raises a
    one-line ``ValueError`` when a name is swept twice or also set with ``-p``, a value
    repeats (``1`` and ``1.0`` are the same value), two values would share a folder, or
    any point's parameters are refused.
    """
    get_chapter(chapter)
    if not sweeps:
        raise ValueError("--sweep needs a parameter name and at least one value")
    names = []
    for name, values in sweeps:
        if not name or not values:
            raise ValueError("--sweep needs a parameter name and at least one value")
        if name in names:
            raise ValueError(f"parameter {name!r} is swept twice; give one --sweep per "
                             "parameter")
        if name in params:
            raise ValueError(f"parameter {name!r} is both swept and set with -p; give "
                             "it once")
        note = repeat_note(values, noun="values")
        if note is not None:
            raise ValueError(f"chapter {chapter!r}: sweep of parameter {name!r} {note}; "
                             "give each value once")
        slugs = [slug(name, v) for v in values]
        if len(set(slugs)) != len(slugs):
            raise ValueError(f"chapter {chapter!r}: sweep values {values!r} of {name!r} "
                             "would share a folder name; give values that differ in "
                             "more than punctuation")
        names.append(name)
    spec = parameters(chapter)
    points = []
    for combo in itertools.product(*(values for _, values in sweeps)):
        values = dict(zip(names, combo))
        p = {**params, **values}
        if "seed" in spec and "seed" not in p:
            p["seed"] = spec["seed"].default  # every run seeded, recorded in run.json
        try:
            validate(chapter, p)
        except ValueError as exc:
            if len(sweeps) == 1:
                raise
            raise ValueError(f"{exc} (grid point {', '.join(map(repr, combo))})") from None
        points.append(Point(values, p, point_folder(values)))
    return points


def plan_sweep(chapter: str, params: dict, name: str, values: list) -> list[dict]:
    """The parameters of every run of a one-parameter sweep (:func:`plan_grid`)."""
    return [p.params for p in plan_grid(chapter, params, [(name, values)])]


# -- resuming ----------------------------------------------------------------------------
def _pid_of(folder: Path) -> int | None:
    m = re.search(r"\.partial-(\d+)$", folder.name)
    return int(m.group(1)) if m else None


def find_resumable(out: Path) -> Path | None:
    """The newest kept sweep of ``out`` (``DIR.failed-*``, or ``DIR.partial-<pid>`` of a
    process that is gone) holding a ``sweep.json``, or ``None``."""
    from aligned_latents.runs.output import pid_alive

    found = []
    for d in out.parent.glob(f"{out.name}.*"):
        if not d.is_dir() or not (d / "sweep.json").is_file():
            continue
        if d.name.startswith(f"{out.name}.failed-"):
            found.append(d)
        elif _pid_of(d) is not None and not pid_alive(_pid_of(d)):
            found.append(d)
    return max(found, key=lambda d: (d / "sweep.json").stat().st_mtime, default=None)


def read_sweep(folder: Path) -> dict:
    """A sweep folder's ``sweep.json`` (one-line ``ValueError`` when unreadable)."""
    path = Path(folder) / "sweep.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable sweep record ({exc})") from None


def grid_of(info: dict) -> tuple[list, dict]:
    """The grid (``[(name, values), ...]``) and the fixed parameters of a sweep record;
    a one-parameter sweep written before grids (``parameter``, ``values``, one
    ``parameters`` dict per run) reads as a grid of one."""
    if "sweeps" in info:
        return [(n, v) for n, v in info["sweeps"]], dict(info.get("fixed", {}))
    try:
        name, values = info["parameter"], info["values"]
    except KeyError:
        raise ValueError("the sweep record names no swept parameter") from None
    runs = info.get("parameters") or [{}]
    return [(name, values)], {k: v for k, v in runs[0].items() if k != name}


def _folder_of(info: dict, point: dict) -> str:
    """A recorded point's folder (a record written before grids names its value)."""
    if point.get("folder"):
        return point["folder"]
    return slug(info.get("parameter", "value"), point.get("value"))


def _same(a, b) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True,
                                                                    default=str)


def check_resume(chapter: str, points: list[Point], folder: Path) -> set[str]:
    """The folders of ``points`` already complete in the kept sweep ``folder``, each
    checked against its ``run.json``: the same chapter and parameters, the same package
    code (:func:`aligned_latents.util.files.package_digest`) and the same input
    files (sha256). A point of ``folder`` outside ``points``, or a complete point made
    otherwise, is a one-line ``ValueError``."""
    from aligned_latents.runs.provenance import input_files
    from aligned_latents.util.files import package_digest

    info = read_sweep(folder)
    if info.get("chapter") != chapter:
        raise ValueError(f"--resume {folder} is a sweep of {info.get('chapter')!r}, not "
                         f"of {chapter!r}")
    planned = {p.folder: p for p in points}
    old = [_folder_of(info, p) for p in info.get("points", [])]
    extra = [f for f in old if f not in planned]
    if extra:
        raise ValueError(f"--resume {folder}: its point {extra[0]} is not in this grid; "
                         "give the same --sweep and -p values (or resume without them)")
    digest = package_digest()
    done = set()
    for name, point in planned.items():
        run_json = folder / name / "run.json"
        if not run_json.is_file():
            continue
        rec = json.loads(run_json.read_text(encoding="utf-8"))
        if rec.get("status") != "complete":
            continue
        where = f"--resume {folder}: point {name}"
        if not _same(rec["parameters"]["given"], point.params):
            raise ValueError(f"{where} ran with {rec['parameters']['given']}, not "
                             f"{point.params}; give the same -p values")
        if rec.get("package_digest") != digest:
            raise ValueError(f"{where} was made with other package code (digest "
                             f"{str(rec.get('package_digest'))[:12]}, now {digest[:12]}); "
                             "start a new sweep (another --out), or delete that point's "
                             "folder to rerun it")
        now = input_files(chapter, rec["parameters"]["effective"])
        if not _same(rec.get("inputs", {}), now):
            raise ValueError(f"{where} read other input files than now ({rec['inputs']} "
                             f"vs {now}); delete that point's folder to rerun it")
        done.add(name)
    return done


# -- the sweep -------------------------------------------------------------------------
def _progress_line(total, done, failed, running, elapsed, finished_s, slots) -> str:
    queued = total - done - failed - running
    left = total - done - failed
    if left == 0:
        eta = "none left"
    elif finished_s:
        per = sum(finished_s) / len(finished_s)
        eta = f"about {_duration(per * math.ceil(left / max(1, slots)))} left"
    else:
        eta = "time left unknown"
    return (f"sweep: {done + failed}/{total} done ({failed} failed), {running} running, "
            f"{queued} queued; {_duration(elapsed)} elapsed, {eta}")


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class _Progress:
    """One progress line for the whole sweep: rewritten in place on a terminal, one
    line per change otherwise."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.width = 0

    def show(self, text: str):
        if self.tty:
            self.stream.write("\r" + text.ljust(self.width))
            self.width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def note(self, text: str):
        """A line of its own (a failed point), printed to stderr."""
        if self.tty and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0
        print(text, file=sys.stderr, flush=True)

    def end(self):
        if self.tty and self.width:
            self.stream.write("\n")
            self.stream.flush()


def run_sweep(chapter: str, points: list[Point], out, jobs=None, force: bool = False,
              resume: Path | None = None, keep_going: bool = False,
              scheduler: str | None = None, pool=None) -> int:
    """Execute the points of :func:`plan_grid` into ``out`` (atomically, see the module's
    docstring); print one progress line and the table. ``resume``: a kept sweep folder
    (:func:`find_resumable`) whose complete points are checked (:func:`check_resume`)
    and kept. Returns the exit status (0 when every point completed and gave headline
    numbers, else 1); Ctrl-C raises
    :class:`aligned_latents.runs.rerun.RunInterrupted` once the running points are
    stopped."""
    from aligned_latents.runs.output import OutputSlot
    from aligned_latents.runs.provenance import environment, now_iso
    from aligned_latents.runs.rerun import RunInterrupted
    from aligned_latents.util.files import package_digest

    done_before = check_resume(chapter, points, resume) if resume is not None else set()
    todo = [p for p in points if p.folder not in done_before]
    pool = pool or make_pool(max(1, len(todo)), jobs, scheduler)
    sweeps = _sweeps_of(points)
    try:
        with OutputSlot(out, force, adopt=resume) as slot:
            stage = slot.staging
            kept_info = read_sweep(stage) if resume is not None else {}
            before = {_folder_of(kept_info, q): q  # the kept points' times and hosts
                      for q in kept_info.get("points", [])}
            grid = " x ".join(f"{n} in {v}" for n, v in sweeps)
            again = f", {len(done_before)} kept from {resume.name}" if resume else ""
            print(f"sweep {chapter}: {grid}: {len(points)} point(s), {len(todo)} to "
                  f"run{again}, {pool.where} -> {slot.out}", flush=True)
            fixed = {k: v for k, v in points[0].params.items()
                     if k not in points[0].values}
            info = {"chapter": chapter, "sweeps": [[n, v] for n, v in sweeps],
                    "fixed": fixed, "out": str(slot.out),
                    "package_digest": package_digest(), "started": now_iso(),
                    "status": "running",
                    # parameter/value: how `aligned-latents compare` names a point
                    "parameter": ", ".join(n for n, _ in sweeps),
                    "points": [{"value": _value_of(p), "values": p.values,
                                "folder": p.folder, "parameters": p.params,
                                "status": "queued"} for p in points]}
            if len(sweeps) == 1:
                info["values"] = sweeps[0][1]
            _write_sweep_json(stage, info)
            token = uuid.uuid4().hex
            (stage / TOKEN_FILE).write_text(token + "\n")
            pool.token = token
            if pool.env is None and isinstance(pool, LocalPool):
                pool.env = environment()
            results, interrupted = _execute(pool, chapter, todo, stage, keep_going)
            for p in points:
                if p.folder in done_before:
                    old = before.get(p.folder, {})
                    results[p.folder] = {"status": "complete", "dir": p.folder,
                                         "error": None, "seconds": old.get("seconds", 0.0),
                                         "host": old.get("host"), "kept": True}
            rows = []
            for p, row in zip(points, info["points"]):
                r = results.get(p.folder) or {"status": "not started", "dir": None,
                                              "error": None, "seconds": 0.0}
                d = stage / r["dir"] if r.get("dir") else None
                row.update(status=r["status"], error=r.get("error"),
                           seconds=round(r.get("seconds", 0.0), 3),
                           dir=d.name if d is not None and d.exists() else None,
                           host=r.get("host"))
                if r.get("kept"):
                    row["resumed_from"] = resume.name
                rows.append(row)
            ok = [r["status"] == "complete" for r in rows]
            frame, problems = combine_sweep(chapter, [p.values for p in points],
                                            [stage / p.folder for p in points], ok)
            for msg in problems if not interrupted else []:
                if "did not complete" not in msg:
                    print(f"  warning: {msg.replace(str(stage) + os.sep, '')}",
                          file=sys.stderr)
            if not frame.empty:
                frame.to_csv(stage / "sweep.csv", index=False)
                plot_sweep(chapter, [n for n, _ in sweeps], frame, stage / "sweep.png")
            status = ("interrupted" if interrupted else
                      "complete" if all(ok) and not frame.empty else "failed")
            info.update(points=rows, status=status, ended=now_iso())
            _write_sweep_json(stage, info)
            (stage / TOKEN_FILE).unlink(missing_ok=True)
            final = slot.commit() if status == "complete" else slot.keep_failed()
    finally:
        pool.close()
    if interrupted:
        raise RunInterrupted(final)
    failed = [r for r in rows if r["status"] != "complete"]
    if failed:
        print(f"{len(failed)} point(s) not complete:", file=sys.stderr)
        for r in failed:
            print(f"  {r['folder']}: {r['status']}"
                  f"{': ' + r['error'] if r.get('error') else ''}", file=sys.stderr)
    if frame.empty:
        print(f"no run produced headline numbers; no sweep.csv written (kept in "
              f"{final})", file=sys.stderr)
        return 1
    print(f"wrote {final / 'sweep.csv'} and {final / 'sweep.png'}")
    print(wide_table(frame, [n for n, _ in sweeps]).to_string())
    if status != "complete":
        print(f"the sweep is kept in {final}; finish it with: aligned-latents rerun "
              f"{chapter} --resume {final}", file=sys.stderr)
        return 1
    return 0


def _value_of(point: Point):
    """A point's swept value (one parameter) or values (a grid: a dict)."""
    return next(iter(point.values.values())) if len(point.values) == 1 else point.values


def _sweeps_of(points: list[Point]) -> list[tuple[str, list]]:
    """The swept names and their values, in order, from the points of a grid."""
    names = list(points[0].values)
    return [(n, list({json.dumps(p.values[n], sort_keys=True): p.values[n]
                      for p in points}.values())) for n in names]


def _write_sweep_json(stage: Path, info: dict):
    text = json.dumps(info, indent=2, default=str) + "\n"
    tmp = stage / "sweep.json.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, stage / "sweep.json")


def _execute(pool, chapter: str, todo: list[Point], stage: Path, keep_going: bool):
    """Run the points on ``pool``; returns ({folder: result}, interrupted).

    At most ``pool.window`` points are handed to the pool at a time (one per worker
    process or Dask worker thread, so that nothing waits inside the executor), the others
    as points end. A failed point stops the points not yet started unless
    ``keep_going``; the running ones finish."""
    results = {}
    t0 = time.perf_counter()
    bar = _Progress()
    futures, pending, queue = {}, set(), list(todo)
    counts = {"done": 0, "failed": 0, "stop": False}
    finished_s = []

    def fill():
        while queue and not counts["stop"] and (pool.window is None
                                                or len(pending) < pool.window):
            p = queue.pop(0)
            # a resumed point's last failure, or the staging folder of a killed run
            for old in [*stage.glob(f"{p.folder}.failed-*"),
                        *stage.glob(f"{p.folder}.partial-*")]:
                shutil.rmtree(old, ignore_errors=True)
            fut = pool.submit(chapter, p.params, str(stage / p.folder))
            futures[fut] = p
            pending.add(fut)
        pool._submitted = list(pending)

    def line():
        running = min(pool.slots, len(pending))
        return _progress_line(len(todo), counts["done"], counts["failed"], running,
                              time.perf_counter() - t0, finished_s, pool.slots)

    interrupted = False
    try:
        fill()
        bar.show(line())
        while pending:
            done, rest = pool.wait_any(pending)
            pending.clear()
            pending.update(f for f in rest if not f.cancelled())
            for fut in done:
                if fut.cancelled():
                    continue
                p = futures[fut]
                try:
                    res = unpack(fut.result(), stage)
                except Exception as exc:  # noqa: BLE001 - a worker that died
                    res = {"status": "failed", "dir": None, "seconds": 0.0,
                           "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
                results[p.folder] = res
                finished_s.append(res.get("seconds", 0.0))
                if res["status"] == "complete":
                    counts["done"] += 1
                    continue
                counts["failed"] += 1
                kept = res.get("dir") or "nothing kept"
                bar.note(f"  {p.label()} {res['status'].upper()}: {res['error']} ({kept})")
                counts["stop"] = counts["stop"] or not keep_going  # start no more
            fill()
            bar.show(line())
    except KeyboardInterrupt:
        interrupted = True
        pool.interrupt()
    finally:
        bar.end()
    return results, interrupted

