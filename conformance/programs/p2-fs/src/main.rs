//! The `wasi:filesystem/types` descriptor API in depth, called through the
//! `wasi` crate bindings: files, directories, symlinks, hard links,
//! renames, timestamps (set-times, set-times-at, stat, stat-at), reads and
//! writes at offsets, streams, flags, types, advice and syncs, and the
//! error path of every function (no-entry, exist, not-directory,
//! is-directory, not-empty, bad-descriptor, loop, escaping the preopen by
//! `..`, absolute paths and symlinks). Prints only deterministic facts:
//! timestamps and hashes as relations, never raw. Compared by `../run.sh`.

use wasi::filesystem::types::{
    Advice, Datetime, Descriptor, DescriptorFlags as F, ErrorCode, NewTimestamp, OpenFlags as O,
    PathFlags as P,
};

fn open(d: &Descriptor, path: &str, o: O, f: F) -> Result<Descriptor, ErrorCode> {
    d.open_at(P::empty(), path, o, f)
}

fn names(d: &Descriptor) -> Vec<(String, String)> {
    let s = d.read_directory().unwrap();
    let mut v = vec![];
    while let Some(e) = s.read_directory_entry().unwrap() {
        v.push((e.name, format!("{:?}", e.type_)));
    }
    v.sort();
    v
}

fn dt(s: u64, n: u32) -> Datetime {
    Datetime {
        seconds: s,
        nanoseconds: n,
    }
}

fn eqdt(a: Option<Datetime>, b: Datetime) -> bool {
    a.is_some_and(|a| a.seconds == b.seconds && a.nanoseconds == b.nanoseconds)
}

fn rw(_d: &Descriptor, f: &Descriptor, ro: &Descriptor, wo: &Descriptor) {
    // Reads and writes at offsets, holes, eof.
    println!("write mid {:?}", f.write(b"W", 6));
    println!("write hole {:?}", f.write(b"!", 15));
    println!("read all {:?}", f.read(100, 0));
    println!("read mid {:?}", f.read(3, 4));
    println!("read at end {:?}", f.read(10, 16));
    println!("read past end {:?}", f.read(10, 1000));
    println!("read zero {:?}", f.read(0, 0));
    println!("write empty {:?}", f.write(b"", 3));
    println!("ro write {:?}", ro.write(b"x", 0));
    println!("wo read {:?}", wo.read(1, 0));
    println!("ro set-size {:?}", ro.set_size(1));
    println!("wo write {:?}", wo.write(b"H", 0));
    println!("ro read {:?}", ro.read(5, 0));

    // Sizes.
    println!(
        "set-size grow {:?} {:?}",
        f.set_size(20),
        f.stat().map(|s| s.size)
    );
    println!("read grown {:?}", f.read(100, 14));
    println!(
        "set-size shrink {:?} {:?}",
        f.set_size(5),
        f.stat().map(|s| s.size)
    );
    println!(
        "advise {:?} {:?}",
        f.advise(0, 5, Advice::Sequential),
        f.advise(0, 0, Advice::DontNeed)
    );
    println!("sync {:?} sync-data {:?}", f.sync(), f.sync_data());

    // Streams at offsets.
    let w = f.write_via_stream(3).unwrap();
    w.blocking_write_and_flush(b"LO, streams").unwrap();
    w.blocking_write_zeroes_and_flush(2).unwrap();
    drop(w);
    let r = f.read_via_stream(9).unwrap();
    println!("stream read {:?}", r.blocking_read(4));
    println!("stream skip {:?}", r.blocking_skip(3));
    println!("stream rest {:?}", r.blocking_read(100));
    println!(
        "stream eof {:?}",
        r.blocking_read(1)
            .map_err(|e| format!("{e:?}").starts_with("Closed"))
    );
    drop(r);
    let r = f.read_via_stream(1000).unwrap();
    println!(
        "stream past end {:?}",
        r.blocking_read(1)
            .map_err(|e| format!("{e:?}").starts_with("Closed"))
    );
    drop(r);
    let a = f.append_via_stream().unwrap();
    a.blocking_write_and_flush(b"+tail").unwrap();
    drop(a);
    println!(
        "after append {:?}",
        f.read(100, 0)
            .map(|(b, e)| (String::from_utf8_lossy(&b).into_owned(), e))
    );
    let r = ro.read_via_stream(0).unwrap();
    println!("ro stream {:?}", r.blocking_read(5).map(|b| b.len()));
    drop(r);
    let w = ro.write_via_stream(0).unwrap();
    match w.blocking_write_and_flush(b"x") {
        Ok(()) => println!("ro write stream ok"),
        Err(wasi::io::streams::StreamError::LastOperationFailed(e)) => {
            println!(
                "ro write stream failed, fs error {:?}",
                wasi::filesystem::types::filesystem_error_code(&e)
            )
        }
        Err(e) => println!("ro write stream {e:?}"),
    }
    drop(w);
}

fn times(d: &Descriptor, f: &Descriptor, ro: &Descriptor, wo: &Descriptor) {
    let _ = wo;
    // Timestamps.
    let t1 = dt(1_600_000_000, 123_456_789);
    let t2 = dt(1_500_000_000, 0);
    println!(
        "set-times {:?}",
        f.set_times(NewTimestamp::Timestamp(t1), NewTimestamp::Timestamp(t2))
    );
    let st = f.stat().unwrap();
    println!(
        "atime == set {} mtime == set {}",
        eqdt(st.data_access_timestamp, t1),
        eqdt(st.data_modification_timestamp, t2)
    );
    println!(
        "set-times no-change {:?}",
        f.set_times(NewTimestamp::NoChange, NewTimestamp::Timestamp(t1))
    );
    let st = f.stat().unwrap();
    println!(
        "atime kept {} mtime == set {}",
        eqdt(st.data_access_timestamp, t1),
        eqdt(st.data_modification_timestamp, t1)
    );
    let before = wasi::clocks::wall_clock::now();
    println!(
        "set-times now {:?}",
        f.set_times(NewTimestamp::Now, NewTimestamp::Now)
    );
    let st = f.stat().unwrap();
    let m = st.data_modification_timestamp.unwrap();
    println!(
        "mtime now >= before-1s {} <= before+60s {}",
        m.seconds + 1 >= before.seconds,
        m.seconds <= before.seconds + 60
    );
    println!(
        "set-times-at {:?}",
        d.set_times_at(
            P::empty(),
            "a.txt",
            NewTimestamp::Timestamp(t2),
            NewTimestamp::Timestamp(t2)
        )
    );
    let st = d.stat_at(P::empty(), "a.txt").unwrap();
    println!(
        "stat-at atime == set {} mtime == set {}",
        eqdt(st.data_access_timestamp, t2),
        eqdt(st.data_modification_timestamp, t2)
    );
    println!(
        "stat == stat-at mtime {}",
        eqdt(
            f.stat().unwrap().data_modification_timestamp,
            st.data_modification_timestamp.unwrap()
        )
    );
    println!(
        "set-times-at missing {:?}",
        d.set_times_at(P::empty(), "missing", NewTimestamp::Now, NewTimestamp::Now)
    );
    println!(
        "set-times ro {:?}",
        ro.set_times(NewTimestamp::Timestamp(t1), NewTimestamp::NoChange)
            .is_ok()
    );
}

fn dirs(d: &Descriptor, f: &Descriptor, ro: &Descriptor, wo: &Descriptor) {
    let _ = (ro, wo);
    // Directories.
    println!("mkdir {:?}", d.create_directory_at("d"));
    println!("mkdir again {:?}", d.create_directory_at("d"));
    println!("mkdir nested missing {:?}", d.create_directory_at("nope/x"));
    println!("mkdir under file {:?}", d.create_directory_at("a.txt/x"));
    println!(
        "mkdir d/e {:?} d/e/f {:?}",
        d.create_directory_at("d/e"),
        d.create_directory_at("d/e/f")
    );
    let dd = open(d, "d", O::DIRECTORY, F::READ | F::MUTATE_DIRECTORY).unwrap();
    println!(
        "dir type {:?} mutate {:?}",
        dd.get_type(),
        dd.get_flags().map(|f| f.contains(F::MUTATE_DIRECTORY))
    );
    println!(
        "file in d {:?}",
        open(&dd, "g.txt", O::CREATE, F::WRITE).map(|g| g.write(b"g", 0))
    );
    println!("symlink in d {:?}", dd.symlink_at("g.txt", "g.lnk"));
    println!("d entries {:?}", names(&dd));
    println!("stat dir {:?}", dd.stat().map(|s| s.type_));
    println!(
        "stat-at dir {:?}",
        d.stat_at(P::empty(), "d/e").map(|s| s.type_)
    );
    println!("read-directory on file {:?}", f.read_directory().err());
    println!("read on dir {:?}", dd.read(1, 0).err());
    println!("write on dir {:?}", dd.write(b"x", 0).err());
    println!("set-size on dir {:?}", dd.set_size(0).err());
    println!(
        "open dir for write {:?}",
        open(d, "d", O::empty(), F::WRITE).err()
    );
    println!(
        "open file as dir {:?}",
        open(d, "a.txt", O::DIRECTORY, F::READ).err()
    );
    println!(
        "open-at through file {:?}",
        open(d, "a.txt/x", O::empty(), F::READ).err()
    );
    println!(
        "open-at on file base {:?}",
        open(&f, "x", O::empty(), F::READ).err()
    );
    println!(
        "open missing {:?}",
        open(d, "missing", O::empty(), F::READ).err()
    );
    println!(
        "open missing dir {:?}",
        open(d, "missing/x", O::CREATE, F::WRITE).err()
    );
    println!(
        "open excl existing {:?}",
        open(d, "a.txt", O::CREATE | O::EXCLUSIVE, F::WRITE).err()
    );
    println!(
        "open excl dir {:?}",
        open(d, "d", O::CREATE | O::EXCLUSIVE, F::READ).err()
    );
    println!(
        "open trunc ro {:?}",
        open(d, "a.txt", O::TRUNCATE, F::READ).err()
    );
    println!(
        "open dot {:?}",
        open(d, ".", O::DIRECTORY, F::READ).map(|x| names(&x).len())
    );
    println!(
        "open d/.. {:?}",
        open(d, "d/..", O::DIRECTORY, F::READ).map(|x| x.is_same_object(d))
    );
    println!("rmdir non-empty {:?}", d.remove_directory_at("d"));
    println!("rmdir file {:?}", d.remove_directory_at("a.txt"));
    println!("rmdir missing {:?}", d.remove_directory_at("missing"));
    println!("rmdir dot {:?}", d.remove_directory_at("."));
    println!("unlink dir {:?}", d.unlink_file_at("d"));
    println!("unlink missing {:?}", d.unlink_file_at("missing"));
    println!("unlink through file {:?}", d.unlink_file_at("a.txt/x"));
}

fn escape(d: &Descriptor) {
    // Escaping the preopen.
    println!("open .. {:?}", open(d, "..", O::DIRECTORY, F::READ).err());
    println!("open ../x {:?}", open(d, "../x", O::empty(), F::READ).err());
    println!(
        "open d/../../x {:?}",
        open(d, "d/../../x", O::empty(), F::READ).err()
    );
    println!(
        "open absolute {:?}",
        open(d, "/etc/passwd", O::empty(), F::READ).err()
    );
    println!("stat-at .. {:?}", d.stat_at(P::empty(), "..").err());
    println!("mkdir ../x {:?}", d.create_directory_at("../x"));
    println!(
        "symlink absolute {:?}",
        d.symlink_at("/etc/passwd", "abs.lnk")
    );
    println!("symlink escaping {:?}", d.symlink_at("../../x", "up.lnk"));
    println!(
        "follow absolute {:?}",
        d.open_at(P::SYMLINK_FOLLOW, "abs.lnk", O::empty(), F::READ)
            .err()
    );
    println!(
        "follow escaping {:?}",
        d.open_at(P::SYMLINK_FOLLOW, "up.lnk", O::empty(), F::READ)
            .err()
    );
    println!(
        "stat-at follow absolute {:?}",
        d.stat_at(P::SYMLINK_FOLLOW, "abs.lnk").err()
    );
    println!("readlink absolute {:?}", d.readlink_at("abs.lnk"));
    println!(
        "unlink abs {:?} up {:?}",
        d.unlink_file_at("abs.lnk"),
        d.unlink_file_at("up.lnk")
    );
}

fn symlinks(d: &Descriptor, f: &Descriptor, ro: &Descriptor, wo: &Descriptor) {
    let _ = (ro, wo);
    d.create_directory_at("d").unwrap();
    d.create_directory_at("d/e").unwrap();
    d.create_directory_at("d/e/f").unwrap();
    let dd = open(d, "d", O::DIRECTORY, F::READ | F::MUTATE_DIRECTORY).unwrap();
    open(&dd, "g.txt", O::CREATE, F::WRITE)
        .unwrap()
        .write(b"g", 0)
        .unwrap();
    dd.symlink_at("g.txt", "g.lnk").unwrap();
    // Symlinks.
    println!("symlink {:?}", d.symlink_at("a.txt", "l"));
    println!("symlink exists {:?}", d.symlink_at("a.txt", "l"));
    println!("symlink over file {:?}", d.symlink_at("x", "a.txt"));
    println!("symlink dangling {:?}", d.symlink_at("nowhere", "dang"));
    println!(
        "symlink loop {:?} {:?}",
        d.symlink_at("loop2", "loop1"),
        d.symlink_at("loop1", "loop2")
    );
    println!("readlink {:?}", d.readlink_at("l"));
    println!("readlink file {:?}", d.readlink_at("a.txt"));
    println!("readlink missing {:?}", d.readlink_at("missing"));
    println!(
        "stat-at l nofollow {:?}",
        d.stat_at(P::empty(), "l").map(|s| s.type_)
    );
    println!(
        "stat-at l follow {:?}",
        d.stat_at(P::SYMLINK_FOLLOW, "l").map(|s| (s.type_, s.size))
    );
    println!(
        "stat-at dangling follow {:?}",
        d.stat_at(P::SYMLINK_FOLLOW, "dang").err()
    );
    println!(
        "stat-at loop follow {:?}",
        d.stat_at(P::SYMLINK_FOLLOW, "loop1").err()
    );
    println!(
        "open loop follow {:?}",
        d.open_at(P::SYMLINK_FOLLOW, "loop1", O::empty(), F::READ)
            .err()
    );
    println!(
        "open l nofollow {:?}",
        d.open_at(P::empty(), "l", O::empty(), F::READ).err()
    );
    println!(
        "open l follow {:?}",
        d.open_at(P::SYMLINK_FOLLOW, "l", O::empty(), F::READ)
            .map(|x| x.is_same_object(&f))
    );
    println!(
        "open d/g.lnk follow {:?}",
        d.open_at(P::SYMLINK_FOLLOW, "d/g.lnk", O::empty(), F::READ)
            .map(|x| x.read(10, 0))
    );
    println!(
        "hash l follow == a {}",
        d.metadata_hash_at(P::SYMLINK_FOLLOW, "l")
            .map(|h| (h.lower, h.upper))
            .unwrap()
            == f.metadata_hash().map(|h| (h.lower, h.upper)).unwrap()
    );
    println!(
        "hash l nofollow == a {}",
        d.metadata_hash_at(P::empty(), "l")
            .map(|h| (h.lower, h.upper))
            .unwrap()
            == f.metadata_hash().map(|h| (h.lower, h.upper)).unwrap()
    );
    println!(
        "hash-at missing {:?}",
        d.metadata_hash_at(P::empty(), "missing").err()
    );
    let t3 = dt(1_400_000_000, 5);
    println!(
        "set-times-at follow {:?}",
        d.set_times_at(
            P::SYMLINK_FOLLOW,
            "l",
            NewTimestamp::NoChange,
            NewTimestamp::Timestamp(t3)
        )
    );
    println!(
        "target mtime == set {}",
        eqdt(f.stat().unwrap().data_modification_timestamp, t3)
    );
    println!("rmdir symlink {:?}", d.remove_directory_at("l"));
    println!(
        "unlink dangling {:?} loops {:?} {:?}",
        d.unlink_file_at("dang"),
        d.unlink_file_at("loop1"),
        d.unlink_file_at("loop2")
    );
}

fn links(d: &Descriptor, f: &Descriptor, ro: &Descriptor, wo: &Descriptor) {
    let _ = (ro, wo);
    d.create_directory_at("d").unwrap();
    d.create_directory_at("d/e").unwrap();
    d.create_directory_at("d/e/f").unwrap();
    let dd = open(d, "d", O::DIRECTORY, F::READ | F::MUTATE_DIRECTORY).unwrap();
    open(&dd, "g.txt", O::CREATE, F::WRITE)
        .unwrap()
        .write(b"g", 0)
        .unwrap();
    dd.symlink_at("g.txt", "g.lnk").unwrap();
    // Hard links.
    println!("link {:?}", d.link_at(P::empty(), "a.txt", d, "hard.txt"));
    println!("nlink {:?}", f.stat().map(|s| s.link_count));
    println!(
        "link exists {:?}",
        d.link_at(P::empty(), "a.txt", d, "hard.txt")
    );
    println!(
        "link missing {:?}",
        d.link_at(P::empty(), "missing", d, "x")
    );
    println!("link dir {:?}", d.link_at(P::empty(), "d", d, "dlink"));
    println!(
        "link into d {:?}",
        d.link_at(P::empty(), "a.txt", &dd, "h2")
    );
    println!(
        "same hard {}",
        open(d, "hard.txt", O::empty(), F::READ)
            .unwrap()
            .is_same_object(&f)
    );
    println!("same other {}", dd.is_same_object(&f));
    println!(
        "hash eq {} ne {}",
        d.metadata_hash_at(P::empty(), "hard.txt")
            .map(|h| (h.lower, h.upper))
            .unwrap()
            == f.metadata_hash().map(|h| (h.lower, h.upper)).unwrap(),
        dd.metadata_hash().map(|h| (h.lower, h.upper)).unwrap()
            == f.metadata_hash().map(|h| (h.lower, h.upper)).unwrap()
    );
    println!(
        "unlink hard {:?} nlink {:?}",
        d.unlink_file_at("hard.txt"),
        f.stat().map(|s| s.link_count)
    );

    // Renames.
    println!("rename {:?}", d.rename_at("a.txt", d, "b.txt"));
    println!("old gone {:?}", d.stat_at(P::empty(), "a.txt").err());
    println!(
        "fd follows {}",
        open(d, "b.txt", O::empty(), F::READ)
            .unwrap()
            .is_same_object(&f)
    );
    println!("rename missing {:?}", d.rename_at("missing", d, "x"));
    println!("rename over file {:?}", {
        open(d, "c.txt", O::CREATE, F::WRITE)
            .unwrap()
            .write(b"c", 0)
            .unwrap();
        d.rename_at("c.txt", d, "b2.txt")
            .and_then(|_| d.rename_at("b2.txt", d, "c.txt"))
    });
    println!(
        "rename file over file {:?} {:?}",
        d.rename_at("c.txt", &dd, "h2"),
        dd.stat_at(P::empty(), "h2").map(|s| s.size)
    );
    println!("rename file over dir {:?}", d.rename_at("b.txt", d, "d"));
    println!("rename dir over file {:?}", d.rename_at("d/e", d, "b.txt"));
    println!("mkdir empty {:?}", d.create_directory_at("empty"));
    println!(
        "rename dir over non-empty dir {:?}",
        d.rename_at("empty", d, "d")
    );
    println!(
        "rename dir over empty dir {:?}",
        d.create_directory_at("empty2")
            .and_then(|_| d.rename_at("empty2", d, "empty"))
    );
    println!(
        "rename dir into itself {:?}",
        d.rename_at("d", d, "d/e/inside")
    );
    println!("rename across descriptors {:?}", dd.rename_at("e", d, "e2"));
    println!("rename escaping {:?}", d.rename_at("b.txt", d, "../b.txt"));
    println!("rename through file {:?}", d.rename_at("b.txt/x", d, "y"));
    println!("d entries {:?}", names(&dd));
    println!(
        "root entries {:?}",
        names(d)
            .into_iter()
            .filter(|(n, _)| n != "app.wasm")
            .collect::<Vec<_>>()
    );
    println!(
        "rmdir e2/f {:?} e2 {:?} empty {:?}",
        d.remove_directory_at("e2/f"),
        d.remove_directory_at("e2"),
        d.remove_directory_at("empty")
    );
    println!("unlink d/g.lnk {:?}", d.unlink_file_at("d/g.lnk"));
}

fn entries(d: &Descriptor, f: &Descriptor) {
    // Directory-entry stream of an empty and a changed directory.
    d.create_directory_at("z").unwrap();
    let zd = open(d, "z", O::DIRECTORY, F::READ).unwrap();
    println!("empty dir entries {:?}", names(&zd));
    for i in 0..40 {
        open(&zd, &format!("f{i:02}"), O::CREATE, F::WRITE).unwrap();
    }
    let n = names(&zd);
    println!(
        "40 entries {} first {:?} last {:?}",
        n.len(),
        n.first(),
        n.last()
    );
    for i in 0..40 {
        zd.unlink_file_at(&format!("f{i:02}")).unwrap();
    }
    drop(zd);
    println!("rmdir z {:?}", d.remove_directory_at("z"));
    let _ = f;
    println!(
        "final {:?}",
        names(d)
            .into_iter()
            .filter(|(n, _)| n != "app.wasm")
            .collect::<Vec<_>>()
    );
}

fn main() {
    let section = std::env::args().nth(1).unwrap_or_default();
    let preopens = wasi::filesystem::preopens::get_directories();
    let (d, _) = &preopens[0];
    let rw_ = F::READ | F::WRITE;
    println!("section {section}");
    println!("preopen type {:?} flags {:?}", d.get_type(), d.get_flags());
    let f = open(d, "a.txt", O::CREATE | O::EXCLUSIVE, rw_).unwrap();
    println!("file type {:?} flags {:?}", f.get_type(), f.get_flags());
    println!("write {:?}", f.write(b"hello world", 0));
    let ro = open(d, "a.txt", O::empty(), F::READ).unwrap();
    println!("ro flags {:?}", ro.get_flags());
    let wo = open(d, "a.txt", O::empty(), F::WRITE).unwrap();
    println!("wo flags {:?}", wo.get_flags());
    match section.as_str() {
        "rw" => rw(d, &f, &ro, &wo),
        "times" => times(d, &f, &ro, &wo),
        "dirs" => dirs(d, &f, &ro, &wo),
        "escape" => escape(d),
        "symlinks" => symlinks(d, &f, &ro, &wo),
        "links" => links(d, &f, &ro, &wo),
        "entries" => entries(d, &f),
        _ => panic!("unknown section {section:?}"),
    }
}
