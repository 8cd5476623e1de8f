"""The city map: streets drawn once per view from real node positions, movers redrawn per frame.

The street layer, the city's name and the scale bar are rendered once per view (zoom and pan
change it) into a cached background; each frame restores that background and draws only what
moves or changes (camera state, coverage, where crime has been, police, offenders, recent
crimes). This blitting keeps a frame of the default town to a few milliseconds of drawing
plus the PNG encoding. The legend is not drawn here: it stands beside the map (abm.ui.legend),
so nothing on the map covers it and it lists exactly the layers shown.

Only what exists is drawn: cameras not installed yet have no marker and no coverage.
"""

from __future__ import annotations

import io
import math
import weakref
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import EllipseCollection, LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from PIL import Image

from abm.cameras import Fault, Zone
from abm.model import SafeCityModel
from abm.streets import LandUse
from abm.ui.hotspots import density
from abm.units import MINUTES_PER_DAY

# How long a crime stays on the map, fading out (days).
CRIME_FADE_DAYS = 7.0

COLOURS = {
    "street": "#b8bcc2",
    "camera_up": "#1a9850",
    "camera_down": "#d73027",
    "unit_free": "#2166ac",
    "unit_busy": "#f1a340",
    "offender": "#3b3b3b",
    "crime_recorded": "#7b3294",
    "crime_unrecorded": "#c2a5cf",
}
HOTSPOT_CMAP = "YlOrRd"
_COVER_ALPHA = 0.22
_HOTSPOT_ALPHA = 0.65
# Layers a user can switch, and whether each is on at first.
LAYERS = {"recent": True, "hotspots": False, "coverage": True, "offenders": True}
# How near the pointer (pixels of the map image) a camera or a unit must be for its tooltip.
HIT_PX = 9.0
# Zoom limits: the view is never wider than the whole city nor narrower than this share of it.
MIN_VIEW = 0.04
# Cells across the view in the hot-spot layer's grid (the image smooths between them).
HOTSPOT_CELLS = 160


def _rgba(name: str, alpha: float = 1.0) -> np.ndarray:
    return np.array(to_rgba(COLOURS[name], alpha))


@dataclass(frozen=True)
class View:
    """The part of the city shown, as shares of the whole map: left, right, bottom, top."""

    x0: float = 0.0
    x1: float = 1.0
    y0: float = 0.0
    y1: float = 1.0

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    def zoom(self, fx: float, fy: float, factor: float) -> View:
        """Zoom by ``factor`` (below 1: closer) about a point given as shares of the view
        (from the image's top left, as the browser reports it)."""
        factor = min(max(float(factor), 0.2), 5.0)
        cx, cy = self.x0 + fx * self.width, self.y1 - fy * (self.y1 - self.y0)
        width = min(max(self.width * factor, MIN_VIEW), 1.0)
        x0 = cx - (cx - self.x0) * width / self.width
        y0 = cy - (cy - self.y0) * width / self.width
        return View(x0, x0 + width, y0, y0 + width).inside()

    def pan(self, dfx: float, dfy: float) -> View:
        """Move the view by a drag of (dfx, dfy) shares of the view (the city follows)."""
        dx, dy = -float(dfx) * self.width, float(dfy) * (self.y1 - self.y0)
        return View(self.x0 + dx, self.x1 + dx, self.y0 + dy, self.y1 + dy).inside()

    def inside(self) -> View:
        """The same size, moved back inside the whole map."""
        w, h = self.width, self.y1 - self.y0
        x0 = min(max(self.x0, 0.0), 1.0 - w)
        y0 = min(max(self.y0, 0.0), 1.0 - h)
        return View(x0, x0 + w, y0, y0 + h)


FULL = View()


def nice_length(metres: float) -> float:
    """A round length (1, 2 or 5 times a power of ten) of about ``metres``."""
    if metres <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(metres))
    for step in (5, 2, 1):
        if step * power <= metres:
            return step * power
    return power


def length_text(metres: float) -> str:
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"


def city_name(name: str | None) -> str:
    """A scenario's name as a heading: ``teaching-town`` -> ``Teaching town``."""
    text = (name or "city").replace("-", " ").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


class MapRenderer:
    """Draws one model's city to PNG bytes; the static layers are rendered once per view."""

    def __init__(self, model: SafeCityModel, width_px: int = 640, dpi: int = 100,
                 name: str | None = None) -> None:
        city = model.city
        xy = city.xy
        self.xy = xy
        self.name = city_name(name or model.config.run.name)
        self.synthetic = model.config.city.source == "generator"
        self.camera_nodes = np.asarray(model.cameras.nodes, dtype=np.intp)
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        span = np.maximum(hi - lo, 1.0)
        side = float(span.max())
        pad = 0.03 * side
        # A square map: zooming keeps its shape, and both runs of a compare line up.
        cx, cy = (lo + hi) / 2
        half = side / 2 + pad
        self.extent = (cx - half, cx + half, cy - half, cy + half)
        self.width_px = width_px
        self.figure = Figure(figsize=(width_px / dpi, width_px / dpi), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        ax = self.figure.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        self.ax = ax
        edges = city.edge_array()
        self.streets = LineCollection(xy[edges], colors=COLOURS["street"], linewidths=0.8,
                                      zorder=1)
        ax.add_collection(self.streets)
        seg = xy[edges]
        lengths = np.hypot(*(seg[:, 0] - seg[:, 1]).T) if len(seg) else np.array([100.0])
        # Smoothing of the hot-spot layer: about two street segments (a block and its
        # neighbours), the scale at which crime concentrates (Weisburd 2015).
        self.bandwidth_m = 2.0 * float(np.median(lengths))
        self._density_at = -1
        self._overlay = None  # the hot-spot layer in this view's pixels (RGBA image)
        self.density_max = 0.0  # crimes per km2 at the hottest cell, for the legend
        self._counts_at = -1
        self._records_at: tuple | None = None
        self._records = None
        self._counts = np.zeros(city.n, dtype=np.int64)
        self._recorded = np.zeros(city.n, dtype=np.int64)

        radius = model.config.cameras.range_m
        cam_xy = xy[self.camera_nodes].reshape(-1, 2)
        self.cam_xy = cam_xy
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
        self.layer_artists = {"coverage": (self.coverage,), "recent": (self.crimes,),
                              "offenders": (self.offenders,)}
        self._lut = (colormaps[HOTSPOT_CMAP](np.linspace(0, 1, 256))[:, :3] * 255)
        self.layers = dict(LAYERS)
        self.view = FULL
        self._labels: list = []
        self._render_background()

    # --- the view -------------------------------------------------------------------------

    def limits(self, view: View | None = None) -> tuple[float, float, float, float]:
        """The view in metres: x from, x to, y from, y to."""
        v = view or self.view
        x0, x1, y0, y1 = self.extent
        w, h = x1 - x0, y1 - y0
        return x0 + v.x0 * w, x0 + v.x1 * w, y0 + v.y0 * h, y0 + v.y1 * h

    def set_view(self, view: View) -> None:
        """Show another part of the city (redraws the streets once)."""
        view = view.inside()
        if view != self.view:
            self.view = view
            self._overlay = None
            self._render_background()

    def set_layers(self, layers: dict[str, bool]) -> None:
        self.layers = {k: bool(layers.get(k, on)) for k, on in LAYERS.items()}

    def _render_background(self) -> None:
        x0, x1, y0, y1 = self.limits()
        self.ax.set_xlim(x0, x1)
        self.ax.set_ylim(y0, y1)
        for label in self._labels:
            label.remove()
        self._labels = self._scale_bar(x1 - x0) + [self._title()]
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)
        self.background_shape = np.asarray(self.canvas.buffer_rgba()).shape[:2]

    def _title(self):
        text = self.name + (" - synthetic streets" if self.synthetic else "")
        return self.ax.text(0.015, 0.985, text, transform=self.ax.transAxes, ha="left",
                            va="top", fontsize=9, fontweight="bold", zorder=10,
                            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none",
                                  "pad": 2})

    def _scale_bar(self, width_m: float) -> list:
        length = nice_length(width_m / 5)
        share = length / width_m
        x, y = 0.03, 0.035
        line = self.ax.plot([x, x + share], [y, y], transform=self.ax.transAxes,
                            color="#222222", linewidth=2.5, solid_capstyle="butt", zorder=10)
        ticks = self.ax.plot([x, x, x + share, x + share], [y - 0.008, y + 0.008,
                             y + 0.008, y - 0.008], transform=self.ax.transAxes,
                             color="#222222", linewidth=1, linestyle="none", marker="|",
                             markersize=6, zorder=10)
        text = self.ax.text(x + share / 2, y + 0.012, length_text(length),
                            transform=self.ax.transAxes, ha="center", va="bottom", fontsize=8,
                            zorder=10, bbox={"facecolor": "white", "alpha": 0.7,
                                             "edgecolor": "none", "pad": 1})
        return [*line, *ticks, text]

    # --- where crime has been -------------------------------------------------------------

    def crime_counts(self, model: SafeCityModel) -> tuple[np.ndarray, np.ndarray]:
        """Crimes so far at each place, and how many of them were recorded."""
        if self._counts_at != len(model.crimes):
            n = model.city.n
            nodes = np.fromiter((c.node for c in model.crimes), dtype=np.intp,
                                count=len(model.crimes))
            recorded = np.fromiter((c.recorded for c in model.crimes), dtype=bool,
                                   count=len(model.crimes))
            self._counts = np.bincount(nodes, minlength=n)
            self._recorded = np.bincount(nodes[recorded], minlength=n)
            self._counts_at = len(model.crimes)
        return self._counts, self._recorded

    def camera_records(self, model: SafeCityModel):
        """Each camera's record so far (abm.camera_records), kept until the model moves on."""
        from abm.camera_records import camera_frame
        from abm.metrics import crime_frame

        key = (model.time, len(model.crimes))
        if self._records_at != key:
            self._records = camera_frame(model, crime_frame(model.crimes))
            self._records_at = key
        return self._records

    def _update_density(self, model: SafeCityModel) -> None:
        """The hot-spot layer for this view: a density of every crime so far, coloured, with
        an opacity that rises with it (recomputed when crimes or the view change)."""
        if self._density_at == len(model.crimes) and self._overlay is not None:
            return
        counts, _ = self.crime_counts(model)
        placed = np.flatnonzero(counts)
        x0, x1, y0, y1 = self.limits()
        cell = (x1 - x0) / HOTSPOT_CELLS
        pad = int(np.ceil(3 * self.bandwidth_m / cell))  # crimes just outside still count
        extent = (x0 - pad * cell, x1 + pad * cell, y0 - pad * cell, y1 + pad * cell)
        grid, cell_km2 = density(self.xy[placed], counts[placed], extent,
                                 HOTSPOT_CELLS + 2 * pad, self.bandwidth_m)
        grid = grid[pad:pad + HOTSPOT_CELLS, pad:pad + HOTSPOT_CELLS]
        top = float(grid.max()) if grid.size else 0.0
        self.density_max = top / cell_km2
        share = grid / top if top > 0 else grid
        rgba = np.zeros((*share.shape, 4), dtype=np.uint8)
        rgba[..., :3] = self._lut[np.clip(share * 255, 0, 255).astype(np.uint8)]
        rgba[..., 3] = (255 * _HOTSPOT_ALPHA * np.clip((share - 0.02) / 0.15, 0, 1))
        height, width = self.background_shape
        self._overlay = Image.fromarray(rgba[::-1]).resize((width, height),
                                                           Image.Resampling.BILINEAR)
        self._density_at = len(model.crimes)

    def _blend_hotspots(self) -> None:
        """Lay the hot-spot layer over the streets, under everything else, in the pixels."""
        pixels = np.asarray(self.canvas.buffer_rgba())
        height, width = pixels.shape[:2]
        below = Image.frombuffer("RGBA", (width, height), pixels, "raw", "RGBA", 0, 1)
        pixels[...] = np.asarray(Image.alpha_composite(below, self._overlay))

    # --- one frame ------------------------------------------------------------------------

    def update(self, model: SafeCityModel) -> None:
        """Move the dynamic artists to the model's present state."""
        state = model.cameras.state()
        colours = np.where((state == 1)[:, None], _rgba("camera_up"),
                           _rgba("camera_down")).reshape(-1, 4)
        installed = state != -1
        colours[~installed, 3] = 0.0  # not installed: nothing drawn
        edges = np.tile(to_rgba("white"), (len(state), 1))
        edges[~installed, 3] = 0.0
        self.cameras.set_facecolors(colours)
        self.cameras.set_edgecolors(edges)
        cover = colours.copy()
        cover[:, 3] = np.where(installed, _COVER_ALPHA, 0.0)
        self.coverage.set_facecolors(cover)
        if self.layers["hotspots"]:
            self._update_density(model)

        where = model.positions()
        if self.layers["offenders"]:
            self.offenders.set_offsets(self.xy[where["offenders"]].reshape(-1, 2))
        busy = where["units_busy"]
        self.units.set_offsets(self.xy[where["units"]].reshape(-1, 2))
        self.units.set_facecolors(np.where(busy[:, None], _rgba("unit_busy"),
                                           _rgba("unit_free")).reshape(-1, 4))

        if self.layers["recent"]:
            nodes, ages, recorded = recent_crimes(model, CRIME_FADE_DAYS * MINUTES_PER_DAY)
            colours = np.where(recorded[:, None], _rgba("crime_recorded"),
                               _rgba("crime_unrecorded")).reshape(-1, 4)
            colours[:, 3] = np.clip(1.0 - ages / (CRIME_FADE_DAYS * MINUTES_PER_DAY), 0.1, 1.0)
            self.crimes.set_offsets(self.xy[nodes].reshape(-1, 2))
            self.crimes.set_facecolors(colours)

    def movers(self) -> list:
        out = []
        for artist in (self.coverage, self.crimes, self.cameras, self.offenders, self.units):
            layer = next((k for k, arts in self.layer_artists.items() if artist in arts), None)
            if layer is None or self.layers[layer]:
                out.append(artist)
        return out

    def draw(self, model: SafeCityModel) -> np.ndarray:
        """Redraw the moving layers over the cached background; returns the RGBA pixels."""
        self.update(model)
        self.canvas.restore_region(self.background)
        if self.layers["hotspots"]:
            self._blend_hotspots()
        for artist in self.movers():
            self.ax.draw_artist(artist)
        return np.asarray(self.canvas.buffer_rgba())

    def png(self, model: SafeCityModel) -> bytes:
        """The map now, as PNG bytes (fast zlib level: the frame budget matters more)."""
        pixels = self.draw(model)
        out = io.BytesIO()
        Image.fromarray(pixels[:, :, :3]).save(out, format="png", compress_level=1)
        return out.getvalue()

    # --- what is under the pointer ------------------------------------------------------

    def share(self, x: float, y: float) -> tuple[float, float]:
        """Where a point (metres) is on the image, as shares from its top left."""
        x0, x1, y0, y1 = self.limits()
        return (x - x0) / (x1 - x0), (y1 - y) / (y1 - y0)

    def point(self, fx: float, fy: float) -> tuple[float, float]:
        """The point (metres) at shares (fx, fy) of the image from its top left."""
        x0, x1, y0, y1 = self.limits()
        return x0 + fx * (x1 - x0), y1 - fy * (y1 - y0)

    def describe(self, model: SafeCityModel, fx: float, fy: float) -> str:
        """The tooltip at a point of the image: a unit, a camera, or else the nearest place."""
        x, y = self.point(fx, fy)
        x0, x1, _, _ = self.limits()
        reach = HIT_PX * (x1 - x0) / self.width_px
        here = np.array([x, y])
        where = model.positions()
        if len(where["units"]):
            d = np.hypot(*(self.xy[where["units"]] - here).T)
            i = int(np.argmin(d))
            if d[i] <= reach:
                return unit_text(model, i)
        state = model.cameras.state()
        if len(state):
            d = np.hypot(*(self.cam_xy - here).T)
            d[state == -1] = np.inf
            i = int(np.argmin(d))
            if d[i] <= reach:
                return camera_text(model, i, int(self.camera_records(model)["crimes_seen"][i]))
        dist, node = model.city.kdtree.query(here)
        if dist <= 3 * reach:
            counts, recorded = self.crime_counts(model)
            return place_text(model, int(node), int(counts[node]), int(recorded[node]))
        return ""


def unit_text(model: SafeCityModel, index: int) -> str:
    unit = model.units[index]
    duty = {"PATROL": "on patrol (free)", "RESPONDING": "driving to a call",
            "AT_SCENE": "at a scene"}.get(unit.duty.name, unit.duty.name.lower())
    return (f"Police unit {index + 1}: {duty}; calls answered so far: "
            f"{unit.calls_answered:,}")


def camera_text(model: SafeCityModel, index: int, seen: int) -> str:
    """A camera's tooltip; ``seen``: crimes so far at the places it watches while it was up
    (abm.camera_records, as cameras.parquet counts them)."""
    cams = model.cameras
    camera = cams.cameras[index]
    if camera.up:
        feeds = cams.settings.operators * cams.settings.feeds_per_operator
        chance = cams.watch_probability()
        watched = (f"on an operator's monitor now: chance {chance:.0%} ({feeds} monitors "
                   f"for {cams.feeds_in_rotation()} feeds in rotation)" if feeds else
                   "nobody is watching (no operators)")
        status = f"working; {watched}"
    else:
        causes = [text for fault, text in ((Fault.HARDWARE, "hardware fault"),
                                           (Fault.CABLE_CUT, "cable or power cut"),
                                           (Fault.VIEW_BLOCKED, "view blocked"))
                  if camera.faults & fault]
        repair = ("awaiting repair" if cams.settings.repair
                  else "nobody is obliged to repair it")
        status = f"down ({', '.join(causes) or 'fault'}); {repair}"
    return (f"Camera {index + 1}: {status}; crimes in its view while it worked: {seen:,}")


def place_text(model: SafeCityModel, node: int, crimes: int, recorded: int) -> str:
    cams = model.cameras
    use = LandUse(int(model.city.land_use[node])).name.lower()
    if cams.installed and cams.covered[node]:
        working = int(cams.working[node])
        total = int(cams.cover_count[node])
        cover = (f"in view of {total} camera{'s' * (total != 1)} ({working} working now)")
    elif cams.installed and cams.zone[node] == Zone.BUFFER:
        cover = "not in any camera's view (in the buffer around coverage)"
    else:
        cover = "not in any camera's view"
    return (f"Place {node} ({use}): {crimes:,} crime{'s' * (crimes != 1)} so far "
            f"({recorded:,} recorded); {cover}")


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


def clock_text(minutes: float, start: date | None = None) -> str:
    """``Day 3  07:00``, with the calendar date when the scenario has one."""
    day, rest = divmod(minutes, MINUTES_PER_DAY)
    hour, minute = divmod(rest, 60)
    text = f"Day {int(day)}  {int(hour):02d}:{int(minute):02d}"
    if start is not None:
        when = start + timedelta(days=int(day))
        text += f"  ({when.strftime('%a')} {when.day} {when.strftime('%b %Y')})"
    return text


_RENDERERS: weakref.WeakKeyDictionary[SafeCityModel, MapRenderer] = weakref.WeakKeyDictionary()


def renderer_for(model: SafeCityModel, name: str | None = None) -> MapRenderer:
    """The model's renderer, built (streets drawn) on first use and kept while the model lives."""
    renderer = _RENDERERS.get(model)
    if renderer is None:
        renderer = _RENDERERS[model] = MapRenderer(model, name=name)
    return renderer
