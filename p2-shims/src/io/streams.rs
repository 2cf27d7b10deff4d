//! `wasi:io/streams`: input and output streams over p1 fds (stdio with
//! `fd_read`/`fd_write`, files with `fd_pread`/`fd_pwrite` at a position
//! the stream owns).
//!
//! Invariants:
//! * Writes are complete when the call returns (nothing is buffered in the
//!   shim), so `flush` is a no-op and `check-write` always grants
//!   [`WRITE_BUDGET`].
//! * End of input is `stream-error.closed` (a p1 read of 0 bytes for a
//!   non-empty request), after which the stream stays closed; a p1 error is
//!   `last-operation-failed` with an `error` resource, except `EPIPE` on
//!   output, which is `closed`.
//! * p1 reads block: `read` on stdin behaves like `blocking-read` (see the
//!   README gaps).

use super::error::push_errno;
use crate::errno::p1 as errno;
use crate::table::{Entry, OutputKind, Pollable};
use crate::vals::{err, ok, ok_unit, Ret};
use crate::{def, def_flat, dtor, iface, p1, FlatFail, HostError, WasiCtx, WasiView};
use component_model::abi::Val;
use component_model::{FlatCall, Linker};

/// What `check-write` grants.
pub const WRITE_BUDGET: u64 = 1 << 20;
/// The most bytes one `read` (of a stream or of `descriptor.read`) returns:
/// 64 KiB, what wasmtime returns at most for one read of a file.
pub const READ_MAX: u64 = 64 << 10;

pub fn add<T: WasiView>(l: &mut Linker<T>) {
    let i = iface("io/streams");
    def_flat(l, &i, "[method]input-stream.read", read_flat);
    def_flat(l, &i, "[method]input-stream.blocking-read", read_flat);
    def(l, &i, "[method]input-stream.skip", |cx, a| {
        skip(cx, a.res(0)?, a.u64(1)?)
    });
    def(l, &i, "[method]input-stream.blocking-skip", |cx, a| {
        skip(cx, a.res(0)?, a.u64(1)?)
    });
    def(l, &i, "[method]input-stream.subscribe", |cx, a| {
        let s = cx.table.input(a.res(0)?)?;
        let p = if s.offset.is_none() && !s.closed {
            Pollable::FdRead(s.fd)
        } else {
            Pollable::Ready
        };
        Ok(vec![Val::Resource(cx.table.push(Entry::Pollable(p))?)])
    });
    // The calls of every write (check-write, write, flush) are flat: see
    // `write_flat`.
    def_flat(l, &i, "[method]output-stream.check-write", check_write_flat);
    def_flat(l, &i, "[method]output-stream.write", write_flat);
    def_flat(
        l,
        &i,
        "[method]output-stream.blocking-write-and-flush",
        write_flat,
    );
    def_flat(l, &i, "[method]output-stream.flush", flush_flat);
    def_flat(l, &i, "[method]output-stream.blocking-flush", flush_flat);
    def_flat(l, &i, "[method]output-stream.subscribe", |cx| {
        let rep = cx.arg_resource(0)?;
        let t = &mut cx.data_mut().wasi().table;
        t.output(rep)?;
        let p = t.push(Entry::Pollable(Pollable::Ready))?;
        Ok(cx.ret_own(p)?)
    });
    def(l, &i, "[method]output-stream.write-zeroes", |cx, a| {
        write_zeroes(cx, a.res(0)?, a.u64(1)?)
    });
    def(
        l,
        &i,
        "[method]output-stream.blocking-write-zeroes-and-flush",
        |cx, a| write_zeroes(cx, a.res(0)?, a.u64(1)?),
    );
    def(l, &i, "[method]output-stream.splice", |cx, a| {
        splice(cx, a.res(0)?, a.res(1)?, a.u64(2)?)
    });
    def(l, &i, "[method]output-stream.blocking-splice", |cx, a| {
        splice(cx, a.res(0)?, a.res(1)?, a.u64(2)?)
    });
    dtor(l, &i, "input-stream");
    dtor(l, &i, "output-stream");
}

/// `stream-error.closed` as an error result.
fn closed() -> Val {
    err(Val::Variant("closed".into(), None))
}

/// `stream-error.last-operation-failed` for `errno` as an error result.
fn failed(cx: &mut WasiCtx, errno: u16) -> Result<Val, HostError> {
    let e = push_errno(cx, errno)?;
    Ok(err(Val::Variant(
        "last-operation-failed".into(),
        Some(Box::new(Val::Resource(e))),
    )))
}

/// Why a stream operation did not produce its value.
enum StreamFail {
    Closed,
    Errno(u16),
}

impl StreamFail {
    fn into_val(self, cx: &mut WasiCtx) -> Result<Val, HostError> {
        match self {
            StreamFail::Closed => Ok(closed()),
            StreamFail::Errno(e) => failed(cx, e),
        }
    }
}

/// Reads up to `len` bytes (at least one unless `len` is 0).
fn read(cx: &mut WasiCtx, rep: u32, len: u64) -> Result<Result<Vec<u8>, StreamFail>, HostError> {
    let mut buf = Vec::new();
    Ok(read_into(cx, rep, len, &mut buf)?.map(|()| buf))
}

/// Reads up to `len` bytes into `buf` (replacing its contents).
fn read_into(
    cx: &mut WasiCtx,
    rep: u32,
    len: u64,
    buf: &mut Vec<u8>,
) -> Result<Result<(), StreamFail>, HostError> {
    buf.clear();
    let s = cx.table.input(rep)?;
    if s.closed {
        return Ok(Err(StreamFail::Closed));
    }
    if len == 0 {
        return Ok(Ok(()));
    }
    buf.resize(len.min(READ_MAX) as usize, 0);
    let r = match s.offset {
        Some(off) => p1::pread(s.fd, buf, off),
        None => p1::read(s.fd, buf),
    };
    match r {
        Ok(0) => {
            s.closed = true;
            Ok(Err(StreamFail::Closed))
        }
        Ok(n) => {
            if let Some(off) = &mut s.offset {
                *off += n as u64;
            }
            buf.truncate(n);
            Ok(Ok(()))
        }
        Err(e) => Ok(Err(StreamFail::Errno(e))),
    }
}

/// `read` and `blocking-read`: p1 reads into the context's scratch buffer
/// (kept between calls), which is copied once into the guest's `realloc`ed
/// list.
fn read_flat<T: WasiView>(cx: &mut FlatCall<'_, T>) -> Result<(), FlatFail> {
    let rep = cx.arg_resource(0)?;
    let len = cx.arg_u64(1)?;
    let w = cx.data_mut().wasi();
    let mut buf = std::mem::take(&mut w.scratch);
    let r = read_into(w, rep, len, &mut buf);
    let out = match r {
        Err(e) => Err(e.into()),
        Ok(Ok(())) => cx.ret_ok_bytes(&buf).map_err(FlatFail::from),
        Ok(Err(f)) => ret_fail(cx, f),
    };
    cx.data_mut().wasi().scratch = buf;
    out
}

fn skip(cx: &mut WasiCtx, rep: u32, len: u64) -> Ret {
    Ok(vec![match read(cx, rep, len)? {
        Ok(b) => ok(Val::U64(b.len() as u64)),
        Err(f) => f.into_val(cx)?,
    }])
}

/// Writes all of `data`.
fn write_all(cx: &mut WasiCtx, rep: u32, data: &[u8]) -> Result<Result<(), StreamFail>, HostError> {
    let s = cx.table.output(rep)?;
    if s.closed {
        return Ok(Err(StreamFail::Closed));
    }
    let (fd, kind) = (s.fd, s.kind);
    let r = write_fd(fd, kind, data);
    finish_write(cx, rep, r)
}

/// How a [`write_fd`] ended.
enum Written {
    /// All written; the position after the data (for [`OutputKind::At`]).
    Done(u64),
    /// `EPIPE`: the stream is closed from now on.
    Pipe,
    Errno(u16),
}

/// Writes all of `data` to `fd` as a stream of `kind` writes, without
/// touching the table (so `data` may be a view of guest memory).
fn write_fd(fd: u32, kind: OutputKind, data: &[u8]) -> Written {
    let mut done = 0usize;
    let mut at = match kind {
        OutputKind::Stream => 0,
        OutputKind::At(off) => off,
        OutputKind::Append => match p1::filestat(fd) {
            Ok(st) => st.size,
            Err(e) => return Written::Errno(e),
        },
    };
    while done < data.len() {
        let r = match kind {
            OutputKind::Stream => p1::write(fd, &data[done..]),
            _ => p1::pwrite(fd, &data[done..], at),
        };
        match r {
            Ok(0) => return Written::Errno(errno::IO),
            Ok(n) => {
                done += n;
                at += n as u64;
            }
            Err(errno::PIPE) => return Written::Pipe,
            Err(e) => return Written::Errno(e),
        }
    }
    Written::Done(at)
}

/// Records the outcome of a [`write_fd`] on stream `rep`.
fn finish_write(
    cx: &mut WasiCtx,
    rep: u32,
    r: Written,
) -> Result<Result<(), StreamFail>, HostError> {
    let s = cx.table.output(rep)?;
    match r {
        Written::Done(at) => {
            if let OutputKind::At(_) = s.kind {
                s.kind = OutputKind::At(at);
            }
            Ok(Ok(()))
        }
        Written::Pipe => {
            s.closed = true;
            Ok(Err(StreamFail::Closed))
        }
        Written::Errno(e) => Ok(Err(StreamFail::Errno(e))),
    }
}

/// Lowers a stream operation's failure as its `err(stream-error)` result.
fn ret_fail<T: WasiView>(cx: &mut FlatCall<'_, T>, f: StreamFail) -> Result<(), FlatFail> {
    let v = f.into_val(cx.data_mut().wasi())?;
    Ok(cx.ret(&v)?)
}

/// `write` and `blocking-write-and-flush`: the guest's bytes go to p1
/// `fd_write` / `fd_pwrite` straight from its memory (an iovec over the
/// `list<u8>` argument), with no copy and no value built.
fn write_flat<T: WasiView>(cx: &mut FlatCall<'_, T>) -> Result<(), FlatFail> {
    let rep = cx.arg_resource(0)?;
    let s = cx.data_mut().wasi().table.output(rep)?;
    let (fd, kind, closed) = (s.fd, s.kind, s.closed);
    if closed {
        return ret_fail(cx, StreamFail::Closed);
    }
    let r = write_fd(fd, kind, cx.arg_bytes(1)?);
    match finish_write(cx.data_mut().wasi(), rep, r)? {
        Ok(()) => Ok(cx.ret_ok_unit()?),
        Err(f) => ret_fail(cx, f),
    }
}

fn check_write_flat<T: WasiView>(cx: &mut FlatCall<'_, T>) -> Result<(), FlatFail> {
    let rep = cx.arg_resource(0)?;
    if cx.data_mut().wasi().table.output(rep)?.closed {
        return ret_fail(cx, StreamFail::Closed);
    }
    Ok(cx.ret_ok_u64(WRITE_BUDGET)?)
}

/// `flush` and `blocking-flush`: nothing is buffered (see the module doc).
fn flush_flat<T: WasiView>(cx: &mut FlatCall<'_, T>) -> Result<(), FlatFail> {
    let rep = cx.arg_resource(0)?;
    if cx.data_mut().wasi().table.output(rep)?.closed {
        return ret_fail(cx, StreamFail::Closed);
    }
    Ok(cx.ret_ok_unit()?)
}

fn write_zeroes(cx: &mut WasiCtx, rep: u32, len: u64) -> Ret {
    let mut left = len;
    let zeroes = vec![0u8; len.min(64 * 1024) as usize];
    while left > 0 {
        let n = left.min(zeroes.len() as u64) as usize;
        if let Err(f) = write_all(cx, rep, &zeroes[..n])? {
            return Ok(vec![f.into_val(cx)?]);
        }
        left -= n as u64;
    }
    Ok(vec![ok_unit()])
}

fn splice(cx: &mut WasiCtx, out: u32, src: u32, len: u64) -> Ret {
    cx.table.output(out)?;
    let data = match read(cx, src, len)? {
        Ok(b) => b,
        Err(f) => return Ok(vec![f.into_val(cx)?]),
    };
    Ok(vec![match write_all(cx, out, &data)? {
        Ok(()) => ok(Val::U64(data.len() as u64)),
        Err(f) => f.into_val(cx)?,
    }])
}
