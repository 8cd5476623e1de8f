"""Explore mode: one run's map with a panel beside it, and its live charts below.

``MapBeside`` is the layout other modes reuse: a lesson mode puts its text where the summary
is, with ``with MapBeside(state): LessonPanel(...)``.
"""

from __future__ import annotations

import solara

from abm.ui.charts import Charts, chart_options
from abm.ui.mapview import CityMap, MapLegend, MapTools
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
def Downloads(state: AppState, index: int = 0, tag: str = "") -> None:
    """The map as PNG and the crime log as CSV, as they are now."""
    state.frame.value  # noqa: B018 - subscribe: the files follow the run
    if index >= len(state.runs):
        return
    run = state.runs[index]
    stem = f"abm-{run.config.run.name or 'run'}{tag}-day{int(run.model.day)}"

    def crime_log() -> str:
        with state.lock:
            return run.crime_log().to_csv(index=False)

    with solara.Row(style={"flex-wrap": "wrap", "gap": "4px"}, classes=["abm-downloads"]):
        solara.FileDownload(run.image, filename=f"{stem}-map.png", mime_type="image/png",
                            children=[solara.Button(f"Map{tag} as PNG", icon_name="mdi-download",
                                                    text=True, small=True,
                                                    classes=["abm-map-png"])])
        solara.FileDownload(crime_log, filename=f"{stem}-crimes.csv", mime_type="text/csv",
                            children=[solara.Button(f"Crime log{tag} as CSV",
                                                    icon_name="mdi-download", text=True,
                                                    small=True, classes=["abm-crimes-csv"])])


@solara.component
def MapBeside(state: AppState, children: list | None = None, index: int = 0) -> None:
    """A run's map (and its legend, tools and files) with a panel beside it:
    ``with MapBeside(state): Panel(...)``."""
    with solara.Div(classes=["abm-beside"]):
        with solara.Column(gap="4px", classes=["abm-beside-map"]):
            MapTools(state)
            CityMap(state, index)
            MapLegend(state, index)
            Downloads(state, index)
        solara.Column(children=children or [], classes=["abm-beside-panel"])


@solara.component
def LiveSummary(state: AppState, names: tuple[str, ...] = ("this run",)) -> None:
    SummaryPanel(use_summaries(state), list(names))


@solara.component
def ExploreView(state: AppState) -> None:
    with MapBeside(state):
        LiveSummary(state)
    LiveCharts(state)


@solara.component
def LiveCharts(state: AppState, index: int = 0) -> None:
    """A run's charts, refreshed as ``use_refresh`` says."""
    run = state.runs[index] if index < len(state.runs) else None

    def compute():
        if run is None:
            return None
        with state.lock:
            return chart_options(run.daily_rows(), run.response_times(), run.crimes_by_hour())

    options = solara.use_memo(compute, dependencies=[use_refresh(state), id(run)])
    if options is not None:
        Charts(options)
