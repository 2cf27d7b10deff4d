#!/usr/bin/env python3
"""`--trace` and `--profile` through the shim on each host (`make trace-check`).

For a p1 module (the bench suite's print-heavy and file-heavy, built for
wasm32-wasip1) and a component (print-heavy built for wasm32-wasip2):
* `--trace=wasi,calls --trace-format json --trace-file t.jsonl`: every line parses
  back as a JSON object with an `event`; calls and returns pair up (same count, depth
  never below zero, every return names the function of the matching call); for the
  module, the `wasi` events include the `fd_write` calls that printed the output,
  and the guest's stdout is the same as without tracing;
* `--trace=calls --trace-format text` to stderr: one `call` line per event, as many
  as JSON events above;
* `--profile p.json --profile-interval N`: p.json is a Firefox Profiler processed
  profile (`meta`, `threads[0].samples`) with as many samples as p.json.folded
  counts, and that count is the instruction count of the run divided by N (the
  count comes from a `--checkpoint-when fuel=` run that never fires: the same
  number of instructions run).

Golden files of the `wasi` trace of components (conformance/trace-golden/NAME.txt):
`--trace=wasi` as text, every p2 call with its arguments and results in WAVE and
under it the p1 calls the shim made for it, of the bench suite's print-heavy and
file-heavy built as components. (Not yet: conformance/programs/p2-raw, whose two
traces still differ after masking; not looked into.) Each is traced twice on each host: the two traces must be
byte-identical once what legitimately varies is masked (times, timestamps, random
values, inode numbers: `mask`); on wasmtime the masked trace must equal the golden
file (`--update-golden` rewrites them). Other hosts answer some p1 calls differently
(rights, errnos), so there only stability is checked.

Usage: trace_check.py --shim target/p2shim.wasm [--hosts wasmtime,wasmi,node]
       [--programs DIR]   (DIR holds the p1 and the p2 builds as NAME.wasm and NAME.p2.wasm,
)
       [--update-golden]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE / "hosts"))
import hosts as H  # noqa: E402

CASES = [("print-heavy", "200", "p1"), ("file-heavy", "5", "p1"), ("print-heavy", "50", "p2")]
# Golden `wasi` traces: (golden name, program, arguments), the bench suite's
# wasm32-wasip2 builds.
GOLDEN = [("print-heavy", "print-heavy", ["3"]), ("file-heavy", "file-heavy", ["2"])]
GOLDEN_DIR = HERE / "trace-golden"

# What legitimately varies between two runs of the same program.
MASKS = [
    (re.compile(r"(clock_time_get\([^)]*\) -> )\d+"), r"\1<time>"),
    (re.compile(r"(clocks/monotonic-clock#now\(\) -> )\d+"), r"\1<time>"),
    (re.compile(r"\{seconds: \d+, nanoseconds: \d+\}"), "<datetime>"),
    (re.compile(r"\b(atim|mtim|ctim|ino|dev): \d+"), r"\1: <n>"),
    (re.compile(r"\{lower: \d+, upper: \d+\}"), "<metadata-hash>"),
    (re.compile(r"(random#get-random-u64\(\) -> )\d+"), r"\1<random>"),
    (re.compile(r"(random#get-random-bytes\(\d+\) -> )\[[^\]]*\]"), r"\1<random>"),
    (re.compile(r"(insecure-seed#insecure-seed\(\) -> )\([^)]*\)"), r"\1<random>"),
    (re.compile(r"(get-insecure-random-u64\(\) -> )\d+"), r"\1<random>"),
    (re.compile(r"(get-insecure-random-bytes\(\d+\) -> )\[[^\]]*\]"), r"\1<random>"),
]


def mask(text: str) -> str:
    for rx, rep in MASKS:
        text = rx.sub(rep, text)
    return text


def golden_checks(hosts: list[str], shim: str, p2dir: Path, p2name: str,
                  update: bool, timeout: float) -> tuple[int, int]:
    """The golden `wasi` traces: (passed, failed)."""
    passed = failed = 0
    for host in hosts:
        for gname, prog, args in GOLDEN:
            src = p2dir / p2name.format(prog)
            traces = []
            problem = ""
            for _ in range(2):
                with tempfile.TemporaryDirectory(prefix="golden-") as tmp:
                    shutil.copy(src, Path(tmp) / "prog.wasm")
                    base = H.Invocation(prog="prog.wasm", args=args, dirs=[(".", ".")], cwd=tmp)
                    inv = H.through_shim(base, shim, ["--trace=wasi", "--trace-file", "trace.out"])
                    rc, _, err, _, _ = H.run_cmd(H.command(host, inv), timeout)
                    t = Path(tmp) / "trace.out"
                    traces.append(mask(t.read_text()) if t.exists() else "")
                    if not traces[-1]:
                        problem = f"no trace (exit {rc}): {err[-200:]!r}"
            if not problem and traces[0] != traces[1]:
                problem = "two runs differ after masking"
            if not problem and " p2 " not in traces[0]:
                problem = "no p2 call in the trace"
            golden = GOLDEN_DIR / f"{gname}.txt"
            if not problem and host == "wasmtime":
                if update:
                    GOLDEN_DIR.mkdir(exist_ok=True)
                    golden.write_text(traces[0])
                elif not golden.exists():
                    problem = f"{golden} is missing (--update-golden)"
                elif golden.read_text() != traces[0]:
                    problem = f"differs from {golden.relative_to(REPO)}"
            if problem:
                failed += 1
                print(f"FAIL {host} golden {gname}: {problem}")
            else:
                passed += 1
                print(f"ok   {host} golden {gname} ({len(traces[0].splitlines())} lines)")
    return passed, failed


def build(target: str) -> Path:
    target_dir = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    subprocess.run(["cargo", "build", "--release", "--manifest-path",
                    str(HERE / "bench" / "Cargo.toml"), "--target-dir", str(target_dir),
                    "--target", target, "-p", "p2shim-bench"], check=True)
    return target_dir / target / "release"


def check_jsonl(path: Path, p1: bool) -> tuple[str, int]:
    stack: list[str] = []
    calls = 0
    writes = 0
    for n, line in enumerate(path.read_text().splitlines(), 1):
        try:
            ev = json.loads(line)
        except json.JSONDecodeError as e:
            return f"line {n} is not JSON: {e}", 0
        if not isinstance(ev, dict) or "event" not in ev:
            return f"line {n} has no event: {line[:200]}", 0
        if ev["event"] == "call":
            calls += 1
            if ev["depth"] != len(stack):
                return f"line {n}: call at depth {ev['depth']}, expected {len(stack)}", 0
            stack.append(ev["func"])
        elif ev["event"] == "return":
            if not stack or stack.pop() != ev["func"] or ev["depth"] != len(stack):
                return f"line {n}: return of {ev['func']} does not match its call", 0
        elif ev["event"] == "wasi":
            if ev["func"] == "fd_write" and ev["result"].startswith("ok"):
                writes += 1
    if stack:
        return f"{len(stack)} calls never returned ({stack[-1]})", 0
    if p1 and writes == 0:
        return "no fd_write in the wasi trace", 0
    if calls == 0:
        return "no calls traced", 0
    return "", calls


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shim", required=True)
    ap.add_argument("--hosts", default="wasmtime,wasmi,node")
    ap.add_argument("--programs")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--update-golden", action="store_true")
    a = ap.parse_args()
    hosts = H.parse_hosts(ap, a.hosts)
    shim = str(Path(a.shim).resolve())
    if a.programs:
        p1dir = p2dir = Path(a.programs)
        p2name = "{}.p2.wasm"
    else:
        p1dir, p2dir = build("wasm32-wasip1"), build("wasm32-wasip2")
        p2name = "{}.wasm"
    passed, failed = golden_checks(hosts, shim, p2dir, p2name, a.update_golden, a.timeout)
    for host in hosts:
        for name, size, kind in CASES:
            src = (p1dir / f"{name}.wasm") if kind == "p1" else (p2dir / p2name.format(name))
            case = f"{host} {name} ({kind})"
            with tempfile.TemporaryDirectory(prefix="trace-") as tmp:
                work = Path(tmp)
                shutil.copy(src, work / "prog.wasm")
                base = H.Invocation(prog="prog.wasm", args=[size], dirs=[(".", ".")], cwd=str(work))

                def shim_run(args: list[str]) -> tuple[int, bytes, bytes]:
                    for leftover in ["file-heavy.tmp"]:
                        shutil.rmtree(work / leftover, ignore_errors=True)
                    inv = H.through_shim(base, shim, args)
                    rc, out, err, _, _ = H.run_cmd(H.command(host, inv), a.timeout)
                    return rc, out, err

                problems = []
                rc0, out0, _ = shim_run([])
                rc, out, err = shim_run(["--trace=wasi,calls", "--trace-format", "json",
                                         "--trace-file", "t.jsonl"])
                if (rc, out) != (rc0, out0):
                    problems.append(f"traced run differs (exit {rc} vs {rc0}): {err[-200:]!r}")
                else:
                    why, calls = check_jsonl(work / "t.jsonl", kind == "p1")
                    if why:
                        problems.append(why)
                    rc, out, err = shim_run(["--trace=calls"])
                    text_calls = sum(1 for line in err.decode(errors="replace").splitlines()
                                     if line.startswith("call ") and line[5:].lstrip().startswith("> "))
                    if text_calls != calls:
                        problems.append(f"text trace has {text_calls} calls, JSON {calls}")
                interval = 997
                rc, out, err = shim_run(["--profile", "p.json", "--profile-interval", str(interval)])
                rc2, _, err2 = shim_run(["--checkpoint-to", "never.ckpt", "--checkpoint-when",
                                         "fuel=1000000000000000"])
                try:
                    prof = json.loads((work / "p.json").read_text())
                    samples = prof["threads"][0]["samples"]
                    n = samples.get("length", len(samples.get("stack", [])))
                    folded = sum(int(line.rsplit(" ", 1)[1]) for line in
                                 (work / "p.json.folded").read_text().splitlines())
                    if n != folded:
                        problems.append(f"{n} samples in p.json, {folded} in p.json.folded")
                    if "meta" not in prof:
                        problems.append("p.json has no meta")
                except (OSError, ValueError, KeyError, IndexError) as e:
                    problems.append(f"bad profile: {e}; stderr {err[-200:]!r}")
                    folded = -1
                count = instr_count(err2)
                if count is None:
                    problems.append(f"no instruction count (exit {rc2}): {err2[-200:]!r}")
                elif folded >= 0 and folded != count // interval:
                    problems.append(f"{folded} samples, expected {count} // {interval}")
                if problems:
                    failed += 1
                    print(f"FAIL {case}: " + "; ".join(problems))
                else:
                    passed += 1
                    print(f"ok   {case}")
    print(f"trace: {passed} passed, {failed} failed")
    return 1 if failed else 0


def instr_count(stderr: bytes) -> int | None:
    """The count the shim reports when a checkpoint trigger never fired."""
    for line in stderr.decode(errors="replace").splitlines():
        if line.startswith("p2shim: no checkpoint taken") and "ended after " in line:
            return int(line.split("ended after ")[1].split()[0])
    return None


if __name__ == "__main__":
    sys.exit(main())
