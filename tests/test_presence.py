"""Where visible police deter: planned stops against writing every stop into every place."""

import numpy as np
import pytest

from abm.model import SafeCityModel
from abm.presence import Presence
from tests.conftest import small


def tour(presence, row, places, arrive, stay=45.0):
    """A tour of stops at places with these arrival times (dwelling 15 minutes)."""
    arrive = np.asarray(arrive, dtype=float)
    presence.tour(row, int(places[0]), float(arrive[0]) - 5.0, np.asarray(places),
                  np.full(len(arrive), 100.0), arrive, arrive + 15.0, stay)


def test_planned_stops_deter_from_arrival_until_dropped_or_over():
    model = SafeCityModel(small("run.days=1", "offenders.count=0", "police.units=0"))
    presence = Presence(model)
    node = 5
    near = model.city.within(node, presence.radius)
    other, far = int(near[-1]), int(np.argmax(np.hypot(*(model.city.xy - model.city.xy[node]).T)))
    row = presence.enroll()
    tour(presence, row, [node, far, node], [100.0, 200.0, 300.0])
    assert not presence.present(node, 99.0)
    assert presence.present(node, 100.0) and presence.present(other, 120.0)
    assert presence.present(node, 145.0) and not presence.present(node, 145.5)
    assert not presence.present(node, 210.0) and presence.present(far, 210.0)
    presence.cut(row, 2)  # called away before the third stop
    assert not presence.present(node, 310.0)
    model.time = 220.0  # a new tour: the stop reached keeps deterring, one not reached never will
    tour(presence, row, [node], [500.0])
    assert presence.present(far, 240.0) and not presence.present(far, 250.0)
    assert presence.present(node, 520.0)
    presence.guard(node, 400.0)
    assert presence.present(node, 399.0) and not presence.present(node, 401.0)


class EagerPresence:
    """The plain computation Presence replaces: each stop written into every place it covers
    at its arrival, unless dropped before it."""

    def __init__(self, city, radius):
        self.city, self.radius = city, radius
        self.until = np.full(city.n, -np.inf)
        self.pending = []  # [arrive, node, until, (row, tour), index in the tour]

    def guard(self, node, until):
        near = self.city.within(node, self.radius)
        self.until[near] = np.maximum(self.until[near], until)

    def drop(self, tour, keep=0, now=-np.inf):
        """Drop a tour's stops from the keep-th on, or (by default) those not reached by now."""
        self.pending = [s for s in self.pending
                        if s[3] != tour or (s[4] < keep if now == -np.inf else s[0] <= now)]

    def present(self, node, now):
        for stop in sorted(self.pending, key=lambda s: s[0]):
            if stop[0] <= now:
                self.guard(stop[1], stop[2])
                self.pending.remove(stop)
        return bool(self.until[node] >= now)


@pytest.mark.parametrize("radius", [150.0, 900.0])
def test_presence_matches_writing_every_stop_into_every_place(radius):
    model = SafeCityModel(small("offenders.count=0", "police.units=0",
                                f"police.presence_radius_m={radius}"))
    fast, eager = Presence(model), EagerPresence(model.city, radius)
    rows = [fast.enroll() for _ in range(5)]
    arrivals = {row: [] for row in rows}
    tours = {row: (row, 0) for row in rows}
    rng = np.random.default_rng(1)
    places = rng.integers(0, model.city.n, 30)  # stops recur at a few places, as hot spots do
    now = 0.0
    for _ in range(3000):
        now += rng.exponential(3.0)
        model.time = now
        kind = rng.random()
        node = int(rng.choice(places))
        row = int(rng.choice(rows))
        reached = sum(a <= now for a in arrivals[row])
        if kind < 0.2:  # a new tour: stops of the last one not reached are dropped
            eager.drop(tours[row], now=now)
            tours[row] = (row, tours[row][1] + 1)
            arrive = now + np.cumsum(rng.exponential(20.0, rng.integers(1, 9)))
            stops = rng.choice(places, len(arrive))
            tour(fast, row, stops, arrive)
            arrivals[row] = arrive.tolist()
            eager.pending += [[a, int(p), a + 45.0, tours[row], k]
                              for k, (a, p) in enumerate(zip(arrive, stops, strict=True))]
        elif kind < 0.3:  # called away or replanned: keep what was reached, perhaps the next
            keep = min(reached + int(rng.integers(0, 2)), len(arrivals[row]))
            fast.cut(row, keep)
            eager.drop(tours[row], keep)
            arrivals[row] = arrivals[row][:keep]
        elif kind < 0.35:
            fast.guard(node, now + 70.0)
            eager.guard(node, now + 70.0)
        elif kind < 0.37:  # a unit leaves the force and another takes its row
            fast.withdraw(row)
            eager.drop(tours[row], now=now)
            arrivals[row] = []
            assert fast.enroll() == row
        else:
            query = int(rng.integers(0, model.city.n)) if kind < 0.6 else node
            assert fast.present(query, now) == eager.present(query, now)
