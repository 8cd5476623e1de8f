"""Bounds that depend on the city, and how long runs will take, known before agents are built.

The settings schema bounds each value on its own; some values only make sense against the city
they run on (a thousand cameras on every intersection of a village), and some valid settings
make runs that take hours. The first are refused with one line; the second are warned about,
so that a user who did not mean it can stop at once.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from abm.config import Config, ConfigError

if TYPE_CHECKING:
    from abm.streets import City

# Several cameras may watch one intersection (one per approach, say); more than this many per
# place only repeats the same view and costs run time (assumption).
CAMERAS_PER_PLACE = 10

# CPU seconds a run costs, roughly: per simulated day for each offender, police unit and
# camera, per street place to build the city and its routes, and to start. Measured on the
# teaching town with each count raised in turn (30 days, one core, time of day on); good to a
# factor of about two, which is all a warning needs.
SECONDS_PER_OFFENDER_DAY = 8.5e-5
SECONDS_PER_UNIT_DAY = 1e-4
SECONDS_PER_CAMERA_DAY = 5e-6
SECONDS_PER_PLACE = 2e-4
SECONDS_TO_START = 0.3
# Runs expected to take longer than this (wall time, over the workers) are warned about.
LONG_RUN_S = 10 * 60


def check_city(config: Config, city: City) -> None:
    """Refuse settings that make no sense on this city (one-line ConfigError)."""
    most = CAMERAS_PER_PLACE * city.n
    if config.cameras.count > most:
        raise ConfigError(f"cameras.count: {config.cameras.count:,} cameras on a city of "
                          f"{city.n:,} places; at most {CAMERAS_PER_PLACE} per place ({most:,})")


def estimate_s(config: Config) -> float:
    """Rough CPU seconds of one run of ``config`` (see the constants above)."""
    per_day = (config.offenders.count * SECONDS_PER_OFFENDER_DAY
               + config.police.units * SECONDS_PER_UNIT_DAY
               + config.cameras.count * SECONDS_PER_CAMERA_DAY)
    places = config.city.nodes if config.city.source == "generator" else 0
    return SECONDS_TO_START + places * SECONDS_PER_PLACE + config.run.days * per_day


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.1f} days"


def warn_if_long(configs: Iterable[Config], workers: int = 1, what: str = "this run",
                 threshold_s: float = LONG_RUN_S) -> float:
    """Print one warning line on stderr when ``configs`` will take long on ``workers``;
    returns the estimate (seconds of wall time)."""
    configs = list(configs)
    used = max(1, min(workers, len(configs)))
    wall = sum(estimate_s(c) for c in configs) / used
    if wall > threshold_s:
        print(f"abm: warning: {what} will take long: about {duration(wall)} "
              f"({len(configs):,} run{'s' * (len(configs) != 1)}"
              f"{f' on {used} workers' if used > 1 else ''}); Ctrl-C stops it",
              file=sys.stderr)
    return wall
