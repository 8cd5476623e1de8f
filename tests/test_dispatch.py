"""Dispatch sends the nearest free unit: the fast searches against looking every unit up."""

import numpy as np
import pytest

from abm.dispatch import SEARCH_RADII_M, Dispatcher, Whereabouts
from abm.model import SafeCityModel
from abm.police import PoliceUnit
from tests.conftest import small


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


def plain_bound(model, unit, now, place, dist):
    """What Whereabouts.bounds gives for one driving unit, the terms taken one by one."""
    city, here, leg = model.city, model.city.xy[place], unit.leg(now)
    done = (now - leg.depart) * unit.speed
    left = leg.metres - done + city.longest_street_m
    terms = [dist[leg.start] - done, np.hypot(*(city.xy[leg.start] - here)) - done,
             np.hypot(*(city.xy[leg.end] - here)) - left]
    return max(terms + [dist[leg.end] - left] if city.router.two_way else terms)


def test_whereabouts_from_tour_rows_match_each_units_own():
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
        legs = [u.leg(now) for u in driving]
        assert where.start.tolist() == [leg.start for leg in legs]
        assert where.end.tolist() == [leg.end for leg in legs]
        assert where.done.tolist() == [(now - leg.depart) * u.speed
                                       for leg, u in zip(legs, driving, strict=True)]
        place = int(model.random.randrange(model.city.n))
        dist = model.city.router.tree_to(place)[0]
        assert where.bounds(place, dist).tolist() == [
            plain_bound(model, u, now, place, dist) for u in driving]
        seen.add((bool(where.stopped), bool(where.driving), len(units) < len(model.units)))
    assert len(seen) >= 3  # stopped and driving units, and units away on calls
