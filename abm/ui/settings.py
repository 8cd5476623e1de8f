"""What the control panel can change, and how a change becomes a validated Config.

Every edit is a ``Config.changed`` copy, validated as a whole: a bad value becomes a one-line
message instead of a crash. Text typed in the app (the seed) is read as ``--set`` reads a value
(``abm.config.parse_value``) before it is checked, so "7" and " 11 " are seeds and "abc" is not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from abm.config import Config, ConfigError, choices, parse_value


@dataclass(frozen=True)
class Control:
    """One setting on the panel: its config key, label and slider range or choices.

    A ``log`` slider moves along the logarithm of the value, so a range of days from one to a
    hundred years is usable at both ends.
    """

    key: str
    label: str
    kind: str  # "int", "float", "bool", "choice" or "text"
    low: float = 0
    high: float = 1
    step: float = 1
    choices: tuple[str, ...] = ()  # for a choice: the schema's, unless given
    log: bool = False

    def __post_init__(self) -> None:
        if self.kind == "choice" and not self.choices:
            object.__setattr__(self, "choices", choices(self.key))


# Grouped by concept. Ranges stay inside the schema's bounds and cover every shipped scenario
# (tests/test_ui.py checks both); "high" is the slider's maximum.
GROUPS: dict[str, tuple[Control, ...]] = {
    "Cameras": (
        Control("cameras.count", "Cameras", "int", 0, 2000, 5),
        Control("cameras.mtbf_days", "Mean time between failures (days)", "float", 1, 36_500,
                1, log=True),
        Control("cameras.mttr_days", "Mean time to repair (days)", "float", 0.5, 3650, 0.5,
                log=True),
        Control("cameras.repair", "Broken cameras get repaired", "bool"),
        Control("cameras.operators", "Operators watching", "int", 0, 200, 1),
        Control("cameras.feeds_per_operator", "Feeds per operator", "int", 1, 16, 1),
    ),
    "Police": (
        Control("police.units", "Police units", "int", 0, 200, 1),
        Control("police.patrol", "Patrol strategy", "choice"),
        Control("police.dispatch_delay_min", "Dispatch delay (min)", "int", 0, 120, 1),
    ),
    "Offenders": (
        Control("offenders.count", "Offenders", "int", 0, 2000, 10),
    ),
    "City": (
        Control("city.generator", "Street layout", "choice"),
        Control("city.nodes", "Intersections", "int", 100, 10_000, 100, log=True),
    ),
    "Run": (
        Control("run.seed", "Seed", "text"),
        Control("run.days", "Days to simulate", "int", 1, 3650, 1, log=True),
        Control("daytime.clock", "Crime follows the time of day", "bool"),
    ),
}

# Settings a compare-mode contrast may change; the seed and the city stay shared.
CONTRAST_KEYS = ("cameras.count", "cameras.mtbf_days", "cameras.mttr_days", "cameras.repair",
                 "cameras.operators", "police.units", "police.dispatch_delay_min")
CONTROLS = {c.key: c for group in GROUPS.values() for c in group}

# Shown for uptime: each camera's share of time up, from its own failures and repairs.
UPTIME_LOW, UPTIME_HIGH = 0.05, 0.99
# A seed typed as text: 19 digits hold every allowed seed; longer text is refused unread.
TEXT_CHARS = 24
# Positions of a log slider between its two ends.
LOG_STEPS = 1000


def edit(config: Config, changes: dict[str, Any]) -> Config:
    """A new Config with ``changes`` applied; raises ConfigError naming a bad key or value.
    A string is text typed in the page, read as ``--set`` reads a value."""
    values = {key: parse_value(value, f"settings: {key}") if isinstance(value, str) else value
              for key, value in changes.items()}
    return config.changed(values)


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


def span(control: Control, current: Any = None) -> tuple[float, float]:
    """The slider's range: the control's, widened to hold the current value (a scenario may
    hold a value beyond the usual range, which the slider must show rather than change)."""
    low, high = control.low, control.high
    if isinstance(current, int | float) and not isinstance(current, bool):
        low, high = min(low, current), max(high, current)
    return low, high


def to_position(control: Control, value: float, current: Any = None) -> float:
    """Where a value sits on a log slider (0 to LOG_STEPS)."""
    low, high = span(control, current)
    value = min(max(value, low), high)
    return round(LOG_STEPS * math.log(value / low) / math.log(high / low), 3)


def from_position(control: Control, position: float, current: Any = None) -> float:
    """The value at a position of a log slider, to three significant figures."""
    low, high = span(control, current)
    value = low * (high / low) ** (min(max(position, 0.0), LOG_STEPS) / LOG_STEPS)
    value = float(f"{value:.3g}")
    return min(max(value, low), high)


def _show(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,g}"


def checked(config: Config, changes: dict[str, Any],
            keys: tuple[str, ...] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Changes as the panel's own controls could send them, whatever the browser sent.

    Only the panel's keys (or ``keys``) are accepted, each value must be of its control's kind,
    and numbers are clamped into the control's range before anything is built. Returns the
    changes to apply and a note for each value clamped; raises ConfigError (one line) for a
    value no control could send.
    """
    out, notes = {}, []
    for key, value in changes.items():
        control = CONTROLS.get(key) if isinstance(key, str) else None
        if control is None or (keys is not None and key not in keys):
            raise ConfigError(f"settings: {str(key)[:60]!r} is not a setting this panel changes")
        current = config.get(key)
        if control.kind in ("int", "float"):
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or (isinstance(value, float) and not math.isfinite(value)):
                raise ConfigError(f"settings: {key}: expected a number, got "
                                  f"{str(value)[:40]!r}")
            low, high = span(control, current)
            number = min(max(value, low), high)
            if number != value:
                notes.append(f"{key}: {_show(value) if abs(value) < 1e15 else 'value'} is "
                             f"outside the control's range ({_show(low)} to {_show(high)}); "
                             f"{_show(number)} used")
            out[key] = int(round(number)) if control.kind == "int" else float(number)
        elif control.kind == "bool":
            if not isinstance(value, bool):
                raise ConfigError(f"settings: {key}: expected true or false, got "
                                  f"{str(value)[:40]!r}")
            out[key] = value
        elif control.kind == "choice":
            if value not in control.choices:
                raise ConfigError(f"settings: {key}: choose one of {', '.join(control.choices)}"
                                  f" (got {str(value)[:40]!r})")
            out[key] = value
        else:  # text, parsed and validated by the config schema
            if isinstance(value, bool) or not isinstance(value, str | int) \
                    or len(str(value)) > TEXT_CHARS:
                raise ConfigError(f"settings: {key}: expected at most {TEXT_CHARS} characters")
            out[key] = value
    return out, notes
