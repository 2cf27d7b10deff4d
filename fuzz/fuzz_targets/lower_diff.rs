//! Fuzz target `lower_diff`: the input bytes make a wasm-smith module, which
//! is wrapped into a component (its numeric function exports lifted),
//! lowered against its stub library, and run on core-vm beside the module
//! itself; every outcome must be equal (see `conformance::lower_diff`).
#![no_main]

#[allow(dead_code)]
#[path = "../../conformance/src/fuzz_harness.rs"]
mod fuzz_harness;
#[path = "../../conformance/src/lower_diff.rs"]
mod lower_diff;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let stats = lower_diff::diff_lowered(data, &mut Vec::new());
    assert!(
        stats.findings.is_empty(),
        "lowered differently: {:#?}",
        stats.findings
    );
});
