"""What the control panel can change, and how a change becomes a validated Config.

Every edit goes through ``abm.config.from_overrides``, the path ``--set`` takes on the command
line: a value typed in the app (a seed arrives as a string) is parsed and validated the same
way, and a bad one becomes a one-line message instead of a crash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from abm.config import Config, from_overrides


@dataclass(frozen=True)
class Control:
    """One setting on the panel: its config key, label and slider range or choices."""

    key: str
    label: str
    kind: str  # "int", "float", "bool", "choice" or "text"
    low: float = 0
    high: float = 1
    step: float = 1
    choices: tuple[str, ...] = ()


# Grouped by concept. Ranges stay inside the schema's bounds; "high" is the slider's maximum.
GROUPS: dict[str, tuple[Control, ...]] = {
    "Cameras": (
        Control("cameras.count", "Cameras", "int", 0, 1000, 5),
        Control("cameras.mtbf_days", "Mean time between failures (days)", "float", 1, 3650, 1),
        Control("cameras.mttr_days", "Mean time to repair (days)", "float", 0.5, 365, 0.5),
        Control("cameras.repair", "Broken cameras get repaired", "bool"),
        Control("cameras.operators", "Operators watching", "int", 0, 50, 1),
        Control("cameras.feeds_per_operator", "Feeds per operator", "int", 1, 16, 1),
    ),
    "Police": (
        Control("police.units", "Police units", "int", 0, 100, 1),
        Control("police.patrol", "Patrol strategy", "choice",
                choices=("hotspot", "random", "beat")),
        Control("police.dispatch_delay_min", "Dispatch delay (min)", "int", 0, 120, 1),
    ),
    "Offenders": (
        Control("offenders.count", "Offenders", "int", 0, 2000, 10),
    ),
    "City": (
        Control("city.generator", "Street layout", "choice", choices=("grid", "organic")),
        Control("city.nodes", "Intersections", "int", 100, 10_000, 100),
    ),
    "Run": (
        Control("run.seed", "Seed", "text"),
        Control("run.days", "Days to simulate", "int", 1, 730, 1),
    ),
}

# Settings a compare-mode contrast may change; the seed and the city stay shared.
CONTRAST_KEYS = ("cameras.count", "cameras.mtbf_days", "cameras.mttr_days", "cameras.repair",
                 "cameras.operators", "police.units", "police.dispatch_delay_min")
CONTROLS = {c.key: c for group in GROUPS.values() for c in group}

# Shown for uptime: each camera's share of time up, from its own failures and repairs.
UPTIME_LOW, UPTIME_HIGH = 0.05, 0.99


def value_of(config: Config, key: str) -> Any:
    """The current value of a dotted key such as ``cameras.count``."""
    section, name = key.split(".")
    return getattr(getattr(config, section), name)


def _literal(value: Any) -> str:
    """A value as ``--set`` reads it: strings verbatim (so a typed seed is parsed), others as
    JSON, which YAML reads back exactly (numbers, true/false, null)."""
    return value if isinstance(value, str) else json.dumps(value)


def edit(config: Config, changes: dict[str, Any]) -> Config:
    """A new Config with ``changes`` applied; raises ConfigError naming a bad key or value."""
    overrides = [f"{key}={_literal(value)}" for key, value in changes.items()]
    edited = from_overrides(overrides, base=config.model_dump(mode="json"))
    return edited


def hardware_uptime(config: Config) -> float:
    """Long-run share of time a camera is free of hardware faults: MTBF / (MTBF + MTTR).

    Cable cuts and blocked views come on top, so realised uptime is a little lower.
    """
    c = config.cameras
    if not c.repair:
        return 0.0
    return c.mtbf_days / (c.mtbf_days + c.mttr_days)


def mttr_for_uptime(mtbf_days: float, uptime: float) -> float:
    """The repair time that gives a hardware uptime target at a given MTBF."""
    uptime = min(max(uptime, UPTIME_LOW), UPTIME_HIGH)
    return mtbf_days * (1.0 - uptime) / uptime
