//! Closing a host preopen by name (`--hide-preopen DIR`), so a wrapper can
//! give the shim a folder to read FILE from without the guest seeing it.
//!
//! Invariants:
//! * Preopens are the host fds from 3 up to the first one `fd_prestat_get`
//!   rejects; every fd whose directory name equals DIR is closed.
//! * Naming a folder that is not preopened is an error (the wrapper asked
//!   for something that did not happen).
//! * Closing happens after FILE is read and before the guest starts; both
//!   the p1 pass-through and the p2 shims ask the host directly, so the guest
//!   sees the remaining preopens only.

use anyhow::{bail, Result};

pub fn close(dir: &[u8]) -> Result<()> {
    let mut closed = false;
    for fd in 3u32.. {
        // SAFETY: scalars only.
        let Ok(stat) = (unsafe { wasi::fd_prestat_get(fd) }) else {
            break;
        };
        if stat.tag != wasi::PREOPENTYPE_DIR.raw() {
            continue;
        }
        // SAFETY: `dir` is the only variant and the tag says it is set.
        let len = unsafe { stat.u.dir.pr_name_len };
        let mut name = vec![0u8; len];
        // SAFETY: `name` is live with exactly `len` bytes.
        if unsafe { wasi::fd_prestat_dir_name(fd, name.as_mut_ptr(), len) }.is_err() {
            continue;
        }
        if name == dir {
            // SAFETY: scalars only.
            if let Err(e) = unsafe { wasi::fd_close(fd) } {
                bail!(
                    "--hide-preopen: cannot close preopen `{}`: {e}",
                    String::from_utf8_lossy(dir)
                );
            }
            closed = true;
        }
    }
    if !closed {
        bail!(
            "--hide-preopen: no preopened directory named `{}`",
            String::from_utf8_lossy(dir)
        );
    }
    Ok(())
}
