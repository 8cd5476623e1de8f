"""The record a crime leaves: who reports it, what enters police statistics, what police see."""

import numpy as np
import pytest

from abm.config import PoliceSettings
from abm.crimes import ArrestCurve
from abm.model import SafeCityModel
from abm.simulate import simulate
from tests.conftest import small

WATCHED = ["cameras.count=60", "cameras.operators=20", "cameras.mtbf_days=36500",
           "cameras.group_mtbf_days=36500", "run.days=30", "offenders.count=300"]


def test_operators_log_crimes_nobody_reported_unless_switched_off():
    # Random patrol reads no record, so the two runs differ only in what is recorded.
    logged = simulate(small(*WATCHED, "police.patrol=random")).crimes
    unlogged = simulate(small(*WATCHED, "police.patrol=random",
                              "cameras.log_live_detections=false")).crimes
    only_seen = logged["detected_live"] & ~logged["victim_reported"]
    assert only_seen.sum() > 10
    assert logged.loc[only_seen, "recorded"].all()
    assert (logged["recorded"] == logged["reported"]).all()
    # Switched off, the same crimes still bring police (the same draws) but stay off the record.
    assert (unlogged["reported"] == logged["reported"]).all()
    gone = unlogged["detected_live"] & ~unlogged["victim_reported"]
    assert not unlogged.loc[gone, "recorded"].any()
    assert unlogged["recorded"].sum() == logged["recorded"].sum() - only_seen.sum()


def test_a_new_line_raises_recorded_crime_only_once_the_programme_runs():
    common = ["run.days=40", "cameras.install_day=20", "offenders.count=300",
              "victims.report_prob_theft=0.2", "victims.report_prob_robbery=0.2",
              "victims.report_prob_burglary=0.2"]
    base = simulate(small(*common)).crimes
    uplift = simulate(small(*common, "cameras.reporting_uplift=0.5")).crimes
    before = lambda c: c[c["time_min"] < 20 * 1440.0]  # noqa: E731
    after = lambda c: c[c["time_min"] >= 20 * 1440.0]  # noqa: E731
    # Before go-live the runs are the same, crime by crime.
    assert before(base).equals(before(uplift))
    share = lambda c: c["victim_reported"].mean()  # noqa: E731
    assert share(after(uplift)) > share(after(base)) + 0.2


def test_police_see_crimes_committed_near_them_when_they_can():
    blind = simulate(small("run.days=30", "offenders.count=300", "police.units=30")).crimes
    seeing = simulate(small("run.days=30", "offenders.count=300", "police.units=30",
                            "police.discovery_prob=1")).crimes
    assert not blind["discovered"].any()
    near = seeing["police_present"]
    assert near.sum() > 5
    assert seeing.loc[near, "discovered"].all() and seeing.loc[near, "recorded"].all()
    assert not seeing.loc[~near, "discovered"].any()


def test_hot_spot_patrol_reads_only_the_incidents_it_is_told_to():
    common = ["run.days=60", "offenders.count=300", "police.initial_hotspots=random",
              "police.hotspot_source=discovered"]
    stuck = SafeCityModel(small(*common))  # discovers nothing: never moves from its start
    start = stuck.hotspots.copy()
    stuck.run_days(60)
    assert np.array_equal(stuck.hotspots, start)
    moving = SafeCityModel(small(*common[:-1], "police.hotspot_source=reported"))
    start = moving.hotspots.copy()
    moving.run_days(60)
    assert not np.array_equal(moving.hotspots, start)


def test_arrest_curve_matches_blanes_i_vidal_kirchmaier():
    settings = PoliceSettings()
    curve = ArrestCurve(settings)
    p = curve.prob
    ref = settings.arrest_ref_min
    assert p(ref) == pytest.approx(settings.arrest_ref_prob)
    assert p(ref) - p(1.1 * ref) == pytest.approx(0.047)
    times = np.linspace(0.5, 120, 50)
    probs = [p(t) for t in times]
    assert all(a > b for a, b in zip(probs, probs[1:], strict=False))
    assert curve.beta > 0
    assert p(0.0) == settings.arrest_max_prob
    flat = ArrestCurve(PoliceSettings(arrest_drop_per_10pct=0.0))
    assert flat.prob(3.0) == flat.prob(300.0) == PoliceSettings().arrest_ref_prob
