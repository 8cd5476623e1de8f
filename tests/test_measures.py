"""Measures compute what they claim on runs built to have known answers, and files name them."""

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from abm import measures
from abm.cameras import Zone
from abm.config import Config, ConfigError
from abm.measures import (
    Crimes,
    HotspotOverlap,
    Knox,
    LastCrime,
    PlacesFor,
    ResponseArrests,
    ShareTop,
    Uptime,
)

DAY = 1440.0


def run(nodes, days=None, places=100, xy=None, hotspots=(), **cols):
    """A finished run as measures see it: its crimes and what it knows of the city."""
    n = len(nodes)
    data = {"node": np.asarray(nodes, dtype=int),
            "time_min": np.asarray(days if days is not None else np.zeros(n), float) * DAY}
    data.update({k: np.asarray(v) for k, v in cols.items()})
    return SimpleNamespace(crimes=pd.DataFrame(data), places=places, xy=xy,
                           hotspots=np.asarray(hotspots, dtype=int), city={"nodes": places})


def test_crimes_count_a_window_of_days_by_kind_and_zone():
    r = run([0, 1, 2, 3, 4], [5, 10, 11, 19.99, 20], recorded=[1, 1, 0, 1, 1],
            arrested=[0, 1, 1, 0, 0], zone=[0, 0, 1, 0, 2])
    r.crimes[["recorded", "arrested"]] = r.crimes[["recorded", "arrested"]].astype(bool)
    assert Crimes(10, 20).of(r) == 3.0
    assert Crimes(10).of(r) == 4.0  # to the end of the run
    assert Crimes(10, 20, "recorded").of(r) == 2.0
    assert Crimes(10, 20, "arrested").of(r) == 2.0
    assert Crimes(10, 20, zone=Zone.COVERAGE).of(r) == 2.0
    assert Crimes(0, 30, "recorded", Zone.ELSEWHERE).of(r) == 1.0
    assert Crimes(10, 20, "recorded", Zone.BUFFER).name == "recorded_days:10-20@buffer"


def test_places_for_half_of_crime():
    # 100 places; place 0 has 50 crimes, 50 other places one each, all on day 0.
    r = run([0] * 50 + list(range(1, 51)))
    assert PlacesFor(0.5, 30).of(r) == pytest.approx(1.0)
    assert PlacesFor(0.75, 30).of(r) == pytest.approx(26.0)
    late = run([0] * 50 + list(range(1, 51)), [40] * 50 + [0] * 50)
    assert PlacesFor(0.5, 30).of(late) == pytest.approx(25.0)  # only the first 30 days


def test_knox_ratio_finds_space_time_clusters_and_not_random_ones():
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 5000, (400, 2))
    # Pairs: each crime followed by another at the same place within 5 days.
    base_nodes = rng.integers(0, 400, 300)
    base_times = rng.uniform(0, 360, 300)
    clustered = run(np.r_[base_nodes, base_nodes],
                    np.r_[base_times, base_times + rng.uniform(0, 5, 300)], places=400, xy=xy)
    assert Knox(200, 14, 400).of(clustered) > 1.15
    flat = run(rng.integers(0, 400, 600), rng.uniform(0, 360, 600), places=400, xy=xy)
    assert Knox(200, 14, 400).of(flat) == pytest.approx(1.0, abs=0.2)


def test_hotspot_overlap_is_the_share_of_patrol_places_among_the_most_crime():
    r = run([1, 1, 1, 2, 2, 3, 9], hotspots=[1, 2, 5])
    assert HotspotOverlap(30).of(r) == pytest.approx(2 / 3)
    assert math.isnan(HotspotOverlap(30).of(run([1], hotspots=[])))


def test_last_crime_and_camera_uptime():
    assert LastCrime().of(run([1, 2], [3, 7])) == 7 * DAY
    metrics = pd.DataFrame({"day": [1.0, 2.0, 3.0], "cameras_up_mean": [10.0, 5.0, 0.0]})
    r = SimpleNamespace(metrics=metrics, config=Config())  # 30 cameras
    assert Uptime(0, 2).of(r) == pytest.approx(7.5 / 30)
    assert math.isnan(Uptime(3, 9).of(r))


def test_response_arrests_are_the_reached_recorded_crimes_of_the_window():
    r = run([0, 1, 2, 3, 4], [1, 2, 3, 4, 50], recorded=[1, 1, 0, 1, 1],
            response_time_min=[10.0, np.nan, 5.0, 20.0, 30.0], arrested=[1, 0, 1, 0, 1])
    r.crimes[["recorded", "arrested"]] = r.crimes[["recorded", "arrested"]].astype(bool)
    x, y = ResponseArrests(30).of(r)  # not unrecorded, unreached, or after day 30
    assert x == pytest.approx(np.log([10.0, 20.0])) and list(y) == [1.0, 0.0]


def test_files_name_measures_and_summary_figures():
    assert measures.parse("crimes_total") is None
    assert measures.parse("crimes_days:0-7") == Crimes(0, 7)
    assert measures.parse("recorded_days:1095-1460") == Crimes(1095, 1460, "recorded")
    assert measures.parse("share_top:5") == ShareTop(5)
    assert measures.parse("crimes_days:0-7.0").name == "crimes_days:0-7.0"  # as written
    assert [m.name for m in measures.computed(["arrests", "share_top:5"])] == ["share_top:5"]
    for name, fragment in [("crimes_days:9-3", "first day must be before"),
                           ("share_top:0", "above 0 and at most 100"),
                           ("share_top:x", "not a measure")]:
        with pytest.raises(ConfigError, match=fragment):
            measures.parse(name)
