"""A compare pair over replicate seeds: run B against run A through the sweep runner.

A pair is two scenarios that differ only in some settings (B's changes to A). It runs as a
two-point sweep (``abm sweep``'s list design) with A as the baseline: the same city for every
replicate, and replicate r of A and of B with the same seed (common random numbers), so each
figure's difference is taken seed by seed and its 95% interval is that of the paired
differences. The sweep folder is named by the pair's contents, so a pair asked for again
(another student opening the same lesson step) reads the finished runs instead of running
them again, and a pair stopped half way goes on where it stopped.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from abm.config import Config, ConfigError

if TYPE_CHECKING:  # pandas and scipy load when a pair runs, not when lessons are read
    import pandas as pd

# Directions of a difference, as lessons claim them: the 95% interval of B - A lies above
# zero (up), below zero (down), or holds zero (same: no difference the replicates can show).
UP, DOWN, SAME = "up", "down", "same"
DIRECTIONS = (UP, DOWN, SAME)
A_LABEL, B_LABEL = "A", "B"


class CancelledError(Exception):
    """The pair was stopped before every run finished (finished runs are kept)."""


@dataclass(frozen=True)
class Pair:
    """Run B against run A over ``replicates`` seeds spawned from ``seed``; without A, B's
    replicates alone (its figures with intervals, no difference)."""

    a: Config | None
    b: Config
    replicates: int = 8
    seed: int = 0

    @property
    def base(self) -> Config:
        return self.a if self.a is not None else self.b

    def changes(self) -> dict[str, Any]:
        """B's settings that differ from A's, as dotted keys (the timeline as a whole)."""
        return self.base.differences(self.b)

    def sweep_text(self) -> str:
        """The sweep file that runs the pair (its base scenario, A, is written beside it)."""
        points = [{"label": B_LABEL, "set": {}}]
        spec: dict[str, Any] = {"name": self.name, "base": f"{self.name}.base.yaml"}
        if self.a is not None:
            points = [{"label": A_LABEL, "set": {}}, {"label": B_LABEL, "set": self.changes()}]
            spec["baseline"] = {"label": A_LABEL}
        spec.update({"design": {"kind": "list", "points": points},
                     "replicates": self.replicates, "seed": self.seed})
        return yaml.safe_dump(spec, sort_keys=False)

    @property
    def name(self) -> str:
        """Named by what runs: the base scenario (its name aside), B's changes, the seeds."""
        base = self.base.model_copy(update={"run": self.base.run.model_copy(
            update={"name": None})})
        text = (base.to_yaml() + yaml.safe_dump(self.changes(), sort_keys=True)
                + f"{self.a is None}|{self.replicates}|{self.seed}")
        return "pair-" + hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Figure:
    """One summary figure of a pair: A and B (mean, 95% interval) and B - A seed by seed."""

    key: str
    a: tuple[int, float, float, float]
    b: tuple[int, float, float, float]
    diff: tuple[int, float, float, float]

    @property
    def direction(self) -> str:
        """up, down or same; same also when fewer than two pairs give an interval."""
        n, _, lo, hi = self.diff
        if n >= 2 and lo > 0:
            return UP
        if n >= 2 and hi < 0:
            return DOWN
        return SAME

    @property
    def relative(self) -> float:
        """B - A as a share of A's mean (NaN when A's mean is zero or unknown)."""
        base = self.a[1]
        return self.diff[1] / base if base and math.isfinite(base) else math.nan


@dataclass
class PairResult:
    """What the replicates gave: each run's summary, and figures with intervals."""

    pair: Pair
    runs: pd.DataFrame  # one row per finished run: label (A or B), seed, summary figures
    folder: Path
    failed: int = 0
    figures: dict[str, Figure] = field(default_factory=dict)

    def figure(self, key: str) -> Figure:
        """A summary figure, or a ratio of two (``crimes_reported / crimes_total``)."""
        if key not in self.figures:
            self.figures[key] = _figure(self.runs, key)
        return self.figures[key]

    def csv(self) -> str:
        """The runs as CSV: one row per run, every summary figure a column."""
        return self.runs.to_csv(index=False)


def values(runs: pd.DataFrame, key: str) -> pd.Series:
    """One figure per run (NaN where a run has none), by seed; ``a / b`` is a ratio."""
    if "/" in key:
        top, bottom = (part.strip() for part in key.split("/", 1))
        num, den = values(runs, top), values(runs, bottom)
        return num / den.where(den != 0)
    import pandas as pd

    if key not in runs.columns:
        raise ConfigError(f"{key}: not a summary figure")
    return pd.to_numeric(runs[key], errors="coerce").astype(float)


def _figure(runs: pd.DataFrame, key: str) -> Figure:
    from abm.experiment.stats import interval

    a = runs[runs["label"] == A_LABEL].set_index("seed")
    b = runs[runs["label"] == B_LABEL].set_index("seed")
    va, vb = values(a, key), values(b, key)
    seeds = va.index.intersection(vb.index)
    diff = (vb.loc[seeds] - va.loc[seeds]).to_numpy(dtype=float)
    return Figure(key, interval(va.to_numpy()), interval(vb.to_numpy()), interval(diff))


def folder_for(root: Path, pair: Pair) -> Path:
    return Path(root) / pair.name


# One pair runs into a folder at a time in this process; a second asker waits, then reads.
_folder_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock(folder: Path) -> threading.Lock:
    with _locks_guard:
        return _folder_locks.setdefault(folder.resolve(), threading.Lock())


class _Watched:
    """A sweep backend that reports each finished run and stops when asked."""

    def __init__(self, inner, on_run: Callable[[int, int], None] | None,
                 stop: threading.Event | None, done: int, total: int) -> None:
        self.inner, self.on_run, self.stop = inner, on_run, stop
        self.done, self.total = done, total

    def describe(self) -> str:
        return self.inner.describe()

    def __enter__(self) -> _Watched:
        self.inner.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.inner.__exit__(*exc)

    def prepare(self, runs: int) -> None:
        self.inner.prepare(runs)

    def run(self, tasks):
        if self.stop is not None and self.stop.is_set():
            raise CancelledError()
        runs = self.inner.run(tasks)
        try:
            for item in runs:
                self.done += 1
                if self.on_run is not None:
                    self.on_run(self.done, self.total)
                yield item
                if self.stop is not None and self.stop.is_set():
                    raise CancelledError()
        finally:
            runs.close()  # stops the workers' remaining runs


class WarmBackend:
    """Sweep runs on worker processes kept from one pair to the next.

    The app runs many small pairs, one after another; starting fresh interpreters for each
    costs more than its runs. The workers start on first use (from the fork server, safe from
    the app's threads) and live as long as this process.
    """

    _pool = None
    _guard = threading.Lock()

    def __init__(self, workers: int | None = None) -> None:
        from abm.experiment.backends import default_workers

        self.workers = workers or default_workers()

    def describe(self) -> str:
        return f"{self.workers} warm local worker{'s' * (self.workers > 1)}"

    def __enter__(self) -> WarmBackend:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def prepare(self, runs: int) -> None:
        """Nothing to start ahead: the workers start on first use and stay."""

    @classmethod
    def _executor(cls, workers: int):
        from abm.experiment.backends import WorkerPool

        with cls._guard:
            if cls._pool is None:
                cls._pool = WorkerPool(workers)
            return cls._pool

    def run(self, tasks):
        from concurrent.futures import as_completed
        from concurrent.futures.process import BrokenProcessPool

        from abm.experiment.backends import WorkerLostError, execute

        pool = self._executor(self.workers)
        futures = {pool.submit(execute, task): task for task in tasks}
        try:
            for future in as_completed(futures):
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    with self._guard:
                        type(self)._pool = None  # a fresh pool next time
                    raise WorkerLostError("a worker process died; finished runs are kept") \
                        from None
                yield futures[future], outcome
        finally:
            for future in futures:
                future.cancel()  # runs not started yet


def run_pair(pair: Pair, root: str | Path, workers: int | None = None,
             on_run: Callable[[int, int], None] | None = None,
             stop: threading.Event | None = None, backend=None) -> PairResult:
    """Run (or read back) every replicate of A and B; ``on_run(done, total)`` after each run.

    ``backend`` runs the sweep (default: a fresh pool of local workers). Raises
    CancelledError when ``stop`` is set before the end, ConfigError for a pair that is not a
    valid sweep (e.g. B changes the seed).
    """
    from abm.experiment.backends import LocalBackend, default_workers
    from abm.experiment.runner import run_sweep
    from abm.experiment.store import Store
    from abm.experiment.sweepfile import load_sweep
    from abm.outputs import write_text

    if "run.seed" in pair.changes():
        raise ConfigError("compare: both runs of a pair share the seed (run.seed differs)")
    root = Path(root)
    out = folder_for(root, pair)
    with _lock(out):
        sweep_file = root / f"{pair.name}.yaml"
        base = root / f"{pair.name}.base.yaml"
        if not sweep_file.exists():
            root.mkdir(parents=True, exist_ok=True)
            write_text(base, pair.base.to_yaml())
            write_text(sweep_file, pair.sweep_text())
        sweep = load_sweep(sweep_file)
        total = len(sweep.runs)
        done = len(Store(out).load()) if out.is_dir() else 0
        if on_run is not None:
            on_run(done, total)
        count = workers or min(default_workers(), max(1, total - done))
        watched = _Watched(backend or LocalBackend(count), on_run, stop, done, total)
        with watched:
            outcome = run_sweep(sweep, out, watched, echo=lambda *_: None)
    import pandas as pd

    from abm.experiment.store import Status

    frame = pd.read_parquet(outcome.out / "results.parquet")
    ok = frame[frame["status"] == Status.OK].reset_index(drop=True)
    return PairResult(pair, ok, outcome.out, failed=int(len(frame) - len(ok)))


def read_pair(pair: Pair, root: str | Path) -> PairResult | None:
    """A pair's result if every one of its runs is finished on disk, else None (runs
    nothing)."""
    from abm.experiment.store import Status, Store, results_frame

    out = folder_for(Path(root), pair)
    if not out.is_dir():
        return None
    records = Store(out).load()
    expected = pair.replicates * (1 if pair.a is None else 2)
    if len(records) < expected:
        return None
    frame = results_frame(list(records.values()))
    ok = frame[frame["status"] == Status.OK].reset_index(drop=True)
    return PairResult(pair, ok, out, failed=int(len(frame) - len(ok)))


def agrees(result: PairResult, key: str, claim: str | list[float]) -> bool:
    """Whether a claim holds over the replicates: a direction of B - A (up, down, same), or
    a range [low, high] that B's mean lies in."""
    figure = result.figure(key)
    if isinstance(claim, str):
        return figure.direction == claim
    low, high = claim
    mean = figure.b[1]
    return bool(np.isfinite(mean) and low <= mean <= high)
