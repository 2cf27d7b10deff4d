//! `wasi:io/poll`: pollables and `poll`, over p1 `poll_oneoff` with
//! monotonic-clock (relative timeout) and fd-read subscriptions.
//!
//! Invariants:
//! * `poll` returns at least one index (blocking until then) and only
//!   indexes of pollables that are ready; an empty list traps, as in
//!   wasmtime.
//! * Always-ready pollables and expired deadlines never reach the host.
//! * An fd the host refuses to poll (node: stdin from a file or /dev/null)
//!   is ready: it is not a pipe, so a read does not wait.

use crate::bindings::io_poll::{Host, Pollable as PollableRes};
use crate::glue::{Borrow, Own};
use crate::table::Pollable;
use crate::{p1, HostError, WasiCtx};

impl Host for WasiCtx {
    fn pollable_ready(&mut self, p: Borrow<PollableRes>) -> Result<bool, HostError> {
        let p = *self.table.pollable(p.rep())?;
        ready_now(p)
    }
    fn pollable_block(&mut self, p: Borrow<PollableRes>) -> Result<(), HostError> {
        let p = *self.table.pollable(p.rep())?;
        wait(&[p])?;
        Ok(())
    }
    fn poll(&mut self, list: Vec<Borrow<PollableRes>>) -> Result<Vec<u32>, HostError> {
        if list.is_empty() {
            return Err(HostError::Refused(
                "poll: the list of pollables is empty".into(),
            ));
        }
        let mut ps = Vec::with_capacity(list.len());
        for p in list {
            ps.push(*self.table.pollable(p.rep())?);
        }
        wait(&ps)
    }
    fn drop_pollable(&mut self, p: Own<PollableRes>) -> Result<(), HostError> {
        self.drop_entry(p.rep())
    }
}

fn now() -> Result<u64, HostError> {
    p1::clock_now(wasi::CLOCKID_MONOTONIC)
        .map_err(|e| HostError::Refused(format!("clock_time_get: {}", crate::errno::message(e))))
}

/// Whether `p` is ready, without blocking.
pub fn ready_now(p: Pollable) -> Result<bool, HostError> {
    match p {
        Pollable::Ready => Ok(true),
        Pollable::Instant(t) => Ok(now()? >= t),
        Pollable::FdRead(_) => Ok(!poll_host(&[p], Some(0))?.is_empty()),
    }
}

/// Blocks until at least one of `ps` is ready; returns the ready indexes.
pub fn wait(ps: &[Pollable]) -> Result<Vec<u32>, HostError> {
    loop {
        let t = now()?;
        let mut ready: Vec<u32> = Vec::new();
        let mut deadline: Option<u64> = None;
        for (i, p) in ps.iter().enumerate() {
            match *p {
                Pollable::Ready => ready.push(i as u32),
                Pollable::Instant(d) if d <= t => ready.push(i as u32),
                Pollable::Instant(d) => deadline = Some(deadline.map_or(d, |x: u64| x.min(d))),
                Pollable::FdRead(_) => {}
            }
        }
        let has_fds = ps.iter().any(|p| matches!(p, Pollable::FdRead(_)));
        if !ready.is_empty() {
            if has_fds {
                ready.extend(poll_host(ps, Some(0))?);
                ready.sort_unstable();
                ready.dedup();
            }
            return Ok(ready);
        }
        let fired = poll_host(ps, deadline.map(|d| d.saturating_sub(t)))?;
        if !fired.is_empty() {
            return Ok(fired);
        }
        // Only the timeout fired: loop to collect the expired deadlines.
    }
}

/// One `poll_oneoff` over the fd pollables of `ps` plus, if given, a
/// relative monotonic timeout (ns). Returns the indexes of fired fds.
fn poll_host(ps: &[Pollable], timeout: Option<u64>) -> Result<Vec<u32>, HostError> {
    // `waits[k]` is the wait of pollable `index[k]`; the timeout is last.
    let mut waits = Vec::new();
    let mut index = Vec::new();
    for (i, p) in ps.iter().enumerate() {
        if let Pollable::FdRead(fd) = *p {
            waits.push(p1::Wait::FdRead(fd));
            index.push(i as u32);
        }
    }
    if let Some(ns) = timeout {
        waits.push(p1::Wait::Timeout(ns));
    }
    if waits.is_empty() {
        return Err(HostError::Refused(
            "poll: nothing to wait for would block forever".into(),
        ));
    }
    let events = match p1::poll(&waits) {
        Ok(events) => events,
        // A host that cannot poll these fds (node's uvwasi refuses stdin
        // from a file or /dev/null with EPERM): such fds are always
        // readable, as regular files are.
        Err(_) if !index.is_empty() => return Ok(index),
        Err(e) => {
            return Err(HostError::Refused(format!(
                "poll_oneoff: {}",
                crate::errno::message(e)
            )))
        }
    };
    let mut out: Vec<u32> = events
        .iter()
        .filter_map(|&(k, _)| index.get(k).copied())
        .collect();
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Against the fake p1 layer, so natively only.
#[cfg(all(test, not(target_os = "wasi")))]
mod tests {
    use super::*;
    use crate::p1::{reset, with, Quirks, Stdin};

    #[test]
    fn stdin_a_host_cannot_poll_is_ready() {
        reset(Quirks::node());
        with(|h| h.stdin_file = true);
        let (stdin, timer) = (Pollable::FdRead(0), Pollable::Instant(u64::MAX));
        assert_eq!(wait(&[timer, stdin]), Ok(vec![1]));
        assert_eq!(ready_now(stdin), Ok(true));
    }

    #[test]
    fn a_pipe_with_no_data_yet_waits() {
        reset(Quirks::node());
        with(|h| h.set_stdin([Stdin::Later, Stdin::Data(b"x".to_vec())]));
        let t0 = p1::clock_now(wasi::CLOCKID_MONOTONIC).unwrap();
        let timer = Pollable::Instant(t0 + 1_000);
        assert_eq!(ready_now(Pollable::FdRead(0)), Ok(true));
        assert_eq!(wait(&[Pollable::FdRead(0), timer]), Ok(vec![0]));
        assert_eq!(wait(&[timer]), Ok(vec![0]));
        assert!(p1::clock_now(wasi::CLOCKID_MONOTONIC).unwrap() >= t0 + 1_000);
    }
}
