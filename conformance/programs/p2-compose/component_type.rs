//! The build script of both crates: encodes the world `PACKAGE-world` of
//! wit/compose.wit as the `component-type` custom section that the
//! wasm32-wasip2 linker reads (what a bindings generator would emit), so
//! the crates write the Canonical ABI by hand and need no generator.
fn main() {
    let pkg_name = std::env::var("CARGO_PKG_NAME").expect("cargo sets it");
    let mut resolve = wit_parser::Resolve::default();
    let (pkg, _) = resolve.push_path("../wit").expect("wit/compose.wit parses");
    let world = resolve
        .select_world(&[pkg], Some(&format!("{pkg_name}-world")))
        .expect("the crate's world");
    let bytes = wit_component::metadata::encode(
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
        None,
        false,
    )
    .expect("the world encodes");
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets it"))
        .join("component_type.rs");
    std::fs::write(
        out,
        format!(
            "#[link_section = \"component-type:{pkg_name}\"]\n#[used]\nstatic COMPONENT_TYPE: [u8; {}] = {:?};\n",
            bytes.len(),
            bytes
        ),
    )
    .expect("OUT_DIR is writable");
    println!("cargo:rerun-if-changed=../wit");
    println!("cargo:rerun-if-changed=../component_type.rs");
}
