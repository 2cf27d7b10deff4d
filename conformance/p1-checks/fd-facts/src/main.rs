//! WASIp1 calls run directly on a host (no p2shim): the host behaviour the
//! shims' fd facts (p2-shims/src/fds.rs) rely on, one line per call with
//! its result. Every host should print what wasmtime prints, except the
//! lines marked as differing (see ../run.sh).
//! * A directory opened without `directory` but with the write right is
//!   refused (EISDIR, errno 31), so an fd opened for writing is no folder.
//! * `fd_fdstat_set_flags` with APPEND makes `fd_write` append, and
//!   clearing it lets `fd_pwrite` write at its offset again; the content
//!   line must read `aqcdefXYZW` everywhere.
//! * `fd_pwrite` while APPEND is set appends, on every host (so the shims
//!   clear it before a positional write): `aqcdefXYZWP`.
//! * Differs by host: APPEND together with DSYNC (wasmtime and wasmi:
//!   EINVAL, errno 28; node and iwasm take it), and the errno of a write
//!   to a read-only fd (EBADF 8 or ENOTCAPABLE 76).

use wasi::*;

fn show<T: std::fmt::Debug>(what: &str, r: Result<T, Errno>) -> Option<T> {
    match r {
        Ok(v) => {
            println!("{what}: ok {v:?}");
            Some(v)
        }
        Err(e) => {
            println!("{what}: errno {}", e.raw());
            None
        }
    }
}

/// `path_open` below the first preopen asking for `rights`, narrowed to the
/// directory's inheriting rights where the host refuses more (node, iwasm),
/// as the shims ask.
fn open(path: &str, oflags: Oflags, rights: Rights) -> Result<Fd, Errno> {
    let inh = unsafe { fd_fdstat_get(3) }.unwrap().fs_rights_inheriting;
    match unsafe { path_open(3, 1, path, oflags, rights, inh, 0) } {
        Err(ERRNO_NOTCAPABLE) => unsafe { path_open(3, 1, path, oflags, rights & inh, inh, 0) },
        r => r,
    }
}

/// Prints what file `f` holds.
fn content(f: Fd) {
    let mut buf = [0u8; 32];
    let iov = [Iovec {
        buf: buf.as_mut_ptr(),
        buf_len: buf.len(),
    }];
    let n = unsafe { fd_pread(f, &iov, 0) }.unwrap();
    println!("content: {}", String::from_utf8_lossy(&buf[..n]));
}

fn main() {
    let all: Rights = (RIGHTS_SOCK_ACCEPT << 1) - 1;
    let rd = RIGHTS_FD_READ | RIGHTS_FD_READDIR;
    let wr =
        RIGHTS_FD_WRITE | RIGHTS_FD_DATASYNC | RIGHTS_FD_ALLOCATE | RIGHTS_FD_FILESTAT_SET_SIZE;
    let neutral = !(rd | wr) & all;
    unsafe { path_create_directory(3, "d") }.unwrap();
    show("open folder read+write", open("d", 0, neutral | rd | wr));
    show("open folder write", open("d", 0, neutral | wr));
    show(
        "open folder create",
        open("d", OFLAGS_CREAT, neutral | rd | wr),
    );
    show(
        "open folder truncate",
        open("d", OFLAGS_TRUNC, neutral | rd | wr),
    );
    show(
        "open folder read (a folder)",
        open("d", 0, neutral | rd).map(|_| ()),
    );
    let f = open("d/f", OFLAGS_CREAT | OFLAGS_TRUNC, neutral | rd | wr).unwrap();
    let w = |s: &[u8]| unsafe {
        fd_write(
            f,
            &[Ciovec {
                buf: s.as_ptr(),
                buf_len: s.len(),
            }],
        )
    };
    let pw = |s: &[u8], at| unsafe {
        fd_pwrite(
            f,
            &[Ciovec {
                buf: s.as_ptr(),
                buf_len: s.len(),
            }],
            at,
        )
    };
    let set = |flags| unsafe { fd_fdstat_set_flags(f, flags) };
    show("pwrite abcdef at 0", pw(b"abcdef", 0));
    show("set APPEND", set(FDFLAGS_APPEND));
    show("write XY", w(b"XY"));
    show("write Z", w(b"Z"));
    show("clear APPEND", set(0));
    show("pwrite q at 1", pw(b"q", 1));
    show("set APPEND", set(FDFLAGS_APPEND));
    show("write W", w(b"W"));
    show("clear APPEND", set(0));
    content(f);
    show(
        "set APPEND|DSYNC (differs)",
        set(FDFLAGS_APPEND | FDFLAGS_DSYNC),
    );
    // Why the shims clear APPEND before a positional write.
    show("set APPEND", set(FDFLAGS_APPEND));
    show("pwrite P at 0 with APPEND set", pw(b"P", 0));
    show("clear APPEND", set(0));
    content(f);
    let g = open("d/f", 0, neutral | rd).unwrap();
    show("read-only fd: set APPEND", unsafe {
        fd_fdstat_set_flags(g, FDFLAGS_APPEND)
    });
    let r = unsafe {
        fd_write(
            g,
            &[Ciovec {
                buf: b"r".as_ptr(),
                buf_len: 1,
            }],
        )
    };
    show("read-only fd: write (differs)", r);
    unsafe {
        let _ = fd_close(g);
        let _ = fd_close(f);
        let _ = path_unlink_file(3, "d/f");
        let _ = path_remove_directory(3, "d");
    }
}
