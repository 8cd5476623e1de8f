"""Camera placement strategies: each does what it claims, deterministically, on its own stream."""

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import yaml

from abm.config import ConfigError, from_overrides, load
from abm.model import SafeCityModel
from abm.placement import STRATEGIES, Placement, hotspot_places, max_coverage_places
from abm.streets import build_city
from tests.conftest import abm_cli, small

ROOT = Path(__file__).resolve().parent.parent
MESA = str(ROOT / "abm" / "data" / "mesa_az.graphml")
STRATEGY_NAMES = ["random", "attractive", "busiest", "hotspots", "max_coverage"]


def mesa(*overrides: str):
    return from_overrides([f"city.file={MESA}", "offenders.count=60", "police.units=3",
                           "cameras.count=12", "run.days=10", *overrides])


def covered_value(city, nodes, range_m) -> float:
    watched = np.zeros(city.n, dtype=bool)
    for hits in city.kdtree.query_ball_point(city.xy[nodes], range_m):
        watched[hits] = True
    return float(city.attractiveness[watched].sum())


def test_every_strategy_is_registered():
    assert set(STRATEGIES) == set(Placement)


@pytest.mark.parametrize("placement", [*STRATEGY_NAMES, "mclp"])
def test_strategies_are_deterministic_and_leave_other_draws_alone(placement):
    """Twin runs (cameras never installed vs none at all) share every other random draw."""
    placed = SafeCityModel(mesa(f"cameras.placement={placement}", "cameras.install_day=3650"))
    again = SafeCityModel(mesa(f"cameras.placement={placement}", "cameras.install_day=3650"))
    none = SafeCityModel(mesa("cameras.count=0"))
    nodes = placed.cameras.nodes
    assert len(nodes) == 12 and np.array_equal(nodes, again.cameras.nodes)
    assert ((nodes >= 0) & (nodes < placed.city.n)).all()
    for model in (placed, none):
        model.run_days(40)
    assert [(c.time_min, c.node, c.offender.unique_id) for c in placed.crimes] == \
        [(c.time_min, c.node, c.offender.unique_id) for c in none.crimes]
    assert len(placed.crimes) > 20


def test_busiest_by_degree_takes_the_best_connected_intersections():
    model = SafeCityModel(mesa("cameras.placement=busiest", "cameras.busiest_by=degree"))
    degree = np.array([model.city.graph.degree(v) for v in range(model.city.n)])
    chosen = np.zeros(model.city.n, dtype=bool)
    chosen[model.cameras.nodes] = True
    assert degree[chosen].min() >= degree[~chosen].max()


def test_busiest_by_betweenness_matches_networkx_exactly_on_a_small_city():
    model = SafeCityModel(mesa("cameras.placement=busiest"))
    score = nx.betweenness_centrality(model.city.graph, weight="length")
    ranked = sorted(score, key=lambda v: (-score[v], -model.city.attractiveness[v], v))
    assert sorted(ranked[:12]) == model.cameras.nodes.tolist()


def test_busiest_samples_betweenness_on_large_cities_with_a_seed():
    overrides = ["cameras.placement=busiest", "cameras.betweenness_sample=50", "city.nodes=400",
                 "offenders.count=10"]
    a = SafeCityModel(small(*overrides)).cameras.nodes
    b = SafeCityModel(small(*overrides)).cameras.nodes
    exact = SafeCityModel(small(*overrides[:1], *overrides[2:])).cameras.nodes
    assert np.array_equal(a, b)
    assert len(set(a) & set(exact)) >= 5  # a 50-source sample finds many of the same places


def test_hotspots_are_the_most_recorded_crime_of_a_pilot_period():
    config = mesa("cameras.placement=hotspots", "cameras.burn_in_days=20")
    model = SafeCityModel(config)
    nodes = hotspot_places(model, config.cameras, np.random.default_rng(7))
    pilot = config.model_copy(deep=True)
    pilot.run.seed = int(np.random.default_rng(7).integers(2**63))
    pilot.cameras.count = 0
    history = SafeCityModel(pilot, city=model.city)
    history.run_days(20)
    counts = np.bincount([c.node for c in history.crimes if c.reported], minlength=model.city.n)
    chosen = np.zeros(model.city.n, dtype=bool)
    chosen[nodes] = True
    assert counts[chosen].min() >= counts[~chosen].max()
    assert counts[chosen].sum() > 0.2 * counts.sum()


def test_hotspots_predict_where_crime_happens():
    """Without any camera effect, hot-spot cameras watch far more crime than random ones."""
    def watched(placement: str) -> int:
        total = 0
        for seed in (1, 2):
            model = SafeCityModel(mesa(f"cameras.placement={placement}", f"run.seed={seed}",
                                       "run.days=30", "cameras.install_day=3650"))
            model.run_days(30)
            total += sum(bool(model.cameras.covered[c.node]) for c in model.crimes)
        return total

    assert watched("hotspots") > 2 * watched("random")


def test_max_coverage_is_greedy_and_beats_the_other_strategies_on_its_objective():
    config = mesa("cameras.placement=max_coverage", "cameras.range_m=150")
    model = SafeCityModel(config)
    city, nodes = model.city, model.cameras.nodes
    # Plain greedy, written out the slow way.
    watched = city.kdtree.query_ball_point(city.xy, 150.0)
    covered = np.zeros(city.n, dtype=bool)
    picks = []
    for _ in range(12):
        gains = [city.attractiveness[w][~covered[w]].sum() for w in watched]
        best = max(range(city.n), key=lambda v: (gains[v], city.attractiveness[v], -v))
        picks.append(best)
        covered[watched[best]] = True
    assert sorted(picks) == nodes.tolist()
    mine = covered_value(city, nodes, 150.0)
    for other in ("random", "attractive", "busiest"):
        theirs = SafeCityModel(mesa(f"cameras.placement={other}", "cameras.range_m=150"))
        assert mine >= covered_value(city, theirs.cameras.nodes, 150.0)


def test_more_cameras_than_places_wrap_round():
    for placement in ("busiest", "max_coverage"):
        model = SafeCityModel(mesa(f"cameras.placement={placement}", "cameras.count=300",
                                   "offenders.count=5"))
        assert len(model.cameras.nodes) == 300
        assert model.cameras.coverage() == 1.0
    config = mesa("cameras.count=230")
    nodes = max_coverage_places(SafeCityModel(config), config.cameras, None)
    assert len(set(nodes.tolist())) == 220


def test_listed_places_are_used_and_checked_against_the_graph():
    model = SafeCityModel(mesa("cameras.nodes=[5, 17, 3]"))
    assert model.cameras.nodes.tolist() == [3, 5, 17]
    assert model.config.cameras.count == 3
    with pytest.raises(ConfigError, match=r"cameras.nodes: 220 is not a place in this city "
                                          r"\(node ids are 0..219\)"):
        SafeCityModel(mesa("cameras.nodes=[5, 220]"))
    with pytest.raises(ConfigError, match="not a place"):
        SafeCityModel(mesa("cameras.nodes=[-1]"))
    with pytest.raises(ConfigError, match="cameras.placement is busiest; set cameras.placement"):
        mesa("cameras.nodes=[5]", "cameras.placement=busiest")


def test_bad_camera_list_exits_2_from_the_cli(tmp_path):
    out = tmp_path / "out"
    done = abm_cli("run", str(ROOT / "configs/real-city.yaml"), "--set", "cameras.nodes=[1,999]",
                   "--set", "cameras.placement=list", "--out", str(out))
    assert done.returncode == 2
    assert "cameras.nodes: 999 is not a place in this city" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_placement_sweep_file_names_valid_settings():
    path = ROOT / "configs" / "sweeps" / "placement.yaml"
    sweep = yaml.safe_load(path.read_text())
    base = (path.parent / sweep["base"]).resolve()
    assert base == ROOT / "configs" / "default.yaml"
    assert sweep["design"]["parameters"]["cameras.placement"] == STRATEGY_NAMES
    assert sweep["baseline"] == {"cameras.placement": "random"}
    sets = [f"{k}={v}" for k, v in sweep["set"].items()]
    for placement in STRATEGY_NAMES:
        config = load(base, [*sets, f"cameras.placement={placement}"])
        assert config.cameras.placement == placement and config.run.days == 60


def test_cities_can_be_shared_between_models():
    """The hot-spot pilot reuses the city; building it does not change the city."""
    city = build_city(mesa().city, seed=3)
    xy = city.xy.copy()
    SafeCityModel(mesa("cameras.placement=hotspots", "cameras.burn_in_days=2"), city=city)
    assert np.array_equal(city.xy, xy)


def test_mclp_is_optimal_and_at_least_as_good_as_greedy():
    """On a town small enough to try every set of sites, mclp's cameras watch the most."""
    from itertools import combinations

    config = small("city.nodes=25", "cameras.count=3", "cameras.range_m=130",
                   "cameras.placement=mclp", "city.attractiveness_sigma=1.5")
    model = SafeCityModel(config)
    city = model.city
    best = max(covered_value(city, list(c), 130) for c in combinations(range(city.n), 3))
    assert covered_value(city, model.cameras.nodes, 130) == pytest.approx(best)
    greedy = max_coverage_places(model, config.cameras, None)
    assert covered_value(city, greedy, 130) <= best + 1e-9
    again = SafeCityModel(config)
    assert np.array_equal(again.cameras.nodes, model.cameras.nodes)


def test_mclp_refuses_cities_too_large_to_solve_exactly(monkeypatch):
    import abm.placement

    monkeypatch.setattr(abm.placement, "MCLP_MAX_PLACES", 50)
    with pytest.raises(ConfigError, match="mclp solves cities of up to 50 places"):
        SafeCityModel(small("cameras.placement=mclp"))


def test_placement_choices_match_the_settings_schema():
    from typing import get_args

    from abm.config import CameraSettings

    assert set(get_args(CameraSettings.model_fields["placement"].annotation)) == \
        {p.value for p in Placement}
