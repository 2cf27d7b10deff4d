"""The p2 suite of conformance/bench.py: WASIp2 components natively and through the shim,
side by side with the wasmi peer (Python 3.11, stdlib only; imported by bench.py).

Programs: the Rust crate conformance/bench/ (one binary per benchmark), built twice
from the same sources: for wasm32-wasip2 (components, run natively and through the
shim) and for wasm32-wasip1 (core modules, run by the wasmi peer). Each takes one size
argument; at the bench size each runs 0.5 to 2 s natively on an idle machine (the
print-heavy program's size is fixed by what it measures: 100,000 lines). Each prints a
checksum of its work; stdout is compared with conformance/bench/expected/NAME.stdout
(bench size) or NAME.check.stdout (the small check size), or, for outputs too large to
check in, with the `sha256 HEX` line of NAME[.check].stdout.sha256.

Columns, one run of each per benchmark:
  native        `wasmtime run --dir . prog.wasm N` of the component (precompiled with
                `wasmtime compile`, so Cranelift is not timed)
  shim@HOST     `HOST ... p2shim.wasm prog.wasm N` for HOST in --p2-hosts (default
                wasmtime,node,node-current,iwasm,wasmi); on wasmtime the shim is precompiled
  peer          `wasmtime run --dir . wasmi-peer.cwasm prog-p1.wasm N`: wasmi 2.0 compiled
                to wasm32-wasip1 (conformance/bench/wasmi-peer), precompiled, running the
                p1 build of the same program; the reference interpreter in the same place
Ratios: each column / native at the same size, and shim@wasmtime / peer.
Hosts in --p2-small-hosts (default wasmi,iwasm: an interpreter running an interpreter is
about two orders of magnitude slower than wasmtime running the shim) run at the check size,
against a native run at the check size; their cells are marked with `*`.

Also measured: the peak RSS of the native, shim@wasmtime and peer runs (/usr/bin/time
when present) and a baseline of each (`print-heavy 0`: the host and the runtime with a
guest that prints one line); `guest ~` = native RSS - native baseline, an estimate of
the guest's linear memory. And start-up: spidermonkey.wasm (../shared/bench/
wasmi-benchmarks) loaded, validated and instantiated by the precompiled shim, minus the
same for a trivial module: the shim's own start-up time for a 4 MB module, without
wasmtime's compile or process start (see spidermonkey_startup).
"""
from __future__ import annotations

import hashlib
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "hosts"))
import hosts as H  # noqa: E402

REPO = H.REPO
CRATE = REPO / "conformance" / "bench"
EXPECTED = CRATE / "expected"
TIME = Path("/usr/bin/time")


@dataclass(frozen=True)
class Program:
    name: str
    bench_size: int  # 0.5-2 s natively
    check_size: int  # a quick correctness run (make conformance), and the small hosts


PROGRAMS = (
    Program("pi-leibniz", 250_000_000, 2_000_000),
    Program("nbody", 8_000_000, 50_000),
    Program("sha256", 150, 2),
    Program("regex-search", 24576, 64),
    Program("json-roundtrip", 60_000, 1_000),
    Program("deflate", 6144, 96),
    Program("sort", 8_000_000, 20_000),
    Program("print-heavy", 100_000, 2_000),
    Program("file-heavy", 1000, 20),
)

# The trivial guest of the RSS and startup baselines: print-heavy with 0 lines.
BASELINE = ("print-heavy", 0)


@dataclass
class Cell:
    """One run of one benchmark in one column."""
    ok: bool
    seconds: float | None = None  # wall clock: min over reps (Setup.stat "median": the median)
    cpu_seconds: float | None = None  # user + sys of the host process (and its threads)
    user_seconds: float | None = None  # the user part of cpu_seconds
    sys_seconds: float | None = None  # the system (kernel) part of cpu_seconds
    rss_kb: int | None = None  # peak RSS of the host process
    size: int | None = None
    problem: str = ""
    runs: list[float] = field(default_factory=list)  # wall clock of every rep, in order
    cpu_runs: list[float] = field(default_factory=list)  # user + sys of every rep, in order


@dataclass
class Setup:
    work: Path
    shim: Path
    shim_cwasm: Path | None  # precompiled shim for wasmtime
    peer_cwasm: Path  # precompiled wasmi peer
    p2_dir: Path  # NAME.wasm components
    p1_dir: Path  # NAME.wasm core modules
    reps: int
    timeout: float
    verbose: bool
    cwasm: dict[str, Path] = field(default_factory=dict)  # precompiled components
    stat: str = "min"  # which rep a cell keeps: "min" (the fastest) or "median"


def build(verbose: bool) -> tuple[Path, Path, Path]:
    """Builds the programs for wasm32-wasip2 and wasm32-wasip1 and the wasmi peer:
    (p2 folder, p1 folder, wasmi-peer.wasm)."""
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    base = ["cargo", "build", "--release", "--manifest-path", str(CRATE / "Cargo.toml"),
            "--target-dir", str(target_dir)]
    if not verbose:
        base.insert(2, "--quiet")
    if os.environ.get("CI") in ("1", "true"):
        base.append("--locked")
    subprocess.run(base + ["--target", "wasm32-wasip2", "-p", "p2shim-bench"], check=True)
    subprocess.run(base + ["--target", "wasm32-wasip1", "-p", "p2shim-bench", "-p", "wasmi-peer"],
                   check=True)
    p1 = target_dir / "wasm32-wasip1" / "release"
    return target_dir / "wasm32-wasip2" / "release", p1, p1 / "wasmi-peer.wasm"


def expected_for(p: Program, size: int) -> Path | None:
    stem = p.name if size == p.bench_size else f"{p.name}.check" if size == p.check_size else None
    if stem is None:
        return None
    for f in (EXPECTED / f"{stem}.stdout", EXPECTED / f"{stem}.stdout.sha256"):
        if f.exists():
            return f
    return None


def check_output(p: Program, size: int, rc: int, out: bytes, err: bytes) -> str:
    """"" if the run is right, else what is wrong."""
    if rc != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-3:]
        return f"exit {rc}: {' | '.join(tail)[:200]}"
    exp = expected_for(p, size)
    if exp is None:
        return "" if (p.name, size) == BASELINE else f"no expected output for size {size}"
    if exp.name.endswith(".sha256"):
        want = exp.read_text().split()[1]
        got = hashlib.sha256(out).hexdigest()
        return "" if got == want else f"stdout sha256 {got[:16]}... differs from {exp.name}"
    if out != exp.read_bytes():
        return f"stdout differs from {exp.name} ({len(out)} vs {exp.stat().st_size} bytes)"
    return ""


def invocation(s: Setup, column: str, p: Program, size: int, d: Path) -> tuple[str, H.Invocation]:
    """(host, invocation) of one column; the program is copied into d (preopened as .)."""
    args = [str(size)]
    if column == "native":
        shutil.copy2(s.cwasm[p.name], d / f"{p.name}.wasm")  # same name: same argv[0]
        return "wasmtime", H.Invocation(prog=f"{p.name}.wasm", args=args, dirs=[(".", ".")],
                                        cwd=str(d), host_args=["--allow-precompiled"])
    if column == "peer":
        shutil.copy2(s.p1_dir / f"{p.name}.wasm", d / f"{p.name}.wasm")
        inv = H.Invocation(prog=f"{p.name}.wasm", args=args, dirs=[(".", ".")], cwd=str(d))
        inv = H.through_shim(inv, str(s.peer_cwasm))
        inv.host_args.append("--allow-precompiled")
        return "wasmtime", inv
    host = column.removeprefix("shim@")
    shutil.copy2(s.p2_dir / f"{p.name}.wasm", d / f"{p.name}.wasm")
    inv = H.Invocation(prog=f"{p.name}.wasm", args=args, dirs=[(".", ".")], cwd=str(d))
    shim = str(s.shim)
    if host == "wasmtime" and s.shim_cwasm is not None:
        shim = str(s.shim_cwasm)
        inv.host_args.append("--allow-precompiled")
    return host, H.through_shim(inv, shim)


def run_cell(s: Setup, column: str, p: Program, size: int, reps: int | None = None) -> Cell:
    d = Path(tempfile.mkdtemp(prefix=f"{p.name}-", dir=s.work))
    try:
        host, inv = invocation(s, column, p, size, d)
        try:
            cmd = H.command(host, inv)
        except H.HostError as e:
            return Cell(False, size=size, problem=f"n/a: {e}")
        return measure(s, column, cmd, p, size, d, reps)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def measure(s: Setup, column: str, cmd: H.Command, p: Program, size: int, d: Path,
            reps: int | None = None) -> Cell:
    """Runs `cmd` (in the prepared folder d) reps times, checks each output, and returns
    the fastest run (s.stat "median": the median run, the upper middle one for an even
    count) with its CPU time and peak RSS, and every rep's time in `runs`."""
    return measure_interleaved(s, [(column, cmd, p, size, d)], reps)[0]


def measure_interleaved(s: Setup, jobs: list[tuple[str, H.Command, Program, int, Path]],
                        reps: int | None = None, job_reps: list[int] | None = None) -> list[Cell]:
    """measure() of several cells side by side: rep r of every job runs before rep r + 1 of
    any, so that a drift of the machine (load, clock, caches) during the reps falls on every
    cell alike instead of on whichever ran last. A job that fails stops its own reps only.
    job_reps gives each job its own number of reps (default: reps or s.reps for all); rep r
    of the jobs that have one still runs before rep r + 1 of any, so the runs of two jobs
    with the same index r are a pair taken side by side."""
    counts = job_reps or [reps or s.reps] * len(jobs)
    runs: list[list[Cell]] = [[] for _ in jobs]
    failed: list[Cell | None] = [None] * len(jobs)
    for r in range(max(counts, default=0)):
        for i, (column, cmd, p, size, d) in enumerate(jobs):
            if failed[i] is None and r < counts[i]:
                c = run_once(s, column, cmd, p, size, d)
                if c.ok:
                    runs[i].append(c)
                else:
                    failed[i] = c
    out = []
    for cells, bad in zip(runs, failed):
        if bad is not None:
            out.append(bad)
            continue
        ordered = sorted(cells, key=lambda c: c.seconds)
        best = ordered[len(ordered) // 2] if s.stat == "median" else ordered[0]
        best.runs = [round(c.seconds, 4) for c in cells]
        best.cpu_runs = [c.cpu_seconds for c in cells]
        out.append(best)
    return out


def run_once(s: Setup, column: str, cmd: H.Command, p: Program, size: int, d: Path) -> Cell:
    """One run of `cmd` in d, its output checked: wall and CPU time, peak RSS."""
    rss_file = d.parent / f"{d.name}.rss"
    try:
        if TIME.exists():
            cmd = H.Command([str(TIME), "-f", "%M", "-o", str(rss_file), *cmd.argv], cmd.cwd)
        if s.verbose:
            print(f"  [{column}] (cd {cmd.cwd}) {' '.join(cmd.argv)}", file=sys.stderr)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        rc, out, err, secs, timed_out = H.run_cmd(cmd, s.timeout)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if timed_out:
            return Cell(False, size=size, problem=f"timed out after {s.timeout:.0f}s")
        problem = check_output(p, size, rc, out, err)
        if problem:
            return Cell(False, secs, size=size, problem=problem)
        user = after.ru_utime - before.ru_utime
        system = after.ru_stime - before.ru_stime
        cpu = user + system
        rss = None
        if rss_file.exists():
            try:
                rss = int(rss_file.read_text().split()[-1])
            except (ValueError, IndexError):
                pass
        return Cell(True, secs, round(cpu, 3), round(user, 3), round(system, 3), rss, size)
    finally:
        rss_file.unlink(missing_ok=True)


def geomean(xs: list[float]) -> float | None:
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def fmt(x: float | None, spec: str = ".3f") -> str:
    return "-" if x is None else format(x, spec)


def run_suite(*, shim: Path | None, hosts: list[str], small_hosts: set[str], check_only: bool,
              reps: int, timeout: float, work: Path, shim_cwasm: Path | None, known: dict[str, str],
              name_filter, verbose: bool) -> tuple[dict, list[str], list[str]]:
    """Runs the p2 suite; prints its table. Returns (report, failures, notes)."""
    programs = [p for p in PROGRAMS if name_filter(p.name)]
    failures: list[str] = []
    notes: list[str] = []
    if not programs:
        return {"rows": []}, failures, notes
    p2_dir, p1_dir, peer = build(verbose)
    wasmtime = H.tool("wasmtime")
    peer_cwasm = work / "wasmi-peer.cwasm"
    subprocess.run([wasmtime, "compile", str(peer), "-o", str(peer_cwasm)], check=True)
    if shim is not None and shim_cwasm is None and "wasmtime" in hosts:
        shim_cwasm = work / "p2shim.cwasm"
        subprocess.run([wasmtime, "compile", str(shim), "-o", str(shim_cwasm)], check=True)
    s = Setup(work, shim, shim_cwasm, peer_cwasm, p2_dir, p1_dir, reps, timeout, verbose)
    for p in {q.name for q in programs} | {BASELINE[0]}:
        s.cwasm[p] = work / f"{p}.cwasm"
        subprocess.run([wasmtime, "compile", str(p2_dir / f"{p}.wasm"), "-o", str(s.cwasm[p])],
                       check=True)

    columns = ["native"] + ([f"shim@{h}" for h in hosts] if shim is not None else []) + ["peer"]
    print(f"== p2 suite: {len(programs)} programs; columns {', '.join(columns)}; reps {reps}"
          f"{'; check sizes' if check_only else ''}", flush=True)
    rows = []
    for p in programs:
        big = p.check_size if check_only else p.bench_size
        row: dict = {"name": p.name, "size": big, "check_size": p.check_size, "cells": {}}
        needs_small = any(c.startswith("shim@") and c.removeprefix("shim@") in small_hosts
                          for c in columns)
        sizes_needed = {big, p.check_size} if needs_small else {big}
        natives = {n: run_cell(s, "native", p, n) for n in sorted(sizes_needed)}
        row["native_small"] = natives[p.check_size].__dict__ if p.check_size != big and \
            p.check_size in natives else None
        for c in columns:
            small = c.startswith("shim@") and c.removeprefix("shim@") in small_hosts
            size = p.check_size if small else big
            cell = natives[size] if c == "native" else run_cell(s, c, p, size)
            nat = natives[size]
            ratio = cell.seconds / nat.seconds if cell.ok and nat.ok and nat.seconds else None
            row["cells"][c] = {**cell.__dict__, "ratio": ratio, "small": small and size != big}
            key = f"{c.removeprefix('shim@') if c.startswith('shim@') else 'wasmtime'}/{p.name} " \
                  f"{'shim' if c.startswith('shim@') else c.replace('native', 'direct')}"
            failed = not cell.ok and not cell.problem.startswith("n/a")
            if failed and key in known:
                notes.append(f"known {key}: {cell.problem} ({known[key]})")
            elif failed:
                failures.append(f"FAIL {key}: {cell.problem}")
            elif key in known:
                failures.append(f"XPASS {key}: listed as known to fail ({known[key]}) but passes now")
        sw, pe = row["cells"].get("shim@wasmtime"), row["cells"]["peer"]
        row["shim_over_peer"] = (sw["seconds"] / pe["seconds"]) if sw and sw["ok"] and pe["ok"] \
            and not sw["small"] else None
        rows.append(row)
        print(f"  {p.name:16} " + "  ".join(
            f"{c} {fmt(row['cells'][c]['seconds'])}{'*' if row['cells'][c]['small'] else ''}"
            + ("" if row["cells"][c]["ok"] else " FAIL") for c in columns), flush=True)

    # baselines: RSS and start-up
    base = next(q for q in PROGRAMS if q.name == BASELINE[0])
    extra: dict = {}
    base_cols = ["native", "peer"] + (["shim@wasmtime"] if shim is not None and "wasmtime" in hosts else [])
    b_reps = 1 if check_only else 5
    for c in base_cols:
        extra[f"baseline {c}"] = run_cell(s, c, base, BASELINE[1], b_reps).__dict__
    sm = Path(os.environ.get("P2SHIM_SHARED", REPO.parent / "shared")) / "bench" / \
        "wasmi-benchmarks" / "spidermonkey.wasm"
    startup = None
    if shim is not None and "wasmtime" in hosts and sm.exists():
        startup = spidermonkey_startup(s, sm, 3 if check_only else 5)
        if startup.get("problem"):
            failures.append(f"FAIL wasmtime/spidermonkey-startup shim: {startup['problem']}")

    return {"columns": columns, "small_hosts": sorted(small_hosts), "rows": rows,
            "baselines": extra, "spidermonkey_startup": startup,
            "shim_bytes": shim.stat().st_size if shim is not None else None}, failures, notes


PROBE = "p2shim-bench-startup-probe"
TRIVIAL_WAT = "(module (memory (export \"memory\") 1) (func (export \"_start\")))"


def spidermonkey_startup(s: Setup, sm: Path, reps: int) -> dict:
    """Start-up of spidermonkey.wasm through the precompiled shim on wasmtime, as
    `p2shim.cwasm --invoke PROBE spidermonkey.wasm`: the shim reads, parses, validates
    (lazily) and instantiates the module, then fails on the export PROBE, which does
    not exist (so nothing of spidermonkey's own workload runs: its `_start` runs a
    whole benchmark). The same with a trivial module gives the baseline (wasmtime's
    process start, loading the precompiled shim, the shim's own start); shim time =
    the difference. Min of reps for each, in wall-clock seconds and in CPU seconds
    (user + system of the wasmtime process, which a busy machine inflates less)."""
    d = Path(tempfile.mkdtemp(prefix="startup-", dir=s.work))
    try:
        shutil.copy2(sm, d / sm.name)
        trivial = d / "trivial.wasm"
        (d / "trivial.wat").write_text(TRIVIAL_WAT)
        subprocess.run([H.tool("wasm-tools"), "parse", str(d / "trivial.wat"), "-o", str(trivial)],
                       check=True)
        out: dict = {"file_bytes": sm.stat().st_size, "method": f"--invoke {PROBE} (absent export)"}
        for key, cpu_key, prog in (("seconds", "cpu_s", sm.name), ("trivial_s", "trivial_cpu_s", trivial.name)):
            inv = H.Invocation(prog=prog, dirs=[(".", ".")], cwd=str(d))
            inv = H.through_shim(inv, str(s.shim_cwasm or s.shim), shim_args=["--invoke", PROBE])
            if s.shim_cwasm is not None:
                inv.host_args.append("--allow-precompiled")
            cmd = H.command("wasmtime", inv)
            best = best_cpu = None
            for _ in range(reps):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                rc, _, err, secs, timed_out = H.run_cmd(cmd, s.timeout)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
                if timed_out or rc == 0 or f"no func export named `{PROBE}`".encode() not in err:
                    out[key] = None
                    out["problem"] = f"{prog}: exit {rc}, expected the missing-export error: {err[-200:]!r}"
                    return out
                best = secs if best is None else min(best, secs)
            out[key], out[cpu_key] = best, best_cpu
        out["shim_time_s"] = out["seconds"] - out["trivial_s"]
        out["shim_cpu_s"] = out["cpu_s"] - out["trivial_cpu_s"]
        return out
    finally:
        shutil.rmtree(d, ignore_errors=True)


def print_table(report: dict) -> None:
    """Prints the p2 table of run_suite's report and adds its summary to it."""
    rows, columns, extra = report["rows"], report["columns"], report["baselines"]
    startup, shim_bytes = report["spidermonkey_startup"], report["shim_bytes"]
    if not rows:
        return
    head = f"{'p2 benchmark':16} " + " ".join(f"{c:>17}" for c in columns) + f" {'shim/peer':>9}"
    print(head)
    print(f"{'':16} " + " ".join(f"{'s (x native)':>17}" for _ in columns))
    for r in rows:
        cells = []
        for c in columns:
            x = r["cells"][c]
            mark = "*" if x["small"] else ""
            if not x["ok"]:
                cells.append(f"{'n/a' if x['problem'].startswith('n/a') else 'FAIL':>17}")
            elif c == "native":
                cells.append(f"{fmt(x['seconds']):>17}")
            else:
                cells.append(f"{fmt(x['seconds']) + mark:>9} ({fmt(x['ratio'], '.1f'):>5}x)")
        print(f"{r['name']:16} " + " ".join(cells) + f" {fmt(r['shim_over_peer'], '.2f'):>9}")
    gms = {c: geomean([r["cells"][c]["ratio"] for r in rows]) for c in columns if c != "native"}
    gm_peer = geomean([r["shim_over_peer"] for r in rows])
    print(f"{'geomean':16} {'':>17} " + " ".join(f"{'':>9} ({fmt(gms[c], '.1f'):>5}x)"
                                                 for c in columns if c != "native")
          + f" {fmt(gm_peer, '.2f'):>9}")
    if any(r["cells"][c]["small"] for r in rows for c in columns):
        print("* run at the check size, ratio against a native run at the check size")
    # RSS
    rss = {}
    if any(r["cells"]["native"].get("rss_kb") for r in rows):
        bn = (extra.get("baseline native") or {}).get("rss_kb")
        bs = (extra.get("baseline shim@wasmtime") or {}).get("rss_kb")
        bp = (extra.get("baseline peer") or {}).get("rss_kb")
        print(f"\npeak RSS, MB     {'native':>8} {'guest ~':>8} {'shim@wt':>8} {'peer':>8} "
              f"{'shim - guest ~':>15}")
        mb = lambda k: None if k is None else k / 1024  # noqa: E731
        print(f"{'baseline':16} {fmt(mb(bn), '.1f'):>8} {'':>8} {fmt(mb(bs), '.1f'):>8} "
              f"{fmt(mb(bp), '.1f'):>8}   (print-heavy 0)")
        for r in rows:
            n = r["cells"]["native"].get("rss_kb")
            sh = (r["cells"].get("shim@wasmtime") or {}).get("rss_kb")
            pe = r["cells"]["peer"].get("rss_kb")
            guest = n - bn if n is not None and bn is not None else None
            over = sh - guest if sh is not None and guest is not None else None
            rss[r["name"]] = {"native_kb": n, "guest_estimate_kb": guest, "shim_kb": sh, "peer_kb": pe,
                              "shim_minus_guest_kb": over}
            print(f"{r['name']:16} {fmt(mb(n), '.1f'):>8} {fmt(mb(guest), '.1f'):>8} "
                  f"{fmt(mb(sh), '.1f'):>8} {fmt(mb(pe), '.1f'):>8} {fmt(mb(over), '.1f'):>15}")
    if startup is not None:
        print(f"\nspidermonkey.wasm ({startup.get('file_bytes', 0) / 1e6:.1f} MB) through the precompiled "
              f"shim on wasmtime, load + validate + instantiate ({startup['method']}): "
              f"{fmt(startup.get('seconds'))} s; the same for a trivial module: "
              f"{fmt(startup.get('trivial_s'))} s; shim time {fmt(startup.get('shim_time_s'))} s "
              f"(CPU: {fmt(startup.get('cpu_s'))} s, {fmt(startup.get('trivial_cpu_s'))} s, "
              f"shim {fmt(startup.get('shim_cpu_s'))} s)")
    if shim_bytes is not None:
        print(f"p2shim.wasm: {shim_bytes} bytes ({shim_bytes / 2**20:.2f} MiB)")
    print()
    report.update({"geomean_ratio": gms, "geomean_shim_over_peer": gm_peer, "rss": rss})
