"""Compare mode: two runs with the same seed and city, different settings, in lockstep.

Run A has the panel's settings; run B has them with a few changes (the contrast). Same seed,
same city, same people: the two runs start identical and part ways only where the changed
settings make something happen differently (from then on chance diverges too, so one pair of
runs shows an effect plus noise; `abm` sweeps with replicates measure it).
"""

from __future__ import annotations

from typing import Any

import solara

from abm.config import Config
from abm.ui.charts import Chart, difference_option
from abm.ui.controls import SettingsPanel
from abm.ui.explore import LiveMap, LiveSummary
from abm.ui.settings import CONTRAST_KEYS, CONTROLS, value_of
from abm.ui.state import AppState


def presets(config: Config) -> dict[str, dict[str, Any]]:
    """Ready-made contrasts for teaching, relative to run A's settings."""
    return {
        "Half the cameras broken": {"cameras.mtbf_days": 10.0, "cameras.mttr_days": 10.0},
        "Cameras never repaired": {"cameras.repair": False, "cameras.mtbf_days": 5.0},
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
        parts.append(f"{label} {value} (A: {value_of(config, key)})")
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
                              on_click=lambda changes=changes: state.change_contrast(
                                  changes, replace=True))
        solara.Text(describe(contrast, config), classes=["abm-contrast-text"])
        SettingsPanel(config_b, on_change=lambda k, v: state.change_contrast({k: v}),
                      on_changes=state.change_contrast, keys=CONTRAST_KEYS, tag="abm-b")


@solara.component
def CompareView(state: AppState) -> None:
    """Both maps side by side, run B's settings, the difference chart and both summaries."""
    state.days.value  # noqa: B018 - subscribe: a restart (new runs) changes this
    if len(state.runs) < 2:
        solara.Info("Compare mode needs two runs: press Reset.")
        return
    with solara.Columns([1, 1]):
        LiveMap(state, 0, "A: the panel's settings")
        LiveMap(state, 1, f"B: {describe(state.contrast.value, state.config.value)}")
    with solara.Columns([1, 1]):
        ContrastPanel(state)
        with solara.Column():
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
