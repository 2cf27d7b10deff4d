//! The shims' resource table: every host resource the guest holds (streams,
//! pollables, errors, descriptors, ...) by the rep the linker carries in
//! `Val::Resource`.
//!
//! Invariants:
//! * Reps are unique across all kinds and never reused (a counter), so a
//!   stale rep can never reach a different object; rep 0 is never issued.
//! * An entry leaves the table only through [`Table::remove`], called by the
//!   resource's destructor when the guest drops its last handle; whoever
//!   removes a [`Descriptor`] with `owned` set closes its fd.
//! * Typed getters return [`HostError::BadHandle`] instead of panicking.

use crate::error::HostError;
use std::collections::{HashMap, VecDeque};

/// An input stream over a p1 fd: `offset` is `Some` for files read with
/// `fd_pread` at a position the stream owns, `None` for fd_read (stdin).
#[derive(Debug)]
pub struct InputStream {
    pub fd: u32,
    pub offset: Option<u64>,
    pub closed: bool,
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
}

/// What a pollable waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pollable {
    /// Always ready.
    Ready,
    /// Ready once the monotonic clock reaches this instant (ns).
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
    /// Closed when the guest drops it (false for preopens, which the
    /// host owns and `get-directories` hands out again).
    pub owned: bool,
    /// The p1 fdflags `open-at` asked for (`None` for preopens): `get-flags`
    /// reports these sync flags, as wasmtime does from the OS, rather than
    /// what the p1 host's `fd_fdstat_get` says (node's reports
    /// `data-integrity-sync` on files that were not opened with it).
    pub fdflags: Option<u16>,
}

/// One item of a `directory-entry-stream`: `(descriptor-type, name)` or an
/// `error-code` case.
pub type DirItem = Result<(&'static str, String), &'static str>;

#[derive(Debug)]
pub enum Entry {
    Input(InputStream),
    Output(OutputStream),
    Pollable(Pollable),
    Error(IoError),
    Descriptor(Descriptor),
    DirEntries(VecDeque<DirItem>),
    TerminalInput,
    TerminalOutput,
    Network,
}

#[derive(Debug, Default)]
pub struct Table {
    next: u32,
    entries: HashMap<u32, Entry>,
}

macro_rules! getter {
    ($name:ident, $variant:ident, $ty:ty, $kind:literal) => {
        pub fn $name(&mut self, rep: u32) -> Result<&mut $ty, HostError> {
            match self.entries.get_mut(&rep) {
                Some(Entry::$variant(v)) => Ok(v),
                _ => Err(HostError::BadHandle { rep, kind: $kind }),
            }
        }
    };
}

impl Table {
    /// Adds an entry and returns its new rep.
    pub fn push(&mut self, e: Entry) -> Result<u32, HostError> {
        self.next = self
            .next
            .checked_add(1)
            .ok_or_else(|| HostError::Refused("resource table full".into()))?;
        self.entries.insert(self.next, e);
        Ok(self.next)
    }
    pub fn remove(&mut self, rep: u32) -> Option<Entry> {
        self.entries.remove(&rep)
    }
    pub fn contains(&self, rep: u32) -> bool {
        self.entries.contains_key(&rep)
    }
    pub fn is_network(&self, rep: u32) -> bool {
        matches!(self.entries.get(&rep), Some(Entry::Network))
    }
    getter!(input, Input, InputStream, "input-stream");
    getter!(output, Output, OutputStream, "output-stream");
    getter!(pollable, Pollable, Pollable, "pollable");
    getter!(error, Error, IoError, "error");
    getter!(descriptor, Descriptor, Descriptor, "descriptor");
    getter!(
        dir_entries,
        DirEntries,
        VecDeque<DirItem>,
        "directory-entry-stream"
    );
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
        t.remove(a);
        assert!(t.pollable(a).is_err());
        let c = t.push(Entry::Pollable(Pollable::Ready)).unwrap();
        assert!(c != a && c != b);
    }
}
