"""Offenders: passing times, the way home, and arrivals handed out many at a time."""

import math
from functools import partial

import numpy as np
import pandas as pd
import pytest

from abm import model as model_module
from abm.model import SafeCityModel
from abm.offenders import Trips
from abm.simulate import finish
from tests.conftest import small


def test_offender_passing_times_match_the_vector_computation():
    model = SafeCityModel(small("run.days=1", "police.units=0"))
    model.run_days(1)
    for offender in model.offenders:
        _, along, depart = offender.leg()
        times = depart + along / offender.speed
        assert [offender.passing(i) for i in range(len(times))] == times.tolist()


def test_the_way_home_is_the_way_out_reversed_and_as_short():
    model = SafeCityModel(small("run.days=4", "police.units=0"))
    model.run_days(4)
    router = model.city.router
    assert router.trees_held < len(model.offenders)  # no tree toward each home
    checked = 0
    for offender in model.offenders:
        routes = offender.routes()
        for (source, target), (path, along) in routes.items():
            assert path[0] == source and path[-1] == target and along[0] == 0.0
            assert along[-1] == pytest.approx(router.tree_to(target)[0][source], rel=1e-12)
            back = routes.get((target, source))
            if back is not None:
                assert np.array_equal(back[0], path[::-1])
                checked += 1
    assert checked > 50


class ArrivalEvents(Trips):
    """The plain computation Trips replaces: each arrival an agenda entry of its own."""

    def expect(self, index, time):
        self._due[index] = time
        self.model.agenda.at(time, partial(self._arrival, index, time))

    def _arrival(self, index, time):
        if self._due[index] == time:
            self._due[index] = math.inf
            self.arrivals += 1
            self.offenders[index].arrive(time)

    def _arm(self):
        pass


def test_arrivals_many_at_a_time_are_arrivals_one_event_each(monkeypatch):
    config = small("run.days=25", "offenders.count=300", "police.units=6",
                   "offenders.opportunity_rate=0.002", "offenders.sentence_days=2")
    fast = SafeCityModel(config)
    fast.run_days(25)
    chunked = SafeCityModel(config)  # run in odd steps, the app's way
    while chunked.time < 25 * 1440.0:
        chunked.run_for(min(97.3, 25 * 1440.0 - chunked.time))
    monkeypatch.setattr(model_module, "Trips", ArrivalEvents)
    plain = SafeCityModel(config)
    plain.run_days(25)
    assert fast.trips.arrivals == chunked.trips.arrivals == plain.trips.arrivals > 5000
    assert sum(o.arrests for o in plain.offenders) > 20  # trips cut short by arrests
    reference = finish(plain, 0.0)
    for model in (fast, chunked):
        result = finish(model, 0.0)
        pd.testing.assert_frame_equal(result.crimes, reference.crimes)
        pd.testing.assert_frame_equal(result.metrics, reference.metrics)
        assert np.array_equal(model.positions()["offenders"], plain.positions()["offenders"])


def test_what_remembered_crimes_add_is_summed_as_exposed_at_every_hour():
    """A lift's sums by the hour, worked out once by land use, are its places' lifts weighed
    by each hour's exposure of their land use and summed: the sums that decide most trips."""
    model = SafeCityModel(small("run.days=40"))
    assert model.clock.exposes
    model.run_days(30)
    checked = 0
    for offender in model.trips.offenders:
        for slot in range(len(offender._routes)):
            if not offender._boosts or offender._routes[slot] is None:
                continue
            lift = offender._boost(slot, model.time)
            if lift is None:
                continue
            extra, extra_total, exposed, _ = lift
            uses = model.city.land_use[offender._routes[slot][0]]
            by_place = [float(model.clock._exposure[h][uses] @ extra) for h in range(24)]
            assert exposed == pytest.approx(by_place, rel=1e-12)
            assert extra_total == pytest.approx(extra.sum(), rel=1e-12)
            checked += 1
    assert checked > 10


def test_remembered_crimes_weigh_each_place_by_its_distance_whichever_way_the_route_goes():
    """Weights taken from the way back (reversed) are the ones the way there's own places
    give, bit for bit: 1 at the crime, falling linearly to nothing at the radius."""
    model = SafeCityModel(small("run.days=40", "offenders.near_repeat_radius_m=600"))
    model.run_days(30)
    radius, xy = model.config.offenders.near_repeat_radius_m, model.city.xy
    checked = both_ways = 0
    for offender in model.trips.offenders:
        k_anchors = len(offender.anchors)
        for slot, route in enumerate(offender._routes):
            for k, weights in enumerate(offender._boost_weights[slot]):
                if weights is None:
                    continue
                d = np.hypot(*(xy[route[0]] - xy[offender._boosts[k][0]]).T)
                if d.min() >= radius:
                    assert weights is False
                else:
                    assert weights.tobytes() == np.clip(1.0 - d / radius, 0.0, None).tobytes()
                checked += 1
                back = offender._boost_weights[(slot + k_anchors) % (2 * k_anchors)][k]
                both_ways += back is not None and back is not False
    assert checked > 50 and both_ways > 10
