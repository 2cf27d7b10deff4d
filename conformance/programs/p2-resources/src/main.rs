//! Resource lifetimes as wasmtime's resource table keeps them, chosen by
//! the first argument:
//! * a pollable is a child of the stream it was subscribed from: dropping
//!   the stream first traps ("resource has children"), for stdout, stdin and
//!   a file stream; dropped in order, everything is fine (and a clock's
//!   pollable, a directory listing and a stream have no parent that could
//!   stop their descriptor from being dropped);
//! * a stream keeps its descriptor's open file: after the descriptor is
//!   dropped and another file opened, the old streams still read and write
//!   their own file, never the new one (which a reused p1 fd would reach).
//! Files are left for `../run.sh` to compare. Compared with native wasmtime.

use wasi::filesystem::types::{DescriptorFlags as F, OpenFlags as O, PathFlags as P};

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    let dirs = wasi::filesystem::preopens::get_directories();
    let (d, _) = &dirs[0];
    println!("case {case}");
    let rw = F::READ | F::WRITE;
    match case.as_str() {
        "children-first" => {
            let out = wasi::cli::stdout::get_stdout();
            let p = out.subscribe();
            let q = out.subscribe();
            p.block();
            drop((p, q));
            drop(out);
            let stdin = wasi::cli::stdin::get_stdin();
            drop(stdin.subscribe());
            drop(stdin);
            let f = d.open_at(P::empty(), "f.txt", O::CREATE, rw).unwrap();
            f.write(b"file", 0).unwrap();
            let r = f.read_via_stream(0).unwrap();
            let p = r.subscribe();
            // A stream does not hold its descriptor as a parent.
            drop(f);
            p.block();
            println!("read {:?}", r.blocking_read(100));
            drop(p);
            drop(r);
            let t = wasi::clocks::monotonic_clock::subscribe_duration(1_000);
            t.block();
            drop(t);
            d.create_directory_at("sub").unwrap();
            let s = d.open_at(P::empty(), "sub", O::DIRECTORY, F::READ).unwrap();
            let entries = s.read_directory().unwrap();
            drop(s);
            println!(
                "entry {:?}",
                entries.read_directory_entry().map(|e| e.map(|e| e.name))
            );
            println!("all dropped in order");
        }
        "stream-outlives-descriptor" => {
            let a = d.open_at(P::empty(), "a.txt", O::CREATE, rw).unwrap();
            a.write(b"AAAA", 0).unwrap();
            let r = a.read_via_stream(0).unwrap();
            let w = a.write_via_stream(4).unwrap();
            let ap = a.append_via_stream().unwrap();
            drop(a);
            println!("dropped a");
            let b = d.open_at(P::empty(), "b.txt", O::CREATE, rw).unwrap();
            b.write(b"BBBB", 0).unwrap();
            println!("read {:?}", r.blocking_read(100));
            println!("write {:?}", w.blocking_write_and_flush(b"aa"));
            println!("append {:?}", ap.blocking_write_and_flush(b"zz"));
            println!("b {:?}", b.read(100, 0));
            drop((r, w, ap));
            let a = d.open_at(P::empty(), "a.txt", O::empty(), F::READ).unwrap();
            println!("a {:?}", a.read(100, 0));
            // Many opens and drops: each stream still reaches its own file.
            let mut streams = Vec::new();
            for i in 0..20 {
                let f = d
                    .open_at(P::empty(), &format!("n{i}.txt"), O::CREATE, rw)
                    .unwrap();
                f.write(format!("file {i}").as_bytes(), 0).unwrap();
                streams.push(f.read_via_stream(0).unwrap());
            }
            for (i, s) in streams.iter().enumerate() {
                let got = String::from_utf8(s.blocking_read(100).unwrap()).unwrap();
                assert_eq!(got, format!("file {i}"));
            }
            println!("20 streams read their own files");
        }
        "drop-stdout-with-pollable" => {
            let out = wasi::cli::stdout::get_stdout();
            let p = out.subscribe();
            println!("dropping the stream");
            drop(out);
            println!("not reached");
            drop(p);
        }
        "drop-stdin-with-pollable" => {
            let stdin = wasi::cli::stdin::get_stdin();
            let p = stdin.subscribe();
            println!("dropping the stream");
            drop(stdin);
            println!("not reached");
            drop(p);
        }
        "drop-file-stream-with-pollable" => {
            let f = d.open_at(P::empty(), "f.txt", O::CREATE, rw).unwrap();
            let w = f.write_via_stream(0).unwrap();
            let p = w.subscribe();
            drop(f);
            println!("dropping the stream");
            drop(w);
            println!("not reached");
            drop(p);
        }
        _ => panic!("unknown case {case:?}"),
    }
}
