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

fn monotonic_now() -> Result<u64, HostError> {
    clock(p1::clock_now(wasi::CLOCKID_MONOTONIC), "monotonic now")
}

/// A new pollable, ready at monotonic instant `at` (ns).
fn subscribe(cx: &mut WasiCtx, at: u64) -> Result<Own<PollableRes>, HostError> {
    Ok(Own::new(
        cx.table.push(Entry::Pollable(Pollable::Instant(at)))?,
    ))
}

impl clocks_monotonic_clock::Host for WasiCtx {
    fn now(&mut self) -> Result<u64, HostError> {
        monotonic_now()
    }
    fn resolution(&mut self) -> Result<u64, HostError> {
        clock(
            p1::clock_res(wasi::CLOCKID_MONOTONIC),
            "monotonic resolution",
        )
    }
    fn subscribe_instant(&mut self, when: u64) -> Result<Own<PollableRes>, HostError> {
        subscribe(self, when)
    }
    fn subscribe_duration(&mut self, when: u64) -> Result<Own<PollableRes>, HostError> {
        let at = monotonic_now()?.saturating_add(when);
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
