//! component-model: parsing WebAssembly components, instantiating them on
//! `core-vm`, and the Canonical ABI that moves values between components,
//! their core modules and the host.
//!
//! Status: the Canonical ABI ([`abi`]) is implemented for the synchronous
//! subset (no async, futures, streams or `error-context`); parsing and
//! instantiation are in progress.

pub mod abi;
