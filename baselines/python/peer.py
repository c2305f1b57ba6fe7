#!/usr/bin/python3
"""greenbench's Python peer: what CPython threads cost, and what the GIL does
to CPU-bound work (the claims of note 004), in greenbench's results format
(docs/results-format.md: Google Benchmark's JSON, "iteration" entries only;
the suite driver adds the aggregates).

    peer.py create -n N [-reps R] [-min-time SEC] [-out FILE]
        threading.Thread create + start + join, one at a time, N times.
        create/python_thread/mode:sequential/n:N: ns_per_task, tasks
    peer.py gil -workers W [-reps R] [-min-time SEC] [-job-size S] [-out FILE]
        a fixed pure-Python CPU job (sum of range(S) by a Python loop) split
        into W equal parts, run on W threads and on W processes (fork).
        gil/python_thread/workers:W/job:cpu, gil/python_process/workers:W/job:cpu:
        seconds, speedup (the 1-worker time of the same kind, measured in the
        same repetition, divided by this time).

Every repetition is a fresh process (this file run again with
REPETITION_ENV set, which prints its entries as JSON), and measures as the C++
and Go rows do: one unreported run (warm-up), then runs until -min-time
seconds have passed, reporting their mean; cpu_time is the process's getrusage
CPU time over those runs, its waited-for children (gil's worker processes)
included.

Invariants: the work is counted by those who did it (tasks by the threads, the
job's sum by the workers) and checked, exit 1 if it differs; bad flags exit 2
(argparse). Standard library only.
"""

import argparse
import datetime
import json
import multiprocessing
import os
import platform
import resource
import socket
import subprocess
import sys
import threading
import time

FORMAT_VERSION = 1
DEFAULT_JOB_SIZE = 20_000_000  # about 0.6 s of one core in CPython 3.11 here
START_METHOD = "fork"  # "spawn" would add an interpreter start to each worker
REPETITION_ENV = "GREENBENCH_PY_REPETITION"  # marks a child process: its repetition index


def run_create(n):
    """Creates, starts and joins n threads one at a time.

    Returns (wall ns, threads that ran). Only one thread runs at a time, so
    the threads' unlocked increments cannot race.
    """
    ran = [0]

    def task():
        ran[0] += 1

    start = time.perf_counter_ns()
    for _ in range(n):
        thread = threading.Thread(target=task)
        thread.start()
        thread.join()
    return time.perf_counter_ns() - start, ran[0]


# The job is the same as the C++ suite's (benchmarks/workloads/workload_gil.h): the sum of
# i*i % 1_000_003 over range(size); for the default size it is 9_997_949_919_950.
JOB_MODULUS = 1_000_003
DEFAULT_JOB_SUM = 9_997_949_919_950


def cpu_job(start, stop):
    """The GIL workload's unit of work: a pure-Python loop, no C fast path."""
    total = 0
    for i in range(start, stop):
        total += i * i % JOB_MODULUS
    return total


def job_parts(size, workers):
    """Splits range(size) into `workers` contiguous parts of equal length (±1)."""
    return [(k * size // workers, (k + 1) * size // workers) for k in range(workers)]


def run_on_threads(size, workers):
    """Runs the job split over `workers` threads; returns (seconds, sum)."""
    results = [0] * workers

    def work(k, start, stop):
        results[k] = cpu_job(start, stop)

    threads = [threading.Thread(target=work, args=(k, start, stop))
               for k, (start, stop) in enumerate(job_parts(size, workers))]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, sum(results)


def _process_worker(connection, start, stop):
    connection.send(cpu_job(start, stop))
    connection.close()


def run_on_processes(size, workers):
    """Runs the job split over `workers` forked processes; returns (seconds, sum).

    The time includes forking the workers and collecting their results.
    """
    context = multiprocessing.get_context(START_METHOD)
    began = time.perf_counter()
    receivers, processes = [], []
    for start, stop in job_parts(size, workers):
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_process_worker, args=(sender, start, stop))
        process.start()
        sender.close()
        receivers.append(receiver)
        processes.append(process)
    total = sum(receiver.recv() for receiver in receivers)
    for process in processes:
        process.join()
    seconds = time.perf_counter() - began
    if any(process.exitcode != 0 for process in processes):
        raise RuntimeError("a worker process failed")
    return seconds, total


def process_cpu_seconds():
    """User + system CPU time of this process and of its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_runs(min_time, run):
    """Runs run() once unreported, then until min_time seconds of its timed part have
    passed (at least once). run() returns the seconds of its timed part.

    Returns (runs, seconds of all timed runs, process CPU seconds across them)."""
    run()
    cpu_before = process_cpu_seconds()
    runs, seconds = 0, 0.0
    while runs == 0 or seconds < min_time:
        seconds += run()
        runs += 1
    return runs, seconds, process_cpu_seconds() - cpu_before


def iteration_entry(name, index, repetitions, runs, real_time, cpu_time, time_unit, counters):
    """One "run_type": "iteration" entry; real_time and cpu_time are per run, the
    counters become top-level keys."""
    entry = {
        "name": name,
        "run_name": name,
        "run_type": "iteration",
        "repetitions": repetitions,
        "repetition_index": index,
        "threads": 1,
        "iterations": runs,
        "real_time": real_time,
        "cpu_time": cpu_time,
        "time_unit": time_unit,
    }
    entry.update(counters)
    return entry


class WorkMismatch(Exception):
    """The work done differs from the work asked: the figures mean nothing."""


def measure_create(args, index):
    """One repetition's entries."""
    def run():
        wall_ns, tasks = run_create(args.n)
        if tasks != args.n:
            raise WorkMismatch(f"{tasks} threads ran, {args.n} were started")
        return wall_ns / 1e9

    runs, seconds, cpu = timed_runs(args.min_time, run)
    wall_ns = seconds * 1e9 / runs
    return [iteration_entry(f"create/python_thread/mode:sequential/n:{args.n}", index, args.reps, runs,
                            wall_ns, cpu * 1e9 / runs, "ns", {"ns_per_task": wall_ns / args.n, "tasks": args.n})]


def measure_gil(args, index):
    """One repetition's entries: per kind, runs of the job on 1 and on W workers until
    min_time has passed; seconds is the mean W-worker time, speedup the mean 1-worker
    time over it."""
    want = DEFAULT_JOB_SUM if args.job_size == DEFAULT_JOB_SIZE else cpu_job(0, args.job_size)
    kinds = {"python_thread": run_on_threads, "python_process": run_on_processes}
    cpu_job(0, args.job_size // 10)  # warm-up of the interpreter's loop
    entries = []
    for kind in sorted(kinds):
        def timed(workers, run=kinds[kind], kind=kind):
            seconds, total = run(args.job_size, workers)
            if total != want:
                raise WorkMismatch(f"{kind} with {workers} workers summed {total}, want {want}")
            return seconds
        one = timed_runs(args.min_time, lambda: timed(1))
        runs, seconds, cpu = one if args.workers == 1 else timed_runs(args.min_time, lambda: timed(args.workers))
        mean = seconds / runs
        entries.append(iteration_entry(
            f"gil/{kind}/workers:{args.workers}/job:cpu", index, args.reps, runs, mean * 1e3, cpu * 1e3 / runs, "ms",
            {"seconds": mean, "speedup": (one[1] / one[0]) / mean}))
    return entries


def measure_in_children(args, argv):
    """Every repetition in a fresh process of this program; their entries, in order."""
    entries = []
    for index in range(args.reps):
        child = subprocess.run([sys.executable, os.path.abspath(__file__), *argv], capture_output=True, text=True,
                               env={**os.environ, REPETITION_ENV: str(index)}, check=False)
        if child.returncode != 0:
            sys.stderr.write(child.stderr)
            raise RuntimeError(f"repetition {index} exited {child.returncode}")
        entries.append(json.loads(child.stdout))
    # Repetitions first, then names (results-format: sorted by name, repetitions in order).
    return [entry for position in range(len(entries[0])) for entry in (rep[position] for rep in entries)]


def read_text(path):
    try:
        with open(path, encoding="utf-8") as file:
            return file.read().strip()
    except OSError:
        return ""


def cpuinfo_field(key):
    for line in read_text("/proc/cpuinfo").splitlines():
        name, _, value = line.partition(":")
        if name.strip() == key:
            return value.strip()
    return ""


def collect_context(started, args):
    """The results format's context: Google Benchmark's keys + greenbench."""
    host = socket.gethostname()
    governor = read_text("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor") or "unknown"
    warnings = []
    if governor == "unknown":
        warnings.append("cpufreq governor unknown (no cpufreq in sysfs, typical of VMs)")
    cpus = os.cpu_count() or 1
    try:
        mhz = int(float(cpuinfo_field("cpu MHz")))
    except ValueError:
        mhz = 0
    greenbench = {
        "format_version": FORMAT_VERSION,
        "peer": "python",
        "host": host,
        "date": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_commit": "unknown",
        "cpu_model": cpuinfo_field("model name"),
        "cpus": cpus,
        "kernel": f"{platform.system()} {platform.release()}",
        "governor": governor,
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_executable": sys.executable,
        "gil_switch_interval_s": sys.getswitchinterval(),
        "warnings": warnings,
    }
    if args.command == "gil":
        greenbench["gil_job_size"] = args.job_size
        greenbench["multiprocessing_start_method"] = START_METHOD
    return {
        "date": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host_name": host,
        "executable": sys.executable,
        "num_cpus": cpus,
        "mhz_per_cpu": mhz,
        "cpu_scaling_enabled": governor not in ("unknown", "performance"),
        "caches": [],
        "load_avg": list(os.getloadavg()),
        "library_build_type": "none",
        "greenbench": greenbench,
    }


def write_results(path, document):
    """Writes the JSON to stdout, or to path through a temporary file, so that a
    failed run never leaves a truncated file where results are expected."""
    text = json.dumps(document, indent=2, allow_nan=True) + "\n"
    if path in (None, "-"):
        sys.stdout.write(text)
        return
    base = path[:-len(".json")] if path.endswith(".json") else path
    partial = base + ".partial.json"
    with open(partial, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(partial, path)


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="peer.py", allow_abbrev=False,
                                     description="greenbench's Python peer (threads, the GIL)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{create,gil}")

    def common(sub):
        sub.add_argument("-reps", "--reps", type=positive_int, default=1,
                         help="repetitions (default 1)")
        sub.add_argument("-out", "--out", default=None,
                         help="write the results JSON here (default stdout)")
        sub.add_argument("-min-time", "--min-time", type=positive_float, default=0.5,
                         help="time runs until this many seconds have passed, report their mean (default 0.5)")

    create = commands.add_parser("create", allow_abbrev=False,
                                 help="threading.Thread create+start+join, one at a time")
    create.add_argument("-n", "--n", type=positive_int, default=10_000, help="threads (default 10000)")
    common(create)
    gil = commands.add_parser("gil", allow_abbrev=False,
                              help="a CPU-bound pure-Python job on W threads and W processes")
    gil.add_argument("-workers", "--workers", type=positive_int, default=2, help="W (default 2)")
    gil.add_argument("-job-size", "--job-size", type=positive_int, default=DEFAULT_JOB_SIZE,
                     help=f"loop iterations of the whole job (default {DEFAULT_JOB_SIZE})")
    common(gil)
    return parser.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    started = datetime.datetime.now(datetime.timezone.utc)
    measure = {"create": measure_create, "gil": measure_gil}[args.command]
    try:
        if REPETITION_ENV in os.environ:
            json.dump(measure(args, int(os.environ[REPETITION_ENV])), sys.stdout, allow_nan=True)
            return 0
        entries = measure_in_children(args, argv)
    except (WorkMismatch, RuntimeError) as error:
        print(f"peer.py: {error}", file=sys.stderr)
        return 1
    write_results(args.out, {"context": collect_context(started, args), "benchmarks": entries})
    return 0


if __name__ == "__main__":
    sys.exit(main())
