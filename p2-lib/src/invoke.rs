//! `p2shim lower --invoke` (feature `invoke`): the library runs one WAVE
//! call of a lowered reactor, as `wasmtime run --invoke CALL app.wasm`
//! runs it for the component, so that `HOST app.p1.wasm 'f("x")'` prints
//! what wasmtime prints.
//!
//! The lowered module's `_start` (`lower`'s glue) runs the start-up, asks
//! [`p2lib_invoke_table`] for a buffer, stores the export table there (the
//! encoding of `canonical_abi::invoke`, written by `lower` at lowering
//! time: each lifted function's name, component type and canonical
//! options, in the order of the glue's function numbers) and calls
//! [`p2lib_invoke`], which
//! * takes the call from argv\[1\] (the guest's `get-arguments` sees
//!   argv\[0\] and the arguments after the call, as under wasmtime, from
//!   its first WASI call on, a core start function's included: `call`'s
//!   `visible_args`);
//! * parses it, finds the function and type-checks the arguments with
//!   `canonical_abi::invoke::prepare` (the interpreter's code and
//!   messages; any failure: its report on stderr, exit 1, before any guest
//!   code of the call runs);
//! * lowers the arguments with the function's options (through its
//!   `realloc` where they do not fit flat, with `may_leave` false), calls
//!   the lifted core function, lifts the results, runs the post-return
//!   (with `may_leave` false) and prints the results in WAVE on stdout;
//!   a Canonical ABI error is reported as the interpreter reports it (exit
//!   1); a trap of guest code traps the module, as a lowered trap does.
//!
//! The guest side is reached through four functions the glue generates
//! (imports of module `p2lib-invoke`, each taking the function's number):
//! `call` (flat arguments read from 8-byte slots, flat results written to
//! the same slots, each value at the start of its slot, little-endian),
//! `post-return` (the flat results from the slots), `realloc` (the
//! function's `realloc` option) and `memory` (op 0: the size of the
//! function's memory in pages; 1: copy `len` bytes from it to the
//! library; 2: copy from the library to it), so a function lifted from
//! another memory than memory 0 (a composed component) is reached like
//! any other.
//!
//! Invariants: every guest range is checked against the size of its memory
//! before it is copied (an access outside it is the Canonical ABI's error,
//! never a trap of the copy); a view handed to the ABI is a copy that
//! lives as long as the call's memory object, so no guest code runs while
//! one is borrowed from guest memory.

use crate::call;
use canonical_abi::invoke::{self, decode_funcs, export_tree, find_func, InvokeError, InvokeFunc};
use canonical_abi::memory::check_bounds;
use canonical_abi::{
    flatten_functype, lift_values, lower_values, AbiError, CoreType, CoreValueIter, FlatVal,
    FlattenContext, GuestMemory, LiftLowerContext, MemoryView, NoResources, MAX_FLAT_PARAMS,
    MAX_FLAT_RESULTS,
};
use core::cell::UnsafeCell;
use std::io::Write as _;

#[link(wasm_import_module = "p2lib-invoke")]
extern "C" {
    #[link_name = "call"]
    fn hook_call(func: u32, slots: u32);
    #[link_name = "post-return"]
    fn hook_post_return(func: u32, slots: u32);
    #[link_name = "realloc"]
    fn hook_realloc(func: u32, old_ptr: u32, old_size: u32, align: u32, new_size: u32) -> u32;
    #[link_name = "memory"]
    fn hook_memory(func: u32, op: u32, guest: u32, lib: u32, len: u32) -> u32;
}

/// A buffer of `len` bytes for the export table, which lives until the
/// end of the run.
#[export_name = "p2lib_invoke_table"]
pub extern "C" fn p2lib_invoke_table(len: u32) -> u32 {
    let buf: &'static mut [u8] = Vec::leak(vec![0u8; len as usize]);
    buf.as_mut_ptr() as u32
}

/// Runs the call given as argv\[1\] (see the module docs); returns after
/// printing its results (the module then exits 0).
#[export_name = "p2lib_invoke"]
pub extern "C" fn p2lib_invoke(table: u32, len: u32) {
    // SAFETY: `table` is the buffer of `p2lib_invoke_table(len)`, which the
    // glue filled and never frees.
    let bytes = unsafe { core::slice::from_raw_parts(table as usize as *const u8, len as usize) };
    let mut args = std::env::args();
    let program = args.next().unwrap_or_default();
    let fail = |e: InvokeError| -> ! {
        let _ = std::io::stderr().write_all(e.report(&program).as_bytes());
        std::process::exit(1)
    };
    let funcs = decode_funcs(bytes).unwrap_or_else(|e| {
        fail(InvokeError::Other(format!(
            "the lowered module is broken: {e}"
        )))
    });
    let Some(text) = args.next() else {
        let _ = writeln!(
            std::io::stderr(),
            "Error: `{program}` was lowered with `p2shim lower --invoke`: give the call as its first argument (e.g. '{}')",
            example(&funcs)
        );
        std::process::exit(1)
    };
    let tree = export_tree(&funcs);
    let find = |name: &str| {
        find_func(&tree, name)
            .map(|k| (k, &funcs[k]))
            .map_err(InvokeError::Lookup)
    };
    let ((k, f), name, params) =
        invoke::prepare(&text, find, |(_, f)| &f.ty).unwrap_or_else(|e| fail(e));
    let abi = |e: AbiError| -> ! {
        fail(InvokeError::Failed {
            name: name.clone(),
            message: format!("canonical ABI error in `{name}`: {e}"),
        })
    };
    let core = flatten_functype(&f.ty, FlattenContext::Lift);
    let func = k as u32;
    let mut memory = HookMemory::new(func);
    // The arguments, lowered with `may_leave` false (the `realloc` may not
    // call imports).
    let saved = call::phase(2);
    let lowered = lower_values(
        &mut LiftLowerContext::new(f.opts, &mut memory, &mut NoResources),
        MAX_FLAT_PARAMS,
        &params,
        &f.ty.param_types(),
        None,
    );
    call::phase(saved);
    let flat = lowered.unwrap_or_else(|e| abi(e));
    let mut slots = vec![0u64; flat.len().max(core.results.len()).max(1)];
    for (slot, v) in slots.iter_mut().zip(&flat) {
        *slot = match *v {
            FlatVal::I32(x) => u64::from(x as u32),
            FlatVal::I64(x) => x as u64,
            FlatVal::F32(bits) => u64::from(bits),
            FlatVal::F64(bits) => bits,
        };
    }
    let slots_at = slots.as_mut_ptr() as u32;
    // SAFETY: the glue's `call` reads and writes only the slots the
    // function's core type has (at most `slots.len()`), at `slots_at`.
    unsafe { hook_call(func, slots_at) };
    let results: Vec<FlatVal> = core
        .results
        .iter()
        .zip(&slots)
        .map(|(t, &s)| match t {
            CoreType::I32 => FlatVal::I32(s as u32 as i32),
            CoreType::I64 => FlatVal::I64(s as i64),
            CoreType::F32 => FlatVal::F32(s as u32),
            CoreType::F64 => FlatVal::F64(s),
        })
        .collect();
    let mut memory = HookMemory::new(func);
    let lifted = lift_values(
        &mut LiftLowerContext::new(f.opts, &mut memory, &mut NoResources),
        MAX_FLAT_RESULTS,
        &mut CoreValueIter::new(&results),
        &f.ty.result_types(),
    );
    drop(memory);
    let values = lifted.unwrap_or_else(|e| abi(e));
    if f.opts.has_post_return {
        // SAFETY: as for `call`; the glue runs it with `may_leave` false.
        unsafe { hook_post_return(func, slots_at) };
    }
    let line = invoke::results_line(&name, &values).unwrap_or_else(|e| fail(e));
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// A call to show in the hint when the call is missing.
fn example(funcs: &[InvokeFunc]) -> String {
    match funcs.first() {
        Some(f) => format!(
            "{}({})",
            match &f.instance {
                None => f.name.clone(),
                Some(i) => match i.split_once('@') {
                    Some((iface, v)) => format!("{iface}.{}@{v}", f.name),
                    None => format!("{i}.{}", f.name),
                },
            },
            vec!["..."; f.ty.params.len()].join(", ")
        ),
        None => "f()".to_string(),
    }
}

/// A range the glue refused: outside the component's memory (the
/// library's part of memory 0).
fn outside(ptr: u32, len: usize) -> AbiError {
    AbiError::MemoryOutOfBounds {
        ptr,
        len: len as u64,
    }
}

/// The memory of function `func`, through the glue's `memory` and
/// `realloc`; reads are copies kept until it is dropped.
struct HookMemory {
    func: u32,
    views: UnsafeCell<Vec<Box<[u8]>>>,
}

impl HookMemory {
    fn new(func: u32) -> Self {
        HookMemory {
            func,
            views: UnsafeCell::new(Vec::new()),
        }
    }
}

impl MemoryView for HookMemory {
    fn byte_len(&self) -> u64 {
        // SAFETY: op 0 only reads the memory's size.
        u64::from(unsafe { hook_memory(self.func, 0, 0, 0, 0) }) * 65536
    }

    fn read(&self, ptr: u32, len: u32) -> Result<&[u8], AbiError> {
        check_bounds(self.byte_len(), ptr, u64::from(len))?;
        let mut copy = vec![0u8; len as usize].into_boxed_slice();
        // SAFETY: `ptr..ptr + len` is inside the memory (checked) and the
        // copy has `len` bytes.
        if len != 0 && unsafe { hook_memory(self.func, 1, ptr, copy.as_mut_ptr() as u32, len) } != 0
        {
            return Err(outside(ptr, len as usize));
        }
        let view: *const [u8] = &*copy;
        // SAFETY: single-threaded, and `views` is only pushed to: a box
        // pushed is never moved out, changed or dropped before `self`, so
        // the view lives as long as `&self`.
        unsafe {
            (*self.views.get()).push(copy);
            Ok(&*view)
        }
    }
}

impl GuestMemory for HookMemory {
    fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), AbiError> {
        check_bounds(self.byte_len(), ptr, bytes.len() as u64)?;
        // SAFETY: in bounds (checked above); the source is ours.
        let (at, len) = (bytes.as_ptr() as u32, bytes.len() as u32);
        if len != 0 && unsafe { hook_memory(self.func, 2, ptr, at, len) } != 0 {
            return Err(outside(ptr, bytes.len()));
        }
        Ok(())
    }

    fn realloc(
        &mut self,
        old_ptr: u32,
        old_size: u32,
        align: u32,
        new_size: u32,
    ) -> Result<u32, AbiError> {
        // SAFETY: a call of the function's `realloc` (guest code, which
        // traps the module if it traps); no view is borrowed (`&mut self`).
        Ok(unsafe { hook_realloc(self.func, old_ptr, old_size, align, new_size) })
    }
}
