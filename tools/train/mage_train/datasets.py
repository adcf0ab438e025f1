"""The named image distributions, one place for every tool that draws images by seed.

`simple` (scenes.py) is what the shipped model trains on; `busy` (shapes.py) is the first
generator, with stripes and checks of every period, up to three distractors and lines, kept to
state the model's numbers on it too. Both use shapes.TRAIN_SEEDS and shapes.HELDOUT_SEEDS.
"""
from typing import Tuple

import numpy as np

from . import scenes, shapes

DISTRIBUTIONS = ("simple", "busy")
DEFAULT = "simple"


def images(distribution: str, seeds, view: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """-> (uint8 [N,256,256,3], int64 labels [N]). `view` > 0 only for `simple` (scenes.render)."""
    if distribution == "busy":
        if view:
            raise ValueError("the busy distribution has no views")
        return shapes.images(seeds)
    if distribution != "simple":
        raise ValueError(f"unknown distribution {distribution!r}; known: {', '.join(DISTRIBUTIONS)}")
    drawn = [scenes.render(int(s), view) for s in seeds]
    return np.stack([d[0] for d in drawn]), np.array([d[1] for d in drawn], dtype=np.int64)
