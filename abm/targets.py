"""Suitable targets: where offenders find one on their way, and how often.

Each place passed offers a target, independently of the others, with chance 1 - exp(-hazard):
the opportunity rate times the place's attractiveness and the background trend, plus what
recent crimes nearby add (near repeats, the flag account; Johnson & Bowers 2004).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from abm.units import MINUTES_PER_DAY

if TYPE_CHECKING:
    from abm.model import SafeCityModel


class Targets:
    """The opportunity hazard along routes, with the background trend and near repeats."""

    def __init__(self, model: SafeCityModel) -> None:
        self.model = model
        self.trend = 1.0  # exogenous multiplier on offending (1 = none), compounded daily
        self.near_repeats = NearRepeats(model)

    def hazard(self, nodes: np.ndarray, now: float, attractiveness: np.ndarray | None = None,
               exposure: np.ndarray | None = None, uses: np.ndarray | None = None) -> np.ndarray:
        """Hazard of meeting a suitable target at each place passed: the chance of one is
        1 - exp(-hazard), close to the hazard itself when small.

        ``attractiveness`` may be given for the places when the caller has it at hand;
        ``exposure`` (by land use) weighs it by the hour, with the places' land ``uses``.
        """
        if attractiveness is None:
            attractiveness = self.model.city.attractiveness[nodes]
        if exposure is not None:
            if uses is None:
                uses = self.model.city.land_use[nodes]
            attractiveness = attractiveness * exposure[uses]
        rate = self.model.config.offenders.opportunity_rate * self.trend
        return rate * attractiveness + self.near_repeats.extra(nodes, now)

    def met(self, nodes: np.ndarray, now: float, attractiveness: np.ndarray,
            total_attractiveness: float, exposure: np.ndarray | None = None,
            uses: np.ndarray | None = None,
            boost: tuple[np.ndarray, float] | None = None) -> list[int]:
        """Where along a route suitable targets turn up (indices into ``nodes``), each place
        independently with chance 1 - exp(-hazard); ``total_attractiveness`` is the places'
        attractiveness summed as the hazard weighs it (by ``exposure``, if given), with
        ``boost`` (``extra`` times ``fade``: what an offender's remembered crimes add to the
        places' attractiveness) included. The boost is added place by place only when
        targets may turn up, as the sums alone decide most trips.

        Drawn as the places where the hazard summed along the route first reaches successive
        exponential clocks (restarted after each place with a target): exactly that chance,
        and a single draw for the many trips that meet nothing.
        """
        random = self.model.random
        clock = random.expovariate(1.0)
        base = self.model.config.offenders.opportunity_rate * self.trend * total_attractiveness
        near = self.near_repeats
        if clock > base + near.most(len(nodes), now) or clock > base + near.total(nodes, now):
            return []
        if boost is not None:
            attractiveness = attractiveness + boost[0] * boost[1]
        summed = np.cumsum(self.hazard(nodes, now, attractiveness, exposure, uses))
        hits = []
        while clock <= summed[-1]:
            i = int(np.searchsorted(summed, clock))
            hits.append(i)
            clock = summed.item(i) + random.expovariate(1.0)
        return hits

    def crime_at(self, node: int, now: float) -> None:
        """A crime raises the chance of targets near it for a while."""
        self.near_repeats.record(node, now)


class NearRepeats:
    """Raised risk near recent crimes, decaying with time (Johnson & Bowers 2004).

    Each crime adds a fixed chance of finding a target at every place within the radius, fading
    exponentially: a self-exciting process (as in Mohler et al. 2011). The excitation is added
    to, not multiplied with, a place's own attractiveness, so busy places do not feed on
    themselves without bound.

    Kept as each place's sum over crimes nearby of exp((crime time - origin) / tau): the
    excitation now is that sum times one factor, exp((origin - now) / tau), so many places
    are read with one lookup. The origin moves forward before the sums grow large.
    """

    REBASE_TAUS = 50.0  # move the origin when the newest weight would exceed e**50

    def __init__(self, model: SafeCityModel) -> None:
        s = model.config.offenders
        self.model = model
        self.excitation = s.near_repeat_excitation
        self.radius = s.near_repeat_radius_m
        self.tau = s.near_repeat_days * MINUTES_PER_DAY
        self.weight = np.zeros(model.city.n)
        self.origin = 0.0
        self.highest = 0.0  # the largest weight: a place's weight only ever grows

    def _scale(self, now: float) -> float:
        """What a unit of weight adds now."""
        return self.excitation * math.exp((self.origin - now) / self.tau)

    def most(self, count: int, now: float) -> float:
        """No less than the chance added at any ``count`` places now, summed."""
        if self.excitation == 0:
            return 0.0
        return self._scale(now) * self.highest * count

    def extra(self, nodes: np.ndarray, now: float) -> np.ndarray | float:
        """Chance of a target added at these places now."""
        if self.excitation == 0:
            return 0.0
        return self._scale(now) * self.weight[nodes]

    def total(self, nodes: np.ndarray, now: float) -> float:
        """The chance added at these places now, summed."""
        if self.excitation == 0:
            return 0.0
        return self._scale(now) * float(self.weight[nodes].sum())

    def record(self, node: int, now: float) -> None:
        if self.excitation == 0 or self.radius == 0:
            return
        if now - self.origin > self.REBASE_TAUS * self.tau:
            shrink = math.exp((self.origin - now) / self.tau)
            self.weight *= shrink
            self.highest *= shrink
            self.origin = now
        near = self.model.city.within(node, self.radius)
        self.weight[near] += math.exp((now - self.origin) / self.tau)
        self.highest = max(self.highest, float(self.weight[near].max()))
