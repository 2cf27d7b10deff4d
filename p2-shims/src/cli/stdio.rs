//! `wasi:cli/stdin|stdout|stderr`: streams over p1 fds 0, 1 and 2.
//!
//! Invariant: each call returns a new stream resource; dropping it never
//! closes the host fd.

use crate::bindings::io_streams::{InputStream as InputRes, OutputStream as OutputRes};
use crate::bindings::{cli_stderr, cli_stdin, cli_stdout};
use crate::glue::Own;
use crate::table::{Entry, InputStream, OutputKind, OutputStream};
use crate::{HostError, WasiCtx};

/// A new output stream over stdio `fd`.
fn output(cx: &mut WasiCtx, fd: u32) -> Result<Own<OutputRes>, HostError> {
    let rep = cx.table.push(Entry::Output(OutputStream {
        fd,
        kind: OutputKind::Stream,
        closed: false,
        owns_fd: false,
        failed: None,
    }))?;
    Ok(Own::new(rep))
}

impl cli_stdin::Host for WasiCtx {
    fn get_stdin(&mut self) -> Result<Own<InputRes>, HostError> {
        let rep = self.table.push(Entry::Input(InputStream {
            fd: 0,
            offset: None,
            closed: false,
            owns_fd: false,
        }))?;
        Ok(Own::new(rep))
    }
}

impl cli_stdout::Host for WasiCtx {
    fn get_stdout(&mut self) -> Result<Own<OutputRes>, HostError> {
        output(self, 1)
    }
}

impl cli_stderr::Host for WasiCtx {
    fn get_stderr(&mut self) -> Result<Own<OutputRes>, HostError> {
        output(self, 2)
    }
}
