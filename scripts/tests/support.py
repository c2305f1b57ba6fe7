"""Shared by the scripts' tests: where scripts/ and the fixtures are, how to run a
script as a user does (through its #! line: bench_all is a shell script), a test case with a scratch folder, and how to read a table back
out of a Markdown report.

Invariant: importing this module puts scripts/ first on sys.path, so the tests import
the greenbench package of this tree whatever the working folder.
"""

import os
import subprocess
import sys
import tempfile
import unittest

SCRIPTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(SCRIPTS, "tests", "fixtures")
if sys.path[0] != SCRIPTS:
    sys.path.insert(0, SCRIPTS)


def entries_by_name(doc):
    """{entry name: entry} over a document's entries (aggregates under their suffixed name)."""
    return {entry["name"]: entry for entry in doc["benchmarks"]}


def fixture(name):
    """The path of a checked-in fixture."""
    return os.path.join(FIXTURES, name)


def run_script(script, *args, env=None, stdout=subprocess.PIPE):
    """Run scripts/<script> with args as a user does, through its #! line; the
    CompletedProcess, text captured (stdout too, unless given)."""
    return subprocess.run([os.path.join(SCRIPTS, script), *args], stdout=stdout,
                          stderr=subprocess.PIPE, text=True, env=env, timeout=300)


def markdown_table(text, heading):
    """The rows of the first table after the line `heading`, as dicts keyed by header."""
    lines = text.splitlines()
    start = lines.index(heading)
    rows = [line for line in lines[start + 1:]]
    while not rows[0].startswith("|"):
        rows.pop(0)
    table = []
    for line in rows:
        if not line.startswith("|"):
            break
        table.append([c.strip().replace("\\|", "|") for c in line.strip("|").split(" | ")])
    header, body = table[0], table[2:]
    return [dict(zip(header, row)) for row in body]


class ScratchTestCase(unittest.TestCase):
    """A test case with a fresh temporary folder, self.tmp, removed afterwards."""

    def setUp(self):
        self._scratch = tempfile.TemporaryDirectory()
        self.tmp = self._scratch.name

    def tearDown(self):
        self._scratch.cleanup()

    def write(self, name, text):
        """Write text to name in the scratch folder; its path."""
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path
