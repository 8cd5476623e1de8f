import networkx as nx
import numpy as np
import pytest

from abm.config import CitySettings, ConfigError
from abm.streets import build_city, load_graphml


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
