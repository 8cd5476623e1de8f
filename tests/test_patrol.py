"""Patrol: pools of places and their distances, stops drawn evenly, hot spots as a full sort
gives them, and a registry of strategies that the settings and the docs agree with."""


import numpy as np
import pytest

from abm.config import CitySettings, PatrolStrategy, choices
from abm.model import SafeCityModel
from abm.patrol import STRATEGIES, PatrolPool
from abm.streets import build_city
from tests.conftest import ROOT, small


@pytest.fixture(scope="module")
def city():
    return build_city(CitySettings(nodes=900, generator="organic"), seed=4)


def test_patrol_pool_distances_are_the_trees_distances(city):
    rng = np.random.default_rng(3)
    nodes = rng.choice(city.n, 25, replace=False)
    pool = PatrolPool(city.router, nodes)
    for _ in range(5):
        picks, here = rng.integers(0, 25, 12), int(rng.integers(0, city.n))
        metres = pool.metres(here, picks)
        assert metres[0] == city.router.tree_to(int(nodes[picks[0]]))[0].item(here)
        assert metres[1:].tolist() == [city.router.tree_to(int(nodes[j]))[0].item(int(nodes[i]))
                                       for i, j in zip(picks[:-1], picks[1:], strict=True)]
    assert pool.filled == len(np.unique(pool.slot[pool.slot >= 0])) <= 25
    assert pool.same_places(nodes.copy()) and not pool.same_places(nodes[::-1])


def test_patrol_stops_are_drawn_evenly_among_the_other_places(city):
    nodes = np.arange(5) * 7
    pool = PatrolPool(city.router, nodes)
    rng = np.random.default_rng(8)
    moves = np.zeros((5, 5))
    firsts = np.zeros(5)
    for _ in range(4000):
        picks = pool.draw(14, rng.random(16))  # starting at the pool's third place
        assert picks[0] != 2 and np.all(picks[1:] != picks[:-1])
        firsts[picks[0]] += 1
        np.add.at(moves, (picks[:-1], picks[1:]), 1)
    share = moves / moves.sum(axis=1, keepdims=True)
    off = ~np.eye(5, dtype=bool)
    assert np.all(np.abs(share[off] - 0.25) < 0.02)  # about 15,000 moves from each place
    assert np.all(np.abs(firsts[[0, 1, 3, 4]] / 4000 - 0.25) < 0.03)
    away = np.bincount([pool.draw(3, rng.random(2))[0] for _ in range(4000)], minlength=5)
    assert np.all(np.abs(away / 4000 - 0.2) < 0.03)  # from outside the pool: any place first
    assert PatrolPool(city.router, nodes[:1]).draw(0, rng.random(3)).tolist() == [0, 0, 0]


def test_hot_spots_are_the_top_places_of_the_window_as_a_full_sort_gives():
    model = SafeCityModel(small("run.days=120", "police.hotspots=15"))
    rng = np.random.default_rng(9)
    n = model.city.n
    for _ in range(50):  # many ties: small integer scores
        score = rng.integers(0, 4, n).astype(float)
        ref = np.sort(np.lexsort((np.arange(n), -score))[:15])
        assert np.array_equal(model.patrol.top_places(score), ref)
    model.run_days(120)  # longer than the 90-day window: old crimes have left it
    assert model.crimes[0].time_min < model.time - 90 * 1440.0
    recent = [c.node for c in model.crimes
              if c.recorded and model.time - c.time_min <= 90 * 1440.0]
    counts = np.bincount(recent, minlength=n).astype(float)
    assert np.array_equal(model.patrol.incident_counts(), counts)
    score = counts + 1e-3 * model.city.attractiveness
    expected = np.sort(np.lexsort((np.arange(n), -score))[:15])
    model.patrol.refresh()
    assert np.array_equal(model.hotspots, expected)


def test_every_patrol_strategy_in_the_settings_has_a_class_and_docs():
    assert set(STRATEGIES) == set(PatrolStrategy) == set(choices("police.patrol"))
    odd = (ROOT / "docs/ODD.md").read_text(encoding="utf-8")
    section = odd.split("### 7.6 Patrol")[1].split("###")[0]
    for name, strategy in STRATEGIES.items():
        assert strategy.name == name and strategy.__doc__
        assert f"`{name}`" in section, name


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_each_strategy_patrols_its_own_places(name):
    model = SafeCityModel(small("run.days=3", "offenders.count=0", f"police.patrol={name}",
                                "police.hotspots=12"))
    model.run_days(3)
    for unit in model.units:
        pool = STRATEGIES[name].pool(model.patrol, unit)
        assert pool is model.patrol.pool(unit)
        stop = unit.stopped_at(model.time)
        if stop is not None and unit.free:
            assert stop in pool.nodes
    expected = {"hotspot": model.patrol.hotspot_pool, "random": model.patrol.random_pool}
    if name in expected:
        assert all(model.patrol.pool(u) is expected[name] for u in model.units)
    else:
        assert len({id(model.patrol.pool(u)) for u in model.units}) == len(model.units)
