"""bench_all: installs what greenbench needs, builds it (release) and runs the whole suite
into one results file (docs/results-format.md). scripts/bench_all runs this module.

Every repetition runs in a fresh child process: timing entries through greenbench_timing
with a filter that matches that one entry, memory and max-count probes through
greenbench_probe, the echo servers through greenbench_echo (which starts a fresh server
child per repetition and drives it), and the Go and Python peers through their own
programs (catalogue.py says which, with what arguments). A probe that cannot run here (a
size the OS limits forbid) is skipped with its reason in context.greenbench.warnings.
Every child runs, whole, on one CPU set: every CPU bench_all may use, or the first K of
them for an entry named with cpuset:K. Around each entry bench_all reads the machine's
CPU steal and CPU pressure (context.greenbench.noise) and warns of an entry measured under
either (entry_warnings).

Invariant: after every finished entry the results file on disk is complete and valid
(written atomically), so Ctrl-C, a crash or a kill loses only the entry in flight.
"""

import argparse
import datetime
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time

from greenbench import catalogue, cli, machine, results

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GIB = 1 << 30

EPILOG = """\
profiles (times on a 2-core VM, after the build):
  quick   the default, about 3 minutes: every workload, every runtime a claim reads
          (std_thread, fiber, go) and each other peer at its best, 3 repetitions a
          figure; it leaves out what costs most and judges no claim (the list is in
          scripts/greenbench/catalogue.py), max-count stops at 100,000 tasks and there
          is no echo max-conns run. report names the claims it leaves unjudged.
  full    the reference run, about 20-25 minutes: every runtime and configuration at
          every size, 5 timing repetitions, longer echo windows, max-count runs up to
          20M tasks and 1M connections.

exit status:
  0    every entry ran (or --list printed them)
  1    some entry failed (the others are kept in the file), or setup or the build failed
  2    bad flags, or an --only that matches nothing
  130  interrupted (Ctrl-C or SIGTERM): every finished entry is in the file
  141  stdout was closed early (e.g. piped into head)

examples:
  scripts/bench_all                          quick profile, results/<host>-<date>.json
  scripts/bench_all --profile full --out results/mine.json
  scripts/bench_all --list --only 'skynet/*' which skynet entries a run would make
  scripts/bench_all --no-build --only 'create/fiber*' --only 'create/go*'
"""


class Failure(Exception):
    pass


class Skip(Exception):
    pass


def die(msg, code=2):
    print(f"bench_all: {msg}", file=sys.stderr)
    sys.exit(code)


def parse_bytes(text):
    m = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?)(i?B?)?\s*", text, re.I)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 4GiB, 512MiB or bytes)")
    scale = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[m.group(2).upper()]
    return int(float(m.group(1)) * scale)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="bench_all", allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Install what greenbench needs (Debian 12: scripts/setup, apt-get through\n"
                    "sudo when not root), build it (release, every core), and run the suite into\n"
                    "one results file; then scripts/report FILE writes its report.",
        epilog=EPILOG)
    p.add_argument("--profile", choices=sorted(catalogue.PROFILES), default="quick",
                   help="quick (default, about 3 minutes) or full (about 20-25 minutes); see below")
    p.add_argument("--only", action="append", metavar="GLOB",
                   help="run only entries whose name matches this shell-style pattern (* also "
                        "matches /); repeatable, e.g. --only 'create/fiber*'")
    p.add_argument("--out", metavar="FILE",
                   help="results file to write (default: results/<host>-<date>-<time>.json)")
    p.add_argument("--list", action="store_true",
                   help="print the names of the entries the run would make and exit; "
                        "needs no build")
    p.add_argument("--budget", type=parse_bytes, metavar="SIZE",
                   help="memory budget of the max-count probes and the echo servers' "
                        "max-conns runs: bytes, or a number with K, M, G or T (binary: "
                        "4G = 4GiB), e.g. 4GiB or 512MiB (default: a quarter of available "
                        "memory, at most 8 GiB)")
    p.add_argument("--no-build", action="store_true",
                   help="skip setup and the build; use build/release as it is")
    return p.parse_args(argv)


# ---- building ------------------------------------------------------------------------

def build():
    """scripts/setup, then the release build on every core, its progress on stderr."""
    if subprocess.run([os.path.join(ROOT, "scripts", "setup")]).returncode != 0:
        die("setup failed: install the packages it names, then run again", 1)
    jobs = str(os.cpu_count() or 1)
    for argv in (["cmake", "--preset", "release"], ["cmake", "--build", "--preset", "release", "-j", jobs]):
        print("bench_all: " + " ".join(argv), file=sys.stderr, flush=True)
        if subprocess.run(argv, cwd=ROOT, stdout=sys.stderr).returncode != 0:
            die("build failed", 1)


def build_info(paths):
    out = machine.command_output([paths.timing, "--build-info"])
    try:
        return json.loads(out) if out else {}
    except json.JSONDecodeError:
        return {}


# ---- running an entry ----------------------------------------------------------------

def child_cpus(cpuset):
    """The CPUs a child runs on: every CPU this process may use (cpuset 0), or the first
    `cpuset` of them."""
    usable = sorted(os.sched_getaffinity(0))
    return usable[:cpuset] if cpuset else usable


def run_child(argv, timeout, guard_bytes=None, cpuset=0):
    """Runs one measurement process, the whole of it (every thread it starts, its own
    children) on child_cpus(cpuset); returns its stdout. Kills it past `timeout` seconds
    or, when `guard_bytes` is set, past that much resident memory (a runaway guard: the
    probes keep to their budget themselves)."""
    cpus = child_cpus(cpuset)
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                                preexec_fn=lambda: os.sched_setaffinity(0, cpus))
    except OSError as e:
        raise Failure(f"cannot start {argv[0]}: {e.strerror}")
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                out, err = proc.communicate(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() > deadline:
                    proc.kill()
                    proc.communicate()
                    raise Failure(f"timed out after {timeout:.0f} s: {' '.join(argv)}")
                if guard_bytes and child_rss(proc.pid) > guard_bytes:
                    proc.kill()
                    proc.communicate()
                    raise Failure(f"killed at {guard_bytes >> 20} MiB resident (runaway guard): {' '.join(argv)}")
    except BaseException:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        raise
    if proc.returncode == 3:
        raise Skip(err.strip().splitlines()[-1] if err.strip() else "not possible on this machine")
    if proc.returncode != 0:
        tail = "\n".join(err.strip().splitlines()[-5:])
        raise Failure(f"exit {proc.returncode}: {' '.join(argv)}\n{tail}")
    return out


def child_rss(pid):
    for line in machine.read(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def load_text(text, what):
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise Failure(f"{what} wrote broken JSON: {e}")
    if not isinstance(doc, dict) or "benchmarks" not in doc:
        raise Failure(f"{what} wrote JSON that is not a results document")
    return doc


def measure(entry, tmp):
    """Runs `entry`'s processes (catalogue.Entry says how) on its CPU set; its results
    document, the runs named with cpuset:K where the entry has one."""
    doc = measure_all_cpus(entry, tmp)
    return results.with_runtime_param_in_doc(doc, "cpuset", entry.cpuset) if entry.cpuset else doc


def measure_all_cpus(entry, tmp):
    if entry.kind == "timing":
        # One process per repetition: a process's own luck (where its threads and pages
        # land, ASLR, a worker's first vCPU) then shows in the spread.
        docs = []
        for k in range(entry.reps):
            out = os.path.join(tmp, f"timing-{k}.json")
            run_child(entry.argv + [f"--benchmark_out={out}", "--benchmark_out_format=json"], entry.timeout,
                      cpuset=entry.cpuset)
            docs.append(results.load(out))
        return results.concat_repetitions(docs)
    if entry.kind == "probe":
        return results.concat_repetitions([
            load_text(run_child(entry.argv + ["--rep", str(k), "--reps", str(entry.reps)],
                                entry.timeout, entry.guard_bytes, entry.cpuset), entry.argv[1])
            for k in range(entry.reps)])
    out = os.path.join(tmp, "peer.json")
    run_child(entry.argv + [entry.out_flag, out], entry.timeout, cpuset=entry.cpuset)
    return results.load(out)


# ---- the run -------------------------------------------------------------------------

def clock(seconds):
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def headline(doc):
    """The figure a person looks at first, per run: (run, counter, median, cv, label); an
    open-loop echo run's is its p99 (its requests/s is the rate it was offered)."""
    preferred = ("ns_per_task", "ns_per_switch", "rss_bytes_per_task", "max_tasks", "max_conns",
                 "requests_per_second", "ms_wall", "seconds", "speedup")
    rows = []
    for run_name, summary in sorted(results.summarize(doc).items()):
        first = ("ns_p99",) if results.parse_name(run_name).workload == "echo_open_loop" else ()
        for counter in first + preferred:
            fig = summary.figures.get(counter)
            if fig is not None:
                rows.append((run_name, counter, fig.median, fig.cv, summary.label))
                break
    return rows


def default_budget():
    return min(8 * GIB, max(256 << 20, machine.meminfo("MemAvailable") // 4))


def run_entries(entries, ctx, out):
    """Measures every entry into `out`; (doc, failures, interrupted)."""
    doc = {"context": {"greenbench": ctx}, "benchmarks": []}
    failures = 0
    start = time.monotonic()
    total_estimate = sum(e.estimate for e in entries)
    done_estimate = 0.0
    interrupted = False
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    with tempfile.TemporaryDirectory(prefix="greenbench-") as tmp:
        for k, entry in enumerate(entries, 1):
            elapsed = time.monotonic() - start
            left = (total_estimate - done_estimate) * (elapsed / done_estimate if done_estimate else 1.0)
            print(f"[{k}/{len(entries)}] {entry.name}  (elapsed {clock(elapsed)}, ~{clock(left)} left)",
                  file=sys.stderr, flush=True)
            try:
                before = machine.noise_reading()
                measured = measure(entry, tmp)
                noise = machine.noise_between(before, machine.noise_reading())
                ctx.setdefault("noise", {})[entry.name] = noise
                said = ctx.setdefault("entry_warnings", {})
                for warning in machine.noise_warnings(noise):
                    said.setdefault(warning, []).append(entry.name)
                results.merge_child(doc, measured, entry.name, entry.run_names)
                results.add_aggregates(doc)
                results.sort_entries(doc)
                results.write_atomic(doc, out)
            except Skip as s:
                ctx["warnings"].append(f"{entry.name} skipped: {s}")
                print(f"    skipped: {s}", file=sys.stderr)
            except (Failure, results.ResultsError) as f:
                failures += 1
                ctx["warnings"].append(f"{entry.name} failed: {str(f).splitlines()[0]}")
                print(f"    FAILED: {f}", file=sys.stderr)
            except KeyboardInterrupt:
                interrupted = True
                print("bench_all: interrupted; keeping every finished entry", file=sys.stderr)
                break
            done_estimate += entry.estimate
    doc["context"]["greenbench"] = ctx
    results.write_atomic(doc, out)
    print(f"bench_all: {len(doc['benchmarks'])} entries in {out} ({clock(time.monotonic() - start)})",
          file=sys.stderr)
    return doc, failures, interrupted


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    paths = catalogue.Paths(ROOT)
    if not args.no_build and not args.list:
        build()
    built = os.access(paths.timing, os.X_OK)
    budget = args.budget or default_budget()
    if not built and not args.list:
        die(f"{paths.timing} is missing: build first (drop --no-build)", 1)
    # Before a build, --list shows what a run (which builds everything) would make.
    entries = catalogue.entries(args.profile, paths, catalogue.usable_cpus(), budget,
                                has_echo=not built or os.access(paths.echo, os.X_OK),
                                has_go=not built or os.access(paths.go_peer, os.X_OK))
    chosen = catalogue.select(entries, args.only)
    if not chosen:
        die(f"no entry matches {' or '.join(args.only)}; see --list")
    if args.list:
        print("\n".join(e.name for e in chosen))
        return 0

    ctx = machine.machine_context(args.profile, build_info(paths), ROOT)
    ctx["max_count_budget_bytes"] = budget
    ctx["cpu_set"] = child_cpus(0)
    ctx["warnings"] += machine.warnings(ctx)
    if not os.access(paths.go_peer, os.X_OK):
        ctx["warnings"].append("Go rows skipped: greenbench-go was not built (is golang-go installed?)")
    for w in ctx["warnings"]:
        print(f"bench_all: warning: {w}", file=sys.stderr)

    out = args.out or os.path.join(
        ROOT, "results", f"{platform.node()}-{datetime.datetime.now():%Y%m%d-%H%M%S}.json")
    doc, failures, interrupted = run_entries(chosen, ctx, out)

    print(f"\n{'entry':<64} {'figure':>16} {'median':>14} {'cv':>7}  limit")
    for run_name, counter, median, cv, label in headline(doc):
        cv_text = "" if cv is None or cv != cv else f"{100 * cv:.1f}%"
        print(f"{run_name:<64} {counter:>16} {median:>14.6g} {cv_text:>7}  {label or ''}")
    print(f"\nbench_all: report: scripts/report {out}", file=sys.stderr)
    if interrupted:
        return 130
    return 1 if failures else 0


if __name__ == "__main__":
    cli.run(main)
