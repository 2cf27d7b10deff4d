//! Fuzz target `core_vm_parse`: raw bytes through `Module::new` (parser and
//! validator robustness); whatever is accepted is also instantiated with
//! dummy imports and run under fuel. Must never panic.
#![no_main]

#[allow(dead_code)]
#[path = "../../conformance/src/fuzz_harness.rs"]
mod fuzz_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let stats = fuzz_harness::parse_raw(data);
    assert!(
        stats.findings.is_empty(),
        "core-vm findings: {:#?}",
        stats.findings
    );
});
