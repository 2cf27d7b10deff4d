#!/bin/bash
# Runs the componentize-py and componentize-js sample components
# (target/toolchains/{python,js}.wasm, built by scripts/install-toolchains.sh)
# natively (`wasmtime run --dir . app.wasm ARGS`, the reference) and through
# the shim on each p1 host (`HOST ... p2shim.wasm app.wasm ARGS`), and compares
# stdout, stderr, exit code and the files left behind.
# Usage: conformance/toolchains/run.sh [path/to/p2shim.wasm]
# Environment: HOSTS (default "wasmtime wasmi node node-current iwasm"), WASMTIME,
# MODE: shim (default), or lower: each component lowered once (`p2shim.wasm lower`
# on wasmtime) and the p1 module, named app.wasm, run directly by each host (list:
# expected-failures-lower.txt).
# Report: target/conformance/toolchains[-lower].json (per host: pass, fail, xfail).
# The native side runs a `wasmtime compile`d copy (compiling an 18 MB
# component takes wasmtime tens of seconds; once is enough: it is kept as
# target/toolchains/NAME.wasmtime-VERSION.cwasm while newer than the component, so the
# shim and lower modes share it). It is named app.wasm too so that argv[0] matches;
# the file comparison skips app.wasm.
# No empty env value: the wasmi CLI rejects `--env K=` (args cover empty strings).
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
W=${WASMTIME:-$root/target/tools/bin/wasmtime}
# shellcheck disable=SC2034 # used inside eval
shim=$(realpath "${1:-$root/target/p2shim.wasm}")
hosts=${HOSTS:-wasmtime wasmi node node-current iwasm}
out=$root/target/toolchains
pass=0
fail=0
xfail=0
mode=${MODE:-shim}
case $mode in
  shim) xfail_list=$here/expected-failures.txt; report=toolchains ;;
  lower) xfail_list=$here/expected-failures-lower.txt; report=toolchains-lower ;;
  *) echo "unknown MODE=$mode (shim, lower)"; exit 2 ;;
esac
declare -A hpass hfail hxfail
expected=$(sed -e 's/#.*//' "$xfail_list" | tr -s ' \t' '\n' | grep -v '^$')
listed() { grep -qxF "$1" <<<"$expected"; }
wversion=$("$W" --version | awk '{print $2}')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for name in python js; do
  wasm="$out/$name.wasm"
  if [ ! -f "$wasm" ]; then
    echo "FAIL $name: $wasm missing (run scripts/install-toolchains.sh)"; fail=$((fail + 1)); continue
  fi
  # Compiled once per component and wasmtime version, kept beside the component for the
  # other mode's run (make test runs both).
  cwasm="$out/$name.wasmtime-$wversion.cwasm"
  if [ ! "$cwasm" -nt "$wasm" ]; then
    if ! "$W" compile "$wasm" -o "$cwasm.tmp" || ! mv "$cwasm.tmp" "$cwasm"; then
      echo "FAIL $name: wasmtime compile"; fail=$((fail + 1)); continue
    fi
  fi
  if [ "$mode" = lower ]; then
    mkdir -p "$work/lower"
    cp "$wasm" "$work/lower/app.wasm"
    if ! (cd "$work/lower" && "$W" run --dir . "$shim" lower app.wasm -o "$name.p1.wasm"); then
      echo "FAIL $name: lower"; fail=$((fail + 1)); continue
    fi
  fi
  for args in "" "a 'b c' '' 'ünï cödé'" "fail x"; do
    tmp=$(mktemp -d -p "$work")
    for side in native $hosts; do
      mkdir "$tmp/$side"
      printf 'line one\nline two: ünï\n' >"$tmp/$side/input.txt"
    done
    cp "$cwasm" "$tmp/native/app.wasm"
    # shellcheck disable=SC2034 # used inside eval
    env=(--env TC_GREETING="héllo wörld" --env TC_EQ="k=v=w")
    (cd "$tmp/native" && eval '"$W" run --allow-precompiled "${env[@]}" --dir . app.wasm' "$args" \
      </dev/null >../native.out 2>../native.err; echo "exit $?" >>../native.out)
    for host in $hosts; do
      if [ "$mode" = lower ]; then
        # The lowered module in place of the component: same argv[0].
        cp "$work/lower/$name.p1.wasm" "$tmp/$host/app.wasm"
        (cd "$tmp/$host" && eval '"$here/../hosts/run-on.sh" "$host" "${env[@]}" --dir . app.wasm' "$args" \
          </dev/null >"../$host.out" 2>"../$host.err"; echo "exit $?" >>"../$host.out")
      else
        cp "$wasm" "$tmp/$host/app.wasm"
        (cd "$tmp/$host" && eval '"$here/../hosts/run-on.sh" "$host" "${env[@]}" --dir . "$shim" app.wasm' "$args" \
          </dev/null >"../$host.out" 2>"../$host.err"; echo "exit $?" >>"../$host.out")
      fi
      if diff "$tmp/native.out" "$tmp/$host.out" && diff "$tmp/native.err" "$tmp/$host.err" &&
        diff -r -x app.wasm "$tmp/native" "$tmp/$host"; then
        if listed "$host/$name"; then
          echo "XPASS $host/$name $args (listed in $(basename "$xfail_list"))"; fail=$((fail + 1)); hfail[$host]=$((${hfail[$host]:-0} + 1))
        else
          echo "ok   $host/$name $args"; pass=$((pass + 1)); hpass[$host]=$((${hpass[$host]:-0} + 1))
        fi
      elif listed "$host/$name"; then
        echo "xfail $host/$name $args"; xfail=$((xfail + 1)); hxfail[$host]=$((${hxfail[$host]:-0} + 1))
      else
        echo "FAIL $host/$name $args"; fail=$((fail + 1)); hfail[$host]=$((${hfail[$host]:-0} + 1))
      fi
    done
  done
done
cells=()
for host in $hosts; do cells+=("$host:${hpass[$host]:-0}:${hfail[$host]:-0}:${hxfail[$host]:-0}"); done
python3 "$root/conformance/report.py" "$root/target/conformance/$report.json" "$report" "${cells[@]}"
echo "toolchain components ($mode): $pass passed, $fail failed, $xfail expected failures"
[ "$fail" -eq 0 ]
