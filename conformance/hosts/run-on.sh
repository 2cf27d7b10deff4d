#!/usr/bin/env bash
# Run a WASIp1 program on a chosen host with one option syntax for all hosts:
#
#   conformance/hosts/run-on.sh HOST [--dir HOST_DIR[::GUEST_DIR]]... [--env K=V]...
#                               [--preload NAME=PATH]... [--invoke FUNC] [--] prog.wasm [ARGS...]
#
# HOST: wasmtime | wasmi | node | iwasm. The translation (and each host's
# limitations, e.g. wasmi's --dir cannot rename a folder) lives in hosts.py.
# RUN_ON_VERBOSE=1 prints the host command. Through the shim:
#   run-on.sh wasmtime --dir . target/p2shim.wasm prog.wasm a b
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PATH="$HERE/../../target/tools/bin:$PATH"
exec "${PYTHON:-python3}" "$HERE/hosts.py" "$@"
