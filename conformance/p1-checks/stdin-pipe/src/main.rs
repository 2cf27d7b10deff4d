//! p1 `fd_read` of a stdin pipe that is often empty (a slow producer, see
//! `stdin-pipe.sh`): wasmtime, wasmi and iwasm block until data comes;
//! node's uvwasi (node 20 and 24) returns EAGAIN, which p2shim's blocking
//! reads of stdin wait out in `poll_oneoff` (`wasi:io/streams`
//! `blocking-read`, conformance/programs/p2-stdin). Also `poll_oneoff` with
//! an fd_read subscription on that pipe.

use wasi::*;

fn main() {
    let wait = |fd_too: bool| {
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
        let n = if fd_too { 2 } else { 1 };
        // SAFETY: zeroed events are valid (plain data); the host fills at most `n`.
        let mut ev: [Event; 2] = unsafe { std::mem::zeroed() };
        // SAFETY: `subs` and `ev` are live arrays of at least `n` elements.
        unsafe { poll_oneoff(subs.as_ptr(), ev.as_mut_ptr(), n) }.map(|_| ())
    };
    println!(
        "poll_oneoff fd_read on the stdin pipe: {:?}",
        wait(true).map_err(|e| e.name())
    );
    let mut buf = vec![0u8; 65536];
    let (mut total, mut again, mut failed) = (0usize, 0u32, None);
    loop {
        let iov = [Iovec {
            buf: buf.as_mut_ptr(),
            buf_len: buf.len(),
        }];
        // SAFETY: `iov` describes the live buffer `buf`.
        match unsafe { fd_read(0, &iov) } {
            Ok(0) => break,
            Ok(n) => total += n,
            Err(ERRNO_AGAIN) => {
                again += 1;
                let _ = wait(false);
            }
            Err(e) => {
                failed = Some(e.name());
                break;
            }
        }
    }
    println!(
        "fd_read of the stdin pipe: {total} bytes, EAGAIN seen: {}, other error: {failed:?}",
        again > 0
    );
}
