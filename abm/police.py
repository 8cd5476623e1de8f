"""Police units: patrol between calls, drive to incidents, stay busy at the scene.

Patrol stops deter (Koper: 10-15 minute stops, residual deterrence after leaving); a unit on a
call is unavailable, which is how a thin force lengthens response times. Where a unit patrols
is ``abm.patrol``'s; who is sent to a call is ``abm.dispatch``'s.
"""

from __future__ import annotations

from enum import Enum, auto
from typing import TYPE_CHECKING

import mesa
import numpy as np

from abm.config import PoliceSettings
from abm.patrol import TOUR_STOPS, Leg, PatrolPool, Tour

if TYPE_CHECKING:
    from abm.crimes import Crime
    from abm.model import SafeCityModel


class Duty(Enum):
    PATROL = auto()
    RESPONDING = auto()
    AT_SCENE = auto()


class PoliceUnit(mesa.Agent):
    """One patrol car and its crew.

    On patrol a unit plans a tour of stops at once, up to the next time hot spots are re-read;
    it needs no event until the tour ends, a call takes it away, or its patrol orders change.
    ``node`` is where the unit was when something last happened to it (a tour began or ended,
    it reached or left a scene, was called away); where it is at any moment, on the road or at
    a stop, is ``position(now)``, which maps and dispatch use.
    """

    def __init__(self, model: SafeCityModel, node: int, beat: PatrolPool) -> None:
        super().__init__(model)
        self.node = node
        self.beat = beat
        self.duty = Duty.PATROL
        self.call: Crime | None = None
        # The leg driven to a call (or standing still at first) and the times of passing its
        # intersections; on patrol the tour's legs apply.
        self._leg = Leg(node, node, 0.0, 0.0, 0.0)
        self._path = np.array([node], dtype=np.intp)
        self._times = np.array([0.0])
        self._event: list | None = None  # the next entry on the model's agenda
        self._tour: Tour | None = None
        self.speed = self.settings.speed_kmh * 1000.0 / 60.0  # metres per minute
        self.calls_answered = 0
        # Patrol stops reached and left before the tour under way (see ``reached``, ``left``).
        self.stops_reached = self.stops_left = 0
        self.off_duty = False
        self.row = model.presence.enroll()  # its row of planned stops in Presence

    @property
    def settings(self) -> PoliceSettings:
        return self.model.config.police

    @property
    def free(self) -> bool:
        return self.duty is Duty.PATROL

    # --- patrol ---------------------------------------------------------------------------

    def patrol(self) -> None:
        """Plan a tour of patrol stops from here and drive it.

        Each stop is a place of the unit's patrol pool drawn at random among those other than
        the previous stop (or where the unit is), reached by the shortest route and kept for
        the dwell time; its deterrence is planned to start on arrival (and dropped if a call
        takes the unit away first). The tour ends with the stop under way when hot spots are
        next re-read (``Patrol.horizon``), or after ``TOUR_STOPS``. Only its end is an event.
        """
        self.duty = Duty.PATROL
        model, s = self.model, self.settings
        now, here = model.time, self.node
        pool = model.patrol.pool(self)
        picks = pool.draw(here, model.rng.random(TOUR_STOPS))
        places = pool.index[picks]
        metres = pool.metres(here, picks)
        if not np.isfinite(metres).all():
            k = int(np.argmin(np.isfinite(metres)))
            raise ValueError(f"no route from {places[k - 1] if k else here} to {places[k]}")
        # Driving and dwelling, summed in the order the unit lives them.
        steps = np.empty(2 * TOUR_STOPS + 1)
        steps[0], steps[1::2], steps[2::2] = now, metres / self.speed, s.dwell_min
        times = np.cumsum(steps)
        leave = times[2::2]
        horizon = model.patrol.horizon(now)
        count = min(int(np.searchsorted(leave, horizon)) + 1, TOUR_STOPS)
        if leave[count - 1] <= now:  # no time would pass (one place, no dwell): stay there
            count, leave[0] = 1, horizon
        arrive = times[1:2 * count:2]
        self._tour = Tour(model.presence, self.row, here, now, places[:count], metres[:count],
                          arrive, leave[:count], s.dwell_min + self.residual(s.dwell_min))
        self._event = model.agenda.at(self._tour.leave[-1], self.end_tour)

    def end_tour(self) -> None:
        """The tour's last dwell is over: the unit is at its last stop; plan the next tour."""
        tour = self._tour
        self.stops_reached += len(tour.places)
        self.stops_left += len(tour.places)
        self._tour = None
        self._event = None
        self.node = tour.places[-1]
        self.patrol()

    def replan(self) -> None:
        """Patrol orders changed (new hot spots, new settings): keep to the stop the unit is
        heading for or at, and plan afresh from there."""
        if self._tour is None:
            return
        k = self._tour.current(self.model.time)
        self._tour.cut_after(k)
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
        self._drive(path, along)
        self._event = self.model.agenda.at(self._leg.arrive, self.reach_scene)

    def reach_scene(self) -> None:
        self._event = None
        self.node = self._leg.end
        self.duty = Duty.AT_SCENE
        self.calls_answered += 1
        s = self.settings
        self.model.presence.guard(
            self.node, self.model.time + s.scene_time_min + self.residual(s.scene_time_min))
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
        self.model.presence.withdraw(self.row)
        self.model.leaving.remove(self)
        self.remove()

    # --- movement -------------------------------------------------------------------------

    def leg(self, now: float) -> Leg:
        """The leg the unit is on (or has finished) at ``now``: toward the stop it is heading
        for or at on patrol, toward the scene on a call."""
        return self._tour.leg(now) if self._tour is not None else self._leg

    def position(self, now: float) -> int:
        """The last intersection passed at a time (for dispatch and maps)."""
        if self._tour is not None:
            leg = self._tour.leg(now)
            if now >= leg.arrive:  # arrived (or stopped): the leg's last place
                return leg.end
            return self._passed(leg, now)  # a patrol leg: follow its tree as far as driven
        if now >= self._leg.arrive:
            return self._leg.end
        i = int(np.searchsorted(self._times, now, side="right")) - 1
        return int(self._path[min(max(i, 0), len(self._path) - 1)])

    def _passed(self, leg: Leg, now: float) -> int:
        """The last intersection passed by ``now`` on a patrol leg: its shortest route from
        the tree toward its end, with the passing times the full route would give, followed
        only as far as needed."""
        dist, nxt = self.model.city.router.tree_to(leg.end)
        step, metres = memoryview(nxt), memoryview(dist)
        node, start, depart, speed = leg.start, dist.item(leg.start), leg.depart, self.speed
        while node != leg.end:
            following = step[node]
            if depart + (start - metres[following]) / speed > now:
                break
            node = following
        return node

    def stopped_at(self, now: float) -> int | None:
        """Where the unit is stopped now (at a stop or a scene), or None while driving."""
        leg = self.leg(now)
        return leg.end if now >= leg.arrive else None

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
            self._tour = None

    def _drive(self, path: np.ndarray, along: np.ndarray) -> None:
        """Drive along a given route from now."""
        now = self.model.time
        self._path = path
        self._times = now + along / self.speed
        self._leg = Leg(path.item(0), path.item(-1), now, self._times.item(-1), along.item(-1))
