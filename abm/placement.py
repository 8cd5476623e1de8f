"""Where cameras go: the siting strategies a city can follow, compared in docs/placement.md.

Each strategy takes the model (its city, and for hot spots its configuration) and the cameras'
own random stream, and returns the node of every camera. Drawing only from that stream keeps the
twin runs with and without cameras on the same draws for everything else. Ranked strategies
break ties by attractiveness, then by node id, so they are deterministic.
"""

from __future__ import annotations

import heapq
import warnings
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from abm.config import CameraSettings, ConfigError

# Most places mclp siting solves for: spopt builds a dense site-by-place matrix (8 bytes a cell)
# and its integer programme cell by cell, which takes minutes beyond about 2,000 places.
MCLP_MAX_PLACES = 2000

if TYPE_CHECKING:
    from abm.model import SafeCityModel
    from abm.streets import City


class Placement(StrEnum):
    RANDOM = "random"
    ATTRACTIVE = "attractive"
    BUSIEST = "busiest"
    HOTSPOTS = "hotspots"
    MAX_COVERAGE = "max_coverage"
    MCLP = "mclp"
    MAPPED = "mapped"
    LIST = "list"


def place(model: SafeCityModel, settings: CameraSettings, rng: np.random.Generator) -> np.ndarray:
    """Sorted node ids of the cameras (a place may hold several when there are more cameras
    than places)."""
    if settings.count == 0:
        return np.zeros(0, dtype=np.intp)
    nodes = STRATEGIES[Placement(settings.placement)](model, settings, rng)
    return np.sort(np.asarray(nodes, dtype=np.intp))


def top(score: np.ndarray, k: int, city: City) -> np.ndarray:
    """The k best places by score (ties: more attractive, then lower id); wraps round past N."""
    order = np.lexsort((np.arange(city.n), -city.attractiveness, -score))
    return order[np.arange(k) % city.n]


# --- strategies -------------------------------------------------------------------------------


def random_places(model: SafeCityModel, settings: CameraSettings, rng) -> np.ndarray:
    """Uniformly at random, without repeats while places last."""
    n, k = model.city.n, settings.count
    return rng.choice(n, size=k, replace=k > n, p=np.full(n, 1.0 / n))


def attractive_places(model: SafeCityModel, settings: CameraSettings, rng) -> np.ndarray:
    """Drawn in proportion to target attractiveness: where a city expects trouble."""
    n, k = model.city.n, settings.count
    w = model.city.attractiveness
    return rng.choice(n, size=k, replace=k > n, p=w / w.sum())


def busiest_places(model: SafeCityModel, settings: CameraSettings, rng) -> np.ndarray:
    """The most central intersections: through routes (betweenness) or street count (degree)."""
    city = model.city
    if settings.busiest_by == "degree":
        score = np.array([city.graph.degree(v) for v in range(city.n)], dtype=float)
    else:
        score = betweenness(city.graph, settings.betweenness_sample, rng)
    return top(score, settings.count, city)


def betweenness(graph: nx.Graph, sample: int, rng: np.random.Generator) -> np.ndarray:
    """Length-weighted betweenness; from ``sample`` seeded sources on graphs larger than that."""
    n = graph.number_of_nodes()
    k, seed = (None, None) if n <= sample else (sample, int(rng.integers(2**32)))
    score = nx.betweenness_centrality(graph, k=k, seed=seed, weight="length")
    return np.array([score[v] for v in range(n)])


def hotspot_places(model: SafeCityModel, settings: CameraSettings, rng) -> np.ndarray:
    """Where most crime was recorded in a burn-in period without cameras.

    The burn-in is a pilot run of the same city (same streets and places) for ``burn_in_days``
    with no cameras and its own offenders, seeded from the cameras' stream: the city's history,
    not a preview of this run's future.
    """
    pilot = model.config.model_copy(deep=True)
    pilot.run.seed = int(rng.integers(2**63))
    pilot.run.days = settings.burn_in_days
    pilot.cameras.placement = Placement.RANDOM.value
    pilot.cameras.nodes = None
    pilot.cameras.count = 0
    history = type(model)(pilot, city=model.city)
    history.run_days(settings.burn_in_days)
    recorded = [c.node for c in history.crimes if c.reported]
    counts = np.bincount(np.asarray(recorded, dtype=np.intp), minlength=model.city.n)
    return top(counts.astype(float), settings.count, model.city)


def max_coverage_places(model: SafeCityModel, settings: CameraSettings, rng) -> np.ndarray:
    """Greedy maximum coverage: each camera goes where it adds most unwatched attractiveness.

    A camera watches the places within ``range_m``. Greedy is within 1 - 1/e of the best
    budgeted coverage (Nemhauser et al. 1978); the lazy form below picks exactly what plain
    greedy picks, ties going to the more attractive place, then the lower id.
    """
    city = model.city
    value = city.attractiveness
    watched = city.kdtree.query_ball_point(city.xy, settings.range_m)
    covered = np.zeros(city.n, dtype=bool)
    heap = [(-float(value[w].sum()), -float(value[v]), v, 0) for v, w in enumerate(watched)]
    heapq.heapify(heap)
    chosen: list[int] = []
    while len(chosen) < min(settings.count, city.n):
        neg_gain, neg_value, v, stamp = heapq.heappop(heap)
        if stamp == len(chosen):  # gain is current: nothing left can beat it
            chosen.append(v)
            covered[watched[v]] = True
            continue
        gain = float(value[watched[v]][~covered[watched[v]]].sum())
        heapq.heappush(heap, (-gain, neg_value, v, len(chosen)))
    return np.asarray(chosen)[np.arange(settings.count) % len(chosen)]


def mclp_places(model: SafeCityModel, settings: CameraSettings, rng) -> np.ndarray:
    """The sites that together watch the most attractiveness: the maximal covering location
    problem (Church & ReVelle 1974) solved exactly as an integer programme by spopt with
    PuLP's bundled CBC solver.

    Several optimal sets may exist; the solver's choice among them is deterministic. The dense
    site-by-place distance matrix spopt needs bounds the size (``MCLP_MAX_PLACES``).
    """
    city = model.city
    k = min(settings.count, city.n)
    if city.n > MCLP_MAX_PLACES:
        raise ConfigError(f"cameras.placement: mclp solves cities of up to {MCLP_MAX_PLACES} "
                          f"places exactly; this one has {city.n} (use max_coverage)")
    try:
        import pulp
        from spopt.locate import MCLP
    except ImportError:
        from abm.streetfiles import GEO_EXTRA

        raise ConfigError(f"cameras.placement: mclp needs spopt ({GEO_EXTRA})") from None
    from scipy.spatial.distance import cdist

    if k == city.n:
        return np.arange(settings.count) % city.n
    cost = cdist(city.xy, city.xy)  # clients (rows) by candidate sites (columns)
    with warnings.catch_warnings():  # spopt builds its model with PuLP 3's deprecated calls
        warnings.simplefilter("ignore", DeprecationWarning)
        problem = MCLP.from_cost_matrix(cost, city.attractiveness,
                                        service_radius=settings.range_m, p_facilities=k)
        # One thread: CBC's answer then does not depend on how its threads are scheduled.
        problem.solve(pulp.PULP_CBC_CMD(msg=False, threads=1), results=False)
    status = pulp.LpStatus[problem.problem.status]
    chosen = np.array([j for j, var in enumerate(problem.fac_vars) if var.varValue > 0.5])
    if status != "Optimal" or len(chosen) != k:
        raise ConfigError(f"cameras.placement: mclp found no optimal siting ({status})")
    return chosen[np.arange(settings.count) % k]


def mapped_places(model: SafeCityModel, settings: CameraSettings, rng) -> np.ndarray:
    """Where the street file maps cameras (man_made=surveillance, not indoor), each at its
    nearest place; ``count`` of them, drawn at random from the cameras' stream when the map
    has more. What was read and dropped goes into the city's import report."""
    from abm.landuse import camera_places

    city = model.city
    nodes, report = camera_places(city, model.config.city)
    city.source["mapped_cameras"] = report
    where = city.source.get("file", "the city")
    if len(nodes) == 0:
        raise ConfigError(f"cameras.placement: mapped, but {where} maps no cameras near its "
                          f"streets (man_made=surveillance)")
    if settings.count > len(nodes):
        raise ConfigError(f"cameras.count: {settings.count}, but {where} maps {len(nodes)} "
                          f"cameras (placement mapped installs at most those)")
    if settings.count == len(nodes):
        return nodes
    return np.sort(rng.choice(nodes, size=settings.count, replace=False))


def listed_places(model: SafeCityModel, settings: CameraSettings, rng) -> np.ndarray:
    """Exactly the places a user listed, checked against the street graph."""
    nodes = np.asarray(settings.nodes, dtype=np.int64)
    bad = nodes[(nodes < 0) | (nodes >= model.city.n)]
    if len(bad):
        raise ConfigError(f"cameras.nodes: {int(bad[0])} is not a place in this city (node ids "
                          f"are 0..{model.city.n - 1})")
    return nodes


STRATEGIES: dict[Placement, Callable[..., np.ndarray]] = {
    Placement.RANDOM: random_places,
    Placement.ATTRACTIVE: attractive_places,
    Placement.BUSIEST: busiest_places,
    Placement.HOTSPOTS: hotspot_places,
    Placement.MAX_COVERAGE: max_coverage_places,
    Placement.MCLP: mclp_places,
    Placement.MAPPED: mapped_places,
    Placement.LIST: listed_places,
}
