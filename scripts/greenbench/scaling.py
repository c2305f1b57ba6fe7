"""Scaling with cores (issue 16): how each runtime's scaling entries (create mode:batch,
skynet, pairs, fanin) speed up from 1 worker to W, read from the run names and counters
alone.

A run's worker count W is its `workers:` (fiber, boost_fiber), `procs:` (go) or `cpus:`
(std_thread and pthread restricted by affinity: bench_all --workers). Runs that differ
only in W form a group (Boost.Fiber's `sched:` differs with W too: round_robin at 1,
work_stealing above, and is left out of the group's key); plain `std_thread` rows, on
every CPU, have no W and are in no group, nor are the `cpuset:K` rows (the whole process
held to K CPUs by bench_all: a comparison of runtimes on one CPU set, not of W).

For each W of a group: the time per operation (`ns_per_task`, `ns_per_switch` for pairs,
`ns_per_message` for fanin: the work is the same at every W), speedup = its median at W=1
over its median at W (the spread: the W=1 median over each repetition at W), efficiency =
speedup / W, the CPU time per task (`cpu_ns_per_op`) and the CPUs busy = CPU / wall.
Invariant: every figure is computed from the summaries given; a group without a W=1 run
has no speedup ('—'), never one made up from another group; a W above the machine's CPUs
is marked oversubscribed.
"""

from dataclasses import dataclass

from greenbench import results

# workload -> (the parameters a run must have, its time per operation)
WORKLOADS = {"create": ({"mode": "batch"}, "ns_per_task"), "skynet": ({}, "ns_per_task"),
             "pairs": ({}, "ns_per_switch"), "fanin": ({}, "ns_per_message")}
WORKER_PARAMETERS = ("workers", "procs", "cpus")
CPU = "cpu_ns_per_op"


@dataclass
class Point:
    workers: int
    time: object            # results.Figure of the workload's time per operation
    cpu: object             # results.Figure of CPU, or None
    speedup: float = None   # over W=1, None without a W=1 run
    speedup_low: float = None
    speedup_high: float = None
    oversubscribed: bool = False

    @property
    def efficiency(self):
        return None if self.speedup is None else self.speedup / self.workers

    @property
    def busy_cpus(self):
        if self.cpu is None or not self.time.median > 0:
            return None
        return self.cpu.median / self.time.median


@dataclass
class Group:
    workload: str
    case: str               # the workload parameters, e.g. 'via:join n:10000'
    runtime: str            # the runtime id, for a plot's colour
    family: str             # the configuration less W, e.g. 'boost_fiber alloc:pooled'
    points: list            # [Point], by W


def worker_count(name):
    """W of a parsed run name, or None (a run of no scaling group)."""
    for key, value in name.runtime_params:
        if key in WORKER_PARAMETERS and value.isdigit():
            return int(value)
    return None


def family(name):
    """The configuration without its worker count (and Boost.Fiber's sched)."""
    kept = [f"{k}:{v}" for k, v in name.runtime_params if k not in WORKER_PARAMETERS and k != "sched"]
    return " ".join([name.runtime] + kept)


def groups(summaries, cpus, oversubscribed=None):
    """[Group] of the scaling entries among `summaries` ({run_name: RunSummary}) measured at
    two worker counts or more, in name order; `cpus` is the machine's, `oversubscribed` the
    context's list where the run recorded it (else W > cpus)."""
    found = {}
    for run_name, summary in summaries.items():
        name = results.parse_name(run_name)
        wanted, time = WORKLOADS.get(name.workload, (None, None))
        workers = worker_count(name)
        if wanted is None or workers is None or time not in summary.figures:
            continue
        if any(k == "cpuset" for k, _ in name.runtime_params):
            continue  # bench_all's single-CPU rows (cpuset:K), another comparison
        if any(name.param(k) != v for k, v in wanted.items()):
            continue
        key = (name.workload, name.case, name.runtime, family(name))
        over = workers in oversubscribed if oversubscribed is not None else workers > cpus
        found.setdefault(key, []).append(Point(workers, summary.figures[time], summary.figures.get(CPU),
                                               oversubscribed=over))
    out = []
    for (workload, case, runtime, fam), points in sorted(found.items()):
        if len(points) < 2:
            continue
        points.sort(key=lambda p: p.workers)
        base = points[0] if points[0].workers == 1 and points[0].time.median > 0 else None
        for p in points:
            if base is None or not p.time.median > 0:
                continue
            p.speedup = base.time.median / p.time.median
            values = [v for v in p.time.values if v > 0]
            if len(values) >= 2:
                p.speedup_low, p.speedup_high = base.time.median / max(values), base.time.median / min(values)
        out.append(Group(workload, case, runtime, fam, points))
    return out
