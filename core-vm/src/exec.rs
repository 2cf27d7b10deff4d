//! The executor: one dispatch loop over register bytecode, with explicit
//! frames.
//!
//! A Wasm call pushes a [`Frame`] (the caller's resume point) on a VM-owned
//! vector and jumps; a return pops it. Rust never recurses per Wasm call. A
//! host function may call back into Wasm through [`crate::Func::call`]; that
//! entry takes its own value stack from the store's pool.
//!
//! Invariants (what makes the `unsafe` register and memory accesses sound):
//! * `regs` points at `stack[bp]` and `bp + num_regs <= stack.len()` for the
//!   running function; the translator guarantees every register index it
//!   emits is `< num_regs`. `regs` is recomputed whenever `stack` may have
//!   been reallocated (a call that grows it) or `bp` changes.
//! * `mem`/`mem_len` describe memory 0 of the running instance (or are
//!   null/0). They are refreshed after anything that can reallocate or
//!   resize a memory: `memory.grow`, any host call and any instance
//!   switch (a call or return between two functions of one instance keeps
//!   them: within an instance only `memory.grow` and host code can change a
//!   memory, and both refresh). Every access is bounds-checked against `mem_len`
//!   before it is made.
//! * `ip` points into the `code` of the running function, which is owned by
//!   its module (`Arc`) and kept alive by the store's instances.

use crate::instr::Instr;
use crate::ops;
use crate::store::{Caller, Func, FuncKind, Instance, Store, StoreInner};
use crate::translate::CompiledFunc;
use crate::trap::{Error, FrameInfo, Trap, TrapCode};
use crate::values::{FuncType, Val};
use std::sync::Arc;

/// Execution counts per instruction address (feature `op-stats`).
#[cfg(feature = "op-stats")]
pub(crate) mod op_stats {
    use crate::instr::Instr;
    use std::cell::RefCell;
    use std::collections::HashMap;

    thread_local! {
        static COUNTS: RefCell<HashMap<usize, u64>> = RefCell::new(HashMap::new());
    }

    #[inline(never)]
    pub fn count(ip: *const Instr) {
        COUNTS.with(|c| *c.borrow_mut().entry(ip as usize).or_default() += 1);
    }

    /// Takes the counts gathered so far on this thread.
    pub fn take() -> HashMap<usize, u64> {
        COUNTS.with(|c| std::mem::take(&mut *c.borrow_mut()))
    }
}

use crate::observe::{notify, Event, Frame, StackView};

/// Conversion between a 64-bit register and a typed value.
trait Slot: Sized {
    fn from_slot(raw: u64) -> Self;
    fn into_slot(self) -> u64;
}

impl Slot for i32 {
    #[inline(always)]
    fn from_slot(raw: u64) -> Self {
        raw as u32 as i32
    }
    #[inline(always)]
    fn into_slot(self) -> u64 {
        self as u32 as u64
    }
}
impl Slot for i64 {
    #[inline(always)]
    fn from_slot(raw: u64) -> Self {
        raw as i64
    }
    #[inline(always)]
    fn into_slot(self) -> u64 {
        self as u64
    }
}
impl Slot for f32 {
    #[inline(always)]
    fn from_slot(raw: u64) -> Self {
        f32::from_bits(raw as u32)
    }
    #[inline(always)]
    fn into_slot(self) -> u64 {
        self.to_bits() as u64
    }
}
impl Slot for f64 {
    #[inline(always)]
    fn from_slot(raw: u64) -> Self {
        f64::from_bits(raw)
    }
    #[inline(always)]
    fn into_slot(self) -> u64 {
        self.to_bits()
    }
}
impl Slot for bool {
    #[inline(always)]
    fn from_slot(raw: u64) -> Self {
        raw != 0
    }
    #[inline(always)]
    fn into_slot(self) -> u64 {
        self as u64
    }
}

/// The start of an `N`-byte access at `addr + offset` if it lies within a
/// memory of `len` bytes. One comparison in 64-bit arithmetic, which cannot
/// overflow for 32-bit addresses and offsets.
#[inline(always)]
fn access<const N: usize>(len: usize, addr: u64, offset: u32) -> Result<usize, TrapCode> {
    let ea = (addr as u32 as u64) + offset as u64;
    if ea + N as u64 > len as u64 {
        return Err(TrapCode::MemoryOutOfBounds);
    }
    Ok(ea as usize)
}

/// Bounds-checked little-endian load of `N` bytes at `addr + offset`.
#[inline(always)]
fn load_bytes<const N: usize>(mem: &[u8], addr: u64, offset: u32) -> Result<[u8; N], TrapCode> {
    let start = access::<N>(mem.len(), addr, offset)?;
    // SAFETY: `access` checked `start + N <= mem.len()`.
    Ok(unsafe { std::ptr::read_unaligned(mem.as_ptr().add(start) as *const [u8; N]) })
}

/// Bounds-checked store of `N` bytes at `addr + offset`.
#[inline(always)]
fn store_bytes<const N: usize>(
    mem: &mut [u8],
    addr: u64,
    offset: u32,
    bytes: [u8; N],
) -> Result<(), TrapCode> {
    let start = access::<N>(mem.len(), addr, offset)?;
    // SAFETY: `access` checked `start + N <= mem.len()`.
    unsafe { std::ptr::write_unaligned(mem.as_mut_ptr().add(start) as *mut [u8; N], bytes) };
    Ok(())
}

/// Checks that `[start, start + len)` lies within `size`, returning the range.
#[inline]
fn range(start: u64, len: u64, size: usize) -> Result<std::ops::Range<usize>, TrapCode> {
    let (start, len) = (start as u32 as u64, len as u32 as u64);
    if start + len > size as u64 {
        return Err(TrapCode::MemoryOutOfBounds);
    }
    Ok(start as usize..(start + len) as usize)
}

fn table_range(start: u64, len: u64, size: usize) -> Result<std::ops::Range<usize>, TrapCode> {
    range(start, len, size).map_err(|_| TrapCode::TableOutOfBounds)
}

/// Calls `func` from the embedder (or from a host function).
pub(crate) fn invoke<T>(
    store: &mut Store<T>,
    func: Func,
    ty: &FuncType,
    params: &[Val],
    results: &mut [Val],
) -> Result<(), Error> {
    if let FuncKind::Host(h) = store.inner.funcs[func.0 as usize].kind {
        let f = store.host_funcs[h].clone();
        return f(
            Caller {
                store,
                instance: None,
            },
            params,
            results,
        )
        .map_err(Error::Trap);
    }
    let mut stack = store.inner.stacks.pop().unwrap_or_default();
    stack.clear();
    let n = params.len().max(results.len());
    stack.resize(n.max(16), 0);
    for (slot, v) in stack.iter_mut().zip(params) {
        *slot = store.inner.val_to_raw(*v);
    }
    let outcome = run(store, &mut stack, func);
    if outcome.is_ok() {
        for ((r, t), raw) in results.iter_mut().zip(ty.results()).zip(stack.iter()) {
            *r = StoreInner::raw_to_val(*raw, *t);
        }
    }
    store.inner.stacks.push(stack);
    outcome
}

/// Most nested entries into Wasm (host functions calling back into Wasm)
/// before "call stack exhausted": each costs native stack.
const MAX_ENTRIES: u32 = 1000;

/// Runs `entry` in a new entry into Wasm, with the nesting bounded.
fn run<T>(store: &mut Store<T>, stack: &mut Vec<u64>, entry: Func) -> Result<(), Error> {
    if store.inner.entries >= MAX_ENTRIES {
        return Err(Error::Trap(Trap::new(TrapCode::StackOverflow)));
    }
    store.inner.entries += 1;
    let outer = store.inner.outer_frames;
    let mut frames = Vec::new();
    let outcome = enter(store, stack, entry).and_then(|mut cursor| {
        if store.observer.is_some() && store.inner.obs.wants.calls {
            let view = view(stack, &frames, &cursor, store.inner.entries == 1);
            notify(store, view, Event::Call(entry));
        }
        drive(store, stack, &mut frames, &mut cursor, outer)
    });
    store.inner.outer_frames = outer;
    store.inner.entries -= 1;
    outcome
}

/// Runs the dispatch loop from `cursor` until the entry returns. The loop
/// is chosen once per entry: observed only when an observer is installed.
fn drive<T>(
    store: &mut Store<T>,
    stack: &mut Vec<u64>,
    frames: &mut Vec<Frame>,
    cursor: &mut Cursor,
    outer: usize,
) -> Result<(), Error> {
    // The dispatch loop returns every YIELD_INTERVAL back-edges or calls
    // and is entered again: engines that tier code up per call (V8 never
    // replaces the baseline code of a running Wasm function) then run
    // the optimised dispatch loop.
    if store.observer.is_some() {
        while !run_loop::<T, true>(store, stack, frames, cursor, outer)? {}
    } else {
        while !run_loop::<T, false>(store, stack, frames, cursor, outer)? {}
    }
    Ok(())
}

/// An observer's view of an entry's stack.
fn view<'a>(
    stack: &'a [u64],
    frames: &'a [Frame],
    cursor: &Cursor,
    outermost: bool,
) -> StackView<'a> {
    StackView {
        frames,
        func: cursor.func,
        ip: cursor.ip,
        bp: cursor.bp,
        instance: cursor.instance,
        values: stack,
        outermost,
    }
}

/// Runs a restored entry (see [`crate::Store::resume`]) to completion.
pub(crate) fn resume<T>(
    store: &mut Store<T>,
    p: crate::snapshot::Prepared,
) -> Result<Vec<Val>, Error> {
    if store.inner.entries != 0 {
        return Err(Error::Snapshot("resume from inside a host call".into()));
    }
    let mut stack = p.stack;
    let mut frames = p.frames;
    let mut cursor = Cursor {
        ip: p.ip,
        bp: p.bp,
        instance: p.instance,
        func: p.func,
    };
    store.inner.entries += 1;
    let outer = store.inner.outer_frames;
    let outcome = drive(store, &mut stack, &mut frames, &mut cursor, outer);
    store.inner.outer_frames = outer;
    store.inner.entries -= 1;
    outcome?;
    Ok(p.entry_ty
        .results()
        .iter()
        .zip(&stack)
        .map(|(t, raw)| StoreInner::raw_to_val(*raw, *t))
        .collect())
}

/// Where the running function stands; saved when the dispatch loop yields.
struct Cursor {
    ip: *const Instr,
    bp: usize,
    instance: Instance,
    func: Func,
}

/// Taken (back-edges plus calls) before the dispatch loop yields.
const YIELD_INTERVAL: u32 = 1 << 20;

/// Sets up the frame of the entry function, arguments already in `stack[0..]`.
fn enter<T>(store: &mut Store<T>, stack: &mut Vec<u64>, entry: Func) -> Result<Cursor, Error> {
    let FuncKind::Wasm { instance, .. } = store.inner.funcs[entry.0 as usize].kind else {
        unreachable!("run() on a host function")
    };
    // SAFETY: compiled code lives as long as its module (module invariants).
    let code = unsafe { &*compiled(&mut store.inner, entry)? };
    let need = code.num_regs as usize;
    if need > stack.len() {
        stack.resize(need, 0);
    }
    let locals = code.num_params as usize;
    stack[locals..locals + code.num_locals as usize].fill(0);
    Ok(Cursor {
        ip: code.code.as_ptr(),
        bp: 0,
        instance,
        func: entry,
    })
}

/// The compiled code of a Wasm function, translating it on first use.
fn compiled(store: &mut StoreInner, func: Func) -> Result<*const CompiledFunc, Error> {
    let FuncKind::Wasm {
        module,
        def_index,
        code,
        ..
    } = &mut store.funcs[func.0 as usize].kind
    else {
        unreachable!("compiled() on a host function")
    };
    if let Some(c) = code {
        return Ok(*c);
    }
    let p = Arc::as_ptr(module.compiled(*def_index)?);
    *code = Some(p);
    Ok(p)
}

fn frame_info(store: &StoreInner, func: Func) -> Option<FrameInfo> {
    match &store.funcs[func.0 as usize].kind {
        FuncKind::Wasm {
            module, func_index, ..
        } => Some(FrameInfo {
            module_name: module.name.clone(),
            func_index: *func_index,
            func_name: module.func_name(*func_index).map(str::to_string),
        }),
        FuncKind::Host(_) => None,
    }
}

/// Most frames a trap's backtrace keeps (innermost first).
const MAX_BACKTRACE_FRAMES: usize = 64;

/// A trap raised by a host function may already carry the frames of Wasm it
/// called (a `cabi_realloc` that trapped): this loop's frames go below them,
/// as wasmtime shows the whole stack.
fn with_backtrace(store: &StoreInner, mut trap: Trap, current: Func, frames: &[Frame]) -> Error {
    let inner = trap.backtrace().len();
    let bt = std::iter::once(current)
        .chain(frames.iter().rev().map(|f| f.func))
        .filter_map(|f| frame_info(store, f))
        .take(MAX_BACKTRACE_FRAMES.saturating_sub(inner))
        .collect();
    trap.extend_backtrace(bt);
    Error::Trap(trap)
}

macro_rules! define_run {
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
/// Runs from `cursor` until the entry function returns (`Ok(true)`, results
/// in `stack[0..]`) or the yield budget is spent (`Ok(false)`, `cursor`
/// saved). `outer_frames` Wasm frames of enclosing entries count against the
/// depth limit.
// The observed loop reloads registers and memory after every observer call,
// also where the loop then returns.
#[allow(unused_assignments)]
fn run_loop<T, const OBS: bool>(
    store: &mut Store<T>,
    stack: &mut Vec<u64>,
    frames: &mut Vec<Frame>,
    cursor: &mut Cursor,
    outer_frames: usize,
) -> Result<bool, Error> {
    let max_depth = (store.inner.engine.config().max_call_depth as usize).saturating_sub(outer_frames);
    let max_slots = store.inner.engine.config().max_stack_slots;
    let mut host_args: Vec<Val> = Vec::new();
    let mut host_rets: Vec<Val> = Vec::new();
    let mut budget = YIELD_INTERVAL;

    // The running function's state.
    let mut func = cursor.func;
    let mut bp: usize = cursor.bp;
    let mut inst: Instance = cursor.instance;
    let mut ip: *const Instr = cursor.ip;
    let mut regs: *mut u64 = unsafe { stack.as_mut_ptr().add(bp) };
    let mut mem: *mut u8;
    let mut mem_len: usize;

    let outermost = store.inner.entries == 1;
    let wants = store.inner.obs.wants;
    /// Tells the observer of `$event` (observed loop only) with the running
    /// function at `$at`, then reloads what its method may have moved.
    macro_rules! observe {
        ($event:expr, $at:expr) => {{
            let c = Cursor { ip: $at, bp, instance: inst, func };
            notify(store, view(stack, frames, &c, outermost), $event);
            regs = unsafe { stack.as_mut_ptr().add(bp) };
            refresh_mem!();
        }};
    }
    macro_rules! refresh_mem {
        () => {{
            let i = &store.inner.instances[inst.0 as usize];
            match i.memories.first() {
                Some(m) => {
                    let data = &mut store.inner.memories[m.0 as usize].data;
                    mem = data.as_mut_ptr();
                    mem_len = data.len();
                }
                None => {
                    mem = std::ptr::NonNull::<u8>::dangling().as_ptr();
                    mem_len = 0;
                }
            }
        }};
    }
    macro_rules! trap {
        ($code:expr) => {
            return Err(with_backtrace(&store.inner, Trap::new($code), func, frames))
        };
    }
    macro_rules! tri {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(code) => trap!(code),
            }
        };
    }
    // SAFETY (all register accesses): see the module invariants; `r` is an
    // index the translator emitted for this function, below `num_regs`.
    macro_rules! get {
        ($r:expr) => {
            unsafe { *regs.add(($r).0 as usize) }
        };
        ($r:expr, $t:ty) => {
            <$t as Slot>::from_slot(unsafe { *regs.add(($r).0 as usize) })
        };
    }
    macro_rules! set {
        ($r:expr, $v:expr) => {{
            let v: u64 = Slot::into_slot($v);
            unsafe { *regs.add(($r).0 as usize) = v }
        }};
    }
    // SAFETY: `mem`/`mem_len` describe the live memory 0, or are a dangling
    // non-null pointer and 0 when there is none (module invariants).
    macro_rules! mem0 {
        () => {
            unsafe { std::slice::from_raw_parts_mut(mem, mem_len) }
        };
    }
    macro_rules! memn {
        ($idx:expr) => {{
            let m = store.inner.instances[inst.0 as usize].memories[$idx as usize];
            &mut store.inner.memories[m.0 as usize].data[..]
        }};
    }
    macro_rules! next {
        () => {{
            ip = unsafe { ip.add(1) };
            continue;
        }};
    }
    /// Spends one unit of the yield budget; at zero, saves the cursor at
    /// `$at` and returns to `run`, which enters this loop again.
    macro_rules! tick {
        ($at:expr) => {{
            budget -= 1;
            if budget == 0 {
                *cursor = Cursor { ip: $at, bp, instance: inst, func };
                return Ok(false);
            }
        }};
    }
    /// A safe point (a loop header or a function entry) at `ip`.
    macro_rules! safe_point {
        () => {{
            if OBS && store.inner.obs.safe_point_requested && outermost {
                observe!(Event::SafePoint, ip);
            }
        }};
    }
    macro_rules! jump {
        ($offset:expr) => {{
            let offset = $offset as isize;
            ip = unsafe { ip.offset(offset) };
            if offset < 0 {
                safe_point!();
                tick!(ip);
            }
            continue;
        }};
    }
    /// Enters a function: a Wasm callee gets a new frame at `bp + base`
    /// (pushing `$resume` unless it is a tail call); a host callee runs now.
    macro_rules! call {
        ($callee:expr, $base:expr, $tail:expr) => {{
            let callee: Func = $callee;
            let base = $base as usize;
            match store.inner.funcs[callee.0 as usize].kind {
                FuncKind::Wasm { instance: callee_inst, code: cached, .. } => {
                    let code = match cached {
                        Some(c) => c,
                        None => match compiled(&mut store.inner, callee) {
                            Ok(c) => c,
                            Err(e) => return Err(e),
                        },
                    };
                    // SAFETY: compiled code lives as long as its module, which
                    // the store keeps alive.
                    let code = unsafe { &*code };
                    let new_bp = if $tail {
                        // Move the arguments down to the frame base.
                        let n = code.num_params as usize;
                        stack.copy_within(bp + base..bp + base + n, bp);
                        bp
                    } else {
                        if frames.len() >= max_depth {
                            trap!(TrapCode::StackOverflow);
                        }
                        frames.push(Frame { ip: unsafe { ip.add(1) }, bp, instance: inst, func });
                        bp + base
                    };
                    let need = new_bp + code.num_regs as usize;
                    if need > stack.len() {
                        if need > max_slots {
                            if !$tail { frames.pop(); }
                            trap!(TrapCode::StackOverflow);
                        }
                        let grown = (stack.len() * 2).max(need).min(max_slots.max(need));
                        stack.resize(grown, 0);
                    }
                    let locals = new_bp + code.num_params as usize;
                    for slot in &mut stack[locals..locals + code.num_locals as usize] {
                        *slot = 0;
                    }
                    bp = new_bp;
                    regs = unsafe { stack.as_mut_ptr().add(bp) };
                    func = callee;
                    ip = code.code.as_ptr();
                    // Within one instance `mem` stays valid: only `memory.grow`
                    // (which refreshes it) and host calls (after which it is
                    // refreshed) can move or resize memory 0.
                    if callee_inst != inst {
                        inst = callee_inst;
                        refresh_mem!();
                    }
                    if OBS {
                        if wants.calls {
                            if $tail {
                                observe!(Event::Return(func), ip);
                            }
                            observe!(Event::Call(callee), ip);
                        }
                        safe_point!();
                    }
                    tick!(ip);
                    continue;
                }
                FuncKind::Host(h) => {
                    let ty = store.inner.func_type(callee).clone();
                    host_args.clear();
                    for (i, t) in ty.params().iter().enumerate() {
                        host_args.push(StoreInner::raw_to_val(unsafe { *regs.add(base + i) }, *t));
                    }
                    host_rets.clear();
                    host_rets.extend(ty.results().iter().map(|t| Val::default_for(*t)));
                    let f = store.host_funcs[h].clone();
                    if OBS && wants.calls {
                        observe!(Event::Call(callee), ip);
                    }
                    store.inner.outer_frames = outer_frames + frames.len() + 1;
                    let outcome = f(Caller { store: &mut *store, instance: Some(inst) }, &host_args, &mut host_rets);
                    store.inner.outer_frames = outer_frames;
                    if OBS && wants.calls {
                        observe!(Event::Return(callee), ip);
                    }
                    if let Err(t) = outcome {
                        return Err(with_backtrace(&store.inner, t, func, frames));
                    }
                    let dst = if $tail { 0 } else { base };
                    for (i, (v, t)) in host_rets.iter().zip(ty.results()).enumerate() {
                        if v.ty() != *t {
                            trap!(TrapCode::Host);
                        }
                        unsafe { *regs.add(dst + i) = store.inner.val_to_raw(*v) };
                    }
                    refresh_mem!();
                    if $tail {
                        do_return!();
                    }
                    next!();
                }
            }
        }};
    }
    /// Pops the caller's frame (results are already in registers 0..).
    macro_rules! do_return {
        () => {{
            if OBS && wants.calls {
                observe!(Event::Return(func), ip);
            }
            match frames.pop() {
                None => return Ok(true),
                Some(f) => {
                    ip = f.ip;
                    bp = f.bp;
                    func = f.func;
                    regs = unsafe { stack.as_mut_ptr().add(bp) };
                    // See `call!`: `mem` only needs refreshing across instances.
                    if f.instance != inst {
                        inst = f.instance;
                        refresh_mem!();
                    }
                    continue;
                }
            }
        }};
    }

    refresh_mem!();

    loop {
        // SAFETY: `ip` points into live code (module invariants).
        if OBS {
            store.inner.obs.count += 1;
            if store.inner.obs.count >= store.inner.obs.deadline {
                observe!(Event::Deadline, ip);
            }
            if wants.instrs {
                observe!(Event::Instr, ip);
            }
        }
        let instr: &Instr = unsafe { &*ip };
        #[cfg(feature = "op-stats")]
        op_stats::count(ip);
        match *instr {
            $(
                Instr::$ib { dst, lhs, rhs } => { set!(dst, tri!(ops::$ibf(get!(lhs, $ibty), get!(rhs, $ibty)))); next!() }
                Instr::$ibi { dst, lhs, imm } => { set!(dst, tri!(ops::$ibf(get!(lhs, $ibty), imm as $ibty))); next!() }
            )*
            $(
                Instr::$ic { dst, lhs, rhs } => { set!(dst, tri!(ops::$icf(get!(lhs, $icty), get!(rhs, $icty)))); next!() }
                Instr::$ici { dst, lhs, imm } => { set!(dst, tri!(ops::$icf(get!(lhs, $icty), imm as $icty))); next!() }
                Instr::$icbr { lhs, rhs, offset } => {
                    if tri!(ops::$icf(get!(lhs, $icty), get!(rhs, $icty))) { jump!(offset) } else { next!() }
                }
                Instr::$icbri { lhs, imm, offset } => {
                    if tri!(ops::$icf(get!(lhs, $icty), imm as $icty)) { jump!(offset) } else { next!() }
                }
            )*
            $(
                Instr::$fb { dst, lhs, rhs } => { set!(dst, tri!(ops::$fbf(get!(lhs, $fbty), get!(rhs, $fbty)))); next!() }
                Instr::$fbi { dst, lhs, lo, hi } => {
                    let imm = <$fbty as Slot>::from_slot((hi as u64) << 32 | lo as u64);
                    set!(dst, tri!(ops::$fbf(get!(lhs, $fbty), imm)));
                    next!()
                }
                Instr::$fbl { dst, rhs, lo, hi } => {
                    let imm = <$fbty as Slot>::from_slot((hi as u64) << 32 | lo as u64);
                    set!(dst, tri!(ops::$fbf(imm, get!(rhs, $fbty))));
                    next!()
                }
            )*
            $( Instr::$fc { dst, lhs, rhs } => { set!(dst, tri!(ops::$fcf(get!(lhs, $fcty), get!(rhs, $fcty)))); next!() } )*
            $(
                Instr::$frr { dst, a, b, c } => {
                    let t = tri!(ops::$frrif(get!(a, $frrty), get!(b, $frrty)));
                    set!(dst, tri!(ops::$frrof(t, get!(c, $frrty))));
                    next!()
                }
            )*
            $(
                Instr::$fri { dst, a, b, imm } => {
                    let t = tri!(ops::$friif(get!(a, $frity), get!(b, $frity)));
                    set!(dst, tri!(ops::$friof(t, imm as $frity)));
                    next!()
                }
            )*
            $(
                Instr::$fir { dst, a, imm, c } => {
                    let t = tri!(ops::$firif(get!(a, $firty), imm as $firty));
                    set!(dst, tri!(ops::$firof(t, get!(c, $firty))));
                    next!()
                }
            )*
            $(
                Instr::$fii { dst, a, imm1, imm2 } => {
                    let t = tri!(ops::$fiiif(get!(a, $fiity), imm1 as $fiity));
                    set!(dst, tri!(ops::$fiiof(t, imm2 as $fiity)));
                    next!()
                }
            )*
            $( Instr::$un { dst, src } => { set!(dst, tri!(ops::$unf(get!(src, $unty)))); next!() } )*
            $(
                Instr::$ld { dst, ptr, offset } => {
                    let b = tri!(load_bytes::<{ std::mem::size_of::<$ldraw>() }>(mem0!(), get!(ptr), offset));
                    set!(dst, <$ldraw>::from_le_bytes(b) as $ldty);
                    next!()
                }
                Instr::$lda { dst, base, idx, offset } => {
                    let addr = get!(base, i32).wrapping_add(get!(idx, i32)) as u32 as u64;
                    let b = tri!(load_bytes::<{ std::mem::size_of::<$ldraw>() }>(mem0!(), addr, offset));
                    set!(dst, <$ldraw>::from_le_bytes(b) as $ldty);
                    next!()
                }
                Instr::$ldi { dst, base, imm, offset } => {
                    let addr = get!(base, i32).wrapping_add(imm) as u32 as u64;
                    let b = tri!(load_bytes::<{ std::mem::size_of::<$ldraw>() }>(mem0!(), addr, offset));
                    set!(dst, <$ldraw>::from_le_bytes(b) as $ldty);
                    next!()
                }
                Instr::$ldx { dst, base, idx, shift, offset } => {
                    let addr = get!(base, i32).wrapping_add(get!(idx, i32) << shift) as u32 as u64;
                    let b = tri!(load_bytes::<{ std::mem::size_of::<$ldraw>() }>(mem0!(), addr, offset));
                    set!(dst, <$ldraw>::from_le_bytes(b) as $ldty);
                    next!()
                }
                Instr::$ldm { dst, ptr, offset, mem: m } => {
                    let b = tri!(load_bytes::<{ std::mem::size_of::<$ldraw>() }>(memn!(m), get!(ptr), offset));
                    set!(dst, <$ldraw>::from_le_bytes(b) as $ldty);
                    next!()
                }
            )*
            $(
                Instr::$st { ptr, src, offset } => {
                    let v = (get!(src, $stty) as $straw).to_le_bytes();
                    tri!(store_bytes(mem0!(), get!(ptr), offset, v));
                    next!()
                }
                Instr::$stm { ptr, src, offset, mem: m } => {
                    let v = (get!(src, $stty) as $straw).to_le_bytes();
                    tri!(store_bytes(memn!(m), get!(ptr), offset, v));
                    next!()
                }
                Instr::$sti { ptr, imm, offset } => {
                    let v = (<$stty as Slot>::from_slot(imm as i64 as u64) as $straw).to_le_bytes();
                    tri!(store_bytes(mem0!(), get!(ptr), offset, v));
                    next!()
                }
            )*
            Instr::Trap { code } => trap!(code),
            Instr::ConsumeFuel {} => {
                if store.inner.fuel == 0 {
                    trap!(TrapCode::OutOfFuel);
                }
                store.inner.fuel -= 1;
                next!()
            }
            Instr::Copy { dst, src } => {
                unsafe { *regs.add(dst.0 as usize) = *regs.add(src.0 as usize) };
                next!()
            }
            Instr::CopySpan { dst, src, len } => {
                let (d, s) = (bp + dst.0 as usize, bp + src.0 as usize);
                stack.copy_within(s..s + len as usize, d);
                next!()
            }
            Instr::ConstI32 { dst, value } => { set!(dst, value as i64); next!() }
            Instr::Const64 { dst, lo, hi } => { set!(dst, ((hi as u64) << 32 | lo as u64) as i64); next!() }
            Instr::Select { dst, cond, a, b } => {
                let v = if get!(cond, i32) != 0 { get!(a) } else { get!(b) };
                set!(dst, v as i64);
                next!()
            }
            Instr::Br { offset } => jump!(offset),
            Instr::BrIfNez { cond, offset } => { if get!(cond, i32) != 0 { jump!(offset) } else { next!() } }
            Instr::BrIfEqz { cond, offset } => { if get!(cond, i32) == 0 { jump!(offset) } else { next!() } }
            Instr::BrAddImmNez { reg, imm, offset } => {
                let v = tri!(ops::i32_add(get!(reg, i32), imm));
                set!(reg, v);
                if v != 0 { jump!(offset) } else { next!() }
            }
            Instr::BrAddImmNe { reg, imm, rhs, offset } => {
                let v = tri!(ops::i32_add(get!(reg, i32), imm));
                set!(reg, v);
                if v != get!(rhs, i32) { jump!(offset) } else { next!() }
            }
            Instr::BrAddImmNeImm { reg, imm, cmp, offset } => {
                let v = tri!(ops::i32_add(get!(reg, i32), imm));
                set!(reg, v);
                if v != cmp { jump!(offset) } else { next!() }
            }
            Instr::I32LtUAdd { dst, a, b, c } => {
                let t = tri!(ops::i32_lt_u(get!(a, i32), get!(b, i32))) as i32;
                set!(dst, tri!(ops::i32_add(t, get!(c, i32))));
                next!()
            }
            Instr::F64MulSub { dst, a, b, c } => {
                let t = tri!(ops::f64_mul(get!(a, f64), get!(b, f64)));
                set!(dst, tri!(ops::f64_sub(t, get!(c, f64))));
                next!()
            }
            Instr::F64MulSubFrom { dst, a, b, c } => {
                let t = tri!(ops::f64_mul(get!(a, f64), get!(b, f64)));
                set!(dst, tri!(ops::f64_sub(get!(c, f64), t)));
                next!()
            }
            Instr::F64MulImmAdd { dst, a, c, lo, hi } => {
                let k = f64::from_slot((hi as u64) << 32 | lo as u64);
                let t = tri!(ops::f64_mul(get!(a, f64), k));
                set!(dst, tri!(ops::f64_add(t, get!(c, f64))));
                next!()
            }
            Instr::BrAddImmLtU { reg, imm, rhs, offset } => {
                let v = tri!(ops::i32_add(get!(reg, i32), imm));
                set!(reg, v);
                if (v as u32) < (get!(rhs, i32) as u32) { jump!(offset) } else { next!() }
            }
            Instr::BrAddImmLtS { reg, imm, rhs, offset } => {
                let v = tri!(ops::i32_add(get!(reg, i32), imm));
                set!(reg, v);
                if v < get!(rhs, i32) { jump!(offset) } else { next!() }
            }
            Instr::BrTable { index, len } => {
                let i = (get!(index, i32) as u32).min(len - 1);
                jump!(1 + i as isize)
            }
            Instr::Return {} => do_return!(),
            Instr::ReturnReg { src } => {
                unsafe { *regs = *regs.add(src.0 as usize) };
                do_return!()
            }
            Instr::ReturnSpan { src, len } => {
                let s = bp + src.0 as usize;
                stack.copy_within(s..s + len as usize, bp);
                do_return!()
            }
            Instr::Call { func: f, base } => {
                let callee = store.inner.instances[inst.0 as usize].funcs[f as usize];
                call!(callee, base.0, false)
            }
            Instr::ReturnCall { func: f, base } => {
                let callee = store.inner.instances[inst.0 as usize].funcs[f as usize];
                call!(callee, base.0, true)
            }
            Instr::CallIndirect { ty, table, index, base } | Instr::ReturnCallIndirect { ty, table, index, base } => {
                let tail = matches!(*instr, Instr::ReturnCallIndirect { .. });
                let i = &store.inner.instances[inst.0 as usize];
                let t = &store.inner.tables[i.tables[table as usize].0 as usize];
                let Some(&raw) = t.elements.get(get!(index, i32) as u32 as usize) else {
                    trap!(TrapCode::UndefinedElement)
                };
                if raw == 0 {
                    trap!(TrapCode::UninitializedElement);
                }
                let callee = Func(raw as u32 - 1);
                if store.inner.funcs[callee.0 as usize].ty != i.types[ty as usize] {
                    trap!(TrapCode::BadSignature);
                }
                if tail { call!(callee, base.0, true) } else { call!(callee, base.0, false) }
            }
            Instr::GlobalGet { dst, global } => {
                let g = store.inner.instances[inst.0 as usize].globals[global as usize];
                set!(dst, store.inner.globals[g.0 as usize].value as i64);
                next!()
            }
            Instr::GlobalSet { src, global } => {
                let g = store.inner.instances[inst.0 as usize].globals[global as usize];
                store.inner.globals[g.0 as usize].value = get!(src);
                next!()
            }
            Instr::MemorySize { dst, mem: m } => {
                let pages = memn!(m).len() as u64 / crate::PAGE_SIZE;
                set!(dst, pages as i32);
                next!()
            }
            Instr::MemoryGrow { dst, delta, mem: m } => {
                let id = store.inner.instances[inst.0 as usize].memories[m as usize];
                let delta = get!(delta, i32) as u32 as u64;
                let old = store.inner.memories[id.0 as usize].grow(delta);
                set!(dst, old.map_or(-1, |o| o as i32));
                refresh_mem!();
                next!()
            }
            Instr::MemoryFill { dst, val, len, mem: m } => {
                let data = memn!(m);
                let r = tri!(range(get!(dst), get!(len), data.len()));
                data[r].fill(get!(val) as u8);
                next!()
            }
            Instr::MemoryCopy { dst, src, len, dst_mem, src_mem } => {
                let n = get!(len);
                if dst_mem == src_mem {
                    let data = memn!(dst_mem);
                    let s = tri!(range(get!(src), n, data.len()));
                    let d = tri!(range(get!(dst), n, data.len()));
                    data.copy_within(s, d.start);
                } else {
                    let i = &store.inner.instances[inst.0 as usize];
                    let (dm, sm) = (i.memories[dst_mem as usize].0 as usize, i.memories[src_mem as usize].0 as usize);
                    let s = tri!(range(get!(src), n, store.inner.memories[sm].data.len()));
                    let d = tri!(range(get!(dst), n, store.inner.memories[dm].data.len()));
                    let bytes = store.inner.memories[sm].data[s].to_vec();
                    store.inner.memories[dm].data[d].copy_from_slice(&bytes);
                }
                next!()
            }
            Instr::MemoryInit { dst, src, len, mem: m, data } => {
                let i = &store.inner.instances[inst.0 as usize];
                let (dropped, module) = (i.data_dropped[data as usize], i.module.clone());
                let seg = if dropped { &[][..] } else { module.data_bytes(data as usize) };
                let n = get!(len);
                let s = tri!(range(get!(src), n, seg.len()));
                let mdata = memn!(m);
                let d = tri!(range(get!(dst), n, mdata.len()));
                mdata[d].copy_from_slice(&seg[s]);
                next!()
            }
            Instr::DataDrop { data } => {
                store.inner.instances[inst.0 as usize].data_dropped[data as usize] = true;
                next!()
            }
            Instr::TableGet { dst, index, table } => {
                let t = store.inner.instances[inst.0 as usize].tables[table as usize];
                let Some(&v) = store.inner.tables[t.0 as usize].elements.get(get!(index, i32) as u32 as usize) else {
                    trap!(TrapCode::TableOutOfBounds)
                };
                set!(dst, v as i64);
                next!()
            }
            Instr::TableSet { index, value, table } => {
                let t = store.inner.instances[inst.0 as usize].tables[table as usize];
                let v = get!(value);
                let Some(slot) = store.inner.tables[t.0 as usize].elements.get_mut(get!(index, i32) as u32 as usize) else {
                    trap!(TrapCode::TableOutOfBounds)
                };
                *slot = v;
                next!()
            }
            Instr::TableSize { dst, table } => {
                let t = store.inner.instances[inst.0 as usize].tables[table as usize];
                set!(dst, store.inner.tables[t.0 as usize].elements.len() as i32);
                next!()
            }
            Instr::TableGrow { dst, init, delta, table } => {
                let t = store.inner.instances[inst.0 as usize].tables[table as usize];
                let old = store.inner.tables[t.0 as usize].grow(get!(delta, i32) as u32 as u64, get!(init));
                set!(dst, old.map_or(-1, |o| o as i32));
                next!()
            }
            Instr::TableFill { index, value, len, table } => {
                let t = store.inner.instances[inst.0 as usize].tables[table as usize];
                let elems = &mut store.inner.tables[t.0 as usize].elements;
                let r = tri!(table_range(get!(index), get!(len), elems.len()));
                elems[r].fill(get!(value));
                next!()
            }
            Instr::TableCopy { dst, src, len, dst_table, src_table } => {
                let i = &store.inner.instances[inst.0 as usize];
                let (dt, st) = (i.tables[dst_table as usize].0 as usize, i.tables[src_table as usize].0 as usize);
                let n = get!(len);
                let s = tri!(table_range(get!(src), n, store.inner.tables[st].elements.len()));
                let d = tri!(table_range(get!(dst), n, store.inner.tables[dt].elements.len()));
                if dt == st {
                    store.inner.tables[dt].elements.copy_within(s, d.start);
                } else {
                    let items = store.inner.tables[st].elements[s].to_vec();
                    store.inner.tables[dt].elements[d].copy_from_slice(&items);
                }
                next!()
            }
            Instr::TableInit { dst, src, len, table, elem } => {
                let i = &store.inner.instances[inst.0 as usize];
                let items = i.elems[elem as usize].clone();
                let t = i.tables[table as usize].0 as usize;
                let n = get!(len);
                let s = tri!(table_range(get!(src), n, items.len()));
                let elems = &mut store.inner.tables[t].elements;
                let d = tri!(table_range(get!(dst), n, elems.len()));
                elems[d].copy_from_slice(&items[s]);
                next!()
            }
            Instr::ElemDrop { elem } => {
                store.inner.instances[inst.0 as usize].elems[elem as usize] = Arc::from([]);
                next!()
            }
            Instr::RefFunc { dst, func: f } => {
                let callee = store.inner.instances[inst.0 as usize].funcs[f as usize];
                set!(dst, callee.0 as i64 + 1);
                next!()
            }
        }
    }
}
    };
}

crate::for_each_instr!(define_run);
