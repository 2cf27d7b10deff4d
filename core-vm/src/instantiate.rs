//! Instantiation: import checking, allocation of defined entities, segment
//! initialisation and the start function, in the spec's order.
//!
//! Invariants: imports are type-checked against the module's declared import
//! types (functions by signature, memories and tables by limits subtyping,
//! globals by type and mutability) before any state is created; element and
//! data segments are applied in order and a failing one traps after the
//! earlier ones took effect, as Wasm 2.0 specifies.

use crate::module::{ConstExpr, ConstOp, ElemItems, ImportDesc, ModuleInner, SegmentMode};
use crate::store::{Extern, FuncEntity, FuncKind, Instance, InstanceEntity, Store, StoreInner};
use crate::trap::{Error, Trap, TrapCode};
use crate::values::{ExternType, ValType};
use crate::Module;
use std::sync::Arc;

fn limits_match(
    actual_min: u64,
    actual_max: Option<u64>,
    want_min: u64,
    want_max: Option<u64>,
) -> bool {
    actual_min >= want_min
        && match (actual_max, want_max) {
            (_, None) => true,
            (Some(a), Some(w)) => a <= w,
            (None, Some(_)) => false,
        }
}

fn check_import(
    store: &StoreInner,
    m: &ModuleInner,
    desc: &ImportDesc,
    item: Extern,
) -> Result<(), String> {
    let actual = store.extern_type(item);
    let ok = match (desc, &actual, item) {
        (ImportDesc::Func(t), ExternType::Func(ft), _) => {
            **m.types.get(t.0 as usize).ok_or("bad type")? == *ft
        }
        (ImportDesc::Memory(want), ExternType::Memory(_), Extern::Memory(mem)) => {
            let e = &store.memories[mem.0 as usize];
            limits_match(e.pages(), e.ty.max, want.min, want.max)
        }
        (ImportDesc::Table(want), ExternType::Table(_), Extern::Table(t)) => {
            let e = &store.tables[t.0 as usize];
            e.ty.element == want.element
                && limits_match(e.elements.len() as u64, e.ty.max, want.min, want.max)
        }
        (ImportDesc::Global(want), ExternType::Global(g), _) => want == g,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        let want = match desc {
            ImportDesc::Func(t) => format!("function {}", m.types[t.0 as usize]),
            ImportDesc::Memory(t) => t.to_string(),
            ImportDesc::Table(t) => t.to_string(),
            ImportDesc::Global(t) => t.to_string(),
        };
        Err(format!("expected {want}, found {actual}"))
    }
}

/// Evaluates a constant expression in the context of a (partially built) instance.
pub(crate) fn eval_const(store: &StoreInner, inst: &InstanceEntity, expr: &ConstExpr) -> u64 {
    // A single operand (the usual segment offset or global initialiser)
    // needs no stack.
    let operand = |op: &ConstOp| match *op {
        ConstOp::I32(v) => Some(v as u32 as u64),
        ConstOp::I64(v) => Some(v as u64),
        ConstOp::F32(v) => Some(v as u64),
        ConstOp::F64(v) => Some(v),
        ConstOp::RefNull => Some(0),
        ConstOp::RefFunc(f) => Some(inst.funcs[f as usize].0 as u64 + 1),
        ConstOp::GlobalGet(g) => Some(store.globals[inst.globals[g as usize].0 as usize].value),
        _ => None,
    };
    if let [op] = &expr[..] {
        if let Some(v) = operand(op) {
            return v;
        }
    }
    let mut stack: Vec<u64> = Vec::with_capacity(4);
    for op in expr.iter() {
        if let Some(v) = operand(op) {
            stack.push(v);
            continue;
        }
        let v = match *op {
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                let b = stack.pop().unwrap_or(0) as u32;
                let a = stack.pop().unwrap_or(0) as u32;
                (match op {
                    ConstOp::I32Add => a.wrapping_add(b),
                    ConstOp::I32Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                }) as u64
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                let b = stack.pop().unwrap_or(0);
                let a = stack.pop().unwrap_or(0);
                match op {
                    ConstOp::I64Add => a.wrapping_add(b),
                    ConstOp::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                }
            }
            _ => unreachable!("operands are handled above"),
        };
        stack.push(v);
    }
    stack.pop().unwrap_or(0)
}

pub(crate) fn instantiate<T>(
    store: &mut Store<T>,
    module: &Module,
    imports: &[Extern],
) -> Result<Instance, Error> {
    let m = &module.inner;
    if !m.engine.same(&store.inner.engine) {
        return Err(Error::Link(
            "module and store belong to different engines".into(),
        ));
    }
    if imports.len() != m.imports.len() {
        return Err(Error::Link(format!(
            "module expects {} imports, {} were given",
            m.imports.len(),
            imports.len()
        )));
    }
    let s = &mut store.inner;
    // Counts first, as wasmtime does: instances, then memories and tables
    // this module defines.
    crate::store::count_fits(
        s.instances.len(),
        1,
        s.engine.config().max_instances,
        "instance",
    )?;
    s.check_counts(m.memories.len(), m.tables.len())?;
    let mut inst = InstanceEntity {
        module: m.clone(),
        funcs: Vec::with_capacity(m.funcs.len()),
        tables: Vec::new(),
        memories: Vec::new(),
        globals: Vec::new(),
        types: m.types.iter().map(|t| s.types.intern(t)).collect(),
        elems: Vec::new(),
        data_dropped: vec![false; m.datas.len()],
    };
    for (imp, item) in m.imports.iter().zip(imports) {
        check_import(s, m, &imp.desc, *item).map_err(|why| {
            Error::Link(format!(
                "incompatible import type for `{}::{}`: {why}",
                imp.module, imp.name
            ))
        })?;
        match *item {
            Extern::Func(f) => inst.funcs.push(f),
            Extern::Memory(x) => inst.memories.push(x),
            Extern::Table(x) => inst.tables.push(x),
            Extern::Global(x) => inst.globals.push(x),
        }
    }
    let handle = Instance(s.instances.len() as u32);
    s.funcs.reserve(m.bodies.len());
    for def_index in 0..m.bodies.len() as u32 {
        let func_index = m.num_imported_funcs + def_index;
        let ty = inst.types[m.funcs[func_index as usize].0 as usize];
        s.funcs.push(FuncEntity {
            ty,
            kind: FuncKind::Wasm {
                instance: handle,
                module: m.clone(),
                def_index,
                func_index,
                code: None,
            },
        });
        inst.funcs.push(crate::Func(s.funcs.len() as u32 - 1));
    }
    for ty in &m.memories {
        inst.memories.push(s.alloc_memory(*ty)?);
    }
    for (ty, expr) in &m.globals {
        let v = eval_const(s, &inst, expr);
        inst.globals.push(s.alloc_global(*ty, v));
    }
    for (ty, init) in &m.tables {
        let v = init.as_ref().map_or(0, |e| eval_const(s, &inst, e));
        inst.tables.push(s.alloc_table(*ty, v)?);
    }
    for seg in &m.elems {
        let items: Arc<[u64]> = match &seg.items {
            ElemItems::Funcs(f) => f
                .iter()
                .map(|&f| inst.funcs[f as usize].0 as u64 + 1)
                .collect(),
            ElemItems::Exprs(e) => e.iter().map(|e| eval_const(s, &inst, e)).collect(),
        };
        inst.elems.push(items);
    }
    s.instances.push(inst);

    // Active segments, then the start function.
    let trap = |code| Error::Trap(Trap::new(code));
    for (i, seg) in m.elems.iter().enumerate() {
        let s = &mut store.inner;
        match &seg.mode {
            SegmentMode::Active { index, offset } => {
                let inst = &s.instances[handle.0 as usize];
                let off = eval_const(s, inst, offset) as u32 as usize;
                let items = inst.elems[i].clone();
                let table = &mut s.tables[inst.tables[*index as usize].0 as usize];
                let end = off
                    .checked_add(items.len())
                    .filter(|&e| e <= table.elements.len());
                let Some(end) = end else {
                    return Err(trap(TrapCode::TableOutOfBounds));
                };
                table.elements[off..end].copy_from_slice(&items);
                s.instances[handle.0 as usize].elems[i] = Arc::from([]);
            }
            SegmentMode::Declared => s.instances[handle.0 as usize].elems[i] = Arc::from([]),
            SegmentMode::Passive => {}
        }
        debug_assert!(seg.ty == ValType::FuncRef || seg.ty == ValType::ExternRef);
    }
    for (i, seg) in m.datas.iter().enumerate() {
        let s = &mut store.inner;
        if let SegmentMode::Active { index, offset } = &seg.mode {
            let inst = &s.instances[handle.0 as usize];
            let off = eval_const(s, inst, offset) as u32 as usize;
            let mem = &mut s.memories[inst.memories[*index as usize].0 as usize];
            let bytes = &m.bytes[seg.range.clone()];
            let end = off
                .checked_add(bytes.len())
                .filter(|&e| e <= mem.data.len());
            let Some(end) = end else {
                return Err(trap(TrapCode::MemoryOutOfBounds));
            };
            mem.data[off..end].copy_from_slice(bytes);
            s.instances[handle.0 as usize].data_dropped[i] = true;
        }
    }
    if let Some(start) = m.start {
        let f = store.inner.instances[handle.0 as usize].funcs[start as usize];
        f.call(store, &[], &mut [])?;
    }
    Ok(handle)
}
