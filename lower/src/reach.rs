//! Reachability of the WASI library's functions: which of them the lowered
//! output keeps. The library holds every WASI function of
//! `wasi:cli/command`; a component imports a few of them, so the merger
//! keeps only the functions reachable from what the component uses.
//!
//! The walk starts from the roots the linker gives (the library exports a
//! component's imports resolve to, `p2lib_init`), the module's start
//! function, and what a caller cannot be traced from code:
//! * the functions of passive and declared element segments, and of global
//!   initializers (`ref.func`);
//! * without relocation information ([`AddressTaken`] is `None`, a plain
//!   module such as a stand-in library): every function of every element
//!   segment, since any `call_indirect` may reach any slot;
//! * with it (p2-lib, linked with `--emit-relocs`): the functions whose
//!   table slot is taken in a data segment (vtables: the data segments stay
//!   whole, so these are always reachable).
//!
//! It follows, from each reached function: `call`, `return_call` and
//! `ref.func` of its body and, with relocation information, the functions
//! whose table slot its body takes (`R_WASM_TABLE_INDEX_*` relocations of
//! `reloc.CODE`: the only way compiled code makes a function pointer).
//!
//! Invariant: a function left out is never called, whatever the guest
//! does, given that the library makes its table indices only through
//! relocations (true of code compiled by LLVM). Its element segment slots
//! become `ref.null func` in the output ([`crate::merge`]).
//!
//! [`referenced_imports`] then says which of the library's imported (p1)
//! functions the kept code still names; the output imports only those.

use crate::error::LowerError;
use crate::merge::Kind;
use crate::module::ModuleInfo;
use wasmparser::{ElementItems, ElementKind, Operator};

/// Where the library takes the table slots of its functions, from its
/// table-index relocations (function indices in the library's own index
/// space, imports counted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressTaken {
    /// `(f, g)`: the body of function `f` takes the table slot of `g`.
    pub in_code: Vec<(u32, u32)>,
    /// Functions whose slot a data segment holds.
    pub in_data: Vec<u32>,
}

/// The defined functions of `info` reachable from `roots` (function
/// indices of its own index space, imports counted): one flag per defined
/// function. See the module docs for the rules.
pub fn reachable(
    info: &ModuleInfo<'_>,
    roots: impl IntoIterator<Item = u32>,
    taken: Option<&AddressTaken>,
) -> Result<Vec<bool>, LowerError> {
    let imported = info.imported_funcs;
    let defined = info.funcs.len();
    if info.bodies.len() != defined {
        return Err(LowerError::Malformed {
            what: info.label.clone(),
            message: format!("{} bodies for {defined} functions", info.bodies.len()),
            offset: 0,
        });
    }
    let mut slot_edges: Vec<Vec<u32>> = vec![Vec::new(); defined];
    let mut work: Vec<u32> = roots.into_iter().collect();
    work.extend(info.start);
    if let Some(t) = taken {
        for &(f, g) in &t.in_code {
            if let Some(e) = f
                .checked_sub(imported)
                .and_then(|i| slot_edges.get_mut(i as usize))
            {
                e.push(g);
            }
        }
        work.extend(&t.in_data);
    }
    for e in &info.elements {
        let all = taken.is_none() || !matches!(e.kind, ElementKind::Active { .. });
        if all {
            element_funcs(info, &e.items, &mut work)?;
        }
    }
    for g in &info.globals {
        const_funcs(info, &g.init_expr, &mut work)?;
    }
    let mut keep = vec![false; defined];
    while let Some(f) = work.pop() {
        let Some(i) = f.checked_sub(imported) else {
            continue;
        };
        let Some(k) = keep.get_mut(i as usize) else {
            continue;
        };
        if *k {
            continue;
        }
        *k = true;
        work.extend(&slot_edges[i as usize]);
        body_funcs(info, &info.bodies[i as usize], &mut work)?;
    }
    Ok(keep)
}

/// Appends the functions a body calls (`call`, `return_call`) or takes
/// (`ref.func`).
fn body_funcs(
    info: &ModuleInfo<'_>,
    body: &wasmparser::FunctionBody<'_>,
    out: &mut Vec<u32>,
) -> Result<(), LowerError> {
    let mut ops = body
        .get_operators_reader()
        .map_err(|e| malformed(info, e))?;
    while !ops.eof() {
        match ops.read().map_err(|e| malformed(info, e))? {
            Operator::Call { function_index }
            | Operator::ReturnCall { function_index }
            | Operator::RefFunc { function_index } => out.push(function_index),
            _ => {}
        }
    }
    Ok(())
}

/// Which imported functions of `info` the output still refers to once only
/// the defined functions flagged in `keep` stay (one flag per imported
/// function): those a kept body calls (`call`, `return_call`) or takes
/// (`ref.func`), and, conservatively, those an element segment, a global
/// initializer, an export or the start function names. The output imports
/// only these (see [`crate::merge`]): a host resolves, and V8 compiles a
/// wrapper for, every import a module declares.
pub fn referenced_imports(info: &ModuleInfo<'_>, keep: &[bool]) -> Result<Vec<bool>, LowerError> {
    let imported = info.imported_funcs;
    let mut named = Vec::new();
    for e in &info.elements {
        element_funcs(info, &e.items, &mut named)?;
    }
    for g in &info.globals {
        const_funcs(info, &g.init_expr, &mut named)?;
    }
    named.extend(
        info.exports
            .iter()
            .filter(|e| Kind::of_external(e.kind) == Some(Kind::Func))
            .map(|e| e.index),
    );
    named.extend(info.start);
    for (i, body) in info.bodies.iter().enumerate() {
        if keep.get(i).copied().unwrap_or(false) {
            body_funcs(info, body, &mut named)?;
        }
    }
    let mut used = vec![false; imported as usize];
    for f in named {
        if let Some(u) = used.get_mut(f as usize) {
            *u = true;
        }
    }
    Ok(used)
}

/// A malformed body or segment of `info`, as an error naming the module.
pub(crate) fn malformed(info: &ModuleInfo<'_>, e: wasmparser::BinaryReaderError) -> LowerError {
    LowerError::Malformed {
        what: info.label.clone(),
        message: e.message().to_string(),
        offset: e.offset() as usize,
    }
}

/// Appends the functions an element segment names.
fn element_funcs(
    info: &ModuleInfo<'_>,
    items: &ElementItems<'_>,
    out: &mut Vec<u32>,
) -> Result<(), LowerError> {
    match items {
        ElementItems::Functions(r) => {
            for f in r.clone() {
                out.push(f.map_err(|e| malformed(info, e))?);
            }
        }
        ElementItems::Expressions(_, r) => {
            for e in r.clone() {
                const_funcs(info, &e.map_err(|e| malformed(info, e))?, out)?;
            }
        }
    }
    Ok(())
}

/// Appends the functions a constant expression names (`ref.func`).
fn const_funcs(
    info: &ModuleInfo<'_>,
    e: &wasmparser::ConstExpr<'_>,
    out: &mut Vec<u32>,
) -> Result<(), LowerError> {
    let mut ops = e.get_operators_reader();
    while !ops.eof() {
        if let Operator::RefFunc { function_index } = ops.read().map_err(|e| malformed(info, e))? {
            out.push(function_index);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which of the defined functions (by their `$name`'s position) are kept.
    fn kept(wat: &str, roots: &[u32], taken: Option<&AddressTaken>) -> Vec<bool> {
        let bytes = wat::parse_str(wat).unwrap();
        let info = ModuleInfo::parse(&bytes, "test".into()).unwrap();
        reachable(&info, roots.iter().copied(), taken).unwrap()
    }

    const CALLS: &str = r#"(module
        (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))
        (func $f0 (export "a") call $f1)
        (func $f1 (i32.const 0) call 0)
        (func $f2 (export "b") return_call $f3)
        (func $f3)
        (func $f4 call $f0))"#;

    #[test]
    fn calls_from_an_export_root_are_followed() {
        // Function 1 is $f0 (one import before it).
        assert_eq!(kept(CALLS, &[1], None), [true, true, false, false, false]);
        assert_eq!(kept(CALLS, &[3], None), [false, false, true, true, false]);
        assert_eq!(kept(CALLS, &[5], None), [true, true, false, false, true]);
        // An import root keeps nothing defined.
        assert_eq!(kept(CALLS, &[0], None), [false; 5]);
    }

    #[test]
    fn only_imports_a_kept_body_calls_are_referenced() {
        let bytes = wat::parse_str(CALLS).unwrap();
        let info = ModuleInfo::parse(&bytes, "test".into()).unwrap();
        // $f1 calls the import: kept with it, dropped without it.
        let used = |keep: &[bool]| referenced_imports(&info, keep).unwrap();
        assert_eq!(used(&[true, true, false, false, false]), [true]);
        assert_eq!(used(&[false, false, true, true, false]), [false]);
        assert_eq!(used(&[false; 5]), [false]);
        // An export, a table slot or a start function names it whatever is kept.
        for named in [
            r#"(export "x" (func 0))"#,
            "(table 1 funcref) (elem (i32.const 0) func 0)",
            "(start 0)",
        ] {
            let wat = format!(r#"(module (import "m" "f" (func)) (func) {named})"#);
            let bytes = wat::parse_str(&wat).unwrap();
            let info = ModuleInfo::parse(&bytes, "test".into()).unwrap();
            assert_eq!(
                referenced_imports(&info, &[false]).unwrap(),
                [true],
                "{named}"
            );
        }
    }

    #[test]
    fn the_start_function_is_a_root() {
        let wat = r#"(module (func $a) (func $b call $c) (func $c) (start $b))"#;
        assert_eq!(kept(wat, &[], None), [false, true, true]);
    }

    #[test]
    fn a_ref_func_is_followed() {
        let wat = r#"(module
            (table 1 funcref)
            (func $a (drop (ref.func $b)))
            (func $b)
            (func $c)
            (global funcref (ref.func $c))
            (elem declare func $b))"#;
        // $b through $a's ref.func (and its declaration), $c through a global.
        assert_eq!(kept(wat, &[], None), [false, true, true]);
        assert_eq!(kept(wat, &[0], None), [true, true, true]);
    }

    const TABLE: &str = r#"(module
        (type $v (func))
        (table 4 funcref)
        (func $caller (call_indirect (type $v) (i32.const 1)))
        (func $in_table)
        (func $vtable_entry)
        (func $other)
        (func $dead_taker (drop (i32.const 3)))
        (elem (i32.const 1) func $in_table $vtable_entry $other))"#;

    #[test]
    fn without_relocations_every_table_entry_is_kept() {
        // Any call_indirect may reach any slot: the whole segment is a root.
        assert_eq!(kept(TABLE, &[0], None), [true, true, true, true, false]);
    }

    #[test]
    fn with_relocations_a_table_entry_is_kept_where_its_slot_is_taken() {
        let taken = AddressTaken {
            // $caller takes $in_table's slot; the dead $dead_taker, $other's.
            in_code: vec![(0, 1), (4, 3)],
            // A vtable in data holds $vtable_entry's slot.
            in_data: vec![2],
        };
        assert_eq!(
            kept(TABLE, &[0], Some(&taken)),
            [true, true, true, false, false]
        );
        // Reached only through the table from a root.
        assert_eq!(
            kept(TABLE, &[], Some(&taken)),
            [false, false, true, false, false]
        );
        // $dead_taker reached: $other's slot is taken too.
        assert_eq!(
            kept(TABLE, &[4], Some(&taken)),
            [false, false, true, true, true]
        );
    }

    #[test]
    fn passive_segments_stay_whole() {
        let wat = r#"(module (table 1 funcref) (func $a) (func $b) (elem func $b))"#;
        let taken = AddressTaken::default();
        assert_eq!(kept(wat, &[], Some(&taken)), [false, true]);
    }
}
