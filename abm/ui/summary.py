"""The numbers a user can quote: summary.json's figures for the run(s) so far."""

from __future__ import annotations

import json
from html import escape

import solara

# (summary.json key, label, format) in reading order.
FIGURES = (
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


def fmt(value, pattern: str) -> str:
    if value is None:
        return "n/a"
    return pattern.format(value)


def difference(a, b, pattern: str) -> str:
    if a is None or b is None:
        return "n/a"
    text = pattern.format(b - a)
    if not any(ch in "123456789" for ch in text):
        return text.lstrip("-")  # no sign on a difference that rounds to zero
    return text if text.startswith("-") else "+" + text


def summary_rows(summaries: list[dict]) -> list[tuple[str, list[str]]]:
    """(label, cells) per figure; with two runs a B - A cell is added."""
    rows = []
    for key, label, pattern in FIGURES:
        cells = [fmt(s.get(key), pattern) for s in summaries]
        if len(summaries) == 2:
            cells.append(difference(summaries[0].get(key), summaries[1].get(key), pattern))
        rows.append((label, cells))
    return rows


def summary_html(summaries: list[dict], names: list[str]) -> str:
    """An HTML table of the figures (plain HTML: no maths renderer to fetch)."""
    heads = names + (["B - A"] if len(summaries) == 2 else [])
    out = ["<table class='abm-figures'><thead><tr><th></th>"]
    out += [f"<th>{escape(h)}</th>" for h in heads]
    out.append("</tr></thead><tbody>")
    for label, cells in summary_rows(summaries):
        indent = " style='padding-left:18px'" if label.startswith(" ") else ""
        out.append(f"<tr><td{indent}>{escape(label.strip())}</td>")
        out += [f"<td class='num'>{escape(c)}</td>" for c in cells]
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


@solara.component
def SummaryPanel(summaries: list[dict], names: list[str]) -> None:
    """The figures, and the full summary.json of each run to download."""
    with solara.Column(gap="4px", classes=["abm-summary"]):
        solara.HTML(tag="div", unsafe_innerHTML=summary_html(summaries, names))
        with solara.Row():
            for summary, name in zip(summaries, names, strict=True):
                stem = name.lower().replace(" ", "-")
                solara.FileDownload(json.dumps(summary, indent=2) + "\n",
                                    filename=f"summary-{stem}.json",
                                    label=f"summary.json ({name})")
