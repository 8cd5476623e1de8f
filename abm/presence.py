"""Where visible police deter offenders now: around a unit at a patrol stop or a scene, from
its arrival until its stay, and the residual deterrence after it (Koper 1995), are over.

Stops are many and looks are few. Each unit's planned tour is one row of arrays (places,
route lengths there, arrival, leaving and until), written and cut by the tour itself
(``abm.patrol.Tour``); a look checks every row at once, and dispatch reads where units are from
the rows (``legs``). Stops at scenes, and the stops of a replaced tour still deterring, are
written down at their place once reached, so only when each place's last such stop deters
until matters: a look checks it at the places within the radius around it (the same places
whose stops cover it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from abm.patrol import TOUR_STOPS

if TYPE_CHECKING:
    from abm.model import SafeCityModel


class Presence:
    """Every unit's planned stops (a row each) and the stops written down at each place."""

    def __init__(self, model: SafeCityModel) -> None:
        self.model = model
        # Until when the stops written down at each place deter (minutes; -inf: none).
        self._written = np.full(model.city.n, -np.inf)
        # A row per unit: its tour's stops, then where and when the tour began and its length.
        self._places = np.zeros((0, TOUR_STOPS), dtype=np.intp)
        self._metres = np.zeros((0, TOUR_STOPS))
        self._arrive = np.zeros((0, TOUR_STOPS))
        self._leave = np.zeros((0, TOUR_STOPS))
        self._until = np.zeros((0, TOUR_STOPS))
        self._start = np.zeros(0, dtype=np.intp)
        self._started = np.zeros(0)
        self._count = np.zeros(0, dtype=np.intp)
        self._spare: list[int] = []  # rows of units gone
        self._near = np.zeros(model.city.n, dtype=bool)  # scratch: places within a radius

    @property
    def radius(self) -> float:
        return self.model.config.police.presence_radius_m

    def enroll(self) -> int:
        """A row for a new unit's tours."""
        if self._spare:
            return self._spare.pop()
        row = len(self._arrive)
        grow = max(1, row)
        stops = (grow, TOUR_STOPS)
        self._places = np.vstack([self._places, np.zeros(stops, dtype=np.intp)])
        self._metres = np.vstack([self._metres, np.zeros(stops)])
        self._arrive = np.vstack([self._arrive, np.full(stops, np.inf)])
        self._leave = np.vstack([self._leave, np.full(stops, np.inf)])
        self._until = np.vstack([self._until, np.full(stops, -np.inf)])
        self._start = np.concatenate([self._start, np.zeros(grow, dtype=np.intp)])
        self._started = np.concatenate([self._started, np.zeros(grow)])
        self._count = np.concatenate([self._count, np.zeros(grow, dtype=np.intp)])
        self._spare.extend(range(len(self._arrive) - 1, row, -1))
        return row

    def tour(self, row: int, start: int, started: float, places: np.ndarray,
             metres: np.ndarray, arrive: np.ndarray, leave: np.ndarray, stay: float) -> None:
        """A unit's new tour from ``start`` at ``started``: stops at places, reached after
        ``metres``, each deterring from its arrival for ``stay`` minutes. Stops of its
        previous tour still deterring are written down."""
        self._keep_deterring(row)
        n = len(places)
        self._places[row, :n] = places
        self._metres[row, :n] = metres
        self._arrive[row, :n] = arrive
        self._leave[row, :n] = leave
        self._until[row, :n] = arrive + stay
        self._start[row], self._started[row] = start, started
        self.cut(row, n)  # and the tour's length

    def cut(self, row: int, keep: int) -> None:
        """The unit will not reach the stops of its tour after the first ``keep``."""
        self._arrive[row, keep:] = np.inf
        self._leave[row, keep:] = np.inf
        self._until[row, keep:] = -np.inf
        self._count[row] = keep

    def legs(self, rows: np.ndarray, now: float) -> tuple[np.ndarray, ...]:
        """For units on tours (their rows): whether each is stopped now, and its leg: where
        to, where from, departure time and length (what ``Tour.leg`` gives)."""
        leave = self._leave[rows]
        k = np.minimum((leave <= now).sum(axis=1), self._count[rows] - 1)
        end = self._places[rows, k]
        stopped = self._arrive[rows, k] <= now
        before, first = np.maximum(k - 1, 0), k == 0
        start = np.where(first, self._start[rows], self._places[rows, before])
        depart = np.where(first, self._started[rows], leave[np.arange(len(rows)), before])
        return stopped, end, start, depart, self._metres[rows, k]

    def withdraw(self, row: int) -> None:
        """A unit leaves the force: its stops reached keep deterring until they are over."""
        self._keep_deterring(row)
        self.cut(row, 0)
        self._spare.append(row)

    def _keep_deterring(self, row: int) -> None:
        """Write down the row's stops reached and not yet over (those not reached never
        will be)."""
        now = self.model.time
        going = (self._arrive[row] <= now) & (self._until[row] >= now)
        for k in np.flatnonzero(going).tolist():
            self.guard(int(self._places[row, k]), float(self._until[row, k]))

    def guard(self, node: int, until: float) -> None:
        """Deter within the radius of ``node`` (reached by now) until a time (minutes)."""
        if until > self._written[node]:
            self._written[node] = until

    def present(self, node: int, now: float) -> bool:
        """Is any unit deterring at ``node`` now?"""
        near = self.model.city.within(node, self.radius)
        if self._written[near].max(initial=-np.inf) >= now:
            return True
        active = (self._arrive <= now) & (self._until >= now)
        if not active.any():
            return False
        mark = self._near
        mark[near] = True
        found = bool(mark[self._places[active]].any())
        mark[near] = False
        return found
