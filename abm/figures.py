"""The summary figures people quote (summary.json's keys): their labels and number formats.

One home, read by the app's panels, the lesson pages and the reports' charts, so a figure is
named the same everywhere; a new summary metric gets its label here. A key may also be a ratio
of two figures (``crimes_recorded / crimes_total``).
"""

from __future__ import annotations

# (summary.json key, label, format) in the reading order of the app's summary panel; a label
# indented by two spaces is a part of the row above it.
PANEL = (
    ("sim_days", "Days simulated", "{:.2f}"),
    ("crimes_total", "Crimes (true)", "{:,}"),
    ("crimes_recorded", "Crimes recorded", "{:,}"),
    ("arrests", "Arrests", "{:,}"),
    ("arrests_on_scene", "  on scene", "{:,}"),
    ("arrests_footage", "  from footage", "{:,}"),
    ("clearance_rate", "Clearance rate", "{:.1%}"),
    ("response_time_median_min", "Response time, median (min)", "{:.1f}"),
    ("calls_unanswered", "Calls not (yet) answered", "{:,}"),
    ("crimes_detected_live", "Seen live by operators", "{:,}"),
    ("camera_uptime", "Camera uptime", "{:.1%}"),
    ("camera_coverage", "Street places covered", "{:.1%}"),
    ("crimes_under_working_camera", "Crimes under a working camera", "{:,}"),
    ("crimes_buffer", "Crimes in the buffer zone", "{:,}"),
    ("deterred_attempts", "Deterred attempts", "{:,}"),
    ("perceived_camera_risk_final", "Perceived camera risk", "{:.2f}"),
    ("cost_total_usd", "Cost so far (USD)", "{:,.0f}"),
)
# Further figures a lesson, a compare or a report may show.
OTHERS = (
    ("crimes_coverage", "Crimes inside camera coverage", "{:,}"),
    ("crimes_elsewhere", "Crimes away from cameras", "{:,}"),
    ("crimes_under_camera", "Crimes under a camera", "{:,}"),
    ("crimes_recorded / crimes_total", "Share of crimes recorded", "{:.1%}"),
)
LABELS = {key: label.strip() for key, label, _ in PANEL + OTHERS}
FORMATS = {key: pattern for key, _, pattern in PANEL + OTHERS}
# What a figure counts or divides, where its label alone does not say (charts' axis titles).
DETAILS = {"clearance_rate": "arrests / recorded", "camera_coverage": "share of all places"}

# Figures about cameras mean nothing while none is installed (summary.json still has them).
CAMERA_FIGURES = {"camera_uptime", "camera_coverage", "crimes_under_working_camera",
                  "crimes_buffer", "crimes_detected_live", "perceived_camera_risk_final"}
# Counts by zone: in a pair whose control has no cameras they count crimes at the places the
# other run's cameras watch (or surround), which is how displacement is measured.
ZONE_FIGURES = {"crimes_coverage", "crimes_buffer", "crimes_elsewhere"}


def label(key: str) -> str:
    return LABELS.get(key, key.replace("_", " "))


def title(key: str) -> str:
    """A chart's name for a figure: its label, and what it counts where that is not plain."""
    detail = DETAILS.get(key)
    return f"{label(key)} ({detail})" if detail else label(key)


def mean_format(key: str) -> str:
    """The format of a mean over runs: means of counts get one decimal; shares and rates keep
    their own format."""
    pattern = FORMATS.get(key, "{:,.2f}")
    return "{:,.1f}" if pattern == "{:,}" else pattern
