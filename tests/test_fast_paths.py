"""The speed-ups change nothing: each fast path is compared with the plain computation it
replaces (caches against fresh work, lazy legs against full routes, planned patrol stops
against stops made on arrival)."""

import math
from functools import partial

import numpy as np
import pandas as pd
import pytest

from abm import model as model_module
from abm import streets
from abm.config import CitySettings
from abm.model import SafeCityModel
from abm.offenders import Trips
from abm.police import Presence
from abm.simulate import finish
from abm.streets import Router, build_city
from tests.conftest import small


@pytest.fixture(scope="module")
def city():
    return build_city(CitySettings(nodes=900, generator="organic"), seed=4)


def test_cached_routes_equal_fresh_walks_and_are_read_only(city):
    rng = np.random.default_rng(0)
    fresh = Router(city.graph)
    for s, t in rng.integers(0, city.n, (200, 2)):
        path, along = city.router.route(s, t)
        again = city.router.route(int(s), int(t))
        assert again[0] is path  # served from the cache
        ref_path, ref_along = Router._walk(int(s), int(t), *fresh.tree_to(int(t)))
        assert np.array_equal(path, ref_path) and np.array_equal(along, ref_along)
        with pytest.raises(ValueError):
            path[0] = 1


def test_radius_queries_equal_the_kdtree_and_are_read_only(city):
    for node in range(0, city.n, 37):
        near = city.within(node, 250.0)
        ref = np.sort(city.kdtree.query_ball_point(city.xy[node], 250.0))
        assert np.array_equal(np.sort(near), ref)
        assert city.within(node, 250.0) is near
    with pytest.raises(ValueError):
        near[0] = 0


def test_tiny_caches_give_the_same_run(monkeypatch):
    config = small("run.days=8", "police.patrol=random")
    roomy = SafeCityModel(config)
    roomy.run_days(8)
    monkeypatch.setattr(streets, "WITHIN_CACHE_NODES", 10)
    city = build_city(config.city, config.run.seed)
    city.router = Router(city.graph, max_trees=1, route_memory_mb=0.001)
    cramped = SafeCityModel(config, city=city)
    cramped.run_days(8)
    assert len(city.router._trees) == 1 and city._within_size <= 10
    a, b = finish(roomy, 0.0), finish(cramped, 0.0)
    pd.testing.assert_frame_equal(a.crimes, b.crimes)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)


def test_lazy_patrol_legs_match_the_full_route():
    model = SafeCityModel(small("run.days=2", "offenders.count=0"))
    router = model.city.router
    checked = 0
    for _ in range(40):
        model.run_for(17.0)
        for unit in model.units:
            if unit.stopped_at(model.time) is not None or unit._path is not None:
                continue
            path, along = router.route(unit._from, unit._to)
            times = unit._depart + along / unit._speed
            assert unit._end == times[-1]  # bit for bit, not approximately
            now = model.time
            i = int(np.searchsorted(times, now, side="right")) - 1
            assert unit.position(now) == path[max(i, 0)]
            checked += 1
    assert checked > 20


def test_offender_passing_times_match_the_vector_computation():
    model = SafeCityModel(small("run.days=1", "police.units=0"))
    model.run_days(1)
    for offender in model.offenders:
        times = offender._depart + offender._along / offender._speed
        assert [offender._passing(i) for i in range(len(times))] == times.tolist()


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


def test_stops_reached_and_left_are_counted_through_tours_and_calls():
    model = SafeCityModel(small("run.days=6", "offenders.count=0", "police.hotspots=10"))
    model.run_days(6)
    now = model.time
    left = sum(u.left(now) for u in model.units)
    at_stop = sum(1 for u in model.units if u.stopped_at(now) is not None)  # not yet left
    assert left > 0
    assert sum(u.reached(now) for u in model.units) == left + at_stop
    unit = model.units[0]  # called away mid-tour: what it reached and left still counts
    model.run_for(7.0)
    before = unit.reached(model.time), unit.left(model.time)
    unit._interrupt()
    assert (unit.reached(model.time), unit.left(model.time)) == before


def nearest_by_lookup(router, target: int, sources: np.ndarray, limit_m: float):
    """The plain computation dispatch replaces: where every unit is, the nearest of them by
    street distance within a limit (the first among equals), and its route; or None."""
    tree = router.toward(target, limit_m)
    d = tree[0][sources]
    if not np.isfinite(d).any():
        return None
    best = int(np.argmin(d))
    return (best, *router.walk(sources[best], target, tree))


@pytest.mark.parametrize("extra", [[], ["city.jitter=0"], ["city.generator=organic"]])
def test_nearest_unit_matches_looking_every_unit_up(monkeypatch, extra):
    from abm.dispatch import Dispatcher

    fast = Dispatcher._nearest
    checked = []

    def both(self, free, node, tree, limit_m=np.inf):
        found = fast(self, free, node, tree, limit_m)
        units, now = free.units, self.model.time
        places = np.array([u.position(now) for u in units], dtype=np.intp)
        ref = nearest_by_lookup(self.model.city.router, node, places, limit_m)
        if ref is None:
            assert found is None
        else:
            assert found[0] is units[ref[0]]
            assert np.array_equal(found[1], ref[1]) and np.array_equal(found[2], ref[2])
        checked.append(len(units))
        return found

    monkeypatch.setattr(Dispatcher, "_nearest", both)
    model = SafeCityModel(small("run.days=30", "offenders.count=300", "police.units=12", *extra))
    model.run_days(30)
    assert len(checked) > 50


def test_nearest_unit_on_one_way_streets(monkeypatch, tmp_path):
    import networkx as nx

    rng = np.random.default_rng(5)
    grid = nx.grid_2d_graph(18, 18).to_directed()
    one_way = [e for e in grid.edges if rng.random() < 0.3]
    grid.remove_edges_from(one_way[::2])
    g = nx.DiGraph()
    for (i, j) in grid.nodes:
        g.add_node(f"{i}-{j}", x=i * 110.0 + rng.normal(0, 10), y=j * 110.0 + rng.normal(0, 10))
    for (a, b) in grid.edges:
        g.add_edge(f"{a[0]}-{a[1]}", f"{b[0]}-{b[1]}", length=float(rng.uniform(110, 160)))
    path = tmp_path / "one-way.graphml"
    nx.write_graphml(g, path)
    test_nearest_unit_matches_looking_every_unit_up(monkeypatch, [f"city.file={path}"])


@pytest.mark.parametrize("extra", [[], ["city.jitter=0"]])
def test_calls_at_places_with_cached_trees_get_the_unit_and_route_of_the_radius_searches(
        monkeypatch, extra):
    from abm.dispatch import SEARCH_RADII_M, Dispatcher
    from abm.police import PoliceUnit, Whereabouts

    send, respond = Dispatcher._send, PoliceUnit.respond
    sent, seen = [], set()

    def searched(self, call):
        """The plain computation: a bounded search for each radius in turn."""
        router, node, now = self.model.city.router, call.node, self.model.time
        free = Whereabouts([u for u in self.units if u.free], now)
        cached = router.cached_tree(node)
        for radius in SEARCH_RADII_M:
            found = free.units and self._nearest(free, node, router.toward(node, radius),
                                                 radius)
            if found:
                break
        sent.clear()
        assert send(self, call) == bool(found)
        if found:
            assert sent[0][0] is found[0] and np.array_equal(sent[0][1], found[1])
            assert np.array_equal(sent[0][2], found[2])
            if cached is not None:
                seen.add(router.tied(found[1], cached[0]))
        return bool(found)

    monkeypatch.setattr(Dispatcher, "_send", searched)
    monkeypatch.setattr(PoliceUnit, "respond",
                        lambda unit, call, path, along: (sent.append((unit, path, along)),
                                                         respond(unit, call, path, along)))
    model = SafeCityModel(small("run.days=30", "offenders.count=300", "police.units=12",
                                *extra))
    model.run_days(30)
    assert seen == ({False, True} if extra else {False})  # ties on a regular grid


def test_routes_along_full_trees_are_the_bounded_searches_routes_where_not_tied():
    for jitter in (0.0, 0.3):
        city = build_city(CitySettings(nodes=900, jitter=jitter), seed=3)
        router, rng = city.router, np.random.default_rng(1)
        tied = 0
        for target in rng.integers(0, city.n, 60).tolist():
            full, bounded = router.tree_to(target), router.toward(target, 600.0)
            near = np.flatnonzero(np.isfinite(bounded[0]))
            assert np.array_equal(full[0][near], bounded[0][near])
            for source in near.tolist():
                path = router.walk(source, target, full)[0]
                if router.tied(path, full[0]):
                    tied += 1
                else:
                    assert np.array_equal(path, router.walk(source, target, bounded)[0])
        assert (tied > 0) == (jitter == 0)  # equal routes on a regular grid


def plain_bound(model, unit, now, place, dist):
    """What Whereabouts.bounds gives for one driving unit, the terms taken one by one."""
    city, here = model.city, model.city.xy[place]
    done = (now - unit._depart) * unit._speed
    left = unit._metres - done + city.longest_street_m
    terms = [dist[unit._from] - done, np.hypot(*(city.xy[unit._from] - here)) - done,
             np.hypot(*(city.xy[unit._to] - here)) - left]
    return max(terms + [dist[unit._to] - left] if city.router.two_way else terms)


def test_whereabouts_from_tour_rows_match_each_units_own():
    from abm.police import Whereabouts

    model = SafeCityModel(small("run.days=3", "offenders.count=300", "police.units=12"))
    seen = set()
    for _ in range(150):
        model.run_for(float(model.random.uniform(1.0, 40.0)))
        now = model.time
        units = [u for u in model.units if u.free]
        where = Whereabouts(units, now)
        assert where.stopped == [i for i, u in enumerate(units) if u.stopped_at(now) is not None]
        assert where.places == [units[i].stopped_at(now) for i in where.stopped]
        driving = [units[i] for i in where.driving]
        assert where.driving == [i for i, u in enumerate(units) if u.stopped_at(now) is None]
        assert where.start.tolist() == [u._from for u in driving]
        assert where.end.tolist() == [u._to for u in driving]
        assert where.done.tolist() == [(now - u._depart) * u._speed for u in driving]
        place = int(model.random.randrange(model.city.n))
        dist = model.city.router.tree_to(place)[0]
        assert where.bounds(place, dist).tolist() == [
            plain_bound(model, u, now, place, dist) for u in driving]
        seen.add((bool(where.stopped), bool(where.driving), len(units) < len(model.units)))
    assert len(seen) >= 3  # stopped and driving units, and units away on calls


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


def test_targets_turn_up_at_each_place_with_the_chance_of_its_hazard():
    model = SafeCityModel(small("offenders.count=0", "police.units=0",
                                "offenders.near_repeat_excitation=0"))
    nodes = np.arange(12)
    attractiveness = np.linspace(0.0, 2.0, 12)
    model.config.offenders.opportunity_rate = 0.15
    hazard = model.opportunity_hazard(nodes, 0.0, attractiveness)
    draws = 40_000
    hits = np.zeros(12)
    none = 0
    for _ in range(draws):
        met = model.targets_met(nodes, 0.0, attractiveness, attractiveness.sum())
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
    near = model.near_repeats
    rng = np.random.default_rng(2)
    for _ in range(30):
        model.run_days(2)
        for _ in range(20):
            nodes = rng.integers(0, model.city.n, int(rng.integers(1, 80)))
            assert near.total(nodes, model.time) <= near.most(len(nodes), model.time)
    assert near.highest == near.weight.max() > 0


def test_patrol_pool_distances_are_the_trees_distances(city):
    from abm.police import PatrolPool

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
    from abm.police import PatrolPool

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


def test_the_way_home_is_the_way_out_reversed_and_as_short():
    model = SafeCityModel(small("run.days=4", "police.units=0"))
    model.run_days(4)
    router = model.city.router
    assert len(router._trees) < len(model.offenders)  # no tree toward each home
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


def test_hot_spots_are_the_top_places_of_the_window_as_a_full_sort_gives():
    model = SafeCityModel(small("run.days=120", "police.hotspots=15"))
    rng = np.random.default_rng(9)
    n = model.city.n
    for _ in range(50):  # many ties: small integer scores
        score = rng.integers(0, 4, n).astype(float)
        ref = np.sort(np.lexsort((np.arange(n), -score))[:15])
        assert np.array_equal(model._top_places(score), ref)
    model.run_days(120)  # longer than the 90-day window: old crimes have left it
    assert model.crimes[0].time_min < model.time - 90 * 1440.0
    recent = [c.node for c in model.crimes
              if c.recorded and model.time - c.time_min <= 90 * 1440.0]
    counts = np.bincount(recent, minlength=n).astype(float)
    assert np.array_equal(model._reported_counts, counts)
    score = counts + 1e-3 * model.city.attractiveness
    expected = np.sort(np.lexsort((np.arange(n), -score))[:15])
    model.refresh_hotspots()
    assert np.array_equal(model.hotspots, expected)


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
