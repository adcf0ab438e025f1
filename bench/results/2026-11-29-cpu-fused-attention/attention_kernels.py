#!/usr/bin/env python3
"""Kernel time of attention proper in ONNX Runtime profiles of the encoder and decoder graphs:
every kernel whose node name lies under a block's .../attn/ except the qkv and proj projections
(their MatMul and bias Add). Before fused attention that is the split into heads, Q K^T (FusedMatMul),
Softmax, attn @ V and the transposes/reshapes; after it, the Split and MultiHeadAttention.
Usage: attention_kernels.py PROFILE_FOLDER"""
import collections
import json
import sys
from pathlib import Path

for f in sorted(Path(sys.argv[1]).glob("*.json")):
    if "encoder" not in f.name and "decoder" not in f.name:
        continue
    events = [e for e in json.loads(f.read_text()) if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")]
    total = sum(e["dur"] for e in events)
    attention = collections.Counter()
    for e in events:
        name = e["name"]
        if "/attn/" in name and "/attn/qkv/" not in name and "/attn/proj/" not in name:
            attention[e["args"]["op_name"]] += e["dur"]
    part = sum(attention.values())
    print(f"{f.name.split('_')[0]} total {total / 1e3:.0f} ms, attention {part / 1e3:.0f} ms ({100 * part / total:.1f}%)",
          {k: round(v / 1e3) for k, v in attention.most_common()})
