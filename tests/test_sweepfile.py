"""Sweep files: designs, seeds, baselines, and one-line errors for every bad setting."""

import math

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from abm.config import ConfigError
from abm.experiment.seeds import design_seed, replicate_seeds
from abm.experiment.sweepfile import load_sweep
from tests.conftest import ROOT

SMOKE_SET = {"run.days": 2, "city.nodes": 100, "offenders.count": 20}


def write_sweep(folder, body: dict, name: str = "sweep.yaml"):
    (folder / "base.yaml").write_text("run:\n  seed: 42\ncameras:\n  count: 30\n")
    body = {"base": "base.yaml", "seed": 7, **body}
    path = folder / name
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


def grid(**parameters):
    return {"kind": "grid", "parameters": parameters}


def test_smoke_sweep_runs_every_point_with_the_same_seeds(root):
    sweep = load_sweep(root / "abm/configs/sweeps/smoke.yaml")
    spec = sweep.spec
    assert sweep.name == "smoke"
    assert len(sweep.points) == 4 and len(sweep.runs) == 4 * spec.replicates
    assert sweep.seeds == replicate_seeds(spec.seed, spec.replicates)
    for point in sweep.points:
        runs = [r for r in sweep.runs if r.point is point]
        assert [r.config.run.seed for r in runs] == sweep.seeds  # common random numbers
    # One city for every replicate: the base scenario's run seed (42 in default.yaml).
    assert {r.config.city.seed for r in sweep.runs} == {42}
    assert {r.config.run.days for r in sweep.runs} == {5}
    assert len({r.id for r in sweep.runs}) == len(sweep.runs)
    assert len({r.config_hash for r in sweep.runs}) == len(sweep.runs)


def test_grid_order_labels_and_baseline_twins(tmp_path):
    path = write_sweep(tmp_path, {
        "set": SMOKE_SET,
        "design": grid(**{"cameras.count": [0, 30, 90], "cameras.mttr_days": [3, 30]}),
        "replicates": 2, "baseline": {"cameras.count": 0}})
    sweep = load_sweep(path)
    assert sweep.keys == ["cameras.count", "cameras.mttr_days"]
    assert [tuple(v.values()) for v in sweep.values] == [
        (0, 3.0), (0, 30.0), (30, 3.0), (30, 30.0), (90, 3.0), (90, 30.0)]
    assert sweep.points[3].label == "count=30, mttr_days=30"
    # Each point is compared with the point without cameras at the same repair time.
    assert sweep.references == [0, 1, 0, 1, 0, 1]
    assert sweep.runs[0].config.cameras.count == 0
    assert sweep.runs[-1].config.cameras.mttr_days == 30


def test_list_design_fills_unset_keys_from_the_base(tmp_path):
    path = write_sweep(tmp_path, {
        "design": {"kind": "list", "points": [
            {"label": "all-working", "set": {"cameras.mtbf_days": 36500}},
            {"label": "typical"},
            {"label": "no-repair", "set": {"cameras.repair": False}}]},
        "baseline": {"label": "all-working"}})
    sweep = load_sweep(path)
    assert sweep.keys == ["cameras.mtbf_days", "cameras.repair"]
    assert sweep.values == [{"cameras.mtbf_days": 36500, "cameras.repair": True},
                            {"cameras.mtbf_days": 365, "cameras.repair": True},
                            {"cameras.mtbf_days": 365, "cameras.repair": False}]
    assert sweep.references == [0, 0, 0]
    assert [p.label for p in sweep.points] == ["all-working", "typical", "no-repair"]


def test_baseline_by_settings_falls_back_to_the_single_match(tmp_path):
    path = write_sweep(tmp_path, {
        "design": {"kind": "list", "points": [
            {"set": {"cameras.mtbf_days": 36500}}, {"set": {"cameras.repair": False}}]},
        "baseline": {"cameras.mtbf_days": 36500}})
    assert load_sweep(path).references == [0, 0]


@pytest.mark.parametrize("kind, extra, count", [
    ("lhs", {}, 6),
    ("sobol", {}, 8 * (2 * 2 + 2)),
    ("sobol", {"second_order": False}, 8 * (2 + 2)),
    ("morris", {"levels": 4}, 6 * (2 + 1)),
])
def test_sampled_designs_have_the_salib_sizes_and_respect_bounds(tmp_path, kind, extra, count):
    samples = {"lhs": 6, "sobol": 8, "morris": 6}[kind]
    design = {"kind": kind, "samples": samples, **extra, "parameters": {
        "cameras.count": {"min": 0, "max": 40, "type": "int"},
        "cameras.mttr_days": {"min": 1, "max": 60}}}
    path = write_sweep(tmp_path, {"set": SMOKE_SET, "design": design, "seed": 3})
    sweep = load_sweep(path)
    assert len(sweep.points) == count
    for point, values in zip(sweep.points, sweep.values, strict=True):
        assert isinstance(values["cameras.count"], int) and 0 <= values["cameras.count"] <= 40
        assert values["cameras.count"] == min(math.floor(point.sample["cameras.count"]), 40)
        assert 1 <= values["cameras.mttr_days"] <= 60
    again = load_sweep(path)
    assert [p.sample for p in again.points] == [p.sample for p in sweep.points]
    path.write_text(path.read_text().replace("seed: 3", "seed: 4"))
    assert [p.sample for p in load_sweep(path).points] != [p.sample for p in sweep.points]


def test_more_replicates_keep_the_seeds_of_the_first():
    assert replicate_seeds(2026, 3) == replicate_seeds(2026, 10)[:3]
    seeds = replicate_seeds(2026, 50)
    assert len(set(seeds)) == 50 and all(0 <= s < 2**63 for s in seeds)
    assert design_seed(2026) != design_seed(2027)


def test_vary_city_draws_a_city_per_replicate(tmp_path):
    path = write_sweep(tmp_path, {"design": grid(**{"cameras.count": [0, 5]}),
                                  "replicates": 3, "vary_city": True})
    sweep = load_sweep(path)
    assert [r.config.city.seed for r in sweep.runs[:3]] == sweep.seeds


def test_a_sweep_may_fix_the_city_seed(tmp_path):
    path = write_sweep(tmp_path, {"set": {"city.seed": 5},
                                  "design": grid(**{"cameras.count": [0, 5]})})
    assert {r.config.city.seed for r in load_sweep(path).runs} == {5}


@given(st.floats(min_value=0.01, max_value=36_500) | st.integers(1, 36_500))
def test_a_value_the_sweep_file_sets_is_the_value_every_run_gets(tmp_path_factory, value):
    path = write_sweep(tmp_path_factory.mktemp("s"), {
        "set": {"cameras.mttr_days": value},
        "design": {"kind": "list",
                   "points": [{"label": "a", "set": {"cameras.mtbf_days": value}}]}})
    config = load_sweep(path).runs[0].config
    assert config.cameras.mttr_days == value and config.cameras.mtbf_days == value


BAD_SWEEPS = [
    ({"design": grid(**{"cameras.cont": [1]})}, "design.parameters.cameras.cont: unknown key"),
    ({"design": grid(**{"cameras.count": [5, -1]})}, "point 'count=-1': cameras.count"),
    ({"set": {"police.horses": 2}, "design": grid(**{"cameras.count": [1]})},
     "set.police.horses: unknown key"),
    ({"set": {"run.days": 0}, "design": grid(**{"cameras.count": [1]})}, "run.days"),
    ({"set": {"run.seed": 3}, "design": grid(**{"cameras.count": [1]})},
     "set.run.seed: replicate seeds come from"),
    ({"design": {"kind": "list", "points": [{"set": {"cameras.count": 1}},
                                            {"set": {"cameras.nope": 1}}]}},
     "design.points[1].set.cameras.nope: unknown key"),
    ({"design": {"kind": "list", "points": [{"label": "a"}, {"label": "a"}]}},
     "labels must be unique"),
    ({"design": {"kind": "cube"}}, "design"),
    ({"design": grid(**{"cameras.count": []})}, "design.parameters.cameras.count"),
    ({"design": grid()}, "design.parameters"),
    ({"design": grid(**{"cameras.count": [1]}), "colour": "red"},
     "sweep.yaml: colour: unknown key"),
    ({"design": grid(**{"cameras.count": [1]}), "replicates": 0}, "replicates"),
    ({"design": grid(**{"cameras.count": [1]}), "seed": -1}, "seed"),
    ({"design": grid(**{"cameras.count": [1]}), "base": "absent.yaml"},
     "base: "),
    ({"design": grid(**{"cameras.count": [1]}), "name": "a/b"}, "name:"),
    ({"design": grid(**{"cameras.count": [1]}), "baseline": {"cameras.count": 0}},
     "baseline: no design point has cameras.count=0"),
    ({"design": grid(**{"cameras.count": [0, 1]}), "baseline": {"police.units": 0}},
     "baseline.police.units: not varied by the design"),
    ({"design": grid(**{"cameras.count": [0, 1]}), "baseline": {"police.unit": 0}},
     "baseline.police.unit: unknown key"),
    ({"design": {"kind": "list", "points": [{"label": "x"}]}, "baseline": {"label": "y"}},
     "baseline.label: no design point is labelled 'y'"),
    ({"design": {"kind": "sobol", "samples": 10,
                 "parameters": {"cameras.count": {"min": 0, "max": 9}}}},
     "design.samples: must be a power of 2 for Sobol designs (got 10)"),
    ({"design": {"kind": "lhs", "samples": 4,
                 "parameters": {"cameras.count": {"min": 9, "max": 1}}}},
     "min must be below max"),
    ({"design": {"kind": "lhs", "samples": 4,
                 "parameters": {"cameras.count": {"min": 0, "max": 9.5, "type": "int"}}}},
     "whole numbers"),
    ({"design": {"kind": "lhs", "samples": 4,
                 "parameters": {"cameras.count": {"min": -5, "max": 9, "type": "int"}}}},
     "design.parameters.cameras.count.min: cameras.count"),
    ({"design": {"kind": "lhs", "samples": 4,
                 "parameters": {"cameras.coun": {"min": 0, "max": 9}}}},
     "design.parameters.cameras.coun: unknown key"),
    ({"design": {"kind": "morris", "samples": 4, "levels": 3,
                 "parameters": {"cameras.count": {"min": 0, "max": 9}}}},
     "design.levels: must be even (got 3)"),
    ({"design": grid(**{"city.file": ["nowhere.graphml"]})}, "no such graph file"),
    ({"vary_city": True, "set": {"city.seed": 3}, "design": grid(**{"cameras.count": [1]})},
     "set.city.seed: vary_city"),
]


@pytest.mark.parametrize("body, fragment", BAD_SWEEPS)
def test_bad_sweep_files_give_one_line_naming_file_and_key(tmp_path, body, fragment):
    path = write_sweep(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_sweep(path)
    message = str(err.value)
    assert message.startswith(str(path)), message
    assert fragment in message, message
    assert "\n" not in message


def test_malformed_and_missing_sweep_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("design: [1\n")
    with pytest.raises(ConfigError, match="malformed YAML"):
        load_sweep(bad)
    with pytest.raises(ConfigError, match="no such file"):
        load_sweep(tmp_path / "absent.yaml")
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_sweep(bad)


@pytest.mark.parametrize("path", sorted((ROOT / "abm/configs/sweeps").glob("*.yaml")),
                         ids=lambda p: p.stem)
def test_shipped_sweeps_are_valid(path):
    sweep = load_sweep(path)
    assert sweep.runs and sweep.name
    if sweep.spec.baseline is not None:
        assert None not in sweep.references


@pytest.mark.parametrize("design", [
    {"kind": "grid", "parameters": {"cameras.count": [0, 5, 9], "police.units": [1, 2]}},
    {"kind": "list", "points": [{"set": {"cameras.count": 1}}, {"set": {}}]},
    {"kind": "lhs", "samples": 7, "parameters": {"cameras.count": {"min": 0, "max": 9}}},
    {"kind": "sobol", "samples": 8, "parameters": {"cameras.count": {"min": 0, "max": 9},
                                                   "police.units": {"min": 1, "max": 4}}},
    {"kind": "sobol", "samples": 4, "second_order": False,
     "parameters": {"cameras.count": {"min": 0, "max": 9}, "police.units": {"min": 1, "max": 4},
                    "cameras.operators": {"min": 0, "max": 3}}},
    {"kind": "morris", "samples": 3, "parameters": {"cameras.count": {"min": 0, "max": 9},
                                                    "police.units": {"min": 1, "max": 4}}},
], ids=lambda d: d["kind"])
def test_a_design_is_counted_exactly_before_it_is_built(design):
    from pydantic import TypeAdapter

    from abm.experiment.design import Design

    spec = TypeAdapter(Design).validate_python(design)
    assert spec.size() == len(spec.expand(seed=3))
