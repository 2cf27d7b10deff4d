//! `--trace`, `--profile` and `--checkpoint-*`: one core-vm [`Observer`]
//! (the [`Watcher`]) installed in the guest's store when any of them is
//! given, plus the trace sink the WASI layers write their events to.
//!
//! Invariants:
//! * Without these options no observer is installed, so the guest runs in
//!   core-vm's unobserved dispatch loop (the same code as before they
//!   existed), and [`trace_wasi`] is one thread-local test.
//! * Every event is one line on the sink: text, or one JSON object per line
//!   (`--trace-format json`), with `"event"` naming its kind.
//! * Traces are flushed and the profile written by [`finish`], which every
//!   way out of the shim calls: the end of the run, the guest's exit
//!   (`proc_exit`, `wasi:cli/exit`), a trap or error report, a checkpoint
//!   that stops the program.
//! * A checkpoint is taken at the first safe point (a function entry or a
//!   loop header of the outermost entry into Wasm) at or after its trigger;
//!   what the program's layers cannot carry is refused there with a
//!   one-line error, exit 1, and no file is left behind.

use crate::{TraceKind, Trigger, Watch};
use core_vm::{Context, Func, Observer, Store, Wants};
use serde_json::json;
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::rc::Rc;

/// Where trace lines go.
struct Sink {
    out: Box<dyn Write>,
    json: bool,
    /// Filters per kind: an event is written if any filter of its kind
    /// matches its function name (or the kind has no filter).
    filters: Vec<(TraceKind, Option<String>)>,
}

thread_local! {
    static SINK: RefCell<Option<Sink>> = const { RefCell::new(None) };
    /// Whether a checkpoint was asked for and not taken yet.
    static CHECKPOINT_PENDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Run by [`finish`] once: writes the profile.
    static FINISHERS: RefCell<Vec<Box<dyn FnOnce()>>> = const { RefCell::new(Vec::new()) };
}

/// Appends each write to a file it opens and closes again, so that the
/// guest never sees the trace file's fd: a guest scanning for preopens
/// (wasi-libc) stops at the first fd that is not one, and Node answers
/// EINVAL for a plain file there, which wasi-libc treats as fatal. Behind a
/// 1 MiB `BufWriter`, a file is opened once per MiB of trace.
struct Appender(std::path::PathBuf);

impl Write for Appender {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::fs::OpenOptions::new()
            .append(true)
            .open(&self.0)?
            .write_all(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether `name` passes the filter `f` (`*` matches any run of characters,
/// otherwise a substring match).
fn matches(f: &str, name: &str) -> bool {
    if !f.contains('*') {
        return name.contains(f);
    }
    let parts: Vec<&str> = f.split('*').collect();
    let mut rest = name;
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() {
            continue;
        }
        match rest.find(p) {
            Some(at) if i > 0 || at == 0 || !f.starts_with(p) => rest = &rest[at + p.len()..],
            _ => return false,
        }
    }
    true
}

/// Whether events of `kind` about `name` are traced.
fn wanted(sink: &Sink, kind: TraceKind, name: &str) -> bool {
    let mut of_kind = sink.filters.iter().filter(|(k, _)| *k == kind).peekable();
    of_kind.peek().is_some() && of_kind.any(|(_, f)| f.as_deref().is_none_or(|f| matches(f, name)))
}

/// Opens the trace sink for `watch`, if it traces.
pub fn open_sink(watch: &Watch) -> anyhow::Result<()> {
    use anyhow::Context as _;
    if watch.trace.is_empty() {
        return Ok(());
    }
    let out: Box<dyn Write> = match &watch.trace_file {
        Some(path) => {
            std::fs::File::create(path).with_context(|| {
                format!(
                    "failed to create the trace file `{}`",
                    path.to_string_lossy()
                )
            })?;
            Box::new(std::io::BufWriter::with_capacity(
                1 << 20,
                Appender(path.into()),
            ))
        }
        None => Box::new(std::io::BufWriter::new(std::io::stderr())),
    };
    SINK.with(|s| {
        *s.borrow_mut() = Some(Sink {
            out,
            json: watch.trace_json,
            filters: watch.trace.clone(),
        })
    });
    Ok(())
}

/// Writes one event if `kind` is traced for `name`: `text` in text mode,
/// `fields` (plus `"event"`) in JSON mode.
fn emit(
    kind: TraceKind,
    event: &str,
    name: &str,
    text: impl FnOnce() -> String,
    fields: impl FnOnce() -> serde_json::Value,
) {
    SINK.with(|s| {
        let mut s = s.borrow_mut();
        let Some(sink) = s.as_mut() else { return };
        if !wanted(sink, kind, name) {
            return;
        }
        let _ = if sink.json {
            let mut v = fields();
            v["event"] = event.into();
            writeln!(sink.out, "{v}")
        } else {
            writeln!(sink.out, "{}", text())
        };
    })
}

/// Whether WASI calls are traced (cheap; for the layers' fast paths).
pub fn tracing_wasi() -> bool {
    SINK.with(|s| {
        s.borrow()
            .as_ref()
            .is_some_and(|s| s.filters.iter().any(|(k, _)| *k == TraceKind::Wasi))
    })
}

/// A WASI call: `layer` is `p1` or `p2`, `name` the function, `args` and
/// `result` as text (WAVE for p2, where a handle shows as its index).
pub fn trace_wasi(layer: &str, name: &str, args: &str, result: &str) {
    emit(
        TraceKind::Wasi,
        "wasi",
        name,
        || format!("wasi {layer} {name}({args}) -> {result}"),
        || json!({"layer": layer, "func": name, "args": args, "result": result}),
    )
}

/// A component's host call in progress: its p2 line waits for its results,
/// and the p1 calls the shims make for it are held until then, so that
/// they follow the call they serve.
struct P2Call {
    name: String,
    args: String,
    p1: Vec<(String, String, String)>,
}

thread_local! {
    static P2_CALL: RefCell<Option<P2Call>> = const { RefCell::new(None) };
}

/// Writes a finished (or never finished) p2 call and its p1 calls.
fn emit_p2(c: P2Call, result: &str) {
    let P2Call { name, args, p1 } = c;
    emit(
        TraceKind::Wasi,
        "wasi",
        &name,
        || format!("wasi p2 {name}({args}) -> {result}"),
        || json!({"layer": "p2", "func": name, "args": args, "result": result}),
    );
    for (f, a, r) in p1 {
        emit(
            TraceKind::Wasi,
            "wasi",
            &name,
            || format!("  wasi p1 {f}({a}) -> {r}"),
            || json!({"layer": "p1", "func": f, "args": a, "result": r, "for": name}),
        );
    }
}

/// WAVE of values, a handle (which has no WAVE form) as its index.
fn wave_list(vals: &[canonical_abi::Val]) -> Vec<String> {
    use canonical_abi::Val;
    fn plain(v: &Val) -> Val {
        let b = |v: &Option<Box<Val>>| v.as_ref().map(|v| Box::new(plain(v)));
        match v {
            Val::Resource(h) => Val::U32(*h),
            Val::List(l) => Val::List(l.iter().map(plain).collect()),
            Val::Tuple(l) => Val::Tuple(l.iter().map(plain).collect()),
            Val::Record(f) => Val::Record(f.iter().map(|(n, v)| (n.clone(), plain(v))).collect()),
            Val::Variant(c, p) => Val::Variant(c.clone(), b(p)),
            Val::Option(p) => Val::Option(b(p)),
            Val::Result(Ok(p)) => Val::Result(Ok(b(p))),
            Val::Result(Err(p)) => Val::Result(Err(b(p))),
            other => other.clone(),
        }
    }
    vals.iter()
        .map(|v| canonical_abi::wave::to_string(&plain(v)).unwrap_or_else(|e| format!("<{e}>")))
        .collect()
}

/// `--trace=wasi` for components: sees the host calls of the component
/// (the p2 calls, [`component_model::trace`]) and the p1 calls the shims
/// make for them ([`p2_shims::trace_p1_calls`]).
pub struct P2Tracer;

impl P2Tracer {
    /// Installs the tracer on `linker` and the shims, if `wasi` is traced.
    pub fn install<T: 'static>(linker: &mut component_model::Linker<T>) {
        if tracing_wasi() {
            linker.observe_host_calls(Rc::new(P2Tracer));
            p2_shims::trace_p1_calls(p1_of_p2);
        }
    }
}

impl component_model::trace::HostCallObserver for P2Tracer {
    fn enter(&self, func: &str, args: Result<&[canonical_abi::Val], String>) {
        let args = match args {
            Ok(a) => wave_list(a).join(", "),
            Err(e) => format!("<{e}>"),
        };
        P2_CALL.with(|c| {
            if let Some(old) = c.borrow_mut().replace(P2Call {
                name: func.to_string(),
                args,
                p1: Vec::new(),
            }) {
                emit_p2(old, "(no return)");
            }
        });
    }

    fn exit(&self, _: &str, results: Result<&[canonical_abi::Val], String>) {
        let result = match results {
            Ok([one]) => wave_list(std::slice::from_ref(one)).remove(0),
            Ok(many) => format!("({})", wave_list(many).join(", ")),
            Err(e) => e,
        };
        if let Some(c) = P2_CALL.with(|c| c.borrow_mut().take()) {
            emit_p2(c, &result);
        }
    }
}

/// A p1 call of the shims: held under the p2 call it serves, if any.
fn p1_of_p2(name: &str, args: &str, result: &str) {
    let held = P2_CALL.with(|c| match c.borrow_mut().as_mut() {
        Some(call) => {
            call.p1
                .push((name.to_string(), args.to_string(), result.to_string()));
            true
        }
        None => false,
    });
    if !held {
        trace_wasi("p1", name, args, result);
    }
}

/// Registers `f` to run in [`finish`].
fn at_finish(f: Box<dyn FnOnce()>) {
    FINISHERS.with(|v| v.borrow_mut().push(f));
}

/// Flushes the trace and writes the profile; call before the shim ends.
pub fn finish() {
    // A host call that ends the program (`wasi:cli/exit`) never returns.
    if let Some(c) = P2_CALL.with(|c| c.borrow_mut().take()) {
        emit_p2(c, "(no return)");
    }
    let fs = FINISHERS.with(|v| std::mem::take(&mut *v.borrow_mut()));
    for f in fs {
        f();
    }
    SINK.with(|s| {
        if let Some(sink) = s.borrow_mut().as_mut() {
            let _ = sink.out.flush();
        }
    });
}

/// At the normal end of a run: says so on stderr when the checkpoint
/// trigger never fired (with the instruction count, to choose `fuel=`).
pub fn end_of_run(instr_count: u64) {
    if CHECKPOINT_PENDING.with(|c| c.replace(false)) {
        eprintln!("p2shim: no checkpoint taken: the program ended after {instr_count} instructions before the trigger fired");
    }
}

/// What a program's layers save and check at a checkpoint.
pub trait Checkpointable<T> {
    /// Whether the program is in a state the layers cannot save but will
    /// leave (a component's `realloc` or `post-return`): the checkpoint
    /// waits for a later safe point.
    fn busy(&self, cx: &mut Context<'_, T>) -> bool {
        let _ = cx;
        false
    }
    /// Writes the snapshot of `cx` (core state plus the layers' own) to
    /// `path`, or says why the program cannot be carried.
    fn write(&mut self, cx: &mut Context<'_, T>, path: &std::path::Path) -> anyhow::Result<u64>;
}

/// Samples of the guest's call stack.
#[derive(Default)]
struct Samples {
    /// Each sample: its stack (outermost first) and its time in ms since
    /// the start.
    stacks: Vec<(Vec<Func>, f64)>,
    /// Each sampled function's label (the store is gone when the profile
    /// is written).
    labels: HashMap<Func, String>,
}

/// The observer behind `--trace=calls,instr`, `--profile` and checkpoints.
pub struct Watcher<T> {
    wants: Wants,
    /// Profile samples (shared with the finisher that writes them).
    profile: Option<Rc<RefCell<Samples>>>,
    profile_every: u64,
    next_sample: u64,
    checkpoint: Option<Checkpoint<T>>,
    labels: HashMap<Func, Rc<str>>,
    depth: usize,
}

struct Checkpoint<T> {
    path: std::path::PathBuf,
    trigger: Trigger,
    next_poll: u64,
    keep_going: bool,
    layers: Box<dyn Checkpointable<T>>,
    done: bool,
}

/// The host's monotonic clock in ms.
fn now_ms() -> f64 {
    // SAFETY: a plain host call with value arguments.
    unsafe { wasi::clock_time_get(wasi::CLOCKID_MONOTONIC, 1_000) }.unwrap_or(0) as f64 / 1e6
}

impl<T: 'static> Watcher<T> {
    /// The watcher for `watch`, or `None` when nothing needs observing.
    /// `layers` saves the program's state at a checkpoint.
    pub fn new(watch: &Watch, program: &str, layers: Box<dyn Checkpointable<T>>) -> Option<Self> {
        if !watch.observes() {
            return None;
        }
        let profile = watch.profile.as_ref().map(|path| {
            let samples = Rc::new(RefCell::new(Samples::default()));
            let (s, path, program) = (samples.clone(), path.clone(), program.to_string());
            at_finish(Box::new(move || {
                if let Err(e) = write_profile(&s.borrow(), std::path::Path::new(&path), &program) {
                    eprintln!("Error: failed to write the profile: {e:#}");
                }
            }));
            samples
        });
        let checkpoint = watch.checkpoint_to.as_ref().map(|p| Checkpoint {
            path: p.into(),
            trigger: watch
                .checkpoint_when
                .clone()
                .expect("checked by the parser"),
            next_poll: 0,
            keep_going: watch.checkpoint_continue,
            layers,
            done: false,
        });
        CHECKPOINT_PENDING.with(|c| c.set(checkpoint.is_some()));
        let needs_calls = matches!(
            checkpoint.as_ref().map(|c| &c.trigger),
            Some(Trigger::Call(_))
        );
        Some(Watcher {
            wants: Wants {
                calls: watch.traces(TraceKind::Calls) || needs_calls,
                instrs: watch.traces(TraceKind::Instr),
            },
            profile,
            profile_every: watch.profile_interval,
            next_sample: watch.profile_interval,
            checkpoint,
            labels: HashMap::new(),
            depth: 0,
        })
    }

    fn label(&mut self, store: &Store<T>, f: Func) -> Rc<str> {
        self.labels
            .entry(f)
            .or_insert_with(|| label(store, f).into())
            .clone()
    }

    /// The next instruction count at which `on_deadline` must run.
    fn deadline(&self, count: u64) -> u64 {
        let mut d = if self.profile.is_some() {
            self.next_sample
        } else {
            u64::MAX
        };
        if let Some(c) = self.checkpoint.as_ref().filter(|c| !c.done) {
            match c.trigger {
                Trigger::Fuel(n) if n > count => d = d.min(n),
                Trigger::Fuel(_) => d = d.min(count + 1),
                Trigger::File { .. } => d = d.min(c.next_poll.max(count + 1)),
                Trigger::Call(_) => {}
            }
        }
        d
    }

    fn take_checkpoint(&mut self, cx: &mut Context<'_, T>) {
        let Some(c) = self.checkpoint.as_mut() else {
            return;
        };
        c.done = true;
        CHECKPOINT_PENDING.with(|p| p.set(false));
        let path = c.path.clone();
        match c.layers.write(cx, &path) {
            Ok(size) => {
                let what = if c.keep_going {
                    "continuing"
                } else {
                    "stopping"
                };
                eprintln!(
                    "p2shim: checkpoint written to `{}` ({size} bytes) after {} instructions; {what}",
                    path.display(),
                    cx.instr_count()
                );
                if !c.keep_going {
                    finish();
                    std::process::exit(0)
                }
            }
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                finish();
                eprintln!("Error: cannot checkpoint: {e:#}");
                std::process::exit(1)
            }
        }
    }
}

impl<T: 'static> Observer<T> for Watcher<T> {
    fn wants(&self) -> Wants {
        self.wants
    }

    fn first_deadline(&self) -> u64 {
        self.deadline(0)
    }

    fn on_deadline(&mut self, cx: &mut Context<'_, T>) -> u64 {
        let count = cx.instr_count();
        if let Some(p) = &self.profile {
            if count >= self.next_sample {
                let stack = cx.stack_funcs();
                let mut p = p.borrow_mut();
                for f in &stack {
                    if !p.labels.contains_key(f) {
                        let l = label(cx.store(), *f);
                        p.labels.insert(*f, l);
                    }
                }
                p.stacks.push((stack, now_ms()));
                self.next_sample += self.profile_every;
            }
        }
        if let Some(c) = self.checkpoint.as_mut().filter(|c| !c.done) {
            match &c.trigger {
                Trigger::Fuel(n) if count >= *n => cx.request_safe_point(),
                Trigger::File { path, poll } if count >= c.next_poll => {
                    c.next_poll = count + poll;
                    if std::fs::metadata(path).is_ok() {
                        cx.request_safe_point();
                    }
                }
                _ => {}
            }
        }
        self.deadline(count)
    }

    fn on_safe_point(&mut self, cx: &mut Context<'_, T>) {
        let Some(c) = self.checkpoint.as_ref().filter(|c| !c.done) else {
            return;
        };
        if c.layers.busy(cx) {
            cx.request_safe_point();
        } else {
            self.take_checkpoint(cx);
        }
    }

    fn on_instr(&mut self, cx: &mut Context<'_, T>) {
        let f = cx.func();
        let name = self.label(cx.store(), f);
        let count = cx.instr_count();
        emit(
            TraceKind::Instr,
            "instr",
            &name,
            || format!("instr {count} {name} {}", cx.describe_instr()),
            || json!({"count": count, "func": &*name, "instr": cx.describe_instr()}),
        );
    }

    fn on_call(&mut self, cx: &mut Context<'_, T>, callee: Func) {
        let name = self.label(cx.store(), callee);
        if let Some(c) = self.checkpoint.as_ref().filter(|c| !c.done) {
            if let Trigger::Call(want) = &c.trigger {
                if func_named(&name, want) {
                    cx.request_safe_point();
                }
            }
        }
        let ty = callee.ty(cx.store());
        let host = name.starts_with("import ");
        let args: Vec<String> = if host {
            Vec::new()
        } else {
            ty.params()
                .iter()
                .zip(cx.regs())
                .map(|(t, v)| show_raw(*t, *v))
                .collect()
        };
        let depth = self.depth;
        self.depth += 1;
        emit(
            TraceKind::Calls,
            "call",
            &name,
            || format!("call {:depth$}> {name}({})", "", args.join(", ")),
            || json!({"func": &*name, "depth": depth, "args": args}),
        );
    }

    fn on_return(&mut self, cx: &mut Context<'_, T>, func: Func) {
        let name = self.label(cx.store(), func);
        self.depth = self.depth.saturating_sub(1);
        let depth = self.depth;
        let results: Vec<String> = if name.starts_with("import ") {
            Vec::new()
        } else {
            let ty = func.ty(cx.store());
            ty.results()
                .iter()
                .zip(cx.regs())
                .map(|(t, v)| show_raw(*t, *v))
                .collect()
        };
        emit(
            TraceKind::Calls,
            "return",
            &name,
            || format!("call {:depth$}< {name} -> ({})", "", results.join(", ")),
            || json!({"func": &*name, "depth": depth, "results": results}),
        );
    }
}

/// core-vm's label of `f` with a Rust or C++ mangled name demangled (the
/// hash suffix dropped), as profilers show them.
fn label<T>(store: &Store<T>, f: Func) -> String {
    let raw = store.func_label(f);
    let Some((module, rest)) = raw.split_once('!') else {
        return raw;
    };
    let (name, export) = match rest.find(" (export") {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    format!("{module}!{:#}{export}", rustc_demangle::demangle(name))
}

/// Whether the function labelled `label` is the one `--checkpoint-when
/// call=NAME` names: its name-section name or one of its export names.
fn func_named(label: &str, want: &str) -> bool {
    let name = label.split(" (export").next().unwrap_or(label);
    let short = name.rsplit_once('!').map_or(name, |(_, n)| n);
    short == want || label.contains(&format!("(export \"{want}\")"))
}

/// A raw register value as a typed value's text.
fn show_raw(t: core_vm::ValType, v: u64) -> String {
    use core_vm::ValType as V;
    match t {
        V::I32 => (v as u32 as i32).to_string(),
        V::I64 => (v as i64).to_string(),
        V::F32 => f32::from_bits(v as u32).to_string(),
        V::F64 => f64::from_bits(v).to_string(),
        _ => format!("{v:#x}"),
    }
}

/// Writes `FILE` (the Firefox Profiler's processed format) and
/// `FILE.folded` (`a;b;c N` lines).
fn write_profile(s: &Samples, path: &std::path::Path, program: &str) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use fxprof_processed_profile::{
        CategoryHandle, CpuDelta, Frame, FrameFlags, FrameInfo, Profile, ReferenceTimestamp,
        SamplingInterval, Timestamp,
    };
    let mut profile = Profile::new(
        &format!("p2shim: {program}"),
        ReferenceTimestamp::from_millis_since_unix_epoch(0.0),
        SamplingInterval::from_millis(1),
    );
    let process = profile.add_process(program, 1, Timestamp::from_millis_since_reference(0.0));
    let thread = profile.add_thread(
        process,
        1,
        Timestamp::from_millis_since_reference(0.0),
        true,
    );
    profile.set_thread_name(thread, "guest");
    let start = s.stacks.first().map_or(0.0, |(_, t)| *t);
    let mut folded: HashMap<String, u64> = HashMap::new();
    for (stack, t) in &s.stacks {
        let names: Vec<&str> = stack
            .iter()
            .map(|f| s.labels.get(f).map_or("?", String::as_str))
            .collect();
        *folded.entry(names.join(";")).or_default() += 1;
        let frames: Vec<FrameInfo> = names
            .iter()
            .map(|n| FrameInfo {
                frame: Frame::Label(profile.intern_string(n)),
                category_pair: CategoryHandle::OTHER.into(),
                flags: FrameFlags::empty(),
            })
            .collect();
        let stack = profile.intern_stack_frames(thread, frames.into_iter());
        profile.add_sample(
            thread,
            Timestamp::from_millis_since_reference(t - start),
            stack,
            CpuDelta::ZERO,
            1,
        );
    }
    let file = std::fs::File::create(path)
        .with_context(|| format!("cannot create `{}`", path.display()))?;
    serde_json::to_writer(std::io::BufWriter::new(file), &profile)?;
    let mut lines: Vec<_> = folded.into_iter().collect();
    lines.sort();
    let mut text = String::new();
    for (stack, n) in lines {
        text.push_str(&format!("{stack} {n}\n"));
    }
    let folded_path = format!("{}.folded", path.display());
    std::fs::write(&folded_path, text).with_context(|| format!("cannot write `{folded_path}`"))?;
    Ok(())
}
