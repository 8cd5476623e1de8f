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
        self._scratch: tuple[np.ndarray, np.ndarray] | None = None  # for mean_camera_risk
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
        """Mean belief over offenders and cameras (NaN with neither): read every simulated
        day, so worked out a block at a time in scratch space small enough for the
        processor's cache, and summed as numpy sums (``clipped_mean``)."""
        if not self.offset.size:
            return float("nan")
        if self._scratch is None:
            self._scratch = clipped_mean_scratch(self.offset.shape)
        return clipped_mean(self.offset, self.general.astype(np.float32), self._scratch)

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
# numpy buffers worked at once by ``clipped_mean``: with their float32 copy, about 768 kB.
MEAN_BUFFERS = 8


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


def clipped_mean_scratch(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Scratch space for ``clipped_mean`` of an array of this shape: rows of float32 covering
    a block and one spare row each side, and the block as float64."""
    rows, columns = shape
    block = min(rows * columns, MEAN_BUFFERS * np.getbufsize())
    return (np.empty((block // columns + 2) * columns, dtype=np.float32),
            np.empty(block))


def clipped_mean(offset: np.ndarray, general: np.ndarray,
                 scratch: tuple[np.ndarray, np.ndarray]) -> float:
    """``np.clip(offset + general[:, None], 0, 1).mean(dtype=np.float64)`` bit for bit,
    without the whole sum in memory: worked a block at a time, so each number is read from
    memory once.

    numpy casts to float64 a buffer at a time, sums each buffer pairwise and adds the sums
    in turn to a total that starts at +0.0; blocks are whole buffers, so the same sums come
    out of the same numbers and are added in the same order (``np.cumsum`` adds in turn).
    """
    rows, columns = offset.shape
    size = rows * columns
    buffer = np.getbufsize()
    narrow, wide = scratch
    step = len(wide)  # a whole number of buffers, or the whole array
    sums = np.zeros(1 + -(-size // buffer))  # +0.0, then each buffer's sum
    k = 1
    for start in range(0, size, step):
        stop = min(size, start + step)
        first, last = start // columns, (stop - 1) // columns + 1
        block = narrow[:(last - first) * columns].reshape(last - first, columns)
        np.add(offset[first:last], general[first:last, None], out=block)
        np.clip(block, 0.0, 1.0, out=block)
        part = wide[:stop - start]
        np.copyto(part, narrow[start - first * columns:stop - first * columns])
        whole = len(part) // buffer
        sums[k:k + whole] = part[:whole * buffer].reshape(whole, buffer).sum(axis=1)
        k += whole
        if whole * buffer < len(part):
            sums[k] = part[whole * buffer:].sum()
            k += 1
    return float(np.cumsum(sums).item(-1) / size)
