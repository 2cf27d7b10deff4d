#!/usr/bin/env python3
"""file-heavy per file, lowered against its p1 build: the README's "This machine, and
why no library can reach 1.5x on it" (Performance, "Lowered mode") and the fh4 note.

Given the bench suite's file-heavy built for wasm32-wasip1 (the limit) and for
wasm32-wasip2 (the component), this lowers the component with the shim (on wasmtime),
then:
* counts Wasm instructions per file: the shim's own interpreter runs each module at
  100 and 200 files with `--profile P --profile-interval 1` (one sample per instruction)
  and the difference of P.folded's self counts is divided by 100. In the lowered module,
  a function with a name is the library's (lower keeps the library's name section) and
  one without (`func[N]`) the component's own code (a Rust release build keeps no names);
* times each module on each host at 0 and at N files (--reps runs in turn, each in a
  fresh folder under --work-dir, medians): per-file time = (t(N) - t(0)) / N;
* fits time per file = a * instructions + c to the two builds, taking the lowered
  program's p1 calls as costing --extra-calls-us more per file (default 0.4: its one
  `fd_filestat_get` per file, 0.37 us on wasmi with conformance/bench/hostcall-cost.wat;
  an upper bound, since the p1 build's two `fd_fdstat_get` are not taken off), and prints what a library that cost nothing
  would leave (the component's own code alone) and how many instructions per file the
  library may cost for file-heavy to stay at 1.5x per file. A model, not a measurement,
  and only as good as the machine is idle: under load the fit comes out meaningless
  (a negative c).

Usage: python3 conformance/file_heavy_model.py --p1 P1.wasm --component P2.wasm
       [--shim target/p2shim.wasm] [--hosts wasmi,iwasm] [--files 1000] [--reps 7]
       [--extra-calls-us 0.4] [--work-dir /dev/shm]
The bench's builds: target/wasm32-wasip1/release/file-heavy.wasm and
target/wasm32-wasip2/release/file-heavy.wasm (`python3 conformance/bench.py` builds
them).
"""
from __future__ import annotations

import argparse
import collections
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "hosts"))
import hosts as H  # noqa: E402

UNNAMED = re.compile(r"!func\[\d+\]$")


def run(host: str, module: Path, args: list[str], work: Path) -> float:
    """Seconds of one run of `module args` on `host` in a fresh folder below `work`."""
    d = Path(tempfile.mkdtemp(dir=work))
    try:
        cmd = H.command(host, H.Invocation(prog=str(module), args=args, dirs=[(".", ".")],
                                           cwd=str(d)))
        rc, _, err, secs, timed_out = H.run_cmd(cmd, 600)
        if rc != 0 or timed_out:
            sys.exit(f"{host} {module.name} {args}: exit {rc}: {err.decode(errors='replace')[-300:]}")
        return secs
    finally:
        shutil.rmtree(d, ignore_errors=True)


def self_counts(shim: Path, module: Path, files: int, work: Path) -> collections.Counter:
    """Instructions per function (self) of one run of `module files` through the shim."""
    d = Path(tempfile.mkdtemp(dir=work))
    try:
        shutil.copy(module, d / "m.wasm")
        cmd = H.command("wasmtime", H.Invocation(
            prog=str(shim), dirs=[(".", ".")], cwd=str(d),
            args=["--profile", "p.json", "--profile-interval", "1", "m.wasm", str(files)]))
        rc, _, err, _, _ = H.run_cmd(cmd, 600)
        if rc != 0:
            sys.exit(f"profile of {module.name}: exit {rc}: {err.decode(errors='replace')[-300:]}")
        counts: collections.Counter = collections.Counter()
        for line in (d / "p.json.folded").read_text().splitlines():
            stack, n = line.rsplit(" ", 1)
            counts[stack.split(";")[-1]] += int(n)
        return counts
    finally:
        shutil.rmtree(d, ignore_errors=True)


def per_file(shim: Path, module: Path, work: Path) -> tuple[float, float]:
    """(all, unnamed) Wasm instructions per file: the difference of 200 and 100 files."""
    a, b = self_counts(shim, module, 100, work), self_counts(shim, module, 200, work)
    total = sum(b.values()) - sum(a.values())
    unnamed = sum(b[k] - a[k] for k in set(a) | set(b) if UNNAMED.search(k))
    return total / 100, unnamed / 100


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--p1", type=Path, required=True)
    ap.add_argument("--component", type=Path, required=True)
    ap.add_argument("--shim", type=Path, default=H.REPO / "target" / "p2shim.wasm")
    ap.add_argument("--hosts", default="wasmi,iwasm")
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--extra-calls-us", type=float, default=0.4)
    ap.add_argument("--work-dir", type=Path, default=Path("/dev/shm"))
    a = ap.parse_args()
    hosts = H.parse_hosts(ap, a.hosts)
    work = Path(tempfile.mkdtemp(prefix="fh-model-", dir=a.work_dir))
    try:
        p1 = work / "p1.wasm"
        shutil.copy(a.p1, p1)
        lowered = work / "lowered.wasm"
        shutil.copy(a.component, work / "c.wasm")
        cmd = H.command("wasmtime", H.Invocation(
            prog=str(a.shim.resolve()), dirs=[(".", ".")], cwd=str(work),
            args=["lower", "c.wasm", "-o", "lowered.wasm"]))
        rc, _, err, _, _ = H.run_cmd(cmd, 600)
        if rc != 0:
            sys.exit(f"lower: exit {rc}: {err.decode(errors='replace')}")

        shim = a.shim.resolve()
        i_p1, _ = per_file(shim, p1, work)
        i_low, i_own = per_file(shim, lowered, work)
        print(f"Wasm instructions per file: p1 build {i_p1:,.0f}; lowered {i_low:,.0f} "
              f"(component's own code {i_own:,.0f}, library {i_low - i_own:,.0f})")

        for host in hosts:
            times: dict[tuple[str, int], list[float]] = collections.defaultdict(list)
            for _ in range(a.reps):
                for n in (0, a.files):
                    for name, m in (("p1", p1), ("lowered", lowered)):
                        times[(name, n)].append(run(host, m, [str(n)], work))
            med = {k: statistics.median(v) for k, v in times.items()}
            us = {name: (med[(name, a.files)] - med[(name, 0)]) / a.files * 1e6
                  for name in ("p1", "lowered")}
            whole = med[("lowered", a.files)] / med[("p1", a.files)]
            # us[p1] = k*i_p1 + c;  us[lowered] = k*i_low + c + extra
            k = (us["lowered"] - us["p1"] - a.extra_calls_us) / (i_low - i_p1)
            c = us["p1"] - k * i_p1
            alone = k * i_own + c + a.extra_calls_us
            budget = (1.5 * us["p1"] - alone) / k
            print(f"{host}: at 0 / {a.files} files p1 {med[('p1', 0)]:.4f} / "
                  f"{med[('p1', a.files)]:.4f} s, lowered {med[('lowered', 0)]:.4f} / "
                  f"{med[('lowered', a.files)]:.4f} s (whole run {whole:.3f}x); per file "
                  f"p1 {us['p1']:.1f} us, lowered {us['lowered']:.1f} us "
                  f"({us['lowered'] / us['p1']:.2f}x)")
            print(f"  model: {k * 1000:.2f} ns per Wasm instruction, {c:.1f} us of p1 calls "
                  f"per file; the component's own code alone {alone:.1f} us per file "
                  f"({alone / us['p1']:.2f}x); the library may cost {budget:,.0f} "
                  f"instructions per file for 1.5x (it costs {i_low - i_own:,.0f})")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
