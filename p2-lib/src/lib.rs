//! p2-lib: lowered mode's WASI library. The WASIp2 interfaces of
//! `wasi:cli/command@0.2.12`, implemented over WASIp1, built for
//! `wasm32-wasip1` as a cdylib linked with `--emit-relocs` (see build.rs),
//! then placed by `lower::relocate` inside the guest's memory 0 and merged
//! with the guest's code into one p1 module (see the `lower` crate's doc
//! for the contract between the two).
//!
//! Invariants:
//! * Natively (`cargo test --workspace`) the crate is empty: everything is
//!   `target_os = "wasi"` only.
//! * [`p2lib_init`], exported as the reactor's `_initialize` (so wasm-ld
//!   wraps no export in constructor/destructor calls; the relocator exports
//!   it as `p2lib_init`), runs before any guest code.
//! * Guest memory is reached only through [`guest::Memory`], which checks
//!   every range against `memory.size`; the guest's `cabi_realloc` only
//!   through [`guest::Memory::realloc`].
//!
//! # How the WASI functions plug in
//! The functions come from the shims' generated glue, not from code
//! written here: [`exports`] stamps, for each function of the generated
//! table (`p2_shims::for_each_wasi_func!`), an export named `I@0.2.12#F`
//! with the `canon lower` core signature that runs the function's glue
//! with the lowered boundary (`call::Call`, the shims' `Guest`), and for
//! each resource an `I@0.2.12#[resource-drop]R`. The boundary's pieces:
//! [`guest::Memory`] (views and writes of memory 0, the guest's
//! `realloc`), [`guest::Trap`] (how a failed call ends the program), and
//! the library's state (the shims' `WasiCtx` and the Canonical ABI handle
//! table of the WASI resources, reached by one call at a time, so that a
//! WASI call from inside the guest's `realloc` is refused rather than
//! aliased; a `borrow` argument is checked, no lend is recorded: none can
//! be seen, see `call`).
//! With the `invoke` feature (a second build, `target/p2lib-invoke.wasm`,
//! linked by `p2shim lower --invoke` only), `invoke` runs a reactor's
//! WAVE call (see its docs); without it, none of that code or data is in
//! the library.
//! The shims are compiled without the interpreter (`p2-shims` without its
//! `component-model` feature): no component-model or core-vm code is in
//! the library.
//!
//! # Per-call cost (the design the glue follows)
//! * No relocation cost: the relocator fixes every address at lowering
//!   time, so the code runs as if linked where it lies.
//! * No copy on writes: a `list<u8>` argument is a view of guest memory,
//!   and since the library shares the guest's address space, the iovec
//!   handed to p1 `fd_write` points straight at the guest's bytes (the host
//!   reads them from the merged module's memory, which is the guest's).
//! * One copy on reads: p1 reads into a buffer the shims keep (no
//!   allocation per call), then one `realloc` of the exact result size and
//!   one copy, so the guest's allocator sees the same calls as under the
//!   interpreter and native wasmtime.
//! * A bounds check is one `memory.size` and one compare.

#[cfg(target_os = "wasi")]
mod call;
#[cfg(target_os = "wasi")]
pub mod exports;
#[cfg(target_os = "wasi")]
pub mod guest;
#[cfg(all(target_os = "wasi", feature = "invoke"))]
pub mod invoke;

/// Ends the program for a Canonical ABI failure that `lower`'s generated
/// code found, with wasmtime's message, as wasmtime ends it: `code` is a
/// [`canonical_abi::CanonError`], `value` the handle of an unknown one. A
/// misused handle of a resource a component defines or a string that is
/// not valid in its encoding exits 1; a broken reentrance rule traps
/// ([`canonical_abi::CanonError::traps`]). An unknown code is reported as
/// such.
#[cfg(target_os = "wasi")]
#[export_name = "p2lib_canon_error"]
pub extern "C" fn p2lib_canon_error(code: i32, value: i32) -> ! {
    let (message, traps) = match canonical_abi::CanonError::from_code(code) {
        // A trap in wasmtime's words for a trap.
        Some(e) if e.traps() => (format!("wasm trap: {}", e.message(value)), true),
        Some(e) => (e.message(value), false),
        None => (
            format!("Canonical ABI error {code} of the lowered code"),
            false,
        ),
    };
    let failure = guest::Trap { message };
    if traps {
        failure.trap()
    } else {
        failure.abort()
    }
}

/// The Canonical ABI's `may_leave` for `lower`'s generated code: the
/// library's phase, returned and set as `call::phase` says (2: no import
/// may be called; the generated code sets it around a `realloc` or
/// `post-return` it runs, and restores what it got back).
#[cfg(target_os = "wasi")]
#[export_name = "p2lib_phase"]
pub extern "C" fn p2lib_phase(set: i32) -> i32 {
    call::phase(set)
}

/// Runs the library's constructors once, before any guest code.
#[cfg(target_os = "wasi")]
#[export_name = "_initialize"]
pub extern "C" fn p2lib_init() {
    extern "C" {
        fn __wasm_call_ctors();
    }
    // SAFETY: wasm-ld's constructor list; called once, first, by the
    // merged module's `_start`.
    unsafe { __wasm_call_ctors() }
}
