#!/usr/bin/env bash
# `A && ok || bad` is meant throughout: ok always succeeds.
# shellcheck disable=SC2015
# Tests distribution (make test-dist): `make install` into a temporary root,
# the installed wasip2-run on every host of HOSTS (help, errors, the demo
# component, the p2 programs, --bundle), and the .deb built, unpacked with
# dpkg-deb -x and run.
#
#   packaging/test-dist.sh path/to/p2shim.wasm     (HOSTS: default every host of hosts.py)
#
# Every check compares with the native p2 run on wasmtime, so a wrong
# translation of --dir/--env/argv fails. Exits 1 if any check failed.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
shim="$(realpath "${1:?usage: test-dist.sh p2shim.wasm}")"
hosts=${HOSTS:-wasmtime wasmi node node-current iwasm}
W=${WASMTIME:-$root/target/tools/bin/wasmtime}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Lowered modules are cached here, not in the user's cache.
export XDG_CACHE_HOME="$tmp/cache"
failed=0
pass=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }
check() { # check NAME CMD...: CMD must succeed
    local name=$1; shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}

# ---- the scripts ----------------------------------------------------------------
check "sh -n wasip2-run" sh -n "$here/wasip2-run"
if command -v shellcheck >/dev/null; then
    check "shellcheck wasip2-run" shellcheck -s sh "$here/wasip2-run"
    check "shellcheck packaging scripts" shellcheck "$here/debian/build.sh" "$here/test-dist.sh"
else
    echo "skip shellcheck (not installed; scripts/install-tools.sh installs it from Debian)"
fi
if command -v dash >/dev/null; then check "dash -n wasip2-run" dash -n "$here/wasip2-run"; fi
# The binfmt_misc line: 7 ':'-separated fields after the leading ':'.
# shellcheck disable=SC2016 # awk's own $fields
check "binfmt registration syntax" awk -F: '!/^#/ && NF { n++; if (NF != 8 || $3 != "M" || $5 != "\\x00asm\\x0d\\x00\\x01\\x00" || $7 != "/usr/bin/wasip2-run") exit 1 } END { exit n == 1 ? 0 : 1 }' "$here/binfmt/wasip2-run.conf"

# ---- make install -----------------------------------------------------------------
stage="$tmp/stage"
make -C "$root" --no-print-directory install-files DESTDIR="$stage" PREFIX=/opt/p2 >/dev/null
for f in bin/wasip2-run share/p2shim/p2shim.wasm share/p2shim/node-wasi.mjs share/man/man1/wasip2-run.1; do
    check "make install: $f" test -s "$stage/opt/p2/$f"
done
check "installed shim is the built one" cmp -s "$shim" "$stage/opt/p2/share/p2shim/p2shim.wasm"
run="$stage/opt/p2/bin/wasip2-run"
check "installed wrapper is executable" test -x "$run"
if command -v groff >/dev/null; then
    groff -man -Tutf8 -ww "$stage/opt/p2/share/man/man1/wasip2-run.1" >"$tmp/man.txt" 2>"$tmp/man.err"
    [[ ! -s "$tmp/man.err" ]] && grep -Eq 'wasip2-run +- +run +a +WASIp2 +component' "$tmp/man.txt" &&
        ok "man page renders without groff warnings" || bad "man page: $(cat "$tmp/man.err")"
else
    echo "skip man page rendering (no groff)"
fi

# ---- wrapper: help and errors -------------------------------------------------------
help="$("$run" --help)" && grep -q 'wasmtime wasmer wasmedge iwasm wazero wasmi node' <<<"$help" &&
    grep -q -- '--stack-size' <<<"$help" && ok "--help lists the hosts" || bad "--help lists the hosts"
[[ "$("$run" --version)" == "wasip2-run $(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)" ]] &&
    ok "--version" || bad "--version"
nohost=(env -u P2SHIM_HOST WASMTIME=/nonexistent WASMER=/nonexistent WASMEDGE=/nonexistent IWASM=/nonexistent
        WAZERO=/nonexistent WASMI=/nonexistent NODE=/nonexistent)
"${nohost[@]}" "$run" x.wasm >/dev/null 2>"$tmp/err"
rc=$?
[[ $rc == 127 ]] && grep -q 'no WASIp1 host found; install one of: wasmtime' "$tmp/err" &&
    ok "no host installed: exit 127 and says so" || bad "no host installed (rc $rc: $(cat "$tmp/err"))"
P2SHIM_HOST=nosuch "$run" x.wasm 2>"$tmp/err"
rc=$?
[[ $rc == 2 ]] && grep -q "unknown host 'nosuch'" "$tmp/err" && ok "unknown P2SHIM_HOST" || bad "unknown P2SHIM_HOST (rc $rc)"
"$run" --dir /nonexistent-dir x.wasm 2>"$tmp/err"
rc=$?
[[ $rc == 2 ]] && grep -q "is not a folder" "$tmp/err" && ok "bad --dir" || bad "bad --dir (rc $rc)"
"$run" --frob x.wasm 2>/dev/null; [[ $? == 2 ]] && ok "unknown option" || bad "unknown option"
: >"$tmp/x.wasm"
(cd "$tmp" && P2SHIM_HOST=wasmtime "$run" --dry-run --dir .::/g --env A=1 x.wasm a >"$tmp/dry" 2>&1)
grep -q "'--dir' '.::/g'" "$tmp/dry" && grep -q "'--argv0' 'x.wasm'" "$tmp/dry" &&
    ok "--dry-run shows the wasmtime command" || bad "--dry-run: $(cat "$tmp/dry")"
# Hosts not installed here: their translation only, through a stand-in binary
# (an installed host is run for real below, renamed folders included).
mkdir -p "$tmp/fake"
declare -A want=(
    [wasmer]="'--mapdir' '/g:$tmp'"
    [wasmedge]="'--dir' '/g:$tmp'"
    [iwasm]="'--stack-size=16777216' '--map-dir=/g::$tmp' .*'--env=A=1'"
    [wazero]="'-mount=$tmp:/g' .*'-env=A=1'"
)
for h in wasmer wasmedge iwasm wazero; do
    if [[ " $hosts " == *" $h "* ]]; then continue; fi
    printf '#!/bin/sh\nexit 0\n' >"$tmp/fake/$h"; chmod +x "$tmp/fake/$h"
    upper=$(tr '[:lower:]' '[:upper:]' <<<"$h")
    env "$upper=$tmp/fake/$h" P2SHIM_HOST=$h "$run" --dry-run --dir "$tmp::/g" --env A=1 "$tmp/dry" >"$tmp/dry.$h"
    grep -q "${want[$h]}" "$tmp/dry.$h" && ok "$h (not installed): the command line's text" ||
        bad "$h (not installed): $(cat "$tmp/dry.$h")"
done

# ---- the demo component through the installed wrapper ------------------------------------
(cd "$root/examples/hello-p1" && cargo build -q --release --target wasm32-wasip2) || bad "build examples/hello-p1"
demo="$CARGO_TARGET_DIR/wasm32-wasip2/release/hello-p1.wasm"
# run_demo NAME CMD...: CMD (run in a fresh folder holding hello.wasm) must
# print, exit and write what the native p2 run does.
mkdir -p "$tmp/native" && cp "$demo" "$tmp/native/hello.wasm"
(cd "$tmp/native" && "$W" run --dir . --env "GREETING=hi there" hello.wasm one 'two words' >out 2>err; echo "exit $?" >>out)
# On wasmi a lowered program's argv[0] is the cached module's path (BUGS in
# wasip2-run(1): the wasmi CLI passes the path as given and cannot rename
# folders): with CACHED=1 that path must be there, and is read as hello.wasm.
run_demo() {
    local name=$1; shift
    local d="$tmp/run.$name" cached=""
    rm -rf "$d"; mkdir -p "$d"; cp "$demo" "$d/hello.wasm"
    (cd "$d" && "$@" --dir . --env "GREETING=hi there" hello.wasm one 'two words' >out 2>err </dev/null; echo "exit $?" >>out)
    if [[ ${CACHED:-0} == 1 ]]; then
        cached=$(grep -o "$XDG_CACHE_HOME/p2shim/[^\"]*/hello.wasm" "$d/out" | head -n 1)
        [[ -n $cached ]] || { bad "$name: argv[0] is no longer the cached path (update BUGS and this test)"; return; }
        sed -i "s|$cached|hello.wasm|g" "$d/out" "$d/hello-p1-output.txt"
        name="$name (argv[0] the cached module's path, as BUGS says)"
    fi
    if diff -r "$tmp/native" "$d" >"$tmp/diff"; then ok "$name"; else bad "$name"; cat "$tmp/diff"; fi
}
# wenv HOST: the environment that makes the wrapper use HOST (hosts.py).
wenv() { "$root/conformance/hosts/run-on.sh" --wrapper-env "$1"; }
for h in $hosts; do
    mapfile -t e < <(wenv "$h")
    CACHED=$([[ $h == wasmi ]] && echo 1 || echo 0) run_demo "wasip2-run on $h: demo component" env "${e[@]}" "$run"
    run_demo "wasip2-run --interpret on $h: demo component" env "${e[@]}" "$run" --interpret
done
# Renamed folders, run on each host: packaging/test-dirs prints the preopens in
# order and what each holds; the wrapper must give what native wasmtime gives.
if (cd "$here/test-dirs" && cargo build -q --release --target wasm32-wasip2); then
    dirs_wasm="$CARGO_TARGET_DIR/wasm32-wasip2/release/test-dirs.wasm"
    # dirs_case NAME RENAMES DIR-OPTIONS...: the native run, then the wrapper on
    # each host; RENAMES=1 if a folder gets a name other than its path, . or /.
    dirs_case() {
        local name=$1 renames=$2; shift 2
        local d="$tmp/dirs" side
        for side in native $hosts; do
            rm -rf "${d:?}/$side"; mkdir -p "$d/$side/bin" "$d/$side/data/sub" "$d/$side/d2"
            cp "$dirs_wasm" "$d/$side/bin/app.wasm"
            echo "in data" >"$d/$side/data/f.txt"; echo "in d2" >"$d/$side/d2/g.txt"
        done
        (cd "$d/native" && "$W" run "$@" bin/app.wasm >../native.out 2>&1; echo "exit $?" >>../native.out)
        for h in $hosts; do
            mapfile -t e < <(wenv "$h")
            (cd "$d/$h" && env "${e[@]}" "$run" "$@" bin/app.wasm >"../$h.out" 2>&1 </dev/null; echo "exit $?" >>"../$h.out")
            if [[ $h == wasmi && $renames == 1 ]]; then
                # wasmi's CLI cannot rename a folder: the wrapper must say so and exit 2.
                grep -q "wasmi cannot preopen" "$d/$h.out" && grep -qx "exit 2" "$d/$h.out" &&
                    ok "wasip2-run on wasmi: $name refused (wasmi cannot rename a folder)" ||
                    bad "wasip2-run on wasmi: $name: $(cat "$d/$h.out")"
            elif diff "$d/native.out" "$d/$h.out" >"$tmp/diff"; then
                ok "wasip2-run on $h: $name"
            else
                bad "wasip2-run on $h: $name"; cat "$tmp/diff"
            fi
        done
    }
    dirs_case "--dir data::." 0 --dir data::.
    dirs_case "--dir d2::y --dir data" 1 --dir d2::y --dir data
    # The shim's preopen scan steps over a closed preopen in the middle: the
    # hidden folder comes first (fd 3) and is closed, `.` is fd 4.
    d="$tmp/dirs"
    (cd "$d/native" && "$W" run --dir data::. bin/app.wasm >../native.out 2>&1; echo "exit $?" >>../native.out)
    for h in $hosts; do
        (cd "$d/$h" && "$root/conformance/hosts/run-on.sh" "$h" --dir "$d/$h/bin" --dir "$d/$h/data::." "$shim" \
            --hide-preopen "$d/$h/bin" "$d/$h/bin/app.wasm" >"../$h.out" 2>&1 </dev/null; echo "exit $?" >>"../$h.out")
        if diff "$d/native.out" "$d/$h.out" >"$tmp/diff"; then
            ok "p2shim on $h: a hidden preopen before the others"
        else
            bad "p2shim on $h: a hidden preopen before the others"; cat "$tmp/diff"
        fi
    done
else
    bad "build packaging/test-dirs"
fi

# Default host choice: the first found (wasmtime here).
[[ "$("$run" --print-host | cut -d' ' -f1)" == wasmtime ]] && ok "default host is wasmtime" || bad "default host"

# --invoke through the wrapper: a core module's export, printed like wasmtime --invoke.
mkdir -p "$tmp/inv"
if "${WASM_TOOLS:-wasm-tools}" parse -o "$tmp/inv/m.wasm" - <<<'(module (memory (export "memory") 1) (func (export "answer") (result i32) i32.const 42))'; then
    "$W" run --invoke answer "$tmp/inv/m.wasm" >"$tmp/inv/direct" 2>/dev/null
    for h in $hosts; do
        mapfile -t e < <(wenv "$h")
        env "${e[@]}" "$run" --invoke answer "$tmp/inv/m.wasm" >"$tmp/inv/$h" 2>"$tmp/inv/$h.err"
        cmp -s "$tmp/inv/direct" "$tmp/inv/$h" && [[ -s "$tmp/inv/direct" ]] &&
            ok "wasip2-run --invoke on $h" || bad "wasip2-run --invoke on $h: $(cat "$tmp/inv/$h" "$tmp/inv/$h.err")"
    done
else
    bad "wasm-tools parse (for the --invoke check)"
fi

# ---- lowered mode: the default for components, cached; --lower, --interpret ------------------
# Components made here so that they stay lowerable, or not, whatever the WASI library
# implements: `run` returning ok or err (no import), and one that instantiates a core
# module twice (lowered mode refuses that; the interpreter runs it).
mkdir -p "$tmp/low"
component() { # component NAME RESULT TWICE
    local second=""
    # shellcheck disable=SC2016 # WAT names, not shell variables
    [[ $3 == 1 ]] && second='(core instance $b (instantiate $m))'
    "${WASM_TOOLS:-wasm-tools}" parse -o "$tmp/low/$1" - <<EOF
(component
  (core module \$m (memory (export "memory") 1) (func (export "run") (result i32) (i32.const $2)))
  (core instance \$a (instantiate \$m))
  $second
  (func \$run (result (result)) (canon lift (core func \$a "run")))
  (instance \$i (export "run" (func \$run)))
  (export "wasi:cli/run@0.2.0" (instance \$i)))
EOF
}
if component ok.wasm 0 0 && component err.wasm 1 0 && component twice.wasm 0 1; then
    for h in $hosts; do
        mapfile -t e < <(wenv "$h")
        rm -rf "$XDG_CACHE_HOME"
        env "${e[@]}" "$run" "$tmp/low/ok.wasm"; rc_ok=$?
        env "${e[@]}" "$run" "$tmp/low/err.wasm"; rc_err=$?
        n=$(find "$XDG_CACHE_HOME/p2shim" -name '*.wasm' 2>/dev/null | wc -l)
        [[ $rc_ok == 0 && $rc_err == 1 && $n == 2 ]] &&
            ok "wasip2-run on $h: components lowered and cached (exit 0 and 1)" ||
            bad "wasip2-run on $h: lowered (exits $rc_ok $rc_err, $n cached)"
        # A second run starts the cached module: no lowering in the dry run.
        dry=$(env "${e[@]}" "$run" --dry-run "$tmp/low/ok.wasm")
        [[ $(wc -l <<<"$dry") == 1 && $dry == *"ok.wasm"* && $dry != *p2shim.wasm* ]] &&
            ok "wasip2-run on $h: the cached module runs without the shim" || bad "wasip2-run on $h: cached dry run: $dry"
        env "${e[@]}" "$run" "$tmp/low/twice.wasm" 2>"$tmp/err"; rc=$?
        [[ $rc == 0 && ! -s "$tmp/err" ]] && ok "wasip2-run on $h: not lowerable, runs in the interpreter" ||
            bad "wasip2-run on $h: fallback (rc $rc: $(cat "$tmp/err"))"
    done
    # --invoke: a reactor lowered with `lower --invoke` (its own cache key), a command in the interpreter.
    "${WASM_TOOLS:-wasm-tools}" parse -o "$tmp/low/reactor.wasm" "$root/conformance/invoke/reactor.wat"
    for h in $hosts; do
        mapfile -t e < <(wenv "$h")
        rm -rf "$XDG_CACHE_HOME"
        out=$(env "${e[@]}" "$run" --lower --invoke 'echo("hi")' "$tmp/low/reactor.wasm" 2>"$tmp/err"); rc=$?
        n=$(find "$XDG_CACHE_HOME/p2shim" -path '*-invoke/reactor.wasm' 2>/dev/null | wc -l)
        [[ $rc == 0 && $out == '"hi"' && $n == 1 ]] && ok "wasip2-run --invoke on $h: a reactor lowered (cached)" ||
            bad "wasip2-run --invoke on $h: lowered reactor (rc $rc, out $out, $n cached: $(cat "$tmp/err"))"
        out=$(env "${e[@]}" "$run" --invoke 'run()' "$tmp/low/ok.wasm" 2>"$tmp/err"); rc=$?
        [[ $rc == 0 && $out == 'ok' ]] && ok "wasip2-run --invoke on $h: a command in the interpreter" ||
            bad "wasip2-run --invoke on $h: command (rc $rc, out $out: $(cat "$tmp/err"))"
    done
    "$run" --lower "$tmp/low/twice.wasm" 2>"$tmp/err"; rc=$?
    [[ $rc == 1 ]] && grep -q "cannot be lowered: .*instantiated more than once" "$tmp/err" &&
        ok "--lower on a component that cannot be lowered: exit 1 and why" || bad "--lower (rc $rc: $(cat "$tmp/err"))"
    dry=$("$run" --interpret --dry-run "$tmp/low/ok.wasm")
    [[ $dry == *p2shim.wasm*"'--argv0' 'ok.wasm'"* ]] && ok "--interpret runs the shim" || bad "--interpret: $dry"
else
    bad "wasm-tools parse (the lowered-mode components)"
fi

# ---- the p2 programs through the installed wrapper ------------------------------------------
if MODE=wrapper WRAPPER="$run" HOSTS="$hosts" bash "$root/conformance/programs/run.sh" "$shim" >"$tmp/programs" 2>&1; then
    ok "p2 programs through wasip2-run: $(tail -1 "$tmp/programs")"
else
    bad "p2 programs through wasip2-run"; cat "$tmp/programs"
fi

# ---- --bundle through the wrapper, the bundle on each host, no other file -------------------
mkdir -p "$tmp/b/in" "$tmp/b/out"
cp "$demo" "$tmp/b/in/hello.wasm"
if P2SHIM_HOST=wasmtime "$run" --bundle "$tmp/b/in/hello.wasm" -o "$tmp/b/out/hello.p1.wasm" && [[ -s "$tmp/b/out/hello.p1.wasm" ]]; then
    ok "wasip2-run --bundle"
    # The bundle alone in an empty folder: the native run's outputs, argv[0] = hello.wasm.
    for h in $hosts; do
        d="$tmp/b/run.$h"; mkdir -p "$d"; cp "$demo" "$d/hello.wasm"
        (cd "$d" && "$root/conformance/hosts/run-on.sh" "$h" --dir . --env "GREETING=hi there" \
            "$tmp/b/out/hello.p1.wasm" one 'two words' >out 2>err </dev/null; echo "exit $?" >>out)
        if diff -r "$tmp/native" "$d" >"$tmp/diff"; then ok "bundle on $h"; else bad "bundle on $h"; cat "$tmp/diff"; fi
    done
else
    bad "wasip2-run --bundle"
fi
"$W" run --dir "$tmp/b" "$shim" bundle --shim "$tmp/b/out/hello.p1.wasm" "$tmp/b/in/hello.wasm" -o "$tmp/b/twice.wasm" 2>"$tmp/err"
rc=$?
[[ $rc == 1 ]] && grep -q 'already a bundle' "$tmp/err" && ok "bundling a bundle is refused" || bad "bundling a bundle (rc $rc: $(cat "$tmp/err"))"
printf 'junk' >"$tmp/b/in/junk.wasm"
cp "$shim" "$tmp/b/p2shim.wasm"
"$W" run --dir "$tmp/b" "$shim" bundle --shim "$tmp/b/p2shim.wasm" "$tmp/b/in/junk.wasm" -o "$tmp/b/junk.p1.wasm" 2>"$tmp/err"
rc=$?
[[ $rc == 1 ]] && grep -q 'not a WebAssembly binary' "$tmp/err" && ok "bundling a non-wasm file is refused" || bad "bundling junk (rc $rc: $(cat "$tmp/err"))"

# ---- the .deb --------------------------------------------------------------------------
deb="$tmp/p2shim.deb"
if bash "$here/debian/build.sh" "$deb" >/dev/null; then
    ok "build the .deb"
    grep -q "Architecture: all" <<<"$(dpkg-deb --info "$deb")" && ok ".deb control" || bad ".deb control"
    dpkg-deb -x "$deb" "$tmp/debroot"
    for f in usr/bin/wasip2-run usr/share/p2shim/p2shim.wasm usr/share/p2shim/node-wasi.mjs \
             usr/share/man/man1/wasip2-run.1.gz usr/share/p2shim/binfmt/wasip2-run.conf; do
        check ".deb holds /$f" test -s "$tmp/debroot/$f"
    done
    for h in $hosts; do
        mapfile -t e < <(wenv "$h")
        CACHED=$([[ $h == wasmi ]] && echo 1 || echo 0) \
            run_demo "unpacked .deb's wasip2-run on $h: demo component" env "${e[@]}" "$tmp/debroot/usr/bin/wasip2-run"
    done
else
    bad "build the .deb"
fi

echo "test-dist: $pass passed, $failed failed"
[[ $failed == 0 ]]
