"""Safe City ABM in the browser: `make run`, then open http://localhost:8765.

This file only assembles the page; the components live in abm/ui/.
"""

import solara

from abm.ui.compare import CompareView
from abm.ui.controls import SettingsPanel, Transport
from abm.ui.explore import ExploreView
from abm.ui.lessons import LessonView
from abm.ui.scenarios import ScenarioPicker
from abm.ui.state import COMPARE, EXPLORE, LESSONS, AppState, app_context

# One view per mode, each beside the same controls; a new mode is one entry.
MODES = {EXPLORE: ExploreView, COMPARE: CompareView, LESSONS: LessonView}

STYLE = """
.abm-controls { width: 330px; min-width: 330px; max-height: calc(100vh - 120px);
                overflow-y: auto; padding-right: 8px; }
.abm-group { margin-bottom: 8px !important; }
.abm-setting { margin: 2px 0 6px 0; }
.abm-figures { font-size: 0.85em; border-collapse: collapse; }
.abm-figures td, .abm-figures th { padding: 1px 10px; text-align: left; }
.abm-figures td.num, .abm-figures th { text-align: right; }
.abm-figures tbody tr:nth-child(odd) { background: #f4f5f7; }
"""


@solara.component
def App():
    state = solara.use_memo(AppState, dependencies=[])
    app_context.provide(state)
    solara.Title("Safe City ABM")
    solara.Style(STYLE)
    config = state.config.value
    mode = state.mode.value
    with solara.Column(style={"padding": "8px 16px"}):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Text("Safe City ABM", style={"font-size": "1.4em", "font-weight": "bold"})
            solara.ToggleButtonsSingle(value=mode, values=list(MODES), on_value=state.set_mode,
                                       classes=["abm-modes"])
            with solara.Div(style={"width": "320px"}):
                ScenarioPicker(state.scenarios, state.scenario.value, state.choose)
        with solara.Div():  # a fixed slot, so a message does not rebuild the page below it
            if state.message.value:
                solara.Error(state.message.value, classes=["abm-message"])
        with solara.Row(style={"align-items": "flex-start"}):
            with solara.Column(classes=["abm-controls"]):
                SettingsPanel(config, on_change=state.change, on_changes=state.change_many)
            with solara.Column(style={"flex": "1", "min-width": "0"}):
                Transport(state)
                MODES.get(mode, ExploreView)(state)


page = App()
page  # noqa: B018
