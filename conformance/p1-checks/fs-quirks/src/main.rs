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
    // symlink-at with a target that climbs out of the preopen.
    println!("path_symlink ../../x {:?}", unsafe {
        path_symlink("../../x", d, "up.lnk")
    });
    let _ = unsafe { path_unlink_file(d, "up.lnk") };
    // symlink-at with an absolute target (iwasm: EBADF; wasmtime: EPERM).
    println!("path_symlink /etc/passwd {:?}", unsafe {
        path_symlink("/etc/passwd", d, "abs.lnk")
    });
    let _ = unsafe { path_unlink_file(d, "abs.lnk") };
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
    // The numbers new fds get: the lowest free ones on wasmtime; random on iwasm
    // (WAMR's fd_table_unused), so they change from run to run there.
    let more: Vec<Fd> = (0..3)
        .map(|_| unsafe { path_open(d, 0, "q.txt", 0, RIGHTS_FD_READ, 0, 0) }.unwrap())
        .collect();
    println!("path_open fds {f} {more:?}");
    // fd_readdir on a directory opened without RIGHTS_FD_READDIR (what p2shim
    // asks when a p2 open-at has no `read` flag): wasmtime ignores p1 rights.
    unsafe { path_create_directory(d, "sub") }.unwrap();
    let sub = unsafe {
        path_open(
            d,
            0,
            "sub",
            OFLAGS_DIRECTORY,
            RIGHTS_FD_FILESTAT_GET,
            all,
            0,
        )
    }
    .unwrap();
    let mut buf = [0u8; 256];
    println!(
        "fd_readdir without the right {:?}",
        unsafe { fd_readdir(sub, buf.as_mut_ptr(), buf.len(), 0) }.map(|_| ())
    );
    unsafe { path_remove_directory(d, "sub") }.unwrap();
    unsafe { path_unlink_file(d, "l") }.unwrap();
    unsafe { path_unlink_file(d, "q.txt") }.unwrap();
}
