"""`abm discover`: PRIM finds the input that decides an outcome, the folder is whole and
deterministic, bad specs are one-line errors naming the file and the key."""

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from abm import catalog
from abm.config import ConfigError
from abm.discover import discover, load_spec
from abm.experiment.backends import LocalBackend
from tests.conftest import abm_cli

TOWN = {"run": {"days": 10, "seed": 1}, "city": {"nodes": 150}, "offenders": {"count": 30},
        "police": {"units": 2}, "cameras": {"count": 5}}
# True crime in ten days grows with the number of offenders (about 0.15 a day per offender
# here); the repair time of cameras that never fail in ten days cannot matter.
SPEC = {"name": "tiny", "scenario": "town.yaml", "samples": 60, "seed": 7,
        "uncertain": {"offenders.count": [10, 200], "cameras.mttr_days": [1, 60]},
        "outcome": {"label": "at least 15 crimes in ten days", "numerator": "crimes_days:0-10",
                    "at_least": 15}}
FILES = {"points.parquet", "boxes.csv", "trajectory.parquet", "tradeoff.png", "report.md",
         "manifest.json"}


def write_spec(folder: Path, **changes) -> Path:
    (folder / "town.yaml").write_text(yaml.safe_dump(TOWN))
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump({**SPEC, **changes}))
    return path


def run(spec: Path, out: Path, **kwargs) -> dict:
    with LocalBackend(1) as engine:
        return discover(load_spec(spec, **kwargs), out, None, engine, echo=lambda *a: None)


def test_box_restricts_the_deciding_input_and_the_folder_is_whole(tmp_path):
    spec = write_spec(tmp_path)
    out = tmp_path / "out"
    done = abm_cli("discover", str(spec), "--out", str(out), "--workers", "2", "--quiet")
    assert done.returncode == 0, done.stderr
    assert {p.name for p in out.iterdir()} == FILES
    points = pd.read_parquet(out / "points.parquet")
    assert len(points) == 60 and points["hit"].notna().all()
    assert 0.2 < points["hit"].mean() < 0.8  # the outcome splits the sample
    boxes = pd.read_csv(out / "boxes.csv").set_index("input")
    count, mttr = boxes.loc["offenders.count"], boxes.loc["cameras.mttr_days"]
    assert count["restricted"] and count["low"] > 60 and count["high"] == 200
    assert mttr["share_of_range"] > 0.9  # irrelevant: (nearly) its whole range
    assert count["density"] >= 0.8 and count["coverage"] > 0.8
    trajectory = pd.read_parquet(out / "trajectory.parquet")
    assert len(trajectory) > 2 and int(count["box"]) in set(trajectory["id"])
    assert trajectory["mass"].iloc[0] == 1.0 and trajectory["coverage"].iloc[0] == 1.0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "discovery" and manifest["samples"] == 60
    assert manifest["hits"] == int(points["hit"].sum())
    assert (out / "tradeoff.png").stat().st_size > 10_000
    report = (out / "report.md").read_text()
    assert "offenders.count" in report and "coverage" in report
    # The runs are a sweep folder beside it: the same command again runs nothing.
    results = pd.read_parquet(tmp_path / "out-sweep" / "results.parquet")
    assert len(results) == 60 and (results["status"] == "ok").all()
    again = abm_cli("discover", str(spec), "--out", str(out), "--workers", "2")
    assert again.returncode == 0 and "(60 done, 0 to run)" in again.stdout


def test_same_spec_same_seed_same_points_and_no_box_when_nothing_hits(tmp_path):
    spec = write_spec(tmp_path, samples=12)
    first = run(spec, tmp_path / "a")
    second = run(spec, tmp_path / "b")  # its own sweep folder: every run again
    assert (tmp_path / "a" / "points.parquet").read_bytes() == \
        (tmp_path / "b" / "points.parquet").read_bytes()
    pd.testing.assert_frame_equal(first["points"], second["points"])
    other = run(write_spec(tmp_path, samples=12, seed=8), tmp_path / "c")
    assert not other["points"]["offenders.count"].equals(first["points"]["offenders.count"])
    none = run(write_spec(tmp_path, samples=12, outcome={**SPEC["outcome"], "at_least": 10**6}),
               tmp_path / "d")
    assert none["boxes"] is None and not none["points"]["hit"].any()
    assert "No box: no point hits" in (tmp_path / "d" / "report.md").read_text()
    assert len(pd.read_csv(tmp_path / "d" / "boxes.csv")) == 0


@pytest.mark.parametrize("changes, fragments", [
    ({"uncertain": {"offenders.count": [50, 10]}}, ["uncertain", "offenders.count", "below"]),
    ({"uncertain": {"offenders.cuont": [1, 10]}}, ["uncertain.offenders.cuont", "unknown key"]),
    ({"uncertain": {"offenders.count": [10, 1_000_000]}}, ["uncertain.offenders.count",
                                                           "1000000"]),
    ({"uncertain": {"cameras.reporting_uplift": [-0.5, 0.5]}},
     ["uncertain.cameras.reporting_uplift", "-0.5"]),
    ({"uncertain": {"cameras.repair": [0, 1]}}, ["uncertain.cameras.repair", "not a number"]),
    ({"uncertain": {"offenders.count": [10.5, 20]}}, ["uncertain.offenders.count", "whole"]),
    ({"uncertain": {"run.seed": [1, 5]}}, ["uncertain.run.seed", "replicate seeds"]),
    ({"samples": 0}, ["samples", "greater than or equal to 1"]),
    ({"samples": 30_000}, ["samples", "above the limit"]),
    ({"bogus": 1}, ["bogus", "unknown key"]),
    ({"outcome": {"label": "x", "numerator": "crimes_days:5-1", "at_least": 1}},
     ["outcome.numerator", "before the second"]),
    ({"outcome": {"label": "x", "numerator": "crimes_total"}}, ["outcome", "exactly one"]),
    ({"outcome": {"label": "x", "numerator": "no_such_figure", "at_most": 1}},
     ["outcome.numerator", "not a summary figure"]),
    ({"set": {"offenders.count": 20}}, ["uncertain.offenders.count", "also fixed"]),
    ({"scenario": "missing.yaml"}, ["scenario", "missing.yaml"]),
])
def test_bad_specs_name_the_file_and_the_key(tmp_path, changes, fragments):
    spec = write_spec(tmp_path, **changes)
    with pytest.raises(ConfigError) as err:
        load_spec(spec)
    message = str(err.value)
    assert message.startswith(str(spec)) and "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_command_line_options_are_bounded_too(tmp_path):
    spec = write_spec(tmp_path)
    with pytest.raises(ConfigError, match="samples.*above the limit of 100"):
        load_spec(spec, samples=200, max_runs=100)
    with pytest.raises(ConfigError, match="set.cameras.count"):
        load_spec(spec, overrides=["cameras.count=-1"])
    assert load_spec(spec, samples=5, overrides=["run.days=3"]).base.run.days == 3
    done = abm_cli("discover", str(spec), "--samples", "5", "--set", "offenders.count=5",
                   cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert str(spec) in done.stderr and "uncertain.offenders.count" in done.stderr
    assert not (tmp_path / "runs").exists()


def test_the_shipped_spec_is_listed_and_checks():
    path = catalog.find("islamabad-rise", catalog.Kind.DISCOVERY)
    d = load_spec(path)
    assert d.scenario.stem == "islamabad-staff-moved" and d.spec.samples >= 100
    assert "offenders.trend_per_year" in d.spec.uncertain
    assert d.measures == ("recorded_days:1095-1460", "recorded_days:365-730")
    small = load_spec("islamabad-rise", samples=8, overrides=["run.days=40"])
    assert small.spec.samples == 8 and small.hash() != d.hash()
