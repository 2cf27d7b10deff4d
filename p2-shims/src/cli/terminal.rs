//! `wasi:cli/terminal-*`: a stdio fd is a terminal when p1 `fd_fdstat_get`
//! says it is a character device without seek/tell rights (what wasmtime's
//! p1 reports for a tty; `/dev/null` has those rights).

use crate::table::Entry;
use crate::vals::{none, some};
use crate::{def, dtor, iface, p1, WasiCtx, WasiView};
use canonical_abi::Val;
use component_model::Linker;

fn is_terminal(fd: u32) -> bool {
    match p1::fdstat(fd) {
        Ok(st) => {
            st.fs_filetype == wasi::FILETYPE_CHARACTER_DEVICE
                && st.fs_rights_base & (wasi::RIGHTS_FD_SEEK | wasi::RIGHTS_FD_TELL) == 0
        }
        Err(_) => false,
    }
}

fn terminal(cx: &mut WasiCtx, fd: u32, e: Entry) -> crate::vals::Ret {
    if !is_terminal(fd) {
        return Ok(vec![none()]);
    }
    Ok(vec![some(Val::Resource(cx.table.push(e)?))])
}

pub fn add<T: WasiView>(l: &mut Linker<T>) {
    def(
        l,
        &iface("cli/terminal-stdin"),
        "get-terminal-stdin",
        |cx, _| terminal(cx, 0, Entry::TerminalInput),
    );
    def(
        l,
        &iface("cli/terminal-stdout"),
        "get-terminal-stdout",
        |cx, _| terminal(cx, 1, Entry::TerminalOutput),
    );
    def(
        l,
        &iface("cli/terminal-stderr"),
        "get-terminal-stderr",
        |cx, _| terminal(cx, 2, Entry::TerminalOutput),
    );
    dtor(l, &iface("cli/terminal-input"), "terminal-input");
    dtor(l, &iface("cli/terminal-output"), "terminal-output");
}
