//! `wasi:io/error`: the `error` resource carried by `stream-error`.
//!
//! Invariant: the debug string names the p1 errno it came from, if any.

use crate::bindings::io_error::{Error, Host};
use crate::glue::{Borrow, Own};
use crate::table::{Entry, IoError};
use crate::{HostError, WasiCtx};

impl Host for WasiCtx {
    fn error_to_debug_string(&mut self, e: Borrow<Error>) -> Result<String, HostError> {
        Ok(self.table.error(e.rep())?.message.clone())
    }
    fn drop_error(&mut self, e: Own<Error>) -> Result<(), HostError> {
        self.drop_entry(e.rep())
    }
}

/// A new `error` resource for p1 errno `errno`.
pub fn push_errno(cx: &mut WasiCtx, errno: u16) -> Result<u32, HostError> {
    cx.table.push(Entry::Error(IoError {
        errno: Some(errno),
        message: crate::errno::message(errno),
    }))
}
