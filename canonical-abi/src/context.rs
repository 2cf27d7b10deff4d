//! The lift/lower context: the spec's `LiftLowerContext` (`cx`), restricted
//! to what the synchronous ABI needs.
//!
//! `cx.opts` are the canonical options, `cx.memory` is the guest memory with
//! its `realloc`, and `cx.resources` stands for `cx.inst.handles` plus the
//! borrow scope of the current call. Instance-level state of the spec that
//! is not about values (`may_leave`, `may_enter`, task bookkeeping, calling
//! `post-return`) belongs to the caller of `lift_values` / `lower_values`,
//! not to this module.
//!
//! Invariant: all memory traffic of the ABI goes through the helpers below,
//! which first check that the corresponding canonical option is present
//! ([`AbiError::MissingMemory`] / [`AbiError::MissingRealloc`]).

use super::{AbiError, CanonicalOptions, GuestMemory, ResourceTables};

/// The context every lift/lower operation runs in.
pub struct LiftLowerContext<'a> {
    pub opts: CanonicalOptions,
    pub memory: &'a mut dyn GuestMemory,
    pub resources: &'a mut dyn ResourceTables,
}

impl<'a> LiftLowerContext<'a> {
    pub fn new(
        opts: CanonicalOptions,
        memory: &'a mut dyn GuestMemory,
        resources: &'a mut dyn ResourceTables,
    ) -> Self {
        LiftLowerContext {
            opts,
            memory,
            resources,
        }
    }

    /// `len(cx.opts.memory)`.
    pub(crate) fn mem_len(&self) -> Result<u64, AbiError> {
        if !self.opts.has_memory {
            return Err(AbiError::MissingMemory);
        }
        Ok(self.memory.byte_len())
    }

    pub(crate) fn read(&self, ptr: u32, len: u32) -> Result<&[u8], AbiError> {
        if !self.opts.has_memory {
            return Err(AbiError::MissingMemory);
        }
        self.memory.read(ptr, len)
    }

    pub(crate) fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), AbiError> {
        if !self.opts.has_memory {
            return Err(AbiError::MissingMemory);
        }
        self.memory.write(ptr, bytes)
    }

    /// `cx.opts.realloc(old_ptr, old_size, align, new_size)`.
    pub(crate) fn realloc(
        &mut self,
        old_ptr: u32,
        old_size: u32,
        align: u32,
        new_size: u32,
    ) -> Result<u32, AbiError> {
        if !self.opts.has_memory {
            return Err(AbiError::MissingMemory);
        }
        if !self.opts.has_realloc {
            return Err(AbiError::MissingRealloc);
        }
        self.memory.realloc(old_ptr, old_size, align, new_size)
    }

    /// `load_int(cx, ptr, nbytes)` as an unsigned little-endian number.
    pub(crate) fn load_uint(&self, ptr: u32, nbytes: u32) -> Result<u64, AbiError> {
        let b = self.read(ptr, nbytes)?;
        let mut buf = [0u8; 8];
        buf[..b.len()].copy_from_slice(b);
        Ok(u64::from_le_bytes(buf))
    }

    /// `store_int(cx, v, ptr, nbytes)`: the low `nbytes` bytes of `v`.
    pub(crate) fn store_uint(&mut self, v: u64, ptr: u32, nbytes: u32) -> Result<(), AbiError> {
        let bytes = v.to_le_bytes();
        self.write(ptr, &bytes[..nbytes as usize])
    }

    /// Traps unless `ptr` is `align`-aligned and `ptr + size` is in bounds:
    /// the checks `lift_flat_values` / `lower_flat_values` perform on a
    /// spilled tuple pointer (see [`check_pointer`]).
    pub(crate) fn check_ptr(&self, ptr: u32, align: u32, size: u32) -> Result<(), AbiError> {
        check_pointer(ptr, align, size, self.mem_len()?)
    }

    /// Traps unless a pointer returned by `realloc` is aligned and its
    /// `size`-byte allocation is in bounds (see [`check_realloc`]).
    pub(crate) fn check_realloc(&self, ptr: u32, align: u32, size: u64) -> Result<(), AbiError> {
        check_realloc(ptr, align, size, self.mem_len()?)
    }

    /// Traps unless `ptr + size` is within memory (the spec's bounds check
    /// after a `realloc` that needs no alignment check).
    pub(crate) fn check_realloc_bounds(&self, ptr: u32, size: u64) -> Result<(), AbiError> {
        check_realloc_bounds(ptr, size, self.mem_len()?)
    }
}

// The checks below take the memory's length as a number, so that code with
// no `LiftLowerContext` (the WASI shims' generated glue) makes exactly the
// same checks with exactly the same errors.

/// Traps unless `ptr` is `align`-aligned and `ptr + size` lies within a
/// memory of `mem_len` bytes: what `lift_flat_values` / `lower_flat_values`
/// check of a spilled tuple pointer or a `retptr`.
pub fn check_pointer(ptr: u32, align: u32, size: u32, mem_len: u64) -> Result<(), AbiError> {
    if !super::types::is_aligned(ptr, align) {
        return Err(AbiError::PointerMisaligned { ptr, align });
    }
    if u64::from(ptr) + u64::from(size) > mem_len {
        return Err(AbiError::PointerOutOfBounds {
            ptr,
            size: u64::from(size),
        });
    }
    Ok(())
}

/// Traps unless a pointer returned by `realloc(.., align, size)` is aligned
/// and its allocation lies within a memory of `mem_len` bytes.
pub fn check_realloc(ptr: u32, align: u32, size: u64, mem_len: u64) -> Result<(), AbiError> {
    if !super::types::is_aligned(ptr, align) {
        return Err(AbiError::ReallocMisaligned { ptr, align });
    }
    check_realloc_bounds(ptr, size, mem_len)
}

/// Traps unless `ptr + size` is within a memory of `mem_len` bytes.
pub fn check_realloc_bounds(ptr: u32, size: u64, mem_len: u64) -> Result<(), AbiError> {
    if u64::from(ptr) + size > mem_len {
        return Err(AbiError::ReallocOutOfBounds { ptr, size });
    }
    Ok(())
}
