"""Tests of greenbench.machine: the context records who ran the suite and whether that
run was privileged (root or CAP_SYS_RESOURCE, which lift RLIMIT_NPROC and RLIMIT_NOFILE),
warns about a privileged run, and report shows it."""

import json
import os
import unittest

import support
from greenbench import machine

STATUS = "Name:\tpython3\nCapInh:\t0000000000000000\nCapEff:\t{:016x}\n"


class PrivilegeTest(unittest.TestCase):
    def test_root_is_privileged_whatever_its_capabilities(self):
        self.assertEqual(machine.privilege(0, 0), "root")

    def test_cap_sys_resource_is_privileged(self):
        caps = machine.effective_capabilities(STATUS.format(1 << machine.CAP_SYS_RESOURCE))
        self.assertEqual(machine.privilege(1000, caps), "CAP_SYS_RESOURCE")

    def test_a_user_without_it_is_not(self):
        other_caps = machine.effective_capabilities(STATUS.format(1 << 10 | 1 << 21))
        self.assertEqual(machine.privilege(1000, other_caps), "none")
        self.assertEqual(machine.effective_capabilities("Name:\tx\n"), 0)


class ContextTest(unittest.TestCase):
    def test_context_records_the_run_s_privilege(self):
        ctx = machine.machine_context("quick", {}, support.SCRIPTS)
        self.assertEqual(ctx["euid"], os.geteuid())
        expected = machine.privilege(os.geteuid(), machine.effective_capabilities(machine.read("/proc/self/status")))
        self.assertEqual(ctx["privilege"], expected)
        self.assertEqual(ctx["privileged"], expected != "none")
        self.assertEqual(any(w.startswith("privileged run") for w in machine.warnings(ctx)), ctx["privileged"])

    def test_warns_of_a_privileged_run(self):
        ctx = {"governor": "performance", "privileged": True, "privilege": "root"}
        self.assertTrue(any("privileged run (root)" in w and "RLIMIT_NPROC" in w for w in machine.warnings(ctx)))


class NoiseTest(unittest.TestCase):
    STAT = "cpu  100 10 50 800 20 0 5 15 7 0\ncpu0 50 5 25 400 10 0 2 8 3 0\nintr 1\n"

    def test_steal_is_a_fraction_of_all_cpu_time(self):
        self.assertEqual(machine.parse_stat_cpu(self.STAT), (15, 1000))
        self.assertEqual(machine.parse_stat_cpu("intr 1\n"), (0, 0))

    def test_pressure_reads_the_some_total(self):
        text = "some avg10=1.00 avg60=0.50 avg300=0.10 total=123456\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
        self.assertEqual(machine.parse_pressure_some_us(text), 123456)
        self.assertIsNone(machine.parse_pressure_some_us(""))

    def test_an_entry_under_steal_or_pressure_is_warned_of(self):
        before = {"time": 10.0, "steal": 100, "total": 10_000, "pressure_us": 0}
        quiet = machine.noise_between(before, {"time": 12.0, "steal": 101, "total": 10_400, "pressure_us": 20_000})
        self.assertEqual((quiet["steal_fraction"], quiet["cpu_pressure_fraction"]), (0.0025, 0.01))
        self.assertEqual(machine.noise_warnings(quiet), [])
        noisy = machine.noise_between(before, {"time": 12.0, "steal": 140, "total": 10_400, "pressure_us": 1_000_000})
        self.assertEqual((noisy["steal_fraction"], noisy["cpu_pressure_fraction"]), (0.1, 0.5))
        self.assertEqual(machine.noise_warnings(noisy), [machine.STEAL_WARNING, machine.PRESSURE_WARNING])
        no_psi = machine.noise_between(dict(before, pressure_us=None), dict(before, time=11.0, pressure_us=None))
        self.assertIsNone(no_psi["cpu_pressure_fraction"])
        self.assertEqual(machine.noise_warnings(no_psi), [])

    def test_the_context_names_the_hugepage_mode_and_the_clocksource(self):
        self.assertEqual(machine.bracketed("always [madvise] never"), "madvise")
        ctx = machine.machine_context("quick", {}, support.SCRIPTS)
        self.assertTrue(ctx["transparent_hugepage"])
        self.assertTrue(ctx["clocksource"])


class CgroupTest(unittest.TestCase):
    def test_pids_limit_is_looked_up_through_proc_self_cgroup_leaf_to_root(self):
        v1 = "9:name=systemd:/\n8:pids:/user.slice/session-1.scope\n0::/\n"
        self.assertEqual(machine.pids_cgroup_dirs(v1), ["/sys/fs/cgroup/pids/user.slice/session-1.scope",
                                                        "/sys/fs/cgroup/pids/user.slice", "/sys/fs/cgroup/pids"])
        self.assertEqual(machine.pids_cgroup_dirs("0::/a/b\n"), ["/sys/fs/cgroup/a/b", "/sys/fs/cgroup/a",
                                                                   "/sys/fs/cgroup"])
        self.assertEqual(machine.pids_cgroup_dirs("8:pids:/\n"), ["/sys/fs/cgroup/pids"])
        self.assertEqual(machine.pids_cgroup_dirs("4:memory:/x\n"), [])


class ReportShowsPrivilegeTest(support.ScratchTestCase):
    def report_machine(self, **greenbench):
        with open(support.fixture("run_a.json"), encoding="utf-8") as f:
            doc = json.load(f)
        doc["context"]["greenbench"].update(greenbench)
        path = self.write("run.json", json.dumps(doc))
        run = support.run_script("report", path, "--out", self.tmp, "--no-plots")
        self.assertEqual(run.returncode, 0, run.stderr)
        return {r[""]: r for r in support.markdown_table(run.stdout, "## Machine")}["run as"]

    def test_run_as(self):
        self.assertIn("euid 1000, unprivileged", self.report_machine(euid=1000, privileged=False,
                                                                     privilege="none").values())
        self.assertIn("euid 0, privileged (root): limits above a user's",
                      self.report_machine(euid=0, privileged=True, privilege="root").values())


if __name__ == "__main__":
    unittest.main()
