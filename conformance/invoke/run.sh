#!/usr/bin/env bash
# `--invoke` on components: each case of cases.txt runs directly on wasmtime
# (`wasmtime run --invoke CALL comp.wasm`) and through the shim on each p1 host
# (`run-on.sh HOST --dir . p2shim.wasm --invoke CALL comp.wasm`); stdout and the
# exit status must be equal, and a failing shim run must say why on stderr
# without a Rust panic. (stderr wording differs: trap reports and syntax
# error hints are the shim's own.) expected-failures.txt lists `HOST/FILE`
# (every call of FILE on HOST) or `HOST/FILE:CALL`, each with its reason.
#
#   conformance/invoke/run.sh [p2shim.wasm]
# Environment: HOSTS (default "wasmtime wasmi node node-current iwasm"), WASMTIME,
# WASM_TOOLS. Report: target/conformance/invoke.json (per host: pass, fail, xfail).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shim=$(realpath "${1:-$root/target/p2shim.wasm}")
WASMTIME=${WASMTIME:-wasmtime}
WASM_TOOLS=${WASM_TOOLS:-wasm-tools}
hosts=${HOSTS:-wasmtime wasmi node node-current iwasm}
expected=$(sed -e 's/[[:space:]]*#.*//' -e '/^$/d' "$here/expected-failures.txt")
listed() { grep -qxF "$1" <<<"$expected" || grep -qxF "$2" <<<"$expected"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export RUST_BACKTRACE=0
pass=0 fail=0 xfail=0
declare -A hpass hfail hxfail
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
    set -e
    for host in $hosts; do
        set +e
        (cd "$work" && "$here/../hosts/run-on.sh" "$host" --dir . "$shim" --invoke "$call" "$name" \
            >shim.out 2>shim.err </dev/null)
        shimrc=$?
        set -e
        why=""
        if [[ $direct != "$shimrc" ]]; then why="exit $shimrc, wasmtime $direct"; fi
        if ! cmp -s "$work/direct.out" "$work/shim.out"; then why="$why stdout differs"; fi
        if [[ $shimrc != 0 && ! -s "$work/shim.err" ]]; then why="$why no error message"; fi
        if grep -q "panicked" "$work/shim.err"; then why="$why the shim panicked"; fi
        label="$host/$name --invoke '$call'"
        if listed "$host/$name" "$host/$name:$call"; then
            if [[ -z "$why" ]]; then
                fail=$((fail + 1)); hfail[$host]=$((${hfail[$host]:-0} + 1))
                echo "XPASS $label (listed in expected-failures.txt)"
            else
                xfail=$((xfail + 1)); hxfail[$host]=$((${hxfail[$host]:-0} + 1))
                echo "xfail $label: $why"
            fi
        elif [[ -z "$why" ]]; then
            pass=$((pass + 1)); hpass[$host]=$((${hpass[$host]:-0} + 1))
            echo "ok    $label (exit $shimrc)"
        else
            fail=$((fail + 1)); hfail[$host]=$((${hfail[$host]:-0} + 1))
            echo "FAIL  $label: $why"
            diff <(cat "$work/direct.out" "$work/direct.err") <(cat "$work/shim.out" "$work/shim.err") | head -20 || true
        fi
    done
done <"$here/cases.txt"
cells=()
for host in $hosts; do cells+=("$host:${hpass[$host]:-0}:${hfail[$host]:-0}:${hxfail[$host]:-0}"); done
python3 "$root/conformance/report.py" "$root/target/conformance/invoke.json" invoke "${cells[@]}"
echo "invoke: $pass passed, $fail failed, $xfail expected failures"
[[ $fail == 0 ]]
