"""The validation reads what it claims from its runs, on runs built to have known answers."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from abm import validate
from abm.config import Config

DAY = 1440.0


def result(nodes, days, places=100, hotspots=(), **cols):
    """A finished run as the workers' measures see it."""
    n = len(nodes)
    data = {"node": np.asarray(nodes, dtype=int), "time_min": np.asarray(days, float) * DAY,
            "zone": np.zeros(n, int), "recorded": np.ones(n, bool),
            "response_time_min": np.full(n, np.nan), "arrested": np.zeros(n, bool)}
    data.update({k: np.asarray(v) for k, v in cols.items()})
    rng = np.random.default_rng(0)
    return SimpleNamespace(crimes=pd.DataFrame(data), places=places,
                           xy=rng.uniform(0, 2000, (places, 2)),
                           hotspots=np.asarray(hotspots, dtype=int), city={"nodes": places})


def record(variant, finished, tag="a", days=40, run_days=None, uptime=1.0, belief=0.3):
    """What a worker hands back for a run of ``variant`` read over the first ``days``."""
    values = {m.name: m.of(finished) for m in validate.wanted(variant, days)}
    return validate.Run(variant, tag, validate.install_day(days), run_days or days, uptime,
                        belief, values)


def finding(key, days=240):
    return next(f for f in validate.findings(days) if f.key == key)


def test_paired_change_counts_after_go_live_only():
    # Go-live on day 10 of a 40-day window: crimes before it do not count.
    on = record("cameras", result(range(4), [5, 11, 12, 13], zone=[0, 0, 1, 2]))
    off = record("none", result(range(6), [5, 11, 12, 13, 14, 20], zone=[0, 0, 0, 0, 1, 2]))
    reading = validate.Reading({"cameras": [on], "none": [off]}, 10.0, 40)
    assert finding("cctv-working").measure(reading) == pytest.approx((1 / 3 - 1) * 100)
    assert finding("displacement").measure(reading) == pytest.approx(0.0)


def test_clearance_slope_recovers_a_known_linear_effect():
    rng = np.random.default_rng(0)
    t = np.exp(rng.uniform(np.log(2), np.log(60), 20000))
    p = 0.9 - 0.2 * np.log(t / 2)  # between 0.22 and 0.9: no clipping
    arrested = rng.random(len(t)) < p
    run = record("cameras", result(np.zeros(len(t), int), np.zeros(len(t)),
                                   response_time_min=t, arrested=arrested))
    reading = validate.Reading({"cameras": [run], "none": []}, 10.0, 40)
    expected = 0.2 * np.log(1.1) * 100
    assert finding("response-clearance").measure(reading) == pytest.approx(expected, rel=0.1)


def test_every_finding_has_a_source_range_and_explanation():
    items = validate.findings(240)
    assert {f.key for f in items} >= {"concentration-50", "cctv-working", "response-clearance",
                                      "displacement", "near-repeat", "koper"}
    for f in items:
        assert f.low < f.high and f.source and f.why and f.published


def test_markdown_says_plainly_what_is_not_reproduced_and_keeps_kinds_apart():
    items = validate.findings(60)
    first = next(i for i, f in enumerate(items) if f.kind is validate.Kind.EMERGENT)
    for i, f in enumerate(items):
        f.values = [f.low - 1 if i == first else (f.low + f.high) / 2]
    text = validate.markdown(items, [], quick=True, wall_s=1)
    assert "NOT reproduced" in text
    assert items[first].finding.lower() in text.split("## Plainly")[1]
    emergent, checks = text.split("## Consistency checks")[0], text.split(
        "## Consistency checks")[1].split("## What each source")[0]
    for f in items:
        assert (f.finding in emergent.split("## Reproduced")[1]) == (f.kind is
                                                                     validate.Kind.EMERGENT)
        assert (f.finding in checks) == (f.kind is not validate.Kind.EMERGENT)
    # Inputs read back are never called reproduced.
    for f in items:
        if f.kind is validate.Kind.INPUT:
            row = next(line for line in checks.splitlines() if line.startswith(f"| {f.finding}"))
            assert "reproduced" not in row


def test_inputs_read_back_and_calibrations_are_labelled_so():
    kinds = {f.key: f.kind for f in validate.findings(240)}
    assert kinds["response-clearance"] is validate.Kind.INPUT
    assert kinds["koper"] is validate.Kind.INPUT
    assert kinds["concentration-50"] is validate.Kind.CALIBRATED
    assert kinds["cctv-working"] is validate.Kind.EMERGENT


def test_dose_is_monotone_and_significant_only_when_it_is():
    up = validate.Dose("uptime", "", [1.0, 0.5, 0.2], [1, 0.5, 0.2],
                       [(-30, -35, -25), (-20, -25, -15), (-10, -15, -5)], [0.3] * 3, (20, 12, 28))
    assert up.monotone and up.significant
    bumpy = validate.Dose("uptime", "", [1.0, 0.5, 0.2], [1, 0.5, 0.2],
                          [(-30, -35, -25), (-35, -40, -30), (-10, -15, -5)], [0.3] * 3,
                          (20, -2, 40))
    assert not bumpy.monotone and not bumpy.significant


def test_uptime_is_set_with_short_and_with_long_outages():
    runs = validate.variants(240)
    short = Config().changed(runs["uptime=0.4"]).cameras
    long = Config().changed(runs["long-outages=0.4"]).cameras
    for c in (short, long):
        assert c.mtbf_days / (c.mtbf_days + c.mttr_days) == pytest.approx(0.4)
    assert short.mtbf_days == validate.DOSE_MTBF_DAYS and short.initial_down_share == 0
    assert long.mttr_days > 100 and long.initial_down_share == pytest.approx(0.6)
    assert short.mttr_days == 15  # to six figures, not 15.000000000000002


def test_a_window_counts_only_its_days_and_the_second_year_reads_later_crimes():
    def run(variant, days):  # two years, read over the first 240 days and the second year
        return record(variant, result(np.zeros(len(days), int), days), days=240,
                      run_days=720)

    runs = {"cameras": [run("cameras", [40, 50, 400, 700])],  # two early, two in year two
            "none": [run("none", [40, 50, 60, 70, 400, 500, 600, 700])]}
    working = finding("cctv-working")
    assert working.measure(validate.Reading(runs, 30.0, 240)) == pytest.approx(-50)
    later = validate.second_year(runs)
    assert (later.start, later.end) == validate.SECOND_YEAR
    assert working.measure(later) == pytest.approx(-50)
    short = {"cameras": [record("cameras", result([0, 0], [40, 50]), days=240)],
             "none": runs["none"]}
    assert validate.second_year(short) is None


def test_camera_effect_runs_last_two_years_and_the_rest_their_findings_window():
    assert validate.run_days("cameras", quick=False) == validate.DOSE_DAYS
    assert validate.run_days("working-feeds=0.4", quick=False) == validate.DOSE_DAYS
    assert validate.run_days("operators=8", quick=False) == validate.DOSE_DAYS
    assert validate.run_days("hotspot", quick=False) == validate.FINDINGS_DAYS
    assert validate.run_days("dwell=15", quick=False) == validate.FINDINGS_DAYS
    assert validate.run_days("cameras", quick=True) == validate.QUICK_DAYS


def test_the_working_feeds_curve_differs_from_the_default_only_in_the_screens():
    runs = validate.variants(240)
    default = Config().changed(runs["uptime=0.4"]).cameras
    working = Config().changed(runs["working-feeds=0.4"]).cameras
    assert default.feeds_on_screens == "installed" and working.feeds_on_screens == "working"
    assert default.model_copy(update={"feeds_on_screens": "working"}) == working


def test_dose_trend_is_the_mean_slope_over_cities():
    tags = ["a", "b", "c"]

    def runs_at(variant, effects):  # % change per tag against a twin of 100 crimes in coverage
        return [record(variant, result(np.zeros(n, int), np.full(n, 20.0)), tag=t, days=60,
                       belief=0.2)
                for t, n in zip(tags, (round(100 + e) for e in effects), strict=True)]

    runs = {"none": runs_at("none", [0, 0, 0]), "cameras": runs_at("cameras", [-30, -32, -28])}
    for name, _, levels, key, default, _ in validate.CURVES:
        for level in levels:
            if level != default:
                # the effect falls by 10 points per 0.1 of the level (uptime curves)
                change = -30 + (1 - level) * 100 if name.startswith("uptime") else -30
                runs[key.format(level)] = runs_at(key.format(level), [change] * 3)
    uptime = next(d for d in validate.doses(runs) if d.name == "uptime, long outages")
    assert uptime.trend[0] == pytest.approx(-10.0, abs=0.5)
    assert uptime.monotone


@pytest.mark.parametrize("quick", [True, False])
def test_every_finding_and_dose_finds_the_measures_its_runs_hand_back(quick):
    """Each job's worker computes ``wanted(variant)``; reading all of them asks for nothing
    else (a measure missing from a variant would be a KeyError here, not after hours)."""
    rng = np.random.default_rng(3)
    runs = {}
    for job in validate.jobs(quick, seeds=(101,)):
        n = 400
        finished = result(rng.integers(0, 100, n), rng.uniform(0, job.config.run.days, n),
                          hotspots=[1, 2, 3], zone=rng.integers(0, 3, n),
                          response_time_min=rng.uniform(1, 60, n),
                          arrested=rng.random(n) < 0.3)
        values = {m.name: m.of(finished) for m in job.task().measures}
        runs.setdefault(job.variant, []).append(validate.Run(
            job.variant, job.tag, job.config.cameras.install_day, job.config.run.days, 0.9,
            0.3, values))
    days = validate.QUICK_DAYS if quick else validate.FINDINGS_DAYS
    items = validate.measure(runs, days)
    assert all(len(f.values) == 1 for f in items)
    windows = {d.window for d in validate.doses(runs)}
    assert len(windows) == (1 if quick else 2)
