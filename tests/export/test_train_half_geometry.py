"""The `mini-half` tokenizer geometry: the VQGAN at 128x128 inside (average pooling at the
tokenizer's input, a bilinear x2 resize at the detokenizer's output), behind the same package
contract (256x256 pixels, 16x16 tokens, 1024 codes) and through every precision's conversion."""
import json

import onnx
import pytest
import torch

import train
from conftest import run_export
from mage_export.archs import ARCHS, TOKEN_GRID
from mage_export.model import MageModel


def test_half_geometry_keeps_the_package_geometry():
    a = ARCHS["mini-half"]
    assert a.vq_pool == 2 and len(a.vq_ch_mult) == 4  # 256 px, pooled to 128, three 2x poolings: 16x16
    model = MageModel(a).eval()
    pixels = torch.rand(2, 3, 256, 256)
    tokens = model.tokenize(pixels)
    assert tokens.shape == (2, TOKEN_GRID * TOKEN_GRID)
    out = model.detokenize(tokens)
    assert out.shape == (2, 3, 256, 256) and 0 <= float(out.min()) and float(out.max()) <= 1
    # the same parameter names as every VQGAN (the official key layout), only fewer levels
    assert all(k.startswith(("vqgan.encoder.", "vqgan.decoder.", "vqgan.quantize.")) or not k.startswith("vqgan")
               for k in model.state_dict())


def test_crops_must_fit_the_pooled_geometry():
    with pytest.raises(SystemExit):
        train.parse_args(["--out", "x", "--arch", "mini-half", "--vq-crop", "48"])
    assert train.parse_args(["--out", "x", "--arch", "mini-half", "--vq-crop", "64"]).vq_crop == 64


def test_half_geometry_exports_with_pooling_and_resize_nodes(tmp_path):
    # fp16 only: the conversion runs on the fp32 graphs, so both are exercised by one export.
    precision = "fp16"
    out = tmp_path / precision
    r = run_export("--random-init", "--arch", "mini-half", "--seed", "0", "--out", out, "--precision", precision)
    assert r.returncode == 0, r.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["arch"], manifest["image_size"], manifest["token_grid"]) == ("mini-half", 256, 16)
    tok = onnx.load(str(out / "tokenizer.onnx"))
    det = onnx.load(str(out / "detokenizer.onnx"))
    assert "AveragePool" in [n.op_type for n in tok.graph.node]
    resize = [n for n in det.graph.node if n.op_type == "Resize"]
    assert resize, "the detokenizer's x2 resize"
    # Resize's scales must stay float32 (fp16.FLOAT32_ONLY_INPUTS); strict inference proves the types.
    onnx.shape_inference.infer_shapes(det, check_type=True, strict_mode=True)
    floats = {i.name: i.data_type for i in det.graph.initializer}
    consts = {n.output[0]: n.attribute[0].t.data_type for n in det.graph.node if n.op_type == "Constant"}
    for node in resize:
        scales = node.input[2] if len(node.input) > 2 else ""
        if scales:
            assert floats.get(scales, consts.get(scales, onnx.TensorProto.FLOAT)) == onnx.TensorProto.FLOAT
    assert {i.data_type for i in tok.graph.initializer if len(i.dims) > 1} == {onnx.TensorProto.FLOAT16,
                                                                              onnx.TensorProto.DOUBLE}
