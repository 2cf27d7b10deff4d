//! Guest programs that push the runtime's limits (conformance/limits/run.sh):
//! each case must end with a clear one-line error and a non-zero exit, on
//! native wasmtime and through the shim alike, never a panic of the runtime.
//!
//! `p2-limits handles [N]`: takes N (default 30,000,000) `stdout` handles
//! and keeps them all (wasmtime stops at its handle limit, 100,000).
//! `p2-limits random N`: asks `get-random-bytes` for N bytes (wasmtime traps
//! above its `max-random-size`, 64 MiB).
//! `p2-limits grab [N]`: grows its memory until `memory.grow` fails, then
//! takes N (default 10,000) more handles and writes 4 MB to stdout: the
//! runtime's own allocations after the guest took everything it could (the
//! guest itself allocates nothing after the grab).

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_default();
    let n = |a: Option<String>, default: u64| a.map_or(default, |s| s.parse().expect("a number"));
    match what.as_str() {
        "handles" => {
            let n = n(args.next(), 30_000_000);
            for i in 0..n {
                std::mem::forget(wasi::cli::stdout::get_stdout());
                if i % 1_000_000 == 0 {
                    eprintln!("{i} handles");
                }
            }
        }
        "random" => {
            let v = wasi::random::random::get_random_bytes(n(args.next(), 1));
            println!("{} random bytes", v.len());
        }
        "grab" => {
            let mut pages = 0usize;
            for step in [1024, 1] {
                while core::arch::wasm32::memory_grow(0, step) != usize::MAX {
                    pages += step;
                }
            }
            // Nothing below allocates in the guest: its memory is full.
            eprintln!("grew by {pages} pages");
            let stdout = wasi::cli::stdout::get_stdout();
            for _ in 0..n(args.next(), 10_000) {
                std::mem::forget(wasi::cli::stdout::get_stdout());
                let _ = wasi::random::random::get_random_u64();
            }
            let line = [b'x'; 4096];
            for _ in 0..1000 {
                stdout.blocking_write_and_flush(&line).expect("write");
            }
            stdout.blocking_write_and_flush(b"\ndone\n").expect("write");
            return;
        }
        _ => {
            eprintln!("usage: p2-limits handles [N] | random N | grab [N]");
            std::process::exit(2);
        }
    }
    println!("done");
}
