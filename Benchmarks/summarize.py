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
        held = re.search(r"withheld \(us\)( \(K\))? *│([^\n]*)", block)
        if held:
            cells = [c.strip() for c in held.group(2).split("│") if c.strip()]
            WITHHELD[name] = float(cells[2]) * (1000 if held.group(1) else 1) / 1000  # ms
        results[name] = (p50, mallocs[2] if mallocs else "-")
    return results


WITHHELD = {}


def resampler_tables(results):
    pairs = {}
    for name, (p50, malloc) in results.items():
        match = re.match(r"resample (\S+) (.*)", name)
        if match:
            pairs.setdefault(match.group(1), {})[match.group(2)] = (p50, malloc, WITHHELD.get(name))
    for pair, contenders in pairs.items():
        soxr = contenders.get("soxr HQ", (None,))[0]
        print(f"\n{pair}, 20 ms chunks, one stream\n")
        print("| resampler | CPU per audio second (p50) | x real time | vs soxr HQ | withheld in streaming | mallocs |")
        print("|---|---:|---:|---:|---:|---:|")
        for contender, (p50, malloc, held) in sorted(contenders.items(), key=lambda item: item[1][0]):
            ratio = f"{soxr / p50:.2f}" if soxr else ""
            shown = f"{held:.3f} ms" if held is not None else "?"
            print(f"| {contender} | {p50 * 1e6:.0f} us | {1 / p50:,.0f}x | {ratio} | {shown} | {malloc} |")


def main():
    results = parse(open(sys.argv[1]).read())
    if any(name.startswith("resample ") for name in results):
        resampler_tables(results)
        results = {k: v for k, v in results.items() if not k.startswith("resample ")}
        if not results:
            return
        print()
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
