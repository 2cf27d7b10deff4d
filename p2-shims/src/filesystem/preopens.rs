//! `wasi:filesystem/preopens`: the host's p1 preopens (fds 3, 4, ... while
//! `fd_prestat_get` succeeds), with their names.
//!
//! Invariant: the list is read once; each call hands out new descriptor
//! resources that do not own the fd (dropping one never closes a preopen).

use crate::table::{Descriptor, Entry};
use crate::{def, iface, p1, WasiCtx, WasiView};
use component_model::abi::Val;
use component_model::Linker;

fn preopens(cx: &mut WasiCtx) -> Vec<(u32, String)> {
    cx.preopens
        .get_or_insert_with(|| {
            let mut out = Vec::new();
            for fd in 3u32.. {
                match p1::prestat_name(fd) {
                    Ok(name) => {
                        // p1 hosts may include a trailing NUL.
                        let name = name.strip_suffix(b"\0").unwrap_or(&name);
                        out.push((fd, String::from_utf8_lossy(name).into_owned()));
                    }
                    Err(_) => break,
                }
            }
            out
        })
        .clone()
}

pub fn add<T: WasiView>(l: &mut Linker<T>) {
    def(
        l,
        &iface("filesystem/preopens"),
        "get-directories",
        |cx, _| {
            let mut list = Vec::new();
            for (fd, name) in preopens(cx) {
                let rep = cx.table.push(Entry::Descriptor(Descriptor {
                    fd,
                    owned: false,
                    fdflags: None,
                }))?;
                list.push(Val::Tuple(vec![Val::Resource(rep), Val::string(name)]));
            }
            Ok(vec![Val::List(list)])
        },
    );
}
