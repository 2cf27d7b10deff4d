//! Inlining: replays the per-component [`Init`] lists of a [`Translation`]
//! (nested components instantiated in place, every alias resolved) into
//! ONE flat description of a component instance, [`Flat`], in the style of
//! wasmtime's `environ/src/component/translate/inline.rs`.
//!
//! The result is what instantiation runs: a list of core module
//! instantiations ([`FlatInit`]) whose arguments are [`CoreDef`]s (an
//! export of an earlier core instance, or a *trampoline*: `canon lower`,
//! `resource.new`, `resource.rep`, `resource.drop`), plus the resource
//! types, the imports the host must provide and the exports.
//!
//! Invariants:
//! * Every definition is resolved to its origin: a component function is
//!   either an import path (`["wasi:cli/stdout@0.2.6", "get-stdout"]`) or a
//!   `canon lift` of a core definition ([`LiftedFunc`]); a component
//!   instance is either an import path or a list of items. Nothing refers to
//!   a nested component's index spaces after inlining.
//! * Each instantiation of a (nested) component gets its own runtime
//!   component instance number (its own handle table) and fresh runtime
//!   resource types for the resources it defines; imported resources are
//!   mapped through the instantiation arguments.
//! * Core instantiations appear in dependency order (the component's own
//!   order), so every [`CoreDef::Export`] names an earlier instance.
//! * Outer aliases see the *lexical* scope of the component they appear in
//!   (a snapshot taken where that component is defined).
//!
//! [`flatten`] gives this description with the core modules as bytes
//! ([`FlatComponent`]) to lowered mode, which merges them into one core
//! module instead of instantiating them.

use crate::error::Error;
pub use crate::translate::StaticModule;
use crate::translate::{Init, Opts, StaticComponent, Translation};
use crate::types::remap_func_type;
use canonical_abi::{FuncType, ResourceTypeId, StringEncoding};
use std::collections::HashMap;
use std::sync::Arc;
use wasmparser::{ComponentExternalKind, ComponentOuterAliasKind, ExternalKind};

macro_rules! index_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl $name {
            /// As an index into a `Vec`.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

index_type!(
    /// A core instance: the position of its [`FlatInit`] in [`Flat::inits`].
    CoreInstanceIndex
);
index_type!(
    /// A trampoline: its position in [`Flat::trampolines`].
    TrampolineIndex
);
index_type!(
    /// A static core module: its position in [`FlatComponent::modules`].
    StaticModuleIndex
);
index_type!(
    /// A runtime component instance (each has its own handle table); the
    /// root is 0, nested instantiations follow in order.
    ComponentInstanceIndex
);

/// A core item: an export of a runtime core instance, or a trampoline.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CoreDef {
    Export {
        instance: CoreInstanceIndex,
        name: String,
    },
    Trampoline(TrampolineIndex),
}

#[derive(Debug, Clone)]
enum CoreInstanceDef {
    Instance(CoreInstanceIndex),
    Bundle(Arc<Vec<(String, CoreDef)>>),
}

/// Canonical options with their core items resolved.
#[derive(Debug, Clone, Default)]
pub struct OptionsDef {
    pub encoding: StringEncoding,
    pub memory: Option<CoreDef>,
    pub realloc: Option<CoreDef>,
    pub post_return: Option<CoreDef>,
}

/// A `canon lift`ed function.
#[derive(Debug)]
pub struct LiftedFunc {
    /// With runtime resource ids.
    pub ty: FuncType,
    pub core: CoreDef,
    pub opts: OptionsDef,
    /// The runtime component instance that lifted it.
    pub instance: ComponentInstanceIndex,
    /// For messages: the core export it lifts, if known.
    pub name: String,
}

/// A component function.
#[derive(Debug, Clone)]
pub enum FuncDef {
    /// A host import at this path (import name, then export names).
    Import {
        path: Vec<String>,
        ty: FuncType,
    },
    Lifted(Arc<LiftedFunc>),
}

impl FuncDef {
    pub fn ty(&self) -> &FuncType {
        match self {
            FuncDef::Import { ty, .. } => ty,
            FuncDef::Lifted(l) => &l.ty,
        }
    }
    pub fn name(&self) -> String {
        match self {
            FuncDef::Import { path, .. } => import_path_name(path),
            FuncDef::Lifted(l) => l.name.clone(),
        }
    }
}

/// `interface#function` for an import path.
pub fn import_path_name(path: &[String]) -> String {
    match path {
        [] => String::new(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first}#{}", rest.join("#")),
    }
}

/// A component instance.
#[derive(Debug, Clone)]
pub enum InstanceDef {
    Import(Vec<String>),
    Items(Arc<Vec<(String, ItemDef)>>),
}

/// A (nested) component, as an item: what instantiating it needs.
#[derive(Debug, Clone)]
pub struct ComponentDef {
    index: usize,
    scope: Arc<Scope>,
}

/// A snapshot of a component's module and component index spaces, for the
/// outer aliases of the components nested in it.
#[derive(Debug, Default)]
struct Scope {
    modules: Vec<StaticModuleIndex>,
    components: Vec<ComponentDef>,
    parent: Option<Arc<Scope>>,
}

/// Any component-level item.
#[derive(Debug, Clone)]
pub enum ItemDef {
    Func(FuncDef),
    Instance(InstanceDef),
    Component(ComponentDef),
    Module(StaticModuleIndex),
    Type,
}

/// A trampoline: a core function implemented by the runtime. (Stored once
/// per component in a `Vec`, so the size difference of variants is moot.)
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Trampoline {
    /// `canon lower` of `callee` into runtime component instance `instance`.
    Lower {
        callee: FuncDef,
        ty: FuncType,
        opts: OptionsDef,
        instance: ComponentInstanceIndex,
        name: String,
    },
    ResourceNew {
        rt: ResourceTypeId,
        instance: ComponentInstanceIndex,
    },
    ResourceRep {
        rt: ResourceTypeId,
        instance: ComponentInstanceIndex,
    },
    ResourceDrop {
        rt: ResourceTypeId,
        instance: ComponentInstanceIndex,
    },
}

/// A runtime resource type.
#[derive(Debug)]
pub enum RuntimeResource {
    /// Imported from the host: `interface` is the import name.
    Host { interface: String, name: String },
    /// Defined by a component instance, with its destructor.
    Guest {
        instance: ComponentInstanceIndex,
        dtor: Option<CoreDef>,
    },
}

/// One step of instantiation.
#[derive(Debug)]
pub enum FlatInit {
    /// Instantiate a static core module with arguments in its import order.
    Instantiate {
        module: StaticModuleIndex,
        args: Vec<CoreDef>,
    },
}

/// A root import the host must provide.
#[derive(Debug)]
pub struct ImportReq {
    pub name: String,
    /// Relative paths and runtime types of every function inside.
    pub funcs: Vec<(Vec<String>, FuncType)>,
}

/// The flattened component.
#[derive(Debug)]
pub struct Flat {
    pub inits: Vec<FlatInit>,
    pub trampolines: Vec<Trampoline>,
    pub resources: Vec<RuntimeResource>,
    pub num_instances: u32,
    pub imports: Vec<ImportReq>,
    pub exports: Vec<(String, ItemDef)>,
}

/// A component parsed, validated and flattened, its core modules left as
/// bytes (not compiled): the input of lowered mode.
#[derive(Debug)]
pub struct FlatComponent {
    /// The static core modules, indexed by [`StaticModuleIndex`].
    pub modules: Vec<StaticModule>,
    pub flat: Flat,
}

/// Parses and validates the component `bytes` (its core modules, function
/// bodies included, against `features`; the component model is added) and
/// flattens it.
pub fn flatten(bytes: &[u8], features: wasmparser::WasmFeatures) -> Result<FlatComponent, Error> {
    let how = crate::translate::Translate {
        features,
        validate_bodies: true,
    };
    let t = crate::translate::translate(&how, bytes)?;
    let flat = inline(&t)?;
    Ok(FlatComponent {
        modules: t.modules,
        flat,
    })
}

/// Static resource id -> runtime resource id, per component instance.
type ResourceMap = HashMap<ResourceTypeId, ResourceTypeId>;

struct Inliner<'a> {
    t: &'a Translation,
    flat: Flat,
    num_core_instances: u32,
    import_func_types: HashMap<Vec<String>, FuncType>,
    depth: u32,
}

struct Frame {
    instance: ComponentInstanceIndex,
    scope: Arc<Scope>,
    args: HashMap<String, ItemDef>,
    rmap: HashMap<ResourceTypeId, ResourceTypeId>,
    core_funcs: Vec<CoreDef>,
    core_tables: Vec<CoreDef>,
    core_memories: Vec<CoreDef>,
    core_globals: Vec<CoreDef>,
    core_instances: Vec<CoreInstanceDef>,
    modules: Vec<StaticModuleIndex>,
    components: Vec<ComponentDef>,
    instances: Vec<InstanceDef>,
    funcs: Vec<FuncDef>,
    exports: Vec<(String, ItemDef)>,
}

fn bad(what: impl Into<String>) -> Error {
    Error::Validation {
        message: what.into(),
        offset: 0,
    }
}

fn get<T: Clone>(v: &[T], i: u32, what: &str) -> Result<T, Error> {
    v.get(i as usize)
        .cloned()
        .ok_or_else(|| bad(format!("{what} index {i} out of bounds")))
}

/// Flattens a translation.
pub(crate) fn inline(t: &Translation) -> Result<Flat, Error> {
    let mut inl = Inliner {
        t,
        flat: Flat {
            inits: Vec::new(),
            trampolines: Vec::new(),
            resources: Vec::new(),
            num_instances: 0,
            imports: Vec::new(),
            exports: Vec::new(),
        },
        num_core_instances: 0,
        import_func_types: HashMap::new(),
        depth: 0,
    };
    let root = &t.components[t.root];
    let (exports, _) = inl.run(root, Arc::new(Scope::default()), None, HashMap::new())?;
    inl.flat.exports = exports;
    Ok(inl.flat)
}

impl Inliner<'_> {
    fn new_resource(&mut self, r: RuntimeResource) -> ResourceTypeId {
        self.flat.resources.push(r);
        ResourceTypeId(self.flat.resources.len() as u32 - 1)
    }

    fn rt(&mut self, f: &mut Frame, id: ResourceTypeId) -> ResourceTypeId {
        if let Some(r) = f.rmap.get(&id) {
            return *r;
        }
        // A resource type we could not trace to its definition: give it a
        // fresh identity, implemented by nobody (no destructor, borrows are
        // always handles). Validation makes this unreachable in practice.
        let r = self.new_resource(RuntimeResource::Host {
            interface: String::new(),
            name: format!("<untraced {}>", id.0),
        });
        f.rmap.insert(id, r);
        r
    }

    fn remap(&mut self, f: &mut Frame, ty: &FuncType) -> FuncType {
        let mut ids = Vec::new();
        collect_ids(ty, &mut ids);
        for id in &ids {
            self.rt(f, *id);
        }
        let map = f.rmap.clone();
        remap_func_type(ty, &|id| map[&id])
    }

    fn opts(&self, f: &Frame, o: &Opts) -> Result<OptionsDef, Error> {
        Ok(OptionsDef {
            encoding: o.encoding,
            memory: o
                .memory
                .map(|i| get(&f.core_memories, i, "core memory"))
                .transpose()?,
            realloc: o
                .realloc
                .map(|i| get(&f.core_funcs, i, "core func"))
                .transpose()?,
            post_return: o
                .post_return
                .map(|i| get(&f.core_funcs, i, "core func"))
                .transpose()?,
        })
    }

    fn trampoline(&mut self, t: Trampoline) -> CoreDef {
        self.flat.trampolines.push(t);
        CoreDef::Trampoline(TrampolineIndex(self.flat.trampolines.len() as u32 - 1))
    }

    fn item(&self, f: &Frame, kind: ComponentExternalKind, index: u32) -> Result<ItemDef, Error> {
        Ok(match kind {
            ComponentExternalKind::Func => ItemDef::Func(get(&f.funcs, index, "function")?),
            ComponentExternalKind::Instance => {
                ItemDef::Instance(get(&f.instances, index, "instance")?)
            }
            ComponentExternalKind::Component => {
                ItemDef::Component(get(&f.components, index, "component")?)
            }
            ComponentExternalKind::Module => ItemDef::Module(get(&f.modules, index, "module")?),
            ComponentExternalKind::Type => ItemDef::Type,
            ComponentExternalKind::Value => {
                return Err(Error::Unsupported("component values".into()))
            }
        })
    }

    fn push_item(f: &mut Frame, item: ItemDef) {
        match item {
            ItemDef::Func(x) => f.funcs.push(x),
            ItemDef::Instance(x) => f.instances.push(x),
            ItemDef::Component(x) => f.components.push(x),
            ItemDef::Module(x) => f.modules.push(x),
            ItemDef::Type => {}
        }
    }

    fn core_item(f: &Frame, kind: ExternalKind, index: u32) -> Result<CoreDef, Error> {
        match kind {
            ExternalKind::Func => get(&f.core_funcs, index, "core func"),
            ExternalKind::Table => get(&f.core_tables, index, "core table"),
            ExternalKind::Memory => get(&f.core_memories, index, "core memory"),
            ExternalKind::Global => get(&f.core_globals, index, "core global"),
            other => Err(Error::Unsupported(format!("core {other:?} items"))),
        }
    }

    /// Runs one component's initializers; `args` is `None` for the root.
    fn run(
        &mut self,
        comp: &StaticComponent,
        scope: Arc<Scope>,
        args: Option<HashMap<String, ItemDef>>,
        rmap: HashMap<ResourceTypeId, ResourceTypeId>,
    ) -> Result<(Vec<(String, ItemDef)>, ResourceMap), Error> {
        self.depth += 1;
        if self.depth > 100 {
            return Err(Error::Unsupported(
                "components nested more than 100 deep".into(),
            ));
        }
        let is_root = args.is_none();
        let mut f = Frame {
            instance: ComponentInstanceIndex(self.flat.num_instances),
            scope,
            args: args.unwrap_or_default(),
            rmap,
            core_funcs: Vec::new(),
            core_tables: Vec::new(),
            core_memories: Vec::new(),
            core_globals: Vec::new(),
            core_instances: Vec::new(),
            modules: Vec::new(),
            components: Vec::new(),
            instances: Vec::new(),
            funcs: Vec::new(),
            exports: Vec::new(),
        };
        self.flat.num_instances += 1;
        for init in &comp.inits {
            self.step(&mut f, init, is_root)?;
        }
        self.depth -= 1;
        Ok((f.exports, f.rmap))
    }

    fn step(&mut self, f: &mut Frame, init: &Init, is_root: bool) -> Result<(), Error> {
        match init {
            Init::Import {
                name,
                kind,
                funcs,
                resources,
            } => {
                if is_root {
                    for (path, rid) in resources {
                        if f.rmap.contains_key(rid) {
                            // Re-exported (`eq`) resource of an earlier import.
                            continue;
                        }
                        let r = self.new_resource(RuntimeResource::Host {
                            interface: if path.is_empty() {
                                String::new()
                            } else {
                                name.clone()
                            },
                            name: path.last().cloned().unwrap_or_else(|| name.clone()),
                        });
                        f.rmap.insert(*rid, r);
                    }
                    let mut rfuncs = Vec::new();
                    for (path, ty) in funcs {
                        let ty = self.remap(f, ty);
                        let mut full = vec![name.clone()];
                        full.extend(path.iter().cloned());
                        self.import_func_types.insert(full, ty.clone());
                        rfuncs.push((path.clone(), ty));
                    }
                    self.flat.imports.push(ImportReq {
                        name: name.clone(),
                        funcs: rfuncs,
                    });
                    match kind {
                        ComponentExternalKind::Func => {
                            let ty = self
                                .import_func_types
                                .get(&vec![name.clone()])
                                .cloned()
                                .ok_or_else(|| {
                                    Error::Unsupported(format!(
                                        "the type of imported function `{name}`"
                                    ))
                                })?;
                            f.funcs.push(FuncDef::Import {
                                path: vec![name.clone()],
                                ty,
                            });
                        }
                        ComponentExternalKind::Instance => {
                            f.instances.push(InstanceDef::Import(vec![name.clone()]))
                        }
                        ComponentExternalKind::Type => {}
                        ComponentExternalKind::Module | ComponentExternalKind::Component => {
                            return Err(Error::Unsupported(format!(
                                "root import `{name}` of a core module or component"
                            )))
                        }
                        ComponentExternalKind::Value => {
                            return Err(Error::Unsupported("value imports".into()))
                        }
                    }
                } else {
                    let item =
                        f.args.get(name).cloned().ok_or_else(|| {
                            bad(format!("missing instantiation argument `{name}`"))
                        })?;
                    Self::push_item(f, item);
                }
            }
            Init::DefineResource { rid, dtor } => {
                let dtor = dtor
                    .map(|d| get(&f.core_funcs, d, "core func"))
                    .transpose()?;
                let r = self.new_resource(RuntimeResource::Guest {
                    instance: f.instance,
                    dtor,
                });
                f.rmap.insert(*rid, r);
            }
            Init::ResourceAlias { new, old } => {
                let r = self.rt(f, *old);
                f.rmap.insert(*new, r);
            }
            Init::Lower { func, opts, ty } => {
                let callee = get(&f.funcs, *func, "function")?;
                let ty = self.remap(f, ty);
                let opts = self.opts(f, opts)?;
                let name = callee.name();
                let d = self.trampoline(Trampoline::Lower {
                    callee,
                    ty,
                    opts,
                    instance: f.instance,
                    name,
                });
                f.core_funcs.push(d);
            }
            Init::Lift {
                core_func,
                opts,
                ty,
            } => {
                let core = get(&f.core_funcs, *core_func, "core func")?;
                let name = match &core {
                    CoreDef::Export { name, .. } => name.clone(),
                    CoreDef::Trampoline(i) => format!("trampoline {i}"),
                };
                let ty = self.remap(f, ty);
                let opts = self.opts(f, opts)?;
                f.funcs.push(FuncDef::Lifted(Arc::new(LiftedFunc {
                    ty,
                    core,
                    opts,
                    instance: f.instance,
                    name,
                })));
            }
            Init::ResourceNew(rid) => {
                let rt = self.rt(f, *rid);
                let d = self.trampoline(Trampoline::ResourceNew {
                    rt,
                    instance: f.instance,
                });
                f.core_funcs.push(d);
            }
            Init::ResourceRep(rid) => {
                let rt = self.rt(f, *rid);
                let d = self.trampoline(Trampoline::ResourceRep {
                    rt,
                    instance: f.instance,
                });
                f.core_funcs.push(d);
            }
            Init::ResourceDrop(rid) => {
                let rt = self.rt(f, *rid);
                let d = self.trampoline(Trampoline::ResourceDrop {
                    rt,
                    instance: f.instance,
                });
                f.core_funcs.push(d);
            }
            Init::Module(i) => f.modules.push(StaticModuleIndex(*i as u32)),
            Init::CoreInstantiate { module, args } => {
                let m = get(&f.modules, *module, "module")?;
                let module_ref = &self.t.modules[m.index()];
                let mut by_name = HashMap::new();
                for (name, idx) in args {
                    by_name.insert(
                        name.as_str(),
                        get(&f.core_instances, *idx, "core instance")?,
                    );
                }
                let mut defs = Vec::new();
                for (imp_module, imp_name) in &module_ref.imports {
                    let inst = by_name.get(imp_module.as_str()).ok_or_else(|| {
                        bad(format!(
                            "core instantiation: no argument named `{imp_module}`"
                        ))
                    })?;
                    let def = match inst {
                        CoreInstanceDef::Instance(i) => CoreDef::Export {
                            instance: *i,
                            name: imp_name.clone(),
                        },
                        CoreInstanceDef::Bundle(items) => items
                            .iter()
                            .find(|(n, _)| n == imp_name)
                            .map(|(_, d)| d.clone())
                            .ok_or_else(|| {
                                bad(format!(
                                    "core instantiation: `{imp_module}` has no export `{imp_name}`"
                                ))
                            })?,
                    };
                    defs.push(def);
                }
                self.flat.inits.push(FlatInit::Instantiate {
                    module: m,
                    args: defs,
                });
                f.core_instances
                    .push(CoreInstanceDef::Instance(CoreInstanceIndex(
                        self.num_core_instances,
                    )));
                self.num_core_instances += 1;
            }
            Init::CoreBundle(items) => {
                let mut out = Vec::new();
                for (name, kind, idx) in items {
                    out.push((name.clone(), Self::core_item(f, *kind, *idx)?));
                }
                f.core_instances
                    .push(CoreInstanceDef::Bundle(Arc::new(out)));
            }
            Init::Component(i) => {
                let scope = Arc::new(Scope {
                    modules: f.modules.clone(),
                    components: f.components.clone(),
                    parent: Some(f.scope.clone()),
                });
                f.components.push(ComponentDef { index: *i, scope });
            }
            Init::Instantiate {
                component,
                args,
                resource_args,
                resource_results,
            } => {
                let c = get(&f.components, *component, "component")?;
                let mut child_args = HashMap::new();
                for (name, kind, idx) in args {
                    child_args.insert(name.clone(), self.item(f, *kind, *idx)?);
                }
                let mut child_map = HashMap::new();
                for (child, parent) in resource_args {
                    let r = self.rt(f, *parent);
                    child_map.insert(*child, r);
                }
                let child = &self.t.components[c.index];
                let (exports, child_map) =
                    self.run(child, c.scope.clone(), Some(child_args), child_map)?;
                for (parent, child) in resource_results {
                    if let Some(r) = child_map.get(child) {
                        f.rmap.insert(*parent, *r);
                    }
                }
                f.instances.push(InstanceDef::Items(Arc::new(exports)));
            }
            Init::Bundle(items) => {
                let mut out = Vec::new();
                for (name, kind, idx) in items {
                    out.push((name.clone(), self.item(f, *kind, *idx)?));
                }
                f.instances.push(InstanceDef::Items(Arc::new(out)));
            }
            Init::AliasCoreExport {
                instance,
                kind,
                name,
            } => {
                let inst = get(&f.core_instances, *instance, "core instance")?;
                let def = match inst {
                    CoreInstanceDef::Instance(i) => CoreDef::Export {
                        instance: i,
                        name: name.clone(),
                    },
                    CoreInstanceDef::Bundle(items) => items
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, d)| d.clone())
                        .ok_or_else(|| bad(format!("core instance has no export `{name}`")))?,
                };
                match kind {
                    ExternalKind::Func => f.core_funcs.push(def),
                    ExternalKind::Table => f.core_tables.push(def),
                    ExternalKind::Memory => f.core_memories.push(def),
                    ExternalKind::Global => f.core_globals.push(def),
                    other => return Err(Error::Unsupported(format!("core {other:?} aliases"))),
                }
            }
            Init::AliasExport {
                instance,
                kind,
                name,
            } => {
                let inst = get(&f.instances, *instance, "instance")?;
                let item = match inst {
                    InstanceDef::Import(path) => {
                        let mut p = path.clone();
                        p.push(name.clone());
                        match kind {
                            ComponentExternalKind::Func => {
                                let ty =
                                    self.import_func_types.get(&p).cloned().ok_or_else(|| {
                                        Error::Unsupported(format!(
                                            "the type of imported function `{}`",
                                            import_path_name(&p)
                                        ))
                                    })?;
                                ItemDef::Func(FuncDef::Import { path: p, ty })
                            }
                            ComponentExternalKind::Instance => {
                                ItemDef::Instance(InstanceDef::Import(p))
                            }
                            ComponentExternalKind::Type => ItemDef::Type,
                            _ => {
                                return Err(Error::Unsupported(format!(
                                    "core modules or components exported by import `{}`",
                                    import_path_name(&p)
                                )))
                            }
                        }
                    }
                    InstanceDef::Items(items) => items
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, d)| d.clone())
                        .ok_or_else(|| bad(format!("instance has no export `{name}`")))?,
                };
                Self::push_item(f, item);
            }
            Init::AliasOuter { kind, count, index } => {
                let pick = |f: &Frame, modules: bool| -> Result<ItemDef, Error> {
                    if *count == 0 {
                        return if modules {
                            Ok(ItemDef::Module(get(&f.modules, *index, "module")?))
                        } else {
                            Ok(ItemDef::Component(get(&f.components, *index, "component")?))
                        };
                    }
                    let mut s = f.scope.clone();
                    for _ in 1..*count {
                        s = s
                            .parent
                            .clone()
                            .ok_or_else(|| bad("outer alias count out of bounds"))?;
                    }
                    if modules {
                        Ok(ItemDef::Module(get(&s.modules, *index, "module")?))
                    } else {
                        Ok(ItemDef::Component(get(&s.components, *index, "component")?))
                    }
                };
                match kind {
                    ComponentOuterAliasKind::CoreModule => {
                        let item = pick(f, true)?;
                        Self::push_item(f, item);
                    }
                    ComponentOuterAliasKind::Component => {
                        let item = pick(f, false)?;
                        Self::push_item(f, item);
                    }
                    ComponentOuterAliasKind::CoreType | ComponentOuterAliasKind::Type => {}
                }
            }
            Init::Export { name, kind, index } => {
                let item = self.item(f, *kind, *index)?;
                Self::push_item(f, item.clone());
                f.exports.push((name.clone(), item));
            }
        }
        Ok(())
    }
}

fn collect_ids(ft: &FuncType, out: &mut Vec<ResourceTypeId>) {
    fn walk(t: &canonical_abi::ValueType, out: &mut Vec<ResourceTypeId>) {
        use canonical_abi::ValueType as V;
        match t {
            V::Own(id) | V::Borrow(id) => out.push(*id),
            V::List(t) | V::Option(t) => walk(t, out),
            V::Record(fs) => fs.iter().for_each(|(_, t)| walk(t, out)),
            V::Tuple(ts) => ts.iter().for_each(|t| walk(t, out)),
            V::Variant(cs) => cs.iter().flat_map(|(_, t)| t).for_each(|t| walk(t, out)),
            V::Result { ok, err } => ok.iter().chain(err.iter()).for_each(|t| walk(t, out)),
            _ => {}
        }
    }
    ft.params.iter().for_each(|(_, t)| walk(t, out));
    ft.result.iter().for_each(|t| walk(t, out));
}
