#!/usr/bin/env python3
"""Checkpoint on one host, restore on another (`make checkpoint-check`).

For each program and each checkpoint point, for every ordered pair (A, B) of the
hosts: run the program through p2shim on A with `--checkpoint-to snap
--checkpoint-when fuel=N` (it must stop with exit 0 after writing the snapshot),
then `--restore snap` on B in the same working folder, and compare the
concatenated stdout, the final exit code and the files left behind with one
uninterrupted native run of the same program (wasmtime running the module
directly). The snapshot file itself is not counted among the files left behind.

Programs: the p2 bench suite's programs (conformance/bench) built as WASIp1 core
modules, at their check sizes: sha256, json-roundtrip, sort, print-heavy and
file-heavy, which keeps its log file open (append mode) across any checkpoint.
Checkpoint points: fractions of the program's instruction count through the shim
(taken from a `--profile` run: samples x interval).

Not covered yet: components (the p2 programs of conformance/programs and the
bench programs built as components), whose checkpoints p2shim does not take yet.

Usage: checkpoint.py --shim target/p2shim.wasm [--hosts wasmtime,wasmi,node]
       [--filter NAME] [--points 0.1,0.5,0.9] [-v]
Exit status 1 if any pair differs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE / "hosts"))
import hosts as H  # noqa: E402

# (program, size argument): the check sizes of bench_p2.py.
PROGRAMS = [
    ("sha256", "2"),
    ("json-roundtrip", "1000"),
    ("sort", "20000"),
    ("print-heavy", "2000"),
    ("file-heavy", "20"),
]


def build() -> Path:
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    subprocess.run(["cargo", "build", "--release", "--manifest-path",
                    str(HERE / "bench" / "Cargo.toml"), "--target-dir", str(target_dir),
                    "--target", "wasm32-wasip1", "-p", "p2shim-bench"], check=True)
    return target_dir / "wasm32-wasip1" / "release"


def tree(d: Path, skip: set[str]) -> dict[str, bytes]:
    out = {}
    for p in sorted(d.rglob("*")):
        rel = str(p.relative_to(d))
        if rel in skip:
            continue
        out[rel] = p.read_bytes() if p.is_file() and not p.is_symlink() else b"<dir>"
    return out


def run(host: str, inv: H.Invocation, timeout: float) -> tuple[int, bytes, bytes]:
    rc, out, err, _, timed_out = H.run_cmd(H.command(host, inv), timeout)
    if timed_out:
        return 124, out, err + b"\n(timed out)"
    return rc, out, err


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shim", required=True)
    ap.add_argument("--hosts", default="wasmtime,wasmi,node")
    ap.add_argument("--filter", default="")
    ap.add_argument("--points", default="0.1,0.5,0.9")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--programs", help="a folder holding the built NAME.wasm (implies --no-build)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    hosts = H.parse_hosts(ap, a.hosts)
    shim = str(Path(a.shim).resolve())
    if a.programs:
        bindir = Path(a.programs)
    elif a.no_build:
        bindir = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / "wasm32-wasip1" / "release"
    else:
        bindir = build()
    points = [float(x) for x in a.points.split(",")]
    passed = failed = 0
    for name, size in PROGRAMS:
        if a.filter and a.filter not in name:
            continue
        wasm = bindir / f"{name}.wasm"
        with tempfile.TemporaryDirectory(prefix=f"ckpt-{name}-") as tmp:
            tmp = Path(tmp)
            # The oracle: wasmtime running the module directly.
            ref = tmp / "ref"
            ref.mkdir()
            shutil.copy(wasm, ref / "prog.wasm")
            inv = H.Invocation(prog="prog.wasm", args=[size], dirs=[(".", ".")], cwd=str(ref))
            ref_rc, ref_out, ref_err = run("wasmtime", inv, a.timeout)
            ref_tree = tree(ref, {"prog.wasm"})
            # The instruction count, from a profile through the shim.
            prof = tmp / "prof"
            prof.mkdir()
            shutil.copy(wasm, prof / "prog.wasm")
            interval = 1000
            pinv = H.through_shim(inv, shim, ["--profile", "p.json", "--profile-interval",
                                              str(interval)])
            pinv.cwd = str(prof)
            rc, _, err = run("wasmtime", pinv, a.timeout)
            folded = (prof / "p.json.folded").read_text() if rc == 0 else ""
            total = interval * sum(int(line.rsplit(" ", 1)[1]) for line in folded.splitlines())
            if not total:
                print(f"FAIL {name}: no profile through the shim (exit {rc}): {err[-300:]!r}")
                failed += 1
                continue
            for frac in points:
                fuel = max(1, int(total * frac))
                for src in hosts:
                    for dst in hosts:
                        case = f"{name} fuel={fuel} {src}->{dst}"
                        work = tmp / f"w-{fuel}-{src}-{dst}"
                        work.mkdir()
                        shutil.copy(wasm, work / "prog.wasm")
                        base = H.Invocation(prog="prog.wasm", args=[size], dirs=[(".", ".")],
                                            cwd=str(work))
                        first = H.through_shim(base, shim, ["--checkpoint-to", "snap.ckpt",
                                                            "--checkpoint-when", f"fuel={fuel}"])
                        rc1, out1, err1 = run(src, first, a.timeout)
                        problem = ""
                        if rc1 != 0 or not (work / "snap.ckpt").exists():
                            problem = f"checkpoint run exited {rc1}: {err1[-400:]!r}"
                        else:
                            second = H.through_shim(
                                H.Invocation(prog="prog.wasm", dirs=[(".", ".")], cwd=str(work)),
                                shim, ["--restore", "snap.ckpt"])
                            rc2, out2, err2 = run(dst, second, a.timeout)
                            if out1 + out2 != ref_out:
                                problem = (f"stdout differs ({len(out1)}+{len(out2)} vs "
                                           f"{len(ref_out)} bytes); stderr {err2[-300:]!r}")
                            elif rc2 != ref_rc:
                                problem = f"exit {rc2}, native {ref_rc}: {err2[-300:]!r}"
                            elif tree(work, {"prog.wasm", "snap.ckpt"}) != ref_tree:
                                problem = "files left behind differ"
                        if problem:
                            failed += 1
                            print(f"FAIL {case}: {problem}")
                        else:
                            passed += 1
                            if a.verbose:
                                size_ck = (work / "snap.ckpt").stat().st_size
                                print(f"ok   {case} (snapshot {size_ck} bytes)")
    print(f"checkpoint: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
