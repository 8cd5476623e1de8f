"""Where targets turn up: each place with the chance of its hazard; near repeats bounded."""

import numpy as np

from abm.model import SafeCityModel
from tests.conftest import small


def test_targets_turn_up_at_each_place_with_the_chance_of_its_hazard():
    model = SafeCityModel(small("offenders.count=0", "police.units=0",
                                "offenders.near_repeat_excitation=0"))
    nodes = np.arange(12)
    attractiveness = np.linspace(0.0, 2.0, 12)
    model.config.offenders.opportunity_rate = 0.15
    hazard = model.targets.hazard(nodes, 0.0, attractiveness)
    draws = 40_000
    hits = np.zeros(12)
    none = 0
    for _ in range(draws):
        met = model.targets.met(nodes, 0.0, attractiveness, attractiveness.sum())
        assert met == sorted(set(met))  # in route order, at most one target a place
        hits[met] += 1
        none += not met
    expected = 1.0 - np.exp(-hazard)
    assert np.all(np.abs(hits / draws - expected) < 4 * np.sqrt(expected * (1 - expected) / draws)
                  + 1e-9)
    assert hits[0] == 0  # no hazard, never a target
    assert abs(none / draws - np.exp(-hazard.sum())) < 0.01


def test_near_repeat_bound_is_never_below_the_excitation_it_bounds():
    model = SafeCityModel(small("run.days=60"))
    near = model.targets.near_repeats
    rng = np.random.default_rng(2)
    for _ in range(30):
        model.run_days(2)
        for _ in range(20):
            nodes = rng.integers(0, model.city.n, int(rng.integers(1, 80)))
            assert near.total(nodes, model.time) <= near.most(len(nodes), model.time)
    assert near.highest == near.weight.max() > 0


def test_a_boost_given_apart_meets_the_targets_of_the_boost_added_in():
    """An offender's remembered crimes (``boost``) are added to the places' attractiveness
    only when targets may turn up; the targets met are the same, draw for draw."""
    model = SafeCityModel(small("run.days=30"))
    model.run_days(20)  # crimes nearby: near repeats are part of the hazard
    model.config.offenders.opportunity_rate *= 20  # targets met on many routes
    rng = np.random.default_rng(5)
    hits = 0
    for _ in range(300):
        nodes = rng.integers(0, model.city.n, int(rng.integers(1, 60)))
        attractiveness = model.city.attractiveness[nodes]
        extra, fade = rng.uniform(0.0, 3.0, len(nodes)) * attractiveness, rng.uniform()
        total = float(attractiveness.sum()) + float(extra.sum()) * fade
        state = model.random.getstate()
        added = model.targets.met(nodes, model.time, attractiveness + extra * fade, total)
        model.random.setstate(state)
        apart = model.targets.met(nodes, model.time, attractiveness, total, boost=(extra, fade))
        assert apart == added
        hits += bool(added)
    assert 30 < hits < 270  # many routes meet targets, many do not
