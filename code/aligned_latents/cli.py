"""``aligned-latents``: rerun the book's chapters with new parameters, list them, check the ledger.

Examples
--------
::

    aligned-latents list
    aligned-latents rerun glove -p degrees "[1,3]" --out reruns/glove-k13
    aligned-latents rerun glove --sweep degrees 1 3 5 --out reruns/glove-sweep
    aligned-latents ledger --check

A rerun converts ``book/<chapter>.md`` with jupytext and executes it with papermill
(:func:`aligned_latents.rerun.execute_chapter`); the executed notebook goes to
``DIR/<chapter>.ipynb`` and the run's results to ``DIR/results/<chapter>/``. The book's own
``results/`` is never written. Parameter names and types are checked against the chapter's
parameters cell before anything runs.
"""
from __future__ import annotations

import argparse
import ast
import json
import math
import os
import re
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from .chapters import CHAPTERS, get_chapter, parameters
from .paths import REPO_ROOT


def parse_value(text: str):
    """A command-line value: a Python literal when it parses as one (``3``, ``[1,3]``,
    ``True``, ``0.5``), else the string itself (``adam``)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def _book_results() -> Path:
    return (REPO_ROOT / "results").resolve()


def _check_out(out: Path) -> Path:
    """Refuse an output folder whose results would land in the book's own results/."""
    out = Path(out).resolve()
    book = _book_results()
    target = out / "results"
    if target == book or book in target.parents or out == book or book in out.parents:
        raise ValueError(f"--out {out} would write into the book's own results ({book}); "
                         "choose a folder outside it, e.g. reruns/NAME")
    return out


def _slug(name: str, value) -> str:
    text = re.sub(r"[^A-Za-z0-9.+-]+", "_", repr(value) if not isinstance(value, str) else value)
    return f"{name}-{text.strip('_') or 'value'}"


def _run_one(chapter: str, params: dict, out: str, progress: bool, threads: int | None) -> dict:
    """Execute one chapter run (in a worker process for sweeps). Returns a status dict."""
    import papermill as pm

    from .rerun import execute_chapter

    if threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[var] = str(threads)
    t0 = time.perf_counter()
    nb = Path(out) / f"{chapter}.ipynb"
    try:
        execute_chapter(chapter, params, out, progress=progress)
    except pm.PapermillExecutionError as exc:
        return dict(ok=False, out=out, notebook=str(nb), seconds=time.perf_counter() - t0,
                    error=f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}")
    except Exception as exc:  # kernel died, timeout...: still say where the notebook is
        return dict(ok=False, out=out, notebook=str(nb), seconds=time.perf_counter() - t0,
                    error=f"{type(exc).__name__}: {exc}")
    return dict(ok=True, out=out, notebook=str(nb), seconds=time.perf_counter() - t0)


def _failure(chapter: str, res: dict) -> str:
    where = res["notebook"] if Path(res["notebook"]).exists() else f"{res['notebook']} (not written)"
    return (f"rerun of {chapter} FAILED after {res['seconds']:.1f} s: {res['error']}\n"
            f"  the partial notebook is at {where}")


# -- commands ---------------------------------------------------------------------------------
def cmd_list(args) -> int:
    for name, ch in CHAPTERS.items():
        print(f"{name}: {ch.title} ({ch.paper})")
        try:
            spec = parameters(name)
        except (ValueError, OSError) as exc:
            print(f"    (parameters unreadable: {exc})")
            continue
        width = max((len(p.name) for p in spec.values()), default=0)
        for p in spec.values():
            print(f"    {p.name:<{width}} = {p.default!r:<14}  {p.meaning}")
    return 0


def _validated(chapter: str, params: dict, sweep_name: str | None, sweep_values: list) -> list[dict]:
    """Every run's parameters, validated before anything runs (ValueError otherwise)."""
    from .rerun import validate_parameters

    get_chapter(chapter)
    if sweep_name is None:
        return [validate_parameters(chapter, params)]
    if sweep_name in params:
        raise ValueError(f"parameter {sweep_name!r} is both swept and set with -p; give it once")
    if not sweep_values:
        raise ValueError("--sweep needs a parameter name and at least one value")
    slugs = [_slug(sweep_name, v) for v in sweep_values]
    if len(set(slugs)) != len(slugs):
        raise ValueError(f"sweep values {sweep_values!r} repeat; give each value once")
    spec = parameters(chapter)
    runs = []
    for v in sweep_values:
        p = dict(params)
        p[sweep_name] = v
        if "seed" in spec and "seed" not in p:
            p["seed"] = spec["seed"].default  # every run seeded, recorded in its notebook
        runs.append(validate_parameters(chapter, p))
    return runs


def cmd_rerun(args) -> int:
    chapter = args.chapter
    params = {}
    for name, value in args.param or []:
        if name in params:
            raise ValueError(f"parameter {name!r} given twice")
        params[name] = parse_value(value)
    sweep_name, sweep_values = None, []
    if args.sweep:
        sweep_name, *raw = args.sweep
        sweep_values = [parse_value(v) for v in raw]
    runs = _validated(chapter, params, sweep_name, sweep_values)
    out = _check_out(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if sweep_name is None:
        print(f"rerun {chapter} with {runs[0] or 'default parameters'} -> {out}", flush=True)
        res = _run_one(chapter, runs[0], str(out), progress=not args.quiet, threads=None)
        if not res["ok"]:
            print(_failure(chapter, res), file=sys.stderr)
            return 1
        print(f"done in {res['seconds']:.1f} s: notebook {res['notebook']}, "
              f"results {out / 'results' / chapter}")
        return 0
    return _sweep(chapter, sweep_name, sweep_values, runs, out, args.jobs)


def _sweep(chapter, name, values, runs, out: Path, jobs: int | None) -> int:
    from . import ledger

    cores = os.cpu_count() or 1
    workers = max(1, min(len(runs), jobs or cores, cores))
    threads = max(1, cores // workers)
    dirs = [out / _slug(name, v) for v in values]
    print(f"sweep {chapter}: {name} in {values}, {len(runs)} runs, {workers} at a time "
          f"({threads} thread(s) each) -> {out}", flush=True)
    results = [None] * len(runs)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_run_one, chapter, p, str(d), False, threads): i
                   for i, (p, d) in enumerate(zip(runs, dirs))}
        for i in range(len(runs)):
            print(f"  [{i + 1}/{len(runs)}] {name} = {values[i]!r}: queued", flush=True)
        done = 0
        for fut in as_completed(futures):
            i = futures[fut]
            res = results[i] = fut.result()
            done += 1
            state = "ok" if res["ok"] else "FAILED"
            print(f"  [{done}/{len(runs)} done, {time.perf_counter() - t0:.0f} s] "
                  f"{name} = {values[i]!r}: {state} in {res['seconds']:.1f} s", flush=True)
            if not res["ok"]:
                print("  " + _failure(chapter, res).replace("\n", "\n  "), file=sys.stderr)
    frame, problems = combine_sweep(chapter, name, values, [Path(d) for d in dirs],
                                    [r["ok"] for r in results])
    for p in problems:
        print(f"  warning: {p}", file=sys.stderr)
    if frame.empty:
        print("no run produced headline numbers; no sweep.csv written", file=sys.stderr)
        return 1
    frame.to_csv(out / "sweep.csv", index=False)
    plot_sweep(chapter, name, frame, out / "sweep.png")
    print(f"wrote {out / 'sweep.csv'} and {out / 'sweep.png'}")
    print(frame.to_string(index=False))
    ok = all(r["ok"] for r in results) and not problems
    return 0 if ok else 1


def combine_sweep(chapter: str, name: str, values: list, run_dirs: list[Path], ok=None):
    """One table of every run's headline numbers (:func:`aligned_latents.ledger.headline_frame`)
    with the swept value in column ``name``. Returns (frame, problems)."""
    import pandas as pd

    from .ledger import headline_frame

    frames, problems = [], []
    ok = ok if ok is not None else [True] * len(values)
    for v, d, good in zip(values, run_dirs, ok):
        if not good:
            problems.append(f"{name} = {v!r}: run failed, left out of sweep.csv")
            continue
        try:
            f = headline_frame(chapter, Path(d) / "results" / chapter)
        except ValueError as exc:
            problems.append(f"{name} = {v!r}: {exc}")
            continue
        f.insert(0, name, json.dumps(v) if isinstance(v, (list, dict)) else v)
        f.insert(1, "run", str(d))
        frames.append(f)
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), problems


def _x_positions(values):
    """Numeric x for numbers (or one-element lists of numbers), else category positions."""
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
    """Group rows across runs: a row label naming the swept value (``linear k=3``) becomes
    ``linear k=*`` so that one line follows it across the sweep."""
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
    frame = frame.assign(_x=xs, _key=[_series_key(r, v) for r, v in zip(frame["row"], frame[name])])
    fig, axes = plt.subplots(1, len(columns), figsize=(3.6 * len(columns), 3.2), squeeze=False)
    for ax, col in zip(axes[0], columns):
        for key, sub in frame.groupby("_key", sort=False):
            sub = sub.sort_values("_x")
            ax.plot(sub["_x"], sub[col], "o-", label=key)
        if col == "claims_hold" and "claims_total" in frame:
            ax.plot(frame["_x"], frame["claims_total"], "k--", lw=0.8, label="checks run")
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


def cmd_ledger(args) -> int:
    from . import ledger

    root = Path(args.results) if args.results else None
    if args.check:
        html = Path(args.html) if args.html else REPO_ROOT / "_build" / "html" / "intro.html"
        problems = ledger.check(root, html)
        for p in problems:
            print(p)
        print("ledger up to date" if not problems else f"{len(problems)} problem(s)")
        return 1 if problems else 0
    led = ledger.build(root)
    path = ledger.write(led)
    print(f"{led.summary()} -> {path}")
    return 0 if led.n_hold == led.n_checks else 1


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="aligned-latents",
        description="Rerun chapters of the reproducible edition of 'A Mechanism for Producing "
                    "Aligned Latent Spaces with Autoencoders' with new parameters.")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="chapters and their parameters (default, meaning)")
    r = sub.add_parser("rerun", help="execute a chapter with new parameters (papermill)",
                       description="Execute a chapter with new parameters. VALUE is read as a "
                                   "Python literal when it is one (3, 0.5, [1,3], True), else "
                                   "as a string.")
    r.add_argument("chapter", choices=list(CHAPTERS), metavar="CHAPTER",
                   help="short name: " + ", ".join(CHAPTERS))
    r.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   help="set a parameter (repeatable)")
    r.add_argument("--sweep", nargs="+", metavar=("NAME", "V"),
                   help="one run per value of NAME, in parallel; writes sweep.csv and sweep.png")
    r.add_argument("--out", required=True, type=Path, metavar="DIR",
                   help="output folder (notebook, results/); never the book's results/")
    r.add_argument("-j", "--jobs", type=int, default=None,
                   help="parallel runs of a sweep (default: number of cores)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    led = sub.add_parser("ledger", help="build results/ledger/ from the claims files, or --check it")
    led.add_argument("--check", action="store_true",
                     help="report a missing or stale ledger (exit 1)")
    led.add_argument("--results", help="results root (default: the book's results/)")
    led.add_argument("--html", help="rendered opening page to compare (default _build/html/intro.html)")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "list":
            return cmd_list(args)
        if args.command == "rerun":
            if args.jobs is not None and args.jobs < 1:
                raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
            return cmd_rerun(args)
        return cmd_ledger(args)
    except ValueError as exc:
        print(f"aligned-latents: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
