"""`abm predict`: the predictive check on Mesa's real crimes runs, scores and reports."""

import json

import pandas as pd

from tests.conftest import abm_cli


def test_predictive_check_scores_model_and_baselines(tmp_path):
    out = tmp_path / "pred"
    done = abm_cli("predict", "--splits", "2", "--replicates", "1", "--days", "20",
                   "--workers", "1", "--out", str(out))
    assert done.returncode == 0, done.stderr
    splits = pd.read_csv(out / "splits.csv")
    assert list(dict.fromkeys(splits["predictor"])) == ["model", "kde", "training counts",
                                                        "degree"]
    assert len(splits) == 8 and splits["spearman"].between(-1, 1).all()
    assert (splits["pai_5pct"] >= 0).all() and (splits["model_crimes"] > 0).all()
    # A real property of the data: one half of the crimes predicts the other better than
    # the street layout alone does.
    by = splits.groupby("predictor")["spearman"].mean()
    assert by["training counts"] > by["degree"] + 0.1
    points = pd.read_csv(out / "points" / "split-00-train.csv")
    assert len(points) == 143 and list(points.columns) == ["x", "y"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert "PySAL" in manifest["data"] and manifest["kind"] == "predictive-check"
    assert "PAI, top 5%" in (out / "report.md").read_text()


def test_predictive_check_rejects_bad_arguments(tmp_path):
    done = abm_cli("predict", "--splits", "0", "--out", str(tmp_path / "x"))
    assert done.returncode == 2 and "--splits 0" in done.stderr
    done = abm_cli("predict", "--set", "cameras.nope=1", "--out", str(tmp_path / "x"))
    assert done.returncode == 2 and "cameras.nope" in done.stderr
