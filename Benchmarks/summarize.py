#!/usr/bin/env python3
"""Summarise `swift package benchmark` text output: p50 wall clock, malloc p50, throughput and the
ratios BENCHMARKS.md quotes (each against a baseline measured in the same run).

Usage: VOICEPIPE_BENCHMARKS=1 swift package benchmark --target VoiceDSPBenchmarks --no-progress > run.txt
       python3 Benchmarks/summarize.py run.txt
"""
import re
import sys

UNITS = {"ns": 1e-9, "μs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}
SAMPLES = {"64KiB": 64 << 10, "64MiB": 64 << 20}


def parse(text):
    results = {}
    for block in re.split(r"\n(?=[^\s│╒╞├╘═][^\n]*\n╒)", text):
        lines = block.strip().split("\n")
        name = lines[0].strip()
        wall = re.search(r"Time \(wall clock\) \((\w+)\) \*\s*│([^\n]*)", block)
        if not wall:
            continue
        cells = [c.strip() for c in wall.group(2).split("│") if c.strip()]
        p50 = float(cells[2]) * UNITS[wall.group(1)]
        malloc = re.search(r"Malloc \(total\) \*\s*│([^\n]*)", block)
        mallocs = [c.strip() for c in malloc.group(1).split("│") if c.strip()] if malloc else None
        results[name] = (p50, mallocs[2] if mallocs else "-")
    return results


def main():
    results = parse(open(sys.argv[1]).read())
    print("| benchmark | p50 | throughput | mallocs/call (p50) |")
    print("|---|---:|---:|---:|")
    for name, (p50, malloc) in sorted(results.items()):
        size = next((n for label, n in SAMPLES.items() if name.endswith(label)), None)
        rate = f"{size / p50 / 1e9:.2f} G samples/s" if size else ""
        shown = f"{p50 * 1e9:.0f} ns" if p50 < 1e-5 else f"{p50 * 1e6:.1f} us"
        print(f"| {name} | {shown} | {rate} | {malloc} |")
    print()
    print("| ratio (same run, p50) | value |")
    print("|---|---:|")
    pairs = [
        ("MuLaw.decode {}", "MuLaw.decode table baseline {}", "SIMD decode vs 256-entry table"),
        ("MuLaw.encode {}", "MuLaw.encode G.191 baseline {}", "SIMD mu-law encode vs G.191 as written"),
        ("ALaw.encode {}", "ALaw.encode G.191 baseline {}", "SIMD A-law encode vs G.191 as written"),
        ("MuLaw.decode {}", "memcpy PCM {}", "mu-law decode speed relative to memcpy of the 16-bit PCM"),
        ("MuLaw.encode {}", "memcpy PCM {}", "mu-law encode speed relative to memcpy of the 16-bit PCM"),
    ]
    for label in SAMPLES:
        for fast, base, what in pairs:
            a, b = results.get(fast.format(label)), results.get(base.format(label))
            if a and b:
                print(f"| {what}, {label} | {b[0] / a[0]:.2f}x |")
    ring, mutex = results.get("SPSCRingBuffer cross-thread 8Mi samples"), results.get(
        "Mutex<Deque> baseline cross-thread 8Mi samples")
    if ring and mutex:
        print(f"| SPSC ring vs Mutex<Deque>, 8 Mi samples cross-thread | {mutex[0] / ring[0]:.2f}x "
              f"({(8 << 20) / ring[0] / 1e9:.2f} vs {(8 << 20) / mutex[0] / 1e9:.2f} G samples/s) |")


if __name__ == "__main__":
    main()
