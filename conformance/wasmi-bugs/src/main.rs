//! Runs a module on wasmi 2.0 alone, to show that a crash the differential
//! fuzzer met is wasmi's own (core-vm is not involved):
//!
//! ```sh
//! cargo run --release -- return-call-segfault.wat    # SIGSEGV inside wasmi
//! cargo run --release -- translator-unreachable.wat  # panic at translator/func/mod.rs:2583
//! ```
//!
//! Both were found by `fuzz-smoke --differential-only` (seed 0x5eedc0de,
//! iterations 62079 and 41802) and reduced with `wasm-tools shrink`. The
//! engine is configured as `conformance/src/differential.rs` configures it;
//! imported functions do nothing, imported globals hold zero, and every
//! exported function is called once, in order, with zero arguments.

use wasmi::{Config, Engine, Extern, ExternType, Func, Global, Instance, Module, Store, Val};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: wasmi-bugs FILE.wat")?;
    let wasm = wat::parse_file(&path)?;
    let mut config = Config::default();
    config
        .wasm_tail_call(true)
        .wasm_multi_memory(true)
        .wasm_extended_const(true)
        .consume_fuel(true);
    let engine = Engine::new(&config);
    let module = Module::new(&engine, &wasm[..])?;
    let mut store = Store::new(&engine, ());
    let mut imports = Vec::new();
    for import in module.imports() {
        imports.push(match import.ty() {
            ExternType::Func(ty) => Extern::Func(Func::new(&mut store, ty.clone(), |_, _, _| Ok(()))),
            ExternType::Global(g) => Extern::Global(Global::new(
                &mut store,
                Val::default_for_ty(g.content()),
                g.mutability(),
            )),
            other => return Err(format!("import of {other:?} not supported here").into()),
        });
    }
    let instance = Instance::new(&mut store, &module, &imports)?;
    let names: Vec<String> = module
        .exports()
        .filter(|e| e.ty().func().is_some())
        .map(|e| e.name().to_string())
        .collect();
    for name in names {
        let f = instance.get_func(&store, &name).ok_or("no such export")?;
        let ty = f.ty(&store);
        let params: Vec<Val> = ty.params().iter().map(|t| Val::default_for_ty(*t)).collect();
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for_ty(*t)).collect();
        store.set_fuel(5_120_000)?;
        eprintln!("calling {name:?}");
        let r = f.call(&mut store, &params, &mut results);
        eprintln!("  -> {r:?}");
    }
    Ok(())
}
