"""Each camera's record of a run: where it stood, how long it worked, the crimes it watched.

Built once at the end of a run from the moments cameras went up and down
(``CameraSystem.changes``) and the crime log, so the model keeps no per-camera counters. A camera
*saw* a crime when the crime happened at a place it watches while it was up; *in view* counts
every crime at those places after go-live, whether the camera was up or not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from abm.units import MINUTES_PER_DAY

if TYPE_CHECKING:
    from abm.model import SafeCityModel

COLUMNS = ("camera", "node", "segment", "installed_days", "up_days", "uptime", "crimes_in_view",
           "crimes_seen", "state_at_end")
STATES = {1: "up", 0: "down", -1: "not installed"}


def camera_frame(model: SafeCityModel, crimes: pd.DataFrame) -> pd.DataFrame:
    """One row per camera: its place, cable segment, time installed and up, crimes in view and
    seen, and its state when the run stopped."""
    system = model.cameras
    n, now = len(system.cameras), model.time
    segment = np.full(n, -1, dtype=np.int64)
    for g, part in enumerate(system.segments):
        for camera in part.members:
            segment[camera.index] = g
    changes = system.changes()
    by_camera = changes[np.argsort(changes[:, 1], kind="stable")]  # each camera's in time order
    bounds = np.searchsorted(by_camera[:, 1], np.arange(n + 1), side="left")
    install = model.config.cameras.install_day * MINUTES_PER_DAY
    installed_min = max(0.0, now - install) if system.installed else 0.0
    times = crimes["time_min"].to_numpy(dtype=float)
    nodes = crimes["node"].to_numpy(dtype=np.int64)
    order = np.argsort(nodes, kind="stable")
    sorted_nodes = nodes[order]
    up_min = np.zeros(n)
    in_view = np.zeros(n, dtype=np.int64)
    seen = np.zeros(n, dtype=np.int64)
    for camera in system.cameras:
        i = camera.index
        mine = by_camera[bounds[i]:bounds[i + 1]]
        t, up = mine[:, 0], mine[:, 2] > 0
        ends = np.append(t[1:], now)
        up_min[i] = float(np.sum((ends - t)[up]))
        lo = np.searchsorted(sorted_nodes, camera.watched, side="left")
        hi = np.searchsorted(sorted_nodes, camera.watched, side="right")
        at = times[np.concatenate([order[a:b] for a, b in zip(lo, hi, strict=True)])] \
            if len(camera.watched) else np.zeros(0)
        at = at[at >= install] if system.installed else at[:0]
        in_view[i] = len(at)
        k = np.searchsorted(t, at, side="right") - 1  # the last change at or before each crime
        seen[i] = int(np.count_nonzero((k >= 0) & up[np.maximum(k, 0)])) if len(t) else 0
    uptime = up_min / installed_min if installed_min > 0 else np.full(n, np.nan)
    return pd.DataFrame({
        "camera": np.arange(n, dtype=np.int64),
        "node": np.array([camera.node for camera in system.cameras], dtype=np.int64),
        "segment": segment,
        "installed_days": np.full(n, installed_min / MINUTES_PER_DAY),
        "up_days": up_min / MINUTES_PER_DAY,
        "uptime": uptime,
        "crimes_in_view": in_view,
        "crimes_seen": seen,
        "state_at_end": pd.array([STATES[int(s)] for s in system.state()], dtype="string"),
    }, columns=list(COLUMNS))
