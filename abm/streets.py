"""The street graph: generators, the source hook, place attributes and the route index.

Nodes are intersections labelled 0..N-1 with x/y in metres; edges are street segments with a
``length`` in metres. Per-node attributes live in numpy arrays (fast for the model) and are also
written onto the graph (for export and the UI).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import Delaunay, KDTree

from abm.config import CitySettings
from abm.landuse import MappedPlaces, attractiveness_from_points, read_map
from abm.streetfiles import load_street_file


class LandUse(IntEnum):
    """What a place is used for; it sets attractiveness and who lives there."""

    RESIDENTIAL = 0
    MIXED = 1
    COMMERCIAL = 2
    PARK = 3


# Relative target attractiveness and residential weight by land use (assumption).
ATTRACTIVENESS = {LandUse.RESIDENTIAL: 0.7, LandUse.MIXED: 1.5, LandUse.COMMERCIAL: 3.0,
                  LandUse.PARK: 0.8}
RESIDENTS = {LandUse.RESIDENTIAL: 1.0, LandUse.MIXED: 0.6, LandUse.COMMERCIAL: 0.15,
             LandUse.PARK: 0.0}
# Most node ids the radius cache of City.within holds (8 bytes each).
WITHIN_CACHE_NODES = 8_000_000


@dataclass
class City:
    """A street graph with positions, place attributes and a route index."""

    graph: nx.Graph
    xy: np.ndarray  # (N, 2) metres
    land_use: np.ndarray  # (N,) LandUse codes
    attractiveness: np.ndarray  # (N,) mean 1
    residents: np.ndarray  # (N,) relative weight for offender homes
    destinations: np.ndarray  # node ids of shared activity places
    source: dict = field(default_factory=dict)  # where the streets came from (import report)
    settings: CitySettings | None = None  # what the city was built from (kernel, snapping)
    router: Router = field(init=False)
    kdtree: KDTree = field(init=False)

    def __post_init__(self) -> None:
        self.router = Router(self.graph)
        self.kdtree = KDTree(self.xy)
        # No street is shorter than the straight line between its ends (true of generated
        # cities), so street distance is never below straight-line distance.
        edges = self.router.forward.tocoo()
        straight = np.hypot(*(self.xy[edges.row] - self.xy[edges.col]).T)
        self.streets_not_shorter = bool(np.all(edges.data >= straight * (1.0 - 1e-9)))
        self.longest_street_m = float(edges.data.max()) if edges.nnz else 0.0
        self._within: dict[tuple[int, float], np.ndarray] = {}
        self._within_size = 0
        self._mapped: MappedPlaces | None = None
        self._label_nodes()

    def place(self, land_use: np.ndarray, attractiveness: np.ndarray, residents: np.ndarray,
              destinations: np.ndarray) -> None:
        """Give the places their attributes (after what needs the streets alone is built)."""
        self.land_use, self.attractiveness = land_use, attractiveness
        self.residents, self.destinations = residents, destinations
        self._label_nodes()

    def _label_nodes(self) -> None:
        for node in self.graph.nodes:
            data = self.graph.nodes[node]
            data["land_use"] = LandUse(int(self.land_use[node])).name.lower()
            data["attractiveness"] = float(self.attractiveness[node])

    @property
    def n(self) -> int:
        return len(self.xy)

    def positions(self) -> dict[int, tuple[float, float]]:
        """Node positions as Mesa's Network ``layout=`` expects."""
        return {i: (float(x), float(y)) for i, (x, y) in enumerate(self.xy)}

    @property
    def within_held(self) -> int:
        """Places held in the cache of radius queries (at most ``WITHIN_CACHE_NODES``)."""
        return self._within_size

    def within(self, node: int, radius_m: float) -> np.ndarray:
        """Nodes within a straight-line radius of a node (including itself); read-only.

        Cached by (node, radius): patrols stop and crimes recur at the same places.
        """
        key = (int(node), float(radius_m))
        near = self._within.get(key)
        if near is None:
            near = np.asarray(self.kdtree.query_ball_point(self.xy[node], radius_m),
                              dtype=np.intp)
            near.flags.writeable = False
            self._within[key] = near
            self._within_size += len(near)
            while self._within_size > WITHIN_CACHE_NODES:  # oldest first
                self._within_size -= len(self._within.pop(next(iter(self._within))))
        return near

    def mapped(self) -> MappedPlaces:
        """What the street file's map says about each place (read once, when first asked)."""
        if self._mapped is None:
            self._mapped = read_map(self, self.settings or CitySettings())
        return self._mapped

    def edge_array(self) -> np.ndarray:
        """(E, 2) array of edge endpoints, for drawing."""
        return np.array(list(self.graph.edges()), dtype=np.intp).reshape(-1, 2)


class Router:
    """Shortest paths by street length, cached as shortest-path trees toward each target.

    A tree toward target t (Dijkstra on the reversed graph) gives, for every node, the distance to
    t and the next node on the way, so one tree serves every trip that ends at t. Routes walked
    from trees are cached too: offenders repeat the same trips and patrols cycle through the same
    places, so most routes are asked for many times. Both caches are bounded in memory; what they
    evict is recomputed identically when asked for again.
    """

    def __init__(self, graph: nx.Graph, max_trees: int = 4096, tree_memory_mb: float = 512.0,
                 route_memory_mb: float = 128.0) -> None:
        n = graph.number_of_nodes()
        rows, cols, lengths = [], [], []
        for u, v, data in graph.edges(data=True):
            rows.append(u)
            cols.append(v)
            lengths.append(float(data["length"]))
        rows, cols, lengths = np.array(rows), np.array(cols), np.array(lengths)
        self.two_way = not graph.is_directed()  # every street can be driven both ways
        if self.two_way:
            rows, cols = np.r_[rows, cols], np.r_[cols, rows]
            lengths = np.r_[lengths, lengths]
        # Keep the shortest of parallel edges: build as COO, take the minimum per (u, v).
        order = np.lexsort((lengths, cols, rows))
        rows, cols, lengths = rows[order], cols[order], lengths[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        self.forward = sp.csr_matrix(
            (lengths[first], (rows[first], cols[first])), shape=(n, n)
        )
        self.reverse = self.forward.transpose().tocsr()
        # A tree costs 12 bytes a node (float64 distance, int32 next node).
        self.max_trees = max(1, min(max_trees, int(tree_memory_mb * 2**20 / (12 * max(n, 1)))))
        self._trees: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        # A route costs 16 bytes a node (intp node id, float64 distance) plus its tuple.
        self.max_route_nodes = int(route_memory_mb * 2**20 / 16)
        self._routes: OrderedDict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._route_nodes = 0

    def tree_to(self, target: int) -> tuple[np.ndarray, np.ndarray]:
        """(distance to target, next node toward target) for every node; cached."""
        tree = self._trees.get(target)
        if tree is None:
            dist, nxt = dijkstra(self.reverse, indices=target, return_predecessors=True)
            tree = (dist, nxt.astype(np.int32))
            self._trees[target] = tree
            if len(self._trees) > self.max_trees:
                self._trees.popitem(last=False)
        else:
            self._trees.move_to_end(target)
        return tree

    def route(self, source: int, target: int) -> tuple[np.ndarray, np.ndarray]:
        """Nodes from source to target and the distance (m) travelled on reaching each.

        The arrays are shared with the cache, so they are read-only.
        """
        key = (int(source), int(target))
        found = self._routes.get(key)
        if found is not None:
            self._routes.move_to_end(key)
            return found
        dist, nxt = self.tree_to(key[1])
        path, along = self._walk(key[0], key[1], dist, nxt)
        path.flags.writeable = False
        along.flags.writeable = False
        self._routes[key] = (path, along)
        self._route_nodes += len(path)
        while self._route_nodes > self.max_route_nodes and len(self._routes) > 1:
            _, (old, _) = self._routes.popitem(last=False)
            self._route_nodes -= len(old)
        return path, along

    @staticmethod
    def _walk(source: int, target: int, dist: np.ndarray, nxt: np.ndarray):
        if not np.isfinite(dist[source]):
            raise ValueError(f"no route from {source} to {target}")
        step = memoryview(nxt)  # gives Python ints: far cheaper per hop than numpy scalars
        nodes = [source]
        append = nodes.append
        node = source
        while node != target:
            node = step[node]
            append(node)
        path = np.array(nodes, dtype=np.intp)
        return path, dist[source] - dist[path]

    @property
    def trees_held(self) -> int:
        """Shortest-path trees in the cache (at most ``max_trees``)."""
        return len(self._trees)

    def cached_tree(self, target: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The tree toward a target if it is cached (see ``tree_to``), else None."""
        return self._trees.get(target)

    def tied(self, path: np.ndarray, dist: np.ndarray) -> bool:
        """Whether some node of a route along a tree has two next nodes on a shortest route
        (by the tree's exact distances). A tree keeps whichever its search settled first, and
        searches with other limits may settle equal distances in another order; where no node
        has two, every search reaching the route's start holds the same route (searches agree
        exactly on the distances they reach)."""
        out = self.forward  # each node's streets out: a node's neighbours in the search
        indptr, ends, lengths = (memoryview(a) for a in (out.indptr, out.indices, out.data))
        metres = memoryview(dist)
        for node in path[:-1].tolist():
            here, ways = metres[node], 0
            for j in range(indptr[node], indptr[node + 1]):
                if metres[ends[j]] + lengths[j] == here:
                    ways += 1
            if ways > 1:
                return True
        return False

    def toward(self, target: int, limit_m: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
        """(distance to target, next node) for every node, searched only up to a limit (inf
        beyond it); not cached: calls for service come from anywhere."""
        return dijkstra(self.reverse, indices=target, return_predecessors=True, limit=limit_m)

    def walk(self, source: int, target: int, tree: tuple[np.ndarray, np.ndarray]):
        """The route from source to target along a tree from ``toward`` or ``tree_to``."""
        return self._walk(int(source), int(target), *tree)


# --- generators -------------------------------------------------------------------------------


def _with_lengths(graph: nx.Graph, xy: np.ndarray) -> nx.Graph:
    for u, v, data in graph.edges(data=True):
        data["length"] = float(np.hypot(*(xy[u] - xy[v])))
    return graph


def _largest_component(graph: nx.Graph, xy: np.ndarray) -> tuple[nx.Graph, np.ndarray]:
    """Keep the largest (strongly) connected component and relabel it 0..N-1."""
    parts = (nx.strongly_connected_components(graph) if graph.is_directed()
             else nx.connected_components(graph))
    keep = sorted(max(parts, key=lambda c: (len(c), -min(c))))
    mapping = {old: new for new, old in enumerate(keep)}
    sub = nx.relabel_nodes(graph.subgraph(keep).copy(), mapping)
    return sub, xy[keep]


def grid_city(settings: CitySettings, rng: np.random.Generator) -> tuple[nx.Graph, np.ndarray]:
    """A perturbed grid: jittered intersections with some segments removed."""
    side = max(4, round(np.sqrt(settings.nodes)))
    graph = nx.grid_2d_graph(side, side)
    graph = nx.convert_node_labels_to_integers(graph, ordering="sorted")
    ij = np.array([(i // side, i % side) for i in range(side * side)], dtype=float)
    xy = ij * settings.block_m + rng.normal(0, settings.jitter * settings.block_m / 2, ij.shape)
    edges = sorted(graph.edges())
    drop = rng.random(len(edges)) < settings.edge_drop
    graph.remove_edges_from([e for e, d in zip(edges, drop, strict=True) if d])
    graph, xy = _largest_component(graph, xy)
    return _with_lengths(graph, xy), xy


def organic_city(settings: CitySettings, rng: np.random.Generator) -> tuple[nx.Graph, np.ndarray]:
    """An irregular city: clustered intersections joined by a thinned Delaunay triangulation."""
    n = settings.nodes
    side = np.sqrt(n) * settings.block_m
    centres = rng.uniform(0.2 * side, 0.8 * side, (settings.centres, 2))
    clustered = int(0.5 * n)
    which = rng.integers(0, settings.centres, clustered)
    near = centres[which] + rng.normal(0, side / 6, (clustered, 2))
    spread = rng.uniform(0, side, (n - clustered, 2))
    xy = np.clip(np.vstack([near, spread]), 0, side)
    tri = Delaunay(xy)
    edges = set()
    for a, b, c in tri.simplices:
        for u, v in ((a, b), (b, c), (a, c)):
            edges.add((min(u, v), max(u, v)))
    edges = sorted(edges)
    lengths = np.array([np.hypot(*(xy[u] - xy[v])) for u, v in edges])
    # Drop the longest links (triangulation artefacts) and a random share of the rest.
    keep = lengths < np.quantile(lengths, 0.9)
    keep &= rng.random(len(edges)) >= settings.edge_drop + 0.15
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(e for e, k in zip(edges, keep, strict=True) if k)
    graph, xy = _largest_component(graph, xy)
    return _with_lengths(graph, xy), xy


def load_graphml(path: str | Path) -> tuple[nx.Graph, np.ndarray]:
    """Read a street network file (see abm.streetfiles) without its import report."""
    graph, xy, _ = load_street_file(path)
    return graph, xy


# --- place attributes -------------------------------------------------------------------------


def _land_use(xy: np.ndarray, settings: CitySettings, rng: np.random.Generator) -> np.ndarray:
    """Commercial centres (the first at the middle), mixed use around them, parks scattered."""
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    middle = (lo + hi) / 2
    others = rng.uniform(lo + 0.15 * (hi - lo), hi - 0.15 * (hi - lo), (settings.centres - 1, 2))
    centres = np.vstack([middle, others])
    d = np.min(np.linalg.norm(xy[:, None, :] - centres[None, :, :], axis=2), axis=1)
    r = settings.centre_radius_m
    use = np.where(d < r, LandUse.COMMERCIAL, np.where(d < 2 * r, LandUse.MIXED,
                                                       LandUse.RESIDENTIAL))
    use[(rng.random(len(xy)) < 0.05) & (use == LandUse.RESIDENTIAL)] = LandUse.PARK
    return use.astype(np.int8)


def build_city(settings: CitySettings, seed: int) -> City:
    """Generate or load the street graph and give its places attributes, all from one seed."""
    rng = np.random.default_rng(seed)
    if settings.source == "file":
        graph, xy, report = load_street_file(settings.file)
    else:
        make = organic_city if settings.generator == "organic" else grid_city
        graph, xy = make(settings, rng)
        report = {"source": "generator", "generator": settings.generator,
                  "nodes": graph.number_of_nodes(), "edges": graph.number_of_edges()}
    city = City(graph, xy, np.zeros(len(xy), dtype=np.int8), np.ones(len(xy)), np.ones(len(xy)),
                np.zeros(0, dtype=np.intp), report, settings)
    if settings.land_use == "mapped":
        mapped = city.mapped()
        use, attractiveness = mapped.land_use(), mapped.attractiveness(
            settings.attractiveness_floor)
        residents = mapped.residents()
    else:
        use = _land_use(xy, settings, rng)
        base = np.array([ATTRACTIVENESS[LandUse(u)] for u in use])
        attractiveness = base * rng.lognormal(0.0, settings.attractiveness_sigma, len(xy))
        attractiveness /= attractiveness.mean()
        residents = np.array([RESIDENTS[LandUse(u)] for u in use])
        if residents.sum() == 0:
            residents[:] = 1.0
    if settings.attractiveness_points:
        attractiveness, points = attractiveness_from_points(city, settings)
        report["attractiveness_points"] = points
    k = min(settings.destinations, len(xy))
    destinations = np.sort(rng.choice(len(xy), size=k, replace=False,
                                      p=attractiveness / attractiveness.sum()))
    city.place(use, attractiveness, residents, destinations)
    return city
