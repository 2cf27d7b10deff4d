//! Fuzz target `component_diff`: the input bytes make a component as in
//! `component_gen`, but with real export bodies (results from flat values
//! and from memory, a bump allocator as `cabi_realloc`), and it runs on
//! component-model and on wasmtime's component API; every call's outcome is
//! compared (see `conformance::component_diff`). A mismatch or a panic
//! aborts the run.
#![no_main]

#[path = "../../conformance/src/component_diff.rs"]
mod component_diff;
#[allow(dead_code)]
#[path = "../../conformance/src/component_gen.rs"]
mod component_gen;
#[allow(dead_code)]
#[path = "../../conformance/src/fuzz_harness.rs"]
mod fuzz_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let stats = component_diff::diff_generated(data);
    assert!(
        stats.findings.is_empty(),
        "component-model and wasmtime differ: {:#?}",
        stats.findings
    );
});
