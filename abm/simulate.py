"""Run a config to completion and hand back its tables: the one entry point all layers share."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from abm.camera_records import camera_frame
from abm.config import MUTABLE, Config, ConfigError
from abm.limits import check_city
from abm.metrics import crime_frame, summarise
from abm.model import SafeCityModel, city_seed
from abm.streets import City, build_city
from abm.units import MINUTES_PER_DAY


@dataclass
class RunResult:
    """Everything a run produces, in memory."""

    config: Config
    crimes: pd.DataFrame
    metrics: pd.DataFrame
    summary: dict
    wall_s: float
    city: dict | None = None  # where the streets came from: import report or generator
    cameras: pd.DataFrame | None = None  # one row per camera (abm.camera_records)
    places: int = 0  # street places (intersections) of the city
    xy: np.ndarray | None = None  # their positions (m), by node id
    hotspots: np.ndarray | None = None  # the places hot-spot patrol cycled through at the end


def finish(model: SafeCityModel, started: float) -> RunResult:
    """Close the last (part) day and build the tables of a model run so far."""
    model.recorder.close_day()
    crimes = crime_frame(model.crimes)
    return RunResult(model.initial_config, crimes, model.recorder.frame(),
                     summarise(model, crimes), time.perf_counter() - started,
                     city=model.city.source or None, cameras=camera_frame(model, crimes),
                     places=model.city.n, xy=model.city.xy, hotspots=model.hotspots.copy())


def simulate(config: Config, city: City | None = None,
             progress: Callable[[float], None] | None = None) -> RunResult:
    """Build the model, run ``run.days`` simulated days, return crimes, metrics and summary.

    ``progress`` is called with the simulated day after each day. Settings that make no sense
    on the city are refused (``abm.limits``) before any agent is built.
    """
    started = time.perf_counter()
    model = build(config, city)
    run_to_end(model, progress)
    return finish(model, started)


# Cities this process built last, by settings and seed: the runs of a sweep or an evaluation
# mostly share one city, and a city built again is the same city (its caches only remember
# what it computed).
CITIES_KEPT = 2
_cities: OrderedDict[str, City] = OrderedDict()


def city_of(config: Config) -> City:
    """The city of a config: one of the last built, or built now (as the model would)."""
    seed = city_seed(config)
    key = f"{config.city.model_dump_json()}|{seed}"
    city = _cities.get(key)
    if city is None:
        try:
            city = build_city(config.city, seed)
        except ConfigError as exc:  # a street file that cannot be used: say which key
            raise ConfigError(f"city.file: {exc}" if config.city.source == "file" else str(exc)) \
                from None
        _cities[key] = city
        while len(_cities) > CITIES_KEPT:
            _cities.popitem(last=False)
    else:
        _cities.move_to_end(key)
    return city


def build(config: Config, city: City | None = None) -> SafeCityModel:
    """The model of a config, its city built (or kept, or given) and checked first."""
    city = city or city_of(config)
    check_city(config, city)
    return SafeCityModel(config, city=city)


def simulate_forked(config: Config, day: float, forks: dict[str, Config],
                    city: City | None = None, whole: bool = True
                    ) -> tuple[RunResult | None, dict[str, RunResult]]:
    """A run and runs forked from it on ``day``, before anything due that day happens, each
    under its own settings (``SafeCityModel.follow``): the days before are run once. Each
    fork's result is bit for bit the run of its settings from the start, where they made no
    difference before the day (``forks_on``). Unless ``whole``, the run itself stops there
    (None)."""
    started = time.perf_counter()
    model = build(config, city)
    moment = day * MINUTES_PER_DAY
    if moment > 0:
        model.run_until(math.nextafter(moment, 0.0))
    results = {}
    for name, settings in forks.items():
        began = time.perf_counter()
        fork = model.fork(settings)
        run_to_end(fork)
        results[name] = finish(fork, began)
    if not whole:
        return None, results
    run_to_end(model)
    return finish(model, started), results


def forks_on(config: Config, other: Config, day: float) -> bool:
    """Whether a run of ``other`` can be forked from a run of ``config`` on ``day``: they
    differ only in settings a run may change (``abm.config.MUTABLE``), the cameras' go-live
    day, the run's length and name, and timeline changes from that day on."""
    changes = config.differences(other)
    timeline = changes.pop("timeline", None)
    for key in ("run.days", "run.name", "cameras.install_day"):
        changes.pop(key, None)
    if set(changes) - MUTABLE:
        return False
    if min(config.cameras.install_day, other.cameras.install_day) < day:
        return config.cameras.install_day == other.cameras.install_day
    if timeline is not None:
        before = [c for c in config.timeline if c.day < day]
        return before == [c for c in other.timeline if c.day < day]
    return True


def run_to_end(model: SafeCityModel, progress: Callable[[float], None] | None = None) -> None:
    """Run a model to ``run.days``, a simulated day at a time (``progress`` after each)."""
    end = model.config.run.days * MINUTES_PER_DAY
    while model.time < end:
        model.run_until(min(end, model.time + MINUTES_PER_DAY))
        if progress is not None:
            progress(model.time / MINUTES_PER_DAY)
