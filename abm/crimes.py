"""Crimes as they happen: kinds, the record each leaves, victims' reporting and near repeats."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from abm.streets import LandUse
from abm.units import MINUTES_PER_DAY

if TYPE_CHECKING:
    from abm.model import SafeCityModel
    from abm.offenders import Offender


class CrimeKind(StrEnum):
    ROBBERY = "robbery"
    THEFT = "theft"
    BURGLARY = "burglary"


KINDS = list(CrimeKind)
# Mix of crime kinds by land use (assumption): burglary where people live, theft where they shop.
KIND_MIX = {
    LandUse.RESIDENTIAL: (0.2, 0.2, 0.6),
    LandUse.MIXED: (0.3, 0.4, 0.3),
    LandUse.COMMERCIAL: (0.3, 0.6, 0.1),
    LandUse.PARK: (0.5, 0.5, 0.0),
}


class ArrestMode(StrEnum):
    NONE = ""
    ON_SCENE = "on_scene"
    FOOTAGE = "footage"


class Crime:
    """One crime and what followed: reporting, recording, response, arrest, and what the
    offender learned from it."""

    COLUMNS = ("crime_id", "time_min", "node", "kind", "offender", "zone", "under_camera",
               "under_working_camera", "perceived_camera", "camera_risk", "police_present",
               "detected_live", "victim_reported", "discovered", "reported", "recorded",
               "report_time_min", "response_time_min", "arrested", "arrest_mode",
               "arrest_time_min")

    __slots__ = ("model", "crime_id", "time_min", "node", "kind", "offender", "zone",
                 "under_camera", "under_working_camera", "cameras", "camera_risk",
                 "police_present", "detected_live", "victim_reported", "discovered",
                 "reported", "recorded", "report_time_min", "response_time_min", "arrested",
                 "arrest_mode", "arrest_time_min", "_victim_delay", "__weakref__")

    def __init__(self, model: SafeCityModel, offender: Offender, node: int,
                 cameras: np.ndarray, camera_risk: float, police_present: bool) -> None:
        cams = model.cameras
        self.model = model
        self.crime_id = len(model.crimes)
        self.time_min = model.time
        self.node = node
        use = LandUse(int(model.city.land_use[node]))
        self.kind = model.random.choices(KINDS, weights=KIND_MIX[use])[0]
        self.offender = offender
        self.zone = int(cams.zone[node])
        self.under_camera = bool(cams.installed and cams.covered[node])
        self.under_working_camera = bool(cams.working[node] > 0)
        self.cameras = cameras  # those the offender believed could see them
        self.camera_risk = camera_risk  # the offender's perceived risk through them
        self.police_present = police_present
        self.detected_live = cams.detects_live(node)
        # The victim's draws are made whether or not an operator saw the crime, so twin runs
        # (with and without cameras) stay on the same random stream.
        victim_calls = model.random.random() < self._report_prob()
        delay = self._draw_victim_delay()
        if not victim_calls:
            victim_calls = cams.uplifts_reporting()
        self.victim_reported = victim_calls
        self._victim_delay = delay if victim_calls else math.inf
        p_discover = model.config.police.discovery_prob
        self.discovered = bool(police_present and p_discover > 0
                               and model.random.random() < p_discover)
        self.reported = self.detected_live or victim_calls or self.discovered  # police know
        self.recorded = victim_calls or self.discovered or (
            self.detected_live and model.config.cameras.log_live_detections)
        self.report_time_min = math.nan
        self.response_time_min = math.nan
        self.arrested = False
        self.arrest_mode = ArrestMode.NONE
        self.arrest_time_min = math.nan

    @property
    def perceived_camera(self) -> bool:
        return bool(len(self.cameras))

    def _report_prob(self) -> float:
        v = self.model.config.victims
        return {CrimeKind.ROBBERY: v.report_prob_robbery, CrimeKind.THEFT: v.report_prob_theft,
                CrimeKind.BURGLARY: v.report_prob_burglary}[self.kind]

    def _draw_victim_delay(self) -> float:
        v = self.model.config.victims
        if v.report_delay_median_min == 0:
            return 0.0
        return self.model.random.lognormvariate(math.log(v.report_delay_median_min),
                                                v.report_delay_sigma)

    def report_delay(self) -> float:
        """Minutes until the call reaches dispatch: police on the spot, an operator's alert or
        a victim's call, whichever is first."""
        if self.discovered:
            return 0.0
        alert = self.model.config.cameras.alert_delay_min if self.detected_live else math.inf
        return min(alert, self._victim_delay)

    def call(self) -> None:
        """The call reaches the dispatcher."""
        self.report_time_min = self.model.time
        self.model.dispatcher.receive(self)

    def respond(self) -> None:
        """A unit reaches the scene: the response time decides an on-scene arrest."""
        self.response_time_min = self.model.time - self.time_min
        p = self.model.police_arrest_prob(self.response_time_min)
        caught = self.offender.free and self.model.random.random() < p
        if caught:
            self.model.arrest(self, ArrestMode.ON_SCENE)
        self.settle(caught)

    def settle(self, caught: bool) -> None:
        """The offender learns from the outcome on the scene; footage may still identify them.

        An arrest an operator's alert brought about is the camera's doing; one police made
        without a camera's help is police risk and says nothing of the cameras."""
        beliefs, offender = self.model.beliefs, self.offender
        by_police_alone = caught and not self.detected_live
        beliefs.learn_police(offender.index, by_police_alone)
        if self.perceived_camera and not by_police_alone:
            beliefs.learn_camera(offender.index, self.cameras, caught)
        if not caught:
            offender.remember(self.node, self.time_min)
        cams = self.model.config.cameras
        if (not caught and self.reported and self.under_working_camera
                and self.model.cameras.random.random() < cams.footage_id_prob):
            self.model.schedule_event(self.identify,
                                      after=cams.footage_delay_days * MINUTES_PER_DAY)

    def identify(self) -> None:
        """Footage identifies the offender: an arrest if they are still free, which teaches
        them (and those who hear of it) that the cameras there work."""
        if self.offender.free and not self.arrested:
            self.model.arrest(self, ArrestMode.FOOTAGE)
            if self.perceived_camera:
                self.model.beliefs.learn_camera(self.offender.index, self.cameras, True)

    @property
    def through_camera(self) -> bool:
        """Whether the arrest came through a camera (footage, or an operator's alert)."""
        return self.arrest_mode == ArrestMode.FOOTAGE or (
            self.arrest_mode == ArrestMode.ON_SCENE and self.detected_live)

    def row(self) -> tuple:
        return (self.crime_id, self.time_min, self.node, str(self.kind), self.offender.unique_id,
                self.zone, self.under_camera, self.under_working_camera, self.perceived_camera,
                self.camera_risk, self.police_present, self.detected_live, self.victim_reported,
                self.discovered, self.reported, self.recorded, self.report_time_min,
                self.response_time_min, self.arrested, str(self.arrest_mode),
                self.arrest_time_min)


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
