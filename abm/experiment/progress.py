"""The progress bar of every loop of runs (sweeps, evaluations, validation) and of one run.

Shown on a terminal only (stderr), so piped or logged output stays clean; failures, when
counted, are shown beside it.
"""

from __future__ import annotations

import sys


class Progress:
    """Runs (or simulated days) done out of ``total``; does nothing when not ``shown``."""

    def __init__(self, total: float, desc: str | None = None, *, done: float = 0,
                 unit: str = "run", failed: int | None = None, shown: bool | None = None,
                 delay: float = 0.0) -> None:
        self.bar = None
        self.failed = failed
        if (sys.stderr.isatty() if shown is None else shown) and total > done:
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, unit=unit, file=sys.stderr, desc=desc,
                            dynamic_ncols=True, delay=delay)
            if failed is not None:
                self.bar.set_postfix(failed=failed)

    def advance(self, failed: bool = False) -> None:
        """One more run done (a failed one, if so)."""
        if failed and self.failed is not None:
            self.failed += 1
        if self.bar is not None:
            self.bar.update(1)
            if self.failed is not None:
                self.bar.set_postfix(failed=self.failed)

    def reach(self, done: float) -> None:
        """Done so far (days of a run, say)."""
        if self.bar is not None:
            self.bar.update(done - self.bar.n)

    def say(self, message: str) -> None:
        """A line on stderr that does not break the bar."""
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
