"""Police units: patrol legs followed lazily along their trees, and stops counted through tours
and calls."""

import numpy as np

from abm.model import SafeCityModel
from tests.conftest import small


def test_lazy_patrol_legs_match_the_full_route():
    model = SafeCityModel(small("run.days=2", "offenders.count=0"))
    router = model.city.router
    checked = 0
    for _ in range(40):
        model.run_for(17.0)
        now = model.time
        for unit in model.units:
            if unit.stopped_at(now) is not None or not unit.free:
                continue
            leg = unit.leg(now)
            path, along = router.route(leg.start, leg.end)
            times = leg.depart + along / unit.speed
            assert leg.arrive == times[-1]  # bit for bit, not approximately
            i = int(np.searchsorted(times, now, side="right")) - 1
            assert unit.position(now) == path[max(i, 0)]
            checked += 1
    assert checked > 20


def test_stops_reached_and_left_are_counted_through_tours_and_calls():
    model = SafeCityModel(small("run.days=6", "offenders.count=0", "police.hotspots=10"))
    model.run_days(6)
    now = model.time
    left = sum(u.left(now) for u in model.units)
    at_stop = sum(1 for u in model.units if u.stopped_at(now) is not None)  # not yet left
    assert left > 0
    assert sum(u.reached(now) for u in model.units) == left + at_stop
    unit = model.units[-1]  # stood down mid-tour: what it reached and left still counts
    model.run_for(7.0)
    before = unit.reached(model.time), unit.left(model.time)
    model.set_police_units(len(model.units) - 1)
    assert unit not in model.units
    assert (unit.reached(model.time), unit.left(model.time)) == before
