//! The bytes of one linear memory and how they grow.
//!
//! A [`LinearMemory`] owns `len` initialised bytes at `ptr`, inside a block
//! of `cap` bytes; it derefs to `[u8]` of length `len`. Two backings:
//!
//! * **Heap**: a block from the global allocator (`Layout::array::<u8>(cap)`,
//!   or no block when `cap == 0`). Growth past `cap` reallocates with
//!   amortised doubling; new bytes are zeroed explicitly. Used on every
//!   target for small memories and everywhere but wasm32.
//! * **Pages** (wasm32 only): a region of whole pages taken with
//!   `memory.grow` from the shim's own memory, owned by no allocator. Its
//!   bytes from `len` to `cap` are zero (fresh pages are zero, and a reused
//!   region is zeroed when taken), so growth within `cap` writes nothing.
//!   A region that ends at the end of the shim's memory grows in place by
//!   `memory.grow`. This is why it exists: the shim's memory never shrinks,
//!   so a memory that grows by copying into a new block leaves every page of
//!   the old block resident, and a guest memory grown by doubling a heap
//!   block costs about twice its size; in place, it costs its size, and the
//!   pages the guest has not touched are not touched either (wasmtime and
//!   V8 back them lazily). Only a region that is not at the end (something
//!   else grew the shim's memory after it) is moved; the region it leaves
//!   is kept in a free list and reused by later regions.
//!
//! **Headroom.** On wasm32 the guest's memories and tables share the shim's
//! one 4 GiB address space with the shim's own allocations, and a failed
//! host allocation aborts. So guest-driven growth ([`may_allocate`]: every
//! memory and table allocation and growth) is refused, as a failed
//! `memory.grow` or a clear limit error, when it would leave the shim less
//! than `HEADROOM` (64 MiB) bytes of address space it has not yet taken; the shim's
//! own allocations after that still find room.
//!
//! Invariants: `ptr` is non-null and valid for `cap` bytes; `len <= cap`;
//! bytes `[0, len)` are initialised; for Pages, bytes `[len, cap)` are zero.

use std::alloc::{self, Layout};
use std::ptr::NonNull;

/// Memories at least this large live in page regions on wasm32.
#[cfg(target_arch = "wasm32")]
const PAGES_THRESHOLD: usize = 1 << 20;

/// Address space kept for the shim's own allocations (see the module doc).
#[cfg(target_arch = "wasm32")]
const HEADROOM: u64 = 64 << 20;

/// Whether the guest may take `bytes` more of the shim's memory: on wasm32,
/// whether `HEADROOM` bytes of address space would remain untaken after it
/// (the allocator's free blocks are not counted, so this errs on the side of
/// refusing); natively, always (the host's allocator reports failure).
pub fn may_allocate(bytes: usize) -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        let end = std::arch::wasm32::memory_size(0) as u64 * 65536;
        end.saturating_add(bytes as u64).saturating_add(HEADROOM) <= 1 << 32
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = bytes;
        true
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Backing {
    Heap,
    #[cfg(target_arch = "wasm32")]
    Pages,
}

pub(crate) struct LinearMemory {
    ptr: NonNull<u8>,
    len: usize,
    cap: usize,
    backing: Backing,
}

impl LinearMemory {
    /// A zeroed memory of `len` bytes, or `None` when it cannot be allocated.
    pub fn new(len: usize) -> Option<LinearMemory> {
        #[cfg(target_arch = "wasm32")]
        if len >= PAGES_THRESHOLD {
            let (ptr, cap) = pages::take(len)?;
            return Some(LinearMemory {
                ptr,
                len,
                cap,
                backing: Backing::Pages,
            });
        }
        if len == 0 {
            return Some(LinearMemory {
                ptr: NonNull::dangling(),
                len: 0,
                cap: 0,
                backing: Backing::Heap,
            });
        }
        if !may_allocate(len) {
            return None;
        }
        let layout = Layout::array::<u8>(len).ok()?;
        // SAFETY: `layout` has a non-zero size.
        let ptr = NonNull::new(unsafe { alloc::alloc_zeroed(layout) })?;
        Some(LinearMemory {
            ptr,
            len,
            cap: len,
            backing: Backing::Heap,
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Grows to `new_len` bytes (the new bytes zero); `limit` is the largest
    /// length the memory may ever reach, so amortised growth reserves no
    /// more. Returns false, unchanged, when the bytes cannot be had.
    pub fn grow_to(&mut self, new_len: usize, limit: usize) -> bool {
        if new_len <= self.len {
            return true;
        }
        match self.backing {
            Backing::Heap => {
                if new_len > self.cap {
                    #[cfg(target_arch = "wasm32")]
                    if new_len >= PAGES_THRESHOLD {
                        return self.move_to_pages(new_len);
                    }
                    let target = new_len.max(self.cap.saturating_mul(2).min(limit));
                    if !self.realloc_heap(target) && !self.realloc_heap(new_len) {
                        return false;
                    }
                }
                // SAFETY: `new_len <= cap`, so the range is inside the block.
                unsafe {
                    self.ptr
                        .as_ptr()
                        .add(self.len)
                        .write_bytes(0, new_len - self.len)
                };
            }
            #[cfg(target_arch = "wasm32")]
            Backing::Pages => {
                if new_len > self.cap {
                    match pages::extend(self.ptr, self.cap, new_len) {
                        Some(cap) => self.cap = cap,
                        None => return self.move_to_pages(new_len),
                    }
                }
            }
        }
        self.len = new_len;
        true
    }

    /// Heap backing: reallocates the block to `cap` bytes.
    fn realloc_heap(&mut self, cap: usize) -> bool {
        let Ok(layout) = Layout::array::<u8>(cap) else {
            return false;
        };
        if !may_allocate(cap.saturating_sub(self.cap)) {
            return false;
        }
        let ptr = if self.cap == 0 {
            // SAFETY: `cap > len >= 0`, so `layout` has a non-zero size.
            unsafe { alloc::alloc(layout) }
        } else {
            // SAFETY: the block was allocated with this layout at `self.cap`
            // bytes; `cap` is non-zero and fits `isize` (Layout checked it).
            unsafe {
                alloc::realloc(
                    self.ptr.as_ptr(),
                    Layout::from_size_align_unchecked(self.cap, 1),
                    cap,
                )
            }
        };
        match NonNull::new(ptr) {
            Some(p) => {
                self.ptr = p;
                self.cap = cap;
                true
            }
            None => false,
        }
    }

    /// Moves the bytes into a new page region of at least `new_len` bytes and
    /// releases the old block.
    #[cfg(target_arch = "wasm32")]
    fn move_to_pages(&mut self, new_len: usize) -> bool {
        let Some((ptr, cap)) = pages::take(new_len) else {
            return false;
        };
        // SAFETY: the new region is valid for `cap >= new_len > len` bytes and
        // is disjoint from the old block, which holds `len` initialised bytes.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.as_ptr(), ptr.as_ptr(), self.len) };
        self.release();
        *self = LinearMemory {
            ptr,
            len: new_len,
            cap,
            backing: Backing::Pages,
        };
        true
    }

    /// Gives the block back (to the allocator or the free list of regions).
    fn release(&mut self) {
        match self.backing {
            Backing::Heap if self.cap > 0 => {
                // SAFETY: the block was allocated with this layout.
                unsafe {
                    alloc::dealloc(
                        self.ptr.as_ptr(),
                        Layout::from_size_align_unchecked(self.cap, 1),
                    )
                }
            }
            Backing::Heap => {}
            #[cfg(target_arch = "wasm32")]
            Backing::Pages => pages::release(self.ptr, self.cap, self.len),
        }
        self.cap = 0;
        self.len = 0;
    }
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        self.release();
    }
}

impl std::ops::Deref for LinearMemory {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `len` initialised bytes at `ptr` (module invariants).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl std::ops::DerefMut for LinearMemory {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`; `&mut self` makes the access unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

/// Page regions of the shim's own memory (wasm32).
///
/// Invariants: every region is a whole number of pages, page-aligned, taken
/// with `memory.grow` and never handed to the allocator; a region is owned
/// either by one [`LinearMemory`] or by the free list, which records for each
/// region the length of its prefix that may be non-zero (`dirty`).
#[cfg(target_arch = "wasm32")]
mod pages {
    use std::arch::wasm32::{memory_grow, memory_size};
    use std::ptr::NonNull;
    use std::sync::Mutex;

    const PAGE: u64 = 65536;

    struct Free {
        addr: usize,
        cap: usize,
        dirty: usize,
    }

    static FREE: Mutex<Vec<Free>> = Mutex::new(Vec::new());

    fn free_list() -> std::sync::MutexGuard<'static, Vec<Free>> {
        FREE.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The end of the shim's memory, in bytes (up to 2^32, hence u64).
    fn memory_end() -> u64 {
        memory_size(0) as u64 * PAGE
    }

    fn pages_for(bytes: usize) -> usize {
        (bytes as u64).div_ceil(PAGE) as usize
    }

    /// Grows the shim's memory by `pages`: the address of the new pages
    /// (`None` also when that would eat into the shim's headroom).
    fn grow(pages: usize) -> Option<u64> {
        if !super::may_allocate(pages.checked_mul(PAGE as usize)?) {
            return None;
        }
        let old = memory_grow(0, pages);
        (old != usize::MAX).then_some(old as u64 * PAGE)
    }

    /// A zeroed region of at least `len` bytes: the smallest free region that
    /// fits, else a free region at the end of memory grown to fit, else new
    /// pages.
    pub fn take(len: usize) -> Option<(NonNull<u8>, usize)> {
        let mut free = free_list();
        let best = (0..free.len())
            .filter(|&i| free[i].cap >= len)
            .min_by_key(|&i| free[i].cap);
        if let Some(i) = best {
            let r = free.swap_remove(i);
            // SAFETY: the free list owns this region of `cap >= dirty` bytes.
            unsafe { (r.addr as *mut u8).write_bytes(0, r.dirty) };
            return Some((NonNull::new(r.addr as *mut u8)?, r.cap));
        }
        let end = memory_end();
        if let Some(i) = free
            .iter()
            .position(|r| r.addr as u64 + r.cap as u64 == end)
        {
            let more = pages_for(len - free[i].cap);
            if grow(more)? == end {
                let r = free.swap_remove(i);
                // SAFETY: as above; the pages past `cap` are fresh.
                unsafe { (r.addr as *mut u8).write_bytes(0, r.dirty) };
                return Some((NonNull::new(r.addr as *mut u8)?, r.cap + more * 65536));
            }
        }
        drop(free);
        reserve_heap_slack(len);
        let pages = pages_for(len);
        let addr = grow(pages)?;
        Some((NonNull::new(addr as usize as *mut u8)?, pages * 65536))
    }

    /// Makes the allocator take room for its future growth now, below the
    /// region about to be placed at the end of memory: a region can only grow
    /// in place while nothing else grows the memory after it, and the
    /// allocator grows it when it has no free block that fits. Allocating and
    /// freeing a block leaves that much free in the heap. It costs address
    /// space, which wasmtime and V8 back lazily; on a host that backs memory
    /// eagerly (wasmi) it costs resident memory, hence the cap.
    fn reserve_heap_slack(len: usize) {
        let slack = (len / 8).clamp(1 << 20, 16 << 20);
        let layout = std::alloc::Layout::array::<u8>(slack).expect("slack fits a layout");
        // SAFETY: a non-zero size; the block is freed at once, untouched.
        unsafe {
            let p = std::hint::black_box(std::alloc::alloc(layout));
            if !p.is_null() {
                std::alloc::dealloc(p, layout);
            }
        }
    }

    /// Grows the region `[ptr, ptr + cap)` in place to at least `len` bytes:
    /// its new capacity, or `None` when it is not at the end of memory.
    pub fn extend(ptr: NonNull<u8>, cap: usize, len: usize) -> Option<usize> {
        let end = ptr.as_ptr() as u64 + cap as u64;
        if end != memory_end() {
            return None;
        }
        let more = pages_for(len - cap);
        let at = grow(more)?;
        if at != end {
            // Someone grew the memory in between: keep the new pages.
            free_list().push(Free {
                addr: at as usize,
                cap: more * 65536,
                dirty: 0,
            });
            return None;
        }
        Some(cap + more * 65536)
    }

    /// Puts a region of which the first `dirty` bytes may be non-zero on the
    /// free list.
    pub fn release(ptr: NonNull<u8>, cap: usize, dirty: usize) {
        free_list().push(Free {
            addr: ptr.as_ptr() as usize,
            cap,
            dirty,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_zeroed_and_keeps_bytes() {
        let mut m = LinearMemory::new(10).unwrap();
        assert!(m.iter().all(|&b| b == 0));
        m[3] = 7;
        for &n in &[11, 65536, 3 << 20, (3 << 20) + 1, 9 << 20] {
            assert!(m.grow_to(n, 16 << 20));
            assert_eq!(m.len(), n);
            assert_eq!(m[3], 7);
            assert!(
                m[..3].iter().chain(&m[4..]).all(|&b| b == 0),
                "non-zero byte after growing to {n}"
            );
            let last = n - 1;
            m[last] = 1;
            m[last] = 0;
        }
        assert!(m.grow_to(5, 16 << 20), "a smaller length is a no-op");
        assert_eq!(m.len(), 9 << 20);
    }

    #[test]
    fn reused_blocks_come_back_zeroed() {
        for _ in 0..3 {
            let mut a = LinearMemory::new(2 << 20).unwrap();
            let mut b = LinearMemory::new(0).unwrap();
            assert!(b.grow_to(3 << 20, 4 << 20));
            assert!(a.grow_to(5 << 20, 8 << 20));
            assert!(a.iter().all(|&x| x == 0) && b.iter().all(|&x| x == 0));
            a.fill(0xAA);
            b.fill(0x55);
        }
    }
}
