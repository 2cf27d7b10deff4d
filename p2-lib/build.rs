//! Link arguments of the library (wasm32 only), which `lower::relocate`
//! relies on: `--emit-relocs` keeps the `linking` and `reloc.*` sections;
//! `--no-stack-first` puts the shadow stack above the data, so that an
//! overflow runs into the library's own data, never below its region into
//! the guest's; the stack size is the library's own (the workspace's
//! `.cargo/config.toml` asks 8 MiB for the shim, and link arguments given
//! here come after it, so they win).
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        for arg in ["--emit-relocs", "--no-stack-first", "-zstack-size=131072"] {
            println!("cargo:rustc-link-arg-cdylib={arg}");
        }
    }
}
