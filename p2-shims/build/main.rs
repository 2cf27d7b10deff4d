//! Build script of p2-shims: generates `$OUT_DIR/bindings.rs` (included by
//! `src/bindings.rs`) from the WASI WIT in `wit/`: for every interface that
//! `wasi:cli/command@0.2.12` imports, its types, its `Host` trait, the
//! declared type of each function and its flat glue, and the function and
//! resource tables (`FUNCS`, `RESOURCES`, `for_each_wasi_func!`,
//! `for_each_wasi_resource!`).
//!
//! Invariants:
//! * `wit/` is the one source: a changed WIT signature changes the trait,
//!   and the shims' `impl Host for WasiCtx` stops compiling
//!   (`tests/wit_change.rs` shows it).
//! * Layout and flattening come from canonical-abi (a build dependency), the
//!   same code component-model runs; nothing here restates an ABI rule.
//! * `P2_SHIMS_WIT` (a folder laid out like `wit/`) replaces `wit/`; only
//!   that test uses it.

mod emit;
mod model;

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    println!("cargo:rerun-if-changed=build");
    println!("cargo:rerun-if-env-changed=P2_SHIMS_WIT");
    let wit = match std::env::var_os("P2_SHIMS_WIT") {
        Some(dir) => PathBuf::from(dir),
        None => manifest.join("../wit"),
    };
    println!("cargo:rerun-if-changed={}", wit.display());
    let world = match model::World::load(&wit) {
        Ok(w) => w,
        Err(e) => {
            eprintln!(
                "p2-shims: cannot read the WASI WIT in {}: {e}",
                wit.display()
            );
            std::process::exit(1);
        }
    };
    let code = emit::bindings(&world);
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    if let Err(e) = std::fs::write(out.join("bindings.rs"), code) {
        eprintln!("p2-shims: cannot write bindings.rs: {e}");
        std::process::exit(1);
    }
}
