#!/usr/bin/env python3
"""Prints clearloop/tokio ratios from criterion's last run (target/criterion).

Each benchmark group holds a `clearloop` and a `tokio` function run on the same
workload; a ratio below 1.0 means clearloop was faster. Usage, from the
repository's root, after `cargo bench -p clearloop-bench --bench runtime`:
`python3 benches/ratios.py [CRITERION_DIR]`. This reads one criterion run; for
the report (several runs, min/median/max, instruction counts, a plot), use
`cargo run --release -p clearloop-bench --bin compare`.
"""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")

if not root.is_dir():
    # A new clone has no results yet: say what to run rather than a traceback.
    sys.exit(
        f"no benchmark results in {root}/ yet: run a bench first, for example\n"
        "    cargo bench -p clearloop-bench --bench runtime\n"
        "then run this script again from the repository's root."
    )


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
