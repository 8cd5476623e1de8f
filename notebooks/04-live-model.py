# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The live model in Jupyter
#
# The app's own Solara components (`abm.ui`): the settings panel, the transport bar (play,
# step, speed), the city map with cameras up and down, police and offenders, the figures and the
# live charts. They render here as widgets, over a session state we keep a handle on, so cells
# can drive the same run the widgets show and read the model behind it.

# %% tags=["parameters"]
SCENARIO = "scenarios/teaching-town.yaml"  # a scenario name as the app's picker lists it
STEP = "1 day"  # what each step advances, as in the transport bar's menu
FRAMES = 150  # steps to take from code below: past the teaching town's go-live on day 120

# %%
import solara
from IPython.display import Image, display

from abm.ui.controls import SettingsPanel, Transport
from abm.ui.explore import ExploreView
from abm.ui.frame import STEP_CHOICES
from abm.ui.state import AppState, app_context

state = AppState(SCENARIO)
if state.scenario.value != SCENARIO:
    raise ValueError(f"{SCENARIO}: not among the scenarios: {', '.join(state.scenarios)}")
state.step_min.set(STEP_CHOICES[STEP])


@solara.component
def LiveModel():
    """The controls beside the map, figures and charts, as in the app's Explore mode."""
    app_context.provide(state)
    with solara.Row(style={"align-items": "flex-start"}):
        with solara.Column(style={"width": "330px", "min-width": "330px"}):
            SettingsPanel(state.config.value, on_change=state.change,
                          on_changes=state.change_many)
        with solara.Column(style={"flex": "1", "min-width": "0"}):
            Transport(state)
            ExploreView(state)


LiveModel()

# %% [markdown]
# Press play above, or step from code: each step is the transport bar's Step button, and the
# widgets follow.

# %%
for _ in range(FRAMES):
    state.step()
model = state.run.model
print(f"day {model.day:.2f}: {len(model.crimes)} crimes, "
      f"{sum(c.reported for c in model.crimes)} recorded, {model.arrests} arrests, "
      f"{model.cameras.up_count} of {len(model.cameras.cameras)} cameras up")

# %% [markdown]
# A change of setting restarts the run from day 0, as a slider does in the app.

# %%
state.change("cameras.count", 60)
for _ in range(FRAMES):
    state.step()
model = state.run.model
print(f"now {len(model.cameras.cameras)} cameras; day {model.day:.2f}: {len(model.crimes)} "
      f"crimes, {model.cameras.up_count} cameras up")

# %% [markdown]
# The map the widgets show is a PNG the server draws: here it is as a plain image.

# %%
display(Image(state.run.image))
