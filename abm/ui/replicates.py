"""Replicates in the background: a compare pair over several seeds while the live pair plays.

The live runs on the map are one history each; the figures a user may quote come from here:
run A and run B over the replicate seeds (abm.comparison, through the sweep runner, in worker
processes), with each difference's 95% interval. One job per browser tab and purpose; asking for
another pair stops the one running (its finished runs stay on disk and are read back when the
same pair is asked for again).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import solara

from abm.comparison import CancelledError, Pair, PairResult, WarmBackend, run_pair
from abm.config import ConfigError

log = logging.getLogger(__name__)

# Where the pairs' sweep folders go (ABM_PAIRS_DIR moves them); shared by every tab, so a pair
# one student ran is read back for the next.
PAIRS_DIR = Path(os.environ.get("ABM_PAIRS_DIR") or Path("runs") / "app-pairs")


class Replicates:
    """One background pair at a time: its progress, its result or the reason it failed."""

    def __init__(self, root: Path | None = None, workers: int | None = None) -> None:
        self.root = Path(root) if root is not None else PAIRS_DIR
        self.workers = workers
        self.progress = solara.reactive((0, 0))  # (runs finished, runs in all)
        self.result: solara.Reactive[PairResult | None] = solara.reactive(None)
        self.error = solara.reactive("")
        self.pair: Pair | None = None
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, pair: Pair) -> None:
        """Run ``pair`` unless it is the pair already running or done."""
        if self.pair is not None and pair.name == self.pair.name and (
                self.running or self.result.value is not None):
            return
        self.cancel()
        self.pair = pair
        self.result.set(None)
        self.error.set("")
        total = pair.replicates * (1 if pair.a is None else 2)
        self.progress.set((0, total))
        stop = self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(pair, stop), daemon=True,
                                        name="abm-replicates")
        self._thread.start()

    def cancel(self) -> None:
        """Stop the running pair (after the run in hand) and forget it."""
        if self._stop is not None:
            self._stop.set()
        self._stop = None
        self.pair = None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running pair (tests, and `run to end`); True if it finished."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.running

    def _current(self, pair: Pair, stop: threading.Event) -> bool:
        return not stop.is_set() and self.pair is pair

    def _run(self, pair: Pair, stop: threading.Event) -> None:
        def on_run(done: int, total: int) -> None:
            if self._current(pair, stop):
                self.progress.set((done, total))

        try:
            result = run_pair(pair, self.root, on_run=on_run, stop=stop,
                              backend=WarmBackend(self.workers))
        except CancelledError:
            return
        except ConfigError as exc:
            if self._current(pair, stop):
                self.error.set(str(exc))
            return
        except Exception as exc:  # keep the app up; the server log has the traceback
            log.exception("replicates failed")
            if self._current(pair, stop):
                self.error.set(f"the replicates stopped: {exc.__class__.__name__}: {exc}")
            return
        if self._current(pair, stop):
            self.result.set(result)
