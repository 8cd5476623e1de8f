import networkx as nx
import numpy as np
import pandas as pd
import pytest

from abm import streets
from abm.config import CitySettings, ConfigError
from abm.model import SafeCityModel
from abm.simulate import finish
from abm.streets import Router, build_city, load_graphml
from tests.conftest import small


@pytest.fixture(scope="module")
def city():
    return build_city(CitySettings(nodes=900, generator="organic"), seed=4)


@pytest.mark.parametrize("generator", ["grid", "organic"])
def test_generators_give_connected_cities_with_metric_positions(generator):
    city = build_city(CitySettings(generator=generator, nodes=600), seed=3)
    g = city.graph
    assert nx.is_connected(g)
    assert list(g.nodes) == list(range(g.number_of_nodes()))
    assert g.number_of_nodes() > 300
    assert city.xy.shape == (g.number_of_nodes(), 2)
    lengths = np.array([d["length"] for *_, d in g.edges(data=True)])
    assert (lengths > 0).all()
    assert 30 < np.median(lengths) < 500
    assert abs(city.attractiveness.mean() - 1) < 1e-9
    again = build_city(CitySettings(generator=generator, nodes=600), seed=3)
    assert np.array_equal(city.xy, again.xy)
    assert sorted(city.graph.edges) == sorted(again.graph.edges)


def test_route_follows_streets_and_matches_networkx():
    city = build_city(CitySettings(nodes=400), seed=1)
    path, along = city.router.route(0, city.n - 1)
    assert path[0] == 0 and path[-1] == city.n - 1
    for u, v in zip(path[:-1], path[1:], strict=True):
        assert city.graph.has_edge(u, v)
    expected = nx.shortest_path_length(city.graph, 0, city.n - 1, weight="length")
    assert along[-1] == pytest.approx(expected)
    assert np.all(np.diff(along) > 0)


def test_graphml_round_trip(tmp_path):
    g = nx.Graph()
    for i, (x, y) in enumerate([(0, 0), (100, 0), (100, 100), (0, 100), (500, 500)]):
        g.add_node(f"n{i}", x=x, y=y)
    g.add_edge("n0", "n1", length=100.0)
    g.add_edge("n1", "n2", length=100.0)
    g.add_edge("n2", "n3", length=100.0)
    g.add_edge("n3", "n0")  # length from positions
    g.add_node("lonely", x=900, y=900)
    path = tmp_path / "town.graphml"
    nx.write_graphml(g, path)
    graph, xy = load_graphml(path)
    assert graph.number_of_nodes() == 4  # the unconnected nodes are dropped
    assert sorted(d["length"] for *_, d in graph.edges(data=True)) == [100.0] * 4
    city = build_city(CitySettings(graph_file=str(path)), seed=0)
    assert city.n == 4


@pytest.mark.parametrize("content, fragment", [
    ("not xml at all", "not a readable GraphML"),
    ('<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
     '<graph edgedefault="undirected"><node id="a"/><node id="b"/><edge source="a" target="b"/>'
     "</graph></graphml>", "numeric x and y"),
    ('<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
     '<graph edgedefault="undirected"></graph></graphml>', "no streets"),
])
def test_malformed_graph_files(tmp_path, content, fragment):
    path = tmp_path / "bad.graphml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=fragment):
        load_graphml(path)


def test_cached_routes_equal_fresh_walks_and_are_read_only(city):
    rng = np.random.default_rng(0)
    fresh = Router(city.graph)
    for s, t in rng.integers(0, city.n, (200, 2)):
        path, along = city.router.route(s, t)
        again = city.router.route(int(s), int(t))
        assert again[0] is path  # served from the cache
        ref_path, ref_along = fresh.walk(int(s), int(t), fresh.tree_to(int(t)))
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
    assert city.router.trees_held == 1 and city.within_held <= 10
    a, b = finish(roomy, 0.0), finish(cramped, 0.0)
    pd.testing.assert_frame_equal(a.crimes, b.crimes)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)


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
