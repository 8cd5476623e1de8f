"""Mechanism tests: each compares runs and can fail if the mechanism breaks."""

from collections import Counter

import pandas as pd
import pytest

from abm.model import SafeCityModel
from abm.simulate import simulate
from tests.conftest import small

NO_CUTS = "cameras.group_mtbf_days=36500"


def test_same_seed_gives_identical_tables():
    a = simulate(small("run.seed=5"))
    b = simulate(small("run.seed=5"))
    pd.testing.assert_frame_equal(a.crimes, b.crimes)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    assert a.summary == b.summary
    c = simulate(small("run.seed=6"))
    assert not a.crimes.equals(c.crimes)


def test_uptime_converges_to_mtbf_over_mtbf_plus_mttr():
    cfg = small("run.days=400", "offenders.count=0", "police.units=0", "cameras.count=300",
                "cameras.mtbf_days=20", "cameras.mttr_days=5", NO_CUTS)
    result = simulate(cfg)
    assert result.summary["camera_uptime"] == pytest.approx(20 / 25, abs=0.02)


def test_a_system_started_at_its_long_run_uptime_stays_there():
    # Long outages (mean 60 days) from day 0: without initial faults uptime would start at 1
    # and take months to settle; with the steady-state share down it is there from the start.
    settings = ["run.days=60", "offenders.count=0", "police.units=0", "cameras.count=400",
                "cameras.mtbf_days=90", "cameras.mttr_days=60", "cameras.install_day=0", NO_CUTS]
    steady = simulate(small(*settings, "cameras.initial_down_share=0.4")).metrics
    fresh = simulate(small(*settings)).metrics
    up = steady["cameras_up_mean"] / 400
    assert up.iloc[0] == pytest.approx(0.6, abs=0.06)
    assert up.iloc[-1] == pytest.approx(0.6, abs=0.06)
    assert fresh["cameras_up_mean"].iloc[0] / 400 > 0.95


def test_without_repair_cameras_die_off():
    cfg = small("run.days=200", "offenders.count=0", "police.units=0", "cameras.count=200",
                "cameras.mtbf_days=100", "cameras.repair=false", NO_CUTS)
    result = simulate(cfg)
    up_last = result.metrics["cameras_up_mean"].iloc[-1]
    # Exponential lifetimes: about exp(-2) = 14% survive 200 days.
    assert 0.07 * 200 < up_last < 0.22 * 200
    assert (result.metrics["cameras_up_mean"].diff().dropna() <= 1e-9).all()


def test_cable_cuts_take_down_whole_segments_together():
    cfg = small("run.days=60", "offenders.count=0", "police.units=0", "cameras.count=100",
                "cameras.mtbf_days=36500", "cameras.groups=4", "cameras.group_mtbf_days=10",
                "cameras.group_mttr_days=5")
    model = SafeCityModel(cfg)
    seen = set()
    for _ in range(60):
        model.run_days(1)
        state = model.cameras.state()
        for segment in model.cameras.segments:
            members = state[[c.index for c in segment.members]]
            assert len(set(members.tolist())) == 1  # all up or all down together
        seen.add(int((state == 1).sum()))
    assert len(seen) > 2  # outages happened and were repaired


def test_working_watched_cameras_cut_crime_where_they_look():
    watched = ["cameras.count=80", "cameras.mtbf_days=36500", "cameras.group_mtbf_days=36500",
               "cameras.operators=20", "cameras.feeds_per_operator=4", "run.days=60",
               "offenders.count=600", "cameras.placement=random"]  # hundreds of crimes
    with_cams, without = [], []
    for seed in (1, 2, 3):
        on = SafeCityModel(small(*watched, f"run.seed={seed}"))
        covered = on.cameras.covered.copy()
        on.run_days(60)
        off = SafeCityModel(small(*watched, "cameras.install_day=3650", f"run.seed={seed}"))
        off.run_days(60)
        with_cams.append(sum(covered[c.node] for c in on.crimes))
        without.append(sum(covered[c.node] for c in off.crimes))
    assert sum(with_cams) < 0.8 * sum(without), (with_cams, without)


def test_a_unit_with_one_place_to_patrol_and_no_dwell_stays_there(monkeypatch):
    from abm.police import PoliceUnit

    tours = Counter()
    end_tour = PoliceUnit.end_tour

    def counted(self):
        tours[self.unique_id, self.model.time] += 1
        if tours[self.unique_id, self.model.time] > 50:  # tours taking no time: the clock stops
            raise RuntimeError("patrol tours are not moving the clock")
        end_tour(self)

    monkeypatch.setattr(PoliceUnit, "end_tour", counted)
    model = SafeCityModel(small("police.patrol=beat", "police.dwell_min=0", "police.units=300",
                                "offenders.count=0"))
    lonely = [u for u in model.units if len(u.beat.nodes) == 1]
    assert len(lonely) > 50  # more units than patrol places: many beats of one place
    model.run_days(2)
    assert model.time == 2 * 1440.0 and max(tours.values()) <= 2
    assert all(u.node == u.beat.nodes[0] for u in lonely)  # there, waiting for orders


def test_fewer_police_units_respond_slower():
    common = ["run.days=20", "offenders.count=200", "city.nodes=900"]
    few = simulate(small("police.units=2", *common))
    many = simulate(small("police.units=16", *common))
    key = "police_response_median_min"  # call received to unit on scene: queue + travel
    assert few.summary[key] > 2 * many.summary[key]
    # With victims calling at once, the whole response time shows it too.
    instant = "victims.report_delay_median_min=0"
    few = simulate(small("police.units=2", instant, *common))
    many = simulate(small("police.units=16", instant, *common))
    assert few.summary["response_time_median_min"] > 1.3 * many.summary[
        "response_time_median_min"]
    assert few.summary["response_time_mean_min"] > many.summary["response_time_mean_min"]


def test_no_cameras_means_no_coverage_and_no_watched_crime():
    result = simulate(small("cameras.count=0"))
    assert result.summary["camera_coverage"] == 0
    assert result.summary["crimes_under_working_camera"] == 0
    assert result.summary["crimes_detected_live"] == 0
    assert result.summary["crimes_total"] > 0


def test_offenders_learn_that_broken_cameras_do_not_bite():
    common = ["run.days=60", "offenders.count=150", "cameras.count=120",
              "offenders.initial_camera_risk=0.5", "cameras.group_mtbf_days=36500"]
    broken = simulate(small(*common, "cameras.mtbf_days=0.01", "cameras.repair=false"))
    working = simulate(small(*common, "cameras.mtbf_days=36500", "cameras.operators=40",
                             "cameras.footage_id_prob=0.9"))
    risk_broken = broken.metrics["perceived_camera_risk_mean"]
    risk_working = working.metrics["perceived_camera_risk_mean"]
    assert risk_broken.iloc[-1] < 0.5 - 0.05
    assert risk_broken.iloc[-1] < risk_working.iloc[-1] - 0.05
    assert risk_broken.iloc[-1] < risk_broken.iloc[0]


def test_recorded_crime_never_exceeds_true_crime_and_kinds_are_known():
    result = simulate(small())
    m = result.metrics
    assert (m["crimes_recorded"] <= m["crimes_true"]).all()
    assert m["crimes_true"].sum() == result.summary["crimes_total"]
    assert set(result.crimes["kind"]) <= {"robbery", "theft", "burglary"}
    arrested = result.crimes[result.crimes["arrested"]]
    assert (arrested["arrest_time_min"] >= arrested["time_min"]).all()


def test_timeline_changes_police_and_restarts_repairs():
    cfg = small("run.days=60", "cameras.count=100", "cameras.mtbf_days=20",
                "cameras.repair=false", "cameras.group_mtbf_days=36500")
    cfg.timeline = [
        {"day": 10, "set": {"police.units": 1}},
        {"day": 30, "set": {"police.units": 6, "cameras.repair": True, "cameras.mttr_days": 1}},
    ]
    cfg = type(cfg).model_validate(cfg.model_dump())
    model = SafeCityModel(cfg)
    model.run_days(10.5)
    assert len(model.units) == 1
    model.run_days(19)
    down_before = int((model.cameras.state() == 0).sum())
    assert down_before > 50  # no repair for 29 days at a 20-day MTBF
    model.run_days(10)
    assert len(model.units) == 6
    assert int((model.cameras.state() == 0).sum()) < down_before / 2
    assert model.config.police.units == 6
    assert cfg.police.units == 4  # the caller's settings are not mutated
    # Staffing is charged for the time it was there.
    costs = model.accounts.costs()
    expected = (4 * 10 + 1 * 20 + 6 * 9.5) / 365 * cfg.costs.police_unit_usd_per_year
    assert costs["cost_police_usd"] == pytest.approx(expected, rel=1e-6)


def test_background_trend_raises_offending():
    # +100% a year compounds to +58% by day 240: about +25% more crime over the run, far
    # beyond the run-to-run noise of a few hundred crimes.
    flat = simulate(small("run.days=240", "cameras.count=0"))
    rising = simulate(small("run.days=240", "cameras.count=0", "offenders.trend_per_year=1.0"))
    assert rising.summary["crimes_total"] > 1.1 * flat.summary["crimes_total"]
