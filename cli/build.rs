//! Exports the bundle descriptor's address (`P2SHIM_BUNDLE`, see
//! src/bundle.rs) from the wasm32 build of the shim, so `p2shim bundle` can
//! find the descriptor in any p2shim.wasm; embeds the lowered WASI library
//! named by `P2SHIM_P2LIB` (a path, set by the Makefile after building
//! p2-lib) for `p2shim lower` (src/lower.rs), LZ4-compressed with its size
//! prepended (lz4_flex's block format, about a third of the library's size),
//! or an empty file without it; and the same for the library built with its
//! `invoke` feature, named by `P2SHIM_P2LIB_INVOKE`, for `p2shim lower
//! --invoke`.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_FAMILY").as_deref() == Ok("wasm") {
        println!("cargo:rustc-link-arg-bin=p2shim=--export=P2SHIM_BUNDLE");
    }
    embed("P2SHIM_P2LIB", "p2lib.wasm");
    embed("P2SHIM_P2LIB_INVOKE", "p2lib-invoke.wasm");
}

/// Writes OUT_DIR/`file`: the library named by `$var`, compressed, or
/// nothing.
fn embed(var: &str, file: &str) {
    println!("cargo:rerun-if-env-changed={var}");
    let out =
        std::path::Path::new(&std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join(file);
    let lib = match std::env::var_os(var).filter(|p| !p.is_empty()) {
        Some(path) => {
            println!("cargo:rerun-if-changed={}", path.to_string_lossy());
            let lib = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{var}={}: {e}", path.to_string_lossy()));
            lz4_flex::compress_prepend_size(&lib)
        }
        None => Vec::new(),
    };
    std::fs::write(&out, lib).unwrap_or_else(|e| panic!("writing OUT_DIR/{file}: {e}"));
}
