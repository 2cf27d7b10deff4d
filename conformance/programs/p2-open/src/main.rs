//! What a descriptor can do after `open-at`, chosen by the first argument:
//! * `modes`: opened with neither `read` nor `write` (wasmtime opens the
//!   file for reading), with `create` or `truncate` and only `read`
//!   (wasmtime opens it for writing too), write-only: `get-flags`, reads and
//!   writes through `read`/`write` and through streams. On p1 hosts that
//!   enforce rights (node, wasmi) this depends on the rights the shim asks
//!   `path_open` for;
//! * `directories`: a directory read as a file: streams on a directory
//!   (`is-directory` to read, `bad-descriptor` to write), and Rust std
//!   reading a folder as a file (`./`, `.`, a subfolder: "Is a directory").
//! Compared with native wasmtime by `../run.sh`.

use std::io::Read;
use wasi::filesystem::types::{Descriptor, DescriptorFlags as F, OpenFlags as O, PathFlags as P};

fn open(d: &Descriptor, path: &str, o: O, f: F) -> Descriptor {
    d.open_at(P::empty(), path, o, f).unwrap()
}

fn report(name: &str, f: &Descriptor) {
    println!("{name}: flags {:?}", f.get_flags());
    println!("{name}: read {:?}", f.read(10, 0));
    let w = f.write(name.as_bytes(), 20);
    println!("{name}: write {w:?}");
    let rs = f.read_via_stream(0).map(|s| s.blocking_read(10));
    println!("{name}: read-via-stream {rs:?}");
    let ws = f
        .write_via_stream(30)
        .map(|s| (s.blocking_write_and_flush(b"s"), s.blocking_flush()));
    println!("{name}: write-via-stream {ws:?}");
    let st = f.stat().map(|s| s.size);
    println!("{name}: stat size {st:?}");
}

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    let dirs = wasi::filesystem::preopens::get_directories();
    let (d, _) = &dirs[0];
    println!("case {case}");
    match case.as_str() {
        "modes" => {
            let f = open(d, "a.txt", O::CREATE, F::READ | F::WRITE);
            f.write(b"hello", 0).unwrap();
            drop(f);
            report("none", &open(d, "a.txt", O::empty(), F::empty()));
            report("read", &open(d, "a.txt", O::empty(), F::READ));
            report("write", &open(d, "a.txt", O::empty(), F::WRITE));
            report("create+read", &open(d, "c.txt", O::CREATE, F::READ));
            report("create+none", &open(d, "e.txt", O::CREATE, F::empty()));
            report("truncate+read", &open(d, "a.txt", O::TRUNCATE, F::READ));
            let ro = open(d, "a.txt", O::empty(), F::READ);
            println!("read-only set-size {:?}", ro.set_size(1));
        }
        "directories" => {
            d.create_directory_at("sub").unwrap();
            for (name, o) in [
                ("sub", O::empty()),
                ("sub", O::DIRECTORY),
                (".", O::empty()),
            ] {
                let s = open(d, name, o, F::READ);
                println!(
                    "{name} {o:?}: type {:?} flags {:?}",
                    s.get_type(),
                    s.get_flags()
                );
                println!("  read-via-stream {:?}", s.read_via_stream(0).err());
                println!("  write-via-stream {:?}", s.write_via_stream(0).err());
                println!("  append-via-stream {:?}", s.append_via_stream().err());
                println!("  read {:?}", s.read(10, 0));
            }
            println!("preopen read-via-stream {:?}", d.read_via_stream(0).err());
            for path in ["sub", ".", "./", "sub/"] {
                let r = std::fs::read(path).map_err(|e| format!("{e} ({:?})", e.kind()));
                println!("std::fs::read({path:?}) {r:?}");
            }
            let mut f = std::fs::File::open("sub").unwrap();
            let mut buf = Vec::new();
            let r = f
                .read_to_end(&mut buf)
                .map_err(|e| format!("{e} ({:?})", e.kind()));
            println!("File::open(\"sub\").read_to_end {r:?}");
            let r = std::fs::read_to_string("sub").map_err(|e| e.to_string());
            println!("read_to_string(\"sub\") {r:?}");
        }
        _ => panic!("unknown case {case:?}"),
    }
}
