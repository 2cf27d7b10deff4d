#!/usr/bin/env bash
# `--invoke` on components: each case of cases.txt runs directly on wasmtime
# (`wasmtime run --invoke CALL comp.wasm`) and through the shim on wasmtime
# (`wasmtime run --dir . p2shim.wasm --invoke CALL comp.wasm`); stdout and the
# exit status must be equal, and a failing shim run must say why on stderr
# without a Rust panic. (stderr wording differs: trap reports and syntax
# error hints are the shim's own.)
#
#   conformance/invoke/run.sh [p2shim.wasm]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shim=$(realpath "${1:-$root/target/p2shim.wasm}")
WASMTIME=${WASMTIME:-wasmtime}
WASM_TOOLS=${WASM_TOOLS:-wasm-tools}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export RUST_BACKTRACE=0
pass=0 fail=0
while IFS=$'\t' read -r file call; do
    [[ -z "$file" || "$file" == \#* ]] && continue
    name=$(basename "$file" .wat)
    name=${name%.wasm}.wasm
    if [[ "$file" == *.wat ]]; then
        [[ -f "$work/$name" ]] || "$WASM_TOOLS" parse "$here/$file" -o "$work/$name"
    else
        cp "$root/$file" "$work/$name"
    fi
    set +e
    (cd "$work" && "$WASMTIME" run --invoke "$call" "$name" >direct.out 2>direct.err)
    direct=$?
    (cd "$work" && "$WASMTIME" run --dir . "$shim" --invoke "$call" "$name" >shim.out 2>shim.err)
    shimrc=$?
    set -e
    why=""
    if [[ $direct != "$shimrc" ]]; then why="exit $shimrc, wasmtime $direct"; fi
    if ! cmp -s "$work/direct.out" "$work/shim.out"; then why="$why stdout differs"; fi
    if [[ $shimrc != 0 && ! -s "$work/shim.err" ]]; then why="$why no error message"; fi
    if grep -q "panicked" "$work/shim.err"; then why="$why the shim panicked"; fi
    if [[ -z "$why" ]]; then
        pass=$((pass + 1))
        echo "ok    $name --invoke '$call' (exit $shimrc)"
    else
        fail=$((fail + 1))
        echo "FAIL  $name --invoke '$call': $why"
        diff <(cat "$work/direct.out" "$work/direct.err") <(cat "$work/shim.out" "$work/shim.err") | head -20 || true
    fi
done <"$here/cases.txt"
echo "invoke: $pass passed, $fail failed"
[[ $fail == 0 ]]
