//! How the Canonical ABI (and, later, the WASI shims) reach a guest's linear
//! memory and its `realloc`.
//!
//! [`MemoryView`] is the read side: byte length and bounds-checked read,
//! all that lifting a string or a list needs (the WASI shims' generated
//! glue lifts `string` / `list<u8>` parameters as borrowed views through
//! it; `[u8]` is one). [`GuestMemory`] adds the bounds-checked write and
//! the guest's `realloc` export (the `realloc` canonical option). Both are
//! object safe; the ABI works on `&mut dyn GuestMemory`.
//!
//! Invariants every implementation must keep:
//! * `read(ptr, len)` / `write(ptr, bytes)` succeed iff
//!   `ptr + len <= byte_len()` (computed without overflow), and otherwise
//!   return [`AbiError::MemoryOutOfBounds`] without side effects.
//!   Reads and writes are little-endian byte copies; there is no alignment
//!   requirement at this level (the ABI checks alignment itself where the
//!   spec says to trap).
//! * `realloc(old_ptr, old_size, align, new_size)` has the semantics of the
//!   guest's `cabi_realloc`: `(0, 0, align, n)` allocates, otherwise the
//!   allocation is resized and its first `min(old_size, new_size)` bytes are
//!   preserved (possibly moved). It may run guest code, which may trap
//!   ([`AbiError::Guest`]) or grow memory (so `byte_len()` must be re-read
//!   after it). It does *not* validate the returned pointer: the ABI does
//!   that and traps with `ReallocMisaligned` / `ReallocOutOfBounds` exactly
//!   where the spec does.
//!
//! [`VecMemory`] is a `Vec<u8>`-backed implementation with a bump allocator
//! and a call log, used by tests. [`NoMemory`] stands in when a function has
//! no `memory` option.

use super::AbiError;

/// Read access to one guest linear memory.
pub trait MemoryView {
    /// Current byte length of the memory (`len(cx.opts.memory)`); `u64`
    /// because a full 32-bit memory is 4 GiB.
    fn byte_len(&self) -> u64;

    /// Borrows `len` bytes at `ptr`.
    fn read(&self, ptr: u32, len: u32) -> Result<&[u8], AbiError>;
}

/// A memory as a byte slice (the interpreter's view of a core memory).
impl MemoryView for [u8] {
    fn byte_len(&self) -> u64 {
        self.len() as u64
    }

    fn read(&self, ptr: u32, len: u32) -> Result<&[u8], AbiError> {
        check_bounds(self.len() as u64, ptr, u64::from(len))?;
        Ok(&self[ptr as usize..ptr as usize + len as usize])
    }
}

/// Access to one guest linear memory and its `realloc`.
pub trait GuestMemory: MemoryView {
    /// Copies `bytes` to `ptr`.
    fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), AbiError>;

    /// Calls the guest's `realloc(old_ptr, old_size, align, new_size)`.
    fn realloc(
        &mut self,
        old_ptr: u32,
        old_size: u32,
        align: u32,
        new_size: u32,
    ) -> Result<u32, AbiError>;
}

/// Checks that `ptr .. ptr + len` lies within a memory of `mem_len` bytes.
pub fn check_bounds(mem_len: u64, ptr: u32, len: u64) -> Result<(), AbiError> {
    if u64::from(ptr) + len > mem_len {
        Err(AbiError::MemoryOutOfBounds { ptr, len })
    } else {
        Ok(())
    }
}

/// One recorded call to [`VecMemory::realloc`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReallocCall {
    pub old_ptr: u32,
    pub old_size: u32,
    pub align: u32,
    pub new_size: u32,
    /// The pointer returned.
    pub result: u32,
}

/// A `Vec<u8>`-backed [`GuestMemory`] with a bump allocator, for tests.
///
/// Allocations are never freed; a shrinking or growing `realloc` allocates
/// a fresh block and copies `min(old_size, new_size)` bytes (a shrink to a
/// size that fits is done in place, like real allocators often do).
#[derive(Debug, Clone)]
pub struct VecMemory {
    pub bytes: Vec<u8>,
    /// Next free byte of the bump allocator.
    pub next: u32,
    /// Every `realloc` call, in order.
    pub calls: Vec<ReallocCall>,
    /// If set, `realloc` returns these pointers (front first) instead of
    /// allocating, still copying data as a real allocator would (when in
    /// bounds). Used to provoke the spec's realloc traps.
    pub forced_results: std::collections::VecDeque<u32>,
}

impl VecMemory {
    /// A zeroed memory of `size` bytes; the allocator starts at byte 8 so
    /// that `0` is never a valid allocation.
    pub fn new(size: usize) -> Self {
        VecMemory {
            bytes: vec![0; size],
            next: 8,
            calls: Vec::new(),
            forced_results: Default::default(),
        }
    }

    /// One 64 KiB wasm page.
    pub fn page() -> Self {
        Self::new(65536)
    }

    /// Bump-allocates `size` bytes aligned to `align`.
    pub fn alloc(&mut self, align: u32, size: u32) -> Result<u32, AbiError> {
        let ptr = super::types::align_to(u64::from(self.next), align);
        let end = ptr + u64::from(size);
        if end > self.bytes.len() as u64 {
            return Err(AbiError::Guest("VecMemory: out of memory".into()));
        }
        self.next = end as u32;
        Ok(ptr as u32)
    }
}

impl MemoryView for VecMemory {
    fn byte_len(&self) -> u64 {
        self.bytes.len() as u64
    }

    fn read(&self, ptr: u32, len: u32) -> Result<&[u8], AbiError> {
        self.bytes.read(ptr, len)
    }
}

impl GuestMemory for VecMemory {
    fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), AbiError> {
        check_bounds(self.byte_len(), ptr, bytes.len() as u64)?;
        self.bytes[ptr as usize..ptr as usize + bytes.len()].copy_from_slice(bytes);
        Ok(())
    }

    fn realloc(
        &mut self,
        old_ptr: u32,
        old_size: u32,
        align: u32,
        new_size: u32,
    ) -> Result<u32, AbiError> {
        let result = if let Some(forced) = self.forced_results.pop_front() {
            forced
        } else if old_ptr != 0
            && new_size <= old_size
            && u64::from(old_ptr) == super::types::align_to(u64::from(old_ptr), align)
        {
            old_ptr
        } else {
            self.alloc(align, new_size)?
        };
        if old_ptr != 0 && result != old_ptr {
            let n = old_size.min(new_size) as u64;
            if u64::from(old_ptr) + n <= self.byte_len() && u64::from(result) + n <= self.byte_len()
            {
                let (o, r, n) = (old_ptr as usize, result as usize, n as usize);
                self.bytes.copy_within(o..o + n, r);
            }
        }
        self.calls.push(ReallocCall {
            old_ptr,
            old_size,
            align,
            new_size,
            result,
        });
        Ok(result)
    }
}

/// The memory of a function without a `memory` option: empty, and every
/// access or `realloc` is an embedder error.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMemory;

impl MemoryView for NoMemory {
    fn byte_len(&self) -> u64 {
        0
    }
    fn read(&self, _ptr: u32, _len: u32) -> Result<&[u8], AbiError> {
        Err(AbiError::MissingMemory)
    }
}

impl GuestMemory for NoMemory {
    fn write(&mut self, _ptr: u32, _bytes: &[u8]) -> Result<(), AbiError> {
        Err(AbiError::MissingMemory)
    }
    fn realloc(&mut self, _: u32, _: u32, _: u32, _: u32) -> Result<u32, AbiError> {
        Err(AbiError::MissingRealloc)
    }
}
