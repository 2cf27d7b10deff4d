//! Host functions on the flat Canonical ABI form of their import, with a
//! declared type ([`crate::Linker::func_typed`]): the host receives the
//! core arguments of the `canon lower`ed call as they are, and [`FlatCall`]
//! gives it the caller's memory, `realloc` and handle table to lift and
//! lower them itself. This is the path of the WASI shims' generated glue,
//! which knows every layout from the WIT at build time: no [`Val`] is
//! built, and a `list<u8>` argument can be read in place.
//!
//! [`FlatCall`] is deliberately low level: raw flat values, memory views,
//! `realloc`, and the three handle operations the host needs. It makes no
//! Canonical ABI check of its own; the host makes them with canonical-abi's
//! functions (`check_list`, `check_pointer`, `lift_string`, ...), so each
//! check has one implementation.
//!
//! Invariants:
//! * The import was type-checked against the declared type at
//!   instantiation (see `crate::typecheck`), so the flat arguments have the
//!   core types that type flattens to, and every resource of the declared
//!   type maps to the import's resource type ([`FlatCall::lift_own`] &c.
//!   take the host's [`HostResource`] index).
//! * Borrows lent by [`FlatCall::lift_borrow`] end when the call returns.
//! * A call that returns without setting a declared flat result traps
//!   ("returned no result").
//! * [`FlatCall::realloc`] returns the guest's trap unchanged.
//!
//! [`Val`]: canonical_abi::Val

use crate::error::CallError;
use canonical_abi::{AbiError, CanonicalOptions, HostResource, ResourceTables, ResourceTypeId};
use core_vm::{Func, Memory, Store, Trap};

/// A host implementation of one imported function on its flat form.
pub type FlatHostFunc<T> = dyn Fn(&mut FlatCall<'_, T>) -> Result<(), Trap>;

/// One call of a flat host function: the caller's flat arguments, its
/// memory, `realloc` and handle table, and the slot for the flat result.
pub struct FlatCall<'a, T> {
    pub(crate) store: &'a mut Store<T>,
    pub(crate) canon: CanonicalOptions,
    pub(crate) memory: Option<Memory>,
    pub(crate) realloc: Option<Func>,
    pub(crate) resources: &'a mut dyn ResourceTables,
    pub(crate) func_name: &'a str,
    /// The import's resource type of each host resource of the declared
    /// type (indexed by `HostResource`).
    pub(crate) host_rts: &'a [Option<ResourceTypeId>],
    pub(crate) args: &'a [core_vm::Val],
    pub(crate) results: &'a mut [core_vm::Val],
    /// Whether the flat result was set.
    pub(crate) returned: bool,
}

impl<'a, T> FlatCall<'a, T> {
    pub fn data(&self) -> &T {
        self.store.data()
    }
    pub fn data_mut(&mut self) -> &mut T {
        self.store.data_mut()
    }
    /// `interface#function` of the import being called.
    pub fn func_name(&self) -> &str {
        self.func_name
    }
    /// A trap naming this function.
    pub fn trap(&self, message: impl Into<String>) -> Trap {
        Trap::host(CallError {
            func: self.func_name.to_string(),
            message: message.into(),
        })
    }
    /// The `canon lower`'s options.
    pub fn options(&self) -> CanonicalOptions {
        self.canon
    }

    fn arg(&self, i: usize) -> Result<&core_vm::Val, Trap> {
        self.args
            .get(i)
            .ok_or_else(|| self.trap(format!("has no flat argument {i}")))
    }

    fn arg_mismatch(&self, i: usize, want: &str) -> Trap {
        self.trap(format!("flat argument {i} is not an {want}"))
    }

    /// Flat argument `i`, an `i32`.
    pub fn arg_i32(&self, i: usize) -> Result<i32, Trap> {
        match self.arg(i)? {
            core_vm::Val::I32(x) => Ok(*x),
            _ => Err(self.arg_mismatch(i, "i32")),
        }
    }
    /// Flat argument `i`, an `i64`.
    pub fn arg_i64(&self, i: usize) -> Result<i64, Trap> {
        match self.arg(i)? {
            core_vm::Val::I64(x) => Ok(*x),
            _ => Err(self.arg_mismatch(i, "i64")),
        }
    }
    /// Flat argument `i`, an `f32`.
    pub fn arg_f32(&self, i: usize) -> Result<f32, Trap> {
        match self.arg(i)? {
            core_vm::Val::F32(x) => Ok(f32::from_bits(*x)),
            _ => Err(self.arg_mismatch(i, "f32")),
        }
    }
    /// Flat argument `i`, an `f64`.
    pub fn arg_f64(&self, i: usize) -> Result<f64, Trap> {
        match self.arg(i)? {
            core_vm::Val::F64(x) => Ok(f64::from_bits(*x)),
            _ => Err(self.arg_mismatch(i, "f64")),
        }
    }

    fn set_result(&mut self, v: core_vm::Val) -> Result<(), Trap> {
        match &mut *self.results {
            [slot] => {
                *slot = v;
                self.returned = true;
                Ok(())
            }
            _ => Err(self.trap("returned a flat result the import does not have")),
        }
    }
    /// Sets the one flat result, an `i32`.
    pub fn set_result_i32(&mut self, v: i32) -> Result<(), Trap> {
        self.set_result(core_vm::Val::I32(v))
    }
    /// Sets the one flat result, an `i64`.
    pub fn set_result_i64(&mut self, v: i64) -> Result<(), Trap> {
        self.set_result(core_vm::Val::I64(v))
    }
    /// Sets the one flat result, an `f32`.
    pub fn set_result_f32(&mut self, v: f32) -> Result<(), Trap> {
        self.set_result(core_vm::Val::F32(v.to_bits()))
    }
    /// Sets the one flat result, an `f64`.
    pub fn set_result_f64(&mut self, v: f64) -> Result<(), Trap> {
        self.set_result(core_vm::Val::F64(v.to_bits()))
    }

    /// The caller's memory as it is now (`MissingMemory` without a `memory`
    /// option).
    pub fn memory(&self) -> Result<&[u8], AbiError> {
        match self.memory {
            Some(m) => Ok(m.data(self.store)),
            None => Err(AbiError::MissingMemory),
        }
    }

    /// The caller's memory and the host data, at once.
    pub fn memory_and_data(&mut self) -> Result<(&[u8], &mut T), AbiError> {
        let m = self.memory.ok_or(AbiError::MissingMemory)?;
        let (mem, data) = self.store.memory_and_data(m);
        Ok((mem, data))
    }

    /// Copies `bytes` into the caller's memory at `ptr` (bounds-checked).
    pub fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), AbiError> {
        let m = self.memory.ok_or(AbiError::MissingMemory)?;
        let data = m.data_mut(self.store);
        canonical_abi::memory::check_bounds(data.len() as u64, ptr, bytes.len() as u64)?;
        data[ptr as usize..ptr as usize + bytes.len()].copy_from_slice(bytes);
        Ok(())
    }

    /// Calls the caller's `realloc(old_ptr, old_size, align, new_size)`; a
    /// trap in it is returned as is.
    pub fn realloc(
        &mut self,
        old_ptr: u32,
        old_size: u32,
        align: u32,
        new_size: u32,
    ) -> Result<u32, Trap> {
        let Some(f) = self.realloc.filter(|_| self.canon.has_realloc) else {
            return Err(self.trap(AbiError::MissingRealloc.to_string()));
        };
        crate::linker::call_realloc(self.store, f, [old_ptr, old_size, align, new_size]).map_err(
            |e| match e {
                core_vm::Error::Trap(t) => t,
                other => self.trap(format!("realloc: {other}")),
            },
        )
    }

    /// Whether the host has set the flat result (or the import has none).
    pub(crate) fn finished(&self) -> bool {
        self.returned || self.results.is_empty()
    }

    /// The import's resource type for host resource `r`.
    fn rt(&self, r: HostResource) -> Result<ResourceTypeId, AbiError> {
        self.host_rts
            .get(r.0 as usize)
            .copied()
            .flatten()
            .ok_or_else(|| {
                AbiError::InvalidType(format!(
                    "host resource {} is not in the type of this import",
                    r.0
                ))
            })
    }

    /// `lift_own`: moves `own` handle `h` of host resource `r` out of the
    /// caller's table; returns the rep.
    pub fn lift_own(&mut self, r: HostResource, h: u32) -> Result<u32, AbiError> {
        let rt = self.rt(r)?;
        self.resources.lift_own(rt, h)
    }

    /// `lift_borrow`: lends handle `h` of host resource `r` until the call
    /// returns; returns the rep.
    pub fn lift_borrow(&mut self, r: HostResource, h: u32) -> Result<u32, AbiError> {
        let rt = self.rt(r)?;
        self.resources.lift_borrow(rt, h)
    }

    /// `lower_own`: a new `own` handle of host resource `r` for `rep`.
    pub fn lower_own(&mut self, r: HostResource, rep: u32) -> Result<u32, AbiError> {
        let rt = self.rt(r)?;
        self.resources.lower_own(rt, rep)
    }
}
