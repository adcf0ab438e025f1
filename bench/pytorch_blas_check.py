#!/usr/bin/env python3
"""Seconds per call of the PyTorch model's three heavy operations at batch 2 (random vit-base), to
see how this machine's OpenBLAS environment affects the PyTorch side of bench/run_cpu.sh.

    /usr/bin/python3 bench/pytorch_blas_check.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/pytorch_blas_check.py
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/pytorch_blas_check.py
"""
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools" / "export"))

import torch  # noqa: E402

from mage_export.archs import ARCHS, FAKE_CLASS_ID  # noqa: E402
from mage_export.model import MageModel, random_init  # noqa: E402


def seconds(fn, repeats=2):
    fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def main():
    torch.set_num_threads(os.cpu_count() or 1)
    model = MageModel(ARCHS["vit-base"])
    random_init(model, 0)
    model.eval()
    pixels = torch.rand(2, 3, 256, 256)
    ids = torch.randint(0, 1024, (2, 257))
    ids[:, 0] = FAKE_CLASS_ID
    with torch.no_grad():
        tokens = model.tokenize(pixels)
        print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')} OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}: "
              f"tokenize {seconds(lambda: model.tokenize(pixels)):.3f} s, logits {seconds(lambda: model.logits(ids)):.3f} s, "
              f"detokenize {seconds(lambda: model.detokenize(tokens)):.3f} s", flush=True)


if __name__ == "__main__":
    main()
