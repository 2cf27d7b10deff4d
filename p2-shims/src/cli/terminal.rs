//! `wasi:cli/terminal-*`: a stdio fd is a terminal when p1 `fd_fdstat_get`
//! says it is a character device without seek/tell rights (what wasmtime's
//! p1 reports for a tty; `/dev/null` has those rights).

use crate::bindings::cli_terminal_input::{self, TerminalInput};
use crate::bindings::cli_terminal_output::{self, TerminalOutput};
use crate::bindings::{cli_terminal_stderr, cli_terminal_stdin, cli_terminal_stdout};
use crate::glue::Own;
use crate::table::Entry;
use crate::{p1, HostError, WasiCtx};

fn is_terminal(fd: u32) -> bool {
    match p1::fdstat(fd) {
        Ok(st) => {
            st.fs_filetype == wasi::FILETYPE_CHARACTER_DEVICE
                && st.fs_rights_base & (wasi::RIGHTS_FD_SEEK | wasi::RIGHTS_FD_TELL) == 0
        }
        Err(_) => false,
    }
}

/// A new terminal resource for stdio `fd`, if it is a terminal.
fn terminal<R>(cx: &mut WasiCtx, fd: u32, e: Entry) -> Result<Option<Own<R>>, HostError> {
    if !is_terminal(fd) {
        return Ok(None);
    }
    Ok(Some(Own::new(cx.table.push(e)?)))
}

impl cli_terminal_stdin::Host for WasiCtx {
    fn get_terminal_stdin(&mut self) -> Result<Option<Own<TerminalInput>>, HostError> {
        terminal(self, 0, Entry::TerminalInput)
    }
}

impl cli_terminal_stdout::Host for WasiCtx {
    fn get_terminal_stdout(&mut self) -> Result<Option<Own<TerminalOutput>>, HostError> {
        terminal(self, 1, Entry::TerminalOutput)
    }
}

impl cli_terminal_stderr::Host for WasiCtx {
    fn get_terminal_stderr(&mut self) -> Result<Option<Own<TerminalOutput>>, HostError> {
        terminal(self, 2, Entry::TerminalOutput)
    }
}

impl cli_terminal_input::Host for WasiCtx {
    fn drop_terminal_input(&mut self, t: Own<TerminalInput>) -> Result<(), HostError> {
        self.drop_entry(t.rep())
    }
}

impl cli_terminal_output::Host for WasiCtx {
    fn drop_terminal_output(&mut self, t: Own<TerminalOutput>) -> Result<(), HostError> {
        self.drop_entry(t.rep())
    }
}
