//! The WASI state of a checkpoint: what [`WasiCtx`] holds, as plain data
//! ([`WasiState`], serializable with serde) that another process, on
//! another p1 host, turns back into a working [`WasiCtx`] through the
//! [`Checkpoint`] trait.
//!
//! Invariants:
//! * The guest sees reps, never p1 fds, so fds are not saved: each
//!   resource names the open file it uses ([`FdRef`]): stdio by number, a
//!   preopen by its place in the host's list, a file the shims opened by
//!   its place in [`WasiState::files`], which says how to open it again
//!   (preopen, path below it, lookup and open flags, rights, fdflags).
//!   Stream positions are the streams' own (`pread`/`pwrite` offsets), so
//!   they are carried as they are.
//! * Restore checks that the host's preopens have the saved names in the
//!   saved order (more may follow), reopens every file (a file that cannot
//!   be opened again is an error naming it and its preopen), and puts every
//!   resource back under its old rep, with its parent, so handles the guest
//!   holds stay valid; new reps continue after the last one issued.
//! * Monotonic time continues from the latest value the guest was given
//!   (never backwards), and clock pollables keep their instant in the
//!   guest's time; `insecure-seed` keeps its value.
//! * Refused at capture time, with a one-line reason: stdin read in part
//!   (what the host still buffers in a pipe cannot be carried), a
//!   resource over an fd the shims cannot name, and an open file whose
//!   path no longer leads to it (renamed, removed or replaced: compared by
//!   device and inode), which a restore could not reopen. There are no sockets to
//!   refuse: p1 cannot open one, so the shims never hold one (`network` is
//!   carried; it holds nothing).

use crate::bindings::filesystem_types::{DescriptorType, ErrorCode};
use crate::table::{
    Descriptor, DirItem, Entry, InputStream, IoError, Listing, OutputKind, OutputStream, Pollable,
    Table,
};
use crate::{p1, Origin, WasiCtx};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Why a state cannot be captured or restored (one line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointError(pub String);

impl std::fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CheckpointError {}

/// State a checkpoint carries, captured from a running program's layer and
/// put back into a fresh one.
pub trait Checkpoint {
    type State;
    /// The state to save now, or why it cannot be carried.
    fn capture(&mut self) -> Result<Self::State, CheckpointError>;
    /// Puts `state` back into this freshly made value.
    fn restore(&mut self, state: &Self::State) -> Result<(), CheckpointError>;
}

/// Everything [`WasiCtx`] holds that a restored guest needs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WasiState {
    /// The host's preopens' names, in order.
    pub preopens: Vec<String>,
    /// Every p1 fd the shims opened and a resource still holds.
    pub files: Vec<OpenFile>,
    /// The last rep issued.
    pub last_rep: u32,
    /// Every resource, by rep.
    pub resources: Vec<Resource>,
    /// The latest monotonic time (ns) the guest was given.
    pub monotonic_last: u64,
    /// `insecure-seed`'s value, once drawn.
    pub insecure_seed: Option<(u64, u64)>,
}

/// A file to open again: `path_open` below preopen number `preopen`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OpenFile {
    pub preopen: u32,
    pub path: String,
    pub lookup: u32,
    pub oflags: u16,
    pub rights_base: u64,
    pub rights_inheriting: u64,
    pub fdflags: u16,
}

/// The open file a resource uses.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FdRef {
    /// stdin, stdout or stderr (0, 1, 2).
    Stdio(u32),
    /// The preopen at this place in [`WasiState::preopens`].
    Preopen(u32),
    /// The file at this place in [`WasiState::files`].
    File(u32),
}

/// Where an output stream writes. (An enum, not `Option<Option<u64>>`:
/// serde writes `Some(None)` as `None` in CBOR, so append would come back
/// as a plain stream.)
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum WriteAt {
    /// `fd_write` at the fd's own position (stdio).
    Stream,
    /// At the end of the file, each write.
    Append,
    /// At this file position (`pwrite`).
    Offset(u64),
}

/// A resource of the shims' table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Resource {
    pub rep: u32,
    /// The resource it is a child of (a stream's pollable).
    pub parent: Option<u32>,
    pub kind: Kind,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    InputStream {
        fd: FdRef,
        /// The stream's file position (`None`: stdin, read with `fd_read`).
        offset: Option<u64>,
        closed: bool,
    },
    OutputStream {
        fd: FdRef,
        /// Where its writes go.
        at: WriteAt,
        closed: bool,
        failed: Option<u16>,
    },
    /// Always ready.
    PollableReady,
    /// Ready at this monotonic time of the guest (ns).
    PollableInstant(u64),
    PollableRead(FdRef),
    Error {
        errno: Option<u16>,
        message: String,
    },
    Descriptor {
        fd: FdRef,
        fdflags: Option<u16>,
    },
    /// A directory listing's items still to read: `(descriptor-type, name)`
    /// or an `error-code`, as their WIT case numbers.
    DirectoryEntries(Vec<Result<(u8, String), u8>>),
    TerminalInput,
    TerminalOutput,
    Network,
}

impl Checkpoint for WasiCtx {
    type State = WasiState;

    fn capture(&mut self) -> Result<WasiState, CheckpointError> {
        if self.stdin_partial {
            return Err(CheckpointError(
                "stdin has been read in part; what the host still buffers cannot be carried".into(),
            ));
        }
        let preopens = crate::filesystem::preopens::preopens(self);
        let mut files: Vec<OpenFile> = Vec::new();
        let mut file_of: HashMap<u32, u32> = HashMap::new();
        let mut fd_ref = |fd: u32, owned: bool, rep: u32| -> Result<FdRef, CheckpointError> {
            if owned {
                if let Some(&i) = file_of.get(&fd) {
                    return Ok(FdRef::File(i));
                }
                let o = self.origins.get(fd).ok_or_else(|| {
                    CheckpointError(format!(
                        "resource {rep} holds fd {fd}, which the shims did not see opened"
                    ))
                })?;
                let preopen = preopens
                    .iter()
                    .position(|(p, _)| *p == o.preopen)
                    .ok_or_else(|| {
                        CheckpointError(format!(
                            "`{}` was opened below fd {}, which is no longer a preopen",
                            o.path, o.preopen
                        ))
                    })?;
                // Restore reopens it by path: the path must still lead to
                // this file (not renamed, removed or replaced since).
                let same = match (
                    p1::filestat(fd),
                    p1::path_filestat(
                        o.preopen,
                        o.lookup,
                        if o.path.is_empty() { "." } else { &o.path },
                    ),
                ) {
                    (Ok(a), Ok(b)) => a.dev == b.dev && a.ino == b.ino,
                    _ => false,
                };
                if !same {
                    return Err(CheckpointError(format!(
                        "the open file `{}` was renamed, removed or replaced since it was opened; a restore could not reopen it by its path",
                        o.path
                    )));
                }
                let i = files.len() as u32;
                files.push(OpenFile {
                    preopen: preopen as u32,
                    path: o.path.clone(),
                    lookup: o.lookup,
                    oflags: o.oflags,
                    rights_base: o.rights_base,
                    rights_inheriting: o.rights_inheriting,
                    fdflags: o.fdflags,
                });
                file_of.insert(fd, i);
                return Ok(FdRef::File(i));
            }
            if fd <= 2 {
                return Ok(FdRef::Stdio(fd));
            }
            match preopens.iter().position(|(p, _)| *p == fd) {
                Some(i) => Ok(FdRef::Preopen(i as u32)),
                None => Err(CheckpointError(format!(
                    "resource {rep} uses fd {fd}, which is neither stdio, a preopen nor a file the shims opened"
                ))),
            }
        };
        // A stream or pollable over an owned fd is owned through its
        // descriptor's count, so the fds the table holds decide.
        let owned: std::collections::HashSet<u32> = self
            .table
            .entries()
            .iter()
            .filter_map(|(_, _, e)| e.owned_fd())
            .collect();
        let mut resources = Vec::new();
        for (rep, parent, entry) in self.table.entries() {
            let kind = match entry {
                Entry::Input(s) => Kind::InputStream {
                    fd: fd_ref(s.fd, s.owns_fd, rep)?,
                    offset: s.offset,
                    closed: s.closed,
                },
                Entry::Output(s) => Kind::OutputStream {
                    fd: fd_ref(s.fd, s.owns_fd, rep)?,
                    at: match s.kind {
                        OutputKind::Stream => WriteAt::Stream,
                        OutputKind::Append => WriteAt::Append,
                        OutputKind::At(at) => WriteAt::Offset(at),
                    },
                    closed: s.closed,
                    failed: s.failed,
                },
                Entry::Pollable(Pollable::Ready) => Kind::PollableReady,
                Entry::Pollable(Pollable::Instant(at)) => {
                    Kind::PollableInstant(self.guest_time(*at))
                }
                Entry::Pollable(Pollable::FdRead(fd)) => {
                    Kind::PollableRead(fd_ref(*fd, owned.contains(fd), rep)?)
                }
                Entry::Error(e) => Kind::Error {
                    errno: e.errno,
                    message: e.message.clone(),
                },
                Entry::Descriptor(d) => Kind::Descriptor {
                    fd: fd_ref(d.fd, d.owned, rep)?,
                    fdflags: d.fdflags,
                },
                // Without the `d_ino`s and the descriptor: on another host
                // both would mean something else (see `Listing`).
                Entry::DirEntries(listing) => Kind::DirectoryEntries(
                    listing
                        .items
                        .iter()
                        .map(|i| match i {
                            Ok((t, name, _)) => Ok((*t as u8, name.clone())),
                            Err(e) => Err(*e as u8),
                        })
                        .collect(),
                ),
                Entry::TerminalInput => Kind::TerminalInput,
                Entry::TerminalOutput => Kind::TerminalOutput,
                Entry::Network => Kind::Network,
            };
            resources.push(Resource { rep, parent, kind });
        }
        Ok(WasiState {
            preopens: preopens.into_iter().map(|(_, n)| n).collect(),
            files,
            last_rep: self.table.last_rep(),
            resources,
            monotonic_last: self.monotonic_last(),
            insecure_seed: self.insecure_seed,
        })
    }

    fn restore(&mut self, s: &WasiState) -> Result<(), CheckpointError> {
        let fail = |m: String| CheckpointError(m);
        let here = crate::filesystem::preopens::preopens(self);
        for (i, name) in s.preopens.iter().enumerate() {
            match here.get(i) {
                Some((_, now)) if now == name => {}
                Some((_, now)) => return Err(fail(format!(
                    "preopen {} was `{name}` when the checkpoint was taken and is `{now}` now; give the same preopens in the same order",
                    i + 1
                ))),
                None => return Err(fail(format!(
                    "preopen `{name}` is missing; give the same preopens in the same order"
                ))),
            }
        }
        let mut fds = Vec::with_capacity(s.files.len());
        for f in &s.files {
            let (pre_fd, pre_name) = here
                .get(f.preopen as usize)
                .filter(|_| (f.preopen as usize) < s.preopens.len())
                .ok_or_else(|| fail(format!("`{}` names no saved preopen", f.path)))?;
            let path = if f.path.is_empty() { "." } else { &f.path };
            let open = |base, inheriting| {
                p1::open(
                    *pre_fd, f.lookup, path, f.oflags, base, inheriting, f.fdflags,
                )
            };
            // Rights another host granted may be more than this one's
            // preopen passes on (node's uvwasi refuses them): then ask for
            // only those it lists, as the first open did there.
            let opened = match open(f.rights_base, f.rights_inheriting) {
                Err(crate::errno::p1::NOTCAPABLE) => match p1::fdstat(*pre_fd) {
                    Ok(st) => open(
                        f.rights_base & st.fs_rights_inheriting,
                        f.rights_inheriting & st.fs_rights_inheriting,
                    ),
                    Err(e) => Err(e),
                },
                r => r,
            };
            match opened {
                Ok(fd) => fds.push(fd),
                Err(e) => {
                    for fd in fds {
                        let _ = p1::close(fd);
                    }
                    return Err(fail(format!(
                        "cannot reopen `{}` in preopen `{pre_name}`: {}",
                        f.path,
                        crate::errno::message(e)
                    )));
                }
            }
            let fd = *fds.last().expect("pushed");
            // The sync flags it was opened with, which an append keeps
            // (`fds`); the other facts are learned again.
            self.facts(fd).fdflags = f.fdflags;
            self.origins.insert(
                fd,
                Origin {
                    preopen: *pre_fd,
                    path: f.path.clone(),
                    lookup: f.lookup,
                    oflags: f.oflags,
                    rights_base: f.rights_base,
                    rights_inheriting: f.rights_inheriting,
                    fdflags: f.fdflags,
                },
            );
        }
        let fd_of = |r: FdRef| -> Result<(u32, bool), CheckpointError> {
            match r {
                FdRef::Stdio(fd @ 0..=2) => Ok((fd, false)),
                FdRef::Preopen(i) if (i as usize) < s.preopens.len() => {
                    Ok((here[i as usize].0, false))
                }
                FdRef::File(i) if (i as usize) < fds.len() => Ok((fds[i as usize], true)),
                other => Err(fail(format!("malformed WASI state: {other:?}"))),
            }
        };
        self.continue_monotonic(s.monotonic_last)
            .map_err(|e| fail(e.to_string()))?;
        let mut entries = Vec::with_capacity(s.resources.len());
        for r in &s.resources {
            let entry = match &r.kind {
                Kind::InputStream { fd, offset, closed } => {
                    let (fd, owns_fd) = fd_of(*fd)?;
                    Entry::Input(InputStream {
                        fd,
                        offset: *offset,
                        closed: *closed,
                        owns_fd,
                    })
                }
                Kind::OutputStream {
                    fd,
                    at,
                    closed,
                    failed,
                } => {
                    let (fd, owns_fd) = fd_of(*fd)?;
                    Entry::Output(OutputStream {
                        fd,
                        kind: match at {
                            WriteAt::Stream => OutputKind::Stream,
                            WriteAt::Append => OutputKind::Append,
                            WriteAt::Offset(at) => OutputKind::At(*at),
                        },
                        closed: *closed,
                        owns_fd,
                        failed: *failed,
                    })
                }
                Kind::PollableReady => Entry::Pollable(Pollable::Ready),
                Kind::PollableInstant(t) => Entry::Pollable(Pollable::Instant(self.host_time(*t))),
                Kind::PollableRead(fd) => Entry::Pollable(Pollable::FdRead(fd_of(*fd)?.0)),
                Kind::Error { errno, message } => Entry::Error(IoError {
                    errno: *errno,
                    message: message.clone(),
                }),
                Kind::Descriptor { fd, fdflags } => {
                    let (fd, owned) = fd_of(*fd)?;
                    Entry::Descriptor(Descriptor {
                        fd,
                        owned,
                        fdflags: *fdflags,
                    })
                }
                Kind::DirectoryEntries(items) => {
                    let mut out = std::collections::VecDeque::with_capacity(items.len());
                    for i in items {
                        let item: DirItem = match i {
                            Ok((t, name)) => Ok((
                                *DescriptorType::CASES
                                    .get(*t as usize)
                                    .ok_or_else(|| fail(format!("descriptor type {t}")))?,
                                name.clone(),
                                0,
                            )),
                            Err(e) => Err(*ErrorCode::CASES
                                .get(*e as usize)
                                .ok_or_else(|| fail(format!("error code {e}")))?),
                        };
                        out.push_back(item);
                    }
                    Entry::DirEntries(Listing { dir: 0, items: out })
                }
                Kind::TerminalInput => Entry::TerminalInput,
                Kind::TerminalOutput => Entry::TerminalOutput,
                Kind::Network => Entry::Network,
            };
            entries.push((r.rep, r.parent, entry));
        }
        self.table = Table::rebuilt(s.last_rep, entries)
            .map_err(|m| fail(format!("malformed WASI state: {m}")))?;
        self.insecure_seed = s.insecure_seed;
        self.stdin_partial = false;
        Ok(())
    }
}

/// Against the fake p1 layer, so natively only: a "new host" is a reset
/// fake with the old one's files copied over.
#[cfg(all(test, not(target_os = "wasi")))]
mod tests {
    use super::*;
    use crate::bindings::cli_stdin::Host as _;
    use crate::bindings::filesystem_preopens::Host as _;
    use crate::bindings::filesystem_types::{DescriptorFlags, Host as _, OpenFlags, PathFlags};
    use crate::bindings::io_poll::Host as _;
    use crate::bindings::io_streams::Host as _;
    use crate::bindings::{clocks_monotonic_clock, random_insecure_seed};
    use crate::glue::Borrow;
    use crate::p1::{reset, with, Quirks, Stdin};

    fn open(cx: &mut WasiCtx, dir: u32, path: &str, create: bool, write: bool) -> u32 {
        let (o, f) = if create {
            (
                OpenFlags::CREATE,
                DescriptorFlags::READ | DescriptorFlags::WRITE,
            )
        } else if write {
            (OpenFlags::empty(), DescriptorFlags::WRITE)
        } else {
            (OpenFlags::empty(), DescriptorFlags::READ)
        };
        cx.descriptor_open_at(Borrow::new(dir), PathFlags::empty(), path, o, f)
            .unwrap()
            .unwrap()
            .rep()
    }

    fn read(cx: &mut WasiCtx, s: u32, n: u64) -> Vec<u8> {
        cx.input_stream_blocking_read(Borrow::new(s), n)
            .unwrap()
            .unwrap()
    }

    /// The host's files, then a fresh host holding them.
    fn move_host(paths: &[&str]) {
        let files: Vec<(String, Vec<u8>)> = paths
            .iter()
            .map(|p| (p.to_string(), with(|h| h.file(p)).unwrap()))
            .collect();
        reset(Quirks::node());
        for (p, bytes) in files {
            if let Some((dir, _)) = p.rsplit_once('/') {
                let _ = p1::create_directory(3, dir);
            }
            with(|h| h.add_file(&p, &bytes));
        }
    }

    #[test]
    fn streams_descriptors_and_time_carry_to_another_host() {
        reset(Quirks::wasmtime());
        with(|h| h.add_file("a", b"hello world"));
        p1::create_directory(3, "d").unwrap();
        let mut cx = WasiCtx::new(vec!["app".into()]);
        let root = cx.get_directories().unwrap()[0].0.rep();
        let a = open(&mut cx, root, "a", false, false);
        let input = cx
            .descriptor_read_via_stream(Borrow::new(a), 0)
            .unwrap()
            .unwrap()
            .rep();
        assert_eq!(read(&mut cx, input, 5), b"hello");
        // A file created through a directory the guest opened: `d/b`.
        let d = open(&mut cx, root, "d", false, false);
        let b = open(&mut cx, d, "b", true, true);
        let out = cx
            .descriptor_write_via_stream(Borrow::new(b), 0)
            .unwrap()
            .unwrap()
            .rep();
        cx.output_stream_blocking_write_and_flush(Borrow::new(out), b"xy")
            .unwrap()
            .unwrap();
        // The descriptor of `b` is dropped; its stream holds the file.
        cx.drop_descriptor(crate::glue::Own::new(b)).unwrap();
        let timer = clocks_monotonic_clock::Host::subscribe_duration(&mut cx, 5_000)
            .unwrap()
            .rep();
        cx.pollable_block(Borrow::new(timer)).unwrap();
        let later = clocks_monotonic_clock::Host::subscribe_duration(&mut cx, 1_000_000)
            .unwrap()
            .rep();
        let t = clocks_monotonic_clock::Host::now(&mut cx).unwrap();
        let seed = random_insecure_seed::Host::insecure_seed(&mut cx).unwrap();
        let listing = cx
            .descriptor_read_directory(Borrow::new(root))
            .unwrap()
            .unwrap()
            .rep();
        assert!(cx
            .directory_entry_stream_read_directory_entry(Borrow::new(listing))
            .unwrap()
            .unwrap()
            .is_some());
        let saved = cx.capture().unwrap();
        assert_eq!(saved.preopens, ["."]);
        let paths: Vec<&str> = saved.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a", "d", "d/b"]);

        move_host(&["a", "d/b"]);
        let mut cx2 = WasiCtx::new(vec!["app".into()]);
        cx2.restore(&saved).unwrap();
        // A restored state captures the same again.
        assert_eq!(cx2.capture().unwrap(), saved);
        assert_eq!(read(&mut cx2, input, 100), b" world");
        cx2.output_stream_blocking_write_and_flush(Borrow::new(out), b"z")
            .unwrap()
            .unwrap();
        assert_eq!(with(|h| h.file("d/b")).unwrap(), b"xyz");
        // Monotonic time goes on from where the guest saw it, though the
        // new host's clock started again; the pending timer keeps its
        // distance.
        assert!(clocks_monotonic_clock::Host::now(&mut cx2).unwrap() >= t);
        assert!(!cx2.pollable_ready(Borrow::new(later)).unwrap());
        assert_eq!(
            random_insecure_seed::Host::insecure_seed(&mut cx2).unwrap(),
            seed
        );
        // The listing goes on after the item already read.
        let rest = cx2
            .directory_entry_stream_read_directory_entry(Borrow::new(listing))
            .unwrap()
            .unwrap()
            .map(|e| e.name);
        assert_eq!(rest.as_deref(), Some("d"));
        // Its entries are hashed by the new host: a restored listing keeps
        // no `d_ino` of the old one.
        with(|h| h.calls.clear());
        let hash = cx2
            .descriptor_metadata_hash_at(
                Borrow::new(root),
                crate::bindings::filesystem_types::PathFlags::empty(),
                "d",
            )
            .unwrap()
            .unwrap();
        assert_eq!(with(|h| h.calls.clone()), ["path_filestat_get"]);
        assert_eq!(hash.lower, p1::path_filestat(3, 0, "d").unwrap().ino);
        // New reps continue after the old ones.
        assert!(cx2.get_stdin().unwrap().rep() > saved.last_rep);
    }

    #[test]
    fn a_missing_file_is_named() {
        reset(Quirks::wasmtime());
        with(|h| h.add_file("gone.txt", b"x"));
        let mut cx = WasiCtx::default();
        let root = cx.get_directories().unwrap()[0].0.rep();
        open(&mut cx, root, "gone.txt", false, false);
        let saved = cx.capture().unwrap();
        reset(Quirks::wasmtime());
        let e = WasiCtx::default().restore(&saved).unwrap_err();
        assert_eq!(
            e.0,
            "cannot reopen `gone.txt` in preopen `.`: no-entry (WASIp1 errno 44)"
        );
    }

    #[test]
    fn stdin_read_in_part_is_refused() {
        reset(Quirks::wasmtime());
        with(|h| h.set_stdin([Stdin::Data(b"abc".to_vec())]));
        let mut cx = WasiCtx::default();
        let s = cx.get_stdin().unwrap().rep();
        assert_eq!(read(&mut cx, s, 1), b"a");
        assert!(cx
            .capture()
            .unwrap_err()
            .0
            .contains("stdin has been read in part"));
        while cx
            .input_stream_blocking_read(Borrow::new(s), 10)
            .unwrap()
            .is_ok()
        {}
        assert!(cx.capture().is_ok(), "at its end, stdin carries");
    }
}
