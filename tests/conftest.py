import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from abm.config import from_overrides

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "abm/configs/sweeps/smoke.yaml"


def small(*overrides: str):
    """A small, fast town for mechanism tests."""
    return from_overrides(["run.days=10", "city.nodes=400", "offenders.count=100",
                           "police.units=4", "cameras.count=15", *overrides])


def abm_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "abm", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=600)


def smoke_sweep(out: Path, *args: str, sweep: Path = SMOKE) -> subprocess.CompletedProcess:
    """`abm sweep` of the smoke sweep (or another sweep file) into ``out``, which must
    succeed."""
    done = abm_cli("sweep", str(sweep), "--out", str(out), *args)
    assert done.returncode == 0, done.stderr
    return done


def sweep_results(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "results.parquet")


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def pair_cache(tmp_path_factory) -> Path:
    """One folder of compare-pair sweeps for the whole test session: a lesson step run by one
    test (its claims) is read back, not run again, by another (the browser's lesson)."""
    return tmp_path_factory.mktemp("pairs")
