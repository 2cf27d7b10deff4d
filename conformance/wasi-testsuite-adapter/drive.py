#!/usr/bin/env python3
"""Drive conformance/wasi-testsuite-adapter/p2shim.py the way the official wasi-testsuite
runner does, and check its verdicts against native wasmtime.

    python3 conformance/wasi-testsuite-adapter/drive.py [--versions wasm32-wasip2,wasm32-wasip1]
        [--hosts wasmtime,wasmi,node] [--shim target/p2shim.wasm] [--filter REGEX] [-j N] [-v]

The official runner (WebAssembly/wasi-testsuite, test-runner/) is not vendored here, so
this driver repeats what it does with an adapter (runtime_adapter.py):
  * the legacy check: `python3 ADAPTER --version` must print nothing on stdout or stderr;
  * the adapter is loaded as a module (importlib, spec_from_file_location); get_name,
    get_version, get_wasi_versions and get_wasi_worlds are called;
  * per test: `compute_argv(test_path, (args, env, dirs), proposals, wasi_world,
    wasi_version)` with dirs = [(SUITE/ROOT, "/")] for a test with a `root`;
  * the run: `*.cleanup` removed under each preopen before and after; the process started
    with piped stdin/stdout/stderr (text mode); for an expected `stdout` the first
    len(stdout) characters are read and compared; then the exit code is compared
    (`exit_code`, default 0) after at most the timeout.
Tests come from ../shared/wasi-testsuite/{rust,c,assemblyscript}, copied to a private
folder per worker (the runner mutates the suite's root folder in place). For
wasm32-wasip2 each program is first turned into a p2 component by
conformance/componentize (componentize-p1, the wasmtime 49 preview1 command adapter).

Verdicts: each test runs through the adapter on each host and, as the oracle, natively
on wasmtime with the command line of the suite's own wasmtime adapter
(`wasmtime run --env K=V --dir ROOT::/ TEST ARGS`). A test passes when the adapter's
run passes exactly when the native run does (both pass, or both fail). The count of
runs that pass their .json is reported for both. Disagreements listed in
expected-failures.txt (`host/version/suite/test  # reason`) are allowed; a listed one
that agrees again fails the run. Exit status 0 when every verdict agrees or is listed,
1 otherwise, 2 on setup errors.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
ADAPTER = HERE / "p2shim.py"
EXPECTED = HERE / "expected-failures.txt"
sys.path.insert(0, str(HERE.parent / "hosts"))
import hosts as H  # noqa: E402

SUITES = ("rust", "c", "assemblyscript")
WORLD = "wasi:cli/command"


@dataclass
class Test:
    suite: str
    name: str
    config: dict

    @property
    def id(self) -> str:
        return f"{self.suite}/{self.name}"


def legacy_check(adapter: Path) -> None:
    r = subprocess.run([sys.executable, str(adapter), "--version"], capture_output=True,
                       text=True)
    if r.returncode != 0 or r.stdout or r.stderr:
        raise SystemExit(f"drive: {adapter} is not a module adapter: `--version` gave "
                         f"exit {r.returncode}, stdout {r.stdout!r}, stderr {r.stderr!r}")


def load_adapter(adapter: Path):
    spec = importlib.util.spec_from_file_location(adapter.name, adapter)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cleanup(dirs) -> None:
    for host, _guest in dirs:
        for f in Path(host).glob("**/*.cleanup"):
            if f.is_dir() and not f.is_symlink():
                shutil.rmtree(f)
            else:
                f.unlink()


def run_like_runner(argv: list[str], test: Test, dirs, timeout: float) -> list[str]:
    """The runner's Run/Read/Wait operations: a list of failures (empty = pass)."""
    failures: list[str] = []
    cleanup(dirs)
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    except (OSError, ValueError) as e:
        return [f"failed to start process: {e}"]
    try:
        want = test.config.get("stdout")
        if want is not None:
            assert proc.stdout is not None
            got = proc.stdout.read(len(want))
            if got != want:
                failures.append(f"stdout: expected {want!r}, got {got!r}")
        if not failures:
            want_rc = int(test.config.get("exit_code", 0))
            try:
                proc.communicate(timeout=timeout)
                if proc.returncode != want_rc:
                    failures.append(f"exit code: expected {want_rc}, got {proc.returncode}")
            except subprocess.TimeoutExpired:
                failures.append("timeout expired")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
        cleanup(dirs)
    return failures


def native_argv(test_path: Path, args, env, dirs) -> list[str]:
    """The suite's own wasmtime adapter's command line."""
    argv = [H.tool("wasmtime"), "run"]
    for k, v in env.items():
        argv += ["--env", f"{k}={v}"]
    for h, g in dirs:
        argv += ["--dir", f"{h}::{g}"]
    return argv + [str(test_path), *args]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--versions", default="wasm32-wasip2,wasm32-wasip1")
    ap.add_argument("--hosts", default="wasmtime")
    ap.add_argument("--shim", type=Path, default=REPO / "target" / "p2shim.wasm")
    ap.add_argument("--testsuite", type=Path, default=REPO.parent / "shared" / "wasi-testsuite")
    ap.add_argument("--componentize", type=Path,
                    default=REPO / "target" / "release" / "componentize-p1")
    ap.add_argument("--filter", default=None, help="regex searched in suite/test")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    versions = [v for v in a.versions.split(",") if v]
    hosts = [h for h in a.hosts.split(",") if h]
    for p in (a.shim, a.componentize if "wasm32-wasip2" in versions else a.shim):
        if not p.exists():
            print(f"drive: {p} not found", file=sys.stderr)
            return 2

    legacy_check(ADAPTER)
    adapter = load_adapter(ADAPTER)
    tests = []
    for suite in SUITES:
        for wasm in sorted((a.testsuite / suite).glob("*.wasm")):
            t = Test(suite, wasm.stem, json.loads(wasm.with_suffix(".json").read_text())
                     if wasm.with_suffix(".json").exists() else {})
            if not a.filter or re.search(a.filter, t.id):
                tests.append(t)
    if not tests:
        print("drive: no test selected", file=sys.stderr)
        return 2

    out = REPO / "target" / "conformance"
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="wasi-testsuite-adapter-", dir=out)).resolve()
    os.environ["P2SHIM_WASM"] = str(a.shim.resolve())
    problems, summary = [], {}
    t0 = time.monotonic()
    try:
        # One private copy of the suites per worker and version.
        n_workers = max(1, a.jobs)
        copies: dict[tuple[str, int], Path] = {}
        for version in versions:
            for w in range(n_workers):
                d = work / f"{version}-{w}"
                for suite in {t.suite for t in tests}:
                    shutil.copytree(a.testsuite / suite, d / suite, symlinks=True)
                    subprocess.run(["chmod", "-R", "u+w", str(d / suite)], check=True)
                    if version == "wasm32-wasip2":
                        wasms = [str(d / suite / f"{t.name}.wasm") for t in tests
                                 if t.suite == suite]
                        subprocess.run([str(a.componentize), str(d / suite), *wasms],
                                       check=True)
                copies[(version, w)] = d

        metas = {}
        for host in hosts:
            os.environ["P2SHIM_HOST"] = host  # before any worker starts
            metas[host] = (adapter.get_name(), adapter.get_version(),
                           adapter.get_wasi_versions(), adapter.get_wasi_worlds())
            for version in versions:
                if version not in metas[host][2] or WORLD not in metas[host][3]:
                    print(f"drive: adapter does not declare {version} / {WORLD}",
                          file=sys.stderr)
                    return 1

        # What the adapter cannot run it must refuse, not run wrongly.
        for bad in ((WORLD, "wasm32-wasip3", []), ("wasi:http/service", "wasm32-wasip2", []),
                    (WORLD, "wasm32-wasip2", ["http"])):
            try:
                host_argv(adapter, hosts[0], a.testsuite / "c" / "x.wasm", [], {}, [],
                          bad[1], world=bad[0], proposals=bad[2])
            except ValueError:
                continue
            problems.append(f"REFUSE: compute_argv accepted world {bad[0]}, version {bad[1]}, "
                            f"proposals {bad[2]}")

        def job(w: int, version: str, chunk: list[Test]):
            res = []
            for t in chunk:
                d = copies[(version, w)] / t.suite
                path = d / f"{t.name}.wasm"
                args = [str(x) for x in t.config.get("args", [])]
                env = {str(k): str(v) for k, v in t.config.get("env", {}).items()}
                dirs = [(d / t.config["root"], "/")] if t.config.get("root") else []
                native = run_like_runner(native_argv(path, args, env, dirs), t, dirs, a.timeout)
                via = {}
                for host in hosts:
                    argv = host_argv(adapter, host, path, args, env, dirs, version)
                    via[host] = run_like_runner(argv, t, dirs, a.timeout)
                res.append((version, t, native, via))
            return res

        futures = []
        with cf.ThreadPoolExecutor(max_workers=n_workers) as ex:
            for version in versions:
                for w in range(n_workers):
                    futures.append(ex.submit(job, w, version, tests[w::n_workers]))
            results = [r for f in futures for r in f.result()]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - t0

    expected = load_expected(EXPECTED)
    for version, t, native, via in results:
        row = summary.setdefault(version, {"tests": 0, "native_pass": 0,
                                           **{f"{h}_pass": 0 for h in hosts},
                                           **{f"{h}_agree": 0 for h in hosts}})
        row["tests"] += 1
        row["native_pass"] += not native
        for h, f in via.items():
            row[f"{h}_pass"] += not f
            key = f"{h}/{version}/{t.id}"
            if bool(f) == bool(native):
                row[f"{h}_agree"] += 1
                if key in expected:
                    problems.append(f"XPASS {key}: listed in {EXPECTED.name} ({expected[key]}) "
                                    f"but agrees with native wasmtime now: remove it")
            elif key in expected:
                row.setdefault(f"{h}_listed", 0)
                row[f"{h}_listed"] += 1
            else:
                problems.append(f"DIFF {version} {h}/{t.id}: via the adapter "
                                f"{'fails: ' + '; '.join(f) if f else 'passes'}, natively "
                                f"{'fails: ' + '; '.join(native) if native else 'passes'}")
            if a.verbose and f:
                print(f"  {version} {h}/{t.id}: {'; '.join(f)[:200]}")
    for p in problems:
        print(p[:400])
    for host, (name, version, vs, worlds) in metas.items():
        print(f"adapter: {name} {version}; versions {vs}; worlds {worlds}")
    print(f"wasi-testsuite adapter driver: {len(tests)} tests in {elapsed:.1f}s")
    for version, row in summary.items():
        cells = ", ".join(f"{h}: {row[h + '_pass']} pass .json, {row[h + '_agree']} agree, "
                          f"{row.get(h + '_listed', 0)} listed" for h in hosts)
        print(f"  {version}: native wasmtime {row['native_pass']}/{row['tests']} pass .json; "
              f"through p2shim {cells}")
    return 1 if problems else 0


def load_expected(path: Path) -> dict:
    """host/version/suite/test -> reason, from the checked-in list."""
    out = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        key, _, reason = line.partition("#")
        if key.strip():
            out[key.strip()] = reason.strip()
    return out


ENV_LOCK = threading.Lock()


def host_argv(adapter, host, path, args, env, dirs, version, world=WORLD,
              proposals=()) -> list[str]:
    """compute_argv with P2SHIM_HOST=host (the environment is per process: one at a time)."""
    with ENV_LOCK:
        old = os.environ.get("P2SHIM_HOST")
        os.environ["P2SHIM_HOST"] = host
        try:
            return adapter.compute_argv(str(path), (args, env, dirs), list(proposals), world,
                                        version)
        finally:
            os.environ["P2SHIM_HOST"] = old or "wasmtime"


if __name__ == "__main__":
    sys.exit(main())
