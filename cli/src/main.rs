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

mod bundle;
#[cfg(target_os = "wasi")]
mod checkpoint;
#[cfg(target_os = "wasi")]
mod component;
mod guest;
mod lower;
#[cfg(target_os = "wasi")]
mod p1;
#[cfg(target_os = "wasi")]
mod p1_state;
mod panic;
#[cfg(target_os = "wasi")]
mod preopen;
#[cfg(target_os = "wasi")]
mod report;
// Natively only its unit tests use it (checkpoints are taken on wasm32).
#[cfg_attr(not(target_os = "wasi"), allow(dead_code))]
mod snapshot;
#[cfg(target_os = "wasi")]
mod watch;

use anyhow::{bail, Result};
use std::ffi::OsString;

const USAGE: &str = "\
Usage: p2shim [OPTIONS] <FILE> [ARGS]...

Runs the WebAssembly program FILE (a WASIp1 core module or a WASIp2
command component) with ARGS on p2shim's interpreter. FILE is the guest's
argv[0]; the guest sees the host's environment variables and preopened
directories.

Options (only before FILE):
      --argv0 <NAME>   The guest's argv[0] (default: FILE as given).
      --hide-preopen <DIR>
                       After reading FILE, close the host's preopened
                       directory DIR so the guest does not see it (lets a
                       wrapper reach FILE without giving the guest a folder).
      --invoke <NAME>  Call the exported function NAME instead of `_start` and
                       print its results, one per line. ARGS, if any, are
                       its parameters; missing ones default to zero.
                       For a component, NAME is a call in WAVE syntax,
                       e.g. 'add(1, 2)', 'greet(\"x\")' or
                       'ns:pkg/iface.func@1.0.0(...)'; the result is
                       printed in WAVE.
      --stub-missing   Instantiate even when imports are missing: each
                       missing function traps when called, naming itself.
      --trace <SPEC>   Trace to stderr (or --trace-file), one event a line.
                       SPEC is a comma-separated list of KIND[=FILTER]:
                       `wasi` (every WASI call: p1 calls with their
                       arguments and errno), `calls` (function entry and
                       exit, with import and export names), `instr` (every
                       executed instruction with its operands' values).
                       FILTER keeps events whose function name contains
                       it (`*` matches anything).
      --trace-file <FILE>      Write the trace to FILE instead of stderr.
      --trace-format <text|json>  Plain text (default) or JSON Lines.
      --profile <FILE> Sample the guest's call stack every
                       --profile-interval executed instructions (default
                       10000); write FILE in the Firefox Profiler's format
                       and FILE.folded (folded stacks for flamegraphs).
      --profile-interval <N>
      --checkpoint-to <FILE>   Write a snapshot of the running program to
                       FILE when --checkpoint-when fires, then exit 0.
      --checkpoint-when <TRIGGER>
                       `fuel=N`: after N executed instructions (at the
                       next safe point: a call or a loop header);
                       `call=NAME`: at the first call of function NAME;
                       `file=PATH[,poll=N]`: when PATH exists (polled every
                       N instructions, default 1000000).
      --checkpoint-and-continue  Go on running after the snapshot.
      --restore <FILE> Resume the snapshot FILE of program FILE (the
                       same program; its preopens given again).
  -W <NAME=VALUE>      A resource limit, named as in `wasmtime run -W`
                       (several may be joined with commas; one that is
                       reached is a clear error, or -1 from memory.grow
                       and table.grow):
                         max-memory-size=BYTES    largest linear memory
                                                  (default 4 GiB, less the
                                                  shim's own 64 MiB headroom)
                         max-table-elements=N     largest table (10000000)
                         max-instances=N          core instances (10000)
                         max-tables=N             tables (10000)
                         max-memories=N           memories (10000)
  -h, --help           Print this help
  -V, --version        Print the version

   or: p2shim bundle [--shim <SHIM>] [--name <NAME>] <FILE> -o <OUT>
   or: p2shim lower [--check] [--invoke] [--library <LIB>] [--without <FEATURES>] <FILE> -o <OUT>

Writes OUT, one WASIp1 core module: the shim SHIM (default: this shim's
argv[0]) with FILE embedded, run as `wasmtime run OUT ARGS` with no preopen.
Its guest's argv[0] is NAME (default: FILE's file name, as `wasmtime run
FILE` gives). A bundle passes all its arguments to the embedded program.

`lower` writes OUT, one WASIp1 core module made of the command component
FILE and the WASI library, run by the host's own engine with no interpreter
(`wasmtime run --dir . OUT ARGS`). --check only says whether FILE can be
lowered, and if not, why. --library LIB links LIB instead of the WASI
library built into this shim. --without simd,tail-call,multi-memory refuses
an output that would need one of them (for a host that lacks it).
--invoke lowers a reactor component (no `wasi:cli/run`) into a command whose
first argument is a WAVE call, run as `wasmtime run --invoke` runs it
(`wasmtime run OUT 'add(1, 2)'` prints `3`).
";

/// What the command line asks for.
#[derive(Debug, PartialEq)]
enum Command {
    Help,
    Version,
    Run(Box<Run>),
    Bundle(Bundle),
    Lower(lower::Lower),
}

/// `p2shim bundle`.
#[derive(Debug, PartialEq)]
struct Bundle {
    shim: Option<OsString>,
    name: Option<String>,
    file: OsString,
    out: OsString,
}

/// Resource limits from `-W` (wasmtime's option names and defaults); `None`
/// keeps core-vm's default.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Limits {
    pub max_memory_size: Option<u64>,
    pub max_table_elements: Option<u64>,
    pub max_instances: Option<u64>,
    pub max_tables: Option<u64>,
    pub max_memories: Option<u64>,
}

impl Limits {
    /// Applies one `-W` value: `NAME=N[,NAME=N]...` (N decimal or `0x` hex).
    fn set(&mut self, flag: &str, value: &str) -> Result<()> {
        for item in value.split(',').filter(|i| !i.is_empty()) {
            let (name, n) = item
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("`{flag} {item}` needs a value: `{item}=N`"))?;
            let parsed = match n.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => n.parse(),
            }
            .map_err(|e| anyhow::anyhow!("invalid value for `{flag} {name}`: {n:?}: {e}"))?;
            let slot = match (flag, name) {
                ("-W", "max-memory-size") => &mut self.max_memory_size,
                ("-W", "max-table-elements") => &mut self.max_table_elements,
                ("-W", "max-instances") => &mut self.max_instances,
                ("-W", "max-tables") => &mut self.max_tables,
                ("-W", "max-memories") => &mut self.max_memories,
                _ => bail!("unsupported option `{flag} {name}` (see --help)"),
            };
            *slot = Some(parsed);
        }
        Ok(())
    }

    /// core-vm's configuration `base` with these limits applied
    /// (`max-memory-size` in bytes, rounded down to whole pages).
    pub fn apply(&self, base: core_vm::Config) -> core_vm::Config {
        let count =
            |v: Option<u64>, d: usize| v.map_or(d, |n| usize::try_from(n).unwrap_or(usize::MAX));
        core_vm::Config {
            max_memory_pages: self
                .max_memory_size
                .map_or(base.max_memory_pages, |b| b / core_vm::PAGE_SIZE),
            max_table_elements: self.max_table_elements.unwrap_or(base.max_table_elements),
            max_instances: count(self.max_instances, base.max_instances),
            max_tables: count(self.max_tables, base.max_tables),
            max_memories: count(self.max_memories, base.max_memories),
            ..base
        }
    }
}

/// A program to run.
#[derive(Debug, PartialEq)]
struct Run {
    /// `--invoke NAME`.
    invoke: Option<String>,
    /// `--stub-missing`.
    stub_missing: bool,
    /// `-W` and `-S` limits.
    limits: Limits,
    /// `--argv0 NAME`.
    argv0: Option<OsString>,
    /// `--hide-preopen DIR`, each time given.
    hide_preopens: Vec<OsString>,
    /// FILE, exactly as given (a bundle: the embedded program's name).
    file: OsString,
    /// The guest's arguments after FILE.
    args: Vec<OsString>,
    /// Tracing, profiling and checkpoint options.
    watch: Watch,
}

/// `--trace*`, `--profile*`, `--checkpoint*` and `--restore`.
#[derive(Debug, PartialEq, Default, Clone)]
pub struct Watch {
    /// `--trace SPEC`: (kind, filter) pairs.
    pub trace: Vec<(TraceKind, Option<String>)>,
    pub trace_file: Option<OsString>,
    pub trace_json: bool,
    pub profile: Option<OsString>,
    pub profile_interval: u64,
    pub checkpoint_to: Option<OsString>,
    pub checkpoint_when: Option<Trigger>,
    pub checkpoint_continue: bool,
    pub restore: Option<OsString>,
}

impl Watch {
    /// Whether anything needs the observed dispatch loop.
    pub fn observes(&self) -> bool {
        self.trace.iter().any(|(k, _)| *k != TraceKind::Wasi)
            || self.profile.is_some()
            || self.checkpoint_to.is_some()
    }
    pub fn traces(&self, kind: TraceKind) -> bool {
        self.trace.iter().any(|(k, _)| *k == kind)
    }
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TraceKind {
    Wasi,
    Calls,
    Instr,
}

/// When to take the snapshot.
#[derive(Debug, PartialEq, Eq, Clone)]
pub enum Trigger {
    Fuel(u64),
    Call(String),
    File { path: String, poll: u64 },
}

impl Trigger {
    fn parse(s: &str) -> Result<Trigger> {
        let number = |v: &str, what: &str| {
            v.replace('_', "")
                .parse::<u64>()
                .map_err(|_| anyhow::anyhow!("invalid {what} `{v}` in --checkpoint-when"))
        };
        if let Some(n) = s.strip_prefix("fuel=") {
            return Ok(Trigger::Fuel(number(n, "instruction count")?.max(1)));
        }
        if let Some(name) = s.strip_prefix("call=").filter(|n| !n.is_empty()) {
            return Ok(Trigger::Call(name.to_string()));
        }
        if let Some(rest) = s.strip_prefix("file=") {
            let (path, poll) = match rest.rsplit_once(",poll=") {
                Some((p, n)) => (p, number(n, "poll interval")?.max(1)),
                None => (rest, 1_000_000),
            };
            if !path.is_empty() {
                return Ok(Trigger::File {
                    path: path.to_string(),
                    poll,
                });
            }
        }
        bail!("invalid --checkpoint-when `{s}`: expected fuel=N, call=NAME or file=PATH[,poll=N]")
    }
}

fn parse_trace(spec: &str) -> Result<Vec<(TraceKind, Option<String>)>> {
    spec.split(',')
        .filter(|p| !p.is_empty())
        .map(|part| {
            let (kind, filter) = match part.split_once('=') {
                Some((k, f)) => (k, Some(f.to_string()).filter(|f| f != "*" && !f.is_empty())),
                None => (part, None),
            };
            let kind = match kind {
                "wasi" => TraceKind::Wasi,
                "calls" => TraceKind::Calls,
                "instr" => TraceKind::Instr,
                other => bail!("unknown trace kind `{other}` (expected wasi, calls or instr)"),
            };
            Ok((kind, filter))
        })
        .collect()
}

/// Parses the shim's arguments (without its own argv[0]).
fn parse_args(args: impl Iterator<Item = OsString>) -> Result<Command> {
    let mut args = args.peekable();
    if args.peek().is_some_and(|a| a == "bundle") {
        args.next();
        return parse_bundle(args);
    }
    if args.peek().is_some_and(|a| a == "lower") {
        args.next();
        return lower::parse(args).map(Command::Lower);
    }
    let mut run = Run {
        invoke: None,
        stub_missing: false,
        limits: Limits::default(),
        argv0: None,
        hide_preopens: Vec::new(),
        file: OsString::new(),
        args: Vec::new(),
        watch: Watch {
            profile_interval: 10_000,
            ..Watch::default()
        },
    };
    while let Some(arg) = args.next() {
        let Some(opt) = arg.to_str().filter(|s| s.starts_with('-') && s.len() > 1) else {
            check_watch(&run.watch)?;
            return Ok(Command::Run(Box::new(Run {
                file: arg,
                args: args.collect(),
                ..run
            })));
        };
        let (opt, inline) = match opt.split_once('=') {
            Some((o, v)) if o != "--invoke" && WATCH_OPTIONS.contains(&o) => {
                (o, Some(v.to_string()))
            }
            _ => (opt, None),
        };
        if WATCH_OPTIONS.contains(&opt) {
            parse_watch(&mut run.watch, opt, inline, &mut args)?;
            continue;
        }
        let (invoke, stub_missing) = (&mut run.invoke, &mut run.stub_missing);
        match opt {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--" => break,
            "--stub-missing" => *stub_missing = true,
            "--argv0" => {
                run.argv0 =
                    Some(args.next().ok_or_else(|| {
                        anyhow::anyhow!("a value is required for '--argv0 <NAME>'")
                    })?)
            }
            "--hide-preopen" => run.hide_preopens.push(args.next().ok_or_else(|| {
                anyhow::anyhow!("a value is required for '--hide-preopen <DIR>'")
            })?),
            "--invoke" => match args.next() {
                Some(name) => *invoke = Some(utf8(name, "--invoke")?),
                None => bail!("a value is required for '--invoke <NAME>'"),
            },
            "-W" => {
                let value = args.next().ok_or_else(|| {
                    anyhow::anyhow!("a value is required for '{opt} <NAME=VALUE>'")
                })?;
                run.limits.set(opt, &utf8(value, opt)?)?;
            }
            _ if opt.len() > 2 && opt.starts_with("-W") => run.limits.set(&opt[..2], &opt[2..])?,
            _ => match opt.strip_prefix("--invoke=") {
                Some(name) => *invoke = Some(name.to_string()),
                None => bail!("unexpected argument '{opt}'"),
            },
        }
    }
    check_watch(&run.watch)?;
    match args.next() {
        Some(file) => Ok(Command::Run(Box::new(Run {
            file,
            args: args.collect(),
            ..run
        }))),
        None => bail!("the following required arguments were not provided: <FILE>"),
    }
}

/// The options of [`Watch`].
const WATCH_OPTIONS: &[&str] = &[
    "--trace",
    "--trace-file",
    "--trace-format",
    "--profile",
    "--profile-interval",
    "--checkpoint-to",
    "--checkpoint-when",
    "--checkpoint-and-continue",
    "--restore",
];

fn parse_watch(
    w: &mut Watch,
    opt: &str,
    inline: Option<String>,
    args: &mut impl Iterator<Item = OsString>,
) -> Result<()> {
    if opt == "--checkpoint-and-continue" {
        if inline.is_some() {
            bail!("'--checkpoint-and-continue' takes no value");
        }
        w.checkpoint_continue = true;
        return Ok(());
    }
    let value: OsString = match inline {
        Some(v) => v.into(),
        None => args
            .next()
            .ok_or_else(|| anyhow::anyhow!("a value is required for '{opt}'"))?,
    };
    match opt {
        "--trace" => w.trace.extend(parse_trace(&utf8(value, opt)?)?),
        "--trace-file" => w.trace_file = Some(value),
        "--trace-format" => {
            w.trace_json = match value.to_str() {
                Some("text") => false,
                Some("json") | Some("jsonl") => true,
                _ => bail!("--trace-format is `text` or `json`, not {value:?}"),
            }
        }
        "--profile" => w.profile = Some(value),
        "--profile-interval" => {
            w.profile_interval = utf8(value, opt)?
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| anyhow::anyhow!("--profile-interval takes a positive number"))?
        }
        "--checkpoint-to" => w.checkpoint_to = Some(value),
        "--checkpoint-when" => w.checkpoint_when = Some(Trigger::parse(&utf8(value, opt)?)?),
        "--restore" => w.restore = Some(value),
        _ => unreachable!("listed in WATCH_OPTIONS"),
    }
    Ok(())
}

fn check_watch(w: &Watch) -> Result<()> {
    match (&w.checkpoint_to, &w.checkpoint_when) {
        (Some(_), None) => bail!("--checkpoint-to needs --checkpoint-when"),
        (None, Some(_)) => bail!("--checkpoint-when needs --checkpoint-to"),
        _ => {}
    }
    if w.checkpoint_continue && w.checkpoint_to.is_none() {
        bail!("--checkpoint-and-continue needs --checkpoint-to");
    }
    if (w.trace_file.is_some() || w.trace_json) && w.trace.is_empty() {
        bail!("--trace-file and --trace-format need --trace");
    }
    Ok(())
}

/// `bundle [--shim SHIM] [--name NAME] FILE -o OUT` (options in any order).
fn parse_bundle(mut args: impl Iterator<Item = OsString>) -> Result<Command> {
    let (mut shim, mut name, mut file, mut out) = (None, None, None, None);
    while let Some(arg) = args.next() {
        let mut value = |what: &str| {
            args.next()
                .ok_or_else(|| anyhow::anyhow!("a value is required for '{what}'"))
        };
        match arg.to_str() {
            Some("--shim") => shim = Some(value("--shim <SHIM>")?),
            Some("--name") => name = Some(utf8(value("--name <NAME>")?, "--name")?),
            Some("-o" | "--output") => out = Some(value("-o <OUT>")?),
            Some("-h" | "--help") => return Ok(Command::Help),
            Some(s) if s.starts_with('-') && s.len() > 1 => {
                bail!("unexpected argument '{s}' of `bundle`")
            }
            _ if file.is_none() => file = Some(arg),
            _ => bail!("`bundle` takes one FILE; unexpected {arg:?}"),
        }
    }
    let file = file.ok_or_else(|| anyhow::anyhow!("`bundle` needs the program FILE to embed"))?;
    let out = out.ok_or_else(|| anyhow::anyhow!("`bundle` needs `-o <OUT>`"))?;
    Ok(Command::Bundle(Bundle {
        shim,
        name,
        file,
        out,
    }))
}

/// Writes the bundle `b` asks for; the shim's bytes come from `--shim` or
/// `argv0` (this shim's own path).
fn write_bundle(b: Bundle, argv0: Option<OsString>) -> Result<()> {
    use anyhow::Context as _;
    let shim_path = b
        .shim
        .or(argv0)
        .ok_or_else(|| anyhow::anyhow!("`bundle` needs `--shim <p2shim.wasm>`"))?;
    let shim = std::fs::read(&shim_path).with_context(|| {
        format!(
            "failed to read the shim `{}` (give its path with --shim)",
            shim_path.to_string_lossy()
        )
    })?;
    let program = std::fs::read(&b.file)
        .with_context(|| format!("failed to read `{}`", b.file.to_string_lossy()))?;
    let name = match b.name {
        Some(n) => n,
        None => std::path::Path::new(&b.file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "cannot take a file name from `{}`; give --name",
                    b.file.to_string_lossy()
                )
            })?,
    };
    let out = bundle::bundle(&shim, &program, &name)
        .with_context(|| format!("failed to bundle `{}`", b.file.to_string_lossy()))?;
    std::fs::write(&b.out, out)
        .with_context(|| format!("failed to write `{}`", b.out.to_string_lossy()))
}

fn utf8(s: OsString, what: &str) -> Result<String> {
    s.into_string()
        .map_err(|s| anyhow::anyhow!("invalid UTF-8 in {what}: {s:?}"))
}

fn main() {
    panic::install();
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == "--internal-test-panic")
    {
        panic::internal_test_panic();
    }
    #[cfg(target_os = "wasi")]
    if let Some((name, program)) = bundle::embedded() {
        // A bundle: every argument belongs to the embedded program.
        let run = Run {
            invoke: None,
            stub_missing: false,
            limits: Limits::default(),
            argv0: None,
            hide_preopens: Vec::new(),
            file: name.into(),
            args: std::env::args_os().skip(1).collect(),
            watch: Watch::default(),
        };
        wasi_run::execute(run, Some(program));
        return;
    }
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
        Command::Run(run) => execute(*run),
        Command::Bundle(b) => {
            if let Err(e) = write_bundle(b, std::env::args_os().next()) {
                eprintln!("Error: {e:#}");
                std::process::exit(1)
            }
        }
        Command::Lower(l) => {
            if let Err(e) = lower::run(&l) {
                eprintln!("Error: {e:#}");
                std::process::exit(1)
            }
        }
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
    wasi_run::execute(run, None)
}

/// Running a program on the host (wasm32-wasip1 only).
#[cfg(target_os = "wasi")]
pub(crate) mod wasi_run {
    use super::Run;
    use crate::p1::{self, Ctx, Strings};
    use crate::report;
    use anyhow::{anyhow, Context as _};
    use core_vm::{Config, Engine, Func, Instance, Linker, Module, Store, Val, ValType};
    use std::os::wasi::ffi::OsStrExt;
    use std::sync::Arc;

    /// Runs FILE, or `embedded` (a bundle's program, named FILE).
    pub fn execute(mut run: Run, embedded: Option<&'static [u8]>) {
        let file = run.file.to_string_lossy().into_owned();
        // Read and close FILE before anything of the guest runs. The module
        // keeps these bytes (shared, not copied) for its lazily translated
        // bodies and its data segments.
        // On restore, the files the shim reads stay open until the guest's
        // descriptors are placed (see `p1_state::Track::restore`).
        let mut spares = Vec::new();
        let bytes: Arc<dyn AsRef<[u8]> + Send + Sync> = match embedded {
            Some(b) => Arc::new(b),
            None => Arc::new(
                if run.watch.restore.is_some() {
                    crate::checkpoint::read_keeping_fd(&run.file, &mut spares)
                } else {
                    std::fs::read(&run.file)
                }
                .with_context(|| format!("failed to read input file `{file}`"))
                .unwrap_or_else(|e| report::fail(e)),
            ),
        };
        for dir in &run.hide_preopens {
            crate::preopen::close(dir.as_bytes()).unwrap_or_else(|e| report::fail(e));
        }
        if let Some(argv0) = run.argv0.take() {
            run.file = argv0;
        }
        crate::watch::open_sink(&run.watch).unwrap_or_else(|e| report::fail(e));
        let restored = run.watch.restore.as_ref().map(|path| {
            crate::checkpoint::read(path, (*bytes).as_ref(), &mut spares)
                .unwrap_or_else(|e| report::fail(e))
        });
        let len = (*bytes).as_ref().len();
        let is_component = core_vm::is_component((*bytes).as_ref());
        let program = run
            .watch
            .checkpoint_to
            .is_some()
            .then(|| crate::snapshot::Program::of((*bytes).as_ref(), is_component));
        if is_component {
            crate::component::run(&file, bytes, &run, restored, program);
        }
        // As for components: bodies are validated on their first call.
        let engine = Engine::new(run.limits.apply(Config {
            lazy_validation: true,
            ..Config::default()
        }));
        let module = Module::from_shared(&engine, bytes, 0..len)
            .map_err(|e| anyhow!("{e}"))
            .with_context(|| format!("failed to parse WebAssembly module `{file}`"))
            .unwrap_or_else(|e| report::fail(e));

        let mut linker = Linker::new();
        p1::add_to_linker(&mut linker);
        p1::add_bench_hooks(&mut linker);
        if run.stub_missing {
            stub_missing_imports(&mut linker, &module);
        }
        let argv: Vec<Vec<u8>> = std::iter::once(&run.file)
            .chain(&run.args)
            .map(|a| a.as_bytes().to_vec())
            .collect();
        let environ = Strings::host_environ();
        let (argv, env) = match &restored {
            Some(s) => (s.argv.clone(), s.env.clone()),
            None => (argv, environ.items()),
        };
        let track = match restored.as_ref().and_then(|s| s.p1.as_ref()) {
            Some(p1) => Some(
                crate::p1_state::Track::restore(p1, std::mem::take(&mut spares)).unwrap_or_else(
                    |e| report::fail(e.context("cannot restore the checkpoint's descriptors")),
                ),
            ),
            None => run
                .watch
                .checkpoint_to
                .is_some()
                .then(crate::p1_state::Track::new),
        };
        let ctx = Ctx {
            args: Strings::new(&argv),
            environ: Strings::new(&env),
            track,
            entry: String::new(),
            stderr_closed: false,
        };
        let mut store = Store::new(&engine, ctx);
        let layers = crate::checkpoint::P1Layers {
            program: program.clone(),
            argv,
            env,
        };
        if let Some(w) = crate::watch::Watcher::new(&run.watch, &file, Box::new(layers)) {
            store.set_observer(Box::new(w));
        }

        let instantiate = format!("failed to instantiate `{file}`");
        let instance = linker
            .instantiate(&mut store, &module)
            .unwrap_or_else(|e| report::guest_error(&file, &instantiate, e));
        if let Some(snapshot) = restored {
            crate::checkpoint::resume_p1(&mut store, instance, &file, &snapshot, &run);
            crate::watch::finish();
            return;
        }
        if let Some(init) = instance.get_func(&store, "_initialize") {
            store.data_mut().entry = "_initialize".into();
            call(
                &mut store,
                &file,
                "failed to invoke `_initialize`",
                init,
                &[],
            );
        }
        match &run.invoke {
            Some(name) => invoke(&mut store, instance, &file, name, &run),
            None => {
                let main = instance
                    .get_func(&store, "")
                    .or_else(|| instance.get_func(&store, "_start"));
                store.data_mut().entry = if instance.get_func(&store, "").is_some() {
                    ""
                } else {
                    "_start"
                }
                .into();
                if let Some(main) = main {
                    call(
                        &mut store,
                        &file,
                        "failed to invoke command default",
                        main,
                        &[],
                    );
                }
            }
        }
        crate::watch::end_of_run(store.instr_count());
        crate::watch::finish();
    }

    /// `--stub-missing`: every function import nothing defines becomes a host
    /// function that traps when called, naming the import. (Missing
    /// memories, tables and globals still fail instantiation.)
    fn stub_missing_imports(linker: &mut Linker<Ctx>, module: &Module) {
        for import in module.imports() {
            let core_vm::ExternType::Func(ty) = import.ty else {
                continue;
            };
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
    pub(crate) fn invoke(
        store: &mut Store<Ctx>,
        instance: Instance,
        file: &str,
        name: &str,
        run: &Run,
    ) {
        store.data_mut().entry = name.to_string();
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
        let results = call(
            store,
            file,
            &format!("failed to invoke `{name}`"),
            func,
            &params,
        );
        for r in results {
            println!("{}", show_val(r));
        }
    }

    /// Calls `func`, reporting a failure (and exiting) with `context`.
    pub(crate) fn call(
        store: &mut Store<Ctx>,
        file: &str,
        context: &str,
        func: Func,
        params: &[Val],
    ) -> Vec<Val> {
        let ty = func.ty(store);
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        if let Err(e) = func.call(store, params, &mut results) {
            report::guest_error(file, context, e);
        }
        results
    }

    fn parse_val(ty: ValType, s: &str) -> anyhow::Result<Val> {
        Ok(match ty {
            ValType::I32 => Val::I32(
                s.parse::<i32>()
                    .or_else(|_| s.parse::<u32>().map(|v| v as i32))?,
            ),
            ValType::I64 => Val::I64(
                s.parse::<i64>()
                    .or_else(|_| s.parse::<u64>().map(|v| v as i64))?,
            ),
            ValType::F32 => Val::F32(s.parse::<f32>()?.to_bits()),
            ValType::F64 => Val::F64(s.parse::<f64>()?.to_bits()),
            other => anyhow::bail!("cannot pass a {other} on the command line"),
        })
    }

    /// A result as `wasmtime run --invoke` prints it.
    pub(crate) fn show_val(v: Val) -> String {
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
        Command::Run(Box::new(Run {
            invoke: invoke.map(String::from),
            stub_missing: false,
            limits: Limits::default(),
            argv0: None,
            hide_preopens: Vec::new(),
            file: file.into(),
            args: args.iter().map(OsString::from).collect(),
            watch: Watch {
                profile_interval: 10_000,
                ..Watch::default()
            },
        }))
    }

    #[test]
    fn watch_options() {
        let Command::Run(r) = parse(&[
            "--trace=wasi,calls=fd_*",
            "--trace-format",
            "json",
            "--profile",
            "p.json",
            "--checkpoint-to=s.ckpt",
            "--checkpoint-when",
            "file=stop,poll=5",
            "--checkpoint-and-continue",
            "a.wasm",
            "--trace",
        ])
        .unwrap() else {
            panic!("not a run")
        };
        let w = &r.watch;
        assert_eq!(
            w.trace,
            vec![
                (TraceKind::Wasi, None),
                (TraceKind::Calls, Some("fd_*".into()))
            ]
        );
        assert!(w.trace_json && w.checkpoint_continue && w.observes());
        assert_eq!(w.profile.as_deref(), Some("p.json".as_ref()));
        assert_eq!(
            w.checkpoint_when,
            Some(Trigger::File {
                path: "stop".into(),
                poll: 5
            })
        );
        assert_eq!(r.args, vec![OsString::from("--trace")]);
        assert_eq!(Trigger::parse("fuel=1_000").unwrap(), Trigger::Fuel(1000));
        assert_eq!(
            Trigger::parse("call=main").unwrap(),
            Trigger::Call("main".into())
        );
        for bad in [
            &["--checkpoint-to", "x", "a.wasm"][..],
            &["--checkpoint-when", "fuel=1", "a.wasm"],
            &[
                "--checkpoint-when",
                "fuel=x",
                "--checkpoint-to",
                "s",
                "a.wasm",
            ],
            &["--trace=bogus", "a.wasm"],
            &["--trace-format", "xml", "a.wasm"],
            &["--checkpoint-and-continue", "a.wasm"],
            &["--profile-interval", "0", "a.wasm"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn options_stop_at_file() {
        assert_eq!(
            parse(&["prog.wasm", "--help", "-x"]).unwrap(),
            run(None, "prog.wasm", &["--help", "-x"])
        );
        assert_eq!(
            parse(&["--invoke", "run", "cm.wasm"]).unwrap(),
            run(Some("run"), "cm.wasm", &[])
        );
        assert_eq!(
            parse(&["--invoke=add", "m.wasm", "1", "2"]).unwrap(),
            run(Some("add"), "m.wasm", &["1", "2"])
        );
        assert_eq!(
            parse(&["--", "-weird.wasm", "a"]).unwrap(),
            run(None, "-weird.wasm", &["a"])
        );
        assert_eq!(parse(&["-", "a"]).unwrap(), run(None, "-", &["a"]));
        assert_eq!(parse(&["--help"]).unwrap(), Command::Help);
        let Command::Run(r) = parse(&["--stub-missing", "c.wasm"]).unwrap() else {
            panic!("not a run")
        };
        assert!(r.stub_missing && r.file == "c.wasm" && r.invoke.is_none());
        assert_eq!(parse(&["-V", "x.wasm"]).unwrap(), Command::Version);
    }

    #[test]
    fn wrapper_options_and_bundle() {
        let Command::Run(r) = parse(&[
            "--argv0",
            "app.wasm",
            "--hide-preopen",
            "/d",
            "--",
            "/d/app.wasm",
            "x",
        ])
        .unwrap() else {
            panic!("not a run")
        };
        assert_eq!(
            (r.argv0.as_deref(), r.hide_preopens.as_slice()),
            (Some("app.wasm".as_ref()), ["/d".into()].as_slice())
        );
        assert_eq!(
            (r.file.as_os_str(), r.args.as_slice()),
            ("/d/app.wasm".as_ref(), ["x".into()].as_slice())
        );
        assert_eq!(
            parse(&["bundle", "a.wasm", "-o", "b.wasm", "--shim", "s.wasm"]).unwrap(),
            Command::Bundle(Bundle {
                shim: Some("s.wasm".into()),
                name: None,
                file: "a.wasm".into(),
                out: "b.wasm".into()
            })
        );
        assert!(parse(&["bundle", "a.wasm"]).is_err(), "no -o");
        assert!(parse(&["bundle", "-o", "b.wasm"]).is_err(), "no FILE");
        assert!(
            parse(&["bundle", "a.wasm", "c.wasm", "-o", "b"]).is_err(),
            "two FILEs"
        );
        // Only the first argument names the subcommand; `./bundle` runs a file.
        assert_eq!(parse(&["./bundle"]).unwrap(), run(None, "./bundle", &[]));
        assert!(parse(&["--argv0"]).is_err());
    }

    #[test]
    fn limit_options() {
        let Command::Run(r) = parse(&[
            "-W",
            "max-memory-size=65536,max-tables=3",
            "-Wmax-instances=0x10",
            "a.wasm",
            "-W",
            "max-tables=9",
        ])
        .unwrap() else {
            panic!("not a run")
        };
        assert_eq!(
            r.limits,
            Limits {
                max_memory_size: Some(65536),
                max_tables: Some(3),
                max_instances: Some(16),
                ..Limits::default()
            }
        );
        let c = r.limits.apply(core_vm::Config::default());
        assert_eq!(
            (c.max_memory_pages, c.max_tables, c.max_instances),
            (1, 3, 16)
        );
        assert_eq!(c.max_memories, core_vm::Config::default().max_memories);
        assert_eq!(r.args, ["-W", "max-tables=9"]);
        assert!(parse(&["-W", "max-tables", "a.wasm"]).is_err(), "no value");
        assert!(parse(&["-W", "fuel=10", "a.wasm"]).is_err(), "unsupported");
        assert!(
            parse(&["-S", "max-memory-size=1", "a.wasm"]).is_err(),
            "not an -S option"
        );
        assert!(
            parse(&["-W", "max-tables=x", "a.wasm"]).is_err(),
            "not a number"
        );
        assert!(parse(&["-W"]).is_err());
    }

    #[test]
    fn bad_command_lines() {
        assert!(parse(&[]).is_err());
        assert!(parse(&["--invoke"]).is_err());
        assert!(parse(&["--dir", "."]).is_err());
        assert!(parse(&["--"]).is_err());
    }
}
