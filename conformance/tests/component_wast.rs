//! The component-model `.wast` runner for `component-model`.
//!
//! One libtest-mimic trial per in-scope file under
//! `$P2SHIM_SHARED/component-model-tests` (default `../../shared` relative to
//! this crate): `spec/{values,resources,linking,validation,binary}/*.wast`
//! and the top-level `wasmtime/*.wast`.
//!
//! Invariants:
//! * Every directive of a file runs, in order, in one fresh `Store`; a
//!   failing directive never stops the file, it is recorded as
//!   `file:line: what` (a panic inside the runtime is caught and recorded the
//!   same way).
//! * Components are instantiated with a small host [`Linker`] mirroring the
//!   functions wasmtime's runner provides (`host-return-two`, `host` with
//!   `return-three` and `nested#return-four`).
//! * `assert_invalid` / `assert_malformed` pass when the component is
//!   rejected with a validation error (or `wast` cannot encode it);
//!   `assert_unlinkable` when instantiation fails; `assert_trap` when the
//!   call (or instantiation) traps. Trap *messages* are not compared: the
//!   Canonical ABI's wording differs from wasmtime's (the counts of
//!   mismatching messages are printed in the summary; set
//!   `P2SHIM_SHOW_TRAP_MESSAGES=1` to see each pair).
//! * `conformance/component-wast-expected-failures.txt` lists directives
//!   known to fail (`path.wast:LINE  # reason`, path relative to
//!   `component-model-tests/`). A trial fails on any unlisted failure and on
//!   any listed line that now passes, so the list stays honest.
//! * Our own suites, `conformance/component-wast/*.wast` (named
//!   `p2shim/FILE` in the output), run the same way; there the host also
//!   provides `echo` (and `echo-char`, `echo-str`, ...), root functions returning
//!   their argument unchanged
//!   whatever its type, and none of their directives may fail.
//! * On wasm32 targets the trials run on the main thread (`--test-threads=1`
//!   is the default there), since there are no threads to spawn.

use anyhow::{anyhow, bail, Context, Result};
use canonical_abi::Val;
use component_model::{Component, ComponentInstance, Error, Linker};
use conformance::wast_runner::{
    catch, file_trials, install_panic_hook, shared_dir, test_args, ExpectedFailures,
};
use core_vm::{Config, Engine, Store};
use libtest_mimic::{Failed, Trial};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use wast::component::WastVal;
use wast::parser::{self, ParseBuffer};
use wast::token::Span;
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

const SPEC_DIRS: &[&str] = &[
    "spec/values",
    "spec/resources",
    "spec/linking",
    "spec/validation",
    "spec/binary",
];

static PASSED: AtomicUsize = AtomicUsize::new(0);
static FAILED: AtomicUsize = AtomicUsize::new(0);
static EXPECTED_FAILED: AtomicUsize = AtomicUsize::new(0);
static LISTED_BUT_PASSED: AtomicUsize = AtomicUsize::new(0);
static MESSAGE_MISMATCH: AtomicUsize = AtomicUsize::new(0);

fn main() {
    // The suites still use the legacy `(memory $i "name")` index syntax.
    std::env::set_var("WAST_STRICT_COMPONENT_INDICES", "0");
    let args = test_args();
    let trials = match trials() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("component wast runner setup failed: {e:#}");
            std::process::exit(101);
        }
    };
    install_panic_hook();
    let conclusion = libtest_mimic::run(&args, trials);
    if !args.list {
        println!(
            "component wast directives: {} passed, {} failed, {} expected failures, {} listed but passing \
             ({} traps/errors with a different message)",
            PASSED.load(Ordering::Relaxed),
            FAILED.load(Ordering::Relaxed),
            EXPECTED_FAILED.load(Ordering::Relaxed),
            LISTED_BUT_PASSED.load(Ordering::Relaxed),
            MESSAGE_MISMATCH.load(Ordering::Relaxed),
        );
    }
    conclusion.exit();
}

fn suite_root() -> PathBuf {
    shared_dir("component-model-tests")
}

fn expected_failures_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("component-wast-expected-failures.txt")
}

fn wast_files(root: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    for dir in SPEC_DIRS.iter().copied().chain(["wasmtime"]) {
        let path = root.join(dir);
        let mut names = Vec::new();
        for entry in
            std::fs::read_dir(&path).with_context(|| format!("reading {}", path.display()))?
        {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if name.ends_with(".wast") {
                names.push(name);
            }
        }
        names.sort();
        files.extend(names.into_iter().map(|n| format!("{dir}/{n}")));
    }
    Ok(files)
}

fn trials() -> Result<Vec<Trial>> {
    let root = suite_root();
    let files = wast_files(&root)
        .context("set P2SHIM_SHARED to the folder holding component-model-tests/")?;
    let mut trials = file_trials(&root, files, &expected_failures_path(), run_file)?;
    // Our own suites: no expected failures.
    let ours = Path::new(env!("CARGO_MANIFEST_DIR")).join("component-wast");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&ours).with_context(|| format!("reading {}", ours.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".wast") {
            names.push(name);
        }
    }
    names.sort();
    let none = std::sync::Arc::new(ExpectedFailures::default());
    for name in names {
        let full = ours.join(&name);
        let rel = format!("p2shim/{name}");
        let none = none.clone();
        trials.push(Trial::test(rel.clone(), move || {
            run_file(&rel, &full, &none)
        }));
    }
    Ok(trials)
}

fn run_file(rel: &str, full: &Path, expected: &ExpectedFailures) -> Result<(), Failed> {
    let text =
        std::fs::read_to_string(full).map_err(|e| format!("reading {}: {e}", full.display()))?;
    let buf = ParseBuffer::new(&text).map_err(|e| format!("{}: {e}", full.display()))?;
    let wast = parser::parse::<Wast>(&buf).map_err(|e| format!("{}: {e}", full.display()))?;
    let listed = expected.get(rel).cloned().unwrap_or_default();
    let mut runner = Runner::new();
    let mut report = String::new();
    let mut failed_lines = Vec::new();
    for directive in wast.directives {
        let line = line_of(&text, directive.span());
        let result = catch(|| runner.directive(directive));
        match (result, listed.get(&line)) {
            (Ok(()), None) => {
                PASSED.fetch_add(1, Ordering::Relaxed);
            }
            (Ok(()), Some(_)) => {
                LISTED_BUT_PASSED.fetch_add(1, Ordering::Relaxed);
                let _ = writeln!(
                    report,
                    "{rel}:{line}: listed as an expected failure but passes"
                );
            }
            (Err(_), Some(_)) => {
                EXPECTED_FAILED.fetch_add(1, Ordering::Relaxed);
                failed_lines.push(line);
            }
            (Err(e), None) => {
                FAILED.fetch_add(1, Ordering::Relaxed);
                failed_lines.push(line);
                let _ = writeln!(
                    report,
                    "{rel}:{line}: {}",
                    format!("{e:#}").replace('\n', " | ")
                );
            }
        }
    }
    for line in listed.keys() {
        if !failed_lines.contains(line) && !report.contains(&format!("{rel}:{line}:")) {
            // A listed line with no directive at all.
            let _ = writeln!(
                report,
                "{rel}:{line}: listed, but no directive starts on this line"
            );
        }
    }
    if report.is_empty() {
        Ok(())
    } else {
        Err(report.into())
    }
}

fn line_of(text: &str, span: Span) -> usize {
    span.linecol_in(text).0 + 1
}

#[derive(Default)]
struct HostState {
    drops: u32,
    last_drop: u32,
}

trait IntoU32 {
    fn into_u32(self) -> Option<u32>;
}

impl IntoU32 for Val {
    fn into_u32(self) -> Option<u32> {
        if let Val::U32(v) = self {
            Some(v)
        } else {
            None
        }
    }
}

struct Runner {
    engine: Engine,
    store: Store<HostState>,
    linker: Linker<HostState>,
    definitions: HashMap<String, Component>,
    instances: HashMap<String, ComponentInstance<HostState>>,
    current: Option<ComponentInstance<HostState>>,
}

impl Runner {
    fn new() -> Self {
        // Memories are capped at 1 GiB so parallel trials cannot exhaust the
        // machine (wasmtime/big-strings.wast grows to 4 GiB).
        let engine = Engine::new(Config {
            max_memory_pages: 16384,
            ..Config::default()
        });
        let store = Store::new(&engine, HostState::default());
        let mut linker: Linker<HostState> = Linker::new();
        linker.root_func("host-return-two", |_, _| Ok(vec![Val::U32(2)]));
        // For conformance/component-wast: the identity, at any type.
        for name in [
            "echo",
            "echo-char",
            "echo-bool",
            "echo-var",
            "echo-opt",
            "echo-str",
            "echo-list",
        ] {
            linker.root_func(name, |cx, args| match args {
                [v] => Ok(vec![v.clone()]),
                _ => Err(cx.trap("echo takes one argument")),
            });
        }
        linker.func("host", "return-three", |_, _| Ok(vec![Val::U32(3)]));
        linker.func("host", "nested#return-four", |_, _| Ok(vec![Val::U32(4)]));
        // wasmtime's `resource1` host resource: the rep is the constructor's argument.
        let rep_of = |v: &Val| {
            if let Val::Resource(r) = v {
                *r
            } else {
                u32::MAX
            }
        };
        linker.func("host", "[constructor]resource1", |_, args| {
            Ok(vec![Val::Resource(if let Val::U32(r) = args[0] {
                r
            } else {
                0
            })])
        });
        linker.func("host", "[static]resource1.assert", move |cx, args| {
            if Some(rep_of(&args[0])) != args[1].clone().into_u32() {
                return Err(cx.trap("resource1.assert: wrong rep"));
            }
            Ok(vec![])
        });
        linker.func("host", "[static]resource1.last-drop", |cx, _| {
            Ok(vec![Val::U32(cx.data().last_drop)])
        });
        linker.func("host", "[static]resource1.drops", |cx, _| {
            Ok(vec![Val::U32(cx.data().drops)])
        });
        linker.func("host", "[method]resource1.simple", move |cx, args| {
            if Some(rep_of(&args[0])) != args[1].clone().into_u32() {
                return Err(cx.trap("resource1.simple: wrong rep"));
            }
            Ok(vec![])
        });
        linker.func("host", "[method]resource1.take-borrow", |_, _| Ok(vec![]));
        linker.func("host", "[method]resource1.take-own", |_, _| Ok(vec![]));
        linker.resource_dtor("host", "resource1", |st: &mut HostState, rep| {
            st.drops += 1;
            st.last_drop = rep;
            Ok(())
        });
        // wasmtime's harness also defines `resource2` and `resource1-again`
        // (resources.wast imports all three; only `resource1` has functions).
        linker.resource_dtor("host", "resource2", |_: &mut HostState, _| Ok(()));
        linker.resource_dtor("host", "resource1-again", |_: &mut HostState, _| Ok(()));
        Runner {
            engine,
            store,
            linker,
            definitions: HashMap::new(),
            instances: HashMap::new(),
            current: None,
        }
    }

    fn compile(&self, q: &mut QuoteWat<'_>) -> Result<Component> {
        if let QuoteWat::Wat(Wat::Module(_)) | QuoteWat::QuoteModule(..) = q {
            bail!("core modules at the top level are not components");
        }
        let bytes = q.encode().map_err(|e| anyhow!("encoding: {e}"))?;
        Component::new(&self.engine, &bytes).map_err(|e| anyhow!("{e}"))
    }

    fn instantiate(
        &mut self,
        c: &Component,
    ) -> std::result::Result<ComponentInstance<HostState>, Error> {
        self.linker.instantiate(&mut self.store, c)
    }

    fn directive(&mut self, d: WastDirective<'_>) -> Result<()> {
        match d {
            WastDirective::Module(mut q) => {
                // A failing component leaves no current instance.
                self.current = None;
                let name = q.name().map(|n| n.name().to_string());
                let c = self.compile(&mut q)?;
                let inst = self
                    .instantiate(&c)
                    .map_err(|e| anyhow!("instantiation: {e}"))?;
                if let Some(n) = name {
                    self.instances.insert(n, inst.clone());
                }
                self.current = Some(inst);
                Ok(())
            }
            WastDirective::ModuleDefinition(mut q) => {
                let name = q.name().map(|n| n.name().to_string());
                let c = self.compile(&mut q)?;
                if let Some(n) = name {
                    self.definitions.insert(n, c);
                }
                Ok(())
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                self.current = None;
                let m = module.ok_or_else(|| anyhow!("instance of an unnamed definition"))?;
                let c = self
                    .definitions
                    .get(m.name())
                    .cloned()
                    .ok_or_else(|| anyhow!("unknown definition"))?;
                let inst = self
                    .instantiate(&c)
                    .map_err(|e| anyhow!("instantiation: {e}"))?;
                if let Some(n) = instance {
                    self.instances.insert(n.name().to_string(), inst.clone());
                }
                self.current = Some(inst);
                Ok(())
            }
            WastDirective::AssertMalformed { mut module, .. }
            | WastDirective::AssertInvalid { mut module, .. } => {
                if matches!(
                    module,
                    QuoteWat::Wat(Wat::Module(_)) | QuoteWat::QuoteModule(..)
                ) {
                    bail!("core module assertion in a component suite");
                }
                let bytes = match module.encode() {
                    Ok(b) => b,
                    Err(_) => return Ok(()),
                };
                match Component::new(&self.engine, &bytes) {
                    Ok(_) => bail!("expected the component to be rejected, but it is accepted"),
                    Err(Error::Validation { .. }) => Ok(()),
                    Err(e) => bail!("rejected, but not by validation: {e}"),
                }
            }
            WastDirective::AssertUnlinkable { mut module, .. } => {
                let bytes = module.encode().map_err(|e| anyhow!("encoding: {e}"))?;
                let c = Component::new(&self.engine, &bytes).map_err(|e| anyhow!("{e}"))?;
                match self.instantiate(&c) {
                    Ok(_) => bail!("expected instantiation to fail"),
                    Err(_) => Ok(()),
                }
            }
            WastDirective::Invoke(inv) => {
                self.invoke(inv)?;
                Ok(())
            }
            WastDirective::AssertReturn { exec, results, .. } => {
                let got = self.execute(exec)?;
                let want = results
                    .into_iter()
                    .map(ret_val)
                    .collect::<Result<Vec<_>>>()?;
                if got.len() != want.len() || !got.iter().zip(&want).all(|(a, b)| val_eq(a, b)) {
                    bail!("expected {want:?}, got {got:?}");
                }
                Ok(())
            }
            WastDirective::AssertTrap { exec, message, .. } => match self.execute(exec) {
                Ok(v) => bail!("expected a trap ({message}), got {v:?}"),
                Err(e) => {
                    let text = format!("{e:#}");
                    if !text.contains(message) {
                        MESSAGE_MISMATCH.fetch_add(1, Ordering::Relaxed);
                        if std::env::var_os("P2SHIM_SHOW_TRAP_MESSAGES").is_some() {
                            eprintln!(
                                "trap message: expected `{message}`, got `{}`",
                                text.replace('\n', " | ")
                            );
                        }
                    }
                    match e.downcast_ref::<Error>() {
                        Some(err) if err.is_trap() || matches!(err, Error::Core { .. }) => Ok(()),
                        Some(err) => bail!("expected a trap ({message}), got the error: {err}"),
                        None => bail!("expected a trap ({message}), got: {text}"),
                    }
                }
            },
            WastDirective::Register { .. } => bail!("`register` is not supported for components"),
            other => bail!("unsupported directive {:?}", std::mem::discriminant(&other)),
        }
    }

    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Vec<Val>> {
        match exec {
            WastExecute::Invoke(inv) => self.invoke(inv),
            WastExecute::Wat(Wat::Component(mut c)) => {
                let bytes = c.encode().map_err(|e| anyhow!("encoding: {e}"))?;
                let comp = Component::new(&self.engine, &bytes).map_err(anyhow::Error::new)?;
                self.instantiate(&comp).map_err(anyhow::Error::new)?;
                Ok(vec![])
            }
            WastExecute::Wat(Wat::Module(_)) => bail!("core module in a component suite"),
            WastExecute::Get { .. } => bail!("`get` is not supported for components"),
        }
    }

    fn invoke(&mut self, inv: WastInvoke<'_>) -> Result<Vec<Val>> {
        let inst = match inv.module {
            Some(id) => self
                .instances
                .get(id.name())
                .cloned()
                .ok_or_else(|| anyhow!("unknown instance"))?,
            None => self
                .current
                .clone()
                .ok_or_else(|| anyhow!("no current instance"))?,
        };
        let f = inst
            .get_func(inv.name)
            .ok_or_else(|| anyhow!("no exported function `{}`", inv.name))?;
        let args = inv
            .args
            .into_iter()
            .map(arg_val)
            .collect::<Result<Vec<_>>>()?;
        f.call(&mut self.store, &args).map_err(anyhow::Error::new)
    }
}

// `f32.const`/`f64.const` always parse as core values; in a component
// invocation they are the component floats.
fn arg_val(a: WastArg<'_>) -> Result<Val> {
    use wast::core::WastArgCore;
    match a {
        WastArg::Component(v) => wast_val(&v),
        WastArg::Core(WastArgCore::F32(x)) => Ok(Val::Float32(f32::from_bits(x.bits))),
        WastArg::Core(WastArgCore::F64(x)) => Ok(Val::Float64(f64::from_bits(x.bits))),
        _ => bail!("core argument in a component invocation"),
    }
}

fn ret_val(r: WastRet<'_>) -> Result<Val> {
    use wast::core::{NanPattern, WastRetCore};
    match r {
        WastRet::Component(v) => wast_val(&v),
        WastRet::Core(WastRetCore::F32(p)) => Ok(Val::Float32(match p {
            NanPattern::Value(x) => f32::from_bits(x.bits),
            NanPattern::CanonicalNan | NanPattern::ArithmeticNan => f32::NAN,
        })),
        WastRet::Core(WastRetCore::F64(p)) => Ok(Val::Float64(match p {
            NanPattern::Value(x) => f64::from_bits(x.bits),
            NanPattern::CanonicalNan | NanPattern::ArithmeticNan => f64::NAN,
        })),
        _ => bail!("core result in a component assertion"),
    }
}

fn wast_val(v: &WastVal<'_>) -> Result<Val> {
    let b = |v: &WastVal<'_>| wast_val(v).map(Box::new);
    Ok(match v {
        WastVal::Bool(x) => Val::Bool(*x),
        WastVal::U8(x) => Val::U8(*x),
        WastVal::S8(x) => Val::S8(*x),
        WastVal::U16(x) => Val::U16(*x),
        WastVal::S16(x) => Val::S16(*x),
        WastVal::U32(x) => Val::U32(*x),
        WastVal::S32(x) => Val::S32(*x),
        WastVal::U64(x) => Val::U64(*x),
        WastVal::S64(x) => Val::S64(*x),
        WastVal::F32(x) => Val::Float32(f32::from_bits(x.bits)),
        WastVal::F64(x) => Val::Float64(f64::from_bits(x.bits)),
        WastVal::Char(c) => Val::Char(*c),
        WastVal::String(s) => Val::string(*s),
        WastVal::List(vs) => Val::List(vs.iter().map(wast_val).collect::<Result<_>>()?),
        WastVal::Record(fs) => Val::Record(
            fs.iter()
                .map(|(n, v)| Ok((n.to_string(), wast_val(v)?)))
                .collect::<Result<_>>()?,
        ),
        WastVal::Tuple(vs) => Val::Tuple(vs.iter().map(wast_val).collect::<Result<_>>()?),
        WastVal::Variant(n, p) => Val::Variant(n.to_string(), p.as_deref().map(b).transpose()?),
        WastVal::Enum(n) => Val::Enum(n.to_string()),
        WastVal::Option(p) => Val::Option(p.as_deref().map(b).transpose()?),
        WastVal::Result(r) => Val::Result(match r {
            Ok(p) => Ok(p.as_deref().map(b).transpose()?),
            Err(p) => Err(p.as_deref().map(b).transpose()?),
        }),
        WastVal::Flags(fs) => Val::Flags(fs.iter().map(|s| s.to_string()).collect()),
        WastVal::Map(_) => bail!("map values are not supported"),
        #[allow(unreachable_patterns)]
        _ => bail!("unsupported value"),
    })
}

/// Structural equality where NaNs equal NaNs and flags compare as sets.
fn val_eq(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Float32(x), Val::Float32(y)) => {
            (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits()
        }
        (Val::Float64(x), Val::Float64(y)) => {
            (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits()
        }
        (Val::List(x), Val::List(y)) | (Val::Tuple(x), Val::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| val_eq(a, b))
        }
        (Val::Record(x), Val::Record(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((n, a), (m, b))| n == m && val_eq(a, b))
        }
        (Val::Variant(n, x), Val::Variant(m, y)) => n == m && opt_eq(x, y),
        (Val::Option(x), Val::Option(y)) => opt_eq(x, y),
        (Val::Result(Ok(x)), Val::Result(Ok(y))) | (Val::Result(Err(x)), Val::Result(Err(y))) => {
            opt_eq(x, y)
        }
        (Val::Flags(x), Val::Flags(y)) => {
            let (mut x, mut y) = (x.clone(), y.clone());
            x.sort();
            y.sort();
            x == y
        }
        _ => a == b,
    }
}

fn opt_eq(a: &Option<Box<Val>>, b: &Option<Box<Val>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => val_eq(a, b),
        (None, None) => true,
        _ => false,
    }
}
