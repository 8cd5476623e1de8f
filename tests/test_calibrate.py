"""`abm calibrate`: recovers known parameters from a synthetic run, resumes, rejects bad specs."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from abm import config as cfg
from abm.experiment.seeds import replicate_seeds
from abm.measures import computed
from abm.simulate import simulate
from tests.conftest import abm_cli

ROOT = Path(__file__).resolve().parent.parent
SET = {"run.days": 30, "city.nodes": 400, "offenders.count": 400, "police.units": 4,
       "cameras.count": 10}
TRUTH = {"offenders.opportunity_rate": 6e-4, "victims.report_prob_theft": 0.6}
TARGETS = ["crimes_total", "crimes_recorded", "crimes_days:0-7"]
SEED, REPLICATES = 11, 2


def synthetic_targets() -> dict[str, float]:
    """The targets as the truth produces them, on the replicate seeds calibration uses (the
    city fixed by the base's run seed, as in a sweep)."""
    base = cfg.load(ROOT / "abm/configs/default.yaml")
    values = {k: [] for k in TARGETS}
    for seed in replicate_seeds(SEED, REPLICATES):
        config = base.changed({**SET, **TRUTH, "run.seed": seed, "city.seed": base.run.seed})
        result = simulate(config)
        figures = {**result.summary, **{m.name: m.of(result) for m in computed(TARGETS)}}
        for k in TARGETS:
            values[k].append(figures[k])
    return {k: float(np.mean(v)) for k, v in values.items()}


def spec_file(tmp_path: Path, **changes) -> Path:
    targets = synthetic_targets()
    spec = {"name": "recover", "base": str(ROOT / "abm/configs/default.yaml"), "set": SET,
            "parameters": {"offenders.opportunity_rate": {"min": 1e-4, "max": 2e-3,
                                                          "log": True},
                           "victims.report_prob_theft": {"min": 0.05, "max": 0.95}},
            "targets": {k: {"value": v, "sd": max(1.0, 0.03 * v)} for k, v in targets.items()},
            "trials": 60, "batch": 10, "replicates": REPLICATES, "seed": SEED, **changes}
    path = tmp_path / "recover.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_calibration_recovers_known_parameters_and_resumes(tmp_path):
    spec = spec_file(tmp_path)
    out = tmp_path / "out"
    done = abm_cli("calibrate", str(spec), "--out", str(out), "--workers", "1")
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    best = manifest["best_parameters"]
    assert abs(math.log(best["offenders.opportunity_rate"] / 6e-4)) < math.log(1.25), best
    assert abs(best["victims.report_prob_theft"] - 0.6) < 0.15, best
    fit = pd.read_csv(out / "fit.csv")
    assert set(fit["target"]) == set(TARGETS) and (fit["error_sd"].abs() < 3).all()
    assert len(pd.read_csv(out / "trials.csv")) == 60
    assert (out / "calibration.png").stat().st_size > 10_000
    # best.yaml reproduces the best trial's first replicate.
    config = cfg.load(out / "best.yaml")
    assert config.offenders.opportunity_rate == best["offenders.opportunity_rate"]
    rerun = simulate(config).summary
    first = pd.read_parquet(next((out / "batches").glob(
        f"batch-{manifest['best_trial'] // 10:03d}/results.parquet")))
    row = first[(first["point"] == manifest["best_trial"] % 10) & (first["replicate"] == 0)]
    assert rerun["crimes_total"] == int(row["crimes_total"].iloc[0])
    # The same command again proposes the same trials and runs nothing.
    again = abm_cli("calibrate", str(spec), "--out", str(out), "--workers", "1")
    assert again.returncode == 0 and "0 runs now, 20 already done" in again.stdout
    assert json.loads((out / "manifest.json").read_text())["best_parameters"] == best


BAD = [
    ({"surprise": 1}, "surprise: unknown key"),
    ({"parameters": {"offenders.nope": {"min": 0, "max": 1}}}, "offenders.nope: unknown key"),
    ({"parameters": {"offenders.opportunity_rate": {"min": 0.1, "max": 2}}},
     "offenders.opportunity_rate"),
    ({"parameters": {"police.units": {"min": 5, "max": 2}}}, "min must be"),
    ({"targets": {"crimes_everywhere": {"value": 3}}}, "not a summary figure or measure"),
    ({"targets": {"crimes_days:9-2": {"value": 3}}}, "first day must be before"),
    ({"targets": {"crimes_total": {"value": 3, "sd": 0}}}, "targets.crimes_total.sd"),
    ({"trials": 0}, "trials"),
]


@pytest.mark.parametrize("change, fragment", BAD)
def test_bad_specs_exit_2_with_one_line(tmp_path, change, fragment):
    spec = {"base": str(ROOT / "abm/configs/default.yaml"), "seed": 1,
            "parameters": {"offenders.opportunity_rate": {"min": 1e-4, "max": 1e-3}},
            "targets": {"crimes_total": {"value": 100}}, **change}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec))
    done = abm_cli("calibrate", str(path), "--out", str(tmp_path / "out"))
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert fragment in lines[0] and "bad.yaml" in lines[0]
