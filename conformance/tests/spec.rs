//! The core WebAssembly spec-suite runner for core-vm.
//!
//! One libtest-mimic trial per `.wast` file of the shared spec testsuite
//! (`$P2SHIM_SHARED/spec-testsuite`, default `../../shared` relative to this
//! crate): every top-level file, plus `proposals/{tail-call, multi-memory,
//! extended-const}`, minus every `simd_*` file (core-vm has no SIMD).
//!
//! Invariants:
//! * Every directive of a file runs, in order, in one fresh `Store` with the
//!   spec interpreter's `spectest` module in the `Linker`; a failing directive
//!   never stops the file, it is recorded as `file:line: what` (a panic inside
//!   core-vm is caught and recorded the same way).
//! * A module directive that fails leaves *no* current instance, so later
//!   invocations of it fail loudly rather than silently hitting an older one.
//! * Trap and link messages match like wasmtime's runner: the spec's expected
//!   text must be contained in our error's `Display` (and, as there,
//!   "uninitialized element N" matches without the slot number). `assert_invalid` and
//!   `assert_malformed` only check that the module is rejected (a quoted
//!   module that `wast` itself cannot parse counts as rejected).
//! * `conformance/spec-expected-failures.txt` lists directives known to fail
//!   (`path.wast:LINE  # reason`, path relative to the suite root). A trial
//!   fails on any unlisted failure and on any listed line that now passes, so
//!   the list stays honest. A final summary line gives the directive counts.
//! * On wasm32 targets the trials run on the main thread (`--test-threads=1`
//!   is the default there), since there are no threads to spawn.

use anyhow::{anyhow, bail, Context, Result};
use conformance::wast_runner::{
    catch, file_trials, install_panic_hook, shared_dir, test_args, ExpectedFailures,
};
use core_vm::{
    Config, Engine, Error, Extern, ExternRef, FuncType, Global, GlobalType, Instance, Linker,
    Memory, MemoryType, Module, Store, Table, TableType, Val, ValType,
};
use libtest_mimic::{Failed, Trial};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use wast::core::{AbstractHeapType, HeapType, NanPattern, WastArgCore, WastRetCore};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::Span;
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet};

/// Proposal folders (under `proposals/`) that core-vm implements.
const PROPOSALS: &[&str] = &["tail-call", "multi-memory", "extended-const"];

static PASSED: AtomicUsize = AtomicUsize::new(0);
static FAILED: AtomicUsize = AtomicUsize::new(0);
static EXPECTED_FAILED: AtomicUsize = AtomicUsize::new(0);
static LISTED_BUT_PASSED: AtomicUsize = AtomicUsize::new(0);

fn main() {
    let args = test_args();
    let trials = match trials() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("spec runner setup failed: {e:#}");
            std::process::exit(101);
        }
    };
    install_panic_hook();
    let conclusion = libtest_mimic::run(&args, trials);
    if !args.list {
        println!(
            "spec directives: {} passed, {} failed, {} expected failures, {} listed but passing",
            PASSED.load(Ordering::Relaxed),
            FAILED.load(Ordering::Relaxed),
            EXPECTED_FAILED.load(Ordering::Relaxed),
            LISTED_BUT_PASSED.load(Ordering::Relaxed),
        );
    }
    conclusion.exit();
}

fn suite_root() -> PathBuf {
    shared_dir("spec-testsuite")
}

fn expected_failures_path() -> PathBuf {
    match std::env::var_os("P2SHIM_SPEC_EXPECTED_FAILURES") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("spec-expected-failures.txt"),
    }
}

/// The in-scope `.wast` files, as paths relative to the suite root.
fn wast_files(root: &Path) -> Result<Vec<String>> {
    let mut dirs = vec![String::new()];
    dirs.extend(PROPOSALS.iter().map(|p| format!("proposals/{p}/")));
    let mut files = Vec::new();
    for dir in dirs {
        let path = root.join(&dir);
        let entries =
            std::fs::read_dir(&path).with_context(|| format!("reading {}", path.display()))?;
        let mut names = Vec::new();
        for entry in entries {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if name.ends_with(".wast") && !name.starts_with("simd_") {
                names.push(name);
            }
        }
        names.sort();
        files.extend(names.into_iter().map(|n| format!("{dir}{n}")));
    }
    Ok(files)
}

fn trials() -> Result<Vec<Trial>> {
    let root = suite_root();
    let files =
        wast_files(&root).context("set P2SHIM_SHARED to the folder holding spec-testsuite/")?;
    file_trials(&root, files, &expected_failures_path(), run_file)
}

// ---------------------------------------------------------------------------
// One file.

fn run_file(rel: &str, full: &Path, expected: &ExpectedFailures) -> Result<(), Failed> {
    let text =
        std::fs::read_to_string(full).map_err(|e| format!("reading {}: {e}", full.display()))?;
    // names.wast deliberately uses bidi and other confusable code points.
    let mut lexer = Lexer::new(&text);
    lexer.allow_confusing_unicode(true);
    let buf = ParseBuffer::new_with_lexer(lexer).map_err(|e| with_path(e, full))?;
    let wast = parser::parse::<Wast>(&buf).map_err(|e| with_path(e, full))?;

    // line -> outcomes of the directives that start on it.
    let mut outcomes: BTreeMap<usize, Vec<Result<(), String>>> = BTreeMap::new();
    let mut ctx = WastContext::new(rel);
    for directive in wast.directives {
        let line = directive.span().linecol_in(&text).0 + 1;
        let result = catch(|| ctx.run(directive, &text)).map_err(|e| format!("{e:#}"));
        outcomes.entry(line).or_default().push(result);
    }

    let listed = expected.get(rel);
    let mut report = String::new();
    let (mut passed, mut failed, mut xfailed, mut xpassed) = (0, 0, 0, 0);
    for (line, results) in &outcomes {
        let is_listed = listed.is_some_and(|l| l.contains_key(line));
        let nfail = results.iter().filter(|r| r.is_err()).count();
        passed += results.len() - nfail;
        if is_listed {
            xfailed += nfail;
            if nfail == 0 {
                xpassed += 1;
                let _ = writeln!(
                    report,
                    "{rel}:{line}: listed in spec-expected-failures.txt but passes"
                );
            }
        } else {
            failed += nfail;
            for err in results.iter().filter_map(|r| r.as_ref().err()) {
                let _ = writeln!(report, "{rel}:{line}: {}", err.replace('\n', "\n    "));
            }
        }
    }
    // Listed lines where no directive starts are stale too.
    if let Some(listed) = listed {
        for line in listed.keys().filter(|l| !outcomes.contains_key(l)) {
            xpassed += 1;
            let _ = writeln!(
                report,
                "{rel}:{line}: listed in spec-expected-failures.txt but no directive starts there"
            );
        }
    }
    PASSED.fetch_add(passed, Ordering::Relaxed);
    FAILED.fetch_add(failed, Ordering::Relaxed);
    EXPECTED_FAILED.fetch_add(xfailed, Ordering::Relaxed);
    LISTED_BUT_PASSED.fetch_add(xpassed, Ordering::Relaxed);
    if report.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{failed} unexpected failures, {xpassed} listed lines passing \
             ({passed} passed, {xfailed} expected failures)\n{report}"
        )
        .into())
    }
}

fn with_path(mut e: wast::Error, path: &Path) -> String {
    e.set_path(path);
    e.to_string()
}

/// The state of one `.wast` file's run.
struct WastContext {
    store: Store<()>,
    linker: Linker<()>,
    engine: Engine,
    current: Option<Instance>,
    instances: HashMap<String, Instance>,
    definitions: HashMap<String, Module>,
    last_definition: Option<Module>,
}

impl WastContext {
    /// A context for a file at `rel` (relative to the suite root): the Wasm
    /// 2.0 files are validated as Wasm 2.0, each proposal folder with its own
    /// proposal on top.
    fn new(rel: &str) -> WastContext {
        // The default limits (60k frames, 4M value slots) keep
        // `assert_exhaustion` a clean trap: Wasm calls never recurse in Rust.
        let engine = Engine::new(Config {
            tail_call: rel.starts_with("proposals/tail-call/"),
            multi_memory: rel.starts_with("proposals/multi-memory/"),
            extended_const: rel.starts_with("proposals/extended-const/"),
            ..Config::default()
        });
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new();
        define_spectest(&mut store, &mut linker).expect("creating the spectest module");
        WastContext {
            store,
            linker,
            engine,
            current: None,
            instances: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: None,
        }
    }

    fn run(&mut self, directive: WastDirective<'_>, text: &str) -> Result<()> {
        use WastDirective as D;
        match directive {
            D::Module(mut module) => {
                self.current = None;
                let name = module.name().map(|id| id.name().to_string());
                let bytes = module
                    .encode()
                    .map_err(|e| anyhow!("module: failed to parse text: {e}"))?;
                let instance = self.instantiate(&bytes).context("module")?;
                self.current = Some(instance);
                if let Some(name) = name {
                    self.instances.insert(name, instance);
                }
            }
            D::ModuleDefinition(mut module) => {
                let name = module.name().map(|id| id.name().to_string());
                let bytes = module
                    .encode()
                    .map_err(|e| anyhow!("module definition: failed to parse text: {e}"))?;
                let module = Module::new(&self.engine, &bytes).context("module definition")?;
                if let Some(name) = name {
                    self.definitions.insert(name, module.clone());
                }
                self.last_definition = Some(module);
            }
            D::ModuleInstance {
                instance, module, ..
            } => {
                self.current = None;
                let def = match module {
                    Some(id) => self.definitions.get(id.name()).cloned(),
                    None => self.last_definition.clone(),
                };
                let def =
                    def.ok_or_else(|| anyhow!("module instance: no such module definition"))?;
                let inst = self
                    .linker
                    .instantiate(&mut self.store, &def)
                    .context("module instance")?;
                self.current = Some(inst);
                if let Some(id) = instance {
                    self.instances.insert(id.name().to_string(), inst);
                }
            }
            D::Register { name, module, .. } => {
                let inst = self.instance(module.map(|m| m.name()))?;
                self.linker.instance(&self.store, name, inst);
            }
            D::Invoke(invoke) => {
                if let Err(e) = self.invoke(&invoke).context("invoke")? {
                    bail!("invoke: unexpected error: {e}");
                }
            }
            D::AssertReturn { exec, results, .. } => {
                let actual = match self.execute(exec)? {
                    Ok(vals) => vals,
                    Err(e) => bail!("assert_return: unexpected error: {e}"),
                };
                check_results(&actual, &results).context("assert_return")?;
            }
            D::AssertTrap { exec, message, .. } => match self.execute(exec)? {
                Ok(vals) => bail!(
                    "assert_trap: expected trap `{message}`, got {}",
                    show_vals(&vals)
                ),
                Err(e) => expect_trap(&e, message).context("assert_trap")?,
            },
            D::AssertExhaustion { call, message, .. } => match self.invoke(&call)? {
                Ok(vals) => bail!(
                    "assert_exhaustion: expected `{message}`, got {}",
                    show_vals(&vals)
                ),
                Err(e) => expect_trap(&e, message).context("assert_exhaustion")?,
            },
            D::AssertInvalid {
                module, message, ..
            } => self.expect_rejected(module, "assert_invalid", message)?,
            D::AssertMalformed {
                module, message, ..
            } => self.expect_rejected(module, "assert_malformed", message)?,
            D::AssertUnlinkable {
                mut module,
                message,
                ..
            } => {
                let bytes = module
                    .encode()
                    .map_err(|e| anyhow!("assert_unlinkable: failed to parse text: {e}"))?;
                let module = Module::new(&self.engine, &bytes)
                    .context("assert_unlinkable: module must be valid")?;
                match self.linker.instantiate(&mut self.store, &module) {
                    Ok(_) => {
                        bail!("assert_unlinkable: expected `{message}`, but the module linked")
                    }
                    Err(e) if e.to_string().contains(message) => {}
                    Err(e) => bail!("assert_unlinkable: expected `{message}`, got: {e}"),
                }
            }
            D::AssertInvalidCustom { module, .. } | D::AssertMalformedCustom { module, .. } => {
                // Custom sections carry no semantics for core-vm: the module
                // itself must still be accepted.
                let mut module = module;
                let bytes = module
                    .encode()
                    .map_err(|e| anyhow!("custom-section assertion: {e}"))?;
                Module::new(&self.engine, &bytes)
                    .context("custom-section assertion: module must be accepted")?;
            }
            D::AssertException { span, .. } => bail!(
                "unsupported directive assert_exception at {}",
                at(span, text)
            ),
            D::AssertSuspension { span, .. } => bail!(
                "unsupported directive assert_suspension at {}",
                at(span, text)
            ),
            D::Thread(t) => bail!("unsupported directive thread at {}", at(t.span, text)),
            D::Wait { span, .. } => bail!("unsupported directive wait at {}", at(span, text)),
        }
        Ok(())
    }

    /// Compiles and instantiates with the linker.
    fn instantiate(&mut self, bytes: &[u8]) -> Result<Instance, Error> {
        let module = Module::new(&self.engine, bytes)?;
        self.linker.instantiate(&mut self.store, &module)
    }

    fn instance(&self, name: Option<&str>) -> Result<Instance> {
        match name {
            Some(name) => self
                .instances
                .get(name)
                .copied()
                .ok_or_else(|| anyhow!("no instance named ${name}")),
            None => self
                .current
                .ok_or_else(|| anyhow!("no current module instance (did the last module fail?)")),
        }
    }

    /// Runs an invocation: `Err` for harness problems (no such export, bad
    /// argument), `Ok(Err)` for errors of the call itself.
    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Result<Vec<Val>, Error>> {
        let inst = self.instance(invoke.module.map(|m| m.name()))?;
        let func = inst
            .get_func(&self.store, invoke.name)
            .ok_or_else(|| anyhow!("no exported function `{}`", invoke.name))?;
        let args = invoke
            .args
            .iter()
            .map(arg_val)
            .collect::<Result<Vec<_>>>()?;
        let ty = func.ty(&self.store);
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        Ok(func
            .call(&mut self.store, &args, &mut results)
            .map(|()| results))
    }

    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Result<Vec<Val>, Error>> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Wat(mut module) => {
                let bytes = module
                    .encode()
                    .map_err(|e| anyhow!("failed to parse text: {e}"))?;
                Ok(self.instantiate(&bytes).map(|_| Vec::new()))
            }
            WastExecute::Get { module, global, .. } => {
                let inst = self.instance(module.map(|m| m.name()))?;
                let g = inst
                    .get_global(&self.store, global)
                    .ok_or_else(|| anyhow!("no exported global `{global}`"))?;
                Ok(Ok(vec![g.get(&self.store)]))
            }
        }
    }

    fn expect_rejected(
        &mut self,
        mut module: QuoteWat<'_>,
        what: &str,
        message: &str,
    ) -> Result<()> {
        let bytes = match module.encode() {
            Ok(bytes) => bytes,
            Err(_) => return Ok(()), // `wast` itself rejects the text.
        };
        match Module::new(&self.engine, &bytes) {
            Ok(_) => bail!("{what}: module was accepted, expected rejection (`{message}`)"),
            Err(_) => Ok(()),
        }
    }
}

fn at(span: Span, text: &str) -> String {
    let (line, col) = span.linecol_in(text);
    format!("{}:{}", line + 1, col + 1)
}

fn expect_trap(err: &Error, message: &str) -> Result<()> {
    let shown = err.to_string();
    // As in wasmtime's runner: bulk.wast names the null slot
    // ("uninitialized element 2"); our trap does not carry the index.
    let message = if message.starts_with("uninitialized element") {
        "uninitialized element"
    } else {
        message
    };
    match err {
        Error::Trap(_) if shown.contains(message) => Ok(()),
        Error::Trap(_) => bail!("expected trap `{message}`, got trap: {shown}"),
        _ => bail!("expected trap `{message}`, got non-trap error: {shown}"),
    }
}

// ---------------------------------------------------------------------------
// Values.

fn arg_val(arg: &WastArg<'_>) -> Result<Val> {
    let WastArg::Core(arg) = arg else {
        bail!("component-model argument in a core test")
    };
    Ok(match arg {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::V128(_) => bail!("v128 arguments are not supported"),
        WastArgCore::RefNull(ht) => match null_kind(ht)? {
            ValType::FuncRef => Val::FuncRef(None),
            _ => Val::ExternRef(None),
        },
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(ExternRef(*n))),
        WastArgCore::RefHost(_) => bail!("ref.host arguments are not supported"),
    })
}

/// Which reference type a `ref.null <heaptype>` denotes.
fn null_kind(ht: &HeapType<'_>) -> Result<ValType> {
    match ht {
        HeapType::Abstract {
            ty: AbstractHeapType::Func | AbstractHeapType::NoFunc,
            ..
        } => Ok(ValType::FuncRef),
        HeapType::Abstract {
            ty: AbstractHeapType::Extern | AbstractHeapType::NoExtern,
            ..
        } => Ok(ValType::ExternRef),
        other => bail!("unsupported heap type {other:?}"),
    }
}

fn check_results(actual: &[Val], expected: &[WastRet<'_>]) -> Result<()> {
    if actual.len() != expected.len() {
        bail!(
            "expected {} results, got {}",
            expected.len(),
            show_vals(actual)
        );
    }
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        let WastRet::Core(e) = e else {
            bail!("component-model result in a core test")
        };
        if !matches_ret(a, e)? {
            bail!("result {i}: expected {}, got {}", show_ret(e), show_val(a));
        }
    }
    Ok(())
}

fn matches_ret(actual: &Val, expected: &WastRetCore<'_>) -> Result<bool> {
    Ok(match (actual, expected) {
        (Val::I32(a), WastRetCore::I32(e)) => a == e,
        (Val::I64(a), WastRetCore::I64(e)) => a == e,
        (Val::F32(a), WastRetCore::F32(e)) => match e {
            NanPattern::CanonicalNan => a & 0x7fff_ffff == 0x7fc0_0000,
            NanPattern::ArithmeticNan => a & 0x7fc0_0000 == 0x7fc0_0000,
            NanPattern::Value(v) => *a == v.bits,
        },
        (Val::F64(a), WastRetCore::F64(e)) => match e {
            NanPattern::CanonicalNan => a & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
            NanPattern::ArithmeticNan => a & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
            NanPattern::Value(v) => *a == v.bits,
        },
        (Val::FuncRef(f), WastRetCore::RefNull(ht)) => {
            f.is_none()
                && ht
                    .as_ref()
                    .map_or(Ok(true), |h| null_kind(h).map(|k| k == ValType::FuncRef))?
        }
        (Val::ExternRef(r), WastRetCore::RefNull(ht)) => {
            r.is_none()
                && ht
                    .as_ref()
                    .map_or(Ok(true), |h| null_kind(h).map(|k| k == ValType::ExternRef))?
        }
        (Val::ExternRef(r), WastRetCore::RefExtern(e)) => match (r, e) {
            (Some(r), Some(e)) => r.0 == *e,
            (Some(_), None) => true,
            (None, _) => false,
        },
        (Val::FuncRef(f), WastRetCore::RefFunc(idx)) => match idx {
            None => f.is_some(),
            Some(idx) => {
                bail!("ref.func {idx:?} results are not supported (which module's index space?)")
            }
        },
        (a, WastRetCore::Either(alts)) => {
            for alt in alts {
                if matches_ret(a, alt)? {
                    return Ok(true);
                }
            }
            false
        }
        (_, WastRetCore::V128(_)) => bail!("v128 results are not supported"),
        _ => false,
    })
}

fn show_vals(vals: &[Val]) -> String {
    format!(
        "[{}]",
        vals.iter().map(show_val).collect::<Vec<_>>().join(", ")
    )
}

fn show_val(v: &Val) -> String {
    match v {
        Val::I32(x) => format!("i32:{x}"),
        Val::I64(x) => format!("i64:{x}"),
        Val::F32(b) => format!("f32:{} ({b:#010x})", f32::from_bits(*b)),
        Val::F64(b) => format!("f64:{} ({b:#018x})", f64::from_bits(*b)),
        Val::V128(x) => format!("v128:{x:#x}"),
        Val::FuncRef(None) => "ref.null func".into(),
        Val::FuncRef(Some(f)) => format!("ref.func(store #{})", f.index()),
        Val::ExternRef(None) => "ref.null extern".into(),
        Val::ExternRef(Some(r)) => format!("ref.extern {}", r.0),
    }
}

fn show_ret(r: &WastRetCore<'_>) -> String {
    match r {
        WastRetCore::I32(x) => format!("i32:{x}"),
        WastRetCore::I64(x) => format!("i64:{x}"),
        WastRetCore::F32(NanPattern::Value(v)) => show_val(&Val::F32(v.bits)),
        WastRetCore::F64(NanPattern::Value(v)) => show_val(&Val::F64(v.bits)),
        WastRetCore::F32(NanPattern::CanonicalNan) => "f32:nan:canonical".into(),
        WastRetCore::F32(NanPattern::ArithmeticNan) => "f32:nan:arithmetic".into(),
        WastRetCore::F64(NanPattern::CanonicalNan) => "f64:nan:canonical".into(),
        WastRetCore::F64(NanPattern::ArithmeticNan) => "f64:nan:arithmetic".into(),
        WastRetCore::Either(alts) => {
            format!(
                "either({})",
                alts.iter().map(show_ret).collect::<Vec<_>>().join(" | ")
            )
        }
        other => format!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------
// The `spectest` module, as the reference interpreter defines it.

fn define_spectest(store: &mut Store<()>, linker: &mut Linker<()>) -> Result<(), Error> {
    use ValType::*;
    let prints: [(&str, &[ValType]); 7] = [
        ("print", &[]),
        ("print_i32", &[I32]),
        ("print_i64", &[I64]),
        ("print_f32", &[F32]),
        ("print_f64", &[F64]),
        ("print_i32_f32", &[I32, F32]),
        ("print_f64_f64", &[F64, F64]),
    ];
    for (name, params) in prints {
        linker.func_new(
            "spectest",
            name,
            FuncType::new(params.iter().copied(), []),
            |_, _, _| Ok(()),
        );
    }
    let globals = [
        ("global_i32", I32, Val::I32(666)),
        ("global_i64", I64, Val::I64(666)),
        ("global_f32", F32, Val::F32(666.6f32.to_bits())),
        ("global_f64", F64, Val::F64(666.6f64.to_bits())),
    ];
    for (name, content, value) in globals {
        let g = Global::new(
            store,
            GlobalType {
                content,
                mutable: false,
            },
            value,
        )?;
        linker.define("spectest", name, Extern::Global(g));
    }
    let table = Table::new(
        store,
        TableType {
            element: FuncRef,
            min: 10,
            max: Some(20),
        },
        Val::FuncRef(None),
    )?;
    linker.define("spectest", "table", Extern::Table(table));
    let memory = Memory::new(
        store,
        MemoryType {
            min: 1,
            max: Some(2),
            memory64: false,
            shared: false,
        },
    )?;
    linker.define("spectest", "memory", Extern::Memory(memory));
    Ok(())
}
