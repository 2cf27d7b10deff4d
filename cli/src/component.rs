//! Running a WASIp2 command component: instantiate it with every p2 shim
//! interface (`p2_shims::add_to_linker`) and call its
//! `wasi:cli/run@0.2.x#run` export, ending the process like `wasmtime run`.
//!
//! Invariants:
//! * The guest's `get-arguments` is FILE exactly as given, then ARGS.
//! * `run` returning `ok` exits 0, `err` exits 1; `wasi:cli/exit` calls end
//!   the process from inside the shims.
//! * A missing import is reported in wasmtime's words, naming the first
//!   missing `interface` and function; other instantiation errors are one
//!   `Error:` line; both exit 1; a guest trap prints like the p1 path and
//!   traps the host (134), a trap raised by a shim (a host error) exits 1.

use crate::report;
use crate::Run;
use anyhow::anyhow;
use component_model::core_vm::{Config, Engine, Store};
use component_model::{abi::Val, Component, Error, Linker};
use p2_shims::WasiCtx;

const CONTEXT: &str = "failed to invoke `run` function";

pub fn run(file: &str, bytes: &[u8], run: &Run) -> ! {
    // Function bodies are validated on their first call, so start-up follows
    // the code that runs, not the size of the file (componentize-py's
    // 18 MB); an invalid body is still an error, raised when it is reached.
    let engine = Engine::new(Config { lazy_validation: true, ..Config::default() });
    let component = Component::new(&engine, bytes).unwrap_or_else(|e| {
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
    let instance = match linker.instantiate(&mut store, &component) {
        Ok(i) => i,
        Err(Error::MissingImports(list)) => missing_import(file, &list),
        Err(e) => report::fail(anyhow!("failed to instantiate `{file}`: {e}")),
    };
    let Some(func) = instance.get_instance_func("wasi:cli/run@0.2.0", "run") else {
        report::fail(anyhow!(
            "`{file}` does not export `wasi:cli/run@0.2.x#run`; it is not a command component"
        ))
    };
    match func.call(&mut store, &[]) {
        Ok(v) if v == [Val::Result(Ok(None))] => std::process::exit(0),
        Ok(_) => std::process::exit(1),
        Err(Error::Trap { trap, .. }) => {
            report::guest_error(file, CONTEXT, component_model::core_vm::Error::Trap(trap))
        }
        Err(Error::Core { error, .. }) => report::guest_error(file, CONTEXT, error),
        Err(e) if e.is_trap() => {
            eprintln!("Error: failed to run main module `{file}`\n\nCaused by:\n    0: {CONTEXT}\n    1: {e}");
            std::process::abort()
        }
        Err(e) => report::fail(anyhow!(
            "failed to run main module `{file}`: {CONTEXT}: {e}"
        )),
    }
}

/// Reports the first missing import as `wasmtime run` does and exits 1.
fn missing_import(file: &str, list: &[String]) -> ! {
    let first = list.first().map(String::as_str).unwrap_or("?");
    let detail = match first.split_once('#') {
        Some((iface, func)) => format!(
            "    0: component imports instance `{iface}`, but a matching implementation was not found in the linker\n\
             \x20   1: instance export `{func}` has the wrong type\n\
             \x20   2: function implementation is missing"
        ),
        None => format!("    0: component imports function `{first}`, but a matching implementation was not found in the linker"),
    };
    eprintln!("Error: failed to run main module `{file}`\n\nCaused by:\n{detail}");
    std::process::exit(1)
}
