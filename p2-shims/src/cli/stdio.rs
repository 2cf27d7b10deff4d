//! `wasi:cli/stdin|stdout|stderr`: streams over p1 fds 0, 1 and 2.
//!
//! Invariant: each call returns a new stream resource; dropping it never
//! closes the host fd.

use crate::table::{Entry, InputStream, OutputKind, OutputStream};
use crate::{def, iface, WasiView};
use canonical_abi::Val;
use component_model::Linker;

pub fn add<T: WasiView>(l: &mut Linker<T>) {
    def(l, &iface("cli/stdin"), "get-stdin", |cx, _| {
        let rep = cx.table.push(Entry::Input(InputStream {
            fd: 0,
            offset: None,
            closed: false,
            owns_fd: false,
        }))?;
        Ok(vec![Val::Resource(rep)])
    });
    def(l, &iface("cli/stdout"), "get-stdout", |cx, _| {
        let rep = cx.table.push(Entry::Output(OutputStream {
            fd: 1,
            kind: OutputKind::Stream,
            closed: false,
            owns_fd: false,
            failed: None,
        }))?;
        Ok(vec![Val::Resource(rep)])
    });
    def(l, &iface("cli/stderr"), "get-stderr", |cx, _| {
        let rep = cx.table.push(Entry::Output(OutputStream {
            fd: 2,
            kind: OutputKind::Stream,
            closed: false,
            owns_fd: false,
            failed: None,
        }))?;
        Ok(vec![Val::Resource(rep)])
    });
}
