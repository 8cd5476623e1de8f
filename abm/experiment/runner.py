"""The one run loop: tasks go to a backend (worker processes or a Dask cluster) behind one
progress bar. A sweep skips what is finished and records every run; an evaluation or a
validation takes the outcomes of all its runs (``run_all``)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from abm.config import ConfigError
from abm.experiment import store as st
from abm.experiment.backends import Task
from abm.experiment.progress import Progress
from abm.experiment.sweepfile import Sweep
from abm.limits import warn_if_long
from abm.outputs import manifest, write_json, write_text


@dataclass
class Outcome:
    """How a sweep went: runs in total, run now, and failures among all runs."""

    out: Path
    total: int
    skipped: int
    ran: int
    failed: int
    wall_s: float


def _manifest(sweep: Sweep, backend, wall_s: float | None, counts: dict) -> dict:
    data = manifest(sweep.base, wall_s)
    data.update({
        "kind": "sweep",
        "sweep": sweep.name,
        "sweep_file": str(sweep.path),
        "seed": sweep.spec.seed,  # the root seed; each run's seed is in its result
        "base_config_hash": sweep.base.hash(),
        "design": sweep.spec.design.model_dump(mode="json"),
        "parameters": sweep.keys,
        "baseline": sweep.spec.baseline,
        "replicates": sweep.spec.replicates,
        "replicate_seeds": sweep.seeds,
        "vary_city": sweep.spec.vary_city,
        "points": len(sweep.points),
        "backend": backend.describe(),
        **counts,
        "updated": datetime.now(UTC).isoformat(timespec="seconds"),
    })
    return data


class RunFailedError(RuntimeError):
    """A run of an evaluation or a validation failed (not for its input): the whole stops."""


def run_all(tasks: list[Task], backend, desc: str | None = None,
            progress: bool = False) -> list[dict]:
    """Run every task on ``backend`` (entered by the caller) behind the progress bar, and
    return the outcomes in the tasks' order. A failed run stops the rest: bad input as a
    ConfigError, anything else as a RunFailedError."""
    order = {task.run_id: i for i, task in enumerate(tasks)}
    outcomes: list[dict] = [{}] * len(tasks)
    runs = backend.run(tasks)
    try:
        with Progress(len(tasks), desc, shown=progress) as bar:
            for task, outcome in runs:
                if outcome["status"] == st.Status.FAILED:
                    if "input_error" in outcome:
                        raise ConfigError(outcome["input_error"])
                    raise RunFailedError(f"{task.run_id} failed: {outcome['error']}")
                outcomes[order[task.run_id]] = outcome
                bar.advance()
    finally:
        runs.close()  # stops the runs not finished (an interruption or a failure)
    return outcomes


def run_sweep(sweep: Sweep, out: str | Path, backend, *, resume: bool = False,
              retry_failed: bool = False, progress: bool = False,
              echo=print, measures: tuple = ()) -> Outcome:
    """Run every unfinished run of a sweep into ``out`` and write results.parquet; each run
    also records ``measures`` (abm.measures.Measure) beside its summary."""
    started = time.perf_counter()
    store = st.Store(out)
    store.open(resume)
    records = store.load()
    if store.unreadable:
        more = len(store.unreadable) - 1
        print(f"abm: warning: {store.unreadable[0]}{f' and {more} more' if more else ''}: not "
              "a readable run file; running again", file=sys.stderr)
    store.check(sweep, records)
    total = len(sweep.runs)

    def pending(run) -> bool:
        rec = records.get(run.id)
        return rec is None or (retry_failed and rec["status"] == st.Status.FAILED)

    # Replicate by replicate: a stopped sweep has whole replicates of the design to look at.
    todo = sorted((r for r in sweep.runs if pending(r)), key=lambda r: (r.replicate, r.point.index))
    backend.prepare(len(todo))  # workers get ready while the folder is written
    counts = {"runs": total, "runs_ok": None, "runs_failed": None}
    # The manifest first: a folder with content always says what it is.
    write_json(store.root / "manifest.json", _manifest(sweep, backend, None, counts))
    write_text(store.root / "sweep.yaml", sweep.path.read_text(encoding="utf-8"))
    write_text(store.root / "base.yaml", sweep.base.to_yaml())
    st.write_design(store.root, st.design_frame(sweep))
    by_id = {run.id: run for run in todo}
    failed_before = sum(rec["status"] == st.Status.FAILED for rid, rec in records.items()
                        if rid not in by_id)
    code = st.code_version()
    older = sorted({rec.get("code") for rid, rec in records.items() if rec.get("code") != code
                    and rid not in by_id}, key=str)
    if older and todo:
        print(f"abm: warning: finished runs in {store.root} were made by other code "
              f"({', '.join(map(str, older))}; now {code}); results will mix versions",
              file=sys.stderr)
    echo(f"{store.root}: {total} runs ({total - len(todo)} done, {len(todo)} to run) on "
         f"{backend.describe() if todo else 'no workers'}")
    warn_if_long([run.config for run in todo], getattr(backend, "workers", 1), "this sweep")

    with Progress(total, sweep.name, done=total - len(todo), failed=failed_before,
                  shown=progress) as bar:
        tasks = [Task(run.id, run.config.model_dump(mode="json"), tuple(measures))
                 for run in todo]
        for task, result in backend.run(tasks):
            record = st.record(sweep, by_id[task.run_id], result, code)
            store.save(record)
            records[task.run_id] = record
            failed = record["status"] == st.Status.FAILED
            if failed:
                bar.say(f"{task.run_id} failed: {record['error']}")
            bar.advance(failed)

    frame = st.results_frame([records[run.id] for run in sweep.runs if run.id in records])
    st.write_results(store.root, frame)
    failed = int((frame["status"] == st.Status.FAILED).sum()) if len(frame) else 0
    wall = time.perf_counter() - started
    counts = {"runs": total, "runs_ok": len(frame) - failed, "runs_failed": failed}
    write_json(store.root / "manifest.json", _manifest(sweep, backend, wall, counts))
    return Outcome(store.root, total, total - len(todo), len(todo), failed, wall)
