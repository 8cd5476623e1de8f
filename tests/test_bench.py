"""`abm bench`: it runs, reports every figure for tiny workloads, counts honestly, and rejects
bad options in one line. No timing is asserted: the benchmark is the measure, not the tests."""

import json
import math
import sys
from bisect import bisect_right
from collections import Counter

import pandas as pd
import pytest

from abm import bench, catalog
from abm.cameras import CableSegment, Camera
from abm.config import load
from abm.crimes import Crime
from abm.model import SafeCityModel
from abm.offenders import Offender
from abm.patrol import Tour
from abm.police import PoliceUnit
from abm.simulate import finish
from tests.conftest import abm_cli

TINY = ["--days", "1", "--steps", "15", "--set", "city.nodes=150", "--set", "offenders.count=30",
        "--set", "police.units=3", "--set", "cameras.count=10"]


def test_bench_prints_every_figure_for_tiny_workloads(tmp_path):
    out = tmp_path / "bench.json"
    done = abm_cli("bench", "default", "city", "wolfsheep", "floor", *TINY, "--json", str(out))
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "load average before" in text and "load average after" in text
    for name in ("default", "city", "wolfsheep", "floor"):
        assert any(line.startswith(name) for line in text.splitlines()), text
    lines = text.splitlines()
    # Each count on a line of its own, with its own ratio to WolfSheep, for both workloads.
    for label in ("Python-level agent actions", "bulk-computed patrol stops", "agent-events",
                  "executed events"):
        assert sum(line.strip().startswith(label) and "x WolfSheep" in line
                   for line in lines) == 2, (label, text)
    assert "sim days/s" in text and "agent-steps/s" in text and "peak RSS" in text
    assert "with bound-method callbacks" in text
    assert "target:" not in text  # targets are checked only for the shipped workloads
    report = json.loads(out.read_text())
    city = report["median"]["city"]
    assert city["sim_days"] == 1 and city["agent_events"] > 0 and city["rss_peak_mb"] > 0
    assert city["agent_events"] == city["agent_actions"] + city["bulk_stops"]
    assert city["events"] == city["executed_events"] + city["arrivals"] + city["bulk_stops"]
    assert city["agent_actions"] == city["agent_callbacks"] + city["arrivals"]
    assert report["median"]["wolfsheep"]["agent_steps"] > 0
    # WolfSheep runs first and again after each workload; each workload is compared with the
    # mean of the runs just before and just after it.
    sheep = [r["agent_steps_s"] for r in report["runs"]["wolfsheep"]]
    assert len(sheep) == 4
    city_run = report["runs"]["city"][0]
    assert city_run["wolfsheep_around"] == pytest.approx((sheep[1] + sheep[2]) / 2)
    for count in ("agent_actions", "bulk_stops", "agent_events", "executed_events"):
        assert city_run[f"{count}_vs_wolfsheep"] == pytest.approx(
            city_run[count] / city_run["run_cpu_s"] / city_run["wolfsheep_around"])
    floor = report["median"]["floor"]
    assert floor["events"] > 100_000 and floor["partial_events_s"] > 0
    assert report["machine"]["cpus"] >= 1


def test_frame_workload_is_measured():
    done = abm_cli("bench", "frame", "--frames", "2", "--set", "city.nodes=150",
                   "--set", "offenders.count=30")
    assert done.returncode == 0, done.stderr
    assert "ms median" in done.stdout


def test_start_up_is_measured_from_the_interpreter_and_split_by_part(tmp_path):
    out = tmp_path / "bench.json"
    done = abm_cli("bench", "startup", "--json", str(out))
    assert done.returncode == 0, done.stderr
    r = json.loads(out.read_text())["runs"]["startup"][0]
    parts = ("interpreter_cpu_s", "mesa_import_cpu_s", "imports_cpu_s", "first_event_cpu_s")
    assert all(r[part] > 0 for part in parts), r
    # The parts are timed one after another in the same process: they cannot exceed the whole.
    assert sum(r[part] for part in parts) <= r["cpu_s"] + 1e-6
    assert "import mesa" in done.stdout
    target = next(line for line in done.stdout.splitlines() if "start-up within" in line)
    assert ("NOT met" in target) == (r["cpu_s"] > bench.STARTUP_CPU_S), target


def test_the_100k_city_is_the_city_on_ten_times_the_streets():
    assert "city-100k" in abm_cli("bench", "--help").stdout
    big, city = (load(catalog.find(bench.WORKLOADS[name].config)).model_dump()
                 for name in ("city-100k", "city"))
    assert big["city"].pop("nodes") == 100_000 and city["city"].pop("nodes") == 10_000
    assert big["run"].pop("name") == "city-100k"
    city["run"].pop("name")
    assert big == city


def test_the_100k_city_is_held_to_cpu_time_with_its_build():
    figures = {"cpu_s": 59.0, "wall_s": 90.0, "rss_peak_mb": 1500.0}
    lines = bench.targets({"city-100k": figures}, {"city-100k"})
    assert lines == ["city-100k within 60 s CPU, build included: 59.0 s, met",
                     "city-100k peak memory within 2048 MB: 1500 MB, met"]
    assert bench.targets({"city-100k": figures}, set()) == []  # not as shipped: no targets


def assert_scaled(big_name: str, small_name: str, times: int) -> None:
    """A shipped config is another with every count of a city's size ``times`` as large, and
    the same in everything else."""
    big, small = (load(catalog.find(name)).model_dump() for name in (big_name, small_name))
    for section, key in [("city", "nodes"), ("city", "centres"), ("city", "destinations"),
                         ("offenders", "count"), ("police", "units"), ("police", "hotspots"),
                         ("cameras", "count"), ("cameras", "groups"),
                         ("cameras", "operators")]:
        assert big[section].pop(key) == times * small[section].pop(key), key
    assert big["run"].pop("name") == big_name
    small["run"].pop("name")
    assert big == small


def test_islamabad_full_is_the_scenario_with_ten_times_every_count():
    assert "islamabad-full" in abm_cli("bench", "--help").stdout
    # The same timeline, costs, hazards and streets' shape.
    assert_scaled(bench.WORKLOADS["islamabad-full"].config, "islamabad", 10)


def test_a_workload_over_its_cpu_target_says_by_how_much():
    figures = {"cpu_s": 300.0, "wall_s": 310.0, "rss_peak_mb": 2100.0}
    lines = bench.targets({"islamabad-full": figures}, {"islamabad-full"})
    assert lines == ["islamabad-full within 60 s CPU, build included: 300.0 s (5.0x the "
                     "target), NOT met",
                     "islamabad-full peak memory within 2048 MB: 2100 MB, NOT met"]


def test_the_events_target_says_how_much_is_bulk_computed():
    figures = {"agent_events_vs_wolfsheep": 4.0, "agent_actions_vs_wolfsheep": 0.8,
               "agent_events": 1000, "bulk_stops": 800}
    assert bench.targets({"city": figures}, {"city"}) == [
        "city agent-events/s at least 3x WolfSheep: 4.00x, met; but 80% of them are "
        "bulk-computed patrol stops: Python-level agent actions alone 0.80x"]


def test_unwritable_json_exits_2_with_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = abm_cli("bench", "floor", "--json", str(blocker / "bench.json"))
    assert done.returncode == 2
    assert "--json" in done.stderr and "cannot write" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


@pytest.mark.parametrize("argv, fragment", [
    (["bench", "nope"], "invalid choice"),
    (["bench", "--repeats", "0"], "must be at least 1"),
    (["bench", "--repeats", "two"], "expected a whole number"),
    (["bench", "--days", "-3"], "must be above 0"),
    (["bench", "--steps", "0"], "must be at least 1"),
    (["bench", "--set", "cameras.cont=3"], "cameras.cont: unknown key"),
    (["bench", "--set", "offenders.count=many"], "offenders.count"),
    (["bench", "offenders", "--offenders", "0"], "whole numbers above 0"),
    (["bench", "offenders", "--offenders", "1000,x"], "whole numbers above 0"),
    (["bench", "offenders", "--offenders", ",".join(["10"] * 9)], "give 1 to 8"),
    (["bench", "offenders", "--offenders", "99999999"], "offenders.count"),
    (["bench", "sweep", "--sweep", "nope"], "no sweep of that name"),
])
def test_bad_options_exit_2_with_one_line(argv, fragment):
    done = abm_cli(*argv)
    assert done.returncode == 2
    assert fragment in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stdout == ""


def counted_calls(method, calls: Counter, key: str):
    def wrapper(self, *args):
        calls[key] += 1
        return method(self, *args)
    return wrapper


# Every callback the model puts on Mesa's event list or its agenda, and the arrivals Trips
# hands out: (class, method, whether an agent's action).
CALLBACKS = [(Offender, "arrive", True), (Offender, "meet_target", True),
             (Offender, "release", True), (PoliceUnit, "end_tour", True),
             (PoliceUnit, "reach_scene", True), (PoliceUnit, "clear_scene", True),
             (Camera, "fail", True), (Camera, "repair", True), (Camera, "block_view", True),
             (Camera, "clear_view", True), (CableSegment, "cut", False),
             (CableSegment, "restore", False), (Crime, "call", False),
             (Crime, "identify", False), (SafeCityModel, "install_cameras", False)]


def stops_of(tours: list[Tour], called_away: dict[int, float], now: float) -> int:
    """Stops reached and stops left by ``now``, read from every tour as it ended up: a stop
    the unit was called away from was reached but not left."""
    return sum(bisect_right(t.arrive, now) + bisect_right(t.leave, called_away.get(id(t), now))
               for t in tours)


def watch_tours(monkeypatch) -> tuple[list[Tour], dict[int, float]]:
    """Every tour planned, and when each tour a call cut short was cut."""
    tours: list[Tour] = []
    called_away: dict[int, float] = {}
    planned, interrupt = Tour.__init__, PoliceUnit._interrupt

    def plan(tour, *args):
        tours.append(tour)
        planned(tour, *args)

    def cut(unit):
        if unit._tour is not None:
            called_away[id(unit._tour)] = unit.model.time
        interrupt(unit)

    monkeypatch.setattr(Tour, "__init__", plan)
    monkeypatch.setattr(PoliceUnit, "_interrupt", cut)
    return tours, called_away


def test_counting_changes_nothing_and_counts_what_ran(root, monkeypatch):
    config = load(root / "abm/configs/default.yaml", [
        "run.days=8", "city.nodes=300", "offenders.count=150", "police.units=4",
        "cameras.install_day=1", "cameras.mtbf_days=5", "cameras.group_mtbf_days=5",
        "cameras.obstruction_mtbf_days=5"])
    counted = bench.counting_model(config)
    counted.run_days(8)
    calls = Counter()  # the plain model's calls, counted by wrapping the methods themselves
    for cls, name, _ in CALLBACKS:
        monkeypatch.setattr(cls, name, counted_calls(getattr(cls, name), calls,
                                                     f"{cls.__name__}.{name}"))
    tours, called_away = watch_tours(monkeypatch)
    plain = SafeCityModel(config)
    plain.run_days(8)
    a, b = finish(counted, 0.0), finish(plain, 0.0)
    pd.testing.assert_frame_equal(a.crimes, b.crimes)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    ran = bench.events_run(counted)
    counts = {name: n for (name, _), n in ran.items()}
    agent = {name for (name, is_agent), _ in ran.items() if is_agent}
    # Arrivals are handed to offenders many at a time (offenders.Trips), not as events.
    arrivals = calls.pop("Offender.arrive")
    assert counted.trips.arrivals == arrivals > 0
    assert counts == dict(calls), "an event missed, or a callback counted that did not run"
    assert {"PoliceUnit.reach_scene", "Camera.fail", "CableSegment.cut"} <= set(counts)
    assert "Agenda._run" not in counts and "Trips.run" not in counts
    assert counts["Offender.meet_target"] >= sum(o.crimes for o in counted.offenders)
    assert counts["Crime.call"] == sum(not math.isnan(c.report_time_min) for c in counted.crimes)
    assert "Offender.meet_target" in agent and "Crime.call" not in agent
    # The three counts: each what the plain model did, and none counted twice.
    figures = bench.Tally(counted, ran).figures()
    actions = arrivals + sum(calls[f"{c.__name__}.{m}"] for c, m, is_agent in CALLBACKS
                             if is_agent and m != "arrive")
    assert figures["agent_actions"] == actions
    assert figures["executed_events"] == sum(calls.values())
    tour_ends = calls["PoliceUnit.end_tour"]
    stops = stops_of(tours, called_away, plain.time)
    assert figures["bulk_stops"] == stops - tour_ends > 10 * tour_ends
    assert figures["agent_events"] == figures["agent_actions"] + figures["bulk_stops"]
    assert figures["events"] == (figures["executed_events"] + figures["arrivals"]
                                 + figures["bulk_stops"])


def test_wolfsheep_agent_steps_are_the_step_calls_made(monkeypatch):
    from mesa.examples.advanced.wolf_sheep.agents import Animal

    calls = []
    step = Animal.step
    monkeypatch.setattr(Animal, "step", lambda self: (calls.append(1), step(self)))
    result = bench.measure_wolfsheep({"seed": 3, "steps": 25})
    assert result["agent_steps"] == len(calls) > 25 * 100


def test_the_later_half_is_measured_per_day_offender_and_action(root):
    spec = {"config": str(root / "abm/configs/default.yaml"),
            "overrides": ["run.days=6", "city.nodes=300", "offenders.count=150"]}
    r = bench.measure_model(spec)
    assert r["later_days"] == 3
    assert 0 < r["later_day_cpu_s"] * 3 <= r["run_cpu_s"]
    assert r["later_offender_day_us"] == pytest.approx(r["later_day_cpu_s"] / 150 * 1e6)
    # At least a day's arrivals of 150 offenders happened in the later half.
    assert r["later_action_us"] * 150 <= r["later_day_cpu_s"] * 3 * 1e6
    assert "later 3 days" in bench.line("default", {**r, **bench.rates(r), "rss_peak_mb": 1})
    short = bench.measure_model({**spec, "overrides": [*spec["overrides"], "run.days=1"]})
    assert "later_days" not in short  # a single day has no later half to speak of


def test_the_offenders_workload_runs_the_city_once_per_count(tmp_path):
    out = tmp_path / "bench.json"
    done = abm_cli("bench", "offenders", "--offenders", "40,80", "--days", "4",
                   "--set", "city.nodes=300", "--json", str(out))
    assert done.returncode == 0, done.stderr
    runs = json.loads(out.read_text())["runs"]
    assert sorted(runs) == ["offenders-40", "offenders-80"]
    for count in (40, 80):
        r = runs[f"offenders-{count}"][0]
        assert r["offenders"] == count and r["sim_days"] == 4 and r["later_days"] == 2
        assert r["later_offender_day_us"] == pytest.approx(r["later_day_cpu_s"] / count * 1e6)
    assert "target:" not in done.stdout  # other counts than the shipped ones: no target


def args_of(*argv: str):
    import argparse

    parser = argparse.ArgumentParser()
    bench.register(parser.add_subparsers())
    return parser.parse_args(["bench", *argv])


def test_the_shipped_offenders_workload_is_the_city_for_60_days_at_three_sizes():
    plan = bench.specs(args_of("offenders"))
    assert [s["workload"] for s in plan] == ["offenders-1000", "offenders-4000",
                                              "offenders-16000"]
    assert all(s["shipped"] for s in plan)
    assert plan[0]["config"] == str(catalog.find("city-scale"))
    assert plan[1]["overrides"] == ["run.days=60", "offenders.count=4000"]
    assert not any(s["shipped"] for s in bench.specs(args_of("offenders", "--offenders", "9")))
    assert not bench.specs(args_of("offenders", "--days", "5"))[0]["shipped"]


def test_the_cost_per_offender_day_is_held_to_its_spread_over_sizes():
    def size(count: int, us: float, crimes: float) -> dict:
        return {"offenders": count, "later_offender_day_us": us,
                "later_crimes_per_offender_day": crimes}

    summary = {"offenders-4000": size(4000, 115.4, 0.064),
               "offenders-1000": size(1000, 104.8, 0.051),
               "offenders-16000": size(16000, 168.2, 0.146)}
    assert bench.targets(summary, set(summary)) == [
        "cost per offender-day within 1.5x from 1,000 to 16,000 offenders: 104.8, 115.4, "
        "168.2 us, 1.60x, NOT met; crimes per offender-day 0.051, 0.064, 0.146"]
    summary["offenders-16000"]["later_offender_day_us"] = 150.0
    assert "150.0 us, 1.43x, met;" in bench.targets(summary, set(summary))[0]
    assert bench.targets(summary, {"offenders-1000"}) == []  # one size says nothing


def test_the_40k_city_is_the_city_at_the_same_density_four_times_over():
    city, big = bench.WORKLOADS["density"].cities
    assert_scaled(big, city, 4)  # the same hazards, patrol, block size and placement


def test_the_density_workload_runs_each_city_named_by_its_offenders():
    plan = bench.specs(args_of("density"))
    assert [s["workload"] for s in plan] == ["density-1000", "density-4000"]
    assert [s["config"] for s in plan] == [str(catalog.find(c)) for c in ("city-scale",
                                                                         "city-40k")]
    assert all(s["shipped"] and s["overrides"] == ["run.days=60"] for s in plan)
    same = bench.specs(args_of("density", "--set", "offenders.count=50"))
    assert [s["workload"] for s in same] == ["density-50", "density-50-city-40k"]
    assert not any(s["shipped"] for s in same)


def test_the_cost_per_offender_day_at_fixed_density_has_its_own_target():
    def size(count: int, us: float) -> dict:
        return {"offenders": count, "later_offender_day_us": us,
                "later_crimes_per_offender_day": 0.05}

    summary = {"density-1000": size(1000, 62.6), "density-4000": size(4000, 96.3),
               "offenders-1000": size(1000, 62.6)}
    assert bench.targets(summary, set(summary)) == [
        "cost per offender-day within 1.5x at fixed density from 1,000 to 4,000 offenders: "
        "62.6, 96.3 us, 1.54x, NOT met; crimes per offender-day 0.050, 0.050"]


def test_the_sweep_workload_times_a_sweep_on_one_worker_and_on_two(tmp_path):
    out = tmp_path / "bench.json"
    done = abm_cli("bench", "sweep", "--sweep", "smoke", "--json", str(out))
    assert done.returncode == 0, done.stderr
    r = json.loads(out.read_text())["runs"]["sweep"][0]
    assert r["first_workers"] == 1 and r["identical"] == 1
    assert r["cpu_ratio"] == pytest.approx(r["cpu_2_s"] / r["cpu_1_s"])
    assert r["speedup"] == pytest.approx(r["wall_1_s"] / r["wall_2_s"])
    assert r["side_by_side_ratio"] == pytest.approx(r["side_by_side_cpu_s"] / 2 / r["cpu_1_s"])
    assert min(r["cpu_1_s"], r["cpu_2_s"], r["side_by_side_cpu_s"]) > 0
    assert "side by side" in done.stdout
    assert "results.parquet the same" in done.stdout
    assert "target:" not in done.stdout  # another sweep than the shipped one: no target


BURN = """
import subprocess, sys, time
if sys.argv[1:] == ["grandchild"]:
    while time.process_time() < 0.3:  # burn 0.3 s of CPU
        pass
else:  # start the grandchild and wait for it, as a sweep's fork server waits for its workers
    subprocess.run([sys.executable, __file__, "grandchild"], check=True)
"""


def test_side_by_side_counts_every_process_and_the_processes_they_wait_for(tmp_path):
    """The sweep workload's CPU is its processes' and their workers': each command here
    burns its CPU in a grandchild that its child waits for."""
    script = tmp_path / "burn.py"
    script.write_text(BURN)
    command = [sys.executable, str(script)]
    cpu, wall = bench.side_by_side([command, command])
    assert cpu >= 0.6  # both grandchildren's 0.3 s, never less
    assert wall > 0
    with pytest.raises(RuntimeError, match="exit status 3"):
        bench.side_by_side([[sys.executable, "-c", "import sys; sys.exit(3)"]])


def test_the_sweep_is_held_to_its_cpu_on_two_workers_and_its_speed_up():
    figures = {"cpu_ratio": 1.15, "speedup": 1.46, "identical": 1, "side_by_side_ratio": 1.12}
    assert bench.targets({"sweep": figures}, {"sweep"}) == [
        "a sweep on 2 workers within 1.1x the CPU of 1 worker: 1.15x, NOT met (two 1-worker "
        "sweeps side by side take 1.12x here); 2 workers at least 1.8x as fast: 1.46x, NOT met"]
    figures.update(cpu_ratio=1.05, speedup=1.85, identical=0)
    assert bench.targets({"sweep": figures}, {"sweep"}) == [
        "a sweep on 2 workers within 1.1x the CPU of 1 worker: 1.05x, met (two 1-worker "
        "sweeps side by side take 1.12x here); 2 workers at least 1.8x as fast: 1.85x, met; "
        "but results.parquet DIFFERS between them"]
    runs = {"sweep": [{**figures, "identical": 1}, {**figures, "identical": 0},
                      {**figures, "identical": 1}]}
    assert bench.summarise(runs)["sweep"]["identical"] == 0  # the same only if every time
