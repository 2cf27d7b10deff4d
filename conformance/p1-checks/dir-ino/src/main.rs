//! WASIp1 calls run directly on a host (no p2shim): whether `fd_readdir`'s
//! `d_ino` of an entry is the `ino` that `path_filestat_get` (no symlink
//! follow) gives for its name, and whether the entry's `dev` is its
//! folder's. The shims answer `metadata-hash-at` for the entry just read
//! from a directory stream with that `d_ino` and the folder's `dev` (one
//! `fd_filestat_get` per listing instead of one `path_filestat_get` per
//! entry) wherever the host gives a nonzero `d_ino`, so every host must
//! print `same` or `zero` on each line, never `differs`.

use wasi::*;

/// Where `d_ino` stands against `ino`.
fn verdict(d_ino: u64, ino: u64) -> &'static str {
    match d_ino {
        0 => "zero",
        d if d == ino => "same",
        _ => "differs",
    }
}

fn main() {
    unsafe {
        let _ = path_create_directory(3, "d");
        let f = path_open(3, 0, "d/f", OFLAGS_CREAT, RIGHTS_FD_WRITE, 0, 0).unwrap();
        fd_close(f).unwrap();
        path_create_directory(3, "d/s").unwrap();
        path_symlink("f", 3, "d/l").unwrap();
        let d = path_open(
            3,
            0,
            "d",
            OFLAGS_DIRECTORY,
            RIGHTS_FD_READDIR | RIGHTS_PATH_FILESTAT_GET | RIGHTS_FD_FILESTAT_GET,
            0,
            0,
        )
        .unwrap();
        let dir = fd_filestat_get(d).unwrap();
        let mut buf = vec![0u8; 4096];
        let n = fd_readdir(d, buf.as_mut_ptr(), buf.len(), 0).unwrap();
        let mut lines = Vec::new();
        let mut at = 0;
        while at + 24 <= n {
            let ent: Dirent = std::ptr::read_unaligned(buf[at..].as_ptr().cast());
            let len = ent.d_namlen as usize;
            let name = String::from_utf8_lossy(&buf[at + 24..at + 24 + len]).into_owned();
            at += 24 + len;
            if name == "." || name == ".." {
                continue;
            }
            let st = path_filestat_get(d, 0, &name).unwrap();
            lines.push(format!(
                "{name}: d_ino {}, dev {}",
                verdict(ent.d_ino, st.ino),
                if st.dev == dir.dev {
                    "the folder's"
                } else {
                    "other"
                }
            ));
        }
        lines.sort();
        for l in lines {
            println!("{l}");
        }
        fd_close(d).unwrap();
        for p in ["d/f", "d/l"] {
            path_unlink_file(3, p).unwrap();
        }
        path_remove_directory(3, "d/s").unwrap();
        path_remove_directory(3, "d").unwrap();
    }
}
