"""One app frame: advance the model by the app's step and redraw its map, headless.

The app's Step button and play loop run ``frame`` (at the speed chosen in the page); the
benchmark times ``app_frame``, the same work at the default speed, so the figure measured is
the figure users get.
"""

from __future__ import annotations

from abm.model import SafeCityModel
from abm.ui.map import renderer_for
from abm.units import MINUTES_PER_DAY

# Speed choices: simulated minutes per frame. One hour per frame by default: a day in 24 frames.
STEP_CHOICES = {"10 minutes": 10.0, "1 hour": 60.0, "6 hours": 360.0, "1 day": MINUTES_PER_DAY,
                "1 week": 7 * MINUTES_PER_DAY}
DEFAULT_STEP_MIN = 60.0


def frame(model: SafeCityModel, step_min: float = DEFAULT_STEP_MIN) -> bytes:
    """Advance ``model`` by ``step_min`` simulated minutes and redraw its map (PNG bytes)."""
    model.run_for(step_min)
    return renderer_for(model).png(model)


def app_frame(model: SafeCityModel) -> None:
    """Exactly one app frame at the default speed: one simulated hour, then the map redrawn."""
    frame(model, DEFAULT_STEP_MIN)
