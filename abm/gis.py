"""GIS layers of a run folder: streets, places, cameras and crimes, for QGIS and web maps.

A run folder holds node ids, not coordinates. The export rebuilds the city and the cameras'
places from the run's config.yaml (deterministic in its settings and seeds, and cheap: nothing is
simulated) and checks them against the run: the street-file import report against
manifest.json, camera places against cameras.parquet, every crime's place and zone against
crimes.parquet, the crime count against summary.json. A run made by another version of the
model, or from a street file that has changed since, is refused rather than drawn wrong.

Coordinates: a real city keeps the CRS its positions are in (the street file's own projected
CRS, or the UTM zone lon/lat was projected to) and its point layers also carry lon/lat. A
synthetic city has no place on Earth, so its layers use a local engineering CRS in metres
(``LOCAL_CRS_NAME``), stated in the file: a projected CRS such as UTM would put it somewhere
real, and a GIS would then draw it over a real basemap. GeoJSON of a real city follows RFC 7946
(lon/lat on WGS 84, what web maps read) and carries x/y in the city's CRS as attributes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from abm.config import Config, ConfigError
from abm.streetfiles import GEO_EXTRA
from abm.units import MINUTES_PER_DAY

if TYPE_CHECKING:
    import geopandas as gpd

    from abm.model import SafeCityModel

FORMATS = ("gpkg", "geojson")
LAYERS = ("streets", "places", "cameras", "crimes")
GEOMETRY = {"streets": "LineString", "places": "Point", "cameras": "Point", "crimes": "Point"}
GPKG_NAME = "layers.gpkg"
LOCAL_CRS_NAME = "Safe City ABM local city metres"
# A Cartesian CRS in metres tied to no place on Earth (WKT2 engineering CRS).
LOCAL_CRS_WKT = (
    'ENGCRS["{name}",EDATUM["{datum}"],CS[Cartesian,2],'
    'AXIS["easting (x)",east,ORDER[1],LENGTHUNIT["metre",1]],'
    'AXIS["northing (y)",north,ORDER[2],LENGTHUNIT["metre",1]]]'
)
# GDAL writes a GeoJSON "crs" member itself only for CRSs with an EPSG code; the local one goes
# in as a foreign member, which needs GDAL 3.9 (pyogrio 0.10's wheels bundle it).
GDAL_FOREIGN_MEMBERS = (3, 9, 0)


# --- the run folder ---------------------------------------------------------------------------


@dataclass
class RunFolder:
    """The files of an `abm run` folder that the export reads."""

    path: Path
    config: Config
    manifest: dict
    summary: dict
    crimes: pd.DataFrame
    cameras: pd.DataFrame


def read_run(path: str | Path) -> RunFolder:
    """Read and check a run folder; any problem is a ConfigError naming the file."""
    from abm import config as cfg
    from abm.camera_records import COLUMNS as CAMERA_COLUMNS
    from abm.crimes import Crime

    path = Path(path)
    if not path.is_dir():
        raise ConfigError(f"{path}: no such folder")
    if not (path / "config.yaml").is_file():
        raise ConfigError(f"{path / 'config.yaml'}: missing; {path} is not a run folder of "
                          "abm run")
    config = cfg.load(path / "config.yaml")
    manifest = _json(path / "manifest.json")
    summary = _json(path / "summary.json")
    crimes = _parquet(path / "crimes.parquet", Crime.COLUMNS)
    cameras = _parquet(path / "cameras.parquet", CAMERA_COLUMNS,
                       missing="missing (the run was made before runs kept per-camera records; "
                               "run it again with abm run)")
    if summary.get("crimes_total") != len(crimes):
        raise ConfigError(f"{path / 'crimes.parquet'}: {len(crimes)} crimes, but summary.json "
                          f"says {summary.get('crimes_total')}")
    return RunFolder(path, config, manifest, summary, crimes, cameras)


def _json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: not readable JSON ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return data


def _parquet(path: Path, columns: tuple[str, ...], missing: str = "missing") -> pd.DataFrame:
    if not path.is_file():
        raise ConfigError(f"{path}: {missing}")
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for a damaged file
        raise ConfigError(f"{path}: not readable Parquet ({exc.__class__.__name__})") from None
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise ConfigError(f"{path}: no column {absent[0]}")
    if "node" in frame and not pd.api.types.is_integer_dtype(frame["node"]):
        raise ConfigError(f"{path}: column node is not whole numbers")
    return frame


def rebuild(run: RunFolder) -> SafeCityModel:
    """The run's model at day 0, built from config.yaml and checked against the run's files."""
    from abm.model import SafeCityModel

    model = SafeCityModel(run.config)
    city, cams = model.city, model.cameras
    if "city" in run.manifest and run.manifest["city"] != json.loads(json.dumps(city.source)):
        raise ConfigError(f"{run.path / 'manifest.json'}: its city differs from the one "
                          "config.yaml builds now (a changed street file, or another version "
                          "of the model)")
    nodes = run.cameras["node"].to_numpy()
    if len(nodes) != len(cams.cameras) or not np.array_equal(
            nodes, [c.node for c in cams.cameras]):
        raise ConfigError(f"{run.path / 'cameras.parquet'}: its cameras are not where "
                          "config.yaml places them now (another version of the model?)")
    at = run.crimes["node"].to_numpy()
    outside = at[(at < 0) | (at >= city.n)]
    if len(outside):
        raise ConfigError(f"{run.path / 'crimes.parquet'}: node {outside[0]} is not a place of "
                          f"the city config.yaml builds ({city.n} places)")
    if not np.array_equal(run.crimes["zone"].to_numpy(), cams.zone[at]):
        raise ConfigError(f"{run.path / 'crimes.parquet'}: crime zones differ from the cameras "
                          "config.yaml places now (another version of the model?)")
    return model


# --- coordinates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coordinates:
    """The CRS the layers are written in, and how the model's metres convert to it."""

    crs: object  # pyproj.CRS
    metres_per_unit: float
    real: bool  # somewhere on Earth: lon/lat can be given

    @property
    def description(self) -> str:
        name = self.crs.name
        code = self.crs.to_epsg()
        return f"EPSG:{code} ({name})" if code else f"{name} (local engineering CRS, metres)"


def local_crs(datum: str):
    import pyproj

    return pyproj.CRS.from_wkt(LOCAL_CRS_WKT.format(name=LOCAL_CRS_NAME, datum=datum))


def coordinates(source: dict) -> Coordinates:
    """Where a city's x/y are, from its import report (``City.source``)."""
    import pyproj

    if source.get("source") != "file":
        return Coordinates(local_crs("synthetic city: no place on Earth"), 1.0, False)
    projection, crs = source.get("projection"), source.get("crs")
    if projection:
        code = projection.split()[0]
        if not code.upper().startswith("EPSG:"):
            raise ConfigError(f"{source.get('file')}: positions were projected {projection}, "
                              "which has no CRS a GIS can read; import it with pyproj "
                              f"installed ({GEO_EXTRA})")
        return Coordinates(pyproj.CRS.from_user_input(code), 1.0, True)
    try:
        parsed = None if crs is None else pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:  # the import read such positions as metres, too
        parsed = None
    if parsed is None:
        return Coordinates(local_crs("street file without a known CRS"), 1.0, False)
    return Coordinates(parsed, float(parsed.axis_info[0].unit_conversion_factor), True)


# --- the layers -------------------------------------------------------------------------------


def layers(run_dir: str | Path) -> dict[str, gpd.GeoDataFrame]:
    """The four layers of a run folder as GeoDataFrames (in the city's CRS)."""
    return _build(run_dir)[0]


def _build(run_dir: str | Path) -> tuple[dict[str, gpd.GeoDataFrame], Coordinates]:
    _geo()
    run = read_run(run_dir)
    model = rebuild(run)
    where = coordinates(model.city.source)
    xy = model.city.xy / where.metres_per_unit
    found = {"streets": _streets(model, xy, where), "places": _places(run, model, xy, where),
             "cameras": _points(run.cameras, xy, where),
             "crimes": _points(_crimes(run.crimes), xy, where)}
    return found, where


def _streets(model: SafeCityModel, xy: np.ndarray, where: Coordinates) -> gpd.GeoDataFrame:
    """One line per street segment; a directed network marks one-way segments."""
    import geopandas as gpd
    import shapely

    graph = model.city.graph
    directed = graph.is_directed()
    rows: dict[tuple[int, int], dict] = {}
    for u, v, data in graph.edges(data=True):
        key = (min(u, v), max(u, v))
        if key in rows:
            rows[key]["oneway"] = False
            continue
        rows[key] = {"u": u, "v": v, "length_m": float(data["length"]), "oneway": directed}
    frame = pd.DataFrame(list(rows.values()), columns=["u", "v", "length_m", "oneway"])
    ends = np.stack([xy[frame["u"].to_numpy(dtype=np.intp)],
                     xy[frame["v"].to_numpy(dtype=np.intp)]], axis=1)
    frame.insert(0, "street", np.arange(len(frame), dtype=np.int64))
    return gpd.GeoDataFrame(frame, geometry=shapely.linestrings(ends.reshape(-1, 2, 2)),
                            crs=where.crs)


def _places(run: RunFolder, model: SafeCityModel, xy: np.ndarray,
            where: Coordinates) -> gpd.GeoDataFrame:
    """Every place (intersection) with what the model knows of it and the crimes there."""
    from abm.cameras import Zone
    from abm.streets import LandUse

    city, cams, crimes = model.city, model.cameras, run.crimes
    n = city.n
    install = run.config.cameras.install_day * MINUTES_PER_DAY

    def count(mask) -> np.ndarray:
        return np.bincount(crimes["node"].to_numpy()[np.asarray(mask, dtype=bool)],
                           minlength=n).astype(np.int64)

    everything = np.ones(len(crimes), dtype=bool)
    destination = np.zeros(n, dtype=bool)
    destination[city.destinations] = True
    frame = pd.DataFrame({
        "node": np.arange(n, dtype=np.int64),
        "land_use": pd.array([LandUse(int(u)).name.lower() for u in city.land_use],
                             dtype="string"),
        "attractiveness": city.attractiveness,
        "residents": city.residents,
        "destination": destination,
        "zone": pd.array([Zone(z).label for z in cams.zone], dtype="string"),
        "cameras_watching": cams.cover_count.astype(np.int64),
        "covered": cams.covered,
        "camera_perceived": cams.in_perceived_range(),
        "crimes": count(everything),
        "crimes_recorded": count(crimes["recorded"]),
        "arrests": count(crimes["arrested"]),
        "crimes_before_cameras": count(crimes["time_min"] < install),
        "crimes_after_cameras": count(crimes["time_min"] >= install),
    })
    return _points(frame, xy, where)


def _crimes(crimes: pd.DataFrame) -> pd.DataFrame:

    out = crimes.copy()
    out.insert(out.columns.get_loc("time_min") + 1, "day", out["time_min"] / MINUTES_PER_DAY)
    return out


def _points(frame: pd.DataFrame, xy: np.ndarray, where: Coordinates) -> gpd.GeoDataFrame:
    """Points at each row's node, with lon/lat when the city is somewhere on Earth."""
    import geopandas as gpd

    at = xy[frame["node"].to_numpy(dtype=np.intp)]
    points = gpd.GeoDataFrame(frame.reset_index(drop=True),
                              geometry=gpd.points_from_xy(at[:, 0], at[:, 1]), crs=where.crs)
    if where.real:
        lonlat = points.geometry.to_crs(4326)
        points["lon"], points["lat"] = lonlat.x.to_numpy(), lonlat.y.to_numpy()
    return points


# --- writing ----------------------------------------------------------------------------------


def export(run_dir: str | Path, format: str = "gpkg", out: str | Path | None = None) -> list[Path]:
    """Write a run's layers: one GeoPackage (``layers.gpkg``) or one GeoJSON file per layer.

    ``out`` is a folder (default: the run folder) or, for a GeoPackage, a ``.gpkg`` file. Files
    are written under temporary names and renamed into place only when all are whole.
    """
    return _export(run_dir, format, out)[0]


def _export(run_dir, format, out) -> tuple[list[Path], dict[str, gpd.GeoDataFrame], Coordinates]:
    if format not in FORMATS:
        raise ConfigError(f"--format {format}: choose from {', '.join(FORMATS)}")
    target = Path(out) if out is not None else Path(run_dir)
    if format == "geojson" and target.suffix.lower() in (".gpkg", ".geojson", ".json"):
        raise ConfigError(f"--out {target}: GeoJSON gives one file per layer; name a folder")
    found, where = _build(run_dir)
    if format == "gpkg":
        path = target if target.suffix.lower() == ".gpkg" else target / GPKG_NAME
        folder, files = path.parent, {path.name: lambda p: _write_gpkg(found, where, p)}
    else:
        folder = target
        files = {f"{name}.geojson": _geojson_writer(name, layer, where)
                 for name, layer in found.items()}
    return _publish(folder, files), found, where


def _write_gpkg(found: dict[str, gpd.GeoDataFrame], where: Coordinates, path: Path) -> None:
    for name, layer in found.items():
        layer.to_file(path, layer=name, driver="GPKG", engine="pyogrio",
                      geometry_type=GEOMETRY[name],
                      layer_options={"DESCRIPTION": _describe(name, layer, where.description)})


def _geojson_writer(name: str, layer: gpd.GeoDataFrame,
                    where: Coordinates) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        import pyogrio

        if where.real:  # somewhere on Earth: RFC 7946, lon/lat on WGS 84; x/y kept as columns
            data = layer.copy()
            if GEOMETRY[name] == "Point":
                data["x"], data["y"] = layer.geometry.x.to_numpy(), layer.geometry.y.to_numpy()
            data = data.to_crs(4326)
            crs = f"WGS 84 lon/lat (RFC 7946); x, y in {where.description}"
            options = {"RFC7946": "YES", "DESCRIPTION": _describe(name, layer, crs)}
        else:
            data = layer
            options = {"DESCRIPTION": _describe(name, layer, where.description)}
            if pyogrio.__gdal_version__ < GDAL_FOREIGN_MEMBERS:
                raise ConfigError(f"{path.name}: writing a local CRS into GeoJSON needs GDAL "
                                  f"3.9 or newer (pyogrio has {pyogrio.__gdal_version_string__})")
            crs = {"type": "name", "properties": {"name": layer.crs.to_wkt()}}
            options["FOREIGN_MEMBERS_COLLECTION"] = json.dumps({"crs": crs})
        data.to_file(path, driver="GeoJSON", engine="pyogrio", geometry_type=GEOMETRY[name],
                     layer_options=options)
    return write


def _describe(name: str, layer: gpd.GeoDataFrame, crs: str) -> str:
    what = {"streets": "street segments", "places": "places (intersections) with crimes, "
            "zone, camera coverage, attractiveness and land use", "cameras": "cameras with "
            "uptime and crimes in view and seen", "crimes": "crimes, every column of "
            "crimes.parquet"}[name]
    return f"Safe City ABM: {len(layer)} {what}; CRS {crs}"


def _publish(folder: Path, files: dict[str, Callable[[Path], None]]) -> list[Path]:
    """Write every file in a temporary folder beside the targets, then rename them in."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=folder))
    except OSError as exc:
        raise ConfigError(f"--out {folder}: cannot write ({exc.strerror or exc})") from None
    try:
        for name, write in files.items():
            write(tmp / name)
        done = []
        for name in files:
            os.replace(tmp / name, folder / name)
            done.append(folder / name)
        return done
    except OSError as exc:
        raise ConfigError(f"--out {folder}: cannot write ({exc.strerror or exc})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _geo() -> None:
    try:
        import geopandas  # noqa: F401
        import pyogrio  # noqa: F401
    except ImportError:
        raise ConfigError(f"abm export needs geopandas and pyogrio ({GEO_EXTRA})") from None


# --- the command ------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    written, found, where = _export(args.run_dir, args.format, args.out)
    if not args.quiet:
        counts = ", ".join(f"{len(layer)} {name}" for name, layer in found.items())
        print(f"{', '.join(map(str, written))}: {counts}; CRS {where.description}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("export", help="write a run's streets, places, cameras and crimes as "
                       "GIS layers (GeoPackage or GeoJSON)")
    p.add_argument("run_dir", help="a run folder written by abm run")
    p.add_argument("--format", choices=FORMATS, default="gpkg",
                   help="gpkg: one GeoPackage with four layers (default); geojson: one file "
                        "per layer")
    p.add_argument("--out", help="folder to write into (default: the run folder), or a .gpkg "
                                 "file name")
    p.add_argument("--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(handler=cmd_export)
