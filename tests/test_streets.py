import networkx as nx
import numpy as np
import pandas as pd
import pytest
from scipy.spatial import Delaunay

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
    city.router = Router(city.graph, max_trees=1, route_memory_mb=0.001, xy=city.xy)
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


def networkx_grid(settings: CitySettings, rng: np.random.Generator):
    """The grid as networkx built it before the generators used arrays: the reference."""
    side = max(4, round(np.sqrt(settings.nodes)))
    graph = nx.convert_node_labels_to_integers(nx.grid_2d_graph(side, side), ordering="sorted")
    ij = np.array([(i // side, i % side) for i in range(side * side)], dtype=float)
    xy = ij * settings.block_m + rng.normal(0, settings.jitter * settings.block_m / 2, ij.shape)
    edges = sorted(graph.edges())
    drop = rng.random(len(edges)) < settings.edge_drop
    graph.remove_edges_from([e for e, d in zip(edges, drop, strict=True) if d])
    return networkx_largest_part(graph, xy)


def networkx_organic(settings: CitySettings, rng: np.random.Generator):
    n = settings.nodes
    side = np.sqrt(n) * settings.block_m
    centres = rng.uniform(0.2 * side, 0.8 * side, (settings.centres, 2))
    which = rng.integers(0, settings.centres, int(0.5 * n))
    near = centres[which] + rng.normal(0, side / 6, (int(0.5 * n), 2))
    xy = np.clip(np.vstack([near, rng.uniform(0, side, (n - int(0.5 * n), 2))]), 0, side)
    edges = set()
    for a, b, c in Delaunay(xy).simplices:
        for u, v in ((a, b), (b, c), (a, c)):
            edges.add((min(u, v), max(u, v)))
    edges = sorted(edges)
    lengths = np.array([np.hypot(*(xy[u] - xy[v])) for u, v in edges])
    keep = lengths < np.quantile(lengths, 0.9)
    keep &= rng.random(len(edges)) >= settings.edge_drop + 0.15
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(e for e, k in zip(edges, keep, strict=True) if k)
    return networkx_largest_part(graph, xy)


def networkx_largest_part(graph, xy):
    keep = sorted(max(nx.connected_components(graph), key=lambda c: (len(c), -min(c))))
    part = nx.relabel_nodes(graph.subgraph(keep).copy(), {old: new for new, old in
                                                          enumerate(keep)})
    for u, v, data in part.edges(data=True):
        data["length"] = float(np.hypot(*(xy[keep][u] - xy[keep][v])))
    return part, xy[keep]


@pytest.mark.parametrize("nodes, seed, extra", [
    (400, 1, {}), (2500, 3, {"jitter": 0.0}), (900, 7, {"edge_drop": 0.4}),
    (34, 38, {"edge_drop": 0.45}), (34, 18, {"edge_drop": 0.45}),  # small largest parts
])
@pytest.mark.parametrize("generator", ["grid", "organic"])
def test_generators_build_the_graph_networkx_built(generator, nodes, seed, extra):
    """Built with arrays, the same graph bit for bit: nodes, streets and each node's
    neighbours in the same order (exports, drawing and Mesa's cells follow it), and lengths."""
    settings = CitySettings(generator=generator, nodes=nodes, **extra)
    make = streets.grid_city if generator == "grid" else streets.organic_city
    reference = networkx_grid if generator == "grid" else networkx_organic
    (graph, xy), (ref, ref_xy) = (f(settings, np.random.default_rng(seed))
                                  for f in (make, reference))
    assert np.array_equal(xy, ref_xy)
    assert list(graph.nodes(data=True)) == list(ref.nodes(data=True))
    assert list(graph.edges(data=True)) == list(ref.edges(data=True))
    assert all(list(graph.adj[u]) == list(ref.adj[u]) for u in ref)


@pytest.mark.parametrize("jitter", [0.0, 0.3])
def test_routes_from_bounded_searches_are_the_trees_routes(jitter):
    """Routes searched near their ends equal the routes walked from whole trees; on a
    perfectly regular grid, where routes tie, the router falls back to the tree."""
    city = build_city(CitySettings(nodes=900, jitter=jitter), seed=3)
    trees = Router(city.graph)  # without positions: every route from a whole tree
    rng = np.random.default_rng(2)
    for s, t in rng.integers(0, city.n, (300, 2)).tolist():
        path, along = city.router.route(s, t)
        ref_path, ref_along = trees.route(s, t)
        assert np.array_equal(path, ref_path) and np.array_equal(along, ref_along)
    assert (city.router.trees_held > 0) == (jitter == 0)


def test_a_whole_search_is_kept_as_the_targets_tree(city):
    dist, nxt = city.router.toward(5)
    assert city.router.cached_tree(5)[0] is dist
    ref = Router(city.graph).tree_to(5)
    assert np.array_equal(dist, ref[0]) and np.array_equal(nxt, ref[1])
    assert city.router.cached_tree(6) is None and city.router.toward(6, 300.0) is not None
    assert city.router.cached_tree(6) is None  # a bounded search is not a tree


def test_trees_kept_fit_the_memory_available(city, monkeypatch):
    monkeypatch.setattr(streets, "available_mb", lambda: 4 * 12 * city.n * 10 / 2**20)
    assert Router(city.graph).max_trees == 10
    monkeypatch.setattr(streets, "available_mb", lambda: 1e9)
    assert Router(city.graph).max_trees == min(4096, int(streets.TREE_MEMORY_MB * 2**20
                                                        / (12 * city.n)))
