import subprocess
import sys
from pathlib import Path

import pytest

from abm.config import from_overrides

ROOT = Path(__file__).resolve().parent.parent


def small(*overrides: str):
    """A small, fast town for mechanism tests."""
    return from_overrides(["run.days=10", "city.nodes=400", "offenders.count=100",
                           "police.units=4", "cameras.count=15", *overrides])


def abm_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "abm", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=600)


@pytest.fixture
def root() -> Path:
    return ROOT
