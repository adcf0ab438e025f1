#!/usr/bin/env python3
"""Where a graph's time goes, by operator type, from ONNX Runtime profiles (issue 15).

    dotnet bench/Mage.Benchmarks/bin/Release/net10.0/Mage.Benchmarks.dll profile PACKAGE 8 /tmp/prof/int8
    /usr/bin/python3 bench/profile_summary.py /tmp/prof/int8-*.json

The profiles are Chrome-trace JSON lists; every kernel run is an event of category "Node" whose name
ends in "_kernel_time" and whose args carry "op_name". Prints, per file, the total kernel time and
each operator type's share of it (the top --top types), most first.
"""
import argparse
import json
from collections import defaultdict
from pathlib import Path


def summarise(path: Path):
    events = json.loads(path.read_text())
    by_op = defaultdict(float)
    for e in events:
        if e.get("cat") == "Node" and str(e.get("name", "")).endswith("_kernel_time"):
            by_op[e.get("args", {}).get("op_name", "?")] += e.get("dur", 0)
    return by_op


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("profiles", nargs="+", type=Path)
    p.add_argument("--top", type=int, default=8)
    a = p.parse_args()
    for path in a.profiles:
        by_op = summarise(path)
        total = sum(by_op.values())
        print(f"{path.name}: {total / 1e3:.1f} ms of kernels")
        for op, us in sorted(by_op.items(), key=lambda kv: -kv[1])[:a.top]:
            print(f"  {op:<28}{us / 1e3:10.1f} ms {100 * us / max(total, 1):6.1f} %")


if __name__ == "__main__":
    main()
