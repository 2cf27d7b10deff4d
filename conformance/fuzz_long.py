#!/usr/bin/env python3
"""A long differential run that survives the reference crashing: core-vm against wasmi
(`--mode core`, the default), or component-model against wasmtime (`--mode component`,
fuzz-smoke built with the `component-diff` feature).

`fuzz-smoke --differential-only` catches wasmi's panics, but not a segfault
inside wasmi (wasmi 2.0 has one: see the README), which ends the process. This
driver runs fuzz-smoke in chunks; when a chunk dies on a signal, it finds the
iteration that killed it (the chunk again with --verbose: the one after the last
`ok`), records it, and goes on after it. At the end it prints the totals of the
summary lines (modules, calls, NaN-payload differences, the arbiter's reference disagreements, mismatches,
wasmi panics, CPU seconds) and the iterations that crashed, each with its reproducer. In core mode a
crashed iteration is then run against wasmtime 48 alone (`--reference wasmtime`, a fuzz-smoke built with
the `arbiter` feature): its mismatches count, and it is listed as compared there.

With --save, each crashing module, and in core mode each mismatching one and each with a
spec-allowed NaN difference, is written there
(DIFF_SAVE; replay a mismatch with `fuzz-smoke --diff-file M.wasm $(cat M.wasm.args)`) for a
check by hand: a crash is blamed on wasmi only once the module crashes wasmi alone (the
README says which were checked so).

Usage: fuzz_long.py --bin target/fuzz/fuzz-smoke [--mode core|component] [--iterations 1000000]
       [--start 0] [--chunk 20000] [--save DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

SUMMARY = re.compile(
    r"fuzz-smoke differential \(core-vm vs (?:[^,]+), arbiter (?:[^)]+)\): (\d+) modules \((\d+) rejected by the "
    r"reference, (\d+) stopped by a reference panic\), (\d+) instantiated, (\d+) calls compared \((\d+) trapping "
    r"alike\), (\d+) modules inconclusive \(fuel, stack or caps\), (\d+) NaN-payload and (\d+) NaN-derived "
    r"differences \(spec-allowed, probe-confirmed\), (\d+) modules judged by the arbiter: (\d+) reference "
    r"disagreements \(wasmi differs from core-vm and wasmtime\), (\d+) wasmi failures compared on wasmtime without a "
    r"mismatch; (\d+) mismatches; ([\d.]+) s CPU"
)
FIELDS = ("modules", "rejected", "panicked", "instantiated", "calls", "traps", "inconclusive", "nan-payload",
          "nan-derived", "arbitrated", "reference-disagreements", "wasmi-failures-agreed", "mismatches")
COMPONENT_SUMMARY = re.compile(
    r"fuzz-smoke component diff \(component-model vs wasmtime 48\): (\d+) components \((\d+) rejected by both\), "
    r"(\d+) instantiated, (\d+) exports called, (\d+) calls compared \((\d+) equal values, (\d+) failing alike, "
    r"(\d+) of them a trap on one side only\), (\d+) imports implemented \((\d+) with handles\), (\d+) import calls "
    r"\(argument logs compared; (\d+) with handles\), (\d+) imported resource types, (\d+) host destructor runs \(logged\), "
    r"(\d+) calls with handles \((\d+) nested in other types\), (\d+) resource\.new sequences placed, "
    r"(\d+) resource\.drop calls placed, (\d+) calls skipped \(no handle held\), (\d+) mismatches; ([\d.]+) s CPU"
)
COMPONENT_FIELDS = ("components", "rejected", "instantiated", "exports", "calls", "equal", "failing-alike",
                    "failure-kinds-differ", "imports", "handle-imports", "import-calls", "handle-import-calls", "host-resources",
                    "dtor-runs", "handle-calls", "nested-handle-calls", "resource-sequences", "handle-drops",
                    "skipped", "mismatches")
# mode -> (fuzz-smoke flag, summary line, its fields; the CPU seconds follow them)
MODES = {
    "core": ("--differential-only", SUMMARY, FIELDS),
    "component": ("--component-diff-only", COMPONENT_SUMMARY, COMPONENT_FIELDS),
}
FLAG, SUMMARY_RE, FIELDS_OF = MODES["core"]


def run(bin_: str, start: int, n: int, verbose: bool, save: str | None,
        extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    cmd = [bin_, FLAG, "--start", str(start), "--iterations", str(n), *extra]
    if verbose:
        cmd.append("--verbose")
    if save:
        cmd += ["--save", save]
    return subprocess.run(cmd, capture_output=True, text=True)


def save_module(bin_: str, save: str, i: int, what: str) -> None:
    """Writes iteration i's module to save/iter{i}-{what}.wasm (DIFF_SAVE; in core mode also
    the .args to replay it: fuzz-smoke --diff-file M.wasm $(cat M.wasm.args))."""
    os.makedirs(save, exist_ok=True)
    env = dict(os.environ, DIFF_SAVE=os.path.join(save, f"iter{i}-{what}.wasm"))
    subprocess.run([bin_, FLAG, "--start", str(i), "--iterations", "1"], capture_output=True, env=env)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--iterations", type=int, default=1_000_000)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--chunk", type=int, default=20_000)
    ap.add_argument("--save")
    ap.add_argument("--mode", choices=sorted(MODES), default="core")
    a = ap.parse_args()
    global FLAG, SUMMARY_RE, FIELDS_OF
    FLAG, SUMMARY_RE, FIELDS_OF = MODES[a.mode]
    cpu_group = len(FIELDS_OF) + 1

    totals = dict.fromkeys(FIELDS_OF, 0)
    cpu = 0.0
    crashes: list[tuple[int, int]] = []
    notes: list[str] = []
    saved_nan: set[int] = set()
    on_wasmtime: list[tuple[int, dict[str, int]]] = []
    i, end = a.start, a.start + a.iterations
    while i < end:
        n = min(a.chunk, end - i)
        p = run(a.bin, i, n, False, a.save)
        for line in p.stderr.splitlines():
            if ("panicked" in line or "FAILED" in line or "spec-allowed NaN difference" in line
                    or ": arbiter: " in line or line.startswith("  - ")):
                notes.append(line)
            disagreement = re.match(r"iteration (\d+): arbiter: reference disagreement", line)
            if disagreement and a.save and a.mode == "core":
                save_module(a.bin, a.save, int(disagreement.group(1)), "reference-disagreement")
            failed = re.match(r"iteration (\d+) FAILED", line)
            if failed and a.save and a.mode == "core":
                save_module(a.bin, a.save, int(failed.group(1)), "mismatch")
            nan = re.match(r"iteration (\d+): spec-allowed NaN difference", line)
            if nan and a.save and a.mode == "core" and int(nan.group(1)) not in saved_nan:
                saved_nan.add(int(nan.group(1)))
                save_module(a.bin, a.save, int(nan.group(1)), "nan")
        m = SUMMARY_RE.search(p.stdout)
        if p.returncode >= 0 and m:
            for k, v in zip(FIELDS_OF, m.groups()):
                totals[k] += int(v)
            cpu += float(m.group(cpu_group))
            print(f"[{i}, {i + n}): {m.group(0)}", flush=True)
            i += n
            continue
        # Died on a signal: find the iteration, count what ran before it.
        v = run(a.bin, i, n, True, None)
        oks = [int(x) for x in re.findall(r"^iteration (\d+): ok", v.stderr, re.M)]
        bad = (max(oks) + 1) if oks else i
        crashes.append((bad, -p.returncode if p.returncode < 0 else p.returncode))
        print(f"iteration {bad}: the process died (signal {crashes[-1][1]}); "
              f"reproduce: {a.bin} {FLAG} --start {bad} --iterations 1", flush=True)
        if bad > i:
            q = run(a.bin, i, bad - i, False, None)
            m = SUMMARY_RE.search(q.stdout)
            if m:
                for k, val in zip(FIELDS_OF, m.groups()):
                    totals[k] += int(val)
                cpu += float(m.group(cpu_group))
                print(f"[{i}, {bad}): {m.group(0)}", flush=True)
        if a.save:
            save_module(a.bin, a.save, bad, "crash")
        if a.mode == "core":
            # The module again, compared with wasmtime 48 alone (a build with the arbiter).
            w = run(a.bin, bad, 1, False, None, ("--reference", "wasmtime"))
            m = SUMMARY_RE.search(w.stdout)
            if w.returncode >= 0 and m:
                got = dict(zip(FIELDS_OF, (int(x) for x in m.groups()[:len(FIELDS_OF)])))
                totals["mismatches"] += got["mismatches"]
                on_wasmtime.append((bad, got))
                print(f"iteration {bad}: on wasmtime 48 instead: {got['instantiated']} instantiated, {got['calls']} "
                      f"calls compared, {got['inconclusive']} inconclusive, {got['mismatches']} mismatches", flush=True)
                for line in w.stderr.splitlines():
                    if line.startswith("  - ") or "FAILED" in line:
                        notes.append(f"iteration {bad} (on wasmtime 48): {line}")
            else:
                print(f"iteration {bad}: no run on wasmtime 48 (a build without the arbiter feature, or it died "
                      f"too: {w.returncode})", flush=True)
        i = bad + 1

    for line in notes:
        print(line)
    if a.mode == "core":
        agreed = [i for i, got in on_wasmtime if got["mismatches"] == 0 and got["modules"] == 1]
        print(f"crashed modules compared on wasmtime 48 instead: {len(on_wasmtime)} of {len(crashes)}, "
              f"{len(agreed)} without a mismatch ({', '.join(map(str, agreed)) or 'none'})")
    print("totals: " + ", ".join(f"{k} {v}" for k, v in totals.items())
          + f", crashed {len(crashes)} ({', '.join(str(c[0]) for c in crashes) or 'none'}); {cpu:.1f} s CPU")
    return 1 if totals["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
