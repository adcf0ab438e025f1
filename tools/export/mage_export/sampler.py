"""One step of MAGE's decoding schedule as an ONNX graph, so the generation loop can stay on the GPU.

The graph is the same for every model package (it only knows 256 positions and 1024 codebook ids),
so it ships inside Mage.Inference (src/Mage.Inference/Runtime/sampler.onnx) rather than in
packages. It follows docs/model.md#decode-schedule and Mage.Inference's host implementation
(HostDecodeLoop) operation by operation, so on the CPU provider both give the same ids:

- weights w = exp(double(logits) - double(max)), their running sum in index order, total = the
  last running sum;
- a sample is the first id whose running sum exceeds u * total (u from the host's counter-based
  generator), falling back to the last id with weight; argmax takes the lowest id on ties;
- confidence = float(log(double(float(w[id] / total)))) + noise (the host's scaled Gumbel noise),
  +inf for known positions;
- mask_len = max(1, min(unknown_now - 1, scheduled)) with scheduled = floor(U0 * cos(pi/2 * ratio))
  from the host; every position whose confidence is at most the mask_len-th smallest becomes
  unknown again.

Inputs: ids int64 [N, 257], logits float [N, 256, 1024], uniform double [N, 256], noise float
[N, 256], scheduled float [N], sample bool [1] (false: argmax). Outputs: next_ids int64 [N, 257],
sampled int64 [N, 256], row_ok bool [N] (false where an unknown position had non-finite logits).
"""
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

POSITIONS = 256
CODEBOOK = 1024
SEQUENCE = POSITIONS + 1
MASK_ID = 2024
OPSET = 17

F, D, I64, B = TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.INT64, TensorProto.BOOL


def build_sampler() -> onnx.ModelProto:
    nodes = []
    consts = []

    def const(name, value, dtype):
        consts.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(kind, inputs, output, **attrs):
        outputs = output if isinstance(output, list) else [output]
        nodes.append(helper.make_node(kind, inputs, outputs, name=outputs[0], **attrs))
        return output

    one_i = const("c_one_i64", [1], np.int64)
    zero_i = const("c_zero_i64", [0], np.int64)
    seq_i = const("c_seq_i64", [SEQUENCE], np.int64)
    axis1 = const("c_axis1", [1], np.int64)
    axis2 = const("c_axis2", [2], np.int64)
    axis2_scalar = const("c_axis2_scalar", 2, np.int64)
    last_i = const("c_last_i64", [CODEBOOK - 1], np.int64)
    end_i = const("c_end_i64", [CODEBOOK], np.int64)
    mask_id = const("c_mask_id", MASK_ID, np.int64)
    index = const("c_index", np.arange(CODEBOOK), np.float32)
    no_index_hi = const("c_codebook_f", float(CODEBOOK), np.float32)
    no_index_lo = const("c_minus_one_f", -1.0, np.float32)
    one_f = const("c_one_f", 1.0, np.float32)
    zero_d = const("c_zero_d", 0.0, np.float64)
    inf_f = const("c_inf_f", np.inf, np.float32)
    k_all = const("c_k_all", [POSITIONS], np.int64)

    # Current tokens and which positions are known.
    op("Slice", ["ids", zero_i, one_i, axis1], "cls")
    op("Slice", ["ids", one_i, seq_i, axis1], "tokens")
    op("Equal", ["tokens", mask_id], "is_unknown")
    op("Not", ["is_unknown"], "known")

    # Unnormalised probabilities in double, as the host computes them.
    op("ReduceMax", ["logits"], "logit_max", axes=[2], keepdims=1)
    op("Cast", ["logits"], "logits_d", to=D)
    op("Cast", ["logit_max"], "logit_max_d", to=D)
    op("Sub", ["logits_d", "logit_max_d"], "shifted")
    op("Exp", ["shifted"], "weights")
    op("CumSum", ["weights", axis2_scalar], "running")
    op("Slice", ["running", last_i, end_i, axis2], "total")

    # Argmax with the lowest id on ties.
    op("Equal", ["logits", "logit_max"], "is_max")
    op("Where", ["is_max", index, no_index_hi], "max_index")
    op("ReduceMin", ["max_index"], "argmax_f", axes=[2], keepdims=1)

    # Inverse-CDF sample: the first id whose running sum exceeds u * total.
    op("Unsqueeze", ["uniform", axis2], "uniform_3d")
    op("Mul", ["uniform_3d", "total"], "target")
    op("Greater", ["running", "target"], "above")
    op("Cast", ["above"], "above_f", to=F)
    op("ReduceSum", ["above_f", axis2], "above_count", keepdims=1)
    op("Sub", [no_index_hi, "above_count"], "first_above")
    op("Greater", ["weights", zero_d], "has_weight")
    op("Where", ["has_weight", index, no_index_lo], "weighted_index")
    op("ReduceMax", ["weighted_index"], "last_weighted", axes=[2], keepdims=1)
    op("Min", ["first_above", "last_weighted"], "sample_f")
    op("Where", ["sample", "sample_f", "argmax_f"], "chosen_f")
    op("Cast", ["chosen_f"], "chosen_3d", to=I64)

    # Confidence: float(log(double(float(p)))) plus the host's noise; known positions +inf.
    op("GatherElements", ["weights", "chosen_3d"], "chosen_weight", axis=2)
    op("Div", ["chosen_weight", "total"], "p_d")
    op("Cast", ["p_d"], "p_f", to=F)
    op("Cast", ["p_f"], "p_fd", to=D)
    op("Log", ["p_fd"], "log_p_d")
    op("Cast", ["log_p_d"], "log_p_3d", to=F)
    op("Squeeze", ["log_p_3d", axis2], "log_p")
    op("Add", ["log_p", "noise"], "noisy")
    op("Where", ["known", inf_f, "noisy"], "confidence")
    op("Squeeze", ["chosen_3d", axis2], "chosen")
    op("Where", ["known", "tokens", "chosen"], "sampled")

    # A non-finite logit makes the total NaN or infinite; only unknown positions count.
    op("Sub", ["total", "total"], "total_minus_total")
    op("Equal", ["total_minus_total", zero_d], "finite_3d")
    op("Squeeze", ["finite_3d", axis2], "finite")
    op("Or", ["known", "finite"], "position_ok")
    op("Cast", ["position_ok"], "position_ok_f", to=F)
    op("ReduceMin", ["position_ok_f"], "row_ok_f", axes=[1], keepdims=0)
    op("Cast", ["row_ok_f"], "row_ok", to=B)

    # mask_len and the cut-off: the mask_len-th smallest confidence of the row.
    op("Cast", ["is_unknown"], "is_unknown_f", to=F)
    op("ReduceSum", ["is_unknown_f", axis1], "unknown_now", keepdims=0)
    op("Sub", ["unknown_now", one_f], "unknown_less_one")
    op("Min", ["unknown_less_one", "scheduled"], "capped")
    op("Max", ["capped", one_f], "mask_len")
    op("TopK", ["confidence", k_all], ["ascending", "ascending_index"], axis=1, largest=0, sorted=1)
    op("Sub", ["mask_len", one_f], "cut_position_f")
    op("Cast", ["cut_position_f"], "cut_position", to=I64)
    op("Unsqueeze", ["cut_position", axis1], "cut_position_2d")
    op("GatherElements", ["ascending", "cut_position_2d"], "cut_off", axis=1)
    op("Greater", ["confidence", "cut_off"], "kept")
    op("Where", ["kept", "sampled", mask_id], "next_tokens")
    op("Concat", ["cls", "next_tokens"], "next_ids", axis=1)

    n = "N"
    graph = helper.make_graph(
        nodes,
        "mage-sampler",
        inputs=[
            helper.make_tensor_value_info("ids", I64, [n, SEQUENCE]),
            helper.make_tensor_value_info("logits", F, [n, POSITIONS, CODEBOOK]),
            helper.make_tensor_value_info("uniform", D, [n, POSITIONS]),
            helper.make_tensor_value_info("noise", F, [n, POSITIONS]),
            helper.make_tensor_value_info("scheduled", F, [n]),
            helper.make_tensor_value_info("sample", B, [1]),
        ],
        outputs=[
            helper.make_tensor_value_info("next_ids", I64, [n, SEQUENCE]),
            helper.make_tensor_value_info("sampled", I64, [n, POSITIONS]),
            helper.make_tensor_value_info("row_ok", B, [n]),
        ],
        initializer=consts,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="mage-export", producer_version="1")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def write_sampler(path: Path) -> None:
    path.write_bytes(build_sampler().SerializeToString())


if __name__ == "__main__":
    import sys
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[3] / "src" / "Mage.Inference" / "Runtime" / "sampler.onnx"
    write_sampler(target)
    print(f"wrote {target}")
