"""Int8 packages, the VQGAN half: static (QDQ) int8 convolutions in the tokenizer and the
detokenizer graphs, for ONNX Runtime's CPU provider (issue 26).

Each converted Conv becomes

    x -> QuantizeLinear(x_scale, x_zero) -> DequantizeLinear -> Conv(., DQ(W_q, w_scale, axis 0),
    DQ(B_q, x_scale * w_scale, axis 0)) -> QuantizeLinear(y_scale, y_zero) -> DequantizeLinear -> y

with W_q int8, symmetric, one scale per output channel (mage_export.int8.quantize_weight over
each channel's weights), B_q int32 at the accumulator's scale, and the activations x and y uint8
with one scale and zero point per tensor, calibrated in PyTorch: forward hooks record each
convolution's input and output range over images the exporter generates
(synthetic.synthetic_images, seeds apart from the golden images). ONNX Runtime fuses the pattern
into one QLinearConv (u8 x s8); without the output QuantizeLinear it would not, which is why the
output is quantized too.

Layers stay float32 when
- their output is the tokenizer's latent (the encoder's conv_out): the float64 nearest-code search
  decides ids on near-ties, and a uint8 latent would move them; the search itself is untouched;
- quantizing them costs too much fidelity: `choose_float_layers` simulates the quantized network
  in PyTorch (fake quantization with the same numbers the graph gets) and returns to float32 the
  fewest layers that bring the tokens and the detokenized images back to the exporter's targets:
  in the decoder in the order of `float_first` (least work saved per unit of quantization noise
  first: the small deep layers before the full-resolution ones that hold most of the time), in the
  encoder the lowest signal-to-quantization-noise ratio first (see `choose_float_layers`).
The manifest lists the float layers ("float_convolutions") and what the simulation measured
("int8_calibration").
"""
import contextlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from .archs import TOKEN_GRID
from .int8 import quantize_weight
from .synthetic import synthetic_images

# Graph file -> the module prefix of the convolutions inside it.
CONV_GRAPHS = {"tokenizer.onnx": "vqgan.encoder", "detokenizer.onnx": "vqgan.decoder"}
# The latent the nearest-code search reads; never quantized.
LATENT_LAYER = "vqgan.encoder.conv_out"
UINT8_MAX = 255
INT32_MAX = 2 ** 31 - 1
# Calibration images: synthetic_images(CALIBRATION_IMAGES, seed=CALIBRATION_SEED_BASE + seed).
# Golden images use 1000 + seed, so the fidelity `mage model verify` measures is on other images.
CALIBRATION_IMAGES = 8
CALIBRATION_SEED_BASE = 2000
# What the simulated network must keep on the calibration images, with a margin above the bounds
# `mage model verify` applies (GoldenCheck: tokens >= 95%, PSNR >= 35 dB).
TARGET_TOKEN_MATCH = 0.97
TARGET_PSNR_DB = 38.0
BATCH = 4
# Activation values kept per convolution call for choosing the clipping, and the factors tried.
SAMPLES_PER_CALL = 1 << 16
CLIP_FACTORS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3)


@dataclass
class ConvQuant:
    """One convolution's int8 numbers, shared by the simulation and the graph rewrite."""
    name: str
    w_q: np.ndarray          # int8 [O, I, kh, kw]
    w_scale: np.ndarray      # float32 [O]
    b_q: Optional[np.ndarray]  # int32 [O] at scale x_scale * w_scale, or None
    x_scale: np.float32
    x_zero: np.uint8
    y_scale: np.float32
    y_zero: np.uint8

    @property
    def b_scale(self) -> np.ndarray:
        return (self.x_scale * self.w_scale).astype(np.float32)


def activation_qparams(lo: float, hi: float):
    """A calibrated range -> (scale float32, zero point uint8), asymmetric uint8 over a range
    widened to hold 0 (so zero padding is exact)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = np.float32((hi - lo) / UINT8_MAX if hi > lo else 1.0)
    zero = np.uint8(np.clip(np.rint(-lo / scale), 0, UINT8_MAX))
    return scale, zero


def quantize_conv_weight(w: np.ndarray):
    """[O, I, kh, kw] float32 -> (int8 of the same shape, float32 scale [O]), per output channel."""
    flat = w.reshape(w.shape[0], -1).T  # [K, O]: quantize_weight's columns are the channels
    q, scale = quantize_weight(flat)
    return np.ascontiguousarray(q.T).reshape(w.shape), scale


def vqgan_convs(model: nn.Module) -> Dict[str, nn.Conv2d]:
    return {name: m for name, m in model.named_modules() if isinstance(m, nn.Conv2d) and name.startswith("vqgan.")}


def calibration_pixels(seed: int, count: int = CALIBRATION_IMAGES) -> torch.Tensor:
    images = synthetic_images(count, seed=CALIBRATION_SEED_BASE + seed)
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0


@torch.no_grad()
def _run(model, pixels: torch.Tensor, tokens: Optional[torch.Tensor] = None):
    """-> (tokens, decoded), in batches. Given `tokens`, the encoder does not run and the decoder
    reads them (so that a decoder comparison is not mixed up with the encoder's)."""
    out_tokens, out_pixels = [], []
    for i in range(0, pixels.shape[0], BATCH):
        if tokens is None:
            t = model.vqgan.quantize.nearest_float64(model.vqgan.encoder(pixels[i:i + BATCH]))
        else:
            t = tokens[i:i + BATCH]
        out_tokens.append(t)
        out_pixels.append(model.vqgan.decoder(model.vqgan.quantize.lookup(t, TOKEN_GRID)).clamp(0.0, 1.0))
    return torch.cat(out_tokens), torch.cat(out_pixels)


@torch.no_grad()
def _run_observed(model, pixels: torch.Tensor, record) -> None:
    """`_run` with record(name, module, input, output) called after every VQGAN convolution."""
    hook = lambda name: lambda module, inputs, output: record(name, module, inputs[0], output)  # noqa: E731
    handles = [m.register_forward_hook(hook(name)) for name, m in vqgan_convs(model).items()]
    try:
        _run(model, pixels)
    finally:
        for h in handles:
            h.remove()


@torch.no_grad()
def _tokens(model, pixels: torch.Tensor) -> torch.Tensor:
    return torch.cat([model.vqgan.quantize.nearest_float64(model.vqgan.encoder(pixels[i:i + BATCH]))
                      for i in range(0, pixels.shape[0], BATCH)])


def clipped_range(samples: torch.Tensor, lo: float, hi: float):
    """The range [lo, hi] shrunk by the factor (of CLIP_FACTORS) whose uint8 fake quantization of
    `samples` has the smallest mean squared error: a few outliers then do not set the step for all."""
    best, best_err = (lo, hi), math.inf
    for f in CLIP_FACTORS:
        scale, zero = activation_qparams(lo * f, hi * f)
        err = ((_fake_quant(samples, scale, zero) - samples) ** 2).mean().item()
        if err < best_err:
            best, best_err = (lo * f, hi * f), err
    return best


@torch.no_grad()
def calibrate(model, pixels: torch.Tensor) -> Dict[str, ConvQuant]:
    """Runs the float model over `pixels` with hooks on every VQGAN convolution and returns each
    one's int8 numbers: weights per output channel, activations over the observed input and output
    ranges, clipped where that lowers the quantization error of a sample of the values."""
    convs = vqgan_convs(model)
    seen = {name: {"x": [], "y": []} for name in convs}
    g = torch.Generator().manual_seed(0)

    def sample(t: torch.Tensor):
        flat = t.flatten()
        pick = torch.randint(0, flat.numel(), (min(SAMPLES_PER_CALL, flat.numel()),), generator=g)
        return flat.min().item(), flat.max().item(), flat[pick].clone()

    def record(name, _module, x, y):
        seen[name]["x"].append(sample(x))
        seen[name]["y"].append(sample(y))

    _run_observed(model, pixels, record)

    def qparams(records):
        lo, hi = min(r[0] for r in records), max(r[1] for r in records)
        return activation_qparams(*clipped_range(torch.cat([r[2] for r in records]), lo, hi))

    params = {}
    for name, m in convs.items():
        x_scale, x_zero = qparams(seen[name]["x"])
        y_scale, y_zero = qparams(seen[name]["y"])
        w_q, w_scale = quantize_conv_weight(m.weight.detach().numpy())
        b_q = None
        if m.bias is not None:
            b = m.bias.detach().numpy().astype(np.float64)
            b_q = np.clip(np.rint(b / (np.float64(x_scale) * w_scale)), -INT32_MAX, INT32_MAX).astype(np.int32)
        params[name] = ConvQuant(name, w_q, w_scale, b_q, x_scale, x_zero, y_scale, y_zero)
    return params


def _fake_quant(x: torch.Tensor, scale: np.float32, zero: np.uint8) -> torch.Tensor:
    """QuantizeLinear then DequantizeLinear (uint8, round half to even as ONNX defines it)."""
    s, z = float(scale), float(zero)
    return (torch.clamp(torch.round(x / s) + z, 0, UINT8_MAX) - z) * s


def _quantized_conv(m: nn.Conv2d, p: ConvQuant, x: torch.Tensor) -> torch.Tensor:
    w = torch.from_numpy(p.w_q.astype(np.float32) * p.w_scale.reshape(-1, 1, 1, 1))
    b = None if p.b_q is None else torch.from_numpy((p.b_q.astype(np.float64) * p.b_scale).astype(np.float32))
    y = F.conv2d(_fake_quant(x, p.x_scale, p.x_zero), w, b, m.stride, m.padding, m.dilation, m.groups)
    return _fake_quant(y, p.y_scale, p.y_zero)


@contextlib.contextmanager
def simulated(model, params: Dict[str, ConvQuant], names):
    """Within the block the named convolutions compute as their QDQ graph nodes do."""
    convs = vqgan_convs(model)
    for name in names:
        m = convs[name]
        m.forward = (lambda mod, p: lambda x: _quantized_conv(mod, p, x))(m, params[name])
    try:
        yield
    finally:
        for name in names:
            del convs[name].forward


def psnr_db(actual: torch.Tensor, expected: torch.Tensor) -> float:
    """Smallest per-image PSNR on the [0, 1] scale (infinite for identical images)."""
    mse = ((actual.double() - expected.double()) ** 2).flatten(1).mean(1)
    worst = mse.max().item()
    return math.inf if worst == 0 else 10 * math.log10(1.0 / worst)


@torch.no_grad()
def layer_sqnr(model, params: Dict[str, ConvQuant], pixels: torch.Tensor) -> Dict[str, float]:
    """Each convolution quantized alone, on its float input: signal-to-quantization-noise of its
    output in dB (lower = more sensitive), from one float pass."""
    convs = vqgan_convs(model)
    acc = {name: [0.0, 0.0] for name in convs}

    def record(name, module, x, y):
        q = _quantized_conv(module, params[name], x)
        acc[name][0] += float((y.double() ** 2).sum())
        acc[name][1] += float(((q - y).double() ** 2).sum())

    _run_observed(model, pixels, record)
    return {n: (math.inf if e == 0 else 10 * math.log10(max(s, 1e-30) / e)) for n, (s, e) in acc.items()}


@torch.no_grad()
def layer_macs(model, pixels: torch.Tensor) -> Dict[str, int]:
    """Multiply-accumulates of each VQGAN convolution for one image (what int8 saves time on)."""
    macs = {}

    def record(name, module, _x, y):
        macs[name] = macs.get(name, 0) + module.weight[0].numel() * y[0].numel()

    _run_observed(model, pixels[:1], record)
    return macs


def float_first(names, sqnr: Dict[str, float], macs: Dict[str, int]) -> List[str]:
    """`names` in the order they are returned to float32: least work saved per unit of noise first
    (multiply-accumulates x signal-to-noise power ratio), so that the bisection keeps the large
    full-resolution layers int8 unless they alone cost too much fidelity."""
    return sorted(names, key=lambda n: macs[n] * 10 ** (min(sqnr[n], 100.0) / 10))


@torch.no_grad()
def choose_float_layers(model, params: Dict[str, ConvQuant], pixels: torch.Tensor, log=print) -> dict:
    """-> {"float": [names kept float32], "token_match": r, "psnr_db": p, "sqnr_db": {...}}, measured
    on `pixels` with every other VQGAN convolution simulated in int8."""
    ref_tokens, ref_pixels = _run(model, pixels)
    sqnr = layer_sqnr(model, params, pixels)
    macs = layer_macs(model, pixels)
    keep = {LATENT_LAYER}

    def measure(prefix, quantized):
        with simulated(model, params, quantized):
            if prefix == "vqgan.encoder":
                return (_tokens(model, pixels) == ref_tokens).double().mean().item(), TARGET_TOKEN_MATCH
            return psnr_db(_run(model, pixels, tokens=ref_tokens)[1], ref_pixels), TARGET_PSNR_DB

    results = {}
    for prefix in CONV_GRAPHS.values():
        layers = [n for n in params if n.startswith(prefix + ".") and n not in keep]
        # The decoder in the order of work saved; the encoder by SQNR alone: its ids fall on
        # near-ties, and on seeded vit-base the full-resolution layers the work order quantizes met
        # the 97 % target on the calibration images (97.5 %) but not the 95 % bound on the held-out
        # golden image (94.9 %), where the SQNR order's choice held (97.2 % -> 96.9 %).
        ranked = float_first(layers, sqnr, macs) if prefix == "vqgan.decoder" else sorted(layers, key=lambda n: sqnr[n])
        # The fewest layers of that order to keep float, by bisection on their number (each step
        # one simulated pass); all of them when even one quantized layer misses.
        tried = {}

        def ok(k):
            if k not in tried:
                tried[k] = measure(prefix, ranked[k:])
                log(f"int8: {prefix}: {len(ranked) - k} convolutions in int8: "
                    f"{'token match' if prefix.endswith('encoder') else 'min PSNR'} {tried[k][0]:.4f} "
                    f"(target {tried[k][1]})")
            return tried[k][0] >= tried[k][1]

        lo, hi = 0, len(ranked)  # ok(hi) holds: nothing quantized
        tried[hi] = (None, None)  # nothing quantized: nothing to measure
        while lo < hi:
            mid = (lo + hi) // 2
            if ok(mid):
                hi = mid
            else:
                lo = mid + 1
        keep.update(ranked[:hi])
        results[prefix] = tried[hi][0]
    return {
        "float": sorted(keep),
        "token_match": results["vqgan.encoder"],
        "psnr_db": results["vqgan.decoder"],
        "sqnr_db": sqnr,
    }


def _initializer(graph, array: np.ndarray, name: str) -> str:
    graph.initializer.append(numpy_helper.from_array(array, name))
    return name


def convert_convolutions(model: onnx.ModelProto, params: Dict[str, ConvQuant], keep) -> Dict[str, int]:
    """Rewrites `model` in place: every Conv whose weight is `<layer>.weight` for a layer in
    `params` and not in `keep` gets the QDQ pattern of the module docstring. -> counts."""
    graph = model.graph
    by_weight = {f"{name}.weight": p for name, p in params.items() if name not in keep}
    nodes, converted, kept, dropped = [], 0, 0, set()
    for node in graph.node:
        p = by_weight.get(node.input[1]) if node.op_type == "Conv" else None
        if p is None:
            kept += node.op_type == "Conv"
            nodes.append(node)
            continue
        tag = p.name
        x_s = _initializer(graph, np.array(p.x_scale, np.float32), f"{tag}.x_scale")
        x_z = _initializer(graph, np.array(p.x_zero, np.uint8), f"{tag}.x_zero")
        y_s = _initializer(graph, np.array(p.y_scale, np.float32), f"{tag}.y_scale")
        y_z = _initializer(graph, np.array(p.y_zero, np.uint8), f"{tag}.y_zero")
        w_q = _initializer(graph, p.w_q, f"{tag}.weight_int8")
        w_s = _initializer(graph, p.w_scale, f"{tag}.weight_scale")
        w_z = _initializer(graph, np.zeros(p.w_scale.shape, np.int8), f"{tag}.weight_zero")
        dropped.add(node.input[1])
        conv_inputs = [f"{tag}.x_dq", f"{tag}.weight_dq"]
        nodes += [
            helper.make_node("QuantizeLinear", [node.input[0], x_s, x_z], [f"{tag}.x_q"], name=f"{tag}.x_quantize"),
            helper.make_node("DequantizeLinear", [f"{tag}.x_q", x_s, x_z], [f"{tag}.x_dq"], name=f"{tag}.x_dequantize"),
            helper.make_node("DequantizeLinear", [w_q, w_s, w_z], [f"{tag}.weight_dq"], name=f"{tag}.weight_dequantize", axis=0),
        ]
        if p.b_q is not None:
            b_q = _initializer(graph, p.b_q, f"{tag}.bias_int32")
            b_s = _initializer(graph, p.b_scale, f"{tag}.bias_scale")
            b_z = _initializer(graph, np.zeros(p.b_q.shape, np.int32), f"{tag}.bias_zero")
            dropped.add(node.input[2])
            nodes.append(helper.make_node("DequantizeLinear", [b_q, b_s, b_z], [f"{tag}.bias_dq"],
                                          name=f"{tag}.bias_dequantize", axis=0))
            conv_inputs.append(f"{tag}.bias_dq")
        conv = helper.make_node("Conv", conv_inputs, [f"{tag}.y_float"], name=node.name)
        conv.attribute.extend(node.attribute)
        nodes += [
            conv,
            helper.make_node("QuantizeLinear", [f"{tag}.y_float", y_s, y_z], [f"{tag}.y_q"], name=f"{tag}.y_quantize"),
            helper.make_node("DequantizeLinear", [f"{tag}.y_q", y_s, y_z], [node.output[0]], name=f"{tag}.y_dequantize"),
        ]
        converted += 1
    still_used = {i for n in nodes for i in n.input}
    del graph.node[:]
    graph.node.extend(nodes)
    inits = [t for t in graph.initializer if t.name not in dropped or t.name in still_used]
    del graph.initializer[:]
    graph.initializer.extend(inits)
    del graph.value_info[:]
    return {"converted": converted, "kept": kept}


def quantize_vqgan(model, folder: Path, seed: int, log: Callable[[str], None] = print,
                   images: int = CALIBRATION_IMAGES) -> dict:
    """Calibrates on `images` generated images, chooses the float layers and rewrites
    tokenizer.onnx and detokenizer.onnx in `folder`. -> the manifest's {"float_convolutions":
    [...], "int8_calibration": {...}}."""
    pixels = calibration_pixels(seed, images)
    log(f"int8: calibrating the VQGAN convolutions on {pixels.shape[0]} synthetic images")
    params = calibrate(model, pixels)
    choice = choose_float_layers(model, params, pixels, log=log)
    for name, prefix in CONV_GRAPHS.items():
        path = folder / name
        graph = onnx.load(str(path))
        layers = {n: p for n, p in params.items() if n.startswith(prefix + ".")}
        counts = convert_convolutions(graph, layers, set(choice["float"]))
        onnx.checker.check_model(graph)
        onnx.shape_inference.infer_shapes(graph, check_type=True, strict_mode=True)
        onnx.save(graph, str(path))
        log(f"int8: {name}: {counts['converted']} convolutions to int8 (QDQ), {counts['kept']} kept in float32")
    return {
        "float_convolutions": choice["float"],
        "int8_calibration": {
            "images": int(pixels.shape[0]),
            "image_seed": CALIBRATION_SEED_BASE + seed,
            "token_match": None if choice["token_match"] is None else round(choice["token_match"], 6),
            "min_psnr_db": None if choice["psnr_db"] is None else round(choice["psnr_db"], 3),
        },
    }
