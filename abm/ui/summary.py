"""The numbers a user can quote: summary.json's figures for the run(s) so far, and the
replicates' figures with their 95% intervals."""

from __future__ import annotations

import json
import math
from html import escape

import solara

from abm.comparison import Figure, PairResult
from abm.figures import CAMERA_FIGURES, PANEL, ZONE_FIGURES, label, mean_format

FIGURES = PANEL  # the summary panel's rows
NO_CAMERAS = "no cameras"


def fmt(value, pattern: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
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
    for key, name, pattern in FIGURES:
        cells = [NO_CAMERAS if key in CAMERA_FIGURES and not s.get("cameras_installed")
                 else fmt(s.get(key), pattern) for s in summaries]
        if len(summaries) == 2:
            cells.append("" if NO_CAMERAS in cells else
                         difference(summaries[0].get(key), summaries[1].get(key), pattern))
        rows.append((name, cells))
    return rows


def summary_html(summaries: list[dict], names: list[str]) -> str:
    """An HTML table of the figures (plain HTML: no maths renderer to fetch)."""
    heads = names + (["B - A"] if len(summaries) == 2 else [])
    out = ["<table class='abm-figures'><thead><tr><th></th>"]
    out += [f"<th>{escape(h)}</th>" for h in heads]
    out.append("</tr></thead><tbody>")
    for name, cells in summary_rows(summaries):
        indent = " style='padding-left:18px'" if name.startswith(" ") else ""
        out.append(f"<tr><td{indent}>{escape(name.strip())}</td>")
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


# --- replicates ---------------------------------------------------------------------------




def with_interval(stats: tuple[int, float, float, float], pattern: str, signed=False) -> str:
    n, mean, lo, hi = stats
    if n == 0 or not math.isfinite(mean):
        return "n/a"
    text = pattern.format(mean)
    if signed and not text.startswith("-") and any(c in "123456789" for c in text):
        text = "+" + text
    if n >= 2 and math.isfinite(lo):
        text += f" ({pattern.format(lo)} to {pattern.format(hi)})"
    return text


def direction_words(figure: Figure) -> str:
    return {"up": "higher in B", "down": "lower in B",
            "same": "no clear difference"}[figure.direction]


def without_cameras(result: PairResult, label: str) -> bool:
    """Whether no run of one side (A or B) had a camera installed."""
    runs = result.runs[result.runs["label"] == label]
    return "cameras_installed" in runs and len(runs) > 0 and \
        bool((runs["cameras_installed"] == 0).all())


def interval_rows(result: PairResult, keys: list[str]) -> list[tuple[str, list[str]]]:
    """(label, cells) per figure: A and B (mean, 95% interval), and B - A seed by seed.
    Camera figures of a side without cameras read "no cameras"."""
    paired = result.pair.a is not None
    bare = {side: without_cameras(result, side) for side in ("A", "B")}
    rows = []
    for key in keys:
        figure = result.figure(key)
        pattern = mean_format(key)
        camera = key in CAMERA_FIGURES and not (paired and key in ZONE_FIGURES)
        if camera and bare["B"] and (not paired or bare["A"]):
            continue
        cells = []
        if paired:
            cells.append(NO_CAMERAS if camera and bare["A"] else
                         with_interval(figure.a, pattern))
        cells.append(NO_CAMERAS if camera and bare["B"] else with_interval(figure.b, pattern))
        if paired:
            if camera and (bare["A"] or bare["B"]):
                cells += ["", ""]
            else:
                cells += [with_interval(figure.diff, pattern, signed=True),
                          direction_words(figure)]
        rows.append((label(key), cells))
    return rows


def interval_html(result: PairResult, keys: list[str], names: tuple[str, str]) -> str:
    paired = result.pair.a is not None
    heads = ([*names, "B - A", ""] if paired else [names[1]])
    out = ["<table class='abm-figures abm-intervals'><thead><tr><th></th>"]
    out += [f"<th>{escape(h)}</th>" for h in heads]
    out.append("</tr></thead><tbody>")
    for name, cells in interval_rows(result, keys):
        out.append(f"<tr><td>{escape(name)}</td>")
        out += [f"<td class='num'>{escape(c)}</td>" for c in cells]
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def available(result: PairResult, keys: list[str]) -> list[str]:
    """The keys a result can show (summary figures it has, ratios of two it has)."""
    columns = set(result.runs.columns)
    return [k for k in keys if all(part.strip() in columns for part in k.split("/"))]
