"""Cameras that fail and get repaired, the coverage index, and the control room that watches.

Uptime is an outcome of failure and repair processes, not a constant: each camera fails on its
own (hardware, blocked view) and with its cable or power segment (correlated outages). Some
failures can be seen from the street (a dismantled camera, foliage across the lens), most cannot
(a cut cable, dead electronics): a camera that looks broken deters nobody who sees it, one that
looks fine deters by what offenders believe of it. A camera detects live only if an operator
happens to be watching its feed; a working camera also records footage that can identify an
offender later.
"""

from __future__ import annotations

import random
from array import array
from enum import IntEnum, IntFlag
from typing import TYPE_CHECKING

import numpy as np
from mesa.discrete_space import FixedAgent

from abm.config import CameraSettings
from abm.placement import place
from abm.units import MINUTES_PER_DAY

if TYPE_CHECKING:
    from abm.model import SafeCityModel


class Fault(IntFlag):
    """Why a camera is down; it is up only when it has none."""

    NONE = 0
    HARDWARE = 1
    VIEW_BLOCKED = 2
    CABLE_CUT = 4
    NOT_INSTALLED = 8


class Zone(IntEnum):
    """Where a place lies relative to camera coverage, for displacement analysis."""

    COVERAGE = 0
    BUFFER = 1
    ELSEWHERE = 2

    @property
    def label(self) -> str:
        """The zone's name in outputs (``crimes_buffer``, the zones table)."""
        return self.name.lower()


# UK Home Office operator test: detection accuracy against monitors watched per operator.
MONITORS = np.array([1.0, 4.0, 6.0, 9.0])
ACCURACY = np.array([0.85, 0.74, 0.58, 0.53])


def detection_accuracy(feeds_per_operator: float) -> float:
    """Chance an operator notices an incident on a watched feed (flat beyond 9 monitors)."""
    return float(np.interp(feeds_per_operator, MONITORS, ACCURACY))


def days(d: float) -> float:
    return d * MINUTES_PER_DAY


class Camera(FixedAgent):
    """A fixed camera watching the street places within its range."""

    def __init__(self, model: SafeCityModel, cell, index: int, watched: np.ndarray) -> None:
        super().__init__(model)
        self.cell = cell
        self.index = index
        self.node = cell.coordinate
        self.watched = watched
        self.faults = Fault.NOT_INSTALLED
        self.seen = Fault.NONE  # faults that can be seen from the street
        self._pending = Fault.NONE  # faults with a repair booked
        self._obstruction = None  # the next blocked view, when one is due

    @property
    def up(self) -> bool:
        return self.faults == Fault.NONE

    @property
    def settings(self) -> CameraSettings:
        return self.model.config.cameras

    def install(self) -> None:
        self.model.cameras.clear_fault(self, Fault.NOT_INSTALLED)
        share = self.settings.initial_down_share
        if share and self.model.cameras.random.random() < share:
            self.fail()  # broken from the start; repaired (if at all) as any failure is
        else:
            self._schedule_failure()
        self._schedule_obstruction()

    def _after_days(self, mean_days: float) -> float:
        return days(self.model.cameras.random.expovariate(1.0 / mean_days))

    def _schedule_failure(self) -> None:
        self.model.schedule_event(self.fail, after=self._after_days(self.settings.mtbf_days))

    def _schedule_obstruction(self) -> None:
        mean = self.settings.obstruction_mtbf_days
        self._obstruction = (self.model.schedule_event(self.block_view,
                                                       after=self._after_days(mean))
                             if mean else None)

    def reschedule_obstruction(self) -> None:
        """Views start or stop getting blocked (a timeline change, or a fork's settings):
        a view clear and none due gets one; none are due once they are off."""
        if not self.settings.obstruction_mtbf_days:
            if self._obstruction is not None:
                self._obstruction.cancel()
                self._obstruction = None
        elif self._obstruction is None and not self.faults & Fault.VIEW_BLOCKED:
            self._schedule_obstruction()

    @property
    def looks_down(self) -> bool:
        return bool(self.seen)

    def fail(self) -> None:
        system = self.model.cameras
        visible = system.random.random() < self.settings.hardware_visible_share
        system.set_fault(self, Fault.HARDWARE, visible)
        self.schedule_repairs()

    def repair(self) -> None:
        self.model.cameras.clear_fault(self, Fault.HARDWARE)
        self._pending &= ~Fault.HARDWARE
        self._schedule_failure()

    def block_view(self) -> None:
        self._obstruction = None
        system = self.model.cameras
        visible = system.random.random() < self.settings.obstruction_visible_share
        system.set_fault(self, Fault.VIEW_BLOCKED, visible)
        self.schedule_repairs()

    def clear_view(self) -> None:
        self.model.cameras.clear_fault(self, Fault.VIEW_BLOCKED)
        self._pending &= ~Fault.VIEW_BLOCKED
        self._schedule_obstruction()

    def schedule_repairs(self) -> None:
        """Book a repair for each fault not yet booked, if anyone is obliged to repair."""
        if not self.settings.repair:
            return
        for fault, fix, mean in ((Fault.HARDWARE, self.repair, self.settings.mttr_days),
                                 (Fault.VIEW_BLOCKED, self.clear_view,
                                  self.settings.obstruction_mttr_days)):
            if self.faults & fault and not self._pending & fault:
                self._pending |= fault
                self.model.schedule_event(fix, after=self._after_days(mean))


class CableSegment:
    """Cameras sharing one cable or power feed: a cut takes them all down together."""

    def __init__(self, system: CameraSystem, members: list[Camera]) -> None:
        self.system = system
        self.members = members
        self.is_cut = False
        self._repair_booked = False

    @property
    def settings(self) -> CameraSettings:
        return self.system.settings

    def energise(self) -> None:
        self._schedule_cut()

    def _schedule_cut(self) -> None:
        delay = days(self.system.random.expovariate(1.0 / self.settings.group_mtbf_days))
        self.system.model.schedule_event(self.cut, after=delay)

    def cut(self) -> None:
        self.is_cut = True
        for camera in self.members:
            self.system.set_fault(camera, Fault.CABLE_CUT)
        self.schedule_repair()

    def schedule_repair(self) -> None:
        if self.settings.repair and self.is_cut and not self._repair_booked:
            self._repair_booked = True
            delay = days(self.system.random.expovariate(1.0 / self.settings.group_mttr_days))
            self.system.model.schedule_event(self.restore, after=delay)

    def restore(self) -> None:
        self.is_cut = self._repair_booked = False
        for camera in self.members:
            self.system.clear_fault(camera, Fault.CABLE_CUT)
        self._schedule_cut()


class CameraSystem:
    """All cameras, their coverage index, their health over time and the control room."""

    def __init__(self, model: SafeCityModel, settings: CameraSettings) -> None:
        self.model = model
        self.settings = settings
        # The cameras' own stream, spawned from the model's generator without advancing it, so a
        # twin run without cameras shares every other draw (common random numbers).
        self.rng = model.rng.spawn(1)[0]
        self.random = random.Random(int(self.rng.integers(2**63)))
        city = model.city
        n = city.n
        nodes = place(model, settings, self.rng)
        self.cameras: list[Camera] = []
        cover_count = np.zeros(n, dtype=np.int32)
        for i, node in enumerate(nodes):
            watched = city.within(int(node), settings.range_m)
            cover_count[watched] += 1
            self.cameras.append(Camera(model, model.space[int(node)], i, watched))
        self.nodes = nodes
        self.covered = cover_count > 0  # places watched by at least one installed camera
        self.cover_count = cover_count
        self.working = np.zeros(n, dtype=np.int32)  # working cameras watching each place
        # Which cameras offenders at each place believe can see them (CSR by place).
        self._view_start, self._view = self._in_range(
            nodes, settings.range_m * settings.perceived_range_factor)
        self.looks_down = np.zeros(len(nodes), dtype=bool)  # a fault seen from the street
        buffer = self._within_any(nodes, settings.range_m + settings.buffer_m)
        self.zone = np.full(n, Zone.ELSEWHERE, dtype=np.int8)
        self.zone[buffer] = Zone.BUFFER
        self.zone[self.covered] = Zone.COVERAGE
        self.installed = False
        self.segments = self._segments(self.rng)
        self.up_count = 0
        self._changes = array("d")  # (minute, camera, 1 up / 0 down) after one another
        self._up_minutes = 0.0
        self._installed_minutes = 0.0
        self._last_change = 0.0

    # --- construction ---------------------------------------------------------------------

    def _in_range(self, nodes: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
        """For every place, the cameras within a radius: (start of each place's run, camera
        indices), places in order."""
        n = self.model.city.n
        if not len(nodes):
            return np.zeros(n + 1, dtype=np.intp), np.zeros(0, dtype=np.intp)
        hits = self.model.city.kdtree.query_ball_point(self.model.city.xy[nodes], radius)
        places = np.concatenate([np.asarray(h, dtype=np.intp) for h in hits])
        cams = np.repeat(np.arange(len(nodes), dtype=np.intp), [len(h) for h in hits])
        order = np.lexsort((cams, places))
        start = np.zeros(n + 1, dtype=np.intp)
        np.cumsum(np.bincount(places, minlength=n), out=start[1:])
        return start, cams[order]

    def _within_any(self, nodes: np.ndarray, radius: float) -> np.ndarray:
        mask = np.zeros(self.model.city.n, dtype=bool)
        if len(nodes):
            for hits in self.model.city.kdtree.query_ball_point(self.model.city.xy[nodes],
                                                                radius):
                mask[hits] = True
        return mask

    def _segments(self, rng: np.random.Generator) -> list[CableSegment]:
        """Group cameras into contiguous segments: each joins its nearest segment head."""
        if not self.cameras:
            return []
        k = min(self.settings.groups, len(self.cameras))
        heads = rng.choice(len(self.cameras), size=k, replace=False)
        xy = self.model.city.xy[self.nodes]
        d = np.linalg.norm(xy[:, None, :] - xy[heads][None, :, :], axis=2)
        which = np.argmin(d, axis=1)
        return [CableSegment(self, [c for c in self.cameras if which[c.index] == g])
                for g in range(k)]

    # --- health over time -----------------------------------------------------------------

    def install(self) -> None:
        """Cameras go live: failure processes start."""
        self._account()
        self.installed = True
        for camera in self.cameras:
            camera.install()
        for segment in self.segments:
            segment.energise()

    def reschedule_obstructions(self) -> None:
        """Blocked views start or stop (``Camera.reschedule_obstruction``); nothing to do
        before the cameras go live, which schedules them as the settings say then."""
        if self.installed:
            for camera in self.cameras:
                camera.reschedule_obstruction()

    def resume_repairs(self) -> None:
        """A maintenance contract starts: book repairs for everything broken and unbooked."""
        for camera in self.cameras:
            camera.schedule_repairs()
        for segment in self.segments:
            segment.schedule_repair()

    def _account(self) -> None:
        now = self.model.time
        dt = now - self._last_change
        self._up_minutes += self.up_count * dt
        if self.installed:
            self._installed_minutes += len(self.cameras) * dt
        self._last_change = now

    def set_fault(self, camera: Camera, fault: Fault, visible: bool = False) -> None:
        was_up = camera.up
        camera.faults |= fault
        if visible:
            camera.seen |= fault
            self.looks_down[camera.index] = True
        if was_up:
            self._account()
            self._changes.extend((self.model.time, camera.index, 0.0))
            self.up_count -= 1
            self.working[camera.watched] -= 1

    def clear_fault(self, camera: Camera, fault: Fault) -> None:
        was_up = camera.up
        camera.faults &= ~fault
        camera.seen &= ~fault
        self.looks_down[camera.index] = bool(camera.seen)
        if camera.up and not was_up:
            self._account()
            self._changes.extend((self.model.time, camera.index, 1.0))
            self.up_count += 1
            self.working[camera.watched] += 1

    def up_minutes(self) -> float:
        """Camera-minutes spent up so far."""
        self._account()
        return self._up_minutes

    def changes(self) -> np.ndarray:
        """Every time a camera went up or down so far, in order: rows (minute, camera, 1 up or
        0 down)."""
        return np.frombuffer(self._changes, dtype=float).reshape(-1, 3).copy()

    def uptime(self) -> float:
        """Realised fraction of installed camera-time that cameras were up (NaN before)."""
        self._account()
        if self._installed_minutes == 0:
            return float("nan")
        return self._up_minutes / self._installed_minutes

    # --- what offenders see -----------------------------------------------------------------

    def in_view(self, node: int) -> np.ndarray:
        """Installed cameras that offenders at a place believe can see them and that do not
        look broken (camera indices, ascending)."""
        if not self.installed:
            return self._view[:0]
        cams = self._view[self._view_start[node]:self._view_start[node + 1]]
        if len(cams):
            cams = cams[~self.looks_down[cams]]
        return cams

    def in_perceived_range(self) -> np.ndarray:
        """Per place: whether offenders there believe some camera can see them (whatever its
        state)."""
        return np.diff(self._view_start) > 0

    def perceived_coverage(self) -> float:
        """Share of places within view of an installed camera that does not look broken."""
        n = self.model.city.n
        if not self.installed or not self.cameras:
            return 0.0
        places = np.repeat(np.arange(n), np.diff(self._view_start))
        return len(np.unique(places[~self.looks_down[self._view]])) / n

    # --- what cameras do at a crime -------------------------------------------------------

    def uplifts_reporting(self) -> bool:
        """Whether a crime its victim would not have reported is reported after all, through
        the programme's new line (drawn on the cameras' stream, only while it runs)."""
        uplift = self.settings.reporting_uplift
        return self.installed and uplift > 0 and self.random.random() < uplift

    def feeds_in_rotation(self) -> int:
        """Feeds the monitors cycle through: every installed camera's, or only working ones'."""
        if self.settings.feeds_on_screens == "working":
            return self.up_count
        return len(self.cameras) if self.installed else 0

    def watch_probability(self) -> float:
        """Chance that a given working feed is on an operator's monitor right now."""
        shown = self.feeds_in_rotation()
        if self.up_count == 0 or shown == 0:
            return 0.0
        feeds = self.settings.operators * self.settings.feeds_per_operator
        return min(1.0, feeds / shown)

    def detects_live(self, node: int) -> bool:
        """Does an operator see the crime as it happens?"""
        k = self.working[node]
        if k == 0 or self.settings.operators == 0:
            return False
        p_one = self.watch_probability() * detection_accuracy(self.settings.feeds_per_operator)
        return self.random.random() < 1.0 - (1.0 - p_one) ** k

    def coverage(self) -> float:
        """Fraction of street places watched by at least one installed camera."""
        return float(self.covered.mean()) if self.cameras else 0.0

    def state(self) -> np.ndarray:
        """Per camera: 1 up, 0 down, -1 not installed (for maps and metrics)."""
        return np.array([1 if c.up else (-1 if c.faults & Fault.NOT_INSTALLED else 0)
                         for c in self.cameras], dtype=np.int8)
