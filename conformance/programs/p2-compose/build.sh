#!/bin/bash
# Builds p2-compose: the app and greeter components for wasm32-wasip2, then
# composes them into one component (the app's import of
# test:compose/greeter satisfied by the greeter's export), written to
# $CARGO_TARGET_DIR/wasm32-wasip2/release/p2-compose.wasm, where
# conformance/programs/run.sh looks for a program's component.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
out=$CARGO_TARGET_DIR/wasm32-wasip2/release
tools=${WASM_TOOLS:-$root/target/tools/bin/wasm-tools}
cd "$here"
cargo build -q --release --target wasm32-wasip2
# `wasm-tools compose` says it is deprecated (for wac, not installed here); it
# still composes. Its other messages are kept.
# shellcheck disable=SC2016 # the backquotes are wasm-tools' text, not expansions
"$tools" compose "$out/app.wasm" -d "$out/greeter.wasm" -o "$out/p2-compose.wasm" 2>&1 >/dev/null |
  grep -v -e 'deprecated' -e 'Please use `wac`' -e 'more information about `wac`' -e '^$' >&2 || true
"$tools" validate "$out/p2-compose.wasm"
