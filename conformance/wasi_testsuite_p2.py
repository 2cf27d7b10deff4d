#!/usr/bin/env python3
"""The WASI preview1 test suite as WASIp2 components: native wasmtime against p2shim.

    python3 conformance/wasi_testsuite_p2.py [--hosts wasmtime,wasmi,node,node-current,iwasm] [--shim target/p2shim.wasm]
        [--mode shim|lower] [--componentize target/release/componentize-p1] [--filter REGEX] [-j N]
        [--timeout SECONDS] [--stderr exact|guest|ignore] [--expected-failures FILE]
        [--update-expected] [--json PATH] [--keep] [-v]

Every p1 test of ../shared/wasi-testsuite/{rust,c,assemblyscript} is turned into a p2
command component by conformance/componentize (wit-component with the
`wasi_snapshot_preview1.command.wasm` adapter of the crates.io package
`wasi-preview1-component-adapter-provider`, pinned to wasmtime 49). Then, per test:

  oracle:  the component run natively on wasmtime (`wasmtime run`, p2)
  shim:    the component run through p2shim.wasm on each p1 host (wasmtime, wasmi, node, node-current, iwasm)
           (--mode lower: the component lowered once, `p2shim.wasm lower` on wasmtime, to
           a p1 module of the same file name, in a folder of its own, that each host runs
           directly; same preopens; list: wasi-testsuite-p2-lower-expected-failures.txt,
           report: wasi-testsuite-p2-lower.json)

Both use the machinery of conformance/wasi_testsuite.py (run_one, compare): the test's
args and env, a fresh writable copy of its `root` preopened as `/`, the folder holding
the program preopened in every run (the shim reads the program through it), and the
comparison of exit code, stdout, stderr (`guest` mode by default: up to the host's or
shim's error banner, ns timestamps masked) and the tree left in the root.

Verdicts
  shim vs oracle: what gates. A mismatch fails the run unless listed in
                  conformance/wasi-testsuite-p2-expected-failures.txt (`host/suite/test  # reason`);
                  an exactly listed test that matches again also fails the run.
  vs json:        the oracle's and each shim run's result against the test's .json (exit
                  code, stdout/stderr prefix, like the upstream runner); reported, not gating
                  (native wasmtime fails a few AssemblyScript tests through the adapter).
Timeouts count as failures. Exit status: 0 ok, 1 unexpected results, 2 setup errors.
Report: target/conformance/wasi-testsuite-p2.json.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import wasi_testsuite as W  # noqa: E402  (the p1 runner: discovery, runs, comparison)

H = W.H
REPO = W.REPO
DEFAULT_EXPECTED = REPO / "conformance" / "wasi-testsuite-p2-expected-failures.txt"
DEFAULT_JSON = REPO / "target" / "conformance" / "wasi-testsuite-p2.json"
DEFAULT_EXPECTED_LOWER = REPO / "conformance" / "wasi-testsuite-p2-lower-expected-failures.txt"
DEFAULT_JSON_LOWER = REPO / "target" / "conformance" / "wasi-testsuite-p2-lower.json"
DEFAULT_COMPONENTIZE = REPO / "target" / "release" / "componentize-p1"
ORACLE_HOST = "wasmtime"


def componentize(tool: Path, tests: list[W.Test], progdirs: dict) -> None:
    """Writes each test's p2 component into its suite's program folder (same file name)."""
    by_suite: dict[str, list[str]] = {}
    for t in tests:
        by_suite.setdefault(t.suite, []).append(str(t.wasm))
    for suite, inputs in by_suite.items():
        out = progdirs[suite]
        out.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(tool), str(out), *inputs], check=True)


def lower_all(shim: Path, shim_cwasm: Path | None, tests: list[W.Test], progdirs: dict,
              lowdirs: dict, jobs: int) -> dict[str, str]:
    """Lowers each test's component (the shim on wasmtime, `jobs` at a time) into its suite's
    lowered folder, same file name; returns the tests that could not be lowered, with the
    reason."""
    for t in tests:
        lowdirs[t.suite].mkdir(parents=True, exist_ok=True)

    def lower_one(t: W.Test) -> tuple[str, str | None]:
        src, out = progdirs[t.suite], lowdirs[t.suite]
        argv = [H.tool("wasmtime"), "run", "--dir", f"{src}::/in", "--dir", f"{out}::/out"]
        if shim_cwasm is not None:
            argv += ["--allow-precompiled", str(shim_cwasm)]
        else:
            argv.append(str(shim))
        argv += ["lower", f"/in/{t.wasm.name}", "-o", f"/out/{t.wasm.name}"]
        p = subprocess.run(argv, capture_output=True)
        if p.returncode == 0:
            return t.id, None
        lines = W.decode(p.stderr).strip().splitlines()
        return t.id, lines[-1] if lines else f"exit {p.returncode}"

    with cf.ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        return {tid: why for tid, why in ex.map(lower_one, tests) if why is not None}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", default=",".join(W.DEFAULT_HOSTS))
    ap.add_argument("--suites", default=",".join(W.DEFAULT_SUITES))
    ap.add_argument("--testsuite", type=Path, default=W.DEFAULT_SUITE_ROOT)
    ap.add_argument("--shim", type=Path, default=REPO / "target" / "p2shim.wasm")
    ap.add_argument("--mode", choices=("shim", "lower"), default="shim",
                    help="run through the shim, or lowered (`p2shim lower`) directly on each host")
    ap.add_argument("--componentize", type=Path, default=DEFAULT_COMPONENTIZE,
                    help="the componentize-p1 binary (built from conformance/componentize)")
    ap.add_argument("--filter", default=None, help="regex searched in suite/test")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per run")
    ap.add_argument("--stderr", choices=("exact", "guest", "ignore"), default="guest")
    ap.add_argument("--expected-failures", type=Path, default=None,
                    help=f"default: {DEFAULT_EXPECTED.name} (--mode lower: {DEFAULT_EXPECTED_LOWER.name})")
    ap.add_argument("--update-expected", action="store_true")
    ap.add_argument("--no-precompile", action="store_true")
    ap.add_argument("--json", type=Path, default=None,
                    help="default: target/conformance/wasi-testsuite-p2[-lower].json")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    hosts = H.parse_hosts(ap, a.hosts)
    lowered = a.mode == "lower"
    if a.expected_failures is None:
        a.expected_failures = DEFAULT_EXPECTED_LOWER if lowered else DEFAULT_EXPECTED
    if a.json is None:
        a.json = DEFAULT_JSON_LOWER if lowered else DEFAULT_JSON
        if a.filter:
            # A partial run must not replace the whole run's report that the host matrix reads.
            a.json = a.json.with_name(a.json.stem + "-filtered.json")
    for p, what in ((a.shim, "shim (make shim)"),
                    (a.componentize, "componentize-p1 (cargo build in conformance/componentize)")):
        if not p.exists():
            print(f"wasi-testsuite-p2: {what} not found at {p}", file=sys.stderr)
            return 2
    tests = [t for t in W.discover(a.testsuite, [s for s in a.suites.split(",") if s])
             if not a.filter or re.search(a.filter, t.id)]
    if not tests:
        print("wasi-testsuite-p2: no test selected", file=sys.stderr)
        return 2

    a.json.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="wasi-testsuite-p2-", dir=a.json.parent)).resolve()
    try:
        progdirs = {t.suite: work / "progs" / t.suite for t in tests}
        t_setup = time.monotonic()
        componentize(a.componentize, tests, progdirs)
        print(f"wasi-testsuite-p2: componentized {len(tests)} tests in "
              f"{time.monotonic() - t_setup:.1f}s", file=sys.stderr)
        shim_cwasm = None
        if "wasmtime" in hosts and not a.no_precompile:
            shim_cwasm = work / "p2shim.cwasm"
            subprocess.run([H.tool("wasmtime"), "compile", str(a.shim), "-o", str(shim_cwasm)],
                           check=True)
        ctx = W.Ctx(work, a.timeout, a.shim.resolve(), shim_cwasm, progdirs, a.verbose)
        # Lowered: the p1 modules in folders of their own, run "directly" with the same
        # preopens as the oracle (ctx.shim stays set for that).
        lowdirs = {s: work / "lowered" / s for s in progdirs}
        not_lowered = {}
        if lowered:
            if shim_cwasm is None:
                shim_cwasm = work / "p2shim.cwasm"
                subprocess.run([H.tool("wasmtime"), "compile", str(a.shim), "-o", str(shim_cwasm)],
                               check=True)
            t_lower = time.monotonic()
            not_lowered = lower_all(a.shim, shim_cwasm, tests, progdirs, lowdirs, a.jobs)
            print(f"wasi-testsuite-p2: lowered {len(tests) - len(not_lowered)}/{len(tests)} "
                  f"components in {time.monotonic() - t_lower:.1f}s", file=sys.stderr)
        lctx = W.Ctx(work, a.timeout, a.shim.resolve(), shim_cwasm, lowdirs, a.verbose)

        def job(t: W.Test):
            # mode "direct" on wasmtime with the component in the program folder is
            # the native p2 run, with the same preopens as the shim runs.
            oracle = W.run_one(ctx, ORACLE_HOST, t, "direct")
            if not lowered:
                shims = {h: W.run_one(ctx, h, t, "shim") for h in hosts}
            elif t.id in not_lowered:
                shims = {h: W.RunResult(-1, "", "", {}, 0.0,
                                        error=f"not lowered: {not_lowered[t.id]}") for h in hosts}
            else:
                shims = {h: W.run_one(lctx, h, t, "direct") for h in hosts}
            return t, oracle, shims

        t0 = time.monotonic()
        results = []
        print(f"wasi-testsuite-p2: {len(tests)} components x {len(hosts)} hosts, -j {a.jobs}",
              file=sys.stderr)
        with cf.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
            for r in ex.map(job, tests):
                results.append(r)
                if len(results) % 25 == 0 or len(results) == len(tests):
                    print(f"  {len(results)}/{len(tests)} done ({time.monotonic() - t0:.0f}s)",
                          file=sys.stderr)
        elapsed = time.monotonic() - t0
    finally:
        if a.keep:
            print(f"wasi-testsuite-p2: work folder kept at {work}", file=sys.stderr)
        else:
            W.rmtree_force(work)

    expected = W.Expected.load(a.expected_failures)
    summary = {h: {"tests": 0, "match": 0, "xfail": 0, "fail": 0, "xpass": 0, "json_pass": 0}
               for h in hosts}
    oracle_json_pass, records, failures, mismatches = 0, [], [], {}
    for t, o, shims in results:
        ojson = W.check_json(t, o)
        oracle_json_pass += not ojson
        rec = {"suite": t.suite, "test": t.name, "oracle": asdict(o), "oracle_vs_json": ojson,
               "shim": {}}
        if a.verbose and ojson:
            print(f"ORACLE {t.id}: native wasmtime fails the json: {'; '.join(ojson)}")
        for h, s in shims.items():
            key, row = f"{h}/{t.id}", summary[h]
            row["tests"] += 1
            sjson = W.check_json(t, s)
            row["json_pass"] += not sjson
            if o.error and "cannot start" in o.error:
                diffs = [f"oracle: {o.error}"]
            else:
                diffs = W.compare(t.id, o, s, a.stderr)
            entry, exact = expected.lookup(key)
            if not diffs:
                row["match"] += 1
                verdict = "match"
                if entry and exact:
                    row["xpass"] += 1
                    verdict = "xpass"
                    failures.append(f"XPASS {key}: listed ({expected.entries[entry]}) "
                                    f"but now matches native wasmtime: remove it")
            else:
                mismatches[key] = diffs
                if entry:
                    row["xfail"] += 1
                    verdict = "xfail"
                else:
                    row["fail"] += 1
                    verdict = "fail"
                    failures.append(f"FAIL {key}: shim vs native: {'; '.join(diffs)}")
            rec["shim"][h] = {"run": asdict(s), "vs_oracle": diffs, "vs_json": sjson,
                              "verdict": verdict}
        records.append(rec)

    for line in failures:
        print(line)
    print()
    print(f"wasi-testsuite-p2: {len(tests)} components in {elapsed:.1f}s; oracle: native "
          f"wasmtime (p2) passes {oracle_json_pass}/{len(tests)} .json")
    hdr = f"{'host':9} {'tests':>5} {'shim=native':>11} {'xfail':>5} {'FAIL':>5} {'XPASS':>5} " \
          f"{'shim=json':>9}"
    print(hdr)
    print("-" * len(hdr))
    for h in hosts:
        r = summary[h]
        print(f"{h:9} {r['tests']:5} {r['match']:11} {r['xfail']:5} {r['fail']:5} "
              f"{r['xpass']:5} {r['json_pass']:9}")
    report = {"kind": "wasi-testsuite-p2" + ("-lower" if lowered else ""), "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "elapsed_s": round(elapsed, 1), "shim": str(a.shim),
              "oracle": {"host": ORACLE_HOST, "json_pass": oracle_json_pass, "tests": len(tests)},
              "hosts": summary, "stderr_mode": a.stderr, "results": records}
    a.json.write_text(json.dumps(report, indent=1))
    print(f"report: {a.json}")

    if a.update_expected:
        ran = {f"{h}/{t.id}" for t, _, _ in results for h in hosts}
        W.write_expected(a.expected_failures, expected, mismatches, ran)
        print(f"updated {a.expected_failures} ({len(mismatches)} entries from this run)")
        return 0
    n_fail = sum(r["fail"] + r["xpass"] for r in summary.values())
    if n_fail:
        print(f"{n_fail} unexpected shim-vs-native results")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
