#!/usr/bin/env python3
"""Prints the figures the benchmarks kept (target/bench-results/*.json) side by side: per function its
cold init against hello and its zipped arm64 package; the write units of each step of an alert's life; the
time to admit a batch of 100 alerts one at a time and concurrently. Run by `scripts/bench.sh --summary`."""
import json
import pathlib
import sys

results = pathlib.Path(__file__).resolve().parent.parent / "target" / "bench-results"


def load(name):
    path = results / f"{name}.json"
    if not path.exists():
        print(f"(no {name} figures: {path} is missing)")
        return None
    return json.loads(path.read_text())


cold, ship, units, batch = (load(n) for n in ("cold_start", "ship", "write_units", "batch"))
functions = ["ingest", "poller", "notifier", "interaction", "admin", "scheduler", "rollup", "writeback"]
print()
print("== per function ==")
hello = cold["hello_ms"] if cold else None
head = f"{'function':<12} {'cold init':>10} {'x hello':>8} {'zipped arm64':>13}"
print(head + (f"   (hello {hello:.1} ms, median of {cold['rounds']})" if cold else ""))
worst = 0.0
for f in functions:
    ms = cold.get(f) if cold else None
    ratio = ms / hello if ms and hello else None
    worst = max(worst, ratio or 0.0)
    size = ship["zipped_bytes"].get(f) if ship else None
    print(
        f"{f:<12} {(f'{ms:.1f} ms') if ms else '-':>10} {(f'{ratio:.1f}x') if ratio else '-':>8}"
        f" {(f'{size / 1e6:.2f} MB') if size else '-':>13}"
    )
if cold:
    print(f"worst cold init: {worst:.1f}x hello (target <= 2x): {'ok' if worst <= 2.0 else 'OVER'}")
if ship:
    print(f"arm64 release build of all eight (cargo-lambda): {ship['build_seconds']} s")
print()
print("== DynamoDB write units per step (on-demand pricing, index writes included) ==")
if units:
    print(f"{'step':<36} {'units':>6} {'indexes':>8} {'~reads':>7}")
    for s in units:
        print(f"{s['step']:<36} {s['units']:>6g} {s['indexes']:>8g} {s['reads']:>7g}")
    by = {s["step"]: s["units"] for s in units}
    ask = by.get("admit (webhook)", 0) + by.get("ask (notifier DMs)", 0)
    print(f"ask path (admit + ask): {ask:g} units (target <= 10)")
print()
print("== a batch of alerts through the webhook ==")
if batch:
    print(
        f"{batch['alerts']} alerts: {batch['one_at_a_time_ms']:.0f} ms one at a time (before), "
        f"{batch['concurrent_ms']:.0f} ms {batch['concurrency']} at a time (now): "
        f"{batch['one_at_a_time_ms'] / batch['concurrent_ms']:.2f}x"
    )
sys.exit(0)
