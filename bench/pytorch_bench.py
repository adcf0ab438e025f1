#!/usr/bin/env python3
"""The PyTorch side of the Mage comparisons (docs/benchmarks.md, CPU and GPU): the same weights as a
Mage package made by `export.py --random-init --arch <arch> --seed <seed>`, run eagerly with
PyTorch's own modules from tools/export, all cores, end to end. Prints one JSON object.

Workloads (the GPU issue's; each on by default, `--only` picks some):
  features    every JPEG in --images: decode, linprobe resize and crop, tokenize, encoder, linprobe
              features, in model calls of --batch images (best of --repeats passes after a warm-up
              on the first --batch JPEGs);
  generation  --count images from all-masked tokens, --generation-steps steps, decoded to pixels;
  inpainting  --count inpaints of a centre 128x128 box, --inpainting-steps steps, pasted back.
Generation and inpainting run as one batch of --count rows (default: --batch), one timed run after
a one-step warm-up.

PyTorch's numerics are left at its defaults (TF32 flags are reported, never set); `--amp` runs
every workload under float16 autocast on CUDA. On the CPU (dry runs) `--amp` is recorded and
ignored: CPU autocast takes only bfloat16, and PyTorch 1.13 then fails in GroupNorm. It first
proves the weights are the package's: its features must reproduce golden.npz.
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

WORKLOADS = ("features", "generation", "inpainting")


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
    """docs/model.md#decode-schedule, as the official gen_img_uncond.py does it (sampling, Gumbel noise)."""
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
    """(best seconds of `repeats` runs, seconds of the warm-up run)."""
    start = time.perf_counter()
    (warmup or fn)()  # the first call pays for allocations and kernel selection
    first = time.perf_counter() - start
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best, first


def matmul_tflops(device, dtype=torch.float32, size=2048, repeats=5):
    """A square matmul's rate under the flags in effect (on CUDA fp32 follows allow_tf32)."""
    if device.type == "cuda":
        size = 8192
    a, b = torch.randn(size, size, device=device, dtype=dtype), torch.randn(size, size, device=device, dtype=dtype)
    seconds, _ = timed(lambda: (a @ b, sync(device)), repeats)
    return 2 * size ** 3 / seconds / 1e12


def numerics(device, amp_dtype):
    """What decides PyTorch's arithmetic in this process: read, never set (guarded for old PyTorch)."""
    def read(fn):
        try:
            return fn()
        except (AttributeError, AssertionError, RuntimeError):  # AssertionError: 1.13 for unknown cuda.matmul names
            return None

    info = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": read(torch.backends.cudnn.version),
        "gpu": read(lambda: torch.cuda.get_device_name(device)) if device.type == "cuda" else None,
        "autocast": amp_dtype is not None,
        "autocast_dtype": str(amp_dtype).replace("torch.", "") if amp_dtype is not None else None,
        "tf32": {
            "cuda_matmul_allow_tf32": read(lambda: torch.backends.cuda.matmul.allow_tf32),
            "cudnn_allow_tf32": read(lambda: torch.backends.cudnn.allow_tf32),
            "float32_matmul_precision": read(torch.get_float32_matmul_precision),
            # PyTorch 2.9 and later also spell these as per-backend fp32_precision settings.
            "cuda_matmul_fp32_precision": read(lambda: torch.backends.cuda.matmul.fp32_precision),
            "cudnn_conv_fp32_precision": read(lambda: torch.backends.cudnn.conv.fp32_precision),
        },
        "cudnn_benchmark": read(lambda: torch.backends.cudnn.benchmark),
        "flags_set_by_this_script": [],
    }
    return info


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--package", type=Path, required=True)
    p.add_argument("--images", type=Path, required=True, help="folder of JPEGs: all of them are the features workload, and the inpainting inputs")
    p.add_argument("--repeats", type=int, default=2, help="timed passes of the features workload (best is kept)")
    p.add_argument("--batch", type=int, default=8, help="images per model call of the features workload")
    p.add_argument("--count", type=int, default=None, help="images per generation and per inpainting run (default: --batch)")
    p.add_argument("--generation-steps", type=int, default=20)
    p.add_argument("--inpainting-steps", type=int, default=12)
    p.add_argument("--only", default=",".join(WORKLOADS), help="comma list of " + ", ".join(WORKLOADS))
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--amp", action="store_true", help="float16 autocast (CUDA; ignored on the CPU)")
    args = p.parse_args()
    only = [w.strip() for w in args.only.split(",") if w.strip()]
    unknown = sorted(set(only) - set(WORKLOADS))
    if unknown:
        p.error(f"--only: unknown workload(s) {', '.join(unknown)}; valid: {', '.join(WORKLOADS)}")
    count = args.count if args.count is not None else args.batch
    torch.set_num_threads(os.cpu_count() or 1)
    device = torch.device(args.device)
    amp_dtype = torch.float16 if args.amp and device.type == "cuda" else None
    manifest = json.loads((args.package / "manifest.json").read_text())
    model = MageModel(ARCHS[manifest["arch"]])
    random_init(model, manifest["source"]["seed"])
    model.eval().to(device)

    golden = np.load(args.package / "golden.npz")
    ids = torch.cat([torch.full((golden["tokens"].shape[0], 1), FAKE_CLASS_ID), torch.from_numpy(golden["tokens"])], 1)
    err = np.linalg.norm(model.encode_features(ids.to(device))[1].cpu().numpy() - golden["linprobe"]) / np.linalg.norm(golden["linprobe"])
    assert err < 1e-4, f"weights differ from the package (linprobe rel L2 {err})"

    def amp():
        if amp_dtype is not None:
            return torch.autocast(device_type=device.type, dtype=amp_dtype)
        return contextlib.nullcontext()

    jpegs = [f.read_bytes() for f in sorted(args.images.glob("*.jpg"))]
    b = args.batch

    def features(files):
        out = []
        for i in range(0, len(files), b):
            pixels = torch.stack([preprocess_linprobe(d) for d in files[i:i + b]]).to(device)
            with amp():
                tokens = model.tokenize(pixels)
                ids = torch.cat([torch.full((tokens.shape[0], 1), FAKE_CLASS_ID, device=device), tokens], 1)
                out.append(model.encode_features(ids)[1].float().cpu())
        return torch.cat(out)

    def generation(steps):
        g = torch.Generator(device=device).manual_seed(0)
        with amp():
            tokens = sample_decode(model, torch.full((count, 256), MASK_ID, dtype=torch.long, device=device), steps, 6.0, g)
            return model.detokenize(tokens).float().cpu()

    box = torch.zeros(16, 16, dtype=torch.bool)
    box[4:12, 4:12] = True
    box = box.to(device)
    edit_pixels = torch.stack([preprocess_linprobe(jpegs[i % len(jpegs)]) for i in range(count)]).to(device)

    def inpainting(steps):
        g = torch.Generator(device=device).manual_seed(0)
        with amp():
            tokens = model.tokenize(edit_pixels)
            tokens = torch.where(box.reshape(1, 256), torch.tensor(MASK_ID, device=device), tokens)
            out = model.detokenize(sample_decode(model, tokens, steps, 4.5, g)).float()
        mask = box.repeat_interleave(16, 0).repeat_interleave(16, 1)
        return torch.where(mask, out, edit_pixels).cpu()

    result = {
        "runner": "pytorch" + (" amp" if args.amp else ""),
        "amp_requested": args.amp,
        "device": str(device),
        "threads": torch.get_num_threads(),
        **numerics(device, amp_dtype),
        "batch": b,
        "images_per_generation_and_edit": count,
        "workloads": {},
    }
    tflops = {"float32": matmul_tflops(device)}
    if amp_dtype is not None:
        tflops[result["autocast_dtype"]] = matmul_tflops(device, amp_dtype)
    result["measured_matmul_tflops"] = tflops
    result["peak_gflops"] = tflops["float32"] * 1e3  # the name the CPU scripts read
    if "features" in only:
        best, first = timed(lambda: features(jpegs), args.repeats, warmup=lambda: features(jpegs[:b]))
        result["features_images_per_s"] = len(jpegs) / best
        result["workloads"]["features"] = {"images": len(jpegs), "batch": b, "repeats": args.repeats, "images_per_s": len(jpegs) / best, "seconds": best, "warm_up_s": first}
    # Generation and inpainting are long: one timed run after a one-step warm-up.
    if "generation" in only:
        s = args.generation_steps
        best, first = timed(lambda: generation(s), 1, warmup=lambda: generation(1))
        result["generation_images_per_s"] = count / best
        result["workloads"]["generation"] = {"images": count, "steps": s, "images_per_s": count / best, "seconds": best, "warm_up_s": first}
    if "inpainting" in only:
        s = args.inpainting_steps
        best, first = timed(lambda: inpainting(s), 1, warmup=lambda: inpainting(1))
        result["editing_images_per_s"] = count / best
        result["workloads"]["inpainting"] = {"images": count, "steps": s, "images_per_s": count / best, "seconds": best, "warm_up_s": first}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
