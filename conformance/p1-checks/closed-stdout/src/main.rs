//! p1 `fd_write` to stdout after its reader is gone (`tool | head`, see
//! `stdout-pipe`): EPIPE on node and wasmi, EIO on wasmtime (its p1 layer
//! turns its p2 stream's `closed` into EIO), which p2shim reports as a
//! `closed` stream on every host (conformance/programs/p2-pipe). iwasm leaves
//! SIGPIPE at its default and is killed by it (exit 141, nothing printed);
//! started with SIGPIPE ignored (as wasip2-run starts every host) it gives EPIPE.

use wasi::*;

fn main() {
    for i in 0..10_000_000u32 {
        let line = format!("line {i}\n");
        let iov = [Ciovec {
            buf: line.as_ptr(),
            buf_len: line.len(),
        }];
        // SAFETY: `iov` describes the live string `line`.
        if let Err(e) = unsafe { fd_write(1, &iov) } {
            eprintln!("fd_write to stdout with its reader gone: {}", e.name());
            return;
        }
    }
    eprintln!("fd_write to stdout never failed");
}
