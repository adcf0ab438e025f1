"""Writes a model package: ONNX graphs, golden outputs and manifest.json (see ../README.md)."""
import contextlib
import errno
import hashlib
import inspect
import json
import os
import shutil
from pathlib import Path
from typing import Optional

import numpy as np
import onnx
import torch

from . import archs as A
from .model import DecoderGraph, DetokenizerGraph, EncoderGraph, MageModel, TokenizerGraph
from .schedule import decode_deterministic
from .synthetic import synthetic_images
from .transformer import CONTRIB_DOMAIN, CONTRIB_OPSET, fused_attention
from .vqgan import QUANTIZER_PRECISION

FORMAT_VERSION = 1
# Graphs whose attention is exported as ONNX Runtime's fused contrib op (transformer.fused_attention).
FUSED_ATTENTION_GRAPHS = ("encoder", "decoder")
GRAPH_FILES = {
    "tokenizer": "tokenizer.onnx",
    "encoder": "encoder.onnx",
    "decoder": "decoder.onnx",
    "detokenizer": "detokenizer.onnx",
}
GOLDEN_STEPS = 8


class OutputError(Exception):
    """The package could not be written (exists, disk full, ...)."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def export_graphs(model: MageModel, folder: Path, opset: int) -> None:
    """Exports the four graphs with a dynamic batch axis; the transformer graphs' attention as
    `com.microsoft.MultiHeadAttention`."""
    d = model.arch.dim
    n = 2
    ids = torch.full((n, A.NUM_TOKENS + 1), 5, dtype=torch.long)
    ids[:, 0] = A.FAKE_CLASS_ID
    ids[:, 1::3] = A.MASK_ID
    specs = [
        ("tokenizer", TokenizerGraph(model), (torch.rand(n, 3, A.IMAGE_SIZE, A.IMAGE_SIZE),),
         ["pixels"], ["tokens"]),
        ("encoder", EncoderGraph(model), (ids,), ["ids"], ["encoded", "linprobe", "cls", "mean"]),
        ("decoder", DecoderGraph(model), (torch.randn(n, A.NUM_TOKENS + 1, d), ids), ["encoded", "ids"], ["logits"]),
        ("detokenizer", DetokenizerGraph(model), (torch.randint(0, A.CODEBOOK_SIZE, (n, A.NUM_TOKENS)),),
         ["tokens"], ["pixels"]),
    ]
    for name, module, args, inputs, outputs in specs:
        # torch.onnx.export restores the training flag it found, recursively (docs/model.md#export-notes):
        # the wrapper must be in eval mode too, or the model comes back in training mode.
        module.eval()
        path = folder / GRAPH_FILES[name]
        extra = {}
        if "dynamo" in inspect.signature(torch.onnx.export).parameters:
            # PyTorch 2.x: keep the TorchScript exporter these graphs were validated with.
            extra["dynamo"] = False
        fused = name in FUSED_ATTENTION_GRAPHS
        if fused:
            extra["custom_opsets"] = {CONTRIB_DOMAIN: CONTRIB_OPSET}
        with torch.no_grad(), (fused_attention(model) if fused else contextlib.nullcontext()):
            torch.onnx.export(module, args, str(path), opset_version=opset, input_names=inputs,
                              output_names=outputs, dynamic_axes={k: {0: "N"} for k in inputs + outputs},
                              do_constant_folding=True, **extra)
        onnx.checker.check_model(str(path))
    model.eval()


@torch.no_grad()
def golden_outputs(model: MageModel, batch: int, seed: int) -> dict:
    model.eval()
    images = synthetic_images(batch, seed=1000 + seed)
    pixels = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    tokens = model.tokenize(pixels)
    fake = torch.full((batch, 1), A.FAKE_CLASS_ID, dtype=torch.long)
    ids = torch.cat([fake, tokens], dim=1)
    _, linprobe, cls, mean = model.encode_features(ids)
    g = torch.Generator().manual_seed(seed)
    dec_ids = ids.clone()
    for r in range(batch):
        drop = torch.randperm(A.NUM_TOKENS, generator=g)[: A.NUM_TOKENS // 2] + 1
        dec_ids[r, drop] = A.MASK_ID
    logits = model.logits(dec_ids)
    decoded = model.detokenize(tokens)
    generated = decode_deterministic(model, torch.full((1, A.NUM_TOKENS), A.MASK_ID, dtype=torch.long), GOLDEN_STEPS)
    edit = tokens[:1].clone().reshape(1, A.TOKEN_GRID, A.TOKEN_GRID)
    edit[:, 4:12, 4:12] = A.MASK_ID
    edit = edit.reshape(1, A.NUM_TOKENS)
    edited = decode_deterministic(model, edit, GOLDEN_STEPS)
    return {
        "images": images,
        "tokens": tokens.numpy().astype(np.int64),
        "linprobe": linprobe.numpy(), "cls": cls.numpy(), "mean": mean.numpy(),
        "decoder_ids": dec_ids.numpy(),
        "logits": logits.numpy(),
        "decoded": decoded.numpy(),
        "generate_steps": np.array(GOLDEN_STEPS, dtype=np.int64),
        "generated": generated.numpy(),
        "edit_ids": torch.cat([fake[:1], edit], dim=1).numpy(),
        "edited": edited.numpy(),
    }


def write_package(model: MageModel, out: Path, *, force: bool, precision: str, opset: int, source: dict,
                  golden_batch: int, seed: int, log=print) -> None:
    out = out.resolve()
    if out.exists() and not force:
        raise OutputError(f"output folder {out} exists; pass --force to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        log(f"exporting graphs ({model.arch.name}, {precision}, opset {opset})")
        export_graphs(model, tmp, opset)
        if precision == "fp16":
            from .fp16 import convert_package_to_fp16
            convert_package_to_fp16(tmp, list(GRAPH_FILES.values()))
        int8_fields = {}
        if precision == "int8":
            from .int8 import convert_package_to_int8
            from .int8_conv import quantize_vqgan
            convert_package_to_int8(tmp, list(GRAPH_FILES.values()), log=log)
            int8_fields = quantize_vqgan(model, tmp, seed, log=log)
        log("computing golden outputs with PyTorch")
        np.savez_compressed(tmp / "golden.npz", **golden_outputs(model, golden_batch, seed))
        files = {}
        for name in sorted(list(GRAPH_FILES.values()) + ["golden.npz"]):
            p = tmp / name
            files[name] = {"sha256": sha256_file(p), "bytes": p.stat().st_size}
        manifest = {
            "format": "mage-model-package",
            "format_version": FORMAT_VERSION,
            "arch": model.arch.name,
            "precision": precision,
            "opset": opset,
            "image_size": A.IMAGE_SIZE,
            "token_grid": A.TOKEN_GRID,
            "num_tokens": A.NUM_TOKENS,
            "codebook_size": A.CODEBOOK_SIZE,
            "vocab_size": A.VOCAB_SIZE,
            "mask_id": A.MASK_ID,
            "fake_class_id": A.FAKE_CLASS_ID,
            "feature_dim": model.arch.dim,
            "quantizer": QUANTIZER_PRECISION,
            **int8_fields,
            "graphs": GRAPH_FILES,
            "files": files,
            "source": source,
            "exporter": {"torch": torch.__version__.split("a")[0], "onnx": onnx.__version__},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        old: Optional[Path] = None
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            out.rename(old)
        tmp.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if e.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            raise OutputError(f"no space left on the device while writing {out}; nothing was written") from e
        raise OutputError(f"could not write {out}: {e.strerror or e}") from e
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
