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
//! * in 3 of 4 bodies (when the module imports functions), before the
//!   results, 1 to 3 calls of drawn imports, each argument the body's own
//!   parameter of that position and type (a string or list received is
//!   passed on as the same `ptr, len`), another parameter of its type, a
//!   pointer into the scratch area for the last `i32` (a retptr, whose
//!   results the body's results may then read), the handle an earlier
//!   import returned (1 in 8 `i32`s) or a drawn value; each result is
//!   stored into the area or dropped, an `i32` one kept in 1 of 2 as the
//!   body's last handle; a resource's function (`[constructor]`,
//!   `[method]`, `[static]`) is drawn in 1 of 2 calls if there are any;
//! * then in 1 of 2 bodies of a module with `resource.drop` intrinsics, 1
//!   or 2 drops of a drawn resource type's handle (an `i32` parameter, which
//!   may be a handle the export received, the last handle an import
//!   returned, or a small number), maybe dropped again or given to
//!   `resource.rep` (a handle used after its drop), maybe followed by more
//!   import calls (which may be given the handle just dropped);
//! * in 1 of 2 bodies of a module whose world exports a resource (7 of 8
//!   constructors), a `resource.new` of a drawn rep (of the constructor's
//!   resource, else mostly of one of the export's interface) whose handle
//!   is stored into the area, then maybe `resource.rep` of it (stored too)
//!   and maybe `resource.drop` (running the destructor); a live handle is
//!   then the first `i32` result in 1 of 2 bodies (7 of 8 constructors),
//!   so `own` results are valid handles;
//! * `cabi_realloc` is a bump allocator over the memory (traps when full),
//!   so string and list arguments are lowered for real; most bodies reset
//!   it before returning, so calls do not fill the memory;
//! * post-return functions, resource destructors and the initializer do
//!   nothing (both manglings: `cabi_*`, `cm32p2*`);
//! * a memory of 0 pages gets 1 page.
//!
//! The WIT comes from the input bytes (up to 4 packages drawn until one
//! has a world exporting functions, and the world drawn mostly among
//! those: `generate_with`'s `prefer_callable`); the bodies and arguments
//! draw from a stream seeded by them ([`diff_generated`]). Every value
//! handed to the guest (arguments, host import results) holds only
//! canonical NaNs ([`canonical_nans`]: the Canonical ABI lets a lowered
//! NaN be any NaN, and the two engines differ there).
//!
//! Both engines instantiate it with the same host implementation of every
//! imported function (at the root or one interface deep), handles in its
//! type or not: it logs its name and arguments (as [`show_all`] prints
//! them, a handle as its rep) and returns a result of its type drawn from a
//! stream seeded by that line, or traps for one line hash in 16
//! ([`host_results`]). Every imported resource type is the host's on both
//! (component-model's `resource_dtor`, wasmtime's
//! `ResourceType::host_dynamic(k)`, also under every name it is `use`d by:
//! [`wasmtime_resources`]), its reps made by the host: an `own` result of
//! an import is a drawn rep (lowered into a new handle of the guest's
//! table), a borrowed or owned argument reaches the host as its rep
//! (wasmtime's through `ResourceDynamic`), and the destructor, run when the
//! guest drops its last `own` handle, logs the rep into the same log. The
//! other imports trap (component-model's `stub_missing`, wasmtime's
//! `define_unknown_imports_as_traps`). The guest's own resource types
//! never appear in an import's type (imports are typed before the
//! component defines them), so only handles of imported resources pass to
//! the host.
//!
//! Each exported function is called in export order (those taking handles
//! last), [`ARG_SETS`] times, each time with the same arguments on both
//! (built from its type, [`arg_pair`]), handles wherever the type holds
//! them, inside records, tuples, variants, options, results and lists too:
//! an imported resource's `own` or `borrow` is a fresh drawn rep (a
//! `borrow` one must be dropped by the body before it returns, or the call
//! traps on both); a guest resource's is one the host keeps, each used at
//! most once per call (an `own` one is then the guest's), and a call
//! wanting one when none of its type is kept is not made. Results: an
//! imported resource's handle is compared by rep; a guest resource's
//! (made by a body's `resource.new` and read from the area), wherever it
//! sits in the result, is shown as `(own)` and kept by the host on both
//! sides (component-model's rep, wasmtime's `ResourceAny`) when the two
//! results are equal. Handle indices the guest sees (made by `resource.new`,
//! by lowering an import's `own` result or a `borrow` argument) reach the
//! results when a body returns them as numbers: both engines number the
//! table as the Canonical ABI's `Table` does (a free list, most recently
//! freed first, index 0 never used; wasmtime 48's `HandleTable` in
//! `runtime/vm/component/handle_table.rs`, one per component instance),
//! so they are compared as values. After each call the two logs (which
//! imports, with which arguments, and which host destructors, with which
//! reps, in order) must be equal, and the outcomes are compared:
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
//! the `fuzz` profile on 2 cores, which is why it is a step of its own
//! (`make fuzz-component-diff`, the last of `make test`).
//!
//! `COMPONENT_DIFF_SAVE=F` writes each generated component to `F` (with
//! `--start I --iterations 1`, the one of a finding, for `wasm-tools`).

use crate::component_gen::{arbitrary_val, exported_func, generate_with};
use crate::fuzz_harness::{engine, XorShift};
use arbitrary::Unstructured;
use canonical_abi::{FuncType, ResourceTypeId, Val, ValueType};
use component_model::{Component, Linker};
use core_vm::Store;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use wasm_encoder::{
    CodeSection, Function, Instruction, MemArg, MemorySection, MemoryType, RawSection,
};
use wasmparser::{ExternalKind, Parser, Payload, TypeRef, ValType};
use wasmtime::component as wt;
use wasmtime::AsContextMut as _;

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
    /// Calls not made: a handle of a guest resource type wanted and none held.
    pub skipped: u64,
    /// Distinct exported functions called (each [`ARG_SETS`] times).
    pub exports_called: u64,
    /// Imported functions the host implemented (the others trap).
    pub imports_defined: u64,
    /// Calls of those by the guest, each logged with its arguments on both
    /// sides and the logs compared after every export call.
    pub import_calls: u64,
    /// Export bodies given a `resource.new` (then maybe `.rep`, `.drop`)
    /// sequence, whether or not that export was then called.
    pub resource_sequences: u64,
    /// Calls whose arguments or results held a handle (see
    /// [`DiffStats::skipped`] for the calls not made).
    pub handle_calls: u64,
    /// Of those, calls with a handle inside another type (a record, tuple,
    /// variant, option, result or list).
    pub nested_handle_calls: u64,
    /// Imported resource types, defined on both sides (a destructor that
    /// logs its rep).
    pub host_resources: u64,
    /// Of the imports implemented, those with handles in their type.
    pub handle_imports: u64,
    /// Of the import calls, those of the imports with handles.
    pub handle_import_calls: u64,
    /// Host destructor runs (a guest dropping its last `own` handle of an
    /// imported resource), logged with the rep and compared in order.
    pub dtor_calls: u64,
    /// `resource.drop` calls placed in export bodies on a drawn `i32` (a
    /// parameter, an import's result, a small number), maybe then dropped
    /// again or passed on.
    pub handle_drops: u64,
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
        self.exports_called += o.exports_called;
        self.imports_defined += o.imports_defined;
        self.import_calls += o.import_calls;
        self.resource_sequences += o.resource_sequences;
        self.handle_calls += o.handle_calls;
        self.nested_handle_calls += o.nested_handle_calls;
        self.host_resources += o.host_resources;
        self.handle_imports += o.handle_imports;
        self.handle_import_calls += o.handle_import_calls;
        self.dtor_calls += o.dtor_calls;
        self.handle_drops += o.handle_drops;
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
    let (mut sequences, mut drops) = (0, 0);
    let Some(bytes) = generate_with(&mut u, true, |module, _| {
        rewrite(module, &mut d, &mut sequences, &mut drops)
    }) else {
        return DiffStats::default();
    };
    if let Some(path) = std::env::var_os("COMPONENT_DIFF_SAVE") {
        // Reproducing a finding: the component itself, for wasm-tools.
        if let Err(e) = std::fs::write(&path, &bytes) {
            eprintln!("COMPONENT_DIFF_SAVE: {e}");
        }
    }
    let mut stats = diff_component(&bytes, &mut d);
    stats.resource_sequences = sequences;
    stats.handle_drops = drops;
    stats
}

/// The component's imported (host-implemented) resource types, by runtime
/// id: each one's index `k` (wasmtime's `ResourceType::host_dynamic(k)`, a
/// `ResourceDynamic` of type `k`) and its label `interface#name` (as the
/// destructor log shows it). A resource type not here is a guest's.
type HostResources = HashMap<ResourceTypeId, (u32, String)>;

/// A handle the host holds, the same on both sides: an `own` result of an
/// earlier call of the guest's own resource type (its type, the rep
/// component-model lifted, wasmtime's resource), passed back as `own`
/// (then gone) or `borrow`.
type Held = (ResourceTypeId, u32, wt::ResourceAny);

/// Runs `bytes` on both engines, arguments drawn from `u`.
pub fn diff_component(bytes: &[u8], u: &mut Unstructured<'_>) -> DiffStats {
    let mut stats = DiffStats {
        components: 1,
        ..DiffStats::default()
    };
    let engine = engine();
    let mut store = Store::new(&engine, ());
    store.set_fuel(FUEL);
    let our_log: Rc<RefCell<Vec<String>>> = Rc::default();
    let handle_import_calls: Rc<std::cell::Cell<u64>> = Rc::default();
    let wt_log: Arc<Mutex<Vec<String>>> = Arc::default();
    // The imports the host implements: functions one interface deep
    // (`iface#f`) or at the root, handles in their types or not; the
    // others trap. The imported resource types, each defined on both with a
    // destructor that logs its rep.
    let component = Component::new(&engine, bytes).map_err(|e| e.to_string());
    let (imports, host_res): (Vec<(String, FuncType)>, HostResources) = match &component {
        Ok(c) => (
            c.imported_function_types()
                .into_iter()
                .filter(|(name, _)| name.matches('#').count() <= 1)
                .collect(),
            c.imported_resources()
                .into_iter()
                .enumerate()
                .map(|(k, (rt, iface, name))| (rt, (k as u32, format!("{iface}#{name}"))))
                .collect(),
        ),
        Err(_) => (Vec::new(), HashMap::new()),
    };
    let host_res = Arc::new(host_res);
    stats.imports_defined = imports.len() as u64;
    stats.host_resources = host_res.len() as u64;
    stats.handle_imports = imports
        .iter()
        .filter(|(_, ty)| {
            ty.param_types()
                .into_iter()
                .chain(ty.result_types())
                .any(has_handle)
        })
        .count() as u64;

    let wt_engine = wasmtime_engine();
    let wt_result = wt::Component::new(&wt_engine, bytes).and_then(|c| {
        let mut store = wasmtime::Store::new(&wt_engine, ());
        let mut linker = wt::Linker::<()>::new(&wt_engine);
        for (iface, name, k, label) in wasmtime_resources(&wt_engine, &c, &host_res) {
            let log = wt_log.clone();
            let dtor = move |_: wasmtime::StoreContextMut<'_, ()>, rep: u32| {
                log.lock().unwrap().push(format!("drop {label}({rep})"));
                Ok(())
            };
            let ty = wt::ResourceType::host_dynamic(k);
            match iface.as_str() {
                "" => linker.root().resource(&name, ty, dtor)?,
                i => linker.instance(i)?.resource(&name, ty, dtor)?,
            }
        }
        for (full, ty) in &imports {
            let (name, ty, log) = (full.clone(), ty.clone(), wt_log.clone());
            let res = host_res.clone();
            let f = move |mut cx: wasmtime::StoreContextMut<'_, ()>,
                          _: wt::types::ComponentFunc,
                          params: &[wt::Val],
                          results: &mut [wt::Val]|
                  -> wasmtime::Result<()> {
                let args: Vec<Val> = params
                    .iter()
                    .zip(ty.param_types())
                    .map(|(p, t)| wt_to_ours(p, t, &res, &mut cx))
                    .collect::<wasmtime::Result<_>>()?;
                let shown = format!("{name}{}", show_all(&args));
                log.lock().unwrap().push(shown.clone());
                let vals = host_results(&shown, &ty)
                    .ok_or_else(|| wasmtime::format_err!("{name}: the host import trapped"))?;
                for ((slot, v), t) in results.iter_mut().zip(&vals).zip(ty.result_types()) {
                    *slot = ours_to_wt(v, t, &res, &mut cx)?;
                }
                Ok(())
            };
            match full.split_once('#') {
                Some((iface, func)) => linker.instance(iface)?.func_new(func, f)?,
                None => linker.root().func_new(full, f)?,
            }
        }
        linker.define_unknown_imports_as_traps(&c)?;
        let inst = linker.instantiate(&mut store, &c)?;
        Ok((store, inst))
    });

    let ours = component.and_then(|c| {
        let mut linker: Linker<()> = Linker::new();
        linker.stub_missing(true);
        for (_, label) in host_res.values() {
            let (iface, name) = label.split_once('#').unwrap_or(("", label));
            let (label, log) = (label.clone(), our_log.clone());
            linker.resource_dtor(iface, name, move |_, rep| {
                log.borrow_mut().push(format!("drop {label}({rep})"));
                Ok(())
            });
        }
        for (name, ty) in &imports {
            let (full, ty, log) = (name.clone(), ty.clone(), our_log.clone());
            let with_handles = ty
                .param_types()
                .into_iter()
                .chain(ty.result_types())
                .any(has_handle)
                .then(|| handle_import_calls.clone());
            let f = move |cx: &mut component_model::HostContext<'_, ()>, args: &[Val]| {
                if let Some(n) = &with_handles {
                    n.set(n.get() + 1);
                }
                let shown = format!("{full}{}", show_all(args));
                log.borrow_mut().push(shown.clone());
                host_results(&shown, &ty).ok_or_else(|| cx.trap("the host import trapped"))
            };
            match name.split_once('#') {
                Some((iface, func)) => linker.func(iface, func, f),
                None => linker.root_func(name, f),
            };
        }
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
    let mut pool: Vec<Held> = Vec::new();
    // Exports in order, those taking a handle last (so the `own` results
    // of the others, constructors among them, can be passed to them).
    let mut names = instance.exported_functions();
    names.sort_by_key(|name| {
        exported_func(&instance, name)
            .is_some_and(|f| f.ty().param_types().into_iter().any(has_handle))
    });
    'exports: for name in names {
        let Some(func) = exported_func(&instance, &name) else {
            stats
                .findings
                .push(format!("{name}: listed but not found in component-model"));
            continue;
        };
        let ty = func.ty().clone();
        let Some(wt_func) = wasmtime_func(&mut wt_store, &wt_inst, &name) else {
            stats.findings.push(format!(
                "{name}: exported by component-model, not found in wasmtime"
            ));
            continue;
        };
        let handles_in_type = ty
            .param_types()
            .into_iter()
            .chain(ty.result_types())
            .any(has_handle);
        let nested = ty
            .param_types()
            .into_iter()
            .chain(ty.result_types())
            .any(|t| !matches!(t, ValueType::Own(_) | ValueType::Borrow(_)) && has_handle(t));
        let mut called = false;
        for _ in 0..ARG_SETS {
            let mut cx = ArgCx {
                res: &host_res,
                pool: &pool,
                used: Vec::new(),
                missing: false,
            };
            let mut args = Vec::new();
            let mut wt_args = Vec::new();
            for t in ty.param_types() {
                let Some((v, w)) = arg_pair(u, t, &mut cx, &mut wt_store.as_context_mut()) else {
                    break 'exports; // out of bytes
                };
                args.push(v);
                wt_args.push(w);
            }
            if cx.missing {
                // No handle of that type held yet (or a value with no
                // wasmtime form): the call is not made.
                stats.skipped += 1;
                continue;
            }
            // An `own` handle passed on is the guest's from now on.
            let mut gone: Vec<usize> = cx.used.iter().filter(|u| u.1).map(|u| u.0).collect();
            gone.sort_unstable_by(|a, b| b.cmp(a));
            for i in gone {
                pool.remove(i);
            }
            stats.calls += 1;
            if !called {
                called = true;
                stats.exports_called += 1;
            }
            if handles_in_type {
                stats.handle_calls += 1;
            }
            if nested {
                stats.nested_handle_calls += 1;
            }

            store.set_fuel(FUEL);
            let results_ty = ty.result_types();
            let mut our_held = Vec::new();
            let ours = match func.call(&mut store, &args) {
                Ok(vals) => {
                    let shown: Vec<Val> = vals
                        .iter()
                        .zip(&results_ty)
                        .map(|(v, t)| ours_shown(v, t, &host_res, &mut our_held))
                        .collect();
                    Outcome::Values(show_all(&shown))
                }
                Err(e) if e.is_trap() => Outcome::Trap(e.to_string()),
                Err(e) => Outcome::Error(e.to_string()),
            };
            let mut results = vec![wt::Val::Bool(false); results_ty.len()];
            let mut wt_held = Vec::new();
            let theirs = match wt_func.call(&mut wt_store, &wt_args, &mut results) {
                // wasmtime 48 runs post-return within `call`.
                Ok(()) => {
                    let mut cx = wt_store.as_context_mut();
                    match results
                        .iter()
                        .zip(&results_ty)
                        .map(|(v, t)| wt_shown(v, t, &host_res, &mut cx, &mut wt_held))
                        .collect::<Option<Vec<_>>>()
                    {
                        Some(v) => Outcome::Values(show_all(&v)),
                        None => {
                            Outcome::Error("a result wasmtime lifted that has no Val here".into())
                        }
                    }
                }
                Err(e) => classify(&e),
            };
            if matches!((&ours, &theirs), (Outcome::Values(a), Outcome::Values(b)) if a == b)
                && our_held.len() == wt_held.len()
            {
                for ((rt, rep), any) in our_held.into_iter().zip(wt_held) {
                    pool.push((rt, rep, any));
                }
            }
            // The imports the call made, with their arguments, and the host
            // destructors it ran, with their reps, in order.
            let ours_log = std::mem::take(&mut *our_log.borrow_mut());
            let theirs_log = std::mem::take(&mut *wt_log.lock().unwrap());
            for line in &ours_log {
                if line.starts_with("drop ") {
                    stats.dtor_calls += 1;
                } else {
                    stats.import_calls += 1;
                }
            }
            if ours_log != theirs_log {
                stats.findings.push(format!(
                    "{name}{}: import calls differ: component-model {ours_log:?}, wasmtime {theirs_log:?}",
                    show_all(&args)
                ));
            }
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
    stats.handle_import_calls = handle_import_calls.get();
    stats
}

/// The resources wasmtime's linker must define for component `c`: each
/// imported resource (at the root or in an imported instance) as
/// `(instance, name, k, label)`, `k` and `label` those of the same resource
/// in `host_res` (component-model's), found by name, or for an alias
/// (`use`d into the root or another interface: an `eq` type import, which
/// component-model's list holds once) by wasmtime's type of it.
fn wasmtime_resources(
    engine: &wasmtime::Engine,
    c: &wt::Component,
    host_res: &HostResources,
) -> Vec<(String, String, u32, String)> {
    let by_label: HashMap<&str, u32> = host_res
        .values()
        .map(|(k, label)| (label.as_str(), *k))
        .collect();
    let ct = c.component_type();
    let mut found: Vec<(String, String, wt::ResourceType)> = Vec::new();
    for (name, item) in ct.imports(engine) {
        match item.ty {
            wt::types::ComponentItem::Resource(rt) => {
                found.push((String::new(), name.to_string(), rt))
            }
            wt::types::ComponentItem::ComponentInstance(inst) => {
                for (n, it) in inst.exports(engine) {
                    if let wt::types::ComponentItem::Resource(rt) = it.ty {
                        found.push((name.to_string(), n.to_string(), rt));
                    }
                }
            }
            _ => {}
        }
    }
    let mut known: Vec<(wt::ResourceType, u32, String)> = Vec::new();
    let mut out = Vec::new();
    for (iface, name, rt) in &found {
        let label = format!("{iface}#{name}");
        if let Some(&k) = by_label.get(label.as_str()) {
            known.push((*rt, k, label.clone()));
            out.push((iface.clone(), name.clone(), k, label));
        }
    }
    for (iface, name, rt) in found {
        if by_label.contains_key(format!("{iface}#{name}").as_str()) {
            continue;
        }
        if let Some((_, k, label)) = known.iter().find(|(t, _, _)| *t == rt) {
            out.push((iface, name, *k, label.clone()));
        }
    }
    out
}

/// What [`arg_pair`] draws handles from.
struct ArgCx<'a> {
    res: &'a HostResources,
    pool: &'a [Held],
    /// Pool entries the call uses (each at most once), and whether it
    /// passes them on as `own`.
    used: Vec<(usize, bool)>,
    /// A handle of a guest resource type was wanted and none is held (or a
    /// value has no wasmtime form): the call is not made.
    missing: bool,
}

/// An argument of type `t` on both sides (`None`: out of bytes), handles
/// wherever `t` holds them: an imported resource's a fresh rep drawn from
/// `u` (component-model's `Val::Resource(rep)`, wasmtime's
/// `ResourceDynamic` of that rep, own or borrow as the type says), a guest
/// resource's a held one not used yet by the call.
fn arg_pair(
    u: &mut Unstructured<'_>,
    t: &ValueType,
    cx: &mut ArgCx<'_>,
    store: &mut wasmtime::StoreContextMut<'_, ()>,
) -> Option<(Val, wt::Val)> {
    if !has_handle(t) {
        let v = arbitrary_val(u, t).ok().map(canonical_nans)?;
        let Some(w) = to_wasmtime(&v) else {
            cx.missing = true;
            return Some((v, wt::Val::Bool(false)));
        };
        return Some((v, w));
    }
    Some(match t {
        ValueType::Own(rt) | ValueType::Borrow(rt) => {
            let own = matches!(t, ValueType::Own(_));
            if let Some((k, _)) = cx.res.get(rt) {
                let rep: u32 = u.arbitrary().ok()?;
                let d = if own {
                    wasmtime::component::ResourceDynamic::new_own(rep, *k)
                } else {
                    wasmtime::component::ResourceDynamic::new_borrow(rep, *k)
                };
                match d.try_into_resource_any(&mut *store) {
                    Ok(any) => (Val::Resource(rep), wt::Val::Resource(any)),
                    Err(_) => {
                        cx.missing = true;
                        (Val::Resource(rep), wt::Val::Bool(false))
                    }
                }
            } else {
                let Some(i) = (0..cx.pool.len())
                    .find(|&i| cx.pool[i].0 == *rt && !cx.used.iter().any(|&(j, _)| j == i))
                else {
                    cx.missing = true;
                    return Some((Val::Resource(0), wt::Val::Bool(false)));
                };
                cx.used.push((i, own));
                (Val::Resource(cx.pool[i].1), wt::Val::Resource(cx.pool[i].2))
            }
        }
        ValueType::List(e) => {
            let n = u.int_in_range(0..=2).ok()?;
            let (a, b) = (0..n)
                .map(|_| arg_pair(u, e, cx, store))
                .collect::<Option<Vec<_>>>()?
                .into_iter()
                .unzip();
            (Val::List(a), wt::Val::List(b))
        }
        ValueType::Record(fields) => {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for (n, t) in fields {
                let (x, y) = arg_pair(u, t, cx, store)?;
                a.push((n.clone(), x));
                b.push((n.clone(), y));
            }
            (Val::Record(a), wt::Val::Record(b))
        }
        ValueType::Tuple(ts) => {
            let (a, b) = ts
                .iter()
                .map(|t| arg_pair(u, t, cx, store))
                .collect::<Option<Vec<_>>>()?
                .into_iter()
                .unzip();
            (Val::Tuple(a), wt::Val::Tuple(b))
        }
        ValueType::Variant(cases) => {
            let (name, payload) = u.choose(cases).ok()?;
            let (a, b) = match payload {
                Some(t) => {
                    let (x, y) = arg_pair(u, t, cx, store)?;
                    (Some(Box::new(x)), Some(Box::new(y)))
                }
                None => (None, None),
            };
            (
                Val::Variant(name.clone(), a),
                wt::Val::Variant(name.clone(), b),
            )
        }
        ValueType::Option(t) => {
            if u.arbitrary().ok()? {
                let (x, y) = arg_pair(u, t, cx, store)?;
                (
                    Val::Option(Some(Box::new(x))),
                    wt::Val::Option(Some(Box::new(y))),
                )
            } else {
                (Val::Option(None), wt::Val::Option(None))
            }
        }
        ValueType::Result { ok, err } => {
            let is_ok: bool = u.arbitrary().ok()?;
            let side = if is_ok { ok } else { err };
            let (a, b) = match side {
                Some(t) => {
                    let (x, y) = arg_pair(u, t, cx, store)?;
                    (Some(Box::new(x)), Some(Box::new(y)))
                }
                None => (None, None),
            };
            if is_ok {
                (Val::Result(Ok(a)), wt::Val::Result(Ok(b)))
            } else {
                (Val::Result(Err(a)), wt::Val::Result(Err(b)))
            }
        }
        // `has_handle` is false for every other type.
        _ => return None,
    })
}

/// A lifted result of component-model as compared: an imported resource's
/// handle as its rep (`Val::Resource`), a guest resource's as `(own)`
/// (its type and rep pushed to `held`, for the pool).
fn ours_shown(
    v: &Val,
    t: &ValueType,
    res: &HostResources,
    held: &mut Vec<(ResourceTypeId, u32)>,
) -> Val {
    map_handles(v, t, &mut |v, t| match (v, t) {
        (Val::Resource(rep), ValueType::Own(rt) | ValueType::Borrow(rt)) => {
            if res.contains_key(rt) {
                Some(Val::Resource(*rep))
            } else {
                held.push((*rt, *rep));
                Some(Val::Enum("(own)".into()))
            }
        }
        _ => None,
    })
    .unwrap_or_else(|| Val::Enum("(not of its type)".into()))
}

/// [`ours_shown`] for wasmtime's result (`None` for a value with no `Val`
/// form here): an imported resource's handle through `ResourceDynamic`.
fn wt_shown(
    v: &wt::Val,
    t: &ValueType,
    res: &HostResources,
    store: &mut wasmtime::StoreContextMut<'_, ()>,
    held: &mut Vec<wt::ResourceAny>,
) -> Option<Val> {
    match (v, t) {
        (wt::Val::Resource(any), ValueType::Own(rt) | ValueType::Borrow(rt)) => {
            if res.contains_key(rt) {
                let d =
                    wasmtime::component::ResourceDynamic::try_from_resource_any(*any, &mut *store)
                        .ok()?;
                Some(Val::Resource(d.rep()))
            } else {
                held.push(*any);
                Some(Val::Enum("(own)".into()))
            }
        }
        (wt::Val::List(vs), ValueType::List(e)) => Some(Val::List(
            vs.iter()
                .map(|v| wt_shown(v, e, res, store, held))
                .collect::<Option<_>>()?,
        )),
        (wt::Val::Record(fs), ValueType::Record(ts)) if fs.len() == ts.len() => Some(Val::Record(
            fs.iter()
                .zip(ts)
                .map(|((n, v), (_, t))| Some((n.clone(), wt_shown(v, t, res, store, held)?)))
                .collect::<Option<_>>()?,
        )),
        (wt::Val::Tuple(vs), ValueType::Tuple(ts)) if vs.len() == ts.len() => Some(Val::Tuple(
            vs.iter()
                .zip(ts)
                .map(|(v, t)| wt_shown(v, t, res, store, held))
                .collect::<Option<_>>()?,
        )),
        (wt::Val::Variant(c, p), ValueType::Variant(cases)) => {
            let pt = cases.iter().find(|(n, _)| n == c)?.1.as_ref();
            Some(Val::Variant(
                c.clone(),
                match (p, pt) {
                    (Some(p), Some(t)) => Some(Box::new(wt_shown(p, t, res, store, held)?)),
                    (None, _) => None,
                    (Some(_), None) => return None,
                },
            ))
        }
        (wt::Val::Option(o), ValueType::Option(t)) => Some(Val::Option(match o {
            Some(v) => Some(Box::new(wt_shown(v, t, res, store, held)?)),
            None => None,
        })),
        (wt::Val::Result(r), ValueType::Result { ok, err }) => {
            let (p, pt) = match r {
                Ok(p) => (p, ok),
                Err(p) => (p, err),
            };
            let inner = match (p, pt) {
                (Some(p), Some(t)) => Some(Box::new(wt_shown(p, t, res, store, held)?)),
                (None, _) => None,
                (Some(_), None) => return None,
            };
            Some(Val::Result(if r.is_ok() { Ok(inner) } else { Err(inner) }))
        }
        (v, _) => from_wasmtime(v),
    }
}

/// `v` (of type `t`) rebuilt with `leaf` applied where it gives a value
/// (handles), `None` where `v` is not of type `t`.
fn map_handles(
    v: &Val,
    t: &ValueType,
    leaf: &mut dyn FnMut(&Val, &ValueType) -> Option<Val>,
) -> Option<Val> {
    if let Some(x) = leaf(v, t) {
        return Some(x);
    }
    let boxed = |p: &Option<Box<Val>>,
                 pt: Option<&ValueType>,
                 leaf: &mut dyn FnMut(&Val, &ValueType) -> Option<Val>|
     -> Option<Option<Box<Val>>> {
        match (p, pt) {
            (Some(p), Some(t)) => Some(Some(Box::new(map_handles(p, t, leaf)?))),
            (None, _) => Some(None),
            (Some(_), None) => None,
        }
    };
    Some(match (v, t) {
        (Val::List(vs), ValueType::List(e)) => Val::List(
            vs.iter()
                .map(|v| map_handles(v, e, leaf))
                .collect::<Option<_>>()?,
        ),
        (Val::Record(fs), ValueType::Record(ts)) if fs.len() == ts.len() => Val::Record(
            fs.iter()
                .zip(ts)
                .map(|((n, v), (_, t))| Some((n.clone(), map_handles(v, t, leaf)?)))
                .collect::<Option<_>>()?,
        ),
        (Val::Tuple(vs), ValueType::Tuple(ts)) if vs.len() == ts.len() => Val::Tuple(
            vs.iter()
                .zip(ts)
                .map(|(v, t)| map_handles(v, t, leaf))
                .collect::<Option<_>>()?,
        ),
        (Val::Variant(c, p), ValueType::Variant(cases)) => {
            let pt = cases.iter().find(|(n, _)| n == c)?.1.as_ref();
            Val::Variant(c.clone(), boxed(p, pt, leaf)?)
        }
        (Val::Option(o), ValueType::Option(t)) => Val::Option(boxed(o, Some(t), leaf)?),
        (Val::Result(Ok(p)), ValueType::Result { ok, .. }) => {
            Val::Result(Ok(boxed(p, ok.as_deref(), leaf)?))
        }
        (Val::Result(Err(p)), ValueType::Result { err, .. }) => {
            Val::Result(Err(boxed(p, err.as_deref(), leaf)?))
        }
        (v, _) => v.clone(),
    })
}

/// A host import's argument from wasmtime, as component-model passes it:
/// an imported resource's handle (own or borrow) as its rep.
fn wt_to_ours(
    v: &wt::Val,
    t: &ValueType,
    res: &HostResources,
    store: &mut wasmtime::StoreContextMut<'_, ()>,
) -> wasmtime::Result<Val> {
    let mut held = Vec::new();
    let shown = wt_shown(v, t, res, store, &mut held)
        .ok_or_else(|| wasmtime::format_err!("an argument with no Val form here"))?;
    if !held.is_empty() {
        // Imports are typed before the component defines its resources, so
        // no import takes a handle of the guest's own resource type.
        return Err(wasmtime::format_err!("a guest resource passed to the host"));
    }
    Ok(shown)
}

/// A host import's result for wasmtime: an imported resource's rep made
/// into a `ResourceDynamic` of its type (own, as results are).
fn ours_to_wt(
    v: &Val,
    t: &ValueType,
    res: &HostResources,
    store: &mut wasmtime::StoreContextMut<'_, ()>,
) -> wasmtime::Result<wt::Val> {
    let boxed = |p: &Option<Box<Val>>,
                 pt: Option<&ValueType>,
                 store: &mut wasmtime::StoreContextMut<'_, ()>|
     -> wasmtime::Result<Option<Box<wt::Val>>> {
        match (p, pt) {
            (Some(p), Some(t)) => Ok(Some(Box::new(ours_to_wt(p, t, res, store)?))),
            _ => Ok(None),
        }
    };
    Ok(match (v, t) {
        (Val::Resource(rep), ValueType::Own(rt) | ValueType::Borrow(rt)) => {
            let (k, _) = res
                .get(rt)
                .ok_or_else(|| wasmtime::format_err!("a guest resource made by the host"))?;
            let d = if matches!(t, ValueType::Own(_)) {
                wasmtime::component::ResourceDynamic::new_own(*rep, *k)
            } else {
                wasmtime::component::ResourceDynamic::new_borrow(*rep, *k)
            };
            wt::Val::Resource(d.try_into_resource_any(&mut *store)?)
        }
        (Val::List(vs), ValueType::List(e)) => wt::Val::List(
            vs.iter()
                .map(|v| ours_to_wt(v, e, res, store))
                .collect::<wasmtime::Result<_>>()?,
        ),
        (Val::Record(fs), ValueType::Record(ts)) => wt::Val::Record(
            fs.iter()
                .zip(ts)
                .map(|((n, v), (_, t))| Ok((n.clone(), ours_to_wt(v, t, res, store)?)))
                .collect::<wasmtime::Result<_>>()?,
        ),
        (Val::Tuple(vs), ValueType::Tuple(ts)) => wt::Val::Tuple(
            vs.iter()
                .zip(ts)
                .map(|(v, t)| ours_to_wt(v, t, res, store))
                .collect::<wasmtime::Result<_>>()?,
        ),
        (Val::Variant(c, p), ValueType::Variant(cases)) => {
            let pt = cases
                .iter()
                .find(|(n, _)| n == c)
                .and_then(|(_, t)| t.as_ref());
            wt::Val::Variant(c.clone(), boxed(p, pt, store)?)
        }
        (Val::Option(o), ValueType::Option(t)) => wt::Val::Option(boxed(o, Some(t), store)?),
        (Val::Result(Ok(p)), ValueType::Result { ok, .. }) => {
            wt::Val::Result(Ok(boxed(p, ok.as_deref(), store)?))
        }
        (Val::Result(Err(p)), ValueType::Result { err, .. }) => {
            wt::Val::Result(Err(boxed(p, err.as_deref(), store)?))
        }
        (v, _) => to_wasmtime(v).ok_or_else(|| wasmtime::format_err!("a value with no form"))?,
    })
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

/// `v` with every NaN made the canonical one. The Canonical ABI lets a
/// lowered NaN take any NaN bit pattern (component-model lowers the
/// canonical NaN, wasmtime keeps the host's bits), so a value handed to the
/// guest (an argument, a host import's result) holds only canonical NaNs:
/// a guest that reads a NaN's bits then sees the same on both engines.
fn canonical_nans(v: Val) -> Val {
    let boxed = |b: Option<Box<Val>>| b.map(|b| Box::new(canonical_nans(*b)));
    match v {
        Val::Float32(f) if f.is_nan() => Val::Float32(f32::from_bits(0x7fc0_0000)),
        Val::Float64(f) if f.is_nan() => Val::Float64(f64::from_bits(0x7ff8_0000_0000_0000)),
        Val::List(l) => Val::List(l.into_iter().map(canonical_nans).collect()),
        Val::Tuple(l) => Val::Tuple(l.into_iter().map(canonical_nans).collect()),
        Val::Record(l) => Val::Record(l.into_iter().map(|(n, v)| (n, canonical_nans(v))).collect()),
        Val::Variant(n, p) => Val::Variant(n, boxed(p)),
        Val::Option(p) => Val::Option(boxed(p)),
        Val::Result(Ok(p)) => Val::Result(Ok(boxed(p))),
        Val::Result(Err(p)) => Val::Result(Err(boxed(p))),
        v => v,
    }
}

/// What an implemented import returns for the call `shown` (its name and
/// arguments as [`show_all`] prints them), the same on both engines: `None`
/// (a trap) for one hash in 16, else a result of its type drawn from a
/// stream seeded by the hash.
fn host_results(shown: &str, ty: &FuncType) -> Option<Vec<Val>> {
    let h = shown.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    if h % 16 == 0 {
        return None;
    }
    let draws = XorShift::new(h).bytes(1024);
    let mut u = Unstructured::new(&draws);
    ty.result_types()
        .into_iter()
        .map(|t| arbitrary_val(&mut u, t).ok().map(canonical_nans))
        .collect()
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

/// A core import of the dummy module the bodies may call: its function
/// index, parameters and results, and whether it is a resource's function
/// (`[constructor]`, `[method]` or `[static]` in its name).
type CoreImport = (u32, Vec<ValType>, Vec<ValType>, bool);

/// Pushes the `j`-th argument (of type `t`) of a call to an import made
/// from a body with parameters `params`: the body's `j`-th parameter when
/// it has that type (so a string or list the export received is passed on
/// as the same `ptr, len`), another parameter of the type, for the last
/// `i32` a pointer into the scratch area (where a retptr's results then
/// land and are read by the body's results), or a drawn value.
fn push_arg(
    f: &mut Function,
    t: ValType,
    j: usize,
    last: bool,
    params: &[ValType],
    has_memory: bool,
    u: &mut Unstructured<'_>,
) {
    use Instruction as I;
    if t == ValType::I32 && u.ratio(1, 8).unwrap_or(false) {
        // A handle an earlier import returned (or one a body dropped).
        f.instruction(&I::LocalGet(handle_local(params)));
        return;
    }
    let choice = u.int_in_range(0u8..=9).unwrap_or(0);
    if choice <= 4 && params.get(j) == Some(&t) {
        f.instruction(&I::LocalGet(j as u32));
        return;
    }
    let same: Vec<u32> = (0..params.len() as u32)
        .filter(|&i| params[i as usize] == t)
        .collect();
    if choice == 5 && !same.is_empty() {
        f.instruction(&I::LocalGet(*u.choose(&same).unwrap_or(&same[0])));
        return;
    }
    match t {
        ValType::I32 if last && has_memory && choice >= 6 => {
            let k = u.int_in_range(0..=(AREA_LEN / 8 - 1)).unwrap_or(0);
            f.instruction(&I::I32Const(AREA + 8 * k))
        }
        ValType::I32 => f.instruction(&I::I32Const(word(u))),
        ValType::I64 => f.instruction(&I::I64Const(i64::from(word(u)))),
        ValType::F32 => f.instruction(&I::F32Const(
            f32::from_bits(u.arbitrary().unwrap_or(0)).into(),
        )),
        ValType::F64 => f.instruction(&I::F64Const(
            f64::from_bits(u.arbitrary().unwrap_or(0)).into(),
        )),
        _ => f.instruction(&I::Unreachable),
    };
}

/// The index of the body's scratch local of flat type `t` (after the
/// parameters: one each of `i32`, `i64`, `f32`, `f64`).
fn scratch_local(params: &[ValType], t: ValType) -> u32 {
    params.len() as u32
        + match t {
            ValType::I32 => 0,
            ValType::I64 => 1,
            ValType::F32 => 2,
            _ => 3,
        }
}

/// The index of the body's local holding a handle an import returned (an
/// `i32` result, in 1 of 2 calls), 0 until then.
fn handle_local(params: &[ValType]) -> u32 {
    params.len() as u32 + 4
}

/// In 3 of 4 bodies (of a module with imports), 1 to 3 calls of drawn
/// imports (host functions, which both engines implement alike, or resource
/// intrinsics), arguments from [`push_arg`]; each result is stored into the
/// scratch area at a drawn offset (so the body's results may carry it) or
/// dropped.
fn call_imports(
    f: &mut Function,
    params: &[ValType],
    has_memory: bool,
    imports: &[CoreImport],
    u: &mut Unstructured<'_>,
) {
    use Instruction as I;
    if imports.is_empty() || !u.ratio(3, 4).unwrap_or(false) {
        return;
    }
    // Functions of resources (`[constructor]r`, `[method]r.f`,
    // `[static]r.f`), drawn in 1 of 2 calls if there are any.
    let methods: Vec<&CoreImport> = imports.iter().filter(|i| i.3).collect();
    for _ in 0..u.int_in_range(1..=3).unwrap_or(1) {
        let (index, ps, rs, _) = if !methods.is_empty() && u.ratio(1, 2).unwrap_or(false) {
            *u.choose(&methods).unwrap_or(&methods[0])
        } else {
            let Ok(i) = u.choose(imports) else {
                return;
            };
            i
        };
        for (j, &t) in ps.iter().enumerate() {
            push_arg(f, t, j, j + 1 == ps.len(), params, has_memory, u);
        }
        f.instruction(&I::Call(*index));
        for &r in rs.iter().rev() {
            if r == ValType::I32 && u.ratio(1, 2).unwrap_or(false) {
                f.instruction(&I::LocalTee(handle_local(params)));
            }
            match access(r) {
                Some((size, _, store)) if has_memory && u.ratio(3, 4).unwrap_or(false) => {
                    let tmp = scratch_local(params, r);
                    let off = size * u.int_in_range(0..=(AREA_LEN / size - 1)).unwrap_or(0);
                    f.instruction(&I::LocalSet(tmp));
                    f.instruction(&I::I32Const(AREA + off));
                    f.instruction(&I::LocalGet(tmp));
                    f.instruction(&store);
                }
                _ => {
                    f.instruction(&I::Drop);
                }
            }
        }
    }
}

/// The resource intrinsics a dummy module imports, per resource: its core
/// module and name, and the function indices of `resource.new`,
/// `resource.rep` (exported resources only) and `resource.drop`, from their
/// names in either mangling (`[resource-new]r` in module `[export]iface`,
/// or `r_new` in module `cm32p2|_ex_iface`; WIT names hold no `_`).
#[derive(Default, Debug, Clone)]
pub struct ResourceIntrinsics {
    module: String,
    resource: String,
    new: Option<u32>,
    rep: Option<u32>,
    drop: Option<u32>,
}

fn resource_intrinsics(names: &[(String, String)]) -> Vec<ResourceIntrinsics> {
    let mut out: Vec<ResourceIntrinsics> = Vec::new();
    for (i, (module, name)) in names.iter().enumerate() {
        let (kind, resource) = if let Some(rest) = name.strip_prefix("[resource-") {
            match rest.split_once(']') {
                Some((k, r)) => (k.to_string(), r.to_string()),
                None => continue,
            }
        } else if let Some((r, k)) = name.rsplit_once('_') {
            (k.to_string(), r.to_string())
        } else {
            continue;
        };
        let pos = match out
            .iter()
            .position(|r| r.module == *module && r.resource == resource)
        {
            Some(p) => p,
            None => {
                out.push(ResourceIntrinsics {
                    module: module.clone(),
                    resource,
                    ..ResourceIntrinsics::default()
                });
                out.len() - 1
            }
        };
        let slot = &mut out[pos];
        match kind.as_str() {
            "new" => slot.new = Some(i as u32),
            "rep" => slot.rep = Some(i as u32),
            "drop" => slot.drop = Some(i as u32),
            _ => {}
        }
    }
    out
}

/// The core module of the intrinsics of the resources exported with the
/// interface of the core export `name`, and the resource it constructs if
/// it is a constructor: `iface#f` gives `[export]iface`,
/// `cm32p2|iface|f` gives `cm32p2|_ex_iface`; `f` = `[constructor]r`
/// gives `r`.
fn export_resource_module(name: &str) -> Option<(String, Option<&str>)> {
    let (module, func) = if let Some(rest) = name.strip_prefix("cm32p2|") {
        let (iface, func) = rest.split_once('|')?;
        (format!("cm32p2|_ex_{iface}"), func)
    } else {
        let (iface, func) = name.split_once('#')?;
        (format!("[export]{iface}"), func)
    };
    Some((module, func.strip_prefix("[constructor]")))
}

/// What [`resource_sequence`] placed.
#[derive(Default, PartialEq)]
enum Sequence {
    #[default]
    None,
    /// A handle made, then dropped.
    Dropped,
    /// A handle made and still live, in the body's `i32` scratch local.
    Live,
}

/// In 1 of 2 bodies of a module defining resources (7 of 8 for a
/// constructor, which then uses its own resource): a handle made with
/// `resource.new` of a drawn rep (a resource of the export's interface
/// in 3 of 4 bodies when it has one), stored into the scratch area (so a
/// result may carry it: an `own` result is then a valid handle), then maybe
/// `resource.rep` of it (its result stored too) and maybe `resource.drop`
/// of it (which runs the destructor; 1 in 3, 1 in 8 for a constructor).
fn resource_sequence(
    f: &mut Function,
    name: &str,
    params: &[ValType],
    has_memory: bool,
    resources: &[ResourceIntrinsics],
    u: &mut Unstructured<'_>,
) -> Sequence {
    use Instruction as I;
    let exported: Vec<&ResourceIntrinsics> = resources.iter().filter(|r| r.new.is_some()).collect();
    let home = export_resource_module(name);
    let ctor = home.as_ref().and_then(|(module, ctor)| {
        let c = (*ctor)?;
        exported
            .iter()
            .copied()
            .find(|r| r.module == *module && r.resource == c)
    });
    let local: Vec<&ResourceIntrinsics> = match &home {
        Some((module, _)) => exported
            .iter()
            .copied()
            .filter(|r| r.module == *module)
            .collect(),
        None => Vec::new(),
    };
    let placed = if ctor.is_some() {
        u.ratio(7, 8).unwrap_or(true)
    } else {
        !exported.is_empty() && u.ratio(1, 2).unwrap_or(false)
    };
    if !placed {
        return Sequence::None;
    }
    let r = match ctor {
        Some(r) => r,
        None if !local.is_empty() && u.ratio(3, 4).unwrap_or(true) => {
            u.choose(&local).map_or(local[0], |r| *r)
        }
        None => u.choose(&exported).map_or(exported[0], |r| *r),
    };
    let tmp = scratch_local(params, ValType::I32);
    let slot = |f: &mut Function, u: &mut Unstructured<'_>| {
        let k = u.int_in_range(0..=(AREA_LEN / 4 - 1)).unwrap_or(0);
        f.instruction(&I::I32Const(AREA + 4 * k));
    };
    f.instruction(&I::I32Const(word(u)));
    f.instruction(&I::Call(r.new.unwrap_or(0)));
    f.instruction(&I::LocalSet(tmp));
    if has_memory {
        slot(f, u);
        f.instruction(&I::LocalGet(tmp));
        f.instruction(&I::I32Store(mem(2)));
    }
    if let Some(rep) = r.rep {
        if u.ratio(1, 2).unwrap_or(false) {
            if has_memory {
                slot(f, u);
            }
            f.instruction(&I::LocalGet(tmp));
            f.instruction(&I::Call(rep));
            if has_memory {
                f.instruction(&I::I32Store(mem(2)));
            } else {
                f.instruction(&I::Drop);
            }
        }
    }
    if let Some(drop) = r.drop {
        let (n, d) = if ctor.is_some() { (1, 8) } else { (1, 3) };
        if u.ratio(n, d).unwrap_or(false) {
            f.instruction(&I::LocalGet(tmp));
            f.instruction(&I::Call(drop));
            return Sequence::Dropped;
        }
    }
    Sequence::Live
}

/// In 1 of 2 bodies of a module with `resource.drop` intrinsics, 1 or 2
/// drops of a drawn resource type's handle: an `i32` parameter (a borrow
/// or own handle the export received, if it is one), the handle an import
/// returned ([`handle_local`]) or a small number; then in 1 of 3 the same
/// value dropped again, or in 1 of 3 its `resource.rep` (an exported
/// resource's) stored: a handle used after its drop. A borrow the export
/// received and did not drop makes the call trap at its end. Counts the
/// drops in `drops`; whether it placed any.
fn handle_drops(
    f: &mut Function,
    params: &[ValType],
    resources: &[ResourceIntrinsics],
    drops: &mut u64,
    u: &mut Unstructured<'_>,
) -> bool {
    use Instruction as I;
    let droppable: Vec<&ResourceIntrinsics> =
        resources.iter().filter(|r| r.drop.is_some()).collect();
    if droppable.is_empty() || !u.ratio(1, 2).unwrap_or(false) {
        return false;
    }
    let ints: Vec<u32> = (0..params.len() as u32)
        .filter(|&i| params[i as usize] == ValType::I32)
        .collect();
    for _ in 0..u.int_in_range(1..=2).unwrap_or(1) {
        let r = u.choose(&droppable).map_or(droppable[0], |r| *r);
        let value = match u.int_in_range(0u8..=4).unwrap_or(0) {
            0 | 1 if !ints.is_empty() => I::LocalGet(*u.choose(&ints).unwrap_or(&ints[0])),
            2 | 3 => I::LocalGet(handle_local(params)),
            _ => I::I32Const(u.int_in_range(1..=3).unwrap_or(1)),
        };
        f.instruction(&value);
        f.instruction(&I::Call(r.drop.unwrap_or(0)));
        *drops += 1;
        match u.int_in_range(0u8..=2).unwrap_or(0) {
            0 => {
                f.instruction(&value);
                f.instruction(&I::Call(r.drop.unwrap_or(0)));
                *drops += 1;
            }
            1 if r.rep.is_some() => {
                f.instruction(&value);
                f.instruction(&I::Call(r.rep.unwrap_or(0)));
                f.instruction(&I::Drop);
            }
            _ => {}
        }
    }
    true
}

/// The body of a lifted export `name` (see the module docs); counts the
/// resource sequences it places in `sequences`, the drops in `drops`.
#[allow(clippy::too_many_arguments)]
fn export_body(
    name: &str,
    params: &[ValType],
    results: &[ValType],
    has_memory: bool,
    imports: &[CoreImport],
    resources: &[ResourceIntrinsics],
    sequences: &mut u64,
    drops: &mut u64,
    u: &mut Unstructured<'_>,
) -> Function {
    use wasm_encoder::ValType as E;
    let mut f = Function::new([
        (1, E::I32),
        (1, E::I64),
        (1, E::F32),
        (1, E::F64),
        (1, E::I32),
    ]);
    if has_memory {
        store_area(&mut f, u);
        store_params(&mut f, params, u);
    }
    call_imports(&mut f, params, has_memory, imports, u);
    if handle_drops(&mut f, params, resources, drops, u) && u.ratio(1, 3).unwrap_or(false) {
        // Then more imports, which may be given the handle just dropped.
        call_imports(&mut f, params, has_memory, imports, u);
    }
    let sequence = resource_sequence(&mut f, name, params, has_memory, resources, u);
    if sequence != Sequence::None {
        *sequences += 1;
    }
    // A live handle is the first `i32` result in 1 of 2 bodies (7 of 8 for
    // a constructor, whose result is an `own` of that resource).
    let ctor = export_resource_module(name).is_some_and(|(_, c)| c.is_some());
    let mut handle_result = sequence == Sequence::Live
        && if ctor {
            u.ratio(7, 8).unwrap_or(true)
        } else {
            u.ratio(1, 2).unwrap_or(false)
        };
    for &r in results {
        if handle_result && r == ValType::I32 {
            f.instruction(&Instruction::LocalGet(scratch_local(params, ValType::I32)));
            handle_result = false;
        } else {
            push_result(&mut f, r, params, has_memory, u);
        }
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
pub fn rewrite(
    module: Vec<u8>,
    u: &mut Unstructured<'_>,
    sequences: &mut u64,
    drops: &mut u64,
) -> Option<Vec<u8>> {
    let mut types: Vec<(Vec<ValType>, Vec<ValType>)> = Vec::new();
    let mut func_types: Vec<u32> = Vec::new();
    let mut imported_funcs = 0u32;
    let mut import_names: Vec<(String, String)> = Vec::new();
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
                    let imp = imp.ok()?;
                    match imp.ty {
                        TypeRef::Func(t) => {
                            imported_funcs += 1;
                            func_types.push(t);
                            import_names.push((imp.module.to_string(), imp.name.to_string()));
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
                let imports: Vec<CoreImport> = func_types[..imported_funcs as usize]
                    .iter()
                    .enumerate()
                    .filter_map(|(i, &t)| {
                        let (p, r) = types.get(t as usize)?;
                        let name = &import_names.get(i)?.1;
                        let method = ["[constructor]", "[method]", "[static]"]
                            .iter()
                            .any(|m| name.contains(m));
                        Some((i as u32, p.clone(), r.clone(), method))
                    })
                    .collect();
                let resources = resource_intrinsics(&import_names);
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
                        _ => export_body(
                            name, params, results, has_memory, &imports, &resources, sequences,
                            drops, u,
                        ),
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
