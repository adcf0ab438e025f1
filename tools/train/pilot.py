#!/usr/bin/env python3
"""Measures training throughput (samples/s) of candidate widths for both stages, to size a run.

Usage: /usr/bin/python3 tools/train/pilot.py [--seconds 20]
       /usr/bin/python3 tools/train/pilot.py --plan 120 [--arch mini-half]
Each candidate trains on random data for a warm-up step plus `--seconds`; the numbers go to stdout
as a table. Synthetic inputs: only the arithmetic is timed, not the image generator.
--plan MINUTES times only the chosen arch at train.py's default batch sizes, on this machine as it
is now (wall clock), and prints a train.py command whose steps fill that budget: 45% stage 1,
about 6% tokenizing (at most 3000 scenes of two views), the rest stage 2, less 10% for image generation,
checkpoints and a busy machine.
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

from mage_export.archs import ARCHS  # noqa: E402
from mage_export.transformer import MageTransformer  # noqa: E402
from mage_export.vqgan import VQGAN  # noqa: E402
from mage_train.masking import make_masks, masked_forward, sample_mask_ratio  # noqa: E402
from mage_train.tokenizer import vq_step  # noqa: E402

VQ_CANDIDATES = [  # (ch, ch_mult, res_blocks, z, pool)
    (32, (1, 1, 2, 2, 4), 1, 64, 1),
    (32, (1, 1, 2, 2, 2), 1, 64, 1),
    (32, (1, 1, 2, 2, 4), 2, 64, 1),
    (32, (1, 1, 2, 2), 1, 64, 2),
    (16, (1, 2, 4, 4), 1, 64, 2),
]
MAGE_CANDIDATES = [  # (dim, depth, heads, dec_dim, dec_depth, dec_heads)
    (128, 4, 2, 128, 2, 2),
    (192, 6, 3, 128, 2, 2),
    (256, 6, 4, 192, 2, 3),
]


def timed(fn, seconds):
    """-> (calls per wall second, calls per CPU second of this process). On a shared machine the
    second, times the core count, estimates what the machine would do alone (an overestimate when
    threads spin waiting for a descheduled sibling)."""
    fn()
    n, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start), n / max(time.process_time() - cpu, 1e-9)


def rates(pair, per_call):
    wall, cpu = pair
    return f"{wall * per_call:.1f}/s wall, {cpu * per_call:.1f}/CPU-s"


def vq_trainer(vq: VQGAN, batch: int, crop: int):
    """-> one stage-1 training step on random pixels."""
    opt = torch.optim.Adam(vq.parameters(), lr=1e-4)
    x = torch.rand(batch, 3, crop, crop)

    def step():
        loss, *_ = vq_step(vq, x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def tokenizer_run(vq: VQGAN, batch: int):
    full = torch.rand(batch, 3, 256, 256)

    @torch.no_grad()
    def run():
        vq.quantize.nearest(vq.encoder(full))
    return run


def mage_trainer(model: MageTransformer, batch: int):
    """-> one stage-2 training step (MAGE masking and dropping) on random tokens."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    tokens = torch.randint(0, 1024, (batch, 256))
    rng, g = np.random.default_rng(0), torch.Generator().manual_seed(0)

    def step():
        drop, masked = make_masks(batch, 256, sample_mask_ratio(rng), g)
        loss, _, _ = masked_forward(model, tokens, drop, masked)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def plan(arch_name: str, minutes: float, seconds: float, crop: int, vq_batch: int, mage_batch: int) -> str:
    """Wall-clock rates of `arch_name` now -> a train.py command for a `minutes` budget."""
    a = ARCHS[arch_name]
    vq = VQGAN(a.vq_ch, a.vq_ch_mult, a.vq_res_blocks, a.vq_z, 1024, a.vq_groups, a.vq_pool)
    tokenize = timed(tokenizer_run(vq, 8), seconds / 2)[0] * 8
    vq_steps_s = timed(vq_trainer(vq, vq_batch, crop), seconds)[0]
    model = MageTransformer(a.dim, a.depth, a.heads, a.dec_dim, a.dec_depth, a.dec_heads)
    mage_steps_s = timed(mage_trainer(model, mage_batch), seconds)[0]
    budget = minutes * 60 * 0.9
    token_scenes = int(min(3000, tokenize * budget * 0.06) // 100 * 100)  # two views (images) each
    rest = budget - 2 * token_scenes / tokenize
    # At least 100 steps each: on an oversubscribed machine the rates can round a stage to zero.
    vq_steps = max(100, int(vq_steps_s * rest * 0.5 // 100 * 100))
    mage_steps = max(100, int(mage_steps_s * rest * 0.5 // 100 * 100))
    print(f"{arch_name} now: stage 1 {vq_steps_s:.3f} steps/s ({vq_batch} crops of {crop}px), "
          f"tokenize {tokenize:.2f} images/s, stage 2 {mage_steps_s:.3f} steps/s ({mage_batch} sequences)")
    return (f"/usr/bin/python3 tools/train/train.py --out runs/{arch_name} --arch {arch_name} "
            f"--vq-steps {vq_steps} --vq-batch {vq_batch} --vq-crop {crop} --token-scenes {token_scenes} "
            f"--mage-steps {mage_steps} --mage-batch {mage_batch} --max-minutes {minutes:g}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--plan", type=float, metavar="MINUTES", help="print a train.py command for this budget")
    p.add_argument("--arch", default="mini-half", choices=sorted(ARCHS))
    p.add_argument("--crop", type=int, default=96)
    p.add_argument("--vq-batch", type=int, default=8)
    p.add_argument("--mage-batch", type=int, default=32)
    args = p.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(0)
    print(f"threads {torch.get_num_threads()}, cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    if args.plan:
        print(plan(args.arch, args.plan, args.seconds, args.crop, args.vq_batch, args.mage_batch))
        return
    for ch, mult, blocks, z, pool in VQ_CANDIDATES:
        vq = VQGAN(ch, mult, blocks, z, 1024, ch // 4, pool)
        tok = rates(timed(tokenizer_run(vq, 16), args.seconds / 2), 16)
        rate = rates(timed(vq_trainer(vq, args.vq_batch, args.crop), args.seconds), args.vq_batch)
        params = sum(p.numel() for p in vq.parameters()) / 1e6
        print(f"vqgan ch={ch} mult={mult} blocks={blocks} z={z} pool={pool}: {params:.2f} M params, "
              f"train {rate} crops of {args.crop}px, tokenize {tok} images of 256px")
    for dim, depth, heads, ddim, ddepth, dheads in MAGE_CANDIDATES:
        model = MageTransformer(dim, depth, heads, ddim, ddepth, dheads)
        rate = rates(timed(mage_trainer(model, args.mage_batch), args.seconds), args.mage_batch)
        params = sum(p.numel() for p in model.parameters()) / 1e6
        print(f"transformer D={dim} depth={depth} heads={heads} dec {ddim}/{ddepth}/{dheads}: {params:.2f} M params, "
              f"train {rate} sequences")


if __name__ == "__main__":
    main()
