"""The lowered suite of conformance/bench.py: WASIp2 components lowered to one WASIp1
core module (`p2shim lower`) and run by each host's own engine, against the limit on
that host (Python 3.11, stdlib only; imported by bench.py).

The limit on a p1 host is the same program built for wasm32-wasip1 and run directly
there: nothing a p2-on-p1 layer does can beat it. The programs are those of the p2
suite (conformance/bench/, see bench_p2.py), built from the same sources for
wasm32-wasip2 (the component that is lowered) and wasm32-wasip1 (the limit).

Columns, one measurement of each per benchmark and host H of --lower-hosts, all taken in
one run and side by side: rep r of every column of a row runs before rep r + 1 of any
(bench_p2.measure_interleaved), so a drift of the machine during a row falls on every
column alike:
  native        `wasmtime run --dir . prog.wasm N` of the component, precompiled
  p1@H          the wasm32-wasip1 build, run directly on H (the limit)
  lowered@H     `p2shim lower prog.wasm -o prog.p1.wasm` once, then that module on H
  interp@H      the interpreter: `H ... p2shim.wasm prog.wasm N` (as the p2 suite runs it),
                at the program's check size (the interpreter is 10x to 100x slower), with
                p1c@H, the p1 build on H at the same check size, as its limit
  jco@node      `jco transpile` of the component (npm @bytecodealliance/jco, pinned by
                conformance/bench/jco/package-lock.json), run on Node 20 with
                preview2-shim by conformance/bench/jco/run.mjs: the peer on Node
On wasmtime every module is precompiled (`wasmtime compile`), so no column times
Cranelift; Node and the interpreters (wasmi, iwasm) compile or translate on every run,
in every column alike.

Ratios: lowered@H / p1@H (the target: geometric mean at most 1.15x on every host, no
program above 1.5x) beside interp@H / p1c@H (what lowering removes), lowered@wasmtime /
native, and on Node jco / p1 beside lowered / p1. With --reps N each cell is the median
of N runs (--node-reps M: M for the Node columns), and each lowered / p1 and jco ratio
gets a 95% paired bootstrap interval over the interleaved reps (bench_stats), in wall
and in CPU time: the table calls jco / lowered "shown" only when that interval lies
above 1. The lowering itself is timed once per program (the shim on wasmtime,
precompiled) and the output's size is reported against the input's. print_markdown
prints the README's table of the run.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import bench_p2 as B
import bench_stats as S
import hosts as H

REPO = H.REPO
JCO_SRC = REPO / "conformance" / "bench" / "jco"
JCO_DIR = REPO / "target" / "tools" / "jco"  # scripts/install-bench-tools.sh puts jco here
JCO_NODE = "node"  # the Node jco runs on: Debian's Node 20, the same as the node host


def install_jco() -> Path | None:
    """`npm ci` of conformance/bench/jco into target/tools/jco when its lock file changed,
    and the runner (run.mjs) copied there when it changed (it must sit beside the
    node_modules it imports); the path of the jco CLI, or None when npm is missing."""
    cli = JCO_DIR / "node_modules" / ".bin" / "jco"
    lock = JCO_SRC / "package-lock.json"
    installed = JCO_DIR / "package-lock.json"
    if cli.exists() and installed.exists() and installed.read_bytes() == lock.read_bytes():
        runner = JCO_DIR / "run.mjs"
        if not runner.exists() or runner.read_bytes() != (JCO_SRC / "run.mjs").read_bytes():
            shutil.copy2(JCO_SRC / "run.mjs", runner)
        return cli
    if shutil.which("npm") is None:
        return None
    JCO_DIR.mkdir(parents=True, exist_ok=True)
    for f in ("package.json", "package-lock.json", "run.mjs"):
        shutil.copy2(JCO_SRC / f, JCO_DIR / f)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--silent"],
                   cwd=JCO_DIR, check=True)
    return cli


def transpile(jco: Path, component: Path, name: str) -> tuple[Path | None, str]:
    """`jco transpile` of one component, cached by the component's hash under
    target/tools/jco/out/; (NAME.js, problem)."""
    digest = hashlib.sha256(component.read_bytes()).hexdigest()[:16]
    out = JCO_DIR / "out" / f"{name}-{digest}"
    js = out / f"{name}.js"
    if js.exists():
        return js, ""
    shutil.rmtree(out, ignore_errors=True)
    r = subprocess.run([JCO_NODE, str(jco), "transpile", str(component), "-o", str(out),
                        "--name", name, "--quiet", "--no-typescript"],
                       capture_output=True, text=True)
    if r.returncode != 0 or not js.exists():
        return None, f"jco transpile failed: {r.stderr.strip()[-200:]}"
    (out / "package.json").write_text('{"type": "module"}\n')
    return js, ""


def lower(shim: Path, shim_cwasm: Path | None, component: Path, out: Path) -> tuple[float | None, str]:
    """Lowers component to out with the shim on wasmtime; (seconds, problem)."""
    d = Path(tempfile.mkdtemp(prefix="lower-"))
    try:
        shutil.copy2(component, d / "app.wasm")
        inv = H.Invocation(prog="app.wasm", dirs=[(".", ".")], cwd=str(d))
        inv = H.through_shim(inv, str(shim_cwasm or shim), shim_args=["lower"])
        inv.args += ["-o", "app.p1.wasm"]
        if shim_cwasm is not None:
            inv.host_args.append("--allow-precompiled")
        t0 = time.perf_counter()
        rc, _, err, _, timed_out = H.run_cmd(H.command("wasmtime", inv), 600)
        secs = time.perf_counter() - t0
        if timed_out or rc != 0 or not (d / "app.p1.wasm").exists():
            return None, f"lower failed (exit {rc}): {err.decode(errors='replace').strip()[-200:]}"
        shutil.copy2(d / "app.p1.wasm", out)
        return secs, ""
    finally:
        shutil.rmtree(d, ignore_errors=True)


# The interpreter's columns and their limit run at the program's check size.
SMALL_KINDS = ("interp", "p1c")
# The columns that get --node-reps.
NODE_COLUMNS = ("p1@node", "lowered@node", "jco@node")
LEVEL = 0.95  # of the ratios' bootstrap intervals


def intervals(cells: dict[str, dict], ratios: dict[str, float | None]) -> dict[str, dict]:
    """The paired bootstrap interval (bench_stats) of each lowered / p1 and jco ratio of a
    row, in wall time and in CPU time (user + system), with its verdict."""
    out = {}
    for key, value in ratios.items():
        num, _, rest = key.partition("/")
        den, _, host = rest.partition("@")
        if num not in ("lowered", "jco") or not host or value is None:
            continue
        a, b = cells.get(f"{num}@{host}" if num == "lowered" else "jco@node"), \
            cells.get(f"{den}@{host}")
        if not a or not b or not a["ok"] or not b["ok"]:
            continue
        n = min(len(a["runs"]), len(b["runs"]))
        wall = S.ratio_interval(a["runs"], b["runs"], LEVEL)
        cpu_a, cpu_b = a.get("cpu_runs") or [], b.get("cpu_runs") or []
        cpu = S.ratio_interval(cpu_a, cpu_b, LEVEL)
        out[key] = {"pairs": n, "wall": wall, "wall_verdict": S.verdict(wall),
                    "cpu_ratio": (S.median(cpu_a) / S.median(cpu_b)
                                  if cpu_a and cpu_b and S.median(cpu_b) > 0 else None),
                    "cpu": cpu, "cpu_verdict": S.verdict(cpu)}
    return out


def run_suite(*, shim: Path, hosts: list[str], check_only: bool, reps: int, timeout: float,
              work: Path, known: dict[str, str], name_filter, verbose: bool,
              interpreter: bool = True, node_reps: int | None = None
              ) -> tuple[dict, list[str], list[str]]:
    """Runs the lowered suite and prints its table; (report, failures, notes).
    node_reps: reps of the Node columns (p1@node, lowered@node, jco@node), when more than
    reps: their runs spread widely even on an idle machine (a guest that grows its memory
    often sets off V8's major GCs, whose threads race the main thread), so jco / lowered
    needs more pairs than the other columns to be shown."""
    programs = [p for p in B.PROGRAMS if name_filter(p.name)]
    failures: list[str] = []
    notes: list[str] = []
    if not programs:
        return {"rows": []}, failures, notes
    p2_dir, p1_dir, _ = B.build(verbose)
    wasmtime = H.tool("wasmtime")
    shim_cwasm = work / "p2shim.cwasm"
    subprocess.run([wasmtime, "compile", str(shim), "-o", str(shim_cwasm)], check=True)
    jco = install_jco() if "node" in hosts else None

    s = B.Setup(work, shim, shim_cwasm, work / "unused", p2_dir, p1_dir, reps, timeout, verbose,
                stat="median")
    lowered: dict[str, Path] = {}
    lowering: dict[str, dict] = {}
    jco_js: dict[str, Path] = {}
    problems: dict[tuple[str, str], str] = {}
    for p in programs:
        comp = p2_dir / f"{p.name}.wasm"
        out = work / f"{p.name}.p1.wasm"
        secs, problem = lower(shim, shim_cwasm, comp, out)
        lowering[p.name] = {"seconds": secs, "in_bytes": comp.stat().st_size,
                            "out_bytes": out.stat().st_size if secs is not None else None,
                            "problem": problem}
        if problem:
            problems[(p.name, "lowered")] = problem
        else:
            lowered[p.name] = out
        if jco is not None:
            js, problem = transpile(jco, comp, p.name)
            if js is None:
                problems[(p.name, "jco")] = problem
            else:
                jco_js[p.name] = js
    # wasmtime runs precompiled modules in every column (native always runs on it)
    cwasm: dict[tuple[str, str], Path] = {}
    for p in programs:
        sources = {"native": p2_dir / f"{p.name}.wasm"}
        if "wasmtime" in hosts:
            sources.update(p1=p1_dir / f"{p.name}.wasm", lowered=lowered.get(p.name))
        for kind, src in sources.items():
            if src is not None:
                cwasm[(p.name, kind)] = work / f"{p.name}.{kind}.cwasm"
                subprocess.run([wasmtime, "compile", str(src), "-o", str(cwasm[(p.name, kind)])],
                               check=True)

    kinds = ["p1", "lowered"]
    if interpreter:
        # at check sizes p1@H already is the limit at the interpreter's size
        kinds += ["interp"] if check_only else ["interp", "p1c"]
    columns = ["native"] + [f"{k}@{h}" for h in hosts for k in kinds]
    if jco is not None:
        columns.append("jco@node")
    print(f"== lowered suite: {len(programs)} programs; columns {', '.join(columns)}; reps {reps}"
          f"{'; check sizes' if check_only else ''}", flush=True)

    def prepare(column: str, p: B.Program, size: int, d: Path) -> H.Command | B.Cell:
        """The command of one cell, run in d (the program copied in), or the cell's problem."""
        kind, _, host = column.partition("@")
        if (p.name, kind) in problems:
            return B.Cell(False, size=size, problem=problems[(p.name, kind)])
        args = [str(size)]
        if kind == "jco":
            return H.Command([JCO_NODE, str(JCO_DIR / "run.mjs"), str(jco_js[p.name]), *args],
                             str(d))
        host = host or "wasmtime"
        if kind == "interp":
            h, inv = B.invocation(s, f"shim@{host}", p, size, d)
            try:
                return H.command(h, inv)
            except H.HostError as e:
                return B.Cell(False, size=size, problem=f"n/a: {e}")
        kind = "p1" if kind == "p1c" else kind
        inv = H.Invocation(prog=f"{p.name}.wasm", args=args, dirs=[(".", ".")], cwd=str(d))
        if host == "wasmtime":
            src = cwasm[(p.name, kind)]
            inv.host_args.append("--allow-precompiled")
        else:
            src = {"p1": p1_dir / f"{p.name}.wasm", "lowered": lowered.get(p.name)}[kind]
        shutil.copy2(src, d / f"{p.name}.wasm")  # same file name: same argv[0]
        try:
            return H.command(host, inv)
        except H.HostError as e:
            return B.Cell(False, size=size, problem=f"n/a: {e}")

    rows = []
    for p in programs:
        size = p.check_size if check_only else p.bench_size
        row: dict = {"name": p.name, "size": size, "check_size": p.check_size, "cells": {},
                     "lowering": lowering[p.name]}
        # Every column of the row side by side, rep by rep (B.measure_interleaved).
        dirs: list[Path] = []
        cells: dict[str, B.Cell] = {}
        jobs = []
        try:
            for c in columns:
                c_size = p.check_size if c.partition("@")[0] in SMALL_KINDS else size
                d = Path(tempfile.mkdtemp(prefix=f"{p.name}-", dir=work))
                dirs.append(d)
                cmd = prepare(c, p, c_size, d)
                if isinstance(cmd, B.Cell):
                    cells[c] = cmd
                else:
                    jobs.append((c, cmd, p, c_size, d))
            job_reps = [max(reps, node_reps or 0) if job[0] in NODE_COLUMNS else reps
                        for job in jobs]
            for job, x in zip(jobs, B.measure_interleaved(s, jobs, job_reps=job_reps)):
                cells[job[0]] = x
        finally:
            for d in dirs:
                shutil.rmtree(d, ignore_errors=True)
        for c in columns:
            x = cells[c]
            row["cells"][c] = x.__dict__
            # the interpreter's runs are the p2 suite's `shim` runs; p1c are p1 runs
            mode = {"interp": "shim", "p1c": "p1"}.get(c.partition("@")[0], c.partition("@")[0])
            key = f"{c.partition('@')[2] or 'wasmtime'}/{p.name} {mode}"
            failed = not x.ok and not x.problem.startswith("n/a")
            if failed and key in known:
                notes.append(f"known {key}: {x.problem} ({known[key]})")
            elif failed:
                failures.append(f"FAIL {key}: {x.problem}")
            elif key in known:
                failures.append(f"XPASS {key}: listed as known to fail ({known[key]}) but passes now")
        ratios = {}

        def ratio(a: dict | None, b: dict | None) -> float | None:
            return a["seconds"] / b["seconds"] if a and b and a["ok"] and b["ok"] \
                and b["seconds"] else None
        for h in hosts:
            ratios[f"lowered/p1@{h}"] = ratio(row["cells"][f"lowered@{h}"],
                                              row["cells"][f"p1@{h}"])
            if interpreter:
                ratios[f"interp/p1@{h}"] = ratio(row["cells"][f"interp@{h}"],
                                                 row["cells"][f"p1{'' if check_only else 'c'}@{h}"])
        nat = row["cells"]["native"]
        lw = row["cells"].get("lowered@wasmtime")
        if lw is not None:
            ratios["lowered@wasmtime/native"] = lw["seconds"] / nat["seconds"] \
                if lw["ok"] and nat["ok"] and nat["seconds"] else None
        jc, p1n = row["cells"].get("jco@node"), row["cells"].get("p1@node")
        if jc is not None and p1n is not None:
            ratios["jco/p1@node"] = ratio(jc, p1n)
            ratios["jco/lowered@node"] = ratio(jc, row["cells"].get("lowered@node"))
        row["ratios"] = ratios
        row["intervals"] = intervals(row["cells"], ratios)
        rows.append(row)
        print(f"  {p.name:16} " + "  ".join(
            f"{c} {B.fmt(row['cells'][c]['seconds'])}" + ("" if row["cells"][c]["ok"] else " FAIL")
            for c in columns), flush=True)
    return {"columns": columns, "hosts": hosts, "rows": rows, "reps": reps,
            "node_reps": max(reps, node_reps or 0),
            "check_only": check_only, "interpreter": interpreter}, failures, notes


def print_table(report: dict) -> None:
    """Prints the lowered table of run_suite's report and adds its summary to it."""
    rows, hosts = report["rows"], report.get("hosts", [])
    if not rows:
        return
    keys = [f"lowered/p1@{h}" for h in hosts]
    if report.get("interpreter"):
        keys += [f"interp/p1@{h}" for h in hosts]
    if "wasmtime" in hosts:
        keys.append("lowered@wasmtime/native")
    if any("jco/p1@node" in r["ratios"] for r in rows):
        keys.append("jco/p1@node")
    print(f"{'lowered':16} " + " ".join(f"{k:>24}" for k in keys))
    for r in rows:
        print(f"{r['name']:16} " + " ".join(f"{B.fmt(r['ratios'].get(k), '.2f') + 'x':>24}"
                                            for k in keys))
    gms = {k: B.geomean([r["ratios"].get(k) for r in rows]) for k in keys}
    worst = {k: max((r["ratios"].get(k) or 0 for r in rows), default=0) for k in keys}
    print(f"{'geomean':16} " + " ".join(f"{B.fmt(gms[k], '.2f') + 'x':>24}" for k in keys))
    print(f"{'worst':16} " + " ".join(f"{B.fmt(worst[k] or None, '.2f') + 'x':>24}" for k in keys))
    print("\nCPU user / system s of each p1 and lowered cell (the run its seconds are from; "
          "system time is the kernel's, file calls included):")
    for r in rows:
        print(f"{r['name']:16} " + "  ".join(
            f"{c} {B.fmt(x.get('user_seconds'))}/{B.fmt(x.get('sys_seconds'))}"
            for c, x in r["cells"].items() if c.partition("@")[0] in ("p1", "lowered")))
    shown = [(r["name"], k, r["ratios"].get(k), iv) for r in rows
             for k, iv in r.get("intervals", {}).items() if k.startswith("jco/")]
    if shown:
        print(f"\njco on Node, {LEVEL:.0%} paired bootstrap interval of the ratio of medians "
              "(bench_stats; 'above 1': lowered is faster, shown):")
    for name, k, wall, iv in shown:
        print(f"{name:16} {k:18} {iv['pairs']:3} pairs  wall "
              f"{B.fmt(wall, '.2f')}x {fmt_interval(iv['wall'])} "
              f"{iv['wall_verdict']:12} CPU {B.fmt(iv['cpu_ratio'], '.2f')}x "
              f"{fmt_interval(iv['cpu'])} {iv['cpu_verdict']}")
    print("\nlowering (the shim on wasmtime, precompiled): "
          + "; ".join(f"{r['name']} {B.fmt(r['lowering']['seconds'], '.2f')} s, "
                      f"{r['lowering']['in_bytes']} -> {r['lowering']['out_bytes']} bytes"
                      for r in rows))
    print()
    report.update({"geomean_ratio": gms, "worst_ratio": worst})
    print_markdown(report, keys)


def fmt_interval(iv: tuple[float, float] | None) -> str:
    return "[-]" if iv is None else f"[{iv[0]:.2f}, {iv[1]:.2f}]"


def print_markdown(report: dict, keys: list[str]) -> None:
    """The README's table (Performance, "Lowered mode"): the ratios of this one run."""
    rows, hosts = report["rows"], report.get("hosts", [])
    title = {"lowered@wasmtime/native": "lowered@wasmtime / native",
             "jco/p1@node": "jco@node / p1@node", "jco/lowered@node": "jco@node / lowered@node"}
    for h in hosts:
        title[f"lowered/p1@{h}"] = f"lowered / p1 {h}"
        title[f"interp/p1@{h}"] = f"interpreter / p1 {h}*"
    if "jco/p1@node" in keys:
        keys = keys + ["jco/lowered@node"]
    reps = report.get("reps", 1)
    print(f"markdown (README, Performance, \"Lowered mode\"): {time.strftime('%Y-%m-%d')}, "
          f"{reps} rep{'s' if reps != 1 else ''} per cell ({'median' if reps > 1 else 'one run'}"
          + (f"; {report['node_reps']} for the Node columns" if report.get("node_reps", reps) != reps
             else "") + "), "
          f"{'check sizes' if report.get('check_only') else 'bench sizes'}"
          + ("; * the interpreter and its p1 limit at the check size" if report.get("interpreter")
             else ""))
    print()
    print("| bench | native (s) | " + " | ".join(title[k] for k in keys) + " |")
    print("|---|---:|" + "---:|" * len(keys))

    def text(r: dict, k: str) -> str:
        v = r["ratios"].get(k)
        if v is not None and k == "jco/lowered@node":
            iv = r.get("intervals", {}).get(k)
            if iv is None:
                return f"{v:.2f}x"
            said = {"above 1": "shown", "below 1": "**jco ahead**"}.get(iv["wall_verdict"],
                                                                       iv["wall_verdict"])
            return f"{v:.2f}x {fmt_interval(iv['wall'])} {said}"
        if v is not None:
            return f"{v:.2f}x"
        # which of the two runs failed
        num, _, rest = k.partition("/")  # lowered@wasmtime/native: num names its host
        den, _, host = rest.partition("@")
        for col in (f"{num}@{host}" if host else num, f"{den}@{host}" if host else den,
                    f"p1c@{host}"):
            c = r["cells"].get(col)
            if c is not None and not c["ok"]:
                return "n/a" if c["problem"].startswith("n/a") else f"fails ({col})"
        return "-"
    for r in rows:
        nat = r["cells"]["native"]
        print(f"| {r['name']} | {B.fmt(nat['seconds'] if nat['ok'] else None)} | "
              + " | ".join(text(r, k) for k in keys) + " |")
    gms = [B.geomean([r["ratios"].get(k) for r in rows]) for k in keys]
    print("| **geomean** | | " + " | ".join(f"**{g:.2f}x**" if g else "-" for g in gms) + " |")
    print()
    if "jco/lowered@node" in keys:
        print(f"jco@node / lowered@node: the ratio of medians, its {LEVEL:.0%} paired bootstrap "
              "interval over the interleaved reps in brackets; shown: the interval lies above 1.")
        print()
