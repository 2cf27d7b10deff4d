//! component-model: parsing WebAssembly components, instantiating them on
//! `core-vm`, and the Canonical ABI that moves values between components,
//! their core modules and the host.
//!
//! The Canonical ABI itself (types, layout, lifting and lowering, with no
//! engine behind it) is the `canonical-abi` crate, shared with the WASI
//! shims' generated bindings; this crate runs it on core-vm. Users name its
//! types (`Val`, `ValueType`, ...) from `canonical-abi` and core-vm's
//! (`Store`, `Engine`, ...) from `core-vm`; only [`Trap`], which host
//! functions return, is re-exported.

// Parsing, flattening and instantiation of components (see each module's
// docs): translate -> inline -> instantiate, with the host-side linker.
pub mod checkpoint;
pub mod error;
pub mod host_flat;
pub mod inline;
pub mod instantiate;
pub mod linker;
pub mod trace;
mod translate;
mod typecheck;
mod types;

pub use core_vm::Trap;
pub use error::{AdapterTrap, CallError, Error};
pub use host_flat::{FlatCall, FlatHostFunc};
pub use instantiate::{Component, ComponentFunc, ComponentInstance};
pub use linker::{HostContext, HostFunc, Linker, ResourceDtor, StoreMemory};
