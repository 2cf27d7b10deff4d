//! `wasi:clocks/monotonic-clock` and `wasi:clocks/wall-clock` over p1
//! `clock_time_get` / `clock_res_get` (monotonic and realtime clocks).
//!
//! Invariant: a clock the host refuses traps (p2 clocks cannot fail);
//! `subscribe-*` make pollables waited on by `wasi:io/poll`.

use crate::table::{Entry, Pollable};
use crate::vals::record;
use crate::{def, iface, p1, HostError, WasiView};
use canonical_abi::Val;
use component_model::Linker;

fn clock(r: p1::R<u64>, what: &str) -> Result<u64, HostError> {
    r.map_err(|e| HostError::Refused(format!("{what}: {}", crate::errno::message(e))))
}

fn datetime(ns: u64) -> Val {
    record(&[
        ("seconds", Val::U64(ns / 1_000_000_000)),
        ("nanoseconds", Val::U32((ns % 1_000_000_000) as u32)),
    ])
}

pub fn add<T: WasiView>(l: &mut Linker<T>) {
    let m = iface("clocks/monotonic-clock");
    def(l, &m, "now", |_, _| {
        Ok(vec![Val::U64(clock(
            p1::clock_now(wasi::CLOCKID_MONOTONIC),
            "monotonic now",
        )?)])
    });
    def(l, &m, "resolution", |_, _| {
        Ok(vec![Val::U64(clock(
            p1::clock_res(wasi::CLOCKID_MONOTONIC),
            "monotonic resolution",
        )?)])
    });
    def(l, &m, "subscribe-instant", |cx, a| {
        Ok(vec![Val::Resource(
            cx.table
                .push(Entry::Pollable(Pollable::Instant(a.u64(0)?)))?,
        )])
    });
    def(l, &m, "subscribe-duration", |cx, a| {
        let now = clock(p1::clock_now(wasi::CLOCKID_MONOTONIC), "monotonic now")?;
        let at = now.saturating_add(a.u64(0)?);
        Ok(vec![Val::Resource(
            cx.table.push(Entry::Pollable(Pollable::Instant(at)))?,
        )])
    });
    let w = iface("clocks/wall-clock");
    def(l, &w, "now", |_, _| {
        Ok(vec![datetime(clock(
            p1::clock_now(wasi::CLOCKID_REALTIME),
            "wall-clock now",
        )?)])
    });
    def(l, &w, "resolution", |_, _| {
        Ok(vec![datetime(clock(
            p1::clock_res(wasi::CLOCKID_REALTIME),
            "wall-clock resolution",
        )?)])
    });
}
