//! Parsing and validation of a component binary into per-component lists of
//! *local initializers* ([`Init`]), one list per (nested) component, in the
//! style of wasmtime's `environ/src/component/translate.rs`.
//!
//! Every section item that defines something becomes one [`Init`] in the
//! order it appears, so replaying a list reproduces the component's index
//! spaces exactly (the inliner in [`crate::inline`] does that). Everything
//! type-level is resolved here, with wasmparser's validator, into the
//! Canonical ABI's [`FuncType`]s with *static* resource ids
//! ([`crate::types`]); the inliner never looks at wasmparser types.
//!
//! Invariants:
//! * The whole binary is validated (component-model on) before a
//!   [`Translation`] exists; a malformed or invalid component is
//!   [`Error::Validation`] with wasmparser's offset. Core function bodies are
//!   validated by core-vm when each core module is compiled.
//! * Core modules are not compiled here: [`Translation::modules`] gives each
//!   static module's byte range in the component and its imports, in order
//!   (the inliner resolves instantiation arguments by them).
//!   [`compile`] compiles them with core-vm for the interpreter; lowered
//!   mode reads the bytes instead. Function bodies are validated by core-vm
//!   when compiled, or here when [`Translate::validate_bodies`] is set.
//! * Component index spaces that carry no run-time meaning (types, core
//!   types) are not replayed; resource types are, through
//!   [`Init::DefineResource`], [`Init::ResourceAlias`] and the resource
//!   lists of imports and instantiations.

use crate::error::Error;
use crate::types::{self, ResourceIds};
use canonical_abi::{FuncType, ResourceTypeId, StringEncoding};
use wasmparser::component_types::{ComponentAnyTypeId, ComponentEntityType};
use wasmparser::types::TypesRef;
use wasmparser::{
    CanonicalFunction, CanonicalOption, ComponentAlias, ComponentExternalKind,
    ComponentOuterAliasKind, ComponentType, ComponentTypeRef, ExternalKind, Instance, Parser,
    Payload, ValidPayload, Validator, WasmFeatures,
};

/// A resource type path inside an entity: export names from the entity
/// down to the resource.
pub(crate) type ResourcePaths = Vec<(Vec<String>, ResourceTypeId)>;

/// Pairs of static resource ids naming the same resource across a
/// component boundary.
pub(crate) type ResourcePairs = Vec<(ResourceTypeId, ResourceTypeId)>;

/// The canonical options of one `canon lift` / `canon lower`, as indices
/// into the current component's core index spaces.
#[derive(Debug, Clone, Default)]
pub(crate) struct Opts {
    pub encoding: StringEncoding,
    pub memory: Option<u32>,
    pub realloc: Option<u32>,
    pub post_return: Option<u32>,
}

/// One local initializer of a component (see module docs).
#[derive(Debug, Clone)]
pub(crate) enum Init {
    /// An import: pushes one item of `kind`. `funcs` lists every function
    /// reachable in the import with its path (empty for a function import)
    /// and type; `resources` every resource type it creates.
    Import {
        name: String,
        kind: ComponentExternalKind,
        funcs: Vec<(Vec<String>, FuncType)>,
        resources: ResourcePaths,
    },
    /// `(type (resource (rep i32) (dtor f)))`: a fresh resource type per
    /// instance of this component.
    DefineResource {
        rid: ResourceTypeId,
        dtor: Option<u32>,
    },
    /// `new` names the same resource type as `old` (exports, re-exports).
    ResourceAlias {
        new: ResourceTypeId,
        old: ResourceTypeId,
    },
    /// `canon lower`: pushes a core function.
    Lower {
        func: u32,
        opts: Opts,
        ty: FuncType,
    },
    /// `canon lift`: pushes a component function.
    Lift {
        core_func: u32,
        opts: Opts,
        ty: FuncType,
    },
    /// `canon resource.new` / `resource.rep` / `resource.drop`: push a core function.
    ResourceNew(ResourceTypeId),
    ResourceRep(ResourceTypeId),
    ResourceDrop(ResourceTypeId),
    /// A core module (index into [`Translation::modules`]): pushes a module.
    Module(usize),
    /// Pushes a core instance made by instantiating module `module`.
    CoreInstantiate {
        module: u32,
        args: Vec<(String, u32)>,
    },
    /// Pushes a core instance bundling existing core items.
    CoreBundle(Vec<(String, ExternalKind, u32)>),
    /// A nested component (index into [`Translation::components`]).
    Component(usize),
    /// Pushes a component instance. `resource_args` pairs each resource the
    /// child imports with the parent's resource given for it;
    /// `resource_results` pairs each resource the new instance exports (as
    /// the parent sees it) with the child's.
    Instantiate {
        component: u32,
        args: Vec<(String, ComponentExternalKind, u32)>,
        resource_args: ResourcePairs,
        resource_results: ResourcePairs,
    },
    /// Pushes a component instance bundling existing items.
    Bundle(Vec<(String, ComponentExternalKind, u32)>),
    AliasCoreExport {
        instance: u32,
        kind: ExternalKind,
        name: String,
    },
    AliasExport {
        instance: u32,
        kind: ComponentExternalKind,
        name: String,
    },
    AliasOuter {
        kind: ComponentOuterAliasKind,
        count: u32,
        index: u32,
    },
    /// An export; also pushes the item again into its index space.
    Export {
        name: String,
        kind: ComponentExternalKind,
        index: u32,
    },
}

/// One (nested) component: its initializers.
#[derive(Debug, Default)]
pub(crate) struct StaticComponent {
    pub inits: Vec<Init>,
}

/// One static core module of a component: where its bytes are and what it
/// imports.
#[derive(Debug, Clone)]
pub struct StaticModule {
    /// Byte range of the module (from its magic number) in the component.
    pub range: std::ops::Range<usize>,
    /// `(module, name)` of each import, in the module's import order.
    pub imports: Vec<(String, String)>,
}

/// The result of translating a component binary.
pub(crate) struct Translation {
    pub modules: Vec<StaticModule>,
    pub components: Vec<StaticComponent>,
    /// Index of the outermost component in `components`.
    pub root: usize,
}

/// How to translate.
pub(crate) struct Translate {
    /// The core features the component's modules may use; the component
    /// model (sync) is added.
    pub features: WasmFeatures,
    /// Validate core function bodies too (otherwise core-vm does, when it
    /// compiles them).
    pub validate_bodies: bool,
}

/// Parses, validates and translates `bytes`.
pub(crate) fn translate(how: &Translate, bytes: &[u8]) -> Result<Translation, Error> {
    let features = how.features | WasmFeatures::COMPONENT_MODEL | WasmFeatures::CM_IMPLEMENTS;
    let mut validator = Validator::new_with_features(features);
    let mut allocs = wasmparser::FuncValidatorAllocations::default();
    let mut rids = ResourceIds::default();
    let mut stack: Vec<StaticComponent> = Vec::new();
    let mut components: Vec<StaticComponent> = Vec::new();
    let mut modules: Vec<StaticModule> = Vec::new();
    // Depth inside a core module whose payloads we only validate.
    let mut in_module = 0usize;
    let mut root = None;

    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(Error::validation)?;
        // Numbers of items before this payload (for the new items' indices).
        let before = if in_module == 0 {
            validator.types(0).map(|t| Counts::of(&t))
        } else {
            None
        };
        let valid = validator.payload(&payload).map_err(Error::validation)?;
        if let ValidPayload::Func(func, body) = valid {
            if how.validate_bodies {
                let mut v = func.into_validator(std::mem::take(&mut allocs));
                v.validate(&body).map_err(Error::validation)?;
                allocs = v.into_allocations();
            }
        }
        if in_module > 0 {
            match payload {
                Payload::End(_) => in_module -= 1,
                Payload::ImportSection(reader) => {
                    let m = modules.last_mut().expect("inside a module");
                    for imp in reader.into_imports() {
                        let imp = imp.map_err(Error::validation)?;
                        m.imports
                            .push((imp.module.to_string(), imp.name.to_string()));
                    }
                }
                _ => {}
            }
            continue;
        }
        let types = validator.types(0);
        match payload {
            Payload::Version { encoding, .. } => {
                if encoding != wasmparser::Encoding::Component && stack.is_empty() {
                    return Err(Error::Validation {
                        message: "expected a component, found a core module".into(),
                        offset: 0,
                    });
                }
                stack.push(StaticComponent::default());
            }
            Payload::ModuleSection {
                unchecked_range, ..
            } => {
                in_module = 1;
                let idx = modules.len();
                modules.push(StaticModule {
                    range: unchecked_range.start as usize..unchecked_range.end as usize,
                    imports: Vec::new(),
                });
                cur(&mut stack).inits.push(Init::Module(idx));
            }
            Payload::ComponentSection { .. } => {
                // The Version payload of the nested component pushes it.
            }
            Payload::End(offset) => {
                let done = stack.pop().ok_or_else(|| Error::Validation {
                    message: "unbalanced end".into(),
                    offset: offset as usize,
                })?;
                let idx = components.len();
                components.push(done);
                match stack.last_mut() {
                    Some(parent) => parent.inits.push(Init::Component(idx)),
                    None => root = Some(idx),
                }
            }
            Payload::ComponentImportSection(reader) => {
                let types = types.expect("inside a component");
                for imp in reader {
                    let imp = imp.map_err(Error::validation)?;
                    let name = imp.name.full_name().into_owned();
                    let item = types
                        .component_item_for_import(imp.name.name)
                        .or_else(|| types.component_item_for_import(&name));
                    let mut funcs = Vec::new();
                    let mut resources = Vec::new();
                    if let Some(item) = item {
                        collect_funcs(types, &item.ty, &mut Vec::new(), &mut rids, &mut funcs);
                        types::resources_in(
                            types,
                            &item.ty,
                            &mut Vec::new(),
                            &mut rids,
                            &mut resources,
                        );
                    }
                    let kind = match imp.ty {
                        ComponentTypeRef::Module(_) => ComponentExternalKind::Module,
                        ComponentTypeRef::Func(_) => ComponentExternalKind::Func,
                        ComponentTypeRef::Value(_) => ComponentExternalKind::Value,
                        ComponentTypeRef::Type(_) => ComponentExternalKind::Type,
                        ComponentTypeRef::Instance(_) => ComponentExternalKind::Instance,
                        ComponentTypeRef::Component(_) => ComponentExternalKind::Component,
                    };
                    if kind == ComponentExternalKind::Value {
                        return Err(Error::Unsupported(format!("value import `{name}`")));
                    }
                    cur(&mut stack).inits.push(Init::Import {
                        name,
                        kind,
                        funcs,
                        resources,
                    });
                }
            }
            Payload::ComponentTypeSection(reader) => {
                let types = types.expect("inside a component");
                let base = before.map_or(0, |c| c.types);
                for (i, ty) in reader.into_iter().enumerate() {
                    let ty = ty.map_err(Error::validation)?;
                    if let ComponentType::Resource { dtor, .. } = ty {
                        let idx = base + i as u32;
                        if let ComponentAnyTypeId::Resource(r) = types.component_any_type_at(idx) {
                            let rid = rids.static_id(r.resource());
                            cur(&mut stack)
                                .inits
                                .push(Init::DefineResource { rid, dtor });
                        }
                    }
                }
            }
            Payload::CoreTypeSection(_) | Payload::CustomSection(_) => {}
            Payload::ComponentCanonicalSection(reader) => {
                let types = types.expect("inside a component");
                for func in reader {
                    let func = func.map_err(Error::validation)?;
                    let init = match func {
                        CanonicalFunction::Lift {
                            core_func_index,
                            type_index,
                            options,
                        } => {
                            let ComponentAnyTypeId::Func(id) =
                                types.component_any_type_at(type_index)
                            else {
                                return Err(Error::Unsupported(
                                    "canon lift of a non-function type".into(),
                                ));
                            };
                            Init::Lift {
                                core_func: core_func_index,
                                opts: opts(&options)?,
                                ty: types::func_type(types, id, &mut rids)?,
                            }
                        }
                        CanonicalFunction::Lower {
                            func_index,
                            options,
                        } => {
                            let id = types.component_function_at(func_index);
                            Init::Lower {
                                func: func_index,
                                opts: opts(&options)?,
                                ty: types::func_type(types, id, &mut rids)?,
                            }
                        }
                        CanonicalFunction::ResourceNew { resource } => {
                            Init::ResourceNew(resource_at(types, resource, &mut rids)?)
                        }
                        CanonicalFunction::ResourceRep { resource } => {
                            Init::ResourceRep(resource_at(types, resource, &mut rids)?)
                        }
                        CanonicalFunction::ResourceDrop { resource } => {
                            Init::ResourceDrop(resource_at(types, resource, &mut rids)?)
                        }
                        other => {
                            return Err(Error::Unsupported(format!(
                                "canonical built-in {}",
                                canon_name(&other)
                            )))
                        }
                    };
                    cur(&mut stack).inits.push(init);
                }
            }
            Payload::InstanceSection(reader) => {
                for inst in reader {
                    let inst = inst.map_err(Error::validation)?;
                    let init = match inst {
                        Instance::Instantiate { module_index, args } => Init::CoreInstantiate {
                            module: module_index,
                            args: args.iter().map(|a| (a.name.to_string(), a.index)).collect(),
                        },
                        Instance::FromExports(exports) => Init::CoreBundle(
                            exports
                                .iter()
                                .map(|e| (e.name.to_string(), e.kind, e.index))
                                .collect(),
                        ),
                    };
                    cur(&mut stack).inits.push(init);
                }
            }
            Payload::ComponentInstanceSection(reader) => {
                let types = types.expect("inside a component");
                let base = before.map_or(0, |c| c.instances);
                for (i, inst) in reader.into_iter().enumerate() {
                    let inst = inst.map_err(Error::validation)?;
                    let new_idx = base + i as u32;
                    let init = match inst {
                        wasmparser::ComponentInstance::Instantiate {
                            component_index,
                            args,
                        } => {
                            let (resource_args, resource_results) = instantiate_resources(
                                types,
                                component_index,
                                &args,
                                new_idx,
                                &mut rids,
                            );
                            Init::Instantiate {
                                component: component_index,
                                args: args
                                    .iter()
                                    .map(|a| (a.name.to_string(), a.kind, a.index))
                                    .collect(),
                                resource_args,
                                resource_results,
                            }
                        }
                        wasmparser::ComponentInstance::FromExports(exports) => {
                            let inst_ty = &types[types.component_instance_at(new_idx)];
                            for e in exports.iter() {
                                if e.kind == ComponentExternalKind::Type {
                                    if let Some(item) = inst_ty.exports.get(e.name.name) {
                                        alias_type(
                                            types,
                                            &item.ty,
                                            e.index,
                                            &mut rids,
                                            cur(&mut stack),
                                        );
                                    }
                                }
                            }
                            Init::Bundle(
                                exports
                                    .iter()
                                    .map(|e| (e.name.name.to_string(), e.kind, e.index))
                                    .collect(),
                            )
                        }
                    };
                    cur(&mut stack).inits.push(init);
                }
            }
            Payload::ComponentAliasSection(reader) => {
                for alias in reader {
                    let alias = alias.map_err(Error::validation)?;
                    let init = match alias {
                        ComponentAlias::InstanceExport {
                            kind,
                            instance_index,
                            name,
                        } => Init::AliasExport {
                            instance: instance_index,
                            kind,
                            name: name.to_string(),
                        },
                        ComponentAlias::CoreInstanceExport {
                            kind,
                            instance_index,
                            name,
                        } => Init::AliasCoreExport {
                            instance: instance_index,
                            kind,
                            name: name.to_string(),
                        },
                        ComponentAlias::Outer { kind, count, index } => {
                            Init::AliasOuter { kind, count, index }
                        }
                    };
                    cur(&mut stack).inits.push(init);
                }
            }
            Payload::ComponentExportSection(reader) => {
                let types = types.expect("inside a component");
                for export in reader {
                    let export = export.map_err(Error::validation)?;
                    let name = export.name.full_name().into_owned();
                    if export.kind == ComponentExternalKind::Value {
                        return Err(Error::Unsupported(format!("value export `{name}`")));
                    }
                    if export.kind == ComponentExternalKind::Type {
                        if let Some(item) = types.component_item_for_export(export.name.name) {
                            alias_type(types, &item.ty, export.index, &mut rids, cur(&mut stack));
                        }
                    }
                    cur(&mut stack).inits.push(Init::Export {
                        name,
                        kind: export.kind,
                        index: export.index,
                    });
                }
            }
            Payload::ComponentStartSection { range, .. } => {
                return Err(Error::Unsupported(format!(
                    "component start function (at offset {:#x})",
                    range.start
                )));
            }
            _ => {}
        }
    }
    let root = root.ok_or_else(|| Error::Validation {
        message: "unexpected end of component".into(),
        offset: bytes.len(),
    })?;
    Ok(Translation {
        modules,
        components,
        root,
    })
}

/// Compiles the static core modules of `t` (in `owner`) with core-vm.
pub(crate) fn compile(
    engine: &core_vm::Engine,
    owner: &std::sync::Arc<dyn AsRef<[u8]> + Send + Sync>,
    t: &Translation,
) -> Result<Vec<core_vm::Module>, Error> {
    let mut modules = Vec::with_capacity(t.modules.len());
    for (i, m) in t.modules.iter().enumerate() {
        let start = m.range.start;
        let m = core_vm::Module::from_shared(engine, owner.clone(), m.range.clone()).map_err(
            |error| match error {
                // Function bodies are validated here: report them as the
                // component's validation errors, at their offset in the component.
                core_vm::Error::Validation { message, offset } => Error::Validation {
                    message: format!("core module {i}: {message}"),
                    offset: start + offset,
                },
                error => Error::Core {
                    context: format!("compiling core module {i}"),
                    error,
                },
            },
        )?;
        modules.push(m);
    }
    Ok(modules)
}

fn cur(stack: &mut [StaticComponent]) -> &mut StaticComponent {
    stack
        .last_mut()
        .expect("a section outside any component is rejected by validation")
}

#[derive(Clone, Copy)]
struct Counts {
    types: u32,
    instances: u32,
}

impl Counts {
    fn of(t: &TypesRef<'_>) -> Counts {
        Counts {
            types: t.component_type_count(),
            instances: t.component_instance_count(),
        }
    }
}

fn opts(options: &[CanonicalOption]) -> Result<Opts, Error> {
    let mut o = Opts::default();
    for opt in options {
        match *opt {
            CanonicalOption::UTF8 => o.encoding = StringEncoding::Utf8,
            CanonicalOption::UTF16 => o.encoding = StringEncoding::Utf16,
            CanonicalOption::CompactUTF16 => o.encoding = StringEncoding::CompactUtf16,
            CanonicalOption::Memory(m) => o.memory = Some(m),
            CanonicalOption::Realloc(f) => o.realloc = Some(f),
            CanonicalOption::PostReturn(f) => o.post_return = Some(f),
            CanonicalOption::Async | CanonicalOption::Callback(_) => {
                return Err(Error::Unsupported("async canonical options".into()))
            }
            CanonicalOption::CoreType(_) | CanonicalOption::Gc => {
                return Err(Error::Unsupported("GC canonical options".into()))
            }
        }
    }
    Ok(o)
}

fn canon_name(f: &CanonicalFunction) -> String {
    let s = format!("{f:?}");
    s.split([' ', '{', '(']).next().unwrap_or("?").to_string()
}

fn resource_at(
    types: TypesRef<'_>,
    idx: u32,
    rids: &mut ResourceIds,
) -> Result<ResourceTypeId, Error> {
    match types.component_any_type_at(idx) {
        ComponentAnyTypeId::Resource(r) => Ok(rids.static_id(r.resource())),
        _ => Err(Error::Unsupported(format!(
            "type {idx} is not a resource type"
        ))),
    }
}

/// Every function reachable in an import, with its path and type. Functions
/// whose type this implementation cannot express are skipped (using them
/// fails later, at `canon lower`).
fn collect_funcs(
    types: TypesRef<'_>,
    ty: &ComponentEntityType,
    path: &mut Vec<String>,
    rids: &mut ResourceIds,
    out: &mut Vec<(Vec<String>, FuncType)>,
) {
    match ty {
        ComponentEntityType::Func(id) => {
            if let Ok(ft) = types::func_type(types, *id, rids) {
                out.push((path.clone(), ft));
            }
        }
        ComponentEntityType::Instance(id) => {
            for (name, item) in types[*id].exports.iter() {
                path.push(name.clone());
                collect_funcs(types, &item.ty, path, rids, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Records that the resource created by a type export/bundle entry is the
/// one at type index `referenced`.
fn alias_type(
    types: TypesRef<'_>,
    ty: &ComponentEntityType,
    referenced: u32,
    rids: &mut ResourceIds,
    c: &mut StaticComponent,
) {
    let ComponentEntityType::Type {
        created: ComponentAnyTypeId::Resource(new),
        ..
    } = ty
    else {
        return;
    };
    if referenced >= types.component_type_count() {
        return;
    }
    if let ComponentAnyTypeId::Resource(old) = types.component_any_type_at(referenced) {
        let (new, old) = (
            rids.static_id(new.resource()),
            rids.static_id(old.resource()),
        );
        if new != old {
            c.inits.push(Init::ResourceAlias { new, old });
        }
    }
}

fn pair(a: ResourcePaths, b: ResourcePaths) -> ResourcePairs {
    a.into_iter()
        .filter_map(|(path, ra)| b.iter().find(|(p, _)| *p == path).map(|(_, rb)| (ra, *rb)))
        .collect()
}

/// Pairs the child's imported resources with the parent's arguments, and
/// the new instance's exported resources with the child's exports.
fn instantiate_resources(
    types: TypesRef<'_>,
    component: u32,
    args: &[wasmparser::ComponentInstantiationArg<'_>],
    new_idx: u32,
    rids: &mut ResourceIds,
) -> (ResourcePairs, ResourcePairs) {
    let ct = &types[types.component_at(component)];
    let mut resource_args = Vec::new();
    for arg in args {
        let Some(item) = ct.imports.get(arg.name) else {
            continue;
        };
        let arg_ty = match arg.kind {
            ComponentExternalKind::Instance => {
                ComponentEntityType::Instance(types.component_instance_at(arg.index))
            }
            ComponentExternalKind::Type => {
                let t = types.component_any_type_at(arg.index);
                ComponentEntityType::Type {
                    referenced: t,
                    created: t,
                }
            }
            _ => continue,
        };
        let (mut child, mut parent) = (Vec::new(), Vec::new());
        types::resources_in(types, &item.ty, &mut Vec::new(), rids, &mut child);
        types::resources_in(types, &arg_ty, &mut Vec::new(), rids, &mut parent);
        resource_args.extend(pair(child, parent));
    }
    let inst_ty = &types[types.component_instance_at(new_idx)];
    let mut resource_results = Vec::new();
    for (name, item) in inst_ty.exports.iter() {
        let Some(child_item) = ct.exports.get(name) else {
            continue;
        };
        let (mut parent, mut child) = (Vec::new(), Vec::new());
        types::resources_in(types, &item.ty, &mut Vec::new(), rids, &mut parent);
        types::resources_in(types, &child_item.ty, &mut Vec::new(), rids, &mut child);
        resource_results.extend(pair(parent, child));
    }
    (resource_args, resource_results)
}
