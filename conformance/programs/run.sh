#!/bin/bash
# Builds the programs in conformance/programs/ for wasm32-wasip2 and compares
# the native p2 run (`wasmtime run --dir . app.wasm ARGS`, the reference) with
# the run through the shim on each p1 host (`HOST ... p2shim.wasm app.wasm
# ARGS`): stdout, stderr, exit code and the directory tree left behind
# (symlinks compared as links, not followed).
#
# Each program is a Cargo project in its own folder; its component is
# `$name.wasm` (a bin) or `${name//-/_}.wasm` (a cdylib exporting
# wasi:cli/run), or what its `build.sh` writes there instead of
# `cargo build` (p2-compose: two components composed). Optional files beside
# its Cargo.toml:
#   args          one argument set per line, in shell quoting (a blank line is an
#                 empty set, lines starting with # are skipped); default: three sets
#                 (none, `3`, `0 x 'y z'`). Run N of a program is its Nth set.
#   env           one K=V per line, passed with --env (besides P2T_A=1)
#   stdin         piped to the program (default: /dev/null)
#   stdin.sh      a bash script whose output is piped instead (for large input)
#   stdin-pipe.sh a bash script run beside the program, its output piped in live
#                 (with its pauses: a pipe that is often empty, as from a slow producer)
#   stdout-pipe   a shell command that reads the program's stdout (e.g. `head -n 3`,
#                 a reader that goes away); its output is compared, and the exit
#                 status is the program's
#   merge-stderr  (empty) stderr goes to stdout, so their interleaving is compared
#                 (not with stdout-pipe)
# stderr is compared up to the host's own error banner (hosts.py ERROR_BANNERS):
# after a trap wasmtime and the shim report in their own words.
#
# Usage: conformance/programs/run.sh [path/to/p2shim.wasm]
# Environment: HOSTS (default "wasmtime wasmi node node-current iwasm"), PROGRAMS (default: all),
# WASMTIME, CARGO_TARGET_DIR,
# MODE: how the component reaches the host:
#   shim     (default) `HOST ... p2shim.wasm app.wasm ARGS`
#   bundle   `p2shim bundle app.wasm -o app.p1.wasm` once, then `HOST ... app.p1.wasm ARGS`
#            (the bundle lies outside the preopened folder: nothing but itself is needed)
#   wrapper  `P2SHIM_HOST=HOST $WRAPPER --env .. --dir . app.wasm ARGS` (an installed
#            wasip2-run; WRAPPER must be set; the host's binary and name for the
#            wrapper come from `run-on.sh --wrapper-env HOST`)
#   lower    `p2shim lower app.wasm -o app.p1.wasm` once (the shim on wasmtime), then
#            `HOST ... app.wasm ARGS` with the lowered module in place of the component
#            (so argv[0] is the same; the folder comparison skips app.wasm)
# expected-failures.txt (MODE=lower: expected-failures-lower.txt) lists `host/program`
# (every run) or `host/program:N`, either followed by `@MODE` when it holds in that mode only.
# A run of every program writes target/conformance/p2-programs-MODE.json (per host:
# pass, fail, xfail) for conformance/host_matrix.py.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
W=${WASMTIME:-$root/target/tools/bin/wasmtime}
shim=$(realpath "${1:-$root/target/p2shim.wasm}")
hosts=${HOSTS:-wasmtime wasmi node node-current iwasm}
mode=${MODE:-shim}
case $mode in
  shim | bundle | lower) ;;
  wrapper) [ -x "${WRAPPER:-}" ] || { echo "MODE=wrapper needs WRAPPER=path/to/wasip2-run"; exit 2; } ;;
  *) echo "unknown MODE=$mode (shim, bundle, wrapper, lower)"; exit 2 ;;
esac
xfail_list=$here/expected-failures.txt
[ "$mode" != lower ] || xfail_list=$here/expected-failures-lower.txt
# In lower mode the host's app.wasm is the lowered module, not the component.
diff_skip=()
[ "$mode" != lower ] || diff_skip=(-x app.wasm)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
limit=600
declare -A hpass hfail hxfail
pass=0
fail=0
xfail=0
expected=$(sed -e 's/#.*//' "$xfail_list" | tr -s ' \t' '\n' | grep -v '^$')
listed() {
  local k
  for k in "$1" "$2" "$1@$mode" "$2@$mode"; do grep -qxF "$k" <<<"$expected" && return 0; done
  return 1
}
# Cut stderr at the first line of a host's own error report.
cut_banner() {
  awk '/^(Error: failed to run main module|Error: failed during execution|Exception: )/ { exit } { print }' "$1"
}
programs=${PROGRAMS:-$(cd "$here" && ls -d */ | tr -d /)}
for name in $programs; do
  bdir=
  dir="$here/$name"
  if [ -f "$dir/build.sh" ]; then
    build=(bash "$dir/build.sh")
  else
    build=(cargo build -q --release --target wasm32-wasip2)
  fi
  if ! (cd "$dir" && "${build[@]}"); then
    echo "FAIL $name: build"; fail=$((fail + 1)); continue
  fi
  wasm="$CARGO_TARGET_DIR/wasm32-wasip2/release/$name.wasm"
  [ -f "$wasm" ] || wasm="$CARGO_TARGET_DIR/wasm32-wasip2/release/${name//-/_}.wasm"
  if [ "$mode" = bundle ] || [ "$mode" = lower ]; then
    bdir=$(mktemp -d)
    cp "$wasm" "$bdir/app.wasm"
    cp "$shim" "$bdir/p2shim.wasm"
    if ! (cd "$bdir" && "$W" run --dir . p2shim.wasm "$mode" app.wasm -o app.p1.wasm); then
      echo "FAIL $name: $mode"; fail=$((fail + 1)); rm -rf "$bdir"; continue
    fi
  fi
  if [ -f "$dir/args" ]; then
    mapfile -t argsets < <(grep -v '^#' "$dir/args")
  else
    argsets=("" "3" "0 x 'y z'")
  fi
  envopts=(--env P2T_A=1)
  if [ -f "$dir/env" ]; then
    while IFS= read -r kv; do envopts+=(--env "$kv"); done <"$dir/env"
  fi
  n=0
  for args in "${argsets[@]}"; do
    n=$((n + 1))
    eval "argv=($args)"
    tmp=$(mktemp -d)
    stdin=/dev/null
    if [ -f "$dir/stdin.sh" ]; then
      bash "$dir/stdin.sh" >"$tmp/stdin"; stdin=$tmp/stdin
    elif [ -f "$dir/stdin" ]; then
      stdin=$dir/stdin
    fi
    merge=false
    [ -f "$dir/merge-stderr" ] && merge=true
    # run OUT-PREFIX COMMAND...: in the current folder, stdin piped in.
    run() {
      local out=$1 rc; shift
      if [ -f "$dir/stdin-pipe.sh" ]; then
        exec 3< <(bash "$dir/stdin-pipe.sh")
      else
        exec 3<"$stdin"
      fi
      if [ -f "$dir/stdout-pipe" ]; then
        timeout $limit "$@" <&3 2>"$out.rawerr" | bash -c "$(cat "$dir/stdout-pipe")" >"$out.out"
        rc=${PIPESTATUS[0]}
      elif $merge; then
        timeout $limit "$@" <&3 >"$out.out" 2>&1
        rc=$?
      else
        timeout $limit "$@" <&3 >"$out.out" 2>"$out.rawerr"
        rc=$?
      fi
      exec 3<&-
      echo "exit $rc" >>"$out.out"
      touch "$out.rawerr"
      cut_banner "$out.rawerr" >"$out.err"
    }
    mkdir "$tmp/native"
    cp "$wasm" "$tmp/native/app.wasm"
    (cd "$tmp/native" && run ../native "$W" run "${envopts[@]}" --dir . app.wasm "${argv[@]}")
    for host in $hosts; do
      mkdir "$tmp/$host"
      if [ "$mode" = lower ]; then
        cp "$bdir/app.p1.wasm" "$tmp/$host/app.wasm"
      else
        cp "$wasm" "$tmp/$host/app.wasm"
      fi
      case $mode in
        shim) via=("$here/../hosts/run-on.sh" "$host" "${envopts[@]}" --dir . "$shim" app.wasm) ;;
        bundle) via=("$here/../hosts/run-on.sh" "$host" "${envopts[@]}" --dir . "$bdir/app.p1.wasm") ;;
        lower) via=("$here/../hosts/run-on.sh" "$host" "${envopts[@]}" --dir . app.wasm) ;;
        wrapper)
          mapfile -t wenv < <("$here/../hosts/run-on.sh" --wrapper-env "$host")
          via=(env "${wenv[@]}" "$WRAPPER" "${envopts[@]}" --dir . app.wasm) ;;
      esac
      (cd "$tmp/$host" && run "../$host" "${via[@]}" "${argv[@]}")
      label="$host/$name:$n ($args)"
      if diff "$tmp/native.out" "$tmp/$host.out" >"$tmp/diff" && diff "$tmp/native.err" "$tmp/$host.err" >>"$tmp/diff" &&
         diff -r --no-dereference "${diff_skip[@]}" "$tmp/native" "$tmp/$host" >>"$tmp/diff"; then
        if listed "$host/$name" "$host/$name:$n"; then
          echo "XPASS $label (listed in $(basename "$xfail_list"))"; fail=$((fail + 1)); hfail[$host]=$((${hfail[$host]:-0} + 1))
        else
          echo "ok   $label"; pass=$((pass + 1)); hpass[$host]=$((${hpass[$host]:-0} + 1))
        fi
      elif listed "$host/$name" "$host/$name:$n"; then
        echo "xfail $label"; xfail=$((xfail + 1)); hxfail[$host]=$((${hxfail[$host]:-0} + 1))
      else
        echo "FAIL $label"; head -n 40 "$tmp/diff"; fail=$((fail + 1)); hfail[$host]=$((${hfail[$host]:-0} + 1))
      fi
    done
    rm -rf "$tmp"
  done
  [ -z "${bdir:-}" ] || rm -rf "$bdir"
done
cells=()
for host in $hosts; do
  echo "  $host: ${hpass[$host]:-0} passed, ${hfail[$host]:-0} failed, ${hxfail[$host]:-0} expected failures"
  cells+=("$host:${hpass[$host]:-0}:${hfail[$host]:-0}:${hxfail[$host]:-0}")
done
report=$root/target/conformance/p2-programs-$mode.json
[ -n "${PROGRAMS:-}" ] || python3 "$root/conformance/report.py" "$report" "p2-programs-$mode" "${cells[@]}"
echo "p2 programs ($mode): $pass passed, $fail failed, $xfail expected failures"
[ "$fail" -eq 0 ]
