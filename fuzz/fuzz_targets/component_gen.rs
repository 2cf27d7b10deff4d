//! Fuzz target `component_gen`: the input bytes drive wit-smith to make a
//! WIT package and wit-component to make a dummy component for one of its
//! worlds; it goes through `Component::new`, instantiation with every
//! import stubbed, and a call of each export with arguments built from its
//! type (see `conformance::component_gen`). Rejections, traps and typed
//! errors are fine; a panic or a harness finding aborts the run.
#![no_main]

#[path = "../../conformance/src/component_gen.rs"]
mod component_gen;
#[allow(dead_code)]
#[path = "../../conformance/src/fuzz_harness.rs"]
mod fuzz_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    let Some(bytes) = component_gen::generate(&mut u) else {
        return;
    };
    let mut errors = Vec::new();
    let stats = component_gen::exec_component(&bytes, &mut u, &mut errors);
    assert!(
        stats.findings.is_empty(),
        "component findings: {:#?}",
        stats.findings
    );
});
