//! WASIp2 calls made directly through the `wasi` crate bindings, printing
//! every result, for comparing `wasmtime run` with `wasmtime run
//! p2shim.wasm` (see `../run.sh`). Ends with `exit-with-code(7)`.

use wasi::filesystem::types::{DescriptorFlags, OpenFlags, PathFlags};
use wasi::io::poll;
fn main() {
    let dirs = wasi::filesystem::preopens::get_directories();
    println!(
        "preopens: {:?}",
        dirs.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>()
    );
    let (d, _) = &dirs[0];
    println!(
        "dir type {:?} flags {:?}",
        d.get_type(),
        d.get_flags().map(|f| f.contains(DescriptorFlags::READ))
    );
    let f = d
        .open_at(
            PathFlags::empty(),
            "t.txt",
            OpenFlags::CREATE | OpenFlags::TRUNCATE,
            DescriptorFlags::READ | DescriptorFlags::WRITE,
        )
        .unwrap();
    println!("write {:?}", f.write(b"0123456789", 0));
    println!("write at 20 {:?}", f.write(b"xy", 20));
    println!("read {:?}", f.read(5, 3));
    println!("read eof {:?}", f.read(5, 100));
    let st = f.stat().unwrap();
    println!(
        "stat type {:?} size {} nlink {}",
        st.type_, st.size, st.link_count
    );
    println!(
        "stat-at {:?}",
        d.stat_at(PathFlags::SYMLINK_FOLLOW, "t.txt")
            .map(|s| s.size)
    );
    println!(
        "stat-at missing {:?}",
        d.stat_at(PathFlags::empty(), "missing").err()
    );
    let g = d
        .open_at(
            PathFlags::empty(),
            "t.txt",
            OpenFlags::empty(),
            DescriptorFlags::READ,
        )
        .unwrap();
    println!("same {} hash-eq {}", f.is_same_object(&g), {
        let (x, y) = (f.metadata_hash().unwrap(), g.metadata_hash().unwrap());
        (x.lower, x.upper) == (y.lower, y.upper)
    });
    println!("hash-at eq {}", {
        let (x, y) = (
            d.metadata_hash_at(PathFlags::empty(), "t.txt").unwrap(),
            g.metadata_hash().unwrap(),
        );
        (x.lower, x.upper) == (y.lower, y.upper)
    });
    println!("ro write {:?}", g.write(b"z", 0));
    println!(
        "set-size {:?} {:?}",
        f.set_size(4),
        f.stat().map(|s| s.size)
    );
    let s = f.write_via_stream(2).unwrap();
    println!("cw {:?}", s.check_write().map(|n| n > 0));
    s.blocking_write_and_flush(b"AB").unwrap();
    s.write_zeroes(2).unwrap();
    // wasmtime drops an unflushed file write when its stream is dropped.
    s.blocking_flush().unwrap();
    drop(s);
    let a = f.append_via_stream().unwrap();
    a.blocking_write_and_flush(b"END").unwrap();
    drop(a);
    let r = f.read_via_stream(0).unwrap();
    let mut all = vec![];
    loop {
        match r.blocking_read(3) {
            Ok(b) => all.extend(b),
            Err(e) => {
                println!("stream end: {:?}", e);
                break;
            }
        }
    }
    println!("content {:?}", all);
    println!(
        "skip {:?}",
        f.read_via_stream(1).unwrap().blocking_skip(100)
    );
    drop(r);
    println!("symlink {:?}", d.symlink_at("t.txt", "l"));
    println!("readlink {:?}", d.readlink_at("l"));
    println!(
        "stat link nofollow {:?}",
        d.stat_at(PathFlags::empty(), "l").map(|s| s.type_)
    );
    println!("unlink l {:?}", d.unlink_file_at("l"));
    println!(
        "mkdir {:?} again {:?}",
        d.create_directory_at("dd"),
        d.create_directory_at("dd")
    );
    println!(
        "open dir as file w {:?}",
        d.open_at(
            PathFlags::empty(),
            "dd",
            OpenFlags::empty(),
            DescriptorFlags::WRITE
        )
        .err()
    );
    println!(
        "open file as dir {:?}",
        d.open_at(
            PathFlags::empty(),
            "t.txt",
            OpenFlags::DIRECTORY,
            DescriptorFlags::READ
        )
        .err()
    );
    println!(
        "excl {:?}",
        d.open_at(
            PathFlags::empty(),
            "t.txt",
            OpenFlags::CREATE | OpenFlags::EXCLUSIVE,
            DescriptorFlags::WRITE
        )
        .err()
    );
    println!("rename {:?}", d.rename_at("t.txt", d, "dd/u.txt"));
    let dd = d
        .open_at(
            PathFlags::empty(),
            "dd",
            OpenFlags::DIRECTORY,
            DescriptorFlags::READ,
        )
        .unwrap();
    let ents = dd.read_directory().unwrap();
    while let Some(e) = ents.read_directory_entry().unwrap() {
        println!("entry {:?} {:?}", e.name, e.type_);
    }
    println!("rmdir non-empty {:?}", d.remove_directory_at("dd"));
    println!(
        "unlink {:?} rmdir {:?}",
        d.unlink_file_at("dd/u.txt"),
        d.remove_directory_at("dd")
    );
    println!(
        "escape {:?}",
        d.open_at(
            PathFlags::empty(),
            "../x",
            OpenFlags::empty(),
            DescriptorFlags::READ
        )
        .err()
    );
    // clocks + poll: p1 must still be pending when the 1 ms timer fires and poll returns,
    // so its 300 ms leave room for a loaded machine (50 ms were seen to pass under load 17).
    let p1 = wasi::clocks::monotonic_clock::subscribe_duration(300_000_000);
    let p2 = wasi::clocks::monotonic_clock::subscribe_duration(1_000_000);
    println!("poll {:?}", poll::poll(&[&p1, &p2]));
    println!("ready {} {}", p1.ready(), p2.ready());
    p1.block();
    println!("ready after block {}", p1.ready());
    let stdin = wasi::cli::stdin::get_stdin();
    let sp = stdin.subscribe();
    let tp = wasi::clocks::monotonic_clock::subscribe_duration(2_000_000_000);
    println!("stdin poll {:?}", poll::poll(&[&sp, &tp]));
    println!(
        "stdin read {:?}",
        stdin.blocking_read(4).map(|b| String::from_utf8(b))
    );
    println!(
        "random {} {}",
        wasi::random::random::get_random_bytes(16).len(),
        wasi::random::insecure::get_insecure_random_bytes(3).len()
    );
    println!(
        "terminal {}",
        wasi::cli::terminal_stdout::get_terminal_stdout().is_some()
    );
    println!("cwd {:?}", wasi::cli::environment::initial_cwd());
    let res = wasi::clocks::monotonic_clock::resolution();
    println!("res>0 {}", res > 0);
    let net = wasi::sockets::instance_network::instance_network();
    println!(
        "lookup {:?}",
        wasi::sockets::ip_name_lookup::resolve_addresses(&net, "example.com").err()
    );
    let out = wasi::cli::stdout::get_stdout();
    out.blocking_write_and_flush(b"via stream\n").unwrap();
    wasi::cli::exit::exit_with_code(7);
}
