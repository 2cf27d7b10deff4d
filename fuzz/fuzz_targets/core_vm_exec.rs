//! Fuzz target `core_vm_exec`: the input bytes drive wasm-smith to make a
//! module within core-vm's features; it must validate, instantiate with dummy
//! imports, and every export must run under fuel without a panic. Traps and
//! errors are fine; harness findings (see `fuzz_harness`) abort the run.
#![no_main]

#[allow(dead_code)]
#[path = "../../conformance/src/fuzz_harness.rs"]
mod fuzz_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let stats = fuzz_harness::exec_generated(data);
    assert!(
        stats.findings.is_empty(),
        "core-vm findings: {:#?}",
        stats.findings
    );
});
