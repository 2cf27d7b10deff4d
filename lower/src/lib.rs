//! lower: turns a WASIp2 command component into one ordinary WASIp1 core
//! module (`p2shim lower app.wasm -o app.p1.wasm`) that the host's own
//! engine runs, with no interpreter in between.
//!
//! The output imports only `wasi_snapshot_preview1` and exports `_start`
//! and `memory`. It is made of two parts, merged into one module:
//! * the component's core modules, each instantiated once, with every
//!   index space (types, functions, tables, memories, globals, element and
//!   data segments) renumbered into the merged module (module `merge`);
//! * the p2 WASI library (crate `p2-lib`, the same shims the interpreter
//!   runs, built for `wasm32-wasip1` with `--emit-relocs`), relocated so that
//!   its data, stack and heap live inside the guest's own memory 0, in a
//!   region the guest's allocator never hands out (module `relocate`).
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
//! * **Imports of the library.** `wasi_snapshot_preview1.*`, kept as imports
//!   of the output, and the guest's `cabi_realloc` (the `realloc` canonical
//!   option of the lowered imports), which the merger resolves.
//! * **Handles.** The guest's `i32` handles of WASI resources are indices in
//!   the library's own handle table (one per component instance), which does
//!   the Canonical ABI's own/borrow bookkeeping for host resources.
//! * **Memory.** The library reads and writes guest memory directly (same
//!   address space), bounds-checked against `memory.size`.
//!
//! Implemented: the relocator (module `relocate`). Not yet: the merger, the
//! library itself (`p2-lib`); see issue 11.

pub mod relocate;
