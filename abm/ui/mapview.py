"""The map on the page: the image, its clock, pointer tooltips, zoom and pan, layers, legend.

The image is the renderer's PNG; a thin Vue overlay on top of it reports the pointer (hover,
wheel, drag) to the server, which answers with a tooltip or a redrawn view. Both maps of a
compare share one view, so they stay aligned.
"""

from __future__ import annotations

from collections.abc import Callable

import solara

from abm.ui.legend import legend_html
from abm.ui.map import LAYERS, clock_text
from abm.ui.state import AppState

LAYER_LABELS = {"recent": "Recent crimes (crosses)", "hotspots": "Hot spots (all crimes so far)",
                "coverage": "Camera coverage", "offenders": "Offenders"}


@solara.component_vue("mapview.vue")
def MapOverlay(tip: dict, view_key: str, event_hover: Callable[[dict], None],
               event_zoom: Callable[[dict], None], event_pan: Callable[[dict], None]) -> None:
    pass


def _get(data, key):
    return data.get(key) if isinstance(data, dict) else None


@solara.component
def CityMap(state: AppState, index: int = 0, label: str = "") -> None:
    """One run's map, captioned with its clock (and a label in compare mode)."""
    state.frame.value  # noqa: B018 - subscribe: the map follows every frame
    runs = state.runs
    if index >= len(runs):
        solara.Info("No run yet.")
        return
    run = runs[index]
    text, x, y = state.tips.value.get(index, ("", 0.0, 0.0))
    view = state.view.value
    caption = clock_text(run.model.time, run.config.run.start_date)
    with solara.Column(gap="4px", classes=["abm-map", f"abm-map-{index}"]):
        # One line, whatever the label: both maps of a compare start at the same height.
        with solara.Row(style={"align-items": "baseline", "flex-wrap": "nowrap", "gap": "8px",
                               "min-width": "0"}, classes=["abm-map-head"]):
            solara.Text(caption, style={"font-weight": "bold"}, classes=["abm-map-caption"])
            if label:
                solara.Text(label, classes=["abm-map-label"],
                            style={"font-size": "0.9em", "min-width": "0", "flex": "1"})
        with solara.Div(classes=["abm-map-frame"]):
            solara.Image(run.image, width="100%", classes=["abm-map-image"])
            MapOverlay(tip={"text": text, "x": x, "y": y},
                       view_key=f"{view.x0:.5f},{view.y0:.5f},{view.width:.5f}",
                       event_hover=lambda d: state.hover(
                           index, None if d is None else [_get(d, "x"), _get(d, "y")]),
                       event_zoom=lambda d: state.zoom(_get(d, "x"), _get(d, "y"),
                                                       _get(d, "factor")),
                       event_pan=lambda d: state.pan(_get(d, "dx"), _get(d, "dy")))


@solara.component
def MapTools(state: AppState) -> None:
    """Zoom, layers, and the map and crime log to download."""
    state.frame.value  # noqa: B018 - subscribe: the downloads follow the run
    layers = state.layers.value
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap", "gap": "2px"},
                    classes=["abm-map-tools"]):
        solara.Button(icon_name="mdi-magnify-plus-outline", icon=True, small=True,
                      on_click=lambda: state.zoom(0.5, 0.5, 0.5), classes=["abm-zoom-in"],
                      attributes={"aria-label": "Zoom in", "title": "Zoom in"})
        solara.Button(icon_name="mdi-magnify-minus-outline", icon=True, small=True,
                      on_click=lambda: state.zoom(0.5, 0.5, 2.0), classes=["abm-zoom-out"],
                      attributes={"aria-label": "Zoom out", "title": "Zoom out"})
        solara.Button(icon_name="mdi-fit-to-page-outline", icon=True, small=True,
                      on_click=state.reset_view, classes=["abm-zoom-reset"],
                      attributes={"aria-label": "Whole city", "title": "Whole city"})
        for name in LAYERS:
            with solara.Div(classes=[f"abm-layer-{name}"], style={"margin": "0 6px"}):
                solara.Checkbox(label=LAYER_LABELS[name], value=layers[name],
                                on_value=lambda on, name=name: state.set_layer(name,
                                                                               bool(on)))


@solara.component
def MapLegend(state: AppState, index: int = 0) -> None:
    state.frame.value  # noqa: B018 - subscribe: entries follow the run (cameras going live)
    if index < len(state.runs):
        run = state.runs[index]
        with state.lock:
            html = legend_html(run.renderer, run.model, state.layers.value)
        solara.HTML(tag="div", unsafe_innerHTML=html)
