"""Figures with uncertainty: the replicates' progress, then their table, chart and data.

What a user may quote: each figure's mean over the replicate seeds with its 95% interval, for
run A, run B and their difference seed by seed (abm.comparison). The live runs on the map are
one history each; this panel says so.
"""

from __future__ import annotations

import math

import solara

from abm.comparison import PairResult
from abm.figures import CAMERA_FIGURES, ZONE_FIGURES
from abm.figures import label as label_of
from abm.ui.charts import Chart, interval_option
from abm.ui.replicates import Replicates
from abm.ui.summary import available, interval_html, without_cameras

# Figures shown for a compare, in reading order.
COMPARE_FIGURES = ["crimes_total", "crimes_recorded", "crimes_coverage", "crimes_buffer",
                   "crimes_elsewhere", "arrests", "arrests_on_scene", "arrests_footage",
                   "clearance_rate", "response_time_median_min", "crimes_detected_live",
                   "camera_uptime", "perceived_camera_risk_final", "cost_total_usd"]


def relative_rows(result: PairResult, keys: list[str]) -> list[tuple[str, float, float, float]]:
    """B - A as a percentage of A's mean, with its interval, for figures where A's mean is
    not zero."""
    rows = []
    bare = without_cameras(result, "A") or without_cameras(result, "B")
    for key in keys:
        if bare and key in CAMERA_FIGURES and key not in ZONE_FIGURES:
            continue
        figure = result.figure(key)
        base = figure.a[1]
        n, mean, lo, hi = figure.diff
        if n and base and math.isfinite(base) and math.isfinite(mean):
            scale = 100.0 / abs(base)
            rows.append((label_of(key), mean * scale, lo * scale, hi * scale))
    return rows


@solara.component
def Progress(replicates: Replicates, what: str) -> None:
    done, total = replicates.progress.value
    error = replicates.error.value
    if error:
        solara.Warning(error, classes=["abm-replicates-error"])
    elif replicates.result.value is None and total:
        with solara.Column(gap="2px", classes=["abm-replicates-progress"]):
            solara.Text(f"{what}: {done} of {total} runs done", style={"font-size": "0.9em"})
            solara.ProgressLinear(value=100 * done / total if total else 0)


@solara.component
def IntervalFigures(result: PairResult, keys: list[str], names: tuple[str, str],
                    chart: bool = True, tag: str = "compare") -> None:
    """The table (A, B, B - A with 95% intervals), the chart of B - A and the runs as CSV."""
    shown = available(result, keys)
    n = result.pair.replicates
    paired = result.pair.a is not None
    with solara.Column(gap="4px", classes=["abm-interval-figures"]):
        solara.Text(f"Over {n} replicate seeds (mean and 95% interval"
                    + ("; B - A taken seed by seed)" if paired else ")")
                    + (f"; {result.failed} runs failed" if result.failed else ""),
                    style={"font-size": "0.85em"}, classes=["abm-interval-note"])
        solara.HTML(tag="div", unsafe_innerHTML=interval_html(result, shown, names))
        if paired and without_cameras(result, "A") and not without_cameras(result, "B"):
            solara.Text("A has no cameras: its figures by zone count crimes at the places B's "
                        "cameras watch, around them and elsewhere, so the two can be compared.",
                        style={"font-size": "0.8em", "color": "#555"})
        if chart and paired:
            rows = relative_rows(result, shown)
            if rows:
                Chart(interval_option("B against A over the replicates", rows,
                                      "change against A, % (95% interval)"),
                      f"{tag}-intervals", height=f"{90 + 26 * len(rows)}px")
        solara.FileDownload(lambda: result.csv(), filename=f"abm-{tag}-replicates.csv",
                            mime_type="text/csv",
                            children=[solara.Button("Replicates as CSV", icon_name="mdi-download",
                                                    text=True, small=True,
                                                    classes=["abm-replicates-csv"])])
