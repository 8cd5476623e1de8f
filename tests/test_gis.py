"""`abm export`: GeoPackage and GeoJSON layers read back with geopandas and checked against the
run; folders that are not runs, or damaged ones, exit 2 with one line naming the file."""

import json
import shutil

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from abm import gis
from abm.cli import main
from tests.conftest import ROOT, abm_cli

# A small town whose cameras go live on day 3 and fail and get repaired within the run.
TOWN = ["run.days=12", "city.nodes=400", "offenders.count=120", "police.units=3",
        "cameras.count=20", "cameras.install_day=3", "cameras.mtbf_days=8",
        "cameras.mttr_days=2"]
REAL = ["run.days=8", "offenders.count=80", "cameras.install_day=2", "cameras.mtbf_days=10"]


def run_folder(out, config, overrides):
    args = ["run", str(config), "--out", str(out), "--quiet"]
    for o in overrides:
        args += ["--set", o]
    assert main(args) == 0
    return out


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    return run_folder(tmp_path_factory.mktemp("town") / "run", ROOT / "configs/default.yaml",
                      TOWN)


@pytest.fixture(scope="module")
def mesa(tmp_path_factory):
    return run_folder(tmp_path_factory.mktemp("mesa") / "run", ROOT / "configs/real-city.yaml",
                      REAL)


def fresh_copy(run, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("*.gpkg", "*.geojson"))
    return copy


def read_layers(path):
    return {name: gpd.read_file(path, layer=name) for name in gis.LAYERS}


def check_against_run(layers, run):
    """Geometry types, row counts and figures of the layers against the run's own files."""
    crimes = pd.read_parquet(run / "crimes.parquet")
    cameras = pd.read_parquet(run / "cameras.parquet")
    summary = json.loads((run / "summary.json").read_text())
    manifest = json.loads((run / "manifest.json").read_text())
    assert set(layers["streets"].geom_type) == {"LineString"}
    for name in ("places", "cameras", "crimes"):
        assert set(layers[name].geom_type) == {"Point"}
    assert len(layers["streets"]) == manifest["city"]["edges"]
    assert len(layers["places"]) == manifest["city"]["nodes"]
    assert len(layers["cameras"]) == len(cameras) == summary["cameras_installed"]
    assert len(layers["crimes"]) == summary["crimes_total"] == len(crimes)
    places = layers["places"]
    assert places["crimes"].sum() == summary["crimes_total"]
    assert places["crimes_recorded"].sum() == summary["crimes_reported"]
    by_zone = places.groupby("zone")["crimes"].sum()
    for zone in ("coverage", "buffer", "elsewhere"):
        assert by_zone.get(zone, 0) == summary[f"crimes_{zone}"]
    assert places["covered"].mean() == pytest.approx(summary["camera_coverage"])
    assert set(places["land_use"]) <= {"residential", "mixed", "commercial", "park"}
    assert places["attractiveness"].mean() == pytest.approx(1.0)
    cams = layers["cameras"]
    assert (cams["up_days"].sum() / cams["installed_days"].sum()
            == pytest.approx(summary["camera_uptime"]))
    assert cams["crimes_seen"].sum() >= summary["crimes_under_working_camera"]
    exported = layers["crimes"]
    for column in crimes.columns:  # every column of crimes.parquet, same values
        assert column in exported
        a, b = exported[column].to_numpy(), crimes[column].to_numpy()
        if a.dtype.kind == "f":
            np.testing.assert_array_equal(a, b.astype(float))
        else:
            assert [str(x) for x in a] == [str(x) for x in b]
    # Each crime and camera sits on its place; each street joins its two places.
    place_at = places.set_index("node").geometry
    assert exported.geometry.geom_equals(place_at.loc[exported["node"]].reset_index(
        drop=True)).all()
    assert cams.geometry.geom_equals(place_at.loc[cams["node"]].reset_index(drop=True)).all()
    streets = layers["streets"]
    for end, column in ((0, "u"), (-1, "v")):
        points = gpd.GeoSeries(shapely.get_point(streets.geometry.values, end), crs=streets.crs)
        assert points.geom_equals(place_at.loc[streets[column]].reset_index(drop=True)).all()
    # Drawn straight between the ends: no longer than the street (metres, to the file's mm).
    assert (streets.length * where_metres(streets) <= streets["length_m"] + 2e-3).all()


def where_metres(layer):
    return layer.crs.axis_info[0].unit_conversion_factor


def test_geopackage_of_a_synthetic_city_reads_back(town):
    done = abm_cli("export", str(town))
    assert done.returncode == 0, done.stderr
    assert "layers.gpkg" in done.stdout and "local" in done.stdout
    layers = read_layers(town / "layers.gpkg")
    check_against_run(layers, town)
    crs = layers["places"].crs
    assert crs == gis.local_crs("synthetic city: no place on Earth")
    assert crs.name == gis.LOCAL_CRS_NAME and crs.to_epsg() is None
    assert crs.axis_info[0].unit_name == "metre"
    assert "lon" not in layers["places"]  # nowhere on Earth: no lon/lat to give
    streets = layers["streets"]  # generated streets are straight
    np.testing.assert_allclose(streets.length, streets["length_m"], rtol=1e-12)
    assert [p.name for p in town.iterdir() if p.name.startswith(".")] == []


def test_geopackage_of_a_real_city_keeps_its_crs_and_gives_lon_lat(mesa):
    out = mesa / "elsewhere" / "mesa.gpkg"
    assert main(["export", str(mesa), "--out", str(out), "--quiet"]) == 0
    layers = read_layers(out)
    check_against_run(layers, mesa)
    for name in gis.LAYERS:
        assert layers[name].crs == pyproj.CRS.from_epsg(26949)  # the street file's own CRS
    places = layers["places"]
    assert places["lon"].between(-111.9, -111.7).all()  # Mesa, Arizona
    assert places["lat"].between(33.3, 33.5).all()
    wgs84 = places.geometry.to_crs(4326)
    np.testing.assert_allclose(places["lon"], wgs84.x)
    np.testing.assert_allclose(places["lat"], wgs84.y)


def test_geojson_states_the_local_crs(town, tmp_path):
    out = tmp_path / "geojson"
    written = gis.export(town, "geojson", out)
    assert sorted(p.name for p in written) == sorted(f"{n}.geojson" for n in gis.LAYERS)
    layers = {name: gpd.read_file(out / f"{name}.geojson") for name in gis.LAYERS}
    check_against_run(layers, town)
    for layer in layers.values():  # not taken for lon/lat, as GeoJSON without a crs would be
        assert layer.crs == gis.local_crs("synthetic city: no place on Earth")
    text = json.loads((out / "places.geojson").read_text())
    assert "ENGCRS" in text["crs"]["properties"]["name"]


def test_geojson_of_a_real_city_is_lon_lat_with_x_y_in_its_crs(mesa, tmp_path):
    written = gis.export(mesa, "geojson", tmp_path)
    assert len(written) == 4
    gpkg = gis.layers(mesa)
    for name in gis.LAYERS:
        layer = gpd.read_file(tmp_path / f"{name}.geojson")
        assert layer.crs == pyproj.CRS.from_epsg(4326) and len(layer) == len(gpkg[name])
        text = json.loads((tmp_path / f"{name}.geojson").read_text())
        assert "crs" not in text  # RFC 7946: WGS 84 lon/lat, no crs member
    places = gpd.read_file(tmp_path / "places.geojson")
    np.testing.assert_allclose(places["x"], gpkg["places"].geometry.x, atol=1e-6)
    np.testing.assert_allclose(places.geometry.x, gpkg["places"]["lon"], atol=1e-7)


def test_a_rerun_replaces_the_export_and_a_failed_write_leaves_none(town, tmp_path,
                                                                   monkeypatch):
    run = fresh_copy(town, tmp_path)
    gis.export(run)
    before = (run / "layers.gpkg").read_bytes()
    calls = []

    def fail_on_third_layer(self, path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_to_file(self, path, *args, **kwargs)

    real_to_file = gpd.GeoDataFrame.to_file
    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", fail_on_third_layer)
    with pytest.raises(gis.ConfigError, match="cannot write"):
        gis.export(run)
    assert (run / "layers.gpkg").read_bytes() == before  # the old file, whole
    assert [p.name for p in run.iterdir() if p.name.startswith(".")] == []
    monkeypatch.undo()
    with pytest.raises(gis.ConfigError, match="cannot write"):
        monkeypatch.setattr(gpd.GeoDataFrame, "to_file", fail_on_third_layer)
        calls.clear()
        gis.export(run, "geojson", tmp_path / "gj")
    assert list((tmp_path / "gj").iterdir()) == []  # no layer appears unless all do


def damage(run, what):
    if what == "no folder":
        return run / "nothing-here", "nothing-here"
    if what == "not a run":
        (run / "config.yaml").unlink()
        return run, "config.yaml"
    if what == "config":
        (run / "config.yaml").write_text("run: {days: -3}\n")
        return run, "config.yaml"
    if what == "crimes unreadable":
        (run / "crimes.parquet").write_bytes(b"PAR1 not really")
        return run, "crimes.parquet"
    if what == "crimes cut short":
        crimes = pd.read_parquet(run / "crimes.parquet")
        crimes.iloc[:-1].to_parquet(run / "crimes.parquet")
        return run, "crimes.parquet"
    if what == "crimes column":
        pd.read_parquet(run / "crimes.parquet").drop(columns="zone").to_parquet(
            run / "crimes.parquet")
        return run, "crimes.parquet"
    if what == "crime elsewhere":
        crimes = pd.read_parquet(run / "crimes.parquet")
        crimes.loc[0, "node"] = 10**6
        crimes.to_parquet(run / "crimes.parquet")
        return run, "crimes.parquet"
    if what == "crime zone":
        crimes = pd.read_parquet(run / "crimes.parquet")
        crimes["zone"] = ((crimes["zone"] + 1) % 3).astype("int8")
        crimes.to_parquet(run / "crimes.parquet")
        return run, "crimes.parquet"
    if what == "no cameras.parquet":
        (run / "cameras.parquet").unlink()
        return run, "cameras.parquet"
    if what == "cameras moved":
        cams = pd.read_parquet(run / "cameras.parquet")
        cams["node"] = cams["node"] + 1
        cams.to_parquet(run / "cameras.parquet")
        return run, "cameras.parquet"
    if what == "summary":
        (run / "summary.json").write_text("{not json")
        return run, "summary.json"
    if what == "other city":
        manifest = json.loads((run / "manifest.json").read_text())
        manifest["city"]["edges"] += 1
        (run / "manifest.json").write_text(json.dumps(manifest))
        return run, "manifest.json"
    raise AssertionError(what)


@pytest.mark.parametrize("what", [
    "no folder", "not a run", "config", "crimes unreadable", "crimes cut short", "crimes column",
    "crime elsewhere", "crime zone", "no cameras.parquet", "cameras moved", "summary",
    "other city"])
def test_not_a_run_or_a_damaged_one_exits_2_naming_the_file(town, tmp_path, capsys, what):
    run, name = damage(fresh_copy(town, tmp_path), what)
    assert main(["export", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and name in err and "Traceback" not in err, err
    assert not (run / "layers.gpkg").exists()


def test_a_moved_street_file_exits_2_naming_it(mesa, tmp_path, capsys):
    run = fresh_copy(mesa, tmp_path)
    graph = tmp_path / "mesa.graphml"
    shutil.copy(ROOT / "abm/data/mesa_az.graphml", graph)
    config = (run / "config.yaml").read_text()
    (run / "config.yaml").write_text(config.replace(str(ROOT / "abm/data/mesa_az.graphml"),
                                                    str(graph)))
    graph.unlink()
    assert main(["export", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "mesa.graphml" in err


def test_bad_options_exit_2(town, tmp_path):
    done = abm_cli("export", str(town), "--format", "shp")
    assert done.returncode == 2 and "invalid choice" in done.stderr
    done = abm_cli("export", str(town), "--format", "geojson", "--out", str(tmp_path / "a.gpkg"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "folder" in done.stderr


def street_file(path, x0, y0, step, crs):
    """A small grid of streets as GraphML with positions in a CRS's own units."""
    graph = nx.grid_2d_graph(8, 8)
    out = nx.Graph(crs=crs)
    for i, j in graph.nodes:
        out.add_node(f"{i}-{j}", x=x0 + i * step, y=y0 + j * step)
    out.add_edges_from((f"{a}-{b}", f"{c}-{d}") for (a, b), (c, d) in graph.edges)
    nx.write_graphml(out, path)
    return {n: (d["x"], d["y"]) for n, d in out.nodes(data=True)}


@pytest.mark.parametrize("crs, x0, y0, step, epsg", [
    ("epsg:4326", 73.05, 33.70, 0.001, 32643),  # lon/lat in Islamabad: projected to UTM 43N
    ("epsg:2223", 700000.0, 880000.0, 400.0, 2223),  # Arizona Central in feet: kept, in feet
])
def test_a_street_file_keeps_its_positions(tmp_path, crs, x0, y0, step, epsg):
    where = street_file(tmp_path / "streets.graphml", x0, y0, step, crs)
    run = run_folder(tmp_path / "run", ROOT / "configs/default.yaml",
                     ["run.days=3", f"city.file={tmp_path / 'streets.graphml'}",
                      "offenders.count=20", "police.units=2", "cameras.count=5",
                      "city.destinations=20"])
    places = gis.layers(run)["places"]
    assert places.crs == pyproj.CRS.from_epsg(epsg) and len(places) == len(where)
    # Nodes are numbered in the file's order (sorted by id); positions come back as given:
    # lon/lat as lon/lat columns, a projected CRS's own units as the geometry.
    given = np.array([where[n] for n in sorted(where)])
    back = (places[["lon", "lat"]].to_numpy() if crs == "epsg:4326"
            else places.get_coordinates().to_numpy())
    np.testing.assert_allclose(back, given, rtol=1e-12, atol=1e-9)
