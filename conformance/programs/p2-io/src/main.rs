//! Large and mixed I/O: all of stdin piped in (a unicode line and ~2.4 MB,
//! see `stdin.sh`) read through the raw `wasi:cli/stdin` stream; several MB
//! written and read back through Rust std files, descriptor `write`/`read` at
//! offsets, `write-via-stream`/`read-via-stream` with `check-write`, and
//! `splice`; stdout and stderr interleaved (run with `merge-stderr`, so
//! their order is compared), also several MB of stdout. Sizes and FNV hashes
//! are printed, not the data. Compared by `../run.sh`.

use std::io::{Read, Write};
use wasi::filesystem::types::{DescriptorFlags as F, OpenFlags as O, PathFlags as P};
use wasi::io::streams::StreamError;

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u64 * 2654435761 >> 13) as u8 ^ seed)
        .collect()
}

fn main() {
    // stdin, whole, through the raw stream.
    let stdin = wasi::cli::stdin::get_stdin();
    let mut input = vec![];
    loop {
        match stdin.blocking_read(1 << 16) {
            Ok(b) => input.extend(b),
            Err(StreamError::Closed) => break,
            Err(e) => panic!("stdin: {e:?}"),
        }
    }
    let text = String::from_utf8(input.clone()).unwrap();
    println!(
        "stdin {} bytes, {} lines, hash {:x}",
        input.len(),
        text.lines().count(),
        fnv(&input)
    );
    println!(
        "stdin first {:?} last {:?}",
        text.lines().next(),
        text.lines().last()
    );
    println!("stdin after eof {:?}", stdin.blocking_read(1).err());

    // Interleaved stdout and stderr, through std and the raw streams.
    let out = wasi::cli::stdout::get_stdout();
    let err = wasi::cli::stderr::get_stderr();
    for i in 0..20 {
        println!("out {i}");
        eprintln!("err {i}");
        out.blocking_write_and_flush(format!("raw out {i}\n").as_bytes())
            .unwrap();
        err.blocking_write_and_flush(format!("raw err {i}\n").as_bytes())
            .unwrap();
    }
    std::io::stdout().flush().unwrap();

    // Several MB through std files.
    let big = pattern(5 << 20, 7);
    std::fs::write("big.bin", &big).unwrap();
    let mut back = vec![];
    std::fs::File::open("big.bin")
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    println!("std 5 MiB file: len {} equal {}", back.len(), back == big);

    // Descriptor read and write at offsets, in one call each.
    let (d, _) = &wasi::filesystem::preopens::get_directories()[0];
    let f = d
        .open_at(P::empty(), "at.bin", O::CREATE, F::READ | F::WRITE)
        .unwrap();
    let chunk = pattern(3 << 20, 1);
    println!("write 3 MiB at 1 MiB {:?}", f.write(&chunk, 1 << 20));
    println!("size {:?}", f.stat().map(|s| s.size));
    // One read returns at most what the implementation's buffer holds:
    // print the first read's length, then read to the end.
    let mut got = vec![];
    let mut first = None;
    loop {
        let (b, eof) = f.read(8 << 20, got.len() as u64).unwrap();
        first.get_or_insert((b.len(), eof));
        got.extend(b);
        if eof {
            break;
        }
    }
    println!(
        "read at offsets: first {:?} total {} hole zero {} tail equal {}",
        first,
        got.len(),
        got[..1 << 20].iter().all(|b| *b == 0),
        got[1 << 20..] == chunk[..]
    );
    // Streams: write-via-stream as check-write allows, then read it back.
    let data = pattern(3 << 20, 2);
    let w = f.write_via_stream(0).unwrap();
    let mut at = 0;
    while at < data.len() {
        let n = w.check_write().unwrap() as usize;
        if n == 0 {
            w.subscribe().block();
            continue;
        }
        let n = n.min(data.len() - at);
        w.write(&data[at..at + n]).unwrap();
        at += n;
    }
    w.blocking_flush().unwrap();
    drop(w);
    let r = f.read_via_stream(0).unwrap();
    let mut back = vec![];
    let mut first = None;
    loop {
        match r.blocking_read(8 << 20) {
            Ok(b) => {
                first.get_or_insert(b.len());
                back.extend(b)
            }
            Err(StreamError::Closed) => break,
            Err(e) => panic!("read stream: {e:?}"),
        }
    }
    drop(r);
    println!(
        "stream 3 MiB: first read {first:?} read back {} head equal {}",
        back.len(),
        back[..data.len()] == data[..]
    );

    // splice a file into another file.
    let g = d
        .open_at(P::empty(), "spliced.bin", O::CREATE, F::WRITE)
        .unwrap();
    let r = f.read_via_stream(1 << 20).unwrap();
    let w = g.write_via_stream(0).unwrap();
    let mut total = 0;
    let mut first = None;
    loop {
        match w.blocking_splice(&r, 8 << 20) {
            Ok(n) => {
                first.get_or_insert(n);
                total += n
            }
            Err(StreamError::Closed) => break,
            Err(e) => panic!("splice: {e:?}"),
        }
    }
    w.blocking_flush().unwrap();
    drop((r, w));
    let spliced = std::fs::read("spliced.bin").unwrap();
    println!(
        "spliced {total} bytes, first {first:?}, file equal {}",
        spliced[..] == back[1 << 20..]
    );
    drop((f, g));
    std::fs::remove_file("at.bin").unwrap();

    // Several MB of stdout, with stderr lines in between.
    let line = "0123456789".repeat(10);
    let mut lock = std::io::stdout().lock();
    for i in 0..30000 {
        writeln!(lock, "{i:05} {line}").unwrap();
        if i % 5000 == 0 {
            lock.flush().unwrap();
            eprintln!("progress {i}");
        }
    }
    lock.flush().unwrap();
    eprintln!("done");
}
