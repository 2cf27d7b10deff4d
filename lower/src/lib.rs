//! lower: turns a WASIp2 command component into one ordinary WASIp1 core
//! module (`p2shim lower app.wasm -o app.p1.wasm`) that the host's own
//! engine runs, with no interpreter in between.
//!
//! The output imports only `wasi_snapshot_preview1` and exports `_start`
//! and `memory` (a reactor: see below). It is made of two parts, merged into one module:
//! * the component's core modules, each instantiated once, with every
//!   index space (types, functions, tables, memories, globals, element and
//!   data segments) renumbered into the merged module (module `merge`);
//! * the p2 WASI library (crate `p2-lib`, the same shims the interpreter
//!   runs, built for `wasm32-wasip1` with `--emit-relocs`), relocated so that
//!   its data, stack and heap live inside the guest's own memory 0, in a
//!   region the guest's allocator never hands out (module `relocate`).
//!
//! How (each module's docs say more):
//! * component-model flattens the component ([`component_model::inline`]):
//!   its core instances in instantiation order, each import an export of an
//!   earlier instance or a trampoline (`canon lower`, resource built-ins);
//! * `link` resolves all of them, and the library's own imports, to items
//!   of the merged module, refusing what lowered mode cannot do;
//! * `forward` resolves the imports that name a function of
//!   wit-component's indirect-call shim straight to the function its table
//!   slot provably holds (one call and a `call_indirect` less per WASI call);
//! * `reach` keeps of the library only the functions the component
//!   reaches (from the functions its core instances import, along calls
//!   and the table slots the library's relocations show taken);
//! * `glue` generates `_start` and the realloc plumbing; `adapter`,
//!   `transcode` and `resources` the fused adapters, string transcoders
//!   and handle tables; `invoke` the `_start` and hooks of `--invoke`;
//! * `merge` re-encodes every module with its index maps;
//! * the output is validated with wasmparser before it is returned.
//!
//! # The contract between the merged guest code and the library
//! * **Exports of the library.** For each function `F` of interface `I` in
//!   the imports of `wasi:cli/command@0.2.12`: an export named
//!   `I@0.2.12#F` (e.g. `wasi:io/streams@0.2.12#[method]output-stream.write`)
//!   whose core type is the `canon lower` of `F` (`flatten_functype` with
//!   `MAX_FLAT_PARAMS` = 16, `MAX_FLAT_RESULTS` = 1, UTF-8 strings); for each
//!   resource `R` of `I`, `I@0.2.12#[resource-drop]R: (i32) -> ()`. A
//!   component's `0.2.x` imports bind to these by semver, as in the
//!   interpreter. `p2lib_init: () -> ()` runs before any guest code.
//!   Optionally `p2lib_canon_error: (code, value) -> ()`, which ends the
//!   run for a `canonical_abi::CanonError` the generated code finds (a
//!   misused handle, an invalid string encoding, a broken reentrance rule)
//!   as wasmtime reports it; without it, that code traps. Optionally
//!   `p2lib_phase: (set) -> phase`, the Canonical ABI's `may_leave` (phase
//!   2 forbids calling imports; see Reentrance); without it, `may_leave` is
//!   not checked.
//! * **Imports of the library.** `wasi_snapshot_preview1.*`, kept as imports
//!   of the output; one memory, which is the component's memory 0; and a
//!   function named `cabi_realloc` (any module name), the guest's
//!   `cabi_realloc` (the `realloc` canonical option of the lowered
//!   imports), which the merger resolves. Nothing else.
//! * **Handles.** The guest's `i32` handles of WASI resources are indices in
//!   the library's own handle table (one per component instance), which does
//!   the Canonical ABI's own/borrow bookkeeping for host resources.
//! * **Memory.** The library reads and writes guest memory directly (same
//!   address space), bounds-checked against `memory.size`.
//!
//! # Commands and reactors
//! A component that exports `wasi:cli/run@0.2.x` is a command: the output
//! exports `_start` (which runs `run` and exits as `wasmtime run` does) and
//! `memory`; its other exports are not kept ([`Lowered::dropped_exports`]:
//! `wasmtime run` never calls them either; componentize-py's build-time
//! `exports#init` is one).
//!
//! A component without `wasi:cli/run` is a reactor: the output follows the
//! p1 reactor convention, `_initialize` (the start-up `_start` would do)
//! then calls of its exports, which are the component's lifted core
//! functions themselves, so their flat ABI is the Canonical ABI's own
//! (`canon lift`: `flatten_functype` with `MAX_FLAT_PARAMS` = 16 and
//! `MAX_FLAT_RESULTS` = 1, a spilled result returned as a pointer, strings
//! UTF-8), named `name` for a top-level function and `instance#name` for a
//! function of an exported instance, with `cabi_post_NAME` (its
//! post-return, to call after reading a result that points into memory;
//! it runs with `may_leave` false, as wasmtime runs the post-return of a
//! host's call),
//! `cabi_realloc` (for arguments that do not fit flat) and `memory`. A host
//! calls scalar functions directly (`wasmtime run --invoke add app.p1.wasm
//! 1 2`); anything else needs the caller to lay values out as the
//! Canonical ABI does.
//!
//! With [`Options::invoke`] (`p2shim lower --invoke`) a reactor becomes a
//! p1 *command* instead, whose `_start` runs the WAVE call given as its
//! first argument as `wasmtime run --invoke` runs it for the component
//! (module `invoke`): the library built with its `invoke` feature parses,
//! type-checks, lowers, calls, lifts and prints with canonical-abi (the
//! interpreter's code and messages), reaching the guest through four
//! generated functions and an export table `lower` writes at lowering
//! time; the output exports `_start` and `memory` only. A command is
//! refused with it. The ordinary library has none of that code, so
//! ordinary outputs are unchanged by it.
//!
//! # Composed components (several memories)
//! A component made of components (`wasm-tools compose`, `wac`) keeps one
//! memory per inner component: the output uses multi-memory (listed in
//! [`Lowered::extra_features`]), so only hosts with multi-memory run it.
//! The memory of `run` (a reactor: of its exports) is the *primary* one,
//! memory 0, exported as `memory`, where the WASI library lives. Module
//! `adapter` generates a fused adapter for each `canon lower` of a function
//! another component instance lifts (values copied between the memories
//! with every check of the Canonical ABI), and for each WASI function a
//! component instance with another memory calls (values copied through a
//! scratch area of the primary memory, since the library and the p1 host
//! only see memory 0). WASI handles are the library's, one table for all
//! component instances.
//!
//! # What is not done
//! Strings in `utf16` or `latin1+utf16` pass, on WASI imports and between
//! components, through the transcoders of the `transcode` module; handles
//! pass too (WASI ones unchanged, those of resources a component defines
//! moved between the instances' tables of the `resources` module). Refused,
//! with a message naming it: a reactor export lifted with another string
//! encoding than UTF-8.
//!
//! # Reentrance
//! As wasmtime 49 checks it: `may_leave` is the library's phase
//! (`p2lib_phase`), set by the library while the guest's `realloc` runs for
//! a WASI call, and by the generated code while a `realloc` runs for an
//! adapter's arguments (the callee's) or results (the caller's) and while
//! `run`'s `post-return` (a reactor's `cabi_post_*`) runs; a WASI call, an adapter's call or a
//! `resource.new`/`resource.drop` made then traps ("cannot leave component
//! instance"). The `post-return` of a call between components may call
//! imports, as in wasmtime. A `canon lower` of a function the same
//! component instance lifts traps when called ("cannot enter component
//! instance"); an instance entered again through another one runs on (as
//! in wasmtime 49, whose adapters keep no `may_enter`).

mod adapter;
mod error;
mod forward;
mod glue;
mod invoke;
mod link;
mod merge;
mod module;
mod reach;
pub mod relocate;
mod resources;
mod stub;
mod transcode;

pub use error::LowerError;
pub use stub::stub_library;
use wasmparser::WasmFeatures;

/// The core features the component's modules may use: Wasm 2.0 (SIMD
/// included), tail calls, multi-memory and extended constant expressions.
/// The output uses only what its inputs use, beyond Wasm 2.0 without SIMD
/// (constant expressions are folded: no extended-const).
pub const INPUT_FEATURES: WasmFeatures = WasmFeatures::WASM2
    .union(WasmFeatures::TAIL_CALL)
    .union(WasmFeatures::MULTI_MEMORY)
    .union(WasmFeatures::EXTENDED_CONST);

/// Wasm 2.0 without SIMD: what every p1 host runs.
const BASE_FEATURES: WasmFeatures = WasmFeatures::WASM2.difference(WasmFeatures::SIMD);

/// A lowered component.
#[derive(Debug)]
pub struct Lowered {
    /// The core module.
    pub bytes: Vec<u8>,
    /// The features it needs beyond Wasm 2.0 without SIMD (`simd`,
    /// `tail-call`, `multi-memory`), empty in the common case.
    pub extra_features: Vec<&'static str>,
    /// The component's exports besides `wasi:cli/run`, not kept: a p1
    /// command (like `wasmtime run` of the component) only runs `run`.
    /// componentize-py's `exports` (its build-time `init`) is one.
    pub dropped_exports: Vec<String>,
    /// For a reactor, the functions it exports (see the crate docs); `None`
    /// for a command.
    pub reactor_exports: Option<Vec<String>>,
}

/// How to lower.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `--invoke`: a reactor becomes a command whose `_start` runs the WAVE
    /// call given as its first argument (see the crate docs); the library
    /// must have `p2lib_invoke` (p2-lib built with `--features invoke`).
    pub invoke: bool,
}

/// Lowers the component `component`, linking in `library` (a core module
/// that follows the contract of the crate docs).
pub fn lower(component: &[u8], library: &[u8]) -> Result<Lowered, LowerError> {
    lower_with(component, library, Options::default())
}

/// [`lower`] with [`Options`].
pub fn lower_with(
    component: &[u8],
    library: &[u8],
    options: Options,
) -> Result<Lowered, LowerError> {
    let flat = component_model::inline::flatten(component, INPUT_FEATURES)?;
    // A library built with --emit-relocs (p2-lib) is placed first, above
    // every memory of the component; a plain module (a stand-in) as it is.
    let base_pages = link::largest_memory(&flat, component)?;
    let (library, region, taken) = if is_relocatable(library) {
        let placement = relocate::Placement {
            memory_base: base_pages.checked_mul(relocate::PAGE_SIZE).ok_or_else(|| {
                LowerError::Unsupported(
                    "a memory of 65536 pages leaves no room for the WASI library".into(),
                )
            })?,
            table: relocate::TablePlacement::Own,
        };
        let r = relocate::relocate(library, &placement)
            .map_err(|e| LowerError::Library(e.to_string()))?;
        (
            std::borrow::Cow::Owned(r.module),
            Some(r.pages),
            Some(r.address_taken),
        )
    } else {
        (std::borrow::Cow::Borrowed(library), None, None)
    };
    let linker = link::Linker::new(&flat, component, &library)?.invoke(options.invoke);
    let (mut merger, mut linked) = linker.link()?;
    // Only the library functions the component reaches.
    let keep = reach::reachable(
        merger.info(linked.library),
        linked.library_roots.iter().copied(),
        taken.as_ref(),
    )?;
    merger.keep_funcs(linked.library, keep);
    if let Some(pages) = region {
        if let link::Entry::Invoke(inv) = &mut linked.entry {
            // What is not the guest's memory 0: above its initial size, up
            // to the end of the library's region.
            if let merge::Origin::Defined { input, index, .. } = linked.primary {
                let initial = merger
                    .info(input)
                    .memories
                    .get(index as usize)
                    .map_or(0, |m| m.initial);
                inv.hole = Some((
                    initial.saturating_mul(u64::from(relocate::PAGE_SIZE)),
                    u64::from(base_pages + pages) * u64::from(relocate::PAGE_SIZE),
                ));
            }
        }
        // The region exists from the start: the library's data is active.
        merger.raise_memory_min(linked.primary, base_pages + pages)?;
    }
    let glue = glue::declare(&mut merger, &linked)?;
    // Segments of instances after the first start function wait for it.
    let mut started = false;
    for id in merger.inputs().collect::<Vec<_>>() {
        if started {
            merger.defer_segments(id);
        }
        started |= merger.info(id).start.is_some();
    }
    merger.layout()?;
    let count = merger.glue_count();
    let encoded =
        merger.encode(|deferred| glue::bodies(&merger, &linked, &glue, deferred, count))?;
    let mut features = BASE_FEATURES;
    let mut extra_features = Vec::new();
    if encoded.extras.tail_call {
        features |= WasmFeatures::TAIL_CALL;
        extra_features.push("tail-call");
    }
    if encoded.extras.multi_memory {
        features |= WasmFeatures::MULTI_MEMORY;
        extra_features.push("multi-memory");
    }
    if let Err(e) = validate(&encoded.bytes, features) {
        // SIMD is the one feature found by validation rather than by the
        // merger: try again with it.
        if validate(&encoded.bytes, features | WasmFeatures::SIMD).is_err() {
            return Err(LowerError::InvalidOutput {
                message: e.message().to_string(),
                offset: e.offset() as usize,
            });
        }
        extra_features.push("simd");
    }
    let reactor_exports = match &linked.entry {
        link::Entry::Command(_) | link::Entry::Invoke(_) => None,
        link::Entry::Reactor(r) => Some(r.funcs.iter().map(|f| f.name.clone()).collect()),
    };
    Ok(Lowered {
        bytes: encoded.bytes,
        extra_features,
        dropped_exports: linked.unreachable_exports,
        reactor_exports,
    })
}

/// Whether `lib` is a relocatable library (it has a `linking` section), as
/// p2-lib is; a plain module (a stand-in) is linked as it is.
fn is_relocatable(lib: &[u8]) -> bool {
    wasmparser::Parser::new(0)
        .parse_all(lib)
        .any(|p| matches!(p, Ok(wasmparser::Payload::CustomSection(c)) if c.name() == "linking"))
}

fn validate(bytes: &[u8], features: WasmFeatures) -> Result<(), wasmparser::BinaryReaderError> {
    wasmparser::Validator::new_with_features(features)
        .validate_all(bytes)
        .map(|_| ())
}
