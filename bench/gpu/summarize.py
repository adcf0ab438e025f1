#!/usr/bin/env python3
"""The GPU issue's side-by-side tables, in markdown, from a bench/gpu/run.sh results.jsonl.

    python3 bench/gpu/summarize.py OUT/results.jsonl [--baseline bench/results/2026-11-27-h100/results.jsonl] [--gpu H200]

Reads the records run.sh writes ({"run": NAME, "result": {...}} a line): `plan` (batches, JPEG
counts, steps), `machine` (the GPU's name), `flops` (bench/flops.py), `check-*` (Mage.Benchmarks
check), `speed-RUNNER-bBATCH` (RUNNER: pytorch-eager, pytorch-autocast, mage-exact, mage-pytorch,
mage-fast; pytorch_bench.py or Mage.Benchmarks compare), `cudnn-*` (compare with --conv-search),
`profile-*` (profile_summary.py --json). Missing records leave "—" (a run cut short still
summarises). Needs no PyTorch.

Targets (the issue): Mage `pytorch` >= 1.5x PyTorch eager at the large batch and >= 1.0x at the
small one, on every workload; `fast` >= 1.5x PyTorch autocast (read here: at both batches); `exact`
no slower than the baseline file's Mage fp32 device-loop run (2026-11-27 on an H100 unless another
file is given: a different GPU, so read that row with care).

Fraction of peak = images/s x (seconds one image would take at the GPU's datasheet peak for the
precision each part runs at), summed over graphs and over convolutions and matrix products
(bench/flops.py splits them). Precisions assumed per runner:
  PyTorch eager     convolutions TF32 if torch.backends.cudnn.allow_tf32 (recorded), else fp32;
                    products TF32 if cuda.matmul.allow_tf32 or float32_matmul_precision != highest
                    (or, PyTorch 2.9+, the backends' fp32_precision says tf32);
  PyTorch autocast  fp16 (convolutions and products; autocast casts both);
  Mage exact        fp32;
  Mage pytorch      TF32 in the detokenizer, and in the tokenizer when its distances are float64
                    (the package's "quantizer", recorded), fp32 elsewhere (GraphPrecision);
  Mage fast         fp16 package: fp16, its float32 tokenizer TF32; fp32 package: TF32.
Where a GPU has no TF32 units (T4) fp32 is used. The peaks are bench/peaks.py's.
"""
import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from peaks import SOURCE, lookup  # noqa: E402

WORKLOADS = ("features", "generation", "inpainting")
LEGACY_KEYS = {"features": "features_images_per_s", "generation": "generation_images_per_s", "inpainting": "editing_images_per_s"}
RUNNERS = ("pytorch-eager", "pytorch-autocast", "mage-exact", "mage-pytorch", "mage-fast")
TARGETS = {  # (mage runner, reference runner): (small batch, large batch)
    ("mage-pytorch", "pytorch-eager"): (1.0, 1.5),
    ("mage-fast", "pytorch-autocast"): (1.5, 1.5),
}


def read(path):
    records = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            records[r.get("run")] = r.get("result")
    return records


def speed(result, workload):
    """Images per second of one workload in a pytorch_bench / compare result, or None."""
    if not result:
        return None
    w = result.get("workloads", {}).get(workload)
    if w and w.get("images_per_s") is not None:
        return w["images_per_s"]
    return result.get(LEGACY_KEYS[workload])


def speed_runs(records):
    """{(runner, batch): result} from speed-RUNNER-bN records."""
    runs = {}
    for name, result in records.items():
        m = re.fullmatch(r"speed-(.+)-b(\d+)", name or "")
        if m and result:
            runs[(m.group(1), int(m.group(2)))] = result
    return runs


def baseline_runs(records):
    """Mage exact-mode runs of a baseline file: this script's names, or the 2026-11-27 run's
    (mage-fp32-device-8: 32 JPEGs at batch 8, like today; mage-fp32-device-64: 64 generations and
    inpaints, but features were 32 JPEGs at batch 32, so not comparable and left out)."""
    runs = {b: r for (runner, b), r in speed_runs(records).items() if runner == "mage-exact"}
    if not runs:
        if records.get("mage-fp32-device-8"):
            runs[8] = records["mage-fp32-device-8"]
        if records.get("mage-fp32-device-64"):
            runs[64] = {k: v for k, v in records["mage-fp32-device-64"].items() if k != "features_images_per_s"}
    return runs


def named(records, prefix):
    """The records whose run name starts with prefix, in file order."""
    return {k: v for k, v in records.items() if k and k.startswith(prefix) and v}


def heading(say, title, columns, intro=None):
    """A section: its title, an optional paragraph, and a table header."""
    say(f"## {title}")
    say("")
    if intro:
        say(intro)
        say("")
    say("| " + " | ".join(columns) + " |")
    say("|" + "---|" * len(columns))


def on_off(flag):
    return "—" if flag is None else ("on" if flag else "off")


def fmt(x, digits=1):
    return "—" if x is None else f"{x:.{digits}f}"


def ratio_cell(a, b):
    return "—" if a is None or not b else f"**{a / b:.2f}×**"


def precisions(runner, result):
    """graph -> class -> precision name, as the module docstring states."""
    graphs = ("tokenize", "encoder", "logits", "detokenize")
    if runner == "pytorch-autocast" and result.get("autocast"):
        return {g: {"conv": "fp16", "matmul": "fp16"} for g in graphs}
    if runner.startswith("pytorch-"):
        tf32 = result.get("tf32", {})
        # PyTorch 2.9 and later also report per-backend fp32_precision ("tf32" or "ieee").
        conv = "tf32" if tf32.get("cudnn_allow_tf32") or tf32.get("cudnn_conv_fp32_precision") == "tf32" else "fp32"
        mm = "tf32" if (tf32.get("cuda_matmul_allow_tf32") or tf32.get("float32_matmul_precision") in ("high", "medium")
                        or tf32.get("cuda_matmul_fp32_precision") == "tf32") else "fp32"
        return {g: {"conv": conv, "matmul": mm} for g in graphs}
    if runner == "mage-pytorch":
        # TF32 in the VQGAN sessions; the tokenizer's only when its distances are float64 (manifest "quantizer").
        tf32 = {"conv": "tf32", "matmul": "fp32"}
        strict = {"conv": "fp32", "matmul": "fp32"}
        return {g: (tf32 if g == "detokenize" or (g == "tokenize" and result.get("quantizer") == "float64") else strict) for g in graphs}
    if runner == "mage-fast":
        if result.get("precision") == "fp16":
            return {g: ({"conv": "tf32", "matmul": "tf32"} if g == "tokenize" else {"conv": "fp16", "matmul": "fp16"}) for g in graphs}
        return {g: {"conv": "tf32", "matmul": "tf32"} for g in graphs}
    return {g: {"conv": "fp32", "matmul": "fp32"} for g in graphs}


def peak_seconds_per_image(flops, workload, precision_map, peaks):
    """Seconds one image of the workload takes at the datasheet peaks, or None."""
    if not flops or not peaks:
        return None
    total = 0.0
    for graph, runs in flops["workloads"][workload]["runs"].items():
        for cls, gflop in flops["graphs"][graph].items():
            p = precision_map[graph][cls]
            tflops = peaks.get(p) or peaks["fp32"]
            total += runs * gflop / (tflops * 1e3)
    return total


def gflop_per_image(flops, workload):
    if not flops:
        return None
    w = flops["workloads"][workload]
    return w["conv"] + w["matmul"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", type=Path)
    p.add_argument("--baseline", type=Path, help="an earlier results.jsonl whose Mage exact (fp32 device loop) runs `exact` must not be slower than")
    p.add_argument("--gpu", help="GPU name for the peak table, instead of the one the run recorded")
    a = p.parse_args()
    records = read(a.results)
    plan = records.get("plan") or {}
    flops = records.get("flops")
    runs = speed_runs(records)
    base = baseline_runs(read(a.baseline)) if a.baseline else {}
    batches = sorted({b for _, b in runs} | set(plan.get("batches", [])))
    large = plan.get("large_batch", max(batches) if batches else 64)
    gpu = a.gpu or (records.get("machine") or {}).get("gpu") or next((r.get("gpu") for r in runs.values() if r.get("gpu")), None)
    peak_key, peaks = lookup(gpu)
    out = []
    say = out.append

    say(f"# GPU comparison: {a.results}")
    say("")
    say(f"GPU: {gpu or 'unknown'}; peak table entry: {peak_key or 'none (fraction of peak not computed)'} ({SOURCE}).")
    if plan:
        feats = ", ".join(f"{n} JPEGs at batch {b}" for b, n in sorted((int(k), v) for k, v in plan.get("feature_images", {}).items()))
        say(f"Workloads: features ({feats}); generation {plan.get('generation_steps')} steps and inpainting "
            f"{plan.get('inpainting_steps')} steps, batch = images per call; arch {plan.get('arch')}.")
    for runner in ("pytorch-eager", "pytorch-autocast"):
        r = next((runs[k] for k in sorted(runs) if k[0] == runner), None)
        if r:
            t = r.get("tf32", {})
            say(f"{runner}: torch {r.get('torch')}, CUDA {r.get('cuda')}, cuDNN {r.get('cudnn')}, autocast {r.get('autocast')} "
                f"({r.get('autocast_dtype')}), cuda.matmul.allow_tf32={t.get('cuda_matmul_allow_tf32')}, "
                f"cudnn.allow_tf32={t.get('cudnn_allow_tf32')}, float32_matmul_precision={t.get('float32_matmul_precision')}.")
    say("")

    checks = named(records, "check-")
    if checks:
        heading(say, "Correctness (Mage.Benchmarks check)", ["check", "mode", "package", "golden passed", "failing",
                                                              "device = host loop (sampled)", "alone = in batch (device, sampled)"])
        for name, r in checks.items():
            golden = r.get("golden", [])
            failed = [f"{g['check']}: {g['measured']} (bound {g['tolerance']})" for g in golden if not g.get("passed")]
            s = r.get("sampled", {})
            say(f"| {name} | {r.get('precision_mode', '—')} | {r.get('precision', '—')} | {sum(1 for g in golden if g.get('passed'))}/{len(golden)} "
                f"| {'; '.join(failed) or 'none'} | {s.get('device_equals_host', '—')} | {s.get('device_alone_equals_in_batch', '—')} |")
        say("")

    for (mage, ref), (t_small, t_large) in TARGETS.items():
        heading(say, f"Mage `{mage.split('-')[1]}` against {ref.replace('-', ' ')} (images/s)", ["workload", "batch", ref, mage, "ratio", "target", "met"])
        for w in WORKLOADS:
            for b in batches:
                x, y = speed(runs.get((ref, b)), w), speed(runs.get((mage, b)), w)
                target = t_large if b >= large else t_small
                met = "—" if x is None or y is None or not x else ("yes" if y / x >= target else "**no**")
                say(f"| {w} | {b} | {fmt(x)} | {fmt(y)} | {ratio_cell(y, x)} | ≥ {target}× | {met} |")
        say("")

    heading(say, "Mage `exact` against the baseline (images/s)", ["workload", "batch", "baseline exact", "exact now", "ratio", "met (≥ 1.0×)"],
            f"Baseline: {a.baseline or 'none given (--baseline)'}.")
    for w in WORKLOADS:
        for b in batches:
            x, y = speed(base.get(b), w), speed(runs.get(("mage-exact", b)), w)
            met = "—" if x is None or y is None else ("yes" if y >= x else "**no**")
            say(f"| {w} | {b} | {fmt(x)} | {fmt(y)} | {ratio_cell(y, x)} | {met} |")
    say("")

    intro = ("Achieved TFLOP/s (images/s × GFLOP per image from bench/flops.py) and images/s as a fraction of what the "
             "GPU's datasheet peak allows at the precisions each runner computes in (see bench/gpu/summarize.py).")
    if flops:
        intro += " GFLOP per image: " + ", ".join(f"{w} {gflop_per_image(flops, w):.1f} (conv {flops['workloads'][w]['conv']:.1f})" for w in WORKLOADS) + "."
    heading(say, "Fraction of peak", ["workload", "batch", *RUNNERS], intro)
    for w in WORKLOADS:
        for b in batches:
            cells = []
            for runner in RUNNERS:
                r = runs.get((runner, b))
                ips = speed(r, w)
                if ips is None or not flops:
                    cells.append("—")
                    continue
                achieved = ips * gflop_per_image(flops, w) / 1e3
                sec = peak_seconds_per_image(flops, w, precisions(runner, r), peaks)
                cells.append(f"{achieved:.3g} TFLOP/s" + (f" ({100 * ips * sec:.3g} %)" if sec else ""))
            say(f"| {w} | {b} | " + " | ".join(cells) + " |")
    say("")

    mage = named(records, "speed-mage-")
    if mage:
        heading(say, "Mage settings and loads", ["run", "mode", "package", "buckets", "warm-up", "conv search", "fixed transformer batch", "load s"],
                "The settings each Mage run used, and the seconds its model load took (on CUDA the engine's warm-up at every bucket size is part of it).")
        for name, r in mage.items():
            say(f"| {name} | {r.get('precision_mode', '—')} | {r.get('precision', '—')} | {r.get('buckets', '—')} | {on_off(r.get('warm_up'))} "
                f"| {r.get('conv_search', '—')} | {r.get('fixed_transformer_batch', '—')} | {fmt(r.get('load_s'), 2)} |")
        say("")

    others = {k: v for k, v in runs.items() if k[0] not in RUNNERS}
    if others:
        heading(say, "Other speed runs (images/s)", ["run", "batch", "package", *WORKLOADS])
        for (runner, b), r in sorted(others.items()):
            say(f"| {runner} | {b} | {r.get('precision', '—')} | " + " | ".join(fmt(speed(r, w)) for w in WORKLOADS) + " |")
        say("")

    cudnn = named(records, "cudnn-")
    if cudnn:
        heading(say, "cuDNN convolution algorithm search (Mage `pytorch`)",
                ["run", "search", "batch", "load s (engine warm-up)", *(f"{w} img/s" for w in WORKLOADS), *(f"{w} warm-up s" for w in WORKLOADS)])
        for name, r in cudnn.items():
            ws = r.get("workloads", {})
            firsts = [fmt((ws.get(w) or {}).get("warm_up_s"), 2) for w in WORKLOADS]
            say(f"| {name} | {r.get('conv_search', '—')} | {r.get('batch', '—')} | {fmt(r.get('load_s'), 2)} | " + " | ".join(fmt(speed(r, w)) for w in WORKLOADS) + " | " + " | ".join(firsts) + " |")
        say("")

    profiles = {k: v for k, v in named(records, "profile-").items() if not k.startswith("profile-run-")}
    if profiles:
        heading(say, "Where the time goes (ONNX Runtime profiles, kernel time by operator type)", ["run", "graph", "kernel ms", "largest operator types"])
        for name, r in profiles.items():
            for graph, g in r.items():
                if not g["total_ms"]:
                    continue  # a graph the profile did not run (the sampler)
                top = ", ".join(f"{op} {100 * ms / max(g['total_ms'], 1e-9):.0f}%" for op, ms in list(g["ops"].items())[:5])
                say(f"| {name} | {graph} | {g['total_ms']:.1f} | {top} |")
        say("")

    print("\n".join(out))


if __name__ == "__main__":
    main()
