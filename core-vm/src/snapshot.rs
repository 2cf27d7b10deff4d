//! Execution state a checkpoint carries: everything core-vm owns of a
//! running store, captured at a safe point ([`crate::observe`]) and
//! written back into a freshly instantiated store of the same program.
//!
//! What [`ExecState`] holds:
//! * the store's shape (numbers of functions, memories, tables, globals,
//!   instances), checked on restore: the embedder must instantiate the
//!   same program the same way, which makes every store index agree;
//! * every memory (its size in pages, its bytes in 1 MiB chunks, each
//!   compressed with LZ4: the `lz4_flex` block format with the length
//!   prepended), every table's
//!   elements and every global's value, as raw 64-bit slots (a funcref is
//!   the store's function index + 1, which instantiating the same program
//!   reproduces; a non-null externref is a host object and is refused);
//! * per instance, the dropped data and element segments;
//! * the frames of the outermost entry into Wasm, outermost first. A frame
//!   names its function (store index, plus the module's function index for
//!   readers) and its position as the *Wasm offset* of a safe point
//!   (function entry, loop header, or the call a suspended caller waits
//!   in), with the Wasm-level locals and operand stack. No bytecode index
//!   is stored: restoring translates the function (again, or for the first
//!   time) with its debug information and maps the offset back, so another
//!   build of p2shim, with other superinstructions or register choices,
//!   resumes the same state.
//!
//! Invariants: capture only reads; restore checks the shape, every frame's
//! safe point and every constant of the operand stack before writing
//! anything it cannot undo, and fails with [`Error::Snapshot`] naming what
//! does not match.

use crate::observe::{Frame, StackView};
use crate::store::{Func, FuncKind, Instance, Store, StoreInner};
use crate::translate::{CompiledFunc, DebugInfo, Place, SafeKind, SafePoint};
use crate::trap::Error;
use crate::values::{FuncType, Val};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Everything core-vm owns of a suspended store.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExecState {
    pub shape: Shape,
    pub memories: Vec<MemoryState>,
    pub tables: Vec<Vec<u64>>,
    pub globals: Vec<u64>,
    pub instances: Vec<InstanceState>,
    /// The suspended entry's frames, outermost first.
    pub frames: Vec<FrameState>,
    /// Instructions executed before the capture (observed entries).
    pub instr_count: u64,
}

/// The number of each kind of entity in the store.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Shape {
    pub funcs: u32,
    pub memories: u32,
    pub tables: u32,
    pub globals: u32,
    pub instances: u32,
}

/// A linear memory.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct MemoryState {
    pub pages: u64,
    /// The memory's bytes in chunks of [`CHUNK`] bytes (the last may be
    /// shorter), each compressed on its own by
    /// `lz4_flex::compress_prepend_size`.
    pub lz4: Vec<serde_bytes::ByteBuf>,
}

/// The size of a memory's compressed chunks.
pub const CHUNK: usize = 1 << 20;

impl std::fmt::Debug for MemoryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MemoryState({} pages, {} compressed bytes)",
            self.pages,
            self.lz4.len()
        )
    }
}

/// Per-instance state that is not in a memory, table or global.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InstanceState {
    pub data_dropped: Vec<bool>,
    pub elems_dropped: Vec<bool>,
}

/// Where a frame stands.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Position {
    /// At the function's first operator.
    Entry,
    /// At the `loop` operator whose header it is.
    Loop,
    /// In the call operator at the offset, waiting for the callee.
    Call,
}

/// One frame of the suspended entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FrameState {
    /// The function's index in the store.
    pub func: u32,
    /// The function's index in its module (for readers).
    pub module_func: u32,
    pub position: Position,
    /// The Wasm operator's offset in its module's bytes.
    pub wasm_offset: u32,
    /// Parameters, then declared locals.
    pub locals: Vec<u64>,
    /// The operand stack, bottom first (for a call: below its arguments).
    pub stack: Vec<u64>,
}

/// The compiled code and debug information of a Wasm function.
fn code_of(
    store: &StoreInner,
    func: Func,
) -> Result<(Arc<CompiledFunc>, Arc<DebugInfo>, Instance, u32), Error> {
    let FuncKind::Wasm {
        module,
        def_index,
        instance,
        func_index,
        ..
    } = &store.funcs[func.0 as usize].kind
    else {
        return Err(Error::Snapshot(format!(
            "function {} is a host function",
            func.0
        )));
    };
    let code = module.compiled(*def_index)?.clone();
    let debug = module
        .debug_info(*def_index)
        .ok_or_else(|| Error::Snapshot(format!("function {func_index} does not translate")))?
        .clone();
    if debug.len != code.code.len() {
        return Err(Error::Snapshot(format!(
            "function {func_index}: the recording translation differs from the executed one"
        )));
    }
    Ok((code, debug, *instance, *func_index))
}

/// The index of `ip` in `func`'s code and the Wasm offset it came from.
pub(crate) fn position(
    store: &StoreInner,
    func: Func,
    ip: *const crate::instr::Instr,
) -> (u32, Option<u32>) {
    let Ok((code, debug, ..)) = code_of(store, func) else {
        return (0, None);
    };
    let index =
        (ip as usize - code.code.as_ptr() as usize) / std::mem::size_of::<crate::instr::Instr>();
    (index as u32, debug.offsets.get(index).copied())
}

/// Reads the Wasm-level state of a frame at safe point `sp`.
fn read_frame(regs: &[u64], code: &CompiledFunc, sp: &SafePoint) -> (Vec<u64>, Vec<u64>) {
    let nlocals = (code.num_params + code.num_locals) as usize;
    let locals = regs[..nlocals].to_vec();
    let stack = sp
        .stack
        .iter()
        .map(|p| match *p {
            Place::Reg(r) => regs[r.0 as usize],
            Place::Const(c) => c,
        })
        .collect();
    (locals, stack)
}

pub(crate) fn capture(store: &StoreInner, view: &StackView<'_>) -> Result<ExecState, Error> {
    if !view.outermost {
        return Err(Error::Snapshot("a host call is in progress".into()));
    }
    let mut frames = Vec::new();
    let running = Frame {
        ip: view.ip,
        bp: view.bp,
        instance: view.instance,
        func: view.func,
    };
    let n = view.frames.len();
    for (i, f) in view
        .frames
        .iter()
        .chain(std::iter::once(&running))
        .enumerate()
    {
        let (code, debug, _, module_func) = code_of(store, f.func)?;
        let index = (f.ip as usize - code.code.as_ptr() as usize)
            / std::mem::size_of::<crate::instr::Instr>();
        let innermost = i == n;
        let sp = if innermost {
            debug
                .safe_points
                .iter()
                .rev()
                .find(|s| s.index as usize == index && !matches!(s.kind, SafeKind::Call { .. }))
        } else {
            // A suspended caller resumes after its call instruction.
            debug
                .safe_points
                .iter()
                .find(|s| s.index as usize + 1 == index && matches!(s.kind, SafeKind::Call { .. }))
        };
        let sp = sp.ok_or_else(|| {
            Error::Snapshot(format!(
                "function {module_func}: no safe point at instruction {index}"
            ))
        })?;
        let regs = &view.values[f.bp..f.bp + code.num_regs as usize];
        let (locals, stack) = read_frame(regs, &code, sp);
        frames.push(FrameState {
            func: f.func.0,
            module_func,
            position: match sp.kind {
                SafeKind::Entry => Position::Entry,
                SafeKind::Loop => Position::Loop,
                SafeKind::Call { .. } => Position::Call,
            },
            wasm_offset: sp.wasm_offset,
            locals,
            stack,
        });
    }
    let mut tables = Vec::new();
    for (i, t) in store.tables.iter().enumerate() {
        if t.ty.element == crate::values::ValType::ExternRef && t.elements.iter().any(|&e| e != 0) {
            return Err(Error::Snapshot(format!(
                "table {i} holds host references (externref)"
            )));
        }
        tables.push(t.elements.clone());
    }
    for (i, g) in store.globals.iter().enumerate() {
        if g.ty.content == crate::values::ValType::ExternRef && g.value != 0 {
            return Err(Error::Snapshot(format!(
                "global {i} holds a host reference (externref)"
            )));
        }
    }
    Ok(ExecState {
        shape: shape(store),
        memories: store
            .memories
            .iter()
            .map(|m| MemoryState {
                pages: m.pages(),
                lz4: m
                    .data
                    .chunks(CHUNK)
                    .map(|c| serde_bytes::ByteBuf::from(lz4_flex::compress_prepend_size(c)))
                    .collect(),
            })
            .collect(),
        tables,
        globals: store.globals.iter().map(|g| g.value).collect(),
        instances: store
            .instances
            .iter()
            .map(|i| InstanceState {
                data_dropped: i.data_dropped.clone(),
                elems_dropped: i.elems.iter().map(|e| e.is_empty()).collect(),
            })
            .collect(),
        frames,
        instr_count: store.obs.count,
    })
}

fn shape(store: &StoreInner) -> Shape {
    Shape {
        funcs: store.funcs.len() as u32,
        memories: store.memories.len() as u32,
        tables: store.tables.len() as u32,
        globals: store.globals.len() as u32,
        instances: store.instances.len() as u32,
    }
}

/// A restored entry, ready to run (see `exec::resume`).
pub(crate) struct Prepared {
    pub stack: Vec<u64>,
    pub frames: Vec<Frame>,
    pub func: Func,
    pub ip: *const crate::instr::Instr,
    pub bp: usize,
    pub instance: Instance,
    pub entry_ty: Arc<FuncType>,
}

/// Writes `state` into `store` (instantiated from the same program) and
/// prepares its frames.
pub(crate) fn restore(store: &mut StoreInner, state: &ExecState) -> Result<Prepared, Error> {
    let bad = |what: String| Error::Snapshot(what);
    if shape(store) != state.shape {
        return Err(bad(format!(
            "the program's store has {:?}, the snapshot {:?}",
            shape(store),
            state.shape
        )));
    }
    if state.frames.is_empty() {
        return Err(bad("no frames".into()));
    }
    if state.tables.len() != store.tables.len()
        || state.memories.len() != store.memories.len()
        || state.globals.len() != store.globals.len()
        || state.instances.len() != store.instances.len()
    {
        return Err(bad("entity counts disagree with the shape".into()));
    }
    // Frames first: nothing is written before they all check out.
    let mut stack: Vec<u64> = Vec::new();
    let mut frames = Vec::new();
    let mut bp = 0usize;
    let mut running = None;
    let last = state.frames.len() - 1;
    for (i, f) in state.frames.iter().enumerate() {
        if f.func as usize >= store.funcs.len() {
            return Err(bad(format!("frame {i}: no function {}", f.func)));
        }
        let func = Func(f.func);
        let (code, debug, instance, module_func) = code_of(store, func)?;
        let want = match f.position {
            Position::Entry => |k: &SafeKind| matches!(k, SafeKind::Entry),
            Position::Loop => |k: &SafeKind| matches!(k, SafeKind::Loop),
            Position::Call => |k: &SafeKind| matches!(k, SafeKind::Call { .. }),
        };
        if (f.position == Position::Call) == (i == last) {
            return Err(bad(format!(
                "frame {i}: a {:?} position there is impossible",
                f.position
            )));
        }
        let sp = debug
            .safe_points
            .iter()
            .rev()
            .find(|s| s.wasm_offset == f.wasm_offset && want(&s.kind))
            .ok_or_else(|| {
                bad(format!(
                    "function {module_func} has no {:?} safe point at Wasm offset {:#x}",
                    f.position, f.wasm_offset
                ))
            })?;
        let nlocals = (code.num_params + code.num_locals) as usize;
        if f.locals.len() != nlocals || f.stack.len() != sp.stack.len() {
            return Err(bad(format!(
                "function {module_func} at {:#x}: {} locals and {} operands, expected {nlocals} and {}",
                f.wasm_offset,
                f.locals.len(),
                f.stack.len(),
                sp.stack.len()
            )));
        }
        let need = bp + code.num_regs as usize;
        if need > store.engine.config().max_stack_slots {
            return Err(bad("the frames exceed the value stack limit".into()));
        }
        if stack.len() < need {
            stack.resize(need, 0);
        }
        let regs = &mut stack[bp..need];
        regs[..nlocals].copy_from_slice(&f.locals);
        for (pos, (place, &v)) in sp.stack.iter().zip(&f.stack).enumerate() {
            match *place {
                Place::Reg(r) if (r.0 as usize) < nlocals => {
                    if regs[r.0 as usize] != v {
                        return Err(bad(format!(
                            "function {module_func} at {:#x}: operand {pos} differs from the local it reads",
                            f.wasm_offset
                        )));
                    }
                }
                Place::Reg(r) => regs[r.0 as usize] = v,
                Place::Const(c) if c != v => {
                    return Err(bad(format!(
                        "function {module_func} at {:#x}: operand {pos} is not the constant {c}",
                        f.wasm_offset
                    )))
                }
                Place::Const(_) => {}
            }
        }
        let at = code.code.as_ptr();
        if i == last {
            // SAFETY: `sp.index` is an index of this code (debug info of
            // the same translation, checked by length in `code_of`).
            running = Some((func, unsafe { at.add(sp.index as usize) }, bp, instance));
        } else {
            let SafeKind::Call { base } = sp.kind else {
                unreachable!("checked above")
            };
            // SAFETY: as above; a call is never the last instruction.
            frames.push(Frame {
                ip: unsafe { at.add(sp.index as usize + 1) },
                bp,
                instance,
                func,
            });
            bp += base.0 as usize;
        }
    }
    for (i, m) in state.memories.iter().enumerate() {
        let mem = &store.memories[i];
        if m.pages < mem.pages() || m.pages > mem.max_pages {
            return Err(bad(format!(
                "memory {i}: {} pages do not fit its limits",
                m.pages
            )));
        }
    }
    for (i, t) in state.tables.iter().enumerate() {
        let table = &store.tables[i];
        if (t.len() as u64) < table.elements.len() as u64 || t.len() as u64 > table.max {
            return Err(bad(format!(
                "table {i}: {} elements do not fit its limits",
                t.len()
            )));
        }
        if let Some(&e) = t
            .iter()
            .find(|&&e| e != 0 && e as usize > store.funcs.len())
        {
            return Err(bad(format!("table {i}: element {e} names no function")));
        }
    }
    for (i, inst) in state.instances.iter().enumerate() {
        let have = &store.instances[i];
        if inst.data_dropped.len() != have.data_dropped.len()
            || inst.elems_dropped.len() != have.elems.len()
        {
            return Err(bad(format!("instance {i}: segment counts differ")));
        }
    }
    // Now write.
    for (i, m) in state.memories.iter().enumerate() {
        let mut bytes = Vec::new();
        for (n, c) in m.lz4.iter().enumerate() {
            let size = c
                .get(..4)
                .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")));
            if size.is_none_or(|s| s as usize > CHUNK) {
                return Err(bad(format!("memory {i}, chunk {n}: bad size")));
            }
            let chunk = lz4_flex::decompress_size_prepended(c)
                .map_err(|e| bad(format!("memory {i}, chunk {n}: {e}")))?;
            if chunk.len() > CHUNK {
                return Err(bad(format!("memory {i}, chunk {n}: {} bytes", chunk.len())));
            }
            bytes.extend_from_slice(&chunk);
        }
        if bytes.len() as u64 != m.pages * crate::PAGE_SIZE {
            return Err(bad(format!(
                "memory {i}: {} bytes for {} pages",
                bytes.len(),
                m.pages
            )));
        }
        let mem = &mut store.memories[i];
        let grow = m.pages - mem.pages();
        if grow > 0 && mem.grow(grow).is_none() {
            return Err(Error::Snapshot(format!(
                "memory {i}: cannot grow to {} pages",
                m.pages
            )));
        }
        mem.data.copy_from_slice(&bytes);
    }
    for (i, t) in state.tables.iter().enumerate() {
        store.tables[i].elements = t.clone();
    }
    for (g, &v) in store.globals.iter_mut().zip(&state.globals) {
        g.value = v;
    }
    for (have, inst) in store.instances.iter_mut().zip(&state.instances) {
        have.data_dropped.clone_from(&inst.data_dropped);
        for (e, &dropped) in have.elems.iter_mut().zip(&inst.elems_dropped) {
            if dropped {
                *e = Arc::from([]);
            }
        }
    }
    store.obs.count = state.instr_count;
    let (func, ip, bp, instance) = running.expect("at least one frame");
    let entry = Func(state.frames[0].func);
    Ok(Prepared {
        stack,
        frames,
        func,
        ip,
        bp,
        instance,
        entry_ty: store.func_type(entry).clone(),
    })
}

impl<T> Store<T> {
    /// Restores `state` (captured from a store of the same program,
    /// instantiated the same way) and runs its entry to completion,
    /// returning the entry function's results.
    pub fn resume(&mut self, state: &ExecState) -> Result<Vec<Val>, Error> {
        let prepared = restore(&mut self.inner, state)?;
        crate::exec::resume(self, prepared)
    }
}
