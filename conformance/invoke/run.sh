#!/usr/bin/env bash
# `--invoke` on components: each case of cases.txt runs directly on wasmtime
# (`wasmtime run --invoke CALL comp.wasm`), through the shim on each p1 host
# (`run-on.sh HOST --dir . p2shim.wasm --invoke CALL comp.wasm`) and, for a
# reactor, lowered: the component is lowered once with `p2shim lower --invoke`
# (the shim on wasmtime) and the host runs `run-on.sh HOST --dir . comp.p1.wasm
# CALL`. stdout and the exit status must be equal, and a failing run must say
# why on stderr without a Rust panic. (stderr wording differs: trap reports and
# syntax error hints are the shim's own.) A command component must be refused
# by `lower --invoke` in one line (exit 1), and is not run lowered.
# expected-failures.txt (the interpreter) and expected-failures-lower.txt (the
# lowered runs) list `HOST/FILE` (every call of FILE on HOST) or
# `HOST/FILE:CALL`, each with its reason.
#
#   conformance/invoke/run.sh [p2shim.wasm]
# Environment: HOSTS (default "wasmtime wasmi node node-current iwasm"), WASMTIME,
# WASM_TOOLS. Report: target/conformance/invoke.json (per host: pass, fail, xfail;
# the lowered runs' counts under "lowered").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shim=$(realpath "${1:-$root/target/p2shim.wasm}")
WASMTIME=${WASMTIME:-wasmtime}
WASM_TOOLS=${WASM_TOOLS:-wasm-tools}
hosts=${HOSTS:-wasmtime wasmi node node-current iwasm}
list() { sed -e 's/[[:space:]]*#.*//' -e '/^$/d' "$1"; }
expected=$(list "$here/expected-failures.txt")
expected_lower=$(list "$here/expected-failures-lower.txt")
listed() { grep -qxF "$2" <<<"$1" || grep -qxF "$3" <<<"$1"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export RUST_BACKTRACE=0
pass=0 fail=0 xfail=0
declare -A hpass hfail hxfail lowered
# Compares a run (OUT ERR RC in $work) with the direct one: counts it under
# KEY (a host, or lowered/HOST) against the list LIST.
compare() {
    local key=$1 host=$2 label=$3 out=$4 err=$5 rc=$6 list=$7 file=$8 why=""
    if [[ $direct != "$rc" ]]; then why="exit $rc, wasmtime $direct"; fi
    if ! cmp -s "$work/direct.out" "$work/$out"; then why="$why stdout differs"; fi
    if [[ $rc != 0 && ! -s "$work/$err" ]]; then why="$why no error message"; fi
    if grep -q "panicked" "$work/$err"; then why="$why a panic"; fi
    if listed "$list" "$host/$file" "$host/$file:$call"; then
        if [[ -z "$why" ]]; then
            fail=$((fail + 1)); hfail[$key]=$((${hfail[$key]:-0} + 1))
            echo "XPASS $label (listed)"
        else
            xfail=$((xfail + 1)); hxfail[$key]=$((${hxfail[$key]:-0} + 1))
            echo "xfail $label: $why"
        fi
    elif [[ -z "$why" ]]; then
        pass=$((pass + 1)); hpass[$key]=$((${hpass[$key]:-0} + 1))
        echo "ok    $label (exit $rc)"
    else
        fail=$((fail + 1)); hfail[$key]=$((${hfail[$key]:-0} + 1))
        echo "FAIL  $label: $why"
        diff <(cat "$work/direct.out" "$work/direct.err") <(cat "$work/$out" "$work/$err") | head -20 || true
    fi
}
while IFS=$'\t' read -r file call; do
    [[ -z "$file" || "$file" == \#* ]] && continue
    name=$(basename "$file" .wat)
    name=${name%.wasm}.wasm
    if [[ "$file" == *.wat ]]; then
        [[ -f "$work/$name" ]] || "$WASM_TOOLS" parse "$here/$file" -o "$work/$name"
    else
        cp "$root/$file" "$work/$name"
    fi
    p1=${name%.wasm}.p1.wasm
    if [[ -z "${lowered[$name]:-}" ]]; then
        # Lowered once per file: a reactor must lower, a command must be refused in one line.
        set +e
        (cd "$work" && "$WASMTIME" run --dir . "$shim" lower --invoke "$name" -o "$p1" \
            >lower.out 2>lower.err </dev/null)
        lrc=$?
        set -e
        if [[ $lrc == 0 ]]; then
            lowered[$name]=yes
        elif [[ $lrc == 1 && $(wc -l <"$work/lower.err") == 1 ]] && grep -q "this is a command" "$work/lower.err" \
            && ! grep -q panicked "$work/lower.err"; then
            lowered[$name]=refused
            echo "ok    lower --invoke $name: refused, a command ($(cat "$work/lower.err"))"
        else
            lowered[$name]=failed
            fail=$((fail + 1))
            echo "FAIL  lower --invoke $name: exit $lrc"; cat "$work/lower.err"
        fi
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
        compare "$host" "$host" "$host/$name --invoke '$call'" shim.out shim.err "$shimrc" "$expected" "$name"
        [[ ${lowered[$name]} == yes ]] || continue
        set +e
        (cd "$work" && "$here/../hosts/run-on.sh" "$host" --dir . "$p1" "$call" \
            >low.out 2>low.err </dev/null)
        lowrc=$?
        set -e
        compare "lowered/$host" "$host" "$host/$p1 '$call' (lowered)" low.out low.err "$lowrc" "$expected_lower" "$name"
    done
done <"$here/cases.txt"
cells=()
for host in $hosts; do cells+=("$host:${hpass[$host]:-0}:${hfail[$host]:-0}:${hxfail[$host]:-0}"); done
for host in $hosts; do
    k=lowered/$host
    cells+=("$k:${hpass[$k]:-0}:${hfail[$k]:-0}:${hxfail[$k]:-0}")
done
python3 "$root/conformance/report.py" "$root/target/conformance/invoke.json" invoke "${cells[@]}"
for host in $hosts; do
    k=lowered/$host
    echo "  $host: interpreter ${hpass[$host]:-0} + ${hxfail[$host]:-0} listed, FAIL ${hfail[$host]:-0}; lowered ${hpass[$k]:-0} + ${hxfail[$k]:-0} listed, FAIL ${hfail[$k]:-0}"
done
echo "invoke: $pass passed, $fail failed, $xfail expected failures"
[[ $fail == 0 ]]
