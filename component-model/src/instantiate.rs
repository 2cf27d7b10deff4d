//! Instantiation and calls: runs a [`Flat`] component on core-vm, creates
//! the trampolines (`canon lower` host functions, `resource.new`,
//! `resource.rep`, `resource.drop`) and exposes typed exports.
//!
//! Invariants:
//! * Instantiation only replays [`Flat::inits`]: each step instantiates a
//!   core module with arguments resolved from earlier core instances or from
//!   trampolines, which are created lazily (once) when first referenced.
//! * Each runtime component instance has its own [`HandleTable`]; resource
//!   types a component instance defines are marked `implemented` in its own
//!   table (so `lower_borrow` passes the rep straight through).
//! * A `canon lower`ed call lifts its arguments (lending borrows), calls the
//!   host or the lifted callee, lowers the results (through the `retptr` if
//!   they do not fit flat), then ends the lends. A `canon lift`ed call from
//!   the host (or from another component instance) type-checks its
//!   arguments, lowers them (`realloc` if spilled), calls the core
//!   function, lifts the results, calls `post-return` with the flat results,
//!   and traps if borrows handed to the callee were not dropped.
//! * The state shared by the trampolines sits behind a `RefCell` that is
//!   only ever borrowed for one table operation at a time, never across a
//!   call into guest code, so re-entrant calls cannot observe a borrow.

use crate::checkpoint::{CallState, ComponentState, TableState};
use crate::error::{AdapterFault, AdapterTrap, CallError, Error};
use crate::host_flat::{FlatCall, FlatHostFunc};
use crate::inline::{
    import_path_name, ComponentInstanceIndex, CoreDef, Flat, FlatInit, FuncDef, InstanceDef,
    ItemDef, LiftedFunc, OptionsDef, RuntimeResource, Trampoline,
};
use crate::linker::{HostContext, HostFunc, HostImpl, Linker, ResourceDtor, StoreMemory};
use crate::trace::{self, HostCallObserver};
use crate::typecheck::check_func;
use crate::types::core_val_type;
use canonical_abi::invoke::{find_func, ExportItem, Lookup};
use canonical_abi::{
    flatten_functype, lift_values, lower_values, AbiError, CanonError, CanonicalOptions,
    CoreValueIter, FlatVal, FlattenContext, GuestMemory, HandleTable, HostResource,
    LiftLowerContext, ResourceTables, ResourceTypeId, Val, ValueType, MAX_FLAT_PARAMS,
    MAX_FLAT_RESULTS,
};
use core_vm::{Engine, Extern, Func, Memory, Store, Trap};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

/// A validated, translated and flattened component, ready to instantiate.
#[derive(Clone)]
pub struct Component {
    inner: Arc<ComponentInner>,
}

struct ComponentInner {
    modules: Vec<core_vm::Module>,
    flat: Flat,
}

impl std::fmt::Debug for Component {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Component")
            .field("core_modules", &self.inner.modules.len())
            .field("core_instances", &self.inner.flat.inits.len())
            .field("trampolines", &self.inner.flat.trampolines.len())
            .finish()
    }
}

impl Component {
    /// Parses, validates, compiles and flattens a component binary. The
    /// component keeps a copy of `bytes`; [`Component::from_shared`] keeps
    /// the caller's buffer instead.
    pub fn new(engine: &Engine, bytes: &[u8]) -> Result<Component, Error> {
        Component::from_shared(engine, Arc::new(bytes.to_vec()))
    }

    /// As [`Component::new`], for the component in `owner`, which its core
    /// modules keep (shared, not copied) for their lazily translated
    /// function bodies and their data segments.
    pub fn from_shared(
        engine: &Engine,
        owner: Arc<dyn AsRef<[u8]> + Send + Sync>,
    ) -> Result<Component, Error> {
        let how = crate::translate::Translate {
            features: engine.features(),
            validate_bodies: false,
        };
        let t = crate::translate::translate(&how, (*owner).as_ref())?;
        let modules = crate::translate::compile(engine, &owner, &t)?;
        let flat = crate::inline::inline(&t)?;
        Ok(Component {
            inner: Arc::new(ComponentInner { modules, flat }),
        })
    }

    /// Every function the component imports, as `interface#function` (or
    /// the bare name of a root function import).
    pub fn imported_functions(&self) -> Vec<String> {
        let mut out = Vec::new();
        for imp in &self.inner.flat.imports {
            for (path, _) in &imp.funcs {
                let mut full = vec![imp.name.clone()];
                full.extend(path.iter().cloned());
                out.push(import_path_name(&full));
            }
        }
        out
    }

    /// [`Component::imported_functions`], each with its type (resources
    /// named by their runtime ids).
    pub fn imported_function_types(&self) -> Vec<(String, canonical_abi::FuncType)> {
        let mut out = Vec::new();
        for imp in &self.inner.flat.imports {
            for (path, ty) in &imp.funcs {
                let mut full = vec![imp.name.clone()];
                full.extend(path.iter().cloned());
                out.push((import_path_name(&full), ty.clone()));
            }
        }
        out
    }

    /// The imported (host-implemented) resource types, each as its runtime
    /// id (the one [`Component::imported_function_types`] and the exported
    /// functions' types use), the import it belongs to (an interface name,
    /// empty at the root) and its name. The other runtime ids are resources
    /// a component instance defines.
    pub fn imported_resources(&self) -> Vec<(ResourceTypeId, String, String)> {
        let mut out = Vec::new();
        for (i, r) in self.inner.flat.resources.iter().enumerate() {
            if let RuntimeResource::Host { interface, name } = r {
                out.push((ResourceTypeId(i as u32), interface.clone(), name.clone()));
            }
        }
        out
    }

    /// Names of the root imports.
    pub fn import_names(&self) -> Vec<String> {
        self.inner
            .flat
            .imports
            .iter()
            .map(|i| i.name.clone())
            .collect()
    }

    /// Names of the root exports.
    pub fn export_names(&self) -> Vec<String> {
        self.inner
            .flat
            .exports
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Numbers describing the flattened form: (core modules, core
    /// instantiations, trampolines, runtime component instances).
    pub fn stats(&self) -> (usize, usize, usize, u32) {
        let f = &self.inner.flat;
        (
            self.inner.modules.len(),
            f.inits.len(),
            f.trampolines.len(),
            f.num_instances,
        )
    }
}

impl<T: 'static> Linker<T> {
    /// Instantiates `component` in `store` with this linker's host functions.
    pub fn instantiate(
        &self,
        store: &mut Store<T>,
        component: &Component,
    ) -> Result<ComponentInstance<T>, Error> {
        instantiate(self, store, component)
    }
}

struct State {
    core_instances: Vec<core_vm::Instance>,
    trampolines: Vec<Option<Func>>,
    /// Canonical options of each `canon lower` trampoline, resolved on
    /// its first call (they never change afterwards).
    lower_opts: Vec<Option<ResolvedOpts>>,
    tables: Vec<HandleTable>,
    /// The spec's `may_leave` per runtime component instance: false while
    /// its `realloc` or `post-return` runs on the ABI's behalf.
    may_leave: Vec<bool>,
    /// How many `canon lift`ed calls into each runtime component instance
    /// are running: the host may not enter an instance that is entered
    /// (from inside an import call); another instance may (see
    /// [`call_lifted`]).
    entered: Vec<u32>,
    /// Whether a guest trap has escaped each runtime component instance
    /// (see [`call_lifted`]). A poisoned instance is never entered again:
    /// its state may be half-updated, so every later call traps, as in the
    /// spec and wasmtime.
    poisoned: Vec<bool>,
    /// The `canon lift`ed call whose core function is the outermost entry
    /// into Wasm, if one runs: what a checkpoint suspends.
    active: Option<CallState>,
}

fn set_may_leave<T>(sh: &Shared<T>, instance: ComponentInstanceIndex, v: bool) {
    sh.state.borrow_mut().may_leave[instance.index()] = v;
}

fn check_may_leave<T>(
    sh: &Shared<T>,
    instance: ComponentInstanceIndex,
    what: &str,
) -> Result<(), Trap> {
    if sh.state.borrow().may_leave[instance.index()] {
        Ok(())
    } else {
        Err(reentrance_trap(what, CanonError::CannotLeave))
    }
}

/// A broken reentrance rule: a trap of the guest, as wasmtime's adapters
/// and intrinsics raise it.
fn reentrance_trap(func: &str, e: CanonError) -> Trap {
    Trap::host(AdapterTrap {
        func: func.to_string(),
        fault: AdapterFault::Reentrance(e),
    })
}

struct Shared<T> {
    comp: Arc<ComponentInner>,
    /// Sees every flat host call (`--trace=wasi`), if set.
    observer: Option<Rc<dyn HostCallObserver>>,
    host_funcs: HashMap<Vec<String>, Bound<T>>,
    host_dtors: HashMap<u32, Arc<ResourceDtor<T>>>,
    state: RefCell<State>,
}

/// A host function bound to an import: for a typed one, the import's
/// resource type of each host resource of its declared type (the result of
/// the type check).
struct Bound<T> {
    imp: HostImpl<T>,
    rts: Arc<[Option<ResourceTypeId>]>,
}

impl<T> Clone for Bound<T> {
    fn clone(&self) -> Self {
        Bound {
            imp: self.imp.clone(),
            rts: self.rts.clone(),
        }
    }
}

/// Binds every import to the linker's definitions, in import order, as
/// wasmtime does: the first import with a missing item (resource, then
/// functions) or a function of the wrong type fails, in wasmtime's words.
fn bind_imports<T: 'static>(
    linker: &Linker<T>,
    flat: &crate::inline::Flat,
) -> Result<HashMap<Vec<String>, Bound<T>>, Error> {
    let mut host_funcs = HashMap::new();
    let same_resource =
        |r: HostResource, rt: ResourceTypeId| match flat.resources.get(rt.0 as usize) {
            Some(RuntimeResource::Host { interface, name }) => linker
                .lookup_resource(interface, name)
                .is_some_and(|d| d.id == Some(r)),
            _ => false,
        };
    for imp in &flat.imports {
        let fail = |path: &[String], cause: Vec<String>| {
            let (kind, exports) = match path.first() {
                // A root function import: `funcs` has one entry, at path [].
                None if imp.funcs.len() == 1 && imp.funcs[0].0.is_empty() => ("function", &[][..]),
                _ => ("instance", path),
            };
            let mut causes: Vec<String> = exports
                .iter()
                .map(|e| format!("instance export `{e}` has the wrong type"))
                .collect();
            causes.extend(cause);
            Error::Import {
                kind,
                name: imp.name.clone(),
                causes,
            }
        };
        for r in &flat.resources {
            let RuntimeResource::Host { interface, name } = r else {
                continue;
            };
            if *interface == imp.name
                && linker.lookup_resource(interface, name).is_none()
                && !linker.stub_missing
            {
                return Err(fail(
                    std::slice::from_ref(name),
                    vec!["resource implementation is missing".into()],
                ));
            }
        }
        for (path, ty) in &imp.funcs {
            let mut full = vec![imp.name.clone()];
            full.extend(path.iter().cloned());
            let bound = match linker.lookup(&full) {
                Some(HostImpl::Typed { ty: declared, f }) => {
                    let rts =
                        check_func(declared, ty, &same_resource).map_err(|m| fail(path, m))?;
                    Bound {
                        imp: HostImpl::Typed { ty: declared, f },
                        rts: rts.into(),
                    }
                }
                Some(imp) => Bound {
                    imp,
                    rts: Arc::new([]),
                },
                None if linker.stub_missing => {
                    let name = import_path_name(&full);
                    let stub: Arc<HostFunc<T>> =
                        Arc::new(move |_: &mut HostContext<'_, T>, _: &[Val]| {
                            Err(Trap::host(CallError {
                                func: name.clone(),
                                message: "called a missing import (stubbed)".into(),
                            }))
                        });
                    Bound {
                        imp: HostImpl::Vals(stub),
                        rts: Arc::new([]),
                    }
                }
                None => {
                    return Err(fail(
                        path,
                        vec!["function implementation is missing".into()],
                    ))
                }
            };
            host_funcs.insert(full, bound);
        }
    }
    Ok(host_funcs)
}

fn instantiate<T: 'static>(
    linker: &Linker<T>,
    store: &mut Store<T>,
    component: &Component,
) -> Result<ComponentInstance<T>, Error> {
    let comp = component.inner.clone();
    let flat = &comp.flat;
    let host_funcs = bind_imports(linker, flat)?;
    let mut host_dtors = HashMap::new();
    let mut tables: Vec<HandleTable> = (0..flat.num_instances)
        .map(|_| HandleTable::new())
        .collect();
    for (i, r) in flat.resources.iter().enumerate() {
        match r {
            RuntimeResource::Host { interface, name } => {
                if let Some(d) = linker
                    .lookup_resource(interface, name)
                    .and_then(|d| d.dtor.clone())
                {
                    host_dtors.insert(i as u32, d);
                }
            }
            RuntimeResource::Guest { instance, .. } => {
                tables[instance.index()]
                    .implemented
                    .insert(ResourceTypeId(i as u32));
            }
        }
    }
    let shared = Rc::new(Shared {
        comp: comp.clone(),
        observer: linker.observer.clone(),
        host_funcs,
        host_dtors,
        state: RefCell::new(State {
            core_instances: Vec::new(),
            trampolines: (0..flat.trampolines.len()).map(|_| None).collect(),
            lower_opts: vec![None; flat.trampolines.len()],
            may_leave: vec![true; tables.len()],
            entered: vec![0; tables.len()],
            poisoned: vec![false; tables.len()],
            active: None,
            tables,
        }),
    });
    for (n, init) in flat.inits.iter().enumerate() {
        let FlatInit::Instantiate { module, args } = init;
        let mut externs = Vec::with_capacity(args.len());
        for a in args {
            externs.push(resolve(&shared, store, a)?);
        }
        let inst = core_vm::Instance::new(store, &comp.modules[module.index()], &externs).map_err(
            |error| Error::Core {
                context: format!("instantiating core module {module} (core instance {n})"),
                error,
            },
        )?;
        shared.state.borrow_mut().core_instances.push(inst);
    }
    Ok(ComponentInstance { shared })
}

fn resolve<T: 'static>(
    shared: &Rc<Shared<T>>,
    store: &mut Store<T>,
    def: &CoreDef,
) -> Result<Extern, Error> {
    match def {
        CoreDef::Export { instance, name } => {
            let inst = *shared
                .state
                .borrow()
                .core_instances
                .get(instance.index())
                .ok_or_else(|| {
                    Error::Link(format!("core instance {instance} used before it exists"))
                })?;
            inst.get_export(store, name).ok_or_else(|| {
                Error::Link(format!("core instance {instance} has no export `{name}`"))
            })
        }
        CoreDef::Trampoline(i) => {
            if let Some(f) = shared.state.borrow().trampolines[i.index()] {
                return Ok(Extern::Func(f));
            }
            let f = make_trampoline(shared, store, i.0);
            shared.state.borrow_mut().trampolines[i.index()] = Some(f);
            Ok(Extern::Func(f))
        }
    }
}

fn resolve_func<T: 'static>(
    shared: &Rc<Shared<T>>,
    store: &mut Store<T>,
    def: &CoreDef,
) -> Result<Func, Error> {
    resolve(shared, store, def)?
        .into_func()
        .ok_or_else(|| Error::Link("expected a core function".into()))
}

fn resolve_memory<T: 'static>(
    shared: &Rc<Shared<T>>,
    store: &mut Store<T>,
    def: &CoreDef,
) -> Result<Memory, Error> {
    resolve(shared, store, def)?
        .into_memory()
        .ok_or_else(|| Error::Link("expected a core memory".into()))
}

#[derive(Clone, Copy)]
struct ResolvedOpts {
    canon: CanonicalOptions,
    memory: Option<Memory>,
    realloc: Option<Func>,
    post_return: Option<Func>,
}

fn resolve_opts<T: 'static>(
    shared: &Rc<Shared<T>>,
    store: &mut Store<T>,
    o: &OptionsDef,
) -> Result<ResolvedOpts, Error> {
    Ok(ResolvedOpts {
        canon: CanonicalOptions {
            string_encoding: o.encoding,
            has_memory: o.memory.is_some(),
            has_realloc: o.realloc.is_some(),
            has_post_return: o.post_return.is_some(),
        },
        memory: o
            .memory
            .as_ref()
            .map(|d| resolve_memory(shared, store, d))
            .transpose()?,
        realloc: o
            .realloc
            .as_ref()
            .map(|d| resolve_func(shared, store, d))
            .transpose()?,
        post_return: o
            .post_return
            .as_ref()
            .map(|d| resolve_func(shared, store, d))
            .transpose()?,
    })
}

/// The handle table of one runtime component instance, borrowed per
/// operation.
struct TablesRef<'a> {
    state: &'a RefCell<State>,
    instance: ComponentInstanceIndex,
}

impl TablesRef<'_> {
    fn with<R>(
        &mut self,
        f: impl FnOnce(&mut HandleTable) -> Result<R, AbiError>,
    ) -> Result<R, AbiError> {
        let mut st = self
            .state
            .try_borrow_mut()
            .map_err(|_| AbiError::Guest("re-entrant use of a handle table".into()))?;
        f(&mut st.tables[self.instance.index()])
    }
}

impl ResourceTables for TablesRef<'_> {
    fn lift_own(&mut self, rt: ResourceTypeId, h: u32) -> Result<u32, AbiError> {
        self.with(|t| t.lift_own(rt, h))
    }
    fn lift_borrow(&mut self, rt: ResourceTypeId, h: u32) -> Result<u32, AbiError> {
        self.with(|t| t.lift_borrow(rt, h))
    }
    fn lower_own(&mut self, rt: ResourceTypeId, rep: u32) -> Result<u32, AbiError> {
        self.with(|t| t.lower_own(rt, rep))
    }
    fn lower_borrow(&mut self, rt: ResourceTypeId, rep: u32) -> Result<u32, AbiError> {
        self.with(|t| t.lower_borrow(rt, rep))
    }
}

fn with_cx<T, R>(
    store: &mut Store<T>,
    o: &ResolvedOpts,
    state: &RefCell<State>,
    instance: ComponentInstanceIndex,
    f: impl FnOnce(&mut LiftLowerContext<'_>) -> Result<R, AbiError>,
) -> Result<R, CxError> {
    let mut tables = TablesRef { state, instance };
    match o.memory {
        Some(memory) => {
            let mut mem = StoreMemory {
                store,
                memory,
                realloc: o.realloc,
                trapped: None,
            };
            let mut cx =
                LiftLowerContext::new(o.canon, &mut mem as &mut dyn GuestMemory, &mut tables);
            let r = f(&mut cx);
            match (r, mem.trapped) {
                (Err(AbiError::Guest(_)), Some(t)) => Err(CxError::Realloc(t)),
                (r, _) => r.map_err(CxError::Abi),
            }
        }
        None => {
            let mut mem = canonical_abi::NoMemory;
            let mut cx = LiftLowerContext::new(o.canon, &mut mem, &mut tables);
            f(&mut cx).map_err(CxError::Abi)
        }
    }
}

/// Why [`with_cx`] failed: a Canonical ABI check, or a trap of the guest's
/// `realloc`, kept as it is so that the call ends with it as the guest's
/// trap (as in wasmtime).
enum CxError {
    Abi(AbiError),
    Realloc(Trap),
}

fn to_flat(v: &core_vm::Val) -> FlatVal {
    match *v {
        core_vm::Val::I32(x) => FlatVal::I32(x),
        core_vm::Val::I64(x) => FlatVal::I64(x),
        core_vm::Val::F32(x) => FlatVal::F32(x),
        core_vm::Val::F64(x) => FlatVal::F64(x),
        // Reference values never appear in canonical signatures.
        _ => FlatVal::I32(0),
    }
}

pub(crate) fn from_flat(v: FlatVal) -> core_vm::Val {
    match v {
        FlatVal::I32(x) => core_vm::Val::I32(x),
        FlatVal::I64(x) => core_vm::Val::I64(x),
        FlatVal::F32(x) => core_vm::Val::F32(x),
        FlatVal::F64(x) => core_vm::Val::F64(x),
    }
}

fn trap(func: &str, e: impl std::fmt::Display) -> Trap {
    Trap::host(CallError {
        func: func.to_string(),
        message: e.to_string(),
    })
}

/// A Canonical ABI failure in a call from one component instance to
/// another: an [`AdapterTrap`] where wasmtime's fused adapter checks it in
/// Wasm (bounds, alignment, lengths, `char`, discriminants, `realloc`
/// results), else a [`CallError`]: an invalid string encoding and every
/// handle error are errors of wasmtime's libcalls (transcoding, resource
/// transfer), as an embedder error is.
fn fused_trap(func: &str, e: AbiError) -> Trap {
    use AbiError as A;
    let in_wasm = matches!(
        e,
        A::StringOutOfBounds { .. }
            | A::StringMisaligned { .. }
            | A::StringTooLong { .. }
            | A::ListOutOfBounds { .. }
            | A::ListMisaligned { .. }
            | A::ListTooLong { .. }
            | A::InvalidChar(_)
            | A::InvalidDiscriminant { .. }
            | A::ReallocMisaligned { .. }
            | A::ReallocOutOfBounds { .. }
            | A::PointerMisaligned { .. }
            | A::PointerOutOfBounds { .. }
            | A::MemoryOutOfBounds { .. }
    );
    if in_wasm {
        Trap::host(AdapterTrap {
            func: func.to_string(),
            fault: AdapterFault::Abi(e),
        })
    } else {
        trap(func, e)
    }
}

/// Converts a component-level error raised inside a trampoline into a trap.
fn error_trap(func: &str, e: Error) -> Trap {
    match e {
        Error::Trap { trap, .. } => trap,
        other => trap(func, other),
    }
}

fn make_trampoline<T: 'static>(shared: &Rc<Shared<T>>, store: &mut Store<T>, idx: u32) -> Func {
    let sh = shared.clone();
    let i32s = |n: usize| vec![core_vm::ValType::I32; n];
    match &shared.comp.flat.trampolines[idx as usize] {
        Trampoline::Lower { ty, callee, .. } => {
            let flat = flatten_functype(ty, FlattenContext::Lower);
            let fty = core_vm::FuncType::new(
                flat.params.iter().map(|t| core_val_type(*t)),
                flat.results.iter().map(|t| core_val_type(*t)),
            );
            // The host implementation is found once, here, not per call.
            let host = match callee {
                FuncDef::Import { path, .. } => shared.host_funcs.get(path).cloned(),
                FuncDef::Lifted(_) => None,
            };
            match host.map(|b| (b.imp, b.rts)) {
                Some((HostImpl::Typed { f, .. }, rts)) => {
                    Func::new(store, fty, move |mut caller, args, results| {
                        call_flat(&sh, caller.store_mut(), idx, &*f, &rts, args, results)
                    })
                }
                Some((HostImpl::Vals(f), _)) => {
                    Func::new(store, fty, move |mut caller, args, results| {
                        call_lowered(&sh, caller.store_mut(), idx, Some(&*f), args, results)
                    })
                }
                None => Func::new(store, fty, move |mut caller, args, results| {
                    call_lowered(&sh, caller.store_mut(), idx, None, args, results)
                }),
            }
        }
        Trampoline::ResourceNew { rt, instance } => {
            let (rt, instance) = (*rt, *instance);
            Func::new(
                store,
                core_vm::FuncType::new(i32s(1), i32s(1)),
                move |_, args, results| {
                    let rep = args[0].i32().unwrap_or(0) as u32;
                    check_may_leave(&sh, instance, "resource.new")?;
                    let h = sh.state.borrow_mut().tables[instance.index()]
                        .resource_new(rt, rep)
                        .map_err(|e| trap("resource.new", e))?;
                    results[0] = core_vm::Val::I32(h as i32);
                    Ok(())
                },
            )
        }
        Trampoline::ResourceRep { rt, instance } => {
            let (rt, instance) = (*rt, *instance);
            Func::new(
                store,
                core_vm::FuncType::new(i32s(1), i32s(1)),
                move |_, args, results| {
                    let h = args[0].i32().unwrap_or(0) as u32;
                    // `resource.rep` is allowed while `may_leave` is false.
                    let rep = sh.state.borrow().tables[instance.index()]
                        .resource_rep(rt, h)
                        .map_err(|e| trap("resource.rep", e))?;
                    results[0] = core_vm::Val::I32(rep as i32);
                    Ok(())
                },
            )
        }
        Trampoline::ResourceDrop { rt, instance } => {
            let (rt, instance) = (*rt, *instance);
            Func::new(
                store,
                core_vm::FuncType::new(i32s(1), i32s(0)),
                move |mut caller, args, _| {
                    let h = args[0].i32().unwrap_or(0) as u32;
                    check_may_leave(&sh, instance, "resource.drop")?;
                    let dropped = sh.state.borrow_mut().tables[instance.index()]
                        .resource_drop(rt, h)
                        .map_err(|e| trap("resource.drop", e))?;
                    if let Some(rep) = dropped {
                        run_dtor(&sh, caller.store_mut(), rt, rep)?;
                    }
                    Ok(())
                },
            )
        }
    }
}

/// Runs the destructor of resource type `rt` for `rep` (after the last
/// `own` handle was dropped).
fn run_dtor<T: 'static>(
    sh: &Rc<Shared<T>>,
    store: &mut Store<T>,
    rt: ResourceTypeId,
    rep: u32,
) -> Result<(), Trap> {
    match &sh.comp.flat.resources[rt.0 as usize] {
        RuntimeResource::Guest { dtor: Some(d), .. } => {
            let f = resolve_func(sh, store, d).map_err(|e| trap("resource.drop", e))?;
            f.call(store, &[core_vm::Val::I32(rep as i32)], &mut [])
                .map_err(|e| match e {
                    core_vm::Error::Trap(t) => t,
                    other => trap("resource.drop", other),
                })
        }
        RuntimeResource::Guest { dtor: None, .. } => Ok(()),
        RuntimeResource::Host { .. } => match sh.host_dtors.get(&rt.0) {
            Some(d) => d(store.data_mut(), rep),
            None => Ok(()),
        },
    }
}

/// The canonical options of `canon lower` trampoline `idx`, resolved on its
/// first call.
fn lower_opts<T: 'static>(
    sh: &Rc<Shared<T>>,
    store: &mut Store<T>,
    idx: u32,
    opts: &OptionsDef,
    name: &str,
) -> Result<ResolvedOpts, Trap> {
    let cached = sh.state.borrow().lower_opts[idx as usize];
    match cached {
        Some(o) => Ok(o),
        None => {
            let o = resolve_opts(sh, store, opts).map_err(|e| trap(name, e))?;
            sh.state.borrow_mut().lower_opts[idx as usize] = Some(o);
            Ok(o)
        }
    }
}

/// The body of a `canon lower` trampoline whose callee is a flat host
/// function: the host reads the flat arguments itself (see
/// [`crate::host_flat`]); `may_leave` is false while it runs, since the
/// only guest code it can reach is the caller's `realloc`.
fn call_flat<T: 'static>(
    sh: &Rc<Shared<T>>,
    store: &mut Store<T>,
    idx: u32,
    f: &FlatHostFunc<T>,
    host_rts: &[Option<ResourceTypeId>],
    args: &[core_vm::Val],
    results: &mut [core_vm::Val],
) -> Result<(), Trap> {
    let Trampoline::Lower {
        opts,
        instance,
        name,
        ty,
        ..
    } = &sh.comp.flat.trampolines[idx as usize]
    else {
        unreachable!("call_flat is only created for Lower trampolines")
    };
    let (name, instance) = (name.as_str(), *instance);
    check_may_leave(sh, instance, name)?;
    let o = lower_opts(sh, store, idx, opts, name)?;
    if let Some(obs) = &sh.observer {
        let flat: Vec<FlatVal> = args.iter().map(to_flat).collect();
        let vals = trace::peek_args(store, o.canon, o.memory, ty, &flat);
        obs.enter(name, vals.as_deref().map_err(Clone::clone));
        let r = call_flat_inner(sh, store, f, host_rts, args, results, &o, instance, name);
        let out = match &r {
            Ok(()) => {
                let res: Vec<FlatVal> = results.iter().map(to_flat).collect();
                trace::peek_results(store, o.canon, o.memory, ty, &flat, &res)
            }
            Err(t) => Err(format!("trap: {t}")),
        };
        obs.exit(name, out.as_deref().map_err(Clone::clone));
        return r;
    }
    call_flat_inner(sh, store, f, host_rts, args, results, &o, instance, name)
}

/// [`call_flat`] once the options are resolved.
#[allow(clippy::too_many_arguments)]
fn call_flat_inner<T: 'static>(
    sh: &Rc<Shared<T>>,
    store: &mut Store<T>,
    f: &FlatHostFunc<T>,
    host_rts: &[Option<ResourceTypeId>],
    args: &[core_vm::Val],
    results: &mut [core_vm::Val],
    o: &ResolvedOpts,
    instance: ComponentInstanceIndex,
    name: &str,
) -> Result<(), Trap> {
    let mut tables = TablesRef {
        state: &sh.state,
        instance,
    };
    let mut call = FlatCall {
        store,
        canon: o.canon,
        memory: o.memory,
        realloc: o.realloc,
        resources: &mut tables,
        func_name: name,
        host_rts,
        args,
        results,
        returned: false,
    };
    set_may_leave(sh, instance, false);
    let r = f(&mut call);
    let finished = call.finished();
    set_may_leave(sh, instance, true);
    // Every lend taken while the host read its arguments ends here.
    sh.state.borrow_mut().tables[instance.index()].finish_import_call();
    r?;
    if !finished {
        return Err(trap(name, "the host returned no result"));
    }
    Ok(())
}

/// The body of a `canon lower` trampoline (lifted callee, or a host function
/// on [`Val`]s).
fn call_lowered<T: 'static>(
    sh: &Rc<Shared<T>>,
    store: &mut Store<T>,
    idx: u32,
    host: Option<&HostFunc<T>>,
    args: &[core_vm::Val],
    results: &mut [core_vm::Val],
) -> Result<(), Trap> {
    let Trampoline::Lower {
        callee,
        ty,
        opts,
        instance,
        name,
    } = &sh.comp.flat.trampolines[idx as usize]
    else {
        unreachable!("call_lowered is only created for Lower trampolines")
    };
    let name = name.as_str();
    let instance = *instance;
    check_may_leave(sh, instance, name)?;
    let o = lower_opts(sh, store, idx, opts, name)?;
    let flat_args: Vec<FlatVal> = args.iter().map(to_flat).collect();
    let r = lowered_call(sh, store, &o, callee, host, ty, instance, name, &flat_args);
    // Every lend taken while lifting the arguments ends here, whether the
    // call succeeded or not.
    sh.state.borrow_mut().tables[instance.index()].finish_import_call();
    let flat_out = r?;
    if flat_out.len() != results.len() {
        return Err(trap(name, "flat result count mismatch"));
    }
    for (r, v) in results.iter_mut().zip(flat_out) {
        *r = from_flat(v);
    }
    Ok(())
}

/// Lifts the arguments of a `canon lower`ed call, calls the callee and
/// lowers its results (into the `retptr` when they do not fit flat).
#[allow(clippy::too_many_arguments)]
fn lowered_call<T: 'static>(
    sh: &Rc<Shared<T>>,
    store: &mut Store<T>,
    o: &ResolvedOpts,
    callee: &FuncDef,
    host: Option<&HostFunc<T>>,
    ty: &canonical_abi::FuncType,
    instance: ComponentInstanceIndex,
    name: &str,
    flat_args: &[FlatVal],
) -> Result<Vec<FlatVal>, Trap> {
    let mut vi = CoreValueIter::new(flat_args);
    let params = ty.param_types();
    // Between two component instances (wasmtime's fused adapters), a
    // Canonical ABI check fails as a trap of the guest.
    let fused = matches!(callee, FuncDef::Lifted(_));
    let abi_trap = |e: AbiError| {
        if fused {
            fused_trap(name, e)
        } else {
            trap(name, e)
        }
    };
    let cx_trap = |e: CxError| match e {
        CxError::Abi(e) => abi_trap(e),
        CxError::Realloc(t) => t,
    };
    let vals = with_cx(store, o, &sh.state, instance, |cx| {
        lift_values(cx, MAX_FLAT_PARAMS, &mut vi, &params)
    })
    .map_err(cx_trap)?;
    let out = match callee {
        FuncDef::Import { .. } => {
            let f = host.ok_or_else(|| trap(name, "no host implementation"))?;
            let mut tables = TablesRef {
                state: &sh.state,
                instance,
            };
            let mut hcx = HostContext {
                store,
                memory: o.memory,
                realloc: o.realloc,
                func_name: name,
                resources: Some(&mut tables),
            };
            f(&mut hcx, &vals)?
        }
        FuncDef::Lifted(l) if l.instance == instance => {
            return Err(reentrance_trap(name, CanonError::CannotEnter));
        }
        FuncDef::Lifted(l) => {
            call_lifted(sh, store, l, &vals, Entry::Guest).map_err(|e| match e {
                Error::Abi { error, .. } => fused_trap(name, error),
                e => error_trap(name, e),
            })?
        }
    };
    check_results(name, ty, &out).map_err(|e| error_trap(name, e))?;
    let result_types = ty.result_types();
    set_may_leave(sh, instance, false);
    let flat_out = with_cx(store, o, &sh.state, instance, |cx| {
        lower_values(cx, MAX_FLAT_RESULTS, &out, &result_types, Some(&mut vi))
    });
    set_may_leave(sh, instance, true);
    flat_out.map_err(cx_trap)
}

fn check_results(name: &str, ty: &canonical_abi::FuncType, out: &[Val]) -> Result<(), Error> {
    let want = ty.result_types();
    if out.len() != want.len() {
        return Err(Error::Type {
            func: name.to_string(),
            message: format!(
                "expected {} result(s), the host returned {}",
                want.len(),
                out.len()
            ),
        });
    }
    for (v, t) in out.iter().zip(want) {
        v.type_check(t).map_err(|e| Error::Type {
            func: name.to_string(),
            message: format!("result: {e}"),
        })?;
    }
    Ok(())
}

/// Calls a `canon lift`ed function with lifted arguments, trapping if its
/// component instance was poisoned by an earlier trap.
///
/// Reentrance follows wasmtime 49: a component instance may be entered
/// again by another instance while a call into it runs (A calls B, which
/// calls A), since wasmtime's adapters no longer keep `may_enter`; a
/// `canon lower` of a function the same instance lifts traps
/// ([`lowered_call`]), and the host may not enter an instance that is
/// running a call (from inside an import call). The callee's `realloc` runs with its `may_leave` false, and so does
/// its `post-return` when the host made the call; after a call from
/// another instance ([`Entry::Guest`]), wasmtime's adapter runs
/// the `post-return` with `may_leave` true, and so does this.
///
/// Poisoning follows wasmtime 49: the instance is poisoned when guest code
/// run for this call traps (the callee's core code, including traps of
/// lowered imports called from it, its `realloc` while the arguments are
/// lowered, or its `post-return`). A Canonical ABI trap found while the
/// host lifts the results (a bad `char`, discriminant, string...) fails the
/// call without poisoning, as in wasmtime.
///
/// With a state to resume ([`Entry::Host`]), the call is one a checkpoint
/// suspended in its core function: its arguments were lowered before the
/// checkpoint, so the core function is resumed from that state instead of
/// called, and the rest of the call runs as usual.
fn call_lifted<T: 'static>(
    sh: &Rc<Shared<T>>,
    store: &mut Store<T>,
    l: &LiftedFunc,
    args: &[Val],
    entry: Entry<'_>,
) -> Result<Vec<Val>, Error> {
    let resume = entry.resume();
    // A host-side argument type error is reported before the instance is
    // entered, so it does not poison the instance.
    let params = l.ty.param_types();
    if resume.is_none() {
        check_args(l, args, &params)?;
    }
    {
        let mut st = sh.state.borrow_mut();
        let i = l.instance.index();
        if st.poisoned[i] {
            let msg = "cannot enter component instance: an earlier call trapped (the instance is poisoned)";
            return Err(Error::Trap {
                func: l.name.clone(),
                trap: trap(&l.name, msg),
            });
        }
        if matches!(entry, Entry::Host(_)) && st.entered[i] > 0 {
            return Err(Error::Trap {
                func: l.name.clone(),
                trap: trap(&l.name, "cannot enter component instance"),
            });
        }
        st.entered[i] += 1;
    }
    // The outermost call (made by the host, not through a trampoline) is
    // the one a checkpoint can suspend.
    let outermost = {
        let mut st = sh.state.borrow_mut();
        let outermost = st.active.is_none();
        if outermost {
            st.active = Some(CallState {
                func: l.name.clone(),
                instance: l.instance.0,
                post_return: l.opts.post_return.is_some(),
            });
        }
        outermost
    };
    let mut poison = false;
    let r = call_lifted_inner(sh, store, l, args, &params, entry, &mut poison);
    let mut st = sh.state.borrow_mut();
    st.entered[l.instance.index()] -= 1;
    if outermost {
        st.active = None;
    }
    if poison {
        st.poisoned[l.instance.index()] = true;
    }
    r
}

/// Who calls a lifted function: the host (resuming the call a checkpoint
/// suspended, if given), or another component instance through a fused
/// `canon lower`.
#[derive(Clone, Copy)]
enum Entry<'a> {
    Host(Option<&'a core_vm::ExecState>),
    Guest,
}

impl<'a> Entry<'a> {
    /// The suspended call to resume, if any.
    fn resume(self) -> Option<&'a core_vm::ExecState> {
        match self {
            Entry::Host(resume) => resume,
            Entry::Guest => None,
        }
    }
}

/// Type-checks host-supplied arguments against the lifted function's type.
fn check_args(l: &LiftedFunc, args: &[Val], params: &[&ValueType]) -> Result<(), Error> {
    let name = &l.name;
    if args.len() != params.len() {
        return Err(Error::Type {
            func: name.clone(),
            message: format!("expected {} argument(s), got {}", params.len(), args.len()),
        });
    }
    for (i, (v, t)) in args.iter().zip(params).enumerate() {
        v.type_check(t).map_err(|e| Error::Type {
            func: name.clone(),
            message: format!("argument {i}: {e}"),
        })?;
    }
    Ok(())
}

fn call_lifted_inner<T: 'static>(
    sh: &Rc<Shared<T>>,
    store: &mut Store<T>,
    l: &LiftedFunc,
    args: &[Val],
    params: &[&ValueType],
    entry: Entry<'_>,
    poison: &mut bool,
) -> Result<Vec<Val>, Error> {
    let resume = entry.resume();
    let name = &l.name;
    let core = resolve_func(sh, store, &l.core)?;
    let o = resolve_opts(sh, store, &l.opts)?;
    let abi = |error| Error::Abi {
        func: name.clone(),
        error,
    };
    let nres = core.ty(store).results().len();
    let mut core_res = vec![core_vm::Val::I32(0); nres];
    let outcome = match resume {
        Some(state) => {
            if state.frames.first().map(|f| f.func) != Some(core.index()) {
                return Err(Error::Checkpoint {
                    busy: false,
                    message: format!(
                        "the checkpoint's suspended call is not the core function of `{name}`"
                    ),
                });
            }
            store.resume(state).map(|r| core_res = r)
        }
        None => {
            set_may_leave(sh, l.instance, false);
            let flat_args = with_cx(store, &o, &sh.state, l.instance, |cx| {
                lower_values(cx, MAX_FLAT_PARAMS, args, params, None)
            });
            set_may_leave(sh, l.instance, true);
            let flat_args = flat_args.map_err(|e| match e {
                CxError::Abi(e) => {
                    // `realloc` failed.
                    *poison |= matches!(e, AbiError::Guest(_));
                    abi(e)
                }
                CxError::Realloc(trap) => {
                    *poison = true;
                    Error::Trap {
                        func: name.clone(),
                        trap,
                    }
                }
            })?;
            let core_args: Vec<core_vm::Val> = flat_args.into_iter().map(from_flat).collect();
            core.call(store, &core_args, &mut core_res)
        }
    };
    outcome.map_err(|e| match e {
        core_vm::Error::Trap(trap) => {
            *poison = true;
            Error::Trap {
                func: name.clone(),
                trap,
            }
        }
        error => Error::Core {
            context: format!("calling `{name}`"),
            error,
        },
    })?;
    let flat_res: Vec<FlatVal> = core_res.iter().map(to_flat).collect();
    let mut vi = CoreValueIter::new(&flat_res);
    let result_types = l.ty.result_types();
    let out = with_cx(store, &o, &sh.state, l.instance, |cx| {
        lift_values(cx, MAX_FLAT_RESULTS, &mut vi, &result_types)
    })
    .map_err(|e| match e {
        CxError::Abi(e) => abi(e),
        // Lifting calls no `realloc`.
        CxError::Realloc(trap) => Error::Trap {
            func: name.clone(),
            trap,
        },
    })?;
    if let Some(pr) = o.post_return {
        let forbid = matches!(entry, Entry::Host(_));
        if forbid {
            set_may_leave(sh, l.instance, false);
        }
        let r = pr.call(store, &core_res, &mut []);
        if forbid {
            set_may_leave(sh, l.instance, true);
        }
        r.map_err(|e| match e {
            core_vm::Error::Trap(trap) => {
                *poison = true;
                Error::Trap {
                    func: format!("{name} (post-return)"),
                    trap,
                }
            }
            error => Error::Core {
                context: format!("post-return of `{name}`"),
                error,
            },
        })?;
    }
    sh.state.borrow().tables[l.instance.index()]
        .finish_export_call()
        .map_err(abi)?;
    Ok(out)
}

/// An instantiated component.
pub struct ComponentInstance<T> {
    shared: Rc<Shared<T>>,
}

impl<T> Clone for ComponentInstance<T> {
    fn clone(&self) -> Self {
        ComponentInstance {
            shared: self.shared.clone(),
        }
    }
}

/// An exported component function.
pub struct ComponentFunc<T> {
    shared: Rc<Shared<T>>,
    def: FuncDef,
}

impl<T> Clone for ComponentFunc<T> {
    fn clone(&self) -> Self {
        ComponentFunc {
            shared: self.shared.clone(),
            def: self.def.clone(),
        }
    }
}

/// The item called `name` (exactly, else semver-compatibly).
fn find<'a>(items: &'a [(String, ItemDef)], name: &str) -> Option<&'a ItemDef> {
    canonical_abi::invoke::find_item(items, name)
}

/// Functions and instances of the component's exports, as `--invoke`'s
/// lookup walks them.
impl ExportItem for ItemDef {
    type Func = FuncDef;
    fn as_func(&self) -> Option<FuncDef> {
        match self {
            ItemDef::Func(def) => Some(def.clone()),
            _ => None,
        }
    }
    fn as_instance(&self) -> Option<&[(String, ItemDef)]> {
        match self {
            ItemDef::Instance(InstanceDef::Items(items)) => Some(items),
            _ => None,
        }
    }
}

impl<T: 'static> ComponentInstance<T> {
    /// A function exported at the root.
    pub fn get_func(&self, name: &str) -> Option<ComponentFunc<T>> {
        match find(&self.shared.comp.flat.exports, name)? {
            ItemDef::Func(def) => Some(ComponentFunc {
                shared: self.shared.clone(),
                def: def.clone(),
            }),
            _ => None,
        }
    }

    /// Function `func` of exported instance `instance` (matched
    /// semver-compatibly, e.g. `wasi:cli/run@0.2.0` finds an export
    /// `wasi:cli/run@0.2.6`).
    pub fn get_instance_func(&self, instance: &str, func: &str) -> Option<ComponentFunc<T>> {
        let ItemDef::Instance(InstanceDef::Items(items)) =
            find(&self.shared.comp.flat.exports, instance)?
        else {
            return None;
        };
        match find(items, func)? {
            ItemDef::Func(def) => Some(ComponentFunc {
                shared: self.shared.clone(),
                def: def.clone(),
            }),
            _ => None,
        }
    }

    /// Finds an exported function by the name `wasmtime run --invoke` uses
    /// (`canonical_abi::invoke::find_func`): a root export `name`; or
    /// `ns:pkg/iface.func@version`, function `func` of the exported
    /// instance `ns:pkg/iface@version` (matched semver-compatibly), or the
    /// root `func` when no instance has that name; or else a function
    /// called `name` in exactly one exported instance ([`Error::Ambiguous`]
    /// when several have one).
    pub fn find_func(&self, name: &str) -> Result<ComponentFunc<T>, Error> {
        match find_func(&self.shared.comp.flat.exports, name) {
            Ok(def) => Ok(ComponentFunc {
                shared: self.shared.clone(),
                def,
            }),
            Err(Lookup::NotFound(name)) => Err(Error::NotFound(name)),
            Err(Lookup::Ambiguous { name, candidates }) => {
                Err(Error::Ambiguous { name, candidates })
            }
        }
    }

    /// Typed lookup: [`ComponentInstance::find_func`], then a check that the
    /// function has exactly type `ty` (parameter names included).
    pub fn get_typed_func(
        &self,
        name: &str,
        ty: &canonical_abi::FuncType,
    ) -> Result<ComponentFunc<T>, Error> {
        let f = self.find_func(name)?;
        if f.ty() != ty {
            return Err(Error::Type {
                func: f.name(),
                message: format!("the export has type {:?}, not {ty:?}", f.ty()),
            });
        }
        Ok(f)
    }

    /// Every exported function as (`instance#func` or `func`).
    pub fn exported_functions(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (n, d) in &self.shared.comp.flat.exports {
            match d {
                ItemDef::Func(_) => out.push(n.clone()),
                ItemDef::Instance(InstanceDef::Items(items)) => {
                    for (f, d) in items.iter() {
                        if let ItemDef::Func(_) = d {
                            out.push(format!("{n}#{f}"));
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The core instances, in instantiation order (for embedders that need
    /// to reach core exports, e.g. the main module's memory).
    pub fn core_instances(&self) -> Vec<core_vm::Instance> {
        self.shared.state.borrow().core_instances.clone()
    }
}

impl<T: 'static> ComponentInstance<T> {
    /// The Canonical ABI state to save with a checkpoint taken at a core-vm
    /// safe point now (see [`crate::checkpoint`]): busy while an export's
    /// `realloc` or `post-return` runs, refused when no export call is in
    /// progress.
    pub fn capture(&self) -> Result<ComponentState, Error> {
        let st = self.shared.state.borrow();
        let refuse = |busy: bool, message: &str| Error::Checkpoint {
            busy,
            message: message.to_string(),
        };
        if st.may_leave.iter().any(|m| !m) {
            return Err(refuse(true, "a `realloc` or `post-return` is running"));
        }
        if st.tables.iter().any(HandleTable::is_lending) {
            return Err(refuse(false, "a lowered call is lending handles"));
        }
        let call = st
            .active
            .clone()
            .ok_or_else(|| refuse(false, "no export call is in progress"))?;
        Ok(ComponentState {
            tables: st.tables.iter().map(TableState::of).collect(),
            poisoned: st.poisoned.clone(),
            call,
        })
    }

    /// Puts back the Canonical ABI state `s` (captured from an instance of
    /// the same component) into this freshly made instance, before
    /// [`ComponentFunc::resume`].
    pub fn restore(&self, s: &ComponentState) -> Result<(), Error> {
        let mut st = self.shared.state.borrow_mut();
        let n = st.tables.len();
        let bad = |message: String| Error::Checkpoint {
            busy: false,
            message,
        };
        if s.tables.len() != n || s.poisoned.len() != n || s.call.instance as usize >= n {
            return Err(bad(format!(
                "the checkpoint has {} component instances; this component has {n}",
                s.tables.len()
            )));
        }
        let resources = self.shared.comp.flat.resources.len();
        for (i, (t, saved)) in st.tables.iter_mut().zip(&s.tables).enumerate() {
            saved
                .put(t, resources)
                .map_err(|m| bad(format!("component instance {i}: {m}")))?;
        }
        st.poisoned.clone_from(&s.poisoned);
        Ok(())
    }
}

impl<T: 'static> ComponentFunc<T> {
    /// The function's type (with runtime resource type ids).
    pub fn ty(&self) -> &canonical_abi::FuncType {
        self.def.ty()
    }

    /// The name used in messages.
    pub fn name(&self) -> String {
        self.def.name()
    }

    /// Resumes the call of this function that a checkpoint suspended in its
    /// core function (`call`, saved by [`ComponentInstance::capture`], and
    /// `vm`, core-vm's state; [`ComponentInstance::restore`] done first):
    /// the core function runs on from `vm`, then the call ends as
    /// [`ComponentFunc::call`] would (lift, `post-return`, borrow check).
    pub fn resume(
        &self,
        store: &mut Store<T>,
        call: &CallState,
        vm: &core_vm::ExecState,
    ) -> Result<Vec<Val>, Error> {
        let FuncDef::Lifted(l) = &self.def else {
            return Err(Error::Checkpoint {
                busy: false,
                message: format!("`{}` is not a lifted function", self.name()),
            });
        };
        if call.func != l.name || call.instance != l.instance.0 {
            return Err(Error::Checkpoint {
                busy: false,
                message: format!(
                    "the checkpoint suspended `{}` (component instance {}), not `{}`",
                    call.func, call.instance, l.name
                ),
            });
        }
        call_lifted(&self.shared, store, l, &[], Entry::Host(Some(vm)))
    }

    /// Calls the function: type-checks `args`, lowers them, runs it, lifts
    /// the results, then runs `post-return`.
    pub fn call(&self, store: &mut Store<T>, args: &[Val]) -> Result<Vec<Val>, Error> {
        match &self.def {
            FuncDef::Lifted(l) => call_lifted(&self.shared, store, l, args, Entry::Host(None)),
            FuncDef::Import { path, ty } => {
                let name = import_path_name(path);
                let params = ty.param_types();
                if args.len() != params.len() {
                    return Err(Error::Type {
                        func: name,
                        message: format!("expected {} argument(s)", params.len()),
                    });
                }
                for (v, t) in args.iter().zip(&params) {
                    v.type_check(t).map_err(|e| Error::Type {
                        func: name.clone(),
                        message: e.to_string(),
                    })?;
                }
                let f = match self.shared.host_funcs.get(path).map(|b| &b.imp) {
                    Some(HostImpl::Vals(f)) => f.clone(),
                    Some(HostImpl::Typed { .. }) => {
                        return Err(Error::Unsupported(format!(
                            "{name} is a flat host function (Linker::func_typed): only a guest's canon lower can call it"
                        )))
                    }
                    None => return Err(Error::NotFound(name.clone())),
                };
                let mut hcx = HostContext {
                    store,
                    memory: None,
                    realloc: None,
                    func_name: &name,
                    resources: None,
                };
                let out = f(&mut hcx, args).map_err(|trap| Error::Trap {
                    func: name.clone(),
                    trap,
                })?;
                check_results(&name, ty, &out)?;
                Ok(out)
            }
        }
    }
}
