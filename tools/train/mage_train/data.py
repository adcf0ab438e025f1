"""Deterministic training batches: every batch is a function of (seed, step) alone, so a resumed
run sees exactly the batches an uninterrupted one would."""
import numpy as np
import torch

from . import datasets, shapes

# Stage 1 reuses each group of generated images for this many consecutive steps (new random crops
# each time): drawing a 256x256 image costs about as much as a training step on one crop.
IMAGE_REUSE = 4


def _rng(seed: int, stage: int, step: int) -> np.random.Generator:
    return np.random.default_rng([seed, stage, step])


class CropBatches:
    """Stage 1: random crops (with flips and quarter turns) of freshly generated training images."""

    def __init__(self, seed: int, batch: int, crop: int, distribution: str = datasets.DEFAULT):
        self.seed, self.batch, self.crop, self.distribution = seed, batch, crop, distribution
        self._group, self._images = -1, None

    def images_for(self, step: int) -> np.ndarray:
        group = step // IMAGE_REUSE
        if group != self._group:
            # Seeds of a group are offset by the run seed so that two seeds see different images.
            start = (self.seed * 7_919 + group * self.batch) % (len(shapes.TRAIN_SEEDS) - self.batch)
            self._images, _ = datasets.images(self.distribution, shapes.train_seeds(start, self.batch))
            self._group = group
        return self._images

    def __call__(self, step: int) -> torch.Tensor:
        """-> float32 [B,3,crop,crop] in [0,1]."""
        images = self.images_for(step)
        rng = _rng(self.seed, 1, step)
        out = np.empty((self.batch, self.crop, self.crop, 3), np.uint8)
        for i in range(self.batch):
            y, x = rng.integers(0, shapes.SIZE - self.crop + 1, 2)
            c = images[i, y:y + self.crop, x:x + self.crop]
            if rng.uniform() < 0.5:
                c = c[:, ::-1]
            out[i] = np.rot90(c, int(rng.integers(4)))
        return torch.from_numpy(out).permute(0, 3, 1, 2).float() / 255.0


def token_image_seeds(seed: int, count: int) -> range:
    """The training images whose tokens stage 2 learns from (disjoint from held-out seeds)."""
    return shapes.train_seeds(500_000_000 + seed * 1_000_003 % 100_000_000, count)


def token_batch(seed: int, step: int, tokens: np.ndarray, batch: int):
    """Stage 2: (rows [B,256] int64, numpy generator for the step's other draws, torch generator
    for the masks) of one step. `tokens` is [scenes, views, 256]; B/2 scenes are drawn and rows
    0..B/2-1 hold their first view, rows B/2..B-1 their second, in the same order."""
    rng = _rng(seed, 2, step)
    scenes = batch // 2
    pick = rng.choice(tokens.shape[0], size=scenes, replace=tokens.shape[0] < scenes)
    rows = np.concatenate([tokens[pick, 0], tokens[pick, 1]])
    g = torch.Generator().manual_seed(int(rng.integers(2 ** 62)))
    return torch.from_numpy(rows.astype(np.int64)), rng, g
