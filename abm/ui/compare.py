"""Compare mode: two runs with the same seed and city, different settings, side by side.

Run A has the panel's settings; run B has them with a few changes (the contrast). The live pair
on the two maps starts identical and parts ways where the changed settings make something
happen differently; from then on chance diverges too, so one pair shows an effect plus noise.
The figures to quote come from the replicates the page runs in the background: A and B over
several seeds, the difference taken seed by seed, with its 95% interval.
"""

from __future__ import annotations

from typing import Any

import solara

from abm.config import Config
from abm.ui.charts import Chart, difference_option
from abm.ui.controls import SettingsPanel
from abm.ui.explore import LiveSummary
from abm.ui.mapview import CityMap, MapLegend, MapTools
from abm.ui.settings import CONTRAST_KEYS, CONTROLS
from abm.ui.state import REPLICATE_CHOICES, AppState
from abm.ui.uncertainty import COMPARE_FIGURES, IntervalFigures, Progress

# Half the cameras down at any moment: an uptime of 50% with failures and repairs short
# against the run, so the share down settles near a half within days of the start.
HALF_UPTIME_CYCLE_DAYS = (0.5, 5.0)


def half_cycle(config: Config) -> float:
    low, high = HALF_UPTIME_CYCLE_DAYS
    return round(min(high, max(low, config.run.days / 30)), 2)


def presets(config: Config) -> dict[str, dict[str, Any]]:
    """Ready-made contrasts for teaching, relative to run A's settings; each does what its
    name says."""
    cycle = half_cycle(config)
    return {
        "Half the cameras down": {"cameras.repair": True, "cameras.mtbf_days": cycle,
                                  "cameras.mttr_days": cycle},
        "Cameras never repaired": {"cameras.repair": False},
        "No cameras": {"cameras.count": 0},
        "Nobody watching": {"cameras.operators": 0},
        "Twice the police": {"police.units": max(1, 2 * config.police.units)},
        "Same as A": {},
    }


def describe(contrast: dict[str, Any], config: Config) -> str:
    """Run B's changes in words, e.g. 'Cameras 0 (A: 30)'."""
    if not contrast:
        return "same settings as A"
    parts = []
    for key, value in contrast.items():
        label = CONTROLS[key].label if key in CONTROLS else key
        parts.append(f"{label} {value} (A: {config.get(key)})")
    return "; ".join(parts)


@solara.component
def ContrastPanel(state: AppState) -> None:
    """Pick a preset or set run B's differing settings one by one."""
    config = state.config.value
    contrast = state.contrast.value
    try:
        config_b = state.contrast_config()
    except Exception:  # an invalid contrast is refused before it is stored; be safe anyway
        config_b = config
    with solara.Column(gap="6px", classes=["abm-contrast"]):
        solara.Text("Run B differs from run A by:", style={"font-weight": "bold"})
        with solara.Row(style={"flex-wrap": "wrap"}):
            for name, changes in presets(config).items():
                solara.Button(name, small=True, outlined=True,
                              classes=["abm-preset"],
                              on_click=lambda changes=changes: state.change_contrast(
                                  changes, replace=True))
        solara.Text(describe(contrast, config), classes=["abm-contrast-text"])
        solara.Button("Fork B from A now", small=True, outlined=True, classes=["abm-fork"],
                      on_click=state.fork_b)
        solara.Text("B starts again from A's moment and goes on with B's settings.",
                    style={"font-size": "0.8em", "color": "#555"})
        SettingsPanel(config_b, on_change=lambda k, v: state.change_contrast({k: v}),
                      on_changes=state.change_contrast, keys=CONTRAST_KEYS, tag="abm-b")


@solara.component
def CompareReplicates(state: AppState) -> None:
    """A and B over the replicate seeds, in the background: the figures to quote."""
    replicates = state.replicates
    result = replicates.result.value
    count = state.replicate_count.value
    with solara.Column(gap="4px", classes=["abm-compare-replicates"]):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Text("Over several seeds", style={"font-weight": "bold"})
            with solara.Div(style={"width": "150px"}):
                solara.Select(label="Replicate seeds", values=[str(c) for c in
                                                               REPLICATE_CHOICES],
                              value=str(count),
                              on_value=lambda v: state.set_replicates(
                                  int(v) if str(v).isdigit() else v))
        Progress(replicates, "Replicates of A and B")
        if result is not None and result.pair.name == state.compare_pair().name:
            IntervalFigures(result, COMPARE_FIGURES, ("A", "B"), tag="compare")
        solara.Text("The maps show one history of each run (seed "
                    f"{state.config.value.run.seed}); the replicates run the same two settings "
                    "with other seeds.", style={"font-size": "0.8em", "color": "#555"})


@solara.component
def CompareView(state: AppState) -> None:
    """Both maps side by side, run B's settings, the replicates and the live pair's figures."""
    state.days.value  # noqa: B018 - subscribe: a restart (new runs) changes this
    if len(state.runs) < 2:
        solara.Info("Compare mode needs two runs: press Reset.")
        return
    MapTools(state)
    with solara.Div(classes=["abm-pair"]):
        CityMap(state, 0, "A: the panel's settings")
        CityMap(state, 1, f"B: {describe(state.contrast.value, state.config.value)}")
    MapLegend(state, 0)
    with solara.Div(classes=["abm-pair"]):
        ContrastPanel(state)
        CompareReplicates(state)
    with solara.Div(classes=["abm-pair"]):
        DifferenceChart(state)
        LiveSummary(state, ("A", "B"))


@solara.component
def DifferenceChart(state: AppState) -> None:
    """Redrawn when a day closes or the runs restart."""
    days = state.days.value
    runs = state.runs

    def compute():
        if len(runs) != 2:
            return None
        with state.lock:
            return difference_option(runs[0].daily_rows(), runs[1].daily_rows())

    option = solara.use_memo(compute, dependencies=[days, id(runs)])
    if option is not None:
        Chart(option, "difference")
