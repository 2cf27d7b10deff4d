//! component-model: parsing WebAssembly components, instantiating them on
//! `core-vm`, and the Canonical ABI that moves values between components,
//! their core modules and the host.
//!
//! Status: the Canonical ABI ([`abi`]) is implemented for the synchronous
//! subset (no async, futures, streams or `error-context`); parsing and
//! instantiation are in progress.

pub mod abi;

// Parsing, flattening and instantiation of components (see each module's
// docs): translate -> inline -> instantiate, with the host-side linker.
pub mod error;
pub mod host_flat;
pub mod inline;
pub mod instantiate;
pub mod linker;
mod translate;
mod types;

pub use core_vm;
pub use error::{CallError, Error};
pub use host_flat::{FlatCall, FlatHostFunc};
pub use instantiate::{Component, ComponentFunc, ComponentInstance};
pub use linker::{HostContext, HostFunc, Linker, ResourceDtor, StoreMemory};
#[cfg(feature = "wave")]
pub mod wave;
