"""wasi-testsuite runtime adapter: run the suite's programs through p2shim on a WASIp1 host.

Load it with the official runner (WebAssembly/wasi-testsuite, test-runner/):

    python3 test-runner/wasi_test_runner.py -t tests/... -r /path/to/p2shim.py

It implements the runner's module adapter interface (get_name, get_version,
get_wasi_versions, get_wasi_worlds, compute_argv). Each test program, a WASIp2
command component or a WASIp1 module, is run as

    HOST [--dir ROOT::/] [--env K=V].. --dir D::D p2shim.wasm D/TEST.wasm ARGS..

where D is the folder holding the test (the shim reads the program through a
preopen; a "." preopen would shadow "/" in wasi-libc, so D keeps its absolute
path). The guest's argv[0] is therefore D/TEST.wasm, not the bare file name
wasmtime passes. The command line per host comes from conformance/hosts/hosts.py.

Environment
  P2SHIM_HOST  wasmtime (default), wasmi, node, node-current or iwasm: the p1 host
               that runs the shim
  P2SHIM_WASM  the shim (default: target/p2shim.wasm of this repo); a `.cwasm`
               (from `wasmtime compile`) is run with --allow-precompiled on wasmtime
  WASMTIME, WASMI, NODE, NODE_CURRENT, IWASM  the host binaries (as in hosts.py)

Importing this module runs nothing and prints nothing (the runner's legacy-adapter
check runs the file as a script with --version and expects no output).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Sequence, Tuple, Union

_HERE = Path(__file__).resolve().parent
_REPO = _HERE.parent.parent
sys.path.insert(0, str(_HERE.parent / "hosts"))
import hosts as _H  # noqa: E402  (conformance/hosts/hosts.py)

_WORLDS = ["wasi:cli/command"]
_VERSIONS = ["wasm32-wasip1", "wasm32-wasip2"]
# Run argv in DIR: what hosts.py's wasmi translation needs for a "/" or "." preopen.
_CHDIR_EXEC = "import os, sys; os.chdir(sys.argv[1]); os.execvp(sys.argv[2], sys.argv[2:])"


def _host() -> str:
    host = os.environ.get("P2SHIM_HOST", "wasmtime")
    if host not in _H.HOSTS:
        raise ValueError(f"P2SHIM_HOST={host!r}: expected one of {', '.join(_H.HOSTS)}")
    return host


def _shim() -> Path:
    return Path(os.environ.get("P2SHIM_WASM", str(_REPO / "target" / "p2shim.wasm"))).resolve()


def get_name() -> str:
    return f"p2shim-on-{_host()}"


def get_version() -> str:
    """p2shim's crate version and commit, with the host's version."""
    shim_version = "0.1.0"
    try:
        rev = subprocess.run(["git", "-C", str(_REPO), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        shim_version += f"+{rev}"
    except (OSError, subprocess.CalledProcessError):
        pass
    return f"{shim_version} ({_H.version(_host())})"


def get_wasi_versions() -> List[str]:
    return list(_VERSIONS)


def get_wasi_worlds() -> List[str]:
    return list(_WORLDS)


Dirs = Union[None, str, Path, Sequence[Tuple[Union[str, Path], str]]]


def _dirs(third: Dirs) -> List[Tuple[str, str]]:
    """The runner's third element: a list of (host path, guest path) preopens, or
    (older runners) a single root folder, preopened as "/", or None."""
    if third is None or third == "":
        return []
    if isinstance(third, (str, Path)):
        return [(str(Path(third).resolve()), "/")]
    return [(str(Path(h).resolve()), str(g)) for h, g in third]


def compute_argv(test_path: str,
                 args_env_dirs: Tuple[List[str], Dict[str, str], Dirs],
                 proposals: List[str],
                 wasi_world: str,
                 wasi_version: str) -> List[str]:
    if wasi_world not in _WORLDS:
        raise ValueError(f"p2shim runs only {', '.join(_WORLDS)}, not {wasi_world}")
    if wasi_version not in _VERSIONS:
        raise ValueError(f"p2shim runs {', '.join(_VERSIONS)}, not {wasi_version}")
    if proposals:
        # wasi:http and real sockets cannot be lowered onto WASIp1.
        raise ValueError(f"p2shim supports no WASI proposals ({', '.join(proposals)})")
    args, env, third = args_env_dirs
    prog = Path(test_path).resolve()
    dirs = _dirs(third)
    dirs.append((str(prog.parent), str(prog.parent)))
    host, shim = _host(), _shim()
    inv = _H.Invocation(prog=str(shim), args=[str(prog), *map(str, args)], dirs=dirs,
                        env={str(k): str(v) for k, v in env.items()})
    if host == "wasmtime" and shim.suffix == ".cwasm":
        inv.host_args.append("--allow-precompiled")
    cmd = _H.command(host, inv)
    if cmd.cwd:
        return [sys.executable, "-c", _CHDIR_EXEC, cmd.cwd, *cmd.argv]
    return cmd.argv
