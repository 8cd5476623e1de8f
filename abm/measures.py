"""Figures of a run beyond its summary, by name, for calibration targets.

A name is a summary figure (``crimes_total``, ``clearance_rate``, ...) or one of:

- ``crimes_days:A-B``: crimes committed from day A to day B (true crime);
- ``recorded_days:A-B``: recorded (reported) crimes committed from day A to day B;
- ``share_top:P``: share of crimes at the P% of places with most crime (the concentration
  profile; Weisburd 2015 reports about 50% at 2-6%).

Names double as column names in a sweep's results, so a figure is computed in the worker that
ran the simulation and travels with its summary.
"""

from __future__ import annotations

import re

import numpy as np

from abm.config import ConfigError
from abm.units import MINUTES_PER_DAY

PATTERN = re.compile(r"^(crimes_days|recorded_days):(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$"
                     r"|^share_top:(\d+(?:\.\d+)?)$")


def check(name: str) -> bool:
    """Whether ``name`` is a computed measure (True) rather than a summary figure (False);
    a malformed computed name is an error."""
    if ":" not in name:
        return False
    m = PATTERN.match(name)
    if m is None:
        raise ConfigError(f"{name}: not a measure (use a summary figure, crimes_days:A-B, "
                          f"recorded_days:A-B or share_top:P)")
    if m.group(1) and not float(m.group(2)) < float(m.group(3)):
        raise ConfigError(f"{name}: the first day must be before the second")
    if m.group(4) and not 0 < float(m.group(4)) <= 100:
        raise ConfigError(f"{name}: the share must be above 0 and at most 100 percent")
    return True


def measure(name: str, result) -> float:
    """The value of a computed measure on a run result (abm.simulate.RunResult)."""
    from abm import spatial

    check(name)
    m = PATTERN.match(name)
    crimes = result.crimes
    if m.group(1):
        start, end = float(m.group(2)) * MINUTES_PER_DAY, float(m.group(3)) * MINUTES_PER_DAY
        inside = (crimes["time_min"] >= start) & (crimes["time_min"] < end)
        if m.group(1) == "recorded_days":
            inside &= crimes["recorded"]
        return float(inside.sum())
    if len(crimes) == 0:
        return 0.0
    places = int((result.city or {}).get("nodes") or crimes["node"].max() + 1)
    counts = np.bincount(crimes["node"].to_numpy(), minlength=places)
    return spatial.concentration(counts, float(m.group(4)) / 100)


def measure_all(names, result) -> dict[str, float]:
    """The computed measures among ``names`` (summary figures are already in the summary)."""
    return {name: measure(name, result) for name in names if check(name)}
