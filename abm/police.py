"""Police units: patrol between calls, drive to incidents, stay busy at the scene.

Patrol stops deter (Koper: 10-15 minute stops, residual deterrence after leaving); a unit on a
call is unavailable, which is how a thin force lengthens response times.
"""

from __future__ import annotations

import itertools
import math
from enum import Enum, auto
from heapq import heappop, heappush
from typing import TYPE_CHECKING

import numpy as np
from mesa.discrete_space import CellAgent

from abm.config import PoliceSettings

if TYPE_CHECKING:
    from abm.crimes import Crime
    from abm.model import SafeCityModel


class Duty(Enum):
    PATROL = auto()
    RESPONDING = auto()
    AT_SCENE = auto()


class PoliceUnit(CellAgent):
    """One patrol car and its crew.

    ``node`` and ``cell`` are where the unit last was when something happened to it (it left a
    patrol stop, reached or left a scene, was called away); where it is at any moment, on the
    road or at a stop, is ``position(now)``, which maps use (``model.positions()``).
    """

    def __init__(self, model: SafeCityModel, node: int, beat: np.ndarray) -> None:
        super().__init__(model)
        self.node = node
        self.beat = beat
        self.duty = Duty.PATROL
        self.cell = model.space[node]
        self.call: Crime | None = None
        # The current leg: from, to, departure and arrival time. Its intersections and the
        # times of passing them (_path, _times) are worked out only when asked for.
        self._from = self._to = node
        self._depart = self._end = self._metres = 0.0
        self._path: np.ndarray | None = np.array([node], dtype=np.intp)
        self._times: np.ndarray | None = np.array([0.0])
        self._event: list | None = None  # the next entry on the model's agenda
        self._stop: list | None = None  # the patrol stop this unit is heading for or at
        self._speed = self.settings.speed_kmh * 1000.0 / 60.0  # metres per minute
        self.calls_answered = 0
        self.off_duty = False

    @property
    def settings(self) -> PoliceSettings:
        return self.model.config.police

    @property
    def free(self) -> bool:
        return self.duty is Duty.PATROL

    # --- patrol ---------------------------------------------------------------------------

    def _patrol_target(self) -> int:
        strategy = self.settings.patrol
        if strategy == "hotspot":
            pool = self.model.hotspots
        elif strategy == "beat":
            pool = self.beat
        else:
            pool = self.model.patrol_pool
        target = int(pool[self.random.randrange(len(pool))])
        if target == self.node and len(pool) > 1:
            target = int(pool[self.random.randrange(len(pool))])
        return target

    def patrol(self) -> None:
        """Drive to the next patrol stop and stay there, deterring, for the dwell time.

        Arriving needs no event of its own: the stop's deterrence is planned to start on
        arrival (and dropped if a call takes the unit away first); the next event is leaving.
        """
        self.duty = Duty.PATROL
        target = self._patrol_target()
        self._head_for(target)
        s = self.settings
        arrive = self._end
        self._stop = self.model.presence.plan(
            target, arrive, arrive + s.dwell_min + self.residual(s.dwell_min))
        self._event = self.model.agenda.at(arrive + s.dwell_min, self.leave_stop)

    def leave_stop(self) -> None:
        """The dwell is over: the unit is at its stop (since arriving); on to the next one."""
        self._arrive()
        self._stop = None
        self.patrol()

    def residual(self, stay_min: float) -> float:
        """Deterrence left after a stay: it grows with the stay up to
        ``residual_saturation_min`` (Koper 1995)."""
        s = self.settings
        return s.residual_deterrence_min * min(1.0, stay_min / s.residual_saturation_min)

    # --- calls ----------------------------------------------------------------------------

    def respond(self, call: Crime, path: np.ndarray, along: np.ndarray) -> None:
        """Leave patrol (wherever the car is now) and drive to a call."""
        self._interrupt()
        self.duty = Duty.RESPONDING
        self.call = call
        self._set_leg(path, along)
        self._event = self.model.agenda.at(self._end, self.reach_scene)

    def reach_scene(self) -> None:
        self._arrive()
        self.duty = Duty.AT_SCENE
        self.calls_answered += 1
        s = self.settings
        self.model.guard(self.node,
                         self.model.time + s.scene_time_min + self.residual(s.scene_time_min))
        self.call.respond()
        self._event = self.model.agenda.after(s.scene_time_min, self.clear_scene)

    def clear_scene(self) -> None:
        self.call = None
        self.duty = Duty.PATROL
        if self.off_duty:
            self.model.dispatcher.unit_done()
            self._leave()
            return
        self.model.dispatcher.unit_free(self)

    def stand_down(self) -> None:
        """Leave the force: at once on patrol, after the current call otherwise."""
        self.off_duty = True
        if self.free:
            self._interrupt()
            self._leave()

    def _leave(self) -> None:
        self.model.leaving.remove(self)
        self.remove()

    # --- movement -------------------------------------------------------------------------

    def position(self, now: float) -> int:
        """The last intersection passed at a time (for dispatch and maps)."""
        if now >= self._end:  # arrived (or stopped): the leg's last place
            return self._to
        path, times = self._leg()
        i = int(np.searchsorted(times, now, side="right")) - 1
        return int(path[min(max(i, 0), len(path) - 1)])

    def driving(self, now: float) -> bool:
        """Still on the way (rather than at the end of its leg)?"""
        return now < self._end

    def _interrupt(self) -> None:
        if self._event is not None:
            self.model.agenda.cancel(self._event)
            self._event = None
        now = self.model.time
        if self._stop is not None:
            if now < self._stop[0]:  # called away before reaching the stop
                self.model.presence.drop(self._stop)
            self._stop = None
        self.node = self.position(now)
        self.cell = self.model.space[self.node]

    def _set_leg(self, path: np.ndarray, along: np.ndarray) -> None:
        """Drive along a given route from now."""
        self._from, self._to = path.item(0), path.item(-1)
        self._depart, self._metres = self.model.time, along.item(-1)
        self._path = path
        self._times = self._depart + along / self._speed
        self._end = self._times.item(-1)

    def _head_for(self, target: int) -> None:
        """Drive from here to a place from now; only the arrival time is needed yet.

        The arrival time is the one the full route gives: its last distance is the tree's
        distance from here (the target's own is exactly 0).
        """
        dist, _ = self.model.city.router.tree_to(target)
        metres = dist.item(self.node)
        if metres == np.inf:
            raise ValueError(f"no route from {self.node} to {target}")
        self._from, self._to = self.node, target
        self._depart, self._metres = self.model.time, metres
        self._path = self._times = None
        self._end = self._depart + metres / self._speed

    def _leg(self) -> tuple[np.ndarray, np.ndarray]:
        """The current leg's intersections and the times of passing them."""
        if self._path is None:
            path, along = self.model.city.router.route(self._from, self._to)
            self._path, self._times = path, self._depart + along / self._speed
        return self._path, self._times

    def _arrive(self) -> None:
        self._event = None
        self.node = self._to
        self.cell = self.model.space[self.node]


def distance_bounds(units: list[PoliceUnit], place: int, dist: np.ndarray, now: float,
                    limit_m: float = np.inf) -> np.ndarray:
    """At least how far each unit is from ``place`` now, by ``dist`` (street metres toward it
    from every node; inf beyond a search limit), without working out where on its leg it is.

    By now a unit has driven about a = (now - departure) x speed of its shortest route of
    length L from u to v: it is at most a from u and at most L - a + (one street) from v. By
    the triangle inequality it is no nearer than d(u) - a, and on two-way streets no nearer
    than d(v) - (L - a + one street); where no street is shorter than the straight line, the
    same holds for straight-line distances.
    """
    city = units[0].model.city
    n = len(units)
    start = np.fromiter((u._from for u in units), np.intp, n)
    end = np.fromiter((u._to for u in units), np.intp, n)
    done = (now - np.fromiter((u._depart for u in units), float, n)) \
        * np.fromiter((u._speed for u in units), float, n)
    left = np.fromiter((u._metres for u in units), float, n) - done + city.longest_street_m
    bound = np.minimum(dist[start], limit_m) - done
    if city.router.two_way:
        bound = np.maximum(bound, np.minimum(dist[end], limit_m) - left)
    if city.streets_not_shorter:
        here = city.xy[place]
        bound = np.maximum(bound, np.hypot(*(city.xy[start] - here).T) - done)
        bound = np.maximum(bound, np.hypot(*(city.xy[end] - here).T) - left)
    return bound


# A stop covering at most this many places is looked up from the places' side (see Presence).
FEW_PLACES = 64


class Presence:
    """Where visible police deter offenders now, within a radius of a stopped unit.

    A unit at a scene deters from the moment it is there (``guard``). A patrol stop is planned
    when the unit sets off (``plan``) and deters from its arrival time on; it is written in when
    someone first looks at or after that time, so a stop costs no event of its own.

    A place is deterred while any stop whose radius covers it lasts. Stops are many and looks
    are few, so a stop at a place covering few others just records how long it lasts there,
    and a look checks the stop places around it (an index built from the same radius queries);
    a stop covering many places is written into each of them.
    """

    def __init__(self, model: SafeCityModel) -> None:
        self.model = model
        self.radius = model.config.police.presence_radius_m
        self.until = [-math.inf] * model.city.n  # written by stops covering many places
        self._lasts: dict[int, float] = {}  # stop place covering few -> until when
        self._stops_near: dict[int, list[int]] = {}  # place -> such stop places covering it
        self._planned: list[list] = []  # heap of [arrival, order, node, until, kept]
        self._order = itertools.count()
        self.planned = self.dropped = 0  # patrol stops planned, and dropped before arrival

    def guard(self, node: int, until: float) -> None:
        """Deter within the radius of ``node`` until a time (minutes)."""
        last = self._lasts.get(node)
        if last is not None:
            if until > last:
                self._lasts[node] = until
            return
        near = self.model.city.within(node, self.radius).tolist()
        if len(near) <= FEW_PLACES:  # the first stop here: index the places it covers
            for place in near:
                self._stops_near.setdefault(place, []).append(node)
            self._lasts[node] = until
            return
        lasts = self.until
        for place in near:
            if until > lasts[place]:
                lasts[place] = until

    def plan(self, node: int, arrive: float, until: float) -> list:
        """A stop at ``node`` deterring from ``arrive`` to ``until``; returns its handle."""
        stop = [arrive, next(self._order), node, until, True]
        heappush(self._planned, stop)
        self.planned += 1
        return stop

    def drop(self, stop: list) -> None:
        """The unit never made it to a planned stop."""
        stop[4] = False
        self.dropped += 1

    def stops_begun(self, now: float) -> int:
        """Patrol stops that units had reached by ``now``."""
        ahead = sum(1 for stop in self._planned if stop[4] and stop[0] > now)
        return self.planned - self.dropped - ahead

    def present(self, node: int, now: float) -> bool:
        """Is any unit deterring at ``node`` now?"""
        planned = self._planned
        while planned and planned[0][0] <= now:  # stops begun by now
            _, _, at, until, kept = heappop(planned)
            if kept:
                self.guard(at, until)
        if self.until[node] >= now:
            return True
        lasts = self._lasts
        return any(lasts[stop] >= now for stop in self._stops_near.get(node, ()))
