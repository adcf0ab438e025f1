#!/usr/bin/env python3
"""The PyTorch side of the CPU comparison (docs/benchmarks.md): the same weights as a Mage package
made by `export.py --random-init --arch <arch> --seed <seed>`, run eagerly with PyTorch's own
modules from tools/export, all cores, end to end. Prints one JSON object.

It first proves the weights are the package's: its features must reproduce golden.npz.
"""
import argparse
import contextlib
import io
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "export"))

from mage_export.archs import ARCHS, FAKE_CLASS_ID, MASK_ID  # noqa: E402
from mage_export.model import MageModel, random_init  # noqa: E402


def preprocess_linprobe(data: bytes) -> torch.Tensor:
    """Official linear-probe evaluation transform: shorter side to 292 (bicubic), centre crop 256."""
    img = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = img.size
    s = 292 / min(w, h)
    img = img.resize((int(w * s) if w > h else 292, int(h * s) if h > w else 292), Image.BICUBIC)
    w, h = img.size
    left, top = int(round((w - 256) / 2.0)), int(round((h - 256) / 2.0))
    img = img.crop((left, top, left + 256, top + 256))
    return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)


@torch.no_grad()
def sample_decode(model, tokens, steps, temperature, generator):
    """MODEL.md section 4, as the official gen_img_uncond.py does it (sampling, Gumbel noise)."""
    cur = tokens.clone()
    u0 = int((cur == MASK_ID).sum(dim=1)[0])
    dev = cur.device
    fake = torch.full((cur.shape[0], 1), FAKE_CLASS_ID, dtype=torch.long, device=dev)
    for t in range(steps):
        ids = torch.cat([fake, cur], dim=1)
        logits = model.logits(ids)
        unknown = cur == MASK_ID
        sampled = torch.distributions.Categorical(logits=logits).sample()
        sampled = torch.where(unknown, sampled, cur)
        ratio = (t + 1) / steps
        probs = torch.softmax(logits, dim=-1)
        picked = torch.gather(probs, -1, sampled.unsqueeze(-1)).squeeze(-1)
        picked = torch.where(unknown, picked.double(), torch.tensor(float("inf"), dtype=torch.double, device=dev)).float()
        mask_len = max(1, min(int(unknown.sum(dim=1).min()) - 1, math.floor(u0 * math.cos(math.pi / 2 * ratio))))
        gumbel = -torch.log(-torch.log(torch.rand(picked.shape, generator=generator, device=dev).clamp(1e-20, 1 - 1e-7)))
        confidence = torch.log(picked) + temperature * (1 - ratio) * gumbel
        cut = torch.sort(confidence, dim=-1).values[:, mask_len - 1: mask_len]
        cur = torch.where(confidence <= cut, torch.tensor(MASK_ID, device=dev), sampled)
    return sampled


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(fn, repeats, warmup=None):
    (warmup or fn)()  # the first call pays for allocations and kernel selection
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def peak_gflops(size=2048, repeats=5, device=torch.device("cpu")):
    if device.type == "cuda":
        size = 8192
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    seconds = timed(lambda: (a @ b, sync(device)), repeats)
    return 2 * size ** 3 / seconds / 1e9


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--package", type=Path, required=True)
    p.add_argument("--images", type=Path, required=True, help="folder of JPEGs for (a)")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--count", type=int, default=8, help="images per generation and per edit run")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--amp", action="store_true", help="autocast to float16 (CUDA)")
    args = p.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    device = torch.device(args.device)
    manifest = json.loads((args.package / "manifest.json").read_text())
    model = MageModel(ARCHS[manifest["arch"]])
    random_init(model, manifest["source"]["seed"])
    model.eval().to(device)

    golden = np.load(args.package / "golden.npz")
    ids = torch.cat([torch.full((golden["tokens"].shape[0], 1), FAKE_CLASS_ID), torch.from_numpy(golden["tokens"])], 1)
    err = np.linalg.norm(model.encode_features(ids.to(device))[1].cpu().numpy() - golden["linprobe"]) / np.linalg.norm(golden["linprobe"])
    assert err < 1e-4, f"weights differ from the package (linprobe rel L2 {err})"

    def amp():
        if args.amp:
            return torch.autocast(device_type=device.type, dtype=torch.float16)
        return contextlib.nullcontext()

    jpegs = [f.read_bytes() for f in sorted(args.images.glob("*.jpg"))]
    b = args.batch

    def features():
        out = []
        for i in range(0, len(jpegs), b):
            pixels = torch.stack([preprocess_linprobe(d) for d in jpegs[i:i + b]]).to(device)
            with amp():
                tokens = model.tokenize(pixels)
                ids = torch.cat([torch.full((tokens.shape[0], 1), FAKE_CLASS_ID, device=device), tokens], 1)
                out.append(model.encode_features(ids)[1].float().cpu())
        return torch.cat(out)

    def generation(steps=20):
        g = torch.Generator(device=device).manual_seed(0)
        with amp():
            tokens = sample_decode(model, torch.full((args.count, 256), MASK_ID, dtype=torch.long, device=device), steps, 6.0, g)
            return model.detokenize(tokens).float().cpu()

    box = torch.zeros(16, 16, dtype=torch.bool)
    box[4:12, 4:12] = True
    box = box.to(device)
    edit_pixels = torch.stack([preprocess_linprobe(jpegs[i % len(jpegs)]) for i in range(args.count)]).to(device)

    def editing(steps=12):
        g = torch.Generator(device=device).manual_seed(0)
        with amp():
            tokens = model.tokenize(edit_pixels)
            tokens = torch.where(box.reshape(1, 256), torch.tensor(MASK_ID, device=device), tokens)
            out = model.detokenize(sample_decode(model, tokens, steps, 4.5, g)).float()
        mask = box.repeat_interleave(16, 0).repeat_interleave(16, 1)
        return torch.where(mask, out, edit_pixels).cpu()

    result = {
        "runner": "pytorch" + (" amp" if args.amp else ""),
        "device": str(device),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "peak_gflops": peak_gflops(device=device),
        "features_images_per_s": len(jpegs) / timed(features, args.repeats),
        # Generation and editing are long: one timed run after a one-step warm-up.
        "images_per_generation_and_edit": args.count,
        "generation_images_per_s": args.count / timed(generation, 1, warmup=lambda: generation(1)),
        "editing_images_per_s": args.count / timed(editing, 1, warmup=lambda: editing(1)),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
