#!/usr/bin/env bash
# Here (no GPU): builds what the device machine needs for the GPU comparison and cuts it into
# pieces that fit one device call each (64 MiB a call, the ~10 MiB working tree included). See bench/gpu/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
# .gpu/ is in .gitignore: the device tool carries untracked files that git does not ignore, and
# the pieces must travel only when a call names them. (It was .git/info/exclude, which a fresh
# clone lacks and which in a worktree is the main checkout's shared file.)
git check-ignore -q .gpu/carry || { echo "prepare.sh: .gpu/ is not git-ignored" >&2; exit 1; }
rm -rf .gpu && mkdir -p .gpu/app .gpu/carry
dotnet publish bench/Mage.Benchmarks -c Release -r linux-x64 --self-contained true -p:MageGpu=true -o .gpu/app -v q --nologo
# The Windows and macOS natives are dead weight on the Linux device.
# 50 MiB pieces: a call carries 64 MiB in all, and the working tree (tracked and untracked files
# git does not ignore) travels with each piece: 11.5 MiB on 2026-11-29.
tar -C .gpu -cf - app | gzip -1 | split -b 50m -d -a 2 - .gpu/carry/app.tgz.part-
ls -la .gpu/carry
tree=$(git ls-files -z --cached --others --exclude-standard | du -cb --files0-from=- 2>/dev/null | tail -n 1 | cut -f1)
piece=$(stat -c %s .gpu/carry/app.tgz.part-00)
echo "$(ls .gpu/carry | wc -l) pieces; the largest and the working tree: $(( (piece + tree) / 1048576 )) MiB of the 64 a call carries"
(( piece + tree <= 64 * 1048576 )) || { echo "prepare.sh: a piece and the working tree exceed 64 MiB" >&2; exit 1; }
echo "carry each .gpu/carry/app.tgz.part-NN in its own device call (bench/gpu/README.md)"
