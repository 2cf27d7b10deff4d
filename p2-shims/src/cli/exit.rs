//! `wasi:cli/exit`: `exit(ok)` is `proc_exit(0)`, `exit(err)` is
//! `proc_exit(1)`, `exit-with-code(n)` is `proc_exit(n)`.
//!
//! Invariant: streams write through immediately, so nothing is lost by
//! exiting from inside the call.

use crate::bindings::cli_exit::Host;
use crate::{p1, HostError, WasiCtx};

impl Host for WasiCtx {
    fn exit(&mut self, status: Result<(), ()>) -> Result<(), HostError> {
        p1::exit(if status.is_ok() { 0 } else { 1 })
    }
    fn exit_with_code(&mut self, status_code: u8) -> Result<(), HostError> {
        p1::exit(u32::from(status_code))
    }
}
