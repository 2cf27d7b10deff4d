//! Differential fuzzing of core-vm against wasmi 2.0 (the library), on
//! wasm-smith modules: the `core_vm_diff` fuzz target (`fuzz/`, which
//! compiles this file in with `#[path]`) and the differential step of
//! `fuzz-smoke` (feature `differential`).
//!
//! **Why wasmi.** It is the peer the project already measures against (the
//! wasmi 2.0 CLI is a test host), it implements exactly the features core-vm
//! does (Wasm 2.0, tail calls, multi-memory, extended-const; SIMD off), it
//! is a small pure-Rust crate (built here without its SIMD and memory64
//! features, so wasmi rejects them as core-vm does) that builds in the workspace in about a
//! minute (wasmtime with Cranelift takes many times that, which CI cannot
//! afford on every run), it is an independent implementation (its own
//! translator, register allocation and executor, sharing only wasmparser
//! with core-vm), and it meters fuel deterministically, so a guest's
//! infinite loop ends in both engines. wasmi is itself differentially
//! fuzzed against wasmtime upstream.
//!
//! **What one module does.** wasm-smith makes a module from the input (in
//! core-vm's feature set, `export_everything`, in three of four modules
//! with `canonicalize_nans`, and with `ensure_termination`, a fuel counter of
//! the module's own, so that endless loops trap at the same instruction in
//! both engines: [`SELF_FUEL`]). Both engines instantiate it with the same
//! imports: host functions that log every call (import, arguments) and
//! return values computed from their arguments (and trap, deterministically,
//! for one argument hash in 16), memories, tables and globals of the exact
//! imported types with the same contents. Then every exported function is
//! called with [`ARG_SETS`] argument sets drawn from interesting values
//! (zero, ±1, extremes, NaNs with payloads, infinities, ±0.0, small and
//! random numbers; externrefs by id). After each call the outcomes are
//! compared: the results, trap versus no trap, the trap's category (core-vm
//! and wasmi name traps differently: [`Category`]), and the host-call log.
//! At the end all exported globals, memories (size and bytes) and tables
//! (size, each element's null-ness and externref id) are compared.
//!
//! **NaNs.** In modules with `canonicalize_nans` every value is compared bit
//! for bit, and so are memories. Without it (one module in four) the spec
//! lets float arithmetic (`add` .. `sqrt`, `min`/`max`, `ceil` .. `nearest`,
//! `demote`/`promote`) return any NaN sign and payload, and those bits can
//! reach an integer through `reinterpret`. There a pair of values that differ
//! is a *NaN-payload difference*, not a mismatch, only when (1) both are NaN
//! bit patterns of the same width (two `f32` NaNs, two `i32`s that are `f32`
//! NaN patterns; likewise `f64`/`i64`), and (2) the *NaN probe* confirms
//! that some float arithmetic had produced a NaN by then: the module is run
//! again with core-vm on a copy of it ([`nan_probe`]) in which every such
//! instruction sets a flag global when its result is a NaN (the copy
//! computes the same values), and the flag is read at the same point. A
//! pair that meets (1) but not (2) (NaN bits changed by moves, loads,
//! `neg`, `copysign` or parameters, which must keep them exactly) is a
//! mismatch. NaN-payload differences are counted ([`DiffStats::nan_payload`],
//! listed in [`DiffStats::nan_notes`]), not passed silently; comparison goes
//! on after them. Any other mismatch in such a module (an integer computed
//! from NaN bits, a trap or a branch taken on them) is *NaN-derived*
//! ([`DiffStats::nan_derived`], listed too) only when (a) the probe run
//! shows that float arithmetic had produced a NaN by the time the run
//! stopped, and (b) the *canonicalised copy* (the probe copy with every
//! such NaN result replaced by the canonical positive NaN, so both engines
//! must agree bit for bit) runs on both engines at least as far with no
//! mismatch at all; otherwise it stays a mismatch. Memories are not
//! compared in such modules (a stored NaN's payload may differ
//! legitimately).
//!
//! **Limits.** Fuel: core-vm counts function entries and loop iterations,
//! wasmi roughly one unit per instruction, so wasmi gets [`WASMI_FUEL_RATIO`]
//! times more. Stack depth differs too. A call that runs out of fuel or
//! stack in *either* engine makes the rest of the module inconclusive: it is
//! counted and the module's comparison stops there (the two states may
//! legitimately differ from then on). Memories are capped at
//! [`MAX_MEMORY_PAGES`] and tables at [`MAX_TABLE_ELEMENTS`] in both; growth
//! refused growth stops wasmi with a trap ([`WasmiData`]), which makes the
//! module inconclusive.
//!
//! **The reference's own bugs.** wasmi 2.0 panics on some valid modules
//! (an `unreachable!` in its translator, see the README). Every call into
//! wasmi (validation, instantiation, each export call) runs under
//! `catch_unwind`: a panic there is counted as `reference_failed`, its
//! message kept in `reference_panics`, and the module's comparison stops; it
//! is not a mismatch. This needs an unwinding build: `fuzz-smoke` is built
//! with the workspace's `fuzz` profile (release with `panic = "unwind"`);
//! under libFuzzer (`fuzz/`, whose panic hook aborts) such a panic is a
//! crash to triage by hand.
//!
//! **The arbiter** (feature `arbiter`). wasmi is not always right (seven
//! wasmi bugs in the first 1M modules, checked on V8 by hand). With this
//! feature a module on which core-vm and wasmi disagree (after the NaN
//! rules), or that wasmi rejects or panics on, runs again as core-vm
//! against wasmtime 48 (the library, as the component fuzzer uses it):
//! the same [`Diff::run`] through the [`Reference`] trait, so the same
//! logging imports, drawn imported globals, memories and tables, argument
//! sets, fuel and stack outcomes made inconclusive, comparisons and NaN
//! rules ([`arbitrate`]). If wasmtime agrees with core-vm on everything
//! (and compared at least as far), the disagreement is a *reference
//! disagreement* (wasmi differs from both), counted and listed, not a
//! finding; if wasmtime sides with wasmi, with neither, or stops earlier,
//! it stays a mismatch, noting what wasmtime said. A module wasmi failed on
//! counts wasmtime's findings. `--reference wasmtime` in `fuzz-smoke` runs
//! core-vm against wasmtime alone (for a module that crashes wasmi's
//! process: `fuzz_long.py` does so). wasmtime's growth past the caps gives
//! -1 as core-vm does (it needs no trap there, unlike wasmi).
//!
//! Invariants: this file depends only on core-vm, wasmi, wasm-smith,
//! arbitrary, wasmparser and wasm-encoder (the probe; and `fuzz_harness`,
//! compiled beside it), and with `arbiter` on wasmtime. Every mismatch is a
//! finding; a module wasmi rejects is counted (`reference_rejected`), not a
//! finding, and so is a wasmi panic (`reference_failed`); a module core-vm
//! rejects is a finding (wasm-smith stays within core-vm's features), and
//! so, under the arbiter, is one core-vm accepts and both references reject.

use crate::fuzz_harness::{smith_config, XorShift, MAX_MEMORY_PAGES, MAX_TABLE_ELEMENTS};
use arbitrary::Unstructured;
use core_vm as cv;
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

/// Argument sets per exported function.
pub const ARG_SETS: usize = 3;
/// core-vm fuel for the instantiation and for each call.
pub const CORE_VM_FUEL: u64 = 20_000;
/// wasmi's fuel per unit of core-vm's (one instruction versus one call or
/// loop iteration of at most a few hundred instructions).
pub const WASMI_FUEL_RATIO: u64 = 256;

/// Counters of a differential run; `findings` are the mismatches.
#[derive(Debug, Default, Clone)]
pub struct DiffStats {
    pub modules: u64,
    /// Modules core-vm accepted but the reference did not (a limitation of
    /// wasmi; under the arbiter a finding when wasmtime 48 rejects it too).
    pub reference_rejected: u64,
    /// Modules whose comparison stopped because wasmi panicked (a wasmi bug).
    pub reference_failed: u64,
    /// What wasmi's panics said, one per `reference_failed` module.
    pub reference_panics: Vec<String>,
    /// Why the reference rejected each `reference_rejected` module.
    pub reference_rejections: Vec<String>,
    /// Modules both engines instantiated (or both failed to, alike).
    pub instantiated: u64,
    pub calls: u64,
    pub traps: u64,
    /// Modules whose comparison stopped early: fuel or stack ran out in one
    /// engine, or a resource cap was hit at instantiation.
    pub inconclusive: u64,
    /// Value pairs that differ only as the spec allows in a module whose
    /// NaNs are not canonicalised (see the module doc): counted, not findings.
    pub nan_payload: u64,
    /// Mismatches of other values in such modules that are NaN-derived:
    /// float arithmetic had produced a NaN before them, and they vanish
    /// when every such NaN is made the canonical one (see the module doc).
    pub nan_derived: u64,
    /// What each of them was (which call or global, both values).
    pub nan_notes: Vec<String>,
    /// Modules run again on wasmtime 48, the arbiter (feature `arbiter`):
    /// those core-vm and wasmi disagreed on, or that wasmi failed on.
    pub arbitrated: u64,
    /// Disagreements wasmtime settled for core-vm (it agreed with core-vm
    /// on everything compared): wasmi differs from both. One line per
    /// module (what wasmi said); not findings.
    pub reference_disagreements: Vec<String>,
    /// Modules wasmi rejected or panicked on, compared on wasmtime instead
    /// with no mismatch.
    pub replaced_agreed: u64,
    /// What the arbiter said about each module it ran.
    pub arbiter_notes: Vec<String>,
    pub findings: Vec<String>,
}

impl DiffStats {
    pub fn merge(&mut self, o: &DiffStats) {
        self.modules += o.modules;
        self.reference_rejected += o.reference_rejected;
        self.reference_failed += o.reference_failed;
        self.reference_panics
            .extend(o.reference_panics.iter().cloned());
        self.reference_rejections
            .extend(o.reference_rejections.iter().cloned());
        self.instantiated += o.instantiated;
        self.calls += o.calls;
        self.traps += o.traps;
        self.inconclusive += o.inconclusive;
        self.nan_payload += o.nan_payload;
        self.nan_derived += o.nan_derived;
        self.nan_notes.extend(o.nan_notes.iter().cloned());
        self.arbitrated += o.arbitrated;
        self.reference_disagreements
            .extend(o.reference_disagreements.iter().cloned());
        self.replaced_agreed += o.replaced_agreed;
        self.arbiter_notes.extend(o.arbiter_notes.iter().cloned());
        self.findings.extend(o.findings.iter().cloned());
    }
}

/// An engine-neutral value. Funcrefs compare by null-ness only (function
/// identities do not map between engines); externrefs by their id.
#[derive(Debug, Clone, Copy)]
pub enum V {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    FuncRef(bool),
    ExternRef(Option<u32>),
}

/// How two values compare (see the module doc, **NaNs**).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Same {
    Equal,
    /// Both NaN bit patterns of one width, in a module whose NaNs are not
    /// canonicalised: a NaN-payload difference if the probe confirms it.
    NanBits,
    Differ,
}

fn is_nan32(bits: u32) -> bool {
    f32::from_bits(bits).is_nan()
}

fn is_nan64(bits: u64) -> bool {
    f64::from_bits(bits).is_nan()
}

impl V {
    /// Compares under the module's NaN rule.
    fn cmp(&self, other: &V, exact_nans: bool) -> Same {
        let nan_bits = match (*self, *other) {
            (V::F32(a), V::F32(b)) => {
                if a == b {
                    return Same::Equal;
                }
                is_nan32(a) && is_nan32(b)
            }
            (V::I32(a), V::I32(b)) => {
                if a == b {
                    return Same::Equal;
                }
                is_nan32(a as u32) && is_nan32(b as u32)
            }
            (V::F64(a), V::F64(b)) => {
                if a == b {
                    return Same::Equal;
                }
                is_nan64(a) && is_nan64(b)
            }
            (V::I64(a), V::I64(b)) => {
                if a == b {
                    return Same::Equal;
                }
                is_nan64(a as u64) && is_nan64(b as u64)
            }
            (V::FuncRef(a), V::FuncRef(b)) if a == b => return Same::Equal,
            (V::ExternRef(a), V::ExternRef(b)) if a == b => return Same::Equal,
            _ => return Same::Differ,
        };
        if nan_bits && !exact_nans {
            Same::NanBits
        } else {
            Same::Differ
        }
    }
}

/// The worst of the pairs: `Differ` if any pair differs (or the lengths do).
fn cmp_vals(a: &[V], b: &[V], exact_nans: bool) -> Same {
    if a.len() != b.len() {
        return Same::Differ;
    }
    let mut worst = Same::Equal;
    for (x, y) in a.iter().zip(b) {
        match x.cmp(y, exact_nans) {
            Same::Differ => return Same::Differ,
            Same::NanBits => worst = Same::NanBits,
            Same::Equal => {}
        }
    }
    worst
}

/// Trap categories both engines can be mapped to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Unreachable,
    MemoryOutOfBounds,
    /// Table access out of bounds, including `call_indirect` past the end.
    TableOutOfBounds,
    IndirectCallToNull,
    BadSignature,
    IntegerOverflow,
    IntegerDivisionByZero,
    BadConversionToInteger,
    /// A host function's error.
    Host,
    /// Fuel or stack ran out: not comparable between the engines.
    Exhausted,
    /// Any other error (resource limits at instantiation, link errors).
    Other,
}

fn cv_category(e: &cv::Error) -> Category {
    use cv::TrapCode as C;
    match e {
        cv::Error::Trap(t) => match t.code() {
            C::Unreachable => Category::Unreachable,
            C::MemoryOutOfBounds => Category::MemoryOutOfBounds,
            C::TableOutOfBounds | C::UndefinedElement => Category::TableOutOfBounds,
            C::UninitializedElement => Category::IndirectCallToNull,
            C::BadSignature => Category::BadSignature,
            C::IntegerOverflow => Category::IntegerOverflow,
            C::IntegerDivisionByZero => Category::IntegerDivisionByZero,
            C::BadConversionToInteger => Category::BadConversionToInteger,
            C::StackOverflow | C::OutOfFuel => Category::Exhausted,
            C::Host => Category::Host,
        },
        cv::Error::Limit(_) => Category::Exhausted,
        _ => Category::Other,
    }
}

fn wasmi_category(e: &wasmi::Error) -> Category {
    use wasmi::TrapCode as C;
    match e.as_trap_code() {
        Some(C::UnreachableCodeReached) => Category::Unreachable,
        Some(C::MemoryOutOfBounds) => Category::MemoryOutOfBounds,
        Some(C::TableOutOfBounds) => Category::TableOutOfBounds,
        Some(C::IndirectCallToNull) => Category::IndirectCallToNull,
        Some(C::BadSignature) => Category::BadSignature,
        Some(C::IntegerOverflow) => Category::IntegerOverflow,
        Some(C::IntegerDivisionByZero) => Category::IntegerDivisionByZero,
        Some(C::BadConversionToInteger) => Category::BadConversionToInteger,
        Some(
            C::StackOverflow | C::OutOfFuel | C::GrowthOperationLimited | C::OutOfSystemMemory,
        ) => Category::Exhausted,
        None if e.downcast_ref::<HostTrap>().is_some() => Category::Host,
        None => {
            // Resource limits at instantiation come back as plain errors.
            let msg = e.to_string();
            if msg.contains("limit") || msg.contains("resource") || msg.contains("out of") {
                Category::Exhausted
            } else {
                Category::Other
            }
        }
    }
}

/// The error a host import raises when it decides to trap.
#[derive(Debug)]
struct HostTrap;

impl std::fmt::Display for HostTrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("host import trapped")
    }
}

impl std::error::Error for HostTrap {}
impl wasmi::errors::HostError for HostTrap {}

/// The outcome of one call (or of the instantiation).
#[derive(Debug, Clone)]
enum Outcome {
    Ok(Vec<V>),
    /// The category is compared; the message only helps reading a finding
    /// (through `Debug`, which the dead-code lint does not count).
    Trap(Category, #[allow(dead_code)] String),
}

/// What a host import does: shared by both engines so they agree.
/// Returns the results, or `None` to trap.
fn host_behaviour(import: usize, args: &[V], results: &[cv::ValType]) -> Option<Vec<V>> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ import as u64;
    for a in args {
        let bits = match *a {
            V::I32(x) => x as u32 as u64,
            V::I64(x) => x as u64,
            V::F32(x) => x as u64,
            V::F64(x) => x,
            V::FuncRef(n) => n as u64,
            V::ExternRef(id) => id.map_or(u64::MAX, u64::from),
        };
        h = (h ^ bits).wrapping_mul(0x1000_0000_01b3);
    }
    if h.is_multiple_of(16) && !args.is_empty() {
        return None;
    }
    let mut rng = XorShift::new(h);
    Some(
        results
            .iter()
            .map(|t| arbitrary_val(&mut rng, *t))
            .collect(),
    )
}

/// A value of type `t`: half the time one of the interesting edge values.
pub fn arbitrary_val(rng: &mut XorShift, t: cv::ValType) -> V {
    let pick = rng.below(2) == 0;
    match t {
        cv::ValType::I32 => {
            const I: &[i32] = &[
                0,
                1,
                -1,
                2,
                7,
                8,
                16,
                31,
                32,
                255,
                65536,
                i32::MIN,
                i32::MAX,
            ];
            V::I32(if pick {
                I[rng.below(I.len() as u64) as usize]
            } else {
                rng.next_u64() as i32
            })
        }
        cv::ValType::I64 => {
            const I: &[i64] = &[0, 1, -1, 2, 32, 63, 64, 1 << 32, i64::MIN, i64::MAX];
            V::I64(if pick {
                I[rng.below(I.len() as u64) as usize]
            } else {
                rng.next_u64() as i64
            })
        }
        cv::ValType::F32 => {
            const F: &[u32] = &[
                0,
                0x8000_0000,
                0x3f80_0000,
                0xbf80_0000,
                0x7fc0_0000,
                0xffc0_0000,
                0x7fa0_0001,
                0x7f80_0000,
                0xff80_0000,
                0x0080_0000,
                0x0000_0001,
                0x4f00_0000,
                0xcf00_0000,
                0x3f00_0000,
                0x7f7f_ffff,
            ];
            V::F32(if pick {
                F[rng.below(F.len() as u64) as usize]
            } else if rng.below(2) == 0 {
                (rng.below(2001) as f32 - 1000.0).to_bits()
            } else {
                rng.next_u64() as u32
            })
        }
        cv::ValType::F64 => {
            const F: &[u64] = &[
                0,
                0x8000_0000_0000_0000,
                0x3ff0_0000_0000_0000,
                0xbff0_0000_0000_0000,
                0x7ff8_0000_0000_0000,
                0xfff8_0000_0000_0000,
                0x7ff4_0000_0000_0001,
                0x7ff0_0000_0000_0000,
                0xfff0_0000_0000_0000,
                0x0010_0000_0000_0000,
                0x0000_0000_0000_0001,
                0x43e0_0000_0000_0000,
                0xc3e0_0000_0000_0000,
                0x41e0_0000_0000_0000,
                0x3fe0_0000_0000_0000,
            ];
            V::F64(if pick {
                F[rng.below(F.len() as u64) as usize]
            } else if rng.below(2) == 0 {
                (rng.below(2001) as f64 - 1000.0).to_bits()
            } else {
                rng.next_u64()
            })
        }
        cv::ValType::FuncRef => V::FuncRef(true),
        cv::ValType::ExternRef => V::ExternRef(if pick {
            None
        } else {
            Some(rng.below(4) as u32)
        }),
        cv::ValType::V128 => unreachable!("SIMD is off"),
    }
}

// ----- conversions -----

fn cv_val(v: V) -> cv::Val {
    match v {
        V::I32(x) => cv::Val::I32(x),
        V::I64(x) => cv::Val::I64(x),
        V::F32(x) => cv::Val::F32(x),
        V::F64(x) => cv::Val::F64(x),
        // Non-null funcrefs are never made up (only null ones are).
        V::FuncRef(_) => cv::Val::FuncRef(None),
        V::ExternRef(id) => cv::Val::ExternRef(id.map(cv::ExternRef)),
    }
}

fn from_cv(v: &cv::Val) -> V {
    match *v {
        cv::Val::I32(x) => V::I32(x),
        cv::Val::I64(x) => V::I64(x),
        cv::Val::F32(x) => V::F32(x),
        cv::Val::F64(x) => V::F64(x),
        cv::Val::FuncRef(f) => V::FuncRef(f.is_none()),
        cv::Val::ExternRef(r) => V::ExternRef(r.map(|r| r.0)),
        cv::Val::V128(_) => unreachable!("SIMD is off"),
    }
}

fn wasmi_ty(t: cv::ValType) -> wasmi::ValType {
    match t {
        cv::ValType::I32 => wasmi::ValType::I32,
        cv::ValType::I64 => wasmi::ValType::I64,
        cv::ValType::F32 => wasmi::ValType::F32,
        cv::ValType::F64 => wasmi::ValType::F64,
        cv::ValType::V128 => wasmi::ValType::V128,
        cv::ValType::FuncRef => wasmi::ValType::FuncRef,
        cv::ValType::ExternRef => wasmi::ValType::ExternRef,
    }
}

fn wasmi_val(ctx: impl wasmi::AsContextMut, v: V) -> wasmi::Val {
    match v {
        V::I32(x) => wasmi::Val::I32(x),
        V::I64(x) => wasmi::Val::I64(x),
        V::F32(x) => wasmi::Val::F32(wasmi::F32::from_bits(x)),
        V::F64(x) => wasmi::Val::F64(wasmi::F64::from_bits(x)),
        V::FuncRef(_) => wasmi::Val::FuncRef(wasmi::Nullable::Null),
        V::ExternRef(None) => wasmi::Val::ExternRef(wasmi::Nullable::Null),
        V::ExternRef(Some(id)) => {
            wasmi::Val::ExternRef(wasmi::Nullable::Val(wasmi::ExternRef::new(ctx, id)))
        }
    }
}

fn from_wasmi<'a, T: 'a>(store: impl Into<wasmi::StoreContext<'a, T>> + Copy, v: &wasmi::Val) -> V {
    match v {
        wasmi::Val::I32(x) => V::I32(*x),
        wasmi::Val::I64(x) => V::I64(*x),
        wasmi::Val::F32(x) => V::F32(x.to_bits()),
        wasmi::Val::F64(x) => V::F64(x.to_bits()),
        wasmi::Val::FuncRef(f) => V::FuncRef(f.is_null()),
        wasmi::Val::ExternRef(r) => wasmi_externref(store, r.val()),
        wasmi::Val::V128(_) => unreachable!("SIMD is off"),
    }
}

fn from_wasmi_ref<'a, T: 'a>(
    store: impl Into<wasmi::StoreContext<'a, T>> + Copy,
    r: &wasmi::Ref,
) -> V {
    match r {
        wasmi::Ref::Func(f) => V::FuncRef(f.is_null()),
        wasmi::Ref::Extern(e) => wasmi_externref(store, e.val()),
    }
}

/// The id of a wasmi externref. One wasmi cannot resolve (a bogus value
/// of its own, which panics in wasmi: seen in iteration 76674, an externref
/// result of an `if` with parameters) reads as id `u32::MAX`, which core-vm
/// never hands out, so it is a mismatch for the arbiter to judge.
fn wasmi_externref<'a, T: 'a>(
    store: impl Into<wasmi::StoreContext<'a, T>> + Copy,
    r: Option<&wasmi::ExternRef>,
) -> V {
    V::ExternRef(r.and_then(|r| {
        on_reference(|| r.data(store).downcast_ref::<u32>().copied()).unwrap_or(Some(u32::MAX))
    }))
}

// ----- the engines -----

/// The host-call log of one engine: one line per import call.
type Log = Arc<Mutex<Vec<String>>>;

fn log_call(log: &Log, import: usize, args: &[V]) {
    let mut line = format!("import {import}(");
    for a in args {
        let _ = write!(line, "{a:?} ");
    }
    line.push(')');
    log.lock().unwrap().push(line);
}

/// Why the reference side ended a module's comparison early.
enum Stop {
    /// The reference engine panicked (its bug): counted, not a finding.
    Panic(String),
    /// It lacks an import or export core-vm has: a finding.
    Finding(String),
}

/// A reference engine that core-vm is compared with: the module compiled
/// for it ([`Reference::load`]) and one run of it on a fresh store
/// ([`RefRun`]). wasmi is the reference; wasmtime 48 is the arbiter
/// (feature `arbiter`). Both speak [`V`], so [`Diff::run`] drives either
/// with the same imports, calls and comparisons.
trait Reference: Sized {
    /// Its name in findings and notes.
    const NAME: &'static str;
    type Run: RefRun;
    /// Validates and compiles `wasm`: `Ok(Err(why))` if the engine rejects
    /// it, `Err` (the message) if it panicked.
    fn load(wasm: &[u8]) -> Result<Result<Self, String>, String>;
    /// A fresh store for one run: imports, instantiation, calls.
    fn start(&self) -> Self::Run;
}

/// One run of a [`Reference`]. Imports are added in core-vm's order; the
/// engine's fuel is set before the instantiation and before every call.
trait RefRun {
    /// Host function `index` of type `ty`, logging its calls into `log` and
    /// answering with [`host_behaviour`].
    fn import_func(&mut self, index: usize, ty: &cv::FuncType, log: Log);
    /// A memory of `ty` whose first bytes are `fill`; false if refused.
    fn import_memory(&mut self, ty: &cv::MemoryType, fill: &[u8]) -> bool;
    /// A table of `ty`, every element null; false if refused.
    fn import_table(&mut self, ty: &cv::TableType) -> bool;
    /// A global of `ty` holding `v`.
    fn import_global(&mut self, ty: &cv::GlobalType, v: V);
    /// Instantiates with the imports added, which `keys` (module, name,
    /// kind) lists in core-vm's order.
    fn instantiate(&mut self, keys: &[(String, String, u8)]) -> Result<Outcome, Stop>;
    /// Calls export `name`.
    fn call(&mut self, name: &str, args: &[V], results: &[cv::ValType]) -> Result<Outcome, Stop>;
    fn global(&mut self, name: &str) -> Option<V>;
    fn memory(&mut self, name: &str) -> Option<&[u8]>;
    /// Each element of table `name`, `None` where it cannot be read.
    fn table(&mut self, name: &str) -> Option<Vec<Option<V>>>;
}

/// The kind of an import, as [`RefRun::instantiate`]'s keys give it.
fn kind_of(t: &cv::ExternType) -> u8 {
    match t {
        cv::ExternType::Func(_) => 0,
        cv::ExternType::Table(_) => 1,
        cv::ExternType::Memory(_) => 2,
        cv::ExternType::Global(_) => 3,
    }
}

/// `imports` (in core-vm's order, `keys`) reordered as an engine lists its
/// module's imports (`theirs`): the k-th import named (module, name) of a
/// kind is the same import. Err names an import core-vm does not have.
fn reorder<E: Clone>(
    keys: &[(String, String, u8)],
    imports: &[E],
    theirs: impl Iterator<Item = (String, String, u8)>,
) -> Result<Vec<E>, String> {
    let mut taken = vec![false; keys.len()];
    let mut ordered = Vec::with_capacity(imports.len());
    for key in theirs {
        let Some(i) = (0..keys.len()).find(|&i| !taken[i] && keys[i] == key) else {
            return Err(format!("an import core-vm does not list: {key:?}"));
        };
        taken[i] = true;
        ordered.push(imports[i].clone());
    }
    Ok(ordered)
}

/// The wasmi engine, configured like core-vm's fuzzing engine.
fn wasmi_engine() -> wasmi::Engine {
    let mut config = wasmi::Config::default();
    config
        .wasm_tail_call(true)
        .wasm_multi_memory(true)
        .wasm_extended_const(true)
        .wasm_bulk_memory(true)
        .wasm_reference_types(true)
        .wasm_multi_value(true)
        .wasm_wide_arithmetic(false)
        .wasm_custom_page_sizes(false)
        .consume_fuel(true);
    wasmi::Engine::new(&config)
}

/// The store data of the wasmi side: its limits. Growth that the limits
/// refuse (past a declared maximum or past the fuzzing caps) *traps* in
/// wasmi (`trap_on_grow_failure`, an inconclusive outcome) where core-vm
/// gives -1: wasmi 2.0 gives -1 too without that option, but a guest that
/// retries a refused `memory.grow` in a loop then overflows wasmi's native
/// stack (seen on a wasm-smith module), and its `ResourceLimiter` trait
/// cannot be implemented outside wasmi (its error type is private).
struct WasmiData {
    limits: wasmi::StoreLimits,
}

/// wasmi 2.0, the reference.
struct Wasmi {
    engine: wasmi::Engine,
    module: wasmi::Module,
}

struct WasmiRun {
    module: wasmi::Module,
    store: wasmi::Store<WasmiData>,
    imports: Vec<wasmi::Extern>,
    instance: Option<wasmi::Instance>,
}

impl Reference for Wasmi {
    const NAME: &'static str = "wasmi";
    type Run = WasmiRun;

    fn load(wasm: &[u8]) -> Result<Result<Self, String>, String> {
        let engine = wasmi_engine();
        debug("validating on wasmi");
        match on_reference(|| wasmi::Module::new(&engine, wasm)) {
            Ok(Ok(module)) => Ok(Ok(Wasmi { engine, module })),
            Ok(Err(e)) => Ok(Err(e.to_string())),
            Err(panic) => Err(panic),
        }
    }

    fn start(&self) -> WasmiRun {
        let mut store = wasmi::Store::new(
            &self.engine,
            WasmiData {
                limits: wasmi::StoreLimitsBuilder::new()
                    .memory_size((MAX_MEMORY_PAGES * cv::PAGE_SIZE) as usize)
                    .table_elements(MAX_TABLE_ELEMENTS as usize)
                    .trap_on_grow_failure(true)
                    .build(),
            },
        );
        store.limiter(|d| &mut d.limits);
        WasmiRun {
            module: self.module.clone(),
            store,
            imports: Vec::new(),
            instance: None,
        }
    }
}

impl RefRun for WasmiRun {
    fn import_func(&mut self, index: usize, ty: &cv::FuncType, log: Log) {
        let results: Vec<cv::ValType> = ty.results().to_vec();
        let wty = wasmi::FuncType::new(
            ty.params().iter().map(|t| wasmi_ty(*t)),
            results.iter().map(|t| wasmi_ty(*t)),
        );
        self.imports.push(wasmi::Extern::Func(wasmi::Func::new(
            &mut self.store,
            wty,
            move |mut c, params, out| {
                let args: Vec<V> = params.iter().map(|p| from_wasmi(&c, p)).collect();
                log_call(&log, index, &args);
                let vals = host_behaviour(index, &args, &results)
                    .ok_or_else(|| wasmi::Error::host(HostTrap))?;
                for (o, v) in out.iter_mut().zip(vals) {
                    *o = wasmi_val(&mut c, v);
                }
                Ok(())
            },
        )));
    }

    fn import_memory(&mut self, ty: &cv::MemoryType, fill: &[u8]) -> bool {
        let Ok(m) = wasmi::Memory::new(
            &mut self.store,
            wasmi::MemoryType::new(ty.min as u32, ty.max.map(|m| m as u32)),
        ) else {
            return false;
        };
        m.data_mut(&mut self.store)[..fill.len()].copy_from_slice(fill);
        self.imports.push(wasmi::Extern::Memory(m));
        true
    }

    fn import_table(&mut self, ty: &cv::TableType) -> bool {
        let (rt, init) = match ty.element {
            cv::ValType::FuncRef => (
                wasmi::RefType::Func,
                wasmi::Ref::Func(wasmi::Nullable::Null),
            ),
            _ => (
                wasmi::RefType::Extern,
                wasmi::Ref::Extern(wasmi::Nullable::Null),
            ),
        };
        let Ok(t) = wasmi::Table::new(
            &mut self.store,
            wasmi::TableType::new(rt, ty.min as u32, ty.max.map(|m| m as u32)),
            init,
        ) else {
            return false;
        };
        self.imports.push(wasmi::Extern::Table(t));
        true
    }

    fn import_global(&mut self, ty: &cv::GlobalType, v: V) {
        let wv = wasmi_val(&mut self.store, v);
        let mutability = if ty.mutable {
            wasmi::Mutability::Var
        } else {
            wasmi::Mutability::Const
        };
        let g = wasmi::Global::new(&mut self.store, wv, mutability);
        self.imports.push(wasmi::Extern::Global(g));
    }

    fn instantiate(&mut self, keys: &[(String, String, u8)]) -> Result<Outcome, Stop> {
        // wasmi lists its imports in its own order (grouped by kind).
        let kind = |t: &wasmi::ExternType| match t {
            wasmi::ExternType::Func(_) => 0,
            wasmi::ExternType::Table(_) => 1,
            wasmi::ExternType::Memory(_) => 2,
            wasmi::ExternType::Global(_) => 3,
        };
        let theirs = self
            .module
            .imports()
            .map(|i| (i.module().to_string(), i.name().to_string(), kind(i.ty())));
        let imports = reorder(keys, &self.imports, theirs)
            .map_err(|e| Stop::Finding(format!("wasmi lists {e}")))?;
        let _ = self.store.set_fuel(CORE_VM_FUEL * WASMI_FUEL_RATIO);
        debug("instantiating on wasmi");
        let (store, module) = (&mut self.store, &self.module);
        match on_reference(|| wasmi::Instance::new(store, module, &imports)).map_err(Stop::Panic)? {
            Ok(inst) => {
                self.instance = Some(inst);
                Ok(Outcome::Ok(vec![]))
            }
            Err(e) => Ok(Outcome::Trap(wasmi_category(&e), e.to_string())),
        }
    }

    fn call(&mut self, name: &str, args: &[V], results: &[cv::ValType]) -> Result<Outcome, Stop> {
        let inst = self.instance.expect("instantiated");
        let Some(f) = inst.get_func(&self.store, name) else {
            return Err(Stop::Finding(format!("wasmi has no export `{name}`")));
        };
        let wi_args: Vec<wasmi::Val> = args
            .iter()
            .map(|v| wasmi_val(&mut self.store, *v))
            .collect();
        let mut out: Vec<wasmi::Val> = results
            .iter()
            .map(|t| wasmi::Val::default_for_ty(wasmi_ty(*t)))
            .collect();
        let _ = self.store.set_fuel(CORE_VM_FUEL * WASMI_FUEL_RATIO);
        debug(&format!("calling {name} on wasmi"));
        let store = &mut self.store;
        match on_reference(|| f.call(&mut *store, &wi_args, &mut out)).map_err(Stop::Panic)? {
            Ok(()) => Ok(Outcome::Ok(
                out.iter().map(|v| from_wasmi(&self.store, v)).collect(),
            )),
            Err(e) => Ok(Outcome::Trap(wasmi_category(&e), e.to_string())),
        }
    }

    fn global(&mut self, name: &str) -> Option<V> {
        let g = self.instance?.get_global(&self.store, name)?;
        Some(from_wasmi(&self.store, &g.get(&self.store)))
    }

    fn memory(&mut self, name: &str) -> Option<&[u8]> {
        let m = self.instance?.get_memory(&self.store, name)?;
        Some(m.data(&self.store))
    }

    fn table(&mut self, name: &str) -> Option<Vec<Option<V>>> {
        let t = self.instance?.get_table(&self.store, name)?;
        Some(
            (0..t.size(&self.store))
                .map(|i| {
                    t.get(&self.store, i)
                        .map(|r| from_wasmi_ref(&self.store, &r))
                })
                .collect(),
        )
    }
}

/// Initial value of an imported global (the same for both engines).
fn global_init(rng: &mut XorShift, t: cv::ValType) -> V {
    match t {
        cv::ValType::FuncRef => V::FuncRef(true),
        t => arbitrary_val(rng, t),
    }
}

/// Runs `wasm` on core-vm and on wasmi and compares them; with the
/// `arbiter` feature, a module they disagree on (or that makes wasmi fail)
/// is judged by wasmtime 48 ([`arbitrate`]).
pub fn diff_module(wasm: &[u8], arg_seed: u64, exact_nans: bool) -> DiffStats {
    let stats = diff_against::<Wasmi>(wasm, wasm, arg_seed, exact_nans);
    #[cfg(feature = "arbiter")]
    let stats = arbitrate(stats, || {
        diff_against::<arbiter::Wasmtime>(wasm, wasm, arg_seed, exact_nans)
    });
    stats
}

/// `wasm` on core-vm against wasmtime 48 alone, with everything compared as
/// against wasmi (`fuzz-smoke --reference wasmtime`: the run of a module
/// that crashes wasmi's process).
#[cfg(feature = "arbiter")]
pub fn diff_module_on_wasmtime(wasm: &[u8], arg_seed: u64, exact_nans: bool) -> DiffStats {
    diff_against::<arbiter::Wasmtime>(wasm, wasm, arg_seed, exact_nans)
}

/// Runs `cv_wasm` on core-vm and `ref_wasm` on the reference `R` (the
/// same module, except in tests that forge a disagreement) and compares
/// them, with the NaN rules of the module doc.
fn diff_against<R: Reference>(
    cv_wasm: &[u8],
    ref_wasm: &[u8],
    arg_seed: u64,
    exact_nans: bool,
) -> DiffStats {
    let mut stats = DiffStats {
        modules: 1,
        ..DiffStats::default()
    };
    let cv_engine = crate::fuzz_harness::engine();
    debug("validating on core-vm");
    let cv_module = match cv::Module::new(&cv_engine, cv_wasm) {
        Ok(m) => m,
        Err(e) => {
            stats
                .findings
                .push(format!("core-vm rejected the module: {e}"));
            return stats;
        }
    };
    let reference = match R::load(ref_wasm) {
        Ok(Ok(r)) => r,
        Ok(Err(why)) => {
            stats.reference_rejected += 1;
            stats
                .reference_rejections
                .push(format!("{} rejected it: {why}", R::NAME));
            return stats;
        }
        Err(panic) => {
            stats.reference_failed += 1;
            stats.reference_panics.push(format!("validation: {panic}"));
            return stats;
        }
    };
    let mut d = Diff::new(stats, exact_nans, None, R::NAME);
    let mut cv_store = cv::Store::new(&cv_engine, ());
    d.run(&mut cv_store, &cv_module, &reference, arg_seed);
    if exact_nans || (d.nan_points.is_empty() && d.stats.findings.is_empty()) {
        return d.stats;
    }
    // NaN bits differ somewhere, or a mismatch in a module whose NaNs are
    // not canonicalised: run again with core-vm on the probe copy (the same
    // values, plus a flag set by every arithmetic NaN) to learn whether
    // float arithmetic had produced a NaN at each such point, and where the
    // run stopped.
    debug("running the NaN probe");
    let mut probed: Vec<(String, bool)> = Vec::new();
    let mut nan_at_stop = false;
    if let Some((probe_wasm, flag)) = nan_probe(cv_wasm, false) {
        if let Ok(probe_module) = cv::Module::new(&cv_engine, &probe_wasm) {
            let mut p = Diff::new(
                DiffStats::default(),
                exact_nans,
                Some(flag.clone()),
                R::NAME,
            );
            let mut store = cv::Store::new(&cv_engine, ());
            p.run(&mut store, &probe_module, &reference, arg_seed);
            nan_at_stop = p.cv_inst.is_some_and(|inst| {
                inst.get_global(&store, &flag)
                    .is_some_and(|g| !matches!(g.get(&store), cv::Val::I32(0)))
            });
            probed = p
                .nan_points
                .into_iter()
                .map(|pt| (pt.what, pt.arithmetic_nan == Some(true)))
                .collect();
        }
    }
    let mut stats = d.stats;
    for pt in d.nan_points {
        let line = format!("{}: core-vm {}, {} {}", pt.what, pt.cv, R::NAME, pt.wi);
        if probed.iter().any(|(w, seen)| *w == pt.what && *seen) {
            stats.nan_payload += 1;
            stats.nan_notes.push(line);
        } else {
            stats.findings.push(format!(
                "{line}: NaN bits differ, but no float arithmetic had produced a NaN by then \
                 (NaN probe), so they must be equal"
            ));
        }
    }
    // A mismatch of other values: NaN-derived only if float arithmetic had
    // produced a NaN before it, and the canonicalised copy (every such NaN
    // made the canonical one) runs on both engines as far, with no mismatch.
    if !stats.findings.is_empty()
        && nan_at_stop
        && canonical_copy_agrees::<R>(cv_wasm, ref_wasm, arg_seed, &stats)
    {
        stats.nan_derived += stats.findings.len() as u64;
        for f in std::mem::take(&mut stats.findings) {
            stats.nan_notes.push(format!("NaN-derived: {f}"));
        }
    }
    stats
}

/// Whether the canonicalised copy of the module (see [`nan_probe`]) runs on
/// both engines with no mismatch and no NaN-bit difference, making at
/// least the calls `first` made and stopping early no more often.
fn canonical_copy_agrees<R: Reference>(
    cv_wasm: &[u8],
    ref_wasm: &[u8],
    arg_seed: u64,
    first: &DiffStats,
) -> bool {
    debug("running the canonicalised copy");
    let (Some((canon, flag)), Some((ref_canon, _))) =
        (nan_probe(cv_wasm, true), nan_probe(ref_wasm, true))
    else {
        return false;
    };
    let cv_engine = crate::fuzz_harness::engine();
    let Ok(cv_module) = cv::Module::new(&cv_engine, &canon) else {
        return false;
    };
    let Ok(Ok(reference)) = R::load(&ref_canon) else {
        return false;
    };
    let mut c = Diff::new(DiffStats::default(), false, Some(flag), R::NAME);
    let mut store = cv::Store::new(&cv_engine, ());
    c.run(&mut store, &cv_module, &reference, arg_seed);
    c.stats.findings.is_empty()
        && c.nan_points.is_empty()
        && c.stats.reference_failed == 0
        && c.stats.calls >= first.calls
        && c.stats.inconclusive <= first.inconclusive
}

/// A point where the engines' values differ only in NaN bits (see the
/// module doc): what was compared, both sides, and (in the probe run)
/// whether float arithmetic had produced a NaN by then.
struct NanPoint {
    what: String,
    cv: String,
    wi: String,
    arithmetic_nan: Option<bool>,
}

struct Diff {
    stats: DiffStats,
    exact_nans: bool,
    /// The reference engine's name ([`Reference::NAME`]), for findings.
    name: &'static str,
    cv_log: Log,
    ref_log: Log,
    /// In the probe run: the export name of core-vm's NaN flag global.
    probe: Option<String>,
    nan_points: Vec<NanPoint>,
    /// core-vm's instance, once instantiated.
    cv_inst: Option<cv::Instance>,
}

impl Diff {
    fn new(stats: DiffStats, exact_nans: bool, probe: Option<String>, name: &'static str) -> Diff {
        Diff {
            stats,
            exact_nans,
            name,
            cv_log: Log::default(),
            ref_log: Log::default(),
            probe,
            nan_points: Vec::new(),
            cv_inst: None,
        }
    }

    /// Records a NaN-bits point; in the probe run, with core-vm's flag now.
    fn nan_point(
        &mut self,
        what: &str,
        cv: String,
        wi: String,
        store: &cv::Store<()>,
        inst: &cv::Instance,
    ) {
        let arithmetic_nan = self.probe.as_ref().map(|flag| {
            inst.get_global(store, flag)
                .is_some_and(|g| !matches!(g.get(store), cv::Val::I32(0)))
        });
        self.nan_points.push(NanPoint {
            what: what.to_string(),
            cv,
            wi,
            arithmetic_nan,
        });
    }

    fn finding(&mut self, what: String) {
        self.stats.findings.push(what);
    }

    /// The reference side stopped during `what`: a panic is counted (its
    /// store may be half-updated, so the comparison stops), a missing import
    /// or export is a finding.
    fn stopped(&mut self, what: &str, stop: Stop) {
        match stop {
            Stop::Panic(panic) => {
                self.stats.reference_failed += 1;
                self.stats.reference_panics.push(format!("{what}: {panic}"));
            }
            Stop::Finding(f) => self.finding(f),
        }
    }

    /// Compares one outcome pair; false if the module's comparison must stop
    /// (inconclusive, or a mismatch after which states differ).
    fn compare(&mut self, what: &str, cv: &Outcome, wi: &Outcome) -> bool {
        let logs_same = {
            let a = self.cv_log.lock().unwrap();
            let b = self.ref_log.lock().unwrap();
            *a == *b
        };
        let name = self.name;
        match (cv, wi) {
            (Outcome::Trap(Category::Exhausted, _), _)
            | (_, Outcome::Trap(Category::Exhausted, _)) => {
                debug(&format!(
                    "inconclusive {what}: core-vm {cv:?} {name} {wi:?}"
                ));
                self.stats.inconclusive += 1;
                return false;
            }
            _ => {}
        }
        if !logs_same {
            let a = self.cv_log.lock().unwrap().clone();
            let b = self.ref_log.lock().unwrap().clone();
            self.finding(format!(
                "{what}: host calls differ:\n  core-vm: {a:?}\n  {name}:   {b:?}"
            ));
            return false;
        }
        match (cv, wi) {
            (Outcome::Ok(a), Outcome::Ok(b)) if cmp_vals(a, b, self.exact_nans) != Same::Differ => {
                true
            }
            (Outcome::Trap(a, _), Outcome::Trap(b, _)) if a == b => {
                self.stats.traps += 1;
                true
            }
            _ => {
                self.finding(format!("{what}: core-vm {cv:?}, {name} {wi:?}"));
                false
            }
        }
    }

    /// Runs the module on core-vm (its side in `cv_store`) and on the
    /// reference, comparing as it goes; stops at the first mismatch of a
    /// call.
    fn run<R: Reference>(
        &mut self,
        cv_store: &mut cv::Store<()>,
        cv_module: &cv::Module,
        reference: &R,
        arg_seed: u64,
    ) {
        let mut side = reference.start();
        let name = self.name;

        // Imports, the same on both sides.
        let mut rng = XorShift::new(arg_seed ^ 0x1111);
        let mut cv_imports = Vec::new();
        for (index, imp) in cv_module.imports().enumerate() {
            match imp.ty {
                cv::ExternType::Func(ty) => {
                    let results: Vec<cv::ValType> = ty.results().to_vec();
                    let log = self.cv_log.clone();
                    cv_imports.push(cv::Extern::Func(cv::Func::new(
                        &mut *cv_store,
                        ty.clone(),
                        move |_c, params, out| {
                            let args: Vec<V> = params.iter().map(from_cv).collect();
                            log_call(&log, index, &args);
                            let vals = host_behaviour(index, &args, &results)
                                .ok_or_else(|| cv::Trap::host(HostTrap))?;
                            for (o, v) in out.iter_mut().zip(vals) {
                                *o = cv_val(v);
                            }
                            Ok(())
                        },
                    )));
                    side.import_func(index, &ty, self.ref_log.clone());
                }
                cv::ExternType::Memory(ty) => {
                    let fill = rng.bytes(64);
                    let cm = match cv::Memory::new(&mut *cv_store, ty) {
                        Ok(m) => m,
                        Err(_) => {
                            self.stats.inconclusive += 1;
                            return;
                        }
                    };
                    // The same first bytes in both.
                    let n = fill.len().min(cm.data(&*cv_store).len());
                    cm.data_mut(&mut *cv_store)[..n].copy_from_slice(&fill[..n]);
                    if !side.import_memory(&ty, &fill[..n]) {
                        self.stats.inconclusive += 1;
                        return;
                    }
                    cv_imports.push(cv::Extern::Memory(cm));
                }
                cv::ExternType::Table(ty) => {
                    let init = cv::Val::default_for(ty.element);
                    let ct = match cv::Table::new(&mut *cv_store, ty, init) {
                        Ok(t) => t,
                        Err(_) => {
                            self.stats.inconclusive += 1;
                            return;
                        }
                    };
                    if !side.import_table(&ty) {
                        self.stats.inconclusive += 1;
                        return;
                    }
                    cv_imports.push(cv::Extern::Table(ct));
                }
                cv::ExternType::Global(ty) => {
                    let v = global_init(&mut rng, ty.content);
                    let cg = match cv::Global::new(&mut *cv_store, ty, cv_val(v)) {
                        Ok(g) => g,
                        Err(e) => {
                            self.finding(format!("core-vm refused an imported global: {e}"));
                            return;
                        }
                    };
                    side.import_global(&ty, v);
                    cv_imports.push(cv::Extern::Global(cg));
                }
            }
        }
        let keys: Vec<(String, String, u8)> = cv_module
            .imports()
            .map(|i| (i.module.to_string(), i.name.to_string(), kind_of(&i.ty)))
            .collect();

        // Instantiation (data and element segments, the start function).
        cv_store.set_fuel(CORE_VM_FUEL);
        debug("instantiating on core-vm");
        let cv_inst = cv::Instance::new(&mut *cv_store, cv_module, &cv_imports);
        let ref_inst = match side.instantiate(&keys) {
            Ok(o) => o,
            Err(stop) => return self.stopped("instantiation", stop),
        };
        let cv_inst = match (cv_inst, ref_inst) {
            (Ok(a), Outcome::Ok(_)) => {
                if !self.compare("instantiation", &Outcome::Ok(vec![]), &Outcome::Ok(vec![])) {
                    return;
                }
                a
            }
            (a, b) => {
                let ca = a.map_or_else(
                    |e| Outcome::Trap(cv_category(&e), e.to_string()),
                    |_| Outcome::Ok(vec![]),
                );
                if self.compare("instantiation", &ca, &b) {
                    self.stats.instantiated += 1;
                }
                return;
            }
        };
        self.stats.instantiated += 1;
        self.cv_inst = Some(cv_inst);

        // Every exported function, with several argument sets.
        let mut arg_rng = XorShift::new(arg_seed);
        let exports: Vec<(String, cv::ExternType)> = cv_module
            .exports()
            .map(|e| (e.name.to_string(), e.ty))
            .collect();
        for (export, ty) in &exports {
            let cv::ExternType::Func(fty) = ty else {
                continue;
            };
            let cf = cv_inst.get_func(&*cv_store, export).expect("exported");
            for set in 0..ARG_SETS {
                let args: Vec<V> = fty
                    .params()
                    .iter()
                    .map(|t| arbitrary_val(&mut arg_rng, *t))
                    .collect();
                let cv_args: Vec<cv::Val> = args.iter().map(|v| cv_val(*v)).collect();
                let mut cv_out: Vec<cv::Val> = fty
                    .results()
                    .iter()
                    .map(|t| cv::Val::default_for(*t))
                    .collect();
                cv_store.set_fuel(CORE_VM_FUEL);
                self.stats.calls += 1;
                debug(&format!("calling {export}{args:?} on core-vm"));
                let a = match cf.call(&mut *cv_store, &cv_args, &mut cv_out) {
                    Ok(()) => Outcome::Ok(cv_out.iter().map(from_cv).collect()),
                    Err(e) => Outcome::Trap(cv_category(&e), e.to_string()),
                };
                let b = match side.call(export, &args, fty.results()) {
                    Ok(o) => o,
                    Err(stop) => return self.stopped(&format!("call {export}"), stop),
                };
                let what = format!("call {export}{args:?} (set {set})");
                if !self.compare(&what, &a, &b) {
                    return;
                }
                if let (Outcome::Ok(x), Outcome::Ok(y)) = (&a, &b) {
                    if cmp_vals(x, y, self.exact_nans) == Same::NanBits {
                        self.nan_point(
                            &what,
                            format!("{x:?}"),
                            format!("{y:?}"),
                            &*cv_store,
                            &cv_inst,
                        );
                    }
                }
            }
        }

        // The final state of every exported global, memory and table.
        for (export, ty) in &exports {
            if self.probe.as_ref() == Some(export) {
                continue;
            }
            match ty {
                cv::ExternType::Global(_) => {
                    let a = from_cv(
                        &cv_inst
                            .get_global(&*cv_store, export)
                            .unwrap()
                            .get(&*cv_store),
                    );
                    let Some(b) = side.global(export) else {
                        self.finding(format!("{name} has no global `{export}`"));
                        continue;
                    };
                    match a.cmp(&b, self.exact_nans) {
                        Same::Equal => {}
                        Same::NanBits => {
                            let what = format!("global `{export}`");
                            self.nan_point(
                                &what,
                                format!("{a:?}"),
                                format!("{b:?}"),
                                &*cv_store,
                                &cv_inst,
                            );
                        }
                        Same::Differ => {
                            self.finding(format!("global `{export}`: core-vm {a:?}, {name} {b:?}"))
                        }
                    }
                }
                cv::ExternType::Memory(_) => {
                    let cm = cv_inst.get_memory(&*cv_store, export).unwrap();
                    let Some(b) = side.memory(export) else {
                        self.finding(format!("{name} has no memory `{export}`"));
                        continue;
                    };
                    let a = cm.data(&*cv_store);
                    let finding = if a.len() != b.len() {
                        Some(format!(
                            "memory `{export}`: core-vm {} bytes, {name} {} bytes",
                            a.len(),
                            b.len()
                        ))
                    } else if self.exact_nans && a != b {
                        let at = a.iter().zip(b).position(|(x, y)| x != y).unwrap();
                        Some(format!(
                            "memory `{export}` differs first at byte {at}: core-vm {:#04x}, {name} {:#04x}",
                            a[at], b[at]
                        ))
                    } else {
                        None
                    };
                    if let Some(f) = finding {
                        self.finding(f);
                    }
                }
                cv::ExternType::Table(_) => {
                    let ct = cv_inst.get_table(&*cv_store, export).unwrap();
                    let Some(b) = side.table(export) else {
                        self.finding(format!("{name} has no table `{export}`"));
                        continue;
                    };
                    let (n, m) = (ct.size(&*cv_store), b.len() as u64);
                    if n != m {
                        self.finding(format!(
                            "table `{export}`: core-vm size {n}, {name} size {m}"
                        ));
                        continue;
                    }
                    for (i, b) in (0..n).zip(b) {
                        let a = ct.get(&*cv_store, i).map(|v| from_cv(&v));
                        let same = match (&a, &b) {
                            (Some(a), Some(b)) => a.cmp(b, true) == Same::Equal,
                            _ => false,
                        };
                        if !same {
                            self.finding(format!(
                                "table `{export}`[{i}]: core-vm {a:?}, {name} {b:?}"
                            ));
                            break;
                        }
                    }
                }
                cv::ExternType::Func(_) => {}
            }
        }
    }
}

/// Runs one step on a reference engine, catching a panic (its bug): `Err`
/// holds the panic's message.
fn on_reference<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic without a message".into())
    })
}

/// Judges a module core-vm and wasmi disagree on, or that wasmi rejected
/// or panicked on: `on_arbiter` runs it as core-vm against wasmtime 48
/// (the same imports, calls, comparisons and NaN rules). A disagreement
/// becomes a *reference disagreement* (wasmi differs from core-vm and
/// wasmtime), not a finding, only when wasmtime agrees with core-vm on
/// everything: no finding, no panic, no rejection, at least as many calls
/// compared and no more inconclusive stops than the run against wasmi.
/// Otherwise (wasmtime sides with wasmi, with neither, or stops earlier)
/// the findings stay, each with what wasmtime said. A module wasmi failed
/// on takes wasmtime's findings as its own.
#[cfg_attr(not(feature = "arbiter"), allow(dead_code))]
fn arbitrate(mut first: DiffStats, on_arbiter: impl FnOnce() -> DiffStats) -> DiffStats {
    let wasmi_failed = first.reference_failed > 0 || first.reference_rejected > 0;
    if first.findings.is_empty() && !wasmi_failed {
        return first;
    }
    debug("running the arbiter (wasmtime 48)");
    let w = on_arbiter();
    first.arbitrated += 1;
    let clean = w.findings.is_empty() && w.reference_failed == 0 && w.reference_rejected == 0;
    let said = if clean {
        format!("agrees with core-vm ({} calls compared)", w.calls)
    } else if w.reference_rejected > 0 {
        "rejected the module".to_string()
    } else if w.reference_failed > 0 {
        format!("panicked: {}", w.reference_panics.join("; "))
    } else {
        format!("differs from core-vm: {}", w.findings.join("; "))
    };
    if first.findings.is_empty() {
        // wasmi rejected or panicked: wasmtime stands in for it.
        let why = if first.reference_failed > 0 {
            "wasmi panicked"
        } else {
            "wasmi rejected the module"
        };
        first
            .arbiter_notes
            .push(format!("{why}; wasmtime 48 {said}"));
        if clean {
            first.replaced_agreed += 1;
        } else if first.reference_rejected > 0 && w.reference_rejected > 0 {
            // Both references reject what core-vm validated: core-vm's
            // validator (or the features it is given) is the odd one out.
            let whys: Vec<&str> = first
                .reference_rejections
                .iter()
                .chain(&w.reference_rejections)
                .map(String::as_str)
                .collect();
            first.findings.push(format!(
                "core-vm accepted a module wasmi and wasmtime 48 both reject ({})",
                whys.join("; ")
            ));
        } else {
            first.findings.extend(
                w.findings
                    .iter()
                    .map(|f| format!("{f} ({why}; core-vm against wasmtime 48)")),
            );
        }
        return first;
    }
    if clean && w.calls >= first.calls && w.inconclusive <= first.inconclusive {
        let what = std::mem::take(&mut first.findings).join("; ");
        first.arbiter_notes.push(format!(
            "reference disagreement: wasmi differs from core-vm and wasmtime 48: {what}"
        ));
        first.reference_disagreements.push(what);
    } else {
        let said = if clean {
            format!(
                "stopped earlier ({} calls compared, {} inconclusive; against wasmi {}, {})",
                w.calls, w.inconclusive, first.calls, first.inconclusive
            )
        } else {
            said
        };
        first
            .arbiter_notes
            .push(format!("mismatch kept: wasmtime 48 {said}"));
        for f in &mut first.findings {
            let _ = write!(f, " (arbiter: wasmtime 48 {said})");
        }
    }
    first
}

/// wasmtime 48 as the arbiter: the [`Reference`] that [`arbitrate`] runs.
/// Its engine has fuel (wasmi's ratio to core-vm's, both counting about an
/// instruction a unit), Cranelift without optimisation (a disputed module
/// is compiled once), and the `gc` feature (externref lives in its GC
/// heap). Growth past the fuzzing caps gives -1, as in core-vm (wasmtime,
/// unlike wasmi, needs no trap there).
#[cfg(feature = "arbiter")]
mod arbiter {
    use super::*;

    pub(super) struct Wasmtime {
        module: wasmtime::Module,
    }

    pub(super) struct WasmtimeRun {
        module: wasmtime::Module,
        store: wasmtime::Store<wasmtime::StoreLimits>,
        imports: Vec<wasmtime::Extern>,
        instance: Option<wasmtime::Instance>,
    }

    fn engine() -> wasmtime::Engine {
        thread_local! {
            static ENGINE: wasmtime::Engine = {
                let mut config = wasmtime::Config::new();
                config
                    .consume_fuel(true)
                    .cranelift_opt_level(wasmtime::OptLevel::None)
                    .wasm_tail_call(true)
                    .wasm_multi_memory(true)
                    .wasm_extended_const(true)
                    .wasm_reference_types(true);
                wasmtime::Engine::new(&config).expect("wasmtime's engine")
            };
        }
        ENGINE.with(|e| e.clone())
    }

    fn ty(engine: &wasmtime::Engine, t: cv::ValType) -> wasmtime::ValType {
        let _ = engine;
        match t {
            cv::ValType::I32 => wasmtime::ValType::I32,
            cv::ValType::I64 => wasmtime::ValType::I64,
            cv::ValType::F32 => wasmtime::ValType::F32,
            cv::ValType::F64 => wasmtime::ValType::F64,
            cv::ValType::V128 => wasmtime::ValType::V128,
            cv::ValType::FuncRef => wasmtime::ValType::FUNCREF,
            cv::ValType::ExternRef => wasmtime::ValType::EXTERNREF,
        }
    }

    fn val(mut store: impl wasmtime::AsContextMut, v: V) -> wasmtime::Val {
        match v {
            V::I32(x) => wasmtime::Val::I32(x),
            V::I64(x) => wasmtime::Val::I64(x),
            V::F32(x) => wasmtime::Val::F32(x),
            V::F64(x) => wasmtime::Val::F64(x),
            V::FuncRef(_) => wasmtime::Val::FuncRef(None),
            V::ExternRef(None) => wasmtime::Val::ExternRef(None),
            V::ExternRef(Some(id)) => wasmtime::Val::ExternRef(
                // Only an exhausted GC heap refuses; null then, which the
                // comparison reports.
                wasmtime::ExternRef::new(&mut store, id).ok(),
            ),
        }
    }

    fn externref<T: 'static>(
        store: &wasmtime::StoreContext<'_, T>,
        r: &Option<wasmtime::Rooted<wasmtime::ExternRef>>,
    ) -> V {
        V::ExternRef(r.as_ref().and_then(|r| {
            r.data(store)
                .ok()
                .flatten()
                .and_then(|d| d.downcast_ref::<u32>().copied())
        }))
    }

    fn from_val<'a, T: 'static>(
        store: impl Into<wasmtime::StoreContext<'a, T>>,
        v: &wasmtime::Val,
    ) -> V {
        let store = store.into();
        match v {
            wasmtime::Val::I32(x) => V::I32(*x),
            wasmtime::Val::I64(x) => V::I64(*x),
            wasmtime::Val::F32(x) => V::F32(*x),
            wasmtime::Val::F64(x) => V::F64(*x),
            wasmtime::Val::FuncRef(f) => V::FuncRef(f.is_none()),
            wasmtime::Val::ExternRef(r) => externref(&store, r),
            // Not in core-vm's feature set: never equal to core-vm's value.
            _ => V::ExternRef(Some(u32::MAX)),
        }
    }

    fn from_ref<'a, T: 'static>(
        store: impl Into<wasmtime::StoreContext<'a, T>>,
        r: &wasmtime::Ref,
    ) -> V {
        let store = store.into();
        match r {
            wasmtime::Ref::Func(f) => V::FuncRef(f.is_none()),
            wasmtime::Ref::Extern(e) => externref(&store, e),
            _ => V::ExternRef(Some(u32::MAX)),
        }
    }

    fn category(e: &wasmtime::Error) -> Category {
        use wasmtime::Trap as T;
        if let Some(t) = e.downcast_ref::<T>() {
            return match t {
                T::UnreachableCodeReached => Category::Unreachable,
                T::MemoryOutOfBounds => Category::MemoryOutOfBounds,
                T::TableOutOfBounds => Category::TableOutOfBounds,
                T::IndirectCallToNull => Category::IndirectCallToNull,
                T::BadSignature => Category::BadSignature,
                T::IntegerOverflow => Category::IntegerOverflow,
                T::IntegerDivisionByZero => Category::IntegerDivisionByZero,
                T::BadConversionToInteger => Category::BadConversionToInteger,
                T::StackOverflow | T::OutOfFuel | T::Interrupt | T::AllocationTooLarge => {
                    Category::Exhausted
                }
                _ => Category::Other,
            };
        }
        if e.downcast_ref::<HostTrap>().is_some() {
            return Category::Host;
        }
        // Resource limits at instantiation come back as plain errors.
        let msg = format!("{e:#}");
        if msg.contains("limit") || msg.contains("resource") || msg.contains("out of") {
            Category::Exhausted
        } else {
            Category::Other
        }
    }

    impl Reference for Wasmtime {
        const NAME: &'static str = "wasmtime 48";
        type Run = WasmtimeRun;

        fn load(wasm: &[u8]) -> Result<Result<Self, String>, String> {
            let engine = engine();
            debug("compiling on wasmtime 48");
            match on_reference(|| wasmtime::Module::new(&engine, wasm)) {
                Ok(Ok(module)) => Ok(Ok(Wasmtime { module })),
                Ok(Err(e)) => {
                    debug(&format!("wasmtime 48 rejected the module: {e:#}"));
                    Ok(Err(format!("{e:#}")))
                }
                Err(panic) => Err(panic),
            }
        }

        fn start(&self) -> WasmtimeRun {
            let limits = wasmtime::StoreLimitsBuilder::new()
                .memory_size((MAX_MEMORY_PAGES * cv::PAGE_SIZE) as usize)
                .table_elements(MAX_TABLE_ELEMENTS as usize)
                .build();
            let mut store = wasmtime::Store::new(self.module.engine(), limits);
            store.limiter(|l| l);
            WasmtimeRun {
                module: self.module.clone(),
                store,
                imports: Vec::new(),
                instance: None,
            }
        }
    }

    impl RefRun for WasmtimeRun {
        fn import_func(&mut self, index: usize, fty: &cv::FuncType, log: Log) {
            let engine = self.store.engine().clone();
            let results: Vec<cv::ValType> = fty.results().to_vec();
            let wty = wasmtime::FuncType::new(
                &engine,
                fty.params().iter().map(|t| ty(&engine, *t)),
                results.iter().map(|t| ty(&engine, *t)),
            );
            let f = wasmtime::Func::new(&mut self.store, wty, move |mut c, params, out| {
                let args: Vec<V> = params.iter().map(|p| from_val(&c, p)).collect();
                log_call(&log, index, &args);
                let vals = host_behaviour(index, &args, &results)
                    .ok_or_else(|| wasmtime::Error::new(HostTrap))?;
                for (o, v) in out.iter_mut().zip(vals) {
                    *o = val(&mut c, v);
                }
                Ok(())
            });
            self.imports.push(wasmtime::Extern::Func(f));
        }

        fn import_memory(&mut self, ty: &cv::MemoryType, fill: &[u8]) -> bool {
            let Ok(m) = wasmtime::Memory::new(
                &mut self.store,
                wasmtime::MemoryType::new(ty.min as u32, ty.max.map(|m| m as u32)),
            ) else {
                return false;
            };
            m.data_mut(&mut self.store)[..fill.len()].copy_from_slice(fill);
            self.imports.push(wasmtime::Extern::Memory(m));
            true
        }

        fn import_table(&mut self, ty: &cv::TableType) -> bool {
            let (rt, init) = match ty.element {
                cv::ValType::FuncRef => (wasmtime::RefType::FUNCREF, wasmtime::Ref::Func(None)),
                _ => (wasmtime::RefType::EXTERNREF, wasmtime::Ref::Extern(None)),
            };
            let Ok(t) = wasmtime::Table::new(
                &mut self.store,
                wasmtime::TableType::new(rt, ty.min as u32, ty.max.map(|m| m as u32)),
                init,
            ) else {
                return false;
            };
            self.imports.push(wasmtime::Extern::Table(t));
            true
        }

        fn import_global(&mut self, gty: &cv::GlobalType, v: V) {
            let engine = self.store.engine().clone();
            let mutability = if gty.mutable {
                wasmtime::Mutability::Var
            } else {
                wasmtime::Mutability::Const
            };
            let wv = val(&mut self.store, v);
            let g = wasmtime::Global::new(
                &mut self.store,
                wasmtime::GlobalType::new(ty(&engine, gty.content), mutability),
                wv,
            )
            .expect("a global of its own type");
            self.imports.push(wasmtime::Extern::Global(g));
        }

        fn instantiate(&mut self, keys: &[(String, String, u8)]) -> Result<Outcome, Stop> {
            let kind = |t: &wasmtime::ExternType| match t {
                wasmtime::ExternType::Func(_) => 0,
                wasmtime::ExternType::Table(_) => 1,
                wasmtime::ExternType::Memory(_) => 2,
                _ => 3,
            };
            let theirs = self
                .module
                .imports()
                .map(|i| (i.module().to_string(), i.name().to_string(), kind(&i.ty())));
            let imports = reorder(keys, &self.imports, theirs)
                .map_err(|e| Stop::Finding(format!("wasmtime 48 lists {e}")))?;
            let _ = self.store.set_fuel(CORE_VM_FUEL * WASMI_FUEL_RATIO);
            debug("instantiating on wasmtime 48");
            let (store, module) = (&mut self.store, &self.module);
            match on_reference(|| wasmtime::Instance::new(store, module, &imports))
                .map_err(Stop::Panic)?
            {
                Ok(inst) => {
                    self.instance = Some(inst);
                    Ok(Outcome::Ok(vec![]))
                }
                Err(e) => Ok(Outcome::Trap(category(&e), format!("{e:#}"))),
            }
        }

        fn call(
            &mut self,
            name: &str,
            args: &[V],
            results: &[cv::ValType],
        ) -> Result<Outcome, Stop> {
            let inst = self.instance.expect("instantiated");
            let Some(f) = inst.get_func(&mut self.store, name) else {
                return Err(Stop::Finding(format!("wasmtime 48 has no export `{name}`")));
            };
            let wt_args: Vec<wasmtime::Val> =
                args.iter().map(|v| val(&mut self.store, *v)).collect();
            let mut out = vec![wasmtime::Val::I32(0); results.len()];
            let _ = self.store.set_fuel(CORE_VM_FUEL * WASMI_FUEL_RATIO);
            debug(&format!("calling {name} on wasmtime 48"));
            let store = &mut self.store;
            match on_reference(|| f.call(&mut *store, &wt_args, &mut out)).map_err(Stop::Panic)? {
                Ok(()) => Ok(Outcome::Ok(
                    out.iter().map(|v| from_val(&self.store, v)).collect(),
                )),
                Err(e) => Ok(Outcome::Trap(category(&e), format!("{e:#}"))),
            }
        }

        fn global(&mut self, name: &str) -> Option<V> {
            let g = self.instance?.get_global(&mut self.store, name)?;
            let v = g.get(&mut self.store);
            Some(from_val(&self.store, &v))
        }

        fn memory(&mut self, name: &str) -> Option<&[u8]> {
            let m = self.instance?.get_memory(&mut self.store, name)?;
            Some(m.data(&self.store))
        }

        fn table(&mut self, name: &str) -> Option<Vec<Option<V>>> {
            let t = self.instance?.get_table(&mut self.store, name)?;
            let n = t.size(&self.store);
            Some(
                (0..n)
                    .map(|i| t.get(&mut self.store, i).map(|r| from_ref(&self.store, &r)))
                    .collect(),
            )
        }
    }
}

/// With `DIFF_DEBUG` set, says on stderr what is about to run (to find a
/// crash that no finding reports).
fn debug(what: &str) {
    if std::env::var_os("DIFF_DEBUG").is_some() {
        eprintln!("differential: {what}");
    }
}

/// Fuel of the counter `ensure_termination` puts in every module: a global
/// decremented at every function entry and loop header, trapping with
/// `unreachable` at zero, so an endless loop stops at the same instruction
/// in both engines and the comparison goes on. (The engines' own fuel stays
/// on as a backstop.) Every module gets it, not only most: wasmi 2.0
/// overflows its native stack after some 10^5 refused `memory.grow`s in a
/// loop (a three-line module shows it with the wasmi CLI too), which only
/// an endless loop reaches; the counter keeps every guest far below that.
const SELF_FUEL: u32 = 5_000;

/// The `core_vm_diff` fuzz target: the input's first byte picks the NaN
/// mode, the rest drives wasm-smith; arguments come from a hash of it all.
pub fn diff_generated(data: &[u8]) -> DiffStats {
    match generate(data) {
        Some((wasm, seed, exact_nans)) => diff_module(&wasm, seed, exact_nans),
        None => DiffStats::default(),
    }
}

/// [`diff_generated`]'s module on core-vm against wasmtime 48 alone
/// (`fuzz-smoke --differential-only --reference wasmtime`).
#[cfg(feature = "arbiter")]
pub fn diff_generated_on_wasmtime(data: &[u8]) -> DiffStats {
    match generate(data) {
        Some((wasm, seed, exact_nans)) => diff_module_on_wasmtime(&wasm, seed, exact_nans),
        None => DiffStats::default(),
    }
}

/// The module of `data` (see [`diff_generated`]), its argument seed and
/// whether its NaNs are canonicalised; written with its `.args` where
/// `DIFF_SAVE` says. `None` if wasm-smith makes none.
fn generate(data: &[u8]) -> Option<(Vec<u8>, u64, bool)> {
    let (&mode, rest) = data.split_first()?;
    let exact_nans = mode % 4 != 0;
    let mut config = smith_config();
    config.canonicalize_nans = exact_nans;
    let mut u = Unstructured::new(rest);
    let mut module = wasm_smith::Module::new(config, &mut u).ok()?;
    // The module counts its own fuel (see SELF_FUEL).
    module.ensure_termination(SELF_FUEL).ok()?;
    let wasm = module.to_bytes();
    let mut seed: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        seed = (seed ^ b as u64).wrapping_mul(0x1000_0000_01b3);
    }
    if let Some(path) = std::env::var_os("DIFF_SAVE") {
        let _ = std::fs::write(&path, &wasm);
        let mut args = path;
        args.push(".args");
        let nans = if exact_nans { " --exact-nans" } else { "" };
        let _ = std::fs::write(args, format!("--arg-seed {seed:#x}{nans}\n"));
    }
    Some((wasm, seed, exact_nans))
}

/// The NaN probe: a copy of `wasm` that computes the same values, plus a
/// mutable `i32` global, exported under the returned name (unused by the
/// module), that every float arithmetic instruction whose spec result may
/// be any NaN (`add`, `sub`, `mul`, `div`, `sqrt`, `min`, `max`, `ceil`,
/// `floor`, `trunc`, `nearest`, `demote`, `promote`) sets to 1 when its
/// result is a NaN: the result is kept in a new local of its type
/// (`local.tee`), compared with itself (`f32.ne`) and or-ed into the flag.
/// Moves, loads, stores, `abs`, `neg`, `copysign` and `reinterpret` must
/// keep NaN bits exactly, so they set nothing. With `canonicalize`, each
/// such result that is a NaN is also replaced by the canonical positive
/// NaN (the *canonicalised copy*; otherwise the values are unchanged).
/// `None` if the module does not parse.
pub fn nan_probe(wasm: &[u8], canonicalize: bool) -> Option<(Vec<u8>, String)> {
    use wasm_encoder::reencode::{Error, Reencode};
    use wasm_encoder::{
        ConstExpr, ExportKind, ExportSection, Function, GlobalSection, GlobalType, Instruction,
        SectionId, ValType,
    };
    use wasmparser::{Operator, Parser, Payload, TypeRef};

    // The parameter count of each defined function, the globals, the names.
    let mut params_of_type: Vec<u32> = Vec::new();
    let mut params: Vec<u32> = Vec::new();
    let mut globals = 0u32;
    let mut names = std::collections::HashSet::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.ok()? {
            Payload::TypeSection(r) => {
                for t in r.into_iter_err_on_gc_types() {
                    params_of_type.push(t.ok()?.params().len() as u32);
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    if let TypeRef::Global(_) = imp.ok()?.ty {
                        globals += 1;
                    }
                }
            }
            Payload::FunctionSection(r) => {
                for t in r {
                    params.push(*params_of_type.get(t.ok()? as usize)?);
                }
            }
            Payload::GlobalSection(r) => globals += r.count(),
            Payload::ExportSection(r) => {
                for e in r {
                    names.insert(e.ok()?.name.to_string());
                }
            }
            _ => {}
        }
    }
    let mut name = String::from("nan-probe");
    while names.contains(&name) {
        name.push('_');
    }

    /// Which float width an operator's NaN result is nondeterministic in.
    fn nan_width(op: &Operator<'_>) -> Option<ValType> {
        use Operator as O;
        match op {
            O::F32Add
            | O::F32Sub
            | O::F32Mul
            | O::F32Div
            | O::F32Sqrt
            | O::F32Min
            | O::F32Max
            | O::F32Ceil
            | O::F32Floor
            | O::F32Trunc
            | O::F32Nearest
            | O::F32DemoteF64 => Some(ValType::F32),
            O::F64Add
            | O::F64Sub
            | O::F64Mul
            | O::F64Div
            | O::F64Sqrt
            | O::F64Min
            | O::F64Max
            | O::F64Ceil
            | O::F64Floor
            | O::F64Trunc
            | O::F64Nearest
            | O::F64PromoteF32 => Some(ValType::F64),
            _ => None,
        }
    }

    struct Probe {
        canonicalize: bool,
        params: Vec<u32>,
        next: usize,
        flag: u32,
        name: String,
        global_done: bool,
        export_done: bool,
    }

    impl Probe {
        fn add_global(&mut self, globals: &mut GlobalSection) {
            globals.global(
                GlobalType {
                    val_type: ValType::I32,
                    mutable: true,
                    shared: false,
                },
                &ConstExpr::i32_const(0),
            );
            self.global_done = true;
        }

        fn add_export(&mut self, exports: &mut ExportSection) {
            exports.export(&self.name, ExportKind::Global, self.flag);
            self.export_done = true;
        }
    }

    impl Reencode for Probe {
        type Error = std::convert::Infallible;

        fn parse_function_body(
            &mut self,
            code: &mut wasm_encoder::CodeSection,
            func: wasmparser::FunctionBody<'_>,
        ) -> Result<(), Error<Self::Error>> {
            let mut n = self.params.get(self.next).copied().unwrap_or(0);
            self.next += 1;
            let mut locals = Vec::new();
            for pair in func.get_locals_reader()? {
                let (count, ty) = pair?;
                n += count;
                locals.push((count, self.val_type(ty)?));
            }
            let (t32, t64) = (n, n + 1);
            locals.push((1, ValType::F32));
            locals.push((1, ValType::F64));
            let mut f = Function::new(locals);
            let mut reader = func.get_operators_reader()?;
            while !reader.eof() {
                let op = reader.read()?;
                let width = nan_width(&op);
                f.instruction(&self.instruction(op)?);
                if let Some(w) = width {
                    use Instruction as I;
                    let (tmp, ne, eq, nan) = if w == ValType::F32 {
                        (t32, I::F32Ne, I::F32Eq, I::F32Const(f32::NAN.into()))
                    } else {
                        (t64, I::F64Ne, I::F64Eq, I::F64Const(f64::NAN.into()))
                    };
                    f.instruction(&I::LocalSet(tmp));
                    f.instruction(&I::LocalGet(tmp));
                    f.instruction(&I::LocalGet(tmp));
                    f.instruction(&ne);
                    f.instruction(&I::GlobalGet(self.flag));
                    f.instruction(&I::I32Or);
                    f.instruction(&I::GlobalSet(self.flag));
                    f.instruction(&I::LocalGet(tmp));
                    if self.canonicalize {
                        // x == x ? x : canonical NaN
                        f.instruction(&nan);
                        f.instruction(&I::LocalGet(tmp));
                        f.instruction(&I::LocalGet(tmp));
                        f.instruction(&eq);
                        f.instruction(&I::Select);
                    }
                }
            }
            code.function(&f);
            Ok(())
        }

        fn parse_global_section(
            &mut self,
            globals: &mut GlobalSection,
            section: wasmparser::GlobalSectionReader<'_>,
        ) -> Result<(), Error<Self::Error>> {
            wasm_encoder::reencode::utils::parse_global_section(self, globals, section)?;
            self.add_global(globals);
            Ok(())
        }

        fn parse_export_section(
            &mut self,
            exports: &mut ExportSection,
            section: wasmparser::ExportSectionReader<'_>,
        ) -> Result<(), Error<Self::Error>> {
            wasm_encoder::reencode::utils::parse_export_section(self, exports, section)?;
            self.add_export(exports);
            Ok(())
        }

        /// Adds the global and export sections where the module has none.
        fn intersperse_section_hook(
            &mut self,
            module: &mut wasm_encoder::Module,
            _after: Option<SectionId>,
            before: Option<SectionId>,
        ) -> Result<(), Error<Self::Error>> {
            use SectionId as S;
            let past = |last: SectionId| match before {
                None => true,
                Some(s) => match s {
                    S::Export => last == S::Global,
                    S::Start | S::Element | S::DataCount | S::Code | S::Data => true,
                    _ => false,
                },
            };
            if !self.global_done && past(S::Global) {
                let mut globals = GlobalSection::new();
                self.add_global(&mut globals);
                module.section(&globals);
            }
            if !self.export_done && past(S::Export) {
                let mut exports = ExportSection::new();
                self.add_export(&mut exports);
                module.section(&exports);
            }
            Ok(())
        }
    }

    let mut probe = Probe {
        canonicalize,
        params,
        next: 0,
        flag: globals,
        name,
        global_done: false,
        export_done: false,
    };
    let mut module = wasm_encoder::Module::new();
    probe
        .parse_core_module(&mut module, Parser::new(0), wasm)
        .ok()?;
    Some((module.finish(), probe.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_bits_only_when_both_are_nan_patterns_of_one_width() {
        let q32 = 0x7fc0_0000u32;
        let p32 = 0xffa0_0001u32;
        let q64 = 0x7ff8_0000_0000_0000u64;
        let p64 = 0xfff4_0000_0000_0001u64;
        // Two f32 NaNs, or two i32s holding f32 NaN bits: allowed only
        // where NaNs are not canonicalised.
        assert_eq!(V::F32(q32).cmp(&V::F32(p32), false), Same::NanBits);
        assert_eq!(V::F32(q32).cmp(&V::F32(p32), true), Same::Differ);
        assert_eq!(
            V::I32(q32 as i32).cmp(&V::I32(p32 as i32), false),
            Same::NanBits
        );
        assert_eq!(
            V::I64(q64 as i64).cmp(&V::I64(p64 as i64), false),
            Same::NanBits
        );
        assert_eq!(V::F64(q64).cmp(&V::F64(p64), false), Same::NanBits);
        // One side a NaN, the other not; an i64 whose low half is an f32
        // NaN; an infinity: all real differences.
        assert_eq!(V::I32(q32 as i32).cmp(&V::I32(1), false), Same::Differ);
        assert_eq!(V::F32(0x7f80_0000).cmp(&V::F32(q32), false), Same::Differ);
        assert_eq!(
            V::I64(i64::from(q32)).cmp(&V::I64(i64::from(p32)), false),
            Same::Differ
        );
        assert_eq!(V::I32(5).cmp(&V::I32(5), true), Same::Equal);
        assert_eq!(
            cmp_vals(&[V::I32(1), V::F32(q32)], &[V::I32(1), V::F32(p32)], false),
            Same::NanBits
        );
        assert_eq!(
            cmp_vals(&[V::I32(2), V::F32(q32)], &[V::I32(1), V::F32(p32)], false),
            Same::Differ
        );
    }

    /// Runs export `f` of the probe copy of `wat` with `args`, returning
    /// its results and the flag.
    fn probed(wat: &str, args: &[cv::Val]) -> (Vec<cv::Val>, cv::Val) {
        let wasm = wat::parse_str(wat).unwrap();
        let (probe, flag) = nan_probe(&wasm, false).expect("probe");
        let engine = crate::fuzz_harness::engine();
        let module = cv::Module::new(&engine, &probe).expect("the probe copy validates");
        let mut store = cv::Store::new(&engine, ());
        let inst = cv::Instance::new(&mut store, &module, &[]).unwrap();
        let f = inst.get_func(&store, "f").unwrap();
        let mut out = vec![cv::Val::I32(0); f.ty(&store).results().len()];
        f.call(&mut store, args, &mut out).unwrap();
        let g = inst.get_global(&store, &flag).unwrap().get(&store);
        (out, g)
    }

    #[test]
    fn the_probe_flags_arithmetic_nans_only() {
        let nan = cv::Val::F32(0x7fa0_0001);
        // f32.add of a NaN: flagged; the value is unchanged by the probe.
        let add = r#"(module (global (export "g") (mut i32) (i32.const 0))
            (func (export "f") (param f32 f32) (result i32)
              local.get 0 local.get 1 f32.add i32.reinterpret_f32))"#;
        let (out, flag) = probed(add, &[nan, cv::Val::F32(0)]);
        assert_eq!(flag, cv::Val::I32(1));
        assert!(matches!(out[0], cv::Val::I32(x) if f32::from_bits(x as u32).is_nan()));
        // No NaN produced: not flagged, result as without the probe.
        let (out, flag) = probed(add, &[cv::Val::F32(0x3f80_0000), cv::Val::F32(0x3f80_0000)]);
        assert_eq!((out[0], flag), (cv::Val::I32(0x4000_0000), cv::Val::I32(0)));
        // A NaN parameter moved, negated and reinterpreted: never flagged
        // (those must keep its bits), in a module without globals or exports
        // of its own besides `f`, and with locals of its own.
        let neg = r#"(module (func (export "f") (param f32) (result i32) (local i64 f64)
              local.get 0 f32.neg f32.abs i32.reinterpret_f32))"#;
        let (out, flag) = probed(neg, &[nan]);
        assert_eq!((out[0], flag), (cv::Val::I32(0x7fa0_0001), cv::Val::I32(0)));
        // f64.sqrt of -1 in a nested block: flagged.
        let sqrt = r#"(module (memory 1) (func (export "f") (param f64) (result f64)
              (block (result f64) local.get 0 f64.sqrt)))"#;
        let (_, flag) = probed(sqrt, &[cv::Val::F64((-1.0f64).to_bits())]);
        assert_eq!(flag, cv::Val::I32(1));
    }

    /// A forged outcome of a run against wasmi or wasmtime: `calls` calls
    /// compared, one finding if `finding`.
    fn forged(calls: u64, inconclusive: u64, finding: Option<&str>) -> DiffStats {
        DiffStats {
            modules: 1,
            instantiated: 1,
            calls,
            inconclusive,
            findings: finding.into_iter().map(String::from).collect(),
            ..DiffStats::default()
        }
    }

    #[test]
    fn the_arbiter_settles_a_disagreement_only_for_core_vm() {
        let first = || {
            forged(
                3,
                0,
                Some("call f[] (set 2): core-vm Ok([I32(1)]), wasmi Ok([I32(2)])"),
            )
        };
        // wasmtime agrees with core-vm on everything: wasmi's disagreement.
        let s = arbitrate(first(), || forged(9, 0, None));
        assert!(s.findings.is_empty());
        assert_eq!((s.arbitrated, s.reference_disagreements.len()), (1, 1));
        // wasmtime sides with wasmi (it differs from core-vm where wasmi
        // did): a mismatch, with what wasmtime said.
        let s = arbitrate(first(), || {
            forged(
                3,
                0,
                Some("call f[] (set 2): core-vm Ok([I32(1)]), wasmtime 48 Ok([I32(2)])"),
            )
        });
        assert_eq!(s.findings.len(), 1);
        assert!(s.findings[0].contains("arbiter: wasmtime 48 differs from core-vm"));
        assert!(s.reference_disagreements.is_empty());
        // wasmtime ran out of fuel before the disputed call, or stopped
        // early later: it says nothing about it, so a mismatch.
        assert_eq!(arbitrate(first(), || forged(2, 1, None)).findings.len(), 1);
        assert_eq!(arbitrate(first(), || forged(9, 1, None)).findings.len(), 1);
        // No disagreement: the arbiter is not run.
        let s = arbitrate(forged(3, 0, None), || unreachable!("not disputed"));
        assert_eq!(s.arbitrated, 0);
        // wasmi panicked: wasmtime's findings are the module's.
        let mut panicked = forged(1, 0, None);
        panicked.reference_failed = 1;
        let s = arbitrate(panicked.clone(), || forged(3, 0, None));
        assert_eq!((s.findings.len(), s.replaced_agreed), (0, 1));
        let s = arbitrate(panicked.clone(), || {
            forged(3, 0, Some("call f: core-vm .., wasmtime 48 .."))
        });
        assert_eq!((s.findings.len(), s.replaced_agreed), (1, 0));
        // wasmi rejected the module: wasmtime's run stands in for it, and
        // its rejection as well makes core-vm's acceptance the finding.
        let rejected = |by: &str| DiffStats {
            modules: 1,
            reference_rejected: 1,
            reference_rejections: vec![format!("{by} rejected it: why")],
            ..DiffStats::default()
        };
        let s = arbitrate(rejected("wasmi"), || forged(3, 0, None));
        assert_eq!((s.findings.len(), s.replaced_agreed), (0, 1));
        let s = arbitrate(rejected("wasmi"), || rejected("wasmtime 48"));
        assert_eq!(s.findings.len(), 1);
        assert!(s.findings[0].contains("both reject (wasmi rejected it: why; wasmtime 48"));
        // wasmi panicked and wasmtime rejected: one engine's word, no finding.
        let s = arbitrate(panicked, || rejected("wasmtime 48"));
        assert!(s.findings.is_empty());
    }

    /// A disagreement forged by running another module on the reference
    /// than on core-vm: the real runs on wasmi and on wasmtime, judged.
    #[cfg(feature = "arbiter")]
    #[test]
    fn a_forged_disagreement_the_arbiter_sides_with_wasmi_on_is_a_mismatch() {
        let module = |n: i32| {
            wat::parse_str(format!(
                r#"(module (import "m" "h" (func $h (param i32) (result i32)))
                  (global (export "g") (mut externref) (ref.null extern))
                  (table (export "t") 2 externref)
                  (memory (export "mem") 1)
                  (func (export "f") (param i32 externref) (result i32)
                    (global.set 0 (local.get 1))
                    (table.set 0 (i32.const 1) (local.get 1))
                    (i32.store (i32.const 8) (i32.const {n}))
                    (i32.add (call $h (local.get 0)) (i32.const {n}))))"#
            ))
            .unwrap()
        };
        let (core_vm, other, third) = (module(1), module(2), module(3));
        // The same module on all three: no finding, the arbiter not run.
        let same = diff_module(&core_vm, 11, true);
        assert!(same.findings.is_empty(), "{:?}", same.findings);
        assert!(same.calls > 0 && same.arbitrated == 0);
        let on_wasmtime = diff_module_on_wasmtime(&core_vm, 11, true);
        assert!(
            on_wasmtime.findings.is_empty(),
            "{:?}",
            on_wasmtime.findings
        );
        assert_eq!(on_wasmtime.calls, same.calls);
        // core-vm runs one module, wasmi another: they disagree.
        let first = diff_against::<Wasmi>(&core_vm, &other, 11, true);
        assert_eq!(first.findings.len(), 1, "{:?}", first.findings);
        // wasmtime runs wasmi's module: it sides with wasmi, a mismatch.
        let s = arbitrate(first.clone(), || {
            diff_against::<arbiter::Wasmtime>(&core_vm, &other, 11, true)
        });
        assert_eq!(s.findings.len(), 1);
        assert!(s.reference_disagreements.is_empty());
        // wasmtime runs a third: it sides with neither, a mismatch.
        let s = arbitrate(first.clone(), || {
            diff_against::<arbiter::Wasmtime>(&core_vm, &third, 11, true)
        });
        assert_eq!(s.findings.len(), 1);
        // wasmtime runs core-vm's module: wasmi differs from both.
        let s = arbitrate(first, || {
            diff_against::<arbiter::Wasmtime>(&core_vm, &core_vm, 11, true)
        });
        assert!(s.findings.is_empty(), "{:?}", s.findings);
        assert_eq!(s.reference_disagreements.len(), 1);
        // Both references get bytes that do not validate, core-vm a
        // valid module: the arbiter makes core-vm's acceptance a finding.
        let mut broken = core_vm.clone();
        broken.truncate(broken.len() - 1);
        let s = diff_against::<Wasmi>(&core_vm, &broken, 11, true);
        assert_eq!((s.reference_rejected, s.findings.len()), (1, 0));
        let s = arbitrate(s, || {
            diff_against::<arbiter::Wasmtime>(&core_vm, &broken, 11, true)
        });
        assert_eq!(s.findings.len(), 1, "{:?}", s.findings);
        assert!(s.findings[0]
            .starts_with("core-vm accepted a module wasmi and wasmtime 48 both reject"));
    }
}
