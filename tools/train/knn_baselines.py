#!/usr/bin/env python3
"""Does anything short of learnt semantics tell the shape classes apart?

    nice -n 19 /usr/bin/python3 tools/train/knn_baselines.py --checkpoint runs/mini-half/mage-mini-half.pth

Leave-one-out 5-NN (cosine) accuracy on the shape class of held-out images, for: the bag of the
image's 1024 codebook ids (counts, and their square roots), the raw pixels (each image less its
mean), a hand-made position-invariant descriptor (the 2-D FFT magnitude of the 16x16 map of each
patch's mean distance from the border colour), and the checkpoint's three pooled transformer
features (linprobe, cls, mean). For --data busy also on clean images (one shape, flat
background, no distractors or lines). Chance is about 1/6. Prints one line per (images, features).
"""
import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "export"))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from mage_export.archs import ARCHS, CODEBOOK_SIZE  # noqa: E402
from mage_export.model import MageModel, load_state  # noqa: E402
from mage_train import datasets, shapes  # noqa: E402
from mage_train.metrics import PATCH, batched, knn_accuracy, to_pixels, with_class  # noqa: E402

CLEAN = {"distractors": False, "lines": False, "background": "flat"}


def fft_descriptor(images: np.ndarray) -> np.ndarray:
    """|FFT| of the 16x16 map of each patch's mean distance from the border colour (the median of
    the outermost pixels): shift-invariant, and blind to which colours the scene uses."""
    f = images.astype(np.float64)
    border = np.median(np.concatenate([f[:, 0], f[:, -1], f[:, :, 0], f[:, :, -1]], axis=1), axis=1)
    dist = np.abs(f - border[:, None, None]).sum(-1)
    n, size = dist.shape[0], dist.shape[1] // PATCH
    grid = dist.reshape(n, size, PATCH, size, PATCH).mean((2, 4))
    return np.abs(np.fft.fft2(grid)).reshape(n, -1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--arch", default="mini-half", choices=sorted(ARCHS))
    p.add_argument("--data", default=datasets.DEFAULT, choices=datasets.DISTRIBUTIONS)
    p.add_argument("--images", type=int, default=300)
    a = p.parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)
    model = MageModel(ARCHS[a.arch])
    load_state(model, torch.load(str(a.checkpoint), map_location="cpu", weights_only=True)["model"])
    model.eval()
    seeds = shapes.heldout_seeds(0, a.images)
    sets = {"held-out": lambda: datasets.images(a.data, seeds)}
    if a.data == "busy":
        sets["clean held-out"] = lambda: shapes.images(seeds, **CLEAN)
    for name, draw in sets.items():
        images, labels = draw()
        tokens = batched(model.tokenize, to_pixels(images))
        _, linprobe, cls, mean = model.encode_features(with_class(tokens))
        bags = np.stack([np.bincount(t, minlength=CODEBOOK_SIZE) for t in tokens.numpy()]).astype(np.float64)
        pixels = images.reshape(len(images), -1).astype(np.float64)
        rows = {
            "bag of codebook ids": bags,
            "bag of codebook ids, square roots": np.sqrt(bags),
            "pixels less their mean": pixels - pixels.mean(1, keepdims=True),
            "FFT of distance from the border colour": fft_descriptor(images),
            "linprobe features": linprobe.numpy(),
            "cls features": cls.numpy(),
            "mean features": mean.numpy(),
        }
        chance = np.bincount(labels).max() / len(labels)
        for feature, values in rows.items():
            print(f"{name:<16} {feature:<36} 5-NN {knn_accuracy(values, labels):.3f}   (majority class {chance:.3f})",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
