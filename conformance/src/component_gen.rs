//! Generated components for the component fuzzer (feature `component-gen`):
//! wit-smith turns bytes into a random WIT package, wit-component makes a
//! dummy core module for one of its worlds (every export body is
//! `unreachable`) and encodes it as a component; the component then goes
//! through `Component::new`, instantiation with every import stubbed
//! (`Linker::stub_missing`: each import traps, naming itself), and a call of
//! every exported function with arguments built from its type.
//!
//! Invariants: the generator only asks for what component-model supports
//! (synchronous ABI: no async, futures, streams, `error-context`,
//! fixed-length lists). Rejecting the component, failing to instantiate it,
//! and a trap or typed error from a call are all fine; a panic is a finding
//! (the caller catches it), and so is an `Error::Type` for arguments that
//! were built from the function's own parameter types.

use crate::fuzz_harness::{engine, Stats};
use arbitrary::{Result as AResult, Unstructured};
use canonical_abi::{Val, ValueType};
use component_model::{Component, Error, Linker};
use core_vm::Store;
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::{LiftLowerAbi, ManglingAndAbi};

/// Fuel for instantiation and for each call.
const FUEL: u64 = 100_000;
/// Largest list made for an argument.
const MAX_LIST: usize = 4;

/// Makes a component from `u`, or `None` when the bytes do not make one
/// (wit-smith's `IncorrectFormat`, a world-less package, or wit-component
/// refusing the world). May panic if wit-smith or wit-component does.
pub fn generate(u: &mut Unstructured<'_>) -> Option<Vec<u8>> {
    generate_with(u, false, |module, _| Some(module))
}

/// [`generate`], with the dummy core module passed through `rewrite` (with
/// the same bytes) before it is encoded as a component: the differential
/// fuzzer gives it real bodies there (`crate::component_diff`). With
/// `prefer_callable`, up to 4 packages are drawn until one has a world that
/// exports functions, and the world is drawn in 7 of 8 inputs among those that
/// export functions (directly or in an exported interface), if the package
/// has any, and among those, in 1 of 2, among the ones that also import
/// functions, and then in 1 of 2 among the ones with handles in their
/// functions' types; otherwise among all worlds.
pub fn generate_with(
    u: &mut Unstructured<'_>,
    prefer_callable: bool,
    rewrite: impl FnOnce(Vec<u8>, &mut Unstructured<'_>) -> Option<Vec<u8>>,
) -> Option<Vec<u8>> {
    // With `prefer_callable`, up to 4 packages are drawn (each from the
    // rest of the bytes) until one has a world exporting functions.
    let mut attempts = if prefer_callable { 4 } else { 1 };
    let decoded = loop {
        let mut config: wit_smith::Config = u.arbitrary().ok()?;
        config.async_ = false;
        config.futures = false;
        config.streams = false;
        config.error_context = false;
        config.fixed_length_lists = false;
        config.implements = false;
        if prefer_callable {
            // More functions of resources (constructors, methods, statics).
            config.max_resource_items = config.max_resource_items.max(3);
        }
        let wit = wit_smith::smith(&config, u).ok()?;
        let decoded = wit_component::decode(&wit).ok()?;
        attempts -= 1;
        let resolve = decoded.resolve();
        if attempts == 0
            || resolve
                .worlds
                .iter()
                .any(|(_, w)| has_functions(resolve, &w.exports))
        {
            break decoded;
        }
    };
    let resolve = decoded.resolve();
    let mut worlds: Vec<_> = resolve.worlds.iter().map(|(id, _)| id).collect();
    if prefer_callable {
        let callable: Vec<_> = worlds
            .iter()
            .copied()
            .filter(|w| has_functions(resolve, &resolve.worlds[*w].exports))
            .collect();
        if !callable.is_empty() && u.ratio(7, 8).unwrap_or(true) {
            let both: Vec<_> = callable
                .iter()
                .copied()
                .filter(|w| has_functions(resolve, &resolve.worlds[*w].imports))
                .collect();
            worlds = if !both.is_empty() && u.arbitrary().unwrap_or(true) {
                both
            } else {
                callable
            };
            // In 1 of 2, among those whose functions (imported or exported)
            // have handles in their types, if any.
            let handles: Vec<_> = worlds
                .iter()
                .copied()
                .filter(|w| {
                    let w = &resolve.worlds[*w];
                    has_handle_functions(resolve, &w.imports)
                        || has_handle_functions(resolve, &w.exports)
                })
                .collect();
            if !handles.is_empty() && u.arbitrary().unwrap_or(true) {
                worlds = handles;
            }
        }
    }
    let world = *u.choose(&worlds).ok()?;
    let mangling = if u.arbitrary().unwrap_or(false) {
        ManglingAndAbi::Standard32
    } else {
        ManglingAndAbi::Legacy(LiftLowerAbi::Sync)
    };
    let module = wit_component::dummy_module(resolve, world, mangling);
    let mut module = rewrite(module, u)?;
    wit_component::embed_component_metadata(
        &mut module,
        resolve,
        world,
        StringEncoding::UTF8,
        false,
    )
    .ok()?;
    ComponentEncoder::default()
        .module(&module)
        .ok()?
        .validate(true)
        .encode()
        .ok()
}

/// Whether the world items `items` hold a function, directly or in an
/// interface.
fn has_functions(
    resolve: &wit_parser::Resolve,
    items: &wit_parser::IndexMap<wit_parser::WorldKey, wit_parser::WorldItem>,
) -> bool {
    items.values().any(|item| match item {
        wit_parser::WorldItem::Function(_) => true,
        wit_parser::WorldItem::Interface { id, .. } => {
            !resolve.interfaces[*id].functions.is_empty()
        }
        wit_parser::WorldItem::Type { .. } => false,
    })
}

/// Whether the world items `items` hold a function with an `own` or
/// `borrow` handle in its type (at any depth), directly or in an interface.
fn has_handle_functions(
    resolve: &wit_parser::Resolve,
    items: &wit_parser::IndexMap<wit_parser::WorldKey, wit_parser::WorldItem>,
) -> bool {
    let func = |f: &wit_parser::Function| {
        f.params
            .iter()
            .map(|p| &p.ty)
            .chain(f.result.iter())
            .any(|t| type_has_handle(resolve, t, 0))
    };
    items.values().any(|item| match item {
        wit_parser::WorldItem::Function(f) => func(f),
        wit_parser::WorldItem::Interface { id, .. } => {
            resolve.interfaces[*id].functions.values().any(func)
        }
        wit_parser::WorldItem::Type { .. } => false,
    })
}

/// Whether WIT type `t` holds a handle (looked through to a depth of 16).
fn type_has_handle(resolve: &wit_parser::Resolve, t: &wit_parser::Type, depth: u32) -> bool {
    use wit_parser::TypeDefKind as K;
    let wit_parser::Type::Id(id) = t else {
        return false;
    };
    if depth > 16 {
        return false;
    }
    let rec = |t: &wit_parser::Type| type_has_handle(resolve, t, depth + 1);
    match &resolve.types[*id].kind {
        K::Handle(_) => true,
        K::Record(r) => r.fields.iter().any(|f| rec(&f.ty)),
        K::Tuple(t) => t.types.iter().any(rec),
        K::Variant(v) => v.cases.iter().any(|c| c.ty.as_ref().is_some_and(rec)),
        K::Option(t) | K::List(t) | K::Type(t) | K::FixedLengthList(t, _) => rec(t),
        K::Map(k, v) => rec(k) || rec(v),
        K::Result(r) => r.ok.as_ref().is_some_and(rec) || r.err.as_ref().is_some_and(rec),
        _ => false,
    }
}

/// A value of type `t` drawn from `u` (zero/first-case values once `u` is
/// exhausted). Resource handles are arbitrary numbers: the host owns none,
/// so lowering them must fail with a typed error.
pub fn arbitrary_val(u: &mut Unstructured<'_>, t: &ValueType) -> AResult<Val> {
    Ok(match t {
        ValueType::Bool => Val::Bool(u.arbitrary()?),
        ValueType::S8 => Val::S8(u.arbitrary()?),
        ValueType::U8 => Val::U8(u.arbitrary()?),
        ValueType::S16 => Val::S16(u.arbitrary()?),
        ValueType::U16 => Val::U16(u.arbitrary()?),
        ValueType::S32 => Val::S32(u.arbitrary()?),
        ValueType::U32 => Val::U32(u.arbitrary()?),
        ValueType::S64 => Val::S64(u.arbitrary()?),
        ValueType::U64 => Val::U64(u.arbitrary()?),
        ValueType::F32 => Val::Float32(u.arbitrary()?),
        ValueType::F64 => Val::Float64(u.arbitrary()?),
        ValueType::Char => Val::Char(u.arbitrary()?),
        ValueType::String => {
            let n = u.int_in_range(0..=16)?;
            let s: String = (0..n)
                .map(|_| u.arbitrary::<char>())
                .collect::<AResult<_>>()?;
            Val::string(s)
        }
        ValueType::List(e) => {
            let n = u.int_in_range(0..=MAX_LIST)?;
            Val::List(
                (0..n)
                    .map(|_| arbitrary_val(u, e))
                    .collect::<AResult<_>>()?,
            )
        }
        ValueType::Record(fields) => Val::Record(
            fields
                .iter()
                .map(|(n, t)| Ok((n.clone(), arbitrary_val(u, t)?)))
                .collect::<AResult<_>>()?,
        ),
        ValueType::Tuple(ts) => Val::Tuple(
            ts.iter()
                .map(|t| arbitrary_val(u, t))
                .collect::<AResult<_>>()?,
        ),
        ValueType::Variant(cases) => {
            let (name, payload) = u.choose(cases)?;
            let p = match payload {
                Some(t) => Some(Box::new(arbitrary_val(u, t)?)),
                None => None,
            };
            Val::Variant(name.clone(), p)
        }
        ValueType::Enum(labels) => Val::Enum(u.choose(labels)?.clone()),
        ValueType::Option(t) => Val::Option(if u.arbitrary()? {
            Some(Box::new(arbitrary_val(u, t)?))
        } else {
            None
        }),
        ValueType::Result { ok, err } => {
            let side = |u: &mut Unstructured<'_>,
                        t: &Option<Box<ValueType>>|
             -> AResult<Option<Box<Val>>> {
                Ok(match t {
                    Some(t) => Some(Box::new(arbitrary_val(u, t)?)),
                    None => None,
                })
            };
            Val::Result(if u.arbitrary()? {
                Ok(side(u, ok)?)
            } else {
                Err(side(u, err)?)
            })
        }
        ValueType::Flags(labels) => {
            let mut set = Vec::new();
            for l in labels {
                if u.arbitrary()? {
                    set.push(l.clone());
                }
            }
            Val::Flags(set)
        }
        ValueType::Own(_) | ValueType::Borrow(_) => Val::Resource(u.arbitrary()?),
    })
}

/// Runs a generated component: `Component::new`, stub-missing
/// instantiation, then every exported function called once with arguments
/// from `u`. `errors` collects the rejection and error messages (for
/// `--verbose`).
pub fn exec_component(bytes: &[u8], u: &mut Unstructured<'_>, errors: &mut Vec<String>) -> Stats {
    let mut stats = Stats {
        generated: 1,
        ..Stats::default()
    };
    let engine = engine();
    let component = match Component::new(&engine, bytes) {
        Ok(c) => c,
        Err(e) => {
            stats.rejected_generated += 1;
            errors.push(format!("rejected: {e}"));
            return stats;
        }
    };
    let mut store = Store::new(&engine, ());
    store.set_fuel(FUEL);
    let mut linker: Linker<()> = Linker::new();
    linker.stub_missing(true);
    let instance = match linker.instantiate(&mut store, &component) {
        Ok(i) => i,
        Err(e) => {
            stats.instantiation_errors += 1;
            errors.push(format!("instantiation: {e}"));
            return stats;
        }
    };
    stats.instantiated += 1;
    for name in instance.exported_functions() {
        let Some(func) = exported_func(&instance, &name) else {
            stats
                .findings
                .push(format!("exported function {name} is listed but not found"));
            continue;
        };
        let params: Vec<ValueType> = func.ty().param_types().into_iter().cloned().collect();
        let args: Vec<Val> = match params.iter().map(|t| arbitrary_val(u, t)).collect() {
            Ok(a) => a,
            Err(_) => break, // out of bytes
        };
        store.set_fuel(FUEL);
        stats.calls += 1;
        match func.call(&mut store, &args) {
            Ok(_) => stats.calls_ok += 1,
            Err(Error::Type { func, message }) => {
                stats.call_errors += 1;
                stats.findings.push(format!(
                    "{func}: arguments built from its type rejected: {message}"
                ));
            }
            Err(e) if e.is_trap() => stats.traps += 1,
            Err(e) => {
                stats.call_errors += 1;
                errors.push(format!("call {name}: {e}"));
            }
        }
    }
    stats
}

/// The exported function `name` as `exported_functions` lists it: `inst#f`
/// (function `f` of exported instance `inst`) or `f` at the root.
pub fn exported_func<T: 'static>(
    instance: &component_model::ComponentInstance<T>,
    name: &str,
) -> Option<component_model::ComponentFunc<T>> {
    match name.split_once('#') {
        Some((inst, f)) => instance.get_instance_func(inst, f),
        None => instance.get_func(name),
    }
}
