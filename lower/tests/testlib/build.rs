//! Links the test library as p2-lib is linked (`--emit-relocs`, data before
//! the stack), plus the extra link arguments of `TESTLIB_LINK_ARGS`
//! (space-separated), with which the tests move its layout.
fn main() {
    println!("cargo:rerun-if-env-changed=TESTLIB_LINK_ARGS");
    for arg in ["--emit-relocs", "--no-stack-first", "-zstack-size=65536"] {
        println!("cargo:rustc-link-arg={arg}");
    }
    if let Ok(args) = std::env::var("TESTLIB_LINK_ARGS") {
        for arg in args.split_whitespace() {
            println!("cargo:rustc-link-arg={arg}");
        }
    }
}
