"""The sweep folder: a resumable store of one result file per run.

Layout of ``runs/<sweep name>/``:

- ``manifest.json``: provenance (abm.outputs.manifest) plus the sweep's design, seeds, counts;
- ``sweep.yaml``: the sweep file as given; ``base.yaml``: the resolved base scenario;
- ``design.parquet``: one row per design point (values, unrounded samples, baseline point);
- ``runs/<point>-<replicate>.json``: one file per finished run (settings, seed, status,
  error, summary), written atomically: a run is recorded whole or not at all;
- ``results.parquet``: one row per run, rebuilt from the run files at the end of a sweep.

A run whose file exists is finished and is not run again, so a sweep killed at any moment
and started again loses nothing and duplicates nothing.
"""

from __future__ import annotations

import json
import math
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from abm.config import ConfigError
from abm.experiment.sweepfile import Run, Sweep
from abm.outputs import write_json, write_parquet

if TYPE_CHECKING:  # imported where frames are made, once a sweep's workers are starting
    import pandas as pd

RESULT_COLUMNS = ("run", "point", "label")
RUN_COLUMNS = ("replicate", "seed", "baseline_point", "status", "error")


class Status(StrEnum):
    """How a run ended."""

    OK = "ok"
    FAILED = "failed"


class Store:
    """Reads and writes the files of one sweep folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.runs = self.root / "runs"
        self._lock = None
        self.unreadable: list[Path] = []  # run files the last load() could not use

    # --- the folder ------------------------------------------------------------------------

    def is_sweep(self) -> bool:
        try:
            data = json.loads((self.root / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(data, dict) and data.get("kind") == "sweep"

    def open(self, resume: bool) -> None:
        """Claim the folder for writing: it must be new, empty, or hold this kind of sweep."""
        if self.root.exists() and not self.root.is_dir():
            raise ConfigError(f"--out {self.root}: exists and is not a folder")
        existing = self.root.exists() and not self._blank()
        if existing and not self.is_sweep():
            raise ConfigError(f"--out {self.root}: not empty and not a sweep folder")
        if resume and not self.root.exists():
            raise ConfigError(f"--resume: {self.root} holds no sweep to resume")
        try:
            self.runs.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"--out {self.root}: cannot write ({exc.strerror or exc})") from None
        self._claim()
        for leftover in [*self.root.glob(".*.tmp"), *self.runs.glob(".*.tmp")]:
            leftover.unlink(missing_ok=True)  # half-written files of a killed sweep

    def _blank(self) -> bool:
        """Nothing but what a sweep killed before writing its manifest leaves behind."""
        for entry in self.root.iterdir():
            if entry.name == ".lock" or (entry.name.startswith(".") and entry.suffix == ".tmp"):
                continue
            if entry == self.runs and entry.is_dir() and not any(entry.iterdir()):
                continue
            return False
        return True

    def _claim(self) -> None:
        """One sweep writes to a folder at a time (the lock dies with its process)."""
        try:
            import fcntl
        except ImportError:  # not on this platform: no guard
            return
        self._lock = open(self.root / ".lock", "w")  # noqa: SIM115 (held until exit)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ConfigError(f"--out {self.root}: another sweep is writing to it") from None

    # --- run files -------------------------------------------------------------------------

    def path(self, run_id: str) -> Path:
        return self.runs / f"{run_id}.json"

    def load(self) -> dict[str, dict]:
        """Every finished run's record, by run id. Files that cannot be read or do not hold a
        run record are left out and listed in ``unreadable`` (a sweep runs them again; a
        report refuses to leave them out silently)."""
        records = {}
        self.unreadable = []
        for file in sorted(self.runs.glob("p*-r*.json")):
            try:
                record = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                record = None
            if is_record(record) and record["run"] == file.stem:
                records[file.stem] = record
            else:
                self.unreadable.append(file)
        return records

    def check(self, sweep: Sweep, records: dict[str, dict]) -> None:
        """Refuse to mix runs of different sweeps in one folder (more replicates are fine)."""
        expected = {run.id: run for run in sweep.runs}
        for run_id, record in records.items():
            run = expected.get(run_id)
            if run is None or record.get("config_hash") != run.config_hash:
                raise ConfigError(
                    f"--out {self.root}: holds results of another sweep (run {run_id} "
                    "differs); use another --out or remove the folder")

    def save(self, record: dict) -> None:
        write_json(self.path(record["run"]), record)


# The fields of a run file that reports and resumes read, and their types.
RECORD_FIELDS = {"run": str, "point": int, "label": str, "replicate": int, "seed": int,
                 "parameters": dict, "baseline_point": (int, type(None)), "config_hash": str,
                 "status": str, "summary": (dict, type(None))}


def is_record(data: Any) -> bool:
    """Whether ``data`` is a run record as ``record`` writes it."""
    if not isinstance(data, dict):
        return False
    for key, kind in RECORD_FIELDS.items():
        value = data.get(key)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            return False
    return data["status"] in set(Status)


def record(sweep: Sweep, run: Run, outcome: dict, code: str) -> dict:
    """The result file of one run; ``code`` names the version of the model that ran it."""
    return {
        "run": run.id,
        "point": run.point.index,
        "label": run.point.label,
        "replicate": run.replicate,
        "seed": run.seed,
        "parameters": sweep.values[run.point.index],
        "baseline_point": sweep.references[run.point.index],
        "config_hash": run.config_hash,
        "status": Status(outcome["status"]).value,
        "error": outcome.get("error"),
        "wall_s": outcome.get("wall_s"),
        "code": code,
        "summary": None if outcome.get("summary") is None else clean(
            {**outcome["summary"], **outcome.get("measures", {})}),
    }


def code_version() -> str:
    """Package version and git commit of the running code (kept with every run)."""
    import abm
    from abm.outputs import git_commit

    commit = git_commit()
    return f"{abm.__version__}+{commit[:12]}" if commit else abm.__version__


def results_frame(records: list[dict]) -> pd.DataFrame:
    """One row per run record, in design order, with every summary figure as a column.

    Built from the records alone (no wall times), so the same sweep gives the same table
    however it was run, split or resumed.
    """
    import pandas as pd

    rows = []
    for rec in sorted(records, key=lambda r: (r["point"], r["replicate"])):
        rows.append({"run": rec["run"], "point": rec["point"], "label": rec["label"],
                     **rec["parameters"], "replicate": rec["replicate"], "seed": rec["seed"],
                     "baseline_point": rec["baseline_point"], "status": rec["status"],
                     "error": rec.get("error"), **(rec.get("summary") or {})})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=[*RESULT_COLUMNS, *RUN_COLUMNS])
    frame["seed"] = frame["seed"].astype("int64")
    frame["baseline_point"] = frame["baseline_point"].astype("Int64")
    return frame


def design_frame(sweep: Sweep) -> pd.DataFrame:
    """One row per design point: effective values, unrounded samples, baseline point."""
    import pandas as pd

    rows = []
    for point, values, ref in zip(sweep.points, sweep.values, sweep.references, strict=True):
        row = {"point": point.index, "label": point.label, **values,
               **{f"sample:{k}": v for k, v in point.sample.items()}, "baseline_point": ref}
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["baseline_point"] = frame["baseline_point"].astype("Int64")
    return frame


def clean(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities become null (result files are strict JSON)."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalar
        return clean(value.item())
    return value


def write_results(root: Path, frame: pd.DataFrame) -> None:
    write_parquet(root / "results.parquet", frame)


def write_design(root: Path, frame: pd.DataFrame) -> None:
    write_parquet(root / "design.parquet", frame)
