"""Places from data: OpenStreetMap tags -> land use, homes, attractiveness and cameras (.osm and
.osm.pbf alike), and attractiveness from points files (CSV lon/lat or x/y, GeoPackage)."""

from pathlib import Path

import numpy as np
import osmium
import pandas as pd
import pytest

from abm.config import ConfigError, from_overrides
from abm.landuse import Frame, spread
from abm.model import SafeCityModel
from abm.streetfiles import load_street_file
from abm.streets import LandUse, build_city
from tests.conftest import abm_cli

ROOT = Path(__file__).resolve().parent.parent
MESA = ROOT / "abm" / "data" / "mesa_az.graphml"
LAT0, LON0, STEP = 60.1650, 24.9300, 0.001  # central Helsinki; 0.001 degrees ~ 111 m north

# (lat offset, lon offset in steps, tags) of the features: a nightlife corner at the grid's
# (0, 0), homes at its far corner (5, 5), and cameras.
FEATURES = [(0.1, 0.1, {"amenity": "bar"}), (0.2, 0.0, {"amenity": "pub"}),
            (0.0, 0.2, {"amenity": "nightclub"}), (0.1, 0.3, {"shop": "kiosk"}),
            (5.0, 4.9, {"building": "apartments"}), (4.9, 5.0, {"building": "residential"}),
            (4.8, 4.8, {"building": "house"}),
            (0.05, 0.0, {"man_made": "surveillance"}), (3.0, 3.02, {"man_made": "surveillance"}),
            (2.0, 2.0, {"man_made": "surveillance", "surveillance": "indoor"})]


def grid_elements(side: int = 6):
    """Nodes (id, lat, lon, tags) and ways (id, refs, tags) of a street grid with features."""
    nodes, ways = [], []
    nid = lambda i, j: 1 + i * side + j  # noqa: E731
    for i in range(side):
        for j in range(side):
            nodes.append((nid(i, j), LAT0 + i * STEP, LON0 + j * STEP, {}))
    for i in range(side):
        ways.append((1000 + i, [nid(i, j) for j in range(side)], {"highway": "residential"}))
        ways.append((2000 + i, [nid(j, i) for j in range(side)], {"highway": "tertiary"}))
    for k, (di, dj, tags) in enumerate(FEATURES):
        nodes.append((500 + k, LAT0 + di * STEP, LON0 + dj * STEP, tags))
    return nodes, ways


def write_pbf(path: Path, nodes, ways) -> Path:
    writer = osmium.SimpleWriter(str(path))
    for i, lat, lon, tags in nodes:
        writer.add_node(osmium.osm.mutable.Node(id=i, location=(lon, lat), tags=tags))
    for i, refs, tags in ways:
        writer.add_way(osmium.osm.mutable.Way(id=i, nodes=refs, tags=tags))
    writer.close()
    return path


def write_osm(path: Path, nodes, ways) -> Path:
    def tags(t):
        return "".join(f'<tag k="{k}" v="{v}"/>' for k, v in t.items())

    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    lines += [f'<node id="{i}" lat="{lat:.7f}" lon="{lon:.7f}">{tags(t)}</node>'
              for i, lat, lon, t in nodes]
    lines += [f'<way id="{i}">' + "".join(f'<nd ref="{r}"/>' for r in refs) + tags(t) + "</way>"
              for i, refs, t in ways]
    path.write_text("\n".join(lines + ["</osm>"]) + "\n")
    return path


@pytest.fixture
def pbf(tmp_path) -> Path:
    return write_pbf(tmp_path / "grid.osm.pbf", *grid_elements())


def mapped_city(path: Path, *overrides: str):
    config = from_overrides([f"city.file={path}", "city.land_use=mapped", "city.destinations=10",
                             "offenders.count=20", "police.units=1", *overrides])
    return config, build_city(config.city, 1)


def corner_nodes(city):
    lo = city.xy.min(axis=0)
    hi = city.xy.max(axis=0)
    near = int(np.argmin(np.linalg.norm(city.xy - lo, axis=1)))
    far = int(np.argmin(np.linalg.norm(city.xy - hi, axis=1)))
    return near, far


def test_pbf_grid_is_read_as_undirected_projected_streets(pbf):
    graph, xy, report = load_street_file(pbf)
    assert report["format"] == "pbf" and not report["directed"]
    assert graph.number_of_nodes() == 36 and graph.number_of_edges() == 60
    assert report["frame"] == {"crs": "EPSG:32635", "unit_m": 1.0}
    assert "OpenStreetMap contributors" in report["attribution"] and "ODbL" in \
        report["attribution"]
    lengths = [d["length"] for _, _, d in graph.edges(data=True)]
    assert min(lengths) > 50 and max(lengths) < 115  # 0.001 degrees: 55 m east, 111 m north


def test_mapped_land_use_and_attractiveness_follow_the_tags(pbf):
    _, city = mapped_city(pbf)
    bars, homes = corner_nodes(city)
    assert city.attractiveness[bars] == city.attractiveness.max()
    assert city.residents[homes] == city.residents.max()
    assert city.residents[bars] < 0.01 * city.residents[homes]
    assert city.land_use[bars] == LandUse.COMMERCIAL
    assert city.land_use[homes] == LandUse.RESIDENTIAL
    assert abs(city.attractiveness.mean() - 1) < 1e-12
    counts = city.mapped().counts
    assert counts["nightlife"].sum() == pytest.approx(3) and counts["home"].sum() == \
        pytest.approx(3)
    # Every place keeps the floor's share of the mean score, however far from any feature.
    assert city.attractiveness.min() > 0


def test_osm_xml_and_pbf_give_the_same_places(tmp_path):
    nodes, ways = grid_elements()
    _, from_pbf = mapped_city(write_pbf(tmp_path / "a.osm.pbf", nodes, ways))
    _, from_xml = mapped_city(write_osm(tmp_path / "a.osm", nodes, ways))
    # osmnx drops the grid's four corners (two streets meeting) that pyrosm keeps.
    assert (from_pbf.n, from_xml.n) == (36, 32)
    assert np.allclose(from_pbf.mapped().counts.sum(), from_xml.mapped().counts.sum())
    assert len(from_pbf.mapped().cameras) == len(from_xml.mapped().cameras) == 3
    for city in (from_pbf, from_xml):
        bars, homes = corner_nodes(city)
        assert city.attractiveness[bars] == city.attractiveness.max()
        assert city.residents[homes] == city.residents.max()


def test_mapped_cameras_sit_at_their_nearest_places_indoor_ones_dropped(pbf):
    config, city = mapped_city(pbf, "cameras.placement=mapped", "cameras.count=2")
    model = SafeCityModel(config, city=city)
    bars, _ = corner_nodes(city)
    assert bars in model.cameras.nodes and len(model.cameras.nodes) == 2
    report = city.source["mapped_cameras"]
    assert report == {**report, "mapped": 3, "indoor": 1, "placed": 2, "places": 2}
    one = SafeCityModel(mapped_city(pbf, "cameras.placement=mapped", "cameras.count=1")[0])
    again = SafeCityModel(mapped_city(pbf, "cameras.placement=mapped", "cameras.count=1")[0])
    assert len(one.cameras.nodes) == 1 and set(one.cameras.nodes) <= set(model.cameras.nodes)
    assert np.array_equal(one.cameras.nodes, again.cameras.nodes)
    with pytest.raises(ConfigError, match="cameras.count: 3, but .* maps 2 cameras"):
        SafeCityModel(mapped_city(pbf, "cameras.placement=mapped", "cameras.count=3")[0])


def test_mapped_needs_a_map(tmp_path):
    with pytest.raises(ConfigError, match="no mapped features"):
        SafeCityModel(from_overrides([f"city.file={MESA}", "cameras.placement=mapped"]))
    with pytest.raises(ConfigError, match="land_use mapped needs a street file"):
        from_overrides(["city.land_use=mapped"])


def test_kernel_spreads_each_point_once_and_lone_points_go_to_the_nearest_place():
    city = build_city(from_overrides(["city.nodes=100"]).city, 1)
    settings = from_overrides(["city.kernel_m=40"]).city
    xy = np.vstack([city.xy[:5] + 3.0, [city.xy[:, 0].max() + 200, city.xy[:, 1].max()]])
    weight = np.arange(1.0, 7.0)
    mass = spread(city, xy, weight, settings)
    assert mass.sum() == pytest.approx(weight.sum())
    corner = int(np.argmin(np.linalg.norm(city.xy - xy[-1], axis=1)))
    assert mass[corner] >= 6.0  # 200 m > 3 bandwidths from every place: all at its nearest


def mesa_points(tmp_path, rows: list[tuple[float, float]], columns=("x", "y"), name="p.csv"):
    path = tmp_path / name
    pd.DataFrame(rows, columns=list(columns)).to_csv(path, index=False)
    return path


def mesa_city(points: Path, *overrides: str):
    config = from_overrides([f"city.file={MESA}", f"city.attractiveness_points={points}",
                             *overrides])
    return build_city(config.city, 1)


def test_points_in_the_citys_crs_lonlat_and_geopackage_agree(tmp_path):
    import geopandas as gpd
    import pyproj

    plain = build_city(from_overrides([f"city.file={MESA}"]).city, 1)
    target = [17, 17, 17, 120]
    rows = [tuple(plain.xy[v] + 5.0) for v in target]
    by_xy = mesa_city(mesa_points(tmp_path, rows))
    assert int(np.argmax(by_xy.attractiveness)) == 17
    assert by_xy.attractiveness[120] > np.median(by_xy.attractiveness)
    to_lonlat = pyproj.Transformer.from_crs("EPSG:26949", "EPSG:4326", always_xy=True)
    lonlat = [to_lonlat.transform(x, y) for x, y in rows]
    by_lonlat = mesa_city(mesa_points(tmp_path, lonlat, ("lon", "lat"), "ll.csv"))
    assert np.allclose(by_lonlat.attractiveness, by_xy.attractiveness, atol=1e-6)
    frame = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*zip(*lonlat, strict=True)),
                             crs="EPSG:4326")
    frame.to_file(tmp_path / "p.gpkg")
    by_gpkg = mesa_city(tmp_path / "p.gpkg")
    assert np.allclose(by_gpkg.attractiveness, by_xy.attractiveness, atol=1e-6)
    assert by_xy.source["attractiveness_points"]["points"] == 4
    assert Frame.of(by_xy) == Frame("EPSG:26949", 1.0)


BAD_POINTS = [
    ("empty.csv", "x,y\n", "no points"),
    ("cols.csv", "a,b\n1,2\n", "needs columns lon,lat"),
    ("text.csv", "x,y\nabc,1\n", "point 1 has no numeric position"),
    ("far.csv", "x,y\n0,0\n", "1 of 1 points lie outside the city"),
    ("weights.csv", "x,y,weight\n217000,265000,-1\n", "weight of point 1"),
    ("lonlat.csv", "lon,lat\n500,33\n", "not a longitude/latitude"),
    ("bad.gpkg", "not a geopackage", "not a readable .gpkg file"),
    ("points.xlsx", "x", "unknown points file type"),
]


@pytest.mark.parametrize("name, content, fragment", BAD_POINTS)
def test_bad_points_files_exit_2_with_one_line(tmp_path, name, content, fragment):
    path = tmp_path / name
    path.write_text(content)
    done = abm_cli("run", str(ROOT / "configs/real-city.yaml"), "--set",
                   f"city.attractiveness_points={path}", "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and name in lines[0], done.stderr


def test_lonlat_points_need_a_city_with_a_crs(tmp_path):
    path = mesa_points(tmp_path, [(-111.8, 33.4)], ("lon", "lat"))
    with pytest.raises(ConfigError, match="the city has none"):
        build_city(from_overrides([f"city.attractiveness_points={path}"]).city, 1)


def test_the_documented_mapping_is_the_one_in_the_code(root):
    from abm.landuse import RESIDENT_WEIGHT, RULES, TARGET_WEIGHT

    doc = (root / "docs" / "real-data.md").read_text()
    for key, values, _ in RULES:
        for value in sorted(values or {"*"}):
            assert f"{key}={value}" in doc or f", {value}" in doc or f"{key}=*" in doc, \
                (key, value)
    for feature, weight in {**TARGET_WEIGHT}.items():
        assert f"{weight}" in doc, feature
    assert set(RESIDENT_WEIGHT) <= set(TARGET_WEIGHT)
