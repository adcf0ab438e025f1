"""The GPU run's Python side (bench/gpu/summarize.py, bench/flops.py, bench/pytorch_bench.py) on
the CPU: the tables' ratios, targets and fraction of peak from a synthetic results.jsonl, the
workloads' FLOPs, and that the PyTorch benchmark reports its TF32 flags without setting them."""
import json
import subprocess
import sys

import pytest
import torch

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import flops  # noqa: E402
import pytorch_bench  # noqa: E402


def mage(images_per_s, mode, precision="fp32"):
    return {"runner": "mage", "precision_mode": mode, "precision": precision, "quantizer": "float32",
            "workloads": {w: {"images_per_s": v} for w, v in images_per_s.items()}}


def eager(images_per_s, autocast=False):
    return {"runner": "pytorch", "gpu": "NVIDIA H200", "autocast": autocast, "torch": "2.x",
            "tf32": {"cuda_matmul_allow_tf32": False, "cudnn_allow_tf32": True, "float32_matmul_precision": "highest"},
            "workloads": {w: {"images_per_s": v} for w, v in images_per_s.items()}}


@pytest.fixture(scope="module")
def tiny_flops():
    return flops.flops("tiny", 20, 12)


def test_flops_workloads_add_up_the_graphs_they_run(tiny_flops):
    g = {name: d["conv"] + d["matmul"] for name, d in tiny_flops["graphs"].items()}
    w = {name: d["conv"] + d["matmul"] for name, d in tiny_flops["workloads"].items()}
    assert w["features"] == pytest.approx(g["tokenize"] + g["encoder"], rel=1e-3)
    assert w["generation"] == pytest.approx(20 * g["logits"] + g["detokenize"], rel=1e-3)
    assert w["inpainting"] == pytest.approx(g["tokenize"] + 12 * g["logits"] + g["detokenize"], rel=1e-3)
    assert tiny_flops["graphs"]["detokenize"]["matmul"] == 0 and tiny_flops["graphs"]["logits"]["conv"] == 0


def test_summary_marks_targets_and_fraction_of_peak(tmp_path, tiny_flops):
    speeds = {"features": 100.0, "generation": 10.0, "inpainting": 20.0}
    records = {
        "plan": {"arch": "tiny", "batches": [64, 8], "large_batch": 64, "feature_images": {"64": 512, "8": 32},
                 "generation_steps": 20, "inpainting_steps": 12},
        "machine": {"gpu": "NVIDIA H200"},
        "flops": tiny_flops,
        "speed-pytorch-eager-b64": eager(speeds),
        "speed-mage-pytorch-b64": mage({k: 1.6 * v for k, v in speeds.items()}, "pytorch"),
        "speed-pytorch-eager-b8": eager(speeds),
        "speed-mage-pytorch-b8": mage({k: 0.9 * v for k, v in speeds.items()}, "pytorch"),
        "speed-mage-exact-b64": mage(speeds, "exact"),
    }
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps({"run": k, "result": v}) + "\n" for k, v in records.items()) + "not json\n")
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "gpu" / "summarize.py"), str(results)],
                         capture_output=True, text=True, check=True).stdout
    assert "| features | 64 | 100.0 | 160.0 | **1.60×** | ≥ 1.5× | yes |" in out
    assert "| generation | 8 | 10.0 | 9.0 | **0.90×** | ≥ 1.0× | **no** |" in out
    assert "| inpainting | 64 | — | — | — | ≥ 1.5× | — |" in out  # no autocast run: left open
    # exact: fp32 everywhere, so the fraction is achieved FLOP/s over the H200's 67 TFLOP/s.
    gflop = tiny_flops["workloads"]["features"]["conv"] + tiny_flops["workloads"]["features"]["matmul"]
    achieved = 100.0 * gflop / 1e3
    row = next(line for line in out.splitlines() if line.startswith("| features | 64 |") and "TFLOP/s" in line)
    assert f"{achieved:.3g} TFLOP/s ({100 * achieved / 67.0:.3g} %)" in row


def test_pytorch_bench_reports_the_tf32_flags_without_setting_them():
    before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.get_float32_matmul_precision())
    info = pytorch_bench.numerics(torch.device("cpu"), None)
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.get_float32_matmul_precision()) == before
    assert info["tf32"]["cuda_matmul_allow_tf32"] == before[0] and info["tf32"]["cudnn_allow_tf32"] == before[1]
    assert info["autocast"] is False and info["flags_set_by_this_script"] == []
