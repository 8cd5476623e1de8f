"""`abm sweep` end to end: the folder, determinism, failures, and resuming after SIGKILL."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml

from abm.experiment.sweepfile import load_sweep
from tests.conftest import ROOT, SMOKE, abm_cli, smoke_sweep, sweep_results

SUMMARY_KEYS = ["crimes_total", "crimes_recorded", "arrests", "clearance_rate",
                "response_time_median_min", "camera_uptime", "camera_coverage",
                "cost_total_usd"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The smoke sweep, uninterrupted, on two worker processes."""
    out = tmp_path_factory.mktemp("reference") / "smoke"
    smoke_sweep(out, "--workers", "2")
    return out


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    """The smoke sweep with runs of 60 days (about 0.16 s each, against 0.05 s), so that work
    is still left when the first results come (with the smoke sweep's runs the workers can
    be done with all of them by then); and its uninterrupted results."""
    folder = tmp_path_factory.mktemp("slow")
    sweep = yaml.safe_load(SMOKE.read_text())
    sweep["base"] = str(SMOKE.parent / sweep["base"])
    sweep["set"]["run.days"] = 60
    path = folder / "slow.yaml"
    path.write_text(yaml.safe_dump(sweep))
    smoke_sweep(folder / "reference", "--workers", "2", sweep=path)
    return path, folder / "reference"


def test_sweep_folder_has_every_run_and_summary_figure(reference):
    sweep = load_sweep(SMOKE)
    assert sorted(p.name for p in reference.iterdir() if not p.name.startswith(".")) == [
        "base.yaml", "design.parquet", "manifest.json", "results.parquet", "runs", "sweep.yaml"]
    assert (reference / "sweep.yaml").read_text() == SMOKE.read_text()
    files = sorted(p.name for p in (reference / "runs").iterdir())
    assert files == sorted(f"{run.id}.json" for run in sweep.runs)
    frame = sweep_results(reference)
    assert len(frame) == len(sweep.runs) == 12
    assert list(frame.columns[:5]) == ["run", "point", "label", "cameras.count",
                                       "cameras.mttr_days"]
    assert set(frame.columns) >= {"replicate", "seed", "status", "error", *SUMMARY_KEYS}
    assert (frame["status"] == "ok").all()
    assert sorted(set(frame["seed"])) == sorted(sweep.seeds)
    for _, group in frame.groupby("point"):
        assert list(group["seed"]) == sweep.seeds  # the same seeds at every point
    # Every figure of summary.json is a column.
    record = json.loads((reference / "runs/p0002-r001.json").read_text())
    assert set(record["summary"]) <= set(frame.columns)
    assert record["parameters"] == {"cameras.count": 10, "cameras.mttr_days": 2.0}
    assert record["status"] == "ok" and record["error"] is None
    row = frame.set_index("run").loc["p0002-r001"]
    for key, value in record["summary"].items():
        assert row[key] == value or (value is None and pd.isna(row[key]))
    manifest = json.loads((reference / "manifest.json").read_text())
    assert manifest["kind"] == "sweep" and manifest["seed"] == 2026
    assert manifest["replicate_seeds"] == sweep.seeds
    assert manifest["runs"] == 12 and manifest["runs_ok"] == 12 and manifest["runs_failed"] == 0
    assert {"package_version", "git_commit", "packages", "python", "wall_time_s"} <= set(manifest)


def test_a_sweep_run_equals_abm_run_with_its_settings(reference, tmp_path):
    """A recorded run is reproduced by `abm run` with the same settings and seeds."""
    record = json.loads((reference / "runs/p0002-r001.json").read_text())
    smoke = yaml.safe_load(SMOKE.read_text())
    sets = {**smoke["set"], **record["parameters"], "run.seed": record["seed"],
            "city.seed": 42}
    args = [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]
    done = abm_cli("run", str(ROOT / "abm/configs/default.yaml"), "--out", str(tmp_path / "one"),
                   "--quiet", *args)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "one/summary.json").read_text()) == record["summary"]


def test_worker_count_and_reruns_do_not_change_results(reference, tmp_path):
    out = tmp_path / "serial"
    smoke_sweep(out, "--workers", "1")
    pd.testing.assert_frame_equal(sweep_results(out), sweep_results(reference))
    before = {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()}
    again = smoke_sweep(out, "--resume")
    assert "12 done, 0 to run" in again.stdout
    assert {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()} == before
    pd.testing.assert_frame_equal(sweep_results(out), sweep_results(reference))


def _as_foreground_job() -> None:
    """Ctrl-C as a terminal's foreground job has it: a test suite started as a background job
    passes SIGINT on ignored, and the sweep would then, rightly, not hear it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(out, workers: int = 2, piped: bool = False, sweep=SMOKE) -> subprocess.Popen:
    """A sweep (the smoke sweep unless said) in the background, in a process group of its
    own."""
    output = subprocess.PIPE if piped else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "abm", "sweep", str(sweep), "--out", str(out), "--workers",
         str(workers)], cwd=ROOT, stdout=output, stderr=output, text=True,
        start_new_session=True, preexec_fn=_as_foreground_job)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("workers, after", [(2, 0), (2, 1), (1, 6), (2, 12)])
def test_sigkill_at_any_moment_then_resume_gives_identical_results(reference, tmp_path,
                                                                   workers, after):
    """Kill the sweep once ``after`` result files exist (0: once the folder is claimed)."""
    out = tmp_path / "killed"
    proc = _start(out, workers)
    try:
        while True:
            files = list((out / "runs").glob("p*.json")) if (out / "runs").exists() else []
            if (out / "manifest.json").exists() and len(files) >= after:
                break
            assert proc.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        # Worker processes notice the sweep died and end on their own.
        deadline = time.monotonic() + 30
        while _group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _group_alive(proc.pid), "worker processes outlived the killed sweep"
    finally:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
    kept = {p.name for p in (out / "runs").glob("p*.json")}
    assert len(kept) >= after
    if 0 < len(kept) < 12:  # a stopped sweep can be looked at already
        assert abm_cli("report", str(out), "--quiet").returncode == 0
    done = smoke_sweep(out, "--resume", "--workers", "1")
    assert f"{len(kept)} done, {12 - len(kept)} to run" in done.stdout
    pd.testing.assert_frame_equal(sweep_results(out), sweep_results(reference))
    names = sorted(p.name for p in (out / "runs").iterdir())
    assert names == sorted(p.name for p in (reference / "runs").iterdir())  # no leftovers
    assert not list(out.glob(".*.tmp"))


def _wait_for_files(proc, out, count: int) -> None:
    while not (out / "runs").exists() or len(list((out / "runs").glob("p*.json"))) < count:
        assert proc.poll() is None, "the sweep ended too early"
        time.sleep(0.005)


def _wait_group_gone(pgid: int) -> None:
    deadline = time.monotonic() + 30
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _group_alive(pgid):
        os.killpg(pgid, signal.SIGKILL)
        pytest.fail("processes outlived the sweep")


def test_ctrl_c_stops_with_130_and_the_sweep_resumes(reference, tmp_path):
    out = tmp_path / "interrupted"
    proc = _start(out, piped=True)
    _wait_for_files(proc, out, 2)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends to the foreground group
    _, err = proc.communicate(timeout=60)
    _wait_group_gone(proc.pid)
    assert proc.returncode == 130
    assert err.strip() == "abm: interrupted"
    smoke_sweep(out, "--workers", "1")
    pd.testing.assert_frame_equal(sweep_results(out), sweep_results(reference))


def _workers_of(pid: int) -> list[int]:
    """Worker processes are forked by the command's fork server, not by the command."""
    import psutil

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        servers = [p for p in psutil.Process(pid).children()
                   if "forkserver" in " ".join(p.cmdline())]
        workers = [w.pid for server in servers for w in server.children()]
        if workers:
            return workers
        time.sleep(0.1)
    return []


def test_a_dead_worker_stops_the_sweep_with_one_line(slow, tmp_path):
    sweep, reference = slow
    out = tmp_path / "lost"
    proc = _start(out, piped=True, sweep=sweep)
    try:
        _wait_for_files(proc, out, 1)
        workers = _workers_of(proc.pid)
        assert workers
        os.kill(workers[0], signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
    finally:
        _wait_group_gone(proc.pid)
    assert proc.returncode == 1
    assert err.strip().startswith("abm: error: a worker process died")
    assert len(err.strip().splitlines()) == 1
    smoke_sweep(out, "--workers", "1", sweep=sweep)
    pd.testing.assert_frame_equal(sweep_results(out), sweep_results(reference))


# Runs `abm sweep` in a process that notes what it has imported when the fork server starts.
STARTS_FIRST = """
import sys
from multiprocessing import forkserver
from abm.cli import main
start = forkserver.ensure_running
def noted():
    if not getattr(noted, "done", False):
        noted.done = True
        print("libraries at server start:", sorted(m for m in ("pandas", "pyarrow", "mesa")
                                                   if m in sys.modules), flush=True)
    start()
forkserver.ensure_running = noted
sys.exit(main(sys.argv[1:]))
"""


def test_workers_start_before_the_parent_imports_its_table_libraries(reference, tmp_path):
    """The fork server imports the model on another core while the sweep's own process
    still imports pandas and writes the folder: it starts before those imports."""
    out = tmp_path / "s"
    done = subprocess.run([sys.executable, "-c", STARTS_FIRST, "sweep", str(SMOKE), "--out",
                           str(out), "--workers", "2"], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "libraries at server start: []" in done.stdout, done.stdout
    pd.testing.assert_frame_equal(sweep_results(out), sweep_results(reference))


def test_workers_are_started_ahead_only_for_runs_they_will_take(monkeypatch):
    """One worker, or a single run, runs in the sweep's own process: no server for them."""
    from multiprocessing import forkserver, resource_tracker

    from abm.experiment.backends import LocalBackend

    started = []
    monkeypatch.setattr(forkserver, "ensure_running", lambda: started.append("server"))
    monkeypatch.setattr(resource_tracker, "ensure_running", lambda: None)
    for workers, runs in ((1, 10), (4, 1), (2, 0)):
        LocalBackend(workers).prepare(runs)
    assert started == []
    LocalBackend(2).prepare(2)
    assert started == ["server"]


def test_failed_runs_are_recorded_and_the_sweep_goes_on(tmp_path):
    (tmp_path / "broken.graphml").write_text("<graphml><node")
    sweep = tmp_path / "failing.yaml"
    sweep.write_text(yaml.safe_dump({
        "base": str(ROOT / "abm/configs/default.yaml"), "seed": 1, "replicates": 2,
        "set": {"run.days": 2, "city.nodes": 100, "offenders.count": 20},
        "design": {"kind": "list", "points": [
            {"label": "fine"}, {"label": "broken", "set": {"city.file": "broken.graphml"}},
            {"label": "no-cameras", "set": {"cameras.count": 0}}]}}))
    out = tmp_path / "out"
    done = abm_cli("sweep", str(sweep), "--out", str(out), "--workers", "2")
    assert done.returncode == 1, done.stderr
    assert "p0001-r000 failed: ConfigError" in done.stderr
    assert "Traceback" not in done.stderr
    frame = sweep_results(out)
    assert len(frame) == 6
    failed = frame[frame["status"] == "failed"]
    assert list(failed["label"]) == ["broken", "broken"]
    assert failed["error"].str.contains("not a readable GraphML").all()
    assert failed["crimes_total"].isna().all()
    assert (frame[frame["label"] != "broken"]["status"] == "ok").all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["runs_ok"], manifest["runs_failed"]) == (4, 2)
    # Failures count as finished; --retry-failed runs them again.
    again = abm_cli("sweep", str(sweep), "--out", str(out))
    assert again.returncode == 1 and "6 done, 0 to run" in again.stdout
    retry = abm_cli("sweep", str(sweep), "--out", str(out), "--retry-failed")
    assert retry.returncode == 1 and "4 done, 2 to run" in retry.stdout
    pd.testing.assert_frame_equal(sweep_results(out), frame)


def test_more_replicates_reuse_finished_runs_but_another_sweep_is_refused(tmp_path):
    small = tmp_path / "small.yaml"
    body = yaml.safe_load(SMOKE.read_text())
    body.update(base=str(ROOT / "abm/configs/default.yaml"), replicates=1)
    small.write_text(yaml.safe_dump(body))
    out = tmp_path / "out"
    assert abm_cli("sweep", str(small), "--out", str(out), "--workers", "1").returncode == 0
    first = out / "runs/p0000-r000.json"
    record = json.loads(first.read_text())
    assert record["code"].startswith("0.")  # package version (+ git commit)
    first.write_text(json.dumps({**record, "code": "0.0.1+old"}))
    body["replicates"] = 2
    small.write_text(yaml.safe_dump(body))
    more = abm_cli("sweep", str(small), "--out", str(out), "--workers", "1")
    assert more.returncode == 0, more.stderr
    assert "8 runs (4 done, 4 to run)" in more.stdout
    assert "warning: finished runs" in more.stderr and "0.0.1+old" in more.stderr
    body["set"]["run.days"] = 4
    small.write_text(yaml.safe_dump(body))
    other = abm_cli("sweep", str(small), "--out", str(out))
    assert other.returncode == 2
    assert "holds results of another sweep" in other.stderr
    assert len(other.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args, fragment", [
    (["--out", "{tmp}/none", "--resume"], "holds no sweep to resume"),
    (["--out", "{tmp}/full"], "not empty and not a sweep folder"),
    (["--workers", "0"], "--workers: must be at least 1"),
    (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --backend dask"),
    (["--backend", "slurm"], "invalid choice"),
])
def test_bad_sweep_command_lines_exit_2(tmp_path, args, fragment):
    (tmp_path / "full").mkdir()
    (tmp_path / "full/notes.txt").write_text("mine")
    argv = [a.format(tmp=tmp_path) for a in args]
    done = abm_cli("sweep", str(SMOKE), *argv)
    assert done.returncode == 2
    assert fragment in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "none").exists()
    assert (tmp_path / "full/notes.txt").read_text() == "mine"


def test_bad_sweep_file_exits_2_before_any_run(tmp_path):
    sweep = tmp_path / "bad.yaml"
    sweep.write_text(f"base: {ROOT / 'abm/configs/default.yaml'}\nseed: 1\ndesign:\n"
                     "  kind: grid\n  parameters:\n    cameras.count: [0, 10]\n"
                     "    police.dispatch_delay_min: [2, -3]\n")
    done = abm_cli("sweep", str(sweep), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert done.stderr.startswith(f"abm: error: {sweep}: point ")
    assert "police.dispatch_delay_min" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_sweep_killed_before_its_manifest_can_start_again(tmp_path):
    """What a sweep leaves when killed right after claiming its folder is not in the way."""
    out = tmp_path / "early"
    (out / "runs").mkdir(parents=True)
    (out / ".lock").write_text("")
    (out / ".manifest.json.x1.tmp").write_text("{")
    done = smoke_sweep(out, "--workers", "1", "--resume")
    assert "12 runs (0 done, 12 to run)" in done.stdout
    assert not list(out.glob(".*.tmp"))


def test_run_all_hands_back_outcomes_in_the_tasks_order_and_stops_on_bad_input():
    from abm.config import Config, ConfigError
    from abm.experiment.backends import LocalBackend, Task
    from abm.experiment.runner import run_all
    from abm.measures import Crimes

    town = Config().changed({"run.days": 2, "city.nodes": 100, "offenders.count": 20,
                             "police.units": 1, "cameras.count": 3})
    tasks = [Task(f"seed {s}", town.changed({"run.seed": s}).model_dump(mode="json"),
                  (Crimes(0, 2),)) for s in (1, 2, 3)]
    inline = run_all(tasks, LocalBackend(1))
    pooled = run_all(tasks, LocalBackend(2))
    assert [o["summary"] for o in pooled] == [o["summary"] for o in inline]
    assert [o["measures"]["crimes_days:0-2"] for o in pooled] == [
        o["summary"]["crimes_total"] for o in pooled]
    bad = Task("bad", town.changed({"cameras.placement": "list", "cameras.nodes": [99_999]}
                                   ).model_dump(mode="json"))
    with pytest.raises(ConfigError, match="cameras.nodes: 99999"):
        run_all([*tasks, bad], LocalBackend(2))
