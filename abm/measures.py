"""Figures of a run beyond its summary, computed in the worker that ran the simulation.

A measure is a small typed object: ``of(result)`` computes it on a finished run
(abm.simulate.RunResult) and ``name`` is its column beside the summary figures in a sweep's
results. Evaluations, validation, calibration and discovery send the measures they need with
each run (``abm.experiment.backends.Task``), so a worker hands back a few numbers instead of a
crime table.

A calibration target or a discovery outcome names a figure in its file: a summary figure
(``crimes_total``, ``clearance_rate``, ...) or one of these measures (``parse``):

- ``crimes_days:A-B``: crimes committed from day A to day B (true crime);
- ``recorded_days:A-B``: recorded (reported) crimes committed from day A to day B;
- ``share_top:P``: share of crimes at the P% of places with most crime (the concentration
  profile; Weisburd 2015 reports about 50% at 2-6%).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from abm.cameras import Zone
from abm.config import ConfigError
from abm.units import MINUTES_PER_DAY

PATTERN = re.compile(r"^(crimes_days|recorded_days):(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$"
                     r"|^share_top:(\d+(?:\.\d+)?)$")


class Measure:
    """A figure of a run: ``name`` is its column (by default made from its settings),
    ``of(result)`` its value on a finished run."""

    name: str

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.label())

    def label(self) -> str:
        raise NotImplementedError

    def of(self, result) -> float:
        raise NotImplementedError


def within(crimes: pd.DataFrame, days: float) -> pd.DataFrame:
    """The crimes of a run's first ``days`` days."""
    return crimes[crimes["time_min"] < days * MINUTES_PER_DAY]


@dataclass(frozen=True)
class Crimes(Measure):
    """Crimes committed from day ``start`` up to day ``end``: all of them, those recorded, or
    those that ended in an arrest; everywhere or in one zone."""

    start: float
    end: float = math.inf
    which: Literal["all", "recorded", "arrested"] = "all"
    zone: Zone | None = None
    hours: tuple[int, int] | None = None  # from hour A up to hour B of the day
    name: str = field(default="", compare=False)

    def label(self) -> str:
        kind = {"all": "crimes", "recorded": "recorded", "arrested": "arrests"}[self.which]
        zone = "" if self.zone is None else f"@{Zone(self.zone).label}"
        hours = "" if self.hours is None else f"@{self.hours[0]}-{self.hours[1]}h"
        return f"{kind}_days:{self.start:g}-{self.end:g}{zone}{hours}"

    def of(self, result) -> float:
        crimes = result.crimes
        t = crimes["time_min"]
        inside = (t >= self.start * MINUTES_PER_DAY) & (t < self.end * MINUTES_PER_DAY)
        if self.which != "all":
            inside &= crimes[self.which]
        if self.zone is not None:
            inside &= crimes["zone"] == self.zone
        if self.hours is not None:
            inside &= crimes["hour"].between(self.hours[0], self.hours[1] - 1)
        return float(inside.sum())


@dataclass(frozen=True)
class ShareTop(Measure):
    """Share of crimes at the ``percent``% of places with most crime."""

    percent: float
    name: str = field(default="", compare=False)

    def label(self) -> str:
        return f"share_top:{self.percent:g}"

    def of(self, result) -> float:
        from abm import spatial

        crimes = result.crimes
        if len(crimes) == 0:
            return 0.0
        places = int((result.city or {}).get("nodes") or crimes["node"].max() + 1)
        counts = np.bincount(crimes["node"].to_numpy(), minlength=places)
        return spatial.concentration(counts, self.percent / 100)


@dataclass(frozen=True)
class PlacesFor(Measure):
    """Percent of places that hold ``share`` of the crimes of the first ``days`` days, the
    places with most crime first (Weisburd's law of crime concentration)."""

    share: float
    days: float
    name: str = field(default="", compare=False)

    def label(self) -> str:
        return f"places_for:{self.share:g}@{self.days:g}"

    def of(self, result) -> float:
        crimes = within(result.crimes, self.days)
        counts = np.sort(np.bincount(crimes["node"], minlength=result.places))[::-1]
        cum = np.cumsum(counts) / max(counts.sum(), 1)
        return float((np.searchsorted(cum, self.share) + 1) / result.places * 100)


@dataclass(frozen=True)
class Knox(Measure):
    """Knox ratio of the first ``days`` days: pairs of crimes within ``distance_m`` and
    ``apart_days`` of each other, over the mean with times shuffled (near repeats)."""

    distance_m: float
    apart_days: float
    days: float
    shuffles: int = 20
    name: str = field(default="", compare=False)

    def label(self) -> str:
        return f"knox:{self.distance_m:g}m-{self.apart_days:g}d@{self.days:g}"

    def of(self, result) -> float:
        from scipy.spatial import cKDTree

        crimes = within(result.crimes, self.days)
        points = result.xy[crimes["node"].to_numpy()]
        t = crimes["time_min"].to_numpy() / MINUTES_PER_DAY
        pairs = cKDTree(points).query_pairs(self.distance_m, output_type="ndarray")
        if len(pairs) == 0:
            return math.nan
        observed = np.sum(np.abs(t[pairs[:, 0]] - t[pairs[:, 1]]) <= self.apart_days)
        rng = np.random.default_rng(0)
        expected = np.mean([np.sum(np.abs(s[pairs[:, 0]] - s[pairs[:, 1]]) <= self.apart_days)
                            for s in (rng.permutation(t) for _ in range(self.shuffles))])
        return float(observed / expected) if expected else math.nan


@dataclass(frozen=True)
class HotspotOverlap(Measure):
    """Share of hot-spot patrol's places at the end among the places with most true crime in
    the first ``days`` days (as many of them as patrol has)."""

    days: float
    name: str = field(default="", compare=False)

    def label(self) -> str:
        return f"hotspot_overlap@{self.days:g}"

    def of(self, result) -> float:
        k = len(result.hotspots)
        counts = np.bincount(within(result.crimes, self.days)["node"], minlength=result.places)
        top = np.argsort(-counts, kind="stable")[:k]
        return len(np.intersect1d(top, result.hotspots)) / k if k else math.nan


@dataclass(frozen=True)
class LastCrime(Measure):
    """When the last crime of the run was committed (minutes; NaN without crime)."""

    name: str = field(default="", compare=False)

    def label(self) -> str:
        return "last_crime_min"

    def of(self, result) -> float:
        return float(result.crimes["time_min"].max())


@dataclass(frozen=True)
class CrimesByPlace(Measure):
    """Crimes at each street place (node id): a run's crime map."""

    name: str = field(default="", compare=False)

    def label(self) -> str:
        return "crimes_by_place"

    def of(self, result) -> np.ndarray:
        return np.bincount(result.crimes["node"].to_numpy(), minlength=result.places)


@dataclass(frozen=True)
class Uptime(Measure):
    """Share of the cameras up, from the daily record of days after ``start`` up to ``end``
    (NaN without cameras or days)."""

    start: float
    end: float
    name: str = field(default="", compare=False)

    def label(self) -> str:
        return f"camera_uptime_days:{self.start:g}-{self.end:g}"

    def of(self, result) -> float:
        metrics, count = result.metrics, result.config.cameras.count
        m = metrics[(metrics["day"] > self.start) & (metrics["day"] <= self.end)]
        return float(m["cameras_up_mean"].mean() / count) if len(m) and count else math.nan


@dataclass(frozen=True)
class ResponseArrests(Measure):
    """The log of the response time and the arrest (0 or 1) of each recorded crime of the
    first ``days`` days that police reached: a run's points of the clearance fit (a few
    hundred numbers, not the crime table)."""

    days: float
    name: str = field(default="", compare=False)

    def label(self) -> str:
        return f"response_arrests@{self.days:g}"

    def of(self, result) -> tuple[np.ndarray, np.ndarray]:
        c = within(result.crimes, self.days)
        c = c[c["recorded"] & c["response_time_min"].notna() & (c["response_time_min"] > 0)]
        return np.log(c["response_time_min"].to_numpy()), c["arrested"].to_numpy(dtype=float)


def parse(name: str) -> Measure | None:
    """The measure a file names (None for a summary figure); a malformed name is an error."""
    if ":" not in name:
        return None
    m = PATTERN.match(name)
    if m is None:
        raise ConfigError(f"{name}: not a measure (use a summary figure, crimes_days:A-B, "
                          f"recorded_days:A-B or share_top:P)")
    if m.group(1) and not float(m.group(2)) < float(m.group(3)):
        raise ConfigError(f"{name}: the first day must be before the second")
    if m.group(4) and not 0 < float(m.group(4)) <= 100:
        raise ConfigError(f"{name}: the share must be above 0 and at most 100 percent")
    if m.group(4):
        return ShareTop(float(m.group(4)), name=name)
    which = "recorded" if m.group(1) == "recorded_days" else "all"
    return Crimes(float(m.group(2)), float(m.group(3)), which, name=name)


def computed(names) -> tuple[Measure, ...]:
    """The measures among figure names (summary figures are already in the summary)."""
    return tuple(m for m in map(parse, names) if m is not None)
