#!/usr/bin/env python3
"""Prints clearloop/tokio ratios from criterion's last run (target/criterion).

Each benchmark group holds a `clearloop` and a `tokio` function run on the same
workload; a ratio below 1.0 means clearloop was faster. Usage, after
`cargo bench --bench runtime`: `python3 benches/ratios.py`.
"""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")


def mean_ns(group, name):
    path = root / group / name / "new" / "estimates.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())["mean"]["point_estimate"]


print(f"{'group':32} {'clearloop':>12} {'tokio':>12} {'ratio':>7}")
for group in sorted(p.name for p in root.iterdir() if p.is_dir() and p.name != "report"):
    ours, theirs = mean_ns(group, "clearloop"), mean_ns(group, "tokio")
    if ours is None or theirs is None:
        continue
    print(f"{group:32} {ours / 1e3:10.1f}us {theirs / 1e3:10.1f}us {ours / theirs:7.2f}")
