//! `wasi:cli/environment`: the host's environment (p1 `environ_get`, via
//! std), the guest argv the CLI put in [`crate::WasiCtx::args`], and no
//! initial cwd (p1 has none).
//!
//! Invariant: non-UTF-8 variables are converted lossily (p2 strings must be
//! UTF-8); nothing is dropped.

use crate::vals::none;
use crate::{def, iface, WasiView};
use canonical_abi::Val;
use component_model::Linker;

pub fn add<T: WasiView>(l: &mut Linker<T>) {
    let i = iface("cli/environment");
    def(l, &i, "get-environment", |_, _| {
        let vars = std::env::vars_os()
            .map(|(k, v)| {
                Val::Tuple(vec![
                    Val::string(k.to_string_lossy()),
                    Val::string(v.to_string_lossy()),
                ])
            })
            .collect();
        Ok(vec![Val::List(vars)])
    });
    def(l, &i, "get-arguments", |cx, _| {
        Ok(vec![Val::List(cx.args.iter().map(Val::string).collect())])
    });
    def(l, &i, "initial-cwd", |_, _| Ok(vec![none()]));
}
