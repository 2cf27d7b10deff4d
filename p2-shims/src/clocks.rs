//! `wasi:clocks/monotonic-clock` and `wasi:clocks/wall-clock` over p1
//! `clock_time_get` / `clock_res_get` (monotonic and realtime clocks).
//!
//! Invariant: a clock the host refuses traps (p2 clocks cannot fail);
//! `subscribe-*` make pollables waited on by `wasi:io/poll`.

use crate::bindings::clocks_wall_clock::Datetime;
use crate::bindings::io_poll::Pollable as PollableRes;
use crate::bindings::{clocks_monotonic_clock, clocks_wall_clock};
use crate::glue::Own;
use crate::table::{Entry, Pollable};
use crate::{p1, HostError, WasiCtx};

fn clock(r: p1::R<u64>, what: &str) -> Result<u64, HostError> {
    r.map_err(|e| HostError::Refused(format!("{what}: {}", crate::errno::message(e))))
}

/// A `datetime` for `ns` nanoseconds since the epoch.
pub fn datetime(ns: u64) -> Datetime {
    Datetime {
        seconds: ns / 1_000_000_000,
        nanoseconds: (ns % 1_000_000_000) as u32,
    }
}

fn host_monotonic_now() -> Result<u64, HostError> {
    clock(p1::clock_now(wasi::CLOCKID_MONOTONIC), "monotonic now")
}

/// A new pollable, ready at the host's monotonic instant `at` (ns).
fn subscribe(cx: &mut WasiCtx, at: u64) -> Result<Own<PollableRes>, HostError> {
    Ok(Own::new(
        cx.table.push(Entry::Pollable(Pollable::Instant(at)))?,
    ))
}

impl WasiCtx {
    /// The guest's time for the host's monotonic instant `host`.
    pub(crate) fn guest_time(&self, host: u64) -> u64 {
        host.saturating_add(self.monotonic.offset)
    }

    /// The host's monotonic instant for the guest's time `guest`.
    pub(crate) fn host_time(&self, guest: u64) -> u64 {
        guest.saturating_sub(self.monotonic.offset)
    }

    /// The latest monotonic time the guest was given.
    #[cfg_attr(not(feature = "checkpoint"), allow(dead_code))]
    pub(crate) fn monotonic_last(&self) -> u64 {
        self.monotonic.last
    }

    /// Continues the guest's monotonic time from `last` (a restore): from
    /// now on it is the host's plus what makes it `last` now, or the
    /// host's if that is later.
    #[cfg_attr(not(feature = "checkpoint"), allow(dead_code))]
    pub(crate) fn continue_monotonic(&mut self, last: u64) -> Result<(), HostError> {
        let now = host_monotonic_now()?;
        self.monotonic.offset = last.saturating_sub(now);
        self.monotonic.last = last;
        Ok(())
    }
}

impl clocks_monotonic_clock::Host for WasiCtx {
    fn now(&mut self) -> Result<u64, HostError> {
        let t = self
            .guest_time(host_monotonic_now()?)
            .max(self.monotonic.last);
        self.monotonic.last = t;
        Ok(t)
    }
    fn resolution(&mut self) -> Result<u64, HostError> {
        clock(
            p1::clock_res(wasi::CLOCKID_MONOTONIC),
            "monotonic resolution",
        )
    }
    fn subscribe_instant(&mut self, when: u64) -> Result<Own<PollableRes>, HostError> {
        let at = self.host_time(when);
        subscribe(self, at)
    }
    fn subscribe_duration(&mut self, when: u64) -> Result<Own<PollableRes>, HostError> {
        let at = host_monotonic_now()?.saturating_add(when);
        subscribe(self, at)
    }
}

impl clocks_wall_clock::Host for WasiCtx {
    fn now(&mut self) -> Result<Datetime, HostError> {
        Ok(datetime(clock(
            p1::clock_now(wasi::CLOCKID_REALTIME),
            "wall-clock now",
        )?))
    }
    fn resolution(&mut self) -> Result<Datetime, HostError> {
        Ok(datetime(clock(
            p1::clock_res(wasi::CLOCKID_REALTIME),
            "wall-clock resolution",
        )?))
    }
}
