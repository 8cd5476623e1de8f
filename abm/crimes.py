"""Crimes as they happen: kinds, the record each leaves, victims' reporting, and arrest (on the
scene, by the response time; later, from footage)."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from abm.streets import LandUse
from abm.units import MINUTES_PER_DAY, hour_of

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


class ArrestCurve:
    """On-scene arrest chance against response time: p(T) = p_max / (1 + exp(beta (ln T -
    ln T50))), logistic in log time.

    Chosen so that p(T_ref) = arrest_ref_prob and a 10% longer response at T_ref lowers the
    chance by ``arrest_drop_per_10pct`` (Blanes i Vidal & Kirchmaier 2018).
    """

    def __init__(self, settings) -> None:
        pmax, pref, drop, tref = (settings.arrest_max_prob, settings.arrest_ref_prob,
                                  settings.arrest_drop_per_10pct, settings.arrest_ref_min)
        self.pmax, self.pref = pmax, pref
        self.beta = self.log_t50 = 0.0
        if drop > 0:
            odds_ref = pmax / pref - 1.0
            odds_later = pmax / (pref - drop) - 1.0
            self.beta = math.log(odds_later / odds_ref) / math.log(1.1)
            self.log_t50 = math.log(tref) - math.log(odds_ref) / self.beta

    def prob(self, response_min: float) -> float:
        """On-scene arrest chance for a response time (flat at the reference chance when the
        response time makes no difference)."""
        if response_min <= 0:
            return self.pmax
        if self.beta == 0:
            return self.pref
        z = self.beta * (math.log(response_min) - self.log_t50)
        return self.pmax / (1.0 + math.exp(min(z, 700.0)))


class Crime:
    """One crime and what followed: reporting, recording, response, arrest, and what the
    offender learned from it."""

    COLUMNS = ("crime_id", "time_min", "hour", "node", "kind", "offender", "zone", "under_camera",
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
        p = self.model.arrest_curve.prob(self.response_time_min)
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
        return (self.crime_id, self.time_min, hour_of(self.time_min), self.node,
                str(self.kind), self.offender.unique_id, self.zone, self.under_camera,
                self.under_working_camera, self.perceived_camera, self.camera_risk,
                self.police_present, self.detected_live, self.victim_reported,
                self.discovered, self.reported, self.recorded, self.report_time_min,
                self.response_time_min, self.arrested, str(self.arrest_mode),
                self.arrest_time_min)
