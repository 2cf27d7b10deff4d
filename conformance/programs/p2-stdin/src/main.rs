//! All of a slowly piped stdin (about 4 MB in chunks with pauses, see
//! `stdin-pipe.sh`), chosen by the first argument: through `blocking-read`,
//! through `read` waiting on the stream's pollable when it returns nothing,
//! through Rust std's `read_to_end`, after a `blocking-skip`, and through
//! `blocking-splice` into a file. Sizes and FNV hashes are printed, not the
//! data. A host whose p1 `fd_read` says EAGAIN on an empty pipe (node) must
//! not cut the input short. Compared with native wasmtime by `../run.sh`.

use std::io::Read;
use wasi::filesystem::types::{DescriptorFlags as F, OpenFlags as O, PathFlags as P};
use wasi::io::streams::StreamError;

fn fnv(h: u64, data: &[u8]) -> u64 {
    data.iter()
        .fold(h, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3))
}

const FNV0: u64 = 0xcbf29ce484222325;

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    let stdin = wasi::cli::stdin::get_stdin();
    let (mut total, mut hash) = (0usize, FNV0);
    let mut eat = |b: &[u8]| {
        total += b.len();
        hash = fnv(hash, b);
    };
    match case.as_str() {
        "blocking" => loop {
            match stdin.blocking_read(1 << 16) {
                Ok(b) => {
                    assert!(!b.is_empty(), "blocking-read returned nothing");
                    eat(&b)
                }
                Err(StreamError::Closed) => break,
                Err(e) => panic!("blocking-read: {e:?}"),
            }
        },
        "nonblocking" => loop {
            match stdin.read(1 << 16) {
                Ok(b) if b.is_empty() => stdin.subscribe().block(),
                Ok(b) => eat(&b),
                Err(StreamError::Closed) => break,
                Err(e) => panic!("read: {e:?}"),
            }
        },
        "std" => {
            let mut all = Vec::new();
            std::io::stdin().read_to_end(&mut all).unwrap();
            eat(&all);
        }
        "skip" => {
            let mut skipped = 0;
            while skipped < 100_000 {
                skipped += stdin.blocking_skip(100_000 - skipped).unwrap();
            }
            println!("skipped {skipped}");
            loop {
                match stdin.blocking_read(4096) {
                    Ok(b) => eat(&b),
                    Err(StreamError::Closed) => break,
                    Err(e) => panic!("blocking-read: {e:?}"),
                }
            }
        }
        "splice" => {
            let dirs = wasi::filesystem::preopens::get_directories();
            let (d, _) = &dirs[0];
            let f = d
                .open_at(P::empty(), "in.bin", O::CREATE, F::READ | F::WRITE)
                .unwrap();
            let w = f.write_via_stream(0).unwrap();
            loop {
                match w.blocking_splice(&stdin, 1 << 20) {
                    Ok(0) => {}
                    Ok(_) => {}
                    Err(StreamError::Closed) => break,
                    Err(e) => panic!("blocking-splice: {e:?}"),
                }
            }
            w.blocking_flush().unwrap();
            drop(w);
            let mut off = 0;
            loop {
                let (b, end) = f.read(1 << 16, off).unwrap();
                off += b.len() as u64;
                eat(&b);
                if end {
                    break;
                }
            }
            d.unlink_file_at("in.bin").unwrap();
        }
        _ => panic!("unknown case {case:?}"),
    }
    println!("case {case}: {total} bytes, fnv {hash:016x}");
}
