//! Guest pointers: bounds- and alignment-checked access to a guest's linear
//! memory, and translation of guest pointers into host addresses.
//!
//! Invariants:
//! * Every guest `(ptr, len)` is checked against the memory's current length
//!   (in 64-bit arithmetic, so `ptr + len` cannot wrap) and against the
//!   alignment its WASI type requires *before* any host address is formed
//!   from it. A host address handed out here therefore always lies inside the
//!   guest memory slice: a guest can never make the host read or write the
//!   shim's own memory.
//! * A bad pointer is a [`GuestError`], which the caller turns into a trap of
//!   the guest, as wasmtime does ("Pointer out of bounds: Region { .. }").
//! * Translated addresses are only valid while the `&mut [u8]` this
//!   [`GuestMem`] borrows is alive (guest memory cannot grow during a host
//!   call, and the borrow stops anyone else from touching it).
//!
//! This module is target independent (plain arithmetic on the slice's
//! address), so it is unit-tested natively.

#![cfg_attr(not(target_os = "wasi"), allow(dead_code))]

use std::fmt;
use std::ops::Range;

/// Why a guest pointer was rejected. Its `Display` follows wiggle's wording,
/// which is what wasmtime prints when a WASI call traps on a bad pointer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestError {
    /// `[start, start + len)` is not inside the memory.
    OutOfBounds { start: u32, len: u64 },
    /// `start` is not a multiple of `align`.
    NotAligned { start: u32, len: u64, align: u32 },
}

impl fmt::Display for GuestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            GuestError::OutOfBounds { start, len } => {
                write!(
                    f,
                    "Pointer out of bounds: Region {{ start: {start}, len: {len} }}"
                )
            }
            GuestError::NotAligned { start, len, align } => {
                write!(
                    f,
                    "Pointer not aligned to {align}: Region {{ start: {start}, len: {len} }}"
                )
            }
        }
    }
}

impl std::error::Error for GuestError {}

/// A host-side iovec: the layout of WASI's `iovec`/`ciovec` on the host
/// (two `usize`s, i.e. two `u32`s on wasm32), pointing into guest memory.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostIovec {
    pub buf: usize,
    pub len: usize,
}

/// Size and alignment of a guest iovec (`{ buf: u32, len: u32 }`).
const GUEST_IOVEC_SIZE: u64 = 8;
const GUEST_IOVEC_ALIGN: u32 = 4;

/// The iovec count at which wasmtime 49's p1 answers `ENOMEM` (48) instead
/// of doing the I/O. Observed on `fd_write`, `fd_read` and `fd_pwrite`: a
/// count above it is `ENOMEM` before the array's bounds are checked; a count
/// of exactly this many is `ENOMEM` once the array is in bounds (one less
/// works).
pub const MAX_IOVECS: u32 = 1 << 24;

/// A guest's linear memory, borrowed for the duration of one host call.
pub struct GuestMem<'a> {
    mem: &'a mut [u8],
}

impl<'a> GuestMem<'a> {
    pub fn new(mem: &'a mut [u8]) -> Self {
        GuestMem { mem }
    }

    /// The byte range of `[ptr, ptr + len)` after checking bounds and
    /// alignment.
    pub fn region(&self, ptr: u32, len: u64, align: u32) -> Result<Range<usize>, GuestError> {
        // `align` is a power of two.
        if ptr & (align - 1) != 0 {
            return Err(GuestError::NotAligned {
                start: ptr,
                len,
                align,
            });
        }
        let end = u64::from(ptr) + len;
        if end > self.mem.len() as u64 {
            return Err(GuestError::OutOfBounds { start: ptr, len });
        }
        // Both fit in usize: `end` is at most the slice's length.
        Ok(ptr as usize..end as usize)
    }

    /// The host address of guest `ptr`, once `[ptr, ptr + len)` is checked.
    pub fn host_addr(&mut self, ptr: u32, len: u64, align: u32) -> Result<usize, GuestError> {
        let range = self.region(ptr, len, align)?;
        Ok(self.mem.as_mut_ptr() as usize + range.start)
    }

    /// The bytes `[ptr, ptr + len)`.
    pub fn read(&self, ptr: u32, len: u64) -> Result<&[u8], GuestError> {
        let r = self.region(ptr, len, 1)?;
        Ok(&self.mem[r])
    }

    /// Reads a little-endian `u32` (alignment 4).
    pub fn read_u32(&self, ptr: u32) -> Result<u32, GuestError> {
        let r = self.region(ptr, 4, 4)?;
        let mut b = [0u8; 4];
        b.copy_from_slice(&self.mem[r]);
        Ok(u32::from_le_bytes(b))
    }

    /// Writes `bytes` at `ptr` with the given alignment.
    pub fn write(&mut self, ptr: u32, bytes: &[u8], align: u32) -> Result<(), GuestError> {
        let r = self.region(ptr, bytes.len() as u64, align)?;
        self.mem[r].copy_from_slice(bytes);
        Ok(())
    }

    /// Translates a guest iovec array of `count` entries at `ptr` into host
    /// iovecs pointing into guest memory.
    ///
    /// Mirrors what wasmtime validates: the array entries themselves must be
    /// readable; an empty buffer is never dereferenced, so its pointer is not
    /// checked; the first non-empty buffer must be in bounds. A later buffer
    /// that is out of bounds ends the list there (wasmtime only ever
    /// transfers the first non-empty buffer, so it never looks at it), which
    /// keeps every address handed to the host inside guest memory.
    ///
    /// `Ok(None)`: too many iovecs to translate, which the caller answers
    /// with `ENOMEM` as wasmtime does (see [`MAX_IOVECS`]; also when the
    /// shim cannot allocate the host array).
    pub fn iovecs(&mut self, ptr: u32, count: u32) -> Result<Option<Vec<HostIovec>>, GuestError> {
        if count > MAX_IOVECS {
            return Ok(None);
        }
        let total = u64::from(count) * GUEST_IOVEC_SIZE;
        self.region(ptr, total, GUEST_IOVEC_ALIGN)?;
        if count == MAX_IOVECS {
            return Ok(None);
        }
        let base = self.mem.as_mut_ptr() as usize;
        let mut out = Vec::new();
        if out.try_reserve_exact(count as usize).is_err() {
            return Ok(None);
        }
        let mut seen_data = false;
        for i in 0..count {
            let entry = ptr + i * GUEST_IOVEC_SIZE as u32;
            let buf = self.read_u32(entry)?;
            let len = self.read_u32(entry + 4)?;
            if len == 0 {
                out.push(HostIovec { buf: base, len: 0 });
                continue;
            }
            match self.region(buf, u64::from(len), 1) {
                Ok(r) => out.push(HostIovec {
                    buf: base + r.start,
                    len: len as usize,
                }),
                Err(e) if !seen_data => return Err(e),
                Err(_) => break,
            }
            seen_data = true;
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_alignment() {
        let mut mem = vec![0u8; 64];
        let g = GuestMem::new(&mut mem);
        assert_eq!(g.region(0, 64, 8), Ok(0..64));
        assert_eq!(g.region(64, 0, 1), Ok(64..64));
        assert_eq!(
            g.region(65, 0, 1),
            Err(GuestError::OutOfBounds { start: 65, len: 0 })
        );
        assert_eq!(
            g.region(60, 8, 4),
            Err(GuestError::OutOfBounds { start: 60, len: 8 })
        );
        assert_eq!(
            g.region(u32::MAX, u64::from(u32::MAX), 1).unwrap_err(),
            GuestError::OutOfBounds {
                start: u32::MAX,
                len: u64::from(u32::MAX)
            }
        );
        assert_eq!(
            g.region(2, 4, 4),
            Err(GuestError::NotAligned {
                start: 2,
                len: 4,
                align: 4
            })
        );
    }

    #[test]
    fn reads_and_writes() {
        let mut mem = vec![0u8; 16];
        let mut g = GuestMem::new(&mut mem);
        g.write(4, &7u32.to_le_bytes(), 4).unwrap();
        assert_eq!(g.read_u32(4), Ok(7));
        assert!(g.write(14, &[1, 2, 3], 1).is_err());
        assert_eq!(mem[14..], [0, 0]);
    }

    #[test]
    fn iovec_translation() {
        let mut mem = vec![0u8; 64];
        let iov = |m: &mut Vec<u8>, at: usize, buf: u32, len: u32| {
            m[at..at + 4].copy_from_slice(&buf.to_le_bytes());
            m[at + 4..at + 8].copy_from_slice(&len.to_le_bytes());
        };
        iov(&mut mem, 0, 1000, 0); // empty: pointer ignored
        iov(&mut mem, 8, 32, 8);
        iov(&mut mem, 16, 60, 8); // out of bounds after data: list ends
        let base = mem.as_ptr() as usize;
        let mut g = GuestMem::new(&mut mem);
        let v = g.iovecs(0, 3).unwrap().unwrap();
        assert_eq!(
            v,
            vec![
                HostIovec { buf: base, len: 0 },
                HostIovec {
                    buf: base + 32,
                    len: 8
                }
            ]
        );
        // The first non-empty buffer out of bounds is an error.
        assert_eq!(
            g.iovecs(16, 1),
            Err(GuestError::OutOfBounds { start: 60, len: 8 })
        );
        // The array itself must be in bounds and aligned.
        assert!(g.iovecs(60, 1).is_err());
        assert!(g.iovecs(2, 1).is_err());
        assert_eq!(g.iovecs(64, 0), Ok(Some(vec![])));
        // Too many: ENOMEM before the bounds check above the limit, after it at the limit.
        assert_eq!(g.iovecs(0, MAX_IOVECS + 1), Ok(None));
        assert!(g.iovecs(0, MAX_IOVECS).is_err());
    }

    #[test]
    fn iovecs_at_the_limit_are_refused_in_bounds() {
        let mut mem = vec![0u8; (MAX_IOVECS as usize) * 8];
        let mut g = GuestMem::new(&mut mem);
        assert_eq!(g.iovecs(0, MAX_IOVECS), Ok(None));
    }
}
