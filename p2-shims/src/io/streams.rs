//! `wasi:io/streams`: input and output streams over p1 fds (stdio with
//! `fd_read`/`fd_write`, files with `fd_pread`/`fd_pwrite` at a position
//! the stream owns).
//!
//! Invariants:
//! * Writes are complete when the call returns (nothing is buffered in the
//!   shim), so `flush` is a no-op and `check-write` always grants
//!   [`WRITE_BUDGET`], wasmtime's 64 KiB. As in wasmtime 49, `write` takes
//!   more than that, `write-zeroes` traps above it (so a guest cannot have
//!   the shim write without end), and the `blocking-*-and-flush` calls trap
//!   above [`BLOCKING_MAX`], each with wasmtime's message.
//! * End of input is `stream-error.closed` (a p1 read of 0 bytes for a
//!   non-empty request), after which the stream stays closed; a p1 error is
//!   `last-operation-failed` with an `error` resource. As in wasmtime, a
//!   file stream is closed after it reported a failure, and the failure of
//!   a (non-blocking) `write` to a file is reported by the stream's next
//!   call (wasmtime writes files in the background), not by `write`.
//! * Output to stdio is `closed` once the reader is gone: p1 EPIPE, and p1
//!   EIO, which is what wasmtime's p1 layer makes of its own stream's
//!   `closed` (so a genuine device EIO on stdout is reported as `closed`
//!   too: p1 leaves no way to tell them apart there).
//! * A stdio read that p1 answers with EAGAIN (node's stdin pipe with no
//!   data yet) is 0 bytes for `read` and `skip`; the blocking forms wait in
//!   `poll_oneoff` and read again until data or end of file. Where p1
//!   `fd_read` itself blocks (wasmtime, wasmi), `read` on stdin blocks too
//!   (see the README gaps).

use super::error::push_errno;
use crate::bindings::io_poll::Pollable as PollableRes;
use crate::bindings::io_streams::{Host, InputStream, OutputStream, StreamError};
use crate::errno::p1 as errno;
use crate::fds::FdView;
use crate::glue::{Borrow, Own};
use crate::table::{Entry, OutputKind, OutputStream as Stream, Pollable};
use crate::{p1, HostError, WasiCtx};

/// What `check-write` grants: wasmtime 49's budget for stdio and files.
pub const WRITE_BUDGET: u64 = 64 << 10;
/// The most bytes `blocking-write-and-flush` and
/// `blocking-write-zeroes-and-flush` take (the WIT's limit; wasmtime traps
/// above it).
pub const BLOCKING_MAX: u64 = 4096;

/// The most bytes one `read` (of a stream or of `descriptor.read`) returns:
/// 64 KiB, what wasmtime returns at most for one read of a file.
pub const READ_MAX: u64 = 64 << 10;

/// A stream operation's result: its value or a `stream-error`.
type StreamResult<T> = Result<Result<T, StreamError>, HostError>;

impl Host for WasiCtx {
    fn input_stream_read(&mut self, s: Borrow<InputStream>, len: u64) -> StreamResult<Vec<u8>> {
        read_scratch(self, s.rep(), len, false)
    }
    fn input_stream_blocking_read(
        &mut self,
        s: Borrow<InputStream>,
        len: u64,
    ) -> StreamResult<Vec<u8>> {
        read_scratch(self, s.rep(), len, true)
    }
    fn input_stream_skip(&mut self, s: Borrow<InputStream>, len: u64) -> StreamResult<u64> {
        skip(self, s.rep(), len, false)
    }
    fn input_stream_blocking_skip(
        &mut self,
        s: Borrow<InputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        skip(self, s.rep(), len, true)
    }
    fn input_stream_subscribe(
        &mut self,
        s: Borrow<InputStream>,
    ) -> Result<Own<PollableRes>, HostError> {
        let rep = s.rep();
        let s = self.table.input(rep)?;
        let p = if s.offset.is_none() && !s.closed {
            Pollable::FdRead(s.fd)
        } else {
            Pollable::Ready
        };
        Ok(Own::new(self.table.push_child(Entry::Pollable(p), rep)?))
    }
    fn output_stream_check_write(&mut self, s: Borrow<OutputStream>) -> StreamResult<u64> {
        let r = usable(self, s.rep())?.map(|()| WRITE_BUDGET);
        result(self, r)
    }
    /// The guest's bytes go to p1 `fd_write` / `fd_pwrite` straight from its
    /// memory (an iovec over the `list<u8>` argument), with no copy.
    fn output_stream_write(
        &mut self,
        s: Borrow<OutputStream>,
        contents: &[u8],
    ) -> StreamResult<()> {
        let r = write_all(self, s.rep(), contents, false)?;
        result(self, r)
    }
    /// wasmtime's size check first.
    fn output_stream_blocking_write_and_flush(
        &mut self,
        s: Borrow<OutputStream>,
        contents: &[u8],
    ) -> StreamResult<()> {
        if contents.len() as u64 > BLOCKING_MAX {
            return Err(HostError::BufferTooLarge {
                func: "blocking-write-and-flush",
                max: BLOCKING_MAX,
            });
        }
        let r = write_all(self, s.rep(), contents, true)?;
        result(self, r)
    }
    fn output_stream_flush(&mut self, s: Borrow<OutputStream>) -> StreamResult<()> {
        flush(self, s.rep())
    }
    fn output_stream_blocking_flush(&mut self, s: Borrow<OutputStream>) -> StreamResult<()> {
        flush(self, s.rep())
    }
    fn output_stream_subscribe(
        &mut self,
        s: Borrow<OutputStream>,
    ) -> Result<Own<PollableRes>, HostError> {
        let rep = s.rep();
        self.table.output(rep)?;
        Ok(Own::new(
            self.table
                .push_child(Entry::Pollable(Pollable::Ready), rep)?,
        ))
    }
    fn output_stream_write_zeroes(
        &mut self,
        s: Borrow<OutputStream>,
        len: u64,
    ) -> StreamResult<()> {
        let r = write_zeroes(self, s.rep(), len)?;
        result(self, r)
    }
    fn output_stream_blocking_write_zeroes_and_flush(
        &mut self,
        s: Borrow<OutputStream>,
        len: u64,
    ) -> StreamResult<()> {
        let r = blocking_write_zeroes(self, s.rep(), len)?;
        result(self, r)
    }
    fn output_stream_splice(
        &mut self,
        s: Borrow<OutputStream>,
        src: Borrow<InputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        splice(self, s.rep(), src.rep(), len, false)
    }
    fn output_stream_blocking_splice(
        &mut self,
        s: Borrow<OutputStream>,
        src: Borrow<InputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        splice(self, s.rep(), src.rep(), len, true)
    }
    fn drop_input_stream(&mut self, s: Own<InputStream>) -> Result<(), HostError> {
        self.drop_entry(s.rep())
    }
    fn drop_output_stream(&mut self, s: Own<OutputStream>) -> Result<(), HostError> {
        self.drop_entry(s.rep())
    }
}

/// Why a stream operation did not produce its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFail {
    Closed,
    Errno(u16),
}

impl StreamFail {
    /// The `stream-error` for this failure (`last-operation-failed` carries
    /// a new `error` resource).
    fn into_error(self, cx: &mut WasiCtx) -> Result<StreamError, HostError> {
        match self {
            StreamFail::Closed => Ok(StreamError::Closed),
            StreamFail::Errno(e) => Ok(StreamError::LastOperationFailed(Own::new(push_errno(
                cx, e,
            )?))),
        }
    }
}

/// `Ok(v)` or the `stream-error` of `f`.
fn result<T>(cx: &mut WasiCtx, r: Result<T, StreamFail>) -> StreamResult<T> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(f) => Ok(Err(f.into_error(cx)?)),
    }
}

/// Reads up to `len` bytes: at least one unless `len` is 0, or, when not
/// `blocking`, none while a stdio pipe has no data yet.
fn read(
    cx: &mut WasiCtx,
    rep: u32,
    len: u64,
    blocking: bool,
) -> Result<Result<Vec<u8>, StreamFail>, HostError> {
    let mut buf = Vec::new();
    Ok(read_into(cx, rep, len, blocking, &mut buf)?.map(|()| buf))
}

/// Reads as [`read`] does into `buf` (replacing its contents). Always
/// inlined, as [`read_scratch`] is, so that a `blocking-read` of the
/// lowered library is one frame.
#[inline(always)]
pub fn read_into(
    cx: &mut WasiCtx,
    rep: u32,
    len: u64,
    blocking: bool,
    buf: &mut Vec<u8>,
) -> Result<Result<(), StreamFail>, HostError> {
    // The stream is looked up once: the read needs only its fd, and the
    // table is not touched while it waits.
    let s = match cx.table.input(rep) {
        Ok(s) => s,
        Err(e) => {
            buf.clear();
            return Err(e);
        }
    };
    if s.closed || len == 0 {
        buf.clear();
        return Ok(if s.closed {
            Err(StreamFail::Closed)
        } else {
            Ok(())
        });
    }
    // `buf` is the bytes of the last read (the scratch buffer): only a
    // longer request zero-fills, and only its new part (a run of reads of
    // the same size fills nothing). The read overwrites what it returns and
    // the rest is cut off below, so no byte of an earlier read is returned.
    buf.resize(len.min(READ_MAX) as usize, 0);
    let (fd, offset) = (s.fd, s.offset);
    let mut waited = Waited::default();
    let r = loop {
        let r = match offset {
            Some(off) => p1::pread(fd, buf, off),
            None => p1::read(fd, buf),
        };
        match r {
            Err(errno::AGAIN) if offset.is_none() && blocking => waited.wait(fd)?,
            Err(errno::AGAIN) if offset.is_none() => break Ok(None),
            r => break r.map(Some),
        }
    };
    buf.truncate(match r {
        Ok(Some(n)) => n,
        _ => 0,
    });
    let stdin = fd == 0 && offset.is_none();
    match r {
        Ok(None) => Ok(Ok(())),
        Ok(Some(0)) => {
            s.closed = true;
            if stdin {
                cx.stdin_partial = false;
            }
            Ok(Err(StreamFail::Closed))
        }
        Ok(Some(n)) => {
            if let Some(off) = &mut s.offset {
                *off += n as u64;
            } else if stdin {
                cx.stdin_partial = true;
            }
            Ok(Ok(()))
        }
        Err(e) => {
            // A file stream is closed after a failure, as in wasmtime.
            s.closed = offset.is_some();
            Ok(Err(StreamFail::Errno(e)))
        }
    }
}

/// The waits of one blocking read of an fd that answers EAGAIN.
#[derive(Default)]
struct Waited {
    /// Consecutive waits so far.
    times: u32,
    /// The next wait is on the timeout alone.
    timeout_only: bool,
}

impl Waited {
    /// Waits after EAGAIN on `fd`: in `poll_oneoff` on the fd, with a
    /// timeout that grows from 1 ms to 32 ms while no data comes. After the
    /// host said the fd was readable (and the read found nothing again), or
    /// when it cannot poll the fd, the next wait is on the timeout alone, so
    /// waiting never spins.
    fn wait(&mut self, fd: u32) -> Result<(), HostError> {
        let ns = 1_000_000u64 << self.times.min(5);
        self.times += 1;
        let waits = [p1::Wait::Timeout(ns), p1::Wait::FdRead(fd)];
        let failed = |e| HostError::Refused(format!("poll_oneoff: {}", crate::errno::message(e)));
        self.timeout_only = if self.timeout_only {
            p1::poll(&waits[..1]).map_err(failed)?;
            false
        } else {
            match p1::poll(&waits) {
                Ok(events) => events.iter().any(|&(i, _)| i == 1),
                Err(_) => {
                    p1::poll(&waits[..1]).map_err(failed)?;
                    true
                }
            }
        };
        Ok(())
    }
}

/// `read` and `blocking-read`: p1 reads into the context's scratch buffer,
/// which the glue copies once into the guest's `realloc`ed list and hands
/// back (`ReuseBytes`), so a read does not allocate.
#[inline(always)]
fn read_scratch(cx: &mut WasiCtx, rep: u32, len: u64, blocking: bool) -> StreamResult<Vec<u8>> {
    let mut buf = std::mem::take(&mut cx.scratch);
    let r = read_into(cx, rep, len, blocking, &mut buf);
    match r {
        Ok(Ok(())) => Ok(Ok(buf)),
        Ok(Err(f)) => {
            cx.scratch = buf;
            result(cx, Err(f))
        }
        Err(e) => {
            cx.scratch = buf;
            Err(e)
        }
    }
}

fn skip(cx: &mut WasiCtx, rep: u32, len: u64, blocking: bool) -> StreamResult<u64> {
    let r = read(cx, rep, len, blocking)?.map(|b| b.len() as u64);
    result(cx, r)
}

/// Whether output stream `rep` can be used (see [`check_usable`]).
/// Inlined into `check-write` and `flush`, whose whole work it is, so their
/// result is not passed through memory (lowered mode counts those
/// instructions on every call).
#[inline(always)]
fn usable(cx: &mut WasiCtx, rep: u32) -> Result<Result<(), StreamFail>, HostError> {
    Ok(check_usable(cx.table.output(rep)?))
}

/// Whether output stream `s` can be used: not if closed, nor after a
/// failed `write` to a file, which is reported now (closing the stream).
#[inline]
fn check_usable(s: &mut Stream) -> Result<(), StreamFail> {
    // Read, and written only when set (`take` would store on every call).
    if let Some(e) = s.failed {
        s.failed = None;
        s.closed = true;
        return Err(StreamFail::Errno(e));
    }
    if s.closed {
        return Err(StreamFail::Closed);
    }
    Ok(())
}

/// Writes all of `data`, as `write` or, when `blocking`, as
/// `blocking-write-and-flush`. The stream is looked up once: the write
/// itself needs only the fds' facts. Always inlined: in the lowered
/// library `write` is one of the hottest calls, and a frame costs an
/// interpreter more than the copy of this body.
#[inline(always)]
pub fn write_all(
    cx: &mut WasiCtx,
    rep: u32,
    data: &[u8],
    blocking: bool,
) -> Result<Result<(), StreamFail>, HostError> {
    let mut fdv = FdView { fds: &mut cx.fds };
    let s = cx.table.output(rep)?;
    if let Err(f) = check_usable(s) {
        return Ok(Err(f));
    }
    let r = write_fd(&mut fdv, s.fd, s.kind, data);
    Ok(finish_write(s, r, blocking))
}

/// How a [`write_fd`] ended.
enum Written {
    /// All written; the position after the data (for [`OutputKind::At`]).
    Done(u64),
    /// The reader is gone: the stream is closed from now on.
    Pipe,
    Errno(u16),
}

/// Writes all of `data` to `fd` as a stream of `kind` writes, without
/// touching the table. An append stream writes with `fd_write` on an fd
/// the shims set p1 APPEND on (`fds`), or, where the host refuses that
/// flag, with `fd_pwrite` at the size read just before. Always inlined,
/// as [`write_all`] is, so that a `write` is one frame.
#[inline(always)]
fn write_fd(fdv: &mut FdView<'_>, fd: u32, kind: OutputKind, data: &[u8]) -> Written {
    let mut done = 0usize;
    // `fd_pwrite` at `at`, or `fd_write` when `positioned` is false.
    let (positioned, mut at) = match kind {
        OutputKind::Stream => (false, 0),
        OutputKind::At(off) => match fdv.positional(fd) {
            Ok(()) => (true, off),
            Err(e) => return Written::Errno(e),
        },
        OutputKind::Append if fdv.appending(fd) => (false, 0),
        OutputKind::Append => match p1::filestat(fd) {
            Ok(st) => (true, st.size),
            Err(e) => return Written::Errno(e),
        },
    };
    while done < data.len() {
        let r = if positioned {
            p1::pwrite(fd, &data[done..], at)
        } else {
            p1::write(fd, &data[done..])
        };
        match r {
            Ok(0) => return Written::Errno(errno::IO),
            Ok(n) => {
                done += n;
                at += n as u64;
            }
            Err(errno::PIPE) => return Written::Pipe,
            // wasmtime's p1 turns its stdout stream's `closed` into EIO.
            Err(errno::IO) if kind == OutputKind::Stream => return Written::Pipe,
            Err(e) => return Written::Errno(e),
        }
    }
    Written::Done(at)
}

/// Records the outcome of a [`write_fd`] on stream `s` (by `write`, or
/// when `blocking` by `blocking-write-and-flush`).
#[inline]
fn finish_write(s: &mut Stream, r: Written, blocking: bool) -> Result<(), StreamFail> {
    match r {
        Written::Done(at) => {
            if let OutputKind::At(_) = s.kind {
                s.kind = OutputKind::At(at);
            }
            Ok(())
        }
        Written::Pipe => {
            s.closed = true;
            Err(StreamFail::Closed)
        }
        Written::Errno(e) if s.kind == OutputKind::Stream => Err(StreamFail::Errno(e)),
        Written::Errno(e) if blocking => {
            s.closed = true;
            Err(StreamFail::Errno(e))
        }
        Written::Errno(e) => {
            s.failed = Some(e);
            Ok(())
        }
    }
}

/// `flush` and `blocking-flush`: nothing is buffered (see the module doc),
/// but a failed `write` is reported.
#[inline(always)]
fn flush(cx: &mut WasiCtx, rep: u32) -> StreamResult<()> {
    let r = usable(cx, rep)?;
    result(cx, r)
}

/// `write-zeroes`: as wasmtime, the stream's state first (a closed stream
/// says so), then a trap for more than `check-write` grants.
pub fn write_zeroes(
    cx: &mut WasiCtx,
    rep: u32,
    len: u64,
) -> Result<Result<(), StreamFail>, HostError> {
    if let Err(f) = usable(cx, rep)? {
        return Ok(Err(f));
    }
    if len > WRITE_BUDGET {
        return Err(HostError::ZeroesOverBudget);
    }
    write_all(cx, rep, &vec![0; len as usize], false)
}

/// `blocking-write-zeroes-and-flush`: at most [`BLOCKING_MAX`] zeroes.
pub fn blocking_write_zeroes(
    cx: &mut WasiCtx,
    rep: u32,
    len: u64,
) -> Result<Result<(), StreamFail>, HostError> {
    if len > BLOCKING_MAX {
        return Err(HostError::BufferTooLarge {
            func: "blocking-write-zeroes-and-flush",
            max: BLOCKING_MAX,
        });
    }
    write_all(cx, rep, &vec![0; len as usize], true)
}

/// `splice` and `blocking-splice`: at most what `check-write` grants, read
/// from `src` (without waiting unless `blocking`) and written to `out`.
fn splice(cx: &mut WasiCtx, out: u32, src: u32, len: u64, blocking: bool) -> StreamResult<u64> {
    if let Err(f) = usable(cx, out)? {
        return result(cx, Err(f));
    }
    let data = match read(cx, src, len.min(WRITE_BUDGET), blocking)? {
        Ok(b) => b,
        Err(f) => return result(cx, Err(f)),
    };
    let r = write_all(cx, out, &data, blocking)?.map(|()| data.len() as u64);
    result(cx, r)
}

/// Against the fake p1 layer, so natively only.
#[cfg(all(test, not(target_os = "wasi")))]
mod tests {
    use super::*;
    use crate::p1::{reset, with, Quirks, Stdin};
    use crate::table::{InputStream, OutputStream};

    fn stdio(cx: &mut WasiCtx, fd: u32) -> u32 {
        let e = if fd == 0 {
            Entry::Input(InputStream {
                fd,
                offset: None,
                closed: false,
                owns_fd: false,
            })
        } else {
            Entry::Output(OutputStream {
                fd,
                kind: OutputKind::Stream,
                closed: false,
                owns_fd: false,
                failed: None,
            })
        };
        cx.table.push(e).unwrap()
    }

    #[test]
    fn write_zeroes_keeps_to_the_budget() {
        reset(Quirks::wasmtime());
        let mut cx = WasiCtx::default();
        let out = stdio(&mut cx, 1);
        assert_eq!(write_zeroes(&mut cx, out, 3), Ok(Ok(())));
        assert_eq!(write_zeroes(&mut cx, out, WRITE_BUDGET), Ok(Ok(())));
        for len in [WRITE_BUDGET + 1, u64::MAX] {
            let e = write_zeroes(&mut cx, out, len).unwrap_err();
            assert_eq!(
                e.to_string(),
                "cannot write more zeroes than `check_write` allows"
            );
        }
        assert_eq!(
            with(|h| h.stdout.clone()),
            vec![0; 3 + WRITE_BUDGET as usize]
        );
        let e = blocking_write_zeroes(&mut cx, out, BLOCKING_MAX + 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Buffer too large for blocking-write-zeroes-and-flush (expected at most 4096)"
        );
        assert_eq!(
            blocking_write_zeroes(&mut cx, out, BLOCKING_MAX),
            Ok(Ok(()))
        );
    }

    #[test]
    fn a_gone_reader_closes_stdout_on_every_host() {
        for q in [Quirks::wasmtime(), Quirks::node()] {
            reset(q);
            let mut cx = WasiCtx::default();
            let out = stdio(&mut cx, 1);
            assert_eq!(write_all(&mut cx, out, b"a", false), Ok(Ok(())));
            with(|h| h.stdout_closed = true);
            assert_eq!(
                write_all(&mut cx, out, b"b", true),
                Ok(Err(StreamFail::Closed))
            );
            assert!(cx.table.output(out).unwrap().closed);
            assert_eq!(with(|h| h.stdout.clone()), b"a");
        }
    }

    #[test]
    fn stdin_with_no_data_yet_waits_only_when_blocking() {
        reset(Quirks::node());
        with(|h| {
            h.set_stdin([
                Stdin::Later,
                Stdin::Later,
                Stdin::Data(b"ab".to_vec()),
                Stdin::Later,
                Stdin::Data(b"c".to_vec()),
            ])
        });
        let mut cx = WasiCtx::default();
        let i = stdio(&mut cx, 0);
        // Non-blocking: 0 bytes while nothing has come, without waiting.
        assert_eq!(read(&mut cx, i, 10, false), Ok(Ok(vec![])));
        assert_eq!(with(|h| h.polls), 0);
        // Blocking: waits (in poll_oneoff) until the data comes.
        assert_eq!(read(&mut cx, i, 10, true), Ok(Ok(b"ab".to_vec())));
        assert!(with(|h| h.polls) >= 2);
        assert_eq!(skip(&mut cx, i, 10, false), Ok(Ok(0)));
        assert_eq!(read(&mut cx, i, 10, true), Ok(Ok(b"c".to_vec())));
        assert_eq!(read(&mut cx, i, 10, true), Ok(Err(StreamFail::Closed)));
        assert_eq!(read(&mut cx, i, 10, false), Ok(Err(StreamFail::Closed)));
    }

    #[test]
    fn megabytes_of_stdin_arrive_whole() {
        reset(Quirks::node());
        let chunk: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
        with(|h| h.set_stdin((0..40).flat_map(|_| [Stdin::Later, Stdin::Data(chunk.clone())])));
        let mut cx = WasiCtx::default();
        let i = stdio(&mut cx, 0);
        let mut all = Vec::new();
        while let Ok(b) = read(&mut cx, i, 1 << 20, true).unwrap() {
            assert!(!b.is_empty() && b.len() as u64 <= READ_MAX);
            all.extend(b);
        }
        assert_eq!(all.len(), 40 * chunk.len());
        assert!(all.chunks(chunk.len()).all(|c| c == chunk));
    }
}
