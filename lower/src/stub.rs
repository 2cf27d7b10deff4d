//! A stub library for a given component: a core module that follows the
//! library contract of the crate docs for exactly the functions and
//! resources the component imports, each function trapping when called.
//!
//! It lets the merger run on any component without the real WASI library:
//! the fuzz target lowers generated components (whose imports are random
//! interfaces) with it and validates every output, and tests use it to
//! check what the merger does with real components' structure.
//!
//! Invariants: the exports are named and typed as the contract says
//! (`I#F` with the `canon lower` core type of `F`, `I#[resource-drop]R`,
//! `p2lib_init`); the imports are one memory and `cabi_realloc`, as the
//! real library's.

use crate::error::LowerError;
use crate::link::{val_type, INIT};
use canonical_abi::{flatten_functype, FlattenContext};
use component_model::inline::{import_path_name, RuntimeResource};
use std::collections::BTreeMap;
use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, FuncType, Function, FunctionSection,
    ImportSection, MemoryType, Module, TypeSection, ValType,
};

/// The stub library for `component` (see module docs).
pub fn stub_library(component: &[u8]) -> Result<Vec<u8>, LowerError> {
    let flat = component_model::inline::flatten(component, crate::INPUT_FEATURES)?.flat;
    // Export name -> (type, traps): sorted, deduplicated.
    let mut exports: BTreeMap<String, (FuncType, bool)> = BTreeMap::new();
    exports.insert(INIT.to_string(), (FuncType::new([], []), false));
    for imp in &flat.imports {
        for (path, ty) in &imp.funcs {
            let mut full = vec![imp.name.clone()];
            full.extend(path.iter().cloned());
            if full.len() != 2 {
                continue;
            }
            let flat = flatten_functype(ty, FlattenContext::Lower);
            let ty = FuncType::new(
                flat.params.iter().map(|t| val_type(*t)),
                flat.results.iter().map(|t| val_type(*t)),
            );
            exports.insert(import_path_name(&full), (ty, true));
        }
    }
    for r in &flat.resources {
        if let RuntimeResource::Host { interface, name } = r {
            if !interface.is_empty() {
                exports.insert(
                    format!("{interface}#[resource-drop]{name}"),
                    (FuncType::new([ValType::I32], []), false),
                );
            }
        }
    }
    let mut types = TypeSection::new();
    let mut type_of: BTreeMap<(Vec<ValType>, Vec<ValType>), u32> = BTreeMap::new();
    let mut intern = |t: &FuncType| {
        let key = (t.params().to_vec(), t.results().to_vec());
        let n = type_of.len() as u32;
        *type_of.entry(key).or_insert_with(|| {
            types
                .ty()
                .function(t.params().iter().copied(), t.results().iter().copied());
            n
        })
    };
    let realloc_ty = intern(&FuncType::new([ValType::I32; 4], [ValType::I32]));
    let mut imports = ImportSection::new();
    imports.import(
        "env",
        "memory",
        EntityType::Memory(MemoryType {
            minimum: 0,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        }),
    );
    imports.import("env", "cabi_realloc", EntityType::Function(realloc_ty));
    let mut funcs = FunctionSection::new();
    let mut code = CodeSection::new();
    let mut export_section = ExportSection::new();
    for (n, (name, (ty, traps))) in exports.iter().enumerate() {
        funcs.function(intern(ty));
        let mut f = Function::new([]);
        if *traps {
            f.instructions().unreachable();
        }
        f.instructions().end();
        code.function(&f);
        export_section.export(name, ExportKind::Func, n as u32 + 1);
    }
    let mut module = Module::new();
    module
        .section(&types)
        .section(&imports)
        .section(&funcs)
        .section(&export_section)
        .section(&code);
    Ok(module.finish())
}
