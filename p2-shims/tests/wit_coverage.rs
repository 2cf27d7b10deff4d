//! The shims cover the WIT they claim, with the WIT's signatures: `wit/`
//! (the vendored WASI 0.2.12) is read here with wit-parser, independently
//! of the build script, and for every function of every interface the
//! `wasi:cli/command` world imports:
//! * the generated table (`bindings::FUNCS`) has it, with the declared type
//!   the WIT gives (names, field and case names, resources) and the
//!   `canon lower` core signature canonical-abi computes for that type;
//! * [`p2_shims::add_to_linker`] registers it, and every resource with its
//!   destructor.
//!
//! Runs natively (`cargo test -p p2-shims`) and on wasm32-wasip1.

use canonical_abi::{
    flatten_functype, FlattenContext, FuncType, HostResource, ResourceTypeId, ValueType,
};
use component_model::Linker;
use p2_shims::bindings::{FUNCS, RESOURCES};
use p2_shims::WasiCtx;
use std::collections::HashMap;
use std::path::Path;
use wit_parser::{Handle, Resolve, Type, TypeDefKind, WorldItem};

struct Wit {
    resolve: Resolve,
    /// `(interface, function)` of every function of the imports, in order.
    funcs: Vec<(String, wit_parser::Function)>,
    /// `(interface, resource)` of every resource of the imports.
    resources: Vec<(String, String)>,
}

fn read_wit() -> Wit {
    let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
    let mut resolve = Resolve::default();
    // Each package is its own folder; push them after their dependencies.
    let mut last = None;
    for pkg in ["io", "clocks", "random", "filesystem", "sockets", "cli"] {
        last = Some(
            resolve
                .push_dir(wit.join(pkg))
                .unwrap_or_else(|e| panic!("wit/{pkg}: {e:?}"))
                .0,
        );
    }
    let world = resolve
        .select_world(&[last.unwrap()], Some("command"))
        .unwrap();
    let (mut funcs, mut resources) = (Vec::new(), Vec::new());
    for item in resolve.worlds[world].imports.values() {
        let WorldItem::Interface { id, .. } = item else {
            continue;
        };
        let name = resolve.id_of(*id).expect("a named interface");
        let iface = &resolve.interfaces[*id];
        for f in iface.functions.values() {
            funcs.push((name.clone(), f.clone()));
        }
        for (res, ty) in &iface.types {
            if matches!(resolve.types[*ty].kind, TypeDefKind::Resource) {
                resources.push((name.clone(), res.clone()));
            }
        }
    }
    Wit {
        resolve,
        funcs,
        resources,
    }
}

impl Wit {
    /// `t` as a Canonical ABI type, each resource numbered by its index in
    /// the generated `RESOURCES` (found by interface and name).
    fn value_type(&self, t: Type, rt: &HashMap<(String, String), u32>) -> ValueType {
        let r = &self.resolve;
        match t {
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
            Type::ErrorContext => panic!("error-context in the command world"),
            Type::Id(id) => match &r.types[id].kind {
                TypeDefKind::Type(t) => self.value_type(*t, rt),
                TypeDefKind::Record(x) => ValueType::Record(
                    x.fields
                        .iter()
                        .map(|f| (f.name.clone(), self.value_type(f.ty, rt)))
                        .collect(),
                ),
                TypeDefKind::Tuple(x) => {
                    ValueType::Tuple(x.types.iter().map(|t| self.value_type(*t, rt)).collect())
                }
                TypeDefKind::Variant(x) => ValueType::Variant(
                    x.cases
                        .iter()
                        .map(|c| (c.name.clone(), c.ty.map(|t| self.value_type(t, rt))))
                        .collect(),
                ),
                TypeDefKind::Enum(x) => {
                    ValueType::Enum(x.cases.iter().map(|c| c.name.clone()).collect())
                }
                TypeDefKind::Flags(x) => {
                    ValueType::Flags(x.flags.iter().map(|f| f.name.clone()).collect())
                }
                TypeDefKind::Option(t) => ValueType::Option(Box::new(self.value_type(*t, rt))),
                TypeDefKind::Result(x) => ValueType::Result {
                    ok: x.ok.map(|t| Box::new(self.value_type(t, rt))),
                    err: x.err.map(|t| Box::new(self.value_type(t, rt))),
                },
                TypeDefKind::List(t) => ValueType::List(Box::new(self.value_type(*t, rt))),
                TypeDefKind::Handle(Handle::Own(h)) => ValueType::Own(self.resource(*h, rt)),
                TypeDefKind::Handle(Handle::Borrow(h)) => ValueType::Borrow(self.resource(*h, rt)),
                other => panic!("unexpected WIT type {other:?}"),
            },
        }
    }

    fn resource(
        &self,
        mut id: wit_parser::TypeId,
        rt: &HashMap<(String, String), u32>,
    ) -> ResourceTypeId {
        let r = &self.resolve;
        while let TypeDefKind::Type(Type::Id(next)) = r.types[id].kind {
            id = next;
        }
        let wit_parser::TypeOwner::Interface(i) = r.types[id].owner else {
            panic!("a resource outside an interface");
        };
        let key = (r.id_of(i).unwrap(), r.types[id].name.clone().unwrap());
        ResourceTypeId(
            *rt.get(&key)
                .unwrap_or_else(|| panic!("{key:?} is not in RESOURCES")),
        )
    }
}

#[test]
fn every_function_has_the_wit_signature() {
    let wit = read_wit();
    // A sanity check that the world was read whole (123 functions at 0.2.12).
    assert!(
        wit.funcs.len() > 100,
        "only {} functions found",
        wit.funcs.len()
    );
    let rt: HashMap<(String, String), u32> = RESOURCES
        .iter()
        .map(|r| ((r.interface.to_string(), r.name.to_string()), r.index.0))
        .collect();
    let mut resources = wit.resources.clone();
    resources.sort();
    let mut table: Vec<(String, String)> = rt.keys().cloned().collect();
    table.sort();
    assert_eq!(table, resources, "RESOURCES is not the WIT's resources");
    assert_eq!(
        FUNCS.len(),
        wit.funcs.len(),
        "FUNCS has another count of functions"
    );
    let mut problems = Vec::new();
    for (iface, f) in &wit.funcs {
        let Some(decl) = FUNCS
            .iter()
            .find(|d| d.interface == iface && d.name == f.name)
        else {
            problems.push(format!("{iface}#{}: not in FUNCS", f.name));
            continue;
        };
        let want = FuncType {
            params: f
                .params
                .iter()
                .map(|p| (p.name.clone(), wit.value_type(p.ty, &rt)))
                .collect(),
            result: f.result.map(|t| wit.value_type(t, &rt)),
        };
        let declared = decl.ty.to_func_type(&|r: HostResource| ResourceTypeId(r.0));
        if declared != want {
            problems.push(format!(
                "{iface}#{}: declared {declared:?}, the WIT says {want:?}",
                f.name
            ));
        }
        let core = flatten_functype(&want, FlattenContext::Lower);
        if core.params != decl.params || core.results != decl.results {
            problems.push(format!(
                "{iface}#{}: core signature {:?} -> {:?}, canon lower gives {:?} -> {:?}",
                f.name, decl.params, decl.results, core.params, core.results
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    println!(
        "{} functions of wasi:cli/command@0.2.12 declared as the WIT says",
        FUNCS.len()
    );
}

#[test]
fn every_function_and_resource_is_registered() {
    let wit = read_wit();
    let mut linker = Linker::<WasiCtx>::new();
    p2_shims::add_to_linker(&mut linker);
    let mut missing = Vec::new();
    for (iface, f) in &wit.funcs {
        if !linker.defines_func(iface, &f.name) {
            missing.push(format!("{iface}#{}", f.name));
        }
    }
    for (iface, r) in &wit.resources {
        if !linker.defines_resource(iface, r) {
            missing.push(format!("{iface} resource {r}"));
        }
    }
    assert!(
        missing.is_empty(),
        "not provided by p2-shims ({} of {} functions):\n{}",
        missing.len(),
        wit.funcs.len(),
        missing.join("\n")
    );
}

/// The test can fail: a declared type that differs from the WIT in one
/// field name is caught by the same comparison.
#[test]
fn a_changed_signature_is_seen() {
    let wit = read_wit();
    let rt: HashMap<(String, String), u32> = RESOURCES
        .iter()
        .map(|r| ((r.interface.to_string(), r.name.to_string()), r.index.0))
        .collect();
    let (iface, f) = wit
        .funcs
        .iter()
        .find(|(i, f)| i.starts_with("wasi:clocks/wall-clock") && f.name == "now")
        .expect("wall-clock now");
    let decl = FUNCS
        .iter()
        .find(|d| d.interface == iface && d.name == f.name)
        .unwrap();
    let mut want = FuncType {
        params: vec![],
        result: f.result.map(|t| wit.value_type(t, &rt)),
    };
    assert_eq!(decl.ty.to_func_type(&|r| ResourceTypeId(r.0)), want);
    if let Some(ValueType::Record(fields)) = &mut want.result {
        fields[1].0 = "nanosecondz".into();
    }
    assert_ne!(decl.ty.to_func_type(&|r| ResourceTypeId(r.0)), want);
}
