//! `wasi:filesystem/types`: the `descriptor` resource over p1 fds and
//! `path_*` calls, `directory-entry-stream`, and `filesystem-error-code`.
//!
//! Invariants:
//! * Every p1 failure is returned as the `error-code` of [`crate::errno`].
//! * Descriptors opened by `open-at` own their fd (closed on drop);
//!   streams borrow the fd and use their own position (`fd_pread` /
//!   `fd_pwrite`), so they never move the descriptor's p1 offset.
//! * `open-at` asks p1 only for the rights the descriptor flags imply (read
//!   and/or write rights plus neutral ones), so a read-only open of a
//!   read-only file succeeds as in wasmtime.
//! * Directory listings are read whole when `read-directory` is called,
//!   without `.` and `..`; a non-UTF-8 name is an `illegal-byte-sequence`
//!   item at its place.

use crate::bindings::filesystem_types::{
    Advice, Descriptor as DescriptorRes, DescriptorFlags, DescriptorStat, DescriptorType,
    DirectoryEntry, DirectoryEntryStream, ErrorCode, Host, MetadataHashValue, NewTimestamp,
    OpenFlags, PathFlags,
};
use crate::bindings::io_error::Error as IoErrorRes;
use crate::bindings::io_streams::{InputStream as InputRes, OutputStream as OutputRes};
use crate::clocks::datetime;
use crate::errno::{error_code, p1 as errno};
use crate::fds::{FdFacts, FdType};
use crate::glue::{Borrow, Own};
use crate::table::{Descriptor, DirItem, Entry, InputStream, Listing, OutputKind, OutputStream};
use crate::{p1, HostError, WasiCtx};
use std::collections::VecDeque;

/// A `result<T, error-code>`.
type FsResult<T> = Result<Result<T, ErrorCode>, HostError>;

/// A p1 result as `result<T, error-code>`.
fn res<T>(r: p1::R<T>) -> FsResult<T> {
    Ok(r.map_err(error_code))
}

fn descriptor_type(ft: wasi::Filetype) -> DescriptorType {
    match ft {
        wasi::FILETYPE_BLOCK_DEVICE => DescriptorType::BlockDevice,
        wasi::FILETYPE_CHARACTER_DEVICE => DescriptorType::CharacterDevice,
        wasi::FILETYPE_DIRECTORY => DescriptorType::Directory,
        wasi::FILETYPE_REGULAR_FILE => DescriptorType::RegularFile,
        wasi::FILETYPE_SOCKET_DGRAM | wasi::FILETYPE_SOCKET_STREAM => DescriptorType::Socket,
        wasi::FILETYPE_SYMBOLIC_LINK => DescriptorType::SymbolicLink,
        _ => DescriptorType::Unknown,
    }
}

fn stat(st: wasi::Filestat) -> DescriptorStat {
    DescriptorStat {
        type_: descriptor_type(st.filetype),
        link_count: st.nlink,
        size: st.size,
        data_access_timestamp: Some(datetime(st.atim)),
        data_modification_timestamp: Some(datetime(st.mtim)),
        status_change_timestamp: Some(datetime(st.ctim)),
    }
}

/// `metadata-hash-value` from the identity p1 gives: device and inode.
fn hash(st: wasi::Filestat) -> MetadataHashValue {
    identity(st.dev, st.ino)
}

/// `metadata-hash-value` of inode `ino` on device `dev`.
fn identity(dev: u64, ino: u64) -> MetadataHashValue {
    MetadataHashValue {
        lower: ino,
        upper: dev,
    }
}

/// The entry a `directory-entry-stream` returned last, which answers the
/// `metadata-hash-at` of its name asked right after it (wasi-libc's
/// `readdir` asks one per entry, for its `d_ino`): from p1 `fd_readdir`'s
/// `d_ino` and the folder's `dev` (learned once per fd, `WasiCtx::dev`),
/// where a `path_filestat_get` per entry would be one more p1 call than a
/// p1 build's `readdir` makes (it takes `d_ino` from `fd_readdir`).
///
/// Invariants:
/// * `dir` is the rep of the descriptor listed, 0 for none (reps are never
///   reused, so a descriptor dropped since matches no other); `ino` is
///   nonzero (node says 0 for every entry: then the host is asked).
/// * wasmtime, wasmi, iwasm and the browser's shim give as `d_ino` the
///   `ino` that `path_filestat_get` without `symlink-follow` gives, and the
///   entry's `dev` is its folder's (`conformance/p1-checks/dir-ino`), so
///   the answer is the host's, except for a mount point inside the folder
///   (its `d_ino` is the covered directory's, as POSIX `readdir` says).
/// * With `symlink-follow`, only an entry known not to be a symlink is
///   answered. A `rename-at`, `unlink-file-at` or `remove-directory-at`
///   forgets the entry: its name may now be another file, or none.
#[derive(Debug, Default)]
pub(crate) struct Listed {
    dir: u32,
    ino: u64,
    /// The entry is a symlink, or its type is unknown.
    may_link: bool,
    name: String,
}

impl Listed {
    /// Remembers the entry `name` just read from a listing of descriptor
    /// `dir` (reusing the name's buffer).
    fn remember(&mut self, dir: u32, ino: u64, type_: DescriptorType, name: &str) {
        if dir == 0 || ino == 0 {
            self.dir = 0;
            return;
        }
        self.dir = dir;
        self.ino = ino;
        self.may_link = matches!(
            type_,
            DescriptorType::SymbolicLink | DescriptorType::Unknown
        );
        self.name.clear();
        self.name.push_str(name);
    }

    fn forget(&mut self) {
        self.dir = 0;
    }

    /// The `d_ino` of `path` below descriptor `dir` looked up with `flags`,
    /// when it is the entry remembered.
    fn ino(&self, dir: u32, flags: PathFlags, path: &str) -> Option<u64> {
        let follows = flags.contains(PathFlags::SYMLINK_FOLLOW) && self.may_link;
        (self.dir == dir && dir != 0 && !follows && self.name == path).then_some(self.ino)
    }
}

fn lookup(flags: PathFlags) -> wasi::Lookupflags {
    if flags.contains(PathFlags::SYMLINK_FOLLOW) {
        wasi::LOOKUPFLAGS_SYMLINK_FOLLOW
    } else {
        0
    }
}

/// A `new-timestamp` as p1 `(time, set flag, now flag)` bits.
fn new_timestamp(t: NewTimestamp, set: u16, now: u16) -> Result<(u64, u16), u16> {
    match t {
        NewTimestamp::NoChange => Ok((0, 0)),
        NewTimestamp::Now => Ok((0, now)),
        NewTimestamp::Timestamp(dt) => match dt
            .seconds
            .checked_mul(1_000_000_000)
            .and_then(|x| x.checked_add(u64::from(dt.nanoseconds)))
        {
            Some(ns) => Ok((ns, set)),
            None => Err(errno::OVERFLOW),
        },
    }
}

/// The two timestamps of `set-times(-at)` as p1 `(atim, mtim, fstflags)`.
fn times(at: NewTimestamp, mt: NewTimestamp) -> Result<(u64, u64, u16), u16> {
    let (at, af) = new_timestamp(at, wasi::FSTFLAGS_ATIM, wasi::FSTFLAGS_ATIM_NOW)?;
    let (mt, mf) = new_timestamp(mt, wasi::FSTFLAGS_MTIM, wasi::FSTFLAGS_MTIM_NOW)?;
    Ok((at, mt, af | mf))
}

const READ_RIGHTS: u64 = wasi::RIGHTS_FD_READ | wasi::RIGHTS_FD_READDIR;
const WRITE_RIGHTS: u64 = wasi::RIGHTS_FD_WRITE
    | wasi::RIGHTS_FD_DATASYNC
    | wasi::RIGHTS_FD_ALLOCATE
    | wasi::RIGHTS_FD_FILESTAT_SET_SIZE;

/// An `open-at` request in p1 terms.
#[derive(Debug, Clone, Copy)]
pub struct OpenAt<'a> {
    pub lookup: wasi::Lookupflags,
    pub path: &'a str,
    pub oflags: wasi::Oflags,
    /// The `read` and `write` descriptor flags.
    pub read: bool,
    pub write: bool,
    /// The sync descriptor flags, as p1 fdflags.
    pub fdflags: wasi::Fdflags,
}

/// The p1 rights `open-at` asks for: the neutral ones, plus those of what
/// wasmtime opens the file for. wasmtime opens for reading unless only
/// writing is asked (so a descriptor opened with neither flag can be read),
/// and for writing when writing is asked or the file is created or
/// truncated (so such a descriptor can be written). Hosts that enforce
/// rights (node, wasmi) then allow the same reads and writes.
pub fn open_rights(req: &OpenAt<'_>) -> wasi::Rights {
    let writes = req.write || req.oflags & (wasi::OFLAGS_CREAT | wasi::OFLAGS_TRUNC) != 0;
    let reads = req.read || !req.write;
    let mut base = !(READ_RIGHTS | WRITE_RIGHTS) & all_rights();
    if reads {
        base |= READ_RIGHTS;
    }
    if writes {
        base |= WRITE_RIGHTS;
    }
    base
}

/// `open-at` under directory descriptor `dir`: the new descriptor's rep or
/// a p1 errno.
pub fn open_at(
    cx: &mut WasiCtx,
    dir: u32,
    req: &OpenAt<'_>,
) -> Result<Result<u32, u16>, HostError> {
    let parent = *cx.table.descriptor(dir)?;
    let dir = parent.fd;
    let base = open_rights(req);
    let (lf, path, oflags, fdflags) = (req.lookup, req.path, req.oflags, req.fdflags);
    // Hosts such as node's uvwasi refuse (ENOTCAPABLE) an open that asks for
    // rights the directory cannot pass on; then ask again for only those it
    // lists, and from then on ask for those first below this directory (the
    // host enforces them). Not first before that: wasmtime's p1 lists
    // inheriting rights it does not enforce (no FD_WRITE under a directory
    // opened without write), and the narrowed request would open a file for
    // writing without the write right.
    let inheriting = cx.inheriting(dir);
    let narrowed = base & inheriting;
    let mut rights = if cx.known(dir).narrow { narrowed } else { base };
    let opened = match p1::open(dir, lf, path, oflags, rights, inheriting, fdflags) {
        Err(errno::NOTCAPABLE) if rights & !inheriting != 0 => {
            rights = narrowed;
            let r = p1::open(dir, lf, path, oflags, rights, inheriting, fdflags);
            cx.facts(dir).narrow = r.is_ok();
            r
        }
        r => r,
    };
    Ok(match opened {
        Ok(new) => {
            // The open itself tells a directory (asked for) and a file
            // opened for writing (hosts refuse a directory: EISDIR).
            cx.fds.insert(
                new,
                FdFacts {
                    ty: if oflags & wasi::OFLAGS_DIRECTORY != 0 {
                        FdType::Is(wasi::FILETYPE_DIRECTORY)
                    } else if rights & wasi::RIGHTS_FD_WRITE != 0 {
                        FdType::NotDir
                    } else {
                        FdType::Unknown
                    },
                    fdflags,
                    ..FdFacts::default()
                },
            );
            // What reopens it after a checkpoint: the same open below the
            // preopen the parent descriptor leads to.
            #[cfg(feature = "checkpoint")]
            {
                let below = cx.origins.get(dir).filter(|_| parent.owned);
                let origin = crate::Origin {
                    preopen: below.map_or(dir, |o| o.preopen),
                    path: below.map_or_else(|| path.to_string(), |o| format!("{}/{path}", o.path)),
                    lookup: lf,
                    oflags: oflags & !(wasi::OFLAGS_CREAT | wasi::OFLAGS_EXCL | wasi::OFLAGS_TRUNC),
                    rights_base: rights,
                    rights_inheriting: inheriting,
                    fdflags,
                };
                cx.origins.insert(new, origin);
            }
            Ok(cx.table.push(Entry::Descriptor(Descriptor {
                fd: new,
                owned: true,
                fdflags: Some(fdflags),
            }))?)
        }
        Err(e) => Err(base_not_dir(cx, dir, e)),
    })
}

/// `open-at`'s typed arguments as an [`OpenAt`] request.
fn open_request<'a>(
    path_flags: PathFlags,
    path: &'a str,
    open_flags: OpenFlags,
    flags: DescriptorFlags,
) -> OpenAt<'a> {
    let mut oflags = 0;
    for (flag, bit) in [
        (OpenFlags::CREATE, wasi::OFLAGS_CREAT),
        (OpenFlags::DIRECTORY, wasi::OFLAGS_DIRECTORY),
        (OpenFlags::EXCLUSIVE, wasi::OFLAGS_EXCL),
        (OpenFlags::TRUNCATE, wasi::OFLAGS_TRUNC),
    ] {
        if open_flags.contains(flag) {
            oflags |= bit;
        }
    }
    let mut fdflags = 0;
    for (flag, bit) in [
        (DescriptorFlags::FILE_INTEGRITY_SYNC, wasi::FDFLAGS_SYNC),
        (DescriptorFlags::DATA_INTEGRITY_SYNC, wasi::FDFLAGS_DSYNC),
        (DescriptorFlags::REQUESTED_WRITE_SYNC, wasi::FDFLAGS_RSYNC),
    ] {
        if flags.contains(flag) {
            fdflags |= bit;
        }
    }
    OpenAt {
        lookup: lookup(path_flags),
        path,
        oflags,
        read: flags.contains(DescriptorFlags::READ),
        write: flags.contains(DescriptorFlags::WRITE),
        fdflags,
    }
}

/// The errno wasmtime's OS call gives where a p1 host refuses for lack of a
/// right (ENOTCAPABLE, as node's uvwasi does): `on_file` for a file not
/// opened for the operation, `bad-descriptor` for a directory.
fn lacking_right(cx: &mut WasiCtx, fd: u32, e: u16, on_file: u16) -> u16 {
    if e != errno::NOTCAPABLE {
        return e;
    }
    match cx.is_dir(fd) {
        Ok(true) => errno::BADF,
        Ok(false) => on_file,
        Err(_) => e,
    }
}

/// A path call on a base descriptor that is not a directory: p2 (and
/// wasmtime) say `not-directory`, some p1 hosts ENOTCAPABLE.
fn base_not_dir(cx: &mut WasiCtx, fd: u32, e: u16) -> u16 {
    match e == errno::NOTCAPABLE && cx.is_dir(fd) == Ok(false) {
        true => errno::NOTDIR,
        false => e,
    }
}

pub(crate) fn all_rights() -> u64 {
    (wasi::RIGHTS_SOCK_ACCEPT << 1) - 1
}

/// `get-flags` of `fd`; `preopen` tells a preopened directory from one
/// opened by `open-at`: wasmtime reports `mutate-directory` only for a
/// directory opened with write access, which `open-at` never grants a
/// directory (it fails with `is-directory`), so only preopens have it.
fn get_flags(fd: u32, preopen: bool, fdflags: Option<u16>) -> p1::R<DescriptorFlags> {
    let st = p1::fdstat(fd)?;
    let mut flags = DescriptorFlags::empty();
    let r = st.fs_rights_base;
    if r & READ_RIGHTS != 0 || st.fs_filetype == wasi::FILETYPE_DIRECTORY {
        flags |= DescriptorFlags::READ;
    }
    if r & wasi::RIGHTS_FD_WRITE != 0 {
        flags |= DescriptorFlags::WRITE;
    }
    for (bit, flag) in [
        (wasi::FDFLAGS_SYNC, DescriptorFlags::FILE_INTEGRITY_SYNC),
        (wasi::FDFLAGS_DSYNC, DescriptorFlags::DATA_INTEGRITY_SYNC),
        (wasi::FDFLAGS_RSYNC, DescriptorFlags::REQUESTED_WRITE_SYNC),
    ] {
        if fdflags.unwrap_or(st.fs_flags) & bit != 0 {
            flags |= flag;
        }
    }
    if preopen
        && st.fs_filetype == wasi::FILETYPE_DIRECTORY
        && r & (wasi::RIGHTS_PATH_CREATE_FILE
            | wasi::RIGHTS_PATH_CREATE_DIRECTORY
            | wasi::RIGHTS_PATH_UNLINK_FILE)
            != 0
    {
        flags |= DescriptorFlags::MUTATE_DIRECTORY;
    }
    Ok(flags)
}

/// The whole listing of directory `fd`, without `.` and `..`.
fn list_dir(cx: &mut WasiCtx, fd: u32) -> p1::R<VecDeque<DirItem>> {
    const HEADER: usize = 24;
    // p1 hosts answer `fd_readdir` on a file with EBADF or ENOTCAPABLE;
    // p2 (and wasmtime) say `not-directory`.
    if !cx.is_dir(fd)? {
        return Err(errno::NOTDIR);
    }
    let mut out = VecDeque::new();
    let mut buf = vec![0u8; 16 * 1024];
    let mut cookie = 0u64;
    loop {
        let n = p1::readdir(fd, &mut buf, cookie)?;
        let mut at = 0usize;
        let mut progressed = false;
        while at + HEADER <= n {
            let h = &buf[at..at + HEADER];
            let next = u64::from_le_bytes(h[0..8].try_into().unwrap_or_default());
            let namlen = u32::from_le_bytes(h[16..20].try_into().unwrap_or_default()) as usize;
            let ft = h[20];
            if at + HEADER + namlen > n {
                break;
            }
            let name = &buf[at + HEADER..at + HEADER + namlen];
            if name != b"." && name != b".." {
                let ino = u64::from_le_bytes(h[8..16].try_into().unwrap_or_default());
                out.push_back(match std::str::from_utf8(name) {
                    Ok(s) => Ok((descriptor_type_raw(ft), s.to_string(), ino)),
                    Err(_) => Err(ErrorCode::IllegalByteSequence),
                });
            }
            cookie = next;
            at += HEADER + namlen;
            progressed = true;
        }
        if n < buf.len() {
            return Ok(out);
        }
        if !progressed {
            // One entry does not fit: grow the buffer and retry.
            let len = buf.len() * 2;
            buf.resize(len, 0);
        }
    }
}

fn descriptor_type_raw(ft: u8) -> DescriptorType {
    match ft {
        1 => DescriptorType::BlockDevice,
        2 => DescriptorType::CharacterDevice,
        3 => DescriptorType::Directory,
        4 => DescriptorType::RegularFile,
        5 | 6 => DescriptorType::Socket,
        7 => DescriptorType::SymbolicLink,
        _ => DescriptorType::Unknown,
    }
}

fn readlink(fd: u32, path: &str) -> p1::R<String> {
    let mut len = 1024usize;
    loop {
        let mut buf = vec![0u8; len];
        let n = p1::readlink(fd, path, &mut buf)?;
        if n < len || len >= 1 << 20 {
            buf.truncate(n);
            return String::from_utf8(buf).map_err(|_| errno::ILSEQ);
        }
        len *= 2;
    }
}

/// `descriptor.read`: into the context's scratch buffer (handed back to it
/// once the glue copied it to the guest, see `ReuseBytes`).
fn read_at(cx: &mut WasiCtx, fd: u32, len: u64, offset: u64) -> p1::R<(Vec<u8>, bool)> {
    let mut buf = std::mem::take(&mut cx.scratch);
    buf.clear();
    buf.resize(len.min(crate::io::streams::READ_MAX) as usize, 0);
    let n = if buf.is_empty() {
        0
    } else {
        match p1::pread(fd, &mut buf, offset) {
            Ok(n) => n,
            Err(e) => {
                cx.scratch = buf;
                return Err(e);
            }
        }
    };
    buf.truncate(n);
    // wasmtime reports eof whenever the read returns no bytes (also for a
    // zero-length read).
    let eof = n == 0;
    Ok((buf, eof))
}

fn write_at(cx: &mut WasiCtx, fd: u32, data: &[u8], offset: u64) -> p1::R<u64> {
    cx.positional(fd)?;
    Ok(p1::pwrite(fd, data, offset)? as u64)
}

fn advice(a: Advice) -> wasi::Advice {
    match a {
        Advice::Normal => wasi::ADVICE_NORMAL,
        Advice::Sequential => wasi::ADVICE_SEQUENTIAL,
        Advice::Random => wasi::ADVICE_RANDOM,
        Advice::WillNeed => wasi::ADVICE_WILLNEED,
        Advice::DontNeed => wasi::ADVICE_DONTNEED,
        Advice::NoReuse => wasi::ADVICE_NOREUSE,
    }
}

/// Which stream `*-via-stream` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `read-via-stream` from this offset.
    Read(u64),
    /// `write-via-stream` at this offset.
    Write(u64),
    /// `append-via-stream`.
    Append,
}

/// `read-via-stream`, `write-via-stream` and `append-via-stream` on
/// descriptor `rep`: a new stream over the descriptor's open file, holding
/// it open after the descriptor is dropped (wasmtime's streams share the
/// file). On a directory, wasmtime says `is-directory` for reading and
/// `bad-descriptor` for writing. Returns the stream's rep or a p1 errno.
pub fn via_stream(cx: &mut WasiCtx, rep: u32, via: Via) -> Result<Result<u32, u16>, HostError> {
    let desc = *cx.table.descriptor(rep)?;
    match cx.is_dir(desc.fd) {
        Ok(true) => {
            return Ok(Err(match via {
                Via::Read(_) => errno::ISDIR,
                Via::Write(_) | Via::Append => errno::BADF,
            }))
        }
        Ok(false) => {}
        Err(e) => return Ok(Err(e)),
    }
    let (fd, owns_fd, closed) = (desc.fd, desc.owned, false);
    let e = match via {
        Via::Read(off) => Entry::Input(InputStream {
            fd,
            offset: Some(off),
            closed,
            owns_fd,
        }),
        Via::Write(off) => Entry::Output(OutputStream {
            fd,
            kind: OutputKind::At(off),
            closed,
            owns_fd,
            failed: None,
        }),
        Via::Append => Entry::Output(OutputStream {
            fd,
            kind: OutputKind::Append,
            closed,
            owns_fd,
            failed: None,
        }),
    };
    Ok(Ok(cx.table.push(e)?))
}

/// A new resource's rep or a p1 errno, as `result<own<R>, error-code>`.
fn resource<R>(r: Result<u32, u16>) -> FsResult<Own<R>> {
    Ok(r.map(Own::new).map_err(error_code))
}

impl WasiCtx {
    /// The p1 fd of descriptor `d`.
    fn fd(&mut self, d: Borrow<DescriptorRes>) -> Result<u32, HostError> {
        Ok(self.table.descriptor(d.rep())?.fd)
    }
}

impl Host for WasiCtx {
    fn descriptor_read_via_stream(
        &mut self,
        d: Borrow<DescriptorRes>,
        offset: u64,
    ) -> FsResult<Own<InputRes>> {
        resource(via_stream(self, d.rep(), Via::Read(offset))?)
    }
    fn descriptor_write_via_stream(
        &mut self,
        d: Borrow<DescriptorRes>,
        offset: u64,
    ) -> FsResult<Own<OutputRes>> {
        resource(via_stream(self, d.rep(), Via::Write(offset))?)
    }
    fn descriptor_append_via_stream(
        &mut self,
        d: Borrow<DescriptorRes>,
    ) -> FsResult<Own<OutputRes>> {
        resource(via_stream(self, d.rep(), Via::Append)?)
    }
    fn descriptor_advise(
        &mut self,
        d: Borrow<DescriptorRes>,
        offset: u64,
        length: u64,
        a: Advice,
    ) -> FsResult<()> {
        res(p1::advise(self.fd(d)?, offset, length, advice(a)))
    }
    fn descriptor_sync_data(&mut self, d: Borrow<DescriptorRes>) -> FsResult<()> {
        res(p1::datasync(self.fd(d)?))
    }
    fn descriptor_get_flags(&mut self, d: Borrow<DescriptorRes>) -> FsResult<DescriptorFlags> {
        let desc = self.table.descriptor(d.rep())?;
        let (fd, preopen, fdflags) = (desc.fd, !desc.owned, desc.fdflags);
        res(get_flags(fd, preopen, fdflags))
    }
    fn descriptor_get_type(&mut self, d: Borrow<DescriptorRes>) -> FsResult<DescriptorType> {
        let fd = self.fd(d)?;
        res(self.file_type(fd).map(descriptor_type))
    }
    fn descriptor_set_size(&mut self, d: Borrow<DescriptorRes>, size: u64) -> FsResult<()> {
        let fd = self.fd(d)?;
        let r = p1::set_size(fd, size).map_err(|e| lacking_right(self, fd, e, errno::INVAL));
        res(r)
    }
    fn descriptor_set_times(
        &mut self,
        d: Borrow<DescriptorRes>,
        data_access_timestamp: NewTimestamp,
        data_modification_timestamp: NewTimestamp,
    ) -> FsResult<()> {
        let fd = self.fd(d)?;
        res(times(data_access_timestamp, data_modification_timestamp)
            .and_then(|(at, mt, f)| p1::set_times(fd, at, mt, f)))
    }
    fn descriptor_read(
        &mut self,
        d: Borrow<DescriptorRes>,
        length: u64,
        offset: u64,
    ) -> FsResult<(Vec<u8>, bool)> {
        let fd = self.fd(d)?;
        res(read_at(self, fd, length, offset))
    }
    fn descriptor_write(
        &mut self,
        d: Borrow<DescriptorRes>,
        buffer: &[u8],
        offset: u64,
    ) -> FsResult<u64> {
        let fd = self.fd(d)?;
        res(write_at(self, fd, buffer, offset))
    }
    fn descriptor_read_directory(
        &mut self,
        d: Borrow<DescriptorRes>,
    ) -> FsResult<Own<DirectoryEntryStream>> {
        let dir = d.rep();
        let fd = self.fd(d)?;
        match list_dir(self, fd) {
            Ok(items) => {
                let listing = Entry::DirEntries(Listing { dir, items });
                resource(Ok(self.table.push(listing)?))
            }
            Err(e) => Ok(Err(error_code(e))),
        }
    }
    fn descriptor_sync(&mut self, d: Borrow<DescriptorRes>) -> FsResult<()> {
        res(p1::sync(self.fd(d)?))
    }
    fn descriptor_create_directory_at(
        &mut self,
        d: Borrow<DescriptorRes>,
        path: &str,
    ) -> FsResult<()> {
        res(p1::create_directory(self.fd(d)?, path))
    }
    fn descriptor_stat(&mut self, d: Borrow<DescriptorRes>) -> FsResult<DescriptorStat> {
        let fd = self.fd(d)?;
        res(self.filestat(fd).map(stat))
    }
    fn descriptor_stat_at(
        &mut self,
        d: Borrow<DescriptorRes>,
        path_flags: PathFlags,
        path: &str,
    ) -> FsResult<DescriptorStat> {
        res(p1::path_filestat(self.fd(d)?, lookup(path_flags), path).map(stat))
    }
    fn descriptor_set_times_at(
        &mut self,
        d: Borrow<DescriptorRes>,
        path_flags: PathFlags,
        path: &str,
        data_access_timestamp: NewTimestamp,
        data_modification_timestamp: NewTimestamp,
    ) -> FsResult<()> {
        let fd = self.fd(d)?;
        res(times(data_access_timestamp, data_modification_timestamp)
            .and_then(|(at, mt, f)| p1::path_set_times(fd, lookup(path_flags), path, at, mt, f)))
    }
    fn descriptor_link_at(
        &mut self,
        d: Borrow<DescriptorRes>,
        old_path_flags: PathFlags,
        old_path: &str,
        new_descriptor: Borrow<DescriptorRes>,
        new_path: &str,
    ) -> FsResult<()> {
        let (old, new) = (self.fd(d)?, self.fd(new_descriptor)?);
        res(p1::link(
            old,
            lookup(old_path_flags),
            old_path,
            new,
            new_path,
        ))
    }
    fn descriptor_open_at(
        &mut self,
        d: Borrow<DescriptorRes>,
        path_flags: PathFlags,
        path: &str,
        open_flags: OpenFlags,
        flags: DescriptorFlags,
    ) -> FsResult<Own<DescriptorRes>> {
        let req = open_request(path_flags, path, open_flags, flags);
        resource(open_at(self, d.rep(), &req)?)
    }
    fn descriptor_readlink_at(&mut self, d: Borrow<DescriptorRes>, path: &str) -> FsResult<String> {
        res(readlink(self.fd(d)?, path))
    }
    fn descriptor_remove_directory_at(
        &mut self,
        d: Borrow<DescriptorRes>,
        path: &str,
    ) -> FsResult<()> {
        self.listed.forget();
        res(p1::remove_directory(self.fd(d)?, path))
    }
    fn descriptor_rename_at(
        &mut self,
        d: Borrow<DescriptorRes>,
        old_path: &str,
        new_descriptor: Borrow<DescriptorRes>,
        new_path: &str,
    ) -> FsResult<()> {
        let (old, new) = (self.fd(d)?, self.fd(new_descriptor)?);
        self.listed.forget();
        res(p1::rename(old, old_path, new, new_path))
    }
    fn descriptor_symlink_at(
        &mut self,
        d: Borrow<DescriptorRes>,
        old_path: &str,
        new_path: &str,
    ) -> FsResult<()> {
        res(p1::symlink(old_path, self.fd(d)?, new_path))
    }
    fn descriptor_unlink_file_at(&mut self, d: Borrow<DescriptorRes>, path: &str) -> FsResult<()> {
        self.listed.forget();
        res(p1::unlink_file(self.fd(d)?, path))
    }
    fn descriptor_is_same_object(
        &mut self,
        d: Borrow<DescriptorRes>,
        other: Borrow<DescriptorRes>,
    ) -> Result<bool, HostError> {
        let (x, y) = (self.fd(d)?, self.fd(other)?);
        Ok(match (p1::filestat(x), p1::filestat(y)) {
            (Ok(s), Ok(t)) => s.dev == t.dev && s.ino == t.ino,
            _ => false,
        })
    }
    fn descriptor_metadata_hash(
        &mut self,
        d: Borrow<DescriptorRes>,
    ) -> FsResult<MetadataHashValue> {
        let fd = self.fd(d)?;
        res(self.filestat(fd).map(hash))
    }
    fn descriptor_metadata_hash_at(
        &mut self,
        d: Borrow<DescriptorRes>,
        path_flags: PathFlags,
        path: &str,
    ) -> FsResult<MetadataHashValue> {
        let rep = d.rep();
        let fd = self.fd(d)?;
        if let Some(ino) = self.listed.ino(rep, path_flags, path) {
            if let Ok(dev) = self.dev(fd) {
                return Ok(Ok(identity(dev, ino)));
            }
        }
        res(p1::path_filestat(fd, lookup(path_flags), path).map(hash))
    }
    fn directory_entry_stream_read_directory_entry(
        &mut self,
        s: Borrow<DirectoryEntryStream>,
    ) -> FsResult<Option<DirectoryEntry>> {
        let listing = self.table.dir_entries(s.rep())?;
        let dir = listing.dir;
        Ok(match listing.items.pop_front() {
            None => Ok(None),
            Some(Ok((type_, name, ino))) => {
                self.listed.remember(dir, ino, type_, &name);
                Ok(Some(DirectoryEntry { type_, name }))
            }
            Some(Err(code)) => Err(code),
        })
    }
    fn filesystem_error_code(
        &mut self,
        e: Borrow<IoErrorRes>,
    ) -> Result<Option<ErrorCode>, HostError> {
        Ok(self.table.error(e.rep())?.errno.map(error_code))
    }
    fn drop_descriptor(&mut self, d: Own<DescriptorRes>) -> Result<(), HostError> {
        self.drop_entry(d.rep())
    }
    fn drop_directory_entry_stream(
        &mut self,
        s: Own<DirectoryEntryStream>,
    ) -> Result<(), HostError> {
        self.drop_entry(s.rep())
    }
}

/// Against the fake p1 layer, so natively only.
#[cfg(all(test, not(target_os = "wasi")))]
mod tests {
    use super::*;
    use crate::io::streams::{read_into, write_all, StreamFail};
    use crate::p1::{reset, with, Quirks};

    /// A fresh fake host with `quirks` holding file `a` (unless empty), and
    /// a context with its preopen: `(context, preopen's rep)`.
    fn setup(quirks: Quirks, a: &[u8]) -> (WasiCtx, u32) {
        reset(quirks);
        if !a.is_empty() {
            with(|h| h.add_file("a", a));
        }
        let mut cx = WasiCtx::default();
        let d = cx
            .table
            .push(Entry::Descriptor(Descriptor {
                fd: 3,
                owned: false,
                fdflags: None,
            }))
            .unwrap();
        (cx, d)
    }

    /// `open-at` under `d`, which must succeed: the descriptor's rep.
    fn open(cx: &mut WasiCtx, d: u32, path: &str, oflags: u16, read: bool, write: bool) -> u32 {
        open_at(cx, d, &req(path, oflags, read, write))
            .unwrap()
            .unwrap()
    }

    fn req(path: &str, oflags: wasi::Oflags, read: bool, write: bool) -> OpenAt<'_> {
        OpenAt {
            lookup: 0,
            path,
            oflags,
            read,
            write,
            fdflags: 0,
        }
    }

    fn flags(cx: &mut WasiCtx, rep: u32) -> DescriptorFlags {
        let d = *cx.table.descriptor(rep).unwrap();
        get_flags(d.fd, !d.owned, d.fdflags).unwrap()
    }

    /// What a stream on `rep` reads from offset 0.
    fn read_all(cx: &mut WasiCtx, rep: u32) -> Vec<u8> {
        let s = via_stream(cx, rep, Via::Read(0)).unwrap().unwrap();
        let mut buf = Vec::new();
        let r = read_into(cx, s, 100, true, &mut buf).unwrap();
        assert!(r.is_ok() || buf.is_empty());
        cx.table.remove(s).unwrap();
        buf
    }

    #[test]
    fn open_asks_for_what_wasmtime_opens() {
        let r = |oflags, read, write| open_rights(&req("x", oflags, read, write));
        let (rd, wr) = (wasi::RIGHTS_FD_READ, wasi::RIGHTS_FD_WRITE);
        assert_eq!(r(0, false, false) & (rd | wr), rd);
        assert_eq!(r(0, true, false) & (rd | wr), rd);
        assert_eq!(r(0, false, true) & (rd | wr), wr);
        assert_eq!(r(0, true, true) & (rd | wr), rd | wr);
        assert_eq!(r(wasi::OFLAGS_CREAT, true, false) & (rd | wr), rd | wr);
        assert_eq!(r(wasi::OFLAGS_TRUNC, false, false) & (rd | wr), rd | wr);
        assert_eq!(r(wasi::OFLAGS_DIRECTORY, false, false) & (rd | wr), rd);
    }

    /// On a host that enforces rights (node), descriptors opened with
    /// neither flag read, and created or truncated ones write, as in
    /// wasmtime; `get-flags` says so.
    #[test]
    fn rights_follow_wasmtime_on_a_host_that_enforces_them() {
        let (mut cx, d) = setup(Quirks::node(), b"hello");
        let none = open(&mut cx, d, "a", 0, false, false);
        assert_eq!(flags(&mut cx, none), DescriptorFlags::READ);
        let fd = cx.table.descriptor(none).unwrap().fd;
        assert_eq!(read_at(&mut cx, fd, 10, 0), Ok((b"hello".to_vec(), false)));
        assert_eq!(write_at(&mut cx, fd, b"x", 0), Err(errno::BADF));
        let c = open(&mut cx, d, "c", wasi::OFLAGS_CREAT, true, false);
        assert_eq!(
            flags(&mut cx, c),
            DescriptorFlags::READ | DescriptorFlags::WRITE
        );
        let fd = cx.table.descriptor(c).unwrap().fd;
        assert_eq!(write_at(&mut cx, fd, b"xy", 0), Ok(2));
        let t = open(&mut cx, d, "a", wasi::OFLAGS_TRUNC, true, false);
        assert_eq!(
            flags(&mut cx, t),
            DescriptorFlags::READ | DescriptorFlags::WRITE
        );
        assert_eq!(with(|h| h.file("a")), Some(vec![]));
    }

    #[test]
    fn streams_on_a_directory_are_refused_as_wasmtime_does() {
        let (mut cx, d) = setup(Quirks::wasmtime(), b"");
        assert_eq!(via_stream(&mut cx, d, Via::Read(0)), Ok(Err(errno::ISDIR)));
        assert_eq!(via_stream(&mut cx, d, Via::Write(0)), Ok(Err(errno::BADF)));
        assert_eq!(via_stream(&mut cx, d, Via::Append), Ok(Err(errno::BADF)));
        assert_eq!(error_code(errno::ISDIR), ErrorCode::IsDirectory);
    }

    /// A stream keeps its descriptor's fd open: dropping the descriptor
    /// and opening another file gives the new file another fd, and the old
    /// stream still reads (and writes) its own file.
    #[test]
    fn a_stream_outlives_its_descriptor() {
        for q in [Quirks::wasmtime(), Quirks::node()] {
            let (mut cx, d) = setup(q, b"AAAA");
            let a = open(&mut cx, d, "a", 0, true, true);
            let r = via_stream(&mut cx, a, Via::Read(0)).unwrap().unwrap();
            let w = via_stream(&mut cx, a, Via::Append).unwrap().unwrap();
            assert_eq!(cx.table.remove(a), Ok(None));
            let b = open(&mut cx, d, "b", wasi::OFLAGS_CREAT, true, true);
            let mut buf = Vec::new();
            assert_eq!(read_into(&mut cx, r, 10, true, &mut buf), Ok(Ok(())));
            assert_eq!(buf, b"AAAA");
            let s = cx.table.output(w).unwrap();
            assert_eq!(
                (s.fd, s.kind),
                (cx.table.input(r).unwrap().fd, OutputKind::Append)
            );
            assert_eq!(read_all(&mut cx, b), b"");
            // The fd closes with its last holder.
            assert_eq!(cx.table.remove(r), Ok(None));
            let fd = cx.table.output(w).unwrap().fd;
            assert_eq!(cx.table.remove(w), Ok(Some(fd)));
            assert!(read_into(&mut cx, r, 1, true, &mut buf).is_err());
        }
    }

    /// The p1 calls the fake host saw since the last look, forgotten.
    fn calls() -> Vec<&'static str> {
        with(|h| std::mem::take(&mut h.calls))
    }

    /// file-heavy's operations per file (Rust's std on wasm32-wasip2: create
    /// and write in 64-byte writes, reopen and read to the end, append a
    /// line to an open log in several writes) make the p1 calls of its
    /// wasm32-wasip1 build: no stat of the directory or of the files
    /// opened for writing, one type check per read-only open, appends as
    /// `fd_write` on an fd set to APPEND once.
    #[test]
    fn file_operations_make_the_p1_calls_of_a_p1_build() {
        for q in [Quirks::wasmtime(), Quirks::node()] {
            let (mut cx, d) = setup(q, b"");
            let log = open(&mut cx, d, "log", wasi::OFLAGS_CREAT, false, true);
            let a = via_stream(&mut cx, log, Via::Append).unwrap().unwrap();
            assert_eq!(
                calls(),
                ["fd_fdstat_get", "path_open"],
                "the preopen's inheriting rights, once"
            );
            for i in 0..2 {
                let f = open(
                    &mut cx,
                    d,
                    "f",
                    wasi::OFLAGS_CREAT | wasi::OFLAGS_TRUNC,
                    false,
                    true,
                );
                let w = via_stream(&mut cx, f, Via::Write(0)).unwrap().unwrap();
                for _ in 0..3 {
                    assert_eq!(write_all(&mut cx, w, &[b'x'; 64], false), Ok(Ok(())));
                }
                cx.drop_entry(w).unwrap();
                cx.drop_entry(f).unwrap();
                let f = open(&mut cx, d, "f", 0, true, false);
                let r = via_stream(&mut cx, f, Via::Read(0)).unwrap().unwrap();
                let mut buf = Vec::new();
                while read_into(&mut cx, r, 100, true, &mut buf).unwrap().is_ok() {}
                cx.drop_entry(r).unwrap();
                cx.drop_entry(f).unwrap();
                for part in [&b"f 192"[..], b"\n"] {
                    assert_eq!(write_all(&mut cx, a, part, false), Ok(Ok(())));
                }
                let mut want = vec!["path_open", "fd_pwrite", "fd_pwrite", "fd_pwrite"];
                want.extend(["fd_close", "path_open", "fd_filestat_get"]);
                want.extend(["fd_pread", "fd_pread", "fd_pread", "fd_close"]);
                if i == 0 {
                    want.push("fd_fdstat_set_flags");
                }
                want.extend(["fd_write", "fd_write"]);
                assert_eq!(calls(), want, "{q:?}, file {i}");
            }
            assert_eq!(with(|h| h.file("log")), Some(b"f 192\nf 192\n".to_vec()));
            assert_eq!(with(|h| h.file("f")), Some(vec![b'x'; 192]));
        }
    }

    /// Appends and positional writes on one open file, in turn, land where
    /// each asks, on a host whose APPEND is the OS flag (node: `pwrite`
    /// would append too) and on wasmtime's; an fd opened with a sync flag,
    /// which wasmtime refuses to set APPEND with, appends at the size.
    #[test]
    fn appends_and_positional_writes_share_an_fd() {
        for q in [Quirks::wasmtime(), Quirks::node()] {
            for fdflags in [0, wasi::FDFLAGS_DSYNC] {
                let (mut cx, d) = setup(q, b"0123");
                let mut req = req("a", 0, true, true);
                req.fdflags = fdflags;
                let f = open_at(&mut cx, d, &req).unwrap().unwrap();
                let a = via_stream(&mut cx, f, Via::Append).unwrap().unwrap();
                let w = via_stream(&mut cx, f, Via::Write(1)).unwrap().unwrap();
                let fd = cx.table.descriptor(f).unwrap().fd;
                assert_eq!(write_all(&mut cx, a, b"AB", false), Ok(Ok(())));
                assert_eq!(write_all(&mut cx, w, b"w", false), Ok(Ok(())));
                assert_eq!(write_all(&mut cx, a, b"C", false), Ok(Ok(())));
                assert_eq!(write_at(&mut cx, fd, b"d", 3), Ok(1));
                assert_eq!(write_all(&mut cx, a, b"E", false), Ok(Ok(())));
                assert_eq!(write_all(&mut cx, w, b"v", false), Ok(Ok(())));
                assert_eq!(
                    with(|h| h.file("a")),
                    Some(b"0wvdABCE".to_vec()),
                    "{q:?} {fdflags}"
                );
                // The sync flag stays, and was given back with APPEND where taken.
                assert_eq!(
                    p1::fdstat(fd).unwrap().fs_flags & wasi::FDFLAGS_DSYNC,
                    fdflags
                );
            }
        }
    }

    /// A host that enforces the directory's inheriting rights (node) is
    /// asked for the narrowed rights first once it refused the full ones.
    #[test]
    fn narrowed_rights_are_asked_first_once_refused() {
        let (mut cx, d) = setup(Quirks::node(), b"hello");
        with(|h| h.set_inheriting(3, all_rights() & !wasi::RIGHTS_SOCK_SHUTDOWN));
        calls();
        let first = ["fd_fdstat_get", "path_open", "path_open"];
        for want in [&first[..], &["path_open"]] {
            let f = open(&mut cx, d, "a", 0, true, false);
            assert_eq!(calls(), want);
            assert_eq!(read_all(&mut cx, f), b"hello");
            calls();
        }
    }

    /// What `open-at` learned decides the stream calls: a folder opened
    /// without the `directory` flag is one (a stat says so), and a folder
    /// cannot be opened for writing.
    #[test]
    fn a_folder_opened_as_a_file_is_still_a_folder() {
        let (mut cx, d) = setup(Quirks::wasmtime(), b"");
        p1::create_directory(3, "sub").unwrap();
        let s = open(&mut cx, d, "sub", 0, true, false);
        assert_eq!(via_stream(&mut cx, s, Via::Read(0)), Ok(Err(errno::ISDIR)));
        assert_eq!(via_stream(&mut cx, s, Via::Append), Ok(Err(errno::BADF)));
        assert_eq!(
            open_at(&mut cx, d, &req("sub", 0, false, true)),
            Ok(Err(errno::ISDIR))
        );
        let s = open(&mut cx, d, "sub", wasi::OFLAGS_DIRECTORY, true, false);
        calls();
        assert_eq!(via_stream(&mut cx, s, Via::Read(0)), Ok(Err(errno::ISDIR)));
        assert_eq!(calls(), Vec::<&str>::new());
    }

    /// A file stream reports a failed `write` at its next call and a failed
    /// blocking write at once; either way it is closed afterwards.
    #[test]
    fn a_failed_file_write_closes_the_stream() {
        let (mut cx, d) = setup(Quirks::wasmtime(), b"hello");
        let ro = open(&mut cx, d, "a", 0, true, false);
        let w = via_stream(&mut cx, ro, Via::Write(0)).unwrap().unwrap();
        let write = |cx: &mut WasiCtx, blocking| write_all(cx, w, b"x", blocking);
        assert_eq!(write(&mut cx, false), Ok(Ok(())));
        assert_eq!(
            write(&mut cx, false),
            Ok(Err(StreamFail::Errno(errno::BADF)))
        );
        assert_eq!(write(&mut cx, false), Ok(Err(StreamFail::Closed)));
        let w = via_stream(&mut cx, ro, Via::Append).unwrap().unwrap();
        let write = |cx: &mut WasiCtx, blocking| write_all(cx, w, b"x", blocking);
        assert_eq!(
            write(&mut cx, true),
            Ok(Err(StreamFail::Errno(errno::BADF)))
        );
        assert_eq!(write(&mut cx, true), Ok(Err(StreamFail::Closed)));
        let r = via_stream(&mut cx, ro, Via::Read(0)).unwrap().unwrap();
        let mut buf = Vec::new();
        assert_eq!(read_into(&mut cx, r, 3, true, &mut buf), Ok(Ok(())));
        assert_eq!(buf, b"hel");
        assert_eq!(with(|h| h.file("a")), Some(b"hello".to_vec()));
    }

    /// A read into a buffer that still holds an earlier read's bytes (the
    /// scratch buffer) returns only what this read got: shorter, longer or
    /// at the end of the file, and nothing on a closed stream or for 0.
    #[test]
    fn a_reused_read_buffer_returns_only_the_new_bytes() {
        let (mut cx, d) = setup(Quirks::wasmtime(), b"0123456789abcdefghij");
        let f = open(&mut cx, d, "a", 0, true, false);
        let r = via_stream(&mut cx, f, Via::Read(0)).unwrap().unwrap();
        let mut buf = b"stale stale stale stale".to_vec();
        let mut read = |n| {
            let r = read_into(&mut cx, r, n, true, &mut buf);
            (r, String::from_utf8(buf.clone()).unwrap())
        };
        assert_eq!(read(4), (Ok(Ok(())), "0123".into()));
        assert_eq!(read(7), (Ok(Ok(())), "456789a".into()));
        assert_eq!(read(0), (Ok(Ok(())), "".into()));
        assert_eq!(read(2), (Ok(Ok(())), "bc".into()));
        assert_eq!(read(100), (Ok(Ok(())), "defghij".into()));
        assert_eq!(read(5), (Ok(Err(StreamFail::Closed)), "".into()));
        assert_eq!(read(5), (Ok(Err(StreamFail::Closed)), "".into()));
    }

    #[test]
    fn directory_listings_are_parsed_whole() {
        reset(Quirks::wasmtime());
        with(|h| {
            for i in 0..500 {
                h.add_file(&format!("file-{i:03}-{}", "x".repeat(i % 40)), b"");
            }
        });
        p1::create_directory(3, "sub").unwrap();
        let mut cx = WasiCtx::default();
        let items = list_dir(&mut cx, 3).unwrap();
        assert_eq!(items.len(), 501);
        let ino = |path| p1::path_filestat(3, 0, path).unwrap().ino;
        assert_eq!(
            items[0],
            Ok((
                DescriptorType::RegularFile,
                "file-000-".to_string(),
                ino("file-000-")
            ))
        );
        assert_eq!(
            items[500],
            Ok((DescriptorType::Directory, "sub".to_string(), ino("sub")))
        );
        let f = p1::open(3, 0, "file-001-x", 0, wasi::RIGHTS_FD_READ, 0, 0).unwrap();
        assert_eq!(list_dir(&mut cx, f), Err(errno::NOTDIR));
    }

    /// wasi-libc's `readdir`: each entry read, then the `metadata-hash-at`
    /// of its name. Where the host's `fd_readdir` gives `d_ino` (wasmtime),
    /// the hashes cost no p1 call (the folder's `dev` is known from the
    /// stat that told it is a folder); where it says 0 (node), one
    /// `path_filestat_get` each. The hashes are the host's either way;
    /// `symlink-follow` on a symlink, another folder's descriptor, another
    /// name and a rename in between all ask the host.
    #[test]
    fn a_listed_entry_is_hashed_from_its_d_ino() {
        use crate::bindings::filesystem_types::Host as _;
        let host = |path: &str, lookup| hash(p1::path_filestat(3, lookup, path).unwrap());
        let hash_at = |cx: &mut WasiCtx, d, flags, path: &str| {
            cx.descriptor_metadata_hash_at(Borrow::new(d), flags, path)
                .unwrap()
        };
        let list = |cx: &mut WasiCtx, d| {
            let s = cx.descriptor_read_directory(Borrow::new(d)).unwrap();
            s.unwrap().rep()
        };
        let next = |cx: &mut WasiCtx, s| {
            let e = cx.directory_entry_stream_read_directory_entry(Borrow::new(s));
            e.unwrap().unwrap().map(|e| e.name)
        };
        for q in [Quirks::wasmtime(), Quirks::node()] {
            let (mut cx, d) = setup(q, b"abc");
            with(|h| h.add_file("b", b""));
            p1::symlink("a", 3, "l").unwrap();
            p1::create_directory(3, "sub").unwrap();
            let names = ["a", "b", "l", "sub"];
            let want: Vec<_> = names.iter().map(|n| Ok(host(n, 0))).collect();
            let _ = calls();
            let s = list(&mut cx, d);
            let mut got = Vec::new();
            while let Some(name) = next(&mut cx, s) {
                got.push((name.clone(), hash_at(&mut cx, d, PathFlags::empty(), &name)));
            }
            let mut p1_calls = vec!["fd_filestat_get", "fd_readdir"];
            if q.readdir_ino_zero {
                p1_calls.extend(["path_filestat_get"; 4]);
            }
            assert_eq!(calls(), p1_calls, "{q:?}");
            let want: Vec<_> = names.iter().map(|n| n.to_string()).zip(want).collect();
            assert_eq!(got, want, "{q:?}");
            cx.drop_entry(s).unwrap();
            if q.readdir_ino_zero {
                continue;
            }

            // Each case just after reading the entry `l` (a symlink to `a`).
            let sub = open(&mut cx, d, "sub", wasi::OFLAGS_DIRECTORY, true, false);
            let (l_followed, a) = (host("l", 1), host("a", 0));
            assert_ne!(l_followed, host("l", 0));
            let at_l = |cx: &mut WasiCtx| {
                let s = list(cx, d);
                for _ in 0..3 {
                    next(cx, s);
                }
                let _ = calls();
            };
            at_l(&mut cx);
            let h = hash_at(&mut cx, d, PathFlags::SYMLINK_FOLLOW, "l");
            assert_eq!(calls(), ["path_filestat_get"], "a symlink followed");
            assert_eq!(h, Ok(l_followed));
            at_l(&mut cx);
            assert!(hash_at(&mut cx, sub, PathFlags::empty(), "l").is_err());
            assert_eq!(hash_at(&mut cx, d, PathFlags::empty(), "a"), Ok(a.clone()));
            assert_eq!(
                calls(),
                ["path_filestat_get"; 2],
                "another folder, another name"
            );
            at_l(&mut cx);
            let r = cx.descriptor_rename_at(Borrow::new(d), "a", Borrow::new(d), "l");
            assert_eq!(r.unwrap(), Ok(()));
            let h = hash_at(&mut cx, d, PathFlags::empty(), "l");
            assert_eq!(
                calls(),
                ["path_rename", "path_filestat_get"],
                "renamed over"
            );
            assert_eq!(h, Ok(a));
        }
    }

    #[test]
    fn timestamps_convert_both_ways() {
        use crate::bindings::clocks_wall_clock::Datetime;
        let dt = datetime(1_600_000_000_123_456_789);
        assert_eq!(
            dt,
            Datetime {
                seconds: 1_600_000_000,
                nanoseconds: 123_456_789
            }
        );
        assert_eq!(
            times(NewTimestamp::Timestamp(dt), NewTimestamp::Now),
            Ok((
                1_600_000_000_123_456_789,
                0,
                wasi::FSTFLAGS_ATIM | wasi::FSTFLAGS_MTIM_NOW
            ))
        );
        let huge = NewTimestamp::Timestamp(Datetime {
            seconds: u64::MAX,
            nanoseconds: 0,
        });
        assert_eq!(times(huge, NewTimestamp::NoChange), Err(errno::OVERFLOW));
    }
}
