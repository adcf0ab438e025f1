#!/usr/bin/env python3
"""Measure a trained MAGE checkpoint on held-out procedural images, beside the random `tiny` fixture.

    nice -n 19 /usr/bin/python3 tools/train/evaluate.py --checkpoint runs/mini-half/mage-mini-half.pth \
        --arch mini-half --data simple --json runs/mini-half/eval-simple.json

Prints one table (and writes --json if given) with, for each model: tokenize->detokenize PSNR
(beside the no-learning tokenizer: each 16x16 patch's mean colour, upsampled bicubically),
leave-one-out 5-NN cosine accuracy of `linprobe` features on the shape class (and chance),
inpainting MAE inside a 96x96 box against filling it with the box border's mean colour (and the
share of boxes where the model wins), and for generations the Frechet distance of their
`linprobe` features to real held-out images' (beside the distance between two real sets), the
distinct codes per image (generated, real) and the share inside the training images' 1st-99th
percentiles of total variation and colour. The baseline is the random-weight `tiny` model that
tests/fixtures/mage-tiny was exported from (export.py --random-init --arch tiny --seed 0).
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "export"))
sys.path.insert(0, str(HERE))

import torch  # noqa: E402

from mage_export.archs import ARCHS  # noqa: E402
from mage_export.model import MageModel, load_state, random_init  # noqa: E402
from mage_train import datasets, shapes  # noqa: E402
from mage_train.metrics import INPAINT_SEEDS_FROM, evaluate, inpaint_diagnostics  # noqa: E402

# The bars a trained model must hold to ship as the default (docs/model-card.md).
TARGETS = {"psnr_db": ">= 24", "knn5_accuracy": ">= 0.45 and >= 2.3 x knn5_chance",
           "inpaint_mae": "< border_fill_mae", "inpaint_wins": ">= 0.5",
           "gen_frechet": "near real_frechet; below the random model's",
           "gen_distinct_codes": "near real_distinct_codes"}


def load(path: Path, arch: str) -> MageModel:
    # state.pt of a stopped run holds optimiser state and numbers besides the weights: pickle.
    data = torch.load(str(path), map_location="cpu", weights_only=path.suffix == ".pth")
    model = MageModel(ARCHS[arch])
    load_state(model, data["model"])
    return model.eval()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, help="a checkpoint in the official layout ({'model': ...})")
    p.add_argument("--arch", default="mini-half", choices=sorted(ARCHS))
    p.add_argument("--no-baseline", action="store_true", help="skip the random tiny baseline")
    p.add_argument("--data", default=datasets.DEFAULT, choices=datasets.DISTRIBUTIONS)
    p.add_argument("--recon-images", type=int, default=300)
    p.add_argument("--knn-images", type=int, default=300)
    p.add_argument("--inpaint-images", type=int, default=64)
    p.add_argument("--generate", type=int, default=64)
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--inpaint-diagnostics", action="store_true",
                   help="instead: where the inpainting error comes from (metrics.inpaint_diagnostics)")
    a = p.parse_args(argv)
    torch.set_num_threads(os.cpu_count() or 1)
    models = {}
    if a.checkpoint:
        models[f"{a.arch} ({a.checkpoint.name})"] = load(a.checkpoint, a.arch)
    if not a.no_baseline:
        tiny = MageModel(ARCHS["tiny"])
        random_init(tiny, 0)
        models["random tiny (baseline)"] = tiny.eval()
    if not models:
        p.error("nothing to evaluate: give --checkpoint or drop --no-baseline")
    results = {}
    for name, model in models.items():
        start = time.perf_counter()
        if a.inpaint_diagnostics:
            seeds = shapes.heldout_seeds(INPAINT_SEEDS_FROM, a.inpaint_images)
            results[name] = inpaint_diagnostics(model, datasets.images(a.data, seeds)[0], seeds, steps=(1, 4, 12))
            print(f"evaluate: {name} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
            continue
        results[name] = evaluate(model, a.recon_images, a.knn_images, a.inpaint_images, a.generate,
                                 distribution=a.data)
        print(f"evaluate: {name} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    keys = list(next(iter(results.values())))
    names = list(results)
    print(f"{'measure':<20}" + "".join(f"{n:>28}" for n in names) + "   target")
    for k in keys:
        print(f"{k:<20}" + "".join(f"{results[n][k]:>28.4g}" for n in names) + f"   {TARGETS.get(k, '')}")
    if a.json:
        a.json.write_text(json.dumps({"data": a.data, "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
