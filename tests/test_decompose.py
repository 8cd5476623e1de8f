"""Decomposition: each mechanism switches itself off, and the table adds up as it says."""

import pandas as pd
import pytest

from abm import decompose as dec
from abm.config import load
from tests.conftest import ROOT

ISLAMABAD = ROOT / "abm/configs/scenarios/islamabad-staff-moved.yaml"


def test_each_mechanism_switches_off_only_itself():
    config = load(ISLAMABAD)
    runs, present = dec.variants(config)
    assert set(present) == {"trend", "failures", "learning", "monitoring", "staffing",
                            "recording"}
    assert set(runs) == {dec.WITHOUT + m for m in present} | {dec.NONE}
    trend = runs["without trend"]
    assert trend.offenders.trend_per_year == 0 and trend.cameras == config.cameras
    failures = runs["without failures"].cameras
    assert failures.mtbf_days >= 36_500 and failures.obstruction_mtbf_days is None
    assert failures.operators == config.cameras.operators
    learning = runs["without learning"]
    assert learning.offenders.learning_rate == 0 and learning.offenders.peer_learning_rate == 0
    assert not any(c.news for c in learning.timeline)
    assert any(c.news for c in config.timeline)
    assert runs["without monitoring"].cameras.operators == 0
    staffing = runs["without staffing"]
    assert not any(c.cameras_only and "police.units" in c.set for c in staffing.timeline)
    assert len([c for c in staffing.timeline if c.news]) == 3  # the news stays
    recording = runs["without recording"].cameras
    assert recording.log_live_detections is False and recording.reporting_uplift == 0
    none = runs[dec.NONE]
    assert none.offenders.trend_per_year == 0 and none.cameras.operators == 0
    assert none.timeline == []


def test_a_scenario_without_a_mechanism_says_so():
    config = load(ROOT / "abm/configs/scenarios/teaching-town.yaml")
    _, present = dec.variants(config)
    assert "trend" not in present and "staffing" not in present
    assert "background trend" in dec.absent(present)


def test_contributions_and_interaction_add_up_to_the_change():
    # Two replicates; recorded crime per period for each variant, 100 days each.
    def rows(variant, before, after):
        return [{"variant": variant, "replicate": r, "period": p, "period_days": 100.0,
                 "recorded": v[r], "true": 2 * v[r]}
                for p, v in (("before", before), ("year 3", after)) for r in (0, 1)]

    counts = pd.DataFrame(rows("scenario", [100, 100], [150, 130])
                          + rows("without trend", [100, 100], [120, 110])
                          + rows("without recording", [100, 100], [140, 125])
                          + rows(dec.NONE, [100, 100], [105, 105]))
    table = dec.table(counts, ["trend", "recording"], "before", "year 3")
    rec = table[table["measure"] == "recorded"].set_index("component")["points"]
    assert rec["total"] == pytest.approx(40.0)  # (50 + 30) / 2
    assert rec["trend"] == pytest.approx(25.0)  # (30 + 20) / 2
    assert rec["recording"] == pytest.approx(7.5)  # (10 + 5) / 2
    assert rec["none"] == pytest.approx(5.0)
    assert rec["interaction"] == pytest.approx(40.0 - 5.0 - 25.0 - 7.5)
    assert set(table["measure"]) == {"recorded", "true"}
