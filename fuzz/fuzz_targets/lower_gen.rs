//! Fuzz target `lower_gen`: the input bytes make a component as in
//! `component_gen` (wit-smith + wit-component), which is lowered to one
//! core module against the stub library made for its imports
//! (`lower::stub_library`); every output must validate with the features it
//! claims (see `conformance::lower_gen`). A refusal naming a construct is
//! fine; an invalid output, an internal error or a panic aborts the run.
#![no_main]

#[path = "../../conformance/src/component_gen.rs"]
#[allow(dead_code)]
mod component_gen;
#[allow(dead_code)]
#[path = "../../conformance/src/fuzz_harness.rs"]
mod fuzz_harness;
#[path = "../../conformance/src/lower_gen.rs"]
mod lower_gen;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    let Some(bytes) = component_gen::generate(&mut u) else {
        return;
    };
    let stats = lower_gen::lower_component(&bytes, &mut Vec::new());
    assert!(
        stats.findings.is_empty(),
        "lowering findings: {:#?}",
        stats.findings
    );
});
