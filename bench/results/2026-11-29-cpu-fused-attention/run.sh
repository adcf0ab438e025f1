#!/usr/bin/env bash
# How these files were made: vit-base fp32 before/after fused attention, interleaved.
# Usage: run.sh BEFORE_PACKAGE AFTER_PACKAGE OUT   (both packages: export.py --random-init --arch
# vit-base --seed 0 --golden-batch 1, BEFORE from the exporter at 0b35cd7, AFTER at 351164a).
# `graphs PACKAGE 8` = seconds per image at batch 8 after one warm-up run; then one profile each.
set -euo pipefail
cd "$(dirname "$0")/../../.."
before=$1 after=$2 out=$3
B=bench/Mage.Benchmarks/bin/Release/net10.0/Mage.Benchmarks.dll
mkdir -p "$out"
{ echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"; echo "start: $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"; } > "$out/machine.txt"
for round in 1 2 3; do
  for which in before after; do
    pkg=$before; [[ $which == after ]] && pkg=$after
    echo "$round $which $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg) $(nice -n 10 dotnet $B graphs "$pkg" 8)" >> "$out/graphs.txt"
  done
done
for which in before after; do
  pkg=$before; [[ $which == after ]] && pkg=$after
  mkdir -p "$out/prof-$which"
  nice -n 10 dotnet $B profile "$pkg" 8 "$out/prof-$which/$which" > /dev/null 2>&1
  /usr/bin/python3 bench/profile_summary.py --top 10 "$out/prof-$which/"*encoder*.json "$out/prof-$which/"*decoder*.json > "$out/profile-$which-batch8.txt"
  /usr/bin/python3 "$(dirname "$0")/attention_kernels.py" "$out/prof-$which" >> "$out/attention-kernels-batch8.txt"
done
echo "end: $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.txt"
