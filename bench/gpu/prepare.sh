#!/usr/bin/env bash
# Here (no GPU): builds what the device machine needs for the GPU comparison and cuts it into
# pieces that fit one device call each (64 MiB a call, the ~10 MiB working tree included). See bench/gpu/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
rm -rf .gpu && mkdir -p .gpu/app .gpu/carry
dotnet publish bench/Mage.Benchmarks -c Release -r linux-x64 --self-contained true -p:MageGpu=true -o .gpu/app -v q --nologo
# The Windows and macOS natives are dead weight on the Linux device.
tar -C .gpu -cf - app | gzip -1 | split -b 52m -d -a 2 - .gpu/carry/app.tgz.part-
ls -la .gpu/carry
echo "carry each .gpu/carry/app.tgz.part-NN in its own device call (bench/gpu/README.md)"
