#!/bin/bash
# Runs the WASIp1 programs in conformance/p1-checks/ directly on each host (no
# p2shim), printing their output side by side with wasmtime's: the evidence for
# the host quirks listed in conformance/programs/expected-failures.txt.
# A program folder may hold `stdin-pipe.sh` (its output is piped in live),
# `stdout-pipe` (a shell command the program's stdout is piped into),
# `stdin-from` (a path to take stdin from, e.g. /dev/null, instead of an empty
# pipe) and `host-args` (more run-on.sh options, e.g. `--env K=V`, split at spaces).
# Usage: conformance/p1-checks/run.sh   Environment: HOSTS, CARGO_TARGET_DIR.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
for dir in "$here"/*/; do
  [ -f "$dir/Cargo.toml" ] || continue
  name=$(basename "$dir")
  (cd "$dir" && cargo build -q --release --target wasm32-wasip1) || exit 1
  for host in ${HOSTS:-wasmtime wasmi node node-current iwasm}; do
    tmp=$(mktemp -d)
    cp "$CARGO_TARGET_DIR/wasm32-wasip1/release/$name.wasm" "$tmp/"
    echo "== $name on $host"
    feed=(cat /dev/null)
    [ -f "$dir/stdin-pipe.sh" ] && feed=(bash "$dir/stdin-pipe.sh")
    extra=()
    [ -f "$dir/host-args" ] && read -ra extra <"$dir/host-args"
    run=("$here/../hosts/run-on.sh" "$host" --dir . "${extra[@]}" "$name.wasm")
    if [ -f "$dir/stdout-pipe" ]; then
      # The program's exit status too: a host killed by SIGPIPE says nothing (141).
      { "${feed[@]}" | (cd "$tmp" && "${run[@]}" 2>&3) | bash -c "$(cat "$dir/stdout-pipe")"
        echo "exit ${PIPESTATUS[1]}"; } 3>&1
    elif [ -f "$dir/stdin-from" ]; then
      (cd "$tmp" && "${run[@]}" 2>&1 <"$(cat "$dir/stdin-from")")
      echo "exit $?"
    else
      "${feed[@]}" | (cd "$tmp" && "${run[@]}" 2>&1)
      echo "exit ${PIPESTATUS[1]}"
    fi
    rm -rf "$tmp"
  done
done
# Text modules: their exit status on each host, and the first line of stdout
# (iwasm reports a trap there).
for wat in "$here"/*.wat; do
  tmp=$(mktemp -d)
  "$root/target/tools/bin/wasm-tools" parse "$wat" -o "$tmp/m.wasm" || exit 1
  for host in ${HOSTS:-wasmtime wasmi node node-current iwasm}; do
    out=$(cd "$tmp" && "$here/../hosts/run-on.sh" "$host" m.wasm 2>/dev/null)
    rc=$?
    echo "== $(basename "$wat") on $host: exit $rc, stdout: ${out%%$'\n'*}"
  done
  rm -rf "$tmp"
done
