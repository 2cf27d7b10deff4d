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

use crate::errno::{error_code, p1 as errno};
use crate::table::{Descriptor, DirItem, Entry, InputStream, OutputKind, OutputStream};
use crate::vals::{bytes, err_enum, field, none, ok, ok_unit, record, some, Args};
use crate::{def, dtor, iface, p1, HostError, WasiCtx, WasiView};
use canonical_abi::Val;
use component_model::Linker;
use std::collections::VecDeque;

/// A `result<T, error-code>` from a p1 result.
fn res(r: p1::R<Val>) -> Val {
    match r {
        Ok(v) => ok(v),
        Err(e) => err_enum(error_code(e)),
    }
}

fn unit(r: p1::R<()>) -> Val {
    match r {
        Ok(()) => ok_unit(),
        Err(e) => err_enum(error_code(e)),
    }
}

fn fd(cx: &mut WasiCtx, a: &Args<'_>, i: usize) -> Result<u32, HostError> {
    Ok(cx.table.descriptor(a.res(i)?)?.fd)
}

fn descriptor_type(ft: wasi::Filetype) -> &'static str {
    match ft {
        wasi::FILETYPE_BLOCK_DEVICE => "block-device",
        wasi::FILETYPE_CHARACTER_DEVICE => "character-device",
        wasi::FILETYPE_DIRECTORY => "directory",
        wasi::FILETYPE_REGULAR_FILE => "regular-file",
        wasi::FILETYPE_SOCKET_DGRAM | wasi::FILETYPE_SOCKET_STREAM => "socket",
        wasi::FILETYPE_SYMBOLIC_LINK => "symbolic-link",
        _ => "unknown",
    }
}

fn datetime(ns: u64) -> Val {
    record(&[
        ("seconds", Val::U64(ns / 1_000_000_000)),
        ("nanoseconds", Val::U32((ns % 1_000_000_000) as u32)),
    ])
}

fn stat_val(st: wasi::Filestat) -> Val {
    record(&[
        ("type", Val::Enum(descriptor_type(st.filetype).into())),
        ("link-count", Val::U64(st.nlink)),
        ("size", Val::U64(st.size)),
        ("data-access-timestamp", some(datetime(st.atim))),
        ("data-modification-timestamp", some(datetime(st.mtim))),
        ("status-change-timestamp", some(datetime(st.ctim))),
    ])
}

/// `metadata-hash-value` from the identity p1 gives: device and inode.
fn hash_val(st: wasi::Filestat) -> Val {
    record(&[("lower", Val::U64(st.ino)), ("upper", Val::U64(st.dev))])
}

fn lookup(a: &Args<'_>, i: usize) -> Result<wasi::Lookupflags, HostError> {
    Ok(if a.has_flag(i, "symlink-follow")? {
        wasi::LOOKUPFLAGS_SYMLINK_FOLLOW
    } else {
        0
    })
}

/// A `new-timestamp` as p1 `(time, set flag, now flag)` bits.
fn new_timestamp(
    a: &Args<'_>,
    i: usize,
    set: u16,
    now: u16,
) -> Result<Result<(u64, u16), u16>, HostError> {
    let (case, payload) = a.variant(i)?;
    Ok(match case {
        "no-change" => Ok((0, 0)),
        "now" => Ok((0, now)),
        "timestamp" => {
            let dt = payload.ok_or(HostError::BadArgument {
                index: i,
                expected: "new-timestamp",
            })?;
            let (Some(Val::U64(s)), Some(Val::U32(n))) =
                (field(dt, "seconds"), field(dt, "nanoseconds"))
            else {
                return Err(HostError::BadArgument {
                    index: i,
                    expected: "datetime",
                });
            };
            match s
                .checked_mul(1_000_000_000)
                .and_then(|x| x.checked_add(u64::from(*n)))
            {
                Some(ns) => Ok((ns, set)),
                None => Err(errno::OVERFLOW),
            }
        }
        _ => {
            return Err(HostError::BadArgument {
                index: i,
                expected: "new-timestamp",
            })
        }
    })
}

/// The two timestamps of `set-times(-at)` starting at argument `i`.
fn times(a: &Args<'_>, i: usize) -> Result<Result<(u64, u64, u16), u16>, HostError> {
    let at = new_timestamp(a, i, wasi::FSTFLAGS_ATIM, wasi::FSTFLAGS_ATIM_NOW)?;
    let mt = new_timestamp(a, i + 1, wasi::FSTFLAGS_MTIM, wasi::FSTFLAGS_MTIM_NOW)?;
    Ok(match (at, mt) {
        (Ok((at, af)), Ok((mt, mf))) => Ok((at, mt, af | mf)),
        (Err(e), _) | (_, Err(e)) => Err(e),
    })
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
    let dir = cx.table.descriptor(dir)?.fd;
    let base = open_rights(req);
    let (lf, path, oflags, fdflags) = (req.lookup, req.path, req.oflags, req.fdflags);
    // Hosts such as node's uvwasi refuse (ENOTCAPABLE) an open that asks for
    // rights the directory cannot pass on; then ask again for only those it
    // lists. Not first: wasmtime's p1 lists inheriting rights it does not
    // enforce (no FD_WRITE under a directory opened without write), and the
    // narrowed request would open a file for writing without the write right.
    let inheriting = p1::fdstat(dir).map_or(all_rights(), |st| st.fs_rights_inheriting);
    let opened = match p1::open(dir, lf, path, oflags, base, inheriting, fdflags) {
        Err(errno::NOTCAPABLE) if base & !inheriting != 0 => p1::open(
            dir,
            lf,
            path,
            oflags,
            base & inheriting,
            inheriting,
            fdflags,
        ),
        r => r,
    };
    Ok(match opened {
        Ok(new) => Ok(cx.table.push(Entry::Descriptor(Descriptor {
            fd: new,
            owned: true,
            fdflags: Some(fdflags),
        }))?),
        Err(e) => Err(base_not_dir(dir, e)),
    })
}

/// Reads `open-at`'s arguments.
fn open_at_args(cx: &mut WasiCtx, a: &Args<'_>) -> Result<Val, HostError> {
    let mut oflags = 0;
    for (name, bit) in [
        ("create", wasi::OFLAGS_CREAT),
        ("directory", wasi::OFLAGS_DIRECTORY),
        ("exclusive", wasi::OFLAGS_EXCL),
        ("truncate", wasi::OFLAGS_TRUNC),
    ] {
        if a.has_flag(3, name)? {
            oflags |= bit;
        }
    }
    let mut fdflags = 0;
    for (name, bit) in [
        ("file-integrity-sync", wasi::FDFLAGS_SYNC),
        ("data-integrity-sync", wasi::FDFLAGS_DSYNC),
        ("requested-write-sync", wasi::FDFLAGS_RSYNC),
    ] {
        if a.has_flag(4, name)? {
            fdflags |= bit;
        }
    }
    let req = OpenAt {
        lookup: lookup(a, 1)?,
        path: a.str(2)?,
        oflags,
        read: a.has_flag(4, "read")?,
        write: a.has_flag(4, "write")?,
        fdflags,
    };
    Ok(resource(open_at(cx, a.res(0)?, &req)?))
}

/// The errno wasmtime's OS call gives where a p1 host refuses for lack of a
/// right (ENOTCAPABLE, as node's uvwasi does): `on_file` for a file not
/// opened for the operation, `bad-descriptor` for a directory.
fn lacking_right(fd: u32, e: u16, on_file: u16) -> u16 {
    if e != errno::NOTCAPABLE {
        return e;
    }
    match p1::fdstat(fd) {
        Ok(st) if st.fs_filetype == wasi::FILETYPE_DIRECTORY => errno::BADF,
        Ok(_) => on_file,
        Err(_) => e,
    }
}

/// A path call on a base descriptor that is not a directory: p2 (and
/// wasmtime) say `not-directory`, some p1 hosts ENOTCAPABLE.
fn base_not_dir(fd: u32, e: u16) -> u16 {
    match p1::fdstat(fd) {
        Ok(st) if e == errno::NOTCAPABLE && st.fs_filetype != wasi::FILETYPE_DIRECTORY => {
            errno::NOTDIR
        }
        _ => e,
    }
}

fn all_rights() -> u64 {
    (wasi::RIGHTS_SOCK_ACCEPT << 1) - 1
}

/// `get-flags` of `fd`; `preopen` tells a preopened directory from one
/// opened by `open-at`: wasmtime reports `mutate-directory` only for a
/// directory opened with write access, which `open-at` never grants a
/// directory (it fails with `is-directory`), so only preopens have it.
fn get_flags(fd: u32, preopen: bool, fdflags: Option<u16>) -> p1::R<Val> {
    let st = p1::fdstat(fd)?;
    let mut flags = Vec::new();
    let r = st.fs_rights_base;
    if r & READ_RIGHTS != 0 || st.fs_filetype == wasi::FILETYPE_DIRECTORY {
        flags.push("read");
    }
    if r & wasi::RIGHTS_FD_WRITE != 0 {
        flags.push("write");
    }
    for (bit, name) in [
        (wasi::FDFLAGS_SYNC, "file-integrity-sync"),
        (wasi::FDFLAGS_DSYNC, "data-integrity-sync"),
        (wasi::FDFLAGS_RSYNC, "requested-write-sync"),
    ] {
        if fdflags.unwrap_or(st.fs_flags) & bit != 0 {
            flags.push(name);
        }
    }
    if preopen
        && st.fs_filetype == wasi::FILETYPE_DIRECTORY
        && r & (wasi::RIGHTS_PATH_CREATE_FILE
            | wasi::RIGHTS_PATH_CREATE_DIRECTORY
            | wasi::RIGHTS_PATH_UNLINK_FILE)
            != 0
    {
        flags.push("mutate-directory");
    }
    Ok(Val::Flags(flags.into_iter().map(String::from).collect()))
}

/// The whole listing of directory `fd`, without `.` and `..`.
fn list_dir(fd: u32) -> p1::R<VecDeque<DirItem>> {
    const HEADER: usize = 24;
    // p1 hosts answer `fd_readdir` on a file with EBADF or ENOTCAPABLE;
    // p2 (and wasmtime) say `not-directory`.
    if p1::fdstat(fd)?.fs_filetype != wasi::FILETYPE_DIRECTORY {
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
                out.push_back(match std::str::from_utf8(name) {
                    Ok(s) => Ok((descriptor_type_raw(ft), s.to_string())),
                    Err(_) => Err("illegal-byte-sequence"),
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

fn descriptor_type_raw(ft: u8) -> &'static str {
    match ft {
        1 => "block-device",
        2 => "character-device",
        3 => "directory",
        4 => "regular-file",
        5 | 6 => "socket",
        7 => "symbolic-link",
        _ => "unknown",
    }
}

fn readlink(fd: u32, path: &str) -> p1::R<Val> {
    let mut len = 1024usize;
    loop {
        let mut buf = vec![0u8; len];
        let n = p1::readlink(fd, path, &mut buf)?;
        if n < len || len >= 1 << 20 {
            buf.truncate(n);
            return match String::from_utf8(buf) {
                Ok(s) => Ok(Val::string(s)),
                Err(_) => Err(errno::ILSEQ),
            };
        }
        len *= 2;
    }
}

fn read_at(fd: u32, len: u64, offset: u64) -> p1::R<Val> {
    let mut buf = vec![0u8; len.min(crate::io::streams::READ_MAX) as usize];
    let n = if buf.is_empty() {
        0
    } else {
        p1::pread(fd, &mut buf, offset)?
    };
    buf.truncate(n);
    // wasmtime reports eof whenever the read returns no bytes (also for a
    // zero-length read).
    let eof = n == 0;
    Ok(Val::Tuple(vec![bytes(&buf), Val::Bool(eof)]))
}

fn write_at(fd: u32, data: &[u8], offset: u64) -> p1::R<Val> {
    Ok(Val::U64(p1::pwrite(fd, data, offset)? as u64))
}

fn advice(name: &str) -> Result<wasi::Advice, HostError> {
    Ok(match name {
        "normal" => wasi::ADVICE_NORMAL,
        "sequential" => wasi::ADVICE_SEQUENTIAL,
        "random" => wasi::ADVICE_RANDOM,
        "will-need" => wasi::ADVICE_WILLNEED,
        "dont-need" => wasi::ADVICE_DONTNEED,
        "no-reuse" => wasi::ADVICE_NOREUSE,
        _ => {
            return Err(HostError::BadArgument {
                index: 3,
                expected: "advice",
            })
        }
    })
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
    match p1::fdstat(desc.fd) {
        Ok(st) if st.fs_filetype == wasi::FILETYPE_DIRECTORY => {
            return Ok(Err(match via {
                Via::Read(_) => errno::ISDIR,
                Via::Write(_) | Via::Append => errno::BADF,
            }))
        }
        Ok(_) => {}
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

/// A `result<own<T>, error-code>` from a new rep or an errno.
fn resource(r: Result<u32, u16>) -> Val {
    res(r.map(Val::Resource))
}

pub fn add<T: WasiView>(l: &mut Linker<T>) {
    let i = iface("filesystem/types");
    let d = |m: &str| format!("[method]descriptor.{m}");
    def(l, &i, &d("read-via-stream"), |cx, a| {
        let via = Via::Read(a.u64(1)?);
        Ok(vec![resource(via_stream(cx, a.res(0)?, via)?)])
    });
    def(l, &i, &d("write-via-stream"), |cx, a| {
        let via = Via::Write(a.u64(1)?);
        Ok(vec![resource(via_stream(cx, a.res(0)?, via)?)])
    });
    def(l, &i, &d("append-via-stream"), |cx, a| {
        Ok(vec![resource(via_stream(cx, a.res(0)?, Via::Append)?)])
    });
    def(l, &i, &d("advise"), |cx, a| {
        let fd = fd(cx, &a, 0)?;
        Ok(vec![unit(p1::advise(
            fd,
            a.u64(1)?,
            a.u64(2)?,
            advice(a.enum_case(3)?)?,
        ))])
    });
    def(l, &i, &d("sync-data"), |cx, a| {
        Ok(vec![unit(p1::datasync(fd(cx, &a, 0)?))])
    });
    def(l, &i, &d("sync"), |cx, a| {
        Ok(vec![unit(p1::sync(fd(cx, &a, 0)?))])
    });
    def(l, &i, &d("get-flags"), |cx, a| {
        let desc = cx.table.descriptor(a.res(0)?)?;
        let (fd, preopen, fdflags) = (desc.fd, !desc.owned, desc.fdflags);
        Ok(vec![res(get_flags(fd, preopen, fdflags))])
    });
    def(l, &i, &d("get-type"), |cx, a| {
        let fd = fd(cx, &a, 0)?;
        Ok(vec![res(p1::fdstat(fd).map(|st| {
            Val::Enum(descriptor_type(st.fs_filetype).into())
        }))])
    });
    def(l, &i, &d("set-size"), |cx, a| {
        let fd = fd(cx, &a, 0)?;
        Ok(vec![unit(
            p1::set_size(fd, a.u64(1)?).map_err(|e| lacking_right(fd, e, errno::INVAL)),
        )])
    });
    def(l, &i, &d("set-times"), |cx, a| {
        let fd = fd(cx, &a, 0)?;
        Ok(vec![unit(
            times(&a, 1)?.and_then(|(at, mt, f)| p1::set_times(fd, at, mt, f)),
        )])
    });
    def(l, &i, &d("read"), |cx, a| {
        Ok(vec![res(read_at(fd(cx, &a, 0)?, a.u64(1)?, a.u64(2)?))])
    });
    def(l, &i, &d("write"), |cx, a| {
        Ok(vec![res(write_at(fd(cx, &a, 0)?, &a.bytes(1)?, a.u64(2)?))])
    });
    def(l, &i, &d("read-directory"), |cx, a| {
        let fd = fd(cx, &a, 0)?;
        Ok(vec![match list_dir(fd) {
            Ok(items) => ok(Val::Resource(cx.table.push(Entry::DirEntries(items))?)),
            Err(e) => err_enum(error_code(e)),
        }])
    });
    def(l, &i, &d("create-directory-at"), |cx, a| {
        Ok(vec![unit(p1::create_directory(fd(cx, &a, 0)?, a.str(1)?))])
    });
    def(l, &i, &d("stat"), |cx, a| {
        Ok(vec![res(p1::filestat(fd(cx, &a, 0)?).map(stat_val))])
    });
    def(l, &i, &d("stat-at"), |cx, a| {
        Ok(vec![res(p1::path_filestat(
            fd(cx, &a, 0)?,
            lookup(&a, 1)?,
            a.str(2)?,
        )
        .map(stat_val))])
    });
    def(l, &i, &d("set-times-at"), |cx, a| {
        let (fd, lf, path) = (fd(cx, &a, 0)?, lookup(&a, 1)?, a.str(2)?);
        Ok(vec![unit(times(&a, 3)?.and_then(|(at, mt, f)| {
            p1::path_set_times(fd, lf, path, at, mt, f)
        }))])
    });
    def(l, &i, &d("link-at"), |cx, a| {
        let (old, lf, old_path, new, new_path) = (
            fd(cx, &a, 0)?,
            lookup(&a, 1)?,
            a.str(2)?,
            fd(cx, &a, 3)?,
            a.str(4)?,
        );
        Ok(vec![unit(p1::link(old, lf, old_path, new, new_path))])
    });
    def(l, &i, &d("open-at"), |cx, a| {
        Ok(vec![open_at_args(cx, &a)?])
    });
    def(l, &i, &d("readlink-at"), |cx, a| {
        Ok(vec![res(readlink(fd(cx, &a, 0)?, a.str(1)?))])
    });
    def(l, &i, &d("remove-directory-at"), |cx, a| {
        Ok(vec![unit(p1::remove_directory(fd(cx, &a, 0)?, a.str(1)?))])
    });
    def(l, &i, &d("rename-at"), |cx, a| {
        let (old, old_path, new, new_path) = (fd(cx, &a, 0)?, a.str(1)?, fd(cx, &a, 2)?, a.str(3)?);
        Ok(vec![unit(p1::rename(old, old_path, new, new_path))])
    });
    def(l, &i, &d("symlink-at"), |cx, a| {
        Ok(vec![unit(p1::symlink(
            a.str(1)?,
            fd(cx, &a, 0)?,
            a.str(2)?,
        ))])
    });
    def(l, &i, &d("unlink-file-at"), |cx, a| {
        Ok(vec![unit(p1::unlink_file(fd(cx, &a, 0)?, a.str(1)?))])
    });
    def(l, &i, &d("is-same-object"), |cx, a| {
        let (x, y) = (fd(cx, &a, 0)?, fd(cx, &a, 1)?);
        let same = match (p1::filestat(x), p1::filestat(y)) {
            (Ok(s), Ok(t)) => s.dev == t.dev && s.ino == t.ino,
            _ => false,
        };
        Ok(vec![Val::Bool(same)])
    });
    def(l, &i, &d("metadata-hash"), |cx, a| {
        Ok(vec![res(p1::filestat(fd(cx, &a, 0)?).map(hash_val))])
    });
    def(l, &i, &d("metadata-hash-at"), |cx, a| {
        Ok(vec![res(p1::path_filestat(
            fd(cx, &a, 0)?,
            lookup(&a, 1)?,
            a.str(2)?,
        )
        .map(hash_val))])
    });
    def(
        l,
        &i,
        "[method]directory-entry-stream.read-directory-entry",
        |cx, a| {
            Ok(vec![match cx.table.dir_entries(a.res(0)?)?.pop_front() {
                None => ok(none()),
                Some(Ok((ty, name))) => ok(some(record(&[
                    ("type", Val::Enum(ty.into())),
                    ("name", Val::string(name)),
                ]))),
                Some(Err(code)) => err_enum(code),
            }])
        },
    );
    def(l, &i, "filesystem-error-code", |cx, a| {
        let e = cx.table.error(a.res(0)?)?;
        Ok(vec![match e.errno {
            Some(n) => some(Val::Enum(error_code(n).into())),
            None => none(),
        }])
    });
    dtor(l, &i, "descriptor");
    dtor(l, &i, "directory-entry-stream");
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

    fn flags(cx: &mut WasiCtx, rep: u32) -> Val {
        let d = *cx.table.descriptor(rep).unwrap();
        get_flags(d.fd, !d.owned, d.fdflags).unwrap()
    }

    fn names(v: &[&str]) -> Val {
        Val::Flags(v.iter().map(|s| s.to_string()).collect())
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
        assert_eq!(flags(&mut cx, none), names(&["read"]));
        let fd = cx.table.descriptor(none).unwrap().fd;
        assert_eq!(
            read_at(fd, 10, 0),
            Ok(Val::Tuple(vec![bytes(b"hello"), Val::Bool(false)]))
        );
        assert_eq!(write_at(fd, b"x", 0), Err(errno::BADF));
        let c = open(&mut cx, d, "c", wasi::OFLAGS_CREAT, true, false);
        assert_eq!(flags(&mut cx, c), names(&["read", "write"]));
        let fd = cx.table.descriptor(c).unwrap().fd;
        assert_eq!(write_at(fd, b"xy", 0), Ok(Val::U64(2)));
        let t = open(&mut cx, d, "a", wasi::OFLAGS_TRUNC, true, false);
        assert_eq!(flags(&mut cx, t), names(&["read", "write"]));
        assert_eq!(with(|h| h.file("a")), Some(vec![]));
    }

    #[test]
    fn streams_on_a_directory_are_refused_as_wasmtime_does() {
        let (mut cx, d) = setup(Quirks::wasmtime(), b"");
        assert_eq!(via_stream(&mut cx, d, Via::Read(0)), Ok(Err(errno::ISDIR)));
        assert_eq!(via_stream(&mut cx, d, Via::Write(0)), Ok(Err(errno::BADF)));
        assert_eq!(via_stream(&mut cx, d, Via::Append), Ok(Err(errno::BADF)));
        assert_eq!(error_code(errno::ISDIR), "is-directory");
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

    #[test]
    fn directory_listings_are_parsed_whole() {
        reset(Quirks::wasmtime());
        with(|h| {
            for i in 0..500 {
                h.add_file(&format!("file-{i:03}-{}", "x".repeat(i % 40)), b"");
            }
        });
        p1::create_directory(3, "sub").unwrap();
        let items = list_dir(3).unwrap();
        assert_eq!(items.len(), 501);
        assert_eq!(items[0], Ok(("regular-file", "file-000-".to_string())));
        assert_eq!(items[500], Ok(("directory", "sub".to_string())));
        let f = p1::open(3, 0, "file-001-x", 0, wasi::RIGHTS_FD_READ, 0, 0).unwrap();
        assert_eq!(list_dir(f), Err(errno::NOTDIR));
    }

    #[test]
    fn timestamps_convert_both_ways() {
        let dt = datetime(1_600_000_000_123_456_789);
        assert_eq!(
            dt,
            record(&[
                ("seconds", Val::U64(1_600_000_000)),
                ("nanoseconds", Val::U32(123_456_789)),
            ])
        );
        let ts = |v| Val::Variant("timestamp".into(), Some(Box::new(v)));
        let args = [ts(dt), Val::Variant("now".into(), None)];
        assert_eq!(
            times(&Args(&args), 0),
            Ok(Ok((
                1_600_000_000_123_456_789,
                0,
                wasi::FSTFLAGS_ATIM | wasi::FSTFLAGS_MTIM_NOW
            )))
        );
        let huge = ts(record(&[
            ("seconds", Val::U64(u64::MAX)),
            ("nanoseconds", Val::U32(0)),
        ]));
        let args = [huge, Val::Variant("no-change".into(), None)];
        assert_eq!(times(&Args(&args), 0), Ok(Err(errno::OVERFLOW)));
    }
}
