"""Police units: patrol between calls, drive to incidents, stay busy at the scene.

Patrol stops deter (Koper: 10-15 minute stops, residual deterrence after leaving); a unit on a
call is unavailable, which is how a thin force lengthens response times.
"""

from __future__ import annotations

from bisect import bisect_right
from enum import Enum, auto
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


# Most patrol stops a unit plans at once: about a day's worth at typical dwell and driving
# times. A tour also ends with the stop under way when hot spots are next re-read.
TOUR_STOPS = 64


class PoliceUnit(CellAgent):
    """One patrol car and its crew.

    On patrol a unit plans a tour of stops at once (places, arrival and leaving times), up to
    the next time hot spots are re-read; it needs no event until the tour ends, a call takes
    it away, or its patrol orders change.
    ``node`` and ``cell`` are where the unit was when something last happened to it (a tour
    began or ended, it reached or left a scene, was called away); where it is at any moment,
    on the road or at a stop, is ``position(now)``, which maps and dispatch use.
    """

    def __init__(self, model: SafeCityModel, node: int, beat: PatrolPool) -> None:
        super().__init__(model)
        self.node = node
        self.beat = beat
        self.duty = Duty.PATROL
        self.cell = model.space[node]
        self.call: Crime | None = None
        # The current leg: from, to, departure and arrival time; its intersections and the
        # times of passing them (_path, _times) are kept for a leg driven to a call (None on
        # a patrol leg, followed along its tree when asked where the unit is).
        self._from = self._to = node
        self._depart = self._end = self._metres = 0.0
        self._path: np.ndarray | None = np.array([node], dtype=np.intp)
        self._times: np.ndarray | None = np.array([0.0])
        self._event: list | None = None  # the next entry on the model's agenda
        self._tour: Tour | None = None
        self._speed = self.settings.speed_kmh * 1000.0 / 60.0  # metres per minute
        self.calls_answered = 0
        # Patrol stops reached and left before the tour under way (see ``reached``, ``left``).
        self.stops_reached = self.stops_left = 0
        self.off_duty = False
        self._row = model.presence.enroll()  # its row of planned stops in Presence

    @property
    def settings(self) -> PoliceSettings:
        return self.model.config.police

    @property
    def free(self) -> bool:
        return self.duty is Duty.PATROL

    # --- patrol ---------------------------------------------------------------------------

    def _pool(self) -> PatrolPool:
        strategy = self.settings.patrol
        if strategy == "hotspot":
            return self.model.hotspot_pool
        if strategy == "beat":
            return self.beat
        return self.model.random_pool

    def patrol(self) -> None:
        """Plan a tour of patrol stops from here and drive it.

        Each stop is a place of the patrol pool drawn at random among those other than the
        previous stop (or where the unit is), reached by the shortest route and kept for the
        dwell time; its deterrence is planned to start on arrival (and dropped if a call takes
        the unit away first). The tour ends with the stop under way when hot spots are next
        re-read (``model.patrol_horizon``), or after ``TOUR_STOPS``. Only its end is an event.
        """
        self.duty = Duty.PATROL
        model, s = self.model, self.settings
        now, here = model.time, self.node
        pool = self._pool()
        picks = pool.draw(here, model.rng.random(TOUR_STOPS))
        places = pool.index[picks]
        metres = pool.metres(here, picks)
        if not np.isfinite(metres).all():
            k = int(np.argmin(np.isfinite(metres)))
            raise ValueError(f"no route from {places[k - 1] if k else here} to {places[k]}")
        # Driving and dwelling, summed in the order the unit lives them.
        steps = np.empty(2 * TOUR_STOPS + 1)
        steps[0], steps[1::2], steps[2::2] = now, metres / self._speed, s.dwell_min
        times = np.cumsum(steps)
        leave = times[2::2]
        horizon = model.patrol_horizon(now)
        count = min(int(np.searchsorted(leave, horizon)) + 1, TOUR_STOPS)
        if leave[count - 1] <= now:  # no time would pass (one place, no dwell): stay there
            count, leave[0] = 1, horizon
        arrive = times[1:2 * count:2]
        places, metres, leave = places[:count], metres[:count], leave[:count]
        model.presence.tour(self._row, here, now, places, metres, arrive, leave,
                            s.dwell_min + self.residual(s.dwell_min))
        self._tour = Tour(here, now, places.tolist(), metres.tolist(), arrive.tolist(),
                          leave.tolist())
        self._sync(now)
        self._event = model.agenda.at(self._tour.leave[-1], self.end_tour)

    def end_tour(self) -> None:
        """The tour's last dwell is over: the unit is at its last stop; plan the next tour."""
        self._sync(self.model.time)
        self.stops_reached += len(self._tour.places)
        self.stops_left += len(self._tour.places)
        self._tour = None
        self._arrive()
        self.patrol()

    def replan(self) -> None:
        """Patrol orders changed (new hot spots, new settings): keep to the stop the unit is
        heading for or at, and plan afresh from there."""
        if self._tour is None:
            return
        now = self.model.time
        k = self._tour.current(now)
        self._tour.cut_after(k)
        self.model.presence.cut(self._row, k + 1)
        self.model.agenda.cancel(self._event)
        self._event = self.model.agenda.at(self._tour.leave[k], self.end_tour)

    def reached(self, now: float) -> int:
        """Patrol stops this unit had reached by ``now``."""
        return self.stops_reached + (self._tour.reached(now) if self._tour is not None else 0)

    def left(self, now: float) -> int:
        """Patrol stops this unit had kept for the whole dwell and left by ``now``."""
        return self.stops_left + (self._tour.finished(now) if self._tour is not None else 0)

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
        self.model.presence.withdraw(self._row)
        self.model.leaving.remove(self)
        self.remove()

    # --- movement -------------------------------------------------------------------------

    def position(self, now: float) -> int:
        """The last intersection passed at a time (for dispatch and maps)."""
        if self._tour is not None:
            self._sync(now)
        if now >= self._end:  # arrived (or stopped): the leg's last place
            return self._to
        if self._path is None:  # a patrol leg: follow its tree only as far as driven
            return self._passed(now)
        path, times = self._path, self._times
        i = int(np.searchsorted(times, now, side="right")) - 1
        return int(path[min(max(i, 0), len(path) - 1)])

    def _passed(self, now: float) -> int:
        """The last intersection passed by ``now`` on a leg not yet worked out: the leg's
        shortest route from its tree, with the passing times the full route would give,
        followed only as far as needed."""
        dist, nxt = self.model.city.router.tree_to(self._to)
        step, metres = memoryview(nxt), memoryview(dist)
        node, start, depart, speed = self._from, dist.item(self._from), self._depart, self._speed
        while node != self._to:
            following = step[node]
            if depart + (start - metres[following]) / speed > now:
                break
            node = following
        return node

    def stopped_at(self, now: float) -> int | None:
        """Where the unit is stopped now (at a stop or a scene), or None while driving."""
        if self._tour is not None:
            self._sync(now)
        return self._to if now >= self._end else None

    def _sync(self, now: float) -> None:
        """Make the current leg the tour's leg at ``now``: toward the stop the unit is
        heading for or at."""
        tour = self._tour
        k = tour.current(now)
        if k == tour.synced:
            return
        tour.synced = k
        self._from = tour.places[k - 1] if k else tour.start
        self._to = tour.places[k]
        self._depart = tour.leave[k - 1] if k else tour.started
        self._metres = tour.metres[k]
        self._end = tour.arrive[k]
        self._path = self._times = None

    def _interrupt(self) -> None:
        if self._event is not None:
            self.model.agenda.cancel(self._event)
            self._event = None
        now = self.model.time
        self.node = self.position(now)
        tour = self._tour
        if tour is not None:
            # Called away: stops after this one are off, and this one too if not reached.
            k = tour.current(now)
            self.stops_reached += tour.reached(now)
            self.stops_left += tour.finished(now)
            keep = k + 1 if now >= tour.arrive[k] else k
            tour.cut_after(keep - 1)
            self.model.presence.cut(self._row, keep)
            self._tour = None
        self.cell = self.model.space[self.node]

    def _set_leg(self, path: np.ndarray, along: np.ndarray) -> None:
        """Drive along a given route from now."""
        self._from, self._to = path.item(0), path.item(-1)
        self._depart, self._metres = self.model.time, along.item(-1)
        self._path = path
        self._times = self._depart + along / self._speed
        self._end = self._times.item(-1)

    def _arrive(self) -> None:
        self._event = None
        self.node = self._to
        self.cell = self.model.space[self.node]


class PatrolPool:
    """Places units patrol, with the street distances between them worked out as needed
    (from the same trees as any route, so the same figures)."""

    def __init__(self, router, nodes: np.ndarray) -> None:
        self.router = router
        self.index = np.asarray(nodes, dtype=np.intp)
        self.nodes: list[int] = self.index.tolist()
        self.index_of = {node: j for j, node in enumerate(self.nodes)}
        # Rows of metres from every place of the pool to one place, filled as places are
        # first drawn: ``slot[j]`` is place j's row in ``table`` (-1 until filled).
        self.slot = np.full(len(self.nodes), -1, dtype=np.intp)
        self.table = np.empty((0, len(self.nodes)))
        self.filled = 0

    def draw(self, here: int, uniform: np.ndarray) -> np.ndarray:
        """Indices of places drawn in turn, each uniformly among the pool's places other than
        the one before (the first: other than ``here``, if here is in the pool), from
        uniform numbers in [0, 1)."""
        n = len(self.nodes)
        if n == 1:
            return np.zeros(len(uniform), dtype=np.intp)
        j = self.index_of.get(here)
        first = int(uniform[0] * n) if j is None else (j + 1 + int(uniform[0] * (n - 1))) % n
        steps = (uniform * (n - 1)).astype(np.intp) + 1
        steps[0] = first
        return np.cumsum(steps) % n

    def metres(self, here: int, picks: np.ndarray) -> np.ndarray:
        """Metres from ``here`` to the first pick's place, and from each to the next."""
        if self.filled < len(self.nodes):
            new = picks[self.slot[picks] < 0]
            if len(new):
                self._fill(np.unique(new))
        out = np.empty(len(picks))
        out[0] = self.router.tree_to(self.nodes[picks[0]])[0][here]
        out[1:] = self.table[self.slot[picks[1:]], picks[:-1]]
        return out

    def _fill(self, places: np.ndarray) -> None:
        end = self.filled + len(places)
        if end > len(self.table):  # room for twice as many rows
            table = np.empty((min(2 * end, len(self.nodes)), len(self.nodes)))
            table[:self.filled] = self.table[:self.filled]
            self.table = table
        for k, j in enumerate(places.tolist(), start=self.filled):
            self.table[k] = self.router.tree_to(self.nodes[j])[0][self.index]
        self.slot[places] = np.arange(self.filled, end)
        self.filled = end

    def same_places(self, nodes: np.ndarray) -> bool:
        return np.array_equal(self.index, nodes)


class Tour:
    """A unit's planned patrol stops: places, route lengths there, arrival and leaving
    times. The arrival time at a stop is the one its full route gives (the tree's distance
    from the previous stop)."""

    __slots__ = ("arrive", "leave", "metres", "places", "start", "started", "synced")

    def __init__(self, start: int, started: float, places: list[int], metres: list[float],
                 arrive: list[float], leave: list[float]) -> None:
        self.start, self.started = start, started
        self.places, self.metres, self.arrive, self.leave = places, metres, arrive, leave
        self.synced = -1  # the leg the unit's leg attributes describe

    def reached(self, now: float) -> int:
        """How many stops had been reached by ``now``."""
        return bisect_right(self.arrive, now)

    def finished(self, now: float) -> int:
        """How many stops had been kept and left by ``now``."""
        return bisect_right(self.leave, now)

    def current(self, now: float) -> int:
        """The stop being driven to or kept at ``now`` (the last one once all are done)."""
        return min(self.finished(now), len(self.leave) - 1)

    def cut_after(self, k: int) -> None:
        """Keep stops up to index k; the later ones will not be reached."""
        for planned in (self.places, self.metres, self.arrive, self.leave):
            del planned[k + 1:]


class Whereabouts:
    """Where units are at one moment, for dispatch: which are stopped (at a patrol stop or a
    scene) and where, and which are driving, with bounds on their distance to any place.

    Looked up all at once from the units' rows in ``Presence``: the same as each unit's
    ``stopped_at`` and leg. Every free unit is on a tour (it plans one whenever it is free).

    Bounds: by now a unit has driven about a = (now - departure) x speed of its shortest
    route of length L from u to v: it is at most a from u and at most L - a + (one street)
    from v. By the triangle inequality it is no nearer than d(u) - a, and on two-way streets
    no nearer than d(v) - (L - a + one street); where no street is shorter than the straight
    line, the same holds for straight-line distances.
    """

    def __init__(self, units: list[PoliceUnit], now: float) -> None:
        self.units, self.now = units, now
        n = len(units)
        if n == 0:
            self.stopped, self.places, self.driving = [], [], []
            return
        model = units[0].model
        rows = np.fromiter((u._row for u in units), np.intp, n)
        stopped, end, start, depart, metres = model.presence.legs(rows, now)
        self.stopped = np.flatnonzero(stopped).tolist()
        self.places = end[stopped].tolist()
        driving = ~stopped
        self.driving = np.flatnonzero(driving).tolist()
        m = len(self.driving)
        speed = np.fromiter((units[i]._speed for i in self.driving), float, m)
        done = (now - depart[driving]) * speed
        left = metres[driving] - done
        left += model.city.longest_street_m
        # Both ends of the legs (starts, then ends) and at most how far each unit is from
        # them, so each bound below is worked out for both ends at once.
        self.ends = np.concatenate([start[driving], end[driving]])
        self.gone = np.concatenate([done, left])
        self.start, self.end, self.done = self.ends[:m], self.ends[m:], self.gone[:m]
        self.ends_xy = model.city.xy[self.ends]
        self.city = model.city

    def bounds(self, place: int, dist: np.ndarray, limit_m: float = np.inf) -> np.ndarray:
        """At least how far each driving unit is from ``place`` now, by ``dist`` (street
        metres toward it from every node; inf beyond a search limit)."""
        city = self.city
        bound = np.minimum(dist[self.ends], limit_m) - self.gone
        if not city.router.two_way:
            bound[len(self.start):] = -np.inf  # no bound by street from the end
        if city.streets_not_shorter:
            bound = np.maximum(bound, np.hypot(*(self.ends_xy - city.xy[place]).T) - self.gone)
        return np.maximum(bound[:len(self.start)], bound[len(self.start):])


class Presence:
    """Where visible police deter offenders now: within a radius of a unit at a patrol stop or
    a scene, from its arrival until its stay and the residual deterrence after it are over.

    Stops are many and looks are few. Each unit's planned tour is one row of arrays (places,
    route lengths there, arrival, leaving and until), written when the tour is planned and
    cut when plans change; a look checks every row at once, and dispatch reads where units
    are from the rows (``legs``). Stops at scenes, and the stops of a replaced tour still
    deterring, are written down at their place once reached, so only when each place's last
    such stop deters until matters: a look checks it at the places within the radius around
    it (the same places whose stops cover it).
    """

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
        to, where from, departure time and length (what ``PoliceUnit._sync`` gives)."""
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
            self.write(int(self._places[row, k]), float(self._until[row, k]))

    def write(self, node: int, until: float) -> None:
        """Write down a stop reached at ``node`` (by now) that deters until a time."""
        if until > self._written[node]:
            self._written[node] = until

    def guard(self, node: int, until: float) -> None:
        """Deter within the radius of ``node`` from now until a time (minutes)."""
        self.write(node, until)

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
