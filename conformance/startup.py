#!/usr/bin/env python3
"""Start-up cost of the shim: cold and warm start of a hello-world component per host.

    python3 conformance/startup.py [--shim target/p2shim.wasm] [--hosts wasmtime,wasmi,node,node-current,iwasm]
        [--reps N] [--json PATH]

The component is examples/hello-p1 built for wasm32-wasip2 (built here). Every
row runs `HOST ... p2shim.wasm hello.wasm one` (or the bundle, or the native p2
run) in a fresh folder preopened as ".", and checks its output. Times are
wall-clock seconds of the whole host process; "cold" is the first run after the
row's cache was emptied, "warm" the minimum of --reps runs after it.

Rows:
  wasmtime, no cache       -C cache=n: Cranelift compiles the shim on every run
  wasmtime, cache          -C cache-config with a fresh directory: the first run
                           compiles and stores, later runs load the cached code
  wasmtime, precompiled    `wasmtime compile p2shim.wasm -o p2shim.cwasm` once (its
                           time is printed), then `run --allow-precompiled p2shim.cwasm`
  wasmtime, bundle         `p2shim bundle` output, with the same fresh cache
  wasmtime, native p2      `wasmtime run hello.wasm` (no shim: the reference)
  wasmi                    interpreter of the interpreter: no compile step to save
  node                     node:wasi; V8 compiles on every run (no code cache
                           across processes), so cold and warm differ only by the
                           OS file cache
Speed is reported, not asserted: the output is checked, the times are not.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "hosts"))
import hosts as H  # noqa: E402

REPO = H.REPO
EXPECT = "hello from a WASIp2 component"


def build_hello() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    subprocess.run(["cargo", "build", "-q", "--release", "--target", "wasm32-wasip2"],
                   cwd=REPO / "examples" / "hello-p1", check=True,
                   env={**os.environ, "CARGO_TARGET_DIR": str(target)})
    return target / "wasm32-wasip2" / "release" / "hello-p1.wasm"


def timed(argv: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    p = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True)
    dt = time.perf_counter() - t0
    if p.returncode != 0 or EXPECT not in p.stdout.decode(errors="replace"):
        raise SystemExit(f"startup: {' '.join(argv)} failed (exit {p.returncode}):\n"
                         f"{p.stdout.decode(errors='replace')}{p.stderr.decode(errors='replace')}")
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shim", type=Path, default=REPO / "target" / "p2shim.wasm")
    ap.add_argument("--hosts", default=",".join(H.HOSTS))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--json", type=Path, default=REPO / "target" / "bench" / "startup.json")
    a = ap.parse_args()
    hosts = H.parse_hosts(ap, a.hosts)
    shim = a.shim.resolve()
    hello = build_hello()
    wasmtime = H.tool("wasmtime")
    with tempfile.TemporaryDirectory(prefix="p2shim-startup-") as tmp_s:
        tmp = Path(tmp_s)
        work = tmp / "work"
        work.mkdir()
        shutil.copy(hello, work / "hello.wasm")
        shutil.copy(shim, tmp / "p2shim.wasm")
        rows: list[dict] = []

        def row(name: str, argv: list[str], reset=None, note: str = "") -> None:
            if reset:
                reset()
            cold = timed(argv, work)
            warm = min(timed(argv, work) for _ in range(a.reps))
            rows.append({"row": name, "cold_s": cold, "warm_s": warm, "note": note})
            print(f"  {name:<28} cold {cold:7.3f} s   warm {warm:7.3f} s   {note}", flush=True)

        def fresh_cache() -> Path:
            d = tmp / "cache"
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir()
            (tmp / "cache.toml").write_text(f'[cache]\ndirectory = "{d}"\n')
            return tmp / "cache.toml"

        print(f"start-up of examples/hello-p1 (wasm32-wasip2) through {shim.name} "
              f"({shim.stat().st_size} bytes), {a.reps} warm runs")
        args = ["--dir", "."]
        if "wasmtime" in hosts:
            row("wasmtime, no cache", [wasmtime, "run", "-C", "cache=n", *args,
                                       str(tmp / "p2shim.wasm"), "hello.wasm", "one"])
            cfg = fresh_cache()
            row("wasmtime, cache", [wasmtime, "run", "-C", f"cache-config={cfg}", *args,
                                    str(tmp / "p2shim.wasm"), "hello.wasm", "one"], reset=fresh_cache)
            t0 = time.perf_counter()
            subprocess.run([wasmtime, "compile", str(tmp / "p2shim.wasm"), "-o", str(tmp / "p2shim.cwasm")],
                           check=True)
            compile_s = time.perf_counter() - t0
            row("wasmtime, precompiled", [wasmtime, "run", "--allow-precompiled", *args,
                                          str(tmp / "p2shim.cwasm"), "hello.wasm", "one"],
                note=f"(wasmtime compile, once: {compile_s:.3f} s)")
            subprocess.run([wasmtime, "run", "--dir", str(tmp), str(tmp / "p2shim.wasm"), "bundle",
                            "--shim", str(tmp / "p2shim.wasm"), str(work / "hello.wasm"), "-o", str(tmp / "hello.p1.wasm")], check=True)
            row("wasmtime, bundle, cache", [wasmtime, "run", "-C", f"cache-config={cfg}", *args,
                                            str(tmp / "hello.p1.wasm"), "one"], reset=fresh_cache)
            row("wasmtime, native p2", [wasmtime, "run", "-C", "cache=n", *args, "hello.wasm", "one"],
                note="(no shim; reference)")
        for h in hosts:
            if h != "wasmtime":  # the other hosts through hosts.py, as the test runners
                inv = H.Invocation(prog=str(tmp / "p2shim.wasm"), args=["hello.wasm", "one"],
                                   dirs=[(".", ".")])
                row(h, H.command(h, inv).argv)
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps({"shim_bytes": shim.stat().st_size, "reps": a.reps, "rows": rows}, indent=1))
        print(f"startup: wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
