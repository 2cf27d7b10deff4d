//! The shared fuzz harness for core-vm: used by the `fuzz/` cargo-fuzz
//! targets (which compile this very file with `#[path]`, so they need not
//! build the rest of this crate) and by the bounded `fuzz-smoke` binary.
//!
//! What it does: generate a module with wasm-smith in exactly core-vm's
//! feature set (no SIMD, threads, exceptions, GC, memory64; with reference
//! types, bulk memory, multi-value, tail calls, multi-memory, extended
//! const), validate it with [`Module::new`], instantiate it with dummy
//! imports (host functions returning default values; fresh memories, tables
//! and globals of the imported types), and call every exported function with
//! default arguments under fuel metering (`set_fuel(FUEL)` before the
//! instantiation and before each call). It also feeds raw and mutated bytes
//! to [`Module::new`] (parser robustness).
//!
//! Invariants:
//! * This file depends only on `core-vm`, `wasm-smith` and `arbitrary`.
//! * Traps and errors of the guest are fine. A *finding* is anything that
//!   says core-vm is wrong: a panic (the caller catches or lets it crash),
//!   rejection of a wasm-smith module generated within core-vm's features,
//!   a link error for imports built to the exact import types, or a type
//!   error for arguments built from the function's own type.
//! * Memories and tables stay small: wasm-smith caps declared sizes and the
//!   engine caps growth (`max_memory_pages`, `max_table_elements`).

use arbitrary::Unstructured;
use core_vm::{
    Config, Engine, Error, Extern, ExternType, Func, Global, Instance, Memory, Module, Store,
    Table, Val,
};

/// Fuel given to the instantiation and to every exported call.
pub const FUEL: u64 = 100_000;
/// Cap on every memory, in pages, for the fuzzing engine.
pub const MAX_MEMORY_PAGES: u64 = 16;
/// Cap on every table, in elements, for the fuzzing engine.
pub const MAX_TABLE_ELEMENTS: u64 = 10_000;

/// The engine fuzzing runs on: fuel metering and small resource caps.
pub fn engine() -> Engine {
    Engine::new(Config {
        fuel_metering: true,
        max_memory_pages: MAX_MEMORY_PAGES,
        max_table_elements: MAX_TABLE_ELEMENTS,
        ..Config::default()
    })
}

/// wasm-smith configured for exactly the features core-vm implements.
pub fn smith_config() -> wasm_smith::Config {
    wasm_smith::Config {
        // Off: everything core-vm does not implement.
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        exceptions_enabled: false,
        gc_enabled: false,
        memory64_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        compact_imports_enabled: false,
        custom_descriptors_enabled: false,
        // On: Wasm 2.0 without SIMD, plus tail calls, multi-memory, extended const.
        reference_types_enabled: true,
        bulk_memory_enabled: true,
        multi_value_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        tail_call_enabled: true,
        extended_const_enabled: true,
        max_memories: 3,
        max_tables: 3,
        // Small sizes: at most 4 pages declared, 100 table elements.
        max_memory32_bytes: 4 * 65536,
        max_table_elements: 100,
        min_types: 1,
        min_funcs: 2,
        max_funcs: 30,
        max_instructions: 200,
        // Every function, memory, table and global gets exported, so all run.
        export_everything: true,
        // Exercise the name-section reader too.
        generate_custom_sections: true,
        ..wasm_smith::Config::default()
    }
}

/// Counters of one run; only `findings` matter for pass/fail.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub generated: u64,
    pub rejected_generated: u64,
    pub raw_inputs: u64,
    pub raw_accepted: u64,
    pub instantiated: u64,
    pub instantiation_errors: u64,
    pub calls: u64,
    pub calls_ok: u64,
    pub traps: u64,
    pub call_errors: u64,
    /// Generated components lowered (`lower_gen`), and refused by lowering.
    pub lowered: u64,
    pub lower_refused: u64,
    /// Human-readable descriptions of everything that says core-vm is wrong.
    pub findings: Vec<String>,
}

impl Stats {
    pub fn merge(&mut self, o: &Stats) {
        self.generated += o.generated;
        self.rejected_generated += o.rejected_generated;
        self.raw_inputs += o.raw_inputs;
        self.raw_accepted += o.raw_accepted;
        self.instantiated += o.instantiated;
        self.instantiation_errors += o.instantiation_errors;
        self.calls += o.calls;
        self.calls_ok += o.calls_ok;
        self.traps += o.traps;
        self.call_errors += o.call_errors;
        self.lowered += o.lowered;
        self.lower_refused += o.lower_refused;
        self.findings.extend(o.findings.iter().cloned());
    }
}

/// Generates a wasm-smith module from `data`; `None` if the bytes do not
/// make one (wasm-smith gives up on too little data only rarely).
pub fn generate(data: &[u8]) -> Option<Vec<u8>> {
    let mut u = Unstructured::new(data);
    wasm_smith::Module::new(smith_config(), &mut u)
        .ok()
        .map(|m| m.to_bytes())
}

/// The fuzz target `core_vm_exec`: generate, validate, instantiate, call.
pub fn exec_generated(data: &[u8]) -> Stats {
    let mut stats = Stats::default();
    let Some(wasm) = generate(data) else {
        return stats;
    };
    stats.generated += 1;
    let engine = engine();
    match Module::new(&engine, &wasm) {
        Ok(module) => run_module(&engine, &module, &mut stats),
        Err(e) => {
            stats.rejected_generated += 1;
            stats.findings.push(format!(
                "wasm-smith module ({} bytes) rejected: {e}",
                wasm.len()
            ));
        }
    }
    stats
}

/// The fuzz target `core_vm_parse`: `Module::new` on raw bytes; whatever it
/// accepts is also run.
pub fn parse_raw(data: &[u8]) -> Stats {
    let mut stats = Stats {
        raw_inputs: 1,
        ..Stats::default()
    };
    let engine = engine();
    if let Ok(module) = Module::new(&engine, data) {
        stats.raw_accepted += 1;
        run_module(&engine, &module, &mut stats);
    }
    stats
}

/// Instantiates `module` with dummy imports and calls every exported function.
pub fn run_module(engine: &Engine, module: &Module, stats: &mut Stats) {
    let mut store = Store::new(engine, ());
    let imports = match dummy_imports(&mut store, module) {
        Ok(imports) => imports,
        Err(Error::Limit(_)) => return, // an import larger than the engine's caps
        Err(e) => {
            stats
                .findings
                .push(format!("creating dummy imports failed: {e}"));
            return;
        }
    };
    store.set_fuel(FUEL);
    let instance = match Instance::new(&mut store, module, &imports) {
        Ok(i) => i,
        Err(e) => {
            stats.instantiation_errors += 1;
            if matches!(e, Error::Link(_) | Error::Type(_)) {
                stats.findings.push(format!(
                    "instantiation with exact dummy imports failed: {e}"
                ));
            }
            return;
        }
    };
    stats.instantiated += 1;
    for (name, export) in instance.exports(&store) {
        match export {
            Extern::Func(f) => call_with_defaults(&mut store, &name, f, stats),
            Extern::Memory(m) => {
                let _ = (m.size(&store), m.data(&store).len());
            }
            Extern::Table(t) => {
                let _ = (t.size(&store), t.get(&store, 0));
            }
            Extern::Global(g) => {
                let _ = g.get(&store);
            }
        }
    }
}

fn call_with_defaults(store: &mut Store<()>, name: &str, f: Func, stats: &mut Stats) {
    let ty = f.ty(store);
    let params: Vec<Val> = ty.params().iter().map(|t| Val::default_for(*t)).collect();
    let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
    store.set_fuel(FUEL);
    stats.calls += 1;
    match f.call(store, &params, &mut results) {
        Ok(()) => {
            stats.calls_ok += 1;
            for (r, t) in results.iter().zip(ty.results()) {
                if r.ty() != *t {
                    stats.findings.push(format!(
                        "export `{name}` of type {ty} returned a {}",
                        r.ty()
                    ));
                }
            }
        }
        Err(Error::Trap(_)) => stats.traps += 1,
        Err(e @ Error::Type(_)) => stats.findings.push(format!(
            "export `{name}` of type {ty} rejected its own default arguments: {e}"
        )),
        Err(_) => stats.call_errors += 1,
    }
}

/// One entity per import, of exactly the imported type.
pub fn dummy_imports(store: &mut Store<()>, module: &Module) -> Result<Vec<Extern>, Error> {
    let mut out = Vec::new();
    for imp in module.imports() {
        out.push(match imp.ty {
            ExternType::Func(ty) => {
                let result_types: Vec<_> = ty.results().to_vec();
                Extern::Func(Func::new(store, ty, move |_caller, _params, results| {
                    for (r, t) in results.iter_mut().zip(&result_types) {
                        *r = Val::default_for(*t);
                    }
                    Ok(())
                }))
            }
            ExternType::Memory(ty) => Extern::Memory(Memory::new(store, ty)?),
            ExternType::Table(ty) => {
                Extern::Table(Table::new(store, ty, Val::default_for(ty.element))?)
            }
            ExternType::Global(ty) => {
                Extern::Global(Global::new(store, ty, Val::default_for(ty.content))?)
            }
        });
    }
    Ok(out)
}

/// A tiny deterministic PRNG (xorshift64*), so the smoke run needs no crate.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        // splitmix64 the seed so that nearby seeds give unrelated streams.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        XorShift((z ^ (z >> 31)) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform-ish in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// Mutates a module's bytes a little (flips, overwrites, inserts, removes,
/// truncates), to probe the parser near valid input.
pub fn mutate(rng: &mut XorShift, bytes: &mut Vec<u8>) {
    let edits = 1 + rng.below(4);
    for _ in 0..edits {
        if bytes.is_empty() {
            bytes.push(rng.next_u64() as u8);
            continue;
        }
        let at = rng.below(bytes.len() as u64) as usize;
        match rng.below(5) {
            0 => bytes[at] ^= 1 << rng.below(8),
            1 => bytes[at] = rng.next_u64() as u8,
            2 => bytes.insert(at, rng.next_u64() as u8),
            3 => {
                bytes.remove(at);
            }
            _ => bytes.truncate(at.max(8)),
        }
    }
}
