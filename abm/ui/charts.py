"""Live charts from what the model records: the recorder's daily rows and the crime log.

Charts are ECharts options (plain data, drawn by the browser from the locally served ECharts),
so a refresh costs the server only the JSON of a few series.
"""

from __future__ import annotations

import math

import numpy as np
import solara

from abm.ui.map import COLOURS

TRUE_COLOUR = "#e66101"
RECORDED_COLOUR = COLOURS["crime_recorded"]
HEIGHT = "230px"


def series(rows: list[dict], column: str) -> list[float | None]:
    """One daily column, rounded for the browser; NaN becomes a gap."""
    out = []
    for row in rows:
        x = row[column]
        out.append(None if x is None or (isinstance(x, float) and math.isnan(x))
                   else round(float(x), 4))
    return out


def days(rows: list[dict]) -> list[float]:
    return [round(r["day"], 3) for r in rows]


def cumulative_clearance(rows: list[dict]) -> list[float | None]:
    """Arrests so far over recorded crimes so far (summary.json's clearance_rate at the end:
    arrests are only ever made for recorded crimes)."""
    arrests = np.cumsum([r["arrests"] for r in rows])
    recorded = np.cumsum([r["crimes_recorded"] for r in rows])
    return [round(float(a / r), 4) if r > 0 else None
            for a, r in zip(arrests, recorded, strict=True)]


def _line(name: str, x: list, y: list, colour: str, **more) -> dict:
    return {"name": name, "type": "line", "data": [list(p) for p in zip(x, y, strict=True)],
            "showSymbol": len(x) < 40, "itemStyle": {"color": colour},
            "lineStyle": {"color": colour, **more.pop("line", {})}, **more}


def _chart(title: str, series_: list[dict], y_name: str = "", y_max=None,
           second_axis: dict | None = None) -> dict:
    y_axes = [{"type": "value", "name": y_name, "min": 0, "max": y_max,
               "nameTextStyle": {"fontSize": 10}}]
    if second_axis:
        y_axes.append({"type": "value", "min": 0, "splitLine": {"show": False},
                       "nameTextStyle": {"fontSize": 10}, **second_axis})
    return {
        "animation": False,
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 13}},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 22, "textStyle": {"fontSize": 10}},
        "grid": {"left": 45, "right": 45 if second_axis else 15, "top": 55, "bottom": 30},
        "xAxis": {"type": "value", "name": "day", "nameLocation": "middle", "nameGap": 20,
                  "minInterval": 1, "min": 0},
        "yAxis": y_axes,
        "series": series_,
    }


def chart_options(rows: list[dict], response_times: list[float]) -> dict[str, dict]:
    """The explore mode's charts, by name."""
    x = days(rows)
    charts = {
        "crimes": _chart("Crimes per day", [
            _line("true", x, series(rows, "crimes_true"), TRUE_COLOUR),
            _line("recorded", x, series(rows, "crimes_recorded"), RECORDED_COLOUR),
        ]),
        "arrests": _chart("Arrests per day, clearance rate", [
            {"name": "arrests", "type": "bar", "barMaxWidth": 12,
             "data": [list(p) for p in zip(x, series(rows, "arrests"), strict=True)],
             "itemStyle": {"color": "#5e81ac"}},
            _line("clearance (so far)", x, cumulative_clearance(rows), "#222222",
                  yAxisIndex=1),
        ], second_axis={"max": 1, "name": "clearance"}),
        "cameras": _chart("Cameras up (daily mean)", [
            _line("up", x, series(rows, "cameras_up_mean"), COLOURS["camera_up"]),
            _line("installed", x, series(rows, "cameras_installed"), "#9e9e9e",
                  line={"type": "dashed"}),
        ]),
        "risk": _chart("Perceived camera risk (offenders' mean)", [
            _line("perceived risk", x, series(rows, "perceived_camera_risk_mean"),
                  COLOURS["camera_down"]),
        ], y_max=1),
    }
    charts["response"] = response_histogram(response_times)
    return charts


def response_histogram(response_times: list[float]) -> dict:
    """Distribution of response times (minutes) of calls answered so far."""
    times = np.asarray(response_times, dtype=float)
    if len(times):
        counts, edges = np.histogram(times, bins=min(30, max(5, len(times) // 3)))
        centres = (edges[:-1] + edges[1:]) / 2
        data = [[round(float(c), 2), int(n)] for c, n in zip(centres, counts, strict=True)]
        title = f"Response times (median {np.median(times):.1f} min, n={len(times)})"
    else:
        data, title = [], "Response times (no call answered yet)"
    option = _chart(title, [{"name": "calls", "type": "bar", "data": data, "barWidth": "90%",
                             "itemStyle": {"color": "#5e81ac"}}], y_name="calls")
    option["xAxis"] = {"type": "value", "name": "minutes", "nameLocation": "middle",
                       "nameGap": 20, "min": 0}
    return option


def difference_option(rows_a: list[dict], rows_b: list[dict]) -> dict:
    """Run B minus run A: crimes per day (true and recorded) and the running total."""
    n = min(len(rows_a), len(rows_b))
    a, b = rows_a[:n], rows_b[:n]
    x = days(a)
    true = [tb - ta for ta, tb in zip(series(a, "crimes_true"), series(b, "crimes_true"),
                                      strict=True)]
    recorded = [rb - ra for ra, rb in zip(series(a, "crimes_recorded"),
                                          series(b, "crimes_recorded"), strict=True)]
    running = np.cumsum(true).tolist() if true else []
    option = _chart("Crime difference, run B minus run A", [
        {"name": "true, per day", "type": "bar", "barMaxWidth": 12,
         "data": [list(p) for p in zip(x, true, strict=True)],
         "itemStyle": {"color": TRUE_COLOUR}},
        _line("recorded, per day", x, recorded, RECORDED_COLOUR),
        _line("true, running total", x, running, "#222222", yAxisIndex=1),
    ], second_axis={"name": "total"})
    for axis in option["yAxis"]:
        axis["min"] = None  # differences go below zero
    return option


@solara.component
def Chart(option: dict, name: str) -> None:
    with solara.Div(classes=["abm-chart", f"abm-chart-{name}"]):
        solara.FigureEcharts(option=option, attributes={"style": f"height: {HEIGHT};"},
                             responsive=True)


@solara.component
def Charts(options: dict[str, dict]) -> None:
    """The charts in a grid, three to a row."""
    with solara.Div(style={"display": "grid", "gap": "8px",
                           "grid-template-columns": "repeat(3, minmax(0, 1fr))"}):
        for name, option in options.items():
            Chart(option, name)
