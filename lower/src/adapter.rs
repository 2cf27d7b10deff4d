//! Fused adapters: the generated core function behind a `canon lower`
//! whose caller and callee do not share a memory, which copies every value
//! from one memory to the other (what wasmtime's FACT compiles, and the
//! interpreter does by lifting then lowering a value).
//!
//! Two kinds of callee:
//! * **Lifted**: a function another component instance lifts (a composed
//!   component, one component calling another). The adapter lifts the
//!   arguments out of the caller's memory (flat, or a tuple behind a
//!   pointer), lowers them into the callee's (its `realloc`), calls the
//!   core function, lifts its results out of the callee's memory, lowers
//!   them into the caller's (its `realloc`, or the caller's `retptr`), then
//!   calls the callee's `post-return`.
//! * **Library**: a WASI function called from a component instance whose
//!   memory is not the one the WASI library lives in (the *primary*
//!   memory), or whose strings are not UTF-8: the arguments are copied
//!   into a *scratch* area of the primary memory, the library's results are written there too (its `retptr`,
//!   and every `realloc` it makes during the call goes to the scratch
//!   allocator), then copied into the caller's memory; the scratch is
//!   emptied after each call. WASI handles are the library's, one table for
//!   every component instance, so they pass through unchanged.
//!
//! Invariants:
//! * Every check the Canonical ABI makes when lifting (and wasmtime's
//!   adapters make) traps here too: list and string length limits,
//!   alignment of lists, tuples and `realloc` results, bounds, UTF-8
//!   validity of strings (a generated validator per memory), `char` scalar
//!   values, variant discriminants. Loads and stores are Wasm's, so a
//!   value read or written out of bounds traps as well. Integers narrower
//!   than 32 bits are truncated or sign-extended, `bool` becomes 0 or 1,
//!   flags lose bits beyond their labels; floats are copied bit for bit
//!   (as wasmtime's adapters copy them).
//! * A string that is UTF-8 on both sides is copied after the validator's
//!   check; any other pair of encodings goes through a transcoder
//!   ([`crate::transcode`]), which makes the checks itself.
//! * Handles of WASI resources pass unchanged (the library's one table);
//!   those of resources a component defines go through the moves of
//!   [`crate::resources`], and the call's end checks the callee's borrow
//!   handles and releases the caller's lends.
//! * The reentrance rules are wasmtime 49's: the caller's `may_leave` is
//!   checked first (the library's phase, [`Hooks::check_may_leave`]), and
//!   cleared while the callee's `realloc` runs for the arguments and the
//!   caller's for the results (only when the values hold lists or strings,
//!   the only ones that call it); the callee's `post-return` runs with it
//!   set. The callee's borrow count is the call's own (kept and put back),
//!   so a callee entered again through another instance keeps its count.
//!   A `canon lower` of a function the calling instance lifts is a
//!   function that traps ([`Adapters::declare_cannot_enter`]).
//! * Only what the linker checked reaches here: a `realloc` wherever the
//!   type needs one, memories wherever the type needs them.
//! * The scratch area is made of pages from `memory.grow` on the primary
//!   memory (a new chunk twice the last one when a call needs more; the
//!   guest's allocator never hands those pages out, as for the handle
//!   tables of [`crate::resources`]).

use crate::error::LowerError;
use crate::merge::{GlueFunc, GlueGlobal, Merger, Origin};
use crate::resources::{raise, CallEnd, Hooks};
use canonical_abi::lift::MAX_LIST_BYTE_LENGTH;
use canonical_abi::strings::MAX_STRING_BYTE_LENGTH;
use canonical_abi::types::{
    align_to, alignment_record, discriminant_size, elem_size_record, max_case_alignment,
    Despecialized,
};
use canonical_abi::CanonError;
use canonical_abi::{
    alignment, despecialize, elem_size, flatten_functype, flatten_type, flatten_types, CoreType,
    FlattenContext, FuncType, StringEncoding, ValueType, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS,
};
use wasm_encoder::{BlockType, Function, Instruction as I, MemArg, ValType};

/// The memory, `realloc` and string encoding of one side of an adapter.
#[derive(Debug, Clone, Copy)]
pub struct Side {
    pub memory: Option<Origin>,
    pub realloc: Option<Origin>,
    pub encoding: StringEncoding,
}

/// The moves of handles of resource types a component defines, which an
/// adapter makes between the caller's and the callee's handle tables
/// ([`crate::resources`]); handles of WASI resources pass unchanged.
#[derive(Debug, Clone, Default)]
pub struct HandleMoves {
    /// `(resource type, borrow, in the results, the move)`.
    pub moves: Vec<(u32, bool, bool, GlueFunc)>,
    /// What the call's end checks and undoes.
    pub end: CallEnd,
}

/// What an adapter calls.
#[derive(Debug, Clone, Copy)]
pub enum Callee {
    /// A `canon lift`ed core function (results flat, or behind a returned
    /// pointer), with its `post-return`.
    Lifted {
        func: Origin,
        post_return: Option<Origin>,
    },
    /// A WASI library function (the `canon lower` ABI on the primary
    /// memory: results behind a `retptr` argument); the callee side's
    /// `realloc` is the scratch allocator.
    Library { func: Origin },
}

struct Adapter {
    glue: GlueFunc,
    ty: FuncType,
    caller: Side,
    callee_side: Side,
    callee: Callee,
    handles: HandleMoves,
}

/// The scratch allocator of the primary memory (see module docs).
struct Scratch {
    alloc: GlueFunc,
    base: GlueGlobal,
    end: GlueGlobal,
    top: GlueGlobal,
}

/// Every adapter of the merged module, with their helpers.
#[derive(Default)]
pub struct Adapters {
    adapters: Vec<Adapter>,
    /// UTF-8 validators `(ptr, len) -> ()`, one per memory strings are
    /// lifted from.
    validators: Vec<(Origin, GlueFunc)>,
    scratch: Option<Scratch>,
    /// The library's default `realloc` when the component has none.
    trap_realloc: Option<GlueFunc>,
    /// String transcoders ([`crate::transcode`]), by (source memory and
    /// encoding, destination memory and encoding, its `realloc`).
    transcoders: Vec<(TranscodeKey, GlueFunc)>,
    /// `canon lower`s of a function the same component instance lifts,
    /// which trap when called.
    cannot_enter: Vec<GlueFunc>,
}

type TranscodeKey = (Origin, StringEncoding, Origin, StringEncoding, Origin);

fn realloc_type() -> wasm_encoder::FuncType {
    wasm_encoder::FuncType::new([ValType::I32; 4], [ValType::I32])
}

/// The core type of `ty` lowered (`canon lower`).
pub fn lowered_type(ty: &FuncType) -> wasm_encoder::FuncType {
    let flat = flatten_functype(ty, FlattenContext::Lower);
    wasm_encoder::FuncType::new(
        flat.params.iter().map(|t| val_type(*t)),
        flat.results.iter().map(|t| val_type(*t)),
    )
}

impl Adapters {
    /// Declares an adapter for a `canon lower` of type `ty`; its core type
    /// is the lowered one.
    #[allow(clippy::too_many_arguments)]
    pub fn declare(
        &mut self,
        merger: &mut Merger<'_>,
        name: &str,
        ty: &FuncType,
        caller: Side,
        callee_side: Side,
        callee: Callee,
        handles: HandleMoves,
    ) -> GlueFunc {
        let glue = merger.declare_glue(&format!("adapter of `{name}`"), lowered_type(ty));
        if has_strings(ty) {
            for side in [caller, callee_side] {
                if let Some(m) = side.memory {
                    self.validator(merger, m);
                }
            }
            for (from, to, realloc) in [
                (caller, callee_side, callee_side.realloc),
                (callee_side, caller, caller.realloc),
            ] {
                if (from.encoding, to.encoding) == (StringEncoding::Utf8, StringEncoding::Utf8) {
                    continue;
                }
                if let (Some(fm), Some(tm), Some(r)) = (from.memory, to.memory, realloc) {
                    let key = (fm, from.encoding, tm, to.encoding, r);
                    if !self.transcoders.iter().any(|(k, _)| *k == key) {
                        let g = merger.declare_glue(
                            "string transcoder",
                            wasm_encoder::FuncType::new([ValType::I32; 2], [ValType::I32; 2]),
                        );
                        self.transcoders.push((key, g));
                    }
                }
            }
        }
        self.adapters.push(Adapter {
            glue,
            ty: ty.clone(),
            caller,
            callee_side,
            callee,
            handles,
        });
        glue
    }

    /// A `canon lower` of type `ty` of a function that the calling
    /// component instance lifts itself: it traps when called ("cannot
    /// enter component instance"), as wasmtime's adapter for it does.
    pub fn declare_cannot_enter(
        &mut self,
        merger: &mut Merger<'_>,
        name: &str,
        ty: &FuncType,
    ) -> GlueFunc {
        let glue = merger.declare_glue(
            &format!("`{name}` lowered into the instance that lifts it"),
            lowered_type(ty),
        );
        self.cannot_enter.push(glue);
        glue
    }

    fn validator(&mut self, merger: &mut Merger<'_>, memory: Origin) {
        if !self.validators.iter().any(|(m, _)| *m == memory) {
            let g = merger.declare_glue(
                "UTF-8 validator",
                wasm_encoder::FuncType::new([ValType::I32; 2], []),
            );
            self.validators.push((memory, g));
        }
    }

    /// The scratch allocator (declared the first time), to be listed among
    /// the library's reallocs.
    pub fn scratch_alloc(&mut self, merger: &mut Merger<'_>) -> Origin {
        if self.scratch.is_none() {
            self.scratch = Some(Scratch {
                alloc: merger.declare_glue("scratch allocator", realloc_type()),
                base: merger.declare_i32_global("scratch: chunk", 0),
                end: merger.declare_i32_global("scratch: end", 0),
                top: merger.declare_i32_global("scratch: top", 0),
            });
        }
        Origin::Glue(self.scratch.as_ref().expect("declared above").alloc)
    }

    /// Whether any adapter was declared (those that trap included).
    pub fn any(&self) -> bool {
        !self.adapters.is_empty() || !self.cannot_enter.is_empty()
    }

    /// A `realloc` that traps (the component has none to offer).
    pub fn trap_realloc(&mut self, merger: &mut Merger<'_>) -> Origin {
        let g = *self.trap_realloc.get_or_insert_with(|| {
            merger.declare_glue("cabi_realloc (none in the component)", realloc_type())
        });
        Origin::Glue(g)
    }

    /// The scratch allocator, if declared.
    pub fn scratch(&self) -> Option<Origin> {
        self.scratch.as_ref().map(|s| Origin::Glue(s.alloc))
    }

    /// The bodies of every generated function. `primary` is the memory of
    /// the library; `current_realloc` the global that selects the library's
    /// realloc and `scratch_realloc` the scratch allocator's number in it;
    /// `hooks` the library's report of a Canonical ABI error
    /// (`resources::raise`) and its phase (`may_leave`).
    pub fn bodies(
        &self,
        merger: &Merger<'_>,
        primary: Origin,
        current_realloc: Option<(u32, u32)>,
        hooks: &Hooks<u32>,
    ) -> Result<Vec<(GlueFunc, Function)>, LowerError> {
        let mut out = Vec::new();
        if let Some(g) = self.trap_realloc {
            let mut f = Code::new(4);
            f.emit(I::Unreachable);
            out.push((g, f.finish()));
        }
        let report = hooks.report;
        for g in &self.cannot_enter {
            let mut f = Code::new(0);
            f.raise(report, CanonError::CannotEnter, None);
            out.push((*g, f.finish()));
        }
        for (m, g) in &self.validators {
            out.push((*g, utf8_validator(merger.index(*m), report)));
        }
        let transcoders: Vec<Transcoder> = self
            .transcoders
            .iter()
            .map(|&((fm, fe, tm, te, r), g)| Transcoder {
                sides: crate::transcode::Sides {
                    src_mem: merger.index(fm),
                    src: fe,
                    dst_mem: merger.index(tm),
                    dst: te,
                    realloc: merger.index(r),
                    report,
                    validator: self
                        .validators
                        .iter()
                        .find(|(v, _)| *v == fm)
                        .map(|(_, v)| merger.index(Origin::Glue(*v))),
                },
                func: merger.index(Origin::Glue(g)),
            })
            .collect();
        for ((_, g), t) in self.transcoders.iter().zip(&transcoders) {
            out.push((*g, crate::transcode::body(&t.sides)));
        }
        let scratch = self.scratch.as_ref().map(|s| ScratchIdx {
            alloc: merger.index(Origin::Glue(s.alloc)),
            base: merger.index(Origin::GlueGlobal(s.base)),
            end: merger.index(Origin::GlueGlobal(s.end)),
            top: merger.index(Origin::GlueGlobal(s.top)),
            memory: merger.index(primary),
        });
        if let Some(s) = &scratch {
            out.push((self.scratch.as_ref().expect("same").alloc, scratch_body(s)));
        }
        for a in &self.adapters {
            let mut g = Gen {
                merger,
                validators: &self.validators,
                transcoders: &transcoders,
                moves: a
                    .handles
                    .moves
                    .iter()
                    .map(|&(rt, borrow, result, f)| {
                        (rt, borrow, result, merger.index(Origin::Glue(f)))
                    })
                    .collect(),
                hooks: *hooks,
                c: Code::new(0),
            };
            g.adapter(a, scratch.as_ref(), current_realloc)?;
            out.push((a.glue, g.c.finish()));
        }
        Ok(out)
    }
}

/// A transcoder, in merged indices.
struct Transcoder {
    sides: crate::transcode::Sides,
    func: u32,
}

struct ScratchIdx {
    alloc: u32,
    base: u32,
    end: u32,
    top: u32,
    memory: u32,
}

/// Where a value is read from.
#[derive(Clone)]
enum Src {
    /// Locals with their (possibly joined) core types, one per flat value.
    Stack(Vec<(u32, CoreType)>),
    Mem(Loc),
}

/// Where a value is written to.
#[derive(Clone)]
enum Dst {
    Stack(Vec<(u32, CoreType)>),
    Mem(Loc),
}

/// `mem[local + offset]`.
#[derive(Clone, Copy)]
struct Loc {
    mem: u32,
    addr: u32,
    offset: u32,
}

impl Loc {
    fn at(self, more: u32) -> Loc {
        Loc {
            offset: self.offset + more,
            ..self
        }
    }
}

/// A scalar: how it is read, normalized and written.
#[derive(Clone, Copy, PartialEq)]
enum Scalar {
    Bool,
    U8,
    S8,
    U16,
    S16,
    I32,
    I64,
    F32,
    F64,
    Char,
    /// Flags with this many labels (at most 32).
    Flags(u32),
    /// A handle of a resource type a component defines, moved by this
    /// function (`(handle) -> handle`).
    Handle(u32),
}

impl Scalar {
    fn core(self) -> CoreType {
        match self {
            Scalar::I64 => CoreType::I64,
            Scalar::F32 => CoreType::F32,
            Scalar::F64 => CoreType::F64,
            _ => CoreType::I32,
        }
    }

    fn size(self) -> u32 {
        match self {
            Scalar::Bool | Scalar::U8 | Scalar::S8 => 1,
            Scalar::U16 | Scalar::S16 => 2,
            Scalar::I64 | Scalar::F64 => 8,
            Scalar::Flags(n) if n <= 8 => 1,
            Scalar::Flags(n) if n <= 16 => 2,
            _ => 4,
        }
    }
}

fn val_type(t: CoreType) -> ValType {
    match t {
        CoreType::I32 => ValType::I32,
        CoreType::I64 => ValType::I64,
        CoreType::F32 => ValType::F32,
        CoreType::F64 => ValType::F64,
    }
}

fn mem_arg(loc: Loc, align_log2: u32) -> MemArg {
    mem_arg_at(loc.mem, loc.offset, align_log2)
}

/// Whether a list of `t` is copied as bytes: the same bytes mean the same
/// value on both sides and need no check.
fn is_plain(t: &ValueType) -> bool {
    match despecialize(t) {
        Despecialized::U8
        | Despecialized::S8
        | Despecialized::U16
        | Despecialized::S16
        | Despecialized::U32
        | Despecialized::S32
        | Despecialized::U64
        | Despecialized::S64
        | Despecialized::F32
        | Despecialized::F64 => true,
        Despecialized::Record(fields) => fields.into_iter().all(is_plain),
        _ => false,
    }
}

/// Whether a value of type `t` holds a string anywhere, or with `lists`,
/// a list or a string (lowering it then calls `realloc`).
fn holds(t: &ValueType, lists: bool) -> bool {
    match despecialize(t) {
        Despecialized::String => true,
        Despecialized::List(e) => lists || holds(e, lists),
        Despecialized::Record(fs) => fs.into_iter().any(|f| holds(f, lists)),
        Despecialized::Variant(cs) => cs.into_iter().flatten().any(|c| holds(c, lists)),
        _ => false,
    }
}

/// Whether a value of type `t` has a list or a string anywhere: lowering
/// it calls `realloc`.
fn has_lists(t: &ValueType) -> bool {
    holds(t, true)
}

/// Whether `ty` has a string anywhere.
pub fn has_strings(ty: &FuncType) -> bool {
    let walk = |t: &ValueType| holds(t, false);
    ty.params.iter().any(|(_, t)| walk(t)) || ty.result.as_ref().is_some_and(walk)
}

/// `MemArg` of memory `mem` at `offset`, aligned to `1 << align_log2`.
pub(crate) fn mem_arg_at(mem: u32, offset: u32, align_log2: u32) -> MemArg {
    MemArg {
        offset: u64::from(offset),
        align: align_log2,
        target: wasm_encoder::MemArgTarget::Memory(mem),
        ordering: None,
    }
}

/// A function body being generated.
pub(crate) struct Code {
    nparams: u32,
    locals: Vec<ValType>,
    code: Vec<I<'static>>,
}

impl Code {
    pub(crate) fn new(nparams: u32) -> Code {
        Code {
            nparams,
            locals: Vec::new(),
            code: Vec::new(),
        }
    }

    pub(crate) fn finish(self) -> Function {
        let mut f = Function::new_with_locals_types(self.locals);
        for i in &self.code {
            f.instruction(i);
        }
        f.instruction(&I::End);
        f
    }

    pub(crate) fn local(&mut self, t: ValType) -> u32 {
        self.locals.push(t);
        self.nparams + self.locals.len() as u32 - 1
    }

    pub(crate) fn emit(&mut self, i: I<'static>) {
        self.code.push(i);
    }

    /// Ends the run with Canonical ABI error `e` ([`raise`]).
    pub(crate) fn raise(&mut self, report: Option<u32>, e: CanonError, value: Option<u32>) {
        for i in raise(report, e, value) {
            self.emit(i);
        }
    }

    /// `if (pop) raise(e)`.
    pub(crate) fn raise_if(&mut self, report: Option<u32>, e: CanonError) {
        self.emit(I::If(BlockType::Empty));
        self.raise(report, e, None);
        self.emit(I::End);
    }

    pub(crate) fn trap_if(&mut self) {
        self.emit(I::If(BlockType::Empty));
        self.emit(I::Unreachable);
        self.emit(I::End);
    }
}

/// An adapter being generated.
struct Gen<'a, 'm> {
    merger: &'a Merger<'m>,
    validators: &'a [(Origin, GlueFunc)],
    transcoders: &'a [Transcoder],
    /// The adapter's handle moves, with merged function indices.
    moves: Vec<(u32, bool, bool, u32)>,
    /// The library's report of a Canonical ABI error and its phase.
    hooks: Hooks<u32>,
    c: Code,
}

impl std::ops::Deref for Gen<'_, '_> {
    type Target = Code;
    fn deref(&self) -> &Code {
        &self.c
    }
}

impl std::ops::DerefMut for Gen<'_, '_> {
    fn deref_mut(&mut self) -> &mut Code {
        &mut self.c
    }
}

impl Gen<'_, '_> {
    fn memory(&self, side: &Side, what: &str) -> Result<u32, LowerError> {
        side.memory.map(|m| self.merger.index(m)).ok_or_else(|| {
            LowerError::Unsupported(format!(
                "an adapter needs a memory ({what}) it was not given"
            ))
        })
    }

    /// Traps unless `local` is aligned to `align` and `local + size` is
    /// inside memory `mem`.
    fn check_ptr(&mut self, local: u32, mem: u32, align: u32, size: Size) {
        if align > 1 {
            self.emit(I::LocalGet(local));
            self.emit(I::I32Const(align as i32 - 1));
            self.emit(I::I32And);
            self.trap_if();
        }
        self.emit(I::LocalGet(local));
        self.emit(I::I64ExtendI32U);
        match size {
            Size::Const(n) => {
                self.emit(I::I64Const(i64::from(n)));
            }
            Size::Local(l) => {
                self.emit(I::LocalGet(l));
                self.emit(I::I64ExtendI32U);
            }
        }
        self.emit(I::I64Add);
        self.emit(I::MemorySize(mem));
        self.emit(I::I64ExtendI32U);
        self.emit(I::I64Const(16));
        self.emit(I::I64Shl);
        self.emit(I::I64GtU);
        self.trap_if();
    }

    /// When `forbid`, emits what sets `may_leave` to false (the library's
    /// phase, [`Hooks::forbid_leave`]) and returns what gives it back.
    fn forbid_leave(&mut self, forbid: bool) -> Vec<I<'static>> {
        if !forbid || self.hooks.phase.is_none() {
            return Vec::new();
        }
        let saved = self.local(ValType::I32);
        let (set, restore) = self.hooks.forbid_leave(saved);
        for i in set {
            self.emit(i);
        }
        restore
    }

    /// `realloc(0, 0, align, size)` into a new local, checked like the
    /// Canonical ABI checks it.
    fn alloc(&mut self, realloc: u32, mem: u32, align: u32, size: Size) -> u32 {
        self.emit(I::I32Const(0));
        self.emit(I::I32Const(0));
        self.emit(I::I32Const(align as i32));
        match size {
            Size::Const(n) => self.emit(I::I32Const(n as i32)),
            Size::Local(l) => self.emit(I::LocalGet(l)),
        }
        self.emit(I::Call(realloc));
        let p = self.local(ValType::I32);
        self.emit(I::LocalSet(p));
        self.check_ptr(p, mem, align, size);
        p
    }

    fn adapter(
        &mut self,
        a: &Adapter,
        scratch: Option<&ScratchIdx>,
        current_realloc: Option<(u32, u32)>,
    ) -> Result<(), LowerError> {
        let lowered = flatten_functype(&a.ty, FlattenContext::Lower);
        self.nparams = lowered.params.len() as u32;
        let params = a.ty.param_types();
        let results = a.ty.result_types();
        let param_flat = flatten_types(&params);
        let result_flat = flatten_types(&results);
        let callee_realloc = a.callee_side.realloc.map(|r| self.merger.index(r));
        let lifted = matches!(a.callee, Callee::Lifted { .. });
        if lifted {
            // The caller may not leave from a `realloc` or `post-return`
            // the Canonical ABI runs (a WASI callee checks that itself).
            for i in self.hooks.check_may_leave() {
                self.emit(i);
            }
        }
        // The callee's borrow count is the new call's (see
        // `crate::resources`): the one found is put back at the end.
        let saved_borrows = a.handles.end.callee_borrows.map(|b| {
            let b = self.merger.index(Origin::GlueGlobal(b));
            let l = self.local(ValType::I32);
            self.emit(I::GlobalGet(b));
            self.emit(I::LocalSet(l));
            self.emit(I::I32Const(0));
            self.emit(I::GlobalSet(b));
            (b, l)
        });
        // The callee's `realloc` runs with its `may_leave` false.
        let window = lifted
            && callee_realloc.is_some()
            && (param_flat.len() > MAX_FLAT_PARAMS || params.iter().any(|t| has_lists(t)));
        let restore = self.forbid_leave(window);
        // The arguments.
        let (src, dst, args) = if param_flat.len() > MAX_FLAT_PARAMS {
            let from = self.memory(&a.caller, "the caller's")?;
            let to = self.memory(&a.callee_side, "the callee's")?;
            let align = alignment_record(params.iter().copied());
            let size = elem_size_record(params.iter().copied());
            self.check_ptr(0, from, align, Size::Const(size));
            let realloc = callee_realloc.ok_or_else(|| {
                LowerError::Unsupported("an adapter needs a `realloc` it was not given".into())
            })?;
            let p = self.alloc(realloc, to, align, Size::Const(size));
            (
                Src::Mem(Loc {
                    mem: from,
                    addr: 0,
                    offset: 0,
                }),
                Dst::Mem(Loc {
                    mem: to,
                    addr: p,
                    offset: 0,
                }),
                vec![p],
            )
        } else {
            let src: Vec<_> = param_flat
                .iter()
                .enumerate()
                .map(|(i, t)| (i as u32, *t))
                .collect();
            let dst: Vec<_> = param_flat
                .iter()
                .map(|t| (self.local(val_type(*t)), *t))
                .collect();
            let args = dst.iter().map(|(l, _)| *l).collect();
            (Src::Stack(src), Dst::Stack(dst), args)
        };
        let sides = Sides {
            from: a.caller,
            to: a.callee_side,
            to_realloc: callee_realloc,
            results: false,
        };
        // The lend stack's top before the arguments lend anything.
        let saved_lends = a.handles.end.release.map(|(_, top)| {
            let l = self.local(ValType::I32);
            let top = self.merger.index(Origin::GlueGlobal(top));
            self.emit(I::GlobalGet(top));
            self.emit(I::LocalSet(l));
            l
        });
        self.tuple(&params, &src, &dst, &sides)?;
        for i in restore {
            self.emit(i);
        }
        for l in args {
            self.emit(I::LocalGet(l));
        }
        // The call, and where its results are.
        let (raw, result_src) = match a.callee {
            Callee::Lifted { func, .. } => {
                let f = self.merger.index(func);
                self.emit(I::Call(f));
                let lifted = flatten_functype(&a.ty, FlattenContext::Lift);
                let raw: Vec<u32> = lifted
                    .results
                    .iter()
                    .map(|t| self.local(val_type(*t)))
                    .collect();
                for l in raw.iter().rev() {
                    self.emit(I::LocalSet(*l));
                }
                let src = if result_flat.len() > MAX_FLAT_RESULTS {
                    let mem = self.memory(&a.callee_side, "the callee's")?;
                    let align = alignment_record(results.iter().copied());
                    let size = elem_size_record(results.iter().copied());
                    self.check_ptr(raw[0], mem, align, Size::Const(size));
                    Src::Mem(Loc {
                        mem,
                        addr: raw[0],
                        offset: 0,
                    })
                } else {
                    Src::Stack(
                        raw.iter()
                            .copied()
                            .zip(result_flat.iter().copied())
                            .collect(),
                    )
                };
                (raw, src)
            }
            Callee::Library { func } => {
                let s = scratch.ok_or_else(|| {
                    LowerError::Unsupported("a WASI adapter without a scratch area".into())
                })?;
                let retptr = if result_flat.len() > MAX_FLAT_RESULTS {
                    let align = alignment_record(results.iter().copied());
                    let size = elem_size_record(results.iter().copied());
                    let p = self.alloc(s.alloc, s.memory, align, Size::Const(size));
                    self.emit(I::LocalGet(p));
                    Some(p)
                } else {
                    None
                };
                if let Some((global, k)) = current_realloc {
                    self.emit(I::I32Const(k as i32));
                    self.emit(I::GlobalSet(global));
                }
                let f = self.merger.index(func);
                self.emit(I::Call(f));
                if let Some((global, _)) = current_realloc {
                    self.emit(I::I32Const(0));
                    self.emit(I::GlobalSet(global));
                }
                match retptr {
                    Some(p) => (
                        Vec::new(),
                        Src::Mem(Loc {
                            mem: s.memory,
                            addr: p,
                            offset: 0,
                        }),
                    ),
                    None => {
                        let raw: Vec<u32> = result_flat
                            .iter()
                            .map(|t| self.local(val_type(*t)))
                            .collect();
                        for l in raw.iter().rev() {
                            self.emit(I::LocalSet(*l));
                        }
                        let src = Src::Stack(
                            raw.iter()
                                .copied()
                                .zip(result_flat.iter().copied())
                                .collect(),
                        );
                        (raw, src)
                    }
                }
            }
        };
        // The results, into the caller.
        let result_dst = if result_flat.len() > MAX_FLAT_RESULTS {
            let mem = self.memory(&a.caller, "the caller's")?;
            let retptr = lowered.params.len() as u32 - 1;
            let align = alignment_record(results.iter().copied());
            let size = elem_size_record(results.iter().copied());
            self.check_ptr(retptr, mem, align, Size::Const(size));
            Dst::Mem(Loc {
                mem,
                addr: retptr,
                offset: 0,
            })
        } else {
            Dst::Stack(
                result_flat
                    .iter()
                    .map(|t| (self.local(val_type(*t)), *t))
                    .collect(),
            )
        };
        let back = Sides {
            from: a.callee_side,
            to: a.caller,
            to_realloc: a.caller.realloc.map(|r| self.merger.index(r)),
            results: true,
        };
        // The caller's `realloc` runs with its `may_leave` false.
        let window = back.to_realloc.is_some() && results.iter().any(|t| has_lists(t));
        let restore = self.forbid_leave(window);
        self.tuple(&results, &result_src, &result_dst, &back)?;
        for i in restore {
            self.emit(i);
        }
        match a.callee {
            Callee::Lifted {
                post_return: Some(p),
                ..
            } => {
                // With `may_leave` true: wasmtime 49's adapters let a
                // callee's `post-return` call imports (only a call from the
                // host forbids it, see `crate::glue`).
                for l in &raw {
                    self.emit(I::LocalGet(*l));
                }
                let p = self.merger.index(p);
                self.emit(I::Call(p));
            }
            Callee::Lifted { .. } => {}
            Callee::Library { .. } => {
                if let Some(s) = scratch {
                    self.emit(I::GlobalGet(s.base));
                    self.emit(I::GlobalSet(s.top));
                }
            }
        }
        // The call's end: the callee holds none of the borrow handles it
        // was given, and the caller's lent handles are its own again.
        if let Some(b) = a.handles.end.callee_borrows {
            let b = self.merger.index(Origin::GlueGlobal(b));
            self.emit(I::GlobalGet(b));
            self.emit(I::If(BlockType::Empty));
            let report = self.hooks.report;
            self.raise(report, CanonError::BorrowsRemain, None);
            self.emit(I::End);
        }
        if let Some((b, l)) = saved_borrows {
            self.emit(I::LocalGet(l));
            self.emit(I::GlobalSet(b));
        }
        if let (Some((release, _)), Some(saved)) = (a.handles.end.release, saved_lends) {
            self.emit(I::LocalGet(saved));
            let release = self.merger.index(Origin::Glue(release));
            self.emit(I::Call(release));
        }
        if let Dst::Stack(locals) = result_dst {
            for (l, _) in locals {
                self.emit(I::LocalGet(l));
            }
        }
        Ok(())
    }

    /// Translates a tuple of values (parameters or results).
    fn tuple(
        &mut self,
        ts: &[&ValueType],
        src: &Src,
        dst: &Dst,
        sides: &Sides,
    ) -> Result<(), LowerError> {
        let srcs = split_src(ts, src);
        let dsts = split_dst(ts, dst);
        for ((t, s), d) in ts.iter().zip(srcs).zip(dsts) {
            self.value(t, &s, &d, sides)?;
        }
        Ok(())
    }

    fn value(
        &mut self,
        t: &ValueType,
        src: &Src,
        dst: &Dst,
        sides: &Sides,
    ) -> Result<(), LowerError> {
        use Despecialized as D;
        let scalar = match despecialize(t) {
            D::Bool => Scalar::Bool,
            D::U8 => Scalar::U8,
            D::S8 => Scalar::S8,
            D::U16 => Scalar::U16,
            D::S16 => Scalar::S16,
            D::U32 | D::S32 => Scalar::I32,
            D::Own(rt) | D::Borrow(rt) => {
                let borrow = matches!(despecialize(t), D::Borrow(_));
                match self
                    .moves
                    .iter()
                    .find(|m| (m.0, m.1, m.2) == (rt.0, borrow, sides.results))
                {
                    Some(m) => Scalar::Handle(m.3),
                    None => Scalar::I32,
                }
            }
            D::U64 | D::S64 => Scalar::I64,
            D::F32 => Scalar::F32,
            D::F64 => Scalar::F64,
            D::Char => Scalar::Char,
            D::Flags(n) if n <= 32 => Scalar::Flags(n as u32),
            D::Flags(n) => {
                return Err(LowerError::Unsupported(format!(
                    "flags with {n} labels in a component-to-component call"
                )))
            }
            D::String => return self.list(None, src, dst, sides),
            D::List(et) => return self.list(Some(et), src, dst, sides),
            D::Record(fields) => return self.tuple(&fields, src, dst, sides),
            D::Variant(cases) => return self.variant(&cases, src, dst, sides),
        };
        self.scalar(scalar, src, dst);
        Ok(())
    }

    fn scalar(&mut self, s: Scalar, src: &Src, dst: &Dst) {
        if let Dst::Mem(loc) = dst {
            self.emit(I::LocalGet(loc.addr));
        }
        // Read and normalize.
        match src {
            Src::Stack(slots) => {
                self.get_slot(slots[0], s.core());
                match s {
                    Scalar::Bool => {
                        self.emit(I::I32Const(0));
                        self.emit(I::I32Ne);
                    }
                    Scalar::U8 => {
                        self.emit(I::I32Const(0xff));
                        self.emit(I::I32And);
                    }
                    Scalar::S8 => self.emit(I::I32Extend8S),
                    Scalar::U16 => {
                        self.emit(I::I32Const(0xffff));
                        self.emit(I::I32And);
                    }
                    Scalar::S16 => self.emit(I::I32Extend16S),
                    _ => {}
                }
            }
            Src::Mem(loc) => {
                self.emit(I::LocalGet(loc.addr));
                let m = |a| mem_arg(*loc, a);
                match s {
                    Scalar::Bool => {
                        self.emit(I::I32Load8U(m(0)));
                        self.emit(I::I32Const(0));
                        self.emit(I::I32Ne);
                    }
                    Scalar::U8 => self.emit(I::I32Load8U(m(0))),
                    Scalar::S8 => self.emit(I::I32Load8S(m(0))),
                    Scalar::U16 => self.emit(I::I32Load16U(m(1))),
                    Scalar::S16 => self.emit(I::I32Load16S(m(1))),
                    Scalar::I32 | Scalar::Char | Scalar::Handle(_) => self.emit(I::I32Load(m(2))),
                    Scalar::I64 => self.emit(I::I64Load(m(3))),
                    Scalar::F32 => self.emit(I::F32Load(m(2))),
                    Scalar::F64 => self.emit(I::F64Load(m(3))),
                    Scalar::Flags(_) => match s.size() {
                        1 => self.emit(I::I32Load8U(m(0))),
                        2 => self.emit(I::I32Load16U(m(1))),
                        _ => self.emit(I::I32Load(m(2))),
                    },
                }
            }
        }
        match s {
            Scalar::Char => {
                // A Unicode scalar value: below 0x110000, not a surrogate.
                let c = self.local(ValType::I32);
                self.emit(I::LocalTee(c));
                self.emit(I::I32Const(0x11_0000));
                self.emit(I::I32GeU);
                self.emit(I::LocalGet(c));
                self.emit(I::I32Const(0xd800));
                self.emit(I::I32Sub);
                self.emit(I::I32Const(0x800));
                self.emit(I::I32LtU);
                self.emit(I::I32Or);
                self.trap_if();
                self.emit(I::LocalGet(c));
            }
            Scalar::Flags(n) if n < 32 => {
                self.emit(I::I32Const(((1u64 << n) - 1) as i32));
                self.emit(I::I32And);
            }
            Scalar::Handle(f) => self.emit(I::Call(f)),
            _ => {}
        }
        // Write.
        match dst {
            Dst::Stack(slots) => self.set_slot(slots[0], s.core()),
            Dst::Mem(loc) => {
                let m = |a| mem_arg(*loc, a);
                match (s, s.size()) {
                    (Scalar::I64, _) => self.emit(I::I64Store(m(3))),
                    (Scalar::F32, _) => self.emit(I::F32Store(m(2))),
                    (Scalar::F64, _) => self.emit(I::F64Store(m(3))),
                    (_, 1) => self.emit(I::I32Store8(m(0))),
                    (_, 2) => self.emit(I::I32Store16(m(1))),
                    _ => self.emit(I::I32Store(m(2))),
                }
            }
        }
    }

    /// Pushes a flat value of type `want` from a slot of type `have` (the
    /// Canonical ABI's coercion of a variant's joined types).
    fn get_slot(&mut self, (local, have): (u32, CoreType), want: CoreType) {
        use CoreType as C;
        self.emit(I::LocalGet(local));
        match (have, want) {
            (C::I64, C::I32) => self.emit(I::I32WrapI64),
            (C::I32, C::F32) => self.emit(I::F32ReinterpretI32),
            (C::I64, C::F32) => {
                self.emit(I::I32WrapI64);
                self.emit(I::F32ReinterpretI32);
            }
            (C::I64, C::F64) => self.emit(I::F64ReinterpretI64),
            _ => {}
        }
    }

    /// Stores a flat value of type `have` into a slot of type `slot`.
    fn set_slot(&mut self, (local, slot): (u32, CoreType), have: CoreType) {
        use CoreType as C;
        match (have, slot) {
            (C::I32, C::I64) => self.emit(I::I64ExtendI32U),
            (C::F32, C::I32) => self.emit(I::I32ReinterpretF32),
            (C::F32, C::I64) => {
                self.emit(I::I32ReinterpretF32);
                self.emit(I::I64ExtendI32U);
            }
            (C::F64, C::I64) => self.emit(I::I64ReinterpretF64),
            _ => {}
        }
        self.emit(I::LocalSet(local));
    }

    /// Reads an `i32` of a value (a pointer, a length, a discriminant)
    /// into a new local.
    fn read_i32(&mut self, src: &Src, slot: usize, offset: u32, size: u32) -> u32 {
        match src {
            Src::Stack(slots) => self.get_slot(slots[slot], CoreType::I32),
            Src::Mem(loc) => {
                self.emit(I::LocalGet(loc.addr));
                let m = mem_arg(loc.at(offset), size.trailing_zeros());
                self.emit(match size {
                    1 => I::I32Load8U(m),
                    2 => I::I32Load16U(m),
                    _ => I::I32Load(m),
                });
            }
        }
        let l = self.local(ValType::I32);
        self.emit(I::LocalSet(l));
        l
    }

    fn write_i32(&mut self, dst: &Dst, slot: usize, offset: u32, size: u32, value: u32) {
        match dst {
            Dst::Stack(slots) => {
                self.emit(I::LocalGet(value));
                self.set_slot(slots[slot], CoreType::I32);
            }
            Dst::Mem(loc) => {
                self.emit(I::LocalGet(loc.addr));
                self.emit(I::LocalGet(value));
                let m = mem_arg(loc.at(offset), size.trailing_zeros());
                self.emit(match size {
                    1 => I::I32Store8(m),
                    2 => I::I32Store16(m),
                    _ => I::I32Store(m),
                });
            }
        }
    }

    /// A string (`elem` = `None`) or a list.
    fn list(
        &mut self,
        elem: Option<&ValueType>,
        src: &Src,
        dst: &Dst,
        sides: &Sides,
    ) -> Result<(), LowerError> {
        let from = self.memory(&sides.from, "where a list is read")?;
        let to = self.memory(&sides.to, "where a list is written")?;
        let realloc = sides.to_realloc.ok_or_else(|| {
            LowerError::Unsupported("an adapter needs a `realloc` it was not given".into())
        })?;
        let ptr = self.read_i32(src, 0, 0, 4);
        let len = self.read_i32(src, 1, 4, 4);
        if elem.is_none()
            && (sides.from.encoding, sides.to.encoding)
                != (StringEncoding::Utf8, StringEncoding::Utf8)
        {
            // Another encoding on either side: the transcoder lifts,
            // checks and lowers the whole string.
            let t = self
                .transcoders
                .iter()
                .find(|t| {
                    let s = &t.sides;
                    (s.src_mem, s.src, s.dst_mem, s.dst, s.realloc)
                        == (from, sides.from.encoding, to, sides.to.encoding, realloc)
                })
                .ok_or_else(|| {
                    LowerError::Unsupported("a string transcoder that was not declared".into())
                })?
                .func;
            self.emit(I::LocalGet(ptr));
            self.emit(I::LocalGet(len));
            self.emit(I::Call(t));
            let (out, n) = (self.local(ValType::I32), self.local(ValType::I32));
            self.emit(I::LocalSet(n));
            self.emit(I::LocalSet(out));
            self.write_i32(dst, 0, 0, 4, out);
            self.write_i32(dst, 1, 4, 4, n);
            return Ok(());
        }
        let (size, align, limit) = match elem {
            None => (1, 1, MAX_STRING_BYTE_LENGTH),
            Some(t) => (elem_size(t), alignment(t), MAX_LIST_BYTE_LENGTH),
        };
        // The byte length, within the limit.
        let bytes = self.local(ValType::I32);
        self.emit(I::LocalGet(len));
        self.emit(I::I64ExtendI32U);
        self.emit(I::I64Const(i64::from(size)));
        self.emit(I::I64Mul);
        self.emit(I::I64Const(limit as i64));
        self.emit(I::I64GtU);
        self.trap_if();
        self.emit(I::LocalGet(len));
        self.emit(I::I32Const(size as i32));
        self.emit(I::I32Mul);
        self.emit(I::LocalSet(bytes));
        self.check_ptr(ptr, from, align, Size::Local(bytes));
        if elem.is_none() {
            let v = self.validator(sides.from)?;
            self.emit(I::LocalGet(ptr));
            self.emit(I::LocalGet(len));
            self.emit(I::Call(v));
        }
        let out = self.alloc(realloc, to, align, Size::Local(bytes));
        match elem {
            Some(t) if !is_plain(t) => {
                // Element by element.
                let (s, d, n) = (
                    self.local(ValType::I32),
                    self.local(ValType::I32),
                    self.local(ValType::I32),
                );
                for (a, b) in [(ptr, s), (out, d), (len, n)] {
                    self.emit(I::LocalGet(a));
                    self.emit(I::LocalSet(b));
                }
                self.emit(I::Block(BlockType::Empty));
                self.emit(I::Loop(BlockType::Empty));
                self.emit(I::LocalGet(n));
                self.emit(I::I32Eqz);
                self.emit(I::BrIf(1));
                let at = |mem, addr| Loc {
                    mem,
                    addr,
                    offset: 0,
                };
                self.value(t, &Src::Mem(at(from, s)), &Dst::Mem(at(to, d)), sides)?;
                for l in [s, d] {
                    self.emit(I::LocalGet(l));
                    self.emit(I::I32Const(size as i32));
                    self.emit(I::I32Add);
                    self.emit(I::LocalSet(l));
                }
                self.emit(I::LocalGet(n));
                self.emit(I::I32Const(1));
                self.emit(I::I32Sub);
                self.emit(I::LocalSet(n));
                self.emit(I::Br(0));
                self.emit(I::End);
                self.emit(I::End);
            }
            _ => {
                self.emit(I::LocalGet(out));
                self.emit(I::LocalGet(ptr));
                self.emit(I::LocalGet(bytes));
                self.emit(I::MemoryCopy {
                    src_mem: from,
                    dst_mem: to,
                });
            }
        }
        self.write_i32(dst, 0, 0, 4, out);
        self.write_i32(dst, 1, 4, 4, len);
        Ok(())
    }

    fn validator(&self, side: Side) -> Result<u32, LowerError> {
        side.memory
            .and_then(|m| self.validators.iter().find(|(v, _)| *v == m))
            .map(|(_, g)| self.merger.index(Origin::Glue(*g)))
            .ok_or_else(|| LowerError::Unsupported("a string read from no memory".into()))
    }

    fn variant(
        &mut self,
        cases: &[Option<&ValueType>],
        src: &Src,
        dst: &Dst,
        sides: &Sides,
    ) -> Result<(), LowerError> {
        let disc_size = discriminant_size(cases.len());
        let payload_offset = align_to(u64::from(disc_size), max_case_alignment(cases)) as u32;
        let disc = self.read_i32(src, 0, 0, disc_size);
        self.emit(I::LocalGet(disc));
        self.emit(I::I32Const(cases.len() as i32));
        self.emit(I::I32GeU);
        self.trap_if();
        self.write_i32(dst, 0, 0, disc_size, disc);
        for (k, case) in cases.iter().enumerate() {
            let Some(t) = case else { continue };
            let n = flatten_type(t).len();
            let sub_src = match src {
                Src::Stack(slots) => Src::Stack(slots[1..1 + n].to_vec()),
                Src::Mem(loc) => Src::Mem(loc.at(payload_offset)),
            };
            let sub_dst = match dst {
                Dst::Stack(slots) => Dst::Stack(slots[1..1 + n].to_vec()),
                Dst::Mem(loc) => Dst::Mem(loc.at(payload_offset)),
            };
            self.emit(I::LocalGet(disc));
            self.emit(I::I32Const(k as i32));
            self.emit(I::I32Eq);
            self.emit(I::If(BlockType::Empty));
            self.value(t, &sub_src, &sub_dst, sides)?;
            self.emit(I::End);
        }
        Ok(())
    }
}

/// The memories and `realloc` a translation reads from and writes to.
struct Sides {
    from: Side,
    to: Side,
    /// Merged index of the `realloc` of the side written to.
    to_realloc: Option<u32>,
    /// Whether these are the results (from the callee to the caller).
    results: bool,
}

#[derive(Clone, Copy)]
enum Size {
    Const(u32),
    Local(u32),
}

/// Where each value of a tuple is: its share of the slots, or its offset.
fn split<T>(
    ts: &[&ValueType],
    place: Place<'_>,
    stack: impl Fn(Vec<(u32, CoreType)>) -> T,
    mem: impl Fn(Loc) -> T,
) -> Vec<T> {
    match place {
        Place::Stack(slots) => {
            let mut at = 0;
            ts.iter()
                .map(|t| {
                    let n = flatten_type(t).len();
                    at += n;
                    stack(slots[at - n..at].to_vec())
                })
                .collect()
        }
        Place::Mem(loc) => offsets(ts).into_iter().map(|o| mem(loc.at(o))).collect(),
    }
}

/// A [`Src`] or [`Dst`], seen the same way.
enum Place<'a> {
    Stack(&'a [(u32, CoreType)]),
    Mem(Loc),
}

fn split_src(ts: &[&ValueType], src: &Src) -> Vec<Src> {
    let place = match src {
        Src::Stack(s) => Place::Stack(s),
        Src::Mem(l) => Place::Mem(*l),
    };
    split(ts, place, Src::Stack, Src::Mem)
}

fn split_dst(ts: &[&ValueType], dst: &Dst) -> Vec<Dst> {
    let place = match dst {
        Dst::Stack(s) => Place::Stack(s),
        Dst::Mem(l) => Place::Mem(*l),
    };
    split(ts, place, Dst::Stack, Dst::Mem)
}

/// The offsets of a record's fields.
fn offsets(ts: &[&ValueType]) -> Vec<u32> {
    let mut at = 0u64;
    ts.iter()
        .map(|t| {
            at = align_to(at, alignment(t));
            let o = at as u32;
            at += u64::from(elem_size(t));
            o
        })
        .collect()
}

/// `(ptr, len) -> ()`: traps unless the bytes are UTF-8 (the rules of
/// Rust's `str::from_utf8`: no overlong forms, no surrogates, nothing
/// above U+10FFFF).
fn utf8_validator(mem: u32, report: Option<u32>) -> Function {
    let mut g = Code::new(2);
    let (ptr, len) = (0, 1);
    let end = g.local(ValType::I32);
    let b = g.local(ValType::I32);
    let n = g.local(ValType::I32);
    let lo = g.local(ValType::I32);
    let hi = g.local(ValType::I32);
    let at = |offset| MemArg {
        offset,
        align: 0,
        target: wasm_encoder::MemArgTarget::Memory(mem),
        ordering: None,
    };
    g.emit(I::LocalGet(ptr));
    g.emit(I::LocalGet(len));
    g.emit(I::I32Add);
    g.emit(I::LocalSet(end));
    g.emit(I::Block(BlockType::Empty));
    g.emit(I::Loop(BlockType::Empty));
    // Done at the end.
    g.emit(I::LocalGet(ptr));
    g.emit(I::LocalGet(end));
    g.emit(I::I32GeU);
    g.emit(I::BrIf(1));
    g.emit(I::LocalGet(ptr));
    g.emit(I::I32Load8U(at(0)));
    g.emit(I::LocalTee(b));
    // ASCII: one byte.
    g.emit(I::I32Const(0x80));
    g.emit(I::I32LtU);
    g.emit(I::If(BlockType::Empty));
    g.emit(I::LocalGet(ptr));
    g.emit(I::I32Const(1));
    g.emit(I::I32Add);
    g.emit(I::LocalSet(ptr));
    g.emit(I::Br(1));
    g.emit(I::End);
    // A lead byte: C2..DF (1 more), E0..EF (2), F0..F4 (3).
    g.emit(I::LocalGet(b));
    g.emit(I::I32Const(0xc2));
    g.emit(I::I32LtU);
    g.emit(I::LocalGet(b));
    g.emit(I::I32Const(0xf4));
    g.emit(I::I32GtU);
    g.emit(I::I32Or);
    g.raise_if(report, CanonError::InvalidUtf8);
    // n = 1 + (b >= E0) + (b >= F0)
    g.emit(I::I32Const(1));
    g.emit(I::LocalGet(b));
    g.emit(I::I32Const(0xe0));
    g.emit(I::I32GeU);
    g.emit(I::I32Add);
    g.emit(I::LocalGet(b));
    g.emit(I::I32Const(0xf0));
    g.emit(I::I32GeU);
    g.emit(I::I32Add);
    g.emit(I::LocalSet(n));
    // The range of the second byte: E0 A0..BF, ED 80..9F, F0 90..BF,
    // F4 80..8F, otherwise 80..BF.
    let select = |g: &mut Code, byte: i32, then: i32, other: u32| {
        g.emit(I::I32Const(then));
        g.emit(I::LocalGet(other));
        g.emit(I::LocalGet(b));
        g.emit(I::I32Const(byte));
        g.emit(I::I32Eq);
        g.emit(I::Select);
        g.emit(I::LocalSet(other));
    };
    g.emit(I::I32Const(0x80));
    g.emit(I::LocalSet(lo));
    g.emit(I::I32Const(0xbf));
    g.emit(I::LocalSet(hi));
    select(&mut g, 0xe0, 0xa0, lo);
    select(&mut g, 0xed, 0x9f, hi);
    select(&mut g, 0xf0, 0x90, lo);
    select(&mut g, 0xf4, 0x8f, hi);
    // Enough bytes left: end - ptr > n.
    g.emit(I::LocalGet(end));
    g.emit(I::LocalGet(ptr));
    g.emit(I::I32Sub);
    g.emit(I::LocalGet(n));
    g.emit(I::I32LeU);
    g.raise_if(report, CanonError::InvalidUtf8);
    // The second byte in [lo, hi].
    g.emit(I::LocalGet(ptr));
    g.emit(I::I32Load8U(at(1)));
    g.emit(I::LocalTee(b));
    g.emit(I::LocalGet(lo));
    g.emit(I::I32LtU);
    g.emit(I::LocalGet(b));
    g.emit(I::LocalGet(hi));
    g.emit(I::I32GtU);
    g.emit(I::I32Or);
    g.raise_if(report, CanonError::InvalidUtf8);
    // The third and fourth, continuation bytes where n says so.
    for k in 2..=3 {
        g.emit(I::LocalGet(n));
        g.emit(I::I32Const(k));
        g.emit(I::I32GeU);
        g.emit(I::If(BlockType::Empty));
        g.emit(I::LocalGet(ptr));
        g.emit(I::I32Load8U(at(k as u64)));
        g.emit(I::I32Const(0xc0));
        g.emit(I::I32And);
        g.emit(I::I32Const(0x80));
        g.emit(I::I32Ne);
        g.raise_if(report, CanonError::InvalidUtf8);
        g.emit(I::End);
    }
    g.emit(I::LocalGet(ptr));
    g.emit(I::LocalGet(n));
    g.emit(I::I32Add);
    g.emit(I::I32Const(1));
    g.emit(I::I32Add);
    g.emit(I::LocalSet(ptr));
    g.emit(I::Br(0));
    g.emit(I::End);
    g.emit(I::End);
    g.finish()
}

/// The scratch allocator: `(old, old_size, align, size) -> ptr`, a bump
/// allocator on chunks from `memory.grow` (the old arguments are always
/// 0: it only serves fresh allocations).
fn scratch_body(s: &ScratchIdx) -> Function {
    let mut g = Code::new(4);
    let (align, size) = (2, 3);
    let p = g.local(ValType::I32);
    let need = g.local(ValType::I64);
    let double = g.local(ValType::I64);
    let aligned = |g: &mut Code, from: u32| {
        // (from + align - 1) & -align
        g.emit(I::GlobalGet(from));
        g.emit(I::LocalGet(align));
        g.emit(I::I32Add);
        g.emit(I::I32Const(1));
        g.emit(I::I32Sub);
        g.emit(I::I32Const(0));
        g.emit(I::LocalGet(align));
        g.emit(I::I32Sub);
        g.emit(I::I32And);
        g.emit(I::LocalSet(p));
    };
    aligned(&mut g, s.top);
    // Does it fit? p + size > end: a new chunk.
    g.emit(I::LocalGet(p));
    g.emit(I::I64ExtendI32U);
    g.emit(I::LocalGet(size));
    g.emit(I::I64ExtendI32U);
    g.emit(I::I64Add);
    g.emit(I::GlobalGet(s.end));
    g.emit(I::I64ExtendI32U);
    g.emit(I::I64GtU);
    g.emit(I::If(BlockType::Empty));
    // need = (size + align + 0xffff) >> 16; double = 2 * chunk pages
    g.emit(I::LocalGet(size));
    g.emit(I::I64ExtendI32U);
    g.emit(I::LocalGet(align));
    g.emit(I::I64ExtendI32U);
    g.emit(I::I64Add);
    g.emit(I::I64Const(0xffff));
    g.emit(I::I64Add);
    g.emit(I::I64Const(16));
    g.emit(I::I64ShrU);
    g.emit(I::LocalSet(need));
    g.emit(I::GlobalGet(s.end));
    g.emit(I::GlobalGet(s.base));
    g.emit(I::I32Sub);
    g.emit(I::I64ExtendI32U);
    g.emit(I::I64Const(15));
    g.emit(I::I64ShrU);
    g.emit(I::LocalSet(double));
    // pages = max(need, double), at most 65536, in `need`
    g.emit(I::LocalGet(need));
    g.emit(I::LocalGet(double));
    g.emit(I::LocalGet(need));
    g.emit(I::LocalGet(double));
    g.emit(I::I64GtU);
    g.emit(I::Select);
    g.emit(I::LocalTee(need));
    g.emit(I::I64Const(0x1_0000));
    g.emit(I::I64GtU);
    g.trap_if();
    g.emit(I::LocalGet(need));
    g.emit(I::I32WrapI64);
    g.emit(I::MemoryGrow(s.memory));
    g.emit(I::LocalTee(p));
    g.emit(I::I32Const(-1));
    g.emit(I::I32Eq);
    g.trap_if();
    g.emit(I::LocalGet(p));
    g.emit(I::I32Const(16));
    g.emit(I::I32Shl);
    g.emit(I::GlobalSet(s.base));
    g.emit(I::GlobalGet(s.base));
    g.emit(I::LocalGet(need));
    g.emit(I::I32WrapI64);
    g.emit(I::I32Const(16));
    g.emit(I::I32Shl);
    g.emit(I::I32Add);
    g.emit(I::GlobalSet(s.end));
    aligned(&mut g, s.base);
    g.emit(I::End);
    g.emit(I::LocalGet(p));
    g.emit(I::LocalGet(size));
    g.emit(I::I32Add);
    g.emit(I::GlobalSet(s.top));
    g.emit(I::LocalGet(p));
    g.finish()
}
