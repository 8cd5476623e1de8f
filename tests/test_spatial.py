"""Spatial statistics: Knox (pointpats), Gi* (esda), KDE (scipy), hit rate and PAI."""

import numpy as np
import pytest
from scipy.stats import gaussian_kde

from abm import spatial


def clustered_events(seed: int, near_repeats: bool):
    """Background events; with near repeats, each seeds a follower within 50 m and 3 days."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 3000, (200, 2))
    t = rng.uniform(0, 365, 200)
    if near_repeats:
        xy = np.vstack([xy, xy + rng.normal(0, 25, xy.shape)])
        t = np.concatenate([t, t + rng.uniform(0, 3, len(t))])
    else:
        xy = np.vstack([xy, rng.uniform(0, 3000, xy.shape)])
        t = np.concatenate([t, rng.uniform(0, 365, len(t))])
    return xy, t


def test_knox_finds_near_repeats_and_only_them():
    xy, t = clustered_events(1, True)
    found = spatial.knox(xy, t, distance_m=100, days=7, permutations=99, seed=3)
    assert found.ratio > 3 and found.p_value <= 0.02 and found.p_poisson < 1e-6
    xy, t = clustered_events(1, False)
    none = spatial.knox(xy, t, distance_m=100, days=7, permutations=99, seed=3)
    assert none.ratio < 2 and none.p_value > 0.05
    assert spatial.knox(xy, t, 100, 7, seed=3) == spatial.knox(xy, t, 100, 7, seed=3)
    state = np.random.get_state()[1].copy()
    spatial.knox(xy, t, 100, 7, seed=4)
    assert np.array_equal(np.random.get_state()[1], state)  # the global stream is left alone


def test_hot_spots_find_a_planted_cluster():
    rng = np.random.default_rng(2)
    gx, gy = np.meshgrid(np.arange(15) * 100.0, np.arange(15) * 100.0)
    xy = np.column_stack([gx.ravel(), gy.ravel()])
    values = rng.poisson(1.0, len(xy)).astype(float)
    hot = np.linalg.norm(xy - [700, 700], axis=1) <= 150
    values[hot] += 8
    spots = spatial.hot_spots(xy, values, distance_m=150, permutations=199, seed=1)
    assert (spots.loc[hot, "spot"] == "hot").mean() > 0.8
    assert (spots.loc[~hot, "spot"] == "hot").mean() < 0.1
    assert set(spots.columns) == {"value", "z", "p", "spot"}
    flat = spatial.hot_spots(xy, np.ones(len(xy)), distance_m=150)
    assert (flat["spot"] == "").all()


def test_kde_is_scipys_gaussian_kde():
    rng = np.random.default_rng(3)
    pts = rng.normal(0, 100, (50, 2))
    at = rng.normal(0, 100, (7, 2))
    assert np.allclose(spatial.kde(pts, at), gaussian_kde(pts.T)(at.T))
    with pytest.raises(ValueError):
        spatial.kde(pts[:2], at)


def test_hit_rate_and_pai_by_hand():
    score = np.array([5.0, 4.0, 3.0, 2.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    observed = np.array([2, 0, 1, 0, 0, 0, 0, 0, 1, 0])
    assert spatial.hit_rate(score, observed, 0.1) == pytest.approx(0.5)  # 1 place: 2 of 4
    assert spatial.pai(score, observed, 0.1) == pytest.approx(5.0)  # 0.5 / 0.1
    assert spatial.hit_rate(score, observed, 0.3) == pytest.approx(0.75)
    assert spatial.concentration(observed, 0.1) == pytest.approx(0.5)
    assert list(spatial.top_places(np.zeros(4), 0.5)) == [0, 1]  # ties: lower id


def test_run_report_adds_hot_spots_and_a_knox_test(tmp_path):
    import json

    import pandas as pd

    from tests.conftest import abm_cli

    run = tmp_path / "run"
    assert abm_cli("run", "configs/default.yaml", "--set", "run.days=20", "--out", str(run),
                   "--quiet").returncode == 0
    done = abm_cli("report", str(run))
    assert done.returncode == 0, done.stderr
    spots = pd.read_csv(run / "report" / "hotspots.csv")
    crimes = pd.read_parquet(run / "crimes.parquet")
    assert spots["value"].sum() == len(crimes)
    assert (spots["spot"].fillna("") == "hot").any()  # the town's crime concentrates
    knox = json.loads((run / "report" / "knox.json").read_text())
    assert knox["events"] == len(crimes) and knox["distance_m"] == 400.0
