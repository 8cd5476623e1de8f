"""Offenders: routine trips between home and activity places, opportunities met on the way.

A crime needs a motivated offender, a suitable target and no capable guardian (routine activity
theory). Offenders decide on *perceived* risk: they cannot see whether a camera works or is
watched, and learn it from what happens to them and to their peers.
"""

from __future__ import annotations

from enum import Enum, auto
from typing import TYPE_CHECKING

import numpy as np
from mesa.discrete_space import CellAgent

from abm.config import OffenderSettings

if TYPE_CHECKING:
    from abm.model import SafeCityModel


class State(Enum):
    AT_PLACE = auto()
    TRAVELLING = auto()
    JAILED = auto()


class CameraBeliefs:
    """Every offender's perceived risk of arrest when offending under a camera.

    Beliefs move toward outcomes seen: one's own crimes under a camera (caught or not) and, with
    some chance, those peers hear about. Kept as one array so word of mouth is one vector update.
    """

    def __init__(self, model: SafeCityModel, count: int) -> None:
        self.model = model
        self.risk = np.full(count, model.config.offenders.initial_camera_risk)

    def learn(self, index: int, caught: bool, weight: float) -> None:
        self.risk[index] += weight * (float(caught) - self.risk[index])

    def spread(self, source: int, caught: bool) -> None:
        """Peers hear of one outcome under a camera and revise their belief a little."""
        s = self.model.config.offenders
        if s.peer_observation_prob == 0 or s.peer_learning_rate == 0 or len(self.risk) < 2:
            return
        hear = self.model.rng.random(len(self.risk)) < s.peer_observation_prob
        hear[source] = False
        self.risk[hear] += s.peer_learning_rate * (float(caught) - self.risk[hear])

    def mean(self) -> float:
        return float(self.risk.mean()) if len(self.risk) else float("nan")


class Offender(CellAgent):
    """A motivated offender with a home, a few activity places and a belief about cameras."""

    def __init__(self, model: SafeCityModel, index: int, home: int, anchors: np.ndarray) -> None:
        super().__init__(model)
        self.index = index
        self.home = home
        self.anchors = anchors.tolist()  # activity places (node ids)
        self.state = State.AT_PLACE
        self.crimes = 0
        self.arrests = 0
        self.cell = model.space[home]
        self.node = home
        # The current leg: its intersections, metres travelled on reaching each, and the
        # departure time; the times of passing them are worked out when asked for.
        self._path = np.array([home], dtype=np.intp)
        self._along = np.array([0.0])
        self._depart = 0.0
        self._chances: list[int] = []  # indices into the path where a target was met
        # Routes of this offender's trips (few: home to each activity place and back), with
        # the attractiveness of the places on them, its sum and the route's length.
        self._routes: dict[tuple[int, int], tuple] = {}
        self._event: list | None = None  # the next entry on the model's agenda
        self._speed = self.settings.speed_kmh * 1000.0 / 60.0  # metres per minute

    @property
    def settings(self) -> OffenderSettings:
        return self.model.config.offenders

    @property
    def free(self) -> bool:
        return self.state is not State.JAILED

    def start(self) -> None:
        """Begin the routine: leave home after a random part of a home stay."""
        self._plan_leg(self.random.random() * self.settings.dwell_home_h * 60.0)

    # --- routine trips --------------------------------------------------------------------

    def _next_place(self) -> int:
        if self.node == self.home:
            return self.anchors[self.random.randrange(len(self.anchors))]
        return self.home

    def _plan_leg(self, wait_min: float) -> None:
        """Choose the next place, the route there, and where targets will turn up on the way."""
        model = self.model
        key = (self.node, self._next_place())
        route = self._routes.get(key)
        if route is None:
            path, along = self._route(*key)
            attractiveness = model.city.attractiveness[path]
            route = self._routes[key] = (path, along, attractiveness, attractiveness.sum(),
                                         along.item(-1))
        path, along, attractiveness, total, length = route
        depart = model.time + wait_min
        self._path, self._along, self._depart = path, along, depart
        self._chances = model.targets_met(path, depart, attractiveness, total)
        self.state = State.TRAVELLING
        if self._chances:
            self._schedule_next()
        else:  # almost every trip: straight to its end (what ``_passing(-1)`` gives)
            self._event = model.agenda.at(depart + length / self._speed, self.arrive)

    def _route(self, source: int, target: int) -> tuple[np.ndarray, np.ndarray]:
        """The shortest route; on two-way streets the way back is the way there reversed,
        which spares a shortest-path tree toward every offender's home."""
        back = self._routes.get((target, source))
        router = self.model.city.router
        if back is None or not router.two_way:
            return router.route(source, target)
        path, along = back[0], back[1]
        return path[::-1].copy(), along[-1] - along[::-1]

    def _passing(self, index: int) -> float:
        """When the current leg passes its index-th intersection."""
        return self._depart + self._along.item(index) / self._speed

    def _schedule_next(self) -> None:
        if self._chances:
            self._event = self.model.agenda.at(self._passing(self._chances[0]), self.meet_target)
        else:
            self._event = self.model.agenda.at(self._passing(-1), self.arrive)

    def arrive(self) -> None:
        """Reach the destination and stay a while."""
        self.node = node = self._path.item(-1)
        self.cell = self.model.space[node]
        self.state = State.AT_PLACE
        s = self.settings
        mean_h = s.dwell_home_h if node == self.home else s.dwell_activity_h
        self._plan_leg(self.random.expovariate(1.0 / (mean_h * 60.0)))

    def meet_target(self) -> None:
        """A suitable target at a place on the way: offend or be deterred."""
        index = self._chances.pop(0)
        self.node = self._path.item(index)
        self.cell = self.model.space[self.node]
        perceived_camera = bool(self.model.cameras.installed
                                and self.model.cameras.perceived[self.node])
        police = self.model.police_present(self.node)
        if self.random.random() < self.offend_prob(perceived_camera, police):
            self._chances.clear()  # one crime per trip
            self.crimes += 1
            self.model.commit_crime(self, self.node, perceived_camera, police)
        else:
            self.model.recorder.deterred(self.node)
            if self.random.random() >= self.settings.displacement_prob:
                self._chances.clear()
        if self.free:
            self._schedule_next()

    def perceived_risk(self, camera: bool, police: bool) -> float:
        s = self.settings
        safe = (1.0 - s.base_risk) * (1.0 - (self.camera_risk if camera else 0.0))
        if police:
            safe *= 1.0 - self.model.config.police.presence_risk
        return 1.0 - safe

    def offend_prob(self, camera: bool, police: bool) -> float:
        return (1.0 - self.perceived_risk(camera, police)) ** self.settings.risk_aversion

    # --- learning and arrest --------------------------------------------------------------

    @property
    def camera_risk(self) -> float:
        return float(self.model.beliefs.risk[self.index])

    def learn(self, caught: bool) -> None:
        """An outcome under a camera: revise own belief, and peers may hear of it."""
        self.model.beliefs.learn(self.index, caught, self.settings.learning_rate)
        self.model.beliefs.spread(self.index, caught)

    def position(self, now: float) -> int:
        """Where the offender is at a time on the current leg (for maps)."""
        if self.state is not State.TRAVELLING:
            return self.node
        times = self._depart + self._along / self._speed
        i = int(np.searchsorted(times, now, side="right")) - 1
        return int(self._path[max(i, 0)])

    def jail(self) -> None:
        """Arrested: off the streets for a sentence, then back home."""
        if self._event is not None:
            self.model.agenda.cancel(self._event)
            self._event = None
        self.state = State.JAILED
        self.arrests += 1
        self._chances.clear()
        self.cell = None
        sentence = self.random.expovariate(1.0 / self.settings.sentence_days) \
            if self.settings.sentence_days > 0 else 0.0
        self._event = self.model.agenda.after(sentence * 1440.0, self.release)

    def release(self) -> None:
        self.state = State.AT_PLACE
        self.node = self.home
        self.cell = self.model.space[self.home]
        self._plan_leg(0.0)
