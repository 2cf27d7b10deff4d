//! Host functions on the flat Canonical ABI form of their import: the host
//! receives the core arguments of the `canon lower`ed call as they are and
//! lifts only what it uses, through the typed accessors of [`FlatCall`],
//! then lowers its result through [`FlatCall::ret`] (or one of its typed
//! shortcuts). This is the cheap path for hot imports: no [`Val`] is built
//! for the arguments, no per-call type vectors, and a `list<u8>` argument is
//! a borrowed view of the caller's memory ([`FlatCall::arg_bytes`]) instead
//! of a copy.
//!
//! Invariants:
//! * Every accessor checks the import's declared type of the parameter it
//!   reads (a mismatch traps, naming the function and the parameter), and
//!   performs the spec's lifting checks for it (`lift_borrow` lends, list
//!   bounds and length limit); so a host function can only observe values
//!   the Val path would have lifted the same way.
//! * Borrows lent by [`FlatCall::arg_resource`] end when the call returns,
//!   exactly as on the Val path.
//! * The result is lowered at most once; a call that returns without
//!   lowering a declared result traps ("returned no result").
//! * Imports whose parameters spill to memory (more than
//!   [`MAX_FLAT_PARAMS`] flat values) are not served by the flat accessors:
//!   they trap with a message saying so (no WASI function has them).

use crate::error::CallError;
use crate::instantiate::from_flat;
use crate::linker::StoreMemory;
use canonical_abi::types::{variant_case_types, variant_payload_offset};
use canonical_abi::{
    alignment, elem_size, flatten_type, lift_flat, store, AbiError, CanonicalOptions, CoreType,
    FlatSource, FlatVal, FuncType, GuestMemory, LiftLowerContext, ResourceTables, Val, ValueType,
    MAX_FLAT_PARAMS,
};
use core_vm::{Func, Memory, Store, Trap};

/// A host implementation of one imported function on its flat form.
pub type FlatHostFunc<T> = dyn Fn(&mut FlatCall<'_, T>) -> Result<(), Trap>;

/// The flat layout of one import's signature, computed once per trampoline.
#[derive(Debug, Clone)]
pub(crate) struct FlatSig {
    /// Index of the first flat value of each parameter; empty when the
    /// parameters spill to memory.
    param_at: Vec<u32>,
    /// Whether the parameters spill (one `i32` pointer is passed instead).
    params_spilled: bool,
    /// Whether the result goes through a `retptr` (the last flat argument).
    retptr: bool,
    /// `alignment` and `elem_size` of the result type (0, 0 without one).
    result_align: u32,
    result_size: u32,
    /// For a `result<T, E>` result: the byte offset of the case payload.
    payload_offset: u32,
}

impl FlatSig {
    pub(crate) fn new(ty: &FuncType) -> FlatSig {
        let mut param_at = Vec::with_capacity(ty.params.len());
        let mut n = 0u32;
        for (_, t) in &ty.params {
            param_at.push(n);
            n += flatten_type(t).len() as u32;
        }
        let params_spilled = n as usize > MAX_FLAT_PARAMS;
        if params_spilled {
            param_at.clear();
        }
        let retptr = ty
            .result
            .as_ref()
            .is_some_and(|t| flatten_type(t).len() > canonical_abi::MAX_FLAT_RESULTS);
        let (result_align, result_size) = ty
            .result
            .as_ref()
            .map_or((0, 0), |t| (alignment(t), elem_size(t)));
        let payload_offset = ty
            .result
            .as_ref()
            .and_then(variant_case_types)
            .map_or(0, |cases| variant_payload_offset(&cases));
        FlatSig {
            param_at,
            params_spilled,
            retptr,
            result_align,
            result_size,
            payload_offset,
        }
    }
}

/// One call of a flat host function: the caller's flat arguments, its
/// memory, `realloc` and handle table, and the slots for the flat result.
pub struct FlatCall<'a, T> {
    pub(crate) store: &'a mut Store<T>,
    pub(crate) canon: CanonicalOptions,
    pub(crate) memory: Option<Memory>,
    pub(crate) realloc: Option<Func>,
    pub(crate) resources: &'a mut dyn ResourceTables,
    pub(crate) func_name: &'a str,
    pub(crate) ty: &'a FuncType,
    pub(crate) sig: &'a FlatSig,
    pub(crate) args: &'a [core_vm::Val],
    pub(crate) results: &'a mut [core_vm::Val],
    pub(crate) returned: bool,
}

/// Flat values read from the core arguments, for [`lift_flat`].
struct ArgSource<'a> {
    args: &'a [core_vm::Val],
    i: usize,
}

impl FlatSource for ArgSource<'_> {
    fn next(&mut self, want: CoreType) -> Result<FlatVal, AbiError> {
        let v = self.args.get(self.i).ok_or(AbiError::FlatValuesExhausted)?;
        let got = match *v {
            core_vm::Val::I32(x) => FlatVal::I32(x),
            core_vm::Val::I64(x) => FlatVal::I64(x),
            core_vm::Val::F32(x) => FlatVal::F32(x),
            core_vm::Val::F64(x) => FlatVal::F64(x),
            _ => return Err(AbiError::FlatValuesExhausted),
        };
        if got.ty() != want {
            return Err(AbiError::FlatTypeMismatch {
                expected: want,
                found: got.ty(),
            });
        }
        self.i += 1;
        Ok(got)
    }
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
    fn abi_trap(&self, e: AbiError) -> Trap {
        self.trap(e.to_string())
    }

    /// The declared type of parameter `i` and the index of its first flat
    /// value.
    fn param(&self, i: usize) -> Result<(&'a ValueType, usize), Trap> {
        if self.sig.params_spilled {
            return Err(self.trap(
                "its parameters are spilled to memory, which flat host functions do not read",
            ));
        }
        let ty: &'a FuncType = self.ty;
        let t = ty
            .params
            .get(i)
            .map(|(_, t)| t)
            .ok_or_else(|| self.trap(format!("has no parameter {i}")))?;
        Ok((t, self.sig.param_at[i] as usize))
    }

    fn type_error(&self, i: usize, want: &str, t: &ValueType) -> Trap {
        self.trap(format!(
            "parameter {i}: the host reads it as {want}, the import declares {t:?}"
        ))
    }

    fn core_i32(&self, at: usize) -> Result<u32, Trap> {
        match self.args.get(at) {
            Some(core_vm::Val::I32(x)) => Ok(*x as u32),
            _ => Err(self.abi_trap(AbiError::FlatTypeMismatch {
                expected: CoreType::I32,
                found: CoreType::I64,
            })),
        }
    }

    /// Parameter `i` of type `u64` (or `s64`, as its bits).
    pub fn arg_u64(&self, i: usize) -> Result<u64, Trap> {
        let (t, at) = self.param(i)?;
        match (t, self.args.get(at)) {
            (ValueType::U64 | ValueType::S64, Some(core_vm::Val::I64(x))) => Ok(*x as u64),
            _ => Err(self.type_error(i, "u64", t)),
        }
    }

    /// Parameter `i` of type `u32` (or `s32`, as its bits).
    pub fn arg_u32(&self, i: usize) -> Result<u32, Trap> {
        let (t, at) = self.param(i)?;
        match t {
            ValueType::U32 | ValueType::S32 => self.core_i32(at),
            _ => Err(self.type_error(i, "u32", t)),
        }
    }

    /// Parameter `i` of type `own<R>` or `borrow<R>`, lifted to its rep
    /// (`lift_own` moves the handle out of the caller's table, `lift_borrow`
    /// lends it until the call returns).
    pub fn arg_resource(&mut self, i: usize) -> Result<u32, Trap> {
        let (t, at) = self.param(i)?;
        let h = self.core_i32(at)?;
        let r = match t {
            ValueType::Own(rt) => self.resources.lift_own(*rt, h),
            ValueType::Borrow(rt) => self.resources.lift_borrow(*rt, h),
            _ => return Err(self.type_error(i, "a resource", t)),
        };
        r.map_err(|e| self.abi_trap(e))
    }

    /// Parameter `i` of type `list<u8>`, as a view of the caller's memory
    /// (`load_list_from_range` with its length limit and bounds check).
    pub fn arg_bytes(&self, i: usize) -> Result<&[u8], Trap> {
        let (t, at) = self.param(i)?;
        if !matches!(t, ValueType::List(e) if **e == ValueType::U8) {
            return Err(self.type_error(i, "list<u8>", t));
        }
        let (ptr, len) = (self.core_i32(at)?, self.core_i32(at + 1)?);
        if u64::from(len) > canonical_abi::lift::MAX_LIST_BYTE_LENGTH {
            return Err(self.abi_trap(AbiError::ListTooLong {
                byte_length: u64::from(len),
            }));
        }
        let memory = self
            .memory
            .ok_or_else(|| self.abi_trap(AbiError::MissingMemory))?;
        let data = memory.data(self.store);
        if u64::from(ptr) + u64::from(len) > data.len() as u64 {
            return Err(self.abi_trap(AbiError::ListOutOfBounds {
                ptr,
                byte_length: u64::from(len),
            }));
        }
        Ok(&data[ptr as usize..ptr as usize + len as usize])
    }

    /// Parameter `i` of any type, lifted to a [`Val`] (the general path).
    pub fn arg(&mut self, i: usize) -> Result<Val, Trap> {
        let (t, at) = self.param(i)?;
        let mut src = ArgSource {
            args: self.args,
            i: at,
        };
        let (canon, memory, realloc) = (self.canon, self.memory, self.realloc);
        let r = with_memory(
            self.store,
            canon,
            memory,
            realloc,
            &mut *self.resources,
            |cx| lift_flat(cx, &mut src, t),
        );
        r.map_err(|e| self.abi_trap(e))
    }

    /// Lowers `v` as the function's result (type-checked against it), into
    /// the flat result or through the `retptr`.
    pub fn ret(&mut self, v: &Val) -> Result<(), Trap> {
        let Some(t) = self.ty.result.as_ref() else {
            return Err(self.trap("the host returned a result for a function without one"));
        };
        if self.returned {
            return Err(self.trap("the host lowered its result twice"));
        }
        v.type_check(t)
            .map_err(|e| self.trap(format!("result: {e}")))?;
        let (canon, memory, realloc) = (self.canon, self.memory, self.realloc);
        let r = if self.sig.retptr {
            let ptr = match self.args.last() {
                Some(core_vm::Val::I32(p)) => *p as u32,
                _ => return Err(self.abi_trap(AbiError::FlatValuesExhausted)),
            };
            with_memory(
                self.store,
                canon,
                memory,
                realloc,
                &mut *self.resources,
                |cx| store(cx, v, t, ptr),
            )
        } else {
            let mut out = Vec::with_capacity(1);
            let r = with_memory(
                self.store,
                canon,
                memory,
                realloc,
                &mut *self.resources,
                |cx| canonical_abi::lower_flat(cx, v, t, &mut out),
            );
            if r.is_ok() {
                if out.len() != self.results.len() {
                    return Err(self.trap("flat result count mismatch"));
                }
                for (r, f) in self.results.iter_mut().zip(out) {
                    *r = from_flat(f);
                }
            }
            r
        };
        r.map_err(|e| self.abi_trap(e))?;
        self.returned = true;
        Ok(())
    }

    /// The `retptr` of a call whose result is stored in memory, checked
    /// (alignment and bounds of the result type) as `lower_flat_values`
    /// checks it.
    fn checked_retptr(&self) -> Result<(Memory, u32), Trap> {
        let ptr = match (self.sig.retptr, self.args.last()) {
            (true, Some(core_vm::Val::I32(p))) => *p as u32,
            _ => return Err(self.trap("the result is not returned through a retptr")),
        };
        let memory = self
            .memory
            .ok_or_else(|| self.abi_trap(AbiError::MissingMemory))?;
        let align = self.sig.result_align.max(1);
        if ptr % align != 0 {
            return Err(self.abi_trap(AbiError::PointerMisaligned { ptr, align }));
        }
        let size = u64::from(self.sig.result_size);
        if u64::from(ptr) + size > memory.data(self.store).len() as u64 {
            return Err(self.abi_trap(AbiError::PointerOutOfBounds { ptr, size }));
        }
        Ok((memory, ptr))
    }

    /// Lowers `ok` of a `result<_, E>` result whose `E` has a payload (so it
    /// is stored through the `retptr`): the discriminant byte 0.
    pub fn ret_ok_unit(&mut self) -> Result<(), Trap> {
        if !matches!(
            self.ty.result,
            Some(ValueType::Result {
                ok: None,
                err: Some(_)
            })
        ) || self.returned
        {
            return self.ret(&Val::Result(Ok(None)));
        }
        let (memory, ptr) = self.checked_retptr()?;
        memory.data_mut(self.store)[ptr as usize] = 0;
        self.returned = true;
        Ok(())
    }

    /// Lowers `ok(v)` of a `result<u64, E>` result: the discriminant byte 0
    /// and `v` at the payload offset.
    pub fn ret_ok_u64(&mut self, v: u64) -> Result<(), Trap> {
        let Some(ValueType::Result { ok: Some(ok), .. }) = &self.ty.result else {
            return self.ret(&Val::Result(Ok(Some(Box::new(Val::U64(v))))));
        };
        if **ok != ValueType::U64 || self.returned || !self.sig.retptr {
            return self.ret(&Val::Result(Ok(Some(Box::new(Val::U64(v))))));
        }
        let (memory, ptr) = self.checked_retptr()?;
        let at = (ptr + self.sig.payload_offset) as usize;
        let data = memory.data_mut(self.store);
        data[ptr as usize] = 0;
        data[at..at + 8].copy_from_slice(&v.to_le_bytes());
        self.returned = true;
        Ok(())
    }

    /// Lowers `ok(bytes)` of a `result<list<u8>, E>` result as the spec's
    /// `store_list`: one `realloc(0, 0, 1, len)` in the caller, the bytes
    /// copied there, then the discriminant 0 and `(ptr, len)` at the
    /// `retptr`. No value is built for the bytes.
    pub fn ret_ok_bytes(&mut self, bytes: &[u8]) -> Result<(), Trap> {
        let is_bytes = matches!(&self.ty.result,
            Some(ValueType::Result { ok: Some(ok), .. }) if matches!(&**ok, ValueType::List(e) if **e == ValueType::U8));
        if !is_bytes || self.returned || !self.sig.retptr {
            let list = Val::List(bytes.iter().map(|&b| Val::U8(b)).collect());
            return self.ret(&Val::Result(Ok(Some(Box::new(list)))));
        }
        let (memory, ptr) = self.checked_retptr()?;
        let byte_length = bytes.len() as u64;
        if byte_length > canonical_abi::strings::REALLOC_I32_MAX {
            return Err(self.abi_trap(AbiError::ListTooLong { byte_length }));
        }
        if !self.canon.has_realloc {
            return Err(self.abi_trap(AbiError::MissingRealloc));
        }
        let mut mem = StoreMemory {
            store: &mut *self.store,
            memory,
            realloc: self.realloc,
        };
        let list = mem
            .realloc(0, 0, 1, byte_length as u32)
            .map_err(|e| self.abi_trap(e))?;
        let data = memory.data_mut(self.store);
        if u64::from(list) + byte_length > data.len() as u64 {
            return Err(self.abi_trap(AbiError::ReallocOutOfBounds {
                ptr: list,
                size: byte_length,
            }));
        }
        data[list as usize..list as usize + bytes.len()].copy_from_slice(bytes);
        // The retptr was checked before `realloc`, which may only grow memory.
        let at = (ptr + self.sig.payload_offset) as usize;
        data[ptr as usize] = 0;
        data[at..at + 4].copy_from_slice(&list.to_le_bytes());
        data[at + 4..at + 8].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
        self.returned = true;
        Ok(())
    }

    /// Lowers an `own<R>` result for `rep` (`lower_own`: a new handle in
    /// the caller's table).
    pub fn ret_own(&mut self, rep: u32) -> Result<(), Trap> {
        let (Some(ValueType::Own(rt)), false, [slot]) =
            (&self.ty.result, self.returned, &mut *self.results)
        else {
            return self.ret(&Val::Resource(rep));
        };
        let h = self.resources.lower_own(*rt, rep).map_err(|e| {
            Trap::host(CallError {
                func: self.func_name.to_string(),
                message: e.to_string(),
            })
        })?;
        *slot = core_vm::Val::I32(h as i32);
        self.returned = true;
        Ok(())
    }

    /// Whether the host has lowered its result (or the function has none).
    pub(crate) fn finished(&self) -> bool {
        self.returned || self.ty.result.is_none()
    }
}

/// Runs `f` in a [`LiftLowerContext`] over the caller's memory.
fn with_memory<T, R>(
    store: &mut Store<T>,
    canon: CanonicalOptions,
    memory: Option<Memory>,
    realloc: Option<Func>,
    resources: &mut dyn ResourceTables,
    f: impl FnOnce(&mut LiftLowerContext<'_>) -> Result<R, AbiError>,
) -> Result<R, AbiError> {
    match memory {
        Some(memory) => {
            let mut mem = StoreMemory {
                store,
                memory,
                realloc,
            };
            let mut cx = LiftLowerContext::new(canon, &mut mem as &mut dyn GuestMemory, resources);
            f(&mut cx)
        }
        None => {
            let mut mem = canonical_abi::NoMemory;
            let mut cx = LiftLowerContext::new(canon, &mut mem, resources);
            f(&mut cx)
        }
    }
}
