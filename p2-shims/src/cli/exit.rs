//! `wasi:cli/exit`: `exit(ok)` is `proc_exit(0)`, `exit(err)` is
//! `proc_exit(1)`, `exit-with-code(n)` is `proc_exit(n)`.
//!
//! Invariant: streams write through immediately, so nothing is lost by
//! exiting from inside the call.

use crate::{def, iface, p1, HostError, WasiView};
use canonical_abi::Val;
use component_model::Linker;

pub fn add<T: WasiView>(l: &mut Linker<T>) {
    let i = iface("cli/exit");
    def(l, &i, "exit", |_, a| match a.raw(0)? {
        Val::Result(Ok(_)) => p1::exit(0),
        Val::Result(Err(_)) => p1::exit(1),
        _ => Err(HostError::BadArgument {
            index: 0,
            expected: "result",
        }),
    });
    def(l, &i, "exit-with-code", |_, a| {
        p1::exit(u32::from(a.u8(0)?))
    });
}
