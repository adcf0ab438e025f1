#!/usr/bin/env bash
# Issue 7 (d): the bulk-job path end to end — N JPEGs in Azurite, a bulk embedding job, shards
# embedded by `mage worker --once` (the same job services as the Functions app) into Parquet —
# against (a), the in-process features path, measured in the same run.
# Usage: bench/run_bulk.sh [COUNT=512]   (needs the package bench/run_cpu.sh exports)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-512}
work=${BENCH_DIR:-/tmp/mage-bench}
pkg="$work/mage-vit-base"
out=artifacts/bench
mkdir -p "$out"
[[ -f "$pkg/manifest.json" ]] || /usr/bin/python3 tools/export/export.py --random-init --arch vit-base --seed 0 --out "$pkg" --force --golden-batch 1
[[ -d "$work/jpegs-$count" ]] || /usr/bin/python3 bench/make_images.py --out "$work/jpegs-$count" --count "$count"
[[ -d "$work/jpegs" ]] || /usr/bin/python3 bench/make_images.py --out "$work/jpegs" --count 32
[[ -f tools/azurite/node_modules/azurite/dist/src/azurite.js ]] || npm ci --prefix tools/azurite --no-audit --no-fund --loglevel=error
dotnet build src/Mage.Cli -c Release -m:1 --nologo -v q -clp:ErrorsOnly
dotnet build bench/Mage.Benchmarks -c Release -m:1 --nologo -v q -clp:ErrorsOnly
mage=src/Mage.Cli/bin/Release/net10.0/mage

node tools/azurite/node_modules/azurite/dist/src/azurite.js --silent --inMemoryPersistence --skipApiVersionCheck --loose \
  --disableTelemetry --blobHost 127.0.0.1 --blobPort 10400 --queueHost 127.0.0.1 --queuePort 10401 --tableHost 127.0.0.1 --tablePort 10402 &
azurite=$!
trap 'kill $azurite 2>/dev/null' EXIT
sleep 3
conn="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10400/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10401/devstoreaccount1;"

"$mage" blob upload "$work/jpegs-$count" --container bench --connection "$conn" >/dev/null
"$mage" job submit --source-container bench --prefix "" --job-id bulk --shard-size 64 --connection "$conn"
start=$(date +%s.%N)
"$mage" worker --once --device cpu --model "$pkg" --batch-size 8 --connection "$conn" > "$out/bulk-worker.log" 2>&1
end=$(date +%s.%N)
"$mage" job status bulk --connection "$conn" | tee "$out/bulk-status.txt"
dotnet bench/Mage.Benchmarks/bin/Release/net10.0/Mage.Benchmarks.dll compare --only features --package "$pkg" --images "$work/jpegs" | tee "$out/mage-features-for-bulk.json"
/usr/bin/python3 - "$count" "$start" "$end" "$out/mage-features-for-bulk.json" <<'PY'
import json, sys
count, start, end = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
a = json.load(open(sys.argv[4]))["features_images_per_s"]
d = count / (end - start)
print(f"(d) bulk job, {count} images Azurite -> Parquet: {d:.3f} img/s ({end - start:.1f} s, worker start-up and model load included)")
print(f"(a) features in-process:                       {a:.3f} img/s")
print(f"(d)/(a) = {d / a:.3f}  (service overhead {100 * (1 - d / a):.1f} %)")
PY
