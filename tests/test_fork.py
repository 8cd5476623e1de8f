"""Forked runs: a copy of a model run on is bit for bit the run it was copied from, and a copy
run on under other settings is bit for bit a run with those settings from the start, where they
made no difference before the fork."""

import math

import pandas as pd
import pytest

from abm.config import Config, ConfigError
from abm.decompose import MECHANISMS
from abm.evaluate import twin_config
from abm.model import SafeCityModel
from abm.simulate import finish
from tests.conftest import small

GO_LIVE = 20.0


def scenario() -> Config:
    """A small city whose cameras go live on day 20, with staff moved from patrol that day,
    news of broken cameras later, a background trend, blocked views and no repairs."""
    data = small("run.days=60", "offenders.count=150", f"cameras.install_day={GO_LIVE:g}",
                 "cameras.repair=false", "cameras.mtbf_days=30", "cameras.operators=1",
                 "cameras.obstruction_mtbf_days=20",
                 "offenders.trend_per_year=0.2").model_dump(mode="json")
    data["timeline"] = [
        {"day": GO_LIVE, "set": {"police.units": 3}, "cameras_only": True},
        {"day": 35, "news": {"cameras_broken_share": 0.4, "reach": 0.8}},
        {"day": 45, "set": {"cameras.operators": 2}},
    ]
    return Config.model_validate(data)


def run(model: SafeCityModel, until_day: float):
    model.run_until(until_day * 1440.0)
    return finish(model, 0.0)


def same(a, b) -> None:
    pd.testing.assert_frame_equal(a.crimes, b.crimes)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    assert a.summary == b.summary


def before_go_live(config: Config) -> SafeCityModel:
    model = SafeCityModel(config)
    model.run_until(math.nextafter(GO_LIVE * 1440.0, 0.0))  # up to, not including, go-live
    return model


def test_a_fork_runs_on_as_the_model_it_was_copied_from():
    config = scenario()
    full = run(SafeCityModel(config), 60)
    model = SafeCityModel(config)
    model.run_days(27.3)
    fork = model.fork()
    same(run(fork, 60), full)
    same(run(model, 60), full)


@pytest.mark.parametrize("twin", ["no-cameras", "working"])
def test_twins_forked_at_go_live_are_the_twins_run_from_the_start(twin):
    config = scenario()
    variant = twin_config(config, twin)
    full = run(SafeCityModel(variant), 60)
    same(run(before_go_live(config).fork(variant), 60), full)


FORKABLE = [m for m in MECHANISMS.values() if m.after_go_live]


@pytest.mark.parametrize("mechanism", FORKABLE, ids=lambda m: m.name)
def test_mechanisms_switched_off_at_go_live_are_runs_without_them(mechanism):
    config = scenario()
    assert mechanism.present(config)
    variant = config.changed(mechanism.switch_off(config))
    full = run(SafeCityModel(variant), 60)
    same(run(before_go_live(config).fork(variant), 60), full)


def test_the_trend_acts_before_go_live_so_it_is_not_switched_off_by_a_fork():
    trend = MECHANISMS["trend"]
    assert not trend.after_go_live
    config = scenario()
    variant = config.changed(trend.switch_off(config))
    forked = run(before_go_live(config).fork(variant), 60)
    assert not forked.crimes.equals(run(SafeCityModel(variant), 60).crimes)


def test_a_fork_refuses_what_shaped_the_run_or_already_happened():
    model = before_go_live(scenario())
    with pytest.raises(ConfigError, match="offenders.count"):
        model.fork(model.config.changed({"offenders.count": 10}))
    model.run_days(20)  # past go-live and the staff move
    with pytest.raises(ConfigError, match="install_day"):
        model.fork(model.config.changed({"cameras.install_day": 50}))
    moved = [c for c in model.config.timeline if c.cameras_only]
    with pytest.raises(ConfigError, match="timeline day 20"):
        model.fork(model.config.changed({"timeline": [c for c in model.config.timeline
                                                       if c not in moved]}))


def test_a_fork_shares_the_city_and_copies_everything_that_moves():
    model = before_go_live(scenario())
    fork = model.fork()
    assert fork.city is model.city and fork.space is not model.space
    assert fork.offenders[0] is not model.offenders[0] and fork.beliefs is not model.beliefs
    fork.run_days(1)
    assert model.time < fork.time and len(model.crimes) <= len(fork.crimes)
