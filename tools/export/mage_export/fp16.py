"""Float16 packages: weights stored and computed in half precision inside the graphs, while each
graph's inputs and outputs keep their float32/int64 types so callers do not change.

The tokenizer is converted too: its convolutions run in half precision, while its nearest-code
search casts the latent vectors to float64 and compares them with a float64 codebook
(vqgan.Quantizer.nearest_float64; manifest "quantizer": "float64"), so squared distances neither
overflow float16 nor lose the near-ties that decide token ids. Double initializers and casts to
double are left as they are. Inputs that ONNX requires to be float32 (Resize's roi and scales)
stay float32 too.
"""
from pathlib import Path
from typing import Iterable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT32_ONLY_INPUTS = {"Resize": {1, 2}}


def _half_tensor(t: TensorProto) -> TensorProto:
    arr = numpy_helper.to_array(t)
    if np.isfinite(arr).all() and np.abs(arr).max(initial=0) > 65504:
        raise ValueError(f"tensor {t.name} holds values beyond the float16 range")
    return numpy_helper.from_array(arr.astype(np.float16), t.name)


def _rename(graph, old: str, new: str) -> str:
    """Every node that produces or reads `old` now produces or reads `new` (the graph's own
    input or output keeps the old name, bridged by a Cast)."""
    for node in graph.node:
        for names in (node.input, node.output):
            for k, name in enumerate(names):
                if name == old:
                    names[k] = new
    return new


def convert_model(model: onnx.ModelProto) -> onnx.ModelProto:
    graph = model.graph
    keep32 = set()
    for node in graph.node:
        for idx in FLOAT32_ONLY_INPUTS.get(node.op_type, ()):
            if idx < len(node.input) and node.input[idx]:
                keep32.add(node.input[idx])

    for i, init in enumerate(graph.initializer):
        if init.data_type == TensorProto.FLOAT and init.name not in keep32:
            graph.initializer[i].CopyFrom(_half_tensor(init))

    for node in graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value" and attr.t.data_type == TensorProto.FLOAT and node.output[0] not in keep32:
                    attr.t.CopyFrom(_half_tensor(attr.t))
        elif node.op_type == "ConstantOfShape":
            for attr in node.attribute:
                if attr.name == "value" and attr.t.data_type == TensorProto.FLOAT:
                    attr.t.CopyFrom(_half_tensor(attr.t))
        elif node.op_type == "Cast":
            for attr in node.attribute:
                if attr.name == "to" and attr.i == TensorProto.FLOAT:
                    attr.i = TensorProto.FLOAT16

    new_nodes, tail = [], []
    for inp in graph.input:
        if inp.type.tensor_type.elem_type == TensorProto.FLOAT:
            half = _rename(graph, inp.name, inp.name + "_fp16")
            new_nodes.append(helper.make_node("Cast", [inp.name], [half], to=TensorProto.FLOAT16,
                                              name=f"cast_in_{inp.name}"))
    for out in graph.output:
        if out.type.tensor_type.elem_type == TensorProto.FLOAT:
            half = _rename(graph, out.name, out.name + "_fp16")
            tail.append(helper.make_node("Cast", [half], [out.name], to=TensorProto.FLOAT, name=f"cast_out_{out.name}"))
    nodes = new_nodes + list(graph.node) + tail
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.value_info[:]
    return model


def convert_package_to_fp16(folder: Path, files: Iterable[str]) -> None:
    for name in files:
        path = folder / name
        model = convert_model(onnx.load(str(path)))
        onnx.checker.check_model(model)
        # Strict type inference proves every node sees the element types it accepts.
        onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
        onnx.save(model, str(path))
