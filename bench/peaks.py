"""Peak arithmetic rates of the GPUs the benchmarks run on, in TFLOP/s, by precision: the one
place bench/gpu/summarize.py reads them from.

VENDOR DATASHEET FIGURES, not measurements: NVIDIA's H200, H100, A100 and T4 datasheets, dense
(the datasheets' headline tensor figures are doubled for 2:4 sparsity; these are halved back).
  fp32   plain fp32 (CUDA cores, no tensor cores)
  tf32   TF32 tensor cores (fp32 storage, 10-bit mantissa products)
  fp16   fp16/bf16 tensor cores with fp32 accumulation
None: the GPU has no such units (T4: no TF32). H200 and H100 SXM share the same compute; the
H100 PCIe card is slower (its own datasheet). A GPU is matched by the first key contained in the
name CUDA reports (nvidia-smi's, or torch.cuda.get_device_name).
"""

PEAK_TFLOPS = {
    "H200": {"fp32": 67.0, "tf32": 494.0, "fp16": 989.0},
    "H100 PCIe": {"fp32": 51.0, "tf32": 378.0, "fp16": 756.0},
    "H100": {"fp32": 67.0, "tf32": 494.0, "fp16": 989.0},  # SXM ("H100 80GB HBM3")
    "A100": {"fp32": 19.5, "tf32": 156.0, "fp16": 312.0},
    "T4": {"fp32": 8.1, "tf32": None, "fp16": 65.0},
}

SOURCE = "vendor datasheet figures (NVIDIA), dense, not measured"


def lookup(gpu_name):
    """(key, {precision: TFLOP/s}) of the first table entry whose key is in gpu_name, or (None, None)."""
    if not gpu_name:
        return None, None
    for key, peaks in PEAK_TFLOPS.items():
        if key.lower() in gpu_name.lower():
            return key, peaks
    return None, None
