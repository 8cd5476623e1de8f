"""What offenders believe about the risk of arrest: through each camera, and by police alone.

Deterrence works on perceived risk, not actual risk (Nagin 2013), and offenders cannot see
whether a feed is watched or whether most failed cameras work. They learn from what they can
observe: their own outcomes, outcomes that peers tell them of, and news reports. An offender's
belief about a camera is what they think of cameras in general plus what they know of that one:
an outcome at a camera moves the belief about that camera by the whole learning step, and the
belief about cameras in general by a share of it (``generalisation``), so a dead camera's street
loses its deterrence first and the rest follow as experience accumulates.

Outcomes are attributed to what caused them: an arrest through live detection or footage is
camera risk; an arrest on the scene by police without a camera's help is police risk, and says
nothing about the camera; getting away lowers both. Offenders' own arrests move their perceived
police risk, others' barely do (Lochner 2007), so only camera outcomes travel by word of mouth.

Word of mouth costs what its hearers cost: how many hear is drawn first, then who.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from abm.model import SafeCityModel


class Beliefs:
    """Every offender's perceived risks, as arrays indexed by offender (and camera)."""

    def __init__(self, model: SafeCityModel, offenders: int, cameras: int,
                 rng: np.random.Generator) -> None:
        s = model.config.offenders
        self.model = model
        self.general = np.full(offenders, s.initial_camera_risk)  # cameras in general
        # What each offender knows of each camera, on top of the general belief.
        self.offset = np.zeros((offenders, cameras), dtype=np.float32)
        self.police = np.full(offenders, s.base_risk)  # arrest by police alone
        self.heard_broken = np.zeros(offenders)  # share broken in the last report heard
        self._scratch: np.ndarray | None = None
        self.rng = rng  # for word of mouth and news

    @property
    def settings(self):
        return self.model.config.offenders

    # --- reading ----------------------------------------------------------------------------

    def camera_risk(self, offender: int, cameras: np.ndarray) -> float:
        """Perceived risk of arrest through the cameras in view (the most feared of them)."""
        if not len(cameras):
            return 0.0
        belief = self.general.item(offender) + float(self.offset[offender, cameras].max())
        return min(1.0, max(0.0, belief))

    def of(self, offender: int, camera: int) -> float:
        """One offender's belief about one camera."""
        return self.camera_risk(offender, np.array([camera]))

    def mean_camera_risk(self) -> float:
        """Mean belief over offenders and cameras (NaN with neither)."""
        if not self.offset.size:
            return float("nan")
        if self._scratch is None:
            self._scratch = np.empty_like(self.offset)
        out = self._scratch  # reused: this is read every simulated day
        np.add(self.offset, self.general.astype(np.float32)[:, None], out=out)
        np.clip(out, 0.0, 1.0, out=out)
        return float(out.mean(dtype=np.float64))

    def mean_police_risk(self) -> float:
        return float(self.police.mean()) if len(self.police) else float("nan")

    # --- learning ---------------------------------------------------------------------------

    def learn_camera(self, offender: int, cameras: np.ndarray, caught: bool) -> None:
        """An offender's own outcome at the cameras in view; peers may hear of it."""
        s = self.settings
        self._move(np.array([offender]), cameras, float(caught), s.learning_rate)
        self.spread(offender, cameras, caught)

    def spread(self, source: int, cameras: np.ndarray, caught: bool) -> None:
        """Each other offender hears of an outcome at the cameras with a chance, and moves
        their belief a little (cost: the hearers, not the population)."""
        s = self.settings
        n = len(self.general) - 1
        if n < 1 or s.peer_observation_prob == 0 or s.peer_learning_rate == 0:
            return
        count = int(self.rng.binomial(n, s.peer_observation_prob))
        if count == 0:
            return
        hearers = self.rng.choice(n, size=count, replace=False)
        hearers[hearers >= source] += 1  # everyone but the source
        self._move(np.sort(hearers), cameras, float(caught), s.peer_learning_rate)

    def _move(self, who: np.ndarray, cameras: np.ndarray, outcome: float, rate: float) -> None:
        """Move beliefs about ``cameras`` toward an outcome: each camera's by ``rate`` times
        its error, cameras in general by the generalised share of the mean error.

        ``who`` holds each offender once. Each offset is read once and written once through
        flat indices, which costs less than indexing rows and columns twice."""
        if rate == 0 or not len(cameras):
            return
        share = self.settings.generalisation
        flat = self.offset.reshape(-1)
        cells = (who[:, None] * self.offset.shape[1] + cameras).ravel()
        known = flat.take(cells).reshape(len(who), len(cameras))
        general = self.general.take(who)
        belief = general[:, None] + known
        np.maximum(belief, 0.0, out=belief)  # clipped to [0, 1]
        np.minimum(belief, 1.0, out=belief)
        error = outcome - belief
        flat.put(cells, known + (rate * (1.0 - share) * error).astype(np.float32))
        self.general.put(who, general + rate * share * row_means(error))

    def learn_police(self, offender: int, caught: bool) -> None:
        """An offender's own outcome with police alone: arrested on the scene, or not."""
        rate = self.settings.police_learning_rate
        self.police[offender] += rate * (float(caught) - self.police[offender])

    def hear_news(self, broken_share: float, reach: float) -> int:
        """A report says a share of the cameras is broken: hearers scale their camera beliefs
        by the share working it reports against the last report they heard. Returns how many
        heard it."""
        heard = np.flatnonzero(self.rng.random(len(self.general)) < reach)
        if not len(heard):
            return 0
        working_before = 1.0 - self.heard_broken[heard]
        factor = np.where(working_before > 0, (1.0 - broken_share) / np.maximum(
            working_before, 1e-12), 1.0 - broken_share)
        self.general[heard] *= factor
        self.offset[heard] *= factor[:, None].astype(np.float32)
        self.heard_broken[heard] = broken_share
        return len(heard)


# numpy sums up to this many numbers in a row one after the other, and more pairwise.
SEQUENTIAL_SUM = 8


def row_means(values: np.ndarray) -> np.ndarray:
    """``values.mean(axis=1)`` bit for bit: with few columns, their sum in order, as numpy
    adds them, costs less than numpy's reduction row by row."""
    columns = values.shape[1]
    if columns >= SEQUENTIAL_SUM:
        return values.mean(axis=1)
    total = values[:, 0] + 0.0  # numpy starts from +0.0, so no sum is -0.0
    for k in range(1, columns):
        total += values[:, k]
    total /= columns
    return total
