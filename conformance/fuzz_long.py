#!/usr/bin/env python3
"""A long differential run (core-vm against wasmi) that survives the reference crashing.

`fuzz-smoke --differential-only` catches wasmi's panics, but not a segfault
inside wasmi (wasmi 2.0 has one: see the README), which ends the process. This
driver runs fuzz-smoke in chunks; when a chunk dies on a signal, it finds the
iteration that killed it (the chunk again with --verbose: the one after the last
`ok`), records it, and goes on after it. At the end it prints the totals of the
summary lines (modules, calls, mismatches, wasmi panics, CPU seconds) and the
iterations that crashed, each with its reproducer.

With --save, each crashing module is written there (DIFF_SAVE) for a check by
hand: a crash is blamed on wasmi only once the module crashes wasmi alone (the
README says which were checked so).

Usage: fuzz_long.py --bin target/fuzz/fuzz-smoke [--iterations 1000000]
       [--start 0] [--chunk 20000] [--save DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

SUMMARY = re.compile(
    r"fuzz-smoke differential \(core-vm vs wasmi 2\.0\): (\d+) modules \((\d+) rejected by wasmi, "
    r"(\d+) stopped by a wasmi panic\), (\d+) instantiated, (\d+) calls compared \((\d+) trapping alike\), "
    r"(\d+) modules inconclusive \(fuel, stack or caps\), (\d+) mismatches; ([\d.]+) s CPU"
)
FIELDS = ("modules", "rejected", "panicked", "instantiated", "calls", "traps", "inconclusive", "mismatches")


def run(bin_: str, start: int, n: int, verbose: bool, save: str | None) -> subprocess.CompletedProcess:
    cmd = [bin_, "--differential-only", "--start", str(start), "--iterations", str(n)]
    if verbose:
        cmd.append("--verbose")
    if save:
        cmd += ["--save", save]
    return subprocess.run(cmd, capture_output=True, text=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--iterations", type=int, default=1_000_000)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--chunk", type=int, default=20_000)
    ap.add_argument("--save")
    a = ap.parse_args()

    totals = dict.fromkeys(FIELDS, 0)
    cpu = 0.0
    crashes: list[tuple[int, int]] = []
    notes: list[str] = []
    i, end = a.start, a.start + a.iterations
    while i < end:
        n = min(a.chunk, end - i)
        p = run(a.bin, i, n, False, a.save)
        for line in p.stderr.splitlines():
            if "wasmi panicked" in line or "FAILED" in line or line.startswith("  - "):
                notes.append(line)
        m = SUMMARY.search(p.stdout)
        if p.returncode >= 0 and m:
            for k, v in zip(FIELDS, m.groups()):
                totals[k] += int(v)
            cpu += float(m.group(9))
            print(f"[{i}, {i + n}): {m.group(0)}", flush=True)
            i += n
            continue
        # Died on a signal: find the iteration, count what ran before it.
        v = run(a.bin, i, n, True, None)
        oks = [int(x) for x in re.findall(r"^iteration (\d+): ok", v.stderr, re.M)]
        bad = (max(oks) + 1) if oks else i
        crashes.append((bad, -p.returncode if p.returncode < 0 else p.returncode))
        print(f"iteration {bad}: the process died (signal {crashes[-1][1]}); "
              f"reproduce: {a.bin} --differential-only --start {bad} --iterations 1", flush=True)
        if bad > i:
            q = run(a.bin, i, bad - i, False, None)
            m = SUMMARY.search(q.stdout)
            if m:
                for k, val in zip(FIELDS, m.groups()):
                    totals[k] += int(val)
                cpu += float(m.group(9))
        if a.save:
            os.makedirs(a.save, exist_ok=True)
            env = dict(os.environ, DIFF_SAVE=os.path.join(a.save, f"iter{bad}-crash.wasm"))
            subprocess.run([a.bin, "--differential-only", "--start", str(bad), "--iterations", "1"],
                           capture_output=True, env=env)
        i = bad + 1

    for line in notes:
        print(line)
    print("totals: " + ", ".join(f"{k} {v}" for k, v in totals.items())
          + f", crashed {len(crashes)} ({', '.join(str(c[0]) for c in crashes) or 'none'}); {cpu:.1f} s CPU")
    return 1 if totals["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
