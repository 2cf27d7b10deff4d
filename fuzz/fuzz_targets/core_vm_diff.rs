//! Fuzz target `core_vm_diff`: the input drives wasm-smith (its first byte
//! picks whether NaNs are canonicalised); the module runs on core-vm and on
//! wasmi 2.0 with the same imports and arguments, and every difference in
//! results, traps, host calls, globals, memories or tables aborts the run
//! (see `conformance/src/differential.rs`).
#![no_main]

#[path = "../../conformance/src/differential.rs"]
mod differential;
#[allow(dead_code)]
#[path = "../../conformance/src/fuzz_harness.rs"]
mod fuzz_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let stats = differential::diff_generated(data);
    assert!(
        stats.findings.is_empty(),
        "core-vm and wasmi differ: {:#?}",
        stats.findings
    );
});
