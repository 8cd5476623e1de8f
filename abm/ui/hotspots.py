"""Where crime has been: a kernel density of every crime so far, for the map's hot-spot layer.

A Gaussian kernel density, binned: crimes are counted on a grid and the grid smoothed with a
Gaussian of the bandwidth (scipy.ndimage), which costs the same for ten crimes as for ten
thousand, so the layer can follow the run frame by frame. The one function here is the only
place the map asks for a density; it can move onto a shared spatial module unchanged.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter


def density(points: np.ndarray, weights: np.ndarray, extent: tuple[float, float, float, float],
            cells: int, bandwidth_m: float) -> tuple[np.ndarray, float]:
    """Crimes per grid cell, smoothed: rows run south to north, columns west to east.

    ``points`` are (x, y) in metres with ``weights`` crimes each, over a square ``extent``
    (x from, x to, y from, y to) cut into ``cells`` x ``cells``. Returns the grid and the area
    of one cell in km2 (grid / area = crimes per km2). The grid sums to the crimes inside the
    extent, less what the kernel spreads past its edge.
    """
    x0, x1, y0, y1 = extent
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    counts, _, _ = np.histogram2d(points[:, 1], points[:, 0], bins=cells,
                                  range=[[y0, y1], [x0, x1]], weights=weights)
    cell_m = (x1 - x0) / cells
    grid = gaussian_filter(counts, sigma=max(bandwidth_m / cell_m, 0.5), mode="constant")
    return grid, (cell_m / 1000.0) ** 2
