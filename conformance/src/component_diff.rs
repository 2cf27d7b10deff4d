//! The component-level differential fuzzer (feature `component-diff`):
//! generated components with real export bodies, run on component-model and
//! on wasmtime's component API, every call's outcome compared.
//!
//! A component comes from `component_gen::generate_with`: wit-smith's WIT,
//! wit-component's dummy core module for one world, whose bodies
//! [`rewrite`] replaces before the component is encoded:
//! * every exported function (a `canon lift`) fills a scratch area of memory
//!   with drawn words (small numbers, pointers into the area, lengths,
//!   chars, anything), then often copies its parameters there, in order at
//!   natural alignment (so a string's `ptr, len`, or the pointer to spilled
//!   parameters, lands where a result of the same shape is read through its
//!   retptr) or at drawn offsets; each core result is computed from a
//!   parameter of the same type (as is, or mixed with a constant), an `i32`
//!   parameter converted, a load from the area, the area's address (a
//!   retptr) or a drawn constant. So results are lifted from flat values and
//!   from memory, built from the arguments, valid or not;
//! * `cabi_realloc` is a bump allocator over the memory (traps when full),
//!   so string and list arguments are lowered for real; most bodies reset
//!   it before returning, so calls do not fill the memory;
//! * post-return functions, resource destructors and the initializer do
//!   nothing (both manglings: `cabi_*`, `cm32p2*`);
//! * a memory of 0 pages gets 1 page.
//!
//! The WIT comes from the input bytes; the bodies and arguments draw from a
//! stream seeded by them ([`diff_generated`]).
//!
//! Both engines instantiate it with every import trapping
//! (component-model's `stub_missing`, wasmtime's
//! `define_unknown_imports_as_traps`) and call each exported function in
//! export order, [`ARG_SETS`] times, each time with the same arguments on
//! both (built from its type); functions
//! whose types hold `own` or `borrow` handles are skipped (neither host owns
//! a resource to pass). The outcomes are compared:
//! * values (lifted results) must be equal, all NaNs being one value;
//! * a value on one side and a failure on the other is a mismatch;
//! * two failures agree; whether each was a trap or another error is
//!   counted apart ([`DiffStats::failure_kinds_differ`]), and listed with
//!   `--verbose`, not a finding (the two engines word and classify lift
//!   failures in their own ways).
//!
//! Later calls run on the same instance after a failure, so poisoning
//! (`cannot enter component instance`) is compared too.
//!
//! Why wasmtime 48 as a library: it is the reference implementation of the
//! component model and the oracle of every other comparison here (the CLI
//! is 49); 48 is the newest release whose minimum Rust the pinned toolchain
//! (1.95) meets. Compilation uses Cranelift at its lowest optimisation level
//! (the bodies are straight-line code). The library, not the `wasmtime run
//! --invoke` CLI: all calls share one instance on each side (so state and
//! poisoning are compared), with no process and no WAVE round trip per
//! call. Its price is the build: about 9 minutes more for `fuzz-smoke` in
//! the `fuzz` profile on 2 cores, which is why the feature is not in
//! `make test`.

use crate::component_gen::{arbitrary_val, exported_func, generate_with};
use crate::fuzz_harness::{engine, XorShift};
use arbitrary::Unstructured;
use canonical_abi::{Val, ValueType};
use component_model::{Component, Linker};
use core_vm::Store;
use std::collections::HashMap;
use wasm_encoder::{
    CodeSection, Function, Instruction, MemArg, MemorySection, MemoryType, RawSection,
};
use wasmparser::{ExternalKind, Parser, Payload, TypeRef, ValType};
use wasmtime::component as wt;

/// Bytes the bodies and arguments draw from (a body takes about 400).
const DRAWS: usize = 1 << 16;
/// Argument sets drawn for each exported function.
const ARG_SETS: usize = 3;
/// Fuel for each of our calls (the bodies are straight-line).
const FUEL: u64 = 100_000;
/// The scratch area the bodies fill and return: `AREA .. AREA + AREA_LEN`.
const AREA: i32 = 64;
const AREA_LEN: i32 = 256;
/// Where the bump allocator keeps its next free address, and where it starts.
const HEAP_PTR: i32 = 0;
const HEAP_START: i32 = 1024;

/// What one generated component gave.
#[derive(Default, Debug, Clone)]
pub struct DiffStats {
    /// Inputs that made a component.
    pub components: u64,
    /// Components component-model rejected or could not instantiate (the
    /// other side must then fail too, or it is a finding).
    pub rejected: u64,
    /// Components both sides instantiated.
    pub instantiated: u64,
    /// Calls compared.
    pub calls: u64,
    /// Of those, calls that returned equal values on both sides.
    pub values_equal: u64,
    /// Of those, calls that failed on both sides.
    pub failed_alike: u64,
    /// Of the failures alike, those where one side trapped and the other
    /// returned another error.
    pub failure_kinds_differ: u64,
    /// Exported functions skipped (resource handles in their type).
    pub skipped: u64,
    /// Mismatches: each a line naming the function and both outcomes.
    pub findings: Vec<String>,
    /// Notes for `--verbose` (failure kinds that differ).
    pub notes: Vec<String>,
}

impl DiffStats {
    pub fn merge(&mut self, o: &DiffStats) {
        self.components += o.components;
        self.rejected += o.rejected;
        self.instantiated += o.instantiated;
        self.calls += o.calls;
        self.values_equal += o.values_equal;
        self.failed_alike += o.failed_alike;
        self.failure_kinds_differ += o.failure_kinds_differ;
        self.skipped += o.skipped;
        self.findings.extend(o.findings.iter().cloned());
        self.notes.extend(o.notes.iter().cloned());
    }
}

/// One call's outcome, comparable across the engines.
#[derive(Debug, PartialEq)]
enum Outcome {
    Values(String),
    Trap(String),
    Error(String),
}

impl Outcome {
    fn failed(&self) -> bool {
        !matches!(self, Outcome::Values(_))
    }
}

/// Generates a component from `data` and runs it on both engines.
///
/// wit-smith and wit-component draw from `data`; the export bodies and the
/// arguments draw from a stream of [`DRAWS`] bytes seeded by `data`, so
/// neither runs out when the WIT took most of the input.
pub fn diff_generated(data: &[u8]) -> DiffStats {
    let mut u = Unstructured::new(data);
    let seed = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let draws = XorShift::new(seed).bytes(DRAWS);
    let mut d = Unstructured::new(&draws);
    let Some(bytes) = generate_with(&mut u, |module, _| rewrite(module, &mut d)) else {
        return DiffStats::default();
    };
    diff_component(&bytes, &mut d)
}

/// Runs `bytes` on both engines, arguments drawn from `u`.
pub fn diff_component(bytes: &[u8], u: &mut Unstructured<'_>) -> DiffStats {
    let mut stats = DiffStats {
        components: 1,
        ..DiffStats::default()
    };
    let wt_engine = wasmtime_engine();
    let wt_result = wt::Component::new(&wt_engine, bytes).and_then(|c| {
        let mut store = wasmtime::Store::new(&wt_engine, ());
        let mut linker = wt::Linker::<()>::new(&wt_engine);
        linker.define_unknown_imports_as_traps(&c)?;
        let inst = linker.instantiate(&mut store, &c)?;
        Ok((store, inst))
    });

    let engine = engine();
    let mut store = Store::new(&engine, ());
    store.set_fuel(FUEL);
    let ours = Component::new(&engine, bytes)
        .map_err(|e| e.to_string())
        .and_then(|c| {
            let mut linker: Linker<()> = Linker::new();
            linker.stub_missing(true);
            linker
                .instantiate(&mut store, &c)
                .map_err(|e| e.to_string())
        });
    let (instance, (mut wt_store, wt_inst)) = match (ours, wt_result) {
        (Ok(i), Ok(w)) => (i, w),
        (Err(_), Err(_)) => {
            stats.rejected += 1;
            return stats;
        }
        (Ok(_), Err(e)) => {
            stats.findings.push(format!(
                "component-model accepts the component, wasmtime does not: {e:#}"
            ));
            return stats;
        }
        (Err(e), Ok(_)) => {
            stats.findings.push(format!(
                "wasmtime accepts the component, component-model does not: {e}"
            ));
            return stats;
        }
    };
    stats.instantiated += 1;

    'exports: for name in instance.exported_functions() {
        let Some(func) = exported_func(&instance, &name) else {
            stats
                .findings
                .push(format!("{name}: listed but not found in component-model"));
            continue;
        };
        let ty = func.ty().clone();
        if ty
            .param_types()
            .into_iter()
            .chain(ty.result_types())
            .any(has_handle)
        {
            stats.skipped += 1;
            continue;
        }
        let Some(wt_func) = wasmtime_func(&mut wt_store, &wt_inst, &name) else {
            stats.findings.push(format!(
                "{name}: exported by component-model, not found in wasmtime"
            ));
            continue;
        };
        for _ in 0..ARG_SETS {
            let args: Vec<Val> = match ty
                .param_types()
                .iter()
                .map(|t| arbitrary_val(u, t))
                .collect()
            {
                Ok(a) => a,
                Err(_) => break 'exports, // out of bytes
            };
            let Some(wt_args) = args.iter().map(to_wasmtime).collect::<Option<Vec<_>>>() else {
                stats.skipped += 1;
                continue;
            };
            stats.calls += 1;

            store.set_fuel(FUEL);
            let ours = match func.call(&mut store, &args) {
                Ok(vals) => Outcome::Values(show_all(&vals)),
                Err(e) if e.is_trap() => Outcome::Trap(e.to_string()),
                Err(e) => Outcome::Error(e.to_string()),
            };
            let mut results = vec![wt::Val::Bool(false); ty.result_types().len()];
            let theirs = match wt_func.call(&mut wt_store, &wt_args, &mut results) {
                // wasmtime 48 runs post-return within `call`.
                Ok(()) => match results
                    .iter()
                    .map(from_wasmtime)
                    .collect::<Option<Vec<_>>>()
                {
                    Some(v) => Outcome::Values(show_all(&v)),
                    None => Outcome::Error("a result wasmtime lifted that has no Val here".into()),
                },
                Err(e) => classify(&e),
            };
            match (&ours, &theirs) {
                (Outcome::Values(a), Outcome::Values(b)) if a == b => stats.values_equal += 1,
                (a, b) if a.failed() && b.failed() => {
                    stats.failed_alike += 1;
                    if std::mem::discriminant(a) != std::mem::discriminant(b) {
                        stats.failure_kinds_differ += 1;
                        stats
                            .notes
                            .push(format!("{name}: component-model {a:?}, wasmtime {b:?}"));
                    }
                }
                (a, b) => stats.findings.push(format!(
                    "{name}{}: component-model {a:?}, wasmtime {b:?}",
                    show_all(&args)
                )),
            }
        }
    }
    stats
}

/// wasmtime's engine for the fuzzer, made once per thread.
fn wasmtime_engine() -> wasmtime::Engine {
    thread_local! {
        static ENGINE: wasmtime::Engine = {
            let mut config = wasmtime::Config::new();
            config.wasm_component_model(true);
            config.cranelift_opt_level(wasmtime::OptLevel::None);
            // Names with options (wit-smith's canonical names, version suffixes).
            config.wasm_component_model_implements(true);
            wasmtime::Engine::new(&config).expect("wasmtime's engine")
        };
    }
    ENGINE.with(Clone::clone)
}

/// wasmtime's handle of the exported function `name` (`inst#f` or `f`).
fn wasmtime_func(
    store: &mut wasmtime::Store<()>,
    inst: &wt::Instance,
    name: &str,
) -> Option<wt::Func> {
    let index = match name.split_once('#') {
        Some((i, f)) => {
            let outer = inst.get_export_index(&mut *store, None, i)?;
            inst.get_export_index(&mut *store, Some(&outer), f)?
        }
        None => inst.get_export_index(&mut *store, None, name)?,
    };
    inst.get_func(&mut *store, index)
}

fn classify(e: &wasmtime::Error) -> Outcome {
    if e.downcast_ref::<wasmtime::Trap>().is_some() {
        Outcome::Trap(format!("{e:#}"))
    } else {
        Outcome::Error(format!("{e:#}"))
    }
}

/// Whether `t` holds an `own` or `borrow` handle.
fn has_handle(t: &ValueType) -> bool {
    match t {
        ValueType::Own(_) | ValueType::Borrow(_) => true,
        ValueType::List(e) | ValueType::Option(e) => has_handle(e),
        ValueType::Record(fs) => fs.iter().any(|(_, t)| has_handle(t)),
        ValueType::Tuple(ts) => ts.iter().any(has_handle),
        ValueType::Variant(cs) => cs.iter().any(|(_, t)| t.as_ref().is_some_and(has_handle)),
        ValueType::Result { ok, err } => {
            ok.as_deref().is_some_and(has_handle) || err.as_deref().is_some_and(has_handle)
        }
        _ => false,
    }
}

/// Values printed for comparison: floats by bits, every NaN as `NaN`.
fn show_all(vals: &[Val]) -> String {
    let mut s = String::from("(");
    for (i, v) in vals.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        show(v, &mut s);
    }
    s.push(')');
    s
}

fn show(v: &Val, s: &mut String) {
    use std::fmt::Write as _;
    let opt = |o: &Option<Box<Val>>, s: &mut String| {
        if let Some(v) = o {
            s.push('(');
            show(v, s);
            s.push(')');
        }
    };
    match v {
        Val::Float32(f) if f.is_nan() => s.push_str("NaN"),
        Val::Float64(f) if f.is_nan() => s.push_str("NaN"),
        Val::Float32(f) => {
            let _ = write!(s, "f32:{:#x}", f.to_bits());
        }
        Val::Float64(f) => {
            let _ = write!(s, "f64:{:#x}", f.to_bits());
        }
        Val::String(t) => {
            let _ = write!(s, "{:?}", t.as_str());
        }
        Val::List(vs) | Val::Tuple(vs) => {
            s.push('[');
            for (i, v) in vs.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                show(v, s);
            }
            s.push(']');
        }
        Val::Record(fs) => {
            s.push('{');
            for (i, (n, v)) in fs.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                let _ = write!(s, "{n}: ");
                show(v, s);
            }
            s.push('}');
        }
        Val::Variant(c, p) => {
            s.push_str(c);
            opt(p, s);
        }
        Val::Option(o) => match o {
            Some(v) => {
                s.push_str("some(");
                show(v, s);
                s.push(')');
            }
            None => s.push_str("none"),
        },
        Val::Result(r) => {
            let (k, p) = match r {
                Ok(p) => ("ok", p),
                Err(p) => ("err", p),
            };
            s.push_str(k);
            opt(p, s);
        }
        other => {
            let _ = write!(s, "{other:?}");
        }
    }
}

fn to_wasmtime(v: &Val) -> Option<wt::Val> {
    let b = |v: &Option<Box<Val>>| -> Option<Option<Box<wt::Val>>> {
        match v {
            Some(v) => Some(Some(Box::new(to_wasmtime(v)?))),
            None => Some(None),
        }
    };
    Some(match v {
        Val::Bool(x) => wt::Val::Bool(*x),
        Val::S8(x) => wt::Val::S8(*x),
        Val::U8(x) => wt::Val::U8(*x),
        Val::S16(x) => wt::Val::S16(*x),
        Val::U16(x) => wt::Val::U16(*x),
        Val::S32(x) => wt::Val::S32(*x),
        Val::U32(x) => wt::Val::U32(*x),
        Val::S64(x) => wt::Val::S64(*x),
        Val::U64(x) => wt::Val::U64(*x),
        Val::Float32(x) => wt::Val::Float32(*x),
        Val::Float64(x) => wt::Val::Float64(*x),
        Val::Char(x) => wt::Val::Char(*x),
        Val::String(s) => wt::Val::String(s.as_str().into()),
        Val::List(vs) => wt::Val::List(vs.iter().map(to_wasmtime).collect::<Option<_>>()?),
        Val::Tuple(vs) => wt::Val::Tuple(vs.iter().map(to_wasmtime).collect::<Option<_>>()?),
        Val::Record(fs) => wt::Val::Record(
            fs.iter()
                .map(|(n, v)| Some((n.clone(), to_wasmtime(v)?)))
                .collect::<Option<_>>()?,
        ),
        Val::Variant(c, p) => wt::Val::Variant(c.clone(), b(p)?),
        Val::Enum(c) => wt::Val::Enum(c.clone()),
        Val::Option(o) => wt::Val::Option(b(o)?),
        Val::Result(Ok(p)) => wt::Val::Result(Ok(b(p)?)),
        Val::Result(Err(p)) => wt::Val::Result(Err(b(p)?)),
        Val::Flags(fs) => wt::Val::Flags(fs.clone()),
        Val::Resource(_) => return None,
    })
}

fn from_wasmtime(v: &wt::Val) -> Option<Val> {
    let b = |v: &Option<Box<wt::Val>>| -> Option<Option<Box<Val>>> {
        match v {
            Some(v) => Some(Some(Box::new(from_wasmtime(v)?))),
            None => Some(None),
        }
    };
    Some(match v {
        wt::Val::Bool(x) => Val::Bool(*x),
        wt::Val::S8(x) => Val::S8(*x),
        wt::Val::U8(x) => Val::U8(*x),
        wt::Val::S16(x) => Val::S16(*x),
        wt::Val::U16(x) => Val::U16(*x),
        wt::Val::S32(x) => Val::S32(*x),
        wt::Val::U32(x) => Val::U32(*x),
        wt::Val::S64(x) => Val::S64(*x),
        wt::Val::U64(x) => Val::U64(*x),
        wt::Val::Float32(x) => Val::Float32(*x),
        wt::Val::Float64(x) => Val::Float64(*x),
        wt::Val::Char(x) => Val::Char(*x),
        wt::Val::String(s) => Val::string(s.to_string()),
        wt::Val::List(vs) => Val::List(vs.iter().map(from_wasmtime).collect::<Option<_>>()?),
        wt::Val::Tuple(vs) => Val::Tuple(vs.iter().map(from_wasmtime).collect::<Option<_>>()?),
        wt::Val::Record(fs) => Val::Record(
            fs.iter()
                .map(|(n, v)| Some((n.clone(), from_wasmtime(v)?)))
                .collect::<Option<_>>()?,
        ),
        wt::Val::Variant(c, p) => Val::Variant(c.clone(), b(p)?),
        wt::Val::Enum(c) => Val::Enum(c.clone()),
        wt::Val::Option(o) => Val::Option(b(o)?),
        wt::Val::Result(Ok(p)) => Val::Result(Ok(b(p)?)),
        wt::Val::Result(Err(p)) => Val::Result(Err(b(p)?)),
        wt::Val::Flags(fs) => Val::Flags(fs.clone()),
        _ => return None,
    })
}

// ---- the core module's new bodies ------------------------------------------

/// A drawn `i32`: mostly values that make lifting succeed sometimes (small
/// numbers, discriminants, lengths, pointers into the area, chars), else any.
fn word(u: &mut Unstructured<'_>) -> i32 {
    match u.int_in_range(0u8..=9).unwrap_or(0) {
        0..=2 => u.int_in_range(0..=3).unwrap_or(0),
        3 => AREA + 8 * u.int_in_range(0..=(AREA_LEN / 8 - 1)).unwrap_or(0),
        4 => i32::from(u.arbitrary::<u8>().unwrap_or(0)),
        5 => *u
            .choose(&[0x41, 0xe9, 0xd800, 0x10ffff, 0x110000])
            .unwrap_or(&0),
        6 => -1,
        _ => u.arbitrary().unwrap_or(0),
    }
}

/// The scratch area's first fill: drawn words.
fn store_area(f: &mut Function, u: &mut Unstructured<'_>) {
    for k in 0..AREA_LEN / 4 {
        f.instruction(&Instruction::I32Const(AREA + 4 * k));
        f.instruction(&Instruction::I32Const(word(u)));
        f.instruction(&Instruction::I32Store(mem(2)));
    }
}

fn mem(align: u32) -> MemArg {
    MemArg {
        offset: 0,
        align,
        target: wasm_encoder::MemArgTarget::Memory(0),
        ordering: None,
    }
}

/// A flat value's size in memory, and its load and store at natural
/// alignment; `None` for reference and vector types.
fn access(t: ValType) -> Option<(i32, Instruction<'static>, Instruction<'static>)> {
    use Instruction as I;
    Some(match t {
        ValType::I32 => (4, I::I32Load(mem(2)), I::I32Store(mem(2))),
        ValType::I64 => (8, I::I64Load(mem(3)), I::I64Store(mem(3))),
        ValType::F32 => (4, I::F32Load(mem(2)), I::F32Store(mem(2))),
        ValType::F64 => (8, I::F64Load(mem(3)), I::F64Store(mem(3))),
        _ => return None,
    })
}

/// Copies the parameters into the scratch area: in order at natural
/// alignment (how the canonical ABI lays out a tuple of 32- and 64-bit
/// values, so a string's or list's `ptr, len` pair or a spilled-parameter
/// pointer lands where a result of the same shape is read through its
/// retptr), or each at a drawn offset, or not at all.
fn store_params(f: &mut Function, params: &[ValType], u: &mut Unstructured<'_>) {
    let in_order = match u.int_in_range(0u8..=3).unwrap_or(0) {
        0 => return,
        1 => false,
        _ => true,
    };
    let mut off = 0i32;
    for (i, &p) in params.iter().enumerate() {
        let Some((size, _, store)) = access(p) else {
            continue;
        };
        if in_order {
            off = (off + size - 1) & -size;
        } else if u.ratio(1, 2).unwrap_or(false) {
            off = size * u.int_in_range(0..=(AREA_LEN / size - 1)).unwrap_or(0);
        } else {
            continue;
        }
        if off + size > AREA_LEN {
            break;
        }
        f.instruction(&Instruction::I32Const(AREA + off));
        f.instruction(&Instruction::LocalGet(i as u32));
        f.instruction(&store);
        off += size;
    }
}

/// The bump allocator `cabi_realloc(old, old_size, align, new_size)`: the
/// next free address lives at `HEAP_PTR`; a request past the memory's end
/// traps. Local 4 holds the address returned.
fn realloc_body() -> Function {
    let mut f = Function::new([(1, wasm_encoder::ValType::I32)]);
    use Instruction as I;
    // p = load(HEAP_PTR) or HEAP_START
    f.instruction(&I::I32Const(HEAP_PTR));
    f.instruction(&I::I32Load(mem(2)));
    f.instruction(&I::LocalTee(4));
    f.instruction(&I::I32Eqz);
    f.instruction(&I::If(wasm_encoder::BlockType::Empty));
    f.instruction(&I::I32Const(HEAP_START));
    f.instruction(&I::LocalSet(4));
    f.instruction(&I::End);
    // p = (p + align - 1) & -align
    f.instruction(&I::LocalGet(4));
    f.instruction(&I::LocalGet(2));
    f.instruction(&I::I32Add);
    f.instruction(&I::I32Const(1));
    f.instruction(&I::I32Sub);
    f.instruction(&I::I32Const(0));
    f.instruction(&I::LocalGet(2));
    f.instruction(&I::I32Sub);
    f.instruction(&I::I32And);
    f.instruction(&I::LocalSet(4));
    // if p + new_size > memory.size * 64 KiB (unsigned, in i64): trap
    f.instruction(&I::LocalGet(4));
    f.instruction(&I::I64ExtendI32U);
    f.instruction(&I::LocalGet(3));
    f.instruction(&I::I64ExtendI32U);
    f.instruction(&I::I64Add);
    f.instruction(&I::MemorySize(0));
    f.instruction(&I::I64ExtendI32U);
    f.instruction(&I::I64Const(16));
    f.instruction(&I::I64Shl);
    f.instruction(&I::I64GtU);
    f.instruction(&I::If(wasm_encoder::BlockType::Empty));
    f.instruction(&I::Unreachable);
    f.instruction(&I::End);
    // store(HEAP_PTR, p + new_size); p
    f.instruction(&I::I32Const(HEAP_PTR));
    f.instruction(&I::LocalGet(4));
    f.instruction(&I::LocalGet(3));
    f.instruction(&I::I32Add);
    f.instruction(&I::I32Store(mem(2)));
    f.instruction(&I::LocalGet(4));
    f.instruction(&I::End);
    f
}

/// Pushes one flat result of type `r`, computed from the parameters where
/// one fits (a parameter of the same type, possibly mixed with a drawn
/// constant, or an `i32` one converted), else read from the scratch area,
/// the area's address (a retptr) or a drawn constant.
fn push_result(
    f: &mut Function,
    r: ValType,
    params: &[ValType],
    has_memory: bool,
    u: &mut Unstructured<'_>,
) {
    use Instruction as I;
    let of_type = |t: ValType| -> Vec<u32> {
        (0..params.len() as u32)
            .filter(|&i| params[i as usize] == t)
            .collect()
    };
    let same = of_type(r);
    let ints = of_type(ValType::I32);
    let choice = u.int_in_range(0u8..=9).unwrap_or(0);
    if choice <= 3 && !same.is_empty() {
        f.instruction(&I::LocalGet(*u.choose(&same).unwrap_or(&same[0])));
        if choice == 3 {
            match r {
                ValType::I32 => {
                    f.instruction(&I::I32Const(word(u)));
                    f.instruction(&I::I32Xor);
                }
                ValType::I64 => {
                    f.instruction(&I::I64Const(i64::from(word(u))));
                    f.instruction(&I::I64Add);
                }
                ValType::F32 => {
                    f.instruction(&I::F32Neg);
                }
                ValType::F64 => {
                    f.instruction(&I::F64Neg);
                }
                _ => {}
            }
        }
        return;
    }
    if choice == 4 && !ints.is_empty() && r != ValType::I32 {
        f.instruction(&I::LocalGet(*u.choose(&ints).unwrap_or(&ints[0])));
        f.instruction(&match r {
            ValType::I64 => I::I64ExtendI32U,
            ValType::F32 => I::F32ConvertI32S,
            _ => I::F64ConvertI32U,
        });
        return;
    }
    if (5..=6).contains(&choice) && has_memory {
        if let Some((size, load, _)) = access(r) {
            let off = size * u.int_in_range(0..=(AREA_LEN / size - 1)).unwrap_or(0);
            f.instruction(&I::I32Const(AREA + off));
            f.instruction(&load);
            return;
        }
    }
    match r {
        ValType::I32 if has_memory && choice >= 7 => f.instruction(&I::I32Const(AREA)),
        ValType::I32 => f.instruction(&I::I32Const(word(u))),
        ValType::I64 => f.instruction(&I::I64Const(match u.int_in_range(0u8..=3).unwrap_or(0) {
            0 => i64::from(word(u)),
            _ => u.arbitrary().unwrap_or(0),
        })),
        ValType::F32 => f.instruction(&I::F32Const(
            f32::from_bits(u.arbitrary().unwrap_or(0)).into(),
        )),
        ValType::F64 => f.instruction(&I::F64Const(
            f64::from_bits(u.arbitrary().unwrap_or(0)).into(),
        )),
        // No reference or vector results in lifted functions.
        _ => f.instruction(&I::Unreachable),
    };
}

/// The body of a lifted export (see the module docs).
fn export_body(
    params: &[ValType],
    results: &[ValType],
    has_memory: bool,
    u: &mut Unstructured<'_>,
) -> Function {
    let mut f = Function::new([]);
    if has_memory {
        store_area(&mut f, u);
        store_params(&mut f, params, u);
    }
    for &r in results {
        push_result(&mut f, r, params, has_memory, u);
    }
    // Most bodies free what the call's arguments took (lifting the results
    // allocates nothing in the guest), so later calls do not fill memory.
    if has_memory && u.ratio(3, 4).unwrap_or(true) {
        f.instruction(&Instruction::I32Const(HEAP_PTR));
        f.instruction(&Instruction::I32Const(0));
        f.instruction(&Instruction::I32Store(mem(2)));
    }
    f.instruction(&Instruction::End);
    f
}

/// What wit-component's dummy module exports under `name`, by the names
/// of both manglings (`cabi_*`/`[dtor]`, or `cm32p2_*`/`_post`/`_dtor`).
#[derive(PartialEq)]
enum Role {
    Realloc,
    /// post-return, resource destructors and the initializer: empty bodies.
    Nothing,
    Lifted,
}

fn role(name: &str) -> Role {
    let standard = name.starts_with("cm32p2");
    if name == "cabi_realloc" || name == "cm32p2_realloc" {
        Role::Realloc
    } else if name.starts_with("cabi_post_")
        || name.contains("[dtor]")
        || name == "_initialize"
        || name == "cm32p2_initialize"
        || (standard && (name.ends_with("_post") || name.ends_with("_dtor")))
    {
        Role::Nothing
    } else {
        Role::Lifted
    }
}

/// Replaces the dummy module's bodies (see the module docs); `None` if the
/// module is not what wit-component makes.
pub fn rewrite(module: Vec<u8>, u: &mut Unstructured<'_>) -> Option<Vec<u8>> {
    let mut types: Vec<(Vec<ValType>, Vec<ValType>)> = Vec::new();
    let mut func_types: Vec<u32> = Vec::new();
    let mut imported_funcs = 0u32;
    let mut has_memory = false;
    let mut exports: HashMap<u32, String> = HashMap::new();
    let mut out = wasm_encoder::Module::new();
    for payload in Parser::new(0).parse_all(&module) {
        let payload = payload.ok()?;
        match &payload {
            Payload::TypeSection(r) => {
                for t in r.clone().into_iter_err_on_gc_types() {
                    let t = t.ok()?;
                    types.push((t.params().to_vec(), t.results().to_vec()));
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.clone().into_imports() {
                    match imp.ok()?.ty {
                        TypeRef::Func(t) => {
                            imported_funcs += 1;
                            func_types.push(t);
                        }
                        TypeRef::Memory(_) => has_memory = true,
                        _ => {}
                    }
                }
            }
            Payload::FunctionSection(r) => {
                for t in r.clone() {
                    func_types.push(t.ok()?);
                }
            }
            Payload::ExportSection(r) => {
                for e in r.clone() {
                    let e = e.ok()?;
                    if e.kind == ExternalKind::Func {
                        exports.insert(e.index, e.name.to_string());
                    }
                }
            }
            Payload::MemorySection(r) => {
                let mut mems = MemorySection::new();
                for m in r.clone() {
                    let m = m.ok()?;
                    has_memory = true;
                    mems.memory(MemoryType {
                        minimum: m.initial.max(1),
                        maximum: m.maximum.map(|x| x.max(1)),
                        memory64: m.memory64,
                        shared: m.shared,
                        page_size_log2: m.page_size_log2,
                    });
                }
                out.section(&mems);
                continue;
            }
            Payload::CodeSectionStart { .. } => {
                let mut code = CodeSection::new();
                for (i, &t) in func_types.iter().enumerate().skip(imported_funcs as usize) {
                    let (params, results) = types.get(t as usize)?;
                    let name = exports.get(&(i as u32)).map(String::as_str).unwrap_or("");
                    let body = match role(name) {
                        Role::Realloc if has_memory => realloc_body(),
                        Role::Nothing => {
                            let mut f = Function::new([]);
                            f.instruction(&Instruction::End);
                            f
                        }
                        _ => export_body(params, results, has_memory, u),
                    };
                    code.function(&body);
                }
                out.section(&code);
                continue;
            }
            Payload::CodeSectionEntry(_) => continue,
            _ => {}
        }
        if let Some((id, range)) = payload.as_section() {
            let range = range.start as usize..range.end as usize;
            out.section(&RawSection {
                id,
                data: &module[range],
            });
        }
    }
    Some(out.finish())
}
