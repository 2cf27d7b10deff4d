//! Exports the bundle descriptor's address (`P2SHIM_BUNDLE`, see
//! src/bundle.rs) from the wasm32 build of the shim, so `p2shim bundle` can
//! find the descriptor in any p2shim.wasm.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_FAMILY").as_deref() == Ok("wasm") {
        println!("cargo:rustc-link-arg-bin=p2shim=--export=P2SHIM_BUNDLE");
    }
}
