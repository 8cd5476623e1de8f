"""`abm run` end to end: files, columns, determinism across processes, and bad input."""

import json

import pandas as pd
import pytest
import yaml

from tests.conftest import abm_cli

SMALL = ["--set", "run.days=5", "--set", "city.nodes=300", "--set", "offenders.count=60"]
CRIME_COLUMNS = {"time_min", "node", "kind", "offender", "under_working_camera", "reported",
                 "response_time_min", "arrested"}
METRIC_COLUMNS = {"crimes_true", "crimes_recorded", "arrests", "busy_units_mean",
                  "cameras_up_mean", "perceived_camera_risk_mean"}
SUMMARY_KEYS = {"crimes_total", "crimes_reported", "arrests", "clearance_rate",
                "response_time_median_min", "camera_uptime", "camera_coverage",
                "crimes_under_working_camera", "sim_days"}


def test_run_writes_a_complete_folder(tmp_path, root):
    out = tmp_path / "out"
    done = abm_cli("run", str(root / "configs/default.yaml"), "--out", str(out), *SMALL)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "cameras.parquet", "config.yaml", "crimes.parquet", "manifest.json", "metrics.parquet",
        "summary.json"]
    crimes = pd.read_parquet(out / "crimes.parquet")
    assert set(crimes.columns) >= CRIME_COLUMNS
    assert crimes["response_time_min"].dtype == "float64"
    metrics = pd.read_parquet(out / "metrics.parquet")
    assert set(metrics.columns) >= METRIC_COLUMNS
    assert len(metrics) == 5
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) >= SUMMARY_KEYS
    assert summary["sim_days"] == 5
    assert summary["crimes_total"] == len(crimes)
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["run"]["seed"] == 42 and config["run"]["days"] == 5
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"package_version", "config_hash", "seed", "python", "packages", "wall_time_s",
            "git_commit"} <= set(manifest)
    assert manifest["packages"]["mesa"] == "3.5.1"
    # The resolved config reproduces the run exactly.
    again = tmp_path / "again"
    done = abm_cli("run", str(out / "config.yaml"), "--out", str(again))
    assert done.returncode == 0, done.stderr
    pd.testing.assert_frame_equal(crimes, pd.read_parquet(again / "crimes.parquet"))


def test_two_processes_give_identical_outputs(tmp_path, root):
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        done = abm_cli("run", str(root / "configs/default.yaml"), "--out", str(out), *SMALL,
                       "--set", "run.seed=11")
        assert done.returncode == 0, done.stderr
        outs.append(out)
    for table in ("crimes.parquet", "metrics.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(outs[0] / table),
                                      pd.read_parquet(outs[1] / table))
    assert (outs[0] / "summary.json").read_text() == (outs[1] / "summary.json").read_text()


def test_default_out_dir_is_named_by_config_and_hash(tmp_path, root):
    (tmp_path / "runs").mkdir()
    done = abm_cli("run", str(root / "configs/default.yaml"), *SMALL, "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    [folder] = list((tmp_path / "runs").iterdir())
    assert folder.name.startswith("default-") and len(folder.name) == len("default-") + 8


BAD_INPUTS = [
    (["run", "nope.yaml"], "nope.yaml: no such file"),
    (["run", "{cfg}", "--set", "cameras.cont=3"], "cameras.cont: unknown key"),
    (["run", "{cfg}", "--set", "cameras.count=-4"], "cameras.count"),
    (["run", "{cfg}", "--set", "offenders.count=many"], "offenders.count"),
    (["run", "{cfg}", "--set", "cameras.mtbf_days"], "expected section.key=value"),
    (["run", "{bad_yaml}"], "malformed YAML"),
    (["run", "{unknown}"], "police.horses: unknown key"),
    (["run", "{out_of_range}"], "offenders.initial_camera_risk"),
    (["run", "{bad_graph}"], "not a readable GraphML"),
    (["run", "{missing_graph}"], "no such graph file"),
    (["run"], "arguments are required"),
    (["fly"], "invalid choice"),
]


@pytest.mark.parametrize("argv, fragment", BAD_INPUTS)
def test_bad_input_exits_2_with_one_line(tmp_path, root, argv, fragment):
    files = {
        "cfg": root / "configs/default.yaml",
        "bad_yaml": tmp_path / "bad.yaml",
        "unknown": tmp_path / "unknown.yaml",
        "out_of_range": tmp_path / "range.yaml",
        "bad_graph": tmp_path / "graph.yaml",
        "missing_graph": tmp_path / "nograph.yaml",
    }
    files["bad_yaml"].write_text("cameras:\n  count: [3\n")
    files["unknown"].write_text("police:\n  horses: 4\n")
    files["out_of_range"].write_text("offenders:\n  initial_camera_risk: 1.5\n")
    (tmp_path / "broken.graphml").write_text("<graphml><node")
    files["bad_graph"].write_text("city:\n  graph_file: broken.graphml\n")
    files["missing_graph"].write_text("city:\n  graph_file: absent.graphml\n")
    out = tmp_path / "out"
    argv = [a.format(**files) for a in argv]
    if argv and argv[0] == "run" and len(argv) > 1:
        argv += ["--out", str(out)]
    done = abm_cli(*argv)
    assert done.returncode == 2
    assert fragment in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists() or not any(out.iterdir())
