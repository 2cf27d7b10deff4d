//! The handle tables of the resources a component defines itself:
//! `canon resource.new`, `resource.rep` and `resource.drop` of its own
//! resource types, generated as core functions of the merged module.
//! (Handles of WASI resources are the library's business.)
//!
//! One table per component instance, as the Canonical ABI has it, shared
//! by all the resource types that instance defines. Its state is four
//! generated globals: the address of the slot array, its capacity, the
//! next never-used slot and the head of the free list. A slot is 8 bytes:
//! the resource type plus one (0 for a free slot) and the rep (for a free
//! slot, the next free one). Handles are slot indices from 1, so 0 is never
//! a handle; a freed slot is reused first.
//!
//! Invariants:
//! * The slot array lives in pages of memory 0 obtained with `memory.grow`
//!   (doubling, the contents copied; the old pages are left unused), which
//!   the guest's allocator never hands out (see `relocate`'s docs for why
//!   that holds for the allocators lowered mode supports).
//! * `resource.rep` and `resource.drop` of a handle that is not a live
//!   handle of that resource type trap (`unreachable`), as wasmtime traps;
//!   so does a `memory.grow` that fails.
//! * `resource.drop` calls the type's destructor, if any, with the rep,
//!   after the slot is freed.
//! * Only own handles exist here: a borrow of a guest-defined resource
//!   never reaches a handle table inside a single component (canon lift
//!   passes the rep), and the lowered WASI imports take WASI resources only.

use crate::merge::{GlueFunc, GlueGlobal, Merger, Origin};
use wasm_encoder::{BlockType, FuncType, Function, MemArg, ValType};

/// The generated functions and globals of one table.
pub struct HandleTable {
    new: GlueFunc,
    get: GlueFunc,
    remove: GlueFunc,
    grow: GlueFunc,
    base: GlueGlobal,
    cap: GlueGlobal,
    next: GlueGlobal,
    free: GlueGlobal,
}

/// A built-in of one resource type, as generated.
pub enum Op {
    New,
    Rep,
    Drop { dtor: Option<Origin> },
}

/// One generated `resource.new`/`rep`/`drop`.
pub struct BuiltIn {
    pub glue: GlueFunc,
    pub op: Op,
    /// The runtime resource type.
    pub rt: u32,
    /// Index of its table in [`Tables::tables`].
    pub table: usize,
}

/// Every table and built-in of the merged module.
#[derive(Default)]
pub struct Tables {
    tables: Vec<HandleTable>,
    /// Component instance -> its table.
    of_instance: Vec<(u32, usize)>,
    pub built_ins: Vec<BuiltIn>,
}

impl Tables {
    /// Declares the built-in `op` of resource type `rt` of component
    /// instance `instance` (and that instance's table, the first time).
    pub fn declare(&mut self, merger: &mut Merger<'_>, instance: u32, rt: u32, op: Op) -> GlueFunc {
        let table = match self.of_instance.iter().find(|(i, _)| *i == instance) {
            Some((_, t)) => *t,
            None => {
                let i32s = |n| vec![ValType::I32; n];
                let t = HandleTable {
                    new: merger.declare_glue(
                        &format!("handle table {instance}: new"),
                        FuncType::new(i32s(2), i32s(1)),
                    ),
                    get: merger.declare_glue(
                        &format!("handle table {instance}: rep"),
                        FuncType::new(i32s(2), i32s(1)),
                    ),
                    remove: merger.declare_glue(
                        &format!("handle table {instance}: remove"),
                        FuncType::new(i32s(2), i32s(1)),
                    ),
                    grow: merger.declare_glue(
                        &format!("handle table {instance}: grow"),
                        FuncType::new([], []),
                    ),
                    base: merger.declare_i32_global(&format!("handle table {instance}: slots"), 0),
                    cap: merger
                        .declare_i32_global(&format!("handle table {instance}: capacity"), 0),
                    next: merger.declare_i32_global(&format!("handle table {instance}: next"), 1),
                    free: merger.declare_i32_global(&format!("handle table {instance}: free"), 0),
                };
                self.tables.push(t);
                self.of_instance.push((instance, self.tables.len() - 1));
                self.tables.len() - 1
            }
        };
        let (what, ty) = match op {
            Op::New => ("new", FuncType::new([ValType::I32], [ValType::I32])),
            Op::Rep => ("rep", FuncType::new([ValType::I32], [ValType::I32])),
            Op::Drop { .. } => ("drop", FuncType::new([ValType::I32], [])),
        };
        let glue = merger.declare_glue(&format!("resource.{what} of resource type {rt}"), ty);
        self.built_ins.push(BuiltIn {
            glue,
            op,
            rt,
            table,
        });
        glue
    }

    /// The bodies of every generated function, with their glue ids.
    pub fn bodies(&self, merger: &Merger<'_>) -> Vec<(GlueFunc, Function)> {
        let mut out = Vec::new();
        for t in &self.tables {
            let g = |x| merger.index(Origin::GlueGlobal(x));
            let s = Slots {
                base: g(t.base),
                cap: g(t.cap),
                next: g(t.next),
                free: g(t.free),
                grow: merger.index(Origin::Glue(t.grow)),
            };
            out.push((t.new, s.new_body()));
            out.push((t.get, s.get_body(false)));
            out.push((t.remove, s.get_body(true)));
            out.push((t.grow, s.grow_body()));
        }
        for b in &self.built_ins {
            let t = &self.tables[b.table];
            let mut f = Function::new([]);
            let mut i = f.instructions();
            i.i32_const(b.rt as i32).local_get(0);
            match &b.op {
                Op::New => i.call(merger.index(Origin::Glue(t.new))),
                Op::Rep => i.call(merger.index(Origin::Glue(t.get))),
                Op::Drop { dtor } => {
                    i.call(merger.index(Origin::Glue(t.remove)));
                    match dtor {
                        Some(d) => i.call(merger.index(*d)),
                        None => i.drop(),
                    }
                }
            };
            i.end();
            out.push((b.glue, f));
        }
        out
    }
}

/// Merged indices of one table's globals and its grow function.
struct Slots {
    base: u32,
    cap: u32,
    next: u32,
    free: u32,
    grow: u32,
}

fn word(offset: u64) -> MemArg {
    MemArg {
        offset,
        align: 2,
        target: wasm_encoder::MemArgTarget::Memory(0),
        ordering: None,
    }
}

impl Slots {
    /// Pushes the address of slot `local` (`base + h * 8`).
    fn slot(&self, f: &mut Function, local: u32) {
        f.instructions()
            .global_get(self.base)
            .local_get(local)
            .i32_const(3)
            .i32_shl()
            .i32_add();
    }

    /// `new(rt, rep) -> handle`: a free slot, else the next one (growing).
    fn new_body(&self) -> Function {
        // params: rt 0, rep 1; local: h 2
        let mut f = Function::new([(1, ValType::I32)]);
        f.instructions()
            .global_get(self.free)
            .if_(BlockType::Result(ValType::I32))
            .global_get(self.free)
            .local_set(2);
        self.slot(&mut f, 2);
        f.instructions()
            .i32_load(word(4))
            .global_set(self.free)
            .local_get(2)
            .else_()
            .global_get(self.next)
            .global_get(self.cap)
            .i32_ge_u()
            .if_(BlockType::Empty)
            .call(self.grow)
            .end()
            .global_get(self.next)
            .global_get(self.next)
            .i32_const(1)
            .i32_add()
            .global_set(self.next)
            .end()
            .local_set(2);
        self.slot(&mut f, 2);
        f.instructions()
            .local_get(0)
            .i32_const(1)
            .i32_add()
            .i32_store(word(0));
        self.slot(&mut f, 2);
        f.instructions()
            .local_get(1)
            .i32_store(word(4))
            .local_get(2)
            .end();
        f
    }

    /// `rep(rt, h) -> rep`, or with `remove`, also frees the slot.
    fn get_body(&self, remove: bool) -> Function {
        // params: rt 0, h 1; local: rep 2
        let mut f = Function::new([(1, ValType::I32)]);
        f.instructions()
            .local_get(1)
            .i32_eqz()
            .local_get(1)
            .global_get(self.next)
            .i32_ge_u()
            .i32_or()
            .if_(BlockType::Empty)
            .unreachable()
            .end();
        self.slot(&mut f, 1);
        f.instructions()
            .i32_load(word(0))
            .local_get(0)
            .i32_const(1)
            .i32_add()
            .i32_ne()
            .if_(BlockType::Empty)
            .unreachable()
            .end();
        self.slot(&mut f, 1);
        f.instructions().i32_load(word(4)).local_set(2);
        if remove {
            self.slot(&mut f, 1);
            f.instructions().i32_const(0).i32_store(word(0));
            self.slot(&mut f, 1);
            f.instructions()
                .global_get(self.free)
                .i32_store(word(4))
                .local_get(1)
                .global_set(self.free);
        }
        f.instructions().local_get(2).end();
        f
    }

    /// Doubles the slot array (at least one page of 8192 slots) into fresh
    /// pages; traps if memory cannot grow.
    fn grow_body(&self) -> Function {
        // locals: new capacity 0, new base 1
        let mut f = Function::new([(2, ValType::I32)]);
        f.instructions()
            .global_get(self.cap)
            .i32_const(1)
            .i32_shl()
            .local_tee(0)
            .i32_const(8192)
            .i32_lt_u()
            .if_(BlockType::Empty)
            .i32_const(8192)
            .local_set(0)
            .end()
            .local_get(0)
            .i32_const(13)
            .i32_shr_u()
            .memory_grow(0)
            .local_tee(1)
            .i32_const(-1)
            .i32_eq()
            .if_(BlockType::Empty)
            .unreachable()
            .end()
            .local_get(1)
            .i32_const(16)
            .i32_shl()
            .local_tee(1)
            .global_get(self.base)
            .global_get(self.cap)
            .i32_const(3)
            .i32_shl()
            .memory_copy(0, 0)
            .local_get(1)
            .global_set(self.base)
            .local_get(0)
            .global_set(self.cap)
            .end();
        f
    }
}
