"""Safe City ABM in the browser: `make run`, then open http://localhost:8765.

This file only assembles the page; the components live in abm/ui/.
"""

import os

import solara
import solara.server.settings

from abm.ui.compare import CompareView
from abm.ui.controls import SettingsPanel, Transport
from abm.ui.explore import ExploreView
from abm.ui.info import InfoPanel
from abm.ui.lessons import LessonView, open_named
from abm.ui.scenarios import ScenarioPicker
from abm.ui.share import apply_query, to_query
from abm.ui.state import COMPARE, EXPLORE, LESSONS, AppState, app_context

# One view per mode, each beside the same controls; a new mode is one entry.
MODES = {EXPLORE: ExploreView, COMPARE: CompareView, LESSONS: LessonView}

# A closed tab's session (and its models) goes soon after its page disconnects, not after
# Solara's default day; the minute left allows a dropped connection to come back.
SESSION_TIMEOUT = os.environ.get("SOLARA_KERNEL_CULL_TIMEOUT", "60s")
solara.server.settings.kernel.cull_timeout = SESSION_TIMEOUT
solara.server.settings.theme.show_banner = False  # a fixed footer would cover content

STYLE = """
html, body { overflow-x: hidden; }
.abm-page { padding: 6px 14px; max-width: 2400px; }
.abm-body { display: grid; grid-template-columns: 300px minmax(0, 1fr); gap: 14px;
            align-items: start; }
.abm-controls { max-height: calc(100vh - 110px); overflow-y: auto; padding-right: 6px;
                position: sticky; top: 4px; }
.abm-group { margin-bottom: 8px !important; }
.abm-setting { margin: 2px 0 6px 0; }
.abm-setting .v-label { display: none; }
.abm-figures { font-size: 0.85em; border-collapse: collapse; }
.abm-figures td, .abm-figures th { padding: 1px 8px; text-align: left; vertical-align: top; }
.abm-figures td.num, .abm-figures th { text-align: right; }
.abm-figures tbody tr:nth-child(odd) { background: #f4f5f7; }
.abm-debrief td, .abm-debrief th { text-align: left !important; }
.abm-beside { display: grid; grid-template-columns: minmax(0, 3fr) minmax(300px, 2fr);
              gap: 14px; align-items: start; }
.abm-pair { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 12px;
            align-items: start; margin-bottom: 8px; }
/* The map's side leaves the page's header, the transport and the map tools above it, with
   room for one of those rows to wrap, so that the whole map stays on a 768-pixel screen. */
.abm-map-frame { position: relative; width: 100%; max-width: calc(100vh - 280px);
                 min-width: min(100%, 320px); line-height: 0; }
.abm-map-frame img { width: 100%; display: block; user-select: none; }
.abm-map-overlay { position: absolute; inset: 0; cursor: grab; }
.abm-tooltip { position: absolute; z-index: 5; max-width: 70%; padding: 4px 7px;
               background: rgba(255, 255, 255, 0.95); border: 1px solid #999;
               border-radius: 4px; font-size: 12px; line-height: 1.35; color: #222;
               pointer-events: none; box-shadow: 0 1px 4px rgba(0,0,0,0.25); }
.abm-map-label { white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
                 max-width: 100%; }
.abm-map-caption { white-space: nowrap; }
.abm-legend ul { list-style: none; padding: 0; margin: 2px 0; columns: 2 220px;
                 font-size: 0.8em; }
.abm-legend li { display: flex; align-items: center; gap: 4px; break-inside: avoid;
                 margin-bottom: 1px; }
.abm-legend li svg { flex: none; }
.abm-legend-note { font-size: 0.8em; margin: 0; color: #444; }
.abm-charts { display: grid; gap: 8px; grid-template-columns: repeat(auto-fill,
              minmax(300px, 1fr)); }
.abm-chart .v-btn { align-self: flex-end; margin-top: -4px; }
.abm-map-tools .v-input { margin: 0 !important; padding: 0 !important; }
.abm-map-tools .v-input--selection-controls__input { margin-right: 2px; }
.abm-map-tools .v-label { font-size: 0.85em; }
.abm-map-tools .v-messages { display: none; }
.abm-info { max-width: 900px; }
.abm-doc { max-height: 60vh; overflow-y: auto; }
@media (max-width: 1279px) {
  .abm-body { grid-template-columns: 250px minmax(0, 1fr); }
  .abm-beside { grid-template-columns: minmax(0, 1fr); }
  .abm-transport .v-btn:not(.v-btn--icon) { height: 30px !important; padding: 0 10px !important; }
  .abm-map-tools .v-label { font-size: 0.8em; }
}
@media (max-width: 760px) {
  .abm-body { grid-template-columns: minmax(0, 1fr); }
  .abm-controls { position: static; max-height: none; order: 2; }
  .abm-main { order: 1; }
  .abm-pair { grid-template-columns: minmax(0, 1fr); }
  .abm-map-frame { max-width: 100%; }
}
"""


def make_state(search: str | None) -> AppState:
    state = AppState()
    apply_query(state, search, open_lesson=open_named)
    return state


@solara.component
def App():
    router = solara.use_router()
    state = solara.use_memo(lambda: make_state(router.search), dependencies=[])
    app_context.provide(state)
    solara.use_effect(lambda: state.close, dependencies=[])  # the session ends: drop models
    solara.Title("Safe City ABM")
    solara.Style(STYLE)
    config = state.config.value
    mode = state.mode.value
    info, set_info = solara.use_state(False)
    query = to_query(state)

    def share():
        if router.set_path is not None and (router.search or "") != query:
            router.push(f"{router.path or '/'}?{query}")

    solara.use_effect(share, dependencies=[query])
    with solara.Column(classes=["abm-page"], gap="6px"):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Text("Safe City ABM", style={"font-size": "1.4em", "font-weight": "bold"})
            solara.ToggleButtonsSingle(value=mode, values=list(MODES), on_value=state.set_mode,
                                       classes=["abm-modes"])
            with solara.Div(style={"width": "300px", "max-width": "100%"}):
                ScenarioPicker(state.scenarios, state.scenario.value, state.choose)
            solara.Button("About", icon_name="mdi-information-outline", text=True,
                          on_click=lambda: set_info(not info), classes=["abm-about"])
        with solara.Div():  # a fixed slot, so a message does not rebuild the page below it
            if state.message.value:
                solara.Error(state.message.value, classes=["abm-message"])
        if info:
            InfoPanel(config, state.scenario_path(), state.scenario.value)
        with solara.Div(classes=["abm-body"]):
            with solara.Column(classes=["abm-controls"]):
                SettingsPanel(config, on_change=state.change, on_changes=state.change_many)
            with solara.Column(classes=["abm-main"], style={"min-width": "0"}):
                Transport(state)
                MODES.get(mode, ExploreView)(state)


page = App()
page  # noqa: B018
