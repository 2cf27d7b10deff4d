//! `tool | head`: stdout is piped into `head -n 3` (see `stdout-pipe`),
//! which exits after three lines; the program writes lines until a write
//! fails, chosen by the first argument: through the raw stream
//! (`blocking-write-and-flush`, which must say `closed` once the reader is
//! gone), through Rust std's `Write` (a tool that ends quietly with status 0
//! on a broken pipe and with 1 on any other error), and with `println!`
//! (which panics on a broken pipe). Compared with native wasmtime by
//! `../run.sh`: head's output, the program's stderr and exit status.

use std::io::Write;
use wasi::io::streams::StreamError;

const LINES: u32 = 10_000_000;

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    match case.as_str() {
        "raw" => {
            let out = wasi::cli::stdout::get_stdout();
            for i in 0..LINES {
                match out.blocking_write_and_flush(format!("line {i}\n").as_bytes()) {
                    Ok(()) => {}
                    Err(StreamError::Closed) => {
                        eprintln!("stdout: closed");
                        return;
                    }
                    Err(StreamError::LastOperationFailed(e)) => {
                        eprintln!("stdout: failed: {}", e.to_debug_string());
                        std::process::exit(1);
                    }
                }
            }
            eprintln!("stdout: never closed");
        }
        "std" => {
            let mut out = std::io::stdout().lock();
            for i in 0..LINES {
                if let Err(e) = writeln!(out, "line {i}") {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        std::process::exit(0);
                    }
                    eprintln!("error: {e}");
                    std::process::exit(1);
                }
            }
            eprintln!("stdout: never closed");
        }
        "println" => {
            for i in 0..LINES {
                println!("line {i}");
            }
            eprintln!("stdout: never closed");
        }
        _ => panic!("unknown case {case:?}"),
    }
}
