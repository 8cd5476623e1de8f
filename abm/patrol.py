"""Patrol between calls: where units go (a strategy's pool of places) and the tours they plan.

A strategy names the places a unit patrols: hot spots of recent incidents, the unit's own
beat, or places drawn at random. A new strategy is one class in ``STRATEGIES`` (with its name
among ``police.patrol``'s choices). Hot spots are re-read daily from the incidents of the last
90 days that ``police.hotspot_source`` says patrol reads: every recorded crime, only those
victims reported, or only those police discovered themselves (which feeds back on itself,
Ensign et al. 2018).

A unit plans a tour of stops at once (``Tour``) and needs no event until it ends; the tour
writes its stops into the unit's row of ``abm.presence.Presence``, where offenders and dispatch
read every unit at once.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from abm.config import PatrolStrategy
from abm.units import MINUTES_PER_DAY

if TYPE_CHECKING:
    from abm.crimes import Crime
    from abm.model import SafeCityModel
    from abm.police import PoliceUnit
    from abm.presence import Presence

# How often hot spots are re-read, and how far back the incidents they count go (assumption).
HOTSPOT_REFRESH_MIN = MINUTES_PER_DAY
HOTSPOT_WINDOW_MIN = 90 * MINUTES_PER_DAY
# Random places units start from and random patrol draws from; beats divide them.
PATROL_POOL = 256
# Most patrol stops a unit plans at once: about a day's worth at typical dwell and driving
# times. A tour also ends with the stop under way when hot spots are next re-read.
TOUR_STOPS = 64
# Settings a unit's planned tour depends on: a change makes units plan afresh.
TOUR_KEYS = frozenset({"police.patrol", "police.hotspots", "police.dwell_min",
                       "police.residual_deterrence_min", "police.residual_saturation_min"})


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


class Leg(NamedTuple):
    """A drive from one place to another: where from and to, when it leaves and arrives, and
    its length (metres)."""

    start: int
    end: int
    depart: float
    arrive: float
    metres: float


class Tour:
    """A unit's planned patrol stops: places, route lengths there, arrival and leaving times.

    The arrival at a stop is the time its full route gives (the tree's distance from the
    previous stop). The tour also keeps the stops in the unit's row of ``Presence``: planning
    writes them, cutting the tour cuts them.
    """

    __slots__ = ("_leg", "arrive", "leave", "metres", "places", "presence", "row", "start",
                 "started")

    def __init__(self, presence: Presence, row: int, start: int, started: float,
                 places: np.ndarray, metres: np.ndarray, arrive: np.ndarray, leave: np.ndarray,
                 stay: float) -> None:
        presence.tour(row, start, started, places, metres, arrive, leave, stay)
        self.presence, self.row = presence, row
        self.start, self.started = start, started
        self.places, self.metres = places.tolist(), metres.tolist()
        self.arrive, self.leave = arrive.tolist(), leave.tolist()
        self._leg: tuple[int, Leg] | None = None  # the last leg asked for, by its stop

    def reached(self, now: float) -> int:
        """How many stops had been reached by ``now``."""
        return bisect_right(self.arrive, now)

    def finished(self, now: float) -> int:
        """How many stops had been kept and left by ``now``."""
        return bisect_right(self.leave, now)

    def current(self, now: float) -> int:
        """The stop being driven to or kept at ``now`` (the last one once all are done)."""
        return min(self.finished(now), len(self.leave) - 1)

    def leg(self, now: float) -> Leg:
        """The leg toward the stop the unit is heading for or at ``now``."""
        k = self.current(now)
        if self._leg is None or self._leg[0] != k:
            self._leg = (k, Leg(self.places[k - 1] if k else self.start, self.places[k],
                                self.leave[k - 1] if k else self.started, self.arrive[k],
                                self.metres[k]))
        return self._leg[1]

    def cut_after(self, k: int) -> None:
        """Keep stops up to index k; the later ones will not be reached."""
        for planned in (self.places, self.metres, self.arrive, self.leave):
            del planned[k + 1:]
        self.presence.cut(self.row, k + 1)


# --- strategies ---------------------------------------------------------------------------------

class Strategy:
    """Which places a unit patrols between calls."""

    name: PatrolStrategy
    reads_hotspots = False  # whether new hot spots change its places

    def pool(self, patrol: Patrol, unit: PoliceUnit) -> PatrolPool:
        raise NotImplementedError


class HotspotPatrol(Strategy):
    """The places with most recent incidents on record (Braga et al. 2019)."""

    name = PatrolStrategy.HOTSPOT
    reads_hotspots = True

    def pool(self, patrol: Patrol, unit: PoliceUnit) -> PatrolPool:
        return patrol.hotspot_pool


class BeatPatrol(Strategy):
    """The unit's own beat: the pool places nearer its start than any other unit's."""

    name = PatrolStrategy.BEAT

    def pool(self, patrol: Patrol, unit: PoliceUnit) -> PatrolPool:
        return unit.beat


class RandomPatrol(Strategy):
    """Places drawn at random from the city's patrol pool."""

    name = PatrolStrategy.RANDOM

    def pool(self, patrol: Patrol, unit: PoliceUnit) -> PatrolPool:
        return patrol.random_pool


STRATEGIES: dict[PatrolStrategy, Strategy] = {
    s.name: s for s in (HotspotPatrol(), BeatPatrol(), RandomPatrol())}


# --- the force's patrol orders ------------------------------------------------------------------

class Patrol:
    """Where the force patrols: the random pool and beats, and the hot spots of recent
    incidents, re-read daily."""

    def __init__(self, model: SafeCityModel) -> None:
        self.model = model
        city = model.city
        self.places = np.sort(model.rng.choice(city.n, size=min(PATROL_POOL, city.n),
                                               replace=False))
        self.random_pool = PatrolPool(city.router, self.places)
        self.hotspot_pool = PatrolPool(city.router, self.top_places(self._first_hotspots()))
        # Incidents of the hot-spot window that patrol reads, oldest first, and their count
        # by place.
        self._incidents: deque[tuple[float, int]] = deque()
        self._counts = np.zeros(city.n)

    @property
    def settings(self):
        return self.model.config.police

    @property
    def strategy(self) -> Strategy:
        return STRATEGIES[self.settings.patrol]

    @property
    def hotspots(self) -> np.ndarray:
        """The places hot-spot patrol cycles through (node ids, sorted)."""
        return self.hotspot_pool.index

    def pool(self, unit: PoliceUnit) -> PatrolPool:
        """The places a unit patrols now."""
        return self.strategy.pool(self, unit)

    def horizon(self, now: float) -> float:
        """When hot spots are next re-read after ``now``: tours are planned up to then."""
        return (math.floor(now / HOTSPOT_REFRESH_MIN) + 1) * HOTSPOT_REFRESH_MIN

    # --- where units start -------------------------------------------------------------------

    def posts(self, n: int) -> list[tuple[int, PatrolPool]]:
        """Start places and beats of the first ``n`` units: starts drawn from the pool, each
        pool place in the beat of the unit that starts nearest to it."""
        if n == 0:
            return []
        model, places = self.model, self.places
        starts = model.rng.choice(places, size=n, replace=n > len(places))
        xy = model.city.xy
        d = np.linalg.norm(xy[places][:, None, :] - xy[starts][None, :, :], axis=2)
        owner = np.argmin(d, axis=1)
        posts = []
        for i, start in enumerate(starts):
            beat = places[owner == i]
            if len(beat) == 0:
                beat = np.array([start])
            posts.append((int(start), PatrolPool(model.city.router, beat)))
        return posts

    def post(self) -> tuple[int, PatrolPool]:
        """Start place and beat of a unit added later: a pool place, the whole pool its beat."""
        return int(self.places[self.model.random.randrange(len(self.places))]), self.random_pool

    # --- hot spots ---------------------------------------------------------------------------

    def _first_hotspots(self) -> np.ndarray:
        """What places are ranked by before any incident is on record."""
        if self.settings.initial_hotspots == "random":
            return self.model.rng.random(self.model.city.n)
        return self.model.city.attractiveness

    def top_places(self, score: np.ndarray) -> np.ndarray:
        """The ``police.hotspots`` places with the highest scores, ties going to the lower
        node id; sorted."""
        n, k = self.model.city.n, min(self.settings.hotspots, self.model.city.n)
        if k == n:
            return np.arange(n)
        threshold = -np.partition(-score, k - 1)[k - 1]  # the k-th highest score
        above = np.flatnonzero(score > threshold)
        tied = np.flatnonzero(score == threshold)[: k - len(above)]
        return np.sort(np.concatenate([above, tied]))

    def reads(self, crime: Crime) -> bool:
        """Whether a crime is among the incidents patrol reads."""
        source = self.settings.hotspot_source
        if source == "reported":
            return crime.victim_reported
        if source == "discovered":
            return crime.discovered
        return crime.recorded

    def note(self, crime: Crime) -> None:
        """A crime happened: patrol counts it if it reads such incidents."""
        if self.reads(crime):
            self._incidents.append((crime.time_min, crime.node))
            self._counts[crime.node] += 1.0

    def refresh(self) -> None:
        """Daily: hot spots become the places with most incidents in the window (ties by
        attractiveness); units patrolling them plan afresh."""
        window, counts, now = self._incidents, self._counts, self.model.time
        while window and now - window[0][0] > HOTSPOT_WINDOW_MIN:
            counts[window.popleft()[1]] -= 1.0
        if not window:
            return
        hotspots = self.top_places(counts + 1e-3 * self.model.city.attractiveness)
        if self.hotspot_pool.same_places(hotspots):
            return
        self.hotspot_pool = PatrolPool(self.model.city.router, hotspots)
        if self.strategy.reads_hotspots:
            self.replan()

    def incident_counts(self) -> np.ndarray:
        """Incidents in the window by place, as hot spots were last ranked by."""
        return self._counts.copy()

    # --- changes ---------------------------------------------------------------------------

    def settings_changed(self, keys: set[str]) -> None:
        if keys & TOUR_KEYS:
            self.replan()

    def replan(self) -> None:
        """Units on patrol plan afresh after the stop they are heading for or at."""
        for unit in self.model.units:
            unit.replan()
