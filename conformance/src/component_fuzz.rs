//! Fuzz harness for component parsing and instantiation: bytes (mutated
//! valid components, or raw) through `Component::new`, and whatever is
//! accepted instantiated with a linker that stubs every missing import
//! (`--stub-missing`), on the fuzzing engine (fuel, small memories).
//!
//! Invariants: rejecting an input or failing to instantiate it is fine; a
//! panic is a finding (the caller catches it). No export is called yet: the
//! harness does not make arguments of arbitrary component types.

use crate::fuzz_harness::{engine, Stats};
use component_model::{Component, Linker};
use core_vm::Store;

/// Valid components to mutate: the WAT components of `conformance/invoke`.
pub fn seeds() -> Vec<Vec<u8>> {
    [
        include_str!("../invoke/compose.wat"),
        include_str!("../invoke/reactor.wat"),
        include_str!("../invoke/traps.wat"),
    ]
    .iter()
    .map(|w| wat::parse_str(w).expect("seed components are valid WAT"))
    .collect()
}

/// Parses `data` as a component and instantiates it if it is accepted.
pub fn parse_component(data: &[u8]) -> Stats {
    let mut stats = Stats {
        raw_inputs: 1,
        ..Stats::default()
    };
    let engine = engine();
    let Ok(component) = Component::new(&engine, data) else {
        return stats;
    };
    stats.raw_accepted += 1;
    let mut store = Store::new(&engine, ());
    store.set_fuel(100_000);
    let mut linker: Linker<()> = Linker::new();
    linker.stub_missing(true);
    match linker.instantiate(&mut store, &component) {
        Ok(_) => stats.instantiated += 1,
        Err(_) => stats.instantiation_errors += 1,
    }
    stats
}
