#!/bin/bash
# Limits, guest-driven allocations, exit statuses and internal errors
# (`make limits-check`): each case runs a guest that pushes a limit (or ends
# in an unusual way) through the shim on wasmtime
# (`wasmtime run --dir . p2shim.wasm [OPTIONS] GUEST ARGS`) and checks that it
# ends as expected: the exit status, a line of stderr naming the limit, the
# tail of stdout, and never a Rust panic or an allocation failure of the shim
# ("panicked", "memory allocation of", "RUST_BACKTRACE"). Cases marked `same`
# also run natively (`wasmtime run [OPTIONS] GUEST ARGS`, wasmtime's own -W/-S
# options) and must end with the same exit status and the same line.
#
# Exit statuses: a `run` export returning an invalid result discriminant
# (wasmtime: a lift error, exit 1), a trapping `cabi_realloc` (a guest trap,
# 134, the backtrace reaching the caller of the WASI function), `exit` called
# with an invalid result discriminant (a failed lift of a host call's
# argument: exit 1), and a p1 guest that closes fd 2 and then traps (the
# report's first line, wasmtime's, must still reach the host's stderr), and
# two composed components: a Canonical ABI check failing in a call from one to
# the other is a Wasm trap in wasmtime's fused adapter (134), but an invalid
# string encoding is an error of its transcoding libcall (1). A line
# written ^...$ must be the first line of stderr. The shim's
# panic hook: `p2shim --internal-test-panic` (hidden) panics on purpose with
# output pending; the hook must make it one line and exit 1, output kept.
#
# Reentrance (the cases marked `lower`, which also run lowered: `p2shim
# lower`, then the output on wasmtime): an import called while `may_leave`
# is false (from a `realloc` the ABI runs, or from the post-return of the
# host's call) traps, a function lowered into the instance that lifts it
# traps, and what wasmtime 49 allows ends well (a post-return of a call
# between components calling imports; an instance entered again through
# another). The composed cases are made from reentrance.wat.in.
#
# Guests: the .wat files here and p2-limits (a wasm32-wasip2 component, built
# here). tables100 is generated: 100 tables of 10,000,000 funcrefs (8 GB of
# elements: native wasmtime maps them lazily and runs it; the shim, inside one
# 4 GiB memory, cannot, and must say so in one line).
#
# Usage: conformance/limits/run.sh [path/to/p2shim.wasm]
# Environment: WASMTIME, WASM_TOOLS, CARGO_TARGET_DIR.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
W=${WASMTIME:-$root/target/tools/bin/wasmtime}
WT=${WASM_TOOLS:-$root/target/tools/bin/wasm-tools}
shim=$(realpath "${1:-$root/target/p2shim.wasm}")
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$here/p2-limits" && cargo build -q --release --target wasm32-wasip2) || { echo "FAIL: p2-limits build"; exit 1; }
cp "$CARGO_TARGET_DIR/wasm32-wasip2/release/p2-limits.wasm" "$work/"
for f in "$here"/*.wat; do
  "$WT" parse "$f" -o "$work/$(basename "$f" .wat).wasm" || { echo "FAIL: $f"; exit 1; }
done
# reentrance-CALLEE-CALLER-POST.wasm: what each hole of the template calls.
for holes in wasi-none-none new-none-none none-wasi-none none-none-wasi none-none-new; do
  IFS=- read -r callee caller post <<< "$holes"
  call() { case "$1" in wasi) echo '(drop (call $rand))' ;; new) echo '(drop (call $new (i32.const 7)))' ;; esac; }
  sed -e "s/@CALLEE@/$(call "$callee")/" -e "s/@CALLER@/$(call "$caller")/" -e "s/@POST@/$(call "$post")/" \
    "$here/reentrance.wat.in" > "$work/reentrance-$holes.wat"
  "$WT" parse "$work/reentrance-$holes.wat" -o "$work/reentrance-$holes.wasm" || { echo "FAIL: reentrance-$holes"; exit 1; }
done
{
  echo '(module'
  for _ in $(seq 100); do echo '  (table 10000000 funcref)'; done
  echo '  (func (export "_start")))'
} > "$work/tables100.wat"
"$WT" parse "$work/tables100.wat" -o "$work/tables100.wasm"
cp "$shim" "$work/p2shim.wasm"

# name | native? | options | guest and arguments | exit status | a line of stderr | stdout ends with
cases='
iovecs          | same | | iovecs.wasm | 48 | |
tables100       | -    | | tables100.wasm | 1 | Error: failed to instantiate `tables100.wasm`: cannot allocate a table of 10000000 elements: out of memory |
grab-p1         | same | | grab.wasm | 0 | | grabbed
grab-p2         | same | | p2-limits.wasm grab | 0 | | done
max-instances   | same | -W max-instances=0 | counts.wasm | 1 | resource limit exceeded: instance count too high at 1 |
max-memories    | same | -W max-memories=0 | counts.wasm | 1 | resource limit exceeded: memory count too high at 1 |
max-tables      | same | -W max-tables=1 | counts.wasm | 1 | resource limit exceeded: table count too high at 2 |
max-memory-size | same | -W max-memory-size=65536 | counts.wasm | 1 | memory minimum size of 2 pages exceeds memory limits |
max-table-elems | same | -W max-table-elements=5 | counts.wasm | 1 | table minimum size of 10 elements exceeds table limits |
bad-discriminant | same | | run-bad-discriminant.wasm | 1 | 1: invalid expected discriminant |
realloc-trap    | same | | realloc-trap.wasm a b | 134 | m!<wasm function 1> |
exit-bad-discriminant | same | | exit-bad-discriminant.wasm | 1 | m!<wasm function 1> |
close-stderr    | same | | close-stderr.wasm | 134 | ^Error: failed to run main module `close-stderr.wasm`$ |
fused-char      | same | | fused-char.wasm | 134 | ^Error: failed to run main module `fused-char.wasm`$ |
fused-utf8      | same | | fused-utf8.wasm | 1 | ^Error: failed to run main module `fused-utf8.wasm`$ |
panic-hook      | -    | --internal-test-panic | | 1 | p2shim: internal error in cli/src/panic.rs: | output before the panic
post-return-import | lower | | post-return-import.wasm | 134 | cannot leave component instance |
lower-own-lift  | lower | | lower-own-lift.wasm | 134 | cannot enter component instance |
reenter-through-child | lower | | reenter-through-child.wasm | 0 | |
callee-realloc-wasi | lower | | reentrance-wasi-none-none.wasm | 134 | cannot leave component instance |
callee-realloc-resource-new | lower | | reentrance-new-none-none.wasm | 134 | cannot leave component instance |
caller-realloc-wasi | lower | | reentrance-none-wasi-none.wasm | 134 | cannot leave component instance |
callee-post-return-wasi | lower | | reentrance-none-none-wasi.wasm | 0 | |
callee-post-return-resource-new | lower | | reentrance-none-none-new.wasm | 0 | |
'
pass=0
fail=0
check() { # what exit-status stderr-file stdout-file want-status want-line want-tail
  local why=""
  [ "$2" = "$5" ] || why="exit $2, expected $5"
  if grep -qE 'panicked|memory allocation of|RUST_BACKTRACE' "$3"; then why="${why:+$why; }a panic of the runtime"; fi
  case "$6" in
    ^*$) if [ "^$(head -n 1 "$3")\$" != "$6" ]; then why="${why:+$why; }the first line of stderr is not '$6'"; fi ;;
    ?*) if ! grep -qF -- "$6" "$3"; then why="${why:+$why; }no line '$6' on stderr"; fi ;;
  esac
  if [ -n "$7" ] && [ "$(tail -c 200 "$4" | tail -n 1)" != "$7" ]; then why="${why:+$why; }stdout does not end with '$7'"; fi
  if [ -n "$why" ]; then
    echo "FAIL $1: $why"
    sed -e 's/^/    /' "$3" | grep -v '^ *[0-9]*: ' | head -n 8
    return 1
  fi
  echo "ok   $1"
}
while IFS='|' read -r name native opts guest status line tail; do
  name=$(echo "$name" | xargs)
  [ -n "$name" ] || continue
  native=$(echo "$native" | xargs); opts=$(echo "$opts" | xargs); guest=$(echo "$guest" | xargs)
  status=$(echo "$status" | xargs); line=$(echo "$line" | xargs); tail=$(echo "$tail" | xargs)
  # shellcheck disable=SC2086 # options and arguments are words
  (cd "$work" && timeout 600 "$W" run --dir . p2shim.wasm $opts $guest > out 2> err)
  if check "$name (shim)" $? "$work/err" "$work/out" "$status" "$line" "$tail"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
  if [ "$native" = same ] || [ "$native" = lower ]; then
    # shellcheck disable=SC2086
    (cd "$work" && timeout 600 "$W" run $opts $guest > out 2> err)
    if check "$name (native)" $? "$work/err" "$work/out" "$status" "$line" "$tail"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
  fi
  if [ "$native" = lower ]; then
    # shellcheck disable=SC2086 # the guest and its arguments are words
    set -- $guest
    lowered="${1%.wasm}.p1.wasm"
    if (cd "$work" && "$W" run --dir . p2shim.wasm lower "$1" -o "$lowered" > out 2> err); then
      shift
      # shellcheck disable=SC2086
      (cd "$work" && timeout 600 "$W" run $opts "$lowered" "$@" > out 2> err)
      if check "$name (lowered)" $? "$work/err" "$work/out" "$status" "$line" "$tail"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
    else
      echo "FAIL $name (lowered): p2shim lower failed"; sed -e 's/^/    /' "$work/err" | head -n 4
      fail=$((fail + 1))
    fi
  fi
done <<< "$cases"
echo "limits: $pass passed, $fail failed"
[ "$fail" = 0 ]
