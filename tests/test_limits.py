"""Bounds by the city, and the warning before a very long run."""

import pytest

from abm import catalog, limits
from abm.config import ConfigError, from_overrides, load
from abm.simulate import simulate


def test_cameras_are_bounded_by_the_places_of_the_city():
    small = ["run.days=1", "city.nodes=99", "offenders.count=10", "police.units=1"]
    with pytest.raises(ConfigError, match="cameras.count: 100,000 cameras on a city of"):
        simulate(from_overrides([*small, "cameras.count=100000"]))
    result = simulate(from_overrides([*small, "cameras.count=99"]))  # one per place is fine
    assert result.summary["sim_days"] == 1


def test_a_very_long_run_is_warned_about_and_a_shipped_one_is_not(capsys):
    huge = from_overrides(["run.days=3650", "offenders.count=100000", "city.nodes=200000"])
    assert limits.estimate_s(huge) > limits.LONG_RUN_S
    limits.warn_if_long([huge], workers=4, what="this run")
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("abm: warning: this run will take long: about ")
    assert "on 4 workers" not in line  # one run uses one worker
    for path in catalog.listing(catalog.Kind.SCENARIO).values():
        assert limits.warn_if_long([load(path)]) < limits.LONG_RUN_S, path
    assert capsys.readouterr().err == ""


def test_the_estimate_grows_with_each_count():
    base = from_overrides([])
    for key in ("offenders.count=2000", "police.units=100", "cameras.count=3000",
                "run.days=300", "city.nodes=5000"):
        assert limits.estimate_s(from_overrides([key])) > limits.estimate_s(base), key
