#!/usr/bin/env bash
# On the device machine (H200/H100, PyTorch 2.x with CUDA and onnx, no .NET), after every piece of
# .gpu/carry has arrived (bench/gpu/README.md). The GPU issue's run, most important first, so that
# a run cut short still answers the main question; every result is appended to results.jsonl as
# it comes, and steps that would start after DEADLINE_S are skipped (logged as SKIPPED):
#   1. correctness: Mage.Benchmarks check (golden outputs, device loop = host loop, a row alone =
#      in a batch, node placement) for each precision mode: exact and pytorch on the fp32 package,
#      fast on the fp16 package (and all three on the tiny fixture while the packages export);
#   2. the speed matrix, batch 64 before batch 8: PyTorch eager with its defaults against Mage
#      `pytorch`, PyTorch autocast fp16 against Mage `fast`, then Mage `exact`; each run does the
#      three workloads (features from 512 / 32 JPEGs, generation 20 steps, inpainting 12 steps);
#   3. ONNX Runtime profiles of each graph, Mage `pytorch`, batch 64 (second run of each graph),
#      summarised by bench/profile_summary.py;
#   4. cuDNN's convolution algorithm search for Mage `pytorch` at batch 64: exhaustive against
#      heuristic (features and inpainting, the convolution-heavy workloads; load_s holds the
#      search, which the engine's warm-up runs at every bucket size);
#   5. if time is left: cuDNN's default algorithm, Mage `fast` on the fp32 package (TF32
#      everywhere), and profiles of `exact` (the "before" of the pytorch mode's).
# Then bench/gpu/summarize.py writes summary.md. Writes log.txt, results.jsonl, summary.md and
# profiles/ under $OUT.
#
# Time on an H200, estimated from the 2026-11-27 H100 run (bench/results/2026-11-27-h100/log.txt;
# same compute, the H200 has more memory bandwidth, so assumed no slower): unpack 5 s; exporting
# vit-base fp32 and fp16 side by side took 88 s there, and the 512 JPEGs (~20 s of one core here),
# bench/flops.py (~25 s here, 2 cores) and the tiny checks run under it: ~95 s. Checks (without
# the engine's warm-up) 20 s (fp32 there) + 15 + 10 (fp16): ~45 s. Speed: PyTorch runs took
# 10-15 s at 8 and 64 images there; batch 64 now adds one timed pass over 512 JPEGs (~160 img/s
# there: ~4 s). Mage's features ran 43-57 img/s there (~11 s for 512), and each Mage load now
# warms up every bucket size (1..64) with cuDNN's search: guessed at ~10 s, not measured yet.
# eager 64 ~17 s, Mage pytorch 64 ~30, eager 8 ~12, Mage 8 ~15, autocast 64 ~15, fast 64 ~25,
# autocast 8 ~10, fast 8 ~14, exact 64 ~35, exact 8 ~16: ~190 s. Profiles ~20 s; cuDNN search
# 2 x ~30 s. Total ~6.8 min to the end of step 4; DEADLINE_S=420 cuts step 5 when it would run late.
#
# DEVICE=cpu ARCH=tiny PY=/usr/bin/python3 WORK=/tmp/x APP=path runs the same steps here, as a dry
# run; BATCHES, IMAGES, REPEATS, GEN_STEPS, INPAINT_STEPS shrink it (bench/gpu/README.md).
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-artifacts/bench-gpu}
work=${WORK:-/tmp/mage-gpu}
device=${DEVICE:-cuda}
arch=${ARCH:-vit-base}
py=${PY:-python3}
read -r -a batches <<< "${BATCHES:-64 8}"     # large first: the issue's main target
read -r -a images <<< "${IMAGES:-512 32}"     # JPEGs in the features workload, per batch above
read -r -a repeats <<< "${REPEATS:-1 2}"      # timed features passes (best kept), per batch above
gen_steps=${GEN_STEPS:-20}
inpaint_steps=${INPAINT_STEPS:-12}
deadline=${DEADLINE_S:-420}
step_timeout=${STEP_TIMEOUT_S:-150}
large=${batches[0]}
mkdir -p "$out" "$work"
log="$out/log.txt"
results="$out/results.jsonl"
start=$SECONDS
step() { echo "== $(date -u +%H:%M:%S) +$((SECONDS - start))s $*" | tee -a "$log"; }
late() { # late NAME: true (and logged) when the deadline has passed
  if (( SECONDS - start > deadline )); then echo "SKIPPED (deadline ${deadline}s): $1" | tee -a "$log"; return 0; fi
  return 1
}
record() { # record NAME COMMAND...: runs it, appends its last stdout line (JSON) with the name to results.jsonl
  local name=$1; shift
  late "$name" && return 0
  step "$name: $*"
  local line
  if line=$(timeout -k 10 "$step_timeout" "$@" 2>>"$log" | tail -n 1) && [[ $line == \{* ]]; then
    echo "{\"run\":\"$name\",\"result\":$line}" | tee -a "$results" >> "$log"
  else
    echo "FAILED: $name" | tee -a "$log"
  fi
}
note() { # note NAME JSON: appends a record the script composes itself
  echo "{\"run\":\"$1\",\"result\":$2}" | tee -a "$results" >> "$log"
}

gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 | tee -a "$log"
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
lscpu | grep -E 'Model name|^CPU\(s\)' | tee -a "$log"
note machine "{\"gpu\":\"${gpu}\",\"cpu\":\"${cpu}\",\"cores\":$(nproc),\"device\":\"$device\",\"date\":\"$(date -u +%FT%TZ)\"}"
feature_images=$(for i in "${!batches[@]}"; do printf '"%s":%s,' "${batches[$i]}" "${images[$i]}"; done)
note plan "{\"arch\":\"$arch\",\"batches\":[$(IFS=,; echo "${batches[*]}")],\"large_batch\":$large,\"feature_images\":{${feature_images%,}},\"generation_steps\":$gen_steps,\"inpainting_steps\":$inpaint_steps}"

if [[ -z ${APP:-} && ! -x $work/app/Mage.Benchmarks ]]; then
  step "unpack"
  cat .gpu/carry/app.tgz.part-* | tar -C "$work" -xzf - || { echo "FAILED: unpack" | tee -a "$log"; exit 1; }
fi
# ONNX Runtime's CUDA provider loads CUDA 13 and cuDNN 9 from the pip-installed NVIDIA wheels.
if site=$($py -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))' 2>/dev/null); then
  export LD_LIBRARY_PATH="$(find "$site/nvidia" -name 'lib*.so*' -printf '%h\n' | sort -u | paste -sd:):${LD_LIBRARY_PATH:-}"
fi
read -r -a app <<< "${APP:-$work/app/Mage.Benchmarks}" # APP may be "dotnet path/Mage.Benchmarks.dll"
fp32=$work/$arch-fp32
fp16=$work/$arch-fp16

step "background: export $arch fp32 and fp16, JPEGs, FLOPs"
for p in fp32 fp16; do
  [[ -f $work/$arch-$p/manifest.json ]] || $py tools/export/export.py --random-init --arch "$arch" --seed 0 \
      --precision $p --out "$work/$arch-$p" --force --golden-batch 1 >>"$log" 2>&1 &
done
most=$(printf '%s\n' "${images[@]}" | sort -n | tail -n 1)
(
  [[ -f $work/jpegs-all/img-$(printf '%04d' $((most - 1))).jpg ]] || $py bench/make_images.py --out "$work/jpegs-all" --count "$most"
  for n in "${images[@]}"; do # jpegs-N: the first N, so the small set is part of the large one
    mkdir -p "$work/jpegs-$n" && find "$work/jpegs-$n" -name '*.jpg' -delete
    ls "$work/jpegs-all" | sort | head -n "$n" | while read -r f; do ln -s "$work/jpegs-all/$f" "$work/jpegs-$n/$f"; done
  done
) >>"$log" 2>&1 &
$py bench/flops.py "$arch" --generation-steps "$gen_steps" --inpainting-steps "$inpaint_steps" > "$work/flops.json" 2>>"$log" &

# 1. Correctness. The tiny fixture first: it needs no export, and finds a broken mode early.
for mode in exact pytorch fast; do
  record "check-tiny-$mode" "${app[@]}" check tests/fixtures/mage-tiny "$device" 16 --precision $mode --no-warm-up
done
step "waiting for the background jobs"
wait
record flops cat "$work/flops.json"
# The checks compare numbers, which the engine's warm-up does not change: --no-warm-up saves its time.
record check-exact "${app[@]}" check "$fp32" "$device" 16 --precision exact --no-warm-up
record check-pytorch "${app[@]}" check "$fp32" "$device" 16 --precision pytorch --no-warm-up
record check-fast "${app[@]}" check "$fp16" "$device" 16 --precision fast --no-warm-up

# 2. Speed. Same JPEGs, batch and steps on both sides; batch = model-call size of the features
# workload and the images of one generation or inpainting call (Mage: as many concurrent requests).
pytorch() { # pytorch NAME INDEX [--amp]
  local i=$2
  record "$1" $py bench/pytorch_bench.py --device "$device" --package "$fp32" --images "$work/jpegs-${images[$i]}" \
      --batch "${batches[$i]}" --count "${batches[$i]}" --repeats "${repeats[$i]}" \
      --generation-steps "$gen_steps" --inpainting-steps "$inpaint_steps" "${@:3}"
}
mage() { # mage NAME INDEX PACKAGE MODE [compare options]
  local i=$2
  record "$1" "${app[@]}" compare --device "$device" --package "$3" --precision "$4" --images "$work/jpegs-${images[$i]}" \
      --batch "${batches[$i]}" --count "${batches[$i]}" --repeats "${repeats[$i]}" \
      --generation-steps "$gen_steps" --inpainting-steps "$inpaint_steps" "${@:5}"
}
for i in "${!batches[@]}"; do
  pytorch "speed-pytorch-eager-b${batches[$i]}" "$i"
  mage "speed-mage-pytorch-b${batches[$i]}" "$i" "$fp32" pytorch
done
for i in "${!batches[@]}"; do
  pytorch "speed-pytorch-autocast-b${batches[$i]}" "$i" --amp
  mage "speed-mage-fast-b${batches[$i]}" "$i" "$fp16" fast
done
for i in "${!batches[@]}"; do
  mage "speed-mage-exact-b${batches[$i]}" "$i" "$fp32" exact
done

# 3. Where the time goes: two runs of each graph at the large batch, without the engine's warm-up
# (its runs at every bucket size would be profiled too); the first (cuDNN's search, allocations)
# is left out of the summary. Raw profiles go back too (small: one event per kernel).
profile() { # profile MODE
  late "profile-$1-b$large" && return 0
  rm -rf "$work/prof-$1" && mkdir -p "$work/prof-$1"
  record "profile-run-$1-b$large" bash -c '"$@" >/dev/null && echo "{}"' _ "${app[@]}" profile "$fp32" "$large" "$work/prof-$1/$1" "$device" --runs 2 --precision "$1" --no-warm-up
  record "profile-$1-b$large" $py bench/profile_summary.py --skip-first --json --top 8 "$work/prof-$1"/*.json
  $py bench/profile_summary.py --skip-first "$work/prof-$1"/*.json >> "$log" 2>&1
  mkdir -p "$out/profiles" && cp "$work/prof-$1"/*.json "$out/profiles/" 2>/dev/null
}
profile pytorch

# 4. cuDNN's convolution algorithm search (ONNX Runtime's cudnn_conv_algo_search), Mage `pytorch`.
cudnn() { mage "cudnn-$1-b$large" 0 "$fp32" pytorch --conv-search "$1" --only features,inpainting; }
cudnn exhaustive
cudnn heuristic

# 5. If time is left.
cudnn default
record check-fast-fp32 "${app[@]}" check "$fp32" "$device" 16 --precision fast --no-warm-up
mage "speed-mage-fast-fp32pkg-b$large" 0 "$fp32" fast
profile exact

step "summary"
$py bench/gpu/summarize.py "$results" --baseline bench/results/2026-11-27-h100/results.jsonl > "$out/summary.md" 2>>"$log" \
  || echo "FAILED: summary" | tee -a "$log"
step "done"
