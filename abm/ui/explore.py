"""Explore mode: one run's map with a panel beside it, and its live charts below.

``MapBeside`` is the layout other modes reuse: a lesson mode puts its text where the summary
is, with ``with MapBeside(state): LessonPanel(...)``.
"""

from __future__ import annotations

import solara

from abm.ui.charts import Charts, chart_options
from abm.ui.map import CityMap
from abm.ui.state import AppState
from abm.ui.summary import SummaryPanel


def use_refresh(state: AppState) -> tuple:
    """When figures and charts are recomputed: every frame while paused (each step shows its
    effect), once per closed day while playing (so they do not slow the play loop down)."""
    frame = state.frame.value
    days = state.days.value
    return (days,) if state.playing.value else (days, frame)


def use_summaries(state: AppState) -> list[dict]:
    """summary.json's figures for each run, refreshed as ``use_refresh`` says."""
    runs = state.runs

    def compute():
        with state.lock:  # the play loop may be advancing the model on another thread
            return [run.summary() for run in runs]

    return solara.use_memo(compute, dependencies=[use_refresh(state), id(runs)])


@solara.component
def LiveMap(state: AppState, index: int = 0, label: str = "") -> None:
    """One run's map; the only part of a view that redraws on every frame."""
    state.frame.value  # noqa: B018 - subscribe: the map follows every frame
    runs = state.runs
    if index < len(runs):
        CityMap(runs[index].image, runs[index].model.time, label)
    else:
        solara.Info("No run yet.")


@solara.component
def MapBeside(state: AppState, children: list | None = None) -> None:
    """The first run's map with a panel beside it: ``with MapBeside(state): Panel(...)``."""
    with solara.Columns([3, 2]):
        LiveMap(state)
        solara.Column(children=children or [])


@solara.component
def LiveSummary(state: AppState, names: tuple[str, ...] = ("this run",)) -> None:
    SummaryPanel(use_summaries(state), list(names))


@solara.component
def ExploreView(state: AppState) -> None:
    with MapBeside(state):
        LiveSummary(state)
    LiveCharts(state)


@solara.component
def LiveCharts(state: AppState) -> None:
    """The run's charts, refreshed as ``use_refresh`` says."""
    run = state.run

    def compute():
        if run is None:
            return None
        with state.lock:
            return chart_options(run.daily_rows(), run.response_times())

    options = solara.use_memo(compute, dependencies=[use_refresh(state), id(run)])
    if options is not None:
        Charts(options)
