#!/usr/bin/env python3
"""Checkpoint on one host, restore on another (`make checkpoint-check`).

For each program and each checkpoint point, for every ordered pair (A, B) of the
hosts: run the program through p2shim on A with `--checkpoint-to snap
--checkpoint-when fuel=N` (it must stop with exit 0 after writing the snapshot),
then `--restore snap` on B in the same working folder, and compare the
concatenated stdout, the final exit code and the files left behind with one
uninterrupted native run of the same program (wasmtime running the module or the
component directly). The snapshot file itself is not counted among the files left
behind.

Suites (`--suites`, all by default):
* `p1`: the p2 bench suite's programs (conformance/bench) built as WASIp1 core
  modules, at their check sizes: sha256, json-roundtrip, sort, print-heavy and
  file-heavy, which keeps its log file open (append mode) across any checkpoint;
* `components`: the same five built as WASIp2 components (wasm32-wasip2);
* `programs`: p2 programs of conformance/programs that do I/O (p2-cli: files,
  clocks, random, exit code 3; p2-fs rw; p2-resources: streams that outlive their
  descriptor; p2-args), with one of their argument sets each.
Checkpoint points: fractions of the program's instruction count through the shim
(taken from a `--profile` run: samples x interval).

Usage: checkpoint.py --shim target/p2shim.wasm [--hosts wasmtime,wasmi,node]
       [--suites p1,components,programs] [--filter NAME] [--points 0.1,0.5,0.9]
       [--component-points 0.5] [-v]
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


# conformance/programs (folder, arguments): the p2 programs that do I/O.
P2_PROGRAMS = [
    ("p2-cli", ["3"]),
    ("p2-fs", ["rw"]),
    ("p2-resources", ["stream-outlives-descriptor"]),
    ("p2-args", ["grüße", "a b", "", "x=y"]),
    # Not p2-fs `links` (it renames a file it holds open: the checkpoint is refused)
    # nor p2-raw (wasmi 2.0's poll_oneoff fails on stdin: expected-failures.txt).
]

TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))


def build(target: str) -> Path:
    subprocess.run(["cargo", "build", "--release", "--manifest-path",
                    str(HERE / "bench" / "Cargo.toml"), "--target-dir", str(TARGET_DIR),
                    "--target", target, "-p", "p2shim-bench"], check=True)
    return TARGET_DIR / target / "release"


def build_program(name: str) -> Path:
    subprocess.run(["cargo", "build", "-q", "--release", "--target", "wasm32-wasip2",
                    "--target-dir", str(TARGET_DIR)], cwd=HERE / "programs" / name, check=True)
    return TARGET_DIR / "wasm32-wasip2" / "release" / f"{name}.wasm"


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
    ap.add_argument("--component-points", default="",
                    help="points of the components and p2 programs (default: --points)")
    ap.add_argument("--suites", default="p1,components,programs")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--programs", help="a folder holding the built NAME.wasm (implies --no-build)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    hosts = H.parse_hosts(ap, a.hosts)
    shim = str(Path(a.shim).resolve())
    suites = a.suites.split(",")
    for su in suites:
        if su not in ("p1", "components", "programs"):
            ap.error(f"unknown suite {su!r} (p1, components, programs)")
    # (label, wasm, args, points)
    cases: list[tuple[str, Path, list[str], list[float]]] = []
    points = [float(x) for x in a.points.split(",")]
    cpoints = [float(x) for x in (a.component_points or a.points).split(",")]
    wanted = [(n, size) for n, size in PROGRAMS if not a.filter or a.filter in n]
    if "p1" in suites:
        if a.programs:
            bindir = Path(a.programs)
        elif a.no_build:
            bindir = TARGET_DIR / "wasm32-wasip1" / "release"
        else:
            bindir = build("wasm32-wasip1")
        cases += [(n, bindir / f"{n}.wasm", [size], points) for n, size in wanted]
    if "components" in suites:
        bindir = TARGET_DIR / "wasm32-wasip2" / "release"
        if not (a.no_build or a.programs):
            bindir = build("wasm32-wasip2")
        cases += [(f"{n}.p2", bindir / f"{n}.wasm", [size], cpoints) for n, size in wanted]
    if "programs" in suites:
        for n, args in P2_PROGRAMS:
            label = f"{n}[{' '.join(args)}]" if args else n
            if a.filter and a.filter not in label:
                continue
            wasm = (TARGET_DIR / "wasm32-wasip2" / "release" / f"{n}.wasm"
                    if a.no_build or a.programs else build_program(n))
            cases.append((label, wasm, args, cpoints))
    passed = failed = 0
    sizes: list[int] = []
    for name, wasm, args, case_points in cases:
        with tempfile.TemporaryDirectory(prefix="ckpt-") as tmp:
            tmp = Path(tmp)
            # The oracle: wasmtime running the module or component directly.
            ref = tmp / "ref"
            ref.mkdir()
            shutil.copy(wasm, ref / "prog.wasm")
            inv = H.Invocation(prog="prog.wasm", args=args, dirs=[(".", ".")], cwd=str(ref))
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
            folded = (prof / "p.json.folded").read_text() if rc == ref_rc else ""
            total = interval * sum(int(line.rsplit(" ", 1)[1]) for line in folded.splitlines())
            if not total:
                print(f"FAIL {name}: no profile through the shim (exit {rc}): {err[-300:]!r}")
                failed += 1
                continue
            for frac in case_points:
                fuel = max(1, int(total * frac))
                for src in hosts:
                    for dst in hosts:
                        case = f"{name} fuel={fuel} {src}->{dst}"
                        work = tmp / f"w-{fuel}-{src}-{dst}"
                        work.mkdir()
                        shutil.copy(wasm, work / "prog.wasm")
                        base = H.Invocation(prog="prog.wasm", args=args, dirs=[(".", ".")],
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
                            sizes.append((work / "snap.ckpt").stat().st_size)
                            if a.verbose:
                                print(f"ok   {case} (snapshot {sizes[-1]} bytes)")
    span = f"; snapshots {min(sizes)} to {max(sizes)} bytes" if sizes else ""
    print(f"checkpoint: {passed} passed, {failed} failed{span}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
