//! Differential fuzzing of the merger (crate `lower`) on wasm-smith modules
//! (feature `component-gen`): the `lower_diff` fuzz target and step (9) of
//! `fuzz-smoke`.
//!
//! A wasm-smith module (core-vm's feature set, no imports, every item
//! exported, `ensure_termination`) is wrapped into a component: one core
//! instance of it, and each exported function whose parameters and result
//! are numbers (at most [`MAX_FLAT_PARAMS`] parameters, at most one result)
//! lifted with the matching component type (`i32` as `s32`, `i64` as
//! `s64`, `f32`, `f64`) and exported as `e0`, `e1`, ... in export order.
//! That component is lowered against its stub library
//! (`lower::stub_library`: it imports nothing, so nothing of the library
//! runs) and the output is run on core-vm beside the module itself: both
//! are instantiated (the lowered one then runs `_initialize`), and each
//! lifted export is called on both, in order, with the same arguments
//! (interesting numbers: zero, ±1, extremes, NaNs with payloads, ±0.0,
//! random bits). The outcomes must be equal: the instantiation's (success,
//! or the trap's code), each call's results bit for bit (a lowered reactor
//! export *is* the component's core function, so no NaN may change), or
//! its trap's code; and at the end memory 0's size and bytes (a module
//! without memory is lowered with one added for the library: nothing to
//! compare there).
//!
//! What it exercises: the merger's renumbering of every index space
//! (types, functions, tables, memories, globals, element and data
//! segments, with passive and declared segments, `ref.func`, bulk
//! operations, multi-memory, extended-const globals), the order of start
//! functions and active segments, `_initialize`, and the reactor's exports.
//!
//! Invariants:
//! * A refusal of `lower` naming a construct is fine (counted); an output
//!   that does not validate on core-vm, an internal error, a link error or
//!   any difference of outcome is a finding.
//! * A run that ran out of core-vm's fuel or stack on either side stops the
//!   comparison of that module (inconclusive: the lowered `_initialize`
//!   adds a frame and its own steps), after the outcomes so far agreed.

use crate::fuzz_harness::{smith_config, Stats, XorShift, FUEL};
use core_vm::{Config, Engine, Error, ExternType, Instance, Module, Store, TrapCode, Val, ValType};
use lower::LowerError;
use wasm_encoder::{
    CanonicalOption, ComponentBuilder, ComponentExportKind, ComponentValType, ExportKind,
    PrimitiveValType,
};

/// The Canonical ABI's `MAX_FLAT_PARAMS`: more parameters than this spill
/// to memory, which the scalar wrapper does not provide.
const MAX_FLAT_PARAMS: usize = 16;
/// Argument sets each lifted export is called with.
const ARG_SETS: usize = 3;
/// The wasm-smith module's own fuel counter (`ensure_termination`).
const SELF_FUEL: u32 = 5_000;

/// What one side did at one step.
#[derive(Debug, PartialEq)]
enum Outcome {
    Ok(Vec<Val>),
    Trap(TrapCode),
    /// Fuel or stack ran out: the comparison stops here.
    Exhausted,
    /// Not a guest trap (a type or link error): always a finding.
    Error(String),
}

fn outcome(r: Result<Vec<Val>, Error>) -> Outcome {
    match r {
        Ok(v) => Outcome::Ok(v),
        Err(Error::Trap(t))
            if matches!(t.code(), TrapCode::OutOfFuel | TrapCode::StackOverflow) =>
        {
            Outcome::Exhausted
        }
        Err(Error::Trap(t)) => Outcome::Trap(t.code()),
        Err(e) => Outcome::Error(e.to_string()),
    }
}

/// The engine both sides run on: fuzz_harness's caps, with room for
/// `lower`'s memory and table needs.
fn engine() -> Engine {
    Engine::new(Config {
        fuel_metering: true,
        max_memory_pages: 64,
        max_table_elements: crate::fuzz_harness::MAX_TABLE_ELEMENTS,
        ..Config::default()
    })
}

/// The fuzz target: `data` makes the module (see module docs); a refusal
/// of `lower` is pushed on `errors` (fine, not a finding).
pub fn diff_lowered(data: &[u8], errors: &mut Vec<String>) -> Stats {
    let mut stats = Stats::default();
    let mut u = arbitrary::Unstructured::new(data);
    let mut config = smith_config();
    config.max_imports = 0;
    config.min_imports = 0;
    // Modules without a memory are kept: lower adds one for the library.
    // (One with several that exports no function is refused: no memory is
    // known to be the library's.)
    let Ok(mut module) = wasm_smith::Module::new(config, &mut u) else {
        return stats;
    };
    if module.ensure_termination(SELF_FUEL).is_err() {
        return stats;
    }
    let wasm = module.to_bytes();
    let seed = u.arbitrary::<u64>().unwrap_or(0);
    stats.generated += 1;
    diff_module(&wasm, seed, &mut stats, errors);
    stats
}

/// One lifted export: its core name and core type.
struct Lifted {
    core_name: String,
    params: Vec<ValType>,
}

/// The component type of a core number type.
fn component_type(t: ValType) -> Option<PrimitiveValType> {
    Some(match t {
        ValType::I32 => PrimitiveValType::S32,
        ValType::I64 => PrimitiveValType::S64,
        ValType::F32 => PrimitiveValType::F32,
        ValType::F64 => PrimitiveValType::F64,
        _ => return None,
    })
}

/// Wraps `wasm` into a component lifting its scalar function exports (see
/// module docs); returns it and the lifted exports in order.
fn wrap(module: &Module, wasm: &[u8]) -> (Vec<u8>, Vec<Lifted>) {
    let mut b = ComponentBuilder::default();
    let m = b.core_module_raw(None, wasm);
    let inst = b.core_instantiate(None, m, []);
    // Memory 0, named by every lift (allowed on any lift): the library's
    // memory is then the one a canonical option names, as in components
    // whose functions pass strings or lists.
    let memory = memory0_export(module)
        .map(|name| b.core_alias_export(None, inst, &name, ExportKind::Memory));
    let mut lifted = Vec::new();
    for export in module.exports() {
        let ExternType::Func(ty) = &export.ty else {
            continue;
        };
        if ty.params().len() > MAX_FLAT_PARAMS || ty.results().len() > 1 {
            continue;
        }
        let Some(params) = ty
            .params()
            .iter()
            .map(|t| component_type(*t))
            .collect::<Option<Vec<_>>>()
        else {
            continue;
        };
        let result = match ty.results().first() {
            None => None,
            Some(t) => match component_type(*t) {
                Some(p) => Some(ComponentValType::Primitive(p)),
                None => continue,
            },
        };
        let core = b.core_alias_export(None, inst, export.name, ExportKind::Func);
        let (ty_index, mut enc) = b.type_function(None);
        let names: Vec<String> = (0..params.len()).map(|i| format!("p{i}")).collect();
        enc.params(
            names
                .iter()
                .zip(&params)
                .map(|(n, p)| (n.as_str(), ComponentValType::Primitive(*p))),
        );
        enc.result(result);
        let func = b.lift_func(None, core, ty_index, memory.map(CanonicalOption::Memory));
        let name = format!("e{}", lifted.len());
        b.export(name.as_str(), ComponentExportKind::Func, func, None);
        lifted.push(Lifted {
            core_name: export.name.to_string(),
            params: ty.params().to_vec(),
        });
    }
    (b.finish(), lifted)
}

/// An argument of type `t`: interesting values more often than random bits.
fn arbitrary_val(rng: &mut XorShift, t: ValType) -> Val {
    let pick = rng.below(8);
    match t {
        ValType::I32 => Val::I32(match pick {
            0 => 0,
            1 => 1,
            2 => -1,
            3 => i32::MIN,
            4 => i32::MAX,
            5 => rng.below(256) as i32,
            _ => rng.next_u64() as i32,
        }),
        ValType::I64 => Val::I64(match pick {
            0 => 0,
            1 => 1,
            2 => -1,
            3 => i64::MIN,
            4 => i64::MAX,
            5 => rng.below(256) as i64,
            _ => rng.next_u64() as i64,
        }),
        ValType::F32 => Val::F32(match pick {
            0 => 0,
            1 => 0x8000_0000,
            2 => 1.0f32.to_bits(),
            3 => 0x7fc0_0000,
            4 => 0xffa0_0001, // a NaN with a payload and the sign set
            5 => f32::INFINITY.to_bits(),
            _ => rng.next_u64() as u32,
        }),
        _ => Val::F64(match pick {
            0 => 0,
            1 => 0x8000_0000_0000_0000,
            2 => 1.0f64.to_bits(),
            3 => 0x7ff8_0000_0000_0000,
            4 => 0xfff4_0000_0000_0001,
            5 => f64::NEG_INFINITY.to_bits(),
            _ => rng.next_u64(),
        }),
    }
}

/// One side: a store and its instance (if instantiation succeeded).
struct Side {
    store: Store<()>,
    instance: Option<Instance>,
}

impl Side {
    /// Instantiates `module` (no imports); for the lowered side, then runs
    /// `_initialize` as the p1 reactor convention has it.
    fn new(engine: &Engine, module: &Module, initialize: bool) -> (Side, Outcome) {
        let mut store = Store::new(engine, ());
        store.set_fuel(FUEL);
        let instance = match Instance::new(&mut store, module, &[]) {
            Ok(i) => i,
            Err(e) => {
                let o = outcome(Err(e));
                return (
                    Side {
                        store,
                        instance: None,
                    },
                    o,
                );
            }
        };
        let mut side = Side {
            store,
            instance: Some(instance),
        };
        let o = if initialize {
            side.call("_initialize", &[])
        } else {
            Outcome::Ok(Vec::new())
        };
        if !matches!(o, Outcome::Ok(_)) {
            side.instance = None;
        }
        (side, o)
    }

    fn call(&mut self, name: &str, args: &[Val]) -> Outcome {
        let Some(instance) = self.instance else {
            return Outcome::Error("no instance".into());
        };
        let Some(f) = instance.get_func(&self.store, name) else {
            return Outcome::Error(format!("no exported function `{name}`"));
        };
        let ty = f.ty(&self.store);
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        self.store.set_fuel(FUEL);
        outcome(
            f.call(&mut self.store, args, &mut results)
                .map(|()| results),
        )
    }

    /// Memory 0's bytes, if the module has one exported under `name`.
    fn memory(&self, name: &str) -> Option<Vec<u8>> {
        let m = self.instance?.get_memory(&self.store, name)?;
        Some(m.data(&self.store).to_vec())
    }
}

/// The name of memory 0 among `module`'s exports, if exported.
fn memory0_export(module: &Module) -> Option<String> {
    // wasm-smith's `export_everything` names exports in index order within
    // each kind, so the first exported memory is memory 0.
    module.exports().find_map(|e| match e.ty {
        ExternType::Memory(_) => Some(e.name.to_string()),
        _ => None,
    })
}

/// Compares `wasm` with its wrapped and lowered form (see module docs).
pub fn diff_module(wasm: &[u8], seed: u64, stats: &mut Stats, errors: &mut Vec<String>) {
    let engine = engine();
    let Ok(module) = Module::new(&engine, wasm) else {
        return; // the `exec` step reports a rejected wasm-smith module
    };
    let (component, lifted) = wrap(&module, wasm);
    let lowered = lower::stub_library(&component).and_then(|lib| lower::lower(&component, &lib));
    let lowered = match lowered {
        Ok(l) => l,
        Err(e @ (LowerError::InvalidOutput { .. } | LowerError::Encode { .. })) => {
            stats.findings.push(format!("lower_diff: {e}"));
            return;
        }
        Err(e) => {
            errors.push(format!("lower_diff refused: {e}"));
            stats.lower_refused += 1;
            return;
        }
    };
    stats.lowered += 1;
    let lowered_module = match Module::new(&engine, &lowered.bytes) {
        Ok(m) => m,
        Err(e) => {
            stats.findings.push(format!(
                "lower_diff: core-vm rejects the lowered module: {e}"
            ));
            return;
        }
    };
    if let Some(imp) = lowered_module.imports().next() {
        stats.findings.push(format!(
            "lower_diff: the lowered module of a component without imports imports {}::{}",
            imp.module, imp.name
        ));
        return;
    }
    let (mut reference, r0) = Side::new(&engine, &module, false);
    let (mut subject, s0) = Side::new(&engine, &lowered_module, true);
    if !compare(stats, "instantiation", &r0, &s0) {
        return;
    }
    if reference.instance.is_none() {
        return;
    }
    stats.instantiated += 1;
    let mut rng = XorShift::new(seed);
    for _ in 0..ARG_SETS {
        for (k, f) in lifted.iter().enumerate() {
            let args: Vec<Val> = f
                .params
                .iter()
                .map(|t| arbitrary_val(&mut rng, *t))
                .collect();
            let r = reference.call(&f.core_name, &args);
            let s = subject.call(&format!("e{k}"), &args);
            stats.calls += 1;
            match &r {
                Outcome::Ok(_) => stats.calls_ok += 1,
                Outcome::Trap(_) => stats.traps += 1,
                _ => {}
            }
            let what = format!("call of `{}` (e{k}) with {args:?}", f.core_name);
            if !compare(stats, &what, &r, &s) {
                return;
            }
        }
    }
    if let Some(name) = memory0_export(&module) {
        let r = reference.memory(&name);
        let s = subject.memory("memory");
        match (&r, &s) {
            (Some(r), Some(s)) if r.len() != s.len() => stats.findings.push(format!(
                "lower_diff: memory 0 is {} bytes, lowered {} bytes",
                r.len(),
                s.len()
            )),
            (Some(r), Some(s)) => {
                if let Some(at) = r.iter().zip(s).position(|(a, b)| a != b) {
                    stats.findings.push(format!(
                        "lower_diff: memory 0 differs at {at}: {} against lowered {}",
                        r[at], s[at]
                    ));
                }
            }
            (Some(_), None) => stats
                .findings
                .push("lower_diff: the lowered module exports no `memory`".into()),
            _ => {}
        }
    }
}

/// Records a finding unless `r` and `s` agree; false when the comparison
/// must stop (a difference, or an inconclusive step).
fn compare(stats: &mut Stats, what: &str, r: &Outcome, s: &Outcome) -> bool {
    match (r, s) {
        (Outcome::Exhausted, _) | (_, Outcome::Exhausted) => false,
        (Outcome::Error(e), _) => {
            stats
                .findings
                .push(format!("lower_diff: {what}: the module itself: {e}"));
            false
        }
        _ if r == s => true,
        _ => {
            stats
                .findings
                .push(format!("lower_diff: {what}: module {r:?}, lowered {s:?}"));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The comparison can fail: other results, or a trap against a value,
    /// are findings; equal traps are not; exhaustion stops without one.
    /// (A planted bug, `_initialize` not calling the start functions, gave
    /// findings in the first iterations of `fuzz-smoke --components-only`.)
    #[test]
    fn a_difference_is_a_finding() {
        let mut stats = Stats::default();
        let r = Outcome::Ok(vec![Val::I32(1)]);
        let s = Outcome::Ok(vec![Val::I32(0)]);
        assert!(!compare(&mut stats, "call", &r, &s));
        assert_eq!(stats.findings.len(), 1);
        let t = Outcome::Trap(TrapCode::Unreachable);
        assert!(!compare(&mut stats, "call", &r, &t));
        assert_eq!(stats.findings.len(), 2);
        assert!(compare(
            &mut stats,
            "call",
            &t,
            &Outcome::Trap(TrapCode::Unreachable)
        ));
        // Exhaustion stops the comparison without a finding.
        assert!(!compare(&mut stats, "call", &r, &Outcome::Exhausted));
        assert_eq!(stats.findings.len(), 2);
    }

    /// A hand-written module with a start function, segments, a table, a
    /// global and memory, lowered, agrees with itself.
    #[test]
    fn a_module_with_start_and_segments_agrees() {
        let wasm = wat::parse_str(
            r#"(module
                (memory (export "m") 1)
                (table (export "t") 2 funcref)
                (global $g (mut i32) (i32.const 5))
                (func $start (global.set $g (i32.add (global.get $g) (i32.load (i32.const 8)))))
                (func (export "get") (result i32) (global.get $g))
                (func $two (result i32) (i32.const 2))
                (func (export "ind") (param i32) (result i32) (call_indirect (result i32) (local.get 0)))
                (func (export "f") (param f32) (result f32) (f32.neg (local.get 0)))
                (elem (i32.const 1) $two)
                (data (i32.const 8) "\07\00\00\00")
                (start $start))"#,
        )
        .unwrap();
        let mut stats = Stats::default();
        diff_module(&wasm, 1, &mut stats, &mut Vec::new());
        assert!(stats.findings.is_empty(), "{:?}", stats.findings);
        assert_eq!(stats.lowered, 1, "the module must lower");
        assert_eq!(stats.calls, 9);
    }
}
