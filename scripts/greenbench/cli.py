"""What every entry point (bench_all, report, compare) does the same way: exit with its
main()'s status, end quietly when the reader of its output goes away, and read
percentage and positive-number flags.

Invariant: a closed stdout (`scripts/compare A B | head`) never prints a traceback; the
process exits with 141, the status a shell gives a program SIGPIPE ended.
"""

import argparse
import math
import os
import signal
import sys

EXIT_PIPE_CLOSED = 128 + signal.SIGPIPE


def run(main):
    """Call main() and exit with its status."""
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would flush stdout again at exit and fail the same way: point it at
        # /dev/null first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = EXIT_PIPE_CLOSED
    sys.exit(status)


def percentage(text):
    """argparse type: a non-negative percentage, returned as a fraction."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"must be a non-negative percentage: {text!r}")
    return value / 100.0


def positive(text):
    """argparse type: a positive finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value
