//! The engine: configuration shared by modules and stores.
//!
//! Invariants: a module is only ever instantiated in a store of the engine it
//! was validated and translated with, so translation choices (fuel metering)
//! and limits agree between them.

use std::sync::Arc;
use wasmparser::WasmFeatures;

/// Limits and options of the interpreter.
#[derive(Debug, Clone)]
pub struct Config {
    /// Most nested Wasm calls before "call stack exhausted".
    pub max_call_depth: u32,
    /// Most 64-bit value slots of the value stack (registers of all frames).
    pub max_stack_slots: usize,
    /// A cap on every memory, in 64 KiB pages, below the spec's 65536.
    pub max_memory_pages: u64,
    /// Most elements a table may grow to.
    pub max_table_elements: u64,
    /// Most core instances a store may create (wasmtime's `max-instances`).
    pub max_instances: usize,
    /// Most tables a store may create, imported ones counted where they
    /// were made (wasmtime's `max-tables`).
    pub max_tables: usize,
    /// Most linear memories a store may create (wasmtime's `max-memories`).
    pub max_memories: usize,
    /// Count a step for every call and loop iteration, and trap when a
    /// store's fuel runs out (see `Store::set_fuel`).
    pub fuel_metering: bool,
    /// Validate function bodies on their first call instead of up front.
    pub lazy_validation: bool,
    /// Accept the tail-call proposal (`return_call*`).
    pub tail_call: bool,
    /// Accept the multi-memory proposal.
    pub multi_memory: bool,
    /// Accept the extended-const proposal.
    pub extended_const: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_call_depth: 60_000,
            max_stack_slots: 4 << 20,
            max_memory_pages: 65536,
            max_table_elements: 10_000_000,
            // wasmtime's defaults (`DEFAULT_INSTANCE_LIMIT` and friends).
            max_instances: 10_000,
            max_tables: 10_000,
            max_memories: 10_000,
            fuel_metering: false,
            lazy_validation: false,
            tail_call: true,
            multi_memory: true,
            extended_const: true,
        }
    }
}

/// Shared configuration; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    config: Arc<Config>,
}

impl Engine {
    pub fn new(config: Config) -> Self {
        Engine {
            config: Arc::new(config),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The WebAssembly features core-vm accepts: Wasm 2.0 without SIMD, plus
    /// tail calls, multi-memory and extended constant expressions as
    /// configured.
    pub fn features(&self) -> WasmFeatures {
        let c = &self.config;
        let mut f = WasmFeatures::WASM2 - WasmFeatures::SIMD;
        f.set(WasmFeatures::TAIL_CALL, c.tail_call);
        f.set(WasmFeatures::MULTI_MEMORY, c.multi_memory);
        f.set(WasmFeatures::EXTENDED_CONST, c.extended_const);
        f
    }

    pub(crate) fn lazy_validation(&self) -> bool {
        self.config.lazy_validation
    }

    pub(crate) fn same(&self, other: &Engine) -> bool {
        Arc::ptr_eq(&self.config, &other.config)
    }
}
