#!/usr/bin/env bash
# Side-by-side CPU comparison of Mage and PyTorch on the same random-weight package (issue 7), and
# of Mage's int8 package of the same weights (export.py --precision int8, issues 15 and 26) in the
# same run. Usage: bench/run_cpu.sh [ARCH=vit-base] ; results go to artifacts/bench/. INT8=0 skips
# int8; PROFILE=1 then profiles the int8 package's graphs at batch 8 (bench/profile_summary.py,
# the second of two runs).
# The load average is recorded before and after: on a shared machine it says what else ran.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:-vit-base}
work=${BENCH_DIR:-/tmp/mage-bench}
out=artifacts/bench
mkdir -p "$work" "$out"
pkg="$work/mage-$arch"
[[ -f "$pkg/manifest.json" ]] || /usr/bin/python3 tools/export/export.py --random-init --arch "$arch" --seed 0 --out "$pkg" --force --golden-batch 1
int8=${INT8:-1}
pkg8="$work/mage-$arch-int8"
((int8)) && { [[ -f "$pkg8/manifest.json" ]] || /usr/bin/python3 tools/export/export.py --random-init --arch "$arch" --seed 0 --out "$pkg8" --force --golden-batch 1 --precision int8; }
[[ -d "$work/jpegs" ]] || /usr/bin/python3 bench/make_images.py --out "$work/jpegs" --count 32
dotnet build bench/Mage.Benchmarks -c Release -v q --nologo >/dev/null
((int8)) && dotnet build src/Mage.Cli -c Release -v q --nologo >/dev/null
{
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/machine-$arch.txt"
/usr/bin/python3 bench/pytorch_bench.py --package "$pkg" --images "$work/jpegs" | tee "$out/pytorch-$arch.json"
dotnet bench/Mage.Benchmarks/bin/Release/net10.0/Mage.Benchmarks.dll compare --package "$pkg" --images "$work/jpegs" | tee "$out/mage-$arch.json"
if ((int8)); then
  dotnet src/Mage.Cli/bin/Release/net10.0/mage.dll model verify "$pkg8" --device cpu | tee "$out/verify-$arch-int8.txt" || true
  dotnet bench/Mage.Benchmarks/bin/Release/net10.0/Mage.Benchmarks.dll compare --package "$pkg8" --images "$work/jpegs" | tee "$out/mage-$arch-int8.json"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) ($(date -u +%H:%MZ))" | tee -a "$out/machine-$arch.txt"
if ((int8)) && [[ ${PROFILE:-0} == 1 ]]; then
  rm -rf "$work/profile" && mkdir -p "$work/profile"
  # Two runs, the first left out: a session's first run at a shape also pays for first touches of
  # its arena's new buffers (seconds on the 8x128x256x256 activations), which no later run does.
  dotnet bench/Mage.Benchmarks/bin/Release/net10.0/Mage.Benchmarks.dll profile "$pkg8" 8 "$work/profile/int8" --runs 2 >/dev/null
  /usr/bin/python3 bench/profile_summary.py --skip-first "$work"/profile/int8-*.json | tee "$out/profile-$arch-int8-batch8.txt"
fi
/usr/bin/python3 - "$out/pytorch-$arch.json" "$out/mage-$arch.json" "$out/mage-$arch-int8.json" "$int8" <<'PY'
import json, sys
t, m = (json.load(open(p)) for p in sys.argv[1:3])
q = json.load(open(sys.argv[3])) if sys.argv[4] == "1" else None
for k in ("features", "generation", "editing"):
    key = f"{k}_images_per_s"
    line = f"{k:10s} pytorch {t[key]:8.2f} img/s   mage {m[key]:8.2f} img/s   ratio {m[key] / t[key]:5.2f}x"
    if q:
        line += f"   mage int8 {q[key]:8.2f} img/s   {q[key] / t[key]:5.2f}x pytorch, {q[key] / m[key]:5.2f}x mage fp32"
    print(line)
print(f"peak fp32 (torch matmul 2048^3): {t['peak_gflops']:.1f} GFLOP/s")
PY
