#!/usr/bin/env python3
"""FLOPs per image of each graph and each benchmark workload, counted from the architecture
(2 x multiply-adds of every convolution, linear layer, attention product, the MLM head's product
with the word embeddings and the tokenizer's nearest-code distances; norms, activations and
softmax left out). Prints one JSON object.

    bench/flops.py [ARCH] [--generation-steps 20] [--inpainting-steps 12]

Flat keys (GFLOP per image, the figures docs/benchmarks.md quotes): tokenize, encoder, logits (one
generation step: encoder + decoder), detokenize, features_per_image, generation_per_image_20_steps,
editing_per_image_12_steps. `graphs` splits each graph into `conv` and `matmul` GFLOP (they may
run at different precisions: TF32 convolutions beside fp32 products), and `workloads` says which
graph runs how many times per image in each workload, as Mage and bench/pytorch_bench.py run them:
  features    tokenize + encoder (pooled features);
  generation  steps x logits (the encoder and decoder run on all 257 positions every step) + detokenize;
  inpainting  tokenize + steps x logits + detokenize.
Padding rows (Mage's fixed transformer batches) are work done but not counted: these are FLOPs per
image produced.
"""
import argparse
import json
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools" / "export"))
from mage_export.archs import ARCHS, VOCAB_SIZE  # noqa: E402
from mage_export.model import MageModel  # noqa: E402
from mage_export.transformer import Attention  # noqa: E402
from mage_export.vqgan import Quantizer  # noqa: E402


def count(model: MageModel, fn) -> dict:
    """{"conv": GFLOP, "matmul": GFLOP} of one call of fn (batch 1)."""
    macs = {"conv": 0, "matmul": 0}

    def conv(m, i, o):
        macs["conv"] += o.numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]

    def linear(m, i, o):
        macs["matmul"] += o.numel() * m.in_features

    def attention(m, i, o):
        b, n, c = i[0].shape
        macs["matmul"] += 2 * b * n * n * c  # q.k^T and attn.v

    def nearest(m, i, o):
        n, c, h, w = i[0].shape
        macs["matmul"] += n * h * w * c * m.embedding.num_embeddings  # flat @ codes.t()

    hooks = []
    for mod in model.modules():
        if isinstance(mod, nn.Conv2d):
            hooks.append(mod.register_forward_hook(conv))
        elif isinstance(mod, nn.Linear):
            hooks.append(mod.register_forward_hook(linear))
        elif isinstance(mod, Attention):
            hooks.append(mod.register_forward_hook(attention))
    # nearest() is not a forward(): wrap it for the count.
    quantizer: Quantizer = model.vqgan.quantize
    original = quantizer.nearest

    def counted(z):
        nearest(quantizer, (z,), None)
        return original(z)

    quantizer.nearest = counted
    try:
        with torch.no_grad():
            fn()
    finally:
        quantizer.nearest = original
        for h in hooks:
            h.remove()
    return {k: 2 * v / 1e9 for k, v in macs.items()}


def flops(arch: str = "vit-base", generation_steps: int = 20, inpainting_steps: int = 12) -> dict:
    model = MageModel(ARCHS[arch]).eval()
    ids = torch.full((1, 257), 5, dtype=torch.long)
    graphs = {
        "tokenize": count(model, lambda: model.tokenize(torch.rand(1, 3, 256, 256))),
        "encoder": count(model, lambda: model.encode_features(ids)),
        "logits": count(model, lambda: model.logits(ids)),
        "detokenize": count(model, lambda: model.detokenize(torch.zeros(1, 256, dtype=torch.long))),
    }
    # MLM head: its matmul with the shared word embeddings is not a Linear module.
    graphs["logits"]["matmul"] += 2 * 257 * ARCHS[arch].dim * VOCAB_SIZE / 1e9
    workloads = {
        "features": {"tokenize": 1, "encoder": 1},
        "generation": {"logits": generation_steps, "detokenize": 1},
        "inpainting": {"tokenize": 1, "logits": inpainting_steps, "detokenize": 1},
    }
    total = {g: sum(v.values()) for g, v in graphs.items()}
    out = {k: round(v, 2) for k, v in total.items()}
    out["features_per_image"] = round(total["tokenize"] + total["encoder"], 2)
    out[f"generation_per_image_{generation_steps}_steps"] = round(generation_steps * total["logits"] + total["detokenize"], 2)
    out[f"editing_per_image_{inpainting_steps}_steps"] = round(total["tokenize"] + inpainting_steps * total["logits"] + total["detokenize"], 2)
    out["arch"] = arch
    out["unit"] = "GFLOP per image"
    out["graphs"] = {g: {k: round(v, 3) for k, v in d.items()} for g, d in graphs.items()}
    out["workloads"] = {
        w: {"runs": runs, "steps": runs.get("logits"), **{k: round(sum(n * graphs[g][k] for g, n in runs.items()), 2) for k in ("conv", "matmul")}}
        for w, runs in workloads.items()
    }
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("arch", nargs="?", default="vit-base", choices=sorted(ARCHS))
    p.add_argument("--generation-steps", type=int, default=20)
    p.add_argument("--inpainting-steps", type=int, default=12)
    a = p.parse_args()
    print(json.dumps(flops(a.arch, a.generation_steps, a.inpainting_steps)))


if __name__ == "__main__":
    main()
