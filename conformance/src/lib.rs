//! conformance runners.
//!
//! The test runners live in `tests/` (the core spec suite is `tests/spec.rs`);
//! this library holds what they and the binaries in `src/bin/` share.

pub mod component_fuzz;
pub mod fuzz_harness;
pub mod wast_runner;
