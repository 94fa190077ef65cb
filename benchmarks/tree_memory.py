"""Peak memory of a command's whole process tree (Linux): the command, its children and
theirs (a chapter's kernel and the worker processes it starts), sampled every
``--every`` seconds.

Reported, as a JSON last line: the peak over time of the **summed proportional set size**
(PSS: each page counted once over the processes that map it, shared pages split between
them; a memory-mapped file that the kernel and a worker both read counts once, shared
libraries too) and of the summed resident set size (RSS: a shared page counted in every
process that maps it, so an upper bound), the largest single process's RSS, the number of
processes at the peak, and the CPU seconds of the tree (``RUSAGE_CHILDREN``). The summed
PSS is the fair total for processes that share memory; the summed RSS counts the shared
pages once per process. With ``--matrix-mib`` the peaks are also given over it.

Usage: ``python benchmarks/tree_memory.py [--every 0.5] [--matrix-mib M] [--timeline
FILE.csv] -- COMMAND ...`` (the timeline has, per sample, the memory and the CPU seconds
so far of the matched processes and of their descendants: a kernel and its workers).
The command's own output passes through; its last line is printed again before this
script's JSON line, so that a JSON-reporting command such as
``benchmarks/paper_scale.py`` keeps its report.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (Linux: /proc/PID/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except FileNotFoundError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/children") as fh:
                    kids = [int(k) for k in fh.read().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
            out += kids
            todo += kids
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far (/proc/PID/stat); 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of ``pid`` in KiB (/proc/PID/smaps_rollup); (0, 0) once it is gone."""
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return pss, rss


class Sampler(threading.Thread):
    """Samples the tree of ``root`` until :meth:`stop`; keeps the peaks."""

    def __init__(self, root: int, every: float, timeline: Path | None, match: str | None):
        super().__init__(daemon=True)
        self.root, self.every, self.timeline, self.match = root, every, timeline, match
        self.peak_pss = self.peak_rss = self.peak_one = self.at_peak = 0
        self.peak_sub_pss = self.peak_sub_rss = self.sub_at_peak = 0
        self.t_peak = 0.0
        self.rows: list[tuple] = []
        self._stop_event = threading.Event()
        self.t0 = time.perf_counter()

    def run(self):
        while not self._stop_event.is_set():
            pids = [self.root, *children(self.root)]
            mem = [(p, *memory_kib(p)) for p in pids]
            mem = [m for m in mem if m[1] or m[2]]
            pss, rss = sum(m[1] for m in mem), sum(m[2] for m in mem)
            t = time.perf_counter() - self.t0
            if pss > self.peak_pss:
                self.peak_pss, self.t_peak, self.at_peak = pss, t, len(mem)
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_one = max([self.peak_one, *(m[2] for m in mem)])
            top, subtree = self._subtree(pids)
            sub = [m for m in mem if m[0] in subtree]
            sub_pss, sub_rss = sum(m[1] for m in sub), sum(m[2] for m in sub)
            if sub_pss > self.peak_sub_pss:
                self.peak_sub_pss, self.sub_at_peak = sub_pss, len(sub)
            self.peak_sub_rss = max(self.peak_sub_rss, sub_rss)
            if self.timeline is not None:
                self.rows.append((round(t, 2), len(mem), pss, rss, len(sub), sub_pss,
                                  sub_rss, round(sum(map(cpu_seconds, top)), 2),
                                  round(sum(cpu_seconds(p) for p in subtree - top), 2)))
            self._stop_event.wait(self.every)

    def _subtree(self, pids: list[int]) -> tuple[set[int], set[int]]:
        """The processes whose command line contains ``match``, and those with their
        descendants."""
        if not self.match:
            return set(), set()
        top = []
        for p in pids:
            try:
                with open(f"/proc/{p}/cmdline", "rb") as fh:
                    if self.match.encode() in fh.read():
                        top.append(p)
            except (FileNotFoundError, ProcessLookupError):
                continue
        return set(top), {q for p in top for q in (p, *children(p))}

    def stop(self):
        self._stop_event.set()
        self.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=float, default=0.5, help="seconds between samples")
    ap.add_argument("--matrix-mib", type=float, default=None,
                    help="size of the data matrix, MiB: the peaks are also given over it")
    ap.add_argument("--timeline", type=Path, default=None,
                    help="write every sample (seconds, processes, PSS KiB, RSS KiB)")
    ap.add_argument("--match", default="ipykernel_launcher",
                    help="also report the processes whose command line contains this "
                         "and their descendants (default: a notebook's kernel and its "
                         "workers, without the drivers that started it)")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command or args.every <= 0 or (args.matrix_mib is not None
                                          and args.matrix_mib <= 0):
        raise SystemExit("give a command after --, --every > 0 and --matrix-mib > 0")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    sampler = Sampler(proc.pid, args.every, args.timeline, args.match)
    sampler.start()
    last = ""
    for line in proc.stdout:
        sys.stdout.write(line)
        last = line.strip() or last
    proc.wait()
    sampler.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = {"returncode": proc.returncode, "wall_s": round(time.perf_counter() - t0, 1),
           "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime
                          - before.ru_stime, 1),
           "load_avg_1min_end": os.getloadavg()[0],
           "peak_pss_sum_mb": round(sampler.peak_pss / 1024, 1),
           "peak_rss_sum_mb": round(sampler.peak_rss / 1024, 1),
           "peak_rss_one_process_mb": round(sampler.peak_one / 1024, 1),
           "processes_at_peak": sampler.at_peak,
           "peak_at_s": round(sampler.t_peak, 1),
           "match": args.match,
           "matched_peak_pss_sum_mb": round(sampler.peak_sub_pss / 1024, 1),
           "matched_peak_rss_sum_mb": round(sampler.peak_sub_rss / 1024, 1),
           "matched_processes_at_peak": sampler.sub_at_peak}
    if args.matrix_mib:
        for key in ("peak_pss_sum", "peak_rss_sum", "peak_rss_one_process",
                    "matched_peak_pss_sum", "matched_peak_rss_sum"):
            out[f"{key}_over_matrix"] = round(out[f"{key}_mb"] / args.matrix_mib, 2)
    if args.timeline is not None:
        header = ("seconds,processes,pss_kib,rss_kib,matched,matched_pss_kib,"
                  "matched_rss_kib,matched_cpu_s,descendants_cpu_s")
        args.timeline.write_text("\n".join([header, *(",".join(map(str, r))
                                                      for r in sampler.rows)]) + "\n")
    print(last)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
