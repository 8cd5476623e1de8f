"""Time of day: when offenders are out, when targets are exposed, and when police are on duty.

Crime follows the clock: it is lowest before dawn and peaks in the afternoon and evening
(Felson & Poulsen 2003). Offenders' routines set when they leave a place; targets are exposed
when their guardians are away (homes in the working day: Coupe & Blake 2006; shops while open;
streets of the night-time economy at night: Newton & Hirschfield 2009; street robbery in the
hours of darkness: Tompson & Bowers 2013). Each profile is 24 hourly weights (hour 0 is midnight
to 1 am) scaled to a mean of 1, so a profile moves crime between hours without changing a day's
total; a flat profile is the model without a clock.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

import numpy as np

from abm.streets import LandUse
from abm.units import HOURS_PER_DAY as HOURS
from abm.units import MINUTES_PER_DAY, MINUTES_PER_HOUR, hour_of


def scaled(weights: Sequence[float]) -> np.ndarray:
    """Hourly weights scaled to a mean of 1."""
    w = np.asarray(weights, dtype=float)
    return w * (HOURS / w.sum())


def is_flat(weights: Sequence[float] | None) -> bool:
    return weights is None or len(set(weights)) == 1


class Hazard:
    """A rate that changes by the hour, repeating daily: rate(t) = base x weight[hour(t)].

    ``wait`` turns one exponential draw into the time until the next event, exactly (the
    inverse of the cumulative hazard, hour by hour), so a place's stay keeps its mean length
    where the weights average 1 and falls at the hours when people leave.
    """

    def __init__(self, weights: Sequence[float]) -> None:
        # Python floats: a wait is worked out at every arrival, where numpy scalars cost more.
        self.weights = scaled(weights).tolist()
        # Cumulative hazard (in weight-hours) at the start of each hour of a day, and a day's.
        self.cumulative = [0.0, *np.cumsum(self.weights).tolist()]
        self.per_day = self.cumulative[-1]

    def wait(self, now: float, draw: float, mean_min: float) -> float:
        """Minutes from ``now`` until an event of a process whose rate is ``weight / mean_min``
        per minute, given a standard exponential ``draw``."""
        need = draw * mean_min / MINUTES_PER_HOUR  # in weight-hours
        day_start = math.floor(now / MINUTES_PER_DAY) * MINUTES_PER_DAY
        into = (now - day_start) / MINUTES_PER_HOUR  # hours into the day
        hour = min(int(into), HOURS - 1)
        done = self.cumulative[hour] + (into - hour) * self.weights[hour]
        days, rest = divmod(done + need, self.per_day)
        # The hour whose span of cumulative hazard holds it (its weight is above 0).
        h = min(bisect_right(self.cumulative, rest) - 1, HOURS - 1)
        at = h + (rest - self.cumulative[h]) / self.weights[h]
        return (day_start + (days * HOURS + at) * MINUTES_PER_HOUR) - now


class Clock:
    """The hours of the model's day, as its settings give them (``daytime``)."""

    def __init__(self, settings) -> None:
        on = settings.clock
        self.leaving = Hazard(settings.offenders_out) if on and not is_flat(
            settings.offenders_out) else None
        uses = [use.name.lower() for use in LandUse]
        table = np.array([scaled(settings.targets_exposed[use]) for use in uses]).T  # (24, 4)
        self._exposure = table if on and not np.all(table == 1.0) else None
        duty = settings.police_on_duty
        self._duty = np.asarray(duty, dtype=float) if on and duty is not None and any(
            share != 1.0 for share in duty) else None

    def stay(self, now: float, mean_h: float, random) -> float:
        """Minutes until someone at a place since ``now`` leaves it: exponential with a mean
        of ``mean_h`` hours when the hour does not matter, else by the hazard of leaving."""
        if self.leaving is None:
            return random.expovariate(1.0 / (mean_h * 60.0))
        return self.leaving.wait(now, random.expovariate(1.0), mean_h * 60.0)

    def stay_under_way(self, now: float, mean_h: float, random) -> float:
        """Minutes until someone leaves a place where they already were when the run began:
        a uniform part of a mean stay when the hour does not matter, else the rest of a stay
        by the hazard of leaving (one draw either way)."""
        u = random.random()
        if self.leaving is None:
            return u * mean_h * 60.0
        return self.leaving.wait(now, -math.log(1.0 - u), mean_h * 60.0)

    @property
    def exposes(self) -> bool:
        """Whether how exposed targets are changes by the hour."""
        return self._exposure is not None

    def exposure(self, now: float) -> np.ndarray:
        """How exposed targets are at ``now`` by land use (indexed by LandUse)."""
        return self._exposure[hour_of(now)]

    def exposed_by_hour(self, uses: np.ndarray, weights: np.ndarray) -> list[float]:
        """Places' weights (such as their attractiveness) summed as exposed at each hour of
        the day, by their land ``uses``: summed by land use first, then weighed by hour."""
        by_use = np.bincount(uses, weights=weights, minlength=len(LandUse))
        return (self._exposure @ by_use).tolist()

    def on_duty(self, now: float) -> float:
        """Share of the police units on duty at ``now``."""
        return 1.0 if self._duty is None else float(self._duty[hour_of(now)])

    @property
    def shifts(self) -> bool:
        """Whether the units on duty change by the hour."""
        return self._duty is not None
