#!/bin/sh
# Rebuilds tests/data/hello-p2.wasm (needs the wasm32-wasip2 target).
set -e
dir=$(mktemp -d)
cargo new --quiet --bin "$dir/hello-p2"
(cd "$dir/hello-p2" && CARGO_TARGET_DIR="$dir/target" cargo build --quiet --release --target wasm32-wasip2)
cp "$dir/target/wasm32-wasip2/release/hello-p2.wasm" "$(dirname "$0")/data/hello-p2.wasm"
rm -rf "$dir"
