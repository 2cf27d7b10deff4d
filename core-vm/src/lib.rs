//! core-vm: the WebAssembly interpreter of p2shim.
//!
//! It runs Wasm 2.0 modules without SIMD (MVP, mutable globals, sign
//! extension, non-trapping float-to-int, multi-value, bulk memory, reference
//! types) plus tail calls, multi-memory and extended constant expressions. It
//! knows nothing of components or WASI.
//!
//! # Design
//!
//! * **Validation.** [`Module::new`] validates the whole module with
//!   wasmparser before anything runs; malformed and invalid input is an
//!   [`Error::Validation`] with the parser's message and offset. With
//!   [`Config::lazy_validation`] the sections are validated up front and
//!   each function body just before its first translation, so loading a
//!   large module costs what its non-code sections cost; a called invalid
//!   body is the same [`Error::Validation`], at its first call.
//! * **Shared bytes.** A module keeps its bytes as a range of a shared
//!   buffer ([`Module::from_shared`]: the file as read, or the component
//!   holding it); function bodies and data segments are ranges into it,
//!   never copied at load.
//! * **Lazy translation.** Each function body is translated on its first
//!   call into register bytecode ([`instr`]), once per module. Every Wasm
//!   operand-stack slot and every local is a *register*: a 64-bit slot of the
//!   frame, addressed by a [`instr::Reg`] index relative to the frame base.
//!   Locals are the first registers (parameters first), the operand stack
//!   maps onto the registers after them by stack height. The translator keeps
//!   a compile-time operand stack of *providers* (a local, a constant, or a
//!   temporary at its stack slot), so `local.get` and `*.const` emit nothing:
//!   they become operands of the instruction that consumes them. Immediates
//!   of i32/i64 binary operators and comparisons are fused into `*Imm`
//!   instructions; `local.set`/`local.tee` rewrite the result register of the
//!   instruction that produced the value; an integer comparison feeding
//!   `br_if` or `if` becomes one compare-and-branch instruction; all branch
//!   targets are resolved to relative offsets at translation time. Constant
//!   float operands become 64-bit immediates. Two adjacent instructions
//!   where the second is the only reader of the first one's temporary are
//!   replaced by one superinstruction when the table has one for the pair
//!   (an `i32.add` feeding a load's address, multiply-add, xor-rotate,
//!   shift-mask and other pairs chosen from instruction profiles of the
//!   benchmarks: `vm-run --profile` in `conformance/`).
//! * **One instruction table.** The instruction set is declared once in
//!   [`instr`] (`for_each_instr!`); the `Instr` enum, the translator's mapping
//!   from Wasm operators and the executor's handlers for the regular families
//!   (unary, binary, compare-and-branch, load, store) are all generated from
//!   it. Operator semantics are small pure functions in `ops` that return
//!   `Result<_, TrapCode>`.
//! * **Calls without recursion.** Frames live on a VM-owned stack
//!   ([`exec`]); a Wasm call pushes a frame and jumps, it never recurses in
//!   Rust. A call's arguments are materialised in consecutive registers at
//!   the top of the caller's frame, and the callee's frame starts there, so
//!   arguments and results are passed in place. Unbounded guest recursion
//!   traps with "call stack exhausted" ([`TrapCode::StackOverflow`]). Host
//!   functions may call back into Wasm; each entry takes its own value stack.
//! * **Memory safety.** Every linear-memory access is bounds-checked against
//!   the memory's current length; guests cannot reach the interpreter's own
//!   memory. `memory.grow` honours declared maximums and
//!   [`Config::max_memory_pages`].
//! * **Room to grow.** Registers are untyped 64-bit slots; a future `v128`
//!   takes two consecutive registers, and frames are explicit data, so
//!   exceptions, checkpoints and stack switching can capture and restore
//!   them without a redesign.

mod engine;
mod exec;
mod instantiate;
pub mod instr;
mod linear;
mod module;
mod observe;
mod ops;
mod snapshot;
mod store;
mod translate;
mod trap;
mod values;

pub use engine::{Config, Engine};
pub use module::{ExportType, ImportType, Module, TypeIdx};
pub use observe::{Context, Observer, Wants};
pub use snapshot::{ExecState, FrameState, InstanceState, MemoryState, Position, Shape};
pub use store::{
    Caller, Extern, Func, Global, HostFn, Instance, Linker, Memory, Store, Table, PAGE_SIZE,
};
pub use trap::{Error, FrameInfo, Trap, TrapCode};
pub use values::{
    ExternRef, ExternType, FuncType, GlobalType, MemoryType, TableType, Val, ValType,
};

/// Returns whether `bytes` start like a component rather than a core module.
pub fn is_component(bytes: &[u8]) -> bool {
    wasmparser::Parser::is_component(bytes)
}
