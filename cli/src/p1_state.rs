//! What a checkpoint of a WASIp1 guest must know about its descriptors.
//! In the pass-through the guest's fds are the host's own, so the shim
//! watches the calls that change them (only when a checkpoint was asked
//! for) and reopens them on restore.
//!
//! Invariants:
//! * `path_open` results are recorded as their preopen's name plus the path
//!   relative to it (through directories the guest opened, too), with the
//!   open's flags and rights; `fd_close` and `fd_renumber` keep the map in
//!   step. Positions are read with `fd_tell` at checkpoint time.
//! * Refused at checkpoint time, each with its reason: stdin read in part
//!   (bytes read, end not seen: what is buffered in a pipe cannot be
//!   carried), sockets, a descriptor opened relative to one the shim did not
//!   see opened.
//! * Monotonic time the guest sees is the host's plus an offset, which is 0
//!   until a restore makes it continue from the last value the guest saw.
//! * Restore checks the preopens (same fd, same name, as when taken),
//!   reopens every file at its old fd (`fd_renumber`) and position, and
//!   names the first file that cannot be reopened.

use crate::snapshot::{OpenFile, P1State};
use anyhow::{bail, Context as _, Result};
use std::collections::{BTreeMap, BTreeSet};

const OFLAGS_CREAT_EXCL_TRUNC: u32 = 0x1 | 0x4 | 0x8;

/// A descriptor the guest opened.
#[derive(Debug, Clone)]
enum Opened {
    File(OpenFile),
    /// Opened relative to a descriptor the shim does not know.
    Unknown {
        dirfd: u32,
    },
}

/// The descriptor bookkeeping of a guest that may be checkpointed.
#[derive(Debug, Default)]
pub struct Track {
    preopens: Vec<(u32, String)>,
    files: BTreeMap<u32, Opened>,
    sockets: BTreeSet<u32>,
    stdin_partial: bool,
    clock_offset: u64,
    monotonic_last: u64,
}

impl Track {
    /// Starts tracking with the host's current preopens.
    pub fn new() -> Track {
        Track {
            preopens: p2_shims::preopens()
                .into_iter()
                .map(|(fd, n)| (fd, String::from_utf8_lossy(&n).into_owned()))
                .collect(),
            ..Track::default()
        }
    }

    /// Where `dirfd` leads: (preopen name, path below it).
    fn base(&self, dirfd: u32) -> Option<(String, String)> {
        if let Some((_, name)) = self.preopens.iter().find(|(fd, _)| *fd == dirfd) {
            return Some((name.clone(), String::new()));
        }
        match self.files.get(&dirfd) {
            Some(Opened::File(f)) => Some((f.preopen.clone(), f.path.clone())),
            _ => None,
        }
    }

    /// Records a successful `path_open`.
    #[allow(clippy::too_many_arguments)]
    pub fn opened(
        &mut self,
        fd: u32,
        dirfd: u32,
        dirflags: u32,
        path: &[u8],
        oflags: u32,
        rights_base: u64,
        rights_inheriting: u64,
        fdflags: u32,
    ) {
        let path = String::from_utf8_lossy(path).into_owned();
        let entry = match self.base(dirfd) {
            Some((preopen, below)) => Opened::File(OpenFile {
                fd,
                preopen,
                path: if below.is_empty() {
                    path
                } else {
                    format!("{below}/{path}")
                },
                dirflags,
                oflags: oflags & !OFLAGS_CREAT_EXCL_TRUNC,
                rights_base,
                rights_inheriting,
                fdflags,
                position: None,
            }),
            None => Opened::Unknown { dirfd },
        };
        self.sockets.remove(&fd);
        self.files.insert(fd, entry);
    }

    pub fn closed(&mut self, fd: u32) {
        self.files.remove(&fd);
        self.sockets.remove(&fd);
    }

    pub fn renumbered(&mut self, from: u32, to: u32) {
        self.closed(to);
        if let Some(mut f) = self.files.remove(&from) {
            if let Opened::File(f) = &mut f {
                f.fd = to;
            }
            self.files.insert(to, f);
        }
        if self.sockets.remove(&from) {
            self.sockets.insert(to);
        }
    }

    pub fn socket(&mut self, fd: u32) {
        self.sockets.insert(fd);
    }

    /// A read of `n` bytes from stdin (0: its end).
    pub fn stdin_read(&mut self, n: u32) {
        self.stdin_partial = n > 0;
    }

    /// A monotonic clock value from the host: the guest's value.
    pub fn monotonic(&mut self, host: u64) -> u64 {
        let v = host.saturating_add(self.clock_offset);
        self.monotonic_last = self.monotonic_last.max(v);
        v
    }

    /// The state to save, or why the guest cannot be carried.
    pub fn capture(&self) -> Result<P1State> {
        if self.stdin_partial {
            bail!("stdin has been read in part; what the host still buffers cannot be carried");
        }
        if let Some(fd) = self.sockets.iter().next() {
            bail!("fd {fd} is a socket; sockets cannot be carried");
        }
        let mut files = Vec::new();
        for (fd, f) in &self.files {
            let mut f = match f {
                Opened::File(f) => f.clone(),
                Opened::Unknown { dirfd } => bail!(
                    "fd {fd} was opened relative to fd {dirfd}, which the shim did not see opened"
                ),
            };
            // SAFETY: scalars only. A directory has no position.
            f.position = unsafe { wasi::fd_tell(*fd) }.ok();
            files.push(f);
        }
        Ok(P1State {
            preopens: self.preopens.clone(),
            files,
            monotonic_last: self.monotonic_last,
        })
    }

    /// Reopens what `state` lists, at the same fds and positions, and
    /// returns the tracker that goes on from there. `spares` are fds the
    /// shim holds open for this (the files it read the program and the
    /// snapshot from): hosts that never reuse an fd number (wasmi's) can
    /// only `fd_renumber` onto an open fd. They are closed at the end.
    pub fn restore(state: &P1State, spares: Vec<u32>) -> Result<Track> {
        let mut t = Track::new();
        for (fd, name) in &state.preopens {
            match t.preopens.iter().find(|(f, _)| f == fd) {
                Some((_, now)) if now == name => {}
                Some((_, now)) => bail!(
                    "preopen fd {fd} was `{name}` when the checkpoint was taken and is `{now}` now; give the same preopens in the same order"
                ),
                None => bail!("preopen fd {fd} (`{name}`) is missing; give the same preopens in the same order"),
            }
        }
        // Each file goes to its old fd: hosts hand out the lowest free fd
        // (then holes below it are filled and closed afterwards), or, if
        // the host gives another one, `fd_renumber` moves it onto the old
        // fd when that is open (a filler).
        let mut files: Vec<&OpenFile> = state.files.iter().collect();
        files.sort_by_key(|f| f.fd);
        let mut fillers = spares;
        for f in files {
            if t.preopens.iter().any(|(p, _)| *p == f.fd) {
                bail!(
                    "fd {} of `{}` is taken by a preopen of this host",
                    f.fd,
                    f.path
                );
            }
            let dirfd = t
                .preopens
                .iter()
                .find(|(_, n)| *n == f.preopen)
                .map(|(fd, _)| *fd)
                .expect("checked above");
            let path = if f.path.is_empty() { "." } else { &f.path };
            loop {
                // SAFETY: scalars and a live string.
                let fd = unsafe {
                    wasi::path_open(
                        dirfd,
                        f.dirflags,
                        path,
                        f.oflags as u16,
                        f.rights_base,
                        f.rights_inheriting,
                        f.fdflags as u16,
                    )
                }
                .map_err(|e| anyhow::anyhow!("{e}"))
                .with_context(|| {
                    format!(
                        "cannot reopen `{}` in preopen `{}` (fd {})",
                        f.path, f.preopen, f.fd
                    )
                })?;
                if fd == f.fd {
                    break;
                }
                if fd < f.fd {
                    fillers.push(fd);
                    continue;
                }
                // SAFETY: scalars only.
                let target_open = unsafe { wasi::fd_fdstat_get(f.fd) }.is_ok();
                if target_open {
                    fillers.retain(|x| *x != f.fd);
                    // SAFETY: scalars only.
                    unsafe { wasi::fd_renumber(fd, f.fd) }
                        .map_err(|e| anyhow::anyhow!("{e}"))
                        .with_context(|| format!("cannot move `{}` to fd {}", f.path, f.fd))?;
                    break;
                }
                // SAFETY: scalars only.
                let _ = unsafe { wasi::fd_close(fd) };
                bail!(
                    "cannot give `{}` its fd {} back: this host opened it as fd {fd}",
                    f.path,
                    f.fd
                );
            }
            if let Some(pos) = f.position {
                // SAFETY: scalars only.
                unsafe { wasi::fd_seek(f.fd, pos as i64, wasi::WHENCE_SET) }
                    .map_err(|e| anyhow::anyhow!("{e}"))
                    .with_context(|| format!("cannot seek `{}` to {pos}", f.path))?;
            }
            t.files.insert(f.fd, Opened::File(f.clone()));
        }
        for fd in fillers {
            // SAFETY: scalars only.
            let _ = unsafe { wasi::fd_close(fd) };
        }
        // SAFETY: scalars only.
        let now = unsafe { wasi::clock_time_get(wasi::CLOCKID_MONOTONIC, 1) }.unwrap_or(0);
        t.clock_offset = state.monotonic_last.saturating_sub(now);
        t.monotonic_last = state.monotonic_last;
        Ok(t)
    }
}
