#!/usr/bin/env bash
# Installs componentize-py (PyPI) and componentize-js (npm) at pinned versions
# into target/toolchains/ (never globally) and builds the two sample
# wasi:cli/command components of conformance/toolchains/{python,js}/:
#
#   target/toolchains/python.wasm   componentize-py  (CPython, ~18 MB, 14 core modules)
#   target/toolchains/js.wasm       componentize-js  (StarlingMonkey, ~14 MB)
#
#   scripts/install-toolchains.sh           install what is missing, rebuild what is stale
#   scripts/install-toolchains.sh --check   only report (exit 1 if something is missing)
#
# Both components target `wasi:cli/command@0.2.12` from the vendored wit/. A
# component is rebuilt only when its source, the WIT or the tool version
# changes (a stamp beside it records a hash of all three).
set -euo pipefail

COMPONENTIZE_PY_VERSION="${COMPONENTIZE_PY_VERSION:-0.25.1}"
# componentize-js's version (and its whole dependency tree) is pinned by
# conformance/toolchains/js/package.json and package-lock.json (`npm ci`).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/conformance/toolchains"
OUT="$ROOT/target/toolchains"
PYTHON="${PYTHON:-python3}"
CHECK_ONLY=0
[[ "${1:-}" == "--check" ]] && CHECK_ONLY=1

log() { printf '[install-toolchains] %s\n' "$*" >&2; }
die() { printf '[install-toolchains] ERROR: %s\n' "$*" >&2; exit 1; }
missing=0
need() { # need WHAT: in --check mode record it, otherwise carry on installing
    if [[ $CHECK_ONLY == 1 ]]; then log "missing: $1"; missing=1; return 1; fi
    log "$1"
}
mkdir -p "$OUT"

# ---- componentize-py: a venv in target/toolchains/py ------------------------
PY_VENV="$OUT/py"
CPY="$PY_VENV/bin/componentize-py"
have_py="$("$CPY" --version 2>/dev/null | awk '{print $2}' || true)"
if [[ "$have_py" != "$COMPONENTIZE_PY_VERSION" ]]; then
    if need "installing componentize-py==$COMPONENTIZE_PY_VERSION (have: ${have_py:-none}) into $PY_VENV"; then
        [[ -x "$PY_VENV/bin/python" ]] || "$PYTHON" -m venv "$PY_VENV"
        "$PY_VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q \
            "componentize-py==$COMPONENTIZE_PY_VERSION"
    fi
fi

# ---- componentize-js: `npm ci` in target/toolchains/js ----------------------
JS_DIR="$OUT/js"
CJS="$JS_DIR/node_modules/.bin/componentize-js"
if ! command -v npm >/dev/null && need "installing npm (apt)"; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq npm >/dev/null
fi
if ! cmp -s "$SRC/js/package-lock.json" "$JS_DIR/package-lock.json" || [[ ! -x "$CJS" ]]; then
    command -v npm >/dev/null || [[ $CHECK_ONLY == 1 ]] || die "npm not found"
    if need "installing componentize-js (npm ci, pinned by conformance/toolchains/js/package-lock.json) into $JS_DIR"; then
        mkdir -p "$JS_DIR"
        cp "$SRC/js/package.json" "$SRC/js/package-lock.json" "$JS_DIR/"
        (cd "$JS_DIR" && npm ci --no-audit --no-fund --loglevel=error)
    fi
fi

# ---- the WIT package tree: wasi:cli as the root package, the rest as deps ---
WIT="$OUT/wit"
rm -rf "$WIT.tmp" && mkdir -p "$WIT.tmp/deps"
cp "$ROOT/wit/cli/"*.wit "$WIT.tmp/"
for pkg in "$ROOT/wit/"*/; do
    name="$(basename "$pkg")"
    [[ "$name" == cli ]] && continue
    mkdir -p "$WIT.tmp/deps/$name" && cp "$pkg"*.wit "$WIT.tmp/deps/$name/"
done
rm -rf "$WIT" && mv "$WIT.tmp" "$WIT"
WORLD="wasi:cli/command@0.2.12"

# ---- the sample components ----------------------------------------------------
stamp_of() { # stamp_of TOOL_VERSION FILES... -> hash of the tool version, the WIT and the sources
    { echo "$1"; shift; cat "$@"; find "$WIT" -name '*.wit' | sort | xargs cat; } | sha256sum | cut -d' ' -f1
}
build() { # build NAME STAMP COMMAND...: rebuild target/toolchains/NAME.wasm if its stamp changed
    local name="$1" stamp="$2"; shift 2
    local wasm="$OUT/$name.wasm"
    if [[ -f "$wasm" && "$(cat "$wasm.stamp" 2>/dev/null)" == "$stamp" ]]; then return 0; fi
    need "building $wasm" || return 0
    local t0=$SECONDS
    rm -f "$wasm" "$wasm.stamp"
    "$@"
    [[ -f "$wasm" ]] || die "$name: the build produced no $wasm"
    echo "$stamp" >"$wasm.stamp"
    log "built $wasm ($(wc -c <"$wasm") bytes, $((SECONDS - t0)) s)"
}
if [[ -x "$CPY" ]]; then
    # (componentize-py leaves a __pycache__ next to app.py; .gitignore has it.)
    build python "$(stamp_of "$("$CPY" --version)" "$SRC/python/app.py")" \
        "$CPY" -q -d "$WIT" -w "$WORLD" componentize -p "$SRC/python" app -o "$OUT/python.wasm"
fi
if [[ -x "$CJS" ]]; then
    # StarlingMonkey's fetch() imports wasi:http, which is not part of
    # wasi:cli/command (native `wasmtime run` refuses it without -S http): off.
    # It is run from the repo root with relative paths (its splicer, a
    # component run on node, failed with ENOENT on absolute WIT paths).
    build_js() {
        (cd "$ROOT" && "$CJS" conformance/toolchains/js/app.js --wit target/toolchains/wit \
            -n command -d http fetch-event -o target/toolchains/js.wasm)
    }
    build js "$(stamp_of "$(cat "$JS_DIR/package-lock.json")" "$SRC/js/app.js")" build_js
fi

[[ $missing == 0 ]] || die "some toolchains or components are missing (run without --check)"
log "componentize-py $("$CPY" --version | awk '{print $2}'), componentize-js $(cd "$JS_DIR" && node -p 'require("./node_modules/@bytecodealliance/componentize-js/package.json").version')"
