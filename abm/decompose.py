"""Where a scenario's change in crime came from: its mechanisms, one switched off at a time.

A before/after change in recorded crime mixes everything that happened: a background trend,
cameras failing and offenders learning that they fail, who watches the feeds, police moved to
the control room, and changes in what gets recorded. Each mechanism below knows how to switch
itself off in a scenario. The scenario runs beside one variant per mechanism, without it, and
one without any of them, all on the same seeds (paired); a mechanism's contribution to the
change is the change with everything minus the change without it. Contributions of
mechanisms that act together do not add up exactly: what is left, the change with everything
minus the change with none of them minus the contributions, is reported as the interaction.

A new mechanism is one class in ``MECHANISMS``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from abm.config import NEVER_FAILING, Change, Config
from abm.experiment.stats import interval


class Mechanism:
    """One thing a scenario does that a decomposition can switch off."""

    name = ""
    label = ""
    # Whether the mechanism acts only once the cameras are live, so a run without it can be
    # forked at go-live from the scenario's own run (abm.model.SafeCityModel.fork).
    after_go_live = True

    def present(self, config: Config) -> bool:
        """Whether the scenario has this mechanism at all."""
        return True

    def switch_off(self, config: Config) -> dict[str, Any]:
        """The settings that switch the mechanism off in a scenario (dotted keys)."""
        raise NotImplementedError


def _drop_changes(timeline: list[Change], keys, cameras_only: bool | None = None
                  ) -> list[Change]:
    """Timeline entries without some settings (those of the programme only, if asked);
    entries left with nothing to do go."""
    kept = []
    for change in timeline:
        if cameras_only is None or change.cameras_only == cameras_only:
            change = change.model_copy(
                update={"set": {k: v for k, v in change.set.items() if not keys(k)}})
        if change.set or change.news is not None:
            kept.append(change)
    return kept


class Trend(Mechanism):
    name, label = "trend", "background trend"
    after_go_live = False  # it compounds from the first day

    def present(self, config: Config) -> bool:
        return config.offenders.trend_per_year != 0 or any(
            "offenders.trend_per_year" in c.set for c in config.timeline)

    def switch_off(self, config: Config) -> dict[str, Any]:
        return {"offenders.trend_per_year": 0.0, "timeline": _drop_changes(
            config.timeline, lambda k: k == "offenders.trend_per_year")}


class Failures(Mechanism):
    name, label = "failures", "camera failures"

    def switch_off(self, config: Config) -> dict[str, Any]:
        return {**{f"cameras.{k}": v for k, v in NEVER_FAILING.items()},
                "timeline": _drop_changes(config.timeline, lambda k: k in (
                    "cameras.mtbf_days", "cameras.group_mtbf_days"))}


class Learning(Mechanism):
    name, label = "learning", "offenders learning about cameras"

    def switch_off(self, config: Config) -> dict[str, Any]:
        timeline = _drop_changes(config.timeline, lambda k: k in (
            "offenders.learning_rate", "offenders.peer_learning_rate"))
        return {"offenders.learning_rate": 0.0, "offenders.peer_learning_rate": 0.0,
                "timeline": [c.model_copy(update={"news": None}) for c in timeline if c.set]}


class Monitoring(Mechanism):
    name, label = "monitoring", "operators watching feeds"

    def present(self, config: Config) -> bool:
        return config.cameras.operators > 0 or any(
            c.set.get("cameras.operators", 0) for c in config.timeline)

    def switch_off(self, config: Config) -> dict[str, Any]:
        return {"cameras.operators": 0, "timeline": _drop_changes(
            config.timeline, lambda k: k == "cameras.operators")}


class Staffing(Mechanism):
    name, label = "staffing", "police moved for the programme"

    def present(self, config: Config) -> bool:
        return any(c.cameras_only and any(k.startswith("police.") for k in c.set)
                   for c in config.timeline)

    def switch_off(self, config: Config) -> dict[str, Any]:
        return {"timeline": _drop_changes(config.timeline, lambda k: k.startswith("police."),
                                          cameras_only=True)}


class Recording(Mechanism):
    name, label = "recording", "recording changes (operators' logs, reporting)"

    def switch_off(self, config: Config) -> dict[str, Any]:
        logs = ("cameras.log_live_detections", "cameras.reporting_uplift")
        timeline = _drop_changes(config.timeline, lambda k: k.startswith("victims.")
                                 or k in logs, cameras_only=True)
        return {"cameras.log_live_detections": False, "cameras.reporting_uplift": 0.0,
                "timeline": _drop_changes(timeline, lambda k: k in logs)}


MECHANISMS: dict[str, Mechanism] = {m.name: m for m in (
    Trend(), Failures(), Learning(), Monitoring(), Staffing(), Recording())}
WITHOUT = "without "
NONE = "none of them"


def without(config: Config, names: list[str]) -> Config:
    """The scenario with some mechanisms switched off."""
    for name in names:
        config = config.changed(MECHANISMS[name].switch_off(config))
    return config.changed({"run.name": f"{config.run.name}-without-{'-'.join(names)}"})


def after_go_live(config: Config) -> list[str]:
    """The variants (by name) whose switched-off mechanisms all act only once the cameras are
    live: they can run forked from the scenario's run at go-live."""
    present = [name for name, m in MECHANISMS.items() if m.present(config)]
    names = [WITHOUT + name for name in present if MECHANISMS[name].after_go_live]
    if all(MECHANISMS[name].after_go_live for name in present):
        names.append(NONE)
    return names


def variants(config: Config) -> tuple[dict[str, Config], list[str]]:
    """The variants to run beside the scenario, and the mechanisms it has."""
    present = [name for name, m in MECHANISMS.items() if m.present(config)]
    runs = {WITHOUT + name: without(config, [name]) for name in present}
    runs[NONE] = without(config, present)
    return runs, present


def _change(counts: pd.DataFrame, variant: str, measure: str, start: str, end: str) -> pd.Series:
    """Per replicate: % change of a measure from one period to another (per day)."""
    rows = counts[counts["variant"] == variant].set_index(["replicate", "period"])
    rate = rows[measure] / rows["period_days"]
    return (rate.xs(end, level="period") / rate.xs(start, level="period").replace(0, np.nan)
            - 1.0) * 100.0


def table(counts: pd.DataFrame, present: list[str], start: str, end: str) -> pd.DataFrame:
    """The change with every mechanism, each one's contribution, the interaction left over
    and the change with none of them; means and 95% intervals over replicates."""
    rows = []
    for measure in ("recorded", "true"):
        full = _change(counts, "scenario", measure, start, end)
        none = _change(counts, NONE, measure, start, end)
        parts = {name: full - _change(counts, WITHOUT + name, measure, start, end)
                 for name in MECHANISMS if name in present}
        components = [("total", "change with every mechanism", full),
                      *((name, MECHANISMS[name].label, part) for name, part in parts.items()),
                      ("interaction", "interaction (what the contributions leave over)",
                       full - none - sum(parts.values())),
                      ("none", "change with none of them", none)]
        for component, label, values in components:
            n, mean, lo, hi = interval(values.to_numpy(dtype=float))
            rows.append({"measure": measure, "component": component, "label": label,
                         "points": mean, "ci_low": lo, "ci_high": hi, "replicates": n,
                         "from": start, "to": end})
    return pd.DataFrame(rows)


def absent(present: list[str]) -> list[str]:
    """Labels of mechanisms the scenario does not have (reported as such)."""
    return [m.label for name, m in MECHANISMS.items() if name not in present]


def describe(frame: pd.DataFrame, present: list[str]) -> list[str]:
    """Lines of the report: one table per measure."""
    lines = []
    for measure, sub in frame.groupby("measure", sort=False):
        first = sub.iloc[0]
        lines += ["", f"Change in {measure} crime from {first['from']} to {first['to']}, by "
                  "mechanism (percentage points; mean and 95% interval over replicates):", "",
                  "| component | points | 95% interval |", "|---|---|---|"]
        for _, r in sub.iterrows():
            ci = ("n/a" if not math.isfinite(r["ci_low"])
                  else f"{r['ci_low']:+.1f} to {r['ci_high']:+.1f}")
            lines.append(f"| {r['label']} | {r['points']:+.1f} | {ci} |")
    missing = absent(present)
    if missing:
        lines += ["", "Not in this scenario (nothing to switch off): " + ", ".join(missing) + "."]
    return lines
