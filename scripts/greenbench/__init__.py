"""greenbench's Python side: the modules scripts/report, scripts/compare and the suite
driver share, so each rule about results files is written once.

Modules: results (read, check, summarise, merge and write results JSON), units (how a
counter's value is written for people), claims (the notes' claims judged against
results), utest (Mann-Whitney U test), plots (PNG plots; the only user of matplotlib).
Invariant: nothing here imports matplotlib at import time, and nothing here needs more
than Debian's python3 standard library.
"""
