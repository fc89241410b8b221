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


cold, shared, each, units, batch = (
    load(n) for n in ("cold_start", "ship-shared", "ship-each", "write_units", "batch")
)
functions = ["ingest", "poller", "notifier", "interaction", "admin", "scheduler", "rollup", "writeback"]


def cell(value, fmt):
    return fmt.format(value) if value is not None else "-"


print()
print("== per function: cold init (exec -> first /next) and zipped arm64 package ==")
hello = cold["hello_ms"] if cold else None
if cold:
    print(f"hello {hello:.1f} ms, median of {cold['rounds']} interleaved rounds")
print(f"{'function':<12} {'own binary':>11} {'x hello':>8} {'shared':>9} {'x hello':>8} {'own zip':>9}")
worst = 0.0
for f in functions:
    own = cold.get(f) if cold else None
    via = cold.get(f"{f}@shared") if cold else None
    ratios = [m / hello for m in (own, via) if m and hello]
    worst = max([worst, *ratios])
    size = each["zipped_bytes"].get(f) if each else None
    print(
        f"{f:<12} {cell(own, '{:.1f} ms'):>11} {cell(own and own / hello, '{:.1f}x'):>8}"
        f" {cell(via, '{:.1f} ms'):>9} {cell(via and via / hello, '{:.1f}x'):>8}"
        f" {cell(size and size / 1e6, '{:.2f} MB'):>9}"
    )
if cold:
    print(f"worst cold init: {worst:.1f}x hello (target <= 2x): {'ok' if worst <= 2.0 else 'OVER'}")
if shared:
    print(f"shared bootstrap (what template.yaml deploys): {shared['zipped_bytes'] / 1e6:.2f} MB zipped, "
          f"built in {shared['build_seconds']} s")
if each:
    total = sum(each["zipped_bytes"].values())
    print(f"eight own bootstraps: {total / 1e6:.2f} MB zipped in all, built in {each['build_seconds']} s")
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
