"""What every entry point (bench_all, report, compare) does the same way: exit with its
main()'s status, and end quietly when the reader of its output goes away.

Invariant: a closed stdout (`scripts/compare A B | head`) never prints a traceback; the
process exits with 141, the status a shell gives a program SIGPIPE ended.
"""

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
