//! p1 `poll_oneoff` with an fd_read subscription on stdin from `/dev/null`
//! (`stdin-from`), beside a 10 ms clock, as p2shim polls a stdin pollable
//! (conformance/programs/p2-raw, which runs with stdin from /dev/null):
//! wasmtime and iwasm say stdin is ready, node says EPERM (which p2shim takes as
//! ready, as for a file), and wasmi 2.0 ends the program ("failed during execution
//! of _start: Unknown OS error", exit 1).

use wasi::*;

fn main() {
    let fd = Subscription {
        userdata: 1,
        u: SubscriptionU {
            tag: EVENTTYPE_FD_READ.raw(),
            u: SubscriptionUU {
                fd_read: SubscriptionFdReadwrite { file_descriptor: 0 },
            },
        },
    };
    let clock = Subscription {
        userdata: 2,
        u: SubscriptionU {
            tag: EVENTTYPE_CLOCK.raw(),
            u: SubscriptionUU {
                clock: SubscriptionClock {
                    id: CLOCKID_MONOTONIC,
                    timeout: 10_000_000,
                    precision: 0,
                    flags: 0,
                },
            },
        },
    };
    let subs = [clock, fd];
    // SAFETY: zeroed events are valid (plain data); the host fills at most 2.
    let mut ev: [Event; 2] = unsafe { std::mem::zeroed() };
    // SAFETY: `subs` and `ev` are live arrays of 2 elements.
    match unsafe { poll_oneoff(subs.as_ptr(), ev.as_mut_ptr(), 2) } {
        Ok(n) => {
            let mut seen: Vec<String> = ev[..n]
                .iter()
                .map(|e| format!("userdata {} error {}", e.userdata, e.error.name()))
                .collect();
            seen.sort();
            println!("poll_oneoff fd_read on stdin from /dev/null: {n} events: {seen:?}");
        }
        Err(e) => println!("poll_oneoff fd_read on stdin from /dev/null: {}", e.name()),
    }
}
