//! What the shims know about each p1 fd without asking the host again:
//! facts learned once (from the `path_open` that made the fd, or from its
//! first stat), and the p1 APPEND flag the shims set on it. Each fact saves
//! a p1 call on a path that runs per file operation: a p1 host such as
//! wasmtime hands every file call to a thread pool, so a lowered program
//! runs at its p1 build's speed only when it makes the same calls.
//!
//! Invariants:
//! * A fact holds for as long as the fd is open: the shims forget it when
//!   they close the fd (`WasiCtx::drop_entry`), and a checkpoint never
//!   carries it (a restored context learns again from its reopened fds,
//!   which carry no APPEND flag).
//!   - the type: an open file's type never changes. `open-at` knows it
//!     without a stat in two cases: with the `directory` open flag the fd
//!     is a directory (p1 says ENOTDIR otherwise), and an fd the host
//!     opened with the `fd_write` right is not one (every p1 host refuses
//!     to open a directory for writing: EISDIR on wasmtime, wasmi, node and
//!     iwasm, `conformance/p1-checks/fd-facts`).
//!   - `inheriting`: the shims never call `fd_fdstat_set_rights`.
//!   - `dev`: an open file stays on its device.
//!   - `narrow`: set only after the host refused (ENOTCAPABLE) an open
//!     below this directory for rights beyond its inheriting ones and then
//!     took the narrowed request, so it enforces them (node, iwasm, wasmi).
//! * `append` is true exactly while the shims have set p1 APPEND on the fd
//!   (an append stream writes with `fd_write`, which the host then appends
//!   atomically, as wasmtime's own `append-via-stream` does). Every
//!   positional write (`fd_pwrite`) clears it first: with APPEND set,
//!   every p1 host appends there too (as Linux `pwrite` does on an
//!   `O_APPEND` file).
//! * The flags set keep the sync flags the fd was opened with (`fdflags`,
//!   recorded by `open-at`, and again by a restore that reopens the fd);
//!   a host that refuses the combination (wasmtime and
//!   wasmi refuse sync flags in `fd_fdstat_set_flags`: EINVAL) marks the fd
//!   `no_append`, and its append streams write at the size a stat reads
//!   just before each write, as before.

use crate::table::SmallMap;
use crate::{p1, WasiCtx};

/// A p1 fd's type, as far as the shims know it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum FdType {
    #[default]
    Unknown,
    /// Not a directory (the host opened it for writing); the exact type
    /// was not asked.
    NotDir,
    /// This p1 filetype.
    Is(wasi::Filetype),
}

/// The facts about one p1 fd (see the module doc).
#[derive(Debug, Default, Clone, Copy)]
pub struct FdFacts {
    pub ty: FdType,
    /// The rights a directory passes on (`fs_rights_inheriting`), once
    /// asked.
    pub inheriting: Option<wasi::Rights>,
    /// Opens below this directory ask for the narrowed rights first.
    pub narrow: bool,
    /// The p1 fdflags the shims opened the fd with (its sync flags; 0 for
    /// an fd they did not open).
    pub fdflags: wasi::Fdflags,
    /// p1 APPEND is set on the fd now.
    pub append: bool,
    /// The host refused to set APPEND on the fd.
    pub no_append: bool,
    /// The p1 `dev` of the fd's file (its device never changes while it is
    /// open), from its last `fd_filestat_get`.
    pub dev: Option<u64>,
}

/// The facts of every fd the shims learned something about, by fd.
pub(crate) type Fds = SmallMap<FdFacts>;

impl WasiCtx {
    /// The facts about `fd`, to change (all unknown when none was learned).
    pub(crate) fn facts(&mut self, fd: u32) -> &mut FdFacts {
        self.fds.get_or_insert_with(fd, FdFacts::default)
    }

    /// The facts about `fd`, to read.
    pub(crate) fn known(&self, fd: u32) -> FdFacts {
        self.fds.get(fd).copied().unwrap_or_default()
    }

    /// Whether `fd` is a directory: from the facts, or else from one
    /// `fd_filestat_get` (one host call on every host, where
    /// `fd_fdstat_get` is two on wasmtime and wasmi), or `fd_fdstat_get`
    /// when the fd lacks the right to it.
    pub(crate) fn is_dir(&mut self, fd: u32) -> p1::R<bool> {
        match self.known(fd).ty {
            FdType::NotDir => Ok(false),
            FdType::Is(t) => Ok(t == wasi::FILETYPE_DIRECTORY),
            FdType::Unknown => Ok(self.file_type(fd)? == wasi::FILETYPE_DIRECTORY),
        }
    }

    /// The p1 filetype of `fd`, asked once.
    pub(crate) fn file_type(&mut self, fd: u32) -> p1::R<wasi::Filetype> {
        if let FdType::Is(t) = self.known(fd).ty {
            return Ok(t);
        }
        let t = match self.filestat(fd) {
            Ok(st) => st.filetype,
            Err(_) => p1::fdstat(fd)?.fs_filetype,
        };
        self.facts(fd).ty = FdType::Is(t);
        Ok(t)
    }

    /// `fd_filestat_get` of `fd`, whose type and device are then known.
    pub(crate) fn filestat(&mut self, fd: u32) -> p1::R<wasi::Filestat> {
        let st = p1::filestat(fd)?;
        let facts = self.facts(fd);
        facts.ty = FdType::Is(st.filetype);
        facts.dev = Some(st.dev);
        Ok(st)
    }

    /// The p1 `dev` of `fd`'s file, asked once.
    pub(crate) fn dev(&mut self, fd: u32) -> p1::R<u64> {
        match self.known(fd).dev {
            Some(dev) => Ok(dev),
            None => Ok(self.filestat(fd)?.dev),
        }
    }

    /// The rights directory `fd` passes on, asked once; all rights when the
    /// host does not say.
    pub(crate) fn inheriting(&mut self, fd: u32) -> wasi::Rights {
        if let Some(r) = self.known(fd).inheriting {
            return r;
        }
        match p1::fdstat(fd) {
            Ok(st) => {
                let f = self.facts(fd);
                f.inheriting = Some(st.fs_rights_inheriting);
                f.ty = FdType::Is(st.fs_filetype);
                st.fs_rights_inheriting
            }
            Err(_) => crate::filesystem::types::all_rights(),
        }
    }

    /// The per-fd state a write needs, borrowed apart from the table (so
    /// a write can hold its stream while it writes).
    pub(crate) fn fd_view(&mut self) -> FdView<'_> {
        FdView { fds: &mut self.fds }
    }

    /// See [`FdView::positional`].
    pub(crate) fn positional(&mut self, fd: u32) -> p1::R<()> {
        self.fd_view().positional(fd)
    }
}

/// The facts of the fds, without the rest of the context.
pub(crate) struct FdView<'a> {
    pub fds: &'a mut Fds,
}

impl FdView<'_> {
    /// The fdflags `fd` was opened with (its sync flags).
    fn open_fdflags(&self, fd: u32) -> wasi::Fdflags {
        self.known(fd).fdflags
    }

    fn facts(&mut self, fd: u32) -> &mut FdFacts {
        self.fds.get_or_insert_with(fd, FdFacts::default)
    }

    fn known(&self, fd: u32) -> FdFacts {
        self.fds.get(fd).copied().unwrap_or_default()
    }

    /// Makes `fd` append with `fd_write`: true when p1 APPEND is set (set
    /// now unless it already was), false when the host refuses it. Always
    /// inlined into the write, one of the lowered library's hottest calls.
    #[inline(always)]
    pub(crate) fn appending(&mut self, fd: u32) -> bool {
        let f = self.known(fd);
        if f.append || f.no_append {
            return f.append;
        }
        let ok = p1::set_fdflags(fd, self.open_fdflags(fd) | wasi::FDFLAGS_APPEND).is_ok();
        let f = self.facts(fd);
        f.append = ok;
        f.no_append = !ok;
        ok
    }

    /// Clears p1 APPEND on `fd` if the shims set it, before a positional
    /// write. Always inlined, as [`FdView::appending`] is.
    #[inline(always)]
    pub(crate) fn positional(&mut self, fd: u32) -> p1::R<()> {
        if self.known(fd).append {
            p1::set_fdflags(fd, self.open_fdflags(fd))?;
            self.facts(fd).append = false;
        }
        Ok(())
    }
}
