#!/usr/bin/env bash
# Cargo target runner for wasm32-wasip1 (wired up in .cargo/config.toml), so
#
#   cargo test --target wasm32-wasip1 -p conformance
#   cargo run  --target wasm32-wasip1 --bin ...
#
# run the wasm test/bin artifacts on wasmtime. Cargo calls it as
#   wasm-runner.sh path/to/artifact.wasm [ARGS...]
# with the package directory as the working directory.
#
# File system view of the guest (same absolute paths as natively, so paths built
# from env!("CARGO_MANIFEST_DIR") or "/abs/path/to/shared" keep working):
#   - the folder holding the repo and `shared/` (the repo's parent) at its own
#     absolute path. Preopening the parent, not the repo and shared/ separately,
#     keeps paths like "$CARGO_MANIFEST_DIR/../../shared/x" working: WASI
#     resolves a path against the longest matching preopen and refuses `..`
#     that leaves it.
#   - `shared` at its absolute path too if it is not beside the repo
#     (P2SHIM_SHARED=/somewhere/else)
#   - the working directory (the package dir) as `.`, so relative paths that
#     stay inside it work. Relative paths that climb out of it (`../x`) do not.
# Environment: the guest gets RUST_BACKTRACE, RUST_TEST_*, P2SHIM_* and a few
# test-related variables, plus P2SHIM_REPO and P2SHIM_SHARED (absolute paths).
#
# Stack: wasm frames may use up to $P2SHIM_WASM_STACK bytes (default 64 MiB;
# wasmtime's default is 512 KiB). The linear-memory (shadow) stack of the Rust
# code is set at link time in .cargo/config.toml.
#
# Knobs: WASMTIME (binary), P2SHIM_WASM_STACK, P2SHIM_RUNNER_ARGS (extra
# wasmtime args, word-split), P2SHIM_RUNNER_VERBOSE=1 (print the command).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PARENT="$(dirname "$ROOT")"
SHARED="${P2SHIM_SHARED:-$PARENT/shared}"
export PATH="$ROOT/target/tools/bin:$PATH"
WASMTIME="${WASMTIME:-wasmtime}"
STACK="${P2SHIM_WASM_STACK:-67108864}"

if [[ $# -lt 1 ]]; then
    echo "usage: $0 artifact.wasm [ARGS...]" >&2
    exit 2
fi
if ! command -v "$WASMTIME" >/dev/null; then
    echo "wasm-runner: '$WASMTIME' not found; run scripts/install-tools.sh" >&2
    exit 127
fi

args=(run
    -W "max-wasm-stack=$STACK"
    -W "async-stack-size=$((STACK + 4 * 1048576))"
    --dir "$PARENT::$PARENT")
# A physical path that differs from the logical one (symlinked checkout).
PARENT_P="$(cd "$PARENT" && pwd -P)"
[[ "$PARENT_P" != "$PARENT" ]] && args+=(--dir "$PARENT_P::$PARENT_P")
if [[ -d "$SHARED" ]]; then
    SHARED="$(cd "$SHARED" && pwd -P)" # physical: a symlinked shared/ is preopened where it really is
    case "$SHARED/" in
        "$PARENT"/*) ;;
        *) args+=(--dir "$SHARED::$SHARED") ;;
    esac
fi
args+=(--dir ".::.")

args+=(--env "P2SHIM_REPO=$ROOT" --env "P2SHIM_SHARED=$SHARED")
# Pass through variables tests commonly look at (wasmtime passes none by default).
while read -r name; do
    case "$name" in
        P2SHIM_REPO | P2SHIM_SHARED) ;;
        RUST_BACKTRACE | RUST_LOG | RUST_TEST_* | CI | P2SHIM_* | UPDATE_EXPECT | NO_COLOR)
            args+=(--env "$name") ;;
    esac
done < <(compgen -e)

if [[ -n "${P2SHIM_RUNNER_ARGS:-}" ]]; then
    # shellcheck disable=SC2206 # word splitting is the point
    extra=($P2SHIM_RUNNER_ARGS)
    args+=("${extra[@]}")
fi

[[ "${P2SHIM_RUNNER_VERBOSE:-0}" == 1 ]] && echo "wasm-runner: $WASMTIME ${args[*]} -- $*" >&2
exec "$WASMTIME" "${args[@]}" -- "$@"
