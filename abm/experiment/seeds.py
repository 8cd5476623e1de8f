"""Seeds of a sweep, all derived from its one root seed with numpy's SeedSequence.

Replicate r of every design point runs with the r-th seed spawned from the root seed (common
random numbers): two design points differ only by their settings, never by their luck, so
their difference per replicate is a paired comparison. Spawned children do not depend on how
many are spawned, so adding replicates keeps the seeds of the existing ones.
"""

from __future__ import annotations

import numpy as np

# Design sampling (LHS, Sobol scrambling, Morris trajectories) draws from a stream of its own,
# apart from the replicates, so changing the number of replicates never changes the design.
DESIGN_STREAM = 0x5EED_DE51


def replicate_seeds(root: int, count: int) -> list[int]:
    """``run.seed`` of each replicate: 63-bit integers from SeedSequence(root).spawn(count)."""
    children = np.random.SeedSequence(root).spawn(count)
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
            for child in children]


def design_seed(root: int) -> int:
    """Seed for sampling the design points."""
    state = np.random.SeedSequence([root, DESIGN_STREAM]).generate_state(1, dtype=np.uint32)
    return int(state[0])
