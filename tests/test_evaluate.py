"""Evaluation against twins: structure, pairing, and the arithmetic of each estimate."""

import math

import numpy as np
import pandas as pd
import pytest

from abm.config import ConfigError, from_overrides
from abm.evaluate import evaluate, mean_ci, periods, replicate_seeds, twin_config
from abm.evaluation_report import report_text, write_evaluation
from tests.conftest import abm_cli

TINY = ["run.days=80", "city.nodes=300", "offenders.count=80", "police.units=3",
        "cameras.count=20", "cameras.install_day=30", "cameras.repair=false",
        "cameras.mtbf_days=60"]


@pytest.fixture(scope="module")
def evaluation():
    config = from_overrides([*TINY, "run.name=tiny"])
    return evaluate(config, replicates=3, workers=1)


def test_periods_are_relative_to_go_live():
    config = from_overrides(["run.days=800", "cameras.install_day=365"])
    labels = [(p.label, p.start, p.end) for p in periods(config)]
    assert labels == [("before", 0, 365), ("year 1", 365, 730), ("year 2", 730, 800)]


def test_twins_share_everything_but_the_cameras():
    config = from_overrides([*TINY, "cameras.operators=1"])
    config.timeline = [{"day": 30, "set": {"police.units": 2}, "cameras_only": True},
                       {"day": 40, "set": {"police.units": 4, "cameras.repair": False}}]
    config = type(config).model_validate(config.model_dump())
    none = twin_config(config, "no-cameras")
    assert none.cameras.install_day > none.run.days
    assert [c.day for c in none.timeline] == [40]
    working = twin_config(config, "working")
    assert working.cameras.repair and working.cameras.mtbf_days == 36500
    assert working.cameras.operators * working.cameras.feeds_per_operator >= 20
    assert all(not k.startswith("cameras.") for c in working.timeline for k in c.set)
    with pytest.raises(ConfigError):
        twin_config(config, "fancy")


def test_replicate_seeds_are_spawned_and_stable():
    a = replicate_seeds(5, 4)
    assert a == replicate_seeds(5, 4)
    assert len(set(a)) == 4
    assert replicate_seeds(5, 2) == a[:2]


def test_before_go_live_the_twins_are_identical(evaluation):
    c = evaluation.counts
    before = c[c["period"] == "before"].set_index(["replicate", "variant"])["true"].unstack()
    assert (before["scenario"] == before["no-cameras"]).all()
    assert (before["scenario"] == before["working"]).all()
    after = c[c["period"] == "year 1"].set_index(["replicate", "variant"])["true"].unstack()
    assert (after["scenario"] != after["no-cameras"]).any()


def test_effects_are_paired_differences(evaluation):
    c = evaluation.counts
    year = c[c["period"] == "year 1"].set_index(["replicate", "variant"])["true"].unstack()
    diffs = (year["scenario"] / year["no-cameras"] - 1) * 100
    row = evaluation.effects.query("twin == 'no-cameras' and period == 'year 1' "
                                   "and measure == 'true'").iloc[0]
    assert row["change_pct"] == pytest.approx(diffs.mean())
    assert row["ci_low"] < row["change_pct"] < row["ci_high"]


def test_naive_and_did_follow_their_formulas(evaluation):
    c = evaluation.counts[evaluation.counts["variant"] == "scenario"].set_index(
        ["replicate", "period"])
    pre, post = c.xs("before", level="period"), c.xs("year 1", level="period")
    scale = 30 / 50  # the before period lasts 30 days, year 1 the remaining 50
    naive = ((post["recorded"] * scale) / pre["recorded"] - 1) * 100
    row = evaluation.naive.query("period == 'year 1' and measure == 'recorded'").iloc[0]
    assert row["change_pct"] == pytest.approx(naive.mean())
    before = pre.replace(0, np.nan)  # a change from zero crimes is undefined: left out
    did = ((post["recorded_coverage"] / before["recorded_coverage"])
           / (post["recorded_elsewhere"] / before["recorded_elsewhere"]) - 1) * 100
    row = evaluation.did.query("period == 'year 1' and measure == 'recorded'").iloc[0]
    assert row["did_pct"] == pytest.approx(did.replace([np.inf, -np.inf], np.nan).mean())
    assert math.isfinite(row["causal_coverage_pct"])


def test_costs_compare_against_the_no_camera_twin(evaluation):
    costs = evaluation.costs.set_index("variant")
    s = evaluation.summaries.set_index(["variant", "replicate"])["cost_total_usd"]
    extra = (s.xs("scenario") - s.xs("no-cameras")).mean()
    assert costs.loc["scenario", "extra_cost_usd"] == pytest.approx(extra)
    assert extra > 0
    row = costs.loc["scenario"]
    if row["crimes_prevented"] > 0:
        assert row["cost_per_crime_prevented_usd"] == pytest.approx(
            extra / row["crimes_prevented"])
    else:
        assert row["cost_per_crime_prevented_usd"] == math.inf


def test_report_and_files(evaluation, tmp_path):
    text = report_text(evaluation, 3)
    for phrase in ("Before/after", "causal effect", "Difference-in-differences", "buffer",
                   "USD"):
        assert phrase in text
    write_evaluation(evaluation, tmp_path, 3, 1.0)
    for name in ("counts", "effects", "naive", "did", "zones", "costs", "summaries"):
        assert len(pd.read_parquet(tmp_path / f"{name}.parquet")) > 0
    for png in ("crime_by_period.png", "naive_vs_causal.png", "zones.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "report.md").read_text() == text


def test_mean_ci():
    m, lo, hi = mean_ci([1.0, 2.0, 3.0])
    assert m == 2.0 and lo == pytest.approx(2 - 2.4841377, rel=1e-6) and hi > 3
    assert math.isnan(mean_ci([4.0])[1])


@pytest.mark.parametrize("argv, fragment", [
    (["evaluate", "atlantis"], "no such file"),
    (["evaluate", "teaching-town", "--replicates", "0"], "--replicates 0"),
    (["evaluate", "teaching-town", "--twins", "perfect"], "--twins perfect"),
    (["evaluate", "teaching-town", "--set", "cameras.count=-1"], "cameras.count"),
    (["evaluate", "teaching-town", "--decompose", "--set", "cameras.install_day=0"],
     "cameras.install_day above 0"),
    (["evaluate", "teaching-town", "--decompose", "--decompose-to", "year 9"],
     "--decompose-to 'year 9'"),
])
def test_evaluate_bad_input(argv, fragment, tmp_path):
    done = abm_cli(*argv, "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert fragment in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_decomposition_variant_stopped_early_counts_what_a_full_run_counts():
    # Mechanism variants stop at the end of the later period compared; the days they keep
    # must not depend on where a run ends.
    from abm.evaluate import Job
    from abm.experiment.backends import execute

    config = from_overrides([*TINY, "cameras.operators=1", "offenders.trend_per_year=0.5"])
    span = [p for p in periods(config) if p.label == "before"]
    short = config.changed({"run.days": span[-1].end})

    def rows(config):
        job = Job("v", 0, 1, config, span)
        return job.rows(execute(job.task()))

    full = rows(config)
    assert short.run.days < config.run.days
    assert rows(short) == full
    assert full[0]["true"] > 0


def test_decomposition_runs_its_variants_only_as_far_as_it_compares():
    config = from_overrides([*TINY, "cameras.operators=1", "offenders.trend_per_year=0.5"])
    ev = evaluate(config, replicates=2, workers=1, decompose=True, decompose_to="year 1")
    variants = ev.counts.groupby("variant")["period"].agg(set)
    assert variants["scenario"] == {p.label for p in periods(config)}
    assert variants["without trend"] == {"before", "year 1"}
    total = ev.decomposition.set_index(["measure", "component"])["points"]
    assert math.isfinite(total["recorded", "total"])


def test_a_decomposition_needs_a_year_before_go_live():
    from abm.evaluate import decomposition_periods

    with pytest.raises(ConfigError, match="needs a year before go-live"):
        decomposition_periods(from_overrides([*TINY, "cameras.install_day=0"]), None)


def test_forked_twins_and_variants_give_the_tables_of_runs_from_day_0():
    config = from_overrides([*TINY, "cameras.operators=1", "offenders.trend_per_year=0.5",
                             "run.name=forks"])
    config = config.changed({"timeline": [
        {"day": 30, "set": {"police.units": 2}, "cameras_only": True},
        {"day": 50, "news": {"cameras_broken_share": 0.5, "reach": 0.7}}]})
    forked = evaluate(config, replicates=2, workers=1, decompose=True, decompose_to="year 1")
    plain = evaluate(config, replicates=2, workers=1, decompose=True, decompose_to="year 1",
                     fork=False)
    for name in ("counts", "summaries", "effects", "naive", "did", "costs", "decomposition"):
        pd.testing.assert_frame_equal(getattr(forked, name), getattr(plain, name))


def test_a_replicate_forks_its_twins_and_the_mechanisms_acting_after_go_live():
    from abm import decompose as dec
    from abm.evaluate import Job, tasks

    config = from_overrides([*TINY, "cameras.operators=1", "offenders.trend_per_year=0.5"])
    variants = {"scenario": config, "no-cameras": twin_config(config, "no-cameras"),
                **dec.variants(config)[0]}
    jobs = [Job(name, 0, 1, variant, periods(config)) for name, variant in variants.items()]
    forked = {"no-cameras", *dec.after_go_live(config)}
    planned, part_of = tasks(jobs, forked, fork=True)
    scenario = planned[0]
    assert scenario.fork_day == 30 and {f.run_id for f in scenario.forks} == {
        "no-cameras r0", "without failures r0", "without learning r0",
        "without monitoring r0", "without recording r0"}
    assert part_of["without trend r0"] == "without trend r0"  # the trend acts from day 1
    assert part_of[dec.NONE + " r0"] == dec.NONE + " r0"  # none of them: the trend too
    alone, _ = tasks(jobs, forked, fork=False)
    assert len(alone) == len(jobs) and not any(t.forks for t in alone)
    shared, part_of = tasks(jobs, forked, fork=True, parts=2)
    first, second = shared[:2]
    assert first.whole and not second.whole and first.run_id == "scenario r0"
    assert {f.run_id for f in first.forks} | {f.run_id for f in second.forks} == {
        f.run_id for f in scenario.forks}
    assert not {f.run_id for f in first.forks} & {f.run_id for f in second.forks}
    assert {part_of[f.run_id] for f in second.forks} == {second.run_id}


def test_forks_shared_out_over_workers_give_the_same_tables():
    config = from_overrides([*TINY, "cameras.operators=1", "run.name=parts"])
    forked = evaluate(config, replicates=1, workers=2, decompose=True, decompose_to="year 1")
    plain = evaluate(config, replicates=1, workers=1, decompose=True, decompose_to="year 1",
                     fork=False)
    for name in ("counts", "summaries", "effects", "decomposition"):
        pd.testing.assert_frame_equal(getattr(forked, name), getattr(plain, name))


def test_the_effect_is_also_read_by_time_of_day(evaluation):
    from abm.evaluate import TIMES_OF_DAY

    hours = evaluation.hours
    assert set(hours["time_of_day"]) == set(TIMES_OF_DAY)
    counts = evaluation.counts
    assert (counts[[f"true_{band}" for band in TIMES_OF_DAY]].sum(axis=1) == counts["true"]).all()
    year = hours[(hours["twin"] == "no-cameras") & (hours["period"] == "year 1")]
    wide = counts[counts["period"] == "year 1"].pivot_table(
        index="replicate", columns="variant", values="true_evening")
    expected = ((wide["scenario"] / wide["no-cameras"] - 1) * 100).mean()
    assert year.set_index("time_of_day").loc["evening", "change_pct"] == pytest.approx(expected)
    assert "By time of day" in report_text(evaluation, 3)
