"""The map's legend, beside the map rather than on it: one entry for every symbol drawn.

Entries follow the layers shown and the state of the run: camera entries only once cameras are
installed (a note says when they go live), the hot-spot ramp only when that layer is on.
"""

from __future__ import annotations

from html import escape

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import to_hex

from abm.ui.map import (
    _COVER_ALPHA,
    _HOTSPOT_ALPHA,
    COLOURS,
    CRIME_FADE_DAYS,
    HOTSPOT_CMAP,
    MapRenderer,
    length_text,
)

_SVG = "<svg width='18' height='14' viewBox='0 0 18 14' aria-hidden='true'>{}</svg>"


def _square(colour: str) -> str:
    return _SVG.format(f"<rect x='4' y='2' width='10' height='10' fill='{colour}' "
                       "stroke='white'/>")


def _disc(colour: str) -> str:
    return _SVG.format(f"<circle cx='9' cy='7' r='6.5' fill='{colour}' "
                       f"fill-opacity='{_COVER_ALPHA}'/>")


def _triangle(colour: str) -> str:
    return _SVG.format(f"<polygon points='9,1 16,13 2,13' fill='{colour}' stroke='white'/>")


def _dot(colour: str) -> str:
    return _SVG.format(f"<circle cx='9' cy='7' r='2.5' fill='{colour}' fill-opacity='0.75'/>")


def _cross(colour: str) -> str:
    return _SVG.format(f"<path d='M4 2 L14 12 M14 2 L4 12' stroke='{colour}' "
                       "stroke-width='3.2'/>")


def _street() -> str:
    return _SVG.format(f"<line x1='1' y1='7' x2='17' y2='7' stroke='{COLOURS['street']}' "
                       "stroke-width='2'/>")


def _ramp() -> str:
    cmap = colormaps[HOTSPOT_CMAP]
    stops = "".join(f"<stop offset='{t:.2f}' stop-color='{to_hex(cmap(t))}'/>"
                    for t in np.linspace(0, 1, 6))
    return ("<svg width='54' height='14' viewBox='0 0 54 14' aria-hidden='true'><defs>"
            f"<linearGradient id='abm-ramp'>{stops}</linearGradient></defs><rect x='1' y='2' "
            f"width='52' height='10' fill='url(#abm-ramp)' fill-opacity='{_HOTSPOT_ALPHA}'/>"
            "</svg>")


def entries(renderer: MapRenderer, model, layers: dict[str, bool]) -> list[tuple[str, str]]:
    """(symbol as SVG, label) for everything the map shows now."""
    out = [(_street(), "street")]
    cams = model.cameras
    state = cams.state()
    installed = int((state != -1).sum())
    if installed:
        out += [(_square(COLOURS["camera_up"]), "camera working"),
                (_square(COLOURS["camera_down"]), "camera down (broken, cut off or blocked)")]
        if layers.get("coverage"):
            out += [(_disc(COLOURS["camera_up"]), f"what a working camera sees "
                     f"({length_text(cams.settings.range_m)} around it)"),
                    (_disc(COLOURS["camera_down"]), "what a camera that is down would see")]
    out += [(_triangle(COLOURS["unit_free"]), "police unit on patrol (free)"),
            (_triangle(COLOURS["unit_busy"]), "police unit on a call")]
    if layers.get("offenders"):
        out.append((_dot(COLOURS["offender"]), "offender out and about"))
    if layers.get("recent"):
        out += [(_cross(COLOURS["crime_recorded"]),
                 f"crime in the last {CRIME_FADE_DAYS:g} days, recorded by the police "
                 "(fades with age)"),
                (_cross(COLOURS["crime_unrecorded"]),
                 f"crime in the last {CRIME_FADE_DAYS:g} days, never recorded")]
    if layers.get("hotspots"):
        top = renderer.density_max
        out.append((_ramp(), f"all crimes so far, smoothed over "
                    f"{length_text(round(renderer.bandwidth_m))}: from few to "
                    f"{top:,.0f} crimes per km\u00b2"))
    return out


def note(model, start_date=None) -> str:
    """What the legend cannot show: cameras that are not there yet."""
    cams = model.cameras
    if not cams.cameras:
        return "No cameras in this run."
    if not cams.installed:
        day = model.config.cameras.install_day
        if day >= model.config.run.days:
            return "No cameras in this run: they would go live only after it ends."
        return f"{len(cams.cameras)} cameras go live on day {day:g}; none is drawn before."
    return ""


def legend_html(renderer: MapRenderer, model, layers: dict[str, bool]) -> str:
    rows = "".join(f"<li>{svg}<span>{escape(label)}</span></li>"
                   for svg, label in entries(renderer, model, layers))
    text = note(model)
    extra = f"<p class='abm-legend-note'>{escape(text)}</p>" if text else ""
    return (f"<div class='abm-legend' aria-label='Map legend'><ul>{rows}</ul>"
            f"{extra}</div>")
