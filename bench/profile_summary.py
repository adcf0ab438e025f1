#!/usr/bin/env python3
"""Where a graph's time goes, by operator type, from ONNX Runtime profiles (issue 15).

    dotnet bench/Mage.Benchmarks/bin/Release/net10.0/Mage.Benchmarks.dll profile PACKAGE 8 /tmp/prof/int8
    /usr/bin/python3 bench/profile_summary.py /tmp/prof/int8-*.json

The profiles are Chrome-trace JSON lists; every kernel run is an event of category "Node" whose name
ends in "_kernel_time" and whose args carry "op_name". Prints, per file, the total kernel time and
each operator type's share of it (the top --top types), most first.

--skip-first leaves out each file's first run (the session's first "model_run" event and the
kernels inside it): on CUDA the first run of a shape includes cuDNN's algorithm search and lazy
allocations (`profile ... --runs 2` makes a second run to keep). --json prints one JSON object
instead: {label: {"total_ms": ms, "runs": n, "ops": {op: ms, most first}}}, label = file name
without ONNX Runtime's timestamp and ".json" (bench/gpu/run.sh records it).
"""
import argparse
import json
import re
from collections import defaultdict
from pathlib import Path


def summarise(path: Path, skip_first: bool = False):
    """({op: microseconds}, runs kept)."""
    events = json.loads(path.read_text())
    runs = sorted((e for e in events if e.get("cat") == "Session" and e.get("name") == "model_run"), key=lambda e: e.get("ts", 0))
    start = 0
    if skip_first and len(runs) > 1:
        start = runs[0].get("ts", 0) + runs[0].get("dur", 0)
    by_op = defaultdict(float)
    for e in events:
        if e.get("cat") == "Node" and str(e.get("name", "")).endswith("_kernel_time") and e.get("ts", 0) >= start:
            by_op[e.get("args", {}).get("op_name", "?")] += e.get("dur", 0)
    return by_op, len(runs) - (1 if start else 0)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("profiles", nargs="+", type=Path)
    p.add_argument("--top", type=int, default=8)
    p.add_argument("--skip-first", action="store_true", help="leave out each session's first run")
    p.add_argument("--json", action="store_true", help="one JSON object instead of text")
    a = p.parse_args()
    summary = {}
    for path in a.profiles:
        by_op, runs = summarise(path, a.skip_first)
        total = sum(by_op.values())
        ranked = sorted(by_op.items(), key=lambda kv: -kv[1])
        if a.json:
            summary[re.sub(r"_\d{4}-\d\d-\d\d_[\d_-]+$", "", path.stem)] = {"total_ms": round(total / 1e3, 3), "runs": runs, "ops": {op: round(us / 1e3, 3) for op, us in ranked[:a.top]}}
            continue
        print(f"{path.name}: {total / 1e3:.1f} ms of kernels in {runs} run(s)")
        for op, us in ranked[:a.top]:
            print(f"  {op:<28}{us / 1e3:10.1f} ms {100 * us / max(total, 1):6.1f} %")
    if a.json:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
