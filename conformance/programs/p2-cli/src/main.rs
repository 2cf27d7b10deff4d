//! A typical CLI program for comparing `wasmtime run` of a WASIp2 component
//! with `wasmtime run p2shim.wasm` of the same component (see
//! `../run.sh`): arguments, environment, stdio, files in the preopened
//! directory (write, append, read at offsets, truncate, directories,
//! rename, hard links, errors), clocks, random, and the exit code (the
//! first argument, if numeric).

use std::io::{Read, Seek, SeekFrom, Write};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    println!("args: {:?}", &args[1..]);
    let mut env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("P2T_"))
        .collect();
    env.sort();
    println!("env: {env:?}");
    eprintln!("a line on stderr");

    std::fs::write("out.txt", b"hello file\n").unwrap();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open("out.txt")
        .unwrap();
    f.write_all(b"appended\n").unwrap();
    drop(f);
    let mut s = String::new();
    std::fs::File::open("out.txt")
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    print!("read back: {s}");

    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("out.txt")
        .unwrap();
    f.seek(SeekFrom::Start(6)).unwrap();
    f.write_all(b"FILE").unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    let mut buf = [0u8; 10];
    f.read_exact(&mut buf).unwrap();
    println!("seek+write: {:?}", String::from_utf8_lossy(&buf));
    f.set_len(5).unwrap();
    println!("after set_len: {}", f.metadata().unwrap().len());
    drop(f);

    std::fs::create_dir_all("sub/dir").unwrap();
    std::fs::write("sub/dir/x", b"x").unwrap();
    std::fs::write("sub/dir/y", b"yy").unwrap();
    let mut names: Vec<(String, bool)> = std::fs::read_dir("sub")
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().into_string().unwrap(),
                e.file_type().unwrap().is_dir(),
            )
        })
        .collect();
    names.sort();
    println!("dir: {names:?}");
    std::fs::rename("sub/dir/x", "sub/z").unwrap();
    std::fs::hard_link("sub/z", "sub/z2").unwrap();
    println!(
        "nlink-ish: z2 len {}",
        std::fs::metadata("sub/z2").unwrap().len()
    );
    let m = std::fs::metadata("sub/z").unwrap();
    println!(
        "z: file={} dir={} len={} modified={}",
        m.is_file(),
        m.is_dir(),
        m.len(),
        m.modified().is_ok()
    );
    println!("missing: {:?}", std::fs::read("nope").unwrap_err().kind());
    println!(
        "rmdir non-empty: {:?}",
        std::fs::remove_dir("sub").unwrap_err().kind()
    );
    println!(
        "create existing: {:?}",
        std::fs::create_dir("sub").unwrap_err().kind()
    );
    for p in ["sub/z", "sub/z2", "sub/dir/y"] {
        std::fs::remove_file(p).unwrap();
    }
    std::fs::remove_dir("sub/dir").unwrap();
    std::fs::remove_dir("sub").unwrap();
    std::fs::remove_file("out.txt").unwrap();

    let t = std::time::Instant::now();
    std::thread::sleep(std::time::Duration::from_millis(20));
    println!("slept: {}", t.elapsed().as_millis() >= 20);
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    println!("wall clock after 2020: {}", since.as_secs() > 1_577_836_800);
    // HashMap keys come from wasi:random.
    let map: std::collections::HashMap<u8, u8> = (0..4).map(|i| (i, i)).collect();
    println!("random-keyed map: {}", map.len());

    let code: i32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(0);
    std::io::stdout().flush().unwrap();
    std::process::exit(code);
}
