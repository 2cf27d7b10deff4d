//! Closing a host preopen by name (`--hide-preopen DIR`), so a wrapper can
//! give the shim a folder to read FILE from without the guest seeing it.
//!
//! Invariants:
//! * Preopens are the host fds `p2_shims::preopens` finds (from 3 up,
//!   stepping over fds closed earlier, so a second `--hide-preopen` still
//!   sees the preopens after the first one's gap); every fd whose directory
//!   name equals DIR is closed.
//! * Naming a folder that is not preopened is an error (the wrapper asked
//!   for something that did not happen).
//! * Closing happens after FILE is read and before the guest starts; both
//!   the p1 pass-through and the p2 shims ask the host directly, so the guest
//!   sees the remaining preopens only.

use anyhow::{bail, Result};

pub fn close(dir: &[u8]) -> Result<()> {
    let mut closed = false;
    for (fd, name) in p2_shims::preopens() {
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
