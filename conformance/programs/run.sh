#!/bin/bash
# Builds the programs in conformance/programs/ for wasm32-wasip2 and compares
# the native p2 run (`wasmtime run --dir . app.wasm ARGS`, the reference) with
# the run through the shim on each p1 host (`HOST ... p2shim.wasm app.wasm
# ARGS`): stdout, stderr, exit code and the files left behind.
# Usage: conformance/programs/run.sh [path/to/p2shim.wasm]
# Environment: HOSTS (default "wasmtime wasmi node"), WASMTIME, CARGO_TARGET_DIR.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
W=${WASMTIME:-$root/target/tools/bin/wasmtime}
shim=$(realpath "${1:-$root/target/p2shim.wasm}")
hosts=${HOSTS:-wasmtime wasmi node}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
pass=0
fail=0
xfail=0
expected=$(sed -e 's/#.*//' "$here/expected-failures.txt" | tr -s ' \t' '\n' | grep -v '^$')
listed() { grep -qxF "$1" <<<"$expected"; }
for dir in "$here"/*/; do
  name=$(basename "$dir")
  if ! (cd "$dir" && cargo build -q --release --target wasm32-wasip2); then
    echo "FAIL $name: build"; fail=$((fail + 1)); continue
  fi
  wasm="$CARGO_TARGET_DIR/wasm32-wasip2/release/$name.wasm"
  for args in "" "3" "0 x 'y z'"; do
    tmp=$(mktemp -d)
    mkdir "$tmp/native"
    cp "$wasm" "$tmp/native/app.wasm"
    (cd "$tmp/native" && eval "$W" run --env P2T_A=1 --dir . app.wasm $args </dev/null >../native.out 2>../native.err; echo "exit $?" >>../native.out)
    for host in $hosts; do
      mkdir "$tmp/$host"
      cp "$wasm" "$tmp/$host/app.wasm"
      (cd "$tmp/$host" && eval "$here/../hosts/run-on.sh" "$host" --env P2T_A=1 --dir . "$shim" app.wasm $args </dev/null >"../$host.out" 2>"../$host.err"; echo "exit $?" >>"../$host.out")
      if diff "$tmp/native.out" "$tmp/$host.out" && diff "$tmp/native.err" "$tmp/$host.err" && diff -r "$tmp/native" "$tmp/$host"; then
        if listed "$host/$name"; then
          echo "XPASS $host/$name $args (listed in expected-failures.txt)"; fail=$((fail + 1))
        else
          echo "ok   $host/$name $args"; pass=$((pass + 1))
        fi
      elif listed "$host/$name"; then
        echo "xfail $host/$name $args"; xfail=$((xfail + 1))
      else
        echo "FAIL $host/$name $args"; fail=$((fail + 1))
      fi
    done
    rm -rf "$tmp"
  done
done
echo "p2 programs: $pass passed, $fail failed, $xfail expected failures"
[ "$fail" -eq 0 ]
