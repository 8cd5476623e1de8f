"""Imported by the fork server that starts worker processes, and only there
(``abm.experiment.backends.PRELOAD``): how a worker that could not start says so.

A worker is forked from the server and then reads its task from the process that asked for
it. When that process is gone (Ctrl-C during start-up takes its pipes and locks with it), the
worker has nobody to work for and ends without a word; any other failure to start is one line,
never a traceback (the command that asked says what happened).
"""

import sys


def _one_line(kind, value, traceback) -> None:
    if issubclass(kind, OSError | EOFError):
        return
    print(f"abm: a worker could not start ({kind.__name__}: {value})", file=sys.stderr)


sys.excepthook = _one_line
