//! The interpreter's side of the shim boundary (feature `component-model`):
//! component-model's [`FlatCall`] is the [`Guest`] of the generated glue,
//! and [`add_to_linker`] registers every function and resource of the
//! generated tables (`for_each_wasi_func!`, `for_each_wasi_resource!`), each
//! function with its declared type so that imports are type-checked at
//! instantiation.
//!
//! Invariants:
//! * Nothing here is written per function: adding a WASI function is a
//!   change to `wit/` and a trait method, never to this file.
//! * A call costs what the flat form costs: the flat arguments are read by
//!   index, no `Val` is built, a `list<u8>` argument is a view of the
//!   caller's memory, a `list<u8>` result one `realloc` and one copy.

use crate::bindings::HostResource;
use crate::glue::{Fail, Guest};
use crate::{WasiCtx, WasiView};
use canonical_abi::{AbiError, CanonicalOptions};
use component_model::{CallError, FlatCall, Linker, Trap};

impl<T: WasiView> Guest for FlatCall<'_, T> {
    type Host = WasiCtx;
    type Memory = [u8];
    type Trap = Trap;

    fn host(&mut self) -> &mut WasiCtx {
        self.data_mut().wasi()
    }
    fn split(&mut self) -> Result<(&mut WasiCtx, &[u8]), AbiError> {
        let (mem, data) = self.memory_and_data()?;
        Ok((data.wasi(), mem))
    }
    fn memory(&self) -> Result<&[u8], AbiError> {
        FlatCall::memory(self)
    }
    fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), AbiError> {
        FlatCall::write(self, ptr, bytes)
    }
    fn realloc(
        &mut self,
        old_ptr: u32,
        old_size: u32,
        align: u32,
        new_size: u32,
    ) -> Result<u32, Trap> {
        FlatCall::realloc(self, old_ptr, old_size, align, new_size)
    }
    fn options(&self) -> CanonicalOptions {
        FlatCall::options(self)
    }
    fn lift_own(&mut self, r: HostResource, handle: u32) -> Result<u32, Trap> {
        FlatCall::lift_own(self, r, handle).map_err(|e| self.trap(e.to_string()))
    }
    fn lift_borrow(&mut self, r: HostResource, handle: u32) -> Result<u32, Trap> {
        FlatCall::lift_borrow(self, r, handle).map_err(|e| self.trap(e.to_string()))
    }
    fn lower_own(&mut self, r: HostResource, rep: u32) -> Result<u32, Trap> {
        FlatCall::lower_own(self, r, rep).map_err(|e| self.trap(e.to_string()))
    }
    fn trap(&self, f: Fail) -> Trap {
        FlatCall::trap(self, f.to_string())
    }
}

/// A flat core value read from, or returned to, a [`FlatCall`].
trait Flat: Sized {
    fn arg<T>(call: &FlatCall<'_, T>, i: usize) -> Result<Self, Trap>;
    fn set<T>(self, call: &mut FlatCall<'_, T>) -> Result<(), Trap>;
}

macro_rules! flat {
    ($t:ty, $arg:ident, $set:ident) => {
        impl Flat for $t {
            fn arg<T>(call: &FlatCall<'_, T>, i: usize) -> Result<Self, Trap> {
                call.$arg(i)
            }
            fn set<T>(self, call: &mut FlatCall<'_, T>) -> Result<(), Trap> {
                call.$set(self)
            }
        }
    };
}
flat!(i32, arg_i32, set_result_i32);
flat!(i64, arg_i64, set_result_i64);
flat!(f32, arg_f32, set_result_f32);
flat!(f64, arg_f64, set_result_f64);

impl Flat for () {
    fn arg<T>(call: &FlatCall<'_, T>, _: usize) -> Result<Self, Trap> {
        Err(call.trap("a unit flat argument"))
    }
    fn set<T>(self, _: &mut FlatCall<'_, T>) -> Result<(), Trap> {
        Ok(())
    }
}

/// Registers every interface of the shims, from the generated tables.
pub fn add_to_linker<T: WasiView>(l: &mut Linker<T>) {
    macro_rules! resource {
        ($id:ident, $iface:literal, $name:literal, $index:literal, $drop:path) => {
            l.resource($iface, $name, HostResource($index), |d: &mut T, rep| {
                $drop(d.wasi(), rep).map_err(|e| {
                    Trap::host(CallError {
                        func: concat!($iface, "#[resource-drop]", $name).into(),
                        message: e.to_string(),
                    })
                })
            });
        };
    }
    for_each_wasi_resource!(resource);
    macro_rules! func {
        ($id:ident, $iface:literal, $name:literal, ($($p:ident: $t:ty),*) -> $r:ty, $glue:path, $ty:path) => {
            l.func_typed($iface, $name, &$ty, |call: &mut FlatCall<'_, T>| {
                let mut _i = 0usize;
                $(
                    let $p = <$t as Flat>::arg(call, _i)?;
                    _i += 1;
                )*
                let r: $r = $glue(call, $($p),*)?;
                r.set(call)
            });
        };
    }
    for_each_wasi_func!(func);
}
