//! The handle tables of the resources the component's instances define:
//! `canon resource.new`, `resource.rep` and `resource.drop` of those
//! resource types, and the moves of their handles from one component
//! instance to another in a fused adapter (the Canonical ABI's `lift_own`,
//! `lower_own`, `lift_borrow`, `lower_borrow`), generated as core functions
//! of the merged module. (Handles of WASI resources are the library's
//! business.)
//!
//! One table per component instance, as the Canonical ABI has it, shared
//! by all the resource types whose handles that instance holds (its own and
//! those another instance defines). Its state is five generated globals:
//! the address of the slot array, its capacity, the next never-used slot,
//! the head of the free list, and the number of live borrow handles the
//! instance was given for the call it is running. A slot is 16 bytes: the
//! resource type plus one (0 for a free slot), the rep (for a free slot,
//! the next free one), the lend count (calls running that borrow this own
//! handle) and 1 for a borrow handle (0 for own). Handles are slot indices
//! from 1, so 0 is never a handle; a freed slot is reused first.
//!
//! The lends of a call (own handles of the caller lent as `borrow`
//! arguments) are pushed on one lend stack; the adapter pops its own
//! entries when the call ends and takes their lend counts back down, as
//! the Canonical ABI's `exit_call` does.
//!
//! Invariants:
//! * The slot arrays and the lend stack live in pages of memory 0 obtained
//!   with `memory.grow` (doubling, the contents copied; the old pages are
//!   left unused), which the guest's allocator never hands out (see
//!   `relocate`'s docs for why that holds for the allocators lowered mode
//!   supports).
//! * Every trap of the Canonical ABI on a handle traps here (`unreachable`),
//!   as in wasmtime: a handle that is not a live handle of that resource
//!   type (`resource.rep`, `resource.drop`, a handle moved or borrowed), an
//!   own handle dropped or moved while lent, a borrow handle moved as own,
//!   borrow handles still held when the call that gave them ends (checked
//!   by the adapter), and a `memory.grow` that fails.
//! * `resource.drop` of an own handle calls the type's destructor, if any,
//!   with the rep, after the slot is freed; of a borrow handle, it only
//!   frees the slot.
//! * A borrow passed to the instance that defines the resource type is its
//!   rep (no handle), as the Canonical ABI's `lower_borrow` has it; so a
//!   table never holds a borrow handle of its own instance's resource.
//! * One borrow count per table is the count of the call the instance is
//!   running: an adapter that gives the callee borrow handles keeps the
//!   count it found, starts the call at 0, checks 0 at the end and puts
//!   the kept count back (a component instance can be entered again while
//!   a call into it runs, as wasmtime 49 allows between different
//!   instances: see [`crate::adapter`]).
//! * `resource.new` and `resource.drop` trap while `may_leave` is false
//!   ([`Hooks::check_may_leave`]), as in wasmtime; `resource.rep` does not.

use crate::merge::{GlueFunc, GlueGlobal, Merger, Origin};
use canonical_abi::CanonError;
use wasm_encoder::{BlockType, FuncType, Function, MemArg, ValType};

/// Offsets in a slot.
const TYPE: u64 = 0;
const REP: u64 = 4;
const LENDS: u64 = 8;
const BORROW: u64 = 12;
/// log2 of a slot's size.
const SLOT_SHIFT: i32 = 4;

/// The generated functions and globals of one table.
struct HandleTable {
    new: GlueFunc,
    get: GlueFunc,
    remove: GlueFunc,
    lend: GlueFunc,
    release: GlueFunc,
    grow: GlueFunc,
    base: GlueGlobal,
    cap: GlueGlobal,
    next: GlueGlobal,
    free: GlueGlobal,
    borrows: GlueGlobal,
}

/// The lend stack: handles (of the caller's table) lent by running calls.
struct LendStack {
    push: GlueFunc,
    grow: GlueFunc,
    base: GlueGlobal,
    cap: GlueGlobal,
    top: GlueGlobal,
}

/// A built-in of one resource type, as generated.
pub enum Op {
    New,
    Rep,
    Drop { dtor: Option<Origin> },
}

/// One generated `resource.new`/`rep`/`drop`.
struct BuiltIn {
    glue: GlueFunc,
    op: Op,
    /// The runtime resource type.
    rt: u32,
    /// Index of its table in [`Tables::tables`].
    table: usize,
}

/// How a handle moves from one instance to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// `own`: taken out of the giver's table, a new own handle in the
    /// taker's.
    Own,
    /// `borrow`: lent by the giver (if own there), a new borrow handle in
    /// the taker's table, or the rep if the taker defines the type.
    Borrow { taker_defines: bool },
}

/// One generated move `(handle) -> handle` of resource type `rt` from
/// table `from` to table `to`.
struct Transfer {
    glue: GlueFunc,
    rt: u32,
    how: Move,
    from: usize,
    to: usize,
}

/// Every table, built-in and move of the merged module.
#[derive(Default)]
pub struct Tables {
    tables: Vec<HandleTable>,
    /// Component instance -> its table.
    of_instance: Vec<(u32, usize)>,
    built_ins: Vec<BuiltIn>,
    transfers: Vec<Transfer>,
    lends: Option<LendStack>,
}

/// The library's functions that the generated code calls (each optional:
/// a library without one gets plainer code, see each field), as merged
/// origins (`Hooks<Origin>`) or indices (`Hooks<u32>`).
#[derive(Debug, Clone, Copy)]
pub struct Hooks<T> {
    /// `p2lib_canon_error(code, value)`, which reports a
    /// `canonical_abi::CanonError` as wasmtime does (exit status 1, or a
    /// trap); without it, each is a plain `unreachable`.
    pub report: Option<T>,
    /// `p2lib_phase(set) -> phase`, the library's phase, which is the
    /// Canonical ABI's `may_leave` of the merged module (2: no import may
    /// be called); without it, `may_leave` is not checked.
    pub phase: Option<T>,
}

impl<T> Default for Hooks<T> {
    fn default() -> Self {
        Hooks {
            report: None,
            phase: None,
        }
    }
}

impl Hooks<Origin> {
    /// The hooks' merged indices.
    pub fn index(&self, merger: &Merger<'_>) -> Hooks<u32> {
        Hooks {
            report: self.report.map(|r| merger.index(r)),
            phase: self.phase.map(|r| merger.index(r)),
        }
    }
}

/// The library's phase that forbids calling imports (see [`Hooks::phase`]).
const NO_LEAVE: i32 = 2;

impl Hooks<u32> {
    /// The instructions that trap, as wasmtime does, when `may_leave` is
    /// false (an import called from a `realloc` or `post-return` the
    /// Canonical ABI runs); none without the library's phase.
    pub(crate) fn check_may_leave(&self) -> Vec<wasm_encoder::Instruction<'static>> {
        use wasm_encoder::Instruction as I;
        let Some(phase) = self.phase else {
            return Vec::new();
        };
        let mut out = vec![
            I::I32Const(-1),
            I::Call(phase),
            I::I32Const(NO_LEAVE),
            I::I32Eq,
            I::If(BlockType::Empty),
        ];
        out.extend(raise(self.report, CanonError::CannotLeave, None));
        out.push(I::End);
        out
    }

    /// The instructions that set `may_leave` to false, keeping the phase
    /// before in local `saved`, and those that give it back: around a
    /// `realloc` or `post-return` the Canonical ABI runs. None without the
    /// library's phase.
    pub(crate) fn forbid_leave(
        &self,
        saved: u32,
    ) -> (
        Vec<wasm_encoder::Instruction<'static>>,
        Vec<wasm_encoder::Instruction<'static>>,
    ) {
        use wasm_encoder::Instruction as I;
        match self.phase {
            None => (Vec::new(), Vec::new()),
            Some(phase) => (
                vec![I::I32Const(NO_LEAVE), I::Call(phase), I::LocalSet(saved)],
                vec![I::LocalGet(saved), I::Call(phase), I::Drop],
            ),
        }
    }
}

/// The instructions that end the run with Canonical ABI error `e` (the
/// value in local `value`, if any): the library's report, when there is
/// one ([`Hooks::report`]), then `unreachable`.
pub(crate) fn raise(
    report: Option<u32>,
    e: CanonError,
    value: Option<u32>,
) -> Vec<wasm_encoder::Instruction<'static>> {
    use wasm_encoder::Instruction as I;
    let mut out = Vec::new();
    if let Some(r) = report {
        out.push(I::I32Const(e as i32));
        out.push(match value {
            Some(v) => I::LocalGet(v),
            None => I::I32Const(0),
        });
        out.push(I::Call(r));
    }
    out.push(I::Unreachable);
    out
}

fn emit_raise(f: &mut Function, report: Option<u32>, e: CanonError, value: Option<u32>) {
    for i in raise(report, e, value) {
        f.instruction(&i);
    }
}

/// What an adapter that moves handles does when its call ends.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallEnd {
    /// The callee instance's count of borrow handles, which must be 0.
    pub callee_borrows: Option<GlueGlobal>,
    /// The caller's `release(saved top)` and the lend stack's top.
    pub release: Option<(GlueFunc, GlueGlobal)>,
}

fn i32s(n: usize) -> Vec<ValType> {
    vec![ValType::I32; n]
}

impl Tables {
    /// Whether any table was declared.
    pub fn any(&self) -> bool {
        !self.tables.is_empty()
    }

    /// The table of component instance `instance` (declared the first
    /// time).
    fn table(&mut self, merger: &mut Merger<'_>, instance: u32) -> usize {
        if let Some((_, t)) = self.of_instance.iter().find(|(i, _)| *i == instance) {
            return *t;
        }
        let name = |what: &str| format!("handle table {instance}: {what}");
        let t = HandleTable {
            new: merger.declare_glue(&name("new"), FuncType::new(i32s(3), i32s(1))),
            get: merger.declare_glue(&name("rep"), FuncType::new(i32s(2), i32s(1))),
            remove: merger.declare_glue(&name("remove"), FuncType::new(i32s(2), i32s(2))),
            lend: merger.declare_glue(&name("lend"), FuncType::new(i32s(2), i32s(1))),
            release: merger.declare_glue(&name("release"), FuncType::new(i32s(1), [])),
            grow: merger.declare_glue(&name("grow"), FuncType::new([], [])),
            base: merger.declare_i32_global(&name("slots"), 0),
            cap: merger.declare_i32_global(&name("capacity"), 0),
            next: merger.declare_i32_global(&name("next"), 1),
            free: merger.declare_i32_global(&name("free"), 0),
            borrows: merger.declare_i32_global(&name("borrows"), 0),
        };
        self.tables.push(t);
        self.of_instance.push((instance, self.tables.len() - 1));
        self.tables.len() - 1
    }

    fn lend_stack(&mut self, merger: &mut Merger<'_>) -> &LendStack {
        self.lends.get_or_insert_with(|| LendStack {
            push: merger.declare_glue("lend stack: push", FuncType::new(i32s(1), [])),
            grow: merger.declare_glue("lend stack: grow", FuncType::new([], [])),
            base: merger.declare_i32_global("lend stack: base", 0),
            cap: merger.declare_i32_global("lend stack: capacity", 0),
            top: merger.declare_i32_global("lend stack: top", 0),
        })
    }

    /// Declares the built-in `op` of resource type `rt` of component
    /// instance `instance` (and that instance's table, the first time).
    pub fn declare(&mut self, merger: &mut Merger<'_>, instance: u32, rt: u32, op: Op) -> GlueFunc {
        let table = self.table(merger, instance);
        let (what, ty) = match op {
            Op::New => ("new", FuncType::new(i32s(1), i32s(1))),
            Op::Rep => ("rep", FuncType::new(i32s(1), i32s(1))),
            Op::Drop { .. } => ("drop", FuncType::new(i32s(1), [])),
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

    /// The move `(handle) -> handle` of a handle of resource type `rt`
    /// from instance `from` to instance `to` (declared the first time).
    pub fn transfer(
        &mut self,
        merger: &mut Merger<'_>,
        rt: u32,
        how: Move,
        from: u32,
        to: u32,
    ) -> GlueFunc {
        let (from, to) = (self.table(merger, from), self.table(merger, to));
        if let Some(t) = self
            .transfers
            .iter()
            .find(|t| (t.rt, t.how, t.from, t.to) == (rt, how, from, to))
        {
            return t.glue;
        }
        if matches!(how, Move::Borrow { .. }) {
            self.lend_stack(merger);
        }
        let what = match how {
            Move::Own => "own",
            Move::Borrow { .. } => "borrow",
        };
        let glue = merger.declare_glue(
            &format!("move of {what} handle of resource type {rt}"),
            FuncType::new(i32s(1), i32s(1)),
        );
        self.transfers.push(Transfer {
            glue,
            rt,
            how,
            from,
            to,
        });
        glue
    }

    /// What an adapter from `caller` to `callee` checks and undoes when the
    /// call ends: `lends` if it lends handles of the caller, `borrows` if
    /// it gives the callee borrow handles.
    pub fn call_end(
        &mut self,
        merger: &mut Merger<'_>,
        caller: u32,
        callee: u32,
        lends: bool,
        borrows: bool,
    ) -> CallEnd {
        let mut end = CallEnd::default();
        if borrows {
            let t = self.table(merger, callee);
            end.callee_borrows = Some(self.tables[t].borrows);
        }
        if lends {
            let t = self.table(merger, caller);
            let release = self.tables[t].release;
            end.release = Some((release, self.lend_stack(merger).top));
        }
        end
    }

    /// The bodies of every generated function, with their glue ids.
    pub fn bodies(&self, merger: &Merger<'_>, hooks: &Hooks<u32>) -> Vec<(GlueFunc, Function)> {
        let g = |x| merger.index(Origin::GlueGlobal(x));
        let f = |x| merger.index(Origin::Glue(x));
        let report = hooks.report;
        let lends = self.lends.as_ref().map(|l| Lends {
            push: f(l.push),
            base: g(l.base),
            cap: g(l.cap),
            top: g(l.top),
        });
        let mut out = Vec::new();
        if let (Some(l), Some(s)) = (&lends, &self.lends) {
            out.push((s.push, l.push_body(f(s.grow))));
            out.push((s.grow, grow_body(l.base, l.cap, 2)));
        }
        let slots: Vec<Slots> = self
            .tables
            .iter()
            .map(|t| Slots {
                report,
                base: g(t.base),
                cap: g(t.cap),
                next: g(t.next),
                free: g(t.free),
                borrows: g(t.borrows),
                grow: f(t.grow),
            })
            .collect();
        for (t, s) in self.tables.iter().zip(&slots) {
            out.push((t.new, s.new_body()));
            out.push((t.get, s.get_body()));
            out.push((t.remove, s.remove_body()));
            out.push((t.lend, s.lend_body(lends.as_ref())));
            out.push((t.release, s.release_body(lends.as_ref())));
            out.push((t.grow, grow_body(s.base, s.cap, SLOT_SHIFT)));
        }
        for b in &self.built_ins {
            let t = &self.tables[b.table];
            let mut func = Function::new([(2, ValType::I32)]);
            if !matches!(b.op, Op::Rep) {
                // `resource.rep` is allowed while `may_leave` is false.
                for i in hooks.check_may_leave() {
                    func.instruction(&i);
                }
            }
            let mut i = func.instructions();
            i.i32_const(b.rt as i32).local_get(0);
            match &b.op {
                Op::New => i.i32_const(0).call(f(t.new)),
                Op::Rep => i.call(f(t.get)),
                Op::Drop { dtor } => {
                    // locals: rep 1, borrow 2
                    i.call(f(t.remove)).local_set(2).local_set(1);
                    if let Some(d) = dtor {
                        i.local_get(2)
                            .i32_eqz()
                            .if_(BlockType::Empty)
                            .local_get(1)
                            .call(merger.index(*d))
                            .end();
                    }
                    &mut i
                }
            };
            i.end();
            out.push((b.glue, func));
        }
        for m in &self.transfers {
            let (from, to) = (&self.tables[m.from], &self.tables[m.to]);
            // param: handle 0; local: rep 1
            let mut func = Function::new([(1, ValType::I32)]);
            func.instructions().i32_const(m.rt as i32).local_get(0);
            match m.how {
                Move::Own => {
                    // A borrow handle cannot be moved as own.
                    func.instructions()
                        .call(f(from.remove))
                        .if_(BlockType::Empty);
                    emit_raise(&mut func, report, CanonError::NotOwn, Some(0));
                    func.instructions()
                        .end()
                        .local_set(1)
                        .i32_const(m.rt as i32)
                        .local_get(1)
                        .i32_const(0)
                        .call(f(to.new));
                }
                Move::Borrow {
                    taker_defines: true,
                } => {
                    func.instructions().call(f(from.lend));
                }
                Move::Borrow {
                    taker_defines: false,
                } => {
                    func.instructions()
                        .call(f(from.lend))
                        .local_set(1)
                        .i32_const(m.rt as i32)
                        .local_get(1)
                        .i32_const(1)
                        .call(f(to.new));
                }
            }
            func.instructions().end();
            out.push((m.glue, func));
        }
        out
    }
}

/// Merged indices of the lend stack's globals and its push function.
struct Lends {
    push: u32,
    base: u32,
    cap: u32,
    top: u32,
}

impl Lends {
    /// `push(handle)`, growing the stack when full.
    fn push_body(&self, grow: u32) -> Function {
        let mut f = Function::new([]);
        f.instructions()
            .global_get(self.top)
            .global_get(self.cap)
            .i32_ge_u()
            .if_(BlockType::Empty)
            .call(grow)
            .end()
            .global_get(self.base)
            .global_get(self.top)
            .i32_const(2)
            .i32_shl()
            .i32_add()
            .local_get(0)
            .i32_store(word(0))
            .global_get(self.top)
            .i32_const(1)
            .i32_add()
            .global_set(self.top)
            .end();
        f
    }
}

/// Merged indices of one table's globals and its grow function.
struct Slots {
    report: Option<u32>,
    base: u32,
    cap: u32,
    next: u32,
    free: u32,
    borrows: u32,
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
    /// Pushes the address of slot `local` (`base + h * 16`).
    fn slot(&self, f: &mut Function, local: u32) {
        f.instructions()
            .global_get(self.base)
            .local_get(local)
            .i32_const(SLOT_SHIFT)
            .i32_shl()
            .i32_add();
    }

    /// Traps unless handle `h` (local 1) is a live handle of resource type
    /// `rt` (local 0).
    fn check(&self, f: &mut Function) {
        f.instructions()
            .local_get(1)
            .i32_eqz()
            .local_get(1)
            .global_get(self.next)
            .i32_ge_u()
            .i32_or()
            .if_(BlockType::Empty);
        emit_raise(f, self.report, CanonError::UnknownHandle, Some(1));
        f.instructions().end();
        self.slot(f, 1);
        f.instructions()
            .i32_load(word(TYPE))
            .local_get(0)
            .i32_const(1)
            .i32_add()
            .i32_ne()
            .if_(BlockType::Empty);
        emit_raise(f, self.report, CanonError::UnknownHandle, Some(1));
        f.instructions().end();
    }

    /// `new(rt, rep, borrow) -> handle`: a free slot, else the next one
    /// (growing); a borrow handle counts in the table's borrows.
    fn new_body(&self) -> Function {
        // params: rt 0, rep 1, borrow 2; local: h 3
        let mut f = Function::new([(1, ValType::I32)]);
        f.instructions()
            .global_get(self.free)
            .if_(BlockType::Result(ValType::I32))
            .global_get(self.free)
            .local_set(3);
        self.slot(&mut f, 3);
        f.instructions()
            .i32_load(word(REP))
            .global_set(self.free)
            .local_get(3)
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
            .local_set(3);
        for (offset, value) in [
            (TYPE, None),
            (REP, Some(1)),
            (LENDS, None),
            (BORROW, Some(2)),
        ] {
            self.slot(&mut f, 3);
            let mut i = f.instructions();
            match (offset, value) {
                (TYPE, _) => i.local_get(0).i32_const(1).i32_add(),
                (_, Some(l)) => i.local_get(l),
                _ => i.i32_const(0),
            };
            i.i32_store(word(offset));
        }
        f.instructions()
            .global_get(self.borrows)
            .local_get(2)
            .i32_add()
            .global_set(self.borrows)
            .local_get(3)
            .end();
        f
    }

    /// `rep(rt, h) -> rep`.
    fn get_body(&self) -> Function {
        let mut f = Function::new([]);
        self.check(&mut f);
        self.slot(&mut f, 1);
        f.instructions().i32_load(word(REP)).end();
        f
    }

    /// `remove(rt, h) -> (rep, borrow)`: frees the slot; traps if the
    /// handle is lent.
    fn remove_body(&self) -> Function {
        // params: rt 0, h 1; locals: rep 2, borrow 3
        let mut f = Function::new([(2, ValType::I32)]);
        self.check(&mut f);
        self.slot(&mut f, 1);
        f.instructions().i32_load(word(LENDS)).if_(BlockType::Empty);
        emit_raise(&mut f, self.report, CanonError::LentHandle, Some(1));
        f.instructions().end();
        self.slot(&mut f, 1);
        f.instructions().i32_load(word(REP)).local_set(2);
        self.slot(&mut f, 1);
        f.instructions()
            .i32_load(word(BORROW))
            .local_tee(3)
            .global_get(self.borrows)
            .local_get(3)
            .i32_sub()
            .global_set(self.borrows)
            .drop();
        self.slot(&mut f, 1);
        f.instructions().i32_const(0).i32_store(word(TYPE));
        self.slot(&mut f, 1);
        f.instructions()
            .global_get(self.free)
            .i32_store(word(REP))
            .local_get(1)
            .global_set(self.free)
            .local_get(2)
            .local_get(3)
            .end();
        f
    }

    /// `lend(rt, h) -> rep`: an own handle's lend count goes up for the
    /// call, and the handle onto the lend stack.
    fn lend_body(&self, lends: Option<&Lends>) -> Function {
        let mut f = Function::new([]);
        self.check(&mut f);
        if let Some(l) = lends {
            self.slot(&mut f, 1);
            f.instructions()
                .i32_load(word(BORROW))
                .i32_eqz()
                .if_(BlockType::Empty);
            self.add_lends(&mut f, 1);
            f.instructions().local_get(1).call(l.push).end();
        }
        self.slot(&mut f, 1);
        f.instructions().i32_load(word(REP)).end();
        f
    }

    /// Adds `delta` to the lend count of the slot of handle local 1.
    fn add_lends(&self, f: &mut Function, delta: i32) {
        self.slot(f, 1);
        self.slot(f, 1);
        f.instructions()
            .i32_load(word(LENDS))
            .i32_const(delta)
            .i32_add()
            .i32_store(word(LENDS));
    }

    /// `release(saved)`: pops the lend stack down to `saved`, taking each
    /// popped handle's lend count back down.
    fn release_body(&self, lends: Option<&Lends>) -> Function {
        // param: saved 0; local: h 1
        let mut f = Function::new([(1, ValType::I32)]);
        if let Some(l) = lends {
            f.instructions()
                .block(BlockType::Empty)
                .loop_(BlockType::Empty)
                .global_get(l.top)
                .local_get(0)
                .i32_le_u()
                .br_if(1)
                .global_get(l.top)
                .i32_const(1)
                .i32_sub()
                .global_set(l.top)
                .global_get(l.base)
                .global_get(l.top)
                .i32_const(2)
                .i32_shl()
                .i32_add()
                .i32_load(word(0))
                .local_set(1);
            self.add_lends(&mut f, -1);
            f.instructions().br(0).end().end();
        }
        f.instructions().end();
        f
    }
}

/// Doubles an array of `1 << shift`-byte elements (at least one page's
/// worth) into fresh pages of memory 0; traps if memory cannot grow.
fn grow_body(base: u32, cap: u32, shift: i32) -> Function {
    let min = 65536 >> shift;
    // locals: new capacity 0, new base 1
    let mut f = Function::new([(2, ValType::I32)]);
    f.instructions()
        .global_get(cap)
        .i32_const(1)
        .i32_shl()
        .local_tee(0)
        .i32_const(min)
        .i32_lt_u()
        .if_(BlockType::Empty)
        .i32_const(min)
        .local_set(0)
        .end()
        .local_get(0)
        .i32_const(16 - shift)
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
        .global_get(base)
        .global_get(cap)
        .i32_const(shift)
        .i32_shl()
        .memory_copy(0, 0)
        .local_get(1)
        .global_set(base)
        .local_get(0)
        .global_set(cap)
        .end();
    f
}
