"""Offenders: routine trips between home and activity places, opportunities met on the way.

A crime needs a motivated offender, a suitable target and no capable guardian (routine activity
theory). Offenders decide on *perceived* risk (abm.beliefs): they see police nearby and a camera
that looks broken, but not whether a camera works or is watched. After a crime that ended
without arrest they come back to the same place and its surroundings more readily for a while
(the boost account of near repeats).
"""

from __future__ import annotations

import math
from enum import Enum, auto
from heapq import heappop, heappush
from typing import TYPE_CHECKING

import mesa
import numpy as np

from abm.config import OffenderSettings
from abm.units import MINUTES_PER_DAY, hour_of

if TYPE_CHECKING:
    from abm.model import SafeCityModel


# Crimes that ended without arrest an offender keeps coming back to (the most recent), and
# the lift below which they are forgotten (a hundredth of a place's own attractiveness).
MAX_BOOSTS = 4
FADED = 0.01


class State(Enum):
    FREE = auto()
    JAILED = auto()


class Trips:
    """Offenders' arrivals at the ends of their legs, handled many at a time.

    Almost every trip (98% in the city) meets no target: nothing happens on it but its
    arrival, about 2,400 a day in the city. An arrival changes nothing any other agent or
    the city reads, so the arrivals due before the model's next other event (on the agenda
    or Mesa's event list) are handled in one go, in time order (ties: the lower index
    first), from one agenda entry standing at the earliest; about 15 a go in the city. That
    is the order an event per arrival would give them, and each draws the same random
    numbers as it would; a go stops early where an arrival plans a leg meeting a target,
    which is an event of its own (``Offender.meet_target``).
    """

    def __init__(self, model: SafeCityModel, offenders: list[Offender]) -> None:
        self.model = model
        self.offenders = offenders
        self.arrivals = 0  # arrivals so far (an agent-event each, for the benchmark)
        self._heap: list[tuple[float, int]] = []  # (arrival time, offender index)
        self._due = [math.inf] * len(offenders)  # each offender's arrival (inf: none)
        self._entry: list | None = None  # the agenda entry standing at the earliest
        self._entry_at = math.inf
        self._running = False  # arrivals being handled: the entry is set when done

    def start(self) -> None:
        """Everyone leaves home after a uniform part of a home stay."""
        self._running = True
        for offender in self.offenders:
            offender.start()
        self._running = False
        self._arm()

    def expect(self, index: int, time: float) -> None:
        """Offender ``index`` arrives at ``time`` (nothing else on its leg)."""
        self._due[index] = time
        heappush(self._heap, (time, index))
        if time < self._entry_at and not self._running:
            self._arm()

    def cancel(self, index: int) -> None:
        """Offender ``index`` will not arrive (jailed)."""
        self._due[index] = math.inf

    def run(self) -> None:
        """The agenda entry: every arrival due before the model's next other event."""
        self._entry, self._entry_at = None, math.inf
        heap, due, offenders = self._heap, self._due, self.offenders
        agenda = self.model.agenda
        before, last = agenda.next_due(), agenda.end
        self._running = True
        try:
            while heap:
                time, index = heap[0]
                if time >= before or time > last:
                    break
                heappop(heap)
                if time != due[index]:  # replaced or cancelled
                    continue
                due[index] = math.inf
                self.arrivals += 1
                if offenders[index].arrive(time):  # a target ahead: a new event
                    before = agenda.next_due()
        finally:
            self._running = False
        self._arm()

    def _arm(self) -> None:
        """Keep the agenda entry at the earliest arrival."""
        heap, due = self._heap, self._due
        while heap and heap[0][0] != due[heap[0][1]]:
            heappop(heap)
        first = heap[0][0] if heap else math.inf
        if first == self._entry_at:
            return
        agenda = self.model.agenda
        if self._entry is not None:
            agenda.cancel(self._entry)
            self._entry = None
        self._entry_at = first
        if heap:
            self._entry = agenda.at(first, self.run)


class Offender(mesa.Agent):
    """A motivated offender with a home, a few activity places and a belief about cameras."""

    def __init__(self, model: SafeCityModel, index: int, home: int, anchors: np.ndarray) -> None:
        super().__init__(model)
        self.index = index
        self.home = home
        self.anchors = anchors.tolist()  # activity places (node ids)
        self.state = State.FREE
        self.crimes = 0
        self.arrests = 0
        self.node = home
        # The current leg: its intersections, metres travelled on reaching each, and the
        # departure time; the times of passing them are worked out when asked for.
        self._path = np.array([home], dtype=np.intp)
        self._along = np.array([0.0])
        self._depart = 0.0
        self._dest = home
        self._chances: list[int] = []  # indices into the path where a target was met
        # Routes of this offender's trips: home to each activity place (slots 0..k-1) and
        # back (k..2k-1), with the attractiveness of the places on them, its sum and the
        # route's length; worked out when first taken.
        self._routes: list[tuple | None] = [None] * (2 * len(self.anchors))
        self._uses: list[tuple | None] = [None] * (2 * len(self.anchors))  # see _land_use
        self._slot = 0  # the current leg's
        self._event: list | None = None  # the next target met (or release), on the agenda
        # Recent crimes that ended without arrest on the scene, (place, time), oldest first;
        # for each route slot and remembered crime, its weight at each place of the route
        # (None: not yet worked out; False: no place of the route is near); and for each
        # slot what they add to the attractiveness of its places, and its sum, as of the
        # newest (None: to work out; False: nothing).
        self._boosts: list[tuple[int, float]] = []
        self._boost_weights: list[list] = [[] for _ in range(2 * len(self.anchors))]
        self._boost_lift: list = [None] * (2 * len(self.anchors))
        self.speed = self.settings.speed_kmh * 1000.0 / 60.0  # metres per minute

    @property
    def settings(self) -> OffenderSettings:
        return self.model.config.offenders

    @property
    def free(self) -> bool:
        return self.state is not State.JAILED

    def start(self) -> None:
        """Begin the routine: leave home after a random part of a home stay."""
        model = self.model
        self._plan_leg(model.time, model.clock.stay_under_way(
            model.time, self.settings.dwell_home_h, self.random))

    # --- routine trips --------------------------------------------------------------------

    def arrive(self, now: float) -> bool:
        """Reach the destination (at ``now``, from ``Trips``), stay a while and plan the
        next leg; whether a target turns up on it."""
        self.node = node = self._dest
        model = self.model
        s = model.config.offenders
        mean_h = s.dwell_home_h if node == self.home else s.dwell_activity_h
        return self._plan_leg(now, model.clock.stay(now, mean_h, model.random))

    def _plan_leg(self, now: float, wait_min: float) -> bool:
        """Choose the next place (from home one of the activity places, from there home),
        the route there, and where targets will turn up on the way; whether any will."""
        model = self.model
        if self.node == self.home:
            slot = model.random.randrange(len(self.anchors))
            dest = self.anchors[slot]
        else:  # at the activity place the last leg went to
            slot, dest = self._slot + len(self.anchors), self.home
        route = self._routes[slot] or self._work_out(slot)
        path, along, attractiveness, total, length = route
        depart = now + wait_min
        self._path, self._along, self._depart = path, along, depart
        self._slot, self._dest = slot, dest
        exposure = uses = boost = None
        clock = model.clock
        if clock.exposes:  # by land use, at the hour of departure
            hour = hour_of(depart)
            uses, by_hour = self._uses[slot] or self._land_use(slot)
            total = by_hour[hour]
            exposure = clock.exposure(depart)
        if self._boosts:
            lift = self._boost(slot, depart)
            if lift is not None:
                extra, extra_total, exposed, fade = lift
                if exposure is not None:
                    extra_total = exposed[hour]
                total += extra_total * fade
                boost = (extra, fade)
        self._chances = model.targets.met(path, depart, attractiveness, total, exposure, uses,
                                          boost)
        if self._chances:
            self._schedule_next()
            return True
        model.trips.expect(self.index, depart + length / self.speed)  # what passing(-1) gives
        return False

    def _work_out(self, slot: int) -> tuple:
        """A slot's shortest route; on two-way streets the way back is the way there
        reversed, which spares a shortest-path tree toward every offender's home."""
        k = len(self.anchors)
        anchor = self.anchors[slot % k]
        source, target = (self.home, anchor) if slot < k else (anchor, self.home)
        back = self._routes[(slot + k) % (2 * k)]
        router = self.model.city.router
        if back is None or not router.two_way:
            path, along = router.route(source, target)
        else:
            path, along = back[0][::-1].copy(), back[1][-1] - back[1][::-1]
        attractiveness = self.model.city.attractiveness[path]
        route = self._routes[slot] = (path, along, attractiveness, float(attractiveness.sum()),
                                      along.item(-1))
        return route

    def _land_use(self, slot: int) -> tuple[np.ndarray, list[float]]:
        """A slot's route places' land uses, and their attractiveness summed as exposed at
        each hour of the day."""
        path, _, attractiveness, _, _ = self._routes[slot]
        uses = self.model.city.land_use[path]
        found = self._uses[slot] = (uses, self.model.clock.exposed_by_hour(uses, attractiveness))
        return found

    # --- coming back to where a crime paid ------------------------------------------------

    def remember(self, node: int, time: float) -> None:
        """A crime at ``node`` ended without arrest on the scene: come back more readily."""
        s = self.settings
        if s.repeat_boost == 0 or s.near_repeat_radius_m == 0:
            return
        self._boosts.append((node, time))
        for weights in self._boost_weights:
            weights.append(None)
        if len(self._boosts) > MAX_BOOSTS:
            del self._boosts[0]
            for weights in self._boost_weights:
                del weights[0]
        self._boost_lift = [None] * len(self._boost_lift)

    def _boost(self, slot: int, when: float) -> tuple[np.ndarray, float, list | None,
                                                      float] | None:
        """What remembered crimes add to the attractiveness of a route's places for this
        offender, as of the newest, its sum, its sums as exposed at each hour of the day
        (None if the hour does not matter), and how much of it is left at ``when``: each adds
        ``repeat_boost`` times a place's attractiveness at the remembered place, falling
        linearly to nothing at the radius, fading with ``near_repeat_days``. None if nothing
        remembered is near the route, or all has faded."""
        s = self.settings
        tau = s.near_repeat_days * MINUTES_PER_DAY
        newest = self._boosts[-1][1]
        fade = math.exp((newest - when) / tau)
        if fade * s.repeat_boost < FADED:
            self._boosts.clear()
            for weights in self._boost_weights:
                weights.clear()
            return None
        lift = self._boost_lift[slot]
        if lift is None:
            lift = self._boost_lift[slot] = self._lift(slot, newest, tau)
        return None if lift is False else (*lift, fade)

    def _lift(self, slot: int, newest: float, tau: float) -> tuple[np.ndarray, float,
                                                                   list | None] | bool:
        s = self.settings
        path, _, attractiveness, _, _ = self._routes[slot]
        weights = self._boost_weights[slot]
        total = None
        for k, (node, time) in enumerate(self._boosts):
            w = weights[k]
            if w is None:
                w = weights[k] = self._nearness(slot, k, path, node)
            if w is not False:
                part = math.exp((time - newest) / tau) * w
                total = part if total is None else total + part
        if total is None:
            return False
        extra = s.repeat_boost * total * attractiveness
        exposed = None
        clock = self.model.clock
        if clock.exposes:  # summed by land use, as the route's own attractiveness is
            exposed = clock.exposed_by_hour((self._uses[slot] or self._land_use(slot))[0], extra)
        return extra, float(extra.sum()), exposed

    def _nearness(self, slot: int, k: int, path: np.ndarray, node: int) -> np.ndarray | bool:
        """How near each place of a slot's route is to the k-th remembered crime, at
        ``node``: 1 there, falling linearly to nothing at the radius; False if no place is
        within it. On two-way streets the way back passes the way there's places in reverse
        (``_work_out``), so either direction's weights, once known, give the other's."""
        k_anchors = len(self.anchors)
        back = self._boost_weights[(slot + k_anchors) % (2 * k_anchors)][k]
        if back is not None and self.model.city.router.two_way:
            return back if back is False else back[::-1]
        radius = self.settings.near_repeat_radius_m
        xy = self.model.city.xy
        d = np.hypot(*(xy[path] - xy[node]).T)
        if d.min() >= radius:
            return False
        weight = 1.0 - d / radius
        np.maximum(weight, 0.0, out=weight)
        return weight

    def routes(self) -> dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]:
        """The routes worked out so far, by (from, to): places and metres on reaching each."""
        return {(r[0].item(0), r[0].item(-1)): (r[0], r[1]) for r in self._routes if r}

    def leg(self) -> tuple[np.ndarray, np.ndarray, float]:
        """The current leg: its intersections, metres travelled on reaching each, and when it
        departs (or departed)."""
        return self._path, self._along, self._depart

    def passing(self, index: int) -> float:
        """When the current leg passes its index-th intersection."""
        return self._depart + self._along.item(index) / self.speed

    def _schedule_next(self) -> None:
        if self._chances:
            self._event = self.model.agenda.at(self.passing(self._chances[0]), self.meet_target)
        else:
            self._event = None
            self.model.trips.expect(self.index, self.passing(-1))

    def meet_target(self) -> None:
        """A suitable target at a place on the way: offend or be deterred."""
        index = self._chances.pop(0)
        model = self.model
        self.node = node = self._path.item(index)
        cameras = model.cameras.in_view(node)
        camera_risk = model.beliefs.camera_risk(self.index, cameras)
        police = model.presence.present(node, model.time)
        if self.random.random() < self.offend_prob(camera_risk, police):
            self._chances.clear()  # one crime per trip
            self.crimes += 1
            model.commit_crime(self, node, cameras, camera_risk, police)
        else:
            model.recorder.deterred(node)
            if self.random.random() >= self.settings.displacement_prob:
                self._chances.clear()
        if self.free:
            self._schedule_next()

    def perceived_risk(self, camera_risk: float, police: bool) -> float:
        """Risk of arrest as this offender sees it: by police alone, through the cameras in
        view, and from police in sight."""
        safe = (1.0 - self.model.beliefs.police.item(self.index)) * (1.0 - camera_risk)
        if police:
            safe *= 1.0 - self.model.config.police.presence_risk
        return 1.0 - safe

    def offend_prob(self, camera_risk: float, police: bool) -> float:
        return (1.0 - self.perceived_risk(camera_risk, police)) ** self.settings.risk_aversion

    # --- arrest ---------------------------------------------------------------------------

    def position(self, now: float) -> int:
        """Where the offender is at a time on the current leg (for maps)."""
        if not self.free:
            return self.node
        times = self._depart + self._along / self.speed
        i = int(np.searchsorted(times, now, side="right")) - 1
        return int(self._path[max(i, 0)])

    def jail(self) -> None:
        """Arrested: off the streets for a sentence, then back home."""
        if self._event is not None:
            self.model.agenda.cancel(self._event)
            self._event = None
        self.model.trips.cancel(self.index)
        self.state = State.JAILED
        self.arrests += 1
        self._chances.clear()
        sentence = self.random.expovariate(1.0 / self.settings.sentence_days) \
            if self.settings.sentence_days > 0 else 0.0
        self._event = self.model.agenda.after(sentence * MINUTES_PER_DAY, self.release)

    def release(self) -> None:
        self._event = None
        self.state = State.FREE
        self.node = self.home
        self._plan_leg(self.model.time, 0.0)
