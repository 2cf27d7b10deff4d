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
use crate::vals::{bytes, err, ok, ok_unit, Ret};
use crate::{def, dtor, iface, p1, HostError, WasiCtx, WasiView};
use component_model::abi::Val;
use component_model::Linker;

/// What `check-write` grants.
pub const WRITE_BUDGET: u64 = 1 << 20;
/// The most bytes one `read` (of a stream or of `descriptor.read`) returns:
/// 64 KiB, what wasmtime returns at most for one read of a file.
pub const READ_MAX: u64 = 64 << 10;

pub fn add<T: WasiView>(l: &mut Linker<T>) {
    let i = iface("io/streams");
    def(l, &i, "[method]input-stream.read", |cx, a| {
        read_ret(cx, a.res(0)?, a.u64(1)?)
    });
    def(l, &i, "[method]input-stream.blocking-read", |cx, a| {
        read_ret(cx, a.res(0)?, a.u64(1)?)
    });
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
    def(l, &i, "[method]output-stream.check-write", |cx, a| {
        if cx.table.output(a.res(0)?)?.closed {
            return Ok(vec![closed()]);
        }
        Ok(vec![ok(Val::U64(WRITE_BUDGET))])
    });
    def(l, &i, "[method]output-stream.write", |cx, a| {
        write_ret(cx, a.res(0)?, &a.bytes(1)?)
    });
    def(
        l,
        &i,
        "[method]output-stream.blocking-write-and-flush",
        |cx, a| write_ret(cx, a.res(0)?, &a.bytes(1)?),
    );
    def(l, &i, "[method]output-stream.flush", |cx, a| {
        flush(cx, a.res(0)?)
    });
    def(l, &i, "[method]output-stream.blocking-flush", |cx, a| {
        flush(cx, a.res(0)?)
    });
    def(l, &i, "[method]output-stream.subscribe", |cx, a| {
        cx.table.output(a.res(0)?)?;
        Ok(vec![Val::Resource(
            cx.table.push(Entry::Pollable(Pollable::Ready))?,
        )])
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
    let s = cx.table.input(rep)?;
    if s.closed {
        return Ok(Err(StreamFail::Closed));
    }
    if len == 0 {
        return Ok(Ok(Vec::new()));
    }
    let mut buf = vec![0u8; len.min(READ_MAX) as usize];
    let r = match s.offset {
        Some(off) => p1::pread(s.fd, &mut buf, off),
        None => p1::read(s.fd, &mut buf),
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
            Ok(Ok(buf))
        }
        Err(e) => Ok(Err(StreamFail::Errno(e))),
    }
}

fn read_ret(cx: &mut WasiCtx, rep: u32, len: u64) -> Ret {
    Ok(vec![match read(cx, rep, len)? {
        Ok(b) => ok(bytes(&b)),
        Err(f) => f.into_val(cx)?,
    }])
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
    let mut done = 0usize;
    let mut at = match kind {
        OutputKind::Stream => 0,
        OutputKind::At(off) => off,
        OutputKind::Append => match p1::filestat(fd) {
            Ok(st) => st.size,
            Err(e) => return Ok(Err(StreamFail::Errno(e))),
        },
    };
    while done < data.len() {
        let r = match kind {
            OutputKind::Stream => p1::write(fd, &data[done..]),
            _ => p1::pwrite(fd, &data[done..], at),
        };
        match r {
            Ok(0) => return Ok(Err(StreamFail::Errno(errno::IO))),
            Ok(n) => {
                done += n;
                at += n as u64;
            }
            Err(errno::PIPE) => {
                cx.table.output(rep)?.closed = true;
                return Ok(Err(StreamFail::Closed));
            }
            Err(e) => return Ok(Err(StreamFail::Errno(e))),
        }
    }
    if let OutputKind::At(_) = kind {
        cx.table.output(rep)?.kind = OutputKind::At(at);
    }
    Ok(Ok(()))
}

fn write_ret(cx: &mut WasiCtx, rep: u32, data: &[u8]) -> Ret {
    Ok(vec![match write_all(cx, rep, data)? {
        Ok(()) => ok_unit(),
        Err(f) => f.into_val(cx)?,
    }])
}

fn flush(cx: &mut WasiCtx, rep: u32) -> Ret {
    if cx.table.output(rep)?.closed {
        return Ok(vec![closed()]);
    }
    Ok(vec![ok_unit()])
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
