"""Tests of the entry points as a new user meets them: bench_all, report and compare
explain every option, their exit codes and examples in --help; each ends quietly when its
reader goes away (`| head`); bench_all --list works in a tree with no build, and
bench_all gets as far as scripts/setup where there is no python3; setup installs
through sudo as a user and directly as root."""

import os
import re
import shutil
import subprocess
import sys
import unittest

import support
from greenbench import cli

SCRIPTS = ("bench_all", "report", "compare")


def copy_of_scripts(dest):
    """A tree with scripts/ and the sizes they read (benchmarks/sizes.json), and nothing
    built, as a fresh clone is before its first build."""
    shutil.copytree(support.SCRIPTS, os.path.join(dest, "scripts"),
                    ignore=shutil.ignore_patterns("__pycache__", "tests"))
    os.mkdir(os.path.join(dest, "benchmarks"))
    shutil.copy(os.path.join(support.SCRIPTS, "..", "benchmarks", "sizes.json"), os.path.join(dest, "benchmarks"))
    return os.path.join(dest, "scripts")


class HelpTest(unittest.TestCase):
    def help_of(self, script):
        run = support.run_script(script, "--help")
        self.assertEqual(run.returncode, 0, run.stderr)
        return run.stdout

    def test_every_option_is_explained(self):
        for script in SCRIPTS:
            text = self.help_of(script)
            lines = text.splitlines()
            options = set(re.findall(r"\[(--[a-z-]+)", text.split("\n\n")[0]))
            self.assertTrue(options, script)
            for option in options:
                at = next(i for i, line in enumerate(lines) if re.match(rf"\s+{option}\b", line))
                # argparse puts the help two spaces after the option, or on the next line
                explained = len(re.split(r"\s{2,}", lines[at].strip())) > 1 or (
                    at + 1 < len(lines) and re.match(r"\s{10,}\S", lines[at + 1]))
                self.assertTrue(explained, f"{script} {option}: {lines[at]!r}")

    def test_exit_codes_and_examples(self):
        for script in SCRIPTS:
            text = self.help_of(script)
            for section in ("exit status:", "examples:"):
                self.assertIn(section, text, script)
            self.assertRegex(text, r"\n  0 ", script)
            self.assertRegex(text, r"\n  2 ", script)
            self.assertIn(f"{cli.EXIT_PIPE_CLOSED} ", text, script)
            self.assertGreaterEqual(text.count(f"scripts/{script} "), 2, script)

    def test_bench_all_says_how_long_profiles_take_and_how_to_write_a_budget(self):
        text = self.help_of("bench_all")
        self.assertRegex(text, r"quick .*\n(.*\n)*.*about \d+ minutes")
        self.assertRegex(text, r"full .*\n(.*\n)*.*about [\d-]+ minutes")
        self.assertIn("4GiB", text)
        self.assertIn("130", text)


class BrokenPipeTest(support.ScratchTestCase):
    def run_into_closed_pipe(self, script, *args):
        """Run with stdout a pipe whose reader is already gone."""
        read_end, write_end = os.pipe()
        os.close(read_end)
        try:
            return support.run_script(script, *args, stdout=write_end)
        finally:
            os.close(write_end)

    def test_each_script_ends_quietly(self):
        runs = {
            "compare": self.run_into_closed_pipe("compare", support.fixture("run_a.json"),
                                                 support.fixture("run_b.json")),
            "report": self.run_into_closed_pipe("report", support.fixture("run_a.json"), "--out", self.tmp,
                                                "--no-plots"),
            "bench_all": self.run_into_closed_pipe("bench_all", "--list"),
        }
        for script, run in runs.items():
            self.assertEqual(run.returncode, cli.EXIT_PIPE_CLOSED, f"{script}: {run.stderr}")
            self.assertEqual(run.stderr, "", script)
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "report.md")))


class BenchAllBeforeBuildTest(support.ScratchTestCase):
    def test_list_needs_no_build(self):
        scripts = copy_of_scripts(self.tmp)
        # cwd: python3 -m would import the package of the working folder first.
        run = subprocess.run([os.path.join(scripts, "bench_all"), "--list", "--only", "switch/go/*"],
                             capture_output=True, text=True, timeout=300, cwd=self.tmp)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stdout.split(), ["switch/go/procs:1/via:yield/cpus:1",
                                              "switch/go/procs:1/via:handoff/cpus:1",
                                              "switch/go/procs:2/via:handoff/cpus:2"])
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "build")))

    def test_without_python3_it_runs_setup_first(self):
        """PATH has no python3: the entry point (sh) runs scripts/setup, here a stand-in that
        'installs' python3 by linking it into PATH, then runs the module with it."""
        scripts = copy_of_scripts(self.tmp)
        bin_dir = os.path.join(self.tmp, "bin")
        os.mkdir(bin_dir)
        for tool in ("dirname", "ln"):
            os.symlink(shutil.which(tool), os.path.join(bin_dir, tool))
        with open(os.path.join(scripts, "setup"), "w") as f:
            f.write(f"#!/bin/sh\necho 'setup ran' >&2\nln -s {sys.executable} {bin_dir}/python3\n")
        env = dict(os.environ, PATH=bin_dir)
        run = subprocess.run([os.path.join(scripts, "bench_all"), "--list", "--only", "gil/*"],
                             capture_output=True, text=True, env=env, timeout=300)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("python3 is missing", run.stderr)
        self.assertIn("setup ran", run.stderr)
        self.assertIn("gil/python_thread+python_process/job:cpu", run.stdout.split())

    def test_without_python3_a_failed_setup_stops_it(self):
        scripts = copy_of_scripts(self.tmp)
        bin_dir = os.path.join(self.tmp, "bin")
        os.mkdir(bin_dir)
        os.symlink(shutil.which("dirname"), os.path.join(bin_dir, "dirname"))
        with open(os.path.join(scripts, "setup"), "w") as f:
            f.write("#!/bin/sh\necho 'no sudo here' >&2\nexit 1\n")
        run = subprocess.run([os.path.join(scripts, "bench_all"), "--list"], capture_output=True, text=True,
                             env=dict(os.environ, PATH=bin_dir), timeout=300)
        self.assertEqual(run.returncode, 1)
        self.assertIn("no sudo here", run.stderr)
        self.assertNotIn("not found", run.stderr)


class SetupTest(support.ScratchTestCase):
    """scripts/setup with stand-ins for id, dpkg-query, sudo and apt-get on PATH: one
    package (python3-matplotlib) is missing."""

    def run_setup(self, uid, with_sudo):
        bin_dir = os.path.join(self.tmp, "bin")
        os.mkdir(bin_dir)
        log = os.path.join(self.tmp, "log")
        stubs = {
            "id": f"echo {uid}",
            "dpkg-query": 'case "$*" in *python3-matplotlib*) exit 1;; esac; echo "install ok installed"',
            "apt-get": f'echo "apt-get $*" >> {log}',
        }
        if with_sudo:
            stubs["sudo"] = f'echo "sudo $1" >> {log}; exec "$@"'
        for name, body in stubs.items():
            path = os.path.join(bin_dir, name)
            with open(path, "w") as f:
                f.write(f"#!/bin/sh\n{body}\n")
            os.chmod(path, 0o755)
        env = dict(os.environ, PATH=f"{bin_dir}:/usr/bin:/bin")
        if not with_sudo and shutil.which("sudo", path="/usr/bin:/bin"):
            self.skipTest("a real sudo is on /usr/bin:/bin")
        run = subprocess.run([os.path.join(support.SCRIPTS, "setup")], capture_output=True, text=True,
                             env=env, timeout=300)
        if not os.path.exists(log):
            return run, []
        with open(log) as f:
            return run, f.read().splitlines()

    def test_a_user_installs_through_sudo(self):
        run, calls = self.run_setup(1000, with_sudo=True)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("installing python3-matplotlib (through sudo)", run.stderr)
        self.assertEqual(calls, ["sudo env", "apt-get update -qq", "sudo env",
                                 "apt-get install -y -qq --no-install-recommends python3-matplotlib"])

    def test_root_installs_directly(self):
        run, calls = self.run_setup(0, with_sudo=True)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(calls, ["apt-get update -qq",
                                 "apt-get install -y -qq --no-install-recommends python3-matplotlib"])

    def test_a_user_without_sudo_is_told_what_to_install(self):
        run, calls = self.run_setup(1000, with_sudo=False)
        self.assertEqual(run.returncode, 1)
        self.assertIn("missing Debian packages: python3-matplotlib", run.stderr)
        self.assertEqual(calls, [])


if __name__ == "__main__":
    unittest.main()
