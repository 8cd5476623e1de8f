"""Police units: patrol between calls, drive to incidents, stay busy at the scene.

Patrol stops deter (Koper: 10-15 minute stops, residual deterrence after leaving); a unit on a
call is unavailable, which is how a thin force lengthens response times.
"""

from __future__ import annotations

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


class PoliceUnit(CellAgent):
    """One patrol car and its crew."""

    def __init__(self, model: SafeCityModel, node: int, beat: np.ndarray) -> None:
        super().__init__(model)
        self.node = node
        self.beat = beat
        self.duty = Duty.PATROL
        self.cell = model.space[node]
        self.call: Crime | None = None
        self._path = np.array([node], dtype=np.intp)
        self._times = np.array([0.0])
        self._end = 0.0  # when the current leg ends (a Python float: cheap to compare)
        self._event = None
        self._speed = self.settings.speed_kmh * 1000.0 / 60.0  # metres per minute
        self.calls_answered = 0

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
        """Drive to the next patrol stop."""
        self.duty = Duty.PATROL
        self._drive(self._patrol_target(), self.stop)

    def stop(self) -> None:
        """At a patrol stop: deter for the dwell time, then move on."""
        self._arrive()
        s = self.settings
        self.model.guard(self.node, self.model.time + s.dwell_min + s.residual_deterrence_min)
        self._event = self.model.schedule_event(self.patrol, after=s.dwell_min)

    # --- calls ----------------------------------------------------------------------------

    def respond(self, call: Crime, path: np.ndarray, along: np.ndarray) -> None:
        """Leave patrol (wherever the car is now) and drive to a call."""
        self._interrupt()
        self.duty = Duty.RESPONDING
        self.call = call
        self._set_leg(path, along)
        self._event = self.model.schedule_event(self.reach_scene, at=self._end)

    def reach_scene(self) -> None:
        self._arrive()
        self.duty = Duty.AT_SCENE
        self.calls_answered += 1
        s = self.settings
        self.model.guard(self.node, self.model.time + s.scene_time_min + s.residual_deterrence_min)
        self.call.respond()
        self._event = self.model.schedule_event(self.clear_scene, after=s.scene_time_min)

    def clear_scene(self) -> None:
        self.call = None
        self.duty = Duty.PATROL
        self.model.dispatcher.unit_free(self)

    # --- movement -------------------------------------------------------------------------

    def position(self, now: float) -> int:
        """The last intersection passed at a time (for dispatch and maps)."""
        if now >= self._end:  # arrived (or stopped): the leg's last place
            return self._path.item(-1)
        i = int(np.searchsorted(self._times, now, side="right")) - 1
        return int(self._path[min(max(i, 0), len(self._path) - 1)])

    def _interrupt(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        self.node = self.position(self.model.time)
        self.cell = self.model.space[self.node]

    def _set_leg(self, path: np.ndarray, along: np.ndarray) -> None:
        self._path = path
        self._times = self.model.time + along / self._speed
        self._end = self._times.item(-1)

    def _drive(self, target: int, on_arrival) -> None:
        path, along = self.model.city.router.route(self.node, target)
        self._set_leg(path, along)
        self._event = self.model.schedule_event(on_arrival, at=self._end)

    def _arrive(self) -> None:
        self._event = None
        self.node = self._path.item(-1)
        self.cell = self.model.space[self.node]
