"""Static int8 (QDQ) convolutions of int8 packages (mage_export/int8_conv.py, issue 26)."""
import json
import shutil

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, numpy_helper

from test_package import check_float64_distances


def _tiny_model():
    from mage_export.archs import ARCHS
    from mage_export.model import MageModel, random_init
    model = MageModel(ARCHS["tiny"])
    random_init(model, 0)  # the weights of tiny_package (export.py --random-init --seed 0)
    return model.eval()


def _qlinear_conv_reference(x, w, b, p, stride=1, padding=1):
    """ONNX QLinearConv, written out in numpy from the operator's definition: uint8 input and
    output with zero points, int8 weights per output channel, an int32 bias, integer accumulation,
    one requantization x_scale * w_scale / y_scale with round half to even."""
    xq = np.clip(np.rint(x / p.x_scale) + p.x_zero, 0, 255).astype(np.int64) - int(p.x_zero)
    xq = np.pad(xq, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, _, hp, wp = xq.shape
    o, _, kh, kw = w.shape
    ho, wo = (hp - kh) // stride + 1, (wp - kw) // stride + 1
    acc = np.zeros((n, o, ho, wo), np.int64)
    for i in range(kh):
        for j in range(kw):
            patch = xq[:, :, i:i + ho * stride:stride, j:j + wo * stride:stride]
            acc += np.einsum("nchw,oc->nohw", patch, p.w_q[:, :, i, j].astype(np.int64))
    if p.b_q is not None:
        acc += p.b_q.astype(np.int64).reshape(1, -1, 1, 1)
    y = np.clip(np.rint(acc * (np.float64(p.x_scale) * p.w_scale.reshape(1, -1, 1, 1) / np.float64(p.y_scale)))
                + p.y_zero, 0, 255)
    return (y - int(p.y_zero)) * np.float64(p.y_scale)


def test_the_simulated_convolution_is_qlinearconv_and_close_to_the_float_one():
    """The PyTorch simulation the exporter chooses float layers with computes what ONNX Runtime's
    QLinearConv does (up to one output step where float rounding differs), and stays within 2%
    (relative L2) of the float convolution on activations like the VQGAN's."""
    from mage_export import int8_conv as Q
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(8, 6, 3, padding=1, bias=True)
    x = torch.nn.functional.silu(torch.randn(2, 8, 12, 12))
    with torch.no_grad():
        y = conv(x)
    x_scale, x_zero = Q.activation_qparams(x.min(), x.max())
    y_scale, y_zero = Q.activation_qparams(y.min(), y.max())
    w_q, w_scale = Q.quantize_conv_weight(conv.weight.detach().numpy())
    b_q = np.rint(conv.bias.detach().numpy().astype(np.float64) / (np.float64(x_scale) * w_scale)).astype(np.int32)
    p = Q.ConvQuant("c", w_q, w_scale, b_q, x_scale, x_zero, y_scale, y_zero)
    with torch.no_grad():
        simulated = Q._quantized_conv(conv, p, x).numpy()
    reference = _qlinear_conv_reference(x.numpy().astype(np.float64), conv.weight.detach().numpy(), None, p)
    assert np.abs(simulated - reference).max() <= y_scale * 1.001
    assert np.mean(np.abs(simulated - reference) > 1e-6) < 0.01
    assert np.linalg.norm(simulated - y.numpy()) / np.linalg.norm(y.numpy()) < 0.02


def test_conv_weights_are_int8_per_output_channel_within_half_a_step():
    from mage_export.int8_conv import quantize_conv_weight
    rng = np.random.default_rng(2)
    w = rng.normal(size=(5, 3, 3, 3)).astype(np.float32) * np.array([0.01, 0.1, 1, 3, 0], np.float32).reshape(-1, 1, 1, 1)
    q, scale = quantize_conv_weight(w)
    assert q.dtype == np.int8 and q.shape == w.shape and scale.shape == (5,)
    peaks = np.abs(w).reshape(5, -1).max(1)
    np.testing.assert_allclose(scale[:4], peaks[:4] / 127, rtol=1e-6)
    assert scale[4] == 1 and not q[4].any()
    assert np.all(np.abs(q * scale.reshape(-1, 1, 1, 1) - w) <= scale.reshape(-1, 1, 1, 1) / 2 + 1e-7)


def test_activation_ranges_hold_zero_exactly():
    from mage_export.int8_conv import activation_qparams
    scale, zero = activation_qparams(-0.28, 12.0)
    assert scale == pytest.approx(12.28 / 255) and zero == round(0.28 / (12.28 / 255))
    scale, zero = activation_qparams(0.5, 2.0)  # widened to [0, 2]
    assert scale == pytest.approx(2 / 255) and zero == 0


def test_layers_return_to_float_least_work_per_noise_first():
    """float_first orders by multiply-accumulates x signal-to-noise power ratio, ascending: here
    (hand-computed) small 1e6 x 10^3 = 1e9, noisy_big 1e8 x 10^2 = 1e10, clean_big 1e8 x 10^4 =
    1e12, so a large layer stays int8 longest even when it is noisier than a small one."""
    from mage_export.int8_conv import float_first
    sqnr = {"clean_big": 40.0, "noisy_big": 20.0, "small": 30.0}
    macs = {"clean_big": 10 ** 8, "noisy_big": 10 ** 8, "small": 10 ** 6}
    assert float_first(["clean_big", "noisy_big", "small"], sqnr, macs) == ["small", "noisy_big", "clean_big"]
    # A layer without quantization noise (infinite SQNR) goes last, without overflowing.
    assert float_first(["exact", "small"], {"exact": float("inf"), "small": 30.0}, {"exact": 1, "small": 10 ** 6}) == ["small", "exact"]


def test_layer_macs_count_each_convolution_once_per_image():
    """The tiny VQGAN's first and last convolutions, by hand: the encoder's conv_in is 3 -> 32
    channels, 3x3, at 256x256; the decoder's conv_out 32 -> 3, 3x3, at 256x256."""
    from mage_export.int8_conv import calibration_pixels, layer_macs
    macs = layer_macs(_tiny_model(), calibration_pixels(0, 2))
    assert macs["vqgan.encoder.conv_in"] == 32 * 3 * 9 * 256 * 256
    assert macs["vqgan.decoder.conv_out"] == 3 * 32 * 9 * 256 * 256
    assert len(macs) == 38


@pytest.fixture(scope="module")
def quantized_vqgan(tiny_package, tmp_path_factory):
    """tiny_package's VQGAN graphs rewritten by quantize_vqgan, calibrated on 2 images."""
    from mage_export.int8_conv import quantize_vqgan
    folder = tmp_path_factory.mktemp("qdq")
    for name in ("tokenizer.onnx", "detokenizer.onnx"):
        shutil.copy(tiny_package / name, folder / name)
    fields = quantize_vqgan(_tiny_model(), folder, seed=0, log=lambda m: None, images=2)
    return folder, fields


def _conv_nodes(model):
    return [n for n in model.graph.node if n.op_type == "Conv"]


def test_quantized_convolutions_have_the_qdq_pattern_and_the_listed_ones_stay_float(quantized_vqgan, tiny_package):
    folder, fields = quantized_vqgan
    kept = set(fields["float_convolutions"])
    assert "vqgan.encoder.conv_out" in kept
    assert json.loads(json.dumps(fields))  # plain JSON for the manifest (no NaN or infinity)
    calibration = fields["int8_calibration"]
    assert calibration["images"] == 2 and calibration["image_seed"] == 2000
    quantized = 0
    for name in ("tokenizer.onnx", "detokenizer.onnx"):
        model = onnx.load(str(folder / name))
        onnx.checker.check_model(model)
        inits = {i.name: i for i in model.graph.initializer}
        producers = {o: n for n in model.graph.node for o in n.output}
        consumers = {}
        for n in model.graph.node:
            for i in n.input:
                consumers.setdefault(i, []).append(n)
        before = {n.name for n in _conv_nodes(onnx.load(str(tiny_package / name)))}
        assert {n.name for n in _conv_nodes(model)} == before, name  # every Conv is still there, once
        for conv in _conv_nodes(model):
            if conv.input[1] in inits:  # a float weight: the layer must be listed
                layer = conv.input[1][: -len(".weight")]
                assert layer in kept and inits[conv.input[1]].data_type == TensorProto.FLOAT, conv.name
                continue
            quantized += 1
            x_dq, w_dq = producers[conv.input[0]], producers[conv.input[1]]
            assert x_dq.op_type == "DequantizeLinear" and producers[x_dq.input[0]].op_type == "QuantizeLinear"
            assert inits[x_dq.input[2]].data_type == TensorProto.UINT8
            assert w_dq.op_type == "DequantizeLinear"
            w = inits[w_dq.input[0]]
            layer = w.name[: -len(".weight_int8")]
            assert layer not in kept and layer.startswith("vqgan.")
            assert w.data_type == TensorProto.INT8
            assert {a.name: a.i for a in w_dq.attribute} == {"axis": 0}
            assert list(numpy_helper.to_array(inits[w_dq.input[1]]).shape) == [w.dims[0]]  # one scale per output channel
            assert not numpy_helper.to_array(inits[w_dq.input[2]]).any()  # symmetric
            if len(conv.input) == 3:
                b = inits[producers[conv.input[2]].input[0]]
                assert b.data_type == TensorProto.INT32
            (q,) = consumers[conv.output[0]]
            assert q.op_type == "QuantizeLinear" and consumers[q.output[0]][0].op_type == "DequantizeLinear"
    # The tiny VQGAN: 38 convolutions, the latent one always float; the nearest-code search as it was.
    assert quantized > 0 and quantized + len(kept) == 38
    check_float64_distances(onnx.load(str(folder / "tokenizer.onnx")))
    model = onnx.load(str(folder / "tokenizer.onnx"))
    tail = lambda m: [(n.op_type, list(n.input), list(n.output)) for n in m.graph.node][-12:]  # noqa: E731
    assert tail(model) == tail(onnx.load(str(tiny_package / "tokenizer.onnx")))
