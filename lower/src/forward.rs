//! Direct calls in place of wit-component's indirect-call shim.
//!
//! wit-component breaks the cycle between a component's main module and
//! the `canon lower`s that need its memory and realloc with a *shim*
//! module: each function the main module imports from it is
//! `local.get 0 … local.get n-1; i32.const K; call_indirect (type T) $t`,
//! and a *fixup* module, instantiated after the main module, fills `$t`
//! with an active element segment. Merged, every WASI call would pay one
//! more call and a `call_indirect` (costly on interpreters). Where the
//! table's slot provably holds one function from before any of the
//! component's code runs until the end, [`direct_calls`] resolves each
//! import that names such a *forwarder* to that function instead.
//!
//! Invariants: a forwarder is bypassed only if all of these hold (else it
//! stays, and is called as before):
//! * its body is exactly the pattern above (no locals, every parameter in
//!   order), its type equal to `T` and to the slot function's type (so the
//!   `call_indirect`'s type check could not fail);
//! * `$t` is defined by one of the component's core instances and written
//!   only by active element segments whose offsets are `i32.const`, within
//!   its initial size: no function of any instance that can name it (its
//!   definer, its importers) has `table.set`, `table.grow`, `table.fill`,
//!   or `table.copy`/`table.init` into it (the merged module exports no
//!   table, and the WASI library imports none, so nothing else can);
//! * slot `K` is written exactly once, with a function;
//! * no instance before the writing one has a start function, so that the
//!   segment is applied (not deferred, see [`crate::merge`]) before any of
//!   the component's code can run.

use crate::error::LowerError;
use crate::merge::{encoder_func_type, InputId, Kind, Merger, Origin};
use crate::module::ModuleInfo;
use crate::reach::malformed;
use crate::relocate::const_i32;
use std::collections::{HashMap, HashSet};
use wasmparser::{ElementItems, ElementKind, Operator, TypeRef};

/// A forwarder found in an instance: the table it calls through (in its
/// instance's table index space) and the slot.
struct Forwarder {
    func: Origin,
    table: Origin,
    slot: u32,
    ty: wasm_encoder::FuncType,
}

/// What is known of the writes to one candidate table.
#[derive(Default)]
struct Writes {
    /// Something writes it in a way not followed (a body's table write,
    /// an offset not `i32.const`, out of bounds): no slot is trusted.
    unknown: bool,
    /// Per slot: each write's function (`None` for `ref.null`) and the
    /// writing instance.
    slots: HashMap<u32, Vec<(Option<Origin>, InputId)>>,
}

/// Resolves every import of `instances` that names a forwarder to the
/// function its slot holds (see module docs); returns how many imports were
/// changed. Every import of every instance must be resolved already.
pub fn direct_calls(merger: &mut Merger<'_>, instances: &[InputId]) -> Result<usize, LowerError> {
    let mut forwarders = Vec::new();
    for &input in instances {
        let info = merger.info(input);
        for f in 0..info.funcs.len() {
            if let Some((table, slot)) = forwarder(info, f) {
                let table = merger.local_origin(input, Kind::Table, table)?;
                let ty = info.types[info.funcs[f] as usize].clone();
                forwarders.push(Forwarder {
                    func: Origin::Defined {
                        input,
                        kind: Kind::Func,
                        index: f as u32,
                    },
                    table,
                    slot,
                    ty: encoder_func_type(&ty),
                });
            }
        }
    }
    if forwarders.is_empty() {
        return Ok(0);
    }
    let candidates: HashSet<Origin> = forwarders
        .iter()
        .map(|f| f.table)
        .filter(|t| matches!(t, Origin::Defined { input, .. } if instances.contains(input)))
        .collect();
    let writes = table_writes(merger, instances, &candidates)?;
    let first_start = merger.inputs().find(|&i| merger.info(i).start.is_some());
    let mut target: HashMap<Origin, Origin> = HashMap::new();
    for f in &forwarders {
        let Some(w) = writes.get(&f.table) else {
            continue;
        };
        if w.unknown {
            continue;
        }
        let Some([(Some(func), writer)]) = w.slots.get(&f.slot).map(Vec::as_slice) else {
            continue;
        };
        if first_start.is_some_and(|s| s < *writer) {
            continue;
        }
        if merger.func_type(*func).as_ref() != Some(&f.ty) {
            continue;
        }
        target.insert(f.func, *func);
    }
    let mut changed = 0;
    for &input in instances {
        let imports: Vec<TypeRef> = merger.info(input).imports.iter().map(|i| i.ty).collect();
        for (i, ty) in imports.iter().enumerate() {
            if Kind::of_import(ty) != Some(Kind::Func) {
                continue;
            }
            let Some(mut o) = merger.resolution(input, i) else {
                continue;
            };
            // Chains of forwarders, bounded (a cycle is left as it is).
            let mut hops = 0;
            while let Some(&t) = target.get(&o) {
                if hops > target.len() {
                    break;
                }
                o = t;
                hops += 1;
            }
            if hops > 0 && hops <= target.len() {
                merger.resolve(input, i, o);
                changed += 1;
            }
        }
    }
    Ok(changed)
}

/// If defined function `f` of `info` is a forwarder: its table (local
/// index) and slot.
fn forwarder(info: &ModuleInfo<'_>, f: usize) -> Option<(u32, u32)> {
    let body = info.bodies.get(f)?;
    if body.get_locals_reader().ok()?.get_count() != 0 {
        return None;
    }
    let ty = info.types.get(*info.funcs.get(f)? as usize)?;
    let mut ops = body.get_operators_reader().ok()?;
    for p in 0..ty.params().len() as u32 {
        match ops.read().ok()? {
            Operator::LocalGet { local_index } if local_index == p => {}
            _ => return None,
        }
    }
    let slot = match ops.read().ok()? {
        Operator::I32Const { value } => u32::try_from(value).ok()?,
        _ => return None,
    };
    let (type_index, table) = match ops.read().ok()? {
        Operator::CallIndirect {
            type_index,
            table_index,
        } => (type_index, table_index),
        _ => return None,
    };
    match ops.read().ok()? {
        Operator::End if ops.eof() => {}
        _ => return None,
    }
    (info.types.get(type_index as usize)? == ty).then_some((table, slot))
}

/// The writes to each of `candidates` by the instances (see [`Writes`]).
fn table_writes(
    merger: &Merger<'_>,
    instances: &[InputId],
    candidates: &HashSet<Origin>,
) -> Result<HashMap<Origin, Writes>, LowerError> {
    let mut writes: HashMap<Origin, Writes> =
        candidates.iter().map(|&t| (t, Writes::default())).collect();
    for &input in instances {
        let info = merger.info(input);
        let num_tables = info.imported_tables + info.tables.len() as u32;
        let mut local: HashMap<u32, Origin> = HashMap::new();
        for t in 0..num_tables {
            let o = merger.local_origin(input, Kind::Table, t)?;
            if candidates.contains(&o) {
                local.insert(t, o);
            }
        }
        if local.is_empty() {
            continue;
        }
        for e in &info.elements {
            let ElementKind::Active {
                table_index,
                offset_expr,
            } = &e.kind
            else {
                continue;
            };
            let Some(&t) = local.get(&table_index.unwrap_or(0)) else {
                continue;
            };
            let funcs = element_funcs(merger, input, &e.items)?;
            let size = table_size(merger, t);
            let w = writes.entry(t).or_default();
            match (
                const_i32(offset_expr).and_then(|v| u32::try_from(v).ok()),
                funcs,
            ) {
                (Some(off), Some(funcs)) if u64::from(off) + funcs.len() as u64 <= size => {
                    for (k, func) in funcs.into_iter().enumerate() {
                        w.slots
                            .entry(off + k as u32)
                            .or_default()
                            .push((func, input));
                    }
                }
                _ => w.unknown = true,
            }
        }
        for body in &info.bodies {
            let mut ops = body
                .get_operators_reader()
                .map_err(|e| malformed(info, e))?;
            while !ops.eof() {
                let written = match ops.read().map_err(|e| malformed(info, e))? {
                    Operator::TableSet { table }
                    | Operator::TableGrow { table }
                    | Operator::TableFill { table }
                    | Operator::TableInit { table, .. } => table,
                    Operator::TableCopy { dst_table, .. } => dst_table,
                    _ => continue,
                };
                if let Some(t) = local.get(&written) {
                    writes.entry(*t).or_default().unknown = true;
                }
            }
        }
    }
    Ok(writes)
}

/// The initial size of a defined table.
fn table_size(merger: &Merger<'_>, table: Origin) -> u64 {
    match table {
        Origin::Defined {
            input,
            kind: Kind::Table,
            index,
        } => merger
            .info(input)
            .tables
            .get(index as usize)
            .map_or(0, |t| t.ty.initial),
        _ => 0,
    }
}

/// The functions an element segment of `input` writes (`None` for a
/// `ref.null`), or `None` if an item is another expression.
fn element_funcs(
    merger: &Merger<'_>,
    input: InputId,
    items: &ElementItems<'_>,
) -> Result<Option<Vec<Option<Origin>>>, LowerError> {
    let info = merger.info(input);
    let mut out = Vec::new();
    match items {
        ElementItems::Functions(r) => {
            for f in r.clone() {
                let f = f.map_err(|e| malformed(info, e))?;
                out.push(Some(merger.local_origin(input, Kind::Func, f)?));
            }
        }
        ElementItems::Expressions(_, r) => {
            for e in r.clone() {
                let e = e.map_err(|e| malformed(info, e))?;
                let mut ops = e.get_operators_reader();
                let item = match ops.read().map_err(|e| malformed(info, e))? {
                    Operator::RefFunc { function_index } => {
                        Some(merger.local_origin(input, Kind::Func, function_index)?)
                    }
                    Operator::RefNull { .. } => None,
                    _ => return Ok(None),
                };
                match ops.read().map_err(|e| malformed(info, e))? {
                    Operator::End if ops.eof() => out.push(item),
                    _ => return Ok(None),
                }
            }
        }
    }
    Ok(Some(out))
}
