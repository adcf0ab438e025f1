#!/usr/bin/env bash
# Mage end to end on one machine, no Azure account: starts Azurite (the storage emulator, in
# memory, on free ports), builds the `mage` CLI, uploads samples/ to the uploads container,
# submits a bulk embedding job over them and an inpaint request, runs `mage worker --once` (the
# Functions app's job services without the Functions host), then lists and downloads the results
# to ./quickstart-output/ and stops Azurite.
#
# Needs: Debian with the .NET 10 SDK, Node.js/npm and apt (as root or with sudo, only when npm
# is missing). MAGE_MODEL=models/mage-vit-base ./quickstart.sh uses an exported package instead
# of the bundled tiny random-weight one (whose outputs are not meaningful).
set -euo pipefail
cd "$(dirname "$0")"
root=$PWD
out=$root/quickstart-output
log() { printf '\n== %s\n' "$*"; }

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  log "installing Node.js and npm (apt)"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends nodejs npm >/dev/null
fi
command -v dotnet >/dev/null || { echo "quickstart.sh: the .NET 10 SDK (dotnet) is required: https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2; exit 1; }

if [[ ! -f tools/azurite/node_modules/azurite/dist/src/azurite.js ]]; then
  log "installing Azurite (npm ci --prefix tools/azurite)"
  npm ci --prefix tools/azurite --no-audit --no-fund --loglevel=error
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() { # the default if free, else a free one from the ephemeral range
  local p=$1
  while ! port_free "$p"; do p=$((20000 + RANDOM % 40000)); done
  echo "$p"
}
blob_port=$(pick_port 10000); queue_port=$(pick_port 10001)
[[ $queue_port == "$blob_port" ]] && queue_port=$(pick_port $((blob_port + 1)))
table_port=$(pick_port 10002)

log "starting Azurite (in memory): blob :$blob_port, queue :$queue_port"
node tools/azurite/node_modules/azurite/dist/src/azurite.js --silent --inMemoryPersistence --skipApiVersionCheck \
  --loose --disableTelemetry --blobHost 127.0.0.1 --blobPort "$blob_port" --queueHost 127.0.0.1 --queuePort "$queue_port" \
  --tableHost 127.0.0.1 --tablePort "$table_port" &
azurite_pid=$!
stop_azurite() { kill "$azurite_pid" 2>/dev/null && wait "$azurite_pid" 2>/dev/null; echo "Azurite stopped."; }
trap stop_azurite EXIT
for _ in $(seq 1 100); do
  port_free "$blob_port" || port_free "$queue_port" || break
  kill -0 "$azurite_pid" 2>/dev/null || { echo "quickstart.sh: Azurite exited" >&2; exit 1; }
  sleep 0.2
done

# The well-known Azurite account key (public, documented by Microsoft; not a secret).
conn="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$blob_port/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue_port/devstoreaccount1;"

log "building the mage CLI"
dotnet build src/Mage.Cli -c Release -m:1 --nologo -v q -clp:ErrorsOnly
mage=$root/src/Mage.Cli/bin/Release/net10.0/mage
model=(); [[ -n "${MAGE_MODEL:-}" ]] && model=(--model "$MAGE_MODEL")

log "uploading samples/ to the uploads container"
"$mage" blob upload samples/*.jpg samples/*.png --container uploads --connection "$conn"

job=quickstart-embeddings
log "submitting bulk embedding job $job over uploads/"
"$mage" job submit --source-container uploads --prefix "" --job-id "$job" --shard-size 4 --connection "$conn"

log "sending an inpaint request (sea.jpg, one 96x96 box)"
cat > "${TMPDIR:-/tmp}/mage-quickstart-edit.json" <<JSON
{ "requestId": "quickstart-inpaint", "kind": "inpaint",
  "source": { "container": "uploads", "name": "sea.jpg" },
  "boxes": [[80, 80, 96, 96]], "steps": 8, "seed": 1 }
JSON
"$mage" queue send edits "${TMPDIR:-/tmp}/mage-quickstart-edit.json" --connection "$conn"

log "mage worker --once (uploads, job, shards, edit)"
"$mage" worker --once --device cpu "${model[@]}" --connection "$conn"

log "job status"
"$mage" job status "$job" --connection "$conn"

log "result blobs (container 'results')"
"$mage" blob list --container results --connection "$conn"

rm -rf "$out"; mkdir -p "$out"
"$mage" blob download --prefix "jobs/$job/" --out "$out" --connection "$conn" >/dev/null
"$mage" blob download --prefix "edits/quickstart-inpaint/" --out "$out" --connection "$conn" >/dev/null
"$mage" blob download --prefix "uploads/sea.jpg/" --out "$out" --connection "$conn" >/dev/null

log "where things landed"
echo "embeddings (Parquet, one part per shard): results/jobs/$job/out/part-*.parquet, manifest results/jobs/$job/manifest.json"
echo "each upload: results/uploads/<name>/<etag-hash>/{embedding.npy,tokens.npy,record.json}"
echo "inpainted image: results/edits/quickstart-inpaint/image-0.png (+ tokens.npy, result.json)"
echo "downloaded to $out:"
(cd "$out" && find . -type f | sort | sed 's|^\./|  |')
