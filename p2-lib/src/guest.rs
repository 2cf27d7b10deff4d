//! The guest side of lowered mode's boundary: memory 0 of the merged
//! module, which the relocated library shares with the guest (the same
//! address space: a guest pointer is an address of the library too), and
//! the guest's `cabi_realloc`.
//!
//! Invariants:
//! * Every access is checked against the memory's current size
//!   (`memory.size`, re-read on each access: the guest or its `realloc` may
//!   have grown it); an access outside it is an [`OutOfBounds`] error (the
//!   caller traps), never a host access outside guest memory.
//! * A read is a borrowed view of guest memory ([`Memory::read`]) that
//!   cannot outlive the `&Memory` it came from, and [`Memory::realloc`]
//!   (which runs guest code, which may write anywhere) needs `&mut Memory`:
//!   no view is alive while guest code runs.
//! * Address 0 with a non-zero length is refused: a Rust slice cannot start
//!   at address 0. No toolchain places a guest object there (it is C's null
//!   pointer), so this refuses only hand-written guests.
//! * The guest can write anywhere in its memory, the library's region
//!   included, as it can anywhere in its own heap; the library does not
//!   defend its region against its own guest.

use canonical_abi::{AbiError, MemoryView};
use core::arch::wasm32;

/// The page size of memory 0.
const PAGE: u64 = 65536;

#[link(wasm_import_module = "guest")]
extern "C" {
    /// The guest's `realloc` canonical option; the merger resolves this
    /// import (and, where the component has several reallocs, puts a
    /// dispatcher behind it).
    #[link_name = "cabi_realloc"]
    fn guest_realloc(old_ptr: u32, old_size: u32, align: u32, new_size: u32) -> u32;
}

/// A guest range that is not inside memory 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfBounds {
    pub ptr: u32,
    pub len: u64,
}

impl From<OutOfBounds> for AbiError {
    fn from(e: OutOfBounds) -> Self {
        AbiError::MemoryOutOfBounds {
            ptr: e.ptr,
            len: e.len,
        }
    }
}

/// Memory 0 and the guest's `cabi_realloc`.
#[derive(Debug, Default)]
pub struct Memory {
    _private: (),
}

impl Memory {
    /// The guest's memory: there is one per library.
    pub fn new() -> Self {
        Memory { _private: () }
    }

    /// The current size of memory 0 in bytes.
    #[inline]
    pub fn byte_len(&self) -> u64 {
        wasm32::memory_size(0) as u64 * PAGE
    }

    #[inline]
    fn check(&self, ptr: u32, len: u64) -> Result<(), OutOfBounds> {
        if u64::from(ptr) + len > self.byte_len() || (ptr == 0 && len != 0) {
            Err(OutOfBounds { ptr, len })
        } else {
            Ok(())
        }
    }

    /// Borrows `len` bytes of guest memory at `ptr`.
    #[inline]
    pub fn read(&self, ptr: u32, len: u32) -> Result<&[u8], OutOfBounds> {
        self.check(ptr, u64::from(len))?;
        if len == 0 {
            return Ok(&[]);
        }
        // SAFETY: `ptr..ptr + len` is inside memory 0 (checked above) and
        // not at address 0; the library's memory is the guest's, so the
        // guest's address is ours. No guest code runs while the view lives
        // (`realloc` needs `&mut self`).
        Ok(unsafe { core::slice::from_raw_parts(ptr as usize as *const u8, len as usize) })
    }

    /// Borrows `len` bytes of guest memory at `ptr` for writing (a p1 call
    /// reads straight into them).
    #[inline]
    pub fn read_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], OutOfBounds> {
        self.check(ptr, u64::from(len))?;
        if len == 0 {
            return Ok(&mut []);
        }
        // SAFETY: as in `read`; `&mut self` makes this the only view.
        Ok(unsafe { core::slice::from_raw_parts_mut(ptr as usize as *mut u8, len as usize) })
    }

    /// Copies `bytes` to guest memory at `ptr`.
    #[inline]
    pub fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), OutOfBounds> {
        let len = u32::try_from(bytes.len()).map_err(|_| OutOfBounds {
            ptr,
            len: bytes.len() as u64,
        })?;
        self.read_mut(ptr, len)?.copy_from_slice(bytes);
        Ok(())
    }

    /// Copies `bytes` to guest memory at `ptr`, a range the caller checked
    /// against memory 0 during this call (memory never shrinks, so it is
    /// still inside): only address 0 is refused, as in [`Memory::write`].
    #[inline]
    pub fn write_checked(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), OutOfBounds> {
        if ptr == 0 && !bytes.is_empty() {
            return Err(OutOfBounds {
                ptr,
                len: bytes.len() as u64,
            });
        }
        // SAFETY: `ptr..ptr + len` is inside memory 0 (checked by the
        // caller; memory 0 only grows) and not at address 0; the guest's
        // address is ours, and no view of guest memory is alive (`&mut
        // self`). Were the caller wrong, the store would be outside memory
        // 0 and the engine would trap: it cannot reach outside the guest.
        unsafe {
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr as usize as *mut u8, bytes.len())
        };
        Ok(())
    }

    /// Calls the guest's `cabi_realloc(old_ptr, old_size, align, new_size)`.
    /// The result is not checked here: the Canonical ABI checks its
    /// alignment and bounds where the spec says to trap.
    pub fn realloc(&mut self, old_ptr: u32, old_size: u32, align: u32, new_size: u32) -> u32 {
        // SAFETY: a call of a guest function through an import; it may run
        // any guest code, which is why it takes `&mut self` (no view of
        // guest memory is alive across it).
        unsafe { guest_realloc(old_ptr, old_size, align, new_size) }
    }
}

/// The view the generated glue lifts `string` and `list<u8>` arguments
/// through (canonical-abi's rules: a read succeeds iff it is in bounds).
impl MemoryView for Memory {
    fn byte_len(&self) -> u64 {
        Memory::byte_len(self)
    }
    fn read(&self, ptr: u32, len: u32) -> Result<&[u8], AbiError> {
        Ok(Memory::read(self, ptr, len)?)
    }
}

/// A failed WASI call: the Canonical ABI trapped (a bad handle, pointer or
/// string from the guest) or the shims refused (a host error). It ends the
/// program as the interpreter does when a shim traps, which is how
/// `wasmtime run` reports a host function's error: the error in wasmtime's
/// shape on stderr, then exit status 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trap {
    /// `interface#function: reason`, as the interpreter's message.
    pub message: String,
}

impl Trap {
    /// A failure of WASI function `func` (`interface#function`).
    pub fn in_call(func: &str, reason: impl core::fmt::Display) -> Self {
        Trap {
            message: format!("{func}: {reason}"),
        }
    }

    /// Reports the failure as wasmtime reports an error and ends the
    /// process with exit status 1.
    pub fn abort(self) -> ! {
        self.report();
        std::process::exit(1)
    }

    /// Reports the failure, then traps (`unreachable`): for what wasmtime
    /// reports as a Wasm trap, so that the host ends the run as it ends it
    /// for any trap of the module (`wasmtime run`: exit status 134).
    pub fn trap(self) -> ! {
        self.report();
        core::arch::wasm32::unreachable()
    }

    /// The failure on stderr, in the shape of `wasmtime run`'s report.
    fn report(&self) {
        use std::io::Write as _;
        // The program's name as the host gives it (p1 `args_get`).
        let program = std::env::args().next().unwrap_or_default();
        let text = format!(
            "Error: failed to run main module `{program}`\n\nCaused by:\n    \
             0: failed to invoke `run` function\n    1: {}\n",
            self.message
        );
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
}
