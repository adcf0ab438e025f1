#!/usr/bin/env bash
# Runs the chaos suite of issue 12 (tests/Mage.Chaos) outside the test run: real `mage worker`
# processes against an Azurite the suite owns, with kills, storage outages, duplicate and malformed
# messages and an upload storm. Writes report.json, report.md and the workers' logs under
# bench/results/<date>-chaos[-long]/ and exits 1 when an invariant fails.
# Usage: tests/chaos/run.sh [--long]   (bounded: the CI settings, a few minutes; --long: 4 workers,
# 400 images, 6 kills, a 300-upload storm; about 10 minutes on two cores)
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=""; suffix=""
if [[ "${1:-}" == "--long" ]]; then mode="--long"; suffix="-long"; fi
out="bench/results/$(date -u +%Y-%m-%d)-chaos${suffix}"

if [[ ! -d tools/azurite/node_modules ]]; then
  npm ci --prefix tools/azurite --no-audit --no-fund
fi

# Builds src/Mage.Cli too (a project reference): the suite starts its build output.
dotnet build tests/Mage.Chaos -c Release --nologo -v q
rm -rf "$out"   # a rerun on the same day replaces the report and every log
mkdir -p "$out"
dotnet tests/Mage.Chaos/bin/Release/net10.0/Mage.Chaos.dll $mode --out "$out" 2>&1 | tee "$out/console.log"
exit "${PIPESTATUS[0]}"
