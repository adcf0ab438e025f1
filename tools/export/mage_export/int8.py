"""Int8 packages: the transformer graphs' matrix products with int8 weights and dynamically
quantized activations, for ONNX Runtime's CPU provider (issue 15).

Every MatMul whose right-hand side is a float32 initializer of shape [K, N] becomes

    DynamicQuantizeLinear(A) -> A_q (uint8), a_scale, a_zero
    MatMulInteger(A_q, W_q, a_zero, 0) -> int32          W_q: int8, symmetric, one scale per column n
    Cast(float) * (a_scale * w_scale[n])                 the original output name

which is the pattern ONNX Runtime fuses into its DynamicQuantizeMatMul kernel (u8 x s8, the VNNI
path). Weights use the full int8 range [-127, 127] with scale max|W[:, n]| / 127; activations are
quantized per call over the whole tensor (DynamicQuantizeLinear: uint8, asymmetric).

Left in float32: every other op (the fused com.microsoft.MultiHeadAttention, which holds
attention's activation-by-activation products and softmax; LayerNorm; embeddings' Gather) and any
MatMul listed in `keep`. The VQGAN graphs' convolutions are int8_conv.py's (static QDQ, calibrated). A graph's inputs
and outputs keep their names and types, so the engine does not change.
"""
from pathlib import Path
from typing import Dict, Iterable, Optional, Set

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INT8_GRAPHS = ("encoder.onnx", "decoder.onnx")
INT8_MAX = 127


def quantize_weight(w: np.ndarray):
    """[K, N] float32 -> (int8 [K, N], float32 scale [N]) with w ~= q * scale column by column.
    An all-zero column gets scale 1 (its codes are all 0)."""
    if w.ndim != 2:
        raise ValueError(f"expected a [K, N] weight, got shape {w.shape}")
    peak = np.abs(w).max(axis=0)
    scale = np.where(peak > 0, peak / INT8_MAX, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale), -INT8_MAX, INT8_MAX).astype(np.int8)
    return q, scale


def convert_model(model: onnx.ModelProto, keep: Optional[Set[str]] = None) -> Dict[str, int]:
    """Rewrites `model` in place. -> {"converted": n, "kept": m} counted over MatMuls with a
    constant [K, N] float32 weight (`keep`: node names left in float32)."""
    graph = model.graph
    keep = keep or set()
    inits = {t.name: t for t in graph.initializer}
    users: Dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            users[name] = users.get(name, 0) + 1
    zero = "int8_zero_point"  # the weights' zero point, shared; added below if any product is converted

    nodes, converted, kept, dropped = [], 0, 0, set()
    for node in graph.node:
        w = inits.get(node.input[1]) if node.op_type == "MatMul" else None
        if w is None or w.data_type != TensorProto.FLOAT or len(w.dims) != 2:
            nodes.append(node)
            continue
        if node.name in keep:
            kept += 1
            nodes.append(node)
            continue
        tag = node.name or node.output[0]
        q, scale = quantize_weight(numpy_helper.to_array(w))
        wq, ws = f"{w.name}_int8_{converted}", f"{w.name}_scale_{converted}"
        graph.initializer.extend([numpy_helper.from_array(q, wq), numpy_helper.from_array(scale, ws)])
        users[w.name] -= 1
        if users[w.name] == 0:
            dropped.add(w.name)
        a = node.input[0]
        aq, a_scale, a_zero = f"{tag}_a_q", f"{tag}_a_scale", f"{tag}_a_zero"
        acc, acc_f, scales = f"{tag}_acc", f"{tag}_acc_f", f"{tag}_scales"
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [a], [aq, a_scale, a_zero], name=f"{tag}_quantize"),
            helper.make_node("MatMulInteger", [aq, wq, a_zero, zero], [acc], name=f"{tag}_matmul_int8"),
            helper.make_node("Cast", [acc], [acc_f], to=TensorProto.FLOAT, name=f"{tag}_cast"),
            helper.make_node("Mul", [a_scale, ws], [scales], name=f"{tag}_scales"),
            helper.make_node("Mul", [acc_f, scales], [node.output[0]], name=f"{tag}_rescale"),
        ]
        converted += 1
    del graph.node[:]
    graph.node.extend(nodes)
    if converted:
        graph.initializer.append(numpy_helper.from_array(np.array(0, dtype=np.int8), zero))
    kept_inits = [t for t in graph.initializer if t.name not in dropped]
    del graph.initializer[:]
    graph.initializer.extend(kept_inits)
    del graph.value_info[:]
    return {"converted": converted, "kept": kept}


def convert_package_to_int8(folder: Path, files: Iterable[str], keep: Optional[Set[str]] = None, log=print) -> None:
    for name in files:
        if name not in INT8_GRAPHS:
            continue
        path = folder / name
        model = onnx.load(str(path))
        counts = convert_model(model, keep)
        onnx.checker.check_model(model)
        onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
        onnx.save(model, str(path))
        log(f"int8: {name}: {counts['converted']} matrix products to int8, {counts['kept']} kept in float32")
