"""`abm bench`: how fast the model runs here, measured against Mesa's own WolfSheep example.

Every workload runs in a fresh process, so its peak memory (ru_maxrss) is its own. The same run
measures Mesa's bundled WolfSheep example, so each figure also stands as a ratio to this
machine's speed, which survives a busy or slow machine better than seconds do.

What is counted (docs/performance.md), in three figures that must not be read as one:
- *Python-level agent actions*: what an agent does that runs as Python of its own, like a
  WolfSheep animal's ``step()``: each callback of an agent that ran (a patrol tour's end, an
  offender meeting a target or coming out of jail, a unit reaching or clearing a scene, a
  camera failing or being repaired) and each offender's arrival at the end of a leg, which
  ``offenders.Trips`` hands out many at a time, one ``Offender.arrive`` call each.
- *bulk-computed patrol stops*: each stop a unit reached and each it left, other than the
  leaving that ends a tour. A tour's stops are planned with a few array operations when the
  tour starts; no Python runs per stop.
- *executed events*: every callback the event list and the agenda ran for the model, agents'
  and others' (calls reaching dispatch, footage identifications, cable cuts, the install).
  Daily bookkeeping, the agenda's alarm and the goes handing out arrivals are not counted.
*Agent-events*, the figure earlier benches reported, are the actions and the stops together.
A WolfSheep *agent-step* is one animal's ``step()``, a Python-level action: agents stepped per
step, summed. Each count has its own ratio to WolfSheep's agent-steps/s.

Counting lives in subclasses of the model and its agenda that exist only here, so the model
pays nothing for it outside the benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from abm.config import ConfigError
from abm.units import MINUTES_PER_DAY


@dataclass(frozen=True)
class Workload:
    name: str
    kind: str  # a key of MEASURES
    description: str
    config: str | None = None
    # A model workload with offender counts runs once per count, each its own workload
    # (``offenders-1000``), for ``days`` simulated days.
    offenders: tuple[int, ...] = ()
    days: float | None = None
    # A model workload over several cities runs each as a workload of its own, named by its
    # offenders (``density-4000``), for ``days`` simulated days.
    cities: tuple[str, ...] = ()


WORKLOADS = {w.name: w for w in (
    Workload("default", "model", "teaching town (the default scenario), 30 days", "default"),
    Workload("city", "model", "city scale: ~10,000 nodes, 1,950 failing cameras, "
             "1,000 offenders, 100 units, 365 days", "city-scale"),
    Workload("city-100k", "model", "the city on ~100,000 nodes: 1,950 failing cameras, "
             "1,000 offenders, 100 units, 365 days", "city-100k"),
    Workload("islamabad-full", "model", "Islamabad at 1:1: ~20,000 nodes, 2,500 offenders, "
             "120 units, 1,950 cameras going live after a year and never repaired, five years",
             "islamabad-full"),
    Workload("offenders", "model", "cost per offender-day: the city workload for 60 days at "
             "1,000, 4,000 and 16,000 offenders, each in a fresh process", "city-scale",
             offenders=(1000, 4000, 16000), days=60),
    Workload("density", "model", "cost per offender-day at fixed density: the city workload "
             "for 60 days, and the same with four times the offenders in a city four times "
             "as large in every count (city-40k), each in a fresh process",
             cities=("city-scale", "city-40k"), days=60),
    Workload("sweep", "sweep", "a sweep of 24 runs of the teaching town over 120 days "
             "(speedup-long) on 1 worker and on 2, one after the other, then two 1-worker "
             "sweeps side by side, each in a fresh process", "speedup-long"),
    Workload("frame", "frame", "app frame: one step and redraw of the teaching town",
             "default"),
    Workload("startup", "startup", "`abm run` of the teaching town in a fresh process, from "
             "the interpreter's start to the first simulated minute run", "default"),
    Workload("wolfsheep", "wolfsheep", "Mesa's WolfSheep example on NetLogo's 51x51 world"),
    Workload("floor", "floor", "Mesa's event list alone, callbacks that only reschedule "
             "themselves: the most events/s any Mesa model gets here"),
)}
# Callbacks pending at once in the floor workload (the city keeps about 1,100 besides cameras).
FLOOR_PENDING = 1100
FLOOR_ROUNDS = 100

# Targets on one core of a 2-core machine (docs/performance.md).
CITY_WALL_S = 60.0
CITY_RSS_MB = 2048.0
# Workloads held to CPU seconds on one core, build included, and to CITY_RSS_MB.
CPU_WITH_BUILD_S = {"city-100k": 60.0, "islamabad-full": 60.0}
EVENTS_VS_WOLFSHEEP = 3.0
FRAME_MS = 100.0
STARTUP_CPU_S = 1.0  # `abm run`, imports to first event
OFFENDER_DAY_SPREAD = 1.5  # cost per offender-day, the dearest size over the cheapest
SWEEP_CPU_RATIO = 1.1  # a sweep's CPU on 2 workers over its CPU on 1
SWEEP_SPEEDUP = 1.8  # its wall time on 1 worker over its wall time on 2
MAX_OFFENDER_SIZES = 8  # `--offenders`: each size is a run of its own

# NetLogo's original WolfSheep world is 51x51; on Mesa's 20x20 default both species die out
# within about 50 steps, after which the example steps nothing and its rate means little.
WOLFSHEEP_SIDE = 51


# --- measuring (runs in the child process) ------------------------------------------------------


def peak_rss_mb(children: bool = False) -> float:
    """Peak memory of this process, or of the largest of its children waited for."""
    import resource

    rss = resource.getrusage(resource.RUSAGE_CHILDREN if children else
                             resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10  # bytes on macOS, KiB else


class _Counted:
    """Stands in for an event's weak reference and counts the event when it runs."""

    __slots__ = ("counts", "key", "ref")

    def __init__(self, ref, counts: Counter, key: tuple[str, bool]) -> None:
        self.ref, self.counts, self.key = ref, counts, key

    def __call__(self):
        fn = self.ref()
        if fn is not None:
            self.counts[self.key] += 1
        return fn


# The agenda's alarm is how entries are run, not an event of the model's own.
ALARM = "Agenda._run"
# Nor is the entry that hands offenders' arrivals to them, many at a time (offenders.Trips).
ARRIVALS = "Trips.run"
TOUR_END = "PoliceUnit.end_tour"


def counting_model(config):
    """A SafeCityModel that counts the one-off events and agenda entries it runs, by method."""
    import mesa

    from abm.agenda import Agenda
    from abm.model import SafeCityModel

    counts: Counter = Counter()
    keys: dict = {}

    def key_of(function) -> tuple[str, bool]:
        func = getattr(function, "__func__", function)
        key = keys.get(func)
        if key is None:
            owner = getattr(function, "__self__", None)
            key = keys[func] = (func.__qualname__, isinstance(owner, mesa.Agent))
        return key

    class CountingAgenda(Agenda):
        """Counts by method the entries scheduled, less those cancelled (and, at the end,
        those still ahead): a dictionary update each, cheaper than wrapping callbacks."""

        def __init__(self, model) -> None:
            super().__init__(model)
            self.by_method: Counter = Counter()

        def at(self, time, callback):
            self.by_method[callback.__func__] += 1
            return super().at(time, callback)

        def cancel(self, entry):
            if entry[2] is not None:
                self.by_method[entry[2].__func__] -= 1
            super().cancel(entry)

        def ran(self) -> Counter:
            """Entries run so far, keyed like the Mesa events (every entry is an agent's)."""
            ahead = Counter(e[2].__func__ for e in self._heap if e[2] is not None)
            ran = {(func.__qualname__, True): n - ahead[func] for func, n in self.by_method.items()}
            return Counter({key: n for key, n in ran.items() if n})  # none run: not a key

    class CountingModel(SafeCityModel):
        event_counts = counts
        agenda_type = CountingAgenda

        def schedule_event(self, function, **kwargs):
            event = super().schedule_event(function, **kwargs)
            event.fn = _Counted(event.fn, counts, key_of(function))
            return event

    return CountingModel(config)


def events_run(model) -> dict[tuple[str, bool], int]:
    """What a counting model ran, by (method, whether an agent's): Mesa's events (not the
    agenda's alarm, which only runs entries) and the agenda's entries."""
    counts = {key: n for key, n in model.event_counts.items() if key[0] != ALARM}
    counts.update({key: n for key, n in model.agenda.ran().items() if key[0] != ARRIVALS})
    return counts


class Tally:
    """The three counts of a run, which differ in what a count costs (module docstring).

    Patrol stops need no event of their own: a unit plans a tour of them at once and only the
    tour's end is an event (police.PoliceUnit.patrol). The tour's end is the leaving of its
    last stop, so it is an action and not also a bulk-computed stop.
    """

    def __init__(self, model, counts: dict[tuple[str, bool], int]) -> None:
        now = model.time
        units = [*model.units, *model.leaving]
        self.reached = sum(unit.reached(now) for unit in units)
        self.left = sum(unit.left(now) for unit in units)
        self.arrivals = model.trips.arrivals
        self.tour_ends = counts.get((TOUR_END, True), 0)
        self.callbacks = sum(n for (_, agent), n in counts.items() if agent)
        self.executed = sum(counts.values())

    @property
    def actions(self) -> int:
        return self.callbacks + self.arrivals

    @property
    def bulk_stops(self) -> int:
        return self.reached + self.left - self.tour_ends

    def figures(self) -> dict[str, int]:
        return {
            "executed_events": self.executed,
            "agent_actions": self.actions,
            "bulk_stops": self.bulk_stops,
            "agent_events": self.actions + self.bulk_stops,
            "events": self.executed + self.arrivals + self.bulk_stops,
            "agent_callbacks": self.callbacks,
            "arrivals": self.arrivals,
            "tour_ends": self.tour_ends,
        }


def breakdown(tally: Tally, counts: dict[tuple[str, bool], int]) -> dict[str, int]:
    """Executed events by method, and the actions and stops that are no event, largest first."""
    parts = {"patrol stops (bulk-computed)": tally.bulk_stops,
             "offenders' arrivals (no event)": tally.arrivals,
             **{name: n for (name, _), n in counts.items()}}
    return dict(sorted(parts.items(), key=lambda kv: -kv[1]))


class LaterHalf:
    """CPU per simulated day over the run's later half, once routes and trees toward most
    places are built: what a day costs at steady state, per offender and per action, to
    compare runs of different sizes (docs/performance.md, "Cost per offender-day")."""

    def __init__(self, model) -> None:
        self.model = model
        self.half = model.config.run.days / 2
        self.start: tuple[float, float, int, int] | None = None
        self.stop: tuple[float, float, int, int] | None = None

    def mark(self) -> tuple[float, float, int, int]:
        """CPU, day, Python-level actions and crimes so far."""
        actions = Tally(self.model, events_run(self.model)).actions
        return (time.process_time(), self.model.time / MINUTES_PER_DAY, actions,
                len(self.model.crimes))

    def day_done(self, day: float) -> None:
        if self.start is None and day >= self.half:
            self.start = self.mark()

    def end(self) -> None:
        self.stop = self.mark()

    def figures(self) -> dict[str, float]:
        if self.start is None or self.stop is None or self.stop[1] <= self.start[1]:
            return {}
        cpu, days, actions, crimes = (b - a for a, b in zip(self.start, self.stop, strict=True))
        offenders = self.model.config.offenders.count
        return {"later_days": days,
                "later_day_cpu_s": cpu / days,
                "later_offender_day_us": cpu / days / offenders * 1e6,
                "later_action_us": cpu / actions * 1e6 if actions else None,
                "later_crimes_per_offender_day": crimes / days / offenders}


class Timer:
    """Wall and CPU time of a phase, optionally under a profiler."""

    def __init__(self, profile=None) -> None:
        self.profile = profile
        self.wall = self.cpu = 0.0

    def __enter__(self) -> Timer:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        if self.profile is not None:
            self.profile.enable()
        return self

    def __exit__(self, *exc) -> None:
        if self.profile is not None:
            self.profile.disable()
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def measure_model(spec: dict, profile=None) -> dict:
    from abm.config import load
    from abm.simulate import finish, run_to_end

    config = load(spec["config"], spec["overrides"])
    rss_base = peak_rss_mb()
    started = time.perf_counter()
    with Timer(profile) as build:
        model = counting_model(config)
    later = LaterHalf(model)
    with Timer(profile) as run:
        run_to_end(model, later.day_done)
    later.end()
    with Timer(profile) as tables:
        result = finish(model, started)
    counts = events_run(model)
    tally = Tally(model, counts)
    return {
        "sim_days": model.time / MINUTES_PER_DAY,
        "build_s": build.wall,
        "build_cpu_s": build.cpu,
        "run_s": run.wall,
        "run_cpu_s": run.cpu,
        "tables_s": tables.wall,
        "wall_s": build.wall + run.wall + tables.wall,
        "cpu_s": build.cpu + run.cpu + tables.cpu,
        **tally.figures(),
        "agenda_alarms": model.event_counts.get((ALARM, False), 0),
        "breakdown": breakdown(tally, counts),
        "crimes": result.summary["crimes_total"],
        **later.figures(),
        "nodes": model.city.n,
        "offenders": config.offenders.count,
        "rss_base_mb": rss_base,
    }


def measure_frame(spec: dict, profile=None) -> dict:
    from abm.config import load
    from abm.model import SafeCityModel
    from abm.ui.frame import app_frame

    config = load(spec["config"], spec["overrides"])
    model = SafeCityModel(config)
    rss_base = peak_rss_mb()
    with Timer(profile) as first:
        app_frame(model)
    times = []
    with Timer(profile) as rest:
        for _ in range(spec["frames"]):
            t = time.perf_counter()
            app_frame(model)
            times.append(time.perf_counter() - t)
    return {
        "first_ms": first.wall * 1e3,
        "median_ms": statistics.median(times) * 1e3,
        "max_ms": max(times) * 1e3,
        "frames": len(times),
        "wall_s": first.wall + rest.wall,
        "cpu_s": first.cpu + rest.cpu,
        "sim_days": model.time / MINUTES_PER_DAY,
        "rss_base_mb": rss_base,
    }


def measure_startup(spec: dict, profile=None) -> dict:
    """What `abm run` costs before its first event, in this fresh process: CPU from the
    interpreter's start (``time.process_time`` counts from there), split into the
    interpreter with this module, Mesa's own import, the rest of what `abm run` imports,
    and reading the settings, building the city and model and running the first minute."""
    entered = time.process_time()  # the interpreter, this module and pydantic (abm.config)
    started = time.perf_counter()
    with Timer(profile) as mesa_import:
        import mesa  # noqa: F401 - timed on its own: the floor under every model command
    with Timer(profile) as imports:
        import abm.cli  # noqa: F401 - what `abm run` imports (abm.cli.cmd_run)
        from abm.config import load
        from abm.experiment.progress import Progress  # noqa: F401
        from abm.limits import warn_if_long  # noqa: F401
        from abm.outputs import write_run  # noqa: F401
        from abm.simulate import build
    with Timer(profile) as first:
        model = build(load(spec["config"], spec["overrides"]))
        model.run_for(1.0)
    return {
        "interpreter_cpu_s": entered,
        "mesa_import_cpu_s": mesa_import.cpu,
        "imports_cpu_s": imports.cpu,
        "first_event_cpu_s": first.cpu,
        "cpu_s": time.process_time(),
        "wall_s": time.perf_counter() - started,
    }


def measure_wolfsheep(spec: dict, profile=None) -> dict:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from mesa.examples.advanced.wolf_sheep.agents import Sheep, Wolf
        from mesa.examples.advanced.wolf_sheep.model import WolfSheep, WolfSheepScenario

        rss_base = peak_rss_mb()
        with Timer(profile) as build:
            model = WolfSheep(WolfSheepScenario(rng=spec["seed"], width=WOLFSHEEP_SIDE,
                                                height=WOLFSHEEP_SIDE))
        by_type = model.agents_by_type
        agent_steps = 0
        with Timer(profile) as run:
            for _ in range(spec["steps"]):
                # Sheep, then wolves, step in shuffled order; newborns wait for the next step
                # and sheep are eaten only after they stepped: this counts the step() calls.
                agent_steps += len(by_type[Sheep]) + len(by_type[Wolf])
                model.step()
    return {
        "steps": spec["steps"],
        "agent_steps": agent_steps,
        "build_s": build.wall,
        "run_s": run.wall,
        "run_cpu_s": run.cpu,
        "wall_s": build.wall + run.wall,
        "cpu_s": build.cpu + run.cpu,
        "final_population": len(by_type[Sheep]) + len(by_type[Wolf]),
        "rss_base_mb": rss_base,
    }


class _Ticker:
    """A callback that only schedules itself again: Mesa's event machinery with no work."""

    def __init__(self, model, bound: bool) -> None:
        self.model = model
        self.callback = self.tick if bound else partial(self.tick)
        self.ticks = 0

    def tick(self) -> None:
        self.ticks += 1
        self.model.schedule_event(self.callback, after=self.model.random.random() * 100.0)


def measure_floor(spec: dict, profile=None) -> dict:
    """Events/s of Mesa's event list alone, with bound-method and with partial callbacks."""
    import mesa

    from abm.mesa_adapter import stop_stepping

    rss_base = peak_rss_mb()
    out = {"events": 0, "run_cpu_s": 0.0, "cpu_s": 0.0, "wall_s": 0.0, "rss_base_mb": rss_base}
    for bound in (True, False):
        model = mesa.Model(rng=spec["seed"])
        stop_stepping(model)  # pure discrete-event, as SafeCityModel
        tickers = [_Ticker(model, bound) for _ in range(FLOOR_PENDING)]
        for ticker in tickers:
            ticker.tick()
        with Timer(profile) as run:
            model.run_for(FLOOR_ROUNDS * 100.0)  # each ticker runs about twice per 100 min
        events = sum(t.ticks for t in tickers) - len(tickers)
        out[f"{'method' if bound else 'partial'}_events_s"] = events / run.cpu
        out["events"] += events
        out["run_cpu_s"] += run.cpu
        out["cpu_s"] += run.cpu
        out["wall_s"] += run.wall
    return out


def last_said(stderr: str, returncode: int) -> str:
    """What a failed process said last (its error's one line), or its exit status."""
    lines = stderr.strip().splitlines()
    return lines[-1] if lines else f"exit status {returncode}"


def _children_cpu() -> float:
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def side_by_side(commands: list[list[str]]) -> tuple[float, float]:
    """CPU and wall time of commands run side by side, each a process of its own. The CPU is
    theirs and their own children's (a sweep's workers): a process's CPU counts toward its
    parent's children once the parent has waited for it."""
    cpu, started = _children_cpu(), time.perf_counter()
    running = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True) for command in commands]
    said = [p.communicate()[1] for p in running]
    wall = time.perf_counter() - started
    for command, p, err in zip(commands, running, said, strict=True):
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(command[2:])}: {last_said(err, p.returncode)}")
    return _children_cpu() - cpu, wall


def _sweeps(path: str, outs: list[Path], workers: int) -> tuple[float, float]:
    """`abm sweep`s of one file on ``workers`` each, into ``outs``, side by side."""
    return side_by_side([[sys.executable, "-m", "abm", "sweep", path, "--workers",
                          str(workers), "--out", str(out), "--quiet"] for out in outs])


def measure_sweep(spec: dict, profile=None) -> dict:
    """A sweep's CPU and wall time on 1 worker and on 2, each `abm sweep` a fresh process of
    its own, in the order the repeat gives (1 first in even repeats), and whether both wrote
    the same results.parquet. Then what this machine charges for running two processes at
    once, whatever they are: two 1-worker sweeps side by side, against one alone.
    Not profiled: the work is in other processes."""
    import hashlib
    import tempfile

    order = (1, 2) if spec.get("repeat", 0) % 2 == 0 else (2, 1)
    cpu, wall, digests = {}, {}, set()
    with tempfile.TemporaryDirectory(prefix="abm-bench-") as tmp:
        for workers in order:
            out = Path(tmp) / f"workers-{workers}"
            cpu[workers], wall[workers] = _sweeps(spec["config"], [out], workers)
            digests.add(hashlib.sha256((out / "results.parquet").read_bytes()).hexdigest())
        side_by_side, _ = _sweeps(spec["config"], [Path(tmp) / "a", Path(tmp) / "b"], 1)
    return {
        "cpu_1_s": cpu[1], "cpu_2_s": cpu[2], "wall_1_s": wall[1], "wall_2_s": wall[2],
        "cpu_ratio": cpu[2] / cpu[1], "speedup": wall[1] / wall[2],
        "identical": int(len(digests) == 1),
        "first_workers": order[0],
        "side_by_side_cpu_s": side_by_side,
        "side_by_side_ratio": side_by_side / (2 * cpu[1]),
        "cpu_s": cpu[1] + cpu[2] + side_by_side, "wall_s": wall[1] + wall[2],
        "rss_peak_mb": peak_rss_mb(children=True),  # the largest of the sweeps' processes
    }


MEASURES = {"model": measure_model, "frame": measure_frame, "wolfsheep": measure_wolfsheep,
            "floor": measure_floor, "startup": measure_startup, "sweep": measure_sweep}


def child(spec: dict) -> dict:
    """Measure one workload in this (fresh) process."""
    profile = None
    if spec.get("profile"):
        import cProfile

        profile = cProfile.Profile()
    result = MEASURES[spec["kind"]](spec, profile)
    result.setdefault("rss_peak_mb", peak_rss_mb())
    if profile is not None:
        import io
        import pstats

        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).strip_dirs()
        stats.sort_stats("tottime").print_stats(spec["profile"])
        stats.sort_stats("cumulative").print_stats(spec["profile"])
        result["profile"] = out.getvalue()
    return result


# --- orchestrating (the `abm bench` process) ----------------------------------------------------


def machine() -> dict:
    """What the figures were measured on, including how busy it was."""
    cpu = platform.processor() or platform.machine()
    mem_gb = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = int(line.split()[1]) / 2**20
                break
    except OSError:
        pass
    from importlib import metadata

    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gb": None if mem_gb is None else round(mem_gb, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "mesa": metadata.version("mesa"),
        "numpy": metadata.version("numpy"),
        "scipy": metadata.version("scipy"),
        "load_before": _load(),
    }


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def run_child(spec: dict) -> dict:
    # One core: keep numeric libraries from starting thread pools.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    done = subprocess.run([sys.executable, "-m", "abm.bench", json.dumps(spec)],
                          capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        return {"error": last_said(done.stderr, done.returncode)}
    return json.loads(done.stdout.strip().splitlines()[-1])


def specs(args: argparse.Namespace) -> list[dict]:
    """What each workload runs; a workload with offender counts gives one per count. Bad
    options fail here, before anything runs."""
    from abm import catalog
    from abm.config import load

    out = []
    as_shipped = not args.overrides and args.days is None and not args.profile
    for name in args.workloads or list(WORKLOADS):
        w = WORKLOADS[name]
        base = {"kind": w.kind, "profile": args.profile, "frames": args.frames,
                "steps": args.steps, "seed": 42}
        if w.kind == "sweep":  # its settings are the sweep file's: --set and --days do not apply
            from abm.experiment.sweepfile import load_sweep

            path = (catalog.resolve(args.sweep, catalog.Kind.SWEEP) if args.sweep
                    else catalog.find(w.config, catalog.Kind.SWEEP))
            load_sweep(path)
            out.append({**base, "workload": name, "config": str(path),
                        "shipped": args.sweep is None and not args.profile})
            continue
        sizes = (args.offenders or w.offenders) if w.offenders else ()
        if sizes:  # the workload's city at each size
            variants = [(w.config, [f"offenders.count={count}"]) for count in sizes]
        else:  # each of its cities, or its one config (or none)
            variants = [(config, []) for config in w.cities or [w.config]]
        for config, more in variants:
            spec = {**base, "workload": name}
            if config is not None:
                overrides = list(args.overrides)
                days = args.days if args.days is not None else w.days
                if days is not None and w.kind == "model":
                    overrides.append(f"run.days={days:g}")
                overrides.extend(more)
                path = catalog.find(config)  # a shipped scenario (abm/configs/)
                settings = load(path, overrides)  # bad overrides fail here, before anything runs
                spec.update(config=str(path), overrides=overrides)
                if sizes or w.cities:  # named by its offenders (``offenders-4000``), or
                    # by its city too where --set gave two cities the same offenders
                    spec["workload"] = f"{name}-{settings.offenders.count}"
                    if any(s["workload"] == spec["workload"] for s in out):
                        spec["workload"] += f"-{config}"
            spec["shipped"] = as_shipped and not (w.offenders and args.offenders)
            out.append(spec)
    return out


def _median(runs: list[dict], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


# A model run's counts as printed: key, label, what a count costs.
COUNTS = (
    ("agent_actions", "Python-level agent actions", "Python each, like an agent-step"),
    ("bulk_stops", "bulk-computed patrol stops", "arrays, no Python per stop"),
    ("agent_events", "agent-events", "the two above together"),
    ("executed_events", "executed events", "callbacks run, agents' and others'"),
)


def rates(r: dict) -> dict:
    """Per-second figures of one run, over the CPU time of its running phase.

    CPU seconds rather than wall seconds: on a shared machine a process waiting for a core
    loses wall time but not CPU time, so rates and their ratios stay comparable.
    """
    if "agent_steps" in r:
        return {"agent_steps_s": r["agent_steps"] / r["run_cpu_s"]}
    if "method_events_s" in r:
        return {}
    if "events" in r:
        out = {"days_s": r["sim_days"] / r["cpu_s"], "events_s": r["events"] / r["run_cpu_s"]}
        out.update({f"{key}_s": r[key] / r["run_cpu_s"] for key, _, _ in COUNTS})
        return out
    return {}


def relate(r: dict, ws_rate: float | None) -> None:
    """Add the run's figures as multiples of this machine's WolfSheep speed, measured in the
    same repeat: each count per second over agent-steps/s, and CPU time as agent-steps."""
    if not ws_rate or "error" in r or "agent_steps" in r:
        return
    if "method_events_s" in r:
        r["vs_wolfsheep"] = r["method_events_s"] / ws_rate
        r["partial_vs_wolfsheep"] = r["partial_events_s"] / ws_rate
        return
    for key, _, _ in COUNTS:
        if f"{key}_s" in r:
            r[f"{key}_vs_wolfsheep"] = r[f"{key}_s"] / ws_rate
    r["cpu_in_ws_msteps"] = r["cpu_s"] * ws_rate / 1e6


def count_lines(r: dict) -> str:
    """One line per count: how many, per CPU second, and as a multiple of WolfSheep."""
    text = ""
    for key, label, cost in COUNTS:
        ratio = r.get(f"{key}_vs_wolfsheep")
        versus = "" if ratio is None else f" = {ratio:5.2f}x WolfSheep agent-steps/s"
        text += (f"\n{'':9} {label:27} {r[key]:12,.0f} {r[f'{key}_s']:10,.0f}/s{versus}"
                 f"  ({cost})")
    return text


def line(name: str, r: dict) -> str:
    if "error" in r:
        return f"{name:9} failed: {r['error']}"
    head = f"{name:9} wall {r['wall_s']:7.2f} s  cpu {r['cpu_s']:7.2f} s  " \
           f"peak RSS {r['rss_peak_mb']:5.0f} MB"
    if "agent_steps" in r:
        return f"{head}  {r['agent_steps_s']:9,.0f} agent-steps/s ({r['steps']:.0f} steps)"
    if "cpu_ratio" in r:
        return (f"{head}\n{'':9} 1 worker: cpu {r['cpu_1_s']:.2f} s, wall {r['wall_1_s']:.2f} s; "
                f"2 workers: cpu {r['cpu_2_s']:.2f} s, wall {r['wall_2_s']:.2f} s; 2 workers "
                f"take {r['cpu_ratio']:.2f}x the CPU and run {r['speedup']:.2f}x as fast; "
                f"results.parquet {'the same' if r['identical'] else 'DIFFERS'}\n{'':9} "
                f"two 1-worker sweeps side by side: cpu {r['side_by_side_cpu_s']:.2f} s, "
                f"{r['side_by_side_ratio']:.2f}x the CPU of one alone, twice (what this "
                f"machine charges for running two processes at once)")
    if "mesa_import_cpu_s" in r:
        return (f"{head}\n{'':9} cpu: interpreter and bench {r['interpreter_cpu_s']:.2f} s, "
                f"import mesa {r['mesa_import_cpu_s']:.2f} s, the rest of `abm run`'s imports "
                f"{r['imports_cpu_s']:.2f} s, settings, city, model and first minute "
                f"{r['first_event_cpu_s']:.2f} s")
    if "method_events_s" in r:
        text = (f"{head}  {r['method_events_s']:9,.0f} events/s with bound-method callbacks, "
                f"{r['partial_events_s']:,.0f} with partials")
        if r.get("vs_wolfsheep") is not None:
            text += (f"\n{'':9} = {r['vs_wolfsheep']:.2f}x and "
                     f"{r['partial_vs_wolfsheep']:.2f}x WolfSheep agent-steps/s")
        return text
    cpu = ""
    if r.get("cpu_in_ws_msteps") is not None:
        cpu = f"; cpu = {r['cpu_in_ws_msteps']:.2f} M WolfSheep agent-steps"
    if "median_ms" in r:
        return (f"{head}  frame {r['median_ms']:.1f} ms median, {r['max_ms']:.1f} max, "
                f"{r['first_ms']:.1f} first ({r['frames']:.0f} frames){cpu}")
    build = f" (build {r['build_cpu_s']:.1f} s)" if r.get("build_cpu_s") is not None else ""
    return (f"{head}{build}  {r['days_s']:6.1f} sim days/s{cpu}{count_lines(r)}"
            f"{later_line(r)}")


def later_line(r: dict) -> str:
    """What a day of the run's later half cost, per offender and per action."""
    if r.get("later_day_cpu_s") is None:
        return ""
    action = r.get("later_action_us")
    per_action = "" if action is None else f", {action:.1f} us per Python-level action"
    return (f"\n{'':9} later {r['later_days']:.0f} days: {r['later_day_cpu_s'] * 1e3:.1f} ms CPU "
            f"a day, {r['later_offender_day_us']:.1f} us per offender-day{per_action}; "
            f"{r['later_crimes_per_offender_day']:.4f} crimes per offender-day")


def summarise(results: dict[str, list[dict]]) -> dict[str, dict]:
    """Median of each figure over repeats."""
    out = {}
    for name, runs in results.items():
        ok = [r for r in runs if "error" not in r]
        if not ok:
            out[name] = runs[-1]
            continue
        keys = [k for k, v in ok[0].items() if isinstance(v, int | float)]
        out[name] = {k: _median(ok, k) for k in keys}
        if "identical" in out[name]:  # the same only if the same in every repeat
            out[name]["identical"] = min(r["identical"] for r in ok)
        out[name]["breakdown"] = ok[0].get("breakdown")
    return out


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def held_to_cpu(name: str, r: dict, limit: float) -> list[str]:
    """A workload held to CPU seconds with its build, and to peak memory; said plainly when
    it takes several times the target."""
    cpu, rss = r["cpu_s"], r["rss_peak_mb"]
    over = f" ({cpu / limit:.1f}x the target)" if cpu > limit else ""
    return [f"{name} within {limit:.0f} s CPU, build included: {cpu:.1f} s{over}, "
            f"{verdict(cpu <= limit)}",
            f"{name} peak memory within {CITY_RSS_MB:.0f} MB: {rss:.0f} MB, "
            f"{verdict(rss <= CITY_RSS_MB)}"]


def spread_of_costs(summary: dict, shipped: set[str], workload: str = "offenders",
                    where: str = "") -> list[str]:
    """The cost per offender-day of a workload's sizes (``offenders``: one city, more
    offenders; ``density``: the city grown with them), dearest over cheapest, with the crimes
    per offender-day each size's rules gave (more crimes, more work)."""
    sizes = sorted((r["offenders"], r) for name, r in summary.items()
                   if name.startswith(f"{workload}-") and name in shipped
                   and r.get("later_offender_day_us") is not None)
    if len(sizes) < 2:
        return []
    costs = [r["later_offender_day_us"] for _, r in sizes]
    crimes = [r["later_crimes_per_offender_day"] for _, r in sizes]
    spread = max(costs) / min(costs)
    return [f"cost per offender-day within {OFFENDER_DAY_SPREAD}x{where} from {sizes[0][0]:,.0f} "
            f"to {sizes[-1][0]:,.0f} offenders: {', '.join(f'{c:.1f}' for c in costs)} us, "
            f"{spread:.2f}x, {verdict(spread <= OFFENDER_DAY_SPREAD)}; crimes per "
            f"offender-day {', '.join(f'{c:.3f}' for c in crimes)}"]


def targets(summary: dict, shipped: set[str]) -> list[str]:
    lines = []

    city = summary.get("city", {})
    if "city" in shipped and "wall_s" in city:
        lines.append(f"city year within {CITY_WALL_S:.0f} s: {city['wall_s']:.1f} s, "
                     f"{verdict(city['wall_s'] <= CITY_WALL_S)}")
        lines.append(f"city peak memory within {CITY_RSS_MB:.0f} MB: "
                     f"{city['rss_peak_mb']:.0f} MB, {verdict(city['rss_peak_mb'] <= CITY_RSS_MB)}")
    for name, limit in CPU_WITH_BUILD_S.items():
        r = summary.get(name, {})
        if name in shipped and "cpu_s" in r:
            lines.extend(held_to_cpu(name, r, limit))
    for name in ("default", "city"):
        r = summary.get(name, {})
        if name in shipped and r.get("agent_events_vs_wolfsheep") is not None:
            ratio = r["agent_events_vs_wolfsheep"]
            lines.append(f"{name} agent-events/s at least {EVENTS_VS_WOLFSHEEP:.0f}x WolfSheep: "
                         f"{ratio:.2f}x, {verdict(ratio >= EVENTS_VS_WOLFSHEEP)}; but "
                         f"{r['bulk_stops'] / r['agent_events']:.0%} of them are bulk-computed "
                         f"patrol stops: Python-level agent actions alone "
                         f"{r['agent_actions_vs_wolfsheep']:.2f}x")
    start = summary.get("startup", {})
    if "startup" in shipped and "cpu_s" in start:
        floor = start["interpreter_cpu_s"] + start["mesa_import_cpu_s"]
        lines.append(f"`abm run` start-up within {STARTUP_CPU_S:.0f} s CPU: "
                     f"{start['cpu_s']:.2f} s, {verdict(start['cpu_s'] <= STARTUP_CPU_S)}; "
                     f"the interpreter and "
                     f"`import mesa` alone take {floor:.2f} s")
    lines.extend(spread_of_costs(summary, shipped))
    lines.extend(spread_of_costs(summary, shipped, "density", " at fixed density"))
    sweep = summary.get("sweep", {})
    if "sweep" in shipped and "cpu_ratio" in sweep:
        ratio, speedup = sweep["cpu_ratio"], sweep["speedup"]
        same = "" if sweep["identical"] else "; but results.parquet DIFFERS between them"
        lines.append(f"a sweep on 2 workers within {SWEEP_CPU_RATIO}x the CPU of 1 worker: "
                     f"{ratio:.2f}x, {verdict(ratio <= SWEEP_CPU_RATIO)} (two 1-worker sweeps "
                     f"side by side take {sweep['side_by_side_ratio']:.2f}x here); 2 workers "
                     f"at least {SWEEP_SPEEDUP}x as fast: {speedup:.2f}x, "
                     f"{verdict(speedup >= SWEEP_SPEEDUP)}{same}")
    frame = summary.get("frame", {})
    if "frame" in shipped and "median_ms" in frame:
        lines.append(f"app frame within {FRAME_MS:.0f} ms: {frame['median_ms']:.1f} ms median, "
                     f"{verdict(frame['median_ms'] <= FRAME_MS)}")
    return lines


def cmd_bench(args: argparse.Namespace) -> int:
    plan = specs(args)
    if args.json:  # fail before measuring, not after
        try:
            Path(args.json).resolve().parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise ConfigError(f"--json {args.json}: cannot write (part of the path is a file)") \
                from None
        except OSError as exc:
            raise ConfigError(f"--json {args.json}: cannot write ({exc.strerror or exc})") \
                from None
    info = machine()
    print(f"abm bench on {info['cpu']}, {info['cpus']} CPUs, {info['memory_gb']} GB; "
          f"{info['platform']}; Python {info['python']}, Mesa {info['mesa']}")
    print(f"load average before: {info['load_before']}  (figures are noisy on a busy machine)")
    results: dict[str, list[dict]] = {s["workload"]: [] for s in plan}
    failed = False
    sheep = next((s for s in plan if s["kind"] == "wolfsheep"), None)

    def measure(spec: dict, rep: int = 0) -> dict:
        r = run_child({**spec, "repeat": rep})
        r.update(rates(r))
        results[spec["workload"]].append(r)
        return r

    def show(tag: str, spec: dict, r: dict) -> None:
        print(f"{tag}{line(spec['workload'], r)}", flush=True)
        if r.get("profile"):
            print(r["profile"])

    for rep in range(args.repeats):
        tag = f"[{rep + 1}/{args.repeats}] " if args.repeats > 1 else ""
        before = None
        for spec in sorted(plan, key=lambda s: s["kind"] != "wolfsheep"):  # WolfSheep first
            r = measure(spec, rep)
            failed |= "error" in r
            if spec is sheep:
                before = r.get("agent_steps_s")
                show(tag, spec, r)
                continue
            # The machine's speed drifts: WolfSheep is measured again right after each
            # workload, and the workload is compared with the mean of before and after.
            after = measure(sheep) if sheep is not None else None
            around = [x for x in (before, after and after.get("agent_steps_s")) if x]
            ws_rate = statistics.mean(around) if around else None
            relate(r, ws_rate)
            if ws_rate:
                r["wolfsheep_around"] = ws_rate
            show(tag, spec, r)
            if after is not None:
                show(tag, sheep, after)
                before = after.get("agent_steps_s") or before
                failed |= "error" in after
    summary = summarise(results)
    for r in summary.values():
        if "error" not in r:
            r.update(rates(r))
    if args.repeats > 1:
        print(f"median of {args.repeats} repeats:")
        for name, r in summary.items():
            print(line(name, r))
    for name, r in summary.items():
        if r.get("breakdown"):
            top = ", ".join(f"{k} {v:,}" for k, v in list(r["breakdown"].items())[:7])
            print(f"{name} events: {top}")
    info["load_after"] = _load()
    print(f"load average after: {info['load_after']}")
    if args.profile:
        print("profiled: times above include profiler overhead; no targets checked")
    shipped = {s["workload"] for s in plan if s["shipped"]}
    for text in targets(summary, shipped):
        print(f"target: {text}")
    if args.json:
        from abm.outputs import write_json

        try:
            write_json(args.json, {"machine": info, "runs": results, "median": summary})
        except OSError as exc:
            raise ConfigError(f"--json {args.json}: cannot write ({exc.strerror or exc})") \
                from None
    return 1 if failed else 0


def offender_counts(text: str) -> tuple[int, ...]:
    """`--offenders 1000,4000`: at most MAX_OFFENDER_SIZES whole numbers above 0 (each is
    checked against the settings' own bounds before anything runs)."""
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError:
        counts = ()
    if not counts or len(counts) > MAX_OFFENDER_SIZES or min(counts) < 1:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r}: give 1 to {MAX_OFFENDER_SIZES} whole numbers above 0, "
            "separated by commas")
    return counts


def register(sub) -> None:
    from abm.cli import positive_float, positive_int

    names = ", ".join(f"{w.name} ({w.description})" for w in WORKLOADS.values())
    bench = sub.add_parser("bench", help="measure speed and memory against Mesa's WolfSheep",
                           description=f"Workloads: {names}.")
    bench.add_argument("workloads", nargs="*", choices=list(WORKLOADS), metavar="WORKLOAD",
                       help=f"which to run: {', '.join(WORKLOADS)} (default: all)")
    bench.add_argument("--repeats", type=positive_int, default=1,
                       help="runs of each workload, each in a fresh process (median reported)")
    bench.add_argument("--days", type=positive_float,
                       help="simulated days for the model workloads (default: their config)")
    bench.add_argument("--set", dest="overrides", action="append", default=[],
                       metavar="SECTION.KEY=VALUE",
                       help="override a setting of the model and frame workloads; repeatable")
    bench.add_argument("--offenders", type=offender_counts, metavar="N,N,...",
                       help="offender counts the offenders workload runs (default: "
                       f"{','.join(map(str, WORKLOADS['offenders'].offenders))})")
    bench.add_argument("--sweep", metavar="SWEEP",
                       help="sweep file (or a shipped sweep's name) the sweep workload runs on "
                       f"1 worker and on 2 (default: {WORKLOADS['sweep'].config})")
    bench.add_argument("--frames", type=positive_int, default=30,
                       help="app frames to time after the first (default 30)")
    bench.add_argument("--steps", type=positive_int, default=500,
                       help="WolfSheep steps (default 500)")
    bench.add_argument("--profile", type=positive_int, nargs="?", const=25, default=0,
                       metavar="N", help="profile each workload and print its top N functions")
    bench.add_argument("--json", metavar="FILE", help="also write all figures to a JSON file")
    bench.set_defaults(handler=cmd_bench)


if __name__ == "__main__":
    print(json.dumps(child(json.loads(sys.argv[1]))))
