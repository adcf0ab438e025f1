#!/usr/bin/env bash
# On the device machine (H100/H200, PyTorch and onnx, no .NET), after every piece of
# .gpu/carry has arrived. Most important first, so a run cut short still answers the question:
#   1. correctness on CUDA: golden checks (tiny and random vit-base, fp32 and fp16), the schedule
#      on the device (sampler graph) against the host decoder, batch invariance, and which
#      provider ran each node;
#   2. speed: Mage (ONNX Runtime CUDA; host loop and device loop; fp32 and fp16 packages)
#      against PyTorch eager fp32 and autocast fp16, side by side on the same machine.
# Writes log.txt (everything) and results.jsonl (one JSON object a line) under $OUT.
# DEVICE=cpu ARCH=tiny PY=/usr/bin/python3 WORK=/tmp/x APP=path runs the same steps here, as a dry run.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-artifacts/bench-gpu}
work=${WORK:-/tmp/mage-gpu}
device=${DEVICE:-cuda}
arch=${ARCH:-vit-base}
py=${PY:-python3}
mkdir -p "$out" "$work"
log="$out/log.txt"
results="$out/results.jsonl"
step() { echo "== $(date -u +%H:%M:%S) $*" | tee -a "$log"; }
record() { # record NAME COMMAND...: runs it, appends its JSON line with the name to results.jsonl
  local name=$1; shift
  step "$name: $*"
  local line
  if line=$("$@" 2>>"$log" | tail -n 1); then
    echo "{\"run\":\"$name\",\"result\":$line}" | tee -a "$results" >> "$log"
  else
    echo "FAILED: $name" | tee -a "$log"
  fi
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 | tee -a "$log"
lscpu | grep -E 'Model name|^CPU\(s\)' | tee -a "$log"
if [[ -z ${APP:-} && ! -x $work/app/Mage.Benchmarks ]]; then
  step "unpack"
  cat .gpu/carry/app.tgz.part-* | tar -C "$work" -xzf - || { echo "FAILED: unpack" | tee -a "$log"; exit 1; }
fi
# ONNX Runtime's CUDA provider loads CUDA 13 and cuDNN 9 from the pip-installed NVIDIA wheels.
if site=$($py -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))' 2>/dev/null); then
  export LD_LIBRARY_PATH="$(find "$site/nvidia" -name 'lib*.so*' -printf '%h\n' | sort -u | paste -sd:):${LD_LIBRARY_PATH:-}"
fi
app=${APP:-$work/app/Mage.Benchmarks}

step "export $arch fp32 and fp16 (background)"
for p in fp32 fp16; do
  [[ -f $work/$arch-$p/manifest.json ]] || $py tools/export/export.py --random-init --arch $arch --seed 0 \
      --precision $p --out $work/$arch-$p --force --golden-batch 1 >>"$log" 2>&1 &
done
[[ -d $work/jpegs ]] || $py bench/make_images.py --out $work/jpegs --count 32 >>"$log" 2>&1

record check-tiny "$app" check tests/fixtures/mage-tiny $device 16
wait
record check-fp32 "$app" check $work/$arch-fp32 $device 16
record check-fp32-natural "$app" check $work/$arch-fp32 $device 16 -1
record mage-fp32-device-8 "$app" compare --device $device --loop device --package $work/$arch-fp32 --images $work/jpegs
record mage-fp32-host-8 "$app" compare --device $device --loop host --package $work/$arch-fp32 --images $work/jpegs
record pytorch-fp32-8 $py bench/pytorch_bench.py --device $device --package $work/$arch-fp32 --images $work/jpegs
record mage-fp32-device-64 "$app" compare --device $device --loop device --count 64 --batch 32 --package $work/$arch-fp32 --images $work/jpegs
record pytorch-fp32-64 $py bench/pytorch_bench.py --device $device --count 64 --batch 32 --package $work/$arch-fp32 --images $work/jpegs
record mage-fp32-host-64 "$app" compare --device $device --loop host --count 64 --batch 32 --package $work/$arch-fp32 --images $work/jpegs
record check-fp16 "$app" check $work/$arch-fp16 $device 16
record mage-fp16-device-8 "$app" compare --device $device --loop device --package $work/$arch-fp16 --images $work/jpegs
record pytorch-amp-8 $py bench/pytorch_bench.py --device $device --amp --package $work/$arch-fp32 --images $work/jpegs
record mage-fp16-device-64 "$app" compare --device $device --loop device --count 64 --batch 32 --package $work/$arch-fp16 --images $work/jpegs
record pytorch-amp-64 $py bench/pytorch_bench.py --device $device --amp --count 64 --batch 32 --package $work/$arch-fp32 --images $work/jpegs
record mage-fp32-device-64-tf32-natural "$app" compare --device $device --loop device --count 64 --batch 32 --tf32 --fixed-batch -1 --package $work/$arch-fp32 --images $work/jpegs
step "done"
