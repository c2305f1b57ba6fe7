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
