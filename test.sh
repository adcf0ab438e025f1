#!/usr/bin/env bash
# Runs every test of the repository: the docs link check, the exporter's pytest suite and the
# .NET test projects (the studio's browser tests included: they need chromium).
# Installs what the tests need first (Debian packages), so it works on a fresh Debian 12 machine
# with the .NET 10 SDK. Usage: ./test.sh [--fast]   (--fast skips the full-size vit-base export)
set -euo pipefail
cd "$(dirname "$0")"
fast=0
[[ "${1:-}" == "--fast" ]] && fast=1

log() { printf '\n== %s\n' "$*"; }

need_apt=()
/usr/bin/python3 -c 'import torch, onnx, numpy, PIL, pytest' 2>/dev/null || need_apt+=(python3-torch python3-onnx python3-numpy python3-pil python3-pytest)
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || need_apt+=(libopenblas0-pthread)
# The studio's browser tests (Playwright) drive Debian's chromium; they fail, not skip, without it.
[[ -x /usr/bin/chromium ]] || need_apt+=(chromium)
if ((${#need_apt[@]})); then
  log "installing Debian packages: ${need_apt[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need_apt[@]}" >/dev/null
fi

mkdir -p artifacts
passed=0; failed=0; skipped=0

log "docs links (tools/docs/check_links.py)"
set +e
{ /usr/bin/python3 tools/docs/check_links.py --self-test && /usr/bin/python3 tools/docs/check_links.py; } 2>&1 | tee artifacts/docs-links.log
docs_rc=${PIPESTATUS[0]}
set -e
if ((docs_rc == 0)); then passed=$((passed + 1)); echo "docs links: passed"; else failed=$((failed + 1)); echo "docs links: FAILED"; fi

log "exporter tests (pytest)"
marker=()
((fast)) && marker=(-m "not slow")
set +e
(cd tests/export && /usr/bin/python3 -m pytest -q -p no:cacheprovider "${marker[@]}" --junitxml=../../artifacts/pytest.xml) 2>&1 | tee artifacts/pytest.log
py_rc=${PIPESTATUS[0]}
set -e
line=$(grep -E '^[0-9]+ passed|[0-9]+ (passed|failed)' artifacts/pytest.log | tail -1 || true)
p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
f=$( (grep -oE '[0-9]+ (failed|error)' <<<"$line" || true) | awk '{s+=$1} END {print s+0}')
passed=$((passed + p)); failed=$((failed + ${f:-0}))

if [[ ! -d tools/azurite/node_modules ]]; then
  log "installing Azurite for the Functions tests (npm ci)"
  npm ci --prefix tools/azurite --no-audit --no-fund
fi

log ".NET tests (dotnet test)"
set +e
# minimal: failed tests print their messages and output (quiet printed only their names)
dotnet test Mage.sln -c Release --nologo -v q --logger "console;verbosity=minimal" 2>&1 | tee artifacts/dotnet-test.log
dn_rc=${PIPESTATUS[0]}
set -e
while read -r l; do
  p=$(grep -oE 'Passed: *[0-9]+' <<<"$l" | grep -oE '[0-9]+' || echo 0)
  f=$(grep -oE 'Failed: *[0-9]+' <<<"$l" | grep -oE '[0-9]+' || echo 0)
  s=$(grep -oE 'Skipped: *[0-9]+' <<<"$l" | grep -oE '[0-9]+' || echo 0)
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done < <(grep -E '(Passed|Failed)!  *- Failed:' artifacts/dotnet-test.log || true)

echo
echo "all: ${passed} passed, ${failed} failed, ${skipped} skipped (the docs link check counts as one)"
if ((docs_rc != 0 || py_rc != 0 || dn_rc != 0)); then
  echo "test.sh: docs links exit ${docs_rc}, pytest exit ${py_rc}, dotnet test exit ${dn_rc}" >&2
  exit 1
fi
