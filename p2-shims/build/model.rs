//! The WIT as the generator sees it: the interfaces `wasi:cli/command`
//! imports (read from `wit/` with wit-parser), their functions and
//! resources, Rust names for everything, and each type as a
//! [`canonical_abi::ValueType`], from which all layout and flattening is
//! computed (by canonical-abi, the one copy of those rules).
//!
//! Invariants:
//! * Interfaces are in the world's import order, functions and types in
//!   each interface's declaration order; resources are numbered in that
//!   order across all interfaces (the [`canonical_abi::HostResource`]
//!   index).
//! * Types are dealiased before anything is computed from them: a `use`d
//!   type or a `type x = y` is the type it names.

use canonical_abi::{ResourceTypeId, ValueType};
use std::collections::HashMap;
use std::path::Path;
use wit_parser::{
    FunctionKind, Handle, InterfaceId, Resolve, Type, TypeDefKind, TypeId, TypeOwner, WorldItem,
};

/// The packages of `wit/` the command world needs, dependencies first.
const PACKAGES: &[&str] = &["io", "clocks", "random", "filesystem", "sockets", "cli"];

pub struct World {
    pub resolve: Resolve,
    pub ifaces: Vec<Iface>,
    pub resources: Vec<Resource>,
    /// Resource type (dealiased) -> index in `resources`.
    resource_index: HashMap<TypeId, u32>,
    /// Interface -> index in `ifaces`.
    iface_index: HashMap<InterfaceId, usize>,
}

pub struct Iface {
    pub id: InterfaceId,
    /// `wasi:io/streams@0.2.12`.
    pub name: String,
    /// `io_streams`.
    pub module: String,
    pub funcs: Vec<Func>,
    /// Types defined in this interface (not `use`d ones), in order.
    pub types: Vec<TypeId>,
}

pub struct Resource {
    pub iface: usize,
    /// WIT name (`output-stream`).
    pub name: String,
}

pub struct Func {
    /// WIT name (`[method]output-stream.write`).
    pub name: String,
    /// Rust name of the trait method and glue function.
    pub method: String,
    /// `(rust name, wit name, type)`.
    pub params: Vec<(String, String, Type)>,
    pub result: Option<Type>,
}

impl World {
    pub fn load(wit: &Path) -> Result<World, String> {
        let mut resolve = Resolve::default();
        let mut last = None;
        for pkg in PACKAGES {
            let (id, _) = resolve
                .push_dir(wit.join(pkg))
                .map_err(|e| format!("{}: {e:?}", wit.join(pkg).display()))?;
            last = Some(id);
        }
        let last = last.ok_or("no packages")?;
        let world = resolve
            .select_world(&[last], Some("command"))
            .map_err(|e| format!("world `command`: {e:?}"))?;
        let mut ifaces = Vec::new();
        let mut iface_index = HashMap::new();
        for item in resolve.worlds[world].imports.values() {
            let WorldItem::Interface { id, .. } = item else {
                continue;
            };
            let name = resolve.id_of(*id).ok_or("an unnamed interface")?;
            let i = &resolve.interfaces[*id];
            let pkg = &resolve.packages[i.package.ok_or("an interface with no package")?];
            let module = format!(
                "{}_{}",
                snake(&pkg.name.name),
                snake(i.name.as_deref().unwrap_or(""))
            );
            let types = i
                .types
                .values()
                .copied()
                .filter(|t| resolve.types[*t].owner == TypeOwner::Interface(*id))
                .filter(|t| !matches!(resolve.types[*t].kind, TypeDefKind::Type(Type::Id(_))))
                .collect();
            iface_index.insert(*id, ifaces.len());
            ifaces.push(Iface {
                id: *id,
                name,
                module,
                funcs: Vec::new(),
                types,
            });
        }
        let mut w = World {
            resolve,
            ifaces,
            resources: Vec::new(),
            resource_index: HashMap::new(),
            iface_index,
        };
        for n in 0..w.ifaces.len() {
            for &t in &w.ifaces[n].types {
                let td = &w.resolve.types[t];
                if matches!(td.kind, TypeDefKind::Resource) {
                    w.resource_index.insert(t, w.resources.len() as u32);
                    w.resources.push(Resource {
                        iface: n,
                        name: td.name.clone().ok_or("an unnamed resource")?,
                    });
                }
            }
            let id = w.ifaces[n].id;
            let mut funcs = Vec::new();
            for f in w.resolve.interfaces[id].functions.values() {
                let method = match &f.kind {
                    FunctionKind::Freestanding => snake(&f.name),
                    FunctionKind::Method(r) | FunctionKind::Static(r) => {
                        let rname = w.resolve.types[*r].name.clone().unwrap_or_default();
                        let (_, item) = f.name.split_once('.').ok_or("a method name")?;
                        format!("{}_{}", snake(&rname), snake(item))
                    }
                    FunctionKind::Constructor(r) => {
                        let rname = w.resolve.types[*r].name.clone().unwrap_or_default();
                        format!("{}_new", snake(&rname))
                    }
                    other => return Err(format!("`{}`: unsupported kind {other:?}", f.name)),
                };
                funcs.push(Func {
                    name: f.name.clone(),
                    method,
                    params: f
                        .params
                        .iter()
                        .map(|p| (ident(&snake(&p.name)), p.name.clone(), p.ty))
                        .collect(),
                    result: f.result,
                });
            }
            w.ifaces[n].funcs = funcs;
        }
        Ok(w)
    }

    /// Follows `type x = y` (and `use`) to the type it names.
    pub fn dealias(&self, mut t: Type) -> Type {
        while let Type::Id(id) = t {
            match self.resolve.types[id].kind {
                TypeDefKind::Type(inner) => t = inner,
                _ => break,
            }
        }
        t
    }

    /// The dealiased definition of `t`, if it is a defined type.
    pub fn def(&self, t: Type) -> Option<(TypeId, &TypeDefKind)> {
        match self.dealias(t) {
            Type::Id(id) => Some((id, &self.resolve.types[id].kind)),
            _ => None,
        }
    }

    /// The host resource index of resource type `id` (after dealiasing).
    pub fn resource(&self, id: TypeId) -> u32 {
        let id = match self.dealias(Type::Id(id)) {
            Type::Id(r) => r,
            _ => id,
        };
        *self.resource_index.get(&id).unwrap_or_else(|| {
            panic!(
                "resource {:?} of no imported interface",
                self.resolve.types[id].name
            )
        })
    }

    /// The interface (index in `ifaces`) that defines named type `id`.
    pub fn owner(&self, id: TypeId) -> usize {
        match self.resolve.types[id].owner {
            TypeOwner::Interface(i) => *self.iface_index.get(&i).unwrap_or_else(|| {
                panic!(
                    "type {:?} of an interface not imported",
                    self.resolve.types[id].name
                )
            }),
            _ => panic!(
                "type {:?} not defined in an interface",
                self.resolve.types[id].name
            ),
        }
    }

    /// Whether `id` gets its own Rust type (records, variants, enums, flags,
    /// resources): the named kinds. Anonymous `option`/`result`/`list`/
    /// `tuple`/handles are written in place.
    pub fn is_named(&self, id: TypeId) -> bool {
        let td = &self.resolve.types[id];
        td.name.is_some()
            && matches!(
                td.kind,
                TypeDefKind::Record(_)
                    | TypeDefKind::Variant(_)
                    | TypeDefKind::Enum(_)
                    | TypeDefKind::Flags(_)
                    | TypeDefKind::Resource
            )
    }

    /// The path of named type `id` from inside any generated interface
    /// module (`crate::bindings::io_streams::StreamError`).
    pub fn path(&self, id: TypeId) -> String {
        let owner = &self.ifaces[self.owner(id)];
        let name = self.resolve.types[id].name.as_deref().unwrap_or("");
        format!("crate::bindings::{}::{}", owner.module, camel(name))
    }

    /// `t` as a Canonical ABI type, resources numbered by host index.
    pub fn value_type(&self, t: Type) -> ValueType {
        match self.dealias(t) {
            Type::Bool => ValueType::Bool,
            Type::U8 => ValueType::U8,
            Type::U16 => ValueType::U16,
            Type::U32 => ValueType::U32,
            Type::U64 => ValueType::U64,
            Type::S8 => ValueType::S8,
            Type::S16 => ValueType::S16,
            Type::S32 => ValueType::S32,
            Type::S64 => ValueType::S64,
            Type::F32 => ValueType::F32,
            Type::F64 => ValueType::F64,
            Type::Char => ValueType::Char,
            Type::String => ValueType::String,
            Type::ErrorContext => panic!("error-context is not in the synchronous ABI"),
            Type::Id(id) => match &self.resolve.types[id].kind {
                TypeDefKind::Record(r) => ValueType::Record(
                    r.fields
                        .iter()
                        .map(|f| (f.name.clone(), self.value_type(f.ty)))
                        .collect(),
                ),
                TypeDefKind::Tuple(t) => {
                    ValueType::Tuple(t.types.iter().map(|t| self.value_type(*t)).collect())
                }
                TypeDefKind::Variant(v) => ValueType::Variant(
                    v.cases
                        .iter()
                        .map(|c| (c.name.clone(), c.ty.map(|t| self.value_type(t))))
                        .collect(),
                ),
                TypeDefKind::Enum(e) => {
                    ValueType::Enum(e.cases.iter().map(|c| c.name.clone()).collect())
                }
                TypeDefKind::Flags(f) => {
                    ValueType::Flags(f.flags.iter().map(|f| f.name.clone()).collect())
                }
                TypeDefKind::Option(t) => ValueType::Option(Box::new(self.value_type(*t))),
                TypeDefKind::Result(r) => ValueType::Result {
                    ok: r.ok.map(|t| Box::new(self.value_type(t))),
                    err: r.err.map(|t| Box::new(self.value_type(t))),
                },
                TypeDefKind::List(t) => ValueType::List(Box::new(self.value_type(*t))),
                TypeDefKind::Handle(Handle::Own(r)) => {
                    ValueType::Own(ResourceTypeId(self.resource(*r)))
                }
                TypeDefKind::Handle(Handle::Borrow(r)) => {
                    ValueType::Borrow(ResourceTypeId(self.resource(*r)))
                }
                other => panic!("unsupported WIT type {other:?}"),
            },
        }
    }

    /// Whether a value of `t` holds an `own` handle (so its Rust type is not
    /// `Clone`: an own handle moves).
    pub fn has_own(&self, t: Type) -> bool {
        let Some((_, kind)) = self.def(t) else {
            return false;
        };
        match kind {
            TypeDefKind::Record(r) => r.fields.iter().any(|f| self.has_own(f.ty)),
            TypeDefKind::Tuple(t) => t.types.iter().any(|t| self.has_own(*t)),
            TypeDefKind::Variant(v) => v
                .cases
                .iter()
                .any(|c| c.ty.is_some_and(|t| self.has_own(t))),
            TypeDefKind::Option(t) | TypeDefKind::List(t) => self.has_own(*t),
            TypeDefKind::Result(r) => {
                r.ok.is_some_and(|t| self.has_own(t)) || r.err.is_some_and(|t| self.has_own(t))
            }
            TypeDefKind::Handle(Handle::Own(_)) => true,
            _ => false,
        }
    }
}

/// `kebab-case` -> `snake_case`.
pub fn snake(s: &str) -> String {
    s.replace('-', "_")
}

/// `kebab-case` -> `UpperCamelCase`.
pub fn camel(s: &str) -> String {
    s.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// `kebab-case` -> `SCREAMING_SNAKE_CASE`.
pub fn screaming(s: &str) -> String {
    snake(s).to_ascii_uppercase()
}

/// A Rust identifier for a WIT name: keywords get a trailing `_`.
pub fn ident(s: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn",
        "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
        "return", "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe",
        "use", "where", "while", "async", "await", "dyn", "abstract", "become", "box", "do",
        "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
    ];
    if KEYWORDS.contains(&s) {
        format!("{s}_")
    } else {
        s.to_string()
    }
}
