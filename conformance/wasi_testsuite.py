#!/usr/bin/env python3
"""Run the WASI preview1 test suite directly on WASIp1 hosts and through p2shim.

    python3 conformance/wasi_testsuite.py [--hosts wasmtime,wasmi,node,node-current,iwasm] [--shim target/p2shim.wasm]
        [--direct-only] [--filter REGEX] [-j N] [--timeout SECONDS] [--stderr exact|guest|ignore]
        [--expected-failures FILE] [--update-expected] [--json PATH] [--keep] [-v]

Tests: ../shared/wasi-testsuite/{rust,c,assemblyscript}/NAME.wasm with an optional NAME.json
(`args`, `env`, `root`, `exit_code`, `stdout`, `stderr`). `root` names a folder next to the
test; each run gets a fresh writable copy of it preopened at guest path `/` (what the
upstream runner does). Tests without `root` get no preopen.

For every (host, test) the test runs
  direct:  (cd P; HOST [--dir COPY::/] [--env K=V].. [--dir PRE] NAME.wasm ARGS..)
  shim:    (cd P; HOST [--dir COPY::/] [--env K=V].. [--dir PRE] p2shim.wasm FILE ARGS..)
where P is a private folder holding a copy of the test program: the shim, a WASI program
itself, needs a preopen to read the program from. PRE is `P::.` and FILE `NAME.wasm` for a
test without a root (so argv[0] is NAME.wasm in both runs), and `P::P` and FILE
`P/NAME.wasm` for a test with a root (a "." preopen would shadow "/" in wasi-libc). The
direct run gets PRE too when shim runs are made, so both runs see exactly the same host
configuration; with --direct-only it does not (the upstream configuration). On wasmtime
the shim is precompiled once (`wasmtime compile`, run with --allow-precompiled).

Verdicts
  direct vs json: the direct run checked against the json (exit code, stdout/stderr prefix,
                  like the upstream runner). A failure is a host quirk, not a shim failure.
  shim vs direct: exit code, stdout, stderr (see --stderr) and the resulting tree of the
                  preopened folder (names, types, file contents, symlink targets) must be
                  equal. This is what gates: any mismatch fails the run unless listed in
                  conformance/wasi-testsuite-expected-failures.txt (`host/suite/test  # reason`;
                  fnmatch patterns allowed). An exactly listed test that matches again also
                  fails the run (the list must stay honest); patterns are exempt from that
                  check, so use them only as a temporary blanket. Numbers a host makes
                  up anew on each run (HOST_RANDOM: iwasm's random fd numbers) are masked
                  in both runs of that host.
  canary:         a pseudo test `_canary/hello` (a tiny program printing a line, built from
                  WAT with wasm-tools) runs first on each host, so a shim that runs nothing
                  cannot pass by matching tests that succeed silently.
Timeouts count as failures on either side.

Output: one line per failing test, a per-host summary table, and a JSON report
(default target/conformance/wasi-testsuite.json). Exit status: 0 ok, 1 unexpected
mismatches, 2 usage or setup errors.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import fnmatch
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "hosts"))
import hosts as H  # noqa: E402  (conformance/hosts/hosts.py)

REPO = H.REPO
DEFAULT_SUITE_ROOT = REPO.parent / "shared" / "wasi-testsuite"
DEFAULT_SUITES = ("rust", "c", "assemblyscript")
DEFAULT_HOSTS = H.HOSTS
DEFAULT_EXPECTED = REPO / "conformance" / "wasi-testsuite-expected-failures.txt"
DEFAULT_JSON = REPO / "target" / "conformance" / "wasi-testsuite.json"
CANARY_SUITE = "_canary"
CANARY_TEXT = "p2shim canary: hello from a WASIp1 guest\n"


# ---------------------------------------------------------------- tests ----

@dataclass
class Test:
    suite: str
    name: str
    wasm: Path
    config: dict

    @property
    def id(self) -> str:
        return f"{self.suite}/{self.name}"


def discover(suite_root: Path, suites: list[str]) -> list[Test]:
    tests = []
    for suite in suites:
        d = suite_root / suite
        if not d.is_dir():
            raise SystemExit(f"wasi-testsuite: no such suite folder {d}")
        for wasm in sorted(d.glob("*.wasm")):
            cfg_path = wasm.with_suffix(".json")
            cfg = json.loads(cfg_path.read_text()) if cfg_path.exists() else {}
            tests.append(Test(suite, wasm.stem, wasm, cfg))
    return tests


def canary_wat() -> str:
    data = CANARY_TEXT.encode()
    esc = "".join(f"\\{b:02x}" for b in data)
    return f"""(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "{esc}")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const {len(data)}))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
"""


def make_canary(work: Path) -> Test:
    d = work / "canary-src"
    d.mkdir(parents=True, exist_ok=True)
    wat, wasm = d / "hello.wat", d / "hello.wasm"
    wat.write_text(canary_wat())
    subprocess.run([H.tool("wasm-tools"), "parse", str(wat), "-o", str(wasm)], check=True)
    return Test(CANARY_SUITE, "hello", wasm, {"stdout": CANARY_TEXT})


# ------------------------------------------------------------- running ----

@dataclass
class RunResult:
    exit_code: int
    stdout: str
    stderr: str
    tree: dict
    seconds: float
    timed_out: bool = False
    error: str | None = None  # the harness could not start the host
    argv: list[str] = field(default_factory=list)


def snapshot(root: Path | None) -> dict:
    """Names, types and contents of everything under root (not times, not modes)."""
    if root is None:
        return {}
    out = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            try:
                st = p.lstat()
            except OSError as e:
                out[rel] = f"unreadable: {e}"
                continue
            if stat.S_ISLNK(st.st_mode):
                out[rel] = "symlink -> " + os.readlink(p)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = "dir"
            elif stat.S_ISREG(st.st_mode):
                try:
                    digest = hashlib.sha256(p.read_bytes()).hexdigest()[:16]
                except OSError as e:
                    digest = f"unreadable: {e}"
                out[rel] = f"file {st.st_size} {digest}"
            else:
                out[rel] = f"other {stat.S_IFMT(st.st_mode):o}"
    return dict(sorted(out.items()))


def make_writable_copy(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, symlinks=True)
    for dirpath, dirnames, filenames in os.walk(dst):
        os.chmod(dirpath, os.stat(dirpath).st_mode | stat.S_IWUSR | stat.S_IXUSR | stat.S_IRUSR)
        for n in filenames:
            p = os.path.join(dirpath, n)
            if not os.path.islink(p):
                os.chmod(p, os.stat(p).st_mode | stat.S_IWUSR | stat.S_IRUSR)


def rmtree_force(p: Path) -> None:
    def onerror(func, path, _exc):
        try:
            os.chmod(os.path.dirname(path), 0o700)
            os.chmod(path, 0o700)
        except OSError:
            pass
        func(path)
    if p.exists():
        shutil.rmtree(p, onerror=onerror)


def decode(b: bytes) -> str:
    return b.decode("utf-8", errors="backslashreplace")


run_cmd = H.run_cmd


@dataclass
class Ctx:
    work: Path
    timeout: float
    shim: Path | None
    shim_cwasm: Path | None  # precompiled shim for wasmtime
    progdirs: dict  # suite -> Path (private copies of the test programs)
    verbose: bool


def run_one(ctx: Ctx, host: str, test: Test, mode: str) -> RunResult:
    """mode: 'direct' or 'shim'."""
    cfg = test.config
    tmp = Path(tempfile.mkdtemp(prefix=f"{host}-{test.suite}-{test.name}-{mode}-", dir=ctx.work))
    root = None
    try:
        progdir = ctx.progdirs[test.suite]
        dirs = []
        if cfg.get("root"):
            root = tmp / "root"
            make_writable_copy(test.wasm.parent / cfg["root"], root)
            dirs.append((str(root), "/"))
        # The shim must be able to open the program: preopen the folder holding it,
        # in both runs. Without a root it is preopened as "." and the program named
        # relatively, so the guest's argv[0] is "NAME.wasm" in every run; with a root
        # at "/" a "." preopen would shadow it (wasi-libc resolves both from "/"),
        # so the folder keeps its absolute path.
        guest_prog = test.wasm.name
        if ctx.shim is not None:
            if root is not None:
                dirs.append((str(progdir), str(progdir)))
                guest_prog = str(progdir / test.wasm.name)
            else:
                dirs.append((str(progdir), "."))
        inv = H.Invocation(prog=test.wasm.name, args=[str(a) for a in cfg.get("args", [])],
                           dirs=dirs, env={str(k): str(v) for k, v in cfg.get("env", {}).items()},
                           cwd=str(progdir))
        if mode == "shim":
            assert ctx.shim is not None
            shim, host_args = str(ctx.shim), []
            if host == "wasmtime" and ctx.shim_cwasm is not None:
                shim, host_args = str(ctx.shim_cwasm), ["--allow-precompiled"]
            inv = H.through_shim(inv, shim, prog_path=guest_prog)
            inv.host_args += host_args
        try:
            cmd = H.command(host, inv)
        except H.HostError as e:
            return RunResult(-1, "", "", {}, 0.0, error=f"host cannot express this run: {e}")
        if ctx.verbose:
            print(f"  [{host} {mode}] (cd {cmd.cwd}) {' '.join(cmd.argv)}", file=sys.stderr)
        try:
            rc, out, err, secs, timed_out = run_cmd(cmd, ctx.timeout)
        except OSError as e:
            return RunResult(-1, "", "", {}, 0.0, error=f"cannot start {cmd.argv[0]}: {e}",
                             argv=cmd.argv)
        return RunResult(rc, decode(out), decode(err), snapshot(root), round(secs, 3),
                         timed_out=timed_out, argv=cmd.argv)
    finally:
        rmtree_force(tmp)


# ------------------------------------------------------------- verdicts ----

def check_json(test: Test, r: RunResult) -> list[str]:
    """Problems of a run against the test's json (upstream semantics)."""
    if r.error:
        return [r.error]
    if r.timed_out:
        return ["timed out"]
    cfg, problems = test.config, []
    want_rc = int(cfg.get("exit_code", 0))
    if r.exit_code != want_rc:
        problems.append(f"exit {r.exit_code}, want {want_rc}")
    for stream in ("stdout", "stderr"):
        want = cfg.get(stream)
        if want is not None and not getattr(r, stream).startswith(want):
            problems.append(f"{stream} {short(getattr(r, stream))}, want {short(want)}")
    return problems


# Tests whose stdout prints a hash map: Rust's HashMap iteration order is
# seeded randomly on every run (directly or through the shim), so the entries
# of each `{...}` are compared as a set, not in order.
UNORDERED_MAPS = {
    "rust/poll_oneoff_stdio": "prints a HashMap, whose order is randomly seeded per run",
}


def sort_map_entries(text: str) -> str:
    """`{b: 2, a: 1}` -> `{a: 1, b: 2}` for every innermost brace pair."""
    return re.sub(r"\{([^{}]*)\}", lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", text)


# Numbers a host makes up anew on every run, masked in both runs of that host/test:
# (host, suite/test) -> (regex of the text replaced by "<N>", why).
HOST_RANDOM = {
    ("iwasm", "rust/stdio"): (re.compile(r"(?<==> )\d+"), "prints the fds that new files get; "
                              "WAMR picks each new fd number at random (fd_table_unused in its "
                              "libc-wasi), so the direct run differs from itself"),
}


def compare(key: str, d: RunResult, s: RunResult, stderr_mode: str,
            host: str | None = None) -> list[str]:
    """Differences between the direct and the shim run of test `suite/name` on `host`."""
    if d.timed_out:
        return ["direct run timed out"]
    if d.error:
        return [f"direct: {d.error}"]
    if s.error:
        return [f"shim: {s.error}"]
    diffs = []
    if d.timed_out or s.timed_out:
        diffs.append("timed out: " + ", ".join(m for m, r in (("direct", d), ("shim", s))
                                               if r.timed_out))
    if d.exit_code != s.exit_code:
        diffs.append(f"exit {s.exit_code}, direct {d.exit_code}")
    d_out, s_out, d_err, s_err = d.stdout, s.stdout, d.stderr, s.stderr
    if (host, key) in HOST_RANDOM:
        rx = HOST_RANDOM[host, key][0]
        d_out, s_out, d_err, s_err = (rx.sub("<N>", x) for x in (d_out, s_out, d_err, s_err))
    if key in UNORDERED_MAPS:
        d_out, s_out = sort_map_entries(d_out), sort_map_entries(s_out)
    if d_out != s_out:
        diffs.append("stdout " + first_diff(s_out, d_out))
    if stderr_mode != "ignore":
        de, se = d_err, s_err
        if stderr_mode == "guest":
            de, se = mask(H.guest_stderr(de)), mask(H.guest_stderr(se))
        if de != se:
            diffs.append("stderr " + first_diff(se, de))
    if d.tree != s.tree:
        keys = sorted(set(d.tree) | set(s.tree))
        changed = [k for k in keys if d.tree.get(k) != s.tree.get(k)]
        diffs.append("tree differs at " + ", ".join(changed[:5]) +
                     (f" (+{len(changed) - 5})" if len(changed) > 5 else ""))
    return diffs


TIMESTAMP = re.compile(r"\d{16,}")


def mask(s: str) -> str:
    """Mask nanosecond timestamps (16+ digits), which differ between any two runs."""
    return TIMESTAMP.sub("<N>", s)


def first_diff(got: str, want: str, ctx: int = 30) -> str:
    """Where got (shim) first differs from want (direct), with some context."""
    i = 0
    while i < min(len(got), len(want)) and got[i] == want[i]:
        i += 1
    lo = max(0, i - ctx)
    return (f"differs at char {i}: shim {short(got[lo:i + ctx], 2 * ctx + 3)}, "
            f"direct {short(want[lo:i + ctx], 2 * ctx + 3)}")


def short(s: str, n: int = 60) -> str:
    s = s if len(s) <= n else s[:n] + "..."
    return json.dumps(s)


# ---------------------------------------------------- expected failures ----

@dataclass
class Expected:
    entries: dict  # key (host/suite/test or pattern) -> reason
    order: list

    @staticmethod
    def load(path: Path) -> "Expected":
        entries, order = {}, []
        if path.exists():
            for lineno, line in enumerate(path.read_text().splitlines(), 1):
                body, _, reason = line.partition("#")
                key = body.strip()
                if not key:
                    continue
                if key.count("/") != 2:
                    raise SystemExit(f"{path}:{lineno}: expected host/suite/test, got {key!r}")
                entries[key] = reason.strip()
                order.append(key)
        return Expected(entries, order)

    @staticmethod
    def is_pattern(key: str) -> bool:
        return any(c in key for c in "*?[")

    def lookup(self, key: str) -> tuple[str | None, bool]:
        """(matching entry, exact?)"""
        if key in self.entries and not self.is_pattern(key):
            return key, True
        for k in self.order:
            if self.is_pattern(k) and fnmatch.fnmatchcase(key, k):
                return k, False
        return None, False


def write_expected(path: Path, old: Expected, mismatches: dict, ran_keys: set) -> None:
    header = [line for line in (path.read_text().splitlines() if path.exists() else [])
              if line.startswith("#") or not line.strip()]
    while header and not header[-1].strip():
        header.pop()
    if not header:
        header = ["# shim-vs-direct mismatches of conformance/wasi_testsuite.py that are known.",
                  "# Format: host/suite/test  # reason   (fnmatch patterns allowed; see the script)"]
    keep = []
    for k in old.order:  # entries about none of this run's tests stay as they are
        if not any(fnmatch.fnmatchcase(r, k) for r in ran_keys):
            keep.append((k, old.entries[k]))
    for k in sorted(mismatches):
        reason = old.entries.get(k) or "TODO: " + "; ".join(mismatches[k])[:120]
        keep.append((k, reason))
    lines = header + [""] + [f"{k:60s} # {r}" for k, r in sorted(dict(keep).items())]
    path.write_text("\n".join(lines) + "\n")


# ----------------------------------------------------------------- main ----

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", default=",".join(DEFAULT_HOSTS))
    ap.add_argument("--suites", default=",".join(DEFAULT_SUITES))
    ap.add_argument("--testsuite", type=Path, default=DEFAULT_SUITE_ROOT,
                    help="folder holding the suites (default ../shared/wasi-testsuite)")
    ap.add_argument("--shim", type=Path, default=REPO / "target" / "p2shim.wasm")
    ap.add_argument("--direct-only", action="store_true", help="only the direct runs")
    ap.add_argument("--filter", default=None,
                    help="regex searched in host/suite/test (e.g. 'rust/path_', '^node/')")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per run")
    ap.add_argument("--timeout-retries", type=int, default=1,
                    help="re-run a shim run that timed out (when the direct one did not) "
                         "this many times before counting the timeout (default 1)")
    ap.add_argument("--stderr", choices=("exact", "guest", "ignore"), default="guest",
                    help="how to compare stderr: exact; guest (default) = up to the first "
                         "host/shim error report, with 16+ digit numbers (ns timestamps) "
                         "masked; ignore")
    ap.add_argument("--expected-failures", type=Path, default=DEFAULT_EXPECTED)
    ap.add_argument("--update-expected", action="store_true",
                    help="rewrite the expected-failures file from this run's mismatches")
    ap.add_argument("--no-precompile", action="store_true",
                    help="run p2shim.wasm on wasmtime without precompiling it")
    ap.add_argument("--no-canary", action="store_true")
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON)
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    if a.filter and a.json == DEFAULT_JSON:
        # A partial run must not replace the whole run's report that the host matrix reads.
        a.json = DEFAULT_JSON.with_name("wasi-testsuite-filtered.json")

    hosts = H.parse_hosts(ap, a.hosts)
    do_shim = not a.direct_only
    if do_shim and not a.shim.exists():
        print(f"wasi-testsuite: shim {a.shim} not found (run `make shim`, or --direct-only)",
              file=sys.stderr)
        return 2
    tests = discover(a.testsuite, [s for s in a.suites.split(",") if s])

    a.json.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="wasi-testsuite-", dir=a.json.parent)).resolve()
    try:
        if do_shim and not a.no_canary:
            tests.insert(0, make_canary(work))
        progdirs = {}
        for t in tests:
            d = progdirs.setdefault(t.suite, work / "progs" / t.suite)
            d.mkdir(parents=True, exist_ok=True)
            shutil.copy2(t.wasm, d / t.wasm.name)
        shim_cwasm = None
        if do_shim and "wasmtime" in hosts and not a.no_precompile:
            shim_cwasm = work / "p2shim.cwasm"
            subprocess.run([H.tool("wasmtime"), "compile", str(a.shim), "-o", str(shim_cwasm)],
                           check=True)
        ctx = Ctx(work, a.timeout, a.shim.resolve() if do_shim else None, shim_cwasm,
                  progdirs, a.verbose)

        jobs = [(h, t) for h in hosts for t in tests
                if not a.filter or t.suite == CANARY_SUITE or re.search(a.filter, f"{h}/{t.id}")]
        if not jobs:
            print("wasi-testsuite: no test selected", file=sys.stderr)
            return 2

        def job(ht):
            h, t = ht
            d = run_one(ctx, h, t, "direct")
            s = None
            if do_shim:
                if d.timed_out:  # no oracle; don't spend another timeout on the shim
                    s = RunResult(-1, "", "", {}, 0.0,
                                  error="not run: the direct run timed out")
                else:
                    s = run_one(ctx, h, t, "shim")
                    for _ in range(a.timeout_retries):
                        if not s.timed_out:
                            break
                        print(f"wasi-testsuite: {h}/{t.id}: shim run timed out; retrying",
                              file=sys.stderr)
                        s = run_one(ctx, h, t, "shim")
            return h, t, d, s

        t0 = time.monotonic()
        results = []
        print(f"wasi-testsuite: {len(jobs)} (host, test) pairs, -j {a.jobs}, "
              f"{'direct only' if a.direct_only else 'direct + shim'}", file=sys.stderr)
        with cf.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
            for h, t, d, s in ex.map(job, jobs):
                results.append((h, t, d, s))
                if len(results) % 25 == 0 or len(results) == len(jobs):
                    print(f"  {len(results)}/{len(jobs)} done ({time.monotonic() - t0:.0f}s)",
                          file=sys.stderr)
        elapsed = time.monotonic() - t0
    finally:
        if a.keep:
            print(f"wasi-testsuite: work folder kept at {work}", file=sys.stderr)
        else:
            rmtree_force(work)

    expected = Expected.load(a.expected_failures)
    summary = {h: {"tests": 0, "direct_pass": 0, "shim_match": 0, "xfail": 0,
                   "fail": 0, "xpass": 0, "timeouts": 0} for h in hosts}
    records, failures, quirks, mismatches, hidden_by_pattern = [], [], [], {}, 0
    setup_errors = []
    for h, t, d, s in results:
        key = f"{h}/{t.id}"
        row = summary[h]
        row["tests"] += 1
        djson = check_json(t, d)
        row["direct_pass"] += not djson
        row["timeouts"] += d.timed_out + bool(s and s.timed_out)
        if d.error and "cannot start" in d.error:
            setup_errors.append(f"{key}: {d.error}")
        if djson:
            quirks.append(f"QUIRK {key}: direct run fails the json: {'; '.join(djson)}")
        rec = {"host": h, "suite": t.suite, "test": t.name, "direct": asdict(d),
               "direct_vs_json": djson}
        if s is not None:
            diffs = compare(f"{t.suite}/{t.name}", d, s, a.stderr, h)
            rec["shim"] = asdict(s)
            rec["shim_vs_direct"] = diffs
            rec["shim_vs_json"] = check_json(t, s)
            entry, exact = expected.lookup(key)
            if not diffs:
                row["shim_match"] += 1
                if entry and exact:
                    row["xpass"] += 1
                    failures.append(f"XPASS {key}: listed in {a.expected_failures.name} "
                                    f"({expected.entries[entry]}) but now matches: remove it")
                    rec["verdict"] = "xpass"
                else:
                    rec["verdict"] = "match"
            else:
                mismatches[key] = diffs
                if entry:
                    row["xfail"] += 1
                    rec["verdict"] = "xfail"
                    hidden_by_pattern += not exact
                else:
                    row["fail"] += 1
                    rec["verdict"] = "fail"
                    failures.append(f"FAIL {key}: shim vs direct: {'; '.join(diffs)}")
        records.append(rec)

    for line in quirks if a.verbose or a.direct_only else []:
        print(line)
    for line in failures:
        print(line)
    if setup_errors:
        for e in setup_errors[:5]:
            print(f"ERROR {e}", file=sys.stderr)

    # ---- summary table
    print()
    n_tests = len({t.id for _, t, _, _ in results if t.suite != CANARY_SUITE})
    canary = " (+ canary)" if any(t.suite == CANARY_SUITE for _, t, _, _ in results) else ""
    print(f"wasi-testsuite: {n_tests} tests{canary} x {len(hosts)} hosts in {elapsed:.1f}s "
          f"({'direct only' if a.direct_only else 'direct + shim'})")
    hdr = f"{'host':12} {'version':28} {'tests':>5} {'direct=json':>11}"
    if do_shim:
        hdr += f" {'shim=direct':>11} {'xfail':>5} {'FAIL':>5} {'XPASS':>5}"
    hdr += f" {'timeouts':>8}"
    print(hdr)
    print("-" * len(hdr))
    versions = {h: H.version(h) for h in hosts}
    for h in hosts:
        r = summary[h]
        line = f"{h:12} {versions[h][:28]:28} {r['tests']:5} {r['direct_pass']:11}"
        if do_shim:
            line += f" {r['shim_match']:11} {r['xfail']:5} {r['fail']:5} {r['xpass']:5}"
        line += f" {r['timeouts']:8}"
        print(line)
    if not a.direct_only and not a.verbose and quirks:
        print(f"({len(quirks)} direct runs fail their json: host quirks, not shim failures; "
              f"-v lists them)")
    if hidden_by_pattern:
        print(f"NOTE: {hidden_by_pattern} mismatches are covered only by pattern entries of "
              f"{a.expected_failures}; replace them with exact entries "
              f"(--update-expected) once the shim runs programs.")

    report = {
        "kind": "wasi-testsuite",
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "elapsed_s": round(elapsed, 1),
        "mode": "direct-only" if a.direct_only else "direct+shim",
        "shim": str(a.shim) if do_shim else None,
        "hosts": {h: {"version": versions[h], **summary[h]} for h in hosts},
        "stderr_mode": a.stderr,
        "results": records,
    }
    a.json.write_text(json.dumps(report, indent=1))
    print(f"report: {a.json}")

    if a.update_expected and do_shim:
        ran = {f"{h}/{t.id}" for h, t, _, _ in results}
        write_expected(a.expected_failures, expected, mismatches, ran)
        print(f"updated {a.expected_failures} ({len(mismatches)} entries from this run)")
        return 0
    if setup_errors:
        return 2
    n_fail = sum(r["fail"] + r["xpass"] for r in summary.values())
    if do_shim:
        n_pass = sum(r["shim_match"] - r["xpass"] for r in summary.values())
        n_xfail = sum(r["xfail"] for r in summary.values())
        print(f"wasi-testsuite: {n_pass} passed, {n_fail} failed, {n_xfail} skipped")
    if n_fail:
        print(f"{n_fail} unexpected shim-vs-direct results")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
