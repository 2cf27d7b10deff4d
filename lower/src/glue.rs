//! The generated code of a lowered component:
//!
//! * `_start`: calls the library's `p2lib_init`, then, for each core
//!   instance in instantiation order, applies its deferred segments (see
//!   [`crate::merge`]) and calls its start function, then calls the lifted
//!   `wasi:cli/run#run`, its post-return, and ends as `wasmtime run` does:
//!   `ok` returns (exit 0), `err` calls `proc_exit(1)`, any other
//!   discriminant prints wasmtime's error (lifting the result fails) and
//!   exits 1.
//!   There is no start section: `node:wasi` needs `_start` to be the first
//!   code that calls WASI.
//! * for a reactor, `_initialize` instead (the same start-up, no `run`),
//!   the p1 reactor convention; the exported functions are the lifted core
//!   functions themselves (see the crate docs), and each `cabi_post_*` runs
//!   the export's post-return with `may_leave` false, as the host's call
//!   of a post-return does in wasmtime.
//! * with `--invoke`, `_start` again: the start-up, then the call of the
//!   library's `p2lib_invoke` with the export table ([`crate::invoke`],
//!   which also generates the hooks the library calls).
//! * the library's `cabi_realloc`: the guest's `realloc` when the lowered
//!   imports name one (nothing generated); with several, a dispatcher on a
//!   global that the thunks of [`crate::link`] set around each call; with
//!   none, the component's exported `cabi_realloc`, or a function that
//!   traps.

use crate::adapter::mem_arg_at;
use crate::error::LowerError;
use crate::link::{Entry, Linked, Run, P1};
use crate::merge::{DeferredSegment, GlueFunc, InputId, Merger, Origin, OutputImport};
use crate::resources::Hooks;
use wasm_encoder::{FuncType, Function, InstructionSink, ValType};

/// The generated functions, declared before layout.
pub struct Glue {
    /// `_start` of a command (then the two imports it uses), or
    /// `_initialize` of a reactor.
    start: GlueFunc,
    exits: Option<(OutputImport, OutputImport)>,
    realloc: Option<ReallocGlue>,
    /// A reactor's `cabi_post_*` exports, each the export's post-return
    /// (with its number of parameters) run with `may_leave` false (when
    /// the library has its phase).
    post_returns: Vec<(GlueFunc, Origin, u32)>,
    /// The hooks of `--invoke` ([`crate::invoke`]).
    invoke: crate::invoke::Declared,
}

enum ReallocGlue {
    Dispatch(GlueFunc),
    Trap(GlueFunc),
}

fn realloc_type() -> FuncType {
    FuncType::new([ValType::I32; 4], [ValType::I32])
}

/// Declares the glue and resolves the library's `cabi_realloc`.
pub fn declare(merger: &mut Merger<'_>, linked: &Linked) -> Result<Glue, LowerError> {
    let mut post_returns = Vec::new();
    let (start, exits) = match &linked.entry {
        Entry::Command(_) => {
            let proc_exit =
                merger.import_func(P1, "proc_exit", FuncType::new([ValType::I32], []))?;
            let fd_write = merger.import_func(
                P1,
                "fd_write",
                FuncType::new([ValType::I32; 4], [ValType::I32]),
            )?;
            let start = merger.declare_glue("_start", FuncType::new([], []));
            merger.export("_start", Origin::Glue(start));
            (start, Some((proc_exit, fd_write)))
        }
        Entry::Reactor(r) => {
            let init = merger.declare_glue("_initialize", FuncType::new([], []));
            merger.export("_initialize", Origin::Glue(init));
            for f in &r.funcs {
                merger.export(&f.name, f.func);
                if let Some(p) = f.post_return {
                    let name = format!("cabi_post_{}", f.name);
                    match (linked.hooks.phase, merger.func_type(p)) {
                        (Some(_), Some(ty)) => {
                            let params = ty.params().len() as u32;
                            let g = merger.declare_glue(&name, ty);
                            merger.export(&name, Origin::Glue(g));
                            post_returns.push((g, p, params));
                        }
                        _ => merger.export(&name, p),
                    }
                }
            }
            if let Some(realloc) = r.realloc {
                merger.export("cabi_realloc", realloc);
            }
            (init, None)
        }
        Entry::Invoke(_) => {
            let start = merger.declare_glue("_start", FuncType::new([], []));
            merger.export("_start", Origin::Glue(start));
            (start, None)
        }
    };
    let invoke = match &linked.entry {
        Entry::Invoke(i) => Some(i),
        _ => None,
    };
    let invoke = crate::invoke::declare(merger, linked, invoke)?;
    merger.export("memory", linked.primary);
    let mut realloc = None;
    if let Some(import) = linked.library_realloc {
        let target = match linked.reallocs.as_slice() {
            [one] => *one,
            [] => match exported_realloc(merger, linked.library) {
                Some(o) => o,
                None => {
                    let g =
                        merger.declare_glue("cabi_realloc (none in the component)", realloc_type());
                    realloc = Some(ReallocGlue::Trap(g));
                    Origin::Glue(g)
                }
            },
            _ => {
                let g = merger.declare_glue("cabi_realloc dispatcher", realloc_type());
                realloc = Some(ReallocGlue::Dispatch(g));
                Origin::Glue(g)
            }
        };
        if merger.func_type(target) != Some(realloc_type()) {
            return Err(LowerError::Unsupported(
                "the `realloc` of the lowered imports does not have the type (i32 i32 i32 i32) -> i32".into(),
            ));
        }
        merger.resolve(linked.library, import, target);
    }
    Ok(Glue {
        start,
        exits,
        realloc,
        post_returns,
        invoke,
    })
}

/// The component's exported `cabi_realloc` with the right type, if any.
pub fn exported_realloc(merger: &Merger<'_>, library: InputId) -> Option<Origin> {
    merger
        .inputs()
        .filter(|i| *i != library)
        .filter_map(|i| merger.export_origin(i, "cabi_realloc").ok())
        .find(|o| merger.func_type(*o) == Some(realloc_type()))
}

/// The bodies of every generated function, in declaration order.
pub fn bodies(
    merger: &Merger<'_>,
    linked: &Linked,
    glue: &Glue,
    deferred: &[(InputId, Vec<DeferredSegment>)],
    glue_count: usize,
) -> Result<Vec<Function>, LowerError> {
    let mut out: Vec<Option<Function>> = (0..glue_count).map(|_| None).collect();
    let mut set = |g: GlueFunc, f: Function| out[g.0 as usize] = Some(f);
    let cur = linked
        .current_realloc
        .map(|g| merger.index(Origin::GlueGlobal(g)));
    for t in &linked.thunks {
        let ty = merger
            .func_type(Origin::Glue(t.glue))
            .expect("a thunk has a type");
        let mut f = Function::new([]);
        let mut i = f.instructions();
        i.i32_const(t.realloc as i32)
            .global_set(cur.expect("thunks come with the global"));
        for p in 0..ty.params().len() as u32 {
            i.local_get(p);
        }
        i.call(merger.index(t.callee))
            .i32_const(0)
            .global_set(cur.expect("thunks come with the global"))
            .end();
        set(t.glue, f);
    }
    match &glue.realloc {
        Some(ReallocGlue::Trap(g)) => {
            let mut f = Function::new([]);
            f.instructions().unreachable().end();
            set(*g, f);
        }
        Some(ReallocGlue::Dispatch(g)) => {
            let cur = cur.expect("a dispatcher comes with the global");
            let mut f = Function::new([]);
            let mut i = f.instructions();
            for (k, r) in linked.reallocs.iter().enumerate().skip(1) {
                i.global_get(cur)
                    .i32_const(k as i32)
                    .i32_eq()
                    .if_(wasm_encoder::BlockType::Empty);
                for p in 0..4 {
                    i.local_get(p);
                }
                i.call(merger.index(*r)).return_().end();
            }
            for p in 0..4 {
                i.local_get(p);
            }
            i.call(merger.index(linked.reallocs[0])).end();
            set(*g, f);
        }
        None => {}
    }
    let hooks = linked.hooks.index(merger);
    for (g, f) in linked.resources.bodies(merger, &hooks) {
        set(g, f);
    }
    let scratch = cur.zip(linked.scratch_realloc);
    for (g, f) in linked
        .adapters
        .bodies(merger, linked.primary, scratch, &hooks)?
    {
        set(g, f);
    }
    for &(g, p, params) in &glue.post_returns {
        // Local `params` keeps the phase.
        let mut f = Function::new([(1, ValType::I32)]);
        call_without_leaving(&mut f, &hooks, params, 0..params, merger.index(p));
        f.instructions().end();
        set(g, f);
    }
    if let (Entry::Invoke(inv), Some(g)) = (&linked.entry, &glue.invoke.hooks) {
        for (g, f) in crate::invoke::bodies(merger, linked, inv, g, &hooks) {
            set(g, f);
        }
    }
    for (g, f) in glue.invoke.trap_bodies() {
        set(g, f);
    }
    // Local 0: `run`'s result (`--invoke`: the table's address); 1: the
    // phase kept around its post-return.
    let mut start = Function::new([(2, ValType::I32)]);
    init_body(&mut start, merger, linked, deferred)?;
    match (&linked.entry, glue.exits) {
        (Entry::Command(run), Some((proc_exit, fd_write))) => {
            let index = |i| merger.index(Origin::Import(i));
            run_body(
                &mut start,
                merger,
                run,
                &hooks,
                index(proc_exit),
                index(fd_write),
            );
        }
        (Entry::Invoke(inv), _) => crate::invoke::start_body(&mut start, merger, inv, 0),
        _ => {
            start.instructions().end();
        }
    }
    set(glue.start, start);
    out.into_iter()
        .enumerate()
        .map(|(n, f)| {
            f.ok_or_else(|| LowerError::Encode {
                what: "the generated code".into(),
                message: format!("generated function {n} has no body"),
            })
        })
        .collect()
}

/// What instantiation would have run: `p2lib_init`, then each instance's
/// deferred segments and start function, in order.
fn init_body(
    f: &mut Function,
    merger: &Merger<'_>,
    linked: &Linked,
    deferred: &[(InputId, Vec<DeferredSegment>)],
) -> Result<(), LowerError> {
    f.instructions().call(merger.index(linked.init));
    let starts = merger.starts()?;
    for id in merger.inputs() {
        if let Some((_, segs)) = deferred.iter().find(|(i, _)| *i == id) {
            for s in segs {
                s.offset.emit(f);
                let mut i = f.instructions();
                i.i32_const(0).i32_const(s.len as i32);
                if s.data {
                    i.memory_init(s.target, s.segment).data_drop(s.segment);
                } else {
                    i.table_init(s.target, s.segment).elem_drop(s.segment);
                }
            }
        }
        if let Some((_, func)) = starts.iter().find(|(i, _)| *i == id) {
            f.instructions().call(*func);
        }
    }
    Ok(())
}

/// A command's `run`, its post-return (which may not call imports:
/// `may_leave` is false while it runs), and the exit (local 0 is scratch,
/// local 1 keeps the library's phase).
fn run_body(
    f: &mut Function,
    merger: &Merger<'_>,
    run: &Run,
    hooks: &Hooks<u32>,
    proc_exit: u32,
    fd_write: u32,
) {
    f.instructions().call(merger.index(run.func)).local_set(0);
    if let Some(p) = run.post_return {
        call_without_leaving(f, hooks, 1, [0], merger.index(p));
    }
    let mut i = f.instructions();
    // ok: return (exit 0); err: exit 1.
    i.local_get(0)
        .i32_eqz()
        .if_(wasm_encoder::BlockType::Empty)
        .return_()
        .end()
        .local_get(0)
        .i32_const(1)
        .i32_eq()
        .if_(wasm_encoder::BlockType::Empty)
        .i32_const(1)
        .call(proc_exit)
        .end();
    // Any other discriminant: wasmtime fails lifting the result, says so
    // and exits 1. The message goes through a page grown for it (the
    // guest's memory is the guest's until the end).
    i.i32_const(1)
        .memory_grow(0)
        .local_tee(0)
        .i32_const(-1)
        .i32_ne()
        .if_(wasm_encoder::BlockType::Empty)
        .local_get(0)
        .i32_const(16)
        .i32_shl()
        .local_set(0);
    let msg = INVALID_DISCRIMINANT.as_bytes();
    store_words(&mut i, 0, 16, msg);
    let store = |offset| mem_arg_at(0, offset, 2);
    i.local_get(0)
        .local_get(0)
        .i32_const(16)
        .i32_add()
        .i32_store(store(0))
        .local_get(0)
        .i32_const(msg.len() as i32)
        .i32_store(store(4))
        .i32_const(2)
        .local_get(0)
        .i32_const(1)
        .local_get(0)
        .i32_const(8)
        .i32_add()
        .call(fd_write)
        .drop()
        .end()
        .i32_const(1)
        .call(proc_exit)
        .unreachable()
        .end();
}

/// Stores `bytes` into memory 0 from local `base` + `offset`, in 8-byte
/// `i64.store`s: the last one writes zeroes past the end, up to the next
/// multiple of 8.
pub(crate) fn store_words(i: &mut InstructionSink<'_>, base: u32, offset: u32, bytes: &[u8]) {
    for (k, chunk) in bytes.chunks(8).enumerate() {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        i.local_get(base)
            .i64_const(i64::from_le_bytes(word))
            .i64_store(mem_arg_at(0, offset + 8 * k as u32, 0));
    }
}

/// Calls `func` with locals `args` while `may_leave` is false (the
/// library's phase kept in local `saved`): a post-return the host's call
/// runs, which may not call imports.
pub(crate) fn call_without_leaving(
    f: &mut Function,
    hooks: &Hooks<u32>,
    saved: u32,
    args: impl IntoIterator<Item = u32>,
    func: u32,
) {
    let (forbid, restore) = hooks.forbid_leave(saved);
    for i in &forbid {
        f.instruction(i);
    }
    for a in args {
        f.instructions().local_get(a);
    }
    f.instructions().call(func);
    for i in &restore {
        f.instruction(i);
    }
}

/// What `_start` prints when `run` returns an invalid `result`.
const INVALID_DISCRIMINANT: &str = "Error: failed to run main module: failed to invoke `run` function: invalid expected discriminant\n";
