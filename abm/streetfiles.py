"""Street networks from files: GraphML (osmnx-style or plain), OpenStreetMap XML and PBF.

Whatever the file, the model gets the same thing as from a generator: intersections labelled
0..N-1 with x/y in metres and street segments with a ``length`` in metres, one strongly connected
piece (so every trip has a route). What had to be dropped on the way is counted in an import
report, because a city that silently lost half its streets gives silently wrong answers.

Positions in degrees (an osmnx ``crs`` such as ``epsg:4326``, or, without a crs, coordinates
that fit longitude/latitude ranges and span at most ``DEGREE_SPAN_MAX``) are projected to metres:
to the local UTM zone with pyproj when it is installed (it comes with the ``geo`` extra), else
with a local equirectangular projection about the network's centre on the WGS84 ellipsoid
(x = N cos(lat0) dlon, y = M dlat with the radii of curvature N and M at lat0; it stays within
0.2% of UTM distances across a city of 10 km).

The import report keeps the frame of the model's coordinates (``frame``: the CRS they are in and
metres per unit of it), so points given in longitude/latitude or in the file's CRS can be put on
the same streets (abm.landuse), and the data's attribution (OpenStreetMap data is ODbL).
"""

from __future__ import annotations

import hashlib
import math
import warnings
from pathlib import Path

import networkx as nx
import numpy as np

from abm.config import ConfigError

# Reading .osm needs osmnx and .osm.pbf pyrosm; the message says how to get them.
GEO_EXTRA = "pip install 'safecity-abm[geo]'"
OSM_SUFFIXES = (".osm", ".osm.xml")
PBF_SUFFIXES = (".osm.pbf", ".pbf")
GRAPHML_SUFFIXES = (".graphml", ".xml")
OSM_ATTRIBUTION = ("(c) OpenStreetMap contributors, Open Database License (ODbL) 1.0, "
                   "https://www.openstreetmap.org/copyright")
# pyrosm's network of every street and path, walkable both ways (as .osm files keep every
# highway way): offenders walk, and footpaths are where much street crime happens.
PBF_NETWORK = "all"
# Without a crs, x/y within lon/lat ranges spanning at most this many units are degrees: no
# street network measured in metres is this small.
DEGREE_SPAN_MAX = 10.0
WGS84_A = 6_378_137.0  # semi-major axis, m
WGS84_E2 = 6.694379990141317e-3  # first eccentricity squared


def load_street_file(path: str | Path) -> tuple[nx.Graph, np.ndarray, dict]:
    """Read a street file into (graph labelled 0..N-1, xy metres (N, 2), import report)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: no such graph file")
    if not path.is_file():
        raise ConfigError(f"{path}: not a file")
    kind = file_kind(path)
    raw = {"osm": _read_osm, "pbf": _read_pbf, "graphml": _read_graphml}[kind](path)
    if raw.number_of_nodes() < 2 or raw.number_of_edges() < 1:
        raise ConfigError(f"{path}: graph has no streets (needs nodes and edges)")
    nodes = sorted(raw.nodes, key=_natural)
    xy = _positions(raw, nodes, path)
    xy, projection, frame = _to_metres(xy, raw.graph.get("crs"), path)
    graph, counts = _street_graph(raw, nodes, xy, path)
    graph, xy, dropped_nodes, dropped_edges = _largest_part(graph, xy, path)
    report = {
        "source": "file",
        "file": str(path),
        "format": kind,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "crs": None if raw.graph.get("crs") is None else str(raw.graph["crs"]),
        "projection": projection,
        "frame": frame,
        "attribution": OSM_ATTRIBUTION if kind in ("osm", "pbf") else raw.graph.get("source"),
        "directed": graph.is_directed(),
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "dropped": {**counts, "nodes_outside_largest_part": dropped_nodes,
                    "edges_outside_largest_part": dropped_edges},
    }
    return graph, xy, report


def file_kind(path: Path) -> str:
    """osm, pbf or graphml, from the file's name."""
    name = path.name.lower()
    if name.endswith(PBF_SUFFIXES):
        return "pbf"
    if name.endswith(OSM_SUFFIXES):
        return "osm"
    if name.endswith(GRAPHML_SUFFIXES):
        return "graphml"
    raise ConfigError(f"{path}: unknown street file type (use .graphml, .osm or .osm.pbf)")


def describe(report: dict) -> str:
    """One line for people: what was read and what was dropped."""
    if report.get("source") != "file":
        return (f"city: {report.get('generator')} generator, {report.get('nodes')} "
                f"intersections, {report.get('edges')} street segments")
    d = report["dropped"]
    dropped = [f"{d['self_loops']} self-loops", f"{d['parallel_edges']} parallel segments",
               f"{d['nodes_outside_largest_part']} intersections outside the largest "
               f"connected part"]
    projected = f", projected {report['projection']}" if report["projection"] else ""
    return (f"city: {Path(report['file']).name}: {report['nodes']} intersections, "
            f"{report['edges']} street segments{projected} (dropped {', '.join(dropped)})")


# --- readers ----------------------------------------------------------------------------------


def _read_graphml(path: Path) -> nx.Graph:
    try:
        return nx.read_graphml(path)
    except Exception as exc:  # networkx raises many types for malformed XML
        raise ConfigError(f"{path}: not a readable GraphML file ({exc.__class__.__name__})") \
            from None


def _read_osm(path: Path) -> nx.MultiDiGraph:
    """OpenStreetMap XML through osmnx: street ways only, simplified to intersections."""
    try:
        import osmnx
    except ImportError:
        raise ConfigError(f"{path}: reading OpenStreetMap files needs osmnx ({GEO_EXTRA})") \
            from None
    try:
        # Keep every part: the largest one is chosen below, and what is dropped is reported.
        return osmnx.graph_from_xml(path, simplify=True, retain_all=True)
    except Exception as exc:  # malformed XML, no ways, no nodes: osmnx raises many types
        detail = str(exc).splitlines()[0][:80] if str(exc) else ""
        reason = f"{exc.__class__.__name__}: {detail}" if detail else exc.__class__.__name__
        raise ConfigError(f"{path}: not a readable OpenStreetMap file ({reason})") from None


def _pyrosm(path: Path):
    try:
        import pyrosm
    except ImportError:
        raise ConfigError(f"{path}: reading OpenStreetMap PBF files needs pyrosm ({GEO_EXTRA})") \
            from None
    return pyrosm


def _unreadable_pbf(path: Path, exc: Exception) -> ConfigError:
    detail = str(exc).splitlines()[0][:80] if str(exc) else ""
    reason = f"{exc.__class__.__name__}: {detail}" if detail else exc.__class__.__name__
    return ConfigError(f"{path}: not a readable OpenStreetMap PBF file ({reason})")


def _read_pbf(path: Path) -> nx.MultiGraph:
    """OpenStreetMap PBF through pyrosm: every street and path, simplified to intersections."""
    pyrosm = _pyrosm(path)
    if path.stat().st_size == 0:
        raise ConfigError(f"{path}: empty file (no OpenStreetMap data)")
    try:
        with warnings.catch_warnings():  # "no edges" is said below, in one line
            warnings.simplefilter("ignore", UserWarning)
            osm = pyrosm.OSM(str(path), progress=False)
            network = osm.get_network(network_type=PBF_NETWORK, nodes=True)
    except Exception as exc:  # pyrosm raises many types for a file it cannot parse
        raise _unreadable_pbf(path, exc) from None
    nodes, edges = network if isinstance(network, tuple) else (None, None)
    if nodes is None or edges is None or len(nodes) < 2 or len(edges) < 1:
        raise ConfigError(f"{path}: graph has no streets (the file has no highway ways)")
    try:
        with warnings.catch_warnings():  # a network of paths alone has no oneway column
            warnings.simplefilter("ignore", UserWarning)
            graph = osm.to_graph(nodes, edges, graph_type="networkx", network_type=PBF_NETWORK,
                                 retain_all=True, simplify=True, progress=False)
    except Exception as exc:  # noqa: BLE001 - same as above
        raise _unreadable_pbf(path, exc) from None
    # Walkable both ways: each street is one undirected segment (the largest part is chosen
    # and what is dropped is reported below, as for .osm).
    return graph.to_undirected()


def read_map_features(path: str | Path, tags: dict[str, bool | list[str]],
                      columns: tuple[str, ...] = ()):
    """Mapped features (points, ways, areas) with any of ``tags`` (a key with True: any
    value), from an .osm or .osm.pbf file, as a GeoDataFrame in WGS84 with one column per tag
    key and per extra ``columns`` key (None where absent)."""
    import geopandas as gpd

    path = Path(path)
    kind = file_kind(path)
    if kind == "graphml":
        raise ConfigError(f"{path}: a GraphML street file has no mapped features (use the "
                          f".osm or .osm.pbf file it came from)")
    if kind == "pbf":
        pyrosm = _pyrosm(path)
        try:
            frame = pyrosm.OSM(str(path), progress=False).get_data_by_custom_criteria(
                custom_filter=tags, filter_type="keep", keep_nodes=True, keep_ways=True,
                keep_relations=True, tags_as_columns=[*tags, *columns])
        except Exception as exc:  # noqa: BLE001 - a file pyrosm cannot parse
            raise _unreadable_pbf(path, exc) from None
    else:
        try:
            import osmnx
        except ImportError:
            raise ConfigError(f"{path}: reading OpenStreetMap files needs osmnx "
                              f"({GEO_EXTRA})") from None
        try:
            frame = osmnx.features_from_xml(path, tags=tags).reset_index()
        except osmnx._errors.InsufficientResponseError:
            frame = None  # nothing with these tags
        except Exception as exc:  # noqa: BLE001 - malformed XML
            raise ConfigError(f"{path}: not a readable OpenStreetMap file "
                              f"({exc.__class__.__name__})") from None
    keys = [*tags, *columns]
    if frame is None or len(frame) == 0:
        return gpd.GeoDataFrame({key: [] for key in keys}, geometry=[], crs="EPSG:4326")
    for key in keys:
        if key not in frame.columns:
            frame[key] = None
    frame = frame[[*keys, "geometry"]]
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=frame.crs or "EPSG:4326")


def _natural(node) -> tuple:
    """Order node ids numerically when they are integers, else as text."""
    text = str(node)
    return (0, int(text), "") if text.lstrip("-").isdigit() else (1, 0, text)


def _positions(graph: nx.Graph, nodes: list, path: Path) -> np.ndarray:
    xy = np.empty((len(nodes), 2))
    for i, node in enumerate(nodes):
        data = graph.nodes[node]
        try:
            xy[i] = float(data["x"]), float(data["y"])
        except (KeyError, TypeError, ValueError):
            raise ConfigError(f"{path}: node {node} has no position (every node needs numeric "
                              f"x and y)") from None
    if not np.isfinite(xy).all():
        raise ConfigError(f"{path}: node positions must be finite numbers")
    return xy


# --- projection -------------------------------------------------------------------------------


def _is_degrees(xy: np.ndarray, crs) -> bool:
    if crs is not None:
        try:
            import pyproj
        except ImportError:
            return str(crs).strip().lower() in ("epsg:4326", "wgs84", "epsg:4269")
        try:
            return bool(pyproj.CRS.from_user_input(crs).is_geographic)
        except pyproj.exceptions.CRSError:
            pass  # an unknown crs says nothing; fall back on the ranges
    span = xy.max(axis=0) - xy.min(axis=0)
    in_range = (np.abs(xy[:, 0]) <= 180).all() and (np.abs(xy[:, 1]) <= 90).all()
    return bool(in_range and span.max() <= DEGREE_SPAN_MAX)


def _to_metres(xy: np.ndarray, crs, path: Path) -> tuple[np.ndarray, str | None, dict]:
    """Positions in metres, how they were projected (None when they already were), and the
    frame of the result: the CRS its coordinates are in (None when unknown) and metres per
    unit of that CRS (model coordinates are the CRS's times that)."""
    if not _is_degrees(xy, crs):
        unit = _unit_metres(crs)
        return xy * unit, None, {"crs": None if crs is None else str(crs), "unit_m": unit}
    lon, lat = xy[:, 0], xy[:, 1]
    if (np.abs(lat) > 84).any():
        raise ConfigError(f"{path}: latitudes beyond 84 degrees are not supported")
    try:
        import pyproj
    except ImportError:
        return equirectangular(lon, lat), "equirectangular", {"crs": None, "unit_m": 1.0}
    lon0 = (lon.min() + lon.max()) / 2
    lat0 = (lat.min() + lat.max()) / 2
    zone = int((lon0 + 180) // 6) % 60 + 1
    epsg = (32600 if lat0 >= 0 else 32700) + zone
    source = pyproj.CRS.from_user_input(crs) if crs is not None else "EPSG:4326"
    transformer = pyproj.Transformer.from_crs(source, f"EPSG:{epsg}", always_xy=True)
    x, y = transformer.transform(lon, lat)
    return (np.column_stack([x, y]), f"EPSG:{epsg} (UTM zone {zone})",
            {"crs": f"EPSG:{epsg}", "unit_m": 1.0})


def equirectangular(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Local equirectangular projection about the centre of the extent, in metres."""
    lon0 = (lon.min() + lon.max()) / 2
    lat0 = (lat.min() + lat.max()) / 2
    w = 1.0 - WGS84_E2 * math.sin(math.radians(lat0)) ** 2
    n = WGS84_A / math.sqrt(w)  # prime vertical radius of curvature
    m = WGS84_A * (1.0 - WGS84_E2) / w**1.5  # meridional radius of curvature
    rad = math.pi / 180
    return np.column_stack([(lon - lon0) * rad * n * math.cos(math.radians(lat0)),
                            (lat - lat0) * rad * m])


def _unit_metres(crs) -> float:
    """Metres per unit of a projected crs (1 when there is none or pyproj is absent)."""
    if crs is None:
        return 1.0
    try:
        import pyproj

        return float(pyproj.CRS.from_user_input(crs).axis_info[0].unit_conversion_factor)
    except Exception:  # no pyproj, or a crs it cannot read: metres, as documented
        return 1.0


# --- cleaning ---------------------------------------------------------------------------------


def _street_graph(raw: nx.Graph, nodes: list, xy: np.ndarray, path: Path):
    """Relabel to 0..N-1, drop self-loops, keep the shortest of parallel segments."""
    index = {node: i for i, node in enumerate(nodes)}
    out = nx.DiGraph() if raw.is_directed() else nx.Graph()
    out.add_nodes_from(range(len(nodes)))
    counts = {"self_loops": 0, "parallel_edges": 0}
    for u, v, data in raw.edges(data=True):
        if u == v:
            counts["self_loops"] += 1
            continue
        a, b = index[u], index[v]
        length = data.get("length")
        try:
            length = float(np.hypot(*(xy[a] - xy[b])) if length is None else length)
        except (TypeError, ValueError):
            raise ConfigError(f"{path}: edge {u}-{v} has a non-numeric length") from None
        if not np.isfinite(length) or length <= 0:
            raise ConfigError(f"{path}: edge {u}-{v} has length {length}; must be > 0 metres")
        if out.has_edge(a, b):
            counts["parallel_edges"] += 1
            if out[a][b]["length"] <= length:
                continue
        out.add_edge(a, b, length=length)
    return out, counts


def _largest_part(graph: nx.Graph, xy: np.ndarray, path: Path):
    """Keep the largest (strongly) connected part, relabelled 0..N-1, and count the rest."""
    parts = (nx.strongly_connected_components(graph) if graph.is_directed()
             else nx.connected_components(graph))
    keep = sorted(max(parts, key=lambda c: (len(c), -min(c))))
    if len(keep) < 2:
        kind = "strongly connected " if graph.is_directed() else "connected "
        raise ConfigError(f"{path}: no {kind}streets (the largest connected part has one "
                          f"intersection)")
    sub = nx.relabel_nodes(graph.subgraph(keep).copy(), {old: new for new, old in
                                                         enumerate(keep)})
    return (sub, xy[keep], graph.number_of_nodes() - sub.number_of_nodes(),
            graph.number_of_edges() - sub.number_of_edges())
