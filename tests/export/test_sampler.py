"""The sampler graph shipped in Mage.Inference is the one tools/export/mage_export/sampler.py builds."""
import onnx

from conftest import ROOT
from mage_export.sampler import build_sampler

COMMITTED = ROOT / "src" / "Mage.Inference" / "Runtime" / "sampler.onnx"


def test_committed_sampler_is_regenerated_from_source():
    # If this fails, run: /usr/bin/python3 tools/export/mage_export/sampler.py
    assert COMMITTED.read_bytes() == build_sampler().SerializeToString()


def test_sampler_interface():
    model = onnx.load(str(COMMITTED))
    onnx.checker.check_model(model, full_check=True)
    inputs = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    outputs = {o.name: o.type.tensor_type.elem_type for o in model.graph.output}
    T = onnx.TensorProto
    assert inputs == {"ids": T.INT64, "logits": T.FLOAT, "uniform": T.DOUBLE, "noise": T.FLOAT,
                      "scheduled": T.FLOAT, "sample": T.BOOL}
    assert outputs == {"next_ids": T.INT64, "sampled": T.INT64, "row_ok": T.BOOL}
    # Every axis but the batch is fixed, so ONNX Runtime can plan the buffers.
    for value in list(model.graph.input) + list(model.graph.output):
        dims = value.type.tensor_type.shape.dim
        if value.name != "sample":
            assert dims[0].dim_param == "N"
        assert all(d.dim_value > 0 for d in dims[1:])
