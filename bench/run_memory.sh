#!/usr/bin/env bash
# Issue 12 item 8: memory of `mage worker` under a mixed load, against Azurite.
# Usage: bench/run_memory.sh [ARCH=tiny] [LABEL=default] [-- extra worker arguments]
#   ARCH  tiny (tests/fixtures/mage-tiny) or vit-base (the seeded random package run_cpu.sh exports)
#   LABEL names the output files; environment variables set for the run (DOTNET_*, MALLOC_*, Mage__*)
#         are passed to the worker and recorded.
# The load: a bulk embedding job (shards of 32), uploads in the uploads container, inpaint edits and
# generation requests, all queued before one `mage worker --once` drains them. A sampler reads
# /proc/<pid>/status and smaps_rollup every 0.2 s. Results: artifacts/bench/memory-ARCH-LABEL.{txt,csv,log}.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=${1:-tiny}
label=${2:-default}
shift $(( $# < 2 ? $# : 2 ))
[[ "${1:-}" == "--" ]] && shift
extra=("$@")
work=${BENCH_DIR:-/tmp/mage-bench}
out=artifacts/bench
mkdir -p "$work" "$out"

case "$arch" in
  tiny) pkg=tests/fixtures/mage-tiny; bulk=256; uploads=32; edits=8; gens=4; gen_count=16; gen_steps=20; edit_steps=12 ;;
  vit-base)
    pkg="$work/mage-vit-base"
    [[ -f "$pkg/manifest.json" ]] || /usr/bin/python3 tools/export/export.py --random-init --arch vit-base --seed 0 --out "$pkg" --force --golden-batch 1
    bulk=128; uploads=16; edits=4; gens=2; gen_count=4; gen_steps=8; edit_steps=8 ;;
  *) echo "run_memory.sh: ARCH is tiny or vit-base, not '$arch'" >&2; exit 2 ;;
esac

[[ -d "$work/jpegs-$bulk" ]] || /usr/bin/python3 bench/make_images.py --out "$work/jpegs-$bulk" --count "$bulk"
[[ -d "$work/jpegs-up-$uploads" ]] || { /usr/bin/python3 bench/make_images.py --out "$work/jpegs-up-$uploads" --count "$uploads"; }
[[ -f tools/azurite/node_modules/azurite/dist/src/azurite.js ]] || npm ci --prefix tools/azurite --no-audit --no-fund --loglevel=error
[[ -n "${SKIP_BUILD:-}" ]] || dotnet build src/Mage.Cli -c Release -m:1 --nologo -v q -clp:ErrorsOnly
dll=${MAGE_DLL:-src/Mage.Cli/bin/Release/net10.0/mage.dll}   # MAGE_DLL: another build, e.g. of the commit before a change
mage() { dotnet "$dll" "$@"; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
base=$((20000 + RANDOM % 30000))
while ! port_free "$base" || ! port_free $((base + 1)); do base=$((20000 + RANDOM % 30000)); done
node tools/azurite/node_modules/azurite/dist/src/azurite.js --silent --inMemoryPersistence --skipApiVersionCheck --loose \
  --disableTelemetry --blobHost 127.0.0.1 --blobPort "$base" --queueHost 127.0.0.1 --queuePort $((base + 1)) \
  --tableHost 127.0.0.1 --tablePort $((base + 2)) &
azurite=$!
trap 'kill $azurite 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do port_free "$base" || break; sleep 0.2; done
conn="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$base/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$((base + 1))/devstoreaccount1;"

# The load, all queued before the worker starts.
mage blob upload "$work/jpegs-$bulk" --container bench --connection "$conn" >/dev/null
mage blob upload "$work/jpegs-up-$uploads" --container uploads --connection "$conn" >/dev/null
mage job submit --source-container bench --prefix "" --job-id bulk --shard-size 32 --connection "$conn" >/dev/null
msg=$(mktemp -d)
for i in $(seq 0 $((edits - 1))); do
  printf '{"requestId":"edit-%d","kind":"inpaint","source":{"container":"bench","name":"img-%04d.jpg"},"boxes":[[%d,64,96,96]],"steps":%d,"seed":%d}\n' \
    "$i" "$i" $((32 + 8 * i)) "$edit_steps" "$i" > "$msg/edit-$i.json"
  mage queue send edits "$msg/edit-$i.json" --connection "$conn" >/dev/null
done
for i in $(seq 0 $((gens - 1))); do
  printf '{"requestId":"gen-%d","count":%d,"steps":%d,"seed":%d}\n' "$i" "$gen_count" "$gen_steps" "$i" > "$msg/gen-$i.json"
  mage queue send generate "$msg/gen-$i.json" --connection "$conn" >/dev/null
done

csv="$out/memory-$arch-$label.csv"
log="$out/memory-$arch-$label.log"
echo "t_s,rss_mib,hwm_mib,anon_mib,file_mib" > "$csv"
start=$(date +%s.%N)
dotnet "$dll" worker --once --device cpu --model "$pkg" --connection "$conn" "${extra[@]}" > "$log" 2>&1 &
pid=$!
hwm=0
while kill -0 "$pid" 2>/dev/null; do
  if status=$(cat "/proc/$pid/status" 2>/dev/null) && rollup=$(cat "/proc/$pid/smaps_rollup" 2>/dev/null); then
    rss=$(awk '/^VmRSS:/{print int($2/1024)}' <<<"$status")
    h=$(awk '/^VmHWM:/{print int($2/1024)}' <<<"$status")
    anon=$(awk '/^Anonymous:/{print int($2/1024)}' <<<"$rollup")
    file=$(( rss - anon ))
    [[ -n "$h" ]] && hwm=$h
    [[ -n "$rss" ]] && echo "$(awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN{printf "%.1f", n-s}'),$rss,$h,$anon,$file" >> "$csv"
  fi
  sleep 0.2
done
wait "$pid" || { echo "run_memory.sh: the worker failed; see $log" >&2; tail -20 "$log" >&2; exit 1; }
end=$(date +%s.%N)
mage job status bulk --connection "$conn" > "$out/memory-$arch-$label-status.txt"
results=$(mage blob list --container results --connection "$conn" | grep -c -E '(result|record)\.json' || true)

/usr/bin/python3 - "$csv" "$start" "$end" "$arch" "$label" "$bulk" "$uploads" "$edits" "$gens" "$gen_count" "$results" "$hwm" > "$out/memory-$arch-$label.txt" <<'PY'
import csv, statistics, sys
path, start, end, arch, label = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
bulk, uploads, edits, gens, gen_count, results, hwm = map(int, sys.argv[6:13])
rows = [r for r in csv.DictReader(open(path))]
rss = [int(r["rss_mib"]) for r in rows]
wall = end - start
# "Steady": the median over the second half of the run, after start-up and model load.
half = rss[len(rss) // 2:] or rss
peak_row = max(rows, key=lambda r: int(r["rss_mib"]))
print(f"arch={arch} label={label}")
print(f"load: bulk {bulk} images (shards of 32), {uploads} uploads, {edits} inpaints, {gens} generations x {gen_count}")
print(f"results written (record.json + result.json): {results} of {uploads + edits + gens}")
print(f"wall {wall:.1f} s (worker start, model load and drain)")
print(f"peak RSS (VmHWM) {hwm} MiB")
print(f"steady RSS (median of the second half) {statistics.median(half):.0f} MiB")
print(f"at the largest sample: anon {peak_row['anon_mib']} MiB, file-backed {peak_row['file_mib']} MiB")
print(f"final RSS {rss[-1] if rss else 0} MiB")
PY
{ echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"; echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB";
  echo "env: $(env | grep -E '^(DOTNET_|MALLOC_|Mage__)' | tr '\n' ' ')"; echo "worker args: ${extra[*]:-}"; } >> "$out/memory-$arch-$label.txt"
cat "$out/memory-$arch-$label.txt"
grep -m1 -E "Worker done" "$log" || true
