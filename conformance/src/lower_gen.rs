//! Lowering generated components (feature `component-gen`): each component
//! of `component_gen::generate` is lowered (crate `lower`) against the stub
//! library made for its imports (`lower::stub_library`: the library's
//! contract for exactly those functions, each trapping), and every output
//! is validated with wasmparser, with the features the lowering says the
//! output needs and no others.
//!
//! Invariants: a refusal naming a construct (`LowerError` other than
//! `InvalidOutput` and `Encode`) is fine, as the generator makes things
//! lowered mode does not support (resources the component defines, ...);
//! an output that does not validate, an internal error, or a panic (caught
//! by the caller) is a finding.

use crate::fuzz_harness::Stats;
use lower::LowerError;
use wasmparser::{Validator, WasmFeatures};

/// Lowers `bytes` and validates the output; findings go into the stats.
pub fn lower_component(bytes: &[u8], errors: &mut Vec<String>) -> Stats {
    let mut stats = Stats::default();
    let lowered = lower::stub_library(bytes).and_then(|lib| lower::lower(bytes, &lib));
    match lowered {
        Ok(l) => {
            stats.lowered += 1;
            let mut features = WasmFeatures::WASM2 - WasmFeatures::SIMD;
            for f in &l.extra_features {
                features |= match *f {
                    "simd" => WasmFeatures::SIMD,
                    "tail-call" => WasmFeatures::TAIL_CALL,
                    "multi-memory" => WasmFeatures::MULTI_MEMORY,
                    other => {
                        stats
                            .findings
                            .push(format!("lower: unknown extra feature {other}"));
                        WasmFeatures::empty()
                    }
                };
            }
            if let Err(e) = Validator::new_with_features(features).validate_all(&l.bytes) {
                stats
                    .findings
                    .push(format!("lower: the output does not validate: {e}"));
            }
        }
        Err(e @ (LowerError::InvalidOutput { .. } | LowerError::Encode { .. })) => {
            stats.findings.push(format!("lower: {e}"));
        }
        Err(e) => {
            stats.lower_refused += 1;
            errors.push(format!("lower refused: {e}"));
        }
    }
    stats
}
