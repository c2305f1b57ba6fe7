"""The suite's catalogue: every entry bench_all runs, its name and the command lines that
measure it, for each profile (quick, ci, full).

The names of the C++ programs' entries are computed here, as those programs compute
them (benchmarks/tasks/runtime_set.h: the runtimes and worker counts), from the sizes of
benchmarks/sizes.json, which greenbench_timing compiles in: the one place sizes are
written. So `bench_all --list` works before anything is built.
tests/test_catalogue.py (ctest: scripts_unittest.catalogue) checks after each build that
these names are exactly what greenbench_timing --list and greenbench_probe
--list-runtimes print.

Invariant: entries() depends only on the profile, the paths, the usable CPUs, the budget
and which optional programs exist; it runs nothing. Every entry measures at least
MIN_REPS repetitions, so every figure has a spread, except the limit probes (max_count,
stack_max: one run that pushes to a limit).
"""

import dataclasses
import fnmatch
import json
import os
import re
import sys
from dataclasses import dataclass, field

from greenbench import results

MIN_REPS = 3

# What each profile measures. Timing entries: `reps` processes each, Google Benchmark
# growing the iteration count to `min_time` seconds. Probes: memory at each `memory_n`
# and (KiB, N) of `memory_depth` (tasks parked under that much stack in use,
# stack_depth.h) and of `memory_recursed` (tasks that recursed that deep once, returned
# and park shallow, read again after the runtime had its chance to give the stack back;
# not on a runtime whose fixed stack cannot hold the frames, pthread/stack:64KiB); max_count up to `max_count_cap` tasks or `max_count_seconds`; M:N
# runtimes' probes at the worker counts `probe_workers` (None: all the suite's);
# after_burst (RSS over 5 s after a burst; std_thread and fiber/workers:1, the pools it
# is about) at `after_burst_n` = (N for threads, N for fibers), or not at all (None: 5 s
# a repetition, so only the full profile has it).
# `skip`: globs of entries the profile leaves out; `keep_only`: globs of the only entries it keeps;
# `instructions`: globs of the timing entries whose instructions it counts
# (instruction_sources); report names the claims a quick run leaves unjudged.
#
# quick (3 minutes on 2 cores is the goal; the README says what was measured) keeps every
# workload, every runtime a claim reads (std_thread, fiber, go) and each other peer at its
# best, and leaves out what costs most and judges no claim. On this project's VMs a first
# touch of fresh memory costs tens of µs, so whatever creates many threads or stacks anew
# in each process dominates (CPU seconds per entry of 3 processes, measured here: Boost.Fiber
# skynet at 1M 40, its default allocator's creation at n:100000 68, 100,000 parked
# Boost.Fiber pooled fibers 26 and ours 13, a batch of 10,000 std::threads 17, std_thread's
# skynet 19, 10,000 parked threads 10, max_count of 300,000 fibers 15). Left out:
# - pthread (both stacks): the same threads as std_thread under other names;
# - Boost.Fiber's default allocator (a malloc of 128 KiB per fiber; alloc:pooled, its
#   best, stays), its creation at n:100000, its skynet at 1M and via:channel, its switch across 2 CPUs
#   (idle workers spin: 12) and its max_count (no claim reads it);
# - std_thread's batch creation (the claims read sequential creation; also its scaling
#   rows on W CPUs) and skynet (all its rows); its switch across 2 CPUs stays (1.3 s an
#   iteration: 16 s of wall time), the thread side of the cross-worker fiber hand-off
#   (place:cross) and of the claims' "across two CPUs" definitions;
# Skynet at 1M stays on one worker and on all CPUs, ours and Go's, beside n:10000: the
# issue's goals compare them within one run. The one-worker rows at 1M, left out where
# there are several CPUs until the run stack made ours cheap, add about 20 s to a quick
# run (measured at a load average of 5-7: ours 1 s for both vias, Go's 19 s);
# - the probes of M:N runtimes on more than one worker (`probe_workers`: a parked task's
#   memory does not depend on the worker count);
# - memory at n:100000 and 1M (parked tasks cost the same per task from n:1000 to 1M in the
#   reference run: 4,370-4,440 B a fiber, 2,711-2,721 B a goroutine; a fiber process at 1M
#   touches 4.3 GiB of fresh memory, 21 s of CPU and 38-127 s of wall time here), threads' at
#   n:10000 too; the 16 KiB-deep tasks at n:1000, not 10,000; max_count stops at 100,000
#   tasks (the "hundreds of thousands" claim's figure);
# - echo at 100 connections (the claims read 1,000 and more), and echo max-conns;
# - the blocking workload's read and fsync calls (nanosleep stays: every runtime blocks
#   in it the same way, and the claims read it). What stays of fairness and blocking (43
#   entries) took 48 s here, under a load average of 16.
# Echo's open loop (`echo_rates`, offered requests/s at `echo_rate_conns` connections)
# runs at fixed rates per profile, below the best server's closed-loop capacity on the
# reference 2-CPU VM (epoll and fiber/workers:1: ~110-130k requests/s at C = 1,000,
# std_thread and fiber/workers:2 lower): quick at one rate every server sustains, full at
# three, the highest near the slower servers' capacity, where short_of_offered_rate
# marks a server that could not keep up.
PROFILES = {
    "quick": {"reps": 3, "min_time": 0.05, "memory_n": [1000, 10000],
              "memory_depth": [(16, 1000)], "memory_recursed": [(64, 1000)],
              "probe_reps": 3, "max_count_cap": 100_000, "max_count_seconds": 20,
              "echo_conns": [1000], "echo_reps": 3, "echo_warmup": 0.5, "echo_seconds": 1,
              "echo_rates": [20000], "echo_rate_conns": 1000, "echo_max_conns": False,
              "gil_reps": 3, "probe_workers": [1], "after_burst_n": None,
              "skip": ["*/pthread/*", "skynet/std_thread/*", "switch/boost_fiber/*/cpus:2",
                       "*/boost_fiber/*/alloc:default*",
                       "create/boost_fiber/*/n:100000",
                       "skynet/boost_fiber/*/n:1000000", "skynet/boost_fiber/*/via:channel/*",
                       "create/std_thread/mode:batch/*", "create/std_thread/cpuset:1/mode:batch/*",
                       "create/std_thread/cpus:*",
                       "memory/std_thread/n:10000",
                       "max_count/boost_fiber/*",
                       "blocking/*/call:read/*", "blocking/*/call:fsync/*"]},
    "full": {"reps": 5, "min_time": 0.5, "memory_n": [1000, 10000, 100000, 1_000_000],
             "memory_depth": [(16, 10000)], "memory_recursed": [(64, 10000)],
             "probe_reps": 3, "max_count_cap": 20_000_000, "max_count_seconds": 120,
             "echo_conns": [100, 1000, 10000], "echo_reps": 3, "echo_warmup": 1, "echo_seconds": 3,
             "echo_rates": [10000, 40000, 80000], "echo_rate_conns": 1000,
             "echo_max_conns": True, "echo_max_conns_cap": 1_000_000, "echo_max_conns_seconds": 120,
             "gil_reps": 3, "probe_workers": None, "after_burst_n": (10_000, 1_000_000),
             "skip": []},
}

SIZES_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "benchmarks", "sizes.json")


def _load_sizes(path=SIZES_FILE):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


_SIZES = _load_sizes()
_FULL = _SIZES["timing"]["full"]
THREAD_CREATE_N = tuple(_FULL["thread_create_n"])
FIBER_CREATE_N = tuple(_FULL["fiber_create_n"])
THREAD_SKYNET_N = tuple(_FULL["thread_skynet_n"])
FIBER_SKYNET_N = tuple(_FULL["fiber_skynet_n"])
GIL_WORKERS = tuple(_SIZES["gil_workers"])
# benchmarks/tasks/runtime_set.h's kSmallPthreadStack (a configuration, not a size).
SKYNET_VIAS = ("join", "channel")  # workload_skynet.h's SkynetVia, in its order
# workload_switch.h's SwitchPlace rows, for the runtimes that place tasks (ours only:
# task_runtime.h's PlacingRuntime), at two workers.
SWITCH_PLACES = ("same", "cross")
PLACING_RUNTIME = "fiber"
SWITCHES = _FULL["switches_per_iteration"]  # switch's one-way switches; pairs' hand-offs, fanin's messages
PARALLEL_WORKLOADS = ("pairs", "fanin")  # workload_parallel.h, in timing_main.cpp's order
WINDOW_MS = _FULL["window_ms"]  # fairness and blocking, per iteration
BLOCKING_CALLS = ("read", "nanosleep", "fsync")  # workload_blocking.h's BlockingCall, in its order
THREAD_STACK_N = 256  # OS threads the Go peer's thread_stack makes the runtime start
SMALL_PTHREAD_STACK_KIB = 64
# The stack our fiber rows of memory_recursed ask for: the runtime's default (64 KiB,
# green::Config::stack_size) cannot hold the frames and the probe's 16 KiB of headroom,
# so they take Boost.Fiber's default size (fiber_runtime.h's stack:NKiB).
RECURSED_FIBER_STACK_KIB = 128
MAX_WORKERS = 1024  # runtime_set.cpp's kMaxWorkers


@dataclass(frozen=True)
class Paths:
    """Where the programs are, for a source tree and its release build (or another build
    of it: build_dir)."""
    root: str
    build_dir: str = None

    @property
    def build(self):
        return self.build_dir or os.path.join(self.root, "build", "release")

    @property
    def timing(self):
        return os.path.join(self.build, "benchmarks", "greenbench_timing")

    @property
    def probe(self):
        return os.path.join(self.build, "benchmarks", "greenbench_probe")

    @property
    def echo(self):
        return os.path.join(self.build, "benchmarks", "echo", "greenbench_echo")

    @property
    def go_peer(self):
        return os.path.join(self.build, "baselines", "go", "greenbench-go")

    @property
    def python_peer(self):
        return os.path.join(self.root, "baselines", "python", "peer.py")


@dataclass
class Entry:
    """One name in the results file and how to measure it.

    kind "timing": `reps` runs of argv, each with --benchmark_out=FILE added;
    kind "probe": `reps` runs of argv + --rep K --reps R, each printing a document;
    kind "peer": one run of argv + [out_flag, FILE], which measures every repetition;
    kind "instructions": `reps` runs of argv (greenbench_timing running `source` for a
    fixed count of iterations) under CALLGRIND + --callgrind-out-file=FILE, with
    --benchmark_out=FILE; bench_all divides the instructions counted by the operations.
    """
    name: str
    kind: str
    argv: list
    reps: int
    timeout: float            # seconds, per process
    estimate: float           # seconds in all, for the progress line
    guard_bytes: int = None   # kill the child past this resident size (runaway guard)
    out_flag: str = field(default="-out")
    runs: tuple = ()          # the run names its child writes, where not just `name`
    source: str = ""          # kind "instructions": the timing entry whose instructions count
    cpuset: int = 0           # 0: the child runs on every CPU bench_all may use; K: on the
                              # first K of them, and cpuset:K is added to the names it writes

    @property
    def run_names(self):
        """The runs this entry's child must write, and nothing else."""
        return self.runs or (self.name,)


# ci (5 minutes on 2 cores at most, for a regression gate; bench_all --ab runs it twice,
# base and candidate in alternation): quick's settings, but only our runtime's quick
# timing entries (creation, switches, skynet at n:10000, not the sizes where first touches
# of fresh memory dominate), its memory probe, and the instruction counts
# (instruction_sources: all of ours, and Boost.Fiber's yield as a reference; Boost.Fiber's
# others take 15-45 s each under valgrind here), whose 1% threshold holds on any machine.
# 10 repetitions: bench_all --ab's signed-rank test over 10 pairs reaches p <= 0.01 only
# when at least 9 pairs agree, which keeps an A/A run's false alarms rare across a dozen
# figures. No peer otherwise: their code does not change between two commits of this tree.
# The cross-worker hand-off (place:cross) stays out: each switch waits for the other
# worker's thread to be scheduled (15-80 µs under load here, 1-4 s an iteration), the
# kernel's latency more than ours.
PROFILES["ci"] = {**PROFILES["quick"], "reps": 10, "echo_conns": [], "echo_rates": [],
                  "skip": PROFILES["quick"]["skip"] + ["*/cpuset:1/*", "switch/*/place:cross/*"],
                  "keep_only": ["create/fiber/*/n:10000", "switch/fiber/*", "skynet/fiber/*/n:10000",
                                "memory/fiber/workers:1/n:10000", "*/measure:instructions"],
                  "instructions": ["*/fiber/*", "switch/boost_fiber/*/via:yield/*"]}

# Instruction counts (callgrind): single-threaded entries of the user-space runtimes, one
# worker each, every switch a user-space one. Valgrind runs one thread at a time and counts
# user space only, so OS threads' entries are left out: their cost is in the kernel.
INSTRUCTION_RUNTIMES = ("fiber/workers:1", "boost_fiber/sched:round_robin/workers:1/alloc:pooled")
INSTRUCTION_COUNTERS = {"create": ("instructions_per_task", "tasks"),
                        "switch": ("instructions_per_switch", "switches"),
                        "skynet": ("instructions_per_task", "tasks")}
INSTRUCTION_REPS = 3        # deterministic counts: the repetitions show that they agree
INSTRUCTION_ITERATIONS = 1  # per process, exactly (greenbench_timing --iterations)
INSTRUCTIONS_SUFFIX = "/measure:instructions"


def instruction_sources():
    """The timing entries whose instructions are counted, in run order."""
    names = []
    for rt in INSTRUCTION_RUNTIMES:
        names += [f"create/{rt}/mode:{m}/n:{FIBER_CREATE_N[0]}" for m in ("sequential", "batch")]
        names += [f"switch/{rt}/via:{via}/cpus:1" for via in ("yield", "handoff")]
        names += [f"skynet/{rt}/via:{via}/n:{FIBER_SKYNET_N[0]}" for via in SKYNET_VIAS]
    return names


def worker_counts(cpus):
    """benchmarks/tasks/runtime_set.cpp's suite_worker_counts: 1 and all usable CPUs."""
    return [1] if cpus <= 1 else [1, cpus]


def scaling_worker_counts(cpus):
    """runtime_set.cpp's scaling_worker_counts: 1, 2, 4, ... below the usable CPUs, and
    the usable CPUs; the default of bench_all --workers (issue 16)."""
    counts, w = [], 1
    while w < cpus:
        counts.append(w)
        w *= 2
    return counts + [cpus]


def parse_worker_counts(text):
    """A --workers list, '1,2,4', as distinct counts from 1 to 1024 in its order;
    ValueError otherwise (runtime_set.cpp's parse_worker_counts)."""
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise ValueError(f"not a list of worker counts: {text!r} (try 1,2,4)") from None
    if any(not 1 <= w <= MAX_WORKERS for w in counts) or len(set(counts)) != len(counts):
        raise ValueError(f"worker counts must be distinct, from 1 to {MAX_WORKERS}: {text!r}")
    return counts


def os_thread_prefixes():
    return ["std_thread", "pthread/stack:default", f"pthread/stack:{SMALL_PTHREAD_STACK_KIB}KiB"]


def cpu_restricted_prefixes(cpus, workers):
    """The thread rows of the scaling entries (cpu_restricted_runtime.h): each OS-thread
    runtime on W CPUs, for every W of `workers` this machine has."""
    return [f"{rt}/cpus:{w}" for w in workers if w <= cpus for rt in os_thread_prefixes()]


def m_to_n_prefixes(workers):
    sched = "round_robin" if workers == 1 else "work_stealing"
    boost = f"boost_fiber/sched:{sched}/workers:{workers}"
    return [f"fiber/workers:{workers}", f"{boost}/alloc:default", f"{boost}/alloc:pooled"]


def runtime_prefixes(cpus, workers_kept=None):
    """Every prefix the probes measure (greenbench_probe --list-runtimes), threads first;
    M:N runtimes only at workers_kept, where given."""
    prefixes = os_thread_prefixes()
    for workers in worker_counts(cpus):
        if workers_kept is None or workers in workers_kept:
            prefixes += m_to_n_prefixes(workers)
    return prefixes


def timing_names(cpus, workers=None):
    """greenbench_timing --list's names (full sizes), in its order; `workers` is its
    --workers list (default: scaling_worker_counts)."""
    workers = scaling_worker_counts(cpus) if workers is None else workers
    names = []
    for rt in os_thread_prefixes():
        names += [f"create/{rt}/mode:{m}/n:{n}" for n in THREAD_CREATE_N for m in ("sequential", "batch")]
    names += [f"create/{rt}/mode:batch/n:{n}" for rt in cpu_restricted_prefixes(cpus, workers) for n in THREAD_CREATE_N]
    for w in worker_counts(cpus):
        for rt in m_to_n_prefixes(w):
            names += [f"create/{rt}/mode:sequential/n:{n}" for n in FIBER_CREATE_N]
    for w in workers:
        for rt in m_to_n_prefixes(w):
            names += [f"create/{rt}/mode:batch/n:{n}" for n in FIBER_CREATE_N]
    for switch_cpus in (1, 2):
        if switch_cpus > cpus:
            continue
        vias = ("yield", "handoff") if switch_cpus == 1 else ("handoff",)
        for rt in os_thread_prefixes() + m_to_n_prefixes(switch_cpus):
            names += [f"switch/{rt}/via:{via}/cpus:{switch_cpus}" for via in vias]
    if cpus >= 2:
        names += [f"switch/{PLACING_RUNTIME}/workers:2/via:handoff/place:{place}/cpus:2" for place in SWITCH_PLACES]
    names += [f"skynet/{rt}/via:{via}/n:{n}" for rt in os_thread_prefixes() + cpu_restricted_prefixes(cpus, workers)
              for n in THREAD_SKYNET_N for via in SKYNET_VIAS]
    for w in workers:
        for rt in m_to_n_prefixes(w):
            names += [f"skynet/{rt}/via:{via}/n:{n}" for n in FIBER_SKYNET_N for via in SKYNET_VIAS]
    for workload in PARALLEL_WORKLOADS:
        prefixes = cpu_restricted_prefixes(cpus, workers) + [rt for w in workers for rt in m_to_n_prefixes(w)]
        names += [f"{workload}/{rt}/n:{SWITCHES}" for rt in prefixes]
    names += fairness_names(cpus)
    names += blocking_names(cpus)
    names += [f"gil/fiber/workers:{w}/job:cpu" for w in GIL_WORKERS]
    return names


def _m_to_n_runtimes(cpus):
    """(prefix, workers) of every M:N runtime the timing binary registers, in its order."""
    return [(rt, w) for w in worker_counts(cpus) for rt in m_to_n_prefixes(w)]


def fairness_names(cpus):
    """timing_main.cpp's register_fairness: hogs:K at K = W and 2W (W: an M:N runtime's
    workers, the usable CPUs for OS threads); via:maybe_yield for our fibers only."""
    names = []
    for rt, w in [(rt, cpus) for rt in os_thread_prefixes()] + _m_to_n_runtimes(cpus):
        vias = ("spin", "maybe_yield") if rt.startswith("fiber/") else ("spin",)
        names += [f"fairness/{rt}/via:{via}/hogs:{k}/window:{WINDOW_MS}ms" for via in vias for k in (w, 2 * w)]
    return names


def blocking_names(cpus):
    """timing_main.cpp's register_blocking: blockers:B at B = 0, C and 2C (C: the usable
    CPUs) for every runtime; via:blocking (B > 0) for our fibers only."""
    names = []
    for rt in os_thread_prefixes() + [rt for rt, _ in _m_to_n_runtimes(cpus)]:
        vias = ("direct", "blocking") if rt.startswith("fiber/") else ("direct",)
        for call in BLOCKING_CALLS:
            for via in vias:
                names += [f"blocking/{rt}/call:{call}/via:{via}/blockers:{b}/window:{WINDOW_MS}ms"
                          for b in (0, cpus, 2 * cpus) if not (via == "blocking" and b == 0)]
    return names


def usable_cpus():
    return len(os.sched_getaffinity(0))


def _timing(paths, name, prof, workers):
    argv = [paths.timing, f"--benchmark_filter=^{re.escape(name)}$", "--benchmark_repetitions=1",
            f"--benchmark_min_time={prof['min_time']}", "--workers=" + ",".join(map(str, workers))]
    # Google Benchmark first grows the iteration count up to min_time in each process.
    return Entry(name, "timing", argv, prof["reps"], timeout=600,
                 estimate=prof["reps"] * (max(prof["min_time"], 0.3) * 2.5 + 0.2))


# What runs an "instructions" entry's argv: callgrind, instrumenting only the measured
# parts (benchmarks/workloads/timing_support.h's MeasuredPart turns it on and off).
CALLGRIND = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--quiet"]


def _instructions(paths, source):
    argv = [paths.timing, f"--benchmark_filter=^{re.escape(source)}$", "--benchmark_repetitions=1",
            f"--iterations={INSTRUCTION_ITERATIONS}"]
    return Entry(source + INSTRUCTIONS_SUFFIX, "instructions", argv, INSTRUCTION_REPS, timeout=600,
                 estimate=INSTRUCTION_REPS * 4.0, source=source)


def _probe(paths, name, args, reps, timeout, guard=None):
    return Entry(name, "probe", [paths.probe] + args, reps, timeout, estimate=reps * 3.0, guard_bytes=guard)


def _peer(name, argv, estimate, timeout=900, out_flag="-out", runs=()):
    return Entry(name, "peer", argv, 1, timeout, estimate, out_flag=out_flag, runs=runs)


def echo_cpu_split(cpus):
    """(server CPUs, client CPUs) of an echo run on `cpus` usable CPUs, as
    benchmarks/echo/cpu_split.h's split_cpus(usable, kClientCpusAuto) makes them: from 4
    CPUs on, the client gets half (rounded down) and the server the rest; below that they
    share every CPU (client CPUs 0)."""
    client = cpus // 2 if cpus >= 4 else 0
    return cpus - client, client


def _echo(paths, prof, budget, cpus, has_go):
    """The echo servers (greenbench_echo run / max_conns): each C, and each offered rate
    of the open loop, in its own process, which starts a fresh server per repetition; Go's
    server where greenbench-go is built. With disjoint CPU sets the servers size themselves
    to the server's CPUs and the load generator gets a thread per client CPU."""
    server_cpus, client_cpus = echo_cpu_split(cpus)
    servers = ["epoll/loops:1", "std_thread"] + [f"fiber/workers:{w}" for w in dict.fromkeys([1, server_cpus])]
    if has_go:
        servers.append(f"go/procs:{server_cpus}")
    entries = []
    reps, warmup, seconds = prof["echo_reps"], prof["echo_warmup"], prof["echo_seconds"]

    client = (["--client-cpus", str(client_cpus), "--client-threads", str(client_cpus)] if client_cpus
              else ["--client-cpus", "shared"])

    def run(name, server_args, conns, more=()):
        return _peer(name, [paths.echo, "run", "--conns", str(conns), "--reps", str(reps), "--warmup", str(warmup),
                            "--duration", str(seconds)] + list(more) + client + server_args,
                     estimate=reps * (warmup + seconds + 0.4), timeout=reps * (warmup + seconds + 30) + 60,
                     out_flag="--out")

    for server in servers:
        common = ["--server", server, "--go-peer", paths.go_peer]
        for conns in prof["echo_conns"]:
            entries.append(run(f"echo/{server}/conns:{conns}", common, conns))
        conns = prof["echo_rate_conns"]
        for rate in prof["echo_rates"]:
            entries.append(run(f"echo_open_loop/{server}/conns:{conns}/rate:{rate}", common, conns,
                               ["--rate", str(rate)]))
        if prof["echo_max_conns"]:
            limit = prof["echo_max_conns_seconds"]
            entries.append(_peer(
                f"echo_max_conns/{server}",
                [paths.echo, "max_conns", "--memory-budget", str(budget), "--cap", str(prof["echo_max_conns_cap"]),
                 "--timeout", str(limit)] + common,
                estimate=limit / 4, timeout=limit + 120, out_flag="--out"))
    return entries


def _go(paths, prof, budget, cores, workers):
    """The Go peer's entries: sequential creation at GOMAXPROCS 1 and all cores, the
    scaling entries (batch creation, skynet, pairs, fanin) at every P of `workers`, as the
    fibers."""
    go = paths.go_peer
    entries = []
    reps = str(prof["reps"])
    # Timing entries: the C++ rows' estimator (workload.go), runs until min_time, their mean.
    timed = ["-reps", reps, "-min-time", str(prof["min_time"])]
    for procs in dict.fromkeys([1, cores] + list(workers)):
        common = ["-procs", str(procs)] + timed
        modes = (("sequential",) if procs in (1, cores) else ()) + (("batch",) if procs in workers else ())
        for n in FIBER_CREATE_N:  # the fibers' sizes (benchmarks/sizes.json)
            for mode in modes:
                entries.append(_peer(f"create/go/procs:{procs}/mode:{mode}/n:{n}",
                                     [go, "create", "-mode", mode, "-n", str(n)] + common, 3))
        if procs not in workers:
            continue
        for workload in PARALLEL_WORKLOADS:
            entries.append(_peer(f"{workload}/go/procs:{procs}/n:{SWITCHES}",
                                 [go, workload, "-n", str(SWITCHES)] + common, 2))
        # The fibers' sizes, so that every runtime has a row at n:10000 (threads' only size).
        for n in FIBER_SKYNET_N:
            for via in SKYNET_VIAS:
                entries.append(_peer(f"skynet/go/procs:{procs}/via:{via}/n:{n}",
                                     [go, "skynet", "-via", via, "-n", str(n)] + common, 5 if n > 10_000 else 1))
    # Control rows: the collector off, where creation allocates most (no claim reads them).
    gogc_off = ["-procs", str(cores), "-gogc", "off"] + timed
    entries.append(_peer(f"create/go/procs:{cores}/gogc:off/mode:batch/n:{max(FIBER_CREATE_N)}",
                         [go, "create", "-mode", "batch", "-n", str(max(FIBER_CREATE_N))] + gogc_off, 3))
    entries.append(_peer(f"skynet/go/procs:{cores}/gogc:off/via:channel/n:{max(FIBER_SKYNET_N)}",
                         [go, "skynet", "-via", "channel", "-n", str(max(FIBER_SKYNET_N))] + gogc_off, 5))
    for via, cpus in (("yield", 1), ("handoff", 1), ("handoff", 2)):
        entries.append(_peer(f"switch/go/procs:{cpus}/via:{via}/cpus:{cpus}",
                             [go, "switch", "-via", via, "-cpus", str(cpus), "-procs", str(cpus)] + timed, 3))
    for n in prof["memory_n"]:
        entries.append(_peer(f"memory/go/procs:{cores}/n:{n}",
                             [go, "memory", "-n", str(n), "-procs", str(cores), "-reps", str(prof["probe_reps"])], 3))
    for depth, n in prof["memory_depth"]:
        entries.append(_peer(f"memory/go/procs:{cores}/depth:{depth}KiB/n:{n}",
                             [go, "memory", "-n", str(n), "-depth-kib", str(depth), "-procs", str(cores),
                              "-reps", str(prof["probe_reps"])], 3))
    for depth, n in prof["memory_recursed"]:
        entries.append(_peer(f"memory/go/procs:{cores}/recursed:{depth}KiB/n:{n}",
                             [go, "memory", "-n", str(n), "-recursed-kib", str(depth), "-procs", str(cores),
                              "-reps", str(prof["probe_reps"])], 5))
    for procs in dict.fromkeys([1, cores]):
        for hogs in (procs, 2 * procs):
            entries.append(_peer(f"fairness/go/procs:{procs}/via:spin/hogs:{hogs}/window:{WINDOW_MS}ms",
                                 [go, "fairness", "-hogs", str(hogs), "-window-ms", str(WINDOW_MS), "-procs", str(procs)]
                                 + timed, 3))
        for call in BLOCKING_CALLS:
            for blockers in (0, cores, 2 * cores):
                entries.append(_peer(f"blocking/go/procs:{procs}/call:{call}/via:direct/blockers:{blockers}/window:{WINDOW_MS}ms",
                                     [go, "blocking", "-call", call, "-blockers", str(blockers), "-window-ms", str(WINDOW_MS),
                                      "-procs", str(procs)] + timed, 3))
    entries.append(_peer("stack_max/go/procs:1",
                         [go, "stack_max", "-procs", "1", "-reps", "1", "-budget-bytes", str(budget)], 2))
    entries.append(_peer(f"thread_stack/go/procs:{cores}/n:{THREAD_STACK_N}",
                         [go, "thread_stack", "-n", str(THREAD_STACK_N), "-procs", str(cores),
                          "-reps", str(prof["probe_reps"])], 2))
    entries.append(_peer(f"max_count/go/procs:{cores}",
                         [go, "max_count", "-budget-bytes", str(budget), "-procs", str(cores),
                          "-cap", str(prof["max_count_cap"]), "-time-limit", f"{prof['max_count_seconds']}s"], 10))
    return entries


# Rows measured again with the whole process on one CPU (cpuset:1), where there are more:
# threads' create and skynet otherwise cross CPUs while one fiber worker or one Go P do not;
# the one-worker fiber and Go rows beside them run on that same one CPU.
# At the threads' sizes (sizes.json), which the fiber and Go rows share.
CPUSET_1_ROWS = tuple(
    [f"create/std_thread/mode:*/n:{n}" for n in THREAD_CREATE_N]
    + [f"create/{rt}/mode:sequential/n:{n}" for rt in ("fiber/workers:1", "go/procs:1") for n in THREAD_CREATE_N]
    + [f"skynet/{rt}/via:join/n:{n}" for rt in ("std_thread", "fiber/workers:1") for n in THREAD_SKYNET_N])


def _on_one_cpu(entry):
    """entry again, its whole process restricted to one CPU, named with cpuset:1."""
    return dataclasses.replace(entry, name=results.with_runtime_param(entry.name, "cpuset", 1), cpuset=1)


def entries(profile, paths, cpus, budget, has_echo=True, has_go=True, workers=None):
    """Every entry of `profile` in run order, less the profile's skips; the scaling
    entries (create mode:batch, skynet, pairs, fanin) at the worker counts `workers` (default:
    scaling_worker_counts)."""
    prof = PROFILES[profile]
    workers = scaling_worker_counts(cpus) if workers is None else list(workers)
    out = [_timing(paths, name, prof, workers) for name in timing_names(cpus, workers)]
    for rt in runtime_prefixes(cpus, prof["probe_workers"]):
        for n in prof["memory_n"]:
            out.append(_probe(paths, f"memory/{rt}/n:{n}", ["memory", "--runtime", rt, "--n", str(n)],
                              prof["probe_reps"], timeout=600))
        for depth, n in prof["memory_depth"]:
            out.append(_probe(paths, f"memory/{rt}/depth:{depth}KiB/n:{n}",
                              ["memory", "--runtime", rt, "--n", str(n), "--depth-kib", str(depth)],
                              prof["probe_reps"], timeout=600))
        for depth, n in prof["memory_recursed"]:
            if rt == f"pthread/stack:{SMALL_PTHREAD_STACK_KIB}KiB":
                continue  # the frames and the task's own would overflow its 64 KiB stack
            deep = f"{rt}/stack:{RECURSED_FIBER_STACK_KIB}KiB" if rt.startswith("fiber/") else rt
            out.append(_probe(paths, f"memory/{deep}/recursed:{depth}KiB/n:{n}",
                              ["memory", "--runtime", deep, "--n", str(n), "--recursed-kib", str(depth)],
                              prof["probe_reps"], timeout=600))
        out.append(_probe(paths, f"max_count/{rt}",
                          ["max_count", "--runtime", rt, "--budget-bytes", str(budget),
                           "--cap", str(prof["max_count_cap"]), "--time-limit", str(prof["max_count_seconds"])],
                          1, timeout=prof["max_count_seconds"] + 120, guard=budget + budget // 4))
        if prof["after_burst_n"] and rt in ("std_thread", "fiber/workers:1"):
            n = prof["after_burst_n"][0 if rt in os_thread_prefixes() else 1]
            out.append(_probe(paths, f"after_burst/{rt}/n:{n}", ["after_burst", "--runtime", rt, "--n", str(n)],
                              prof["probe_reps"], timeout=600))
    if has_echo:
        out += _echo(paths, prof, budget, cpus, has_go)
    if has_go:
        out += _go(paths, prof, budget, cpus, workers)
    py = [sys.executable, paths.python_peer]
    out.append(_peer("create/python_thread/mode:sequential/n:10000",
                     py + ["create", "-n", "10000", "-reps", str(prof["reps"]), "-min-time", str(prof["min_time"])], 3))
    out.append(_peer("gil/python_thread+python_process/job:cpu",
                     py + ["gil", "-workers", "2", "-reps", str(prof["gil_reps"]), "-min-time", str(prof["min_time"])], 20,
                     runs=tuple(f"gil/{kind}/workers:2/job:cpu" for kind in ("python_thread", "python_process"))))
    if cpus > 1:
        out += [_on_one_cpu(e) for e in out if matches(e.name, CPUSET_1_ROWS)]
    kept = [e for e in out if not matches(e.name, prof["skip"])]
    kept += [_instructions(paths, source) for source in instruction_sources()
             if matches(source, prof.get("instructions", []))]
    return [e for e in kept if matches(e.name, prof["keep_only"])] if "keep_only" in prof else kept


def matches(name, globs):
    return any(fnmatch.fnmatchcase(name, g) for g in globs)


def select(all_entries, globs):
    """The entries matching any of globs (all of them when globs is empty)."""
    if not globs:
        return all_entries
    return [e for e in all_entries if matches(e.name, globs)]
