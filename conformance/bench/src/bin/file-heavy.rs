//! A file-heavy program (many small reads and writes): in a fresh folder
//! `file-heavy.tmp` of the working directory, writes N files in 64-byte writes,
//! reads each back in 100-byte reads, appends to and re-reads one log file,
//! lists and deletes them. `file-heavy [FILES]`; prints counts and a checksum.
use p2shim_bench::{fnv1a, size_arg, Rng, FNV_START};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};

fn main() {
    let files = size_arg(1000);
    let dir = "file-heavy.tmp";
    let _ = fs::remove_dir_all(dir);
    fs::create_dir(dir).expect("create the work folder");
    let mut rng = Rng::new(3);
    let mut h = FNV_START;
    let (mut writes, mut reads) = (0u64, 0u64);
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(format!("{dir}/log"))
        .expect("open log");
    for i in 0..files {
        let path = format!("{dir}/f{i:05}");
        let mut f = File::create(&path).expect("create");
        let len = 64 * (1 + rng.below(16)) as usize;
        let chunk: Vec<u8> = (0..64)
            .map(|j| b'a' + ((i as usize + j) % 26) as u8)
            .collect();
        let mut written = 0;
        while written < len {
            f.write_all(&chunk).expect("write");
            written += chunk.len();
            writes += 1;
        }
        drop(f);
        let mut f = File::open(&path).expect("open");
        let mut buf = [0u8; 100];
        loop {
            let n = f.read(&mut buf).expect("read");
            reads += 1;
            if n == 0 {
                break;
            }
            h = fnv1a(h, &buf[..n]);
        }
        writeln!(log, "{path} {len}").expect("append");
        writes += 1;
    }
    drop(log);
    // Reopened to read it back: after appends, a seek to 0 and a read of the same
    // descriptor give 0 bytes on wasm32-wasip2 natively (wasmtime 49), but the
    // text on wasm32-wasip1, so the two builds would print different checksums.
    let mut log = File::open(format!("{dir}/log")).expect("reopen log");
    log.seek(SeekFrom::Start(0)).expect("seek");
    let mut text = String::new();
    log.read_to_string(&mut text).expect("read log");
    let h_log = fnv1a(FNV_START, text.as_bytes());
    drop(log);
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| {
            e.expect("entry")
                .file_name()
                .into_string()
                .expect("utf-8 name")
        })
        .collect();
    names.sort();
    let mut h_names = FNV_START;
    for n in &names {
        h_names = fnv1a(h_names, n.as_bytes());
        fs::remove_file(format!("{dir}/{n}")).expect("remove");
    }
    fs::remove_dir(dir).expect("remove the work folder");
    println!("file-heavy: {files} files, {} entries", names.len());
    println!("{writes} writes, {reads} reads");
    println!("fnv of the contents {h:016x}, of the log ({} bytes) {h_log:016x}, of the names {h_names:016x}", text.len());
}
