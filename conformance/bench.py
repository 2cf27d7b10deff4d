#!/usr/bin/env python3
"""p2shim benchmarks: direct runs vs runs through the shim, per host (Python 3.11, stdlib only).

    python3 conformance/bench.py [--suite all|core|p2|lowered] [--hosts wasmtime,node]
        [--p2-hosts wasmtime,node,node-current,iwasm,wasmi] [--p2-small-hosts wasmi,iwasm]
        [--lower-hosts wasmtime,node,wasmi] [--node-reps N] [--shim target/p2shim.wasm]
        [--filter REGEX] [--reps N] [--timeout S] [--direct-only | --shim-only]
        [--check-only] [--list] [--json PATH] [--work-dir DIR] [-v]

Three suites (--suite, default all):
  core  WASIp1 core modules, direct vs through the shim on each of --hosts (below);
  p2    WASIp2 components (conformance/bench/, built here) natively on wasmtime vs
        through the shim on each of --p2-hosts, beside the wasmi peer (wasmi 2.0
        compiled to wasm32-wasip1 running the p1 build of the same programs); with
        peak RSS, spidermonkey's start-up through the shim and the shim's size.
        See conformance/bench_p2.py.
  lowered  the same components lowered to one p1 core module (`p2shim lower`) and run
        by each of --lower-hosts' own engine, against the same programs built for
        wasm32-wasip1 and run directly on that host (the limit), with native wasmtime
        and jco's transpiled output on Node and the interpreter (p2shim.wasm, at the
        check size) beside them. See conformance/bench_lowered.py.

Benchmarks of the core suite (all WASIp1 core modules):
  * every core module of ../shared/bench/sightglass/*/ (components are listed and
    skipped). Each runs in a fresh folder holding its `*.input*` files and the module,
    preopened as ".", like sightglass does; stdout/stderr are compared with the
    `NAME.stdout.expected` / `NAME.stderr.expected` files when present, and the exit
    code must be 0. They import bench.start/bench.end: direct runs get them from
    `--preload bench=<a module exporting no-op start and end>`; the shim provides them.
  * CoreMark (../shared/bench/wasmi-benchmarks/coremark.wasm, `run() -> f32`, imports
    env.clock_ms): direct `--preload env=<clock_ms on wasi clock_time_get> --invoke run`,
    shim `p2shim.wasm --invoke run coremark.wasm`. The score (higher is better) is
    reported; its ratio is direct score / shim score. Not part of the geometric mean
    (its run time is calibrated, not fixed).
  * spidermonkey startup (../shared/bench/wasmi-benchmarks/spidermonkey.wasm with no
    script): timed, and its first output line printed. Not part of the geometric mean.

Hosts: wasmtime (default), node (default), wasmi (shim only: its CLI has no --preload,
so no direct runs of the modules that import bench.*/env.*). On wasmtime the shim is
precompiled once (`wasmtime compile`, run with --allow-precompiled), and so are the
direct modules, so both columns time execution rather than Cranelift
(--no-precompile-direct to time compile + run).

Times are wall-clock seconds of the whole host process, the minimum over --reps runs
(the lowered suite keeps the median, and gives each lowered / p1 and jco ratio a 95%
paired bootstrap interval over its interleaved reps, in wall and CPU time, see
bench_stats.py; "shown" only when the interval lies above or below 1; --node-reps N
gives the Node columns more reps than the others).
Ratio = shim / direct. Prints one table per host and the geometric mean of the
ratios; writes JSON to target/bench/ (bench-DATE.json and latest.json).
--check-only: one run each, outputs checked, no timing focus (used by `make conformance`).
--work-dir DIR: where the run's scratch folder is made (default target/bench); every
program runs in a folder inside it, so e.g. a tmpfs (/dev/shm) takes the disk out of
file-heavy's file calls, on both sides of each ratio.
Runs known to fail are listed in conformance/bench-known-failures.txt
(`host/benchmark direct|shim  # reason`): they are reported but do not fail the run,
and a listed run that passes does (the list stays honest).
Exit status: 0, or 1 if any unlisted run failed or printed the wrong output, 2 for
setup errors.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "hosts"))
import hosts as H  # noqa: E402
import bench_p2  # noqa: E402
import bench_lowered  # noqa: E402

REPO = H.REPO
SHARED = Path(os.environ.get("P2SHIM_SHARED", REPO.parent / "shared"))
SIGHTGLASS = SHARED / "bench" / "sightglass"
WASMI_BENCH = SHARED / "bench" / "wasmi-benchmarks"
OUT_DIR = REPO / "target" / "bench"
KNOWN_FAILURES = REPO / "conformance" / "bench-known-failures.txt"

BENCH_WAT = """(module
  ;; sightglass's bench.start / bench.end as no-ops (the shim provides the same).
  (func (export "start"))
  (func (export "end")))
"""

CLOCK_WAT = """(module
  ;; env.clock_ms for CoreMark: monotonic clock in milliseconds.
  (import "wasi_snapshot_preview1" "clock_time_get"
    (func $clock_time_get (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "clock_ms") (result i32)
    (drop (call $clock_time_get (i32.const 1) (i64.const 1000) (i32.const 0)))
    (i32.wrap_i64 (i64.div_u (i64.load (i32.const 0)) (i64.const 1000000)))))
"""


@dataclass
class Bench:
    name: str
    kind: str  # sightglass | coremark | startup | skipped
    wasm: Path
    inputs: list[Path] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    stdout: Path | None = None  # expected stdout
    stderr: Path | None = None  # expected stderr
    needs_bench: bool = False  # imports bench.start/end
    invoke: str | None = None
    note: str = ""


def is_component(wasm: Path) -> bool:
    with open(wasm, "rb") as f:
        head = f.read(8)
    return head[:4] == b"\0asm" and head[4:8] != b"\x01\0\0\0"


def discover() -> list[Bench]:
    out = []
    if SIGHTGLASS.is_dir():
        for folder in sorted(p for p in SIGHTGLASS.iterdir() if p.is_dir()):
            inputs = sorted(p for p in folder.iterdir() if ".input" in p.name)
            for wasm in sorted(folder.glob("*.wasm")):
                stem = wasm.stem
                name = folder.name if stem == "benchmark" else stem
                exp_out = folder / f"{stem}.stdout.expected"
                exp_err = folder / f"{stem}.stderr.expected"
                b = Bench(name, "sightglass", wasm, inputs,
                          stdout=exp_out if exp_out.exists() else None,
                          stderr=exp_err if exp_err.exists() else None, needs_bench=True)
                if is_component(wasm):
                    b.kind, b.note = "skipped", "a component, not a core module"
                out.append(b)
    coremark = WASMI_BENCH / "coremark.wasm"
    if coremark.exists():
        out.append(Bench("coremark", "coremark", coremark, invoke="run"))
    sm = WASMI_BENCH / "spidermonkey.wasm"
    if sm.exists():
        out.append(Bench("spidermonkey-startup", "startup", sm, needs_bench=True))
    return out


# --------------------------------------------------------------- running ----

@dataclass
class Run:
    ok: bool
    seconds: float | None
    exit_code: int | None = None
    problem: str = ""
    score: float | None = None  # CoreMark
    first_line: str = ""


run_cmd = H.run_cmd


def check(b: Bench, rc: int, out: bytes, err: bytes) -> tuple[str, float | None]:
    """(problem or "", CoreMark score)"""
    if rc != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-3:]
        return f"exit {rc}: {' | '.join(tail)[:200]}", None
    if b.kind == "coremark":
        lines = [x for x in out.decode(errors="replace").split() if x.strip()]
        try:
            score = float(lines[-1])
        except (IndexError, ValueError):
            return f"no CoreMark score on stdout: {out[:100]!r}", None
        return ("" if score > 0 else f"bad score {score}"), score
    if b.stdout is not None and out != b.stdout.read_bytes():
        return f"stdout differs from {b.stdout.name} ({len(out)} vs {b.stdout.stat().st_size} bytes)", None
    if b.stderr is not None and err != b.stderr.read_bytes():
        return f"stderr differs from {b.stderr.name} ({len(err)} vs {b.stderr.stat().st_size} bytes)", None
    return "", None


@dataclass
class Env:
    work: Path
    shim: Path | None
    shim_cwasm: Path | None
    bench_wasm: Path
    clock_wasm: Path
    precompile_direct: bool
    timeout: float
    reps: int
    verbose: bool


def prepare_dir(env: Env, b: Bench) -> Path:
    d = Path(tempfile.mkdtemp(prefix=f"{b.name}-", dir=env.work))
    for p in b.inputs:
        shutil.copy2(p, d / p.name)
    shutil.copy2(b.wasm, d / b.wasm.name)
    return d


def one(env: Env, host: str, b: Bench, mode: str) -> Run:
    """Run benchmark b on host, 'direct' or 'shim', env.reps times; min time."""
    d = prepare_dir(env, b)
    try:
        inv = H.Invocation(prog=b.wasm.name, args=list(b.args), dirs=[(".", ".")], cwd=str(d),
                           invoke=b.invoke)
        if mode == "direct":
            if b.needs_bench:
                inv.preload.append(("bench", str(env.bench_wasm)))
            if b.kind == "coremark":
                inv.preload.append(("env", str(env.clock_wasm)))
            if host == "wasmtime" and env.precompile_direct:
                pre = d / "precompiled"
                pre.mkdir()
                # same file name, so the guest's argv[0] does not change
                subprocess.run([H.tool("wasmtime"), "compile", b.wasm.name, "-o",
                                str(pre / b.wasm.name)], cwd=d, check=True)
                inv.prog = f"precompiled/{b.wasm.name}"
                inv.host_args.append("--allow-precompiled")
        else:
            assert env.shim is not None
            shim = str(env.shim)
            if host == "wasmtime" and env.shim_cwasm is not None:
                shim = str(env.shim_cwasm)
                inv.host_args.append("--allow-precompiled")
            inv = H.through_shim(inv, shim)
        try:
            cmd = H.command(host, inv)
        except H.HostError as e:
            return Run(False, None, problem=f"n/a: {e}")
        if env.verbose:
            print(f"  [{host} {mode}] (cd {cmd.cwd}) {' '.join(cmd.argv)}", file=sys.stderr)
        best, last, best_score = None, None, None
        for _ in range(env.reps):
            rc, out, err, secs, timed_out = run_cmd(cmd, env.timeout)
            if timed_out:
                return Run(False, None, rc, f"timed out after {env.timeout:.0f}s")
            problem, score = check(b, rc, out, err)
            first = next((x for x in out.decode(errors="replace").splitlines() if x.strip()), "")
            last = Run(not problem, secs, rc, problem, score, first)
            if problem:
                return last
            if score is not None:  # CoreMark: the best score of the reps
                best_score = max(score, best_score or 0.0)
            if best is None or secs < best.seconds:
                best = last
        if best is not None and best_score is not None:
            best.score = best_score
        return best or last
    finally:
        shutil.rmtree(d, ignore_errors=True)


def wat2wasm(wat: str, out: Path) -> Path:
    src = out.with_suffix(".wat")
    src.write_text(wat)
    subprocess.run([H.tool("wasm-tools"), "parse", str(src), "-o", str(out)], check=True)
    return out


def load_known(path: Path) -> dict[str, str]:
    """`host/benchmark mode  # reason` lines -> {key: reason}."""
    known = {}
    if path.exists():
        for lineno, line in enumerate(path.read_text().splitlines(), 1):
            body, _, reason = line.partition("#")
            key = " ".join(body.split())
            if not key:
                continue
            if not re.fullmatch(r"[\w.-]+/[\w.-]+ (direct|shim|peer|p1|lowered|jco)", key):
                raise SystemExit(f"{path}:{lineno}: expected "
                                 "`host/benchmark direct|shim|peer|p1|lowered|jco`")
            known[key] = reason.strip()
    return known


def geomean(xs: list[float]) -> float | None:
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def fmt(x: float | None, spec: str = ".3f") -> str:
    return "-" if x is None else format(x, spec)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", choices=("all", "core", "p2", "lowered"), default="all")
    ap.add_argument("--hosts", default="wasmtime,node", help="hosts of the core suite")
    ap.add_argument("--p2-hosts", default="wasmtime,node,node-current,iwasm,wasmi",
                    help="hosts running the shim in the p2 suite")
    ap.add_argument("--p2-small-hosts", default="wasmi,iwasm",
                    help="p2 hosts run at the check size (too slow for the bench size)")
    ap.add_argument("--lower-hosts", default="wasmtime,node,wasmi",
                    help="hosts running the lowered modules and the p1 limit in the lowered suite")
    ap.add_argument("--shim", type=Path, default=REPO / "target" / "p2shim.wasm")
    ap.add_argument("--filter", default=None, help="regex searched in benchmark names")
    ap.add_argument("--reps", type=int, default=None,
                    help="runs per measurement (the core and p2 suites keep the fastest, the "
                    "lowered suite the median); default 3 direct-only, else 1")
    ap.add_argument("--node-reps", type=int, default=None,
                    help="lowered suite: reps of the Node columns (p1, lowered, jco) when more "
                    "than --reps (their runs spread widely; the jco / lowered interval needs "
                    "the pairs)")
    ap.add_argument("--no-lower-interpreter", action="store_true",
                    help="leave the interpreter's columns out of the lowered suite")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--direct-only", action="store_true")
    g.add_argument("--shim-only", action="store_true")
    ap.add_argument("--check-only", action="store_true",
                    help="one run each, verify outputs (make conformance)")
    ap.add_argument("--no-precompile-direct", action="store_true")
    ap.add_argument("--known-failures", type=Path, default=KNOWN_FAILURES,
                    help="runs known to fail: `host/benchmark mode  # reason` "
                         "(default conformance/bench-known-failures.txt)")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--work-dir", type=Path, default=OUT_DIR,
                    help="where the scratch folder the programs run in is made "
                         "(default target/bench; e.g. /dev/shm for a tmpfs)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    hosts = H.parse_hosts(ap, a.hosts)
    p2_hosts = H.parse_hosts(ap, a.p2_hosts)
    lower_hosts = H.parse_hosts(ap, a.lower_hosts)
    do_core, do_p2 = a.suite in ("all", "core"), a.suite in ("all", "p2")
    do_lowered = a.suite in ("all", "lowered") and not a.direct_only
    if not do_core:
        hosts = []
    do_direct, do_shim = not a.shim_only, not a.direct_only
    reps = 1 if a.check_only else (a.reps or (3 if a.direct_only else 1))

    benches = discover() if do_core else []
    if a.filter:
        benches = [b for b in benches if re.search(a.filter, b.name)]
    p2_selected = [p for p in bench_p2.PROGRAMS if do_p2 and (not a.filter or re.search(a.filter, p.name))]
    lowered_selected = [p for p in bench_p2.PROGRAMS
                        if do_lowered and (not a.filter or re.search(a.filter, p.name))]
    if a.list:
        for b in benches:
            print(f"{b.name:28} {b.kind:10} {b.wasm} {b.note}")
        for p in p2_selected:
            print(f"{p.name:28} {'p2':10} conformance/bench/src/bin/{p.name}.rs "
                  f"size {p.bench_size} (check {p.check_size})")
        return 0
    if not benches and not p2_selected and not lowered_selected:
        print("bench: no benchmark selected", file=sys.stderr)
        return 2
    if do_shim and not a.shim.exists():
        print(f"bench: shim {a.shim} not found (make shim, or --direct-only)", file=sys.stderr)
        return 2

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    if not a.work_dir.is_dir():
        print(f"bench: --work-dir {a.work_dir} is not a folder", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-", dir=a.work_dir)).resolve()
    results: dict[str, list[dict]] = {h: [] for h in hosts}
    failures: list[str] = []
    notes: list[str] = []
    known = load_known(a.known_failures)
    t_start = time.monotonic()
    p2_report = lowered_report = None
    try:
        shim_cwasm = None
        if do_shim and "wasmtime" in hosts + (p2_hosts if do_p2 else []):
            shim_cwasm = work / "p2shim.cwasm"
            subprocess.run([H.tool("wasmtime"), "compile", str(a.shim), "-o", str(shim_cwasm)],
                           check=True)
        env = Env(work, a.shim.resolve() if do_shim else None, shim_cwasm,
                  wat2wasm(BENCH_WAT, work / "bench.wasm"), wat2wasm(CLOCK_WAT, work / "clock.wasm"),
                  not a.no_precompile_direct, a.timeout, reps, a.verbose)
        for h in hosts:
            print(f"== {h} ({H_version(h)}): {len(benches)} benchmarks, reps {reps}"
                  f"{', direct precompiled' if h == 'wasmtime' and env.precompile_direct else ''}",
                  flush=True)
            for b in benches:
                row = {"name": b.name, "kind": b.kind}
                if b.kind == "skipped":
                    row["note"] = b.note
                    results[h].append(row)
                    print(f"  {b.name:28} skipped: {b.note}", flush=True)
                    continue
                d = one(env, h, b, "direct") if do_direct else None
                s = one(env, h, b, "shim") if do_shim else None
                for mode, r in (("direct", d), ("shim", s)):
                    if r is None:
                        continue
                    row[mode] = r.__dict__
                    key = f"{h}/{b.name} {mode}"
                    failed = not r.ok and not (mode == "direct" and r.problem.startswith("n/a"))
                    if failed and key in known:
                        notes.append(f"known {key}: {r.problem} ({known[key]})")
                        r.problem = "known failure: " + r.problem
                    elif failed:
                        failures.append(f"FAIL {key}: {r.problem}")
                    elif key in known:
                        failures.append(f"XPASS {key}: listed in {a.known_failures.name} "
                                        f"({known[key]}) but passes now: remove it")
                if b.kind == "coremark":
                    ratio = (d.score / s.score) if d and s and d.score and s.score else None
                elif d and s and d.ok and s.ok:
                    ratio = s.seconds / d.seconds
                else:
                    ratio = None
                row["ratio"] = ratio
                results[h].append(row)
                status = "ok" if all(r is None or r.ok or r.problem.startswith("n/a")
                                     for r in (d, s)) else "FAIL"
                if status == "FAIL" and all(r is None or r.ok or r.problem.startswith(("n/a", "known"))
                                            for r in (d, s)):
                    status = "known failure"
                extra = ""
                if b.kind == "coremark":
                    extra = f" score direct {fmt(d.score if d else None, '.1f')} " \
                            f"shim {fmt(s.score if s else None, '.1f')}"
                if b.kind == "startup" and s is not None:
                    extra = f" first line: {s.first_line[:60]!r}" if s.first_line else " (no output)"
                print(f"  {b.name:28} direct {fmt(d.seconds if d else None):>9}  "
                      f"shim {fmt(s.seconds if s else None):>9}  ratio {fmt(ratio, '.2f'):>7}  "
                      f"{status}{extra}", flush=True)
        if p2_selected:
            p2_report, p2_failures, p2_notes = bench_p2.run_suite(
                shim=env.shim, hosts=p2_hosts, small_hosts=set(a.p2_small_hosts.split(",")),
                check_only=a.check_only, reps=reps, timeout=a.timeout, work=work,
                shim_cwasm=shim_cwasm, known=known,
                name_filter=lambda n: not a.filter or re.search(a.filter, n), verbose=a.verbose)
            failures += p2_failures
            notes += p2_notes
        if lowered_selected:
            lowered_report, l_failures, l_notes = bench_lowered.run_suite(
                shim=a.shim.resolve(), hosts=lower_hosts, check_only=a.check_only, reps=reps,
                timeout=a.timeout, work=work, known=known,
                name_filter=lambda n: not a.filter or re.search(a.filter, n), verbose=a.verbose,
                interpreter=not a.no_lower_interpreter, node_reps=a.node_reps)
            failures += l_failures
            notes += l_notes
    finally:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - t_start

    # ---- tables
    print()
    summary = {}
    for h in hosts:
        print(f"{h}: {'benchmark':28} {'direct s':>9} {'shim s':>9} {'ratio':>8}")
        timed = []
        for row in results[h]:
            if row["kind"] == "skipped":
                continue
            d, s = row.get("direct"), row.get("shim")
            if row["kind"] == "coremark":
                ds, ss = (d or {}).get("score"), (s or {}).get("score")
                print(f"{'':{len(h) + 2}}{'coremark (score)':28} {fmt(ds, '.1f'):>9} "
                      f"{fmt(ss, '.1f'):>9} {fmt(row['ratio'], '.2f'):>8}x")
                continue
            print(f"{'':{len(h) + 2}}{row['name']:28} {fmt((d or {}).get('seconds')):>9} "
                  f"{fmt((s or {}).get('seconds')):>9} {fmt(row['ratio'], '.2f'):>8}")
            if row["ratio"] and row["kind"] != "startup":
                timed.append(row["ratio"])
        gm = geomean(timed)
        startup = next((r for r in results[h] if r["kind"] == "startup"), None)
        summary[h] = {"geomean_ratio": gm, "n": len(timed),
                      "spidermonkey_startup_shim_s": ((startup or {}).get("shim") or {}).get("seconds")}
        print(f"{'':{len(h) + 2}}{'geometric mean (shim/direct)':28} {'':9} {'':9} "
              f"{fmt(gm, '.2f'):>8}  over {len(timed)} benchmarks")
        print()
    if p2_report is not None:
        bench_p2.print_table(p2_report)
    if lowered_report is not None:
        bench_lowered.print_table(lowered_report)
    for n in notes:
        print(n)
    for f in failures:
        print(f)

    report = {"kind": "bench", "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "elapsed_s": round(elapsed, 1), "reps": reps,
              "mode": "check" if a.check_only else "bench",
              "hosts": {h: {"version": H_version(h), **summary[h], "results": results[h]}
                        for h in hosts},
              "p2": p2_report, "lowered": lowered_report,
              "shim": str(a.shim) if do_shim else None, "work_dir": str(a.work_dir.resolve()),
              "failures": failures}
    paths = [a.json] if a.json else [OUT_DIR / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json",
                                     OUT_DIR / "latest.json"]
    for p in paths:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(report, indent=1))
    print(f"report: {paths[0]}  ({elapsed:.0f}s)")
    return 1 if failures else 0


_versions: dict[str, str] = {}


def H_version(host: str) -> str:  # noqa: N802
    if host not in _versions:
        exe = {"wasmtime": "wasmtime", "wasmi": "wasmi", "node": "node", "iwasm": "iwasm"}[host]
        try:
            _versions[host] = subprocess.run([H.tool(exe), "--version"], capture_output=True,
                                             text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            _versions[host] = "unavailable"
    return _versions[host]


if __name__ == "__main__":
    sys.exit(main())
