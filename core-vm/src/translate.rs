//! Translation of one function body from Wasm to register bytecode.
//!
//! The translator walks the operators once, keeping a compile-time operand
//! stack of [`Provider`]s. Each stack position `p` owns the register
//! `num_locals + p`; a value computed by an instruction is written straight
//! to the register of the position it will occupy (a `Temp`), while
//! `local.get` and constants are pushed as `Local`/`Const` providers that
//! emit nothing until an instruction consumes them.
//!
//! Invariants (relied on by `exec.rs` for unchecked register access):
//! * every register named by an emitted instruction is `< num_regs`;
//! * a `Temp` provider at position `p` always lives in register
//!   `num_locals + p`;
//! * before a local is overwritten, every `Local` provider of it still on the
//!   stack is materialised, and at every block, loop and `if` entry all
//!   `Local` providers are materialised, so a provider's value can never
//!   depend on which path control flow took;
//! * at a label, the label's values (block results, loop parameters) are in
//!   the registers of their stack positions above the label's height;
//! * code emitted on one edge of a conditional branch (a `br_if`'s copies to
//!   its label, or its return) writes registers but never changes a
//!   provider: the providers describe the fall-through edge, on which that
//!   code did not run (`place`, never `materialize`, there).

use crate::instr::{BranchOffset, Instr, Reg};
use crate::module::ModuleInner;
use crate::trap::{Error, TrapCode};
use wasmparser::{BlockType, Operator};

/// A translated function body.
#[derive(Debug)]
pub(crate) struct CompiledFunc {
    pub code: Box<[Instr]>,
    /// Registers of a frame: parameters, locals, then operand-stack slots.
    pub num_regs: u32,
    pub num_params: u32,
    /// Declared locals (excluding parameters), zeroed on entry.
    pub num_locals: u32,
}

/// Where a value of the Wasm operand stack is at a safe point: in a register
/// of the frame, or a constant the translator has not materialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Reg(Reg),
    Const(u64),
}

/// What kind of position a [`SafePoint`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SafeKind {
    /// The function's first instruction.
    Entry,
    /// A loop header: the target of the loop's back-edges.
    Loop,
    /// A call: a suspended caller resumes after it, with the callee's
    /// frame at register `base`.
    Call { base: Reg },
}

/// A bytecode position where the Wasm-level state (locals and operand
/// stack) can be read from, and written back to, the frame's registers.
#[derive(Debug, Clone)]
pub(crate) struct SafePoint {
    pub kind: SafeKind,
    /// The index of the instruction (for a call: the call instruction).
    pub index: u32,
    /// The Wasm operator's offset in the module's bytes.
    pub wasm_offset: u32,
    /// The operand stack below the point (for a call: below its arguments).
    pub stack: Vec<Place>,
}

/// What a second, recording translation of a body adds to its code: the
/// Wasm offset of each instruction and the safe points. Made only when a
/// checkpoint, a trace or a profile asks for it; execution never reads it.
#[derive(Debug)]
pub(crate) struct DebugInfo {
    /// For every instruction, the offset of the Wasm operator that emitted
    /// it (for a fused one, the last of its operators).
    pub offsets: Box<[u32]>,
    /// Sorted by `index`; a loop header may share its index with the entry
    /// or an enclosing loop header (they then describe the same state).
    pub safe_points: Vec<SafePoint>,
    /// The number of instructions; equal to the executed code's length.
    pub len: usize,
}

/// Translates the defined function `def_index` of `module`.
pub(crate) fn translate(module: &ModuleInner, def_index: u32) -> Result<CompiledFunc, Error> {
    translate_with(module, def_index, None)
}

/// Translates `def_index` again, recording its [`DebugInfo`]. Translation is
/// deterministic, so the code equals what [`translate`] made.
pub(crate) fn debug_info(module: &ModuleInner, def_index: u32) -> Result<DebugInfo, Error> {
    let mut rec = Recorder::default();
    let code = translate_with(module, def_index, Some(&mut rec))?;
    Ok(DebugInfo {
        offsets: rec.offsets.into_boxed_slice(),
        safe_points: rec.safe_points,
        len: code.code.len(),
    })
}

#[derive(Default)]
struct Recorder {
    offsets: Vec<u32>,
    safe_points: Vec<SafePoint>,
    /// The offset of the operator being translated.
    at: u32,
}

fn translate_with(
    module: &ModuleInner,
    def_index: u32,
    rec: Option<&mut Recorder>,
) -> Result<CompiledFunc, Error> {
    let func_index = module.num_imported_funcs + def_index;
    let body = &module.bodies[def_index as usize];
    let bytes = &module.bytes[body.range.clone()];
    let reader = wasmparser::BinaryReader::new(bytes, body.range.start as u64);
    let body = wasmparser::FunctionBody::new(reader);
    if let Some(func) = module.body_validator(def_index) {
        let mut fv = func.into_validator(Default::default());
        fv.validate(&body)?;
    }
    let ty = module.func_type(func_index);
    let num_params = ty.params().len() as u32;
    let mut num_locals = 0u32;
    for local in body.get_locals_reader()? {
        let (count, _) = local?;
        num_locals = num_locals.saturating_add(count);
    }
    let total = num_params as u64 + num_locals as u64;
    if total > MAX_REGS as u64 {
        return Err(Error::Unsupported(format!(
            "function {func_index} has {total} locals"
        )));
    }
    let mut t = Translator {
        module,
        code: Vec::new(),
        num_locals: total as u32,
        stack: Vec::new(),
        max_height: 0,
        frames: Vec::new(),
        reachable: true,
        num_results: ty.results().len() as u32,
        last: None,
        label_fence: 0,
        rec,
    };
    if module.engine.config().fuel_metering {
        t.code.push(Instr::ConsumeFuel {});
    }
    t.frames.push(Frame {
        kind: FrameKind::Block,
        height: 0,
        num_params: 0,
        num_results: ty.results().len() as u32,
        start: 0,
        fixups: Vec::new(),
        entered_reachable: true,
        else_fixup: None,
    });
    let mut ops = body.get_operators_reader()?;
    if let Some(r) = &mut t.rec {
        r.at = ops.original_position() as u32;
        r.safe_points.push(SafePoint {
            kind: SafeKind::Entry,
            index: 0,
            wasm_offset: r.at,
            stack: Vec::new(),
        });
    }
    while !ops.eof() {
        if let Some(r) = &mut t.rec {
            r.at = ops.original_position() as u32;
        }
        let op = ops.read()?;
        t.operator(&op)?;
        if let Some(r) = &mut t.rec {
            // Fusion may have replaced earlier instructions: keep the
            // offsets parallel to the code.
            r.offsets.truncate(t.code.len());
            r.offsets.resize(t.code.len(), r.at);
        }
    }
    let num_regs = t.num_locals + t.max_height + 1;
    if num_regs > MAX_REGS {
        return Err(Error::Unsupported(format!(
            "function {func_index} needs {num_regs} registers"
        )));
    }
    Ok(CompiledFunc {
        code: t.code.into_boxed_slice(),
        num_regs,
        num_params,
        num_locals,
    })
}

const MAX_REGS: u32 = u16::MAX as u32;

/// Where a value on the compile-time operand stack comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Provider {
    Local(Reg),
    Const(u64),
    /// Computed into the register of its own stack position.
    Temp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    Block,
    Loop,
    If,
    Else,
}

#[derive(Debug)]
struct Frame {
    kind: FrameKind,
    /// Stack height below the frame's parameters.
    height: u32,
    num_params: u32,
    num_results: u32,
    /// For loops, the index of the first instruction (the back-edge target).
    start: usize,
    /// Branches to the frame's end, to patch when it is reached.
    fixups: Vec<usize>,
    entered_reachable: bool,
    /// For `if`, the branch to the `else` (or end) taken when false.
    else_fixup: Option<usize>,
}

impl Frame {
    fn label_arity(&self) -> u32 {
        if self.kind == FrameKind::Loop {
            self.num_params
        } else {
            self.num_results
        }
    }
}

struct Translator<'m> {
    module: &'m ModuleInner,
    code: Vec<Instr>,
    num_locals: u32,
    stack: Vec<Provider>,
    max_height: u32,
    frames: Vec<Frame>,
    reachable: bool,
    /// Results of the function itself.
    num_results: u32,
    /// The last emitted instruction, if it produced the Temp on top of the
    /// stack and no label intervened: a candidate for fusion.
    last: Option<usize>,
    /// The highest instruction index a label points at so far: an
    /// instruction may be fused with the one before it only if it is above.
    label_fence: usize,
    /// Set for a recording translation ([`debug_info`]).
    rec: Option<&'m mut Recorder>,
}

/// Binary operator constructors, from the instruction table.
type MakeRR = fn(Reg, Reg, Reg) -> Instr;
type MakeRI = fn(Reg, Reg, i32) -> Instr;

impl<'m> Translator<'m> {
    /// Records a safe point at the next instruction, with the operand
    /// stack's bottom `keep` values.
    fn safe_point(&mut self, kind: SafeKind, keep: u32) {
        let Some(r) = &mut self.rec else { return };
        let stack = (0..keep)
            .map(|pos| match self.stack[pos as usize] {
                Provider::Local(reg) => Place::Reg(reg),
                Provider::Const(c) => Place::Const(c),
                Provider::Temp => Place::Reg(Reg((self.num_locals + pos) as u16)),
            })
            .collect();
        r.safe_points.push(SafePoint {
            kind,
            index: self.code.len() as u32,
            wasm_offset: r.at,
            stack,
        });
    }

    // ----- registers and providers -----

    fn slot(&self, pos: u32) -> Reg {
        Reg((self.num_locals + pos) as u16)
    }

    fn height(&self) -> u32 {
        self.stack.len() as u32
    }

    fn push(&mut self, p: Provider) -> Result<(), Error> {
        self.stack.push(p);
        let h = self.height();
        if self.num_locals + h + 1 > MAX_REGS {
            return Err(Error::Unsupported("function operand stack too deep".into()));
        }
        self.max_height = self.max_height.max(h);
        Ok(())
    }

    /// Pushes the result of an instruction about to be emitted at the
    /// current top; returns its register.
    fn push_temp(&mut self) -> Result<Reg, Error> {
        let r = self.slot(self.height());
        self.push(Provider::Temp)?;
        Ok(r)
    }

    fn pop(&mut self) -> Provider {
        self.last = None;
        self.stack
            .pop()
            .expect("validated: operand stack underflow")
    }

    /// Whether the Temp on top of the stack was produced by the last emitted
    /// instruction (checked before popping it).
    fn top_is_last_result(&self) -> bool {
        self.stack.last() == Some(&Provider::Temp)
            && self.last.is_some()
            && self.last == Some(self.code.len() - 1)
    }

    /// Before popping the operands of a binary operator (or a load's
    /// address, `n == 1`): the index of the last emitted instruction if it
    /// produced one of the top `n` stack values, a Temp that only the
    /// instruction about to be emitted will read.
    fn fusion_candidate(&self, n: usize) -> Option<usize> {
        let last = self.last.filter(|&l| l + 1 == self.code.len())?;
        // `last` produced the topmost Temp (nothing was popped since, or
        // `last` would be cleared); providers above it are locals or
        // constants, which emit nothing when read.
        let top_temp = self.stack.iter().rposition(|p| *p == Provider::Temp)?;
        (top_temp >= self.stack.len() - n).then_some(last)
    }

    /// Replaces the instruction at `inner` and the one just emitted after it
    /// (which reads its result) with one superinstruction, if there is one.
    fn fuse_with(&mut self, inner: Option<usize>) {
        let Some(inner) = inner else { return };
        let outer = self.code.len() - 1;
        if outer != inner + 1 {
            return; // a constant was materialised in between
        }
        if let Some(fused) = Instr::fuse_pair(&self.code[inner], &self.code[outer]) {
            self.code.pop();
            self.code[inner] = fused;
            self.last = Some(inner);
        }
    }

    fn emit(&mut self, i: Instr) -> usize {
        self.code.push(i);
        self.last = None;
        self.code.len() - 1
    }

    /// Emits an instruction whose result is the new Temp on top.
    fn emit_result(&mut self, make: impl FnOnce(Reg) -> Instr) -> Result<(), Error> {
        let dst = self.push_temp()?;
        let idx = self.emit(make(dst));
        self.last = Some(idx);
        Ok(())
    }

    fn emit_const(&mut self, dst: Reg, c: u64) {
        // ConstI32 writes the sign-extension of its value: use it only when
        // that gives back `c` exactly (readers of i32 registers ignore the
        // upper half anyway).
        if (c as i32 as i64 as u64) == c {
            self.emit(Instr::ConstI32 {
                dst,
                value: c as i32,
            });
        } else {
            self.emit(Instr::Const64 {
                dst,
                lo: c as u32,
                hi: (c >> 32) as u32,
            });
        }
    }

    /// Emits code that puts the value at stack position `pos` into that
    /// position's register, leaving its provider as it is. The register of
    /// a `Local` or `Const` provider holds nothing else, so this is safe on
    /// one edge of a branch (the other edge keeps reading the provider).
    fn place(&mut self, pos: u32) {
        let dst = self.slot(pos);
        match self.stack[pos as usize] {
            Provider::Temp => {}
            Provider::Local(src) => {
                self.emit(Instr::Copy { dst, src });
            }
            Provider::Const(c) => self.emit_const(dst, c),
        }
    }

    /// Makes the provider at stack position `pos` a Temp. Only where every
    /// path to later code runs the emitted copy (never on one edge only).
    fn materialize(&mut self, pos: u32) {
        self.place(pos);
        self.stack[pos as usize] = Provider::Temp;
    }

    fn materialize_top(&mut self, n: u32) {
        let h = self.height();
        for pos in h - n..h {
            self.materialize(pos);
        }
    }

    fn materialize_locals(&mut self) {
        for pos in 0..self.height() {
            if let Provider::Local(_) = self.stack[pos as usize] {
                self.materialize(pos);
            }
        }
    }

    /// The register holding a popped provider that was at position `pos`.
    /// Constants are materialised into that (now free) position's register.
    fn reg_of(&mut self, p: Provider, pos: u32) -> Reg {
        match p {
            Provider::Local(r) => r,
            Provider::Temp => self.slot(pos),
            Provider::Const(c) => {
                let dst = self.slot(pos);
                self.emit_const(dst, c);
                dst
            }
        }
    }

    /// Pops one operand into a register.
    fn pop_reg(&mut self) -> Reg {
        let p = self.pop();
        let pos = self.height();
        self.reg_of(p, pos)
    }

    // ----- families -----

    /// The `i32` immediate holding a constant operand, if it fits: a 32-bit
    /// value's bits as they are, a 64-bit one only if it is the
    /// sign-extension of its low half.
    fn imm32(p: Provider, is_64: bool) -> Option<i32> {
        match p {
            Provider::Const(c) if !is_64 => Some(c as u32 as i32),
            Provider::Const(c) if (c as i64) == (c as i32 as i64) => Some(c as i32),
            _ => None,
        }
    }

    fn int_binop(&mut self, rr: MakeRR, ri: MakeRI, is_i64: bool) -> Result<(), Error> {
        let inner = self.fusion_candidate(2);
        let rhs = self.pop();
        let rhs_pos = self.height();
        let lhs = self.pop();
        let lhs_pos = self.height();
        let imm = Self::imm32(rhs, is_i64);
        let lhs = self.reg_of(lhs, lhs_pos);
        match imm {
            Some(imm) => self.emit_result(|dst| ri(dst, lhs, imm))?,
            None => {
                let rhs = self.reg_of(rhs, rhs_pos);
                self.emit_result(|dst| rr(dst, lhs, rhs))?
            }
        }
        self.fuse_with(inner);
        Ok(())
    }

    fn binop(&mut self, rr: MakeRR) -> Result<(), Error> {
        let inner = self.fusion_candidate(2);
        let rhs = self.pop_reg();
        let lhs = self.pop_reg();
        self.emit_result(|dst| rr(dst, lhs, rhs))?;
        self.fuse_with(inner);
        Ok(())
    }

    /// A float binary operator; a constant operand (one, when the other is
    /// not constant too) becomes an immediate.
    fn float_binop(
        &mut self,
        rr: MakeRR,
        ri: fn(Reg, Reg, u64) -> Instr,
        rl: fn(Reg, Reg, u64) -> Instr,
    ) -> Result<(), Error> {
        let n = self.stack.len();
        match (self.stack[n - 2], self.stack[n - 1]) {
            (_, Provider::Const(c)) => {
                let inner = self.fusion_candidate(2);
                self.pop();
                let lhs = self.pop_reg();
                self.emit_result(|dst| ri(dst, lhs, c))?;
                self.fuse_with(inner);
                Ok(())
            }
            (Provider::Const(c), _) => {
                let inner = self.fusion_candidate(2);
                let rhs = self.pop_reg();
                self.pop();
                self.emit_result(|dst| rl(dst, rhs, c))?;
                self.fuse_with(inner);
                Ok(())
            }
            _ => self.binop(rr),
        }
    }

    fn unop(&mut self, make: fn(Reg, Reg) -> Instr) -> Result<(), Error> {
        let src = self.pop_reg();
        self.emit_result(|dst| make(dst, src))
    }

    fn memarg(&self, memarg: &wasmparser::MemArg) -> Result<(u32, u16), Error> {
        let offset = u32::try_from(memarg.offset)
            .map_err(|_| Error::Unsupported("memory offset beyond 32 bits".into()))?;
        let wasmparser::MemArgTarget::Memory(mem) = memarg.target else {
            return Err(Error::Unsupported("GC array memory operands".into()));
        };
        let mem = self.mem16(mem)?;
        Ok((offset, mem))
    }

    fn load(
        &mut self,
        memarg: &wasmparser::MemArg,
        mem0: fn(Reg, Reg, u32) -> Instr,
        memn: fn(Reg, Reg, u32, u16) -> Instr,
    ) -> Result<(), Error> {
        let (offset, mem) = self.memarg(memarg)?;
        let inner = self.fusion_candidate(1);
        let ptr = self.pop_reg();
        self.emit_result(|dst| {
            if mem == 0 {
                mem0(dst, ptr, offset)
            } else {
                memn(dst, ptr, offset, mem)
            }
        })?;
        self.fuse_with(inner);
        Ok(())
    }

    fn store(
        &mut self,
        memarg: &wasmparser::MemArg,
        mem0: fn(Reg, Reg, u32) -> Instr,
        memn: fn(Reg, Reg, u32, u16) -> Instr,
        imm: fn(Reg, i32, u32) -> Instr,
        is_64: bool,
    ) -> Result<(), Error> {
        let (offset, mem) = self.memarg(memarg)?;
        let value = self.pop();
        let value_pos = self.height();
        let constant = Self::imm32(value, is_64);
        if let (Some(c), 0) = (constant, mem) {
            let ptr = self.pop_reg();
            self.emit(imm(ptr, c, offset));
            return Ok(());
        }
        let src = self.reg_of(value, value_pos);
        let ptr = self.pop_reg();
        self.emit(if mem == 0 {
            mem0(ptr, src, offset)
        } else {
            memn(ptr, src, offset, mem)
        });
        Ok(())
    }

    // ----- locals -----

    fn local_set(&mut self, local: u32, tee: bool) -> Result<(), Error> {
        let l = Reg(local as u16);
        let fusable = self.top_is_last_result();
        let value = self.pop();
        let pos = self.height();
        if value == Provider::Local(l) {
            if tee {
                self.push(value)?;
            }
            return Ok(());
        }
        let aliased = self.stack.contains(&Provider::Local(l));
        let fusable = fusable && !aliased;
        if fusable {
            let last = self.code.len() - 1;
            let expected = self.slot(pos);
            let dst = self.code[last]
                .result_reg_mut()
                .expect("fusion candidate has a result");
            debug_assert_eq!(*dst, expected);
            *dst = l;
        } else {
            if aliased {
                for p in 0..self.height() {
                    if self.stack[p as usize] == Provider::Local(l) {
                        self.materialize(p);
                    }
                }
            }
            match value {
                Provider::Const(c) => self.emit_const(l, c),
                Provider::Local(src) => {
                    self.emit(Instr::Copy { dst: l, src });
                }
                Provider::Temp => {
                    let src = self.slot(pos);
                    self.emit(Instr::Copy { dst: l, src });
                }
            }
        }
        self.last = None;
        if tee {
            self.push(Provider::Local(l))?;
        }
        Ok(())
    }

    // ----- control -----

    fn block_arity(&self, ty: BlockType) -> (u32, u32) {
        match ty {
            BlockType::Empty => (0, 0),
            BlockType::Type(_) => (0, 1),
            BlockType::FuncType(idx) => {
                let t = &self.module.types[idx as usize];
                (t.params().len() as u32, t.results().len() as u32)
            }
        }
    }

    fn push_frame(&mut self, kind: FrameKind, ty: BlockType) {
        let (num_params, num_results) = self.block_arity(ty);
        let entered_reachable = self.reachable;
        let height = if entered_reachable {
            self.height() - num_params
        } else {
            0
        };
        self.frames.push(Frame {
            kind,
            height,
            num_params,
            num_results,
            start: self.code.len(),
            fixups: Vec::new(),
            entered_reachable,
            else_fixup: None,
        });
        self.label_fence = self.code.len();
        self.last = None;
    }

    /// Prepares the stack for entering a block: no `Local` providers stay
    /// live across the label, and the parameters sit in their registers.
    fn enter_block(&mut self, num_params: u32) {
        self.materialize_locals();
        self.materialize_top(num_params);
    }

    /// Copies the top `arity` values into the registers of a label at
    /// `height`. Only writes registers, never changes a provider: a
    /// conditional branch's copies run on its taken edge alone.
    fn copy_to_label(&mut self, height: u32, arity: u32) {
        let top = self.height();
        let src = top - arity;
        if src == height {
            for pos in src..top {
                self.place(pos);
            }
            return;
        }
        let all_temps = self.stack[src as usize..]
            .iter()
            .all(|p| *p == Provider::Temp);
        if all_temps && arity > 1 {
            self.emit(Instr::CopySpan {
                dst: self.slot(height),
                src: self.slot(src),
                len: arity as u16,
            });
            return;
        }
        for i in 0..arity {
            let dst = self.slot(height + i);
            match self.stack[(src + i) as usize] {
                Provider::Local(r) => {
                    self.emit(Instr::Copy { dst, src: r });
                }
                Provider::Const(c) => self.emit_const(dst, c),
                Provider::Temp => {
                    self.emit(Instr::Copy {
                        dst,
                        src: self.slot(src + i),
                    });
                }
            }
        }
    }

    /// Whether branching to `depth` needs no value copies.
    fn branch_in_place(&self, depth: u32) -> bool {
        let f = &self.frames[self.frames.len() - 1 - depth as usize];
        let arity = f.label_arity();
        let top = self.height();
        arity == 0
            || (top - arity == f.height
                && self.stack[(top - arity) as usize..]
                    .iter()
                    .all(|p| *p == Provider::Temp))
    }

    /// Emits a branch instruction to the label at `depth` (values already placed).
    fn emit_branch(&mut self, depth: u32, make: impl FnOnce(BranchOffset) -> Instr) {
        let at = self.code.len();
        let idx = self.frames.len() - 1 - depth as usize;
        if self.frames[idx].kind == FrameKind::Loop {
            let offset = self.frames[idx].start as i64 - at as i64;
            self.emit(make(offset as BranchOffset));
        } else {
            self.emit(make(0));
            self.frames[idx].fixups.push(at);
        }
    }

    fn br(&mut self, depth: u32) {
        let f = &self.frames[self.frames.len() - 1 - depth as usize];
        let (height, arity) = (f.height, f.label_arity());
        if depth as usize == self.frames.len() - 1 {
            self.emit_return();
        } else {
            self.copy_to_label(height, arity);
            self.emit_branch(depth, |offset| Instr::Br { offset });
        }
        self.set_unreachable();
    }

    /// Emits a conditional branch on a popped condition, fusing a comparison
    /// that was just computed into it. With `negate`, branches when false.
    fn cond_branch(&mut self, negate: bool, emit: impl FnOnce(&mut Self, Instr) -> usize) -> usize {
        let fusable = self.top_is_last_result();
        let cond = self.pop();
        let pos = self.height();
        if fusable {
            if let Some(fused) = self.code[self.code.len() - 1].fuse_branch(negate, 0) {
                self.code.pop();
                return emit(self, fused);
            }
        }
        let cond = self.reg_of(cond, pos);
        let i = if negate {
            Instr::BrIfEqz { cond, offset: 0 }
        } else {
            Instr::BrIfNez { cond, offset: 0 }
        };
        emit(self, i)
    }

    fn br_if(&mut self, depth: u32) {
        // The condition is on top; check placement of the values below it
        // (a raw pop, so fusion with the comparison stays possible).
        let cond = self.stack.pop().expect("validated");
        let in_place = self.branch_in_place(depth);
        let is_return = depth as usize == self.frames.len() - 1;
        self.stack.push(cond);
        if in_place && !is_return {
            let frame_idx = self.frames.len() - 1 - depth as usize;
            let is_loop = self.frames[frame_idx].kind == FrameKind::Loop;
            let start = self.frames[frame_idx].start;
            let arity = self.frames[frame_idx].label_arity();
            self.cond_branch(false, |t, i| {
                // Temps already in place; make sure they really are registers.
                let mut i = t.fuse_add_into_branch(i);
                let at = t.code.len();
                if is_loop {
                    *i.branch_offset_mut().unwrap() = (start as i64 - at as i64) as BranchOffset;
                }
                t.emit(i);
                if !is_loop {
                    t.frames[frame_idx].fixups.push(at);
                }
                at
            });
            debug_assert!(arity == 0 || self.branch_in_place(depth));
        } else {
            let skip = self.cond_branch(true, |t, i| t.emit(i));
            if is_return {
                self.emit_return();
            } else {
                let f = &self.frames[self.frames.len() - 1 - depth as usize];
                let (height, arity) = (f.height, f.label_arity());
                self.copy_to_label(height, arity);
                self.emit_branch(depth, |offset| Instr::Br { offset });
            }
            self.patch_here(skip);
        }
    }

    /// A conditional branch `i` about to be emitted that tests the register
    /// an `i32.add` (or `sub`) with an immediate, emitted just before it, wrote back to
    /// its own operand (`x += k; br_if x != ...`, or `x < ...`) takes that add in (popping
    /// it), unless a label points between the two.
    fn fuse_add_into_branch(&mut self, i: Instr) -> Instr {
        let (dst, lhs, imm) = match self.code.last() {
            Some(&Instr::I32AddImm { dst, lhs, imm }) => (dst, lhs, imm),
            Some(&Instr::I32SubImm { dst, lhs, imm }) => (dst, lhs, imm.wrapping_neg()),
            _ => return i,
        };
        if dst != lhs || self.label_fence >= self.code.len() {
            return i;
        }
        let fused = match i {
            Instr::BrIfNez { cond, offset } if cond == dst => Instr::BrAddImmNez {
                reg: dst,
                imm,
                offset,
            },
            Instr::BrI32Ne { lhs, rhs, offset } if lhs == dst && rhs != dst => Instr::BrAddImmNe {
                reg: dst,
                imm,
                rhs,
                offset,
            },
            Instr::BrI32NeImm {
                lhs,
                imm: cmp,
                offset,
            } if lhs == dst => Instr::BrAddImmNeImm {
                reg: dst,
                imm,
                cmp,
                offset,
            },
            Instr::BrI32LtU { lhs, rhs, offset } if lhs == dst && rhs != dst => {
                Instr::BrAddImmLtU {
                    reg: dst,
                    imm,
                    rhs,
                    offset,
                }
            }
            Instr::BrI32LtS { lhs, rhs, offset } if lhs == dst && rhs != dst => {
                Instr::BrAddImmLtS {
                    reg: dst,
                    imm,
                    rhs,
                    offset,
                }
            }
            _ => return i,
        };
        self.code.pop();
        fused
    }

    fn br_table(&mut self, targets: &wasmparser::BrTable<'_>) -> Result<(), Error> {
        let index = self.pop_reg();
        let depths: Vec<u32> = targets.targets().collect::<Result<_, _>>()?;
        let default = targets.default();
        let all: Vec<u32> = depths.into_iter().chain(std::iter::once(default)).collect();
        // Values must be in registers for the trampolines below.
        let arity = self.frames[self.frames.len() - 1 - default as usize].label_arity();
        self.materialize_top(arity);
        self.emit(Instr::BrTable {
            index,
            len: all.len() as u32,
        });
        let table_start = self.code.len();
        let mut trampolines = Vec::new();
        for &depth in &all {
            if self.branch_in_place(depth) && depth as usize != self.frames.len() - 1 {
                self.emit_branch(depth, |offset| Instr::Br { offset });
            } else {
                trampolines.push((self.code.len(), depth));
                self.emit(Instr::Br { offset: 0 });
            }
        }
        debug_assert_eq!(self.code.len(), table_start + all.len());
        for (entry, depth) in trampolines {
            self.patch_here(entry);
            if depth as usize == self.frames.len() - 1 {
                self.emit_return();
            } else {
                let f = &self.frames[self.frames.len() - 1 - depth as usize];
                let (height, arity) = (f.height, f.label_arity());
                self.copy_to_label(height, arity);
                self.emit_branch(depth, |offset| Instr::Br { offset });
            }
        }
        self.set_unreachable();
        Ok(())
    }

    fn patch_here(&mut self, at: usize) {
        self.label_fence = self.code.len();
        let offset = (self.code.len() - at) as BranchOffset;
        *self.code[at]
            .branch_offset_mut()
            .expect("patching a branch") = offset;
        self.last = None;
    }

    fn set_unreachable(&mut self) {
        self.reachable = false;
        let h = self.frames.last().map_or(0, |f| f.height);
        self.stack.truncate(h as usize);
        self.last = None;
    }

    /// Emits a return of the top `num_results` values. Like
    /// [`Self::copy_to_label`], it only writes registers (a `br_if` may
    /// return on its taken edge alone).
    fn emit_return(&mut self) {
        let n = self.num_results;
        match n {
            0 => {
                self.emit(Instr::Return {});
            }
            1 => {
                let p = *self.stack.last().expect("validated");
                let pos = self.height() - 1;
                let src = match p {
                    Provider::Local(r) => r,
                    Provider::Temp => self.slot(pos),
                    Provider::Const(_) => {
                        self.place(pos);
                        self.slot(pos)
                    }
                };
                self.emit(Instr::ReturnReg { src });
            }
            _ => {
                let top = self.height();
                for pos in top - n..top {
                    self.place(pos);
                }
                let src = self.slot(top - n);
                self.emit(Instr::ReturnSpan { src, len: n as u16 });
            }
        }
    }

    fn end(&mut self) -> Result<(), Error> {
        let frame = self.frames.pop().expect("validated: end matches a frame");
        if self.reachable {
            if self.frames.is_empty() {
                self.emit_return();
            } else {
                self.copy_to_label(frame.height, frame.num_results);
            }
        }
        let mut fixups = frame.fixups;
        if let Some(f) = frame.else_fixup {
            fixups.push(f); // `if` without `else`: false jumps to the end.
        }
        let reachable_after = self.reachable || !fixups.is_empty();
        for f in fixups {
            self.patch_here(f);
        }
        if self.frames.is_empty() {
            return Ok(());
        }
        self.last = None;
        if reachable_after && frame.entered_reachable {
            self.stack.truncate(frame.height as usize);
            for _ in 0..frame.num_results {
                self.push(Provider::Temp)?;
            }
            self.reachable = true;
        } else {
            self.reachable = false;
        }
        Ok(())
    }

    fn call(&mut self, func: u32, tail: bool) -> Result<(), Error> {
        let ty = self.module.func_type(func).clone();
        let n = ty.params().len() as u32;
        self.materialize_top(n);
        let base = self.slot(self.height() - n);
        if !tail {
            self.safe_point(SafeKind::Call { base }, self.height() - n);
        }
        self.stack.truncate((self.height() - n) as usize);
        if tail {
            self.emit(Instr::ReturnCall { func, base });
            self.set_unreachable();
        } else {
            self.emit(Instr::Call { func, base });
            for _ in 0..ty.results().len() {
                self.push(Provider::Temp)?;
            }
        }
        Ok(())
    }

    fn call_indirect(&mut self, ty: u32, table: u32, tail: bool) -> Result<(), Error> {
        let ft = self.module.types[ty as usize].clone();
        let index = self.pop_reg();
        let n = ft.params().len() as u32;
        self.materialize_top(n);
        let base = self.slot(self.height() - n);
        if !tail {
            self.safe_point(SafeKind::Call { base }, self.height() - n);
        }
        self.stack.truncate((self.height() - n) as usize);
        // The index register may be the base slot's neighbour above the
        // arguments; the executor reads it before the callee frame exists.
        if tail {
            self.emit(Instr::ReturnCallIndirect {
                ty,
                table,
                index,
                base,
            });
            self.set_unreachable();
        } else {
            self.emit(Instr::CallIndirect {
                ty,
                table,
                index,
                base,
            });
            for _ in 0..ft.results().len() {
                self.push(Provider::Temp)?;
            }
        }
        Ok(())
    }

    fn operator(&mut self, op: &Operator<'_>) -> Result<(), Error> {
        if !self.reachable {
            return self.unreachable_operator(op);
        }
        match *op {
            Operator::Nop => {}
            Operator::Unreachable => {
                self.emit(Instr::Trap {
                    code: TrapCode::Unreachable,
                });
                self.set_unreachable();
            }
            Operator::Block { blockty } => {
                let (params, _) = self.block_arity(blockty);
                self.enter_block(params);
                self.push_frame(FrameKind::Block, blockty);
            }
            Operator::Loop { blockty } => {
                let (params, _) = self.block_arity(blockty);
                self.enter_block(params);
                self.push_frame(FrameKind::Loop, blockty);
                self.safe_point(SafeKind::Loop, self.height());
                if self.module.engine.config().fuel_metering {
                    self.emit(Instr::ConsumeFuel {});
                }
            }
            Operator::If { blockty } => {
                let (params, _) = self.block_arity(blockty);
                let cond = self.stack.pop().expect("validated");
                self.enter_block(params);
                self.stack.push(cond);
                let at = self.cond_branch(true, |t, i| t.emit(i));
                self.push_frame(FrameKind::If, blockty);
                self.frames.last_mut().unwrap().else_fixup = Some(at);
            }
            Operator::Else => self.else_()?,
            Operator::End => self.end()?,
            Operator::Br { relative_depth } => self.br(relative_depth),
            Operator::BrIf { relative_depth } => self.br_if(relative_depth),
            Operator::BrTable { ref targets } => self.br_table(targets)?,
            Operator::Return => {
                self.emit_return();
                self.set_unreachable();
            }
            Operator::Call { function_index } => self.call(function_index, false)?,
            Operator::ReturnCall { function_index } => self.call(function_index, true)?,
            Operator::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, false)?,
            Operator::ReturnCallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, true)?,
            Operator::Drop => {
                self.pop();
            }
            Operator::Select | Operator::TypedSelect { .. } => {
                let cond = self.pop_reg();
                let b = self.pop_reg();
                let a = self.pop_reg();
                self.emit_result(|dst| Instr::Select { dst, cond, a, b })?;
            }
            Operator::TypedSelectMulti { .. } => {
                return Err(Error::Unsupported("select with several results".into()))
            }
            Operator::LocalGet { local_index } => {
                self.push(Provider::Local(Reg(local_index as u16)))?
            }
            Operator::LocalSet { local_index } => self.local_set(local_index, false)?,
            Operator::LocalTee { local_index } => self.local_set(local_index, true)?,
            Operator::GlobalGet { global_index } => self.emit_result(|dst| Instr::GlobalGet {
                dst,
                global: global_index,
            })?,
            Operator::GlobalSet { global_index } => {
                let src = self.pop_reg();
                self.emit(Instr::GlobalSet {
                    src,
                    global: global_index,
                });
            }
            Operator::I32Const { value } => self.push(Provider::Const(value as u32 as u64))?,
            Operator::I64Const { value } => self.push(Provider::Const(value as u64))?,
            Operator::F32Const { value } => self.push(Provider::Const(value.bits() as u64))?,
            Operator::F64Const { value } => self.push(Provider::Const(value.bits()))?,
            Operator::RefNull { .. } => self.push(Provider::Const(0))?,
            Operator::RefIsNull => self.unop(|dst, src| Instr::I64Eqz { dst, src })?,
            Operator::RefFunc { function_index } => self.emit_result(|dst| Instr::RefFunc {
                dst,
                func: function_index,
            })?,
            Operator::MemorySize { mem } => {
                self.emit_result(|dst| Instr::MemorySize { dst, mem })?
            }
            Operator::MemoryGrow { mem } => {
                let delta = self.pop_reg();
                self.emit_result(|dst| Instr::MemoryGrow { dst, delta, mem })?
            }
            Operator::MemoryFill { mem } => {
                let mem = self.mem16(mem)?;
                let len = self.pop_reg();
                let val = self.pop_reg();
                let dst = self.pop_reg();
                self.emit(Instr::MemoryFill { dst, val, len, mem });
            }
            Operator::MemoryCopy { dst_mem, src_mem } => {
                let (dst_mem, src_mem) = (self.mem16(dst_mem)?, self.mem16(src_mem)?);
                let len = self.pop_reg();
                let src = self.pop_reg();
                let dst = self.pop_reg();
                self.emit(Instr::MemoryCopy {
                    dst,
                    src,
                    len,
                    dst_mem,
                    src_mem,
                });
            }
            Operator::MemoryInit { data_index, mem } => {
                let mem = self.mem16(mem)?;
                let len = self.pop_reg();
                let src = self.pop_reg();
                let dst = self.pop_reg();
                self.emit(Instr::MemoryInit {
                    dst,
                    src,
                    len,
                    mem,
                    data: data_index,
                });
            }
            Operator::DataDrop { data_index } => {
                self.emit(Instr::DataDrop { data: data_index });
            }
            Operator::TableGet { table } => {
                let index = self.pop_reg();
                self.emit_result(|dst| Instr::TableGet { dst, index, table })?
            }
            Operator::TableSet { table } => {
                let value = self.pop_reg();
                let index = self.pop_reg();
                self.emit(Instr::TableSet {
                    index,
                    value,
                    table,
                });
            }
            Operator::TableSize { table } => {
                self.emit_result(|dst| Instr::TableSize { dst, table })?
            }
            Operator::TableGrow { table } => {
                let delta = self.pop_reg();
                let init = self.pop_reg();
                self.emit_result(|dst| Instr::TableGrow {
                    dst,
                    init,
                    delta,
                    table,
                })?
            }
            Operator::TableFill { table } => {
                let len = self.pop_reg();
                let value = self.pop_reg();
                let index = self.pop_reg();
                self.emit(Instr::TableFill {
                    index,
                    value,
                    len,
                    table,
                });
            }
            Operator::TableCopy {
                dst_table,
                src_table,
            } => {
                let (dst_table, src_table) = (self.table16(dst_table)?, self.table16(src_table)?);
                let len = self.pop_reg();
                let src = self.pop_reg();
                let dst = self.pop_reg();
                self.emit(Instr::TableCopy {
                    dst,
                    src,
                    len,
                    dst_table,
                    src_table,
                });
            }
            Operator::TableInit { elem_index, table } => {
                let table = self.table16(table)?;
                let len = self.pop_reg();
                let src = self.pop_reg();
                let dst = self.pop_reg();
                self.emit(Instr::TableInit {
                    dst,
                    src,
                    len,
                    table,
                    elem: elem_index,
                });
            }
            Operator::ElemDrop { elem_index } => {
                self.emit(Instr::ElemDrop { elem: elem_index });
            }
            // `x & 0xffff_ffff` is the zero-extension of x's low half.
            Operator::I64And if self.stack.last() == Some(&Provider::Const(0xffff_ffff)) => {
                self.pop();
                self.unop(|dst, src| Instr::I64ExtendI32U { dst, src })?
            }
            ref other => {
                if !self.family(other)? {
                    return Err(Error::Unsupported(format!("operator {other:?}")));
                }
            }
        }
        Ok(())
    }

    fn mem16(&self, mem: u32) -> Result<u16, Error> {
        u16::try_from(mem).map_err(|_| Error::Unsupported("memory index > 65535".into()))
    }

    fn table16(&self, table: u32) -> Result<u16, Error> {
        u16::try_from(table).map_err(|_| Error::Unsupported("table index > 65535".into()))
    }

    fn else_(&mut self) -> Result<(), Error> {
        let frame = self.frames.last_mut().expect("validated");
        let (height, num_params, num_results) = (frame.height, frame.num_params, frame.num_results);
        if !frame.entered_reachable {
            frame.kind = FrameKind::Else;
            return Ok(());
        }
        if self.reachable {
            self.copy_to_label(height, num_results);
            let at = self.emit(Instr::Br { offset: 0 });
            self.frames.last_mut().unwrap().fixups.push(at);
        }
        let frame = self.frames.last_mut().unwrap();
        frame.kind = FrameKind::Else;
        let else_fixup = frame.else_fixup.take();
        if let Some(at) = else_fixup {
            self.patch_here(at);
        }
        self.stack.truncate(height as usize);
        for _ in 0..num_params {
            self.push(Provider::Temp)?;
        }
        self.reachable = true;
        self.last = None;
        Ok(())
    }

    /// Dead code is skipped, but its control structure is still tracked.
    fn unreachable_operator(&mut self, op: &Operator<'_>) -> Result<(), Error> {
        match *op {
            Operator::Block { blockty } => self.push_frame(FrameKind::Block, blockty),
            Operator::Loop { blockty } => self.push_frame(FrameKind::Loop, blockty),
            Operator::If { blockty } => self.push_frame(FrameKind::If, blockty),
            Operator::Else => self.else_()?,
            Operator::End => self.end()?,
            _ => {}
        }
        Ok(())
    }
}

macro_rules! define_translate_family {
    (
        int_binop { $(($ib:ident, $ibi:ident, $ibop:ident, $ibf:ident, $ibty:ident))* }
        int_cmp { $(($ic:ident, $ici:ident, $icop:ident, $icbr:ident, $icbri:ident, $icnbr:ident, $icnbri:ident, $icf:ident, $icty:ident))* }
        float_binop { $(($fb:ident, $fbi:ident, $fbl:ident, $fbop:ident, $fbf:ident, $fbty:ident))* }
        float_cmp { $(($fc:ident, $fcop:ident, $fcf:ident, $fcty:ident))* }
        unop { $(($un:ident, $unop:ident, $unf:ident, $unty:ident))* }
        load { $(($ld:ident, $ldm:ident, $lda:ident, $ldi:ident, $ldx:ident, $ldop:ident, $ldraw:ident, $ldty:ident))* }
        fused_rr_r { $(($frr:ident, $frri:ident, $frro:ident, $frrif:ident, $frrof:ident, $frrty:ident))* }
        fused_rr_i { $(($fri:ident, $frii:ident, $frio:ident, $friif:ident, $friof:ident, $frity:ident))* }
        fused_ri_r { $(($fir:ident, $firi:ident, $firo:ident, $firif:ident, $firof:ident, $firty:ident))* }
        fused_ii { $(($fii:ident, $fiii:ident, $fiio:ident, $fiiif:ident, $fiiof:ident, $fiity:ident))* }
        store { $(($st:ident, $stm:ident, $sti:ident, $stop:ident, $stty:ident, $straw:ident))* }
        other { $($other:tt)* }
    ) => {
        impl<'m> Translator<'m> {
            /// Translates an operator of a regular family; false if it is none.
            fn family(&mut self, op: &Operator<'_>) -> Result<bool, Error> {
                match *op {
                    $( Operator::$ibop => self.int_binop(
                        |dst, lhs, rhs| Instr::$ib { dst, lhs, rhs },
                        |dst, lhs, imm| Instr::$ibi { dst, lhs, imm },
                        stringify!($ibty) == "i64",
                    )?, )*
                    $( Operator::$icop => self.int_binop(
                        |dst, lhs, rhs| Instr::$ic { dst, lhs, rhs },
                        |dst, lhs, imm| Instr::$ici { dst, lhs, imm },
                        stringify!($icty) == "i64",
                    )?, )*
                    $( Operator::$fbop => self.float_binop(
                        |dst, lhs, rhs| Instr::$fb { dst, lhs, rhs },
                        |dst, lhs, c| Instr::$fbi { dst, lhs, lo: c as u32, hi: (c >> 32) as u32 },
                        |dst, rhs, c| Instr::$fbl { dst, rhs, lo: c as u32, hi: (c >> 32) as u32 },
                    )?, )*
                    $( Operator::$fcop => self.binop(|dst, lhs, rhs| Instr::$fc { dst, lhs, rhs })?, )*
                    $( Operator::$unop => self.unop(|dst, src| Instr::$un { dst, src })?, )*
                    $( Operator::$ldop { ref memarg } => self.load(
                        memarg,
                        |dst, ptr, offset| Instr::$ld { dst, ptr, offset },
                        |dst, ptr, offset, mem| Instr::$ldm { dst, ptr, offset, mem },
                    )?, )*
                    $( Operator::$stop { ref memarg } => self.store(
                        memarg,
                        |ptr, src, offset| Instr::$st { ptr, src, offset },
                        |ptr, src, offset, mem| Instr::$stm { ptr, src, offset, mem },
                        |ptr, imm, offset| Instr::$sti { ptr, imm, offset },
                        matches!(stringify!($stty), "i64" | "f64"),
                    )?, )*
                    _ => return Ok(false),
                }
                Ok(true)
            }
        }
    };
}

crate::for_each_instr!(define_translate_family);
