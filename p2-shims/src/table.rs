//! The shims' resource table: every host resource the guest holds (streams,
//! pollables, errors, descriptors, ...) by the rep the linker carries in
//! `Val::Resource`.
//!
//! Invariants:
//! * Reps are unique across all kinds and never reused (a counter), so a
//!   stale rep can never reach a different object; rep 0 is never issued.
//! * An entry leaves the table only through [`Table::remove`], called by the
//!   resource's destructor when the guest drops its last handle.
//! * Parent and child, as wasmtime's `ResourceTable` tracks them: a child
//!   names its parent, which must be live when the child is made, and an
//!   entry with live children cannot be removed ([`HostError::HasChildren`],
//!   which traps the guest as wasmtime's "resource has children" does). The
//!   only pairs wasmtime's WASI 0.2 makes that a guest can see here are a
//!   stream and the pollables `subscribe` made from it. A descriptor is not
//!   the parent of its streams or directory listings (wasmtime's streams
//!   hold the open file itself), and a clock's pollable has no parent.
//! * A p1 fd opened by the shims (by `open-at`) is shared by its descriptor
//!   and every stream made from it, and counted: [`Table::remove`] returns
//!   it for closing only when its last holder leaves. So a stream outlives
//!   its descriptor on the same open file, and a closed fd number, reused
//!   by the host for the next open, is never reachable through a stale
//!   holder.
//! * Typed getters return [`HostError::BadHandle`] instead of panicking.
//! * Reps below 256 are found by index in a vector (no hashing: the stdio
//!   streams every print uses are among them), and so are the live ones
//!   among the last 1024 issued (a deque: the descriptor and streams of
//!   the file a program works on now); older live entries are in a map.
//!   The fd holders, and `WasiCtx`'s per-fd facts and origins, are by fd
//!   number ([`SmallMap`]: fds below 256 by index).
//! * The maps hash their `u32` keys with [`RepHasher`] (one multiply), not
//!   SipHash: keys are reps and fd numbers the shims and the host issue,
//!   never chosen by the guest, so there is no flooding to resist, and a
//!   lookup runs on every stream call (print-heavy in lowered mode spent
//!   about 560 instructions per printed line hashing with SipHash).

use crate::bindings::filesystem_types::{DescriptorType, ErrorCode};
use crate::error::HostError;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// Fibonacci hashing of a `u32` key: the multiply spreads the key into the
/// high bits, which the map's control bytes use.
#[derive(Default)]
pub struct RepHasher(u64);

impl Hasher for RepHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, k: u32) {
        self.0 = (self.0 ^ u64::from(k)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by reps or fd numbers (see the module doc).
type RepMap<V> = HashMap<u32, V, BuildHasherDefault<RepHasher>>;

/// An input stream over a p1 fd: `offset` is `Some` for files read with
/// `fd_pread` at a position the stream owns, `None` for fd_read (stdin).
#[derive(Debug)]
pub struct InputStream {
    pub fd: u32,
    pub offset: Option<u64>,
    pub closed: bool,
    /// The stream holds a count on `fd`, which the shims opened (see the
    /// module doc); false for stdio.
    pub owns_fd: bool,
}

/// Where an output stream writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// `fd_write` at the fd's own position (stdout, stderr).
    Stream,
    /// `fd_pwrite` at a position the stream owns.
    At(u64),
    /// `fd_pwrite` at the file's current size.
    Append,
}

#[derive(Debug)]
pub struct OutputStream {
    pub fd: u32,
    pub kind: OutputKind,
    pub closed: bool,
    /// As [`InputStream::owns_fd`].
    pub owns_fd: bool,
    /// A `write` to a file that failed with this errno, reported by the
    /// stream's next call (see `io::streams`).
    pub failed: Option<u16>,
}

/// What a pollable waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pollable {
    /// Always ready.
    Ready,
    /// Ready once the host's monotonic clock reaches this instant (ns; the
    /// guest's time less its offset, see `clocks`).
    Instant(u64),
    /// Ready when the fd is readable.
    FdRead(u32),
}

/// A `wasi:io/error.error`: the p1 errno (when there is one) and a message.
#[derive(Debug, Clone)]
pub struct IoError {
    pub errno: Option<u16>,
    pub message: String,
}

/// A `wasi:filesystem/types.descriptor` over a p1 fd.
#[derive(Debug, Clone, Copy)]
pub struct Descriptor {
    pub fd: u32,
    /// The shims opened `fd` (by `open-at`) and close it when its last
    /// holder leaves the table; false for preopens, which the host owns and
    /// `get-directories` hands out again.
    pub owned: bool,
    /// The p1 fdflags `open-at` asked for (`None` for preopens): `get-flags`
    /// reports these sync flags, as wasmtime does from the OS, rather than
    /// what the p1 host's `fd_fdstat_get` says (node's reports
    /// `data-integrity-sync` on files that were not opened with it).
    pub fdflags: Option<u16>,
}

/// One item of a `directory-entry-stream`: `(descriptor-type, name, d_ino)`
/// or an `error-code`; `d_ino` is p1 `fd_readdir`'s, 0 when the host does
/// not say (node) or the listing was restored from a checkpoint.
pub type DirItem = Result<(DescriptorType, String, u64), ErrorCode>;

/// A `directory-entry-stream`: the listing `read-directory` read whole.
#[derive(Debug)]
pub struct Listing {
    /// The rep of the descriptor listed (reps are never reused, so no other
    /// descriptor ever has it), 0 when not known (a restored listing).
    pub dir: u32,
    /// The entries not read yet.
    pub items: VecDeque<DirItem>,
}

#[derive(Debug)]
pub enum Entry {
    Input(InputStream),
    Output(OutputStream),
    Pollable(Pollable),
    Error(IoError),
    Descriptor(Descriptor),
    DirEntries(Listing),
    TerminalInput,
    TerminalOutput,
    Network,
}

impl Entry {
    /// The shims-owned p1 fd this entry holds a count on.
    pub(crate) fn owned_fd(&self) -> Option<u32> {
        match self {
            Entry::Descriptor(Descriptor {
                fd, owned: true, ..
            })
            | Entry::Input(InputStream {
                fd, owns_fd: true, ..
            })
            | Entry::Output(OutputStream {
                fd, owns_fd: true, ..
            }) => Some(*fd),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct Slot {
    entry: Entry,
    parent: Option<u32>,
    /// How many live entries name this one as their parent.
    children: u32,
}

/// Keys below this are looked up by index, without hashing.
const DIRECT: u32 = 256;

/// A map keyed by small `u32`s (reps, p1 fd numbers): keys below
/// [`DIRECT`] in a vector indexed by key (no hashing), the rest in a
/// [`RepMap`]. The vector never grows past [`DIRECT`] slots.
#[derive(Debug)]
pub(crate) struct SmallMap<V> {
    low: Vec<Option<V>>,
    high: RepMap<V>,
}

impl<V> Default for SmallMap<V> {
    fn default() -> Self {
        SmallMap {
            low: Vec::new(),
            high: RepMap::default(),
        }
    }
}

impl<V> SmallMap<V> {
    #[inline]
    pub(crate) fn get(&self, k: u32) -> Option<&V> {
        if k < DIRECT {
            self.low.get(k as usize)?.as_ref()
        } else {
            self.high.get(&k)
        }
    }
    #[inline]
    pub(crate) fn get_mut(&mut self, k: u32) -> Option<&mut V> {
        if k < DIRECT {
            self.low.get_mut(k as usize)?.as_mut()
        } else {
            self.high.get_mut(&k)
        }
    }
    /// The value of `k`, made with `make` when there is none.
    #[inline]
    pub(crate) fn get_or_insert_with(&mut self, k: u32, make: impl FnOnce() -> V) -> &mut V {
        if k < DIRECT {
            self.low_slot(k).get_or_insert_with(make)
        } else {
            self.high.entry(k).or_insert_with(make)
        }
    }
    pub(crate) fn insert(&mut self, k: u32, v: V) {
        if k < DIRECT {
            *self.low_slot(k) = Some(v);
        } else {
            self.high.insert(k, v);
        }
    }
    /// The vector's slot of key `k` (below [`DIRECT`]), grown to hold it.
    #[inline]
    fn low_slot(&mut self, k: u32) -> &mut Option<V> {
        let i = k as usize;
        if self.low.len() <= i {
            self.low.resize_with(i + 1, || None);
        }
        &mut self.low[i]
    }
    pub(crate) fn remove(&mut self, k: u32) -> Option<V> {
        if k < DIRECT {
            self.low.get_mut(k as usize)?.take()
        } else {
            self.high.remove(&k)
        }
    }
    /// Removes the value of `k` if `check` of it is `Ok`, dropping it where
    /// it lies (a value below [`DIRECT`] is not moved out first);
    /// `check`'s result, or `None` when `k` has no value.
    #[inline]
    fn remove_if<T, E>(
        &mut self,
        k: u32,
        check: impl FnOnce(&V) -> Result<T, E>,
    ) -> Option<Result<T, E>> {
        if k < DIRECT {
            drop_if(self.low.get_mut(k as usize)?, check)
        } else {
            let r = check(self.high.get(&k)?);
            if r.is_ok() {
                self.high.remove(&k);
            }
            Some(r)
        }
    }
    /// Every entry, in no particular order.
    #[cfg_attr(not(feature = "checkpoint"), allow(dead_code))]
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &V)> {
        let low = self.low.iter().enumerate();
        low.filter_map(|(i, v)| Some((i as u32, v.as_ref()?)))
            .chain(self.high.iter().map(|(k, v)| (*k, v)))
    }
}
/// Empties `cell` if `check` of its value is `Ok`, dropping the value in
/// place (no copy of it out of the table); `check`'s result, or `None` when
/// the cell is empty.
#[inline(always)]
fn drop_if<V, T, E>(
    cell: &mut Option<V>,
    check: impl FnOnce(&V) -> Result<T, E>,
) -> Option<Result<T, E>> {
    let r = check(cell.as_ref()?);
    if r.is_ok() {
        *cell = None;
    }
    Some(r)
}

/// The most recent reps kept by index (see [`Slots`]).
const WINDOW: usize = 1024;

/// The entries by rep, without hashing for the reps a program uses most:
/// the first [`DIRECT`] (the stdio streams and the other first resources of
/// a program) and the live ones among the last [`WINDOW`] issued (a file's
/// descriptor and streams, which its hot calls use). Reps are issued in
/// increasing order and never reused, so the window is a vector from `base`
/// (the rep of its first slot) whose first `dead` slots are empty (left
/// behind as the oldest entries go; cut off in bulk, so a lookup is one
/// subtraction and one index, with no ring arithmetic), and which moves an
/// entry still live when it falls out of the window into `old` (hashed
/// from then on).
#[derive(Debug)]
struct Slots {
    /// Reps below [`DIRECT`], and those older than the window.
    old: SmallMap<Slot>,
    /// Reps `base..base + recent.len()`: `recent[..dead]` are out of the
    /// window (empty, their entries removed or moved to `old`),
    /// `recent[dead]` (if any) is `Some`, and at most [`WINDOW`] slots
    /// follow `dead`.
    recent: Vec<Option<Slot>>,
    base: u32,
    dead: usize,
    /// `base + dead`: the window's first rep (older ones are in `old`).
    start: u32,
}

impl Default for Slots {
    fn default() -> Self {
        Slots {
            old: SmallMap::default(),
            recent: Vec::new(),
            base: DIRECT,
            dead: 0,
            start: DIRECT,
        }
    }
}

impl Slots {
    /// Where rep `rep` is in the window, if it belongs there.
    #[inline]
    fn index(&self, rep: u32) -> Option<usize> {
        (rep >= self.start).then(|| (rep - self.base) as usize)
    }
    #[inline]
    fn get(&self, rep: u32) -> Option<&Slot> {
        match self.index(rep) {
            Some(i) => self.recent.get(i)?.as_ref(),
            None => self.old.get(rep),
        }
    }
    #[inline]
    fn get_mut(&mut self, rep: u32) -> Option<&mut Slot> {
        match self.index(rep) {
            Some(i) => self.recent.get_mut(i)?.as_mut(),
            None => self.old.get_mut(rep),
        }
    }
    fn contains(&self, rep: u32) -> bool {
        self.get(rep).is_some()
    }
    /// The window's slots after the dead ones.
    #[inline]
    fn live_len(&self) -> usize {
        self.recent.len() - self.dead
    }
    /// Adds the entry of `rep`: at the window's end when `rep` comes next
    /// there (every new rep does, while the window has room).
    #[inline]
    fn insert(&mut self, rep: u32, slot: Slot) {
        match self.index(rep) {
            Some(i) if i == self.recent.len() && self.live_len() < WINDOW => {
                self.recent.push(Some(slot))
            }
            _ => self.insert_elsewhere(rep, slot),
        }
    }
    #[cold]
    #[inline(never)]
    fn insert_elsewhere(&mut self, rep: u32, slot: Slot) {
        let Some(mut i) = self.index(rep) else {
            self.old.insert(rep, slot);
            return;
        };
        if i >= self.recent.len() + WINDOW {
            // Far past the window (a rebuilt table): start a new one there.
            while self.live_len() > 0 {
                self.pop_front();
            }
            self.recent.clear();
            self.dead = 0;
            self.base = rep;
            self.start = rep;
            i = 0;
        }
        if self.recent.len() <= i {
            self.recent.resize_with(i + 1, || None);
        }
        self.recent[i] = Some(slot);
        while self.live_len() > WINDOW {
            self.pop_front();
        }
        self.trim();
    }
    /// Removes the entry of `rep` if `check` of it is `Ok` (see
    /// [`SmallMap::remove_if`]): dropped where it lies, not moved out.
    #[inline]
    fn remove_if<T, E>(
        &mut self,
        rep: u32,
        check: impl FnOnce(&Slot) -> Result<T, E>,
    ) -> Option<Result<T, E>> {
        match self.index(rep) {
            Some(i) => {
                let r = drop_if(self.recent.get_mut(i)?, check)?;
                if r.is_ok() {
                    self.trim();
                }
                Some(r)
            }
            None => self.old.remove_if(rep, check),
        }
    }
    /// Moves the window's first live slot out of it (into `old` if live).
    fn pop_front(&mut self) {
        if let Some(Some(slot)) = self.recent.get_mut(self.dead).map(Option::take) {
            self.old.insert(self.start, slot);
        }
        self.step();
    }
    /// The window's first slot is out of it.
    #[inline]
    fn step(&mut self) {
        self.dead += 1;
        self.start = self.start.saturating_add(1);
    }
    /// Steps over the window's leading empty slots, and cuts them off once
    /// they are as many as the live ones (or all of them): each slot is
    /// moved at most once per cut, so the cost per entry stays constant.
    #[inline]
    fn trim(&mut self) {
        while let Some(None) = self.recent.get(self.dead) {
            self.step();
        }
        if self.dead > 0 && self.dead >= self.live_len() {
            if self.dead == self.recent.len() {
                // All dead (the usual case once a file's resources are
                // dropped): no slot to move, so no call of `cut`.
                self.recent.clear();
                self.base = self.start;
                self.dead = 0;
            } else {
                self.cut();
            }
        }
    }
    /// Drops the dead slots from the vector (`base` follows).
    #[cold]
    #[inline(never)]
    fn cut(&mut self) {
        self.recent.drain(..self.dead);
        self.base = self.start;
        self.dead = 0;
    }
    /// Every entry, in no particular order.
    #[cfg_attr(not(feature = "checkpoint"), allow(dead_code))]
    fn iter(&self) -> impl Iterator<Item = (u32, &Slot)> {
        let base = self.base;
        let recent = self.recent.iter().enumerate();
        self.old
            .iter()
            .chain(recent.filter_map(move |(i, s)| Some((base + i as u32, s.as_ref()?))))
    }
}

#[derive(Debug, Default)]
pub struct Table {
    next: u32,
    entries: Slots,
    /// Holders of each shims-owned p1 fd.
    fd_holders: SmallMap<u32>,
}

macro_rules! getter {
    ($name:ident, $variant:ident, $ty:ty, $kind:literal) => {
        #[inline]
        pub fn $name(&mut self, rep: u32) -> Result<&mut $ty, HostError> {
            match self.entries.get_mut(rep).map(|s| &mut s.entry) {
                Some(Entry::$variant(v)) => Ok(v),
                _ => Err(HostError::BadHandle { rep, kind: $kind }),
            }
        }
    };
}

impl Table {
    /// Adds an entry and returns its new rep.
    #[inline]
    pub fn push(&mut self, e: Entry) -> Result<u32, HostError> {
        self.insert(e, None)
    }

    /// Adds an entry that is a child of live entry `parent` (which cannot
    /// be removed while the child lives).
    pub fn push_child(&mut self, e: Entry, parent: u32) -> Result<u32, HostError> {
        // The parent is looked up once, and counts the child only once
        // `insert` cannot fail (its one failure is checked first, after
        // the parent's, as before).
        let next = self.next_rep();
        let Some(p) = self.entries.get_mut(parent) else {
            return Err(HostError::BadHandle {
                rep: parent,
                kind: "parent resource",
            });
        };
        next?;
        p.children += 1;
        self.insert(e, Some(parent))
    }

    /// The rep [`Table::insert`] issues next, unless the reps ran out.
    #[inline(always)]
    fn next_rep(&self) -> Result<u32, HostError> {
        self.next
            .checked_add(1)
            .ok_or_else(|| HostError::Refused("resource table full".into()))
    }

    #[inline(always)]
    fn insert(&mut self, entry: Entry, parent: Option<u32>) -> Result<u32, HostError> {
        self.next = self.next_rep()?;
        if let Some(fd) = entry.owned_fd() {
            *self.fd_holders.get_or_insert_with(fd, || 0) += 1;
        }
        self.entries.insert(
            self.next,
            Slot {
                entry,
                parent,
                children: 0,
            },
        );
        Ok(self.next)
    }

    /// Removes entry `rep` (its last guest handle was dropped). Fails,
    /// leaving it in place, while it has children. Returns the shims-owned
    /// p1 fd to close when `rep` was its last holder.
    pub fn remove(&mut self, rep: u32) -> Result<Option<u32>, HostError> {
        // One lookup, and the entry dropped where it lies: only its parent
        // and fd are read out of it.
        let removed = self.entries.remove_if(rep, |s| match s.children {
            0 => Ok((s.parent, s.entry.owned_fd())),
            _ => Err(HostError::HasChildren),
        });
        let (parent, fd) = match removed {
            None => return Ok(None),
            Some(r) => r?,
        };
        if let Some(p) = parent.and_then(|p| self.entries.get_mut(p)) {
            p.children -= 1;
        }
        let Some(fd) = fd else {
            return Ok(None);
        };
        let holders = self.fd_holders.get_or_insert_with(fd, || 1);
        *holders -= 1;
        if *holders > 0 {
            return Ok(None);
        }
        self.fd_holders.remove(fd);
        Ok(Some(fd))
    }
    /// Every entry as `(rep, parent, entry)`, by rep.
    #[cfg_attr(not(feature = "checkpoint"), allow(dead_code))]
    pub(crate) fn entries(&self) -> Vec<(u32, Option<u32>, &Entry)> {
        let mut v: Vec<_> = self
            .entries
            .iter()
            .map(|(rep, s)| (rep, s.parent, &s.entry))
            .collect();
        v.sort_unstable_by_key(|e| e.0);
        v
    }

    /// The last rep issued.
    #[cfg_attr(not(feature = "checkpoint"), allow(dead_code))]
    pub(crate) fn last_rep(&self) -> u32 {
        self.next
    }

    /// A table holding `entries` (`(rep, parent, entry)`) whose last rep
    /// issued was `last`: reps nonzero, unique and at most `last`, parents
    /// among the entries; children and fd holders counted again.
    #[cfg_attr(not(feature = "checkpoint"), allow(dead_code))]
    pub(crate) fn rebuilt(
        last: u32,
        entries: Vec<(u32, Option<u32>, Entry)>,
    ) -> Result<Table, String> {
        let mut t = Table {
            next: last,
            ..Table::default()
        };
        let mut parents = Vec::new();
        for (rep, parent, entry) in entries {
            if rep == 0 || rep > last || t.entries.contains(rep) {
                return Err(format!("resource {rep} is out of place"));
            }
            if let Some(fd) = entry.owned_fd() {
                *t.fd_holders.get_or_insert_with(fd, || 0) += 1;
            }
            parents.extend(parent);
            t.entries.insert(
                rep,
                Slot {
                    entry,
                    parent,
                    children: 0,
                },
            );
        }
        for p in parents {
            t.entries
                .get_mut(p)
                .ok_or_else(|| format!("the parent resource {p} is missing"))?
                .children += 1;
        }
        Ok(t)
    }

    pub fn contains(&self, rep: u32) -> bool {
        self.entries.contains(rep)
    }
    pub fn is_network(&self, rep: u32) -> bool {
        matches!(
            self.entries.get(rep).map(|s| &s.entry),
            Some(Entry::Network)
        )
    }
    getter!(input, Input, InputStream, "input-stream");
    getter!(output, Output, OutputStream, "output-stream");
    getter!(pollable, Pollable, Pollable, "pollable");
    getter!(error, Error, IoError, "error");
    getter!(descriptor, Descriptor, Descriptor, "descriptor");
    getter!(dir_entries, DirEntries, Listing, "directory-entry-stream");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reps_are_unique_and_typed() {
        let mut t = Table::default();
        let a = t.push(Entry::Pollable(Pollable::Ready)).unwrap();
        let b = t.push(Entry::Network).unwrap();
        assert_ne!(a, b);
        assert!(t.pollable(a).is_ok());
        assert_eq!(
            t.pollable(b).unwrap_err(),
            HostError::BadHandle {
                rep: b,
                kind: "pollable"
            }
        );
        assert_eq!(t.remove(a), Ok(None));
        assert!(t.pollable(a).is_err());
        let c = t.push(Entry::Pollable(Pollable::Ready)).unwrap();
        assert!(c != a && c != b);
    }

    fn stream(fd: u32, owns_fd: bool) -> Entry {
        Entry::Input(InputStream {
            fd,
            offset: Some(0),
            closed: false,
            owns_fd,
        })
    }

    #[test]
    fn reps_on_both_sides_of_the_direct_slots() {
        let mut t = Table::default();
        let reps: Vec<u32> = (0..300)
            .map(|_| t.push(Entry::Pollable(Pollable::Ready)).unwrap())
            .collect();
        assert!(reps.contains(&(DIRECT - 1)) && reps.contains(&DIRECT));
        for &r in &reps {
            assert!(t.pollable(r).is_ok());
        }
        assert!(!t.contains(0) && !t.contains(301));
        for r in [1, DIRECT - 1, DIRECT, 300] {
            assert_eq!(t.remove(r), Ok(None));
            assert!(!t.contains(r) && t.pollable(r).is_err());
        }
        let listed: Vec<u32> = t.entries().iter().map(|e| e.0).collect();
        let mut want = reps.clone();
        want.retain(|r| ![1, DIRECT - 1, DIRECT, 300].contains(r));
        assert_eq!(listed, want);
    }

    #[test]
    fn entries_that_outlive_the_window_stay_reachable() {
        let mut t = Table::default();
        let n = 3 * WINDOW as u32;
        let reps: Vec<u32> = (0..n)
            .map(|_| t.push(Entry::Pollable(Pollable::Ready)).unwrap())
            .collect();
        // Keep every 7th (some in the direct slots, some moved out of the
        // window, some still in it); drop the others in a mixed order.
        let kept: Vec<u32> = reps.iter().copied().filter(|r| r % 7 == 0).collect();
        for &r in reps.iter().rev().filter(|r| *r % 7 != 0 && *r % 2 == 0) {
            assert_eq!(t.remove(r), Ok(None));
        }
        for &r in reps.iter().filter(|r| *r % 7 != 0 && *r % 2 == 1) {
            assert_eq!(t.remove(r), Ok(None));
        }
        for &r in &reps {
            assert_eq!(t.pollable(r).is_ok(), r % 7 == 0, "rep {r}");
        }
        let more = t.push(Entry::Pollable(Pollable::Ready)).unwrap();
        assert_eq!(more, n + 1);
        assert!(t.pollable(more).is_ok());
        let listed: Vec<u32> = t.entries().iter().map(|e| e.0).collect();
        let mut want = kept.clone();
        want.push(more);
        assert_eq!(listed, want);
        // Rebuilt with the same reps and gaps far past the window.
        let far = 10 * n;
        let rebuilt = Table::rebuilt(
            far,
            [1, 300, 5000, far - 1]
                .into_iter()
                .map(|r| (r, None, Entry::Pollable(Pollable::Ready)))
                .collect(),
        )
        .unwrap();
        let listed: Vec<u32> = rebuilt.entries().iter().map(|e| e.0).collect();
        assert_eq!(listed, [1, 300, 5000, far - 1]);
        let mut rebuilt = rebuilt;
        assert_eq!(rebuilt.push(Entry::Network).unwrap(), far + 1);
        assert!(rebuilt.is_network(far + 1) && rebuilt.pollable(5000).is_ok());
    }

    #[test]
    fn a_parent_outlives_its_children() {
        let mut t = Table::default();
        let s = t.push(stream(0, false)).unwrap();
        let p = t.push_child(Entry::Pollable(Pollable::Ready), s).unwrap();
        let q = t.push_child(Entry::Pollable(Pollable::Ready), s).unwrap();
        assert_eq!(t.remove(s), Err(HostError::HasChildren));
        assert_eq!(HostError::HasChildren.to_string(), "resource has children");
        assert!(t.contains(s));
        assert_eq!(t.remove(p), Ok(None));
        assert_eq!(t.remove(s), Err(HostError::HasChildren));
        assert_eq!(t.remove(q), Ok(None));
        assert_eq!(t.remove(s), Ok(None));
        assert!(t.push_child(Entry::Pollable(Pollable::Ready), s).is_err());
    }

    #[test]
    fn an_owned_fd_closes_with_its_last_holder() {
        let mut t = Table::default();
        let d = t
            .push(Entry::Descriptor(Descriptor {
                fd: 7,
                owned: true,
                fdflags: None,
            }))
            .unwrap();
        let r = t.push(stream(7, true)).unwrap();
        let w = t.push(stream(7, true)).unwrap();
        let stdin = t.push(stream(0, false)).unwrap();
        assert_eq!(t.remove(r), Ok(None));
        assert_eq!(t.remove(d), Ok(None));
        assert_eq!(t.remove(stdin), Ok(None));
        assert_eq!(t.remove(w), Ok(Some(7)));
        // A preopen's fd is never closed.
        let pre = t
            .push(Entry::Descriptor(Descriptor {
                fd: 3,
                owned: false,
                fdflags: None,
            }))
            .unwrap();
        assert_eq!(t.remove(pre), Ok(None));
    }
}
