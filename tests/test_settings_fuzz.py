"""Any value for any setting, on a small town: a validation error or a run, nothing else.

For every key of the settings schema (and for dated timeline changes), hypothesis draws values
of every kind (numbers in and beyond the bounds, huge integers, NaN and infinities, booleans,
text, lists, mappings). Each value arrives both ways settings do: as data (a YAML file) and as
`--set` text. What validates and stays small is run; the only exception allowed anywhere is
the project's ConfigError, and a run at a valid extreme raises no numeric warning either.
"""

import copy

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abm import config as cfg
from abm.config import MUTABLE, Config, ConfigError
from abm.simulate import simulate

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

KEYS = [row["key"] for row in cfg.parameter_table()]
SMALL = {"run": {"days": 1, "seed": 3}, "city": {"nodes": 100, "destinations": 40},
         "offenders": {"count": 20}, "police": {"units": 2, "hotspots": 5},
         "cameras": {"count": 6, "burn_in_days": 1}}
WORDS = ["grid", "organic", "file", "generator", "random", "hotspot", "beat", "attractive",
         "busiest", "hotspots", "max_coverage", "list", "degree", "betweenness", "yes", "null"]

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(-5, 400), st.floats(-5, 400),
    st.integers(), st.integers(-(10**5000), 10**5000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(WORDS), st.text(max_size=12),
)
values = st.one_of(scalars, st.lists(scalars, max_size=4),
                   st.dictionaries(st.text(max_size=4), scalars, max_size=2))
FUZZ = settings(max_examples=12, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def small(config: Config) -> bool:
    """Quick to run: a tiny town over a few days (everything else is only validated)."""
    c = config
    return (c.run.days <= 3 and c.city.nodes <= 400 and c.offenders.count <= 300
            and c.police.units <= 30 and c.cameras.count <= 300
            and (c.cameras.placement != "hotspots" or c.cameras.burn_in_days <= 3))


def try_settings(make) -> None:
    """Validate and, when small, run; only ConfigError may escape either."""
    try:
        config = make()
    except ConfigError as exc:
        assert len(str(exc).splitlines()) == 1 and len(str(exc)) < 1000
        return
    if small(config):
        try:
            simulate(config)
        except ConfigError as exc:
            assert len(str(exc).splitlines()) == 1


def as_text(value) -> str:
    """A value written as `--set` text (a YAML flow value), as sweeps and lessons write it."""
    try:
        return yaml.safe_dump(value, default_flow_style=True, width=10**6).removesuffix(
            "\n...\n").strip()
    except ValueError:  # an integer Python will not write out
        return "9" * 5000


def with_value(key: str, value) -> Config:
    data = copy.deepcopy(SMALL)
    cfg.set_key(data, key, value)
    return cfg.validate(data, origin="fuzz.yaml")


@pytest.mark.parametrize("key", KEYS)
@FUZZ
@given(value=values, raw=st.text(max_size=30))
def test_any_value_of_any_setting_is_a_run_or_one_line(key, value, raw):
    try_settings(lambda: with_value(key, value))
    try_settings(lambda: cfg.from_overrides([f"{key}={as_text(value)}"], SMALL))
    try_settings(lambda: cfg.from_overrides([f"{key}={raw}"], SMALL))


changes = st.lists(st.fixed_dictionaries({
    "day": st.one_of(st.floats(-1, 3), st.integers(0, 3), scalars),
    "set": st.dictionaries(st.sampled_from(sorted(MUTABLE) + ["city.nodes", "nope"]), values,
                           min_size=0, max_size=3),
}), max_size=3)


@FUZZ
@given(timeline=st.one_of(changes, values))
def test_any_timeline_is_a_run_or_one_line(timeline):
    try_settings(lambda: cfg.validate({**copy.deepcopy(SMALL), "timeline": timeline},
                                      origin="fuzz.yaml"))
