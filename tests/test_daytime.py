"""Time of day: stays end by the hourly hazard, crime follows the clock, shifts change units."""

import math
import random

import numpy as np
import pytest

from abm.config import ConfigError, from_overrides
from abm.daytime import Hazard
from abm.model import SafeCityModel
from abm.simulate import simulate
from abm.units import MINUTES_PER_HOUR, hour_of
from tests.conftest import small


def test_hours_of_the_day():
    assert hour_of(0.0) == 0 and hour_of(59.9) == 0 and hour_of(60.0) == 1
    assert hour_of(23 * 60 + 59.0) == 23 and hour_of(1440.0 * 3 + 125.0) == 2


def test_a_wait_inverts_the_cumulative_hazard_exactly():
    weights = [0.0] * 6 + [2.0] * 12 + [1.0] * 6  # nobody leaves before 6 am
    hazard = Hazard(weights)
    mean = 180.0
    rate = np.asarray(hazard.weights) / mean  # per minute, by hour
    rng = np.random.default_rng(3)
    for _ in range(300):
        now = float(rng.uniform(0, 5 * 1440.0))
        draw = float(rng.exponential())
        wait = hazard.wait(now, draw, mean)
        # Integrate the rate minute by minute (exactly: it is constant within an hour).
        t, used = now, 0.0
        while used < draw - 1e-12:
            step = min(60.0 - t % 60.0, 1e9)
            r = rate[hour_of(t)]
            if r > 0 and used + r * step >= draw:
                t += (draw - used) / r
                used = draw
            else:
                used += r * step
                t += step
        assert wait == pytest.approx(t - now, rel=1e-9, abs=1e-7)
        assert hour_of(now + wait) >= 6  # never ends in a closed hour


def test_stays_keep_their_mean_and_end_by_the_hours_weights():
    weights = [0.5] * 12 + [1.5] * 12
    hazard = Hazard(weights)
    rng = random.Random(5)
    ends = np.zeros(24)
    total, t = 0.0, 0.0
    for _ in range(40_000):
        wait = hazard.wait(t, rng.expovariate(1.0), 60.0)
        total += wait
        t += wait
        ends[hour_of(t)] += 1
    assert total / 40_000 == pytest.approx(60.0, rel=0.03)  # weights average 1
    assert ends[12:].sum() / ends.sum() == pytest.approx(0.75, abs=0.02)


def test_without_the_clock_every_hour_is_alike_and_with_it_crime_follows_the_day():
    def by_hour(clock):
        crimes = simulate(small("run.days=60", "offenders.count=200",
                                f"daytime.clock={clock}")).crimes
        return np.bincount(crimes["hour"], minlength=24) / len(crimes)

    flat, daily = by_hour("false"), by_hour("true")
    night, day = slice(2, 6), slice(14, 20)
    assert flat[night].sum() / 4 == pytest.approx(flat[day].sum() / 6, rel=0.35)
    assert daily[night].sum() / 4 < 0.4 * daily[day].sum() / 6


def test_homes_are_hit_by_day_and_mixed_streets_at_night():
    from abm.streets import LandUse

    model = SafeCityModel(small("run.days=120", "offenders.count=300"))
    model.run_days(120)
    crimes = [(c.node, int(c.time_min % 1440 // 60)) for c in model.crimes]
    use = model.city.land_use
    home = [h for node, h in crimes if use[node] == LandUse.RESIDENTIAL]
    mixed = [h for node, h in crimes if use[node] == LandUse.MIXED]
    by_day = lambda hours: np.mean([9 <= h <= 16 for h in hours])  # noqa: E731
    late = lambda hours: np.mean([h >= 20 or h <= 1 for h in hours])  # noqa: E731
    assert len(home) > 50 and len(mixed) > 50
    assert by_day(home) > by_day(mixed) + 0.05
    assert late(mixed) > late(home) + 0.05


def test_shifts_put_units_on_duty_by_the_hour():
    shares = [0.5] * 8 + [1.0] * 16
    cfg = small("run.days=2", "police.units=6").model_dump()
    cfg["daytime"]["police_on_duty"] = shares
    from abm.config import Config

    model = SafeCityModel(Config.model_validate(cfg))
    assert len(model.units) == 3
    model.run_for(8 * MINUTES_PER_HOUR + 1)
    assert len(model.units) == 6
    model.run_for(16 * MINUTES_PER_HOUR)
    assert len(model.units) == 3
    # Costs count the unit-hours on duty: 8 hours at 3 and 16 at 6 a day.
    accounts = model.accounts
    accounts.accrue()
    per_day = accounts.unit_minutes / (model.time / 1440.0)
    assert per_day == pytest.approx((8 * 3 + 16 * 6) * 60, rel=0.05)


@pytest.mark.parametrize(("key", "value"), [
    ("daytime.offenders_out", [1.0] * 23),
    ("daytime.offenders_out", [0.0] * 24),
    ("daytime.police_on_duty", [1.5] * 24),
])
def test_bad_profiles_are_refused_naming_the_key(key, value):
    with pytest.raises(ConfigError, match=key.split(".")[1]):
        from_overrides([f"{key}={value}"])


def test_an_exponential_draw_of_zero_leaves_at_once():
    hazard = Hazard([1.0] * 24)
    assert hazard.wait(100.0, 0.0, 60.0) == pytest.approx(0.0, abs=1e-9)
    assert math.isfinite(hazard.wait(1439.999, 5.0, 60.0))
