//! Safe wrappers over the WASIp1 host calls the shims use (the raw bindings
//! of the `wasi` 0.11 crate). Errors are the raw p1 errno.
//!
//! Invariants:
//! * This is the only module with `unsafe`: every pointer handed to the
//!   host comes from a live Rust slice or a local of the right type, with
//!   its exact length.
//! * Short reads/writes are returned as such; looping is the caller's job.
//! * `p1_fake.rs` has the same items with the same signatures (it stands in
//!   for this module off `target_os = "wasi"`); a change here is made there.

use wasi::{Errno, Fd};

pub type R<T> = Result<T, u16>;

/// What one `poll_oneoff` subscription waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The fd has data to read (or is at end of file).
    FdRead(Fd),
    /// A relative timeout on the monotonic clock, in ns.
    Timeout(u64),
}

/// `r`, reported to the p1 tracer if one is set (`--trace=wasi`).
fn traced<T: std::fmt::Debug>(name: &str, args: impl FnOnce() -> String, r: R<T>) -> R<T> {
    if let Some(t) = crate::p1_tracer() {
        let out = match &r {
            Ok(v) => format!("{v:?}"),
            Err(n) => format!("errno {n}"),
        };
        t(name, &args(), &out);
    }
    r
}

fn e(err: Errno) -> u16 {
    err.raw()
}

fn io_e(err: Errno) -> u16 {
    crate::errno::transfer(err.raw())
}

pub fn write(fd: Fd, buf: &[u8]) -> R<usize> {
    let iov = [wasi::Ciovec {
        buf: buf.as_ptr(),
        buf_len: buf.len(),
    }];
    // SAFETY: `iov` describes the live slice `buf`.
    traced(
        "fd_write",
        || format!("{fd}, <{} bytes>", buf.len()),
        unsafe { wasi::fd_write(fd, &iov) }.map_err(io_e),
    )
}

pub fn pwrite(fd: Fd, buf: &[u8], offset: u64) -> R<usize> {
    let iov = [wasi::Ciovec {
        buf: buf.as_ptr(),
        buf_len: buf.len(),
    }];
    // SAFETY: as in `write`.
    traced(
        "fd_pwrite",
        || format!("{fd}, <{} bytes>, {offset}", buf.len()),
        unsafe { wasi::fd_pwrite(fd, &iov, offset) }.map_err(io_e),
    )
}

pub fn read(fd: Fd, buf: &mut [u8]) -> R<usize> {
    let iov = [wasi::Iovec {
        buf: buf.as_mut_ptr(),
        buf_len: buf.len(),
    }];
    let len = buf.len();
    // SAFETY: `iov` describes the live, exclusively borrowed slice `buf`.
    traced(
        "fd_read",
        || format!("{fd}, <{len} bytes>"),
        unsafe { wasi::fd_read(fd, &iov) }.map_err(io_e),
    )
}

pub fn pread(fd: Fd, buf: &mut [u8], offset: u64) -> R<usize> {
    let iov = [wasi::Iovec {
        buf: buf.as_mut_ptr(),
        buf_len: buf.len(),
    }];
    let len = buf.len();
    // SAFETY: as in `read`.
    traced(
        "fd_pread",
        || format!("{fd}, <{len} bytes>, {offset}"),
        unsafe { wasi::fd_pread(fd, &iov, offset) }.map_err(io_e),
    )
}

pub fn close(fd: Fd) -> R<()> {
    // SAFETY: closing an fd the shim owns; no memory is involved.
    traced(
        "fd_close",
        || format!("{fd}"),
        unsafe { wasi::fd_close(fd) }.map_err(e),
    )
}

pub fn fdstat(fd: Fd) -> R<wasi::Fdstat> {
    // SAFETY: no guest memory; the result is returned by value.
    traced(
        "fd_fdstat_get",
        || format!("{fd}"),
        unsafe { wasi::fd_fdstat_get(fd) }.map_err(e),
    )
}

pub fn set_fdflags(fd: Fd, flags: wasi::Fdflags) -> R<()> {
    // SAFETY: scalars only.
    traced(
        "fd_fdstat_set_flags",
        || format!("{fd}, {flags}"),
        unsafe { wasi::fd_fdstat_set_flags(fd, flags) }.map_err(e),
    )
}

pub fn filestat(fd: Fd) -> R<wasi::Filestat> {
    // SAFETY: as above.
    traced(
        "fd_filestat_get",
        || format!("{fd}"),
        unsafe { wasi::fd_filestat_get(fd) }.map_err(e),
    )
}

pub fn path_filestat(fd: Fd, flags: wasi::Lookupflags, path: &str) -> R<wasi::Filestat> {
    // SAFETY: `path` is a live &str passed with its length by the binding.
    traced(
        "path_filestat_get",
        || format!("{fd}, {flags}, {path:?}"),
        unsafe { wasi::path_filestat_get(fd, flags, path) }.map_err(e),
    )
}

pub fn set_size(fd: Fd, size: u64) -> R<()> {
    // SAFETY: scalars only.
    traced(
        "fd_filestat_set_size",
        || format!("{fd}, {size}"),
        unsafe { wasi::fd_filestat_set_size(fd, size) }.map_err(e),
    )
}

pub fn set_times(fd: Fd, atim: u64, mtim: u64, flags: wasi::Fstflags) -> R<()> {
    // SAFETY: scalars only.
    traced(
        "fd_filestat_set_times",
        || format!("{fd}, {atim}, {mtim}, {flags}"),
        unsafe { wasi::fd_filestat_set_times(fd, atim, mtim, flags) }.map_err(e),
    )
}

pub fn path_set_times(
    fd: Fd,
    lf: wasi::Lookupflags,
    path: &str,
    atim: u64,
    mtim: u64,
    flags: wasi::Fstflags,
) -> R<()> {
    // SAFETY: `path` is a live &str.
    traced(
        "path_filestat_set_times",
        || format!("{fd}, {lf}, {path:?}, {atim}, {mtim}, {flags}"),
        unsafe { wasi::path_filestat_set_times(fd, lf, path, atim, mtim, flags) }.map_err(e),
    )
}

pub fn sync(fd: Fd) -> R<()> {
    // SAFETY: scalars only.
    traced(
        "fd_sync",
        || format!("{fd}"),
        unsafe { wasi::fd_sync(fd) }.map_err(e),
    )
}

pub fn datasync(fd: Fd) -> R<()> {
    // SAFETY: scalars only.
    traced(
        "fd_datasync",
        || format!("{fd}"),
        unsafe { wasi::fd_datasync(fd) }.map_err(e),
    )
}

pub fn advise(fd: Fd, offset: u64, len: u64, advice: wasi::Advice) -> R<()> {
    // SAFETY: scalars only.
    traced(
        "fd_advise",
        || format!("{fd}, {offset}, {len}, {}", advice.raw()),
        unsafe { wasi::fd_advise(fd, offset, len, advice) }.map_err(e),
    )
}

pub fn readdir(fd: Fd, buf: &mut [u8], cookie: u64) -> R<usize> {
    let len = buf.len();
    // SAFETY: `buf` is live and exclusively borrowed, passed with its length.
    traced(
        "fd_readdir",
        || format!("{fd}, <{len} bytes>, {cookie}"),
        unsafe { wasi::fd_readdir(fd, buf.as_mut_ptr(), buf.len(), cookie) }.map_err(e),
    )
}

pub fn create_directory(fd: Fd, path: &str) -> R<()> {
    // SAFETY: `path` is a live &str.
    traced(
        "path_create_directory",
        || format!("{fd}, {path:?}"),
        unsafe { wasi::path_create_directory(fd, path) }.map_err(e),
    )
}

pub fn remove_directory(fd: Fd, path: &str) -> R<()> {
    // SAFETY: `path` is a live &str.
    traced(
        "path_remove_directory",
        || format!("{fd}, {path:?}"),
        unsafe { wasi::path_remove_directory(fd, path) }.map_err(e),
    )
}

pub fn unlink_file(fd: Fd, path: &str) -> R<()> {
    // SAFETY: `path` is a live &str.
    traced(
        "path_unlink_file",
        || format!("{fd}, {path:?}"),
        unsafe { wasi::path_unlink_file(fd, path) }.map_err(e),
    )
}

pub fn rename(fd: Fd, old: &str, new_fd: Fd, new: &str) -> R<()> {
    // SAFETY: both paths are live &strs.
    traced(
        "path_rename",
        || format!("{fd}, {old:?}, {new_fd}, {new:?}"),
        unsafe { wasi::path_rename(fd, old, new_fd, new) }.map_err(e),
    )
}

pub fn symlink(old: &str, fd: Fd, new: &str) -> R<()> {
    // SAFETY: both paths are live &strs.
    traced(
        "path_symlink",
        || format!("{old:?}, {fd}, {new:?}"),
        unsafe { wasi::path_symlink(old, fd, new) }.map_err(e),
    )
}

pub fn link(old_fd: Fd, flags: wasi::Lookupflags, old: &str, new_fd: Fd, new: &str) -> R<()> {
    // SAFETY: both paths are live &strs.
    traced(
        "path_link",
        || format!("{old_fd}, {flags}, {old:?}, {new_fd}, {new:?}"),
        unsafe { wasi::path_link(old_fd, flags, old, new_fd, new) }.map_err(e),
    )
}

pub fn readlink(fd: Fd, path: &str, buf: &mut [u8]) -> R<usize> {
    let len = buf.len();
    // SAFETY: `path` is a live &str; `buf` is live and exclusively borrowed.
    traced(
        "path_readlink",
        || format!("{fd}, {path:?}, <{len} bytes>"),
        unsafe { wasi::path_readlink(fd, path, buf.as_mut_ptr(), buf.len()) }.map_err(e),
    )
}

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
    // SAFETY: `path` is a live &str.
    traced(
        "path_open",
        || format!("{fd}, {lookup}, {path:?}, {oflags}, {base:#x}, {inheriting:#x}, {fdflags}"),
        unsafe { wasi::path_open(fd, lookup, path, oflags, base, inheriting, fdflags) }.map_err(e),
    )
}

/// The preopened directory name of `fd`, or the errno (`BADF` past the
/// last preopen).
pub fn prestat_name(fd: Fd) -> R<Vec<u8>> {
    traced("fd_prestat_get", || format!("{fd}"), prestat_name_raw(fd))
}

fn prestat_name_raw(fd: Fd) -> R<Vec<u8>> {
    // SAFETY: scalars only.
    let p = unsafe { wasi::fd_prestat_get(fd) }.map_err(e)?;
    if p.tag != wasi::PREOPENTYPE_DIR.raw() {
        return Err(wasi::ERRNO_BADF.raw());
    }
    // SAFETY: `dir` is the only variant and the tag says it is set.
    let len = unsafe { p.u.dir.pr_name_len };
    let mut buf = vec![0u8; len];
    // SAFETY: `buf` is live with exactly `len` bytes.
    unsafe { wasi::fd_prestat_dir_name(fd, buf.as_mut_ptr(), len) }.map_err(e)?;
    Ok(buf)
}

pub fn clock_now(id: wasi::Clockid) -> R<u64> {
    // SAFETY: scalars only.
    traced(
        "clock_time_get",
        || format!("{}, 1", id.raw()),
        unsafe { wasi::clock_time_get(id, 1) }.map_err(e),
    )
}

pub fn clock_res(id: wasi::Clockid) -> R<u64> {
    // SAFETY: scalars only.
    traced(
        "clock_res_get",
        || format!("{}", id.raw()),
        unsafe { wasi::clock_res_get(id) }.map_err(e),
    )
}

pub fn random(buf: &mut [u8]) -> R<()> {
    let len = buf.len();
    // SAFETY: `buf` is live and exclusively borrowed, passed with its length.
    traced(
        "random_get",
        || format!("<{len} bytes>"),
        unsafe { wasi::random_get(buf.as_mut_ptr(), buf.len()) }.map_err(e),
    )
}

/// `poll_oneoff` over `waits`: for each event, the index of its wait in
/// `waits` and the event's errno (0 when none).
pub fn poll(waits: &[Wait]) -> R<Vec<(usize, u16)>> {
    traced("poll_oneoff", || format!("{waits:?}"), poll_raw(waits))
}

fn poll_raw(waits: &[Wait]) -> R<Vec<(usize, u16)>> {
    let subs: Vec<wasi::Subscription> = waits
        .iter()
        .enumerate()
        .map(|(i, w)| wasi::Subscription {
            userdata: i as u64,
            u: match *w {
                Wait::FdRead(fd) => wasi::SubscriptionU {
                    tag: wasi::EVENTTYPE_FD_READ.raw(),
                    u: wasi::SubscriptionUU {
                        fd_read: wasi::SubscriptionFdReadwrite {
                            file_descriptor: fd,
                        },
                    },
                },
                Wait::Timeout(ns) => wasi::SubscriptionU {
                    tag: wasi::EVENTTYPE_CLOCK.raw(),
                    u: wasi::SubscriptionUU {
                        clock: wasi::SubscriptionClock {
                            id: wasi::CLOCKID_MONOTONIC,
                            timeout: ns,
                            precision: 0,
                            flags: 0,
                        },
                    },
                },
            },
        })
        .collect();
    let mut events: Vec<wasi::Event> = Vec::with_capacity(subs.len());
    // SAFETY: `subs` is live; `events` has capacity for `subs.len()` events,
    // and only the `n` the host reports written are exposed.
    let n =
        unsafe { wasi::poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), subs.len()) }.map_err(e)?;
    // SAFETY: the host initialised the first `n <= subs.len()` events.
    unsafe { events.set_len(n.min(subs.len())) };
    Ok(events
        .iter()
        .filter(|ev| (ev.userdata as usize) < waits.len())
        .map(|ev| (ev.userdata as usize, ev.error.raw()))
        .collect())
}

pub fn exit(code: u32) -> ! {
    crate::before_exit();
    // SAFETY: ends the process; no memory is involved.
    unsafe { wasi::proc_exit(code) };
    // proc_exit never returns; if a host did, end anyway.
    std::process::abort()
}
