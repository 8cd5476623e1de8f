"""Live charts from what the model records: the recorder's daily rows and the crime log.

Charts are ECharts options (plain data, drawn by the browser from the locally served ECharts),
so a refresh costs the server only the JSON of a few series. Every chart can be saved as PNG
(ECharts draws the file in the browser) and its data downloaded as CSV (built here from the
same series, so the file holds exactly what is plotted).
"""

from __future__ import annotations

import csv
import io
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


def _bars(name: str, x: list, y: list, colour: str, **more) -> dict:
    return {"name": name, "type": "bar", "barMaxWidth": 12,
            "data": [list(p) for p in zip(x, y, strict=True)], "itemStyle": {"color": colour},
            **more}


def _axis(name: str, counts: bool = False, **more) -> dict:
    """A y axis with its unit; counts get whole-number ticks and start at zero."""
    axis = {"type": "value", "name": name, "nameTextStyle": {"fontSize": 10, "align": "left"},
            "min": 0, **more}
    if counts:
        axis["minInterval"] = 1
    return axis


def _chart(title: str, series_: list[dict], y_axes: list[dict], x_name: str = "day",
           x_max: float | None = None) -> dict:
    return {
        "animation": False,
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 13}},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 20, "textStyle": {"fontSize": 10}},
        "grid": {"left": 50, "right": 50 if len(y_axes) > 1 else 18, "top": 68, "bottom": 34},
        "xAxis": {"type": "value", "name": x_name, "nameLocation": "middle", "nameGap": 22,
                  "minInterval": 1, "min": 0, "max": x_max,
                  "axisLabel": {"showMaxLabel": x_max is None}},
        "yAxis": y_axes,
        "series": series_,
    }


def _bar_room(x: list[float]) -> float | None:
    """The x axis runs a day past the last bar, so no bar sits on the axis's end."""
    return (math.ceil(max(x)) + 1) if x else None


def chart_options(rows: list[dict], response_times: list[float],
                  by_hour: tuple[list[int], list[int]] | None = None) -> dict[str, dict]:
    """The explore mode's charts, by name."""
    x = days(rows)
    charts = {
        "crimes": _chart("Crimes per day", [
            _line("true", x, series(rows, "crimes_true"), TRUE_COLOUR),
            _line("recorded", x, series(rows, "crimes_recorded"), RECORDED_COLOUR),
        ], [_axis("crimes per day", counts=True)]),
        "arrests": _chart("Arrests per day, clearance rate", [
            _bars("arrests", x, series(rows, "arrests"), "#5e81ac"),
            _line("clearance (so far)", x, cumulative_clearance(rows), "#222222",
                  yAxisIndex=1),
        ], [_axis("arrests per day", counts=True),
            _axis("clearance (share)", max=1, splitLine={"show": False},
                  nameTextStyle={"fontSize": 10, "align": "right"})], x_max=_bar_room(x)),
        "cameras": _chart("Cameras up (daily mean)", [
            _line("up", x, series(rows, "cameras_up_mean"), COLOURS["camera_up"]),
            _line("installed", x, series(rows, "cameras_installed"), "#9e9e9e",
                  line={"type": "dashed"}),
        ], [_axis("cameras", counts=True)]),
        "risk": _chart("Perceived camera risk (offenders' mean)", [
            _line("perceived risk", x, series(rows, "perceived_camera_risk_mean"),
                  COLOURS["camera_down"]),
        ], [_axis("risk (0 to 1)", max=1)]),
    }
    charts["response"] = response_histogram(response_times)
    if by_hour is not None:
        charts["hours"] = hours_chart(*by_hour)
    return charts


def hours_chart(true: list[int], recorded: list[int]) -> dict:
    """Crimes so far by hour of the day (the clock of daytime.clock)."""
    hours = list(range(24))
    return _chart("Crimes by hour of day", [
        _bars("true", hours, true, TRUE_COLOUR),
        _bars("recorded", hours, recorded, RECORDED_COLOUR),
    ], [_axis("crimes", counts=True)], x_name="hour (0 = midnight)")


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
    return _chart(title, [{"name": "calls", "type": "bar", "data": data, "barWidth": "90%",
                           "itemStyle": {"color": "#5e81ac"}}],
                  [_axis("calls", counts=True)], x_name="response time (minutes)")


def _symmetric(values: list[float]) -> float:
    top = max((abs(v) for v in values if v is not None), default=0.0)
    return max(1.0, math.ceil(top))


def difference_option(rows_a: list[dict], rows_b: list[dict]) -> dict:
    """Run B minus run A, in the live pair: crimes per day (true, recorded) and the running
    total. Both axes are symmetric about zero, so their zeros line up."""
    n = min(len(rows_a), len(rows_b))
    a, b = rows_a[:n], rows_b[:n]
    x = days(a)
    true = [tb - ta for ta, tb in zip(series(a, "crimes_true"), series(b, "crimes_true"),
                                      strict=True)]
    recorded = [rb - ra for ra, rb in zip(series(a, "crimes_recorded"),
                                          series(b, "crimes_recorded"), strict=True)]
    running = np.cumsum(true).tolist() if true else []
    per_day, total = _symmetric(true + recorded), _symmetric(running)
    return _chart("Crime difference in the live pair, run B minus run A", [
        _bars("true, per day", x, true, TRUE_COLOUR),
        _line("recorded, per day", x, recorded, RECORDED_COLOUR),
        _line("true, running total", x, running, "#222222", yAxisIndex=1),
    ], [_axis("crimes per day, B - A", min=-per_day, max=per_day, minInterval=1),
        _axis("running total, B - A", min=-total, max=total, minInterval=1,
              splitLine={"show": False}, nameTextStyle={"fontSize": 10, "align": "right"})],
        x_max=_bar_room(x))


def interval_option(title: str, rows: list[tuple[str, float, float, float]],
                    x_name: str) -> dict:
    """Means with 95% intervals, one row each (label, mean, low, high): the interval is the
    box, the mean its middle line. A zero line shows where no difference is."""
    labels = [r[0] for r in rows]
    boxes = [[_round(lo), _round(lo), _round(mean), _round(hi), _round(hi)]
             for _, mean, lo, hi in rows]
    return {
        "animation": False,
        "title": {"text": title, "left": "center", "textStyle": {"fontSize": 13}},
        "tooltip": {"trigger": "item"},
        "grid": {"left": 190, "right": 24, "top": 40, "bottom": 40},
        "xAxis": {"type": "value", "name": x_name, "nameLocation": "middle", "nameGap": 24},
        "yAxis": {"type": "category", "data": labels, "inverse": True,
                  "axisLabel": {"fontSize": 10}},
        "series": [{"name": "95% interval", "type": "boxplot", "data": boxes,
                    "itemStyle": {"color": "#c6dbef", "borderColor": "#2166ac"},
                    "markLine": {"symbol": "none", "silent": True, "data": [{"xAxis": 0}],
                                 "lineStyle": {"color": "#555555", "type": "dashed"}}}],
    }


def _round(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 4)


def option_csv(option: dict) -> str:
    """The data a chart plots, as CSV: one row per x value, one column per series."""
    out = io.StringIO()
    writer = csv.writer(out)
    series_ = option.get("series", [])
    if series_ and series_[0].get("type") == "boxplot":
        labels = option["yAxis"]["data"]
        writer.writerow(["figure", "low_95", "mean", "high_95"])
        for label, box in zip(labels, series_[0]["data"], strict=True):
            writer.writerow([label, box[0], box[2], box[4]])
        return out.getvalue()
    x_name = option.get("xAxis", {}).get("name") or "x"
    columns: dict[float, dict[str, float]] = {}
    for s in series_:
        for x, y in s.get("data", []):
            columns.setdefault(x, {})[s["name"]] = y
    names = [s["name"] for s in series_]
    writer.writerow([x_name, *names])
    for x in sorted(columns):
        writer.writerow([x, *("" if columns[x].get(n) is None else columns[x][n]
                              for n in names)])
    return out.getvalue()


def with_export(option: dict, name: str) -> dict:
    """The option with ECharts' own save-as-PNG button (drawn in the browser)."""
    return {**option, "toolbox": {"right": 4, "top": 0, "feature": {"saveAsImage": {
        "name": f"abm-{name}", "title": "PNG", "pixelRatio": 2}}}}


@solara.component
def Chart(option: dict, name: str, height: str = HEIGHT) -> None:
    with solara.Column(gap="0px", classes=["abm-chart", f"abm-chart-{name}"]):
        solara.FigureEcharts(option=with_export(option, name),
                             attributes={"style": f"height: {height};"}, responsive=True)
        solara.FileDownload(lambda: option_csv(option), filename=f"abm-{name}.csv",
                            label="CSV", mime_type="text/csv",
                            children=[solara.Button("CSV", icon_name="mdi-download",
                                                    text=True, small=True,
                                                    classes=["abm-csv", f"abm-csv-{name}"],
                                                    attributes={"aria-label":
                                                                f"Download the {name} chart's "
                                                                "data as CSV"})])


@solara.component
def Charts(options: dict[str, dict]) -> None:
    """The charts in a grid: three to a row on a wide screen, fewer on a narrow one."""
    with solara.Div(classes=["abm-charts"]):
        for name, option in options.items():
            Chart(option, name)
