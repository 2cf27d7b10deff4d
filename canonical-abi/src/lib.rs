//! canonical-abi: the Canonical ABI, how component-level values are
//! *lifted* out of and *lowered* into a core module's representation (flat
//! core values and linear memory), for the synchronous subset of the
//! component model, with no engine behind it.
//!
//! It is the one copy of the ABI's rules in the workspace: component-model
//! runs it on core-vm (its `GuestMemory` over a core memory, its
//! `ResourceTables` over the instances' handle tables), the WASI shims'
//! build script computes each WASI function's layout and flat signature
//! with it, and the shims' generated glue (in the interpreter and in the
//! lowered library) makes its checks and its string and list lowering
//! through it.
//!
//! This is a faithful port of the spec's executable reference,
//! `design/mvp/canonical-abi/definitions.py` (WebAssembly/component-model),
//! for 32-bit memories and without async, futures, streams,
//! `error-context` or fixed-length lists. Function names follow the
//! reference (`despecialize`, `alignment`, `elem_size`, `flatten_functype`,
//! `load`, `store`, `lift_flat`, `lower_flat`, ...); `lift_flat_values` and
//! `lower_flat_values` are called [`lift_values`] and [`lower_values`].
//!
//! Layout of the module tree:
//! * [`types`] — [`ValueType`], [`FuncType`], [`CoreType`], layout
//!   (`alignment`, `elem_size`) and flattening (`flatten_type`,
//!   `flatten_functype`, [`MAX_FLAT_PARAMS`], [`MAX_FLAT_RESULTS`]).
//! * [`val`] — the dynamic value [`Val`] and [`Val::type_check`].
//! * [`flat`] — [`FlatVal`] (flat core values) and [`CoreValueIter`].
//! * [`memory`] — [`MemoryView`] (reads) and [`GuestMemory`] (writes and
//!   `realloc`), the memory interface shared with the WASI shims, and the
//!   test memory [`VecMemory`].
//! * [`options`] — [`CanonicalOptions`] and [`StringEncoding`].
//! * [`context`] — [`LiftLowerContext`] (`cx` in the spec).
//! * [`strings`] — string lifting/lowering and all transcoding paths.
//! * [`lift`] / [`lower`] — `load` / `lift_flat` / [`lift_values`] and
//!   `store` / `lower_flat` / [`lower_values`].
//! * [`resources`] — the [`ResourceTables`] hook for `own` / `borrow`.
//! * [`static_types`] — [`StaticType`] / [`StaticFuncType`], a host's
//!   declared signatures as `static` data, for import type-checking.
//! * [`error`] — [`AbiError`].
//! * `wave` (feature `wave`) — WAVE text for [`Val`] and [`ValueType`].
//! * [`invoke`] — what `--invoke` shares between the interpreter and
//!   lowered mode: export lookup, the export table a lowered module
//!   carries, and (feature `wave`) parsing and error reports.
//!
//! Invariants of the whole tree:
//! * Everything the spec marks `trap_if` is an `Err(AbiError)` with
//!   `is_trap() == true`; nothing panics on guest-controlled input.
//! * Lifting never writes guest memory; lowering writes memory only through
//!   `realloc`-returned (and checked) ranges or caller-provided pointers
//!   that were checked for alignment and bounds (`retptr`, `store`).
//! * Lowering a value and lifting it back with the same type yields an
//!   equal value (NaNs become the canonical NaN; strings compare by text).
//!
//! Typical use, `canon lift` (the host calls a guest export):
//! `lower_values(cx, MAX_FLAT_PARAMS, args, params, None)` → call the core
//! function → `lift_values(cx, MAX_FLAT_RESULTS, results, result_types)` →
//! call `post-return` (if any) with the same flat results. `canon lower`
//! (the guest calls a host import): `lift_values(cx, MAX_FLAT_PARAMS, args)`
//! → run the host function → `lower_values(cx, MAX_FLAT_RESULTS, results,
//! result_types, Some(args))`, where the remaining argument is the `retptr`.

pub mod context;
pub mod error;
pub mod flat;
pub mod invoke;
pub mod lift;
pub mod lower;
pub mod memory;
pub mod options;
pub mod resources;
pub mod static_types;
pub mod strings;
pub mod types;
pub mod val;
#[cfg(feature = "wave")]
pub mod wave;

pub use context::LiftLowerContext;
pub use error::{AbiError, CanonError};
pub use flat::{CoreValueIter, FlatSource, FlatVal};
pub use lift::{lift_flat, lift_values, load};
pub use lower::{lower_flat, lower_values, store};
pub use memory::{GuestMemory, MemoryView, NoMemory, VecMemory};
pub use options::{CanonicalOptions, StringEncoding};
pub use resources::{HandleTable, NoResources, ResourceHandle, ResourceTables};
pub use static_types::{HostResource, StaticFuncType, StaticType};
pub use strings::StringValue;
pub use types::{
    alignment, despecialize, elem_size, flatten_functype, flatten_type, flatten_types,
    CoreFuncType, CoreType, FlattenContext, FuncType, ResourceTypeId, ValueType, MAX_FLAT_PARAMS,
    MAX_FLAT_RESULTS,
};
pub use val::Val;

#[cfg(test)]
mod tests;
