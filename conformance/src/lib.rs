//! conformance runners.
//!
//! The test runners live in `tests/` (the core spec suite is `tests/spec.rs`);
//! this library holds what they and the binaries in `src/bin/` share.

#[cfg(feature = "component-diff")]
pub mod component_diff;
pub mod component_fuzz;
#[cfg(feature = "component-gen")]
pub mod component_gen;
#[cfg(feature = "differential")]
pub mod differential;
pub mod fuzz_harness;
#[cfg(feature = "component-gen")]
pub mod lower_diff;
#[cfg(feature = "component-gen")]
pub mod lower_gen;
pub mod wast_runner;
