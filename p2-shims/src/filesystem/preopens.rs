//! `wasi:filesystem/preopens`: the host's p1 preopens (fds from 3 up, gaps
//! left by closed ones stepped over: [`host_preopens`]), with their names.
//!
//! Invariant: the list is read once; each call hands out new descriptor
//! resources that do not own the fd (dropping one never closes a preopen).

use crate::bindings::filesystem_preopens::Host;
use crate::bindings::filesystem_types::Descriptor as DescriptorRes;
use crate::glue::Own;
use crate::table::{Descriptor, Entry};
use crate::{p1, HostError, WasiCtx};

/// How many fds in a row that are not preopens end the scan of [`host_preopens`].
const PREOPEN_GAP: u32 = 64;

/// The host's preopened directories, `(fd, name as the host gives it)`, by fd.
///
/// p1 has no call that says where the preopens end: `fd_prestat_get` answers
/// `BADF` alike for a closed fd and for one past the last (checked on
/// wasmtime, wasmi, node and iwasm). Hosts number their preopens from 3
/// without gaps, but one closed in the middle (p2shim's `--hide-preopen`)
/// leaves a gap, and a host may give a later open file that fd. So the scan
/// steps over fds that are not preopens and stops only after
/// [`PREOPEN_GAP`] of them in a row.
pub fn host_preopens() -> Vec<(u32, Vec<u8>)> {
    let mut out = Vec::new();
    let mut misses = 0;
    let mut fd: u32 = 3;
    while misses < PREOPEN_GAP {
        match p1::prestat_name(fd) {
            Ok(name) => {
                out.push((fd, name));
                misses = 0;
            }
            Err(_) => misses += 1,
        }
        fd = match fd.checked_add(1) {
            Some(next) => next,
            None => break,
        };
    }
    out
}

pub(crate) fn preopens(cx: &mut WasiCtx) -> Vec<(u32, String)> {
    cx.preopens
        .get_or_insert_with(|| {
            host_preopens()
                .into_iter()
                .map(|(fd, name)| {
                    // p1 hosts may include a trailing NUL.
                    let name = name.strip_suffix(b"\0").unwrap_or(&name);
                    (fd, String::from_utf8_lossy(name).into_owned())
                })
                .collect()
        })
        .clone()
}

impl Host for WasiCtx {
    fn get_directories(&mut self) -> Result<Vec<(Own<DescriptorRes>, String)>, HostError> {
        let mut list = Vec::new();
        for (fd, name) in preopens(self) {
            let rep = self.table.push(Entry::Descriptor(Descriptor {
                fd,
                owned: false,
                fdflags: None,
            }))?;
            list.push((Own::new(rep), name));
        }
        Ok(list)
    }
}
