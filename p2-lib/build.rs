//! Link arguments of the library (wasm32 only), which `lower::relocate`
//! relies on: `--emit-relocs` keeps the `linking` and `reloc.*` sections;
//! `--no-stack-first` puts the shadow stack above the data, so that an
//! overflow runs into the library's own data, never below its region into
//! the guest's; the stack size is the library's own (the workspace's
//! `.cargo/config.toml` asks 8 MiB for the shim, and link arguments given
//! here come after it, so they win). `P2LIB_LINK_ARGS` adds more
//! (space-separated): the relocator's tests link the library at other bases
//! with it.
fn main() {
    println!("cargo:rerun-if-env-changed=P2LIB_LINK_ARGS");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        let extra = std::env::var("P2LIB_LINK_ARGS").unwrap_or_default();
        let args = ["--emit-relocs", "--no-stack-first", "-zstack-size=131072"];
        for arg in args.into_iter().chain(extra.split_whitespace()) {
            println!("cargo:rustc-link-arg-cdylib={arg}");
        }
    }
}
