//! `wasi:io/error`: the `error` resource carried by `stream-error`.
//!
//! Invariant: the debug string names the p1 errno it came from, if any.

use crate::table::{Entry, IoError};
use crate::{def, dtor, iface, HostError, WasiCtx, WasiView};
use canonical_abi::Val;
use component_model::Linker;

pub fn add<T: WasiView>(l: &mut Linker<T>) {
    let i = iface("io/error");
    def(l, &i, "[method]error.to-debug-string", |cx, a| {
        let e = cx.table.error(a.res(0)?)?;
        Ok(vec![Val::string(e.message.clone())])
    });
    dtor(l, &i, "error");
}

/// A new `error` resource for p1 errno `errno`.
pub fn push_errno(cx: &mut WasiCtx, errno: u16) -> Result<u32, HostError> {
    cx.table.push(Entry::Error(IoError {
        errno: Some(errno),
        message: crate::errno::message(errno),
    }))
}
