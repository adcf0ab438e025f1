#!/usr/bin/env python3
"""Does anything short of learnt semantics tell the shape classes apart? (issue 14)

    /usr/bin/python3 tools/train/knn_baselines.py --checkpoint runs/mini/mage-mini.pth

Leave-one-out 5-NN (cosine) accuracy on the shape class of held-out images, for: the bag of the
image's 1024 codebook ids (counts, and their square roots), the raw pixels (each image less its
mean), and the checkpoint's three pooled transformer features (linprobe, cls, mean). Each on the
ordinary held-out images and on clean ones (one shape, flat background, no distractors or
lines). Chance is about 1/6. Prints one line per (images, features).
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
from mage_train import shapes  # noqa: E402
from mage_train.metrics import batched, knn_accuracy, to_pixels, with_class  # noqa: E402

SETS = {"held-out": {}, "clean held-out": {"distractors": False, "lines": False, "background": "flat"}}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--arch", default="mini", choices=sorted(ARCHS))
    p.add_argument("--images", type=int, default=300)
    a = p.parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)
    model = MageModel(ARCHS[a.arch])
    load_state(model, torch.load(str(a.checkpoint), map_location="cpu", weights_only=True)["model"])
    model.eval()
    for name, kw in SETS.items():
        images, labels = shapes.images(shapes.heldout_seeds(0, a.images), **kw)
        tokens = batched(model.tokenize, to_pixels(images))
        _, linprobe, cls, mean = model.encode_features(with_class(tokens))
        bags = np.stack([np.bincount(t, minlength=CODEBOOK_SIZE) for t in tokens.numpy()]).astype(np.float64)
        pixels = images.reshape(len(images), -1).astype(np.float64)
        rows = {
            "bag of codebook ids": bags,
            "bag of codebook ids, square roots": np.sqrt(bags),
            "pixels less their mean": pixels - pixels.mean(1, keepdims=True),
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
