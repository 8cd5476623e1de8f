"""The validation measures compute what they claim, on data built to have known answers."""

import numpy as np
import pandas as pd
import pytest

from abm import validate


def crimes(nodes, times=None, **cols):
    n = len(nodes)
    data = {"node": np.asarray(nodes), "time_min": np.asarray(times if times is not None
                                                             else np.zeros(n), dtype=float)}
    data.update({k: np.asarray(v) for k, v in cols.items()})
    return pd.DataFrame(data)


def test_share_of_places_for_half_of_crime():
    # 100 places; place 0 has 50 crimes, 50 other places one each.
    c = crimes([0] * 50 + list(range(1, 51)))
    assert validate._share_of_places(c, 100, 0.5) == pytest.approx(1.0)
    assert validate._share_of_places(c, 100, 0.75) == pytest.approx(26.0)


def test_paired_change_counts_after_go_live_only():
    def run(nodes_zone, times):
        return {"crimes": crimes(range(len(nodes_zone)), times, zone=nodes_zone),
                "install_day": 10.0}

    day = 1440.0
    on = run([0, 0, 1, 2], [5 * day, 11 * day, 12 * day, 13 * day])
    off = run([0, 0, 0, 0, 1, 2], [5 * day, 11 * day, 12 * day, 13 * day, 14 * day, 20 * day])
    runs = {"cameras": [on], "none": [off]}
    assert validate._paired_change(runs, 0) == pytest.approx((1 / 3 - 1) * 100)
    assert validate._paired_change(runs, 1) == pytest.approx(0.0)


def test_clearance_slope_recovers_a_known_linear_effect():
    rng = np.random.default_rng(0)
    t = np.exp(rng.uniform(np.log(2), np.log(60), 20000))
    p = 0.9 - 0.2 * np.log(t / 2)  # between 0.22 and 0.9: no clipping
    arrested = rng.random(len(t)) < p
    c = crimes(np.zeros(len(t), int), recorded=np.ones(len(t), bool), response_time_min=t,
               arrested=arrested)
    runs = {"cameras": [{"crimes": c}], "none": []}
    expected = 0.2 * np.log(1.1) * 100
    assert validate._clearance_slope(runs) == pytest.approx(expected, rel=0.1)


def test_knox_ratio_finds_space_time_clusters_and_not_random_ones():
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 5000, (400, 2))
    # Pairs: each crime followed by another at the same place within 5 days.
    base_nodes = rng.integers(0, 400, 300)
    base_times = rng.uniform(0, 360, 300)
    nodes = np.r_[base_nodes, base_nodes]
    times = np.r_[base_times, base_times + rng.uniform(0, 5, 300)] * 1440
    clustered = {"base": [{"crimes": crimes(nodes, times), "xy": xy}]}
    assert validate._knox_ratio(clustered) > 1.15
    flat = {"base": [{"crimes": crimes(rng.integers(0, 400, 600),
                                       rng.uniform(0, 360, 600) * 1440), "xy": xy}]}
    assert validate._knox_ratio(flat) == pytest.approx(1.0, abs=0.2)


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
    from abm.config import from_overrides

    runs = validate.variants(240)
    short = from_overrides(runs["uptime=0.4"]).cameras
    long = from_overrides(runs["long-outages=0.4"]).cameras
    for c in (short, long):
        assert c.mtbf_days / (c.mtbf_days + c.mttr_days) == pytest.approx(0.4)
    assert short.mtbf_days == validate.DOSE_MTBF_DAYS and short.initial_down_share == 0
    assert long.mttr_days > 100 and long.initial_down_share == pytest.approx(0.6)


def test_a_window_counts_only_its_days_and_the_second_year_reads_later_crimes():
    day = 1440.0

    def run(tag, times):
        return {"tag": tag, "install_day": 30.0, "uptime": 1.0, "xy": None, "days": 720,
                "crimes": crimes(np.zeros(len(times), int), np.asarray(times) * day,
                                 zone=np.zeros(len(times), int))}

    on = run("a", [40, 50, 400, 700])  # two early, two in the second year
    off = run("a", [40, 50, 60, 70, 400, 500, 600, 700])
    runs = {"cameras": [on], "none": [off]}
    assert validate._changes_by_tag(runs, "cameras", window=(30, 240))[0] == pytest.approx(-50)
    assert validate._changes_by_tag(runs, "cameras", window=(365, 720))[0] == pytest.approx(-50)
    assert validate._changes_by_tag(runs, "cameras")[0] == pytest.approx(-50)
    later = validate.second_year(runs)
    assert len(later["cameras"][0]["crimes"]) == 2 and later["cameras"][0]["install_day"] == 365
    assert validate._paired_change(later, 0) == pytest.approx(-50)
    short = {"cameras": [dict(run("a", [40, 50]), days=240)], "none": [off]}
    assert validate.second_year(short) is None


def test_camera_effect_runs_last_two_years_and_the_rest_their_findings_window():
    assert validate.run_days("cameras", quick=False) == validate.DOSE_DAYS
    assert validate.run_days("working-feeds=0.4", quick=False) == validate.DOSE_DAYS
    assert validate.run_days("operators=8", quick=False) == validate.DOSE_DAYS
    assert validate.run_days("hotspot", quick=False) == validate.FINDINGS_DAYS
    assert validate.run_days("dwell=15", quick=False) == validate.FINDINGS_DAYS
    assert validate.run_days("cameras", quick=True) == validate.QUICK_DAYS


def test_the_working_feeds_curve_differs_from_the_default_only_in_the_screens():
    from abm.config import from_overrides

    runs = validate.variants(240)
    default = from_overrides(runs["uptime=0.4"]).cameras
    working = from_overrides(runs["working-feeds=0.4"]).cameras
    assert default.feeds_on_screens == "installed" and working.feeds_on_screens == "working"
    assert default.model_copy(update={"feeds_on_screens": "working"}) == working


def test_dose_trend_is_the_mean_slope_over_cities():
    tags = ["a", "b", "c"]

    def runs_at(effects):  # % change per tag against a twin of 100 crimes in coverage
        return [{"tag": t, "install_day": 0.0, "uptime": 1.0, "days": 60, "belief": 0.2,
                 "crimes": crimes(np.zeros(n, int), np.zeros(n), zone=np.zeros(n, int))}
                for t, n in zip(tags, (round(100 + e) for e in effects), strict=True)]

    runs = {"none": runs_at([0, 0, 0]), "cameras": runs_at([-30, -32, -28])}
    for name, _, levels, key, default, _ in validate.CURVES:
        for level in levels:
            if level != default:
                # the effect falls by 10 points per 0.1 of the level (uptime curves)
                change = -30 + (1 - level) * 100 if name.startswith("uptime") else -30
                runs[key.format(level)] = runs_at([change] * 3)
    uptime = next(d for d in validate.doses(runs) if d.name == "uptime, long outages")
    assert uptime.trend[0] == pytest.approx(-10.0, abs=0.5)
    assert uptime.monotone
