# p2shim: build, test, benchmark.
#
#   make demo         build the shim, run examples/hello-p1 through it on wasmtime, and lowered on four hosts
#   make test         native tests, shim build, wasm32 tests, WASI testsuite (p1, as p2
#                     components, the runner adapter), p2 programs, componentize-py/-js
#                     components (the p2 ones also lowered by `p2shim lower`), --invoke on
#                     wasmtime, wasmi, node 20, node 24, iwasm; the page web/ in headless
#                     Chromium; fuzz smoke; limits; the component differential fuzzer
#   make browser      the page web/ in headless Chromium against native wasmtime
#   make web-serve    serve the page web/ on http://127.0.0.1:8000/
#   make lint         cargo fmt --check and cargo clippy (all targets, warnings denied; conformance
#                     also with every fuzzer's feature); .ci/run runs it first
#   make host-matrix  the README's host matrix from target/conformance/*.json (after make test)
#   make conformance  test + sightglass/CoreMark/p2-suite correctness runs through the shim
#   make fuzz-component-diff  generated components on component-model and on wasmtime 48
#                     as a library, results compared (in make test; builds wasmtime once);
#                     the saved core differential cases with wasmtime 48 as the arbiter
#   make bench        direct vs shim timings: core modules on wasmtime and node; p2 components
#                     on wasmtime, node 20/24, iwasm and wasmi beside the wasmi peer (bench_p2.py);
#                     lowered components against their p1 builds run directly, beside jco
#                     (conformance/bench_lowered.py); start-up per host
#   make shim         target/p2shim.wasm (after p2-lib, which it embeds)
#   make p2-lib       target/p2lib.wasm: lowered mode's WASI library (relocatable)
#   make tools        install/link the pinned tools into target/tools/bin
#   make install      PREFIX=/usr/local DESTDIR=: p2shim.wasm, wasip2-run, its man page
#   make deb          target/p2shim_VERSION_all.deb (packaging/debian)
#
# Tools come from target/tools/bin first (scripts/install-tools.sh puts them there).
# Every recipe runs under bash -euo pipefail, so any failing command fails the target.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DELETE_ON_ERROR:
.NOTPARALLEL:
MAKEFLAGS += --no-builtin-rules --no-print-directory

ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
TOOLS_BIN := $(ROOT)/target/tools/bin
export PATH := $(TOOLS_BIN):$(PATH)

CARGO      ?= cargo
PYTHON     ?= python3
NODE       ?= node
WASMTIME   ?= $(or $(wildcard $(TOOLS_BIN)/wasmtime),wasmtime)
WASMI      ?= $(or $(wildcard $(TOOLS_BIN)/wasmi),wasmi)
WASM_TOOLS ?= $(or $(wildcard $(TOOLS_BIN)/wasm-tools),wasm-tools)
export WASMTIME WASMI

# The shared test data beside the repo (read-only).
SHARED ?= $(abspath $(ROOT)/../shared)
export P2SHIM_SHARED := $(SHARED)

CARGO_TARGET_DIR ?= $(ROOT)/target
export CARGO_TARGET_DIR
WASM_TARGET := wasm32-wasip1
# In CI, refuse to touch Cargo.lock.
CARGO_LOCKED ?= $(if $(filter true 1,$(CI)),--locked,)

comma := ,
SHIM       := $(ROOT)/target/p2shim.wasm
SHIM_BUILT := $(CARGO_TARGET_DIR)/$(WASM_TARGET)/release/p2shim.wasm
P2LIB       := $(ROOT)/target/p2lib.wasm
P2LIB_BUILT := $(CARGO_TARGET_DIR)/$(WASM_TARGET)/release/p2_lib.wasm
# The library for `p2shim lower --invoke` (p2-lib's `invoke` feature).
P2LIB_INVOKE := $(ROOT)/target/p2lib-invoke.wasm
HOSTS      ?= wasmtime,wasmi,node,node-current,iwasm
JOBS       ?= 2
WASI_TESTSUITE_FLAGS ?=
BENCH_FLAGS ?=
# Hosts of the sightglass correctness runs (`make conformance`); node doubles the time.
CHECK_HOSTS ?= wasmtime
# Hosts of checkpoint-check and trace-check in `make test` (issue 14's three; each ordered
# pair checkpoints on one and restores on the other).
CKPT_HOSTS ?= wasmtime,wasmi,node

.PHONY: all help tools shim p2-lib test test-native test-wasm p2-programs p2-programs-bundle p2-programs-lower wasi-testsuite-p2-lower toolchains-lower invoke-check wasi-testsuite wasi-testsuite-direct \
        componentize wasi-testsuite-p2 wasi-testsuite-adapter \
        toolchains browser web-serve host-matrix fuzz-smoke fuzz-component-diff conformance sightglass-check bench bench-startup demo clean distclean check-scripts \
        checkpoint-check trace-check limits-check lint

all: shim

help:
	@sed -n '2,29p' $(ROOT)/Makefile | sed 's/^# \{0,1\}//'

tools:
	$(ROOT)/scripts/install-tools.sh

# ---- the shim ----------------------------------------------------------------
# The shim embeds the library that `p2shim lower` links into its output (cli/build.rs
# reads the path from P2SHIM_P2LIB), and the one `p2shim lower --invoke` links
# (P2SHIM_P2LIB_INVOKE). Copied only when it changed, so a run that reads
# target/p2shim.wasm never sees it rewritten by a `make` of an unchanged tree.
shim: p2-lib
	P2SHIM_P2LIB=$(P2LIB) P2SHIM_P2LIB_INVOKE=$(P2LIB_INVOKE) $(CARGO) build $(CARGO_LOCKED) --release --target $(WASM_TARGET) -p p2shim
	@mkdir -p $(dir $(SHIM))
	cmp -s $(SHIM_BUILT) $(SHIM) || cp $(SHIM_BUILT) $(SHIM)
	@echo "built $(SHIM) ($$(wc -c < $(SHIM)) bytes)"

# Lowered mode's WASI library: a wasm32-wasip1 cdylib linked with --emit-relocs
# (p2-lib/build.rs), which lower::relocate places inside the guest's memory. Copied only
# when it changed: cli/build.rs reruns on its mtime, and a rerun rebuilds p2shim, which
# every target that needs the shim would otherwise pay again. Built a second time with
# its `invoke` feature (target/p2lib-invoke.wasm, for `p2shim lower --invoke`), so the
# ordinary library, and every ordinary lowered module, has none of that code or data.
p2-lib:
	$(CARGO) build $(CARGO_LOCKED) --release --target $(WASM_TARGET) -p p2-lib
	@mkdir -p $(dir $(P2LIB))
	cmp -s $(P2LIB_BUILT) $(P2LIB) || cp $(P2LIB_BUILT) $(P2LIB)
	$(CARGO) build $(CARGO_LOCKED) --release --target $(WASM_TARGET) -p p2-lib --features invoke
	cmp -s $(P2LIB_BUILT) $(P2LIB_INVOKE) || cp $(P2LIB_BUILT) $(P2LIB_INVOKE)

# ---- tests -------------------------------------------------------------------
# `tools` first: on a fresh machine `make test` and `make demo` install what they need.
test: tools test-native shim invoke-check test-wasm wasi-testsuite wasi-testsuite-p2 wasi-testsuite-p2-lower \
      wasi-testsuite-adapter p2-programs p2-programs-lower toolchains toolchains-lower browser fuzz-smoke \
      p2-programs-bundle test-dist limits-check trace-check checkpoint-check fuzz-component-diff
	@echo "make test: all steps passed"

test-native:
	$(CARGO) test $(CARGO_LOCKED) --no-fail-fast --workspace

# core-vm's tests, the spec runner and p2-shims' tests (wit_coverage) compiled to wasm32-wasip1, run on wasmtime
# through scripts/wasm-runner.sh (the runner set in .cargo/config.toml).
test-wasm:
	$(CARGO) test $(CARGO_LOCKED) --no-fail-fast --target $(WASM_TARGET) -p core-vm -p conformance -p p2-shims

# The WASI testsuite directly and through the shim on each host.
wasi-testsuite: shim
	$(PYTHON) $(ROOT)/conformance/wasi_testsuite.py --shim $(SHIM) --hosts $(HOSTS) \
	    -j $(JOBS) $(WASI_TESTSUITE_FLAGS)

# componentize-p1 (conformance/componentize, its own Cargo project): p1 modules to p2
# command components with wit-component and the wasmtime 49 preview1 command adapter.
COMPONENTIZE := $(CARGO_TARGET_DIR)/release/componentize-p1
componentize:
	cd $(ROOT)/conformance/componentize && $(CARGO) build $(CARGO_LOCKED) --release

# The WASI testsuite as p2 components: native wasmtime (p2) against the shim on each host.
wasi-testsuite-p2: shim componentize
	$(PYTHON) $(ROOT)/conformance/wasi_testsuite_p2.py --shim $(SHIM) --componentize $(COMPONENTIZE) \
	    --hosts $(HOSTS) -j $(JOBS)

# The same components lowered (`p2shim lower`) to p1 modules each host runs directly.
wasi-testsuite-p2-lower: shim componentize
	$(PYTHON) $(ROOT)/conformance/wasi_testsuite_p2.py --mode lower --shim $(SHIM) \
	    --componentize $(COMPONENTIZE) --hosts $(HOSTS) -j $(JOBS)

# The wasi-testsuite runner's adapter (conformance/wasi-testsuite-adapter/p2shim.py), driven
# the way the official runner calls it, on the p2 components, against native wasmtime.
wasi-testsuite-adapter: shim componentize
	$(PYTHON) $(ROOT)/conformance/wasi-testsuite-adapter/drive.py --shim $(SHIM) \
	    --componentize $(COMPONENTIZE) -j $(JOBS)

# The direct half only (works without a shim).
wasi-testsuite-direct:
	$(PYTHON) $(ROOT)/conformance/wasi_testsuite.py --direct-only --hosts $(HOSTS) \
	    -j $(JOBS) $(WASI_TESTSUITE_FLAGS)

# The fuzz smoke test, if the conformance package has the fuzz-smoke binary.
# WASIp2 components (conformance/programs/*, built for wasm32-wasip2): the
# native p2 run on wasmtime against the run through the shim on each host.
p2-programs: shim
	HOSTS="$(subst $(comma), ,$(HOSTS))" bash $(ROOT)/conformance/programs/run.sh $(SHIM)

# Components from other toolchains: componentize-py and componentize-js (pinned,
# installed into target/toolchains by scripts/install-toolchains.sh) build
# conformance/toolchains/{python,js}; each runs natively and through the shim.
toolchains: shim
	$(ROOT)/scripts/install-toolchains.sh
	HOSTS="$(subst $(comma), ,$(HOSTS))" bash $(ROOT)/conformance/toolchains/run.sh $(SHIM)

# The same components lowered (`p2shim lower`) to p1 modules each host runs directly.
toolchains-lower: shim
	$(ROOT)/scripts/install-toolchains.sh
	MODE=lower HOSTS="$(subst $(comma), ,$(HOSTS))" bash $(ROOT)/conformance/toolchains/run.sh $(SHIM)

# The page web/ (p2shim.wasm over @bjorn3/browser_wasi_shim) driven in Debian's headless
# Chromium by puppeteer-core (web/test.mjs, on node-current): the p2 programs that need no
# folder, examples/hello-p1, the componentize-py/-js components and web/refused.wat against
# native wasmtime, each in p2shim's interpreter and lowered (the page's default). The hello's
# lowered run's screenshot goes to target/conformance/browser-hello.png (web/screenshot.png,
# the README's, is one of them).
browser: shim
	$(ROOT)/scripts/install-toolchains.sh
	$(TOOLS_BIN)/node-current $(ROOT)/web/test.mjs --shim $(SHIM) \
	    --screenshot $(ROOT)/target/conformance/browser-hello.png

web-serve: shim
	$(PYTHON) $(ROOT)/web/serve.py --shim $(SHIM)

# The README's host matrix (suite x host) from the runners' JSON reports of the last runs.
host-matrix:
	$(PYTHON) $(ROOT)/conformance/host_matrix.py --update $(ROOT)/README.md

# The same programs run as bundles (`p2shim bundle`, no preopen for the program).
p2-programs-bundle: shim
	MODE=bundle HOSTS="$(subst $(comma), ,$(HOSTS))" bash $(ROOT)/conformance/programs/run.sh $(SHIM)

# The same programs lowered (`p2shim lower`, once each, through the shim on wasmtime) to one
# p1 module that each host runs with its own engine.
p2-programs-lower: shim
	MODE=lower HOSTS="$(subst $(comma), ,$(HOSTS))" bash $(ROOT)/conformance/programs/run.sh $(SHIM)

# Checkpoint on each host, restore on each host (conformance/checkpoint.py): the bench
# programs as p1 modules and as components, and p2 programs that do I/O, against one
# native run. About 15 minutes on 3 hosts; a step of `make test`.
checkpoint-check: shim
	$(PYTHON) $(ROOT)/conformance/checkpoint.py --shim $(SHIM) --hosts $(CKPT_HOSTS)

# --trace (JSON Lines parsed back, calls paired), golden `wasi` traces of components
# (conformance/trace-golden) and --profile (samples = instructions / N) through the shim
# on each host (conformance/trace_check.py).
trace-check: shim
	$(PYTHON) $(ROOT)/conformance/trace_check.py --shim $(SHIM) --hosts $(CKPT_HOSTS)

# Guests that push the limits (-W options, 2^28 iovecs, 100 tables of 10M elements, a guest
# that took all the memory it could) through the shim on wasmtime: a clear error or a normal
# end, never a panic of the shim; the same status and message as native wasmtime where it has one.
limits-check: shim
	WASMTIME=$(WASMTIME) WASM_TOOLS=$(WASM_TOOLS) bash $(ROOT)/conformance/limits/run.sh $(SHIM)

# `--invoke 'name(args)'` on components: the shim against wasmtime (stdout, exit status).
invoke-check: shim
	WASMTIME=$(WASMTIME) WASM_TOOLS=$(WASM_TOOLS) bash $(ROOT)/conformance/invoke/run.sh $(SHIM)

# fuzz-smoke: 500 iterations of every step, 5,000 generated components (each lowered too)
# and 5,000 wasm-smith modules lowered and run beside themselves, 10,000 modules on
# core-vm and wasmi; then the saved differential cases (conformance/differential-cases, each
# with its expected outcome) and the harnesses' unit tests (NaN rules and probe; lower_diff).
fuzz-smoke:
	@if $(CARGO) metadata --no-deps --format-version 1 | $(PYTHON) -c 'import json,sys; \
	    m = json.load(sys.stdin); \
	    sys.exit(0 if any(t["name"] == "fuzz-smoke" and "bin" in t["kind"] \
	        for p in m["packages"] if p["name"] == "conformance" for t in p["targets"]) else 1)'; \
	then \
	    echo "$(CARGO) run -p conformance --profile fuzz --features component-gen,differential --bin fuzz-smoke"; \
	    $(CARGO) run $(CARGO_LOCKED) -p conformance --profile fuzz --features component-gen,differential --bin fuzz-smoke && \
	    $(CARGO) run $(CARGO_LOCKED) -p conformance --profile fuzz --features component-gen,differential --bin fuzz-smoke -- \
	        --components-only --iterations 5000 && \
	    $(CARGO) run $(CARGO_LOCKED) -p conformance --profile fuzz --features component-gen,differential --bin fuzz-smoke -- \
	        --differential-only --iterations 10000 && \
	    for c in $(ROOT)/conformance/differential-cases/*.wasm; do \
	        $(CARGO) run $(CARGO_LOCKED) -q -p conformance --profile fuzz --features component-gen,differential \
	            --bin fuzz-smoke -- --diff-file $$c $$(cat $$c.args) || exit 1; \
	    done && \
	    $(CARGO) test $(CARGO_LOCKED) -p conformance --profile fuzz --features component-gen,differential --lib -- \
	        differential:: lower_diff::; \
	else \
	    echo "fuzz-smoke: conformance has no fuzz-smoke binary yet; skipped"; \
	fi

# The component-level differential fuzzer (conformance::component_diff), last in `make test`:
# it compiles wasmtime 48 as a library once (about 9 more minutes on 2 cores); 20,000 inputs
# then take about half a minute. The same build has the core differential fuzzer's arbiter
# (wasmtime 48 judging what core-vm and wasmi disagree on): the saved cases again with their
# outcome under the arbiter, and its unit tests.
COMPONENT_DIFF_ITERATIONS ?= 20000
DIFF_WASMTIME_FEATURES = component-gen,differential,component-diff,arbiter
fuzz-component-diff:
	$(CARGO) run $(CARGO_LOCKED) -p conformance --profile fuzz --features $(DIFF_WASMTIME_FEATURES) --bin fuzz-smoke -- \
	    --component-diff-only --iterations $(COMPONENT_DIFF_ITERATIONS)
	for c in $(ROOT)/conformance/differential-cases/*.wasm; do \
	    $(CARGO) run $(CARGO_LOCKED) -q -p conformance --profile fuzz --features $(DIFF_WASMTIME_FEATURES) \
	        --bin fuzz-smoke -- --diff-file $$c $$(cat $$c.args) || exit 1; \
	done
	$(CARGO) test $(CARGO_LOCKED) -p conformance --profile fuzz --features $(DIFF_WASMTIME_FEATURES) --lib -- \
	    differential::

conformance: test sightglass-check
	@echo "make conformance: all steps passed"

# Sightglass + CoreMark, direct and through the shim, and the p2 suite's programs at their
# small check sizes (native, through the shim, on the wasmi peer): outputs checked.
sightglass-check: shim
	$(PYTHON) $(ROOT)/conformance/bench.py --check-only --shim $(SHIM) --hosts $(CHECK_HOSTS) \
	    --p2-hosts $(CHECK_HOSTS) $(BENCH_FLAGS)

# ---- benchmarks --------------------------------------------------------------
bench: shim
	$(PYTHON) $(ROOT)/conformance/bench.py --shim $(SHIM) $(BENCH_FLAGS)
	$(MAKE) bench-startup

# Cold and warm start of a hello-world component on each host (conformance/startup.py).
bench-startup: shim
	$(PYTHON) $(ROOT)/conformance/startup.py --shim $(SHIM) --hosts $(HOSTS)

# ---- demo --------------------------------------------------------------------
DEMO_DIR  := $(ROOT)/target/demo
DEMO_WASM := $(CARGO_TARGET_DIR)/$(WASM_TARGET)/release/hello-p1.wasm

demo: tools shim
	cd $(ROOT)/examples/hello-p1 && $(CARGO) build --release --target $(WASM_TARGET)
	rm -rf $(DEMO_DIR) && mkdir -p $(DEMO_DIR)
	cp $(DEMO_WASM) $(DEMO_DIR)/hello-p1.wasm
	@echo "== directly on wasmtime: wasmtime run --dir . --env GREETING=... hello-p1.wasm one 'two words'"
	cd $(DEMO_DIR) && $(WASMTIME) run --dir . --env "GREETING=hello from the host" \
	    hello-p1.wasm one 'two words' | tee direct.out
	@echo "== through the shim:     wasmtime run --dir . --env GREETING=... p2shim.wasm hello-p1.wasm one 'two words'"
	cd $(DEMO_DIR) && $(WASMTIME) run --dir . --env "GREETING=hello from the host" \
	    $(SHIM) hello-p1.wasm one 'two words' | tee shim.out
	diff -u $(DEMO_DIR)/direct.out $(DEMO_DIR)/shim.out
	@echo "== same output directly and through p2shim"
	@echo "== the same program as a WASIp2 component (wasm32-wasip2)"
	cd $(ROOT)/examples/hello-p1 && $(CARGO) build --release --target wasm32-wasip2
	mkdir -p $(DEMO_DIR)/p2
	cp $(CARGO_TARGET_DIR)/wasm32-wasip2/release/hello-p1.wasm $(DEMO_DIR)/p2/hello.wasm
	@echo "== natively on wasmtime (p2): wasmtime run --dir . --env GREETING=... hello.wasm one 'two words'"
	cd $(DEMO_DIR)/p2 && $(WASMTIME) run --dir . --env "GREETING=hello from the host" \
	    hello.wasm one 'two words' | tee direct.out
	@echo "== through the shim on wasmtime in p1 mode: ... p2shim.wasm hello.wasm one 'two words'"
	cd $(DEMO_DIR)/p2 && $(WASMTIME) run --dir . --env "GREETING=hello from the host" \
	    $(SHIM) hello.wasm one 'two words' | tee shim.out
	diff -u $(DEMO_DIR)/p2/direct.out $(DEMO_DIR)/p2/shim.out
	@echo "== same output natively (p2) and through p2shim on a p1 host"
	@echo "== lowered: p2shim.wasm lower hello.wasm -o hello.p1.wasm (one WASIp1 core module)"
	cd $(DEMO_DIR)/p2 && $(WASMTIME) run --dir . $(SHIM) lower hello.wasm -o hello.p1.wasm
	@$(WASM_TOOLS) print $(DEMO_DIR)/p2/hello.p1.wasm | grep '^  (import ' > $(DEMO_DIR)/p2/imports.txt; \
	    other=$$(grep -vc '^  (import "wasi_snapshot_preview1"' $(DEMO_DIR)/p2/imports.txt || true); \
	    echo "   $$(wc -l < $(DEMO_DIR)/p2/imports.txt) imports, $$other of them not from wasi_snapshot_preview1"; \
	    test "$$other" = 0
	@for h in wasmtime wasmi node iwasm; do \
	    echo "== lowered on $$h: run-on.sh $$h --dir . --env GREETING=... hello.p1.wasm one 'two words'"; \
	    (cd $(DEMO_DIR)/p2 && rm -f hello-p1-output.txt && \
	     $(ROOT)/conformance/hosts/run-on.sh $$h --dir . --env "GREETING=hello from the host" \
	        hello.p1.wasm one 'two words' > lowered-$$h.out) || exit 1; \
	    sed 's/hello\.p1\.wasm/hello.wasm/' $(DEMO_DIR)/p2/lowered-$$h.out \
	        | diff -u $(DEMO_DIR)/p2/direct.out - || exit 1; \
	done
	@echo "== same output natively (p2) and lowered on wasmtime, wasmi, node and iwasm (argv[0] aside)"

# ---- install, package (packaging/) --------------------------------------------
PREFIX  ?= /usr/local
DESTDIR ?=
P2SHIM_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' $(ROOT)/Cargo.toml | head -1)
DEB := $(ROOT)/target/p2shim_$(P2SHIM_VERSION)_all.deb
INSTALL_DIR = $(DESTDIR)$(PREFIX)

.PHONY: install install-files deb test-dist
install: shim install-files

# The files only (the shim must be built): packaging/debian/build.sh uses it.
install-files:
	@test -f $(SHIM) || { echo "install: $(SHIM) is missing (make shim)"; exit 1; }
	install -d $(INSTALL_DIR)/bin $(INSTALL_DIR)/share/p2shim $(INSTALL_DIR)/share/man/man1
	install -m 644 $(SHIM) $(INSTALL_DIR)/share/p2shim/p2shim.wasm
	install -m 644 $(ROOT)/conformance/hosts/node-wasi.mjs $(INSTALL_DIR)/share/p2shim/node-wasi.mjs
	sed 's/@VERSION@/$(P2SHIM_VERSION)/' $(ROOT)/packaging/wasip2-run > $(INSTALL_DIR)/bin/wasip2-run
	chmod 755 $(INSTALL_DIR)/bin/wasip2-run
	sed 's/@VERSION@/$(P2SHIM_VERSION)/' $(ROOT)/packaging/wasip2-run.1 > $(INSTALL_DIR)/share/man/man1/wasip2-run.1
	chmod 644 $(INSTALL_DIR)/share/man/man1/wasip2-run.1

deb: shim
	bash $(ROOT)/packaging/debian/build.sh $(DEB)

# make install into a temporary root, the wrapper on every host (its errors,
# the p2 programs through it, --bundle), the .deb unpacked and run.
test-dist: shim
	HOSTS="$(subst $(comma), ,$(HOSTS))" bash $(ROOT)/packaging/test-dist.sh $(SHIM)

# ---- housekeeping ------------------------------------------------------------
# Formatting and clippy over the workspace (every crate and target with its default
# features), then conformance with the fuzzers' features (the fuzz/ side project is
# its own workspace).
lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy $(CARGO_LOCKED) --workspace --all-targets -- -D warnings
	$(CARGO) clippy $(CARGO_LOCKED) -p conformance --all-targets --features component-gen,differential -- -D warnings
	$(CARGO) clippy $(CARGO_LOCKED) -p conformance --all-targets --features component-gen,differential,component-diff,arbiter -- -D warnings

check-scripts:
	shellcheck $(ROOT)/scripts/*.sh $(ROOT)/conformance/hosts/run-on.sh $(ROOT)/.ci/run \
	    $(ROOT)/packaging/debian/build.sh $(ROOT)/packaging/test-dist.sh
	shellcheck -s sh $(ROOT)/packaging/wasip2-run
	$(PYTHON) -m py_compile $(ROOT)/conformance/wasi_testsuite.py $(ROOT)/conformance/bench.py \
	    $(ROOT)/conformance/hosts/hosts.py $(ROOT)/conformance/wasi_testsuite_p2.py \
	    $(ROOT)/conformance/wasi-testsuite-adapter/p2shim.py \
	    $(ROOT)/conformance/wasi-testsuite-adapter/drive.py $(ROOT)/conformance/report.py \
	    $(ROOT)/conformance/host_matrix.py $(ROOT)/conformance/bench_p2.py \
	    $(ROOT)/conformance/bench_lowered.py $(ROOT)/conformance/bench_stats.py \
	    $(ROOT)/conformance/file_heavy_model.py
	$(PYTHON) $(ROOT)/conformance/bench_stats.py
	$(NODE) --check $(ROOT)/conformance/hosts/node-wasi.mjs
	$(NODE) --check $(ROOT)/conformance/bench/jco/run.mjs
	$(PYTHON) -m py_compile $(ROOT)/web/serve.py
	for f in $(ROOT)/web/*.js $(ROOT)/web/*.mjs; do $(TOOLS_BIN)/node-current --check $$f; done

# Keeps target/tools (the tool links); `make distclean` removes everything.
clean:
	if [[ "$(abspath $(CARGO_TARGET_DIR))" == "$(ROOT)/target" ]]; then \
	    find $(ROOT)/target -mindepth 1 -maxdepth 1 ! -name tools -exec rm -rf {} +; \
	else \
	    $(CARGO) clean; \
	    rm -rf $(SHIM) $(ROOT)/target/conformance $(ROOT)/target/bench $(DEMO_DIR); \
	fi
	rm -rf $(ROOT)/examples/hello-p1/target $(ROOT)/conformance/bench/target \
	    $(ROOT)/conformance/componentize/target

distclean:
	$(CARGO) clean
	rm -rf $(ROOT)/target $(ROOT)/examples/hello-p1/target $(ROOT)/conformance/bench/target
