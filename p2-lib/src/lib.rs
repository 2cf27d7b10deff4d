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
//! Not done yet: the WASI functions themselves and the handle table. They
//! come from the shims' generated glue (the bindings work of issue 11), not
//! from code written here.

#[cfg(target_os = "wasi")]
pub mod guest;

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
