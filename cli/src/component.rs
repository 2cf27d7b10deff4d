//! Running a WASIp2 component: instantiate it with every p2 shim
//! interface (`p2_shims::add_to_linker`) and call its
//! `wasi:cli/run@0.2.x#run` export, or with `--invoke 'name(args)'` the
//! named export, ending the process like `wasmtime run`.
//!
//! Invariants:
//! * `--invoke` is a WAVE function call, parsed and type-checked against the
//!   export's type by `canonical_abi::wave` (the `wasm-wave` crate); the
//!   export is found by `ComponentInstance::find_func` (wasmtime's rules:
//!   `name`, or `ns:pkg/iface.name@version` inside an exported instance);
//!   the results are printed in WAVE on one line (`()` for none). Syntax,
//!   lookup and type errors exit 1 before anything of the guest runs.
//! * The guest's `get-arguments` is FILE exactly as given, then ARGS.
//! * `run` returning `ok` exits 0, `err` exits 1, an invalid discriminant
//!   exits 1 with wasmtime's "invalid expected discriminant" (a failed lift
//!   is an embedder error there, not a trap); `wasi:cli/exit` calls end the
//!   process from inside the shims.
//! * An import that is missing or has the wrong type is reported in
//!   wasmtime's words (the first one, with its chain of causes); other
//!   instantiation errors are one `Error:` line; both exit 1; a guest trap prints like the p1 path and
//!   traps the host (134), a trap raised by a shim (a host error) exits 1.

use crate::report;
use crate::Run;
use anyhow::anyhow;
use canonical_abi::wave::{self, FuncCall};
use canonical_abi::{AbiError, Val};
use component_model::{Component, ComponentInstance, Error, Linker};
use core_vm::{Config, Engine, Store};
use p2_shims::WasiCtx;
use std::sync::Arc;

const CONTEXT: &str = "failed to invoke `run` function";

pub fn run(
    file: &str,
    bytes: Arc<dyn AsRef<[u8]> + Send + Sync>,
    run: &Run,
    restored: Option<crate::snapshot::Snapshot>,
    program: Option<crate::snapshot::Program>,
) -> ! {
    // Function bodies are validated on their first call, so start-up follows
    // the code that runs, not the size of the file (componentize-py's
    // 18 MB); an invalid body is still an error, raised when it is reached.
    let engine = Engine::new(run.limits.apply(Config {
        lazy_validation: true,
        ..Config::default()
    }));
    let component = Component::from_shared(&engine, bytes).unwrap_or_else(|e| {
        report::fail(anyhow!(
            "failed to parse WebAssembly component `{file}`: {e}"
        ))
    });
    let mut linker: Linker<WasiCtx> = Linker::new();
    p2_shims::add_to_linker(&mut linker);
    linker.stub_missing(run.stub_missing);
    let args = std::iter::once(&run.file)
        .chain(&run.args)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut store = Store::new(&engine, WasiCtx::new(args));
    p2_shims::set_before_exit(crate::watch::finish);
    let layers = crate::checkpoint::ComponentLayers { program };
    if let Some(w) = crate::watch::Watcher::new(&run.watch, file, Box::new(layers)) {
        store.set_observer(Box::new(w));
    }
    if restored.is_some() {
        report::fail(anyhow!("restoring a component is not implemented yet"));
    }
    let instance = match linker.instantiate(&mut store, &component) {
        Ok(i) => i,
        Err(Error::Import { kind, name, causes }) => import_error(file, kind, &name, &causes),
        Err(e) => report::fail(anyhow!("failed to instantiate `{file}`: {e}")),
    };
    if let Some(call) = &run.invoke {
        invoke(file, &mut store, &instance, call);
    }
    let Some(func) = instance.get_instance_func("wasi:cli/run@0.2.0", "run") else {
        report::fail(anyhow!(
            "`{file}` does not export `wasi:cli/run@0.2.x#run`; it is not a command component"
        ))
    };
    let outcome = func.call(&mut store, &[]);
    crate::watch::end_of_run(store.instr_count());
    crate::watch::finish();
    match outcome {
        Ok(v) if v == [Val::Result(Ok(None))] => std::process::exit(0),
        Ok(_) => std::process::exit(1),
        Err(Error::Trap { trap, .. }) => {
            report::guest_error(file, CONTEXT, core_vm::Error::Trap(trap))
        }
        Err(Error::Core { error, .. }) => report::guest_error(file, CONTEXT, error),
        // Lifting `run`'s result failed: an error of the embedder in
        // wasmtime (its typed lift of `result`), which exits 1.
        Err(Error::Abi { error, .. }) => {
            let cause = match error {
                AbiError::InvalidDiscriminant { .. } => "invalid expected discriminant".to_string(),
                other => other.to_string(),
            };
            eprintln!("Error: failed to run main module `{file}`\n\nCaused by:\n    0: {CONTEXT}\n    1: {cause}");
            std::process::exit(1)
        }
        Err(e) => report::fail(anyhow!(
            "failed to run main module `{file}`: {CONTEXT}: {e}"
        )),
    }
}

/// `--invoke 'name(args)'`: calls the export and prints its results in WAVE.
fn invoke(
    file: &str,
    store: &mut Store<WasiCtx>,
    instance: &ComponentInstance<WasiCtx>,
    call: &str,
) -> ! {
    let fail = |cause: String| -> ! {
        eprintln!("Error: failed to run main module `{file}`\n\nCaused by:\n{cause}");
        std::process::exit(1)
    };
    let parsed = FuncCall::parse(call).unwrap_or_else(|e| {
        fail(format!("    0: Failed to parse invoke '{call}': see `p2shim --help` for the syntax\n    1: {e}"))
    });
    let name = parsed.name();
    let func = match instance.find_func(name) {
        Ok(f) => f,
        Err(Error::NotFound(_)) => fail(format!("    No exported func named `{name}` in component.")),
        Err(Error::Ambiguous { candidates, .. }) => fail(format!(
            "    Multiple instances contained funcs named `{name}`, retry with a more specific name: {}",
            candidates.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
        )),
        Err(e) => fail(format!("    {e}")),
    };
    let params = parsed.params(func.ty()).unwrap_or_else(|e| {
        fail(format!(
            "    0: while interpreting parameters in invoke \"{call}\"\n    1: {e}"
        ))
    });
    let context = format!("failed to invoke `{name}`");
    let results = match func.call(store, &params) {
        Ok(r) => r,
        Err(Error::Trap { trap, .. }) => {
            report::guest_error(file, &context, core_vm::Error::Trap(trap))
        }
        Err(Error::Core { error, .. }) => report::guest_error(file, &context, error),
        // A Canonical ABI trap (e.g. lifting an invalid char) is an error of
        // the embedder in wasmtime, which exits 1 for it.
        Err(e) => fail(format!("    0: {context}\n    1: {e}")),
    };
    crate::watch::finish();
    match wave::results_to_string(&results) {
        Ok(text) => println!("{text}"),
        Err(e) => fail(format!(
            "    0: {context}\n    1: cannot print the result in WAVE: {e}"
        )),
    }
    std::process::exit(0)
}

/// Reports an import that is missing or has the wrong type as `wasmtime
/// run` does (the same "Caused by" chain) and exits 1.
fn import_error(file: &str, kind: &str, name: &str, causes: &[String]) -> ! {
    let mut detail = format!(
        "    0: component imports {kind} `{name}`, but a matching implementation was not found in the linker"
    );
    for (i, c) in causes.iter().enumerate() {
        detail.push_str(&format!("\n    {}: {c}", i + 1));
    }
    eprintln!("Error: failed to run main module `{file}`\n\nCaused by:\n{detail}");
    std::process::exit(1)
}
