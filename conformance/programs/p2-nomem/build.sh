#!/bin/bash
# Builds p2-nomem: its component is written in WAT (p2-nomem.wat: no linear
# memory, so no Rust toolchain can make it), assembled to
# $CARGO_TARGET_DIR/wasm32-wasip2/release/p2-nomem.wasm, where
# conformance/programs/run.sh looks for a program's component.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
out=$CARGO_TARGET_DIR/wasm32-wasip2/release
tools=${WASM_TOOLS:-$root/target/tools/bin/wasm-tools}
mkdir -p "$out"
"$tools" parse "$here/p2-nomem.wat" -o "$out/p2-nomem.wasm"
"$tools" validate "$out/p2-nomem.wasm"
