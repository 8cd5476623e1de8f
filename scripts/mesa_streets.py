"""Regenerate abm/data/mesa_az.graphml, the real street network shipped with the project.

Source: the GeoDa Center's street network of part of Mesa, Arizona (GeoDaNet sample data), as
shipped inside the libpysal wheel (libpysal/examples/geodanet/streets.shp, BSD-3-Clause,
Copyright (c) 2007-, PySAL Developers). The shapefile holds 293 street centre lines in NAD83
StatePlane Arizona Central FIPS 0202 coordinates in US survey feet (ESRI:102649).

What this script does: every line's two end points become intersections (they coincide exactly
where streets meet), each line becomes a street segment whose length is the polyline's length,
and coordinates are converted from US survey feet to metres, which puts them in NAD83 / Arizona
Central (metres), EPSG:26949. Nothing is downloaded.

    pip install libpysal geopandas   # or: pip install -e '.[geo]'
    python scripts/mesa_streets.py   # writes abm/data/mesa_az.graphml
"""

from __future__ import annotations

import argparse
from pathlib import Path

import networkx as nx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "abm" / "data" / "mesa_az.graphml"
US_FOOT_M = 1200.0 / 3937.0  # metres per US survey foot (exact by definition)
ATTRIBUTION = ("Street network of Mesa, Arizona: GeoDa Center GeoDaNet sample data, shipped in "
               "libpysal (examples/geodanet/streets.shp), BSD-3-Clause, "
               "Copyright (c) 2007-, PySAL Developers")


def source_path() -> Path:
    import libpysal.examples

    return Path(libpysal.examples.__file__).parent / "geodanet" / "streets.shp"


def street_graph(path: Path) -> nx.Graph:
    """Intersections at line end points (metres), segments weighted by polyline length."""
    import geopandas as gpd

    lines = gpd.read_file(path)
    index: dict[tuple[float, float], int] = {}
    graph = nx.Graph(crs="EPSG:26949", name="Mesa, Arizona (GeoDaNet)", source=ATTRIBUTION)
    for geometry in lines.geometry:
        xy = np.asarray(geometry.coords)[:, :2] * US_FOOT_M
        length = float(np.hypot(*np.diff(xy, axis=0).T).sum())
        ends = []
        for x, y in (xy[0], xy[-1]):
            key = (round(float(x), 3), round(float(y), 3))
            if key not in index:
                index[key] = len(index)
                graph.add_node(index[key], x=key[0], y=key[1])
            ends.append(index[key])
        u, v = ends
        if u == v:
            continue
        if not graph.has_edge(u, v) or graph[u][v]["length"] > length:
            graph.add_edge(u, v, length=round(length, 3))
    return graph


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    graph = street_graph(source_path())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    nx.write_graphml(graph, tmp)
    tmp.replace(args.out)
    print(f"{args.out}: {graph.number_of_nodes()} intersections, "
          f"{graph.number_of_edges()} street segments, "
          f"connected={nx.is_connected(graph)}")


if __name__ == "__main__":
    main()
