//! The shims cover the WIT they claim: `wit/` (the vendored WASI 0.2.12) is
//! parsed with wit-parser, and every function of every interface the
//! `wasi:cli/command` world imports, and the destructor of every resource
//! they define, must be registered by [`p2_shims::add_to_linker`].
//!
//! Runs natively (the shims compile there over the fake p1 layer) and on
//! wasm32-wasip1 (`cargo test --target wasm32-wasip1 -p p2-shims --test
//! wit_coverage`).

use component_model::Linker;
use p2_shims::WasiCtx;
use std::path::Path;
use wit_parser::{Resolve, TypeDefKind, WorldItem};

#[test]
fn command_world_is_covered() {
    let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
    let mut resolve = Resolve::default();
    // Each package is its own folder; push them after their dependencies.
    let mut last = None;
    for pkg in ["io", "clocks", "random", "filesystem", "sockets", "cli"] {
        last = Some(
            resolve
                .push_dir(wit.join(pkg))
                .unwrap_or_else(|e| panic!("wit/{pkg}: {e:?}"))
                .0,
        );
    }
    let world = resolve
        .select_world(&[last.unwrap()], Some("command"))
        .unwrap();
    let mut linker = Linker::<WasiCtx>::new();
    p2_shims::add_to_linker(&mut linker);

    let (mut funcs, mut missing) = (0, Vec::new());
    for item in resolve.worlds[world].imports.values() {
        let WorldItem::Interface { id, .. } = item else {
            continue;
        };
        let name = resolve.id_of(*id).expect("a named interface");
        let iface = &resolve.interfaces[*id];
        for f in iface.functions.values() {
            funcs += 1;
            if !linker.defines_func(&name, &f.name) {
                missing.push(format!("{name}#{}", f.name));
            }
        }
        for (res, ty) in &iface.types {
            if matches!(resolve.types[*ty].kind, TypeDefKind::Resource)
                && !linker.defines_dtor(&name, res)
            {
                missing.push(format!("{name} resource {res} (destructor)"));
            }
        }
    }
    // A sanity check that the world was read whole (123 functions at 0.2.12).
    assert!(
        funcs > 100,
        "only {funcs} functions found in the command world"
    );
    assert!(
        missing.is_empty(),
        "not provided by p2-shims ({} of {funcs} functions):\n{}",
        missing.len(),
        missing.join("\n")
    );
    println!("{funcs} functions of wasi:cli/command@0.2.12 covered");
}
