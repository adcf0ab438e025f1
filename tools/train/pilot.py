#!/usr/bin/env python3
"""Measures training throughput (samples/s) of candidate widths for both stages, to size a run.

Usage: /usr/bin/python3 tools/train/pilot.py [--seconds 20]
Each candidate trains on random data for a warm-up step plus `--seconds`; the numbers go to stdout
as a table. Synthetic inputs: only the arithmetic is timed, not the image generator.
"""
import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "export"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from mage_export.transformer import MageTransformer  # noqa: E402
from mage_export.vqgan import VQGAN  # noqa: E402
from mage_train.masking import make_masks, masked_forward, sample_mask_ratio  # noqa: E402
from mage_train.tokenizer import vq_step  # noqa: E402

VQ_CANDIDATES = [  # (ch, ch_mult, res_blocks, z)
    (32, (1, 1, 2, 2, 4), 1, 64),
    (32, (1, 1, 2, 2, 2), 1, 64),
    (32, (1, 1, 2, 2, 4), 2, 64),
]
MAGE_CANDIDATES = [  # (dim, depth, heads, dec_dim, dec_depth, dec_heads)
    (128, 4, 2, 128, 2, 2),
    (192, 6, 3, 128, 2, 2),
    (256, 6, 4, 192, 2, 3),
]


def timed(fn, seconds):
    """-> (calls per wall second, calls per CPU second of this process). On a shared machine the
    second, times the core count, estimates what the machine would do alone."""
    fn()
    n, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start), n / max(time.process_time() - cpu, 1e-9)


def rates(pair, per_call):
    wall, cpu = pair
    return f"{wall * per_call:.1f}/s wall, {cpu * per_call:.1f}/CPU-s"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--vq-batch", type=int, default=8)
    p.add_argument("--mage-batch", type=int, default=32)
    args = p.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(0)
    print(f"threads {torch.get_num_threads()}, cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    for ch, mult, blocks, z in VQ_CANDIDATES:
        vq = VQGAN(ch, mult, blocks, z, 1024)
        opt = torch.optim.Adam(vq.parameters(), lr=1e-4)
        x = torch.rand(args.vq_batch, 3, args.crop, args.crop)

        def step():
            loss, *_ = vq_step(vq, x)
            opt.zero_grad()
            loss.backward()
            opt.step()

        with torch.no_grad():
            full = torch.rand(16, 3, 256, 256)
            tok = rates(timed(lambda: vq.quantize.nearest(vq.encoder(full)), args.seconds / 2), 16)
        rate = rates(timed(step, args.seconds), args.vq_batch)
        params = sum(p.numel() for p in vq.parameters()) / 1e6
        print(f"vqgan ch={ch} mult={mult} blocks={blocks} z={z}: {params:.2f} M params, "
              f"train {rate} crops of {args.crop}px, tokenize {tok} images of 256px")
    rng = np.random.default_rng(0)
    g = torch.Generator().manual_seed(0)
    for dim, depth, heads, ddim, ddepth, dheads in MAGE_CANDIDATES:
        model = MageTransformer(dim, depth, heads, ddim, ddepth, dheads)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        tokens = torch.randint(0, 1024, (args.mage_batch, 256))

        def step():
            drop, masked = make_masks(args.mage_batch, 256, sample_mask_ratio(rng), g)
            loss, _ = masked_forward(model, tokens, drop, masked)
            opt.zero_grad()
            loss.backward()
            opt.step()

        rate = rates(timed(step, args.seconds), args.mage_batch)
        params = sum(p.numel() for p in model.parameters()) / 1e6
        print(f"transformer D={dim} depth={depth} heads={heads} dec {ddim}/{ddepth}/{dheads}: {params:.2f} M params, "
              f"train {rate} sequences")


if __name__ == "__main__":
    main()
