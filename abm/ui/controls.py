"""The control panel (settings grouped by concept) and the transport bar (play, step, speed)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import solara

from abm.config import Config
from abm.ui.frame import STEP_CHOICES
from abm.ui.map import clock_text
from abm.ui.settings import (
    GROUPS,
    LOG_STEPS,
    UPTIME_HIGH,
    UPTIME_LOW,
    Control,
    from_position,
    hardware_uptime,
    mttr_for_uptime,
    span,
    to_position,
)
from abm.ui.state import AppState


@solara.component
def Setting(control: Control, value: Any, on_change: Callable[[str, Any], None],
            tag: str = "abm") -> None:
    """One control, drawn to suit its kind; ``tag`` prefixes its CSS class (run A or B)."""
    key = control.key
    if control.kind in ("int", "float"):
        NumberSetting(control, value, on_change, tag)
    elif control.kind == "bool":
        solara.Checkbox(label=control.label, value=bool(value),
                        on_value=lambda v: on_change(key, bool(v)))
    elif control.kind == "choice":
        solara.Select(label=control.label, values=list(control.choices), value=value,
                      on_value=lambda v: on_change(key, v))
    else:  # free text, parsed and validated by the config schema (a seed typed as text)
        solara.InputText(label=control.label, value=str(value), continuous_update=False,
                         on_value=lambda v: on_change(key, v))


@solara.component
def NumberSetting(control: Control, value: float, on_change: Callable[[str, Any], None],
                  tag: str = "abm") -> None:
    """A slider that reports on release (Vuetify's ``change``), not on every pixel of a drag:
    each change restarts the run, and a drag would otherwise rebuild it dozens of times.

    A log slider's positions stand for values spread evenly on a log scale. A scenario may
    hold a value beyond the slider's usual range: the range widens rather than the slider
    clamping (and silently changing) it. The server checks whatever comes back.
    """
    low, high = span(control, value)
    shown = f"{value:,g}" if control.kind == "float" else f"{int(value):,}"
    css = f"abm-slider {tag}-{control.key.replace('.', '-')}"
    with solara.Column(gap="0px", classes=["abm-setting"]):
        solara.Text(f"{control.label}: {shown}", style={"font-size": "0.85em"})
        if control.log:
            slider = solara.v.Slider(v_model=to_position(control, value, value), min=0,
                                     max=LOG_STEPS, step=1, hide_details=True, dense=True,
                                     label=control.label, class_=css)
        else:
            slider = solara.v.Slider(v_model=value, min=low, max=high, step=control.step,
                                     hide_details=True, dense=True, thumb_label=True,
                                     label=control.label, class_=css)

    def changed(widget, event, data):
        if control.log and isinstance(data, int | float) and not isinstance(data, bool):
            data = from_position(control, float(data), value)
        if isinstance(data, int | float) and not isinstance(data, bool):
            if data == value:
                return
            if control.kind == "int" and abs(data) < 1e18:
                data = int(round(data))
        on_change(control.key, data)  # checked on the server, whatever it is

    solara.v.use_event(slider, "change", changed)


@solara.component
def UptimeTarget(config: Config, on_changes: Callable[[dict[str, Any]], None]) -> None:
    """Set the repair time from a target uptime at the current MTBF (MTTR = MTBF (1-u)/u)."""
    uptime = hardware_uptime(config)
    text = (f"Hardware uptime target: {uptime:.0%}" if config.cameras.repair
            else "Hardware uptime target: no repairs, cameras die off")
    with solara.Column(gap="0px", classes=["abm-setting"]):
        solara.Text(text, style={"font-size": "0.85em"})
        slider = solara.v.Slider(v_model=round(min(max(uptime, UPTIME_LOW), UPTIME_HIGH), 2),
                                 min=UPTIME_LOW, max=UPTIME_HIGH, step=0.01, hide_details=True,
                                 dense=True, thumb_label=True, disabled=not config.cameras.repair,
                                 label="Hardware uptime target", class_="abm-slider abm-uptime")

        def changed(widget, event, data):
            if not isinstance(data, int | float) or isinstance(data, bool) \
                    or not UPTIME_LOW <= data <= UPTIME_HIGH:
                on_changes({"cameras.mttr_days": data})  # refused by the server's check
                return
            mttr = mttr_for_uptime(config.cameras.mtbf_days, float(data))
            on_changes({"cameras.mttr_days": round(mttr, 3)})

        solara.v.use_event(slider, "change", changed)


@solara.component
def SettingsPanel(config: Config, on_change: Callable[[str, Any], None],
                  on_changes: Callable[[dict[str, Any]], None] | None = None,
                  keys: tuple[str, ...] | None = None, tag: str = "abm") -> None:
    """Settings grouped by concept; ``keys`` limits which appear (compare mode's run B)."""
    for group, controls in GROUPS.items():
        shown = [c for c in controls if keys is None or c.key in keys]
        if not shown:
            continue
        with solara.Card(group, margin=0, classes=["abm-group"]):
            for control in shown:
                Setting(control, config.get(control.key), on_change, tag)
                if control.key == "cameras.mttr_days" and on_changes is not None:
                    UptimeTarget(config, on_changes)


@solara.component
def Transport(state: AppState) -> None:
    """Play, pause, step, reset, speed, and the clock of the run(s)."""
    playing = state.playing.value
    state.frame.value  # noqa: B018 - subscribe: the clock and buttons follow every frame
    run = state.run
    finished = run is None or run.finished
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"},
                    classes=["abm-transport"]):
        if playing:
            solara.Button("Pause", icon_name="mdi-pause", on_click=state.pause, color="primary",
                          classes=["abm-pause"])
        else:
            solara.Button("Play", icon_name="mdi-play", on_click=state.play, color="primary",
                          disabled=finished, classes=["abm-play"])
        solara.Button("Step", icon_name="mdi-skip-next", on_click=state.step,
                      disabled=playing or finished, classes=["abm-step"])
        solara.Button("Reset", icon_name="mdi-restore", on_click=state.restart,
                      classes=["abm-reset"])
        solara.Button("Run to end", icon_name="mdi-fast-forward", on_click=state.run_to_end,
                      disabled=finished or state.fast.value, classes=["abm-end"],
                      attributes={"title": "Play to the last day, drawing the map only now "
                                           "and then"})
        labels = list(STEP_CHOICES)
        current = next((k for k, v in STEP_CHOICES.items() if v == state.step_min.value),
                       labels[0])
        with solara.Div(style={"width": "160px"}):
            solara.Select(label="Each step advances", values=labels, value=current,
                          on_value=state.set_speed)
        if run is not None:
            days = run.config.run.days
            solara.Text(f"Day {run.day:.2f} of {days:g}" + (" - done" if finished else ""),
                        classes=["abm-clock"], style={"font-size": "1.1em", "font-weight": "bold"})
            start = run.config.run.start_date
            if start is not None:
                solara.Text(clock_text(run.model.time, start).split("(")[-1].rstrip(")"),
                            classes=["abm-date"], style={"font-size": "1.0em"})
    PlayLoop(state)


@solara.component
def PlayLoop(state: AppState) -> None:
    """While playing, advance a frame, give the browser a moment to show it, repeat.

    The loop runs in a thread of its own. It stops when play stops, when the run ends, or when
    the task is no longer current (play pressed again, or the browser tab closed).
    """
    playing = state.playing.value

    def loop():
        while playing and task.is_current() and state.playing.value:
            time.sleep(FRAME_PAUSE_S)
            if not (task.is_current() and state.playing.value) or not state.step():
                break

    task = solara.lab.use_task(loop, dependencies=[playing], prefer_threaded=True)


# Pause between frames while playing, so the browser can show each map.
FRAME_PAUSE_S = 0.05
