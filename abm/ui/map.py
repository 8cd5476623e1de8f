"""The city map: streets drawn once per model from real node positions, movers redrawn per frame.

The street layer, legend and frame are rendered once into a cached background; each frame
restores that background and draws only what moves or changes (camera state, coverage, police,
offenders, recent crimes). This blitting keeps a frame of the default town to a few milliseconds
of drawing plus the PNG encoding.
"""

from __future__ import annotations

import io
import weakref

import numpy as np
import solara
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import EllipseCollection, LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from abm.model import MINUTES_PER_DAY, SafeCityModel

# How long a crime stays on the map, fading out (days).
CRIME_FADE_DAYS = 7.0

COLOURS = {
    "street": "#b8bcc2",
    "camera_up": "#1a9850",
    "camera_down": "#d73027",
    "camera_pending": "#9e9e9e",
    "unit_free": "#2166ac",
    "unit_busy": "#f1a340",
    "offender": "#3b3b3b",
    "crime_recorded": "#7b3294",
    "crime_unrecorded": "#c2a5cf",
}
_STATE_COLOURS = {1: "camera_up", 0: "camera_down", -1: "camera_pending"}
_COVER_ALPHA = 0.22


def _rgba(name: str, alpha: float = 1.0) -> np.ndarray:
    return np.array(to_rgba(COLOURS[name], alpha))


class MapRenderer:
    """Draws one model's city to PNG bytes; the static layers are rendered only once."""

    def __init__(self, model: SafeCityModel, width_px: int = 640, dpi: int = 100) -> None:
        city = model.city
        xy = city.xy
        self.xy = xy
        self.camera_nodes = np.asarray(model.cameras.nodes, dtype=np.intp)
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        span = np.maximum(hi - lo, 1.0)
        pad = 0.03 * span.max()
        aspect = (span[1] + 2 * pad) / (span[0] + 2 * pad)
        height_px = int(np.clip(round(width_px * aspect), width_px // 3, 2 * width_px))
        self.figure = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        ax = self.figure.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        ax.set_xlim(lo[0] - pad, hi[0] + pad)
        ax.set_ylim(lo[1] - pad, hi[1] + pad)
        ax.set_aspect("equal", adjustable="datalim")
        self.ax = ax
        edges = city.edge_array()
        streets = LineCollection(xy[edges], colors=COLOURS["street"], linewidths=0.8, zorder=1)
        ax.add_collection(streets)
        self._legend(ax)

        radius = model.config.cameras.range_m
        cam_xy = xy[self.camera_nodes].reshape(-1, 2)
        n_cam = len(cam_xy)
        self.coverage = EllipseCollection(
            np.full(n_cam, 2 * radius), np.full(n_cam, 2 * radius), np.zeros(n_cam),
            units="xy", offsets=cam_xy, offset_transform=ax.transData, linewidths=0,
            zorder=2, animated=True)
        ax.add_collection(self.coverage)
        self.cameras = ax.scatter(cam_xy[:, 0], cam_xy[:, 1], s=26, marker="s", linewidths=0.6,
                                  edgecolors="white", zorder=4, animated=True)
        empty = np.zeros((0, 2))
        self.crimes = ax.scatter(empty[:, 0], empty[:, 1], s=30, marker="X", linewidths=0,
                                 zorder=3, animated=True)
        self.offenders = ax.scatter(empty[:, 0], empty[:, 1], s=7, c=COLOURS["offender"],
                                    linewidths=0, alpha=0.75, zorder=5, animated=True)
        self.units = ax.scatter(empty[:, 0], empty[:, 1], s=60, marker="^", linewidths=0.8,
                                edgecolors="white", zorder=6, animated=True)
        # No text among the movers: laying out text costs more than all the markers together;
        # the time is shown beside the map instead.
        self.movers = (self.coverage, self.crimes, self.cameras, self.offenders, self.units)
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)

    @staticmethod
    def _legend(ax) -> None:
        def mark(marker, colour, label, size=7):
            return Line2D([], [], linestyle="", marker=marker, markersize=size,
                          markerfacecolor=COLOURS[colour], markeredgecolor="white", label=label)

        handles = [
            mark("s", "camera_up", "camera working"),
            mark("s", "camera_down", "camera broken"),
            mark("^", "unit_free", "police free", 8),
            mark("^", "unit_busy", "police on a call", 8),
            mark("o", "offender", "offender", 5),
            mark("X", "crime_recorded", "crime, recorded"),
            mark("X", "crime_unrecorded", "crime, unrecorded"),
        ]
        ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.85,
                  borderpad=0.4, handletextpad=0.3, labelspacing=0.25)

    # --- one frame ------------------------------------------------------------------------

    def update(self, model: SafeCityModel) -> None:
        """Move the dynamic artists to the model's present state."""
        state = model.cameras.state()
        colours = np.array([_rgba(_STATE_COLOURS[int(s)]) for s in state]).reshape(-1, 4)
        self.cameras.set_facecolors(colours)
        cover = colours.copy()
        cover[:, 3] = np.where(state == -1, 0.08, _COVER_ALPHA)
        self.coverage.set_facecolors(cover)

        where = model.positions()
        self.offenders.set_offsets(self.xy[where["offenders"]].reshape(-1, 2))
        busy = where["units_busy"]
        self.units.set_offsets(self.xy[where["units"]].reshape(-1, 2))
        self.units.set_facecolors(np.where(busy[:, None], _rgba("unit_busy"),
                                           _rgba("unit_free")).reshape(-1, 4))

        nodes, ages, recorded = recent_crimes(model, CRIME_FADE_DAYS * MINUTES_PER_DAY)
        colours = np.where(recorded[:, None], _rgba("crime_recorded"),
                           _rgba("crime_unrecorded")).reshape(-1, 4)
        colours[:, 3] = np.clip(1.0 - ages / (CRIME_FADE_DAYS * MINUTES_PER_DAY), 0.1, 1.0)
        self.crimes.set_offsets(self.xy[nodes].reshape(-1, 2))
        self.crimes.set_facecolors(colours)

    def draw(self, model: SafeCityModel) -> np.ndarray:
        """Redraw the moving layers over the cached background; returns the RGBA pixels."""
        self.update(model)
        self.canvas.restore_region(self.background)
        for artist in self.movers:
            self.ax.draw_artist(artist)
        return np.asarray(self.canvas.buffer_rgba())

    def png(self, model: SafeCityModel) -> bytes:
        """The map now, as PNG bytes (fast zlib level: the frame budget matters more)."""
        pixels = self.draw(model)
        out = io.BytesIO()
        Image.fromarray(pixels[:, :, :3]).save(out, format="png", compress_level=1)
        return out.getvalue()


def recent_crimes(model: SafeCityModel, window_min: float):
    """Nodes, ages (min) and recorded flags of crimes in the last ``window_min`` minutes."""
    nodes, ages, recorded = [], [], []
    now = model.time
    for crime in reversed(model.crimes):  # the log is in time order: stop at the window's edge
        age = now - crime.time_min
        if age > window_min:
            break
        nodes.append(crime.node)
        ages.append(age)
        recorded.append(crime.recorded)
    return (np.array(nodes, dtype=np.intp), np.array(ages, dtype=float),
            np.array(recorded, dtype=bool))


def clock_text(minutes: float) -> str:
    day, rest = divmod(minutes, MINUTES_PER_DAY)
    hour, minute = divmod(rest, 60)
    return f"Day {int(day)}  {int(hour):02d}:{int(minute):02d}"


_RENDERERS: weakref.WeakKeyDictionary[SafeCityModel, MapRenderer] = weakref.WeakKeyDictionary()


def renderer_for(model: SafeCityModel) -> MapRenderer:
    """The model's renderer, built (streets drawn) on first use and kept while the model lives."""
    renderer = _RENDERERS.get(model)
    if renderer is None:
        renderer = _RENDERERS[model] = MapRenderer(model)
    return renderer


@solara.component
def CityMap(image: bytes, time_min: float, label: str = "") -> None:
    """The map image of one model, captioned with its clock (and a label in compare mode)."""
    caption = clock_text(time_min) + (f" - {label}" if label else "")
    with solara.Column(gap="4px", classes=["abm-map"]):
        solara.Text(caption, style={"font-weight": "bold"}, classes=["abm-map-caption"])
        solara.Image(image, width="100%", classes=["abm-map-image"])
