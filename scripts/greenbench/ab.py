"""Paired A/B runs (bench_all --ab REV): the base, commit REV built in a git worktree
beside the tree, and the candidate, this tree's build, measured in alternation on one
machine, then judged pair by pair (comparison.judge_paired).

Repetition k of an entry runs base then candidate when k is even, candidate then base
when k is odd (ABBA ABBA...), so a drift of the machine during the run (another job
starting, the CPU's clock, the host's neighbours) falls on both sides alike and a side
gains nothing from going first. Each pair is two processes run back to back.

Invariants: the base's worktree lives under build/ab/ (ignored by git) and is removed,
with its build, when the run ends, however it ends, unless the caller asked to keep it;
a repetition that fails on either side drops that entry from both sides, so the two
results files always hold the same repetitions of the same runs, pairs in order.
"""

import contextlib
import os
import subprocess

from greenbench import comparison, results

# The programs an entry kind runs (the base builds only what the chosen entries need).
TARGETS = {"timing": "greenbench_timing", "instructions": "greenbench_timing", "probe": "greenbench_probe"}
SIDES = ("base", "candidate")


class AbError(Exception):
    """A REV that is not a commit, or a base that cannot be checked out or built."""


def _git(root, *argv):
    return subprocess.run(["git", *argv], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def resolve(root, rev):
    """The full commit id REV names in the repository at root; AbError when none."""
    if not rev or rev.startswith("-"):
        raise AbError(f"--ab takes a commit (a hash, a branch, HEAD~1), not {rev!r}")
    found = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    if found.returncode != 0:
        inside = _git(root, "rev-parse", "--is-inside-work-tree")
        if inside.returncode != 0:
            raise AbError(f"{root} is not a git checkout: --ab needs one to build {rev} beside it")
        raise AbError(f"{rev!r} is not a commit of this repository (git rev-parse found none)")
    return found.stdout.strip()


def tree_path(root, commit):
    """Where the base's worktree goes: build/ab/<first 12 hex digits>."""
    return os.path.join(root, "build", "ab", commit[:12])


@contextlib.contextmanager
def base_tree(root, commit, keep=False):
    """A worktree of `commit` at tree_path(); reused when a kept one is there already.
    Removed on exit unless keep."""
    path = tree_path(root, commit)
    if not os.path.isdir(os.path.join(path, ".git")) and not os.path.isfile(os.path.join(path, ".git")):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        _git(root, "worktree", "prune")
        made = _git(root, "worktree", "add", "--detach", "--force", path, commit)
        if made.returncode != 0:
            raise AbError(f"cannot check out {commit[:12]} at {path}: {made.stderr.strip()}")
    elif _git(path, "rev-parse", "HEAD").stdout.strip() != commit:
        raise AbError(f"{path} holds another commit: remove it (git worktree remove --force {path})")
    try:
        yield path
    finally:
        if not keep:
            _git(root, "worktree", "remove", "--force", path)
            _git(root, "worktree", "prune")


def build(tree, kinds, jobs, log):
    """Configures and builds the release programs `kinds` of entries need in tree; AbError
    with the build's last lines when it fails. Its output goes to the file object log."""
    targets = sorted({TARGETS[kind] for kind in kinds})
    for argv in (["cmake", "--preset", "release"],
                 ["cmake", "--build", "--preset", "release", "-j", str(jobs), "--target", *targets]):
        done = subprocess.run(argv, cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        log.write(done.stdout)
        if done.returncode != 0:
            tail = "\n".join(done.stdout.strip().splitlines()[-8:])
            raise AbError(f"building the base failed ({' '.join(argv)} in {tree}):\n{tail}")


def order(k):
    """The sides in the order repetition k runs them: ABBA ABBA..."""
    return SIDES if k % 2 == 0 else SIDES[::-1]


def measure_pairs(entry_of_side, reps, measure_repetition):
    """{side: [document of repetition k]} for one entry measured on both sides in
    alternation; measure_repetition(entry, k) measures one repetition of one side's
    entry. An exception on either side ends the entry (it propagates)."""
    docs = {side: [] for side in SIDES}
    for k in range(reps):
        for side in order(k):
            docs[side].append(measure_repetition(entry_of_side[side], k))
    return docs


def judge(base_doc, candidate_doc, rules, base_label, candidate_label):
    """The paired comparison of two files that hold the same repetitions, pairs in order."""
    changes, only_base, only_new = comparison.compare_summaries(
        results.summarize(base_doc), results.summarize(candidate_doc), rules, paired=True)
    return comparison.Comparison(base_label, candidate_label, changes, only_base, only_new, paired=True)
