"""What a run records: the crime log, a daily time series and the summary figures.

Counters are updated as things happen, and one row is closed per simulated day; nothing is
collected per agent per tick.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from abm.units import MINUTES_PER_DAY, MINUTES_PER_YEAR

if TYPE_CHECKING:
    from abm.crimes import Crime
    from abm.model import SafeCityModel

DAILY_COLUMNS = ("day", "time_min", "crimes_true", "crimes_recorded", "arrests",
                 "arrests_camera", "deterred_attempts", "crimes_coverage", "crimes_buffer",
                 "crimes_elsewhere", "busy_units_mean", "cameras_up_mean", "cameras_installed",
                 "cameras_looking_down", "perceived_camera_risk_mean",
                 "perceived_police_risk_mean", "calls_waiting", "offenders_jailed",
                 "response_time_median_min")


class Recorder:
    """Daily counters and the time series built from them."""

    def __init__(self, model: SafeCityModel) -> None:
        self.model = model
        self.rows: list[dict] = []
        self._last_close = 0.0
        self._busy_mark = 0.0
        self._up_mark = 0.0
        self._reset()

    def _reset(self) -> None:
        self.counts = dict.fromkeys(("crimes_true", "crimes_recorded", "arrests",
                                     "arrests_camera", "deterred_attempts", "crimes_coverage",
                                     "crimes_buffer", "crimes_elsewhere"), 0)
        self.responses: list[float] = []

    # --- hooks the model calls ------------------------------------------------------------

    def crime(self, crime: Crime) -> None:
        from abm.cameras import Zone

        self.counts["crimes_true"] += 1
        self.counts["crimes_recorded"] += int(crime.recorded)
        self.counts[f"crimes_{Zone(crime.zone).label}"] += 1

    def deterred(self, node: int) -> None:
        self.counts["deterred_attempts"] += 1

    def arrest(self, crime: Crime) -> None:
        self.counts["arrests"] += 1
        self.counts["arrests_camera"] += int(crime.through_camera)
        if crime.arrest_mode == "on_scene":
            self.responses.append(crime.response_time_min)

    def close_day(self) -> None:
        """Close the current day's row (also called at the end for a part day)."""
        m = self.model
        now = m.time
        span = now - self._last_close
        if span <= 0:
            return
        busy = m.dispatcher.busy_minutes()
        up = m.cameras.up_minutes()
        row = {"day": now / MINUTES_PER_DAY, "time_min": now, **self.counts}
        row["busy_units_mean"] = (busy - self._busy_mark) / span
        row["cameras_up_mean"] = (up - self._up_mark) / span
        row["cameras_installed"] = len(m.cameras.cameras) if m.cameras.installed else 0
        row["cameras_looking_down"] = int(m.cameras.looks_down.sum())
        row["perceived_camera_risk_mean"] = (m.beliefs.mean_camera_risk() if m.cameras.installed
                                             else math.nan)
        row["perceived_police_risk_mean"] = m.beliefs.mean_police_risk()
        row["calls_waiting"] = len(m.dispatcher.queue)
        row["offenders_jailed"] = sum(not o.free for o in m.offenders)
        row["response_time_median_min"] = (float(np.median(self.responses))
                                           if self.responses else math.nan)
        self.rows.append(row)
        self._busy_mark, self._up_mark, self._last_close = busy, up, now
        self._reset()

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=list(DAILY_COLUMNS))


class Accounts:
    """Resource time actually used (unit-, operator- and camera-minutes), for costs."""

    def __init__(self, model: SafeCityModel) -> None:
        self.model = model
        self.unit_minutes = 0.0
        self.operator_minutes = 0.0
        self.camera_minutes = 0.0
        self._last = 0.0

    def accrue(self) -> None:
        """Add the time since the last call at the current staffing (call before changes)."""
        m = self.model
        dt = m.time - self._last
        self.unit_minutes += len(m.units) * dt
        if m.cameras.installed and m.cameras.cameras:
            self.operator_minutes += m.config.cameras.operators * dt
            self.camera_minutes += len(m.cameras.cameras) * dt
        self._last = m.time

    def costs(self) -> dict[str, float]:
        self.accrue()
        c = self.model.config.costs
        year = MINUTES_PER_YEAR
        cameras = self.camera_minutes / year * (c.camera_usd / c.camera_life_years
                                               + c.camera_maintenance_usd_per_year)
        operators = self.operator_minutes / year * c.operator_usd_per_year
        police = self.unit_minutes / year * c.police_unit_usd_per_year
        return {"cost_cameras_usd": cameras, "cost_operators_usd": operators,
                "cost_police_usd": police, "cost_total_usd": cameras + operators + police}


def crime_frame(crimes: list[Crime]) -> pd.DataFrame:
    from abm.crimes import Crime

    df = pd.DataFrame([c.row() for c in crimes], columns=list(Crime.COLUMNS))
    return df.astype({"crime_id": "int64", "time_min": "float64", "hour": "int8", "node": "int64",
                      "kind": "string", "offender": "int64", "zone": "int8",
                      "under_camera": "bool", "under_working_camera": "bool",
                      "perceived_camera": "bool", "camera_risk": "float64",
                      "police_present": "bool", "detected_live": "bool",
                      "victim_reported": "bool", "discovered": "bool", "reported": "bool",
                      "recorded": "bool",
                      "report_time_min": "float64", "response_time_min": "float64",
                      "arrested": "bool", "arrest_mode": "string",
                      "arrest_time_min": "float64"})


def summarise(model: SafeCityModel, crimes: pd.DataFrame) -> dict:
    """The headline figures of a run (summary.json)."""
    recorded = crimes[crimes["recorded"]]
    answered = crimes.dropna(subset=["response_time_min"])
    responded = answered["response_time_min"]
    police_part = responded - (answered["report_time_min"] - answered["time_min"])
    n_cams = len(model.cameras.cameras)
    zones = crimes["zone"].value_counts()

    def nan_to_none(x: float) -> float | None:
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)

    return {
        "sim_days": model.time / MINUTES_PER_DAY,
        "crimes_total": int(len(crimes)),
        "crimes_reported": int(crimes["reported"].sum()),
        "crimes_recorded": int(len(recorded)),
        "crimes_victim_reported": int(crimes["victim_reported"].sum()),
        "crimes_detected_live": int(crimes["detected_live"].sum()),
        "crimes_discovered": int(crimes["discovered"].sum()),
        "arrests": int(crimes["arrested"].sum()),
        "arrests_on_scene": int((crimes["arrest_mode"] == "on_scene").sum()),
        "arrests_footage": int((crimes["arrest_mode"] == "footage").sum()),
        "arrests_camera": int(((crimes["arrest_mode"] == "footage") | (
            (crimes["arrest_mode"] == "on_scene") & crimes["detected_live"])).sum()),
        "clearance_rate": nan_to_none(recorded["arrested"].mean() if len(recorded) else math.nan),
        "response_time_median_min": nan_to_none(float(responded.median()) if len(responded)
                                                else math.nan),
        "response_time_mean_min": nan_to_none(float(responded.mean()) if len(responded)
                                              else math.nan),
        "police_response_median_min": nan_to_none(float(police_part.median())
                                                  if len(police_part) else math.nan),
        "calls_unanswered": int(crimes["reported"].sum() - len(responded)),
        "camera_uptime": nan_to_none(model.cameras.uptime()),
        "camera_coverage": model.cameras.coverage(),
        "cameras_installed": n_cams if model.cameras.installed else 0,
        "crimes_under_camera": int(crimes["under_camera"].sum()),
        "crimes_under_working_camera": int(crimes["under_working_camera"].sum()),
        "crimes_coverage": int(zones.get(0, 0)),
        "crimes_buffer": int(zones.get(1, 0)),
        "crimes_elsewhere": int(zones.get(2, 0)),
        "deterred_attempts": int(sum(r["deterred_attempts"] for r in model.recorder.rows)),
        "perceived_camera_risk_final": nan_to_none(
            model.beliefs.mean_camera_risk() if model.cameras.installed else None),
        "perceived_police_risk_final": nan_to_none(model.beliefs.mean_police_risk()),
        **model.accounts.costs(),
    }
