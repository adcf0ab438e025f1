#!/usr/bin/env bash
# Issue 16: the coordination cost of a large bulk job, measured against Azurite through the job
# services (bench/Mage.Benchmarks/Coordination): shard commits counted by 1..256 concurrent workers
# (status writes per second, 412 conflicts, latency) and the submit step over 100,000 blobs
# (listing, shard lists, first shard message). Issue 27: --blobs takes a list of job sizes
# (e.g. --scenario submit --blobs 10000,100000): the time to the first shard message and the
# listing throughput of each, the listing going a slice of pages per delivery of the job message.
# --folders N lays the source out in N virtual folders, --ranges 1,2,4,8 runs the submit step once
# per Mage:Limits:ListRanges (parallel listing ranges), eight workers delivering the jobs queue;
# each result carries the timeline of the requests before its first shard
# (bench/results/2026-12-08-listing-ranges).
# Results: artifacts/bench/coordination/LABEL/.
# Usage: bench/run_coordination.sh [LABEL=run] [extra arguments for `Mage.Benchmarks coordination`]
# BENCH_DLL=path runs another build of the benchmark (e.g. one of an earlier commit) instead of building this one.
# Azurite keeps its data in artifacts/bench/coordination/azurite (AZURITE_DATA), so the 100,000
# source blobs are created once and reused by later runs. Azurite slows down with them there (it
# rewrites its whole database file as it saves), so compare commit runs on the same database: the
# results in bench/results/2026-11-29-coordination ran the commit scenario on an empty one.
set -euo pipefail
cd "$(dirname "$0")/.."
label=${1:-run}
shift || true
out=artifacts/bench/coordination/$label
data=${AZURITE_DATA:-artifacts/bench/coordination/azurite}
mkdir -p "$out" "$data"
[[ -f tools/azurite/node_modules/azurite/dist/src/azurite.js ]] || npm ci --prefix tools/azurite --no-audit --no-fund --loglevel=error
dll=${BENCH_DLL:-bench/Mage.Benchmarks/bin/Release/net10.0/Mage.Benchmarks.dll}
[[ -n "${BENCH_DLL:-}" ]] || dotnet build bench/Mage.Benchmarks -c Release -m:1 --nologo -v q -clp:ErrorsOnly

node tools/azurite/node_modules/azurite/dist/src/azurite.js --silent --location "$data" --skipApiVersionCheck --loose \
  --disableTelemetry --blobHost 127.0.0.1 --blobPort 10410 --queueHost 127.0.0.1 --queuePort 10411 --tableHost 127.0.0.1 --tablePort 10412 &
azurite=$!
trap 'kill $azurite 2>/dev/null' EXIT
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/10410) 2>/dev/null && break; sleep 0.2; done
conn="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10410/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10411/devstoreaccount1;"

{ date -u; nproc; grep -m1 'model name' /proc/cpuinfo; node --version; echo "tree $(git rev-parse --short HEAD), benchmark $dll"; } > "$out/machine.txt"
dotnet "$dll" coordination --connection "$conn" --out "$out" \
  --package tests/fixtures/mage-tiny --label "$label" "$@" 2>&1 | tee "$out/console.log"
