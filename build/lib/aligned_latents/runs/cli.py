"""``aligned-latents``: rerun the book's chapters with new parameters, compare runs,
check the ledger.

Examples
--------
::

    aligned-latents list
    aligned-latents rerun glove -p degrees "[1,3]" --out reruns/glove-k13
    aligned-latents rerun glove --sweep degrees 1 3 5 --out reruns/glove-sweep
    aligned-latents rerun stretching --sweep fig2_c 0 1 --sweep seed 0 1 --out reruns/grid
    aligned-latents rerun stretching --resume reruns/grid
    aligned-latents compare reruns/glove-k13 reruns/glove-k13-seed1
    aligned-latents ledger --check
    aligned-latents status
    aligned-latents verify

This module only parses arguments and prints; the work is done by
:mod:`aligned_latents.runs.params` (the parameter schema), :mod:`aligned_latents.runs.rerun` (one
atomic run), :mod:`aligned_latents.runs.sweep` (a sweep) and :mod:`aligned_latents.record.compare`
(verdict changes).
"""
from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

from aligned_latents.util.chapters import CHAPTERS
from aligned_latents.util.paths import REPO_ROOT


def parse_value(text: str):
    """A command-line value: a Python literal when it parses as one (``3``, ``[1,3]``,
    ``True``, ``0.5``), else the string itself (``adam``)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def _given(pairs) -> dict:
    """``-p NAME VALUE`` pairs as a dict (a name given twice is refused)."""
    params = {}
    for name, value in pairs or []:
        if name in params:
            raise ValueError(f"parameter {name!r} given twice")
        params[name] = parse_value(value)
    return params


# -- commands --------------------------------------------------------------------------
def cmd_list(args) -> int:
    """Every chapter with its parameters: default, type and range, meaning."""
    from aligned_latents.runs.params import describe
    from aligned_latents.util.chapters import parameters

    for name, ch in CHAPTERS.items():
        print(f"{name}: {ch.title} ({ch.paper})")
        try:
            spec, kinds = parameters(name), describe(name)
        except (ValueError, OSError) as exc:
            print(f"    (parameters unreadable: {exc})")
            continue
        width = max((len(p.name) for p in spec.values()), default=0)
        for p in spec.values():
            print(f"    {p.name:<{width}} = {p.default!r:<14}  "
                  f"[{kinds.get(p.name, 'not in the schema')}]  {p.meaning}")
    return 0


def cmd_rerun(args) -> int:
    """One run (``-p``) or a sweep (``--sweep``), every value checked before anything
    runs."""
    from aligned_latents.runs import output, rerun
    from aligned_latents.runs.params import validate

    chapter, params = args.chapter, _given(args.param)
    if args.jobs is not None and args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
    if args.sweep or args.resume is not None:
        return _sweep_command(args, chapter, params)
    if args.out is None:
        raise ValueError("give an output folder (--out DIR)")
    if args.keep_going or args.scheduler:
        raise ValueError("--keep-going and --scheduler apply to sweeps (--sweep)")
    resolved = validate(chapter, params)
    out = output.check_target(args.out, args.force)
    print(f"rerun {chapter} with {resolved or 'default parameters'} -> {out}",
          flush=True)
    run = rerun.execute_chapter(chapter, params, out, progress=not args.quiet,
                                force=args.force)
    print(f"done in {run.seconds:.1f} s: notebook {run.notebook}, page {run.html}, "
          f"results {run.results}")
    for line in rerun.used_notes(run.record) + run.verdict_lines:
        print(line)
    return 0


def _sweep_command(args, chapter: str, params: dict) -> int:
    """``--sweep`` (a grid when repeated) and ``--resume [DIR]``: every point planned
    and checked, and the kept sweep found, before anything runs."""
    from aligned_latents.runs import output, sweep

    sweeps = [(name, [parse_value(v) for v in raw]) for name, *raw in args.sweep or []]
    out, resume = args.out, None
    if args.resume is not None:
        given = Path(args.resume) if args.resume else None
        if given is not None and (given / "sweep.json").is_file() and (
                ".failed-" in given.name or ".partial-" in given.name):
            resume, target = given, Path(sweep.read_sweep(given)["out"])
        else:
            target = given if given is not None else out
        if target is None:
            raise ValueError("--resume needs the sweep's folder: --resume DIR, or --out "
                             "DIR --resume")
        if out is not None and Path(out).resolve() != Path(target).resolve():
            raise ValueError(f"--resume {args.resume} belongs to --out {target}, not "
                             f"{out}")
        out = target
        resume = resume or sweep.find_resumable(output.check_out(out))
        if resume is None:
            done = Path(out) / "sweep.json"
            if done.is_file() and sweep.read_sweep(Path(out)).get("status") == "complete":
                print(f"{out} is a complete sweep: nothing to resume")
                return 0
            raise ValueError(f"--resume: no kept sweep of {out} ({out}.failed-* or "
                             f"{out}.partial-*) to resume")
        if not sweeps:  # the same grid as the kept sweep's
            sweeps, fixed = sweep.grid_of(sweep.read_sweep(resume))
            params = params or fixed
    if out is None:
        raise ValueError("give an output folder (--out DIR)")
    points = sweep.plan_grid(chapter, params, sweeps)
    out = output.check_target(out, args.force)
    return sweep.run_sweep(chapter, points, out, args.jobs, args.force, resume=resume,
                           keep_going=args.keep_going, scheduler=args.scheduler)


def cmd_compare(args) -> int:
    """The verdicts that differ between two runs, two sweeps, or the book and a run."""
    from aligned_latents.record.compare import compare_folders

    for line in compare_folders(args.first, args.second):
        print(line)
    return 0


def cmd_ledger(args) -> int:
    """Build ``results/ledger/`` from the claims files, or ``--check`` it."""
    from aligned_latents.record import ledger

    root = Path(args.results) if args.results else None
    if args.check:
        html = (Path(args.html) if args.html
                else REPO_ROOT / "_build" / "html" / "intro.html")
        problems = ledger.check(root, html)
        for p in problems:
            print(p)
        print("ledger up to date" if not problems else f"{len(problems)} problem(s)")
        return 1 if problems else 0
    led = ledger.build(root)
    path = ledger.write(led)
    print(f"{led.summary()} -> {path}")
    # a check that fails is a result (its statement's verdict says so); a statement
    # without a verdict (a chapter missing, a statement unchecked) is an error
    return 0 if led.complete else 1


def cmd_status(args) -> int:
    """Per chapter, whether the next build takes it from the cache or executes it, and why
    (the same lines as the build log), without building."""
    from aligned_latents.book.sphinx_ext import book_status, status_line

    cache = Path(args.cache) if args.cache else REPO_ROOT / "_build" / ".jupyter_cache"
    for name, reasons in book_status(cache).items():
        print(status_line(name, reasons))
    return 0


def cmd_verify(args) -> int:
    """Rebuild the book from nothing and compare it with tests/baselines/."""
    from aligned_latents.runs.verify import verify

    return verify(args.out)


COMMANDS = {"list": cmd_list, "rerun": cmd_rerun, "compare": cmd_compare,
            "ledger": cmd_ledger, "status": cmd_status, "verify": cmd_verify}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``aligned-latents``."""
    ap = argparse.ArgumentParser(
        prog="aligned-latents",
        description="Rerun chapters of the reproducible edition of 'A Mechanism for "
                    "Producing Aligned Latent Spaces with Autoencoders' with new "
                    "parameters.")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("list",
                   help="chapters and their parameters (default, type, meaning)")
    r = sub.add_parser(
        "rerun", help="execute a chapter with new parameters (papermill)",
        description="Execute a chapter with new parameters, atomically: DIR appears "
                    "only when every cell succeeded (a failed or interrupted run is "
                    "kept as DIR.failed-TIME). VALUE is read as a Python literal when "
                    "it is one (3, 0.5, [1,3], True), else as a string; relative paths "
                    "are relative to the current folder.")
    r.add_argument("chapter", choices=list(CHAPTERS), metavar="CHAPTER",
                   help="short name: " + ", ".join(CHAPTERS))
    r.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   help="set a parameter (repeatable)")
    r.add_argument("--sweep", nargs="+", action="append", metavar=("NAME", "V"),
                   help="one run per value of NAME, in parallel; repeated: one run per "
                        "point of the grid (cross product); writes sweep.csv and "
                        "sweep.png")
    r.add_argument("--out", type=Path, metavar="DIR",
                   help="output folder (notebook, page, results/, run.json); never the "
                        "book's results/")
    r.add_argument("--resume", nargs="?", const="", metavar="DIR",
                   help="continue the kept sweep of DIR (DIR.failed-*, or give that "
                        "folder): check its complete points' run.json, run the others")
    r.add_argument("--keep-going", action="store_true",
                   help="a failed sweep point does not stop the queued ones")
    r.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the sweep's points on a Dask scheduler (tcp://host:8786; "
                        "default $DASK_SCHEDULER_ADDRESS, else local processes); the "
                        "workers must share the output folder or send points back")
    r.add_argument("--force", action="store_true",
                   help="replace a non-empty DIR (once the new run is complete)")
    r.add_argument("-j", "--jobs", type=int, default=None,
                   help="parallel runs of a sweep (default: number of cores)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    c = sub.add_parser("compare",
                       help="verdicts that differ between two runs or sweeps",
                       description="Print the statements whose verdict differs between "
                                   "two rerun folders, two sweep folders (value by "
                                   "value), or 'book' (the book's own verdicts) and a "
                                   "rerun folder.")
    c.add_argument("first", metavar="DIR1", help="rerun or sweep folder, or 'book'")
    c.add_argument("second", metavar="DIR2", help="rerun or sweep folder, or 'book'")
    led = sub.add_parser("ledger",
                         help="build results/ledger/ from the claims files, or "
                              "--check it")
    led.add_argument("--check", action="store_true",
                     help="report a missing or stale ledger (exit 1)")
    led.add_argument("--results", help="results root (default: the book's results/)")
    led.add_argument("--html",
                     help="rendered opening page to compare "
                          "(default _build/html/intro.html)")
    st = sub.add_parser("status", help="per chapter: from cache, or executed because ...")
    st.add_argument("--cache", help="jupyter-cache folder (default _build/.jupyter_cache)")
    v = sub.add_parser("verify", help="rebuild the book from nothing, compare with "
                                      "tests/baselines/")
    v.add_argument("--out", type=Path, metavar="DIR",
                   help="new or empty folder for the rebuild (default: a temporary one)")
    return ap


def main(argv: list[str] | None = None) -> int:
    """Run the command; exit status 0 (done), 1 (a run failed), 2 (refused), 130
    (interrupted)."""
    from aligned_latents.runs.rerun import RunFailed

    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except ValueError as exc:
        print(f"aligned-latents: error: {exc}", file=sys.stderr)
        return 2
    except RunFailed as exc:
        print(f"aligned-latents: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        print(f"aligned-latents: {str(exc) or 'interrupted'}", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
