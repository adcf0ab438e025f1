#!/usr/bin/env bash
# On the device machine (H100/H200, PyTorch and onnx, no .NET), after every piece of
# .gpu/carry has arrived: the same comparison as bench/run_cpu.sh on CUDA — Mage (ONNX Runtime
# CUDA, fp32 and fp16 packages, IO binding) against PyTorch eager fp32 and autocast fp16.
# Writes its JSON results under $OUT (or artifacts/bench-gpu).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-artifacts/bench-gpu}
mkdir -p "$out" /tmp/mage-gpu
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/machine.txt"
if [[ ! -x /tmp/mage-gpu/app/Mage.Benchmarks ]]; then
  cat .gpu/carry/app.tgz.part-* | tar -C /tmp/mage-gpu -xzf -
fi
# ONNX Runtime's CUDA provider loads CUDA 13 and cuDNN 9 from the pip-installed NVIDIA wheels.
site=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))')
export LD_LIBRARY_PATH="$(ls -d "$site"/nvidia/*/lib | paste -sd:):${LD_LIBRARY_PATH:-}"
for p in fp32 fp16; do
  [[ -f /tmp/mage-gpu/vit-base-$p/manifest.json ]] || python3 tools/export/export.py --random-init --arch vit-base --seed 0 \
      --precision $p --out /tmp/mage-gpu/vit-base-$p --force --golden-batch 1
done
[[ -d /tmp/mage-gpu/jpegs ]] || python3 bench/make_images.py --out /tmp/mage-gpu/jpegs --count 32
python3 bench/pytorch_bench.py --device cuda --package /tmp/mage-gpu/vit-base-fp32 --images /tmp/mage-gpu/jpegs | tee "$out/pytorch-fp32.json"
python3 bench/pytorch_bench.py --device cuda --amp --package /tmp/mage-gpu/vit-base-fp32 --images /tmp/mage-gpu/jpegs | tee "$out/pytorch-amp.json"
for p in fp32 fp16; do
  /tmp/mage-gpu/app/Mage.Benchmarks compare --device cuda --package /tmp/mage-gpu/vit-base-$p --images /tmp/mage-gpu/jpegs | tee "$out/mage-$p.json"
done
