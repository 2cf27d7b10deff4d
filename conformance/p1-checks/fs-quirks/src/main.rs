//! WASIp1 calls run directly on a host (no p2shim), to check the host
//! quirks that conformance/programs/expected-failures.txt blames: each line
//! is the p1 call that p2shim makes for the p2 function named, and its
//! result. wasmtime's answers are the reference (see ../run.sh).

use wasi::*;

fn main() {
    // The first preopen is fd 3.
    let d: Fd = 3;
    // Ask for what the directory can pass on (node refuses more).
    let all = unsafe { fd_fdstat_get(d) }.unwrap().fs_rights_inheriting;
    let f = unsafe { path_open(d, 0, "q.txt", OFLAGS_CREAT | OFLAGS_EXCL, all, all, 0) }.unwrap();
    unsafe {
        fd_write(
            f,
            &[Ciovec {
                buf: b"abc".as_ptr(),
                buf_len: 3,
            }],
        )
    }
    .unwrap();
    // set-times with nanoseconds: fd_filestat_set_times.
    let (at, mt) = (1_600_000_000_123_456_789u64, 1_500_000_000_000_000_000u64);
    let r = unsafe { fd_filestat_set_times(f, at, mt, FSTFLAGS_ATIM | FSTFLAGS_MTIM) };
    let st = unsafe { fd_filestat_get(f) }.unwrap();
    println!(
        "fd_filestat_set_times {:?}: atim == set {} mtim == set {}",
        r,
        st.atim == at,
        st.mtim == mt
    );
    // get-flags: fd_fdstat_get of a file opened without sync flags.
    let fl = unsafe { fd_fdstat_get(f) }.unwrap().fs_flags;
    println!("fd_fdstat_get fs_flags dsync {}", fl & FDFLAGS_DSYNC != 0);
    // open-at truncate, read only: path_open O_TRUNC with read rights only.
    let r = unsafe { path_open(d, 0, "q.txt", OFLAGS_TRUNC, RIGHTS_FD_READ, 0, 0) };
    println!("path_open trunc read-only {:?}", r.map(|_| ()));
    // symlink-at with a target that climbs out of the preopen.
    println!("path_symlink ../../x {:?}", unsafe {
        path_symlink("../../x", d, "up.lnk")
    });
    let _ = unsafe { path_unlink_file(d, "up.lnk") };
    // open-at without symlink-follow on a symlink.
    unsafe { path_symlink("q.txt", d, "l") }.unwrap();
    let r = unsafe { path_open(d, 0, "l", 0, RIGHTS_FD_READ, 0, 0) };
    println!("path_open nofollow on symlink {:?}", r.map(|_| ()));
    // set-times-at with symlink-follow: path_filestat_set_times.
    let t = 1_400_000_000_000_000_005u64;
    let r =
        unsafe { path_filestat_set_times(d, LOOKUPFLAGS_SYMLINK_FOLLOW, "l", 0, t, FSTFLAGS_MTIM) };
    let st = unsafe { fd_filestat_get(f) }.unwrap();
    println!(
        "path_filestat_set_times follow {:?}: target mtim == set {}",
        r,
        st.mtim == t
    );
    // A path whose `..` climbs out through a missing directory.
    let r = unsafe { path_open(d, 0, "missing/../../x", 0, RIGHTS_FD_READ, 0, 0) };
    println!("path_open missing/../../x {:?}", r.map(|_| ()));
    unsafe { path_unlink_file(d, "l") }.unwrap();
    unsafe { path_unlink_file(d, "q.txt") }.unwrap();
}
