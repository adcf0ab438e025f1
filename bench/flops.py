#!/usr/bin/env python3
"""FLOPs per image of each graph, counted from the architecture (2 x multiply-adds of every
convolution, linear layer and attention product; norms and activations left out)."""
import json
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools" / "export"))
from mage_export.archs import ARCHS  # noqa: E402
from mage_export.model import MageModel  # noqa: E402
from mage_export.transformer import Attention  # noqa: E402


def count(model: MageModel, fn) -> float:
    macs = [0]

    def conv(m, i, o):
        macs[0] += o.numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]

    def linear(m, i, o):
        macs[0] += o.numel() * m.in_features

    def attention(m, i, o):
        b, n, c = i[0].shape
        macs[0] += 2 * b * n * n * c  # q.k^T and attn.v

    hooks = []
    for mod in model.modules():
        if isinstance(mod, nn.Conv2d):
            hooks.append(mod.register_forward_hook(conv))
        elif isinstance(mod, nn.Linear):
            hooks.append(mod.register_forward_hook(linear))
        elif isinstance(mod, Attention):
            hooks.append(mod.register_forward_hook(attention))
    with torch.no_grad():
        fn()
    for h in hooks:
        h.remove()
    return 2 * macs[0]


def main(arch="vit-base"):
    model = MageModel(ARCHS[arch]).eval()
    ids = torch.full((1, 257), 5, dtype=torch.long)
    result = {
        "tokenize": count(model, lambda: model.tokenize(torch.rand(1, 3, 256, 256))),
        "encoder": count(model, lambda: model.encode_features(ids)),
        "logits": count(model, lambda: model.logits(ids)),
        "detokenize": count(model, lambda: model.detokenize(torch.zeros(1, 256, dtype=torch.long))),
    }
    # MLM head: its matmul with the shared word embeddings is not a Linear module.
    result["logits"] += 2 * 257 * ARCHS[arch].dim * 2025
    gf = {k: v / 1e9 for k, v in result.items()}
    gf["features_per_image"] = gf["tokenize"] + gf["encoder"]
    gf["generation_per_image_20_steps"] = 20 * gf["logits"] + gf["detokenize"]
    gf["editing_per_image_12_steps"] = gf["tokenize"] + 12 * gf["logits"] + gf["detokenize"]
    print(json.dumps({k: round(v, 1) for k, v in gf.items()}))


if __name__ == "__main__":
    main(*sys.argv[1:])
