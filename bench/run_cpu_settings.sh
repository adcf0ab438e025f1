#!/usr/bin/env bash
# ONNX Runtime thread and session settings on the CPU (issue 15): Mage.Benchmarks compare on one
# package with intra-op threads 1 and all cores, each with spinning on and off, back to back.
# Usage: bench/run_cpu_settings.sh PACKAGE [JPEG_FOLDER] ; results go to artifacts/bench/settings/.
# The arena is not varied here: turning it off cost 2.7x (docs/benchmarks.md, Memory).
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=${1:?usage: bench/run_cpu_settings.sh PACKAGE [JPEG_FOLDER]}
jpegs=${2:-${BENCH_DIR:-/tmp/mage-bench}/jpegs}
out=artifacts/bench/settings
mkdir -p "$out"
[[ -d "$jpegs" ]] || /usr/bin/python3 bench/make_images.py --out "$jpegs" --count 32
dotnet build bench/Mage.Benchmarks -c Release -v q --nologo >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); date: $(date -u +%Y-%m-%dT%H:%MZ); package: $pkg" | tee "$out/machine.txt"
for threads in 0 1; do
  for spin in on off; do
    flag=(); [[ $spin == off ]] && flag=(--no-spin)
    dotnet bench/Mage.Benchmarks/bin/Release/net10.0/Mage.Benchmarks.dll compare --package "$pkg" --images "$jpegs" \
      --threads "$threads" "${flag[@]}" | tee "$out/threads-$threads-spin-$spin.json"
  done
done
/usr/bin/python3 - "$out" <<'PY'
import json, pathlib, sys
print(f"{'threads':>8} {'spin':>5} {'features':>9} {'generation':>11} {'editing':>8}   img/s")
for p in sorted(pathlib.Path(sys.argv[1]).glob("threads-*.json")):
    r = json.loads(p.read_text())
    print(f"{r['intra_op_threads']:>8} {str(r['allow_spinning']):>5} {r['features_images_per_s']:9.3f} {r['generation_images_per_s']:11.4f} {r['editing_images_per_s']:8.4f}")
PY
