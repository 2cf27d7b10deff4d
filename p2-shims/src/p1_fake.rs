//! A fake WASIp1 host with the items and signatures of `p1.rs`, compiled in
//! its place off `target_os = "wasi"`, so that the shims' logic runs in
//! native unit tests: an in-memory file system (directories, files,
//! symlinks, hard links, timestamps), an fd table with p1 rights, stdio
//! pipes (stdin scripted, stdout and stderr captured), a monotonic clock
//! that advances only when the guest waits, and a seeded random source.
//!
//! Invariants:
//! * Each thread has its own host (`cargo test` runs each test on its own
//!   thread), created on first use with [`Quirks::wasmtime`]; [`reset`]
//!   replaces it. Nothing here is reachable from the guest except through
//!   the `p1.rs` signatures.
//! * Where real p1 hosts differ, [`Quirks`] chooses: wasmtime's (rights not
//!   enforced, blocking stdin, `closed` stdout as EIO) or node's (rights
//!   enforced with ENOTCAPABLE, EAGAIN on a stdin pipe with no data yet,
//!   EPIPE). Each quirk is one that the real host shows with the same p1
//!   calls (conformance/p1-checks).
//! * The fake never blocks: a read of stdin that would wait for data either
//!   skips the wait (a blocking host) or returns EAGAIN (node); the data
//!   comes after the guest waits in `poll_oneoff`. A shim that retries
//!   EAGAIN without waiting is caught (a panic after many tries).
//! * Errors are the p1 errno, after the same mapping `p1.rs` applies
//!   (`errno::transfer` for reads and writes).

use crate::errno::{p1 as errno, transfer};
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use wasi::Fd;

pub type R<T> = Result<T, u16>;

/// What one `poll_oneoff` subscription waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The fd has data to read (or is at end of file).
    FdRead(Fd),
    /// A relative timeout on the monotonic clock, in ns.
    Timeout(u64),
}

/// The payload of the panic that stands for `proc_exit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit(pub u32);

/// How the fake host behaves where real p1 hosts differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quirks {
    /// Transfers and opens check the fd's rights (ENOTCAPABLE), and
    /// `path_open` refuses rights the directory cannot pass on (node's
    /// uvwasi, wasmi); wasmtime enforces only what the OS does.
    pub enforce_rights: bool,
    /// `fd_read` of a stdin pipe with no data yet returns EAGAIN instead of
    /// blocking (node).
    pub stdin_eagain: bool,
    /// What `fd_write` to stdout or stderr returns once the reader is gone:
    /// EIO on wasmtime (its p1 layer turns the stream's `closed` into EIO),
    /// EPIPE on node and wasmi.
    pub closed_pipe: u16,
    /// `poll_oneoff` with an fd_read subscription on stdin fails (EPERM)
    /// when stdin is a file or a device rather than a pipe (node).
    pub poll_refuses_stdin_file: bool,
    /// `fd_fdstat_set_flags` takes the sync flags (node, iwasm); wasmtime
    /// and wasmi refuse them (EINVAL).
    pub set_flags_takes_sync: bool,
    /// `fd_readdir` says `d_ino` 0 for every entry (node's uvwasi);
    /// elsewhere it is the `ino` of the entry's `path_filestat_get`.
    pub readdir_ino_zero: bool,
}

impl Quirks {
    pub fn wasmtime() -> Self {
        Quirks {
            enforce_rights: false,
            stdin_eagain: false,
            closed_pipe: errno::IO,
            poll_refuses_stdin_file: false,
            set_flags_takes_sync: false,
            readdir_ino_zero: false,
        }
    }
    #[cfg(test)]
    pub fn node() -> Self {
        Quirks {
            enforce_rights: true,
            stdin_eagain: true,
            closed_pipe: errno::PIPE,
            poll_refuses_stdin_file: true,
            set_flags_takes_sync: true,
            readdir_ino_zero: true,
        }
    }
}

/// One step of the scripted stdin (tests build them).
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stdin {
    /// Bytes that can be read now.
    Data(Vec<u8>),
    /// No data yet: a read would wait; one wait in `poll_oneoff` passes it.
    Later,
}

type Ino = usize;

#[derive(Debug)]
enum Data {
    File(Vec<u8>),
    Dir(BTreeMap<String, Ino>),
    Link(String),
}

#[derive(Debug)]
struct Node {
    data: Data,
    nlink: u64,
    atim: u64,
    mtim: u64,
    ctim: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum What {
    Node(Ino),
    Stdin,
    Stdout,
    Stderr,
}

#[derive(Debug)]
struct Open {
    what: What,
    base: u64,
    inheriting: u64,
    flags: u16,
    /// What the OS opened the file for (wasmtime's p1 opens for reading
    /// unless only writing is asked, and for writing when creating or
    /// truncating).
    readable: bool,
    writable: bool,
    pos: u64,
    preopen: Option<String>,
}

/// The fake host of this thread.
#[derive(Debug)]
pub struct Host {
    pub quirks: Quirks,
    nodes: Vec<Node>,
    fds: BTreeMap<Fd, Open>,
    stdin: VecDeque<Stdin>,
    /// Consecutive EAGAIN answers without a wait in between.
    spins: u32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Stdin is a file or a device (`< /dev/null`), not a pipe.
    pub stdin_file: bool,
    /// The reader of stdout / stderr is gone.
    pub stdout_closed: bool,
    pub stderr_closed: bool,
    /// Monotonic time in ns; wall-clock time is [`WALL_BASE`] later.
    pub now: u64,
    seed: u64,
    /// How many `poll_oneoff` calls were made.
    pub polls: u32,
    /// The p1 file calls made, by name (`path_open`, `fd_fdstat_get`,
    /// `fd_filestat_get`, `path_filestat_get`, `fd_fdstat_set_flags`,
    /// `fd_write`, `fd_pwrite`, `fd_read`, `fd_pread`, `fd_close`, `fd_readdir`,
    /// `path_rename`).
    pub calls: Vec<&'static str>,
}

/// Wall-clock time at monotonic 0: 2023-11-14T22:13:20Z.
pub const WALL_BASE: u64 = 1_700_000_000_000_000_000;

const ALL_RIGHTS: u64 = (wasi::RIGHTS_SOCK_ACCEPT << 1) - 1;
const MAX_SYMLINKS: usize = 40;

thread_local! {
    static HOST: RefCell<Host> = RefCell::new(Host::new(Quirks::wasmtime()));
}

#[cfg(test)]
/// Replaces this thread's host with a fresh one: stdio on fds 0-2 (stdin at
/// end of file), an empty directory preopened as `.` at fd 3.
pub fn reset(quirks: Quirks) {
    HOST.with(|h| *h.borrow_mut() = Host::new(quirks));
}

/// Runs `f` on this thread's host (for tests to set up and inspect it).
pub fn with<T>(f: impl FnOnce(&mut Host) -> T) -> T {
    HOST.with(|h| f(&mut h.borrow_mut()))
}

impl Host {
    fn new(quirks: Quirks) -> Self {
        let mut h = Host {
            quirks,
            nodes: Vec::new(),
            fds: BTreeMap::new(),
            stdin: VecDeque::new(),
            spins: 0,
            stdin_file: false,
            stdout: Vec::new(),
            stderr: Vec::new(),
            stdout_closed: false,
            stderr_closed: false,
            now: 1_000_000,
            seed: 0x2545_f491_4f6c_dd1d,
            polls: 0,
            calls: Vec::new(),
        };
        let root = h.node(Data::Dir(BTreeMap::new()));
        let stdio = |what, base| Open {
            what,
            base,
            inheriting: 0,
            flags: 0,
            readable: what == What::Stdin,
            writable: what != What::Stdin,
            pos: 0,
            preopen: None,
        };
        h.fds.insert(
            0,
            stdio(
                What::Stdin,
                wasi::RIGHTS_FD_READ | wasi::RIGHTS_POLL_FD_READWRITE,
            ),
        );
        h.fds.insert(
            1,
            stdio(
                What::Stdout,
                wasi::RIGHTS_FD_WRITE | wasi::RIGHTS_POLL_FD_READWRITE,
            ),
        );
        h.fds.insert(
            2,
            stdio(
                What::Stderr,
                wasi::RIGHTS_FD_WRITE | wasi::RIGHTS_POLL_FD_READWRITE,
            ),
        );
        h.fds.insert(
            3,
            Open {
                what: What::Node(root),
                base: ALL_RIGHTS,
                inheriting: ALL_RIGHTS,
                flags: 0,
                readable: true,
                writable: false,
                pos: 0,
                preopen: Some(".".into()),
            },
        );
        h
    }

    fn node(&mut self, data: Data) -> Ino {
        let t = WALL_BASE + self.now;
        self.nodes.push(Node {
            data,
            nlink: 1,
            atim: t,
            mtim: t,
            ctim: t,
        });
        self.nodes.len() - 1
    }
}

/// Setting up and inspecting the host, for tests.
#[cfg(test)]
impl Host {
    /// Sets what stdin delivers, in order; after the last step, end of file.
    pub fn set_stdin(&mut self, steps: impl IntoIterator<Item = Stdin>) {
        self.stdin = steps.into_iter().collect();
    }

    /// Sets the rights fd `fd` passes on to what is opened below it.
    pub fn set_inheriting(&mut self, fd: Fd, rights: u64) {
        if let Some(o) = self.fds.get_mut(&fd) {
            o.inheriting = rights;
        }
    }

    /// Creates (or replaces) the file at `path` under the preopen; its
    /// parent must exist.
    pub fn add_file(&mut self, path: &str, bytes: &[u8]) {
        let found = self.lookup(3, path, true).expect("add_file: bad path");
        match (found.ino, found.name) {
            (Some(ino), _) => self.nodes[ino].data = Data::File(bytes.to_vec()),
            (None, Some(name)) => {
                let ino = self.node(Data::File(bytes.to_vec()));
                if let Ok(m) = self.entries_mut(found.parent) {
                    m.insert(name, ino);
                }
            }
            (None, None) => panic!("add_file: bad path"),
        }
    }

    /// The contents of the file at `path` under the preopen.
    pub fn file(&self, path: &str) -> Option<Vec<u8>> {
        let ino = self.lookup(3, path, true).ok()?.ino?;
        match &self.nodes[ino].data {
            Data::File(b) => Some(b.clone()),
            _ => None,
        }
    }

    /// How many fds are open besides stdio and the preopen.
    pub fn open_fds(&self) -> usize {
        self.fds.keys().filter(|&&fd| fd > 3).count()
    }
}

impl Host {
    fn get(&self, fd: Fd) -> R<&Open> {
        self.fds.get(&fd).ok_or(errno::BADF)
    }

    fn need(&self, o: &Open, right: u64) -> R<()> {
        if self.quirks.enforce_rights && o.base & right == 0 {
            return Err(errno::NOTCAPABLE);
        }
        Ok(())
    }

    fn dir_of(&self, fd: Fd, right: u64) -> R<Ino> {
        let o = self.get(fd)?;
        self.need(o, right)?;
        match o.what {
            What::Node(ino) if matches!(self.nodes[ino].data, Data::Dir(_)) => Ok(ino),
            _ => Err(errno::NOTDIR),
        }
    }

    fn entries(&self, ino: Ino) -> R<&BTreeMap<String, Ino>> {
        match &self.nodes[ino].data {
            Data::Dir(m) => Ok(m),
            _ => Err(errno::NOTDIR),
        }
    }

    fn entries_mut(&mut self, ino: Ino) -> R<&mut BTreeMap<String, Ino>> {
        match &mut self.nodes[ino].data {
            Data::Dir(m) => Ok(m),
            _ => Err(errno::NOTDIR),
        }
    }

    /// Resolves `path` under directory fd `fd` within the sandbox: `..`
    /// never climbs above `fd`'s directory, absolute paths and absolute
    /// symlink targets are refused (ENOTCAPABLE), symlinks are followed in
    /// every component but the last, which is followed when `follow`.
    fn lookup(&self, fd: Fd, path: &str, follow: bool) -> R<Found> {
        let o = self.get(fd)?;
        let What::Node(base) = o.what else {
            return Err(errno::NOTDIR);
        };
        self.entries(base)?;
        if path.is_empty() {
            return Err(errno::NOENT);
        }
        if path.starts_with('/') {
            return Err(errno::NOTCAPABLE);
        }
        let mut stack = vec![base];
        let mut todo: VecDeque<String> = split(path);
        let mut must_be_dir = path.ends_with('/');
        let mut links = 0;
        loop {
            let Some(c) = todo.pop_front() else {
                // The path ended in `.` or `..` (or a symlink to one).
                let ino = *stack.last().unwrap_or(&base);
                return Ok(Found {
                    parent: ino,
                    name: None,
                    ino: Some(ino),
                });
            };
            let dir = *stack.last().unwrap_or(&base);
            let last = todo.is_empty();
            match c.as_str() {
                "." => continue,
                ".." => {
                    if stack.len() == 1 {
                        return Err(errno::NOTCAPABLE);
                    }
                    stack.pop();
                    continue;
                }
                _ => {}
            }
            let child = self.entries(dir)?.get(&c).copied();
            let Some(child) = child else {
                return if last {
                    Ok(Found {
                        parent: dir,
                        name: Some(c),
                        ino: None,
                    })
                } else {
                    Err(errno::NOENT)
                };
            };
            match &self.nodes[child].data {
                Data::Link(target) if !last || follow || must_be_dir => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(errno::LOOP);
                    }
                    if target.starts_with('/') {
                        return Err(errno::NOTCAPABLE);
                    }
                    must_be_dir |= target.ends_with('/');
                    for t in split(target).into_iter().rev() {
                        todo.push_front(t);
                    }
                }
                Data::Dir(_) if !last => stack.push(child),
                _ if !last => return Err(errno::NOTDIR),
                Data::Dir(_) | Data::File(_) | Data::Link(_) => {
                    if must_be_dir && !matches!(self.nodes[child].data, Data::Dir(_)) {
                        return Err(errno::NOTDIR);
                    }
                    return Ok(Found {
                        parent: dir,
                        name: Some(c),
                        ino: Some(child),
                    });
                }
            }
        }
    }

    fn touch(&mut self, ino: Ino) {
        let t = WALL_BASE + self.now;
        self.nodes[ino].mtim = t;
        self.nodes[ino].ctim = t;
    }

    fn stat(&self, ino: Ino) -> wasi::Filestat {
        let n = &self.nodes[ino];
        let (filetype, size) = match &n.data {
            Data::File(b) => (wasi::FILETYPE_REGULAR_FILE, b.len() as u64),
            Data::Dir(_) => (wasi::FILETYPE_DIRECTORY, 4096),
            Data::Link(t) => (wasi::FILETYPE_SYMBOLIC_LINK, t.len() as u64),
        };
        wasi::Filestat {
            dev: 1,
            ino: ino as u64 + 1,
            filetype,
            nlink: n.nlink,
            size,
            atim: n.atim,
            mtim: n.mtim,
            ctim: n.ctim,
        }
    }

    fn file_mut(&mut self, fd: Fd) -> R<(&mut Vec<u8>, &mut Open)> {
        let o = self.fds.get_mut(&fd).ok_or(errno::BADF)?;
        match o.what {
            What::Node(ino) => match &mut self.nodes[ino].data {
                Data::File(b) => Ok((b, o)),
                _ => Err(errno::BADF),
            },
            _ => Err(errno::SPIPE),
        }
    }

    fn lowest_free_fd(&self) -> Fd {
        (0..)
            .find(|fd| !self.fds.contains_key(fd))
            .unwrap_or(Fd::MAX)
    }

    fn read_stdin(&mut self, buf: &mut [u8]) -> R<usize> {
        loop {
            match self.stdin.front_mut() {
                None => return Ok(0),
                Some(Stdin::Later) if self.quirks.stdin_eagain => {
                    self.spins += 1;
                    assert!(
                        self.spins < 10_000,
                        "the shim retries EAGAIN on stdin without waiting"
                    );
                    return Err(errno::AGAIN);
                }
                // A blocking host waits for the data.
                Some(Stdin::Later) => {
                    self.stdin.pop_front();
                }
                Some(Stdin::Data(d)) if d.is_empty() => {
                    self.stdin.pop_front();
                }
                Some(Stdin::Data(d)) => {
                    let n = d.len().min(buf.len());
                    buf[..n].copy_from_slice(&d[..n]);
                    d.drain(..n);
                    return Ok(n);
                }
            }
        }
    }

    /// Whether a read of `fd` would not wait.
    fn readable_now(&self, fd: Fd) -> R<bool> {
        Ok(match self.get(fd)?.what {
            What::Stdin => !matches!(self.stdin.front(), Some(Stdin::Later)),
            _ => true,
        })
    }
}

/// Where a path led.
struct Found {
    /// The directory holding the last component.
    parent: Ino,
    /// The last component (`None` for a path ending in `.` or `..`).
    name: Option<String>,
    /// What the path names, if it exists.
    ino: Option<Ino>,
}

fn split(path: &str) -> VecDeque<String> {
    path.split('/')
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

pub fn write(fd: Fd, buf: &[u8]) -> R<usize> {
    with(|h| {
        h.calls.push("fd_write");
        let o = h.get(fd)?;
        h.need(o, wasi::RIGHTS_FD_WRITE).map_err(transfer)?;
        let (what, append, pos) = (o.what, o.flags & wasi::FDFLAGS_APPEND != 0, o.pos);
        match what {
            What::Stdout | What::Stderr => {
                let closed_pipe = h.quirks.closed_pipe;
                let (closed, out) = if what == What::Stdout {
                    (h.stdout_closed, &mut h.stdout)
                } else {
                    (h.stderr_closed, &mut h.stderr)
                };
                if closed {
                    return Err(closed_pipe);
                }
                out.extend_from_slice(buf);
                Ok(buf.len())
            }
            What::Stdin => Err(errno::BADF),
            What::Node(_) => {
                let at = if append { u64::MAX } else { pos };
                let n = write_file(h, fd, buf, at)?;
                let o = h.fds.get_mut(&fd).ok_or(errno::BADF)?;
                o.pos = if append { o.pos } else { o.pos + n as u64 };
                Ok(n)
            }
        }
    })
}

/// Writes `buf` to file fd `fd` at `at` (`u64::MAX`: at the end).
fn write_file(h: &mut Host, fd: Fd, buf: &[u8], at: u64) -> R<usize> {
    let (data, o) = h.file_mut(fd)?;
    if !o.writable {
        return Err(errno::BADF);
    }
    let at = if at == u64::MAX {
        data.len()
    } else {
        at as usize
    };
    let end = at.checked_add(buf.len()).ok_or(errno::FBIG)?;
    if data.len() < end {
        data.resize(end, 0);
    }
    data[at..end].copy_from_slice(buf);
    if let What::Node(ino) = o.what {
        h.touch(ino);
    }
    Ok(buf.len())
}

pub fn pwrite(fd: Fd, buf: &[u8], offset: u64) -> R<usize> {
    with(|h| {
        h.calls.push("fd_pwrite");
        let o = h.get(fd)?;
        h.need(o, wasi::RIGHTS_FD_WRITE | wasi::RIGHTS_FD_SEEK)
            .map_err(transfer)?;
        if offset == u64::MAX {
            return Err(errno::FBIG);
        }
        // With APPEND set, every host appends (Linux `pwrite` on O_APPEND).
        let append = o.flags & wasi::FDFLAGS_APPEND != 0;
        write_file(h, fd, buf, if append { u64::MAX } else { offset })
    })
}

pub fn read(fd: Fd, buf: &mut [u8]) -> R<usize> {
    with(|h| {
        h.calls.push("fd_read");
        let o = h.get(fd)?;
        h.need(o, wasi::RIGHTS_FD_READ).map_err(transfer)?;
        match o.what {
            What::Stdin => h.read_stdin(buf),
            What::Stdout | What::Stderr => Err(errno::BADF),
            What::Node(_) => {
                let pos = o.pos;
                let n = read_file(h, fd, buf, pos)?;
                if let Some(o) = h.fds.get_mut(&fd) {
                    o.pos += n as u64;
                }
                Ok(n)
            }
        }
    })
}

fn read_file(h: &mut Host, fd: Fd, buf: &mut [u8], at: u64) -> R<usize> {
    let (data, o) = h.file_mut(fd)?;
    if !o.readable {
        return Err(errno::BADF);
    }
    let at = usize::try_from(at).unwrap_or(usize::MAX).min(data.len());
    let n = (data.len() - at).min(buf.len());
    buf[..n].copy_from_slice(&data[at..at + n]);
    Ok(n)
}

pub fn pread(fd: Fd, buf: &mut [u8], offset: u64) -> R<usize> {
    with(|h| {
        h.calls.push("fd_pread");
        let o = h.get(fd)?;
        h.need(o, wasi::RIGHTS_FD_READ | wasi::RIGHTS_FD_SEEK)
            .map_err(transfer)?;
        read_file(h, fd, buf, offset)
    })
}

pub fn close(fd: Fd) -> R<()> {
    with(|h| {
        h.calls.push("fd_close");
        h.fds.remove(&fd).map(|_| ()).ok_or(errno::BADF)
    })
}

pub fn set_fdflags(fd: Fd, flags: wasi::Fdflags) -> R<()> {
    with(|h| {
        h.calls.push("fd_fdstat_set_flags");
        let o = h.get(fd)?;
        h.need(o, wasi::RIGHTS_FD_FDSTAT_SET_FLAGS)?;
        let sync = wasi::FDFLAGS_DSYNC | wasi::FDFLAGS_RSYNC | wasi::FDFLAGS_SYNC;
        if !h.quirks.set_flags_takes_sync && flags & sync != 0 {
            return Err(errno::INVAL);
        }
        h.fds.get_mut(&fd).ok_or(errno::BADF)?.flags = flags;
        Ok(())
    })
}

pub fn fdstat(fd: Fd) -> R<wasi::Fdstat> {
    with(|h| {
        h.calls.push("fd_fdstat_get");
        let o = h.get(fd)?;
        let fs_filetype = match o.what {
            What::Node(ino) => h.stat(ino).filetype,
            _ => wasi::FILETYPE_UNKNOWN,
        };
        Ok(wasi::Fdstat {
            fs_filetype,
            fs_flags: o.flags,
            fs_rights_base: o.base,
            fs_rights_inheriting: o.inheriting,
        })
    })
}

pub fn filestat(fd: Fd) -> R<wasi::Filestat> {
    with(|h| {
        h.calls.push("fd_filestat_get");
        let o = h.get(fd)?;
        h.need(o, wasi::RIGHTS_FD_FILESTAT_GET)?;
        Ok(match o.what {
            What::Node(ino) => h.stat(ino),
            _ => wasi::Filestat {
                dev: 0,
                ino: 0,
                filetype: wasi::FILETYPE_UNKNOWN,
                nlink: 0,
                size: 0,
                atim: 0,
                mtim: 0,
                ctim: 0,
            },
        })
    })
}

pub fn path_filestat(fd: Fd, flags: wasi::Lookupflags, path: &str) -> R<wasi::Filestat> {
    with(|h| {
        h.calls.push("path_filestat_get");
        h.dir_of(fd, wasi::RIGHTS_PATH_FILESTAT_GET)?;
        let found = h.lookup(fd, path, flags & wasi::LOOKUPFLAGS_SYMLINK_FOLLOW != 0)?;
        Ok(h.stat(found.ino.ok_or(errno::NOENT)?))
    })
}

pub fn set_size(fd: Fd, size: u64) -> R<()> {
    with(|h| {
        let o = h.get(fd)?;
        h.need(o, wasi::RIGHTS_FD_FILESTAT_SET_SIZE)?;
        let ino = match o.what {
            What::Node(ino) => ino,
            _ => return Err(errno::INVAL),
        };
        let (data, o) = h.file_mut(fd).map_err(|_| errno::INVAL)?;
        if !o.writable {
            return Err(errno::INVAL);
        }
        data.resize(usize::try_from(size).map_err(|_| errno::FBIG)?, 0);
        h.touch(ino);
        Ok(())
    })
}

/// The new `(atim, mtim)` of a `*_set_times` call.
fn new_times(h: &Host, ino: Ino, atim: u64, mtim: u64, flags: wasi::Fstflags) -> R<(u64, u64)> {
    let now = WALL_BASE + h.now;
    let pick = |set, set_now, t, old| match (flags & set != 0, flags & set_now != 0) {
        (true, true) => Err(errno::INVAL),
        (true, false) => Ok(t),
        (false, true) => Ok(now),
        (false, false) => Ok(old),
    };
    let n = &h.nodes[ino];
    Ok((
        pick(wasi::FSTFLAGS_ATIM, wasi::FSTFLAGS_ATIM_NOW, atim, n.atim)?,
        pick(wasi::FSTFLAGS_MTIM, wasi::FSTFLAGS_MTIM_NOW, mtim, n.mtim)?,
    ))
}

pub fn set_times(fd: Fd, atim: u64, mtim: u64, flags: wasi::Fstflags) -> R<()> {
    with(|h| {
        let o = h.get(fd)?;
        h.need(o, wasi::RIGHTS_FD_FILESTAT_SET_TIMES)?;
        let What::Node(ino) = o.what else {
            return Err(errno::BADF);
        };
        let (a, m) = new_times(h, ino, atim, mtim, flags)?;
        (h.nodes[ino].atim, h.nodes[ino].mtim) = (a, m);
        Ok(())
    })
}

pub fn path_set_times(
    fd: Fd,
    lf: wasi::Lookupflags,
    path: &str,
    atim: u64,
    mtim: u64,
    flags: wasi::Fstflags,
) -> R<()> {
    with(|h| {
        h.dir_of(fd, wasi::RIGHTS_PATH_FILESTAT_SET_TIMES)?;
        let found = h.lookup(fd, path, lf & wasi::LOOKUPFLAGS_SYMLINK_FOLLOW != 0)?;
        let ino = found.ino.ok_or(errno::NOENT)?;
        let (a, m) = new_times(h, ino, atim, mtim, flags)?;
        (h.nodes[ino].atim, h.nodes[ino].mtim) = (a, m);
        Ok(())
    })
}

fn sync_any(fd: Fd, right: u64) -> R<()> {
    with(|h| {
        let o = h.get(fd)?;
        h.need(o, right)?;
        match o.what {
            What::Node(_) => Ok(()),
            _ => Err(errno::INVAL),
        }
    })
}

pub fn sync(fd: Fd) -> R<()> {
    sync_any(fd, wasi::RIGHTS_FD_SYNC)
}

pub fn datasync(fd: Fd) -> R<()> {
    sync_any(fd, wasi::RIGHTS_FD_DATASYNC)
}

pub fn advise(fd: Fd, _offset: u64, _len: u64, _advice: wasi::Advice) -> R<()> {
    with(|h| {
        let o = h.get(fd)?;
        h.need(o, wasi::RIGHTS_FD_ADVISE)?;
        match o.what {
            What::Node(ino) if matches!(h.nodes[ino].data, Data::File(_)) => Ok(()),
            What::Node(_) => Err(errno::BADF),
            _ => Err(errno::SPIPE),
        }
    })
}

/// `fd_readdir`: `.` and `..` first, then the entries by name; the cookie
/// is the index of the next entry; the last entry may be cut short.
pub fn readdir(fd: Fd, buf: &mut [u8], cookie: u64) -> R<usize> {
    with(|h| {
        h.calls.push("fd_readdir");
        let o = h.get(fd)?;
        h.need(o, wasi::RIGHTS_FD_READDIR)?;
        let What::Node(ino) = o.what else {
            return Err(errno::BADF);
        };
        let m = h.entries(ino).map_err(|_| errno::BADF)?;
        let mut all: Vec<(&str, Ino)> = vec![(".", ino), ("..", ino)];
        all.extend(m.iter().map(|(n, &i)| (n.as_str(), i)));
        let mut out = Vec::new();
        let zero = h.quirks.readdir_ino_zero;
        for (i, (name, child)) in all.iter().enumerate().skip(cookie as usize) {
            out.extend_from_slice(&(i as u64 + 1).to_le_bytes());
            let d_ino = if zero { 0 } else { h.stat(*child).ino };
            out.extend_from_slice(&d_ino.to_le_bytes());
            out.extend_from_slice(&(name.len() as u32).to_le_bytes());
            out.push(h.stat(*child).filetype.raw());
            out.extend_from_slice(&[0; 3]);
            out.extend_from_slice(name.as_bytes());
            if out.len() >= buf.len() {
                break;
            }
        }
        let n = out.len().min(buf.len());
        buf[..n].copy_from_slice(&out[..n]);
        Ok(n)
    })
}

/// The parent directory and new name for creating `path`: EEXIST if it
/// exists.
fn creating(h: &Host, fd: Fd, path: &str) -> R<(Ino, String)> {
    let found = h.lookup(fd, path, false)?;
    match (found.ino, found.name) {
        (None, Some(name)) => Ok((found.parent, name)),
        _ => Err(errno::EXIST),
    }
}

pub fn create_directory(fd: Fd, path: &str) -> R<()> {
    with(|h| {
        h.dir_of(fd, wasi::RIGHTS_PATH_CREATE_DIRECTORY)?;
        let (parent, name) = creating(h, fd, path)?;
        let ino = h.node(Data::Dir(BTreeMap::new()));
        h.entries_mut(parent)?.insert(name, ino);
        h.touch(parent);
        Ok(())
    })
}

/// The parent, name and node of an existing `path` (not followed).
fn existing(h: &Host, fd: Fd, path: &str) -> R<(Ino, String, Ino)> {
    let found = h.lookup(fd, path, false)?;
    match (found.ino, found.name) {
        (Some(ino), Some(name)) => Ok((found.parent, name, ino)),
        (None, _) => Err(errno::NOENT),
        // `.` or `..`
        (Some(_), None) => Err(errno::INVAL),
    }
}

pub fn remove_directory(fd: Fd, path: &str) -> R<()> {
    with(|h| {
        h.dir_of(fd, wasi::RIGHTS_PATH_REMOVE_DIRECTORY)?;
        let (parent, name, ino) = existing(h, fd, path)?;
        if !h.entries(ino)?.is_empty() {
            return Err(errno::NOTEMPTY);
        }
        h.entries_mut(parent)?.remove(&name);
        h.touch(parent);
        Ok(())
    })
}

pub fn unlink_file(fd: Fd, path: &str) -> R<()> {
    with(|h| {
        h.dir_of(fd, wasi::RIGHTS_PATH_UNLINK_FILE)?;
        if path.ends_with('/') {
            return Err(errno::NOTDIR);
        }
        let (parent, name, ino) = existing(h, fd, path)?;
        if matches!(h.nodes[ino].data, Data::Dir(_)) {
            return Err(errno::ISDIR);
        }
        h.entries_mut(parent)?.remove(&name);
        h.nodes[ino].nlink -= 1;
        h.touch(parent);
        Ok(())
    })
}

pub fn rename(fd: Fd, old: &str, new_fd: Fd, new: &str) -> R<()> {
    with(|h| {
        h.calls.push("path_rename");
        h.dir_of(fd, wasi::RIGHTS_PATH_RENAME_SOURCE)?;
        h.dir_of(new_fd, wasi::RIGHTS_PATH_RENAME_TARGET)?;
        let (op, oname, ino) = existing(h, fd, old)?;
        let to = h.lookup(new_fd, new, false)?;
        let nname = to.name.ok_or(errno::BUSY)?;
        let is_dir = |h: &Host, i: Ino| matches!(h.nodes[i].data, Data::Dir(_));
        if let Some(target) = to.ino {
            if target == ino {
                return Ok(());
            }
            match (is_dir(h, ino), is_dir(h, target)) {
                (true, false) => return Err(errno::NOTDIR),
                (false, true) => return Err(errno::ISDIR),
                (true, true) if !h.entries(target)?.is_empty() => return Err(errno::NOTEMPTY),
                _ => {}
            }
            h.nodes[target].nlink -= 1;
        }
        // A directory cannot move into itself.
        if is_dir(h, ino) && contains(h, ino, to.parent) {
            return Err(errno::INVAL);
        }
        h.entries_mut(op)?.remove(&oname);
        h.entries_mut(to.parent)?.insert(nname, ino);
        h.touch(op);
        h.touch(to.parent);
        Ok(())
    })
}

/// Whether directory `dir` is `x` or holds it.
fn contains(h: &Host, dir: Ino, x: Ino) -> bool {
    dir == x
        || h.entries(dir)
            .map(|m| m.values().any(|&c| contains(h, c, x)))
            .unwrap_or(false)
}

pub fn symlink(old: &str, fd: Fd, new: &str) -> R<()> {
    with(|h| {
        h.dir_of(fd, wasi::RIGHTS_PATH_SYMLINK)?;
        if new.ends_with('/') {
            return Err(errno::NOENT);
        }
        let (parent, name) = creating(h, fd, new)?;
        let ino = h.node(Data::Link(old.to_string()));
        h.entries_mut(parent)?.insert(name, ino);
        Ok(())
    })
}

pub fn link(old_fd: Fd, flags: wasi::Lookupflags, old: &str, new_fd: Fd, new: &str) -> R<()> {
    with(|h| {
        h.dir_of(old_fd, wasi::RIGHTS_PATH_LINK_SOURCE)?;
        h.dir_of(new_fd, wasi::RIGHTS_PATH_LINK_TARGET)?;
        let found = h.lookup(old_fd, old, flags & wasi::LOOKUPFLAGS_SYMLINK_FOLLOW != 0)?;
        let ino = found.ino.ok_or(errno::NOENT)?;
        if matches!(h.nodes[ino].data, Data::Dir(_)) {
            return Err(errno::PERM);
        }
        let (parent, name) = creating(h, new_fd, new)?;
        h.entries_mut(parent)?.insert(name, ino);
        h.nodes[ino].nlink += 1;
        Ok(())
    })
}

pub fn readlink(fd: Fd, path: &str, buf: &mut [u8]) -> R<usize> {
    with(|h| {
        h.dir_of(fd, wasi::RIGHTS_PATH_READLINK)?;
        let (_, _, ino) = existing(h, fd, path)?;
        match &h.nodes[ino].data {
            Data::Link(t) => {
                let n = t.len().min(buf.len());
                buf[..n].copy_from_slice(&t.as_bytes()[..n]);
                Ok(n)
            }
            _ => Err(errno::INVAL),
        }
    })
}

const READ_RIGHTS: u64 = wasi::RIGHTS_FD_READ | wasi::RIGHTS_FD_READDIR;
const WRITE_RIGHTS: u64 = wasi::RIGHTS_FD_WRITE
    | wasi::RIGHTS_FD_DATASYNC
    | wasi::RIGHTS_FD_ALLOCATE
    | wasi::RIGHTS_FD_FILESTAT_SET_SIZE;

#[allow(clippy::too_many_arguments)]
pub fn open(
    fd: Fd,
    lookup: wasi::Lookupflags,
    path: &str,
    oflags: wasi::Oflags,
    base: wasi::Rights,
    inheriting: wasi::Rights,
    fdflags: wasi::Fdflags,
) -> R<Fd> {
    with(|h| {
        h.calls.push("path_open");
        h.dir_of(fd, wasi::RIGHTS_PATH_OPEN)?;
        let dir_inheriting = h.get(fd)?.inheriting;
        if h.quirks.enforce_rights && (base | inheriting) & !dir_inheriting != 0 {
            return Err(errno::NOTCAPABLE);
        }
        let creat = oflags & wasi::OFLAGS_CREAT != 0;
        let trunc = oflags & wasi::OFLAGS_TRUNC != 0;
        let want_dir = oflags & wasi::OFLAGS_DIRECTORY != 0;
        // As wasmtime's p1 asks its OS: read unless only writing is asked,
        // write when asked for or creating or truncating.
        let writable = base & WRITE_RIGHTS != 0 || creat || trunc;
        let readable = base & READ_RIGHTS != 0 || !writable;
        let follow = lookup & wasi::LOOKUPFLAGS_SYMLINK_FOLLOW != 0;
        let found = h.lookup(fd, path, follow)?;
        let ino = match found.ino {
            Some(_) if creat && oflags & wasi::OFLAGS_EXCL != 0 => return Err(errno::EXIST),
            Some(ino) => ino,
            None if creat && !want_dir => {
                let name = found.name.ok_or(errno::ISDIR)?;
                let ino = h.node(Data::File(Vec::new()));
                h.entries_mut(found.parent)?.insert(name, ino);
                h.touch(found.parent);
                ino
            }
            None => return Err(errno::NOENT),
        };
        match &mut h.nodes[ino].data {
            Data::Link(_) => return Err(errno::LOOP),
            Data::Dir(_) if writable => return Err(errno::ISDIR),
            Data::Dir(_) => {}
            Data::File(_) if want_dir => return Err(errno::NOTDIR),
            Data::File(b) => {
                if trunc {
                    b.clear();
                }
            }
        }
        if trunc {
            h.touch(ino);
        }
        let new = h.lowest_free_fd();
        h.fds.insert(
            new,
            Open {
                what: What::Node(ino),
                base: if h.quirks.enforce_rights {
                    base & dir_inheriting
                } else {
                    base
                },
                inheriting,
                flags: fdflags,
                readable,
                writable,
                pos: 0,
                preopen: None,
            },
        );
        Ok(new)
    })
}

/// The preopened directory name of `fd`, or the errno (`BADF` past the
/// last preopen).
pub fn prestat_name(fd: Fd) -> R<Vec<u8>> {
    with(|h| {
        h.get(fd)?
            .preopen
            .as_ref()
            .map(|n| n.as_bytes().to_vec())
            .ok_or(errno::BADF)
    })
}

pub fn clock_now(id: wasi::Clockid) -> R<u64> {
    with(|h| match id {
        wasi::CLOCKID_MONOTONIC => Ok(h.now),
        wasi::CLOCKID_REALTIME => Ok(WALL_BASE + h.now),
        _ => Err(errno::INVAL),
    })
}

pub fn clock_res(id: wasi::Clockid) -> R<u64> {
    match id {
        wasi::CLOCKID_MONOTONIC | wasi::CLOCKID_REALTIME => Ok(1),
        _ => Err(errno::INVAL),
    }
}

/// Fills `buf` from a seeded xorshift generator (reproducible per test).
pub fn random(buf: &mut [u8]) -> R<()> {
    with(|h| {
        for b in buf {
            h.seed ^= h.seed << 13;
            h.seed ^= h.seed >> 7;
            h.seed ^= h.seed << 17;
            *b = h.seed as u8;
        }
        Ok(())
    })
}

/// `poll_oneoff`: time passes only here. Each call lets one pending stdin
/// step arrive; then the fd waits that are ready fire, or else the clock
/// advances to the nearest timeout, which fires.
pub fn poll(waits: &[Wait]) -> R<Vec<(usize, u16)>> {
    with(|h| {
        if waits.is_empty() {
            return Err(errno::INVAL);
        }
        h.polls += 1;
        h.spins = 0;
        let stdin_waits = waits.contains(&Wait::FdRead(0));
        if stdin_waits && h.stdin_file && h.quirks.poll_refuses_stdin_file {
            return Err(errno::PERM);
        }
        loop {
            if matches!(h.stdin.front(), Some(Stdin::Later)) {
                h.stdin.pop_front();
            }
            let mut fired = Vec::new();
            for (i, w) in waits.iter().enumerate() {
                match *w {
                    Wait::FdRead(fd) => match h.readable_now(fd) {
                        Ok(true) => fired.push((i, 0)),
                        Ok(false) => {}
                        Err(e) => fired.push((i, e)),
                    },
                    Wait::Timeout(0) => fired.push((i, 0)),
                    Wait::Timeout(_) => {}
                }
            }
            if !fired.is_empty() {
                return Ok(fired);
            }
            let nearest = waits
                .iter()
                .filter_map(|w| match *w {
                    Wait::Timeout(ns) => Some(ns),
                    Wait::FdRead(_) => None,
                })
                .min();
            if let Some(ns) = nearest {
                h.now = h.now.saturating_add(ns);
                return Ok(waits
                    .iter()
                    .enumerate()
                    .filter(|(_, w)| **w == Wait::Timeout(ns))
                    .map(|(i, _)| (i, 0))
                    .collect());
            }
        }
    })
}

/// `proc_exit`: unwinds with an [`Exit`] payload, which a test catches.
pub fn exit(code: u32) -> ! {
    std::panic::panic_any(Exit(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_paths_and_rights() {
        reset(Quirks::node());
        with(|h| h.add_file("a.txt", b"hello"));
        create_directory(3, "d").unwrap();
        assert_eq!(create_directory(3, "d"), Err(errno::EXIST));
        assert_eq!(open(3, 0, "../x", 0, 0, 0, 0), Err(errno::NOTCAPABLE));
        assert_eq!(open(3, 0, "d/../../x", 0, 0, 0, 0), Err(errno::NOTCAPABLE));
        let ro = open(3, 0, "a.txt", 0, wasi::RIGHTS_FD_READ, 0, 0).unwrap();
        let mut b = [0u8; 8];
        assert_eq!(read(ro, &mut b), Ok(5));
        // Node's rights: a write on a read-only fd is refused (ENOTCAPABLE,
        // reported as EBADF by a transfer).
        assert_eq!(write(ro, b"x"), Err(errno::BADF));
        symlink("../a.txt", 3, "d/l").unwrap();
        assert_eq!(
            path_filestat(3, wasi::LOOKUPFLAGS_SYMLINK_FOLLOW, "d/l").map(|s| s.size),
            Ok(5)
        );
        assert_eq!(
            open(3, 0, "d/l", 0, wasi::RIGHTS_FD_READ, 0, 0),
            Err(errno::LOOP)
        );
        rename(3, "a.txt", 3, "d/b.txt").unwrap();
        assert_eq!(with(|h| h.file("d/b.txt")), Some(b"hello".to_vec()));
        assert_eq!(remove_directory(3, "d"), Err(errno::NOTEMPTY));
        // The open fd still reads the renamed file; fd numbers are reused.
        assert_eq!(pread(ro, &mut b, 1), Ok(4));
        close(ro).unwrap();
        assert_eq!(with(|h| h.open_fds()), 0);
        assert_eq!(open(3, 0, "d/b.txt", 0, 0, 0, 0), Ok(ro));
    }

    #[test]
    fn readdir_lists_dot_entries_and_cuts_the_last() {
        reset(Quirks::wasmtime());
        with(|h| h.add_file("zz", b""));
        let mut buf = [0u8; 200];
        let n = readdir(3, &mut buf, 0).unwrap();
        assert_eq!(n, 3 * 24 + 1 + 2 + 2);
        let n = readdir(3, &mut buf[..30], 0).unwrap();
        assert_eq!(n, 30);
    }

    #[test]
    fn stdin_waits_and_clock_advances_only_in_poll() {
        reset(Quirks::node());
        with(|h| h.set_stdin([Stdin::Later, Stdin::Data(b"ab".to_vec())]));
        let mut b = [0u8; 4];
        assert_eq!(read(0, &mut b), Err(errno::AGAIN));
        let t = clock_now(wasi::CLOCKID_MONOTONIC).unwrap();
        assert_eq!(poll(&[Wait::FdRead(0), Wait::Timeout(5)]), Ok(vec![(0, 0)]));
        assert_eq!(read(0, &mut b), Ok(2));
        assert_eq!(read(0, &mut b), Ok(0));
        assert_eq!(poll(&[Wait::Timeout(7)]), Ok(vec![(0, 0)]));
        assert_eq!(clock_now(wasi::CLOCKID_MONOTONIC), Ok(t + 7));
        reset(Quirks::wasmtime());
        with(|h| h.set_stdin([Stdin::Later, Stdin::Data(b"c".to_vec())]));
        assert_eq!(read(0, &mut b), Ok(1));
    }
}
