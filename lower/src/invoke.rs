//! `p2shim lower --invoke`: a reactor lowered into a p1 *command* whose
//! `_start` runs the WAVE call given as its first argument, as
//! `wasmtime run --invoke CALL app.wasm` runs it for the component
//! (`HOST app.p1.wasm 'f("x")'`).
//!
//! The call is made by the WASI library (p2-lib built with its `invoke`
//! feature, `p2_lib::invoke`): parsing, lookup, type checks, lowering and
//! lifting with canonical-abi, the interpreter's messages. This module
//! generates what the library cannot do itself:
//! * `_start`: the start-up ([`crate::glue`]'s), then the export table
//!   ([`canonical_abi::invoke::encode_funcs`] of every lifted function,
//!   known at lowering time) stored, 8 bytes per `i64.store`, into a
//!   buffer the library returns from `p2lib_invoke_table(size)` (the table's length
//!   rounded up to whole words), then
//!   `p2lib_invoke(buffer, len)`; returning from it exits 0 (the library
//!   exits 1 itself on an error);
//! * the four functions the library imports from module [`HOOKS`], each
//!   taking the function's position `k` in the table first (any other `k`
//!   traps): `call(k, slots)` loads the flat arguments of function `k`
//!   from 8-byte slots at `slots`, calls its lifted core function and
//!   stores its flat result (at most one: `MAX_FLAT_RESULTS`) into slot 0;
//!   `post-return(k, slots)` runs its post-return on slot 0 with
//!   `may_leave` false (as wasmtime runs the post-return of a host's
//!   call); `realloc(k, ...)` calls its `realloc` option;
//!   `memory(k, op, guest, lib, len)` is `memory.size` of its memory (op
//!   0) or a `memory.copy` from it into memory 0 (op 1) or back (op 2), so
//!   that functions lifted from another memory (a composed component) are
//!   reached like the others. The library checks every range before it
//!   asks for a copy; a copy touching the part of memory 0 that is not the
//!   guest's (above its initial size, up to the end of the library's
//!   region, [`Invoke::hole`]) is refused (the hook returns 1), so a guest
//!   pointer past its memory is an error as under wasmtime, not a read of
//!   the library. (A guest that grew its memory gets pages above the
//!   library: those are its own.)
//!
//! Invariants: the output exports `_start` and `memory` only (no lifted
//! function: a host calls the component through the call); a command
//! component is refused with `--invoke`. Without `--invoke`, the
//! library's imports of [`HOOKS`] (the invoke library has them; the
//! ordinary one, which `p2shim lower` links then, does not, so its outputs
//! gain nothing) resolve to generated functions that trap: the walk of
//! [`crate::reach`] keeps the library's trait objects in data, and with
//! them the functions that call the hooks, so they may stay reachable.

use crate::adapter::mem_arg_at;
use crate::error::LowerError;
use crate::glue::store_words;
use crate::link::Linked;
use crate::merge::{GlueFunc, Merger, Origin};
use crate::resources::Hooks;
use wasm_encoder::{BlockType, FuncType, Function, MemArg, ValType};

/// The module name of the library's imports the glue provides.
pub const HOOKS: &str = "p2lib-invoke";
/// The library's export that returns a buffer for the export table.
pub const TABLE: &str = "p2lib_invoke_table";
/// The library's export that runs the call.
pub const RUN: &str = "p2lib_invoke";

/// One function of the export table.
pub struct Target {
    pub func: canonical_abi::invoke::InvokeFunc,
    /// The lifted core function and its options.
    pub core: Origin,
    pub post_return: Option<Origin>,
    pub memory: Option<Origin>,
    pub realloc: Option<Origin>,
}

/// The functions of a reactor lowered with `--invoke`.
pub struct Invoke {
    pub funcs: Vec<Target>,
    /// The library's [`TABLE`] and [`RUN`].
    pub table: Origin,
    pub run: Origin,
    /// The part of memory 0 that is not the guest's (bytes, from its
    /// initial size to the end of the library's region): a copy touching
    /// it is refused, as an access outside the component's memory.
    pub hole: Option<(u64, u64)>,
}

/// The generated functions behind the library's hooks (with `--invoke`).
pub struct InvokeGlue {
    call: GlueFunc,
    post_return: GlueFunc,
    realloc: GlueFunc,
    memory: GlueFunc,
}

/// What [`declare`] generated: the hooks, or the functions that trap in
/// their place.
pub struct Declared {
    pub hooks: Option<InvokeGlue>,
    pub traps: Vec<GlueFunc>,
}

impl Declared {
    /// The bodies of the functions that trap.
    pub fn trap_bodies(&self) -> impl Iterator<Item = (GlueFunc, Function)> + '_ {
        self.traps.iter().map(|g| {
            let mut f = Function::new([]);
            f.instructions().unreachable().end();
            (*g, f)
        })
    }
}

fn hook_type(name: &str) -> Option<FuncType> {
    use ValType::I32;
    Some(match name {
        "call" | "post-return" => FuncType::new([I32; 2], []),
        "realloc" | "memory" => FuncType::new([I32; 5], [I32]),
        _ => return None,
    })
}

/// Resolves the library's imports of [`HOOKS`]: to the generated hooks
/// with `--invoke` (declared here), else (if the library has them) to a
/// generated function that traps.
pub fn declare(
    merger: &mut Merger<'_>,
    linked: &Linked,
    invoke: Option<&Invoke>,
) -> Result<Declared, LowerError> {
    let mut traps: Vec<(String, GlueFunc)> = Vec::new();
    let glue = invoke.map(|_| InvokeGlue {
        call: merger.declare_glue("invoke: call", hook_type("call").expect("known")),
        post_return: merger.declare_glue(
            "invoke: post-return",
            hook_type("post-return").expect("known"),
        ),
        realloc: merger.declare_glue("invoke: realloc", hook_type("realloc").expect("known")),
        memory: merger.declare_glue("invoke: memory", hook_type("memory").expect("known")),
    });
    for (i, name) in &linked.invoke_imports {
        let ty = hook_type(name)
            .ok_or_else(|| LowerError::Library(format!("unexpected import `{HOOKS}` `{name}`")))?;
        let origin = match &glue {
            Some(g) => Origin::Glue(match name.as_str() {
                "call" => g.call,
                "post-return" => g.post_return,
                "realloc" => g.realloc,
                _ => g.memory,
            }),
            None => Origin::Glue(match traps.iter().find(|(n, _)| n == name) {
                Some((_, g)) => *g,
                None => {
                    let g =
                        merger.declare_glue(&format!("invoke: {name} (no --invoke)"), ty.clone());
                    traps.push((name.clone(), g));
                    g
                }
            }),
        };
        let library_ty = merger
            .info(linked.library)
            .imports
            .get(*i)
            .and_then(|imp| match imp.ty {
                wasmparser::TypeRef::Func(t) => merger
                    .info(linked.library)
                    .types
                    .get(t as usize)
                    .map(crate::merge::encoder_func_type),
                _ => None,
            });
        if library_ty.as_ref() != Some(&ty) {
            return Err(LowerError::Library(format!(
                "the library's import `{HOOKS}` `{name}` does not have the expected type"
            )));
        }
        merger.resolve(linked.library, *i, origin);
    }
    if let (Some(inv), Some(_)) = (invoke, &glue) {
        for t in &inv.funcs {
            let results = merger.func_type(t.core).map_or(0, |ty| ty.results().len());
            if results > 1 {
                return Err(LowerError::Unsupported(format!(
                    "export `{}` returns {results} core values",
                    t.func.name
                )));
            }
        }
    }
    Ok(Declared {
        hooks: glue,
        traps: traps.into_iter().map(|(_, g)| g).collect(),
    })
}

/// The end of `_start` (after the start-up): the table stored into the
/// library's buffer (local `ptr`), then the call.
pub fn start_body(f: &mut Function, merger: &Merger<'_>, invoke: &Invoke, ptr: u32) {
    let funcs: Vec<_> = invoke.funcs.iter().map(|t| t.func.clone()).collect();
    let table = canonical_abi::invoke::encode_funcs(&funcs);
    // Whole words: the last store writes past the table's end.
    let padded = table.len().div_ceil(8) * 8;
    let mut i = f.instructions();
    i.i32_const(padded as i32)
        .call(merger.index(invoke.table))
        .local_set(ptr);
    store_words(&mut i, ptr, 0, &table);
    i.local_get(ptr)
        .i32_const(table.len() as i32)
        .call(merger.index(invoke.run))
        .end();
}

/// Memory 0 at `offset`, unaligned.
fn mem_arg(offset: u32) -> MemArg {
    mem_arg_at(0, offset, 0)
}

fn load(i: &mut wasm_encoder::InstructionSink<'_>, t: ValType, offset: u32) {
    match t {
        ValType::I32 => i.i32_load(mem_arg(offset)),
        ValType::I64 => i.i64_load(mem_arg(offset)),
        ValType::F32 => i.f32_load(mem_arg(offset)),
        _ => i.f64_load(mem_arg(offset)),
    };
}

fn store(i: &mut wasm_encoder::InstructionSink<'_>, t: ValType, offset: u32) {
    match t {
        ValType::I32 => i.i32_store(mem_arg(offset)),
        ValType::I64 => i.i64_store(mem_arg(offset)),
        ValType::F32 => i.f32_store(mem_arg(offset)),
        _ => i.f64_store(mem_arg(offset)),
    };
}

/// A local of each core type, from `first`: i32, i64, f32, f64.
fn temp(first: u32, t: ValType) -> u32 {
    first
        + match t {
            ValType::I32 => 0,
            ValType::I64 => 1,
            ValType::F32 => 2,
            _ => 3,
        }
}

const TEMPS: [(u32, ValType); 4] = [
    (1, ValType::I32),
    (1, ValType::I64),
    (1, ValType::F32),
    (1, ValType::F64),
];

/// `if local 0 == k { ... }` around `body`, which returns.
fn when_func(f: &mut Function, k: usize, body: impl FnOnce(&mut Function)) {
    f.instructions()
        .local_get(0)
        .i32_const(k as i32)
        .i32_eq()
        .if_(BlockType::Empty);
    body(f);
    f.instructions().end();
}

/// The bodies of the hooks.
pub fn bodies(
    merger: &Merger<'_>,
    linked: &Linked,
    invoke: &Invoke,
    glue: &InvokeGlue,
    hooks: &Hooks<u32>,
) -> Vec<(GlueFunc, Function)> {
    let mut out = Vec::new();
    // call(k, slots); locals 2..6: a temporary of each core type.
    let mut f = Function::new(TEMPS);
    for (k, t) in invoke.funcs.iter().enumerate() {
        let Some(ty) = merger.func_type(t.core) else {
            continue;
        };
        when_func(&mut f, k, |f| {
            let mut i = f.instructions();
            for (p, pt) in ty.params().iter().enumerate() {
                i.local_get(1);
                load(&mut i, *pt, 8 * p as u32);
            }
            i.call(merger.index(t.core));
            if let Some(rt) = ty.results().first() {
                i.local_set(temp(2, *rt))
                    .local_get(1)
                    .local_get(temp(2, *rt));
                store(&mut i, *rt, 0);
            }
            i.return_();
        });
    }
    f.instructions().unreachable().end();
    out.push((glue.call, f));
    // post-return(k, slots); local 2 keeps the phase, 3..7 temporaries.
    let mut locals = vec![(1, ValType::I32)];
    locals.extend(TEMPS);
    let mut f = Function::new(locals);
    for (k, t) in invoke.funcs.iter().enumerate() {
        let (Some(p), Some(ty)) = (t.post_return, merger.func_type(t.core)) else {
            continue;
        };
        when_func(&mut f, k, |f| {
            let mut args = Vec::new();
            let mut i = f.instructions();
            if let Some(rt) = ty.results().first() {
                i.local_get(1);
                load(&mut i, *rt, 0);
                i.local_set(temp(3, *rt));
                args.push(temp(3, *rt));
            }
            crate::glue::call_without_leaving(f, hooks, 2, args, merger.index(p));
            f.instructions().return_();
        });
    }
    f.instructions().end();
    out.push((glue.post_return, f));
    // realloc(k, old, old_size, align, new_size)
    let mut f = Function::new([]);
    for (k, t) in invoke.funcs.iter().enumerate() {
        let Some(r) = t.realloc else { continue };
        when_func(&mut f, k, |f| {
            let mut i = f.instructions();
            for p in 1..5 {
                i.local_get(p);
            }
            i.call(merger.index(r)).return_();
        });
    }
    f.instructions().unreachable().end();
    out.push((glue.realloc, f));
    // memory(k, op, guest, lib, len)
    let mut f = Function::new([]);
    for (k, t) in invoke.funcs.iter().enumerate() {
        let memory = t.memory.unwrap_or(linked.primary);
        let m = merger.index(memory);
        let hole = invoke.hole.filter(|_| memory == linked.primary);
        when_func(&mut f, k, |f| {
            let mut i = f.instructions();
            i.local_get(1)
                .i32_eqz()
                .if_(BlockType::Empty)
                .memory_size(m)
                .return_()
                .end();
            if let Some((start, end)) = hole {
                // guest < end && guest + len > start: refused (1).
                i.local_get(2)
                    .i64_extend_i32_u()
                    .i64_const(end as i64)
                    .i64_lt_u()
                    .local_get(2)
                    .i64_extend_i32_u()
                    .local_get(4)
                    .i64_extend_i32_u()
                    .i64_add()
                    .i64_const(start as i64)
                    .i64_gt_u()
                    .i32_and()
                    .if_(BlockType::Empty)
                    .i32_const(1)
                    .return_()
                    .end();
            }
            i.local_get(1)
                .i32_const(1)
                .i32_eq()
                .if_(BlockType::Empty)
                .local_get(3)
                .local_get(2)
                .local_get(4)
                .memory_copy(0, m)
                .i32_const(0)
                .return_()
                .end()
                .local_get(2)
                .local_get(3)
                .local_get(4)
                .memory_copy(m, 0)
                .i32_const(0)
                .return_();
        });
    }
    f.instructions().unreachable().end();
    out.push((glue.memory, f));
    out
}
