//! `p2shim [OPTIONS] <FILE> [ARGS]...`: runs a WebAssembly program on
//! core-vm inside any WASIp1 host, so that
//! `wasmtime run --dir . p2shim.wasm prog.wasm a b` behaves like
//! `wasmtime run --dir . prog.wasm a b`.
//!
//! Invariants:
//! * Option parsing stops at FILE: everything after it belongs to the guest.
//!   The guest's argv is FILE exactly as given, then ARGS; its environment and
//!   preopened directories are the host's, passed straight through.
//! * FILE is read with `std::fs` (through the host's preopens) and closed
//!   before the guest starts, so the guest sees the fd numbers of a direct run.
//! * A core module runs through the WASIp1 pass-through ([`p1`]); a component
//!   runs its `wasi:cli/run` export against the p2 shims ([`component`]).
//! * Errors and traps are reported by [`report`] with wasmtime's exit status.
//! * The runner only exists on wasm32-wasip1 (`target_os = "wasi"`); a native
//!   build compiles but says so and exits with status 1.

mod guest;
#[cfg(target_os = "wasi")]
mod component;
#[cfg(target_os = "wasi")]
mod p1;
#[cfg(target_os = "wasi")]
mod report;

use anyhow::{bail, Result};
use std::ffi::OsString;

const USAGE: &str = "\
Usage: p2shim [OPTIONS] <FILE> [ARGS]...

Runs the WebAssembly program FILE (a WASIp1 core module or a WASIp2
command component) with ARGS on p2shim's interpreter. FILE is the guest's
argv[0]; the guest sees the host's environment variables and preopened
directories.

Options (only before FILE):
      --invoke <NAME>  Call the exported function NAME instead of `_start` and
                       print its results, one per line. ARGS, if any, are
                       its parameters; missing ones default to zero.
      --stub-missing   Instantiate even when imports are missing: each
                       missing function traps when called, naming itself.
  -h, --help           Print this help
  -V, --version        Print the version
";

/// What the command line asks for.
#[derive(Debug, PartialEq)]
enum Command {
    Help,
    Version,
    Run(Run),
}

/// A program to run.
#[derive(Debug, PartialEq)]
struct Run {
    /// `--invoke NAME`.
    invoke: Option<String>,
    /// `--stub-missing`.
    stub_missing: bool,
    /// FILE, exactly as given.
    file: OsString,
    /// The guest's arguments after FILE.
    args: Vec<OsString>,
}

/// Parses the shim's arguments (without its own argv[0]).
fn parse_args(mut args: impl Iterator<Item = OsString>) -> Result<Command> {
    let mut invoke = None;
    let mut stub_missing = false;
    while let Some(arg) = args.next() {
        let Some(opt) = arg.to_str().filter(|s| s.starts_with('-') && s.len() > 1) else {
            return Ok(Command::Run(Run { invoke, stub_missing, file: arg, args: args.collect() }));
        };
        match opt {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--" => break,
            "--stub-missing" => stub_missing = true,
            "--invoke" => match args.next() {
                Some(name) => invoke = Some(utf8(name, "--invoke")?),
                None => bail!("a value is required for '--invoke <NAME>'"),
            },
            _ => match opt.strip_prefix("--invoke=") {
                Some(name) => invoke = Some(name.to_string()),
                None => bail!("unexpected argument '{opt}'"),
            },
        }
    }
    match args.next() {
        Some(file) => Ok(Command::Run(Run { invoke, stub_missing, file, args: args.collect() })),
        None => bail!("the following required arguments were not provided: <FILE>"),
    }
}

fn utf8(s: OsString, what: &str) -> Result<String> {
    s.into_string().map_err(|s| anyhow::anyhow!("invalid UTF-8 in {what}: {s:?}"))
}

fn main() {
    let command = match parse_args(std::env::args_os().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}\n\nUsage: p2shim [OPTIONS] <FILE> [ARGS]...\n\nFor more information, try '--help'.");
            std::process::exit(2)
        }
    };
    match command {
        Command::Help => print!("{USAGE}"),
        Command::Version => println!("p2shim {}", env!("CARGO_PKG_VERSION")),
        Command::Run(run) => execute(run),
    }
}

#[cfg(not(target_os = "wasi"))]
fn execute(run: Run) {
    let _ = run;
    eprintln!("Error: p2shim is built for wasm32-wasip1; run target/p2shim.wasm on a WASIp1 host");
    std::process::exit(1)
}

#[cfg(target_os = "wasi")]
fn execute(run: Run) {
    wasi_run::execute(run)
}

/// Running a program on the host (wasm32-wasip1 only).
#[cfg(target_os = "wasi")]
mod wasi_run {
    use super::Run;
    use crate::p1::{self, Ctx, Strings};
    use crate::report;
    use anyhow::{anyhow, Context as _};
    use core_vm::{Engine, Func, Instance, Linker, Module, Store, Val, ValType};
    use std::os::wasi::ffi::OsStrExt;

    pub fn execute(run: Run) {
        let file = run.file.to_string_lossy().into_owned();
        // Read and close FILE before anything of the guest runs.
        let bytes = std::fs::read(&run.file)
            .with_context(|| format!("failed to read input file `{file}`"))
            .unwrap_or_else(|e| report::fail(e));
        if core_vm::is_component(&bytes) {
            crate::component::run(&file, &bytes, &run);
        }
        let engine = Engine::default();
        let module = Module::new(&engine, &bytes)
            .map_err(|e| anyhow!("{e}"))
            .with_context(|| format!("failed to parse WebAssembly module `{file}`"))
            .unwrap_or_else(|e| report::fail(e));
        drop(bytes);

        let mut linker = Linker::new();
        p1::add_to_linker(&mut linker);
        p1::add_bench_hooks(&mut linker);
        if run.stub_missing {
            stub_missing_imports(&mut linker, &module);
        }
        let argv = std::iter::once(&run.file).chain(&run.args).map(|a| a.as_bytes());
        let ctx = Ctx { args: Strings::new(argv), environ: Strings::host_environ() };
        let mut store = Store::new(&engine, ctx);

        let instantiate = format!("failed to instantiate `{file}`");
        let instance = linker
            .instantiate(&mut store, &module)
            .unwrap_or_else(|e| report::guest_error(&file, &instantiate, e));
        if let Some(init) = instance.get_func(&store, "_initialize") {
            call(&mut store, &file, "failed to invoke `_initialize`", init, &[]);
        }
        match &run.invoke {
            Some(name) => invoke(&mut store, instance, &file, name, &run),
            None => {
                let main = instance.get_func(&store, "").or_else(|| instance.get_func(&store, "_start"));
                if let Some(main) = main {
                    call(&mut store, &file, "failed to invoke command default", main, &[]);
                }
            }
        }
    }

    /// `--stub-missing`: every function import nothing defines becomes a host
    /// function that traps when called, naming the import. (Missing
    /// memories, tables and globals still fail instantiation.)
    fn stub_missing_imports(linker: &mut Linker<Ctx>, module: &Module) {
        for import in module.imports() {
            let core_vm::ExternType::Func(ty) = import.ty else { continue };
            if linker.contains(import.module, import.name) {
                continue;
            }
            let what = format!("{}::{}", import.module, import.name);
            linker.func_new(import.module, import.name, ty, move |_, _, _| {
                Err(core_vm::Trap::host(std::io::Error::other(format!(
                    "called the missing import `{what}` (stubbed by --stub-missing)"
                ))))
            });
        }
    }

    /// `--invoke NAME`: calls the export with ARGS as parameters (missing
    /// ones zero) and prints its results one per line.
    fn invoke(store: &mut Store<Ctx>, instance: Instance, file: &str, name: &str, run: &Run) {
        let func = instance
            .get_func(store, name)
            .unwrap_or_else(|| report::fail(anyhow!("no func export named `{name}` found")));
        let ty = func.ty(store);
        if run.args.len() > ty.params().len() {
            report::fail(anyhow!("too many arguments for `{name}` of type {ty}"));
        }
        let params = ty
            .params()
            .iter()
            .enumerate()
            .map(|(i, t)| match run.args.get(i) {
                Some(a) => parse_val(*t, &a.to_string_lossy())
                    .with_context(|| format!("argument {i} of `{name}`")),
                None => Ok(Val::default_for(*t)),
            })
            .collect::<anyhow::Result<Vec<_>>>()
            .unwrap_or_else(|e| report::fail(e));
        let results = call(store, file, &format!("failed to invoke `{name}`"), func, &params);
        for r in results {
            println!("{}", show_val(r));
        }
    }

    /// Calls `func`, reporting a failure (and exiting) with `context`.
    fn call(store: &mut Store<Ctx>, file: &str, context: &str, func: Func, params: &[Val]) -> Vec<Val> {
        let ty = func.ty(store);
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        if let Err(e) = func.call(store, params, &mut results) {
            report::guest_error(file, context, e);
        }
        results
    }

    fn parse_val(ty: ValType, s: &str) -> anyhow::Result<Val> {
        Ok(match ty {
            ValType::I32 => Val::I32(s.parse::<i32>().or_else(|_| s.parse::<u32>().map(|v| v as i32))?),
            ValType::I64 => Val::I64(s.parse::<i64>().or_else(|_| s.parse::<u64>().map(|v| v as i64))?),
            ValType::F32 => Val::F32(s.parse::<f32>()?.to_bits()),
            ValType::F64 => Val::F64(s.parse::<f64>()?.to_bits()),
            other => anyhow::bail!("cannot pass a {other} on the command line"),
        })
    }

    /// A result as `wasmtime run --invoke` prints it.
    fn show_val(v: Val) -> String {
        match v {
            Val::I32(x) => x.to_string(),
            Val::I64(x) => x.to_string(),
            Val::F32(b) => f32::from_bits(b).to_string(),
            Val::F64(b) => f64::from_bits(b).to_string(),
            Val::V128(x) => format!("{x:#034x}"),
            Val::FuncRef(None) | Val::ExternRef(None) => "null".to_string(),
            Val::FuncRef(Some(_)) => "<funcref>".to_string(),
            Val::ExternRef(Some(_)) => "<externref>".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command> {
        parse_args(args.iter().map(OsString::from))
    }

    fn run(invoke: Option<&str>, file: &str, args: &[&str]) -> Command {
        Command::Run(Run {
            invoke: invoke.map(String::from),
            stub_missing: false,
            file: file.into(),
            args: args.iter().map(OsString::from).collect(),
        })
    }

    #[test]
    fn options_stop_at_file() {
        assert_eq!(parse(&["prog.wasm", "--help", "-x"]).unwrap(), run(None, "prog.wasm", &["--help", "-x"]));
        assert_eq!(parse(&["--invoke", "run", "cm.wasm"]).unwrap(), run(Some("run"), "cm.wasm", &[]));
        assert_eq!(parse(&["--invoke=add", "m.wasm", "1", "2"]).unwrap(), run(Some("add"), "m.wasm", &["1", "2"]));
        assert_eq!(parse(&["--", "-weird.wasm", "a"]).unwrap(), run(None, "-weird.wasm", &["a"]));
        assert_eq!(parse(&["-", "a"]).unwrap(), run(None, "-", &["a"]));
        assert_eq!(parse(&["--help"]).unwrap(), Command::Help);
        let Command::Run(r) = parse(&["--stub-missing", "c.wasm"]).unwrap() else { panic!("not a run") };
        assert!(r.stub_missing && r.file == "c.wasm" && r.invoke.is_none());
        assert_eq!(parse(&["-V", "x.wasm"]).unwrap(), Command::Version);
    }

    #[test]
    fn bad_command_lines() {
        assert!(parse(&[]).is_err());
        assert!(parse(&["--invoke"]).is_err());
        assert!(parse(&["--dir", "."]).is_err());
        assert!(parse(&["--"]).is_err());
    }
}
