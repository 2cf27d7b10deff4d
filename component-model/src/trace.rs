//! Watching the host calls of a component (`--trace=wasi` in the CLI): a
//! [`HostCallObserver`] set on the [`crate::Linker`] sees every call of a
//! flat host function (the WASI shims') with its arguments lifted before
//! the call and its results lifted after it, as [`Val`]s.
//!
//! Invariants:
//! * Watching changes nothing the guest can see: values are lifted by a
//!   *peek* that reads memory but takes no handle out of a table and lends
//!   none (an `own` or `borrow` shows as [`Val::Resource`] holding the
//!   guest's handle index), and calls no `realloc`.
//! * Without an observer the call path costs one `Option` test.
//! * `enter` and `exit` pair up, except for a call that never returns
//!   (`wasi:cli/exit` ends the process inside it); host calls do not nest
//!   (the host reaches no guest code but `realloc`, which cannot call out).
//! * A value that cannot be lifted (the guest passed a bad string or
//!   pointer; the call itself then traps) is reported as the error text.

use crate::linker::StoreMemory;
use canonical_abi::{
    lift_values, AbiError, CanonicalOptions, CoreValueIter, FlatVal, FuncType, LiftLowerContext,
    ResourceTables, ResourceTypeId, Val, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS,
};
use core_vm::{Memory, Store};

/// Sees each host call of a component.
pub trait HostCallObserver {
    /// Before the call: `func` is `interface#function`, `args` its
    /// arguments (or why they could not be read).
    fn enter(&self, func: &str, args: Result<&[Val], String>);
    /// After it: its results, or the trap's message.
    fn exit(&self, func: &str, results: Result<&[Val], String>);
}

/// Handle operations that only look: a handle lifts as its own index.
struct Peek;

impl ResourceTables for Peek {
    fn lift_own(&mut self, _: ResourceTypeId, handle: u32) -> Result<u32, AbiError> {
        Ok(handle)
    }
    fn lift_borrow(&mut self, _: ResourceTypeId, handle: u32) -> Result<u32, AbiError> {
        Ok(handle)
    }
    fn lower_own(&mut self, _: ResourceTypeId, _: u32) -> Result<u32, AbiError> {
        Err(AbiError::MissingResourceTables)
    }
    fn lower_borrow(&mut self, _: ResourceTypeId, _: u32) -> Result<u32, AbiError> {
        Err(AbiError::MissingResourceTables)
    }
}

/// Lifts `ts` from `flat` (at most `max_flat` flat values, else through the
/// pointer `flat` holds) by a peek.
fn peek<T>(
    store: &mut Store<T>,
    canon: CanonicalOptions,
    memory: Option<Memory>,
    flat: &[FlatVal],
    max_flat: usize,
    ts: &[&canonical_abi::ValueType],
) -> Result<Vec<Val>, String> {
    let mut vi = CoreValueIter::new(flat);
    let mut tables = Peek;
    let r = match memory {
        Some(memory) => {
            let mut mem = StoreMemory {
                store,
                memory,
                realloc: None,
                trapped: None,
            };
            let mut cx = LiftLowerContext::new(canon, &mut mem, &mut tables);
            lift_values(&mut cx, max_flat, &mut vi, ts)
        }
        None => {
            let mut mem = canonical_abi::NoMemory;
            let mut cx = LiftLowerContext::new(canon, &mut mem, &mut tables);
            lift_values(&mut cx, max_flat, &mut vi, ts)
        }
    };
    r.map_err(|e| e.to_string())
}

/// The arguments of a `canon lower`ed call of type `ty` from its flat
/// arguments.
pub(crate) fn peek_args<T>(
    store: &mut Store<T>,
    canon: CanonicalOptions,
    memory: Option<Memory>,
    ty: &FuncType,
    flat_args: &[FlatVal],
) -> Result<Vec<Val>, String> {
    peek(
        store,
        canon,
        memory,
        flat_args,
        MAX_FLAT_PARAMS,
        &ty.param_types(),
    )
}

/// The results of a finished `canon lower`ed call of type `ty`: from its
/// flat result, or from the `retptr` (its last flat argument).
pub(crate) fn peek_results<T>(
    store: &mut Store<T>,
    canon: CanonicalOptions,
    memory: Option<Memory>,
    ty: &FuncType,
    flat_args: &[FlatVal],
    flat_results: &[FlatVal],
) -> Result<Vec<Val>, String> {
    let ts = ty.result_types();
    let flat = canonical_abi::flatten_types(&ts);
    let from = if flat.len() > MAX_FLAT_RESULTS {
        flat_args.last().map(std::slice::from_ref).unwrap_or(&[])
    } else {
        flat_results
    };
    peek(store, canon, memory, from, MAX_FLAT_RESULTS, &ts)
}
