"""`abm report`: intervals, paired effects, sensitivity indices, and the files it writes."""

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from abm.experiment import stats
from tests.conftest import ROOT, abm_cli

SMOKE = ROOT / "abm/configs/sweeps/smoke.yaml"
TINY = {"run.days": 2, "city.nodes": 100, "offenders.count": 30, "police.units": 2}
PNG = b"\x89PNG\r\n\x1a\n"


def synthetic(effect: float, noise: float, seeds=(11, 22, 33, 44, 55)) -> pd.DataFrame:
    """Baseline point 0 and point 1 = baseline + effect, run by run (same seeds)."""
    rng = np.random.default_rng(0)
    base = 100 + noise * rng.standard_normal(len(seeds))
    rows = []
    for point, values in ((0, base), (1, base + effect)):
        for r, (seed, y) in enumerate(zip(seeds, values, strict=True)):
            rows.append({"run": f"p{point}-r{r}", "point": point, "label": f"P{point}",
                         "replicate": r, "seed": seed, "baseline_point": 0, "status": "ok",
                         "error": None, "crimes_total": y})
    frame = pd.DataFrame(rows)
    frame["baseline_point"] = frame["baseline_point"].astype("Int64")
    return frame


def test_interval_is_the_t_interval_of_the_mean():
    n, mean, lo, hi = stats.interval([1.0, 2.0, 3.0, float("nan")])
    assert (n, mean) == (3, 2.0)
    assert hi - mean == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert mean - lo == pytest.approx(hi - mean)
    assert stats.interval([5.0])[1:] == (5.0, *[pytest.approx(math.nan, nan_ok=True)] * 2)
    assert stats.interval([])[0] == 0


def test_paired_effect_cancels_the_noise_seeds_share():
    frame = synthetic(effect=-5.0, noise=30.0)
    effects = stats.paired_effects(frame, ["crimes_total"])
    [row] = effects.to_dict("records")
    assert (row["point"], row["baseline_point"], row["pairs"]) == (1, 0, 5)
    assert row["effect"] == pytest.approx(-5.0)
    assert row["effect_lo"] == pytest.approx(-5.0) and row["effect_hi"] == pytest.approx(-5.0)
    assert row["relative"] == pytest.approx(-5.0 / frame[frame.point == 0].crimes_total.mean())
    # The unpaired intervals of the two means are wide and overlap: pairing is what helps.
    points = stats.point_table(frame, [], ["crimes_total"]).set_index("point")
    assert points.loc[1, "crimes_total_hi"] - points.loc[1, "crimes_total_lo"] > 20
    assert points.loc[1, "crimes_total_hi"] > points.loc[0, "crimes_total_mean"]


def test_paired_effect_uses_only_seeds_both_points_finished():
    frame = synthetic(effect=2.0, noise=10.0)
    frame.loc[(frame.point == 1) & (frame.replicate == 0), "status"] = "failed"
    frame.loc[(frame.point == 0) & (frame.replicate == 1), "crimes_total"] = np.nan
    [row] = stats.paired_effects(frame, ["crimes_total"]).to_dict("records")
    assert row["pairs"] == 3
    assert row["effect"] == pytest.approx(2.0)
    kept = frame[(frame.point == 0) & frame.replicate.isin([2, 3, 4])].crimes_total
    assert row["baseline_mean"] == pytest.approx(kept.mean())


def test_points_without_a_baseline_have_no_effect_rows():
    frame = synthetic(effect=1.0, noise=1.0)
    frame["baseline_point"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    assert stats.paired_effects(frame, ["crimes_total"]).empty


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("smoke") / "smoke"
    done = abm_cli("sweep", str(SMOKE), "--out", str(out), "--workers", "1", "--quiet")
    assert done.returncode == 0, done.stderr
    return out


def test_sweep_report_writes_tables_and_charts(smoke):
    done = abm_cli("report", str(smoke))
    assert done.returncode == 0, done.stderr
    assert "mean [95% interval] per design point" in done.stdout
    assert "effect against the baseline: mean difference per run" in done.stdout
    out = smoke / "report"
    for name in ("points.csv", "points.parquet", "effects.csv", "effects.parquet"):
        assert (out / name).stat().st_size > 0
    for name in ("crime_by_coverage.png", "response_vs_clearance.png", "effects.png"):
        assert (out / name).read_bytes()[:8] == PNG, name
    results = pd.read_parquet(smoke / "results.parquet")
    points = pd.read_parquet(out / "points.parquet")
    assert len(points) == 4
    for _, p in points.iterrows():
        runs = results[results.point == p["point"]]
        assert p["crimes_total_mean"] == pytest.approx(runs.crimes_total.mean())
        assert p["crimes_total_lo"] <= p["crimes_total_mean"] <= p["crimes_total_hi"]
    # Effects are per-seed differences against the same repair time without cameras.
    effects = pd.read_parquet(out / "effects.parquet")
    crimes = effects[effects.metric == "crimes_total"].set_index("point")
    assert sorted(crimes.index) == [2, 3]
    assert list(crimes.loc[[2, 3], "baseline_point"]) == [0, 1]
    table = results.set_index(["point", "seed"])["crimes_total"]
    for point, ref in ((2, 0), (3, 1)):
        diffs = table.loc[point] - table.loc[ref]
        assert crimes.loc[point, "effect"] == pytest.approx(diffs.mean())
        assert crimes.loc[point, "pairs"] == len(diffs)


def test_report_on_a_run_folder_draws_its_daily_charts(tmp_path):
    run = tmp_path / "run"
    sets = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]
    done = abm_cli("run", str(ROOT / "abm/configs/default.yaml"), "--out", str(run), "--quiet",
                   *sets)
    assert done.returncode == 0, done.stderr
    done = abm_cli("report", str(run), "--out", str(tmp_path / "rep"))
    assert done.returncode == 0, done.stderr
    assert "crimes_total" in done.stdout
    assert (tmp_path / "rep/daily.png").read_bytes()[:8] == PNG


@pytest.mark.parametrize("kind, extra, columns", [
    ("sobol", {"samples": 4}, {"S1", "S1_conf", "ST", "ST_conf"}),
    ("morris", {"samples": 4, "levels": 4}, {"mu", "mu_star", "mu_star_conf", "sigma"}),
])
def test_sensitivity_indices_for_sobol_and_morris(tmp_path, kind, extra, columns):
    sweep = tmp_path / f"{kind}.yaml"
    sweep.write_text(yaml.safe_dump({
        "base": str(ROOT / "abm/configs/default.yaml"), "seed": 5,
        "set": {**TINY, "run.days": 20},  # long enough for crime at every point
        "design": {"kind": kind, **extra, "parameters": {
            "offenders.count": {"min": 10, "max": 60, "type": "int"},
            "cameras.count": {"min": 0, "max": 30, "type": "int"}}}}, sort_keys=False))
    out = tmp_path / "out"
    done = abm_cli("sweep", str(sweep), "--out", str(out), "--quiet")
    assert done.returncode == 0, done.stderr
    done = abm_cli("report", str(out), "--metric", "crimes_total")
    assert done.returncode == 0, done.stderr
    assert f"{kind} sensitivity indices" in done.stdout
    table = pd.read_parquet(out / "report/sensitivity.parquet")
    assert set(table.columns) >= {"metric", "parameter", *columns}
    assert list(table["parameter"]) == ["offenders.count", "cameras.count"]
    assert (out / "report/sensitivity.png").read_bytes()[:8] == PNG


@pytest.mark.parametrize("target, extra, fragment", [
    ("{tmp}/absent", [], "no such folder"),
    ("{tmp}", [], "neither a sweep folder"),
    ("{smoke}", ["--metric", "happiness"], "--metric happiness: not a summary figure"),
])
def test_bad_report_input_exits_2(smoke, tmp_path, target, extra, fragment):
    done = abm_cli("report", target.format(tmp=tmp_path, smoke=smoke), *extra)
    assert done.returncode == 2
    assert fragment in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_run_report_charts_crime_by_hour(tmp_path):
    from abm.cli import main as abm_main

    run = tmp_path / "run"
    assert abm_main(["run", "default", "--set", "run.days=5", "--out", str(run)]) == 0
    assert abm_main(["report", str(run), "--out", str(tmp_path / "rep")]) == 0
    table = pd.read_csv(tmp_path / "rep/crime_by_hour.csv")
    crimes = pd.read_parquet(run / "crimes.parquet")
    assert table["hour"].tolist() == list(range(24))
    assert table["crimes_true"].tolist() == np.bincount(crimes["hour"], minlength=24).tolist()
    assert table["crimes_recorded"].sum() == crimes["recorded"].sum()
    assert (tmp_path / "rep/crime_by_hour.png").read_bytes()[:8] == PNG
