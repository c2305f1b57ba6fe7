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
either (entry_warnings). At the end it prints each entry's headline figure and the run
judged against the runtime's goals (scripts/goals.json).

Invariant: after every finished entry the results file on disk is complete and valid
(written atomically), so Ctrl-C, a crash or a kill loses only the entry in flight.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from greenbench import ab, catalogue, cli, comparison, goals, machine, results

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GIB = 1 << 30

EPILOG = """\
profiles (times on a 2-core VM, after the build):
  quick   the default, about 3 minutes: every workload, every runtime a claim reads
          (std_thread, fiber, go) and each other peer at its best, 3 repetitions a
          figure; it leaves out what costs most and judges no claim (the list is in
          scripts/greenbench/catalogue.py), max-count stops at 100,000 tasks and there
          is no echo max-conns run. report names the claims it leaves unjudged.
  ci      for a regression gate, at most 5 minutes: our runtime's quick timing entries
          (6 repetitions), a memory probe, and instruction counts under valgrind's
          callgrind (entries ending in /measure:instructions: instructions_per_task,
          instructions_per_switch) for one-worker fibers and Boost.Fiber round_robin.
  full    the reference run, about 20-25 minutes: every runtime and configuration at
          every size, 5 timing repetitions, longer echo windows, max-count runs up to
          20M tasks and 1M connections.

paired A/B (--ab REV): builds commit REV in a git worktree under build/ab/ (removed
afterwards unless --keep-base), then runs every repetition of each entry on both
sides back to back, base and candidate (this tree's build) in alternation (ABBA...),
writes both results files (the candidate's at --out, the base's beside it with
-base.json) and judges each figure pair by pair: a timing is worse when the median
ratio candidate/base moved the bad way beyond --threshold (default 3%) and a
Wilcoxon signed-rank test on the pairs agrees (p <= --alpha, default 0.01); an
instruction count when it moved beyond --instructions-threshold (default 1%); the
kernel's counts per operation are reported, not judged. Only entries of the C++
programs (timing, probe, instruction counts) take part. No stored baseline needed.

exit status:
  0    every entry ran (or --list printed them); --ab: and no figure got worse
  1    some entry failed (the others are kept in the file), or setup or the build
       failed; --ab: some figure got worse
  2    bad flags, an --only that matches nothing, or (--ab) a REV that is not a commit
  3    --ab: nothing compared (no entry ran on both sides)
  4    --ab: no figure worse, but an entry failed or the base did not build
  130  interrupted (Ctrl-C or SIGTERM): every finished entry is in the file
  141  stdout was closed early (e.g. piped into head)

examples:
  scripts/bench_all                          quick profile, results/<host>-<date>.json
  scripts/bench_all --profile full --out results/mine.json
  scripts/bench_all --list --only 'skynet/*' which skynet entries a run would make
  scripts/bench_all --no-build --only 'create/fiber*' --only 'create/go*'
  scripts/bench_all --workers 1,2,4 --only 'skynet/*'   scaling with cores (issue 16)
  scripts/bench_all --profile ci --ab origin/main --format markdown   a pull request's gate
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


def worker_list(text):
    try:
        return catalogue.parse_worker_counts(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="bench_all", allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Install what greenbench needs (Debian 12: scripts/setup, apt-get through\n"
                    "sudo when not root), build it (release, every core), and run the suite into\n"
                    "one results file; then scripts/report FILE writes its report.",
        epilog=EPILOG)
    p.add_argument("--profile", choices=sorted(catalogue.PROFILES), default="quick",
                   help="quick (default, about 3 minutes), ci (at most 5 minutes, with instruction "
                        "counts) or full (about 20-25 minutes); see below")
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
    p.add_argument("--workers", type=worker_list, metavar="LIST",
                   help="worker counts of the scaling entries (create mode:batch, skynet, pairs, fanin): "
                        "fibers and Boost.Fiber on W workers, Go at GOMAXPROCS=W, threads "
                        "restricted to W CPUs (only where there are W); e.g. 1,2,4 (default: "
                        "1, 2, 4, ... below the usable CPUs, and the usable CPUs). W above the "
                        "CPUs is oversubscribed: the context says so")
    p.add_argument("--no-build", action="store_true",
                   help="skip setup and the build; use the build as it is")
    p.add_argument("--build-dir", metavar="DIR",
                   help="run the programs of this build of the tree (e.g. build/planted), not "
                        "build/release; implies --no-build")
    ab_flags = p.add_argument_group("paired A/B (see below)")
    ab_flags.add_argument("--ab", metavar="REV",
                          help="measure commit REV (the base) and this tree (the candidate) in "
                               "alternation and judge the pairs")
    ab_flags.add_argument("--keep-base", action="store_true",
                          help="keep REV's worktree and build under build/ab/ for the next --ab")
    ab_flags.add_argument("--threshold", type=cli.percentage, default=0.03, metavar="PCT",
                          help="smallest change of a timing that can count as worse (default 3)")
    ab_flags.add_argument("--instructions-threshold", type=cli.percentage, default=0.01, metavar="PCT",
                          help="smallest change of an instruction count that counts (default 1)")
    ab_flags.add_argument("--alpha", type=cli.positive, default=0.01, metavar="P",
                          help="significance the signed-rank test must reach (default 0.01)")
    ab_flags.add_argument("--format", choices=comparison.FORMATS, default="text",
                          help="how the verdicts are printed (as scripts/compare's --format)")
    args = p.parse_args(argv)
    if args.build_dir:
        args.no_build = True
    return args



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


def callgrind_total(path):
    """The instructions (Ir) a callgrind output file counted in all."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise Failure(f"callgrind wrote no output file {path}: {e.strerror}")
    events = next((l.split()[1:] for l in lines if l.startswith("events:")), [])
    for prefix in ("totals:", "summary:"):
        found = [l for l in lines if l.startswith(prefix)]
        if found and "Ir" in events:
            return int(found[-1].split()[1 + events.index("Ir")])
    raise Failure(f"{path} is not a callgrind output file with an Ir total")


def instruction_entry(timing_doc, instructions, entry):
    """The results document of one process of an "instructions" entry: the timing
    document's one repetition renamed to entry.name, its facts kept, its timings (valgrind's
    own) dropped, and instructions_per_<op>: `instructions` / (iterations x operations)."""
    counter, operations = catalogue.INSTRUCTION_COUNTERS[entry.source.split("/")[0]]
    runs = [e for e in timing_doc["benchmarks"] if e.get("run_type") == "iteration"]
    if len(runs) != 1 or runs[0].get("error_occurred"):
        raise Failure(f"{entry.source}: the timing program did not report one good repetition")
    run = runs[0]
    kept = {k: v for k, v in run.items()
            if k in results.ENTRY_KEYS or results.is_fact(k) or not isinstance(v, (int, float))}
    ops = run.get(operations, 0) * run.get("iterations", 0)
    if not ops > 0:
        raise Failure(f"{entry.source}: no {operations} counted")
    kept.update(name=entry.name, run_name=entry.name, label="callgrind")
    kept[counter] = instructions / ops
    return {"context": timing_doc["context"], "benchmarks": [kept]}


def measure_repetition(entry, k, tmp):
    """Runs repetition k of an entry of kind timing, probe or instructions (one process
    each); the document it measured."""
    if entry.kind == "instructions":
        if not shutil.which(catalogue.CALLGRIND[0]):
            raise Skip("valgrind is not installed (scripts/setup installs it)")
        out, counts = os.path.join(tmp, f"timing-{k}.json"), os.path.join(tmp, f"callgrind-{k}.out")
        run_child(catalogue.CALLGRIND + [f"--callgrind-out-file={counts}"] + entry.argv
                  + [f"--benchmark_out={out}", "--benchmark_out_format=json"], entry.timeout,
                  cpuset=entry.cpuset)
        return instruction_entry(results.load(out), callgrind_total(counts), entry)
    if entry.kind == "timing":
        # One process per repetition: a process's own luck (where its threads and pages
        # land, ASLR, a worker's first vCPU) then shows in the spread.
        out = os.path.join(tmp, f"timing-{k}.json")
        run_child(entry.argv + [f"--benchmark_out={out}", "--benchmark_out_format=json"], entry.timeout,
                  cpuset=entry.cpuset)
        return results.load(out)
    if entry.kind == "probe":
        return load_text(run_child(entry.argv + ["--rep", str(k), "--reps", str(entry.reps)],
                                   entry.timeout, entry.guard_bytes, entry.cpuset), entry.argv[1])
    raise ValueError(f"{entry.name}: a {entry.kind} entry measures all its repetitions in one run")


def measure(entry, tmp):
    """Runs `entry`'s processes (catalogue.Entry says how) on its CPU set; its results
    document, the runs named with cpuset:K where the entry has one."""
    doc = measure_all_cpus(entry, tmp)
    return results.with_runtime_param_in_doc(doc, "cpuset", entry.cpuset) if entry.cpuset else doc


def measure_all_cpus(entry, tmp):
    if entry.kind in ("instructions", "timing", "probe"):
        return results.concat_repetitions([measure_repetition(entry, k, tmp) for k in range(entry.reps)])
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
                 "requests_per_second", "ms_wall", "seconds", "speedup", "instructions_per_task",
                 "instructions_per_switch")
    rows = []
    for run_name, summary in sorted(results.summarize(doc).items()):
        first = ("ns_p99",) if results.parse_name(run_name).workload == "echo_open_loop" else ()
        for counter in first + preferred:
            fig = summary.figures.get(counter)
            if fig is not None:
                rows.append((run_name, counter, fig.median, fig.cv, summary.label))
                break
    return rows


def goals_summary(doc, path=goals.DEFAULT_FILE):
    """The run judged against the runtime's goals (greenbench/goals.py), as lines for the
    end of its output; one line saying why where the goals file is broken (the results
    are written by then)."""
    try:
        return goals.summary_lines(goals.judge_all(goals.load_goals(path), results.summarize(doc)))
    except goals.GoalsError as e:
        return [f"goals not judged: {e}"]


def default_budget():
    return min(8 * GIB, max(256 << 20, machine.meminfo("MemAvailable") // 4))


def interrupt_on_sigterm():
    """SIGTERM ends the run as Ctrl-C does: every finished entry is kept."""
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))


def run_entries(entries, ctx, out):
    """Measures every entry into `out`; (doc, failures, interrupted)."""
    doc = {"context": {"greenbench": ctx}, "benchmarks": []}
    failures = 0
    start = time.monotonic()
    total_estimate = sum(e.estimate for e in entries)
    done_estimate = 0.0
    interrupted = False
    interrupt_on_sigterm()
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


def scaling_context(workers, cpus):
    """What the context says of the scaling entries: their worker counts, and those above
    the usable CPUs (oversubscribed: W workers share fewer CPUs)."""
    return {"scaling_workers": list(workers), "oversubscribed_workers": [w for w in workers if w > cpus]}


def entries_for(profile, paths, budget, only, workers):
    """The chosen entries of a profile for the programs at paths, the scaling entries at
    `workers` workers."""
    built = os.access(paths.timing, os.X_OK)
    return catalogue.select(catalogue.entries(profile, paths, catalogue.usable_cpus(), budget,
                                              has_echo=not built or os.access(paths.echo, os.X_OK),
                                              has_go=not built or os.access(paths.go_peer, os.X_OK),
                                              workers=workers), only)


def default_out(suffix=""):
    return os.path.join(ROOT, "results", f"{platform.node()}-{datetime.datetime.now():%Y%m%d-%H%M%S}{suffix}.json")


def ab_commit(args):
    """The commit --ab names (exit 2 when it names none)."""
    try:
        return ab.resolve(ROOT, args.ab)
    except ab.AbError as e:
        die(f"--ab: {e}")


def run_ab(args, chosen, paths, budget, workers):
    """bench_all --ab: the paired run (ab.py); its exit status."""
    paired = [e for e in chosen if e.kind in ab.TARGETS]
    left_out = [e.name for e in chosen if e.kind not in ab.TARGETS]
    if left_out:
        print(f"bench_all: --ab leaves out {len(left_out)} entries of the Go and Python peers and the "
              f"echo servers (they run all their repetitions in one process): {', '.join(left_out[:3])}"
              + (", ..." if len(left_out) > 3 else ""), file=sys.stderr)
    if not paired:
        die("--ab: none of the chosen entries is a C++ program's (timing, probe, instructions)")
    commit = ab_commit(args)
    out = args.out or default_out("-ab")
    base_out = re.sub(r"(\.json)?$", "-base.json", out, count=1)
    docs = {}
    contexts = {}
    warnings = []
    start = time.monotonic()
    interrupt_on_sigterm()
    try:
        with ab.base_tree(ROOT, commit, keep=args.keep_base) as tree:
            print(f"bench_all: building the base, {args.ab} ({commit[:12]}), in {tree}", file=sys.stderr, flush=True)
            with open(os.path.join(os.path.dirname(tree), f"{commit[:12]}-build.log"), "w") as log:
                ab.build(tree, {e.kind for e in paired}, os.cpu_count() or 1, log)
            base_paths = catalogue.Paths(tree)
            base_entries = {e.name: e for e in entries_for(args.profile, base_paths, budget, args.only, workers)}
            for side, side_paths, root in (("base", base_paths, tree), ("candidate", paths, ROOT)):
                ctx = machine.machine_context(args.profile, build_info(side_paths), root)
                ctx["ab"] = {"side": side, "base_commit": commit, "base_rev": args.ab}
                ctx["warnings"] += machine.warnings(ctx)
                contexts[side] = ctx
                docs[side] = {"context": {"greenbench": ctx}, "benchmarks": []}
            with tempfile.TemporaryDirectory(prefix="greenbench-ab-") as tmp:
                for k, entry in enumerate(paired, 1):
                    print(f"[{k}/{len(paired)}] {entry.name}  (A/B, elapsed {clock(time.monotonic() - start)})",
                          file=sys.stderr, flush=True)
                    sides = {"base": base_entries.get(entry.name), "candidate": entry}
                    try:
                        if sides["base"] is None:
                            raise Failure("the base has no such entry")
                        measured = ab.measure_pairs(sides, entry.reps,
                                                    lambda e, rep: measure_repetition(e, rep, tmp))
                        for side in ab.SIDES:
                            results.merge_child(docs[side], results.concat_repetitions(measured[side]), entry.name)
                    except (Skip, Failure, results.ResultsError) as f:
                        warnings.append(f"{entry.name} failed: {str(f).splitlines()[0]}")
                        print(f"    FAILED: {f}", file=sys.stderr)
                        continue
                    for side, path in (("base", base_out), ("candidate", out)):
                        results.write_atomic(results.sort_entries(results.add_aggregates(docs[side])), path)
    except ab.AbError as e:
        print(f"bench_all: --ab: {e}", file=sys.stderr)
        return 4
    except KeyboardInterrupt:
        print("bench_all: interrupted; keeping every finished entry", file=sys.stderr)
        return 130
    for side, path in (("base", base_out), ("candidate", out)):
        contexts[side]["warnings"] += warnings
        results.write_atomic(results.sort_entries(results.add_aggregates(docs[side])), path)
    rules = comparison.Rules(threshold=args.threshold, instructions_threshold=args.instructions_threshold,
                             alpha=args.alpha)
    verdicts = ab.judge(docs["base"], docs["candidate"], rules,
                        f"{args.ab} ({commit[:12]})", f"this tree ({contexts['candidate'].get('git_commit', '?')[:12]})")
    verdicts.notes += warnings
    print(comparison.render(verdicts, args.format, tool="bench_all --ab"))
    print(f"bench_all: {clock(time.monotonic() - start)}; base {base_out}, candidate {out}", file=sys.stderr)
    status = verdicts.status()
    if status == comparison.EXIT_OK and warnings:
        return 4
    return status


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    paths = catalogue.Paths(ROOT, args.build_dir and os.path.abspath(args.build_dir))
    if args.ab and not args.list:
        ab_commit(args)  # a bad REV fails before a build
    if not args.no_build and not args.list:
        build()
    built = os.access(paths.timing, os.X_OK)
    budget = args.budget or default_budget()
    if not built and not args.list:
        die(f"{paths.timing} is missing: build first (drop --no-build)", 1)
    # Before a build, --list shows what a run (which builds everything) would make.
    cpus = catalogue.usable_cpus()
    workers = args.workers or catalogue.scaling_worker_counts(cpus)
    chosen = entries_for(args.profile, paths, budget, args.only, workers)
    if not chosen:
        die(f"no entry matches {' or '.join(args.only)}; see --list")
    if args.list:
        print("\n".join(e.name for e in chosen))
        return 0
    if args.ab:
        return run_ab(args, chosen, paths, budget, workers)

    ctx = machine.machine_context(args.profile, build_info(paths), ROOT)
    ctx["max_count_budget_bytes"] = budget
    ctx.update(scaling_context(workers, cpus))
    ctx["cpu_set"] = child_cpus(0)
    ctx["warnings"] += machine.warnings(ctx)
    if ctx["oversubscribed_workers"]:
        ctx["warnings"].append(
            f"scaling entries at {', '.join(map(str, ctx['oversubscribed_workers']))} workers are "
            f"oversubscribed: more workers than the {cpus} usable CPUs")
    if not os.access(paths.go_peer, os.X_OK):
        ctx["warnings"].append("Go rows skipped: greenbench-go was not built (is golang-go installed?)")
    for w in ctx["warnings"]:
        print(f"bench_all: warning: {w}", file=sys.stderr)

    out = args.out or default_out()
    doc, failures, interrupted = run_entries(chosen, ctx, out)

    print(f"\n{'entry':<64} {'figure':>16} {'median':>14} {'cv':>7}  limit")
    for run_name, counter, median, cv, label in headline(doc):
        cv_text = "" if cv is None or cv != cv else f"{100 * cv:.1f}%"
        print(f"{run_name:<64} {counter:>16} {median:>14.6g} {cv_text:>7}  {label or ''}")
    print("\n" + "\n".join(goals_summary(doc)))
    print(f"\nbench_all: report: scripts/report {out}", file=sys.stderr)
    if interrupted:
        return 130
    return 1 if failures else 0


if __name__ == "__main__":
    cli.run(main)
