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

use crate::checkpoint::{ComponentLayers, RUN_ENTRY};
use crate::report;
use crate::snapshot::Snapshot;
use crate::Run;
use anyhow::anyhow;
use canonical_abi::invoke::{self, InvokeError, Lookup};
use canonical_abi::{AbiError, Val};
use component_model::{Component, ComponentFunc, ComponentInstance, Error, Linker};
use core_vm::{Config, Engine, Store};
use p2_shims::checkpoint::Checkpoint as _;
use p2_shims::WasiCtx;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

const CONTEXT: &str = "failed to invoke `run` function";

pub fn run(
    file: &str,
    bytes: Arc<dyn AsRef<[u8]> + Send + Sync>,
    run: &Run,
    restored: Option<Snapshot>,
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
    crate::watch::P2Tracer::install(&mut linker);
    linker.stub_missing(run.stub_missing);
    let (argv, env): (Vec<Vec<u8>>, Vec<Vec<u8>>) = match &restored {
        Some(s) => (s.argv.clone(), s.env.clone()),
        None => (
            std::iter::once(&run.file)
                .chain(&run.args)
                .map(|a| a.as_encoded_bytes().to_vec())
                .collect(),
            std::env::vars_os()
                .map(|(k, v)| {
                    let mut kv = k.into_encoded_bytes();
                    kv.push(b'=');
                    kv.extend(v.into_encoded_bytes());
                    kv
                })
                .collect(),
        ),
    };
    let text = |b: &Vec<u8>| String::from_utf8_lossy(b).into_owned();
    let mut ctx = WasiCtx::new(argv.iter().map(text).collect());
    let parts = restored
        .as_ref()
        .map(|s| match (&s.component, s.program.kind.as_str()) {
            (Some(parts), "component") => parts,
            _ => report::fail(anyhow!(
                "the checkpoint is of a module, and `{file}` is a component"
            )),
        });
    if let Some(parts) = parts {
        // The guest keeps the environment it started with.
        ctx.env = Some(
            env.iter()
                .map(|kv| {
                    let kv = text(kv);
                    match kv.split_once('=') {
                        Some((k, v)) => (k.to_string(), v.to_string()),
                        None => (kv, String::new()),
                    }
                })
                .collect(),
        );
        ctx.restore(&parts.wasi).unwrap_or_else(|e| {
            report::fail(anyhow!("cannot restore the checkpoint's WASI state: {e}"))
        });
    }
    let mut store = Store::new(&engine, ctx);
    p2_shims::set_before_exit(crate::watch::finish);
    let entry = match (&restored, &run.invoke) {
        (Some(s), _) => s.entry.clone(),
        (None, Some(call)) => format!("{INVOKE_ENTRY}{call}"),
        (None, None) => RUN_ENTRY.to_string(),
    };
    let made = Rc::new(RefCell::new(None));
    let layers = ComponentLayers {
        program,
        argv,
        env,
        entry: entry.clone(),
        instance: made.clone(),
    };
    if let Some(w) = crate::watch::Watcher::new(&run.watch, file, Box::new(layers)) {
        store.set_observer(Box::new(w));
    }
    let instance = match linker.instantiate(&mut store, &component) {
        Ok(i) => i,
        Err(Error::Import { kind, name, causes }) => import_error(file, kind, &name, &causes),
        Err(e) => report::fail(anyhow!("failed to instantiate `{file}`: {e}")),
    };
    *made.borrow_mut() = Some(instance.clone());
    if let Some(call) = entry.strip_prefix(INVOKE_ENTRY) {
        invoke(file, &mut store, &instance, call, restored.as_ref());
    }
    let Some(func) = instance.get_instance_func("wasi:cli/run@0.2.0", "run") else {
        report::fail(anyhow!(
            "`{file}` does not export `wasi:cli/run@0.2.x#run`; it is not a command component"
        ))
    };
    let outcome = match &restored {
        Some(s) => resume(&instance, &func, &mut store, s),
        None => func.call(&mut store, &[]),
    };
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
        Err(e @ Error::Checkpoint { .. }) => {
            report::fail(anyhow!("cannot restore the checkpoint: {e}"))
        }
        Err(e) => report::fail(anyhow!(
            "failed to run main module `{file}`: {CONTEXT}: {e}"
        )),
    }
}

/// The prefix of a component snapshot's entry that ran `--invoke CALL`.
const INVOKE_ENTRY: &str = "--invoke ";

/// Resumes the call `s` suspended in `func`: the Canonical ABI's state put
/// back into `instance`, then the call resumed.
fn resume(
    instance: &ComponentInstance<WasiCtx>,
    func: &ComponentFunc<WasiCtx>,
    store: &mut Store<WasiCtx>,
    s: &Snapshot,
) -> Result<Vec<Val>, Error> {
    let cm = &s
        .component
        .as_ref()
        .expect("checked when the WASI state was restored")
        .cm;
    instance.restore(cm)?;
    func.resume(store, &cm.call, &s.vm)
}

/// `--invoke 'name(args)'`: calls the export and prints its results in WAVE
/// (parsing, lookup and reports shared with lowered mode:
/// `canonical_abi::invoke`).
fn invoke(
    file: &str,
    store: &mut Store<WasiCtx>,
    instance: &ComponentInstance<WasiCtx>,
    call: &str,
    restored: Option<&Snapshot>,
) -> ! {
    let fail = |e: InvokeError| -> ! {
        eprint!("{}", e.report(file));
        std::process::exit(1)
    };
    let find = |name: &str| {
        instance.find_func(name).map_err(|e| match e {
            Error::NotFound(n) => InvokeError::Lookup(Lookup::NotFound(n)),
            Error::Ambiguous { name, candidates } => {
                InvokeError::Lookup(Lookup::Ambiguous { name, candidates })
            }
            e => InvokeError::Other(e.to_string()),
        })
    };
    let (func, name, params) = invoke::prepare(call, find, |f| f.ty()).unwrap_or_else(|e| fail(e));
    let context = format!("failed to invoke `{name}`");
    let outcome = match restored {
        Some(s) => resume(instance, &func, store, s),
        None => func.call(store, &params),
    };
    let results = match outcome {
        Ok(r) => r,
        Err(Error::Trap { trap, .. }) => {
            report::guest_error(file, &context, core_vm::Error::Trap(trap))
        }
        Err(Error::Core { error, .. }) => report::guest_error(file, &context, error),
        // A Canonical ABI trap (e.g. lifting an invalid char) is an error of
        // the embedder in wasmtime, which exits 1 for it.
        Err(e) => fail(InvokeError::Failed {
            name,
            message: e.to_string(),
        }),
    };
    crate::watch::finish();
    match invoke::results_line(&name, &results) {
        Ok(text) => println!("{text}"),
        Err(e) => fail(e),
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
