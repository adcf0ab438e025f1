#!/usr/bin/env python3
"""Writes N synthetic JPEGs of mixed sizes (seeded) for the benchmarks."""
import argparse
import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools" / "export"))
from mage_export.synthetic import synthetic_images  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--out", type=Path, required=True)
p.add_argument("--count", type=int, default=32)
args = p.parse_args()
args.out.mkdir(parents=True, exist_ok=True)
sizes = [(320, 400), (500, 375), (256, 256), (640, 480)]
for i, img in enumerate(synthetic_images(args.count, seed=7, size=512)):
    w, h = sizes[i % len(sizes)]
    Image.fromarray(img).resize((w, h), Image.BILINEAR).save(args.out / f"img-{i:04d}.jpg", quality=90)
