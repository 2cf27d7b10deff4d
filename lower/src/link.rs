//! The component side of lowering: turns component-model's flat
//! description of a component ([`FlatComponent`]) and the WASI library
//! into inputs of the [`Merger`], resolving every import of every core
//! instance to an [`Origin`].
//!
//! * A core instance's import that names an earlier instance's export
//!   resolves to what that export is (followed through re-exports).
//! * A `canon lower` of a WASI function resolves to the library's export of
//!   the same function (the interface matched by semver, as the
//!   interpreter's linker does), after checking its core type; from
//!   another memory than the library's, or with strings in another
//!   encoding than UTF-8, through an adapter ([`crate::adapter`]).
//! * A `resource.drop` of a WASI resource resolves to the library's
//!   `[resource-drop]R`; `resource.new`, `resource.rep` and `resource.drop`
//!   of a resource the component defines, to generated functions on its
//!   handle table ([`crate::resources`]).
//! * A `canon lower` of a function another component instance lifts, to a
//!   fused adapter ([`crate::adapter`]) with the moves of the handles of
//!   component-defined resources its type passes.
//! * The library's own imports: `wasi_snapshot_preview1` functions become
//!   the output's imports, its memory is the component's (the *primary*
//!   memory), its `cabi_realloc` is the guest's `realloc` (see
//!   [`crate::glue`] for several). A component that defines no memory at
//!   all (its canonical options then name none, so its WASI calls pass
//!   scalars only) gets one for the library: a one-memory module added as
//!   the last input ([`ADDED_MEMORY`]).
//! * With `--invoke`, a reactor's lifted functions are collected with their
//!   types and options for the library's export table (any memory, any
//!   string encoding: the library lifts and lowers them), and the
//!   library's `p2lib-invoke` imports are left for the glue
//!   ([`crate::invoke`]); a command is refused.
//! * Once every import is resolved, an import that names a forwarder of
//!   wit-component's indirect-call shim is resolved to the function its
//!   slot holds, where that is provably fixed ([`crate::forward`]).
//!
//! Invariants: each static core module is instantiated at most once (else
//! refused, naming it); the library is input 0, the component's core
//! instances follow in instantiation order, so instance `k` is
//! `InputId(k + 1)` (an added memory's module comes after the last).
//! Anything not listed above is refused with a message naming it.

use crate::adapter::{has_strings, Adapters, Callee, HandleMoves, Side};
use crate::error::LowerError;
use crate::merge::{encoder_func_type, GlueFunc, GlueGlobal, InputId, Kind, Merger, Origin};
use crate::module::ModuleInfo;
use crate::resources::{self, Hooks, Move};
use canonical_abi::{flatten_functype, FlattenContext, FuncType, StringEncoding, ValueType};
use component_model::inline::{
    CoreDef, FlatComponent, FlatInit, FuncDef, InstanceDef, ItemDef, LiftedFunc, RuntimeResource,
    Trampoline, TrampolineIndex,
};
use component_model::linker::resolve_interface;
use std::collections::HashMap;
use wasmparser::TypeRef;

/// The module name of the library's functions the output keeps importing.
pub const P1: &str = "wasi_snapshot_preview1";

/// The module added as an input when the component defines no memory:
/// one memory of 0 pages (its minimum is raised to the library's region),
/// exporting nothing.
pub const ADDED_MEMORY: &[u8] = b"\0asm\x01\0\0\0\x05\x03\x01\x00\x00";

/// The library's initialization function (see the crate docs).
pub const INIT: &str = "p2lib_init";
/// The library's report of a Canonical ABI error found by the generated
/// code (`canonical_abi::CanonError`; optional: without it that code
/// traps).
pub const CANON_ERROR: &str = "p2lib_canon_error";
/// The library's phase, the Canonical ABI's `may_leave` of the merged
/// module (optional: without it, `may_leave` is not checked).
pub const PHASE: &str = "p2lib_phase";

/// The lifted `run` of a command, as merged origins.
pub struct Run {
    pub func: Origin,
    pub post_return: Option<Origin>,
}

/// One function a lowered reactor exports.
pub struct ReactorFunc {
    /// `name` (a top-level export) or `instance#name`.
    pub name: String,
    pub func: Origin,
    pub post_return: Option<Origin>,
}

/// The exports of a lowered reactor.
pub struct Reactor {
    pub funcs: Vec<ReactorFunc>,
    /// The `realloc` of the exports' `canon lift`s, exported as
    /// `cabi_realloc`.
    pub realloc: Option<Origin>,
}

/// What the lowered module runs.
pub enum Entry {
    Command(Run),
    Reactor(Reactor),
    /// A reactor lowered with `--invoke` ([`crate::invoke`]).
    Invoke(crate::invoke::Invoke),
}

/// A lifted function a reactor exports: its instance (`None` at the top
/// level), its name and what it lifts.
type Exported<'c> = (Option<&'c str>, &'c str, &'c LiftedFunc);

/// The names a lowered reactor exports itself.
pub const RESERVED: &[&str] = &["_initialize", "_start", "memory", "cabi_realloc"];

/// A lowered WASI import whose `realloc` is not the first one: the
/// generated function that sets the current realloc and calls the library.
pub struct Thunk {
    pub glue: GlueFunc,
    pub callee: Origin,
    /// Position in [`Linked::reallocs`].
    pub realloc: u32,
}

/// What linking found, for the glue.
pub struct Linked {
    pub library: InputId,
    /// The component's memory the library shares (exported as `memory`).
    pub primary: Origin,
    pub init: Origin,
    pub entry: Entry,
    /// The distinct `realloc`s of the lowered WASI imports, first seen
    /// first (at most one in the common case).
    pub reallocs: Vec<Origin>,
    /// Index of the library's `cabi_realloc` import, if it has one.
    pub library_realloc: Option<usize>,
    /// With several reallocs: the thunks, and the global holding the
    /// position of the current one in `reallocs`.
    pub thunks: Vec<Thunk>,
    pub current_realloc: Option<GlueGlobal>,
    /// The component's exports besides `wasi:cli/run`, which the lowered
    /// command does not keep (as `wasmtime run` never calls them).
    pub unreachable_exports: Vec<String>,
    /// The handle tables of the component's own resources.
    pub resources: resources::Tables,
    /// The fused adapters (component-to-component calls, WASI calls from
    /// another memory than the primary one).
    pub adapters: Adapters,
    /// The library's functions the generated code calls.
    pub hooks: Hooks<Origin>,
    /// The scratch allocator's position in [`Linked::reallocs`], if any.
    pub scratch_realloc: Option<u32>,
    /// The library's functions the component's imports and the glue use
    /// (every one taken through `library_export`), in the library's own
    /// function index space: the roots of [`crate::reach::reachable`].
    pub library_roots: Vec<u32>,
    /// The library's imports of module [`crate::invoke::HOOKS`] (index,
    /// name), resolved by the glue.
    pub invoke_imports: Vec<(usize, String)>,
}

/// The component and the library, being linked.
pub struct Linker<'c, 'm> {
    pub comp: &'c FlatComponent,
    pub merger: Merger<'m>,
    library: InputId,
    /// Library interface names (`wasi:io/streams@0.2.12`), for semver.
    lib_interfaces: Vec<String>,
    trampolines: HashMap<TrampolineIndex, Origin>,
    primary: Option<Origin>,
    reallocs: Vec<Origin>,
    /// The lowered imports with a `realloc`: library function and realloc.
    realloc_of: Vec<(TrampolineIndex, Origin, Origin)>,
    /// Exports besides `wasi:cli/run`: a p1 command cannot call them.
    unreachable_exports: Vec<String>,
    /// The handle tables of the component's own resources.
    resources: resources::Tables,
    adapters: Adapters,
    /// The library's functions handed out so far (see [`Linked::library_roots`]).
    library_used: std::cell::RefCell<Vec<Origin>>,
    /// `--invoke`: a reactor's exports are called by the library.
    invoke: bool,
    invoke_imports: Vec<(usize, String)>,
}

fn instance_input(i: u32) -> InputId {
    InputId(i + 1)
}

/// A label for static module `m`: `core module 2 (wit-component:shim)`.
pub fn module_label(m: usize, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("core module {m} (`{n}`)"),
        None => format!("core module {m}"),
    }
}

impl<'c, 'm> Linker<'c, 'm> {
    /// Adds the library and every core instance of `comp` to a merger.
    /// `bytes` is the component, `library` the library's module.
    pub fn new(
        comp: &'c FlatComponent,
        bytes: &'m [u8],
        library: &'m [u8],
    ) -> Result<Self, LowerError> {
        let mut merger = Merger::new();
        let lib = ModuleInfo::parse(library, "the WASI library".into())?;
        let mut lib_interfaces: Vec<String> = lib
            .exports
            .iter()
            .filter_map(|e| e.name.split_once('#').map(|(i, _)| i.to_string()))
            .collect();
        lib_interfaces.sort();
        lib_interfaces.dedup();
        let library = merger.add_input(lib);
        let mut seen: HashMap<usize, usize> = HashMap::new();
        for init in &comp.flat.inits {
            let FlatInit::Instantiate { module, .. } = init;
            let m = module.index();
            let range = comp.modules[m].range.clone();
            let module_bytes = bytes.get(range).ok_or_else(|| LowerError::Malformed {
                what: module_label(m, None),
                message: "module out of the component's bounds".into(),
                offset: 0,
            })?;
            let name = module_name(module_bytes);
            let label = module_label(m, name);
            let count = seen.entry(m).or_insert(0);
            *count += 1;
            if *count > 1 {
                return Err(LowerError::Unsupported(format!(
                    "{label} is instantiated more than once"
                )));
            }
            merger.add_input(ModuleInfo::parse(module_bytes, label)?);
        }
        Ok(Linker {
            comp,
            merger,
            library,
            lib_interfaces,
            trampolines: HashMap::new(),
            primary: None,
            reallocs: Vec::new(),
            realloc_of: Vec::new(),
            unreachable_exports: Vec::new(),
            resources: resources::Tables::default(),
            adapters: Adapters::default(),
            library_used: Default::default(),
            invoke: false,
            invoke_imports: Vec::new(),
        })
    }

    /// Lowers a reactor for `--invoke` (see [`crate::invoke`]).
    pub fn invoke(mut self, invoke: bool) -> Self {
        self.invoke = invoke;
        self
    }

    /// Resolves every import (see module docs) and finds `run`.
    pub fn link(mut self) -> Result<(Merger<'m>, Linked), LowerError> {
        self.check_imports()?;
        self.primary = self.entry_memory();
        self.resolve_instances()?;
        if let Some(scratch) = self.adapters.scratch() {
            // The scratch serves the adapters' calls only: the library's
            // other allocations go to the guest's realloc (first, the
            // default of the dispatcher).
            self.reallocs.retain(|r| *r != scratch);
            if self.reallocs.is_empty() {
                let fallback = match crate::glue::exported_realloc(&self.merger, self.library) {
                    Some(r) => r,
                    None => self.adapters.trap_realloc(&mut self.merger),
                };
                self.reallocs.push(fallback);
            }
            self.reallocs.push(scratch);
        }
        let mut thunks = Vec::new();
        let mut current_realloc = None;
        if self.reallocs.len() > 1 {
            // Calls through thunks that name their realloc; then resolve
            // again, so that every use (re-exports too) sees the thunks.
            let cur = self.merger.declare_i32_global("current realloc", 0);
            current_realloc = Some(cur);
            for (t, callee, realloc) in std::mem::take(&mut self.realloc_of) {
                let k = self
                    .reallocs
                    .iter()
                    .position(|r| *r == realloc)
                    .unwrap_or(0);
                if k == 0 {
                    continue;
                }
                let ty = self.merger.func_type(callee).ok_or_else(|| {
                    LowerError::Library("a lowered import is not a function".into())
                })?;
                let glue = self
                    .merger
                    .declare_glue(&format!("realloc thunk {k} of trampoline {t}"), ty);
                thunks.push(Thunk {
                    glue,
                    callee,
                    realloc: k as u32,
                });
                self.trampolines.insert(t, Origin::Glue(glue));
            }
            self.resolve_instances()?;
        }
        let instances: Vec<InputId> = self.merger.inputs().skip(1).collect();
        crate::forward::direct_calls(&mut self.merger, &instances)?;
        let entry = self.find_entry()?;
        let init = self.library_export(INIT)?;
        check_type(&self.merger, init, &[], &[], INIT)?;
        let post_return = match &entry {
            Entry::Command(run) => run.post_return.is_some(),
            Entry::Reactor(r) => r.funcs.iter().any(|f| f.post_return.is_some()),
            Entry::Invoke(i) => i.funcs.iter().any(|f| f.post_return.is_some()),
        };
        let generated = self.resources.any() || self.adapters.any();
        use wasm_encoder::ValType::I32;
        // The library's report and phase, when generated code or a
        // post-return call needs them.
        let hooks = Hooks {
            report: if generated {
                self.optional_library_export(CANON_ERROR, &[I32; 2], &[])?
            } else {
                None
            },
            phase: if generated || post_return {
                self.optional_library_export(PHASE, &[I32], &[I32])?
            } else {
                None
            },
        };
        if self.primary.is_none() {
            self.primary = self.sole_memory();
        }
        if self.primary.is_none() && self.component_memories() == 0 {
            // No guest memory at all: nothing of the component reads or
            // writes one (no canonical option can name a memory), so the
            // library gets a memory of its own, memory 0 of the output.
            let added = self.merger.add_input(ModuleInfo::parse(
                ADDED_MEMORY,
                "the memory added for the WASI library".into(),
            )?);
            self.primary = Some(Origin::Defined {
                input: added,
                kind: Kind::Memory,
                index: 0,
            });
        }
        let primary = self.primary.ok_or_else(|| {
            LowerError::Unsupported(format!(
                "the component has {} linear memories and no canonical option names one, \
                 so none is known to be the one for the WASI library",
                self.component_memories()
            ))
        })?;
        self.merger.set_primary_memory(primary);
        let library_realloc = self.resolve_library_imports(primary)?;
        let scratch_realloc = match self.adapters.scratch() {
            Some(s) => self.reallocs.iter().position(|r| *r == s).map(|k| k as u32),
            None => None,
        };
        let library_roots = self.library_roots();
        let linked = Linked {
            library: self.library,
            primary,
            init,
            entry,
            reallocs: self.reallocs,
            library_realloc,
            thunks,
            current_realloc,
            unreachable_exports: self.unreachable_exports,
            resources: self.resources,
            adapters: self.adapters,
            hooks,
            scratch_realloc,
            library_roots,
            invoke_imports: self.invoke_imports,
        };
        Ok((self.merger, linked))
    }

    /// The library's optional export `name`, if it has one (of core type
    /// `params -> results`, checked).
    fn optional_library_export(
        &mut self,
        name: &str,
        params: &[wasm_encoder::ValType],
        results: &[wasm_encoder::ValType],
    ) -> Result<Option<Origin>, LowerError> {
        if self.merger.export_origin(self.library, name).is_err() {
            return Ok(None);
        }
        let f = self.library_export(name)?;
        check_type(&self.merger, f, params, results, name)?;
        Ok(Some(f))
    }

    /// Every function the component imports must be in the library with
    /// the core type its `canon lower` would have, used or not (as
    /// instantiation on wasmtime or the interpreter requires every import).
    /// Only checks: the functions a core instance imports are the roots of
    /// the walk, recorded where they are resolved (a declared import no
    /// core instance lowers keeps nothing).
    fn check_imports(&self) -> Result<(), LowerError> {
        let recorded = self.library_used.borrow().len();
        for imp in &self.comp.flat.imports {
            for (path, ty) in &imp.funcs {
                let mut full = vec![imp.name.clone()];
                full.extend(path.iter().cloned());
                self.library_func(&full, ty)?;
            }
        }
        self.library_used.borrow_mut().truncate(recorded);
        Ok(())
    }

    /// The library's function for the WASI import at `path` of type `ty`,
    /// its core type checked.
    fn library_func(&self, path: &[String], ty: &FuncType) -> Result<Origin, LowerError> {
        let name = component_model::inline::import_path_name(path);
        let export = self.library_name(path, &name)?;
        let origin = self
            .library_export(&export)
            .map_err(|_| LowerError::Library(format!("no function for the import `{name}`")))?;
        let flat = flatten_functype(ty, FlattenContext::Lower);
        let lib_ty = self
            .merger
            .func_type(origin)
            .ok_or_else(|| LowerError::Library(format!("`{export}` is not a function")))?;
        let want = wasm_encoder::FuncType::new(
            flat.params.iter().map(|t| val_type(*t)),
            flat.results.iter().map(|t| val_type(*t)),
        );
        if want != lib_ty {
            return Err(LowerError::ImportType {
                import: name,
                component: show_type(&want),
                library: show_type(&lib_ty),
            });
        }
        Ok(origin)
    }

    /// Resolves every import of every core instance of the component.
    fn resolve_instances(&mut self) -> Result<(), LowerError> {
        let comp = self.comp;
        for (k, init) in comp.flat.inits.iter().enumerate() {
            let FlatInit::Instantiate { args, .. } = init;
            let input = instance_input(k as u32);
            for (i, arg) in args.iter().enumerate() {
                let origin = self.core_def(arg)?;
                self.merger.resolve(input, i, origin);
            }
        }
        Ok(())
    }

    /// The origin a [`CoreDef`] names.
    fn core_def(&mut self, def: &CoreDef) -> Result<Origin, LowerError> {
        match def {
            CoreDef::Export { instance, name } => {
                let input = instance_input(instance.0);
                if input.0 as usize >= self.merger.inputs().count() {
                    return Err(LowerError::Unsupported(format!(
                        "core instance {instance} used before it exists"
                    )));
                }
                self.merger.export_origin(input, name)
            }
            CoreDef::Trampoline(t) => self.trampoline(*t),
        }
    }

    fn trampoline(&mut self, t: TrampolineIndex) -> Result<Origin, LowerError> {
        if let Some(o) = self.trampolines.get(&t) {
            return Ok(*o);
        }
        let comp = self.comp;
        let origin = match &comp.flat.trampolines[t.index()] {
            Trampoline::Lower {
                callee: FuncDef::Import { path, .. },
                ty,
                opts,
                ..
            } => {
                let name = component_model::inline::import_path_name(path);
                let origin = self.library_func(path, ty)?;
                // The library takes UTF-8: another encoding is transcoded
                // through the scratch area, as another memory is copied.
                let transcode = opts.encoding != StringEncoding::Utf8 && has_strings(ty);
                if let Some(mem) = &opts.memory {
                    let mem = self.core_def(mem)?;
                    match self.primary {
                        None if !transcode => self.primary = Some(mem),
                        Some(p) if p == mem && !transcode => {}
                        _ => {
                            // Another component instance's memory (or
                            // encoding): copy through the scratch area of
                            // the primary one.
                            let primary = *self.primary.get_or_insert(mem);
                            let realloc = match &opts.realloc {
                                Some(r) => Some(self.core_def(r)?),
                                None => None,
                            };
                            let scratch = self.adapters.scratch_alloc(&mut self.merger);
                            if !self.reallocs.contains(&scratch) {
                                self.reallocs.push(scratch);
                            }
                            let glue = self.adapters.declare(
                                &mut self.merger,
                                &name,
                                ty,
                                Side {
                                    memory: Some(mem),
                                    realloc,
                                    encoding: opts.encoding,
                                },
                                Side {
                                    memory: Some(primary),
                                    realloc: Some(scratch),
                                    encoding: StringEncoding::Utf8,
                                },
                                Callee::Library { func: origin },
                                HandleMoves::default(),
                            );
                            self.trampolines.insert(t, Origin::Glue(glue));
                            return Ok(Origin::Glue(glue));
                        }
                    }
                }
                if let Some(r) = &opts.realloc {
                    let r = self.core_def(r)?;
                    if !self.reallocs.contains(&r) {
                        self.reallocs.push(r);
                    }
                    self.realloc_of.push((t, origin, r));
                }
                origin
            }
            Trampoline::Lower {
                callee: FuncDef::Lifted(l),
                ty,
                opts,
                name,
                instance,
            } => Origin::Glue(self.component_call(l, ty, opts, name, instance.0)?),
            Trampoline::ResourceDrop { rt, .. } => match &comp.flat.resources[rt.0 as usize] {
                RuntimeResource::Host { interface, name } if interface.is_empty() => {
                    return Err(LowerError::Unsupported(format!(
                        "`resource.drop` of `{name}`, a resource imported at the top level (lowered mode links WASI interface resources only)"
                    )))
                }
                RuntimeResource::Host { interface, name } => {
                    let path = [interface.clone(), format!("[resource-drop]{name}")];
                    let full = component_model::inline::import_path_name(&path);
                    let export = self.library_name(&path, &full)?;
                    let origin = self.library_export(&export).map_err(|_| {
                        LowerError::Library(format!("no destructor for the resource `{interface}#{name}`"))
                    })?;
                    check_type(&self.merger, origin, &[wasm_encoder::ValType::I32], &[], &export)?;
                    origin
                }
                RuntimeResource::Guest { dtor, .. } => {
                    let dtor = match dtor {
                        Some(d) => {
                            let d = self.core_def(d)?;
                            check_type(
                                &self.merger,
                                d,
                                &[wasm_encoder::ValType::I32],
                                &[],
                                "a resource destructor",
                            )?;
                            Some(d)
                        }
                        None => None,
                    };
                    let Trampoline::ResourceDrop { instance, .. } = &comp.flat.trampolines[t.index()]
                    else {
                        unreachable!("matched above")
                    };
                    Origin::Glue(self.resources.declare(
                        &mut self.merger,
                        instance.0,
                        rt.0,
                        resources::Op::Drop { dtor },
                    ))
                }
            },
            Trampoline::ResourceNew { rt, instance } => Origin::Glue(self.resources.declare(
                &mut self.merger,
                instance.0,
                rt.0,
                resources::Op::New,
            )),
            Trampoline::ResourceRep { rt, instance } => Origin::Glue(self.resources.declare(
                &mut self.merger,
                instance.0,
                rt.0,
                resources::Op::Rep,
            )),
        };
        self.trampolines.insert(t, origin);
        Ok(origin)
    }

    /// A `canon lower` of `l`, a function another component instance
    /// lifts, into component instance `caller`: a fused adapter between
    /// the two memories and handle tables (if the instance is the caller
    /// itself, a function that traps, as wasmtime's adapter does).
    fn component_call(
        &mut self,
        l: &LiftedFunc,
        ty: &FuncType,
        opts: &component_model::inline::OptionsDef,
        name: &str,
        caller: u32,
    ) -> Result<GlueFunc, LowerError> {
        if l.instance.0 == caller {
            return Ok(self
                .adapters
                .declare_cannot_enter(&mut self.merger, name, ty));
        }
        let what = format!("`{name}` (a call from one component to another)");
        let handles = self.handle_moves(ty, caller, l.instance.0, &what)?;
        let (func, post_return) = self.lifted_core(l, &what)?;
        let mut side = |o: &component_model::inline::OptionsDef| -> Result<Side, LowerError> {
            let memory = o.memory.as_ref().map(|m| self.core_def(m)).transpose()?;
            let realloc = o.realloc.as_ref().map(|r| self.core_def(r)).transpose()?;
            if let Some(r) = realloc {
                check_type(
                    &self.merger,
                    r,
                    &[wasm_encoder::ValType::I32; 4],
                    &[wasm_encoder::ValType::I32],
                    &format!("the realloc of {what}"),
                )?;
            }
            Ok(Side {
                memory,
                realloc,
                encoding: o.encoding,
            })
        };
        let caller = side(opts)?;
        let callee = side(&l.opts)?;
        Ok(self.adapters.declare(
            &mut self.merger,
            name,
            ty,
            caller,
            callee,
            Callee::Lifted { func, post_return },
            handles,
        ))
    }

    /// The moves of the handles of component-defined resource types that a
    /// call of type `ty` from instance `caller` to instance `callee` makes:
    /// `own` and `borrow` arguments from the caller's table to the
    /// callee's, `own` results back.
    fn handle_moves(
        &mut self,
        ty: &FuncType,
        caller: u32,
        callee: u32,
        what: &str,
    ) -> Result<HandleMoves, LowerError> {
        let mut found = Vec::new();
        for (_, t) in &ty.params {
            guest_handles(t, self.comp, false, &mut found);
        }
        if let Some(t) = &ty.result {
            guest_handles(t, self.comp, true, &mut found);
        }
        found.sort_unstable();
        found.dedup();
        let mut moves = HandleMoves::default();
        let (mut lends, mut borrows) = (false, false);
        for (rt, borrow, result) in found {
            let definer = match self.comp.flat.resources.get(rt as usize) {
                Some(RuntimeResource::Guest { instance, .. }) => instance.0,
                _ => {
                    return Err(LowerError::Unsupported(format!(
                        "{what} passes a handle of resource type {rt}, which is not a WASI resource nor defined by a component instance"
                    )))
                }
            };
            let (how, from, to) = match (borrow, result) {
                (false, false) => (Move::Own, caller, callee),
                (false, true) => (Move::Own, callee, caller),
                (true, false) => {
                    lends = true;
                    borrows |= definer != callee;
                    let taker_defines = definer == callee;
                    (Move::Borrow { taker_defines }, caller, callee)
                }
                (true, true) => {
                    return Err(LowerError::Unsupported(format!(
                        "{what} returns a borrow handle"
                    )))
                }
            };
            let f = self.resources.transfer(&mut self.merger, rt, how, from, to);
            moves.moves.push((rt, borrow, result, f));
        }
        moves.end = self
            .resources
            .call_end(&mut self.merger, caller, callee, lends, borrows);
        Ok(moves)
    }

    /// The memory the library should share, as far as the exports tell
    /// before anything is resolved: the memory `run` (a command) or the
    /// first export with a memory (a reactor) is lifted with, else the
    /// first memory of the core instance that defines `run`.
    fn entry_memory(&self) -> Option<Origin> {
        let mut lifted = Vec::new();
        for (name, item) in &self.comp.flat.exports {
            match item {
                ItemDef::Instance(InstanceDef::Items(items)) => {
                    for (f, item) in items.iter() {
                        if let ItemDef::Func(FuncDef::Lifted(l)) = item {
                            if is_run_interface(name) && f == "run" {
                                lifted.insert(0, l);
                            } else {
                                lifted.push(l);
                            }
                        }
                    }
                }
                ItemDef::Func(FuncDef::Lifted(l)) => lifted.push(l),
                _ => {}
            }
        }
        for l in &lifted {
            if let Some(m) = &l.opts.memory {
                return self.peek(m);
            }
        }
        let Origin::Defined { input, .. } = self.peek(&lifted.first()?.core)? else {
            return None;
        };
        let info = self.merger.info(input);
        if info.imported_memories + info.memories.len() as u32 == 0 {
            return None;
        }
        self.peek_local(input, Kind::Memory, 0)
    }

    /// The item a [`CoreDef`] names, followed through the imports of the
    /// instances (before they are resolved); `None` for a trampoline.
    fn peek(&self, def: &CoreDef) -> Option<Origin> {
        let CoreDef::Export { instance, name } = def else {
            return None;
        };
        let input = instance_input(instance.0);
        if input.0 as usize >= self.merger.inputs().count() {
            return None;
        }
        let e = self.merger.info(input).export(name)?;
        self.peek_local(input, Kind::of_external(e.kind)?, e.index)
    }

    fn peek_local(&self, input: InputId, kind: Kind, index: u32) -> Option<Origin> {
        let info = self.merger.info(input);
        let mut n = 0;
        for (i, imp) in info.imports.iter().enumerate() {
            if Kind::of_import(&imp.ty) == Some(kind) {
                if n == index {
                    let FlatInit::Instantiate { args, .. } =
                        self.comp.flat.inits.get(input.0 as usize - 1)?;
                    return self.peek(args.get(i)?);
                }
                n += 1;
            }
        }
        Some(Origin::Defined {
            input,
            kind,
            index: index - n,
        })
    }

    /// The library export name for an import path (`[interface, func]`).
    fn library_name(&self, path: &[String], name: &str) -> Result<String, LowerError> {
        let [iface, func] = path else {
            return Err(LowerError::Unsupported(format!(
                "import `{name}`: lowered mode links WASI interface functions only"
            )));
        };
        let lib_iface = resolve_interface(iface, self.lib_interfaces.iter().map(String::as_str))
            .ok_or_else(|| {
                LowerError::Unsupported(format!(
                    "import `{name}`: the WASI library has no interface `{iface}`"
                ))
            })?;
        Ok(format!("{lib_iface}#{func}"))
    }

    /// The library's export `name`: the one way a library function is
    /// reached from outside it (recorded as a root of the walk).
    fn library_export(&self, name: &str) -> Result<Origin, LowerError> {
        let origin = self.merger.export_origin(self.library, name)?;
        self.library_used.borrow_mut().push(origin);
        Ok(origin)
    }

    /// The recorded library functions, in its own index space.
    fn library_roots(&self) -> Vec<u32> {
        let imported = self.merger.info(self.library).imported_funcs;
        self.library_used
            .borrow()
            .iter()
            .filter_map(|o| match *o {
                Origin::Defined {
                    input,
                    kind: Kind::Func,
                    index,
                } if input == self.library => Some(imported + index),
                _ => None,
            })
            .collect()
    }

    /// How many memories the component's core modules define.
    fn component_memories(&self) -> usize {
        (self.merger.inputs().skip(1))
            .map(|input| self.merger.info(input).memories.len())
            .sum()
    }

    /// The only memory defined by the component's instances, if exactly one.
    fn sole_memory(&self) -> Option<Origin> {
        let mut found = None;
        for input in self.merger.inputs().skip(1) {
            for m in 0..self.merger.info(input).memories.len() as u32 {
                if found.is_some() {
                    return None;
                }
                found = Some(Origin::Defined {
                    input,
                    kind: Kind::Memory,
                    index: m,
                });
            }
        }
        found
    }

    /// Finds what the lowered module runs: the lifted
    /// `wasi:cli/run@0.2.x#run` of a command, or else every lifted function
    /// a reactor exports.
    fn find_entry(&mut self) -> Result<Entry, LowerError> {
        let comp = self.comp;
        let mut run = None;
        for (name, item) in &comp.flat.exports {
            if let ItemDef::Instance(InstanceDef::Items(items)) = item {
                if is_run_interface(name) {
                    match items.iter().find(|(n, _)| n == "run") {
                        Some((_, ItemDef::Func(FuncDef::Lifted(l)))) => run = Some(l.clone()),
                        _ => {
                            return Err(LowerError::Unsupported(format!(
                                "export `{name}` has no lifted `run` function"
                            )))
                        }
                    }
                    continue;
                }
            }
            if !matches!(item, ItemDef::Type) {
                self.unreachable_exports.push(name.clone());
            }
        }
        match run {
            Some(_) if self.invoke => Err(LowerError::Unsupported(
                "`--invoke` lowers a reactor, and this is a command (it exports `wasi:cli/run`): lower it without `--invoke`".into(),
            )),
            Some(l) => self.command(&l).map(Entry::Command),
            None if self.invoke => {
                self.unreachable_exports.clear();
                self.invoke_entry().map(Entry::Invoke)
            }
            None => {
                self.unreachable_exports.clear();
                self.reactor().map(Entry::Reactor)
            }
        }
    }

    fn command(&mut self, l: &LiftedFunc) -> Result<Run, LowerError> {
        let result_ok = matches!(
            &l.ty.result,
            Some(ValueType::Result {
                ok: None,
                err: None
            })
        );
        if !l.ty.params.is_empty() || !result_ok {
            return Err(LowerError::Unsupported(
                "`wasi:cli/run#run` does not have the type `func() -> result`".into(),
            ));
        }
        let (func, post_return) = self.lifted(l, "run")?;
        Ok(Run { func, post_return })
    }

    /// The core function and post-return of a lifted function (`what`
    /// names it), their core types checked against the `canon lift` of its
    /// type.
    fn lifted_core(
        &mut self,
        l: &LiftedFunc,
        what: &str,
    ) -> Result<(Origin, Option<Origin>), LowerError> {
        let flat = flatten_functype(&l.ty, FlattenContext::Lift);
        let params: Vec<_> = flat.params.iter().map(|t| val_type(*t)).collect();
        let results: Vec<_> = flat.results.iter().map(|t| val_type(*t)).collect();
        let func = self.core_def(&l.core)?;
        check_type(
            &self.merger,
            func,
            &params,
            &results,
            &format!("the lifted {what}"),
        )?;
        let post_return = match &l.opts.post_return {
            Some(p) => {
                let p = self.core_def(p)?;
                check_type(
                    &self.merger,
                    p,
                    &results,
                    &[],
                    &format!("the post-return of {what}"),
                )?;
                Some(p)
            }
            None => None,
        };
        Ok((func, post_return))
    }

    /// [`Self::lifted_core`] of an exported function, whose memory is
    /// the primary one.
    fn lifted(
        &mut self,
        l: &LiftedFunc,
        name: &str,
    ) -> Result<(Origin, Option<Origin>), LowerError> {
        let (func, post_return) = self.lifted_core(l, &format!("`{name}`"))?;
        if let Some(m) = &l.opts.memory {
            let m = self.core_def(m)?;
            match self.primary {
                None => self.primary = Some(m),
                Some(p) if p == m => {}
                Some(_) => {
                    return Err(LowerError::Unsupported(format!(
                        "export `{name}` is lifted from another memory than memory 0 (a lowered module's exports come from one inner component)"
                    )))
                }
            }
        }
        if l.opts.encoding != StringEncoding::Utf8 && has_strings(&l.ty) {
            return Err(LowerError::Unsupported(format!(
                "export `{name}` is lifted with string-encoding={} (a lowered reactor's exports take UTF-8)",
                encoding_name(l.opts.encoding)
            )));
        }
        Ok((func, post_return))
    }

    /// Every exported lifted function of a reactor, at the top level or in
    /// an exported instance (instance name, function name), in export
    /// order; anything else exported is refused.
    fn reactor_exports(&self) -> Result<Vec<Exported<'c>>, LowerError> {
        let comp = self.comp;
        let mut lifted = Vec::new();
        for (name, item) in &comp.flat.exports {
            match item {
                ItemDef::Func(FuncDef::Lifted(l)) => lifted.push((None, name.as_str(), &**l)),
                ItemDef::Instance(InstanceDef::Items(items)) => {
                    for (f, item) in items.iter() {
                        match item {
                            ItemDef::Func(FuncDef::Lifted(l)) => {
                                lifted.push((Some(name.as_str()), f.as_str(), &**l))
                            }
                            ItemDef::Type => {}
                            _ => {
                                return Err(LowerError::Unsupported(format!(
                                    "export `{name}#{f}`: a lowered reactor exports lifted functions only"
                                )))
                            }
                        }
                    }
                }
                ItemDef::Type => {}
                _ => {
                    return Err(LowerError::Unsupported(format!(
                        "export `{name}`: a lowered reactor exports lifted functions only"
                    )))
                }
            }
        }
        Ok(lifted)
    }

    /// A reactor: every exported lifted function, at the top level or in
    /// an exported instance (named `instance#function`); possibly none
    /// (then the output only has `_initialize`).
    fn reactor(&mut self) -> Result<Reactor, LowerError> {
        let mut funcs = Vec::new();
        let mut realloc: Option<Origin> = None;
        for (instance, f, l) in self.reactor_exports()? {
            let name = match instance {
                Some(i) => format!("{i}#{f}"),
                None => f.to_string(),
            };
            let (func, post_return) = self.lifted(l, &name)?;
            if let Some(r) = &l.opts.realloc {
                let r = self.core_def(r)?;
                match realloc {
                    None => realloc = Some(r),
                    Some(x) if x == r => {}
                    Some(_) => {
                        return Err(LowerError::Unsupported(format!(
                            "export `{name}` is lifted with another realloc than the other exports (one `cabi_realloc` is exported)"
                        )))
                    }
                }
            }
            if RESERVED.contains(&name.as_str()) || name.starts_with("cabi_post_") {
                return Err(LowerError::Unsupported(format!(
                    "export `{name}`: the name is taken by the lowered reactor's own exports"
                )));
            }
            funcs.push(ReactorFunc {
                name,
                func,
                post_return,
            });
        }
        Ok(Reactor { funcs, realloc })
    }

    /// A reactor lowered with `--invoke`: every exported lifted function,
    /// with its type and options for the library's export table; its
    /// memory and strings may be any (the library lifts and lowers
    /// through the glue), and the library's entry points are roots.
    fn invoke_entry(&mut self) -> Result<crate::invoke::Invoke, LowerError> {
        let mut funcs = Vec::new();
        for (instance, name, l) in self.reactor_exports()? {
            let what = match instance {
                Some(i) => format!("`{i}#{name}`"),
                None => format!("`{name}`"),
            };
            let (core, post_return) = self.lifted_core(l, &what)?;
            let memory = l
                .opts
                .memory
                .as_ref()
                .map(|m| self.core_def(m))
                .transpose()?;
            let realloc = l
                .opts
                .realloc
                .as_ref()
                .map(|r| self.core_def(r))
                .transpose()?;
            funcs.push(crate::invoke::Target {
                func: canonical_abi::invoke::InvokeFunc {
                    instance: instance.map(str::to_string),
                    name: name.to_string(),
                    ty: l.ty.clone(),
                    opts: canonical_abi::CanonicalOptions {
                        string_encoding: l.opts.encoding,
                        has_memory: memory.is_some(),
                        has_realloc: realloc.is_some(),
                        has_post_return: post_return.is_some(),
                    },
                },
                core,
                post_return,
                memory,
                realloc,
            });
        }
        let missing = |_| {
            LowerError::Library(format!(
                "the WASI library has no `{}`: `--invoke` needs the library built with `--features invoke` (target/p2lib-invoke.wasm)",
                crate::invoke::RUN
            ))
        };
        use wasm_encoder::ValType::I32;
        let table = self.library_export(crate::invoke::TABLE).map_err(missing)?;
        check_type(&self.merger, table, &[I32], &[I32], crate::invoke::TABLE)?;
        let run = self.library_export(crate::invoke::RUN).map_err(missing)?;
        check_type(&self.merger, run, &[I32; 2], &[], crate::invoke::RUN)?;
        Ok(crate::invoke::Invoke {
            funcs,
            table,
            run,
            hole: None,
        })
    }

    /// Resolves the library's imports; returns the index of its
    /// `cabi_realloc` import (resolved later, by the glue).
    fn resolve_library_imports(&mut self, primary: Origin) -> Result<Option<usize>, LowerError> {
        let imports: Vec<_> = self.merger.info(self.library).imports.to_vec();
        let mut realloc = None;
        for (i, imp) in imports.iter().enumerate() {
            match (imp.module, imp.ty) {
                (P1, TypeRef::Func(t)) => {
                    let ty = self
                        .merger
                        .info(self.library)
                        .types
                        .get(t as usize)
                        .map(encoder_func_type)
                        .ok_or_else(|| {
                            LowerError::Library(format!("bad type of `{}`", imp.name))
                        })?;
                    let o = self.merger.import_func_if_used(P1, imp.name, ty)?;
                    self.merger.resolve(self.library, i, Origin::Import(o));
                }
                (_, TypeRef::Memory(_)) => self.merger.resolve(self.library, i, primary),
                (_, TypeRef::Func(_)) if imp.name == "cabi_realloc" => realloc = Some(i),
                (crate::invoke::HOOKS, TypeRef::Func(_)) => {
                    self.invoke_imports.push((i, imp.name.to_string()))
                }
                _ => {
                    return Err(LowerError::Library(format!(
                        "unexpected import `{}` `{}`",
                        imp.module, imp.name
                    )))
                }
            }
        }
        Ok(realloc)
    }
}

/// The largest initial size, in pages, of the memories the component's
/// instantiated core modules define: the WASI library's region starts
/// there.
pub fn largest_memory(comp: &FlatComponent, bytes: &[u8]) -> Result<u32, LowerError> {
    let mut pages = 0u64;
    for init in &comp.flat.inits {
        let FlatInit::Instantiate { module, .. } = init;
        let m = module.index();
        let module_bytes = bytes.get(comp.modules[m].range.clone()).unwrap_or_default();
        for payload in wasmparser::Parser::new(0).parse_all(module_bytes) {
            let bad = |e: wasmparser::BinaryReaderError| LowerError::Malformed {
                what: module_label(m, None),
                message: e.message().to_string(),
                offset: e.offset() as usize,
            };
            match payload.map_err(bad)? {
                wasmparser::Payload::MemorySection(r) => {
                    for mem in r {
                        let mem = mem.map_err(bad)?;
                        if mem.memory64 || mem.shared {
                            return Err(LowerError::Unsupported(format!(
                                "a 64-bit or shared memory in {}",
                                module_label(m, None)
                            )));
                        }
                        pages = pages.max(mem.initial);
                    }
                }
                // Nothing after the memory section matters here.
                wasmparser::Payload::GlobalSection(_)
                | wasmparser::Payload::CodeSectionStart { .. } => break,
                _ => {}
            }
        }
    }
    u32::try_from(pages).map_err(|_| LowerError::Unsupported("a memory too large".into()))
}

fn is_run_interface(name: &str) -> bool {
    name.strip_prefix("wasi:cli/run@0.2.").is_some_and(|v| {
        v.split(['-', '+'])
            .next()
            .is_some_and(|p| p.parse::<u32>().is_ok())
    })
}

/// The module name of a core module's `name` section.
fn module_name(bytes: &[u8]) -> Option<&str> {
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let Ok(wasmparser::Payload::CustomSection(c)) = payload else {
            continue;
        };
        if let wasmparser::KnownCustom::Name(names) = c.as_known() {
            for n in names.into_iter().flatten() {
                if let wasmparser::Name::Module { name, .. } = n {
                    return Some(name);
                }
            }
        }
    }
    None
}

pub fn val_type(t: canonical_abi::CoreType) -> wasm_encoder::ValType {
    use canonical_abi::CoreType as C;
    match t {
        C::I32 => wasm_encoder::ValType::I32,
        C::I64 => wasm_encoder::ValType::I64,
        C::F32 => wasm_encoder::ValType::F32,
        C::F64 => wasm_encoder::ValType::F64,
    }
}

fn show_type(t: &wasm_encoder::FuncType) -> String {
    let list = |v: &[wasm_encoder::ValType]| {
        v.iter()
            .map(|t| match t {
                wasm_encoder::ValType::I32 => "i32",
                wasm_encoder::ValType::I64 => "i64",
                wasm_encoder::ValType::F32 => "f32",
                wasm_encoder::ValType::F64 => "f64",
                wasm_encoder::ValType::V128 => "v128",
                wasm_encoder::ValType::Ref(_) => "ref",
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!("[{}] -> [{}]", list(t.params()), list(t.results()))
}

/// Checks that function `origin` has the given core type.
fn check_type(
    merger: &Merger<'_>,
    origin: Origin,
    params: &[wasm_encoder::ValType],
    results: &[wasm_encoder::ValType],
    what: &str,
) -> Result<(), LowerError> {
    let want = wasm_encoder::FuncType::new(params.iter().copied(), results.iter().copied());
    match merger.func_type(origin) {
        Some(t) if t == want => Ok(()),
        Some(t) => Err(LowerError::Unsupported(format!(
            "{what} has the core type {}, not {}",
            show_type(&t),
            show_type(&want)
        ))),
        None => Err(LowerError::Unsupported(format!("{what} is not a function"))),
    }
}

fn encoding_name(e: StringEncoding) -> &'static str {
    match e {
        StringEncoding::Utf8 => "utf8",
        StringEncoding::Utf16 => "utf16",
        StringEncoding::CompactUtf16 => "latin1+utf16",
    }
}

/// Every `(resource type, borrow, result)` of a handle in `t` (in the
/// results if `result`) whose resource type is not a WASI one.
fn guest_handles(
    t: &ValueType,
    comp: &FlatComponent,
    result: bool,
    out: &mut Vec<(u32, bool, bool)>,
) {
    let mut walk = |t| guest_handles(t, comp, result, out);
    match t {
        ValueType::Own(rt) | ValueType::Borrow(rt)
            if !matches!(
                comp.flat.resources.get(rt.0 as usize),
                Some(RuntimeResource::Host { .. })
            ) =>
        {
            out.push((rt.0, matches!(t, ValueType::Borrow(_)), result));
        }
        ValueType::List(t) | ValueType::Option(t) => walk(t),
        ValueType::Record(fs) => fs.iter().for_each(|(_, t)| walk(t)),
        ValueType::Tuple(ts) => ts.iter().for_each(walk),
        ValueType::Variant(cs) => cs.iter().flat_map(|(_, t)| t).for_each(walk),
        ValueType::Result { ok, err } => ok.iter().chain(err.iter()).for_each(|t| walk(t)),
        _ => {}
    }
}
