"""Places from data: land use, homes, attractiveness and cameras from mapped features, and
attractiveness from points (past crime, venues).

Two sources, one kernel. Each mapped feature (a shop, a bar, a bus stop, a block of flats) or
each point of a points file is spread over the street places near it with a Gaussian kernel in
straight-line distance, of bandwidth ``city.kernel_m``, cut at three bandwidths and normalised so
that every feature or point adds exactly its weight in total (a point with no place within the
cut goes wholly to its nearest place). Points farther than ``city.snap_max_m`` from every place
lie outside the city.

The mapping from OpenStreetMap tags to what a place holds is the table ``RULES`` (first match
wins); what each kind of feature adds to a place's attractiveness to offenders and to its
residents is ``TARGET_WEIGHT`` and ``RESIDENT_WEIGHT``. docs/real-data.md shows both tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from abm.config import CitySettings, ConfigError

if TYPE_CHECKING:
    from abm.streets import City

# Most points a points file may hold, and most mapped features read (bounds the kernel's pairs).
POINTS_MAX = 1_000_000
# Kernel cut, in bandwidths: beyond it a point adds nothing to a place (exp(-4.5) ~ 1%).
KERNEL_CUT = 3.0


class Feature(StrEnum):
    """What a mapped feature is, for the places near it."""

    HOME = "home"  # residential buildings and land use
    BUILDING = "building"  # buildings of unmapped use (building=yes)
    RETAIL = "retail"  # shops, retail buildings and land use
    FOOD = "food"  # restaurants, cafes, fast food
    NIGHTLIFE = "nightlife"  # bars, pubs, nightclubs: the night-time economy
    SERVICE = "service"  # banks, ATMs, pharmacies, post offices, cinemas, hotels, ...
    TRANSPORT = "transport"  # bus, tram and rail stops and stations, subway entrances
    PARK = "park"  # parks, playgrounds, green land use
    CAMERA = "camera"  # man_made=surveillance


ANY = None
# (OSM key, values or ANY, feature): the first rule a feature's tags match decides what it is.
RULES: tuple[tuple[str, frozenset[str] | None, Feature], ...] = (
    ("man_made", frozenset({"surveillance"}), Feature.CAMERA),
    ("amenity", frozenset({"bar", "pub", "nightclub", "biergarten", "stripclub"}),
     Feature.NIGHTLIFE),
    ("amenity", frozenset({"restaurant", "cafe", "fast_food", "food_court", "ice_cream"}),
     Feature.FOOD),
    ("amenity", frozenset({"bank", "atm", "bureau_de_change", "pharmacy", "post_office",
                           "cinema", "theatre", "arts_centre", "marketplace", "library",
                           "casino", "gambling", "fuel", "car_rental", "townhall"}),
     Feature.SERVICE),
    ("shop", ANY, Feature.RETAIL),
    ("public_transport", frozenset({"station", "platform"}), Feature.TRANSPORT),
    ("railway", frozenset({"station", "halt", "tram_stop", "subway_entrance"}),
     Feature.TRANSPORT),
    ("highway", frozenset({"bus_stop"}), Feature.TRANSPORT),
    ("tourism", frozenset({"hotel", "hostel", "motel", "museum", "attraction", "gallery"}),
     Feature.SERVICE),
    ("leisure", frozenset({"park", "playground", "garden"}), Feature.PARK),
    ("landuse", frozenset({"residential"}), Feature.HOME),
    ("landuse", frozenset({"commercial", "retail"}), Feature.RETAIL),
    ("landuse", frozenset({"grass", "recreation_ground", "park", "village_green"}),
     Feature.PARK),
    ("building", frozenset({"residential", "apartments", "house", "detached", "terrace",
                            "semidetached_house", "dormitory", "bungalow"}), Feature.HOME),
    ("building", frozenset({"retail", "commercial", "kiosk", "supermarket"}), Feature.RETAIL),
    ("building", frozenset({"yes"}), Feature.BUILDING),
)
# What a feature of each kind adds to the attractiveness of the places it is spread over:
# crime generators and attractors (Brantingham & Brantingham 1995); bars, fast food, stores
# and transit stops raise street robbery risk (Bernasco & Block 2011); weights an assumption.
TARGET_WEIGHT = {Feature.RETAIL: 1.0, Feature.FOOD: 1.0, Feature.NIGHTLIFE: 2.0,
                 Feature.SERVICE: 1.0, Feature.TRANSPORT: 1.5, Feature.HOME: 0.25,
                 Feature.BUILDING: 0.1, Feature.PARK: 0.25}
# What a feature adds to the share of offenders living at nearby places (assumption: a building
# of unmapped use in a city centre often has flats above shops).
RESIDENT_WEIGHT = {Feature.HOME: 1.0, Feature.BUILDING: 0.5}
# Features that make a place commercial rather than residential, for its land-use class.
COMMERCIAL = (Feature.RETAIL, Feature.FOOD, Feature.NIGHTLIFE, Feature.SERVICE,
              Feature.TRANSPORT)
# A camera whose view is mapped as indoor does not watch the street.
INDOOR = frozenset({"indoor"})
EXTRA_COLUMNS = ("surveillance",)


def osm_filter() -> dict[str, bool | list[str]]:
    """The tags to read from a map: every key of RULES, with its values (True for any)."""
    wanted: dict[str, set[str] | None] = {}
    for key, values, _ in RULES:
        if values is ANY or wanted.get(key, set()) is None:
            wanted[key] = None
        else:
            wanted.setdefault(key, set()).update(values)
    return {k: True if v is None else sorted(v) for k, v in wanted.items()}


def classify(frame: pd.DataFrame) -> pd.Series:
    """The Feature of each mapped feature (None when no rule matches), by the first rule."""
    kind = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    for key, values, feature in RULES:
        if key not in frame.columns:
            continue
        col = frame[key]
        hit = col.notna() if values is ANY else col.isin(values)
        kind[hit & kind.isna()] = feature.value
    return kind


# --- the kernel -------------------------------------------------------------------------------


def spread(city: City, xy: np.ndarray, weights: np.ndarray, settings: CitySettings) -> np.ndarray:
    """Each point's weight spread over the places near it (see the module docstring); the
    total over places equals the total weight. Points must lie inside the city."""
    from scipy.spatial import KDTree

    mass = np.zeros(city.n)
    if len(xy) == 0:
        return mass
    h = settings.kernel_m
    pairs = city.kdtree.sparse_distance_matrix(KDTree(xy), KERNEL_CUT * h,
                                               output_type="ndarray")
    place, point, d = pairs["i"], pairs["j"], pairs["v"]
    k = np.exp(-0.5 * (d / h) ** 2)
    total = np.bincount(point, weights=k, minlength=len(xy))
    np.add.at(mass, place, weights[point] * k / total[point])
    alone = np.flatnonzero(total == 0)
    if len(alone):
        _, nearest = city.kdtree.query(xy[alone])
        np.add.at(mass, nearest, weights[alone])
    return mass


def outside(city: City, xy: np.ndarray, settings: CitySettings) -> tuple[np.ndarray, np.ndarray]:
    """(distance to the nearest place, whether beyond city.snap_max_m) for each point."""
    d, _ = city.kdtree.query(xy)
    return d, d > settings.snap_max_m


def with_floor(score: np.ndarray, floor: float) -> np.ndarray:
    """Attractiveness of mean 1 from a score: every place gets ``floor`` times the mean score
    before its own (uniform when there is no score at all)."""
    if not np.isfinite(score).all() or score.sum() <= 0:
        return np.ones(len(score))
    a = score + floor * score.mean()
    return a / a.mean()


# --- model coordinates ------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """The frame of a city's model coordinates: metres, equal to ``unit_m`` times the
    coordinates of ``crs`` (None when the city has no CRS, e.g. a generated one)."""

    crs: str | None
    unit_m: float = 1.0

    @classmethod
    def of(cls, city: City) -> Frame:
        frame = (city.source or {}).get("frame") or {}
        return cls(frame.get("crs"), float(frame.get("unit_m", 1.0)))

    def from_crs(self, xy: np.ndarray, crs, what: str) -> np.ndarray:
        """Model coordinates of points given in ``crs`` (None: the city's own CRS)."""
        if crs is None:
            return np.asarray(xy, dtype=float) * self.unit_m
        if self.crs is None:
            raise ConfigError(f"{what}: the points have a CRS but the city has none (a "
                              f"generated city, or a street file without a crs): give x,y in "
                              f"the model's metres")
        import pyproj

        transformer = pyproj.Transformer.from_crs(pyproj.CRS.from_user_input(crs),
                                                  pyproj.CRS.from_user_input(self.crs),
                                                  always_xy=True)
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y]) * self.unit_m


# --- places from a map ------------------------------------------------------------------------


@dataclass
class MappedPlaces:
    """What the map says about each place: kernel-spread counts of every kind of feature."""

    counts: pd.DataFrame  # (N, Feature) spread counts; areas count 1 at the places inside them
    cameras: pd.DataFrame  # mapped cameras: x, y (model metres), indoor

    def attractiveness(self, floor: float) -> np.ndarray:
        score = sum(self.counts[f.value].to_numpy() * w for f, w in TARGET_WEIGHT.items())
        return with_floor(np.asarray(score, dtype=float), floor)

    def residents(self) -> np.ndarray:
        r = sum(self.counts[f.value].to_numpy() * w for f, w in RESIDENT_WEIGHT.items())
        r = np.asarray(r, dtype=float)
        return r if r.sum() > 0 else np.ones(len(r))

    def land_use(self) -> np.ndarray:
        """LandUse codes: park where green outweighs the rest, commercial or residential where
        one outweighs the other twice, mixed between, residential where nothing is mapped."""
        from abm.streets import LandUse

        c = self.counts
        commercial = c[[f.value for f in COMMERCIAL]].sum(axis=1).to_numpy()
        residential = self.residents_raw()
        park = c[Feature.PARK.value].to_numpy()
        use = np.full(len(c), LandUse.MIXED, dtype=np.int8)
        use[commercial >= 2 * residential] = LandUse.COMMERCIAL
        use[residential >= 2 * commercial] = LandUse.RESIDENTIAL
        use[(park > np.maximum(commercial, residential))] = LandUse.PARK
        use[commercial + residential + park == 0] = LandUse.RESIDENTIAL
        return use

    def residents_raw(self) -> np.ndarray:
        return np.asarray(sum(self.counts[f.value].to_numpy() * w
                              for f, w in RESIDENT_WEIGHT.items()), dtype=float)


def read_map(city: City, settings: CitySettings) -> MappedPlaces:
    """Read the street file's mapped features and spread them over the city's places."""
    from abm.streetfiles import read_map_features

    path = Path(settings.file) if settings.file else None
    if path is None:
        raise ConfigError("city.land_use: mapped needs a street file (city.file, .osm or "
                          ".osm.pbf)")
    frame = Frame.of(city)
    features = read_map_features(path, osm_filter(), EXTRA_COLUMNS)
    if len(features) > POINTS_MAX:
        raise ConfigError(f"{path}: {len(features)} mapped features; at most {POINTS_MAX}")
    features = features.assign(feature=classify(features))
    features = features[features["feature"].notna()]
    if frame.crs is None:
        raise ConfigError(f"{path}: the city has no CRS to put mapped features on")
    projected = features.to_crs(frame.crs)
    # Land-use areas count at the places inside them; everything else at its middle.
    is_area = (projected.geom_type.isin(["Polygon", "MultiPolygon"])
               & projected["landuse"].notna()).to_numpy()
    counts = pd.DataFrame(0.0, index=np.arange(city.n), columns=[f.value for f in Feature])
    points = projected[~is_area]
    anchor = points.geometry.representative_point()
    xy = np.column_stack([anchor.x, anchor.y]) * frame.unit_m if len(points) else \
        np.zeros((0, 2))
    kind = points["feature"].to_numpy()
    _, beyond = outside(city, xy, settings) if len(xy) else (None, np.zeros(0, dtype=bool))
    for feature in Feature:
        if feature == Feature.CAMERA:
            continue
        mine = (kind == feature.value) & ~beyond
        counts[feature.value] = spread(city, xy[mine], np.ones(int(mine.sum())), settings)
    areas = projected[is_area]
    if len(areas):
        import geopandas as gpd

        places = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*(city.xy / frame.unit_m).T),
                                  crs=frame.crs)
        inside = gpd.sjoin(places, areas[["feature", "geometry"]], predicate="within")
        inside = inside.reset_index().drop_duplicates(["index", "feature"])
        for feature, rows in inside.groupby("feature"):
            counts.loc[rows["index"].to_numpy(), feature] += 1.0
    cams = kind == Feature.CAMERA.value
    indoor = (points["surveillance"].isin(INDOOR).to_numpy() if "surveillance" in points
              else np.zeros(len(points), dtype=bool))
    cameras = pd.DataFrame({"x": xy[cams, 0], "y": xy[cams, 1], "indoor": indoor[cams]})
    return MappedPlaces(counts.drop(columns=[Feature.CAMERA.value]), cameras)


def camera_places(city: City, settings: CitySettings) -> tuple[np.ndarray, dict]:
    """Nodes of the cameras the street file maps (man_made=surveillance, not indoor), each at
    its nearest place, and a report of how many were read, dropped and placed."""
    mapped = city.mapped()
    cams = mapped.cameras
    outdoor = cams[~cams["indoor"]]
    xy = outdoor[["x", "y"]].to_numpy()
    d, beyond = outside(city, xy, settings) if len(xy) else (np.zeros(0), np.zeros(0, bool))
    _, nearest = city.kdtree.query(xy[~beyond]) if (~beyond).any() else (None, np.zeros(0))
    nodes = np.sort(np.asarray(nearest, dtype=np.intp))
    report = {"mapped": int(len(cams)), "indoor": int(cams["indoor"].sum()),
              "beyond_snap_max_m": int(beyond.sum()), "placed": int(len(nodes)),
              "places": int(len(np.unique(nodes))),
              "snap_median_m": round(float(np.median(d[~beyond])), 1) if len(nodes) else None}
    return nodes, report


# --- attractiveness from points ---------------------------------------------------------------

CSV_SUFFIXES = (".csv", ".txt")
VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb")


def read_points(path: str | Path, frame: Frame) -> tuple[np.ndarray, np.ndarray]:
    """(model xy (P, 2), weight (P,)) of the points in a CSV (lon,lat in WGS84 or x,y in the
    city's CRS, optional weight) or a GeoPackage/shapefile/GeoJSON (points in their CRS)."""
    path = Path(path)
    what = f"{path}"
    if not path.is_file():
        raise ConfigError(f"{what}: no such points file (city.attractiveness_points)")
    name = path.name.lower()
    if name.endswith(CSV_SUFFIXES):
        xy, weight, crs = _read_csv(path)
    elif name.endswith(VECTOR_SUFFIXES):
        xy, weight, crs = _read_vector(path)
    else:
        raise ConfigError(f"{what}: unknown points file type (use .csv, .gpkg, .shp or "
                          f".geojson) (city.attractiveness_points)")
    if len(xy) == 0:
        raise ConfigError(f"{what}: no points (city.attractiveness_points)")
    if not np.isfinite(xy).all():
        row = int(np.flatnonzero(~np.isfinite(xy).all(axis=1))[0])
        raise ConfigError(f"{what}: point {row + 1} has no numeric position")
    if crs is not None and str(crs).upper() in ("EPSG:4326", "WGS84"):
        lon, lat = xy[:, 0], xy[:, 1]
        bad = (np.abs(lon) > 180) | (np.abs(lat) > 90)
        if bad.any():
            raise ConfigError(f"{what}: point {int(np.flatnonzero(bad)[0]) + 1} is not a "
                              f"longitude/latitude")
    return frame.from_crs(xy, crs, what), weight


def _read_csv(path: Path):
    try:
        table = pd.read_csv(path, nrows=POINTS_MAX + 1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"{path}: not a readable CSV file ({exc.__class__.__name__})") \
            from None
    if len(table) > POINTS_MAX:
        raise ConfigError(f"{path}: more than {POINTS_MAX} points")
    columns = {c.strip().lower(): c for c in table.columns}
    if {"lon", "lat"} <= set(columns):
        keys, crs = ("lon", "lat"), "EPSG:4326"
    elif {"x", "y"} <= set(columns):
        keys, crs = ("x", "y"), None
    else:
        raise ConfigError(f"{path}: needs columns lon,lat (WGS84) or x,y (the city's CRS); "
                          f"has {', '.join(map(str, table.columns)) or 'none'}")
    xy = np.column_stack([pd.to_numeric(table[columns[k]], errors="coerce") for k in keys])
    weight = _weights(table, columns, path)
    return xy.astype(float), weight, crs


def _weights(table: pd.DataFrame, columns: dict, path: Path) -> np.ndarray:
    if "weight" not in columns:
        return np.ones(len(table))
    w = pd.to_numeric(table[columns["weight"]], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise ConfigError(f"{path}: weight of point {int(np.flatnonzero(bad)[0]) + 1} must be "
                          f"a number >= 0")
    return w


def _read_vector(path: Path):
    try:
        import geopandas as gpd
    except ImportError:
        from abm.streetfiles import GEO_EXTRA

        raise ConfigError(f"{path}: reading {path.suffix} files needs geopandas "
                          f"({GEO_EXTRA})") from None
    try:
        data = gpd.read_file(path, rows=POINTS_MAX + 1)
    except Exception as exc:  # noqa: BLE001 - pyogrio raises many types for a bad file
        raise ConfigError(f"{path}: not a readable {path.suffix} file "
                          f"({exc.__class__.__name__})") from None
    if len(data) > POINTS_MAX:
        raise ConfigError(f"{path}: more than {POINTS_MAX} points")
    if len(data) == 0:
        return np.zeros((0, 2)), np.zeros(0), None
    data = data[data.geometry.notna()].explode(index_parts=False)
    if not data.geom_type.eq("Point").all():
        other = data.geom_type[data.geom_type.ne("Point")].iloc[0]
        raise ConfigError(f"{path}: holds {other} geometries; attractiveness points must be "
                          f"points")
    columns = {c.strip().lower(): c for c in data.columns if c != "geometry"}
    xy = np.column_stack([data.geometry.x, data.geometry.y]).astype(float)
    return xy, _weights(data, columns, path), data.crs


def attractiveness_from_points(city: City, settings: CitySettings) -> tuple[np.ndarray, dict]:
    """Attractiveness (mean 1) from a points file, and a report of what was read."""
    path = Path(settings.attractiveness_points)
    xy, weight = read_points(path, Frame.of(city))
    d, beyond = outside(city, xy, settings)
    if beyond.any():
        first = int(np.flatnonzero(beyond)[0])
        raise ConfigError(f"{path}: {int(beyond.sum())} of {len(xy)} points lie outside the "
                          f"city (point {first + 1} is {d[first]:.0f} m from the nearest "
                          f"street place; city.snap_max_m is {settings.snap_max_m:g})")
    if weight.sum() <= 0:
        raise ConfigError(f"{path}: the points' weights add up to 0")
    mass = spread(city, xy, weight, settings)
    report = {"file": str(path), "points": int(len(xy)), "weight": float(weight.sum()),
              "snap_median_m": round(float(np.median(d)), 1),
              "kernel_m": settings.kernel_m, "floor": settings.attractiveness_floor}
    return with_floor(mass, settings.attractiveness_floor), report
