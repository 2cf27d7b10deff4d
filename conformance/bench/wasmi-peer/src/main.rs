//! The wasmi peer: wasmi 2.0 (crates.io, default features and config, so lazy
//! translation) compiled to wasm32-wasip1, running a WASIp1 core module.
//! It is the benchmark harness's reference point for "the best interpreter
//! running in the same place as p2shim": `wasmtime run --dir . wasmi-peer.wasm
//! prog.wasm ARGS...` runs `prog.wasm` with ARGS and the peer's own
//! environment and preopens.
//!
//! The WASIp1 imports are a minimal pass-through: every
//! `wasi_snapshot_preview1` function a Rust std program uses is forwarded to
//! the same function of the host through the `wasi` crate's raw bindings, with
//! guest pointers rebased onto the guest's linear memory (which is one
//! contiguous buffer inside the peer's own memory) after a bounds check, and
//! iovec arrays rebuilt with rebased buffers. Only argv and environ are
//! answered by the peer (their host form holds absolute pointers). `wasmi_wasi`
//! is not used: it needs `wasi-common`, which does not build for wasm32-wasip1.
//!
//! Invariants: no host call is made with a pointer that is not inside the
//! guest's memory (an out-of-bounds pointer gives EFAULT, like a native host);
//! an import the pass-through does not know fails instantiation with its name;
//! a guest trap prints the trap and aborts (exit 134 on wasmtime, as a native
//! trap does).
use std::process::ExitCode;
use wasi::wasi_snapshot_preview1 as p1;
use wasmi::{Caller, Config, Engine, Extern, Linker, Module, Store};

const EFAULT: i32 = 21;
const EINVAL: i32 = 28;

/// The guest's command line and environment, as the guest sees them.
struct Ctx {
    args: Vec<Vec<u8>>,
    env: Vec<Vec<u8>>,
}

/// The guest's memory as a host slice (the module must export "memory").
fn memory<'a>(caller: &'a mut Caller<'_, Ctx>) -> Option<&'a mut [u8]> {
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Some(m.data_mut(caller)),
        _ => None,
    }
}

/// Host address of guest range [ptr, ptr+len), if in bounds.
fn rebase(mem: &mut [u8], ptr: i32, len: u32) -> Option<i32> {
    let start = ptr as u32 as usize;
    let end = start.checked_add(len as usize)?;
    if end > mem.len() {
        return None;
    }
    Some(mem.as_mut_ptr().wrapping_add(start) as usize as i32)
}

/// Host copy of a guest iovec/ciovec array with rebased buffers.
fn iovecs(mem: &mut [u8], ptr: i32, n: i32) -> Option<Vec<[u32; 2]>> {
    let n = n as u32 as usize;
    let start = ptr as u32 as usize;
    let bytes = mem
        .get(start..start.checked_add(n.checked_mul(8)?)?)?
        .to_vec();
    let mut out = Vec::with_capacity(n);
    for c in bytes.chunks_exact(8) {
        let buf = i32::from_le_bytes(c[0..4].try_into().unwrap());
        let len = u32::from_le_bytes(c[4..8].try_into().unwrap());
        out.push([rebase(mem, buf, len)? as u32, len]);
    }
    Some(out)
}

/// Writes a list of NUL-terminated strings like args_get/environ_get.
fn write_list(mem: &mut [u8], list: &[Vec<u8>], ptrs: i32, buf: i32) -> i32 {
    let (mut p, mut b) = (ptrs as u32 as usize, buf as u32 as usize);
    for item in list {
        let (Some(slot), Some(dst)) = (
            mem.get(p..p + 4).map(|_| p),
            mem.get(b..b + item.len() + 1).map(|_| b),
        ) else {
            return EFAULT;
        };
        mem[slot..slot + 4].copy_from_slice(&(b as u32).to_le_bytes());
        mem[dst..dst + item.len()].copy_from_slice(item);
        mem[dst + item.len()] = 0;
        p += 4;
        b += item.len() + 1;
    }
    0
}

fn write_sizes(mem: &mut [u8], list: &[Vec<u8>], count: i32, size: i32) -> i32 {
    let total: usize = list.iter().map(|s| s.len() + 1).sum();
    for (ptr, v) in [(count, list.len() as u32), (size, total as u32)] {
        let p = ptr as u32 as usize;
        match mem.get_mut(p..p + 4) {
            Some(s) => s.copy_from_slice(&v.to_le_bytes()),
            None => return EFAULT,
        }
    }
    0
}

/// Defines a pass-through of `wasi_snapshot_preview1::$name`: each argument
/// is `v` (a value, passed as is), `p(N)` (a pointer to N bytes) or `s(L)`
/// (a pointer whose byte length is the argument named L, which must come
/// after it).
macro_rules! pass {
    ($linker:ident, $name:ident ( $($arg:ident : $ty:ty = $kind:ident $(($n:tt))?),* )) => {
        $linker.func_wrap("wasi_snapshot_preview1", stringify!($name),
            |mut caller: Caller<'_, Ctx>, $($arg: $ty),*| -> i32 {
                #[allow(unused_variables)] // calls without pointers
                let Some(mem) = memory(&mut caller) else { return EINVAL };
                $( let $arg = pass!(@arg mem, $arg, $kind $(($n))?); )*
                // SAFETY: every pointer argument was rebased onto the guest's
                // memory and bounds-checked above; the call only touches those
                // ranges, and the guest's memory cannot move during it.
                unsafe { p1::$name($($arg),*) }
            }).expect(stringify!($name));
    };
    (@arg $mem:ident, $arg:ident, v) => { $arg };
    (@arg $mem:ident, $arg:ident, p($n:expr)) => {
        match rebase($mem, $arg, $n) { Some(p) => p, None => return EFAULT }
    };
    (@arg $mem:ident, $arg:ident, s($len:ident)) => {
        match rebase($mem, $arg, $len as u32) { Some(p) => p, None => return EFAULT }
    };
}

/// fd_read/fd_write/fd_pread/fd_pwrite: rebuild the iovec array.
macro_rules! pass_iov {
    ($linker:ident, $name:ident ( $($off:ident : i64)? )) => {
        $linker.func_wrap("wasi_snapshot_preview1", stringify!($name),
            |mut caller: Caller<'_, Ctx>, fd: i32, iovs: i32, n: i32, $($off: i64,)? out: i32| -> i32 {
                let Some(mem) = memory(&mut caller) else { return EINVAL };
                let Some(vecs) = iovecs(mem, iovs, n) else { return EFAULT };
                let Some(out) = rebase(mem, out, 4) else { return EFAULT };
                // SAFETY: `vecs` holds bounds-checked, rebased guest buffers and
                // lives across the call; `out` is a rebased 4-byte slot.
                unsafe { p1::$name(fd, vecs.as_ptr() as usize as i32, n, $($off,)? out) }
            }).expect(stringify!($name));
    };
}

fn define(linker: &mut Linker<Ctx>) {
    linker
        .func_wrap(
            "wasi_snapshot_preview1",
            "args_get",
            |mut c: Caller<'_, Ctx>, ptrs: i32, buf: i32| -> i32 {
                let args = std::mem::take(&mut c.data_mut().args);
                let r = memory(&mut c).map_or(EINVAL, |m| write_list(m, &args, ptrs, buf));
                c.data_mut().args = args;
                r
            },
        )
        .expect("args_get");
    linker
        .func_wrap(
            "wasi_snapshot_preview1",
            "args_sizes_get",
            |mut c: Caller<'_, Ctx>, n: i32, size: i32| -> i32 {
                let args = std::mem::take(&mut c.data_mut().args);
                let r = memory(&mut c).map_or(EINVAL, |m| write_sizes(m, &args, n, size));
                c.data_mut().args = args;
                r
            },
        )
        .expect("args_sizes_get");
    linker
        .func_wrap(
            "wasi_snapshot_preview1",
            "environ_get",
            |mut c: Caller<'_, Ctx>, ptrs: i32, buf: i32| -> i32 {
                let env = std::mem::take(&mut c.data_mut().env);
                let r = memory(&mut c).map_or(EINVAL, |m| write_list(m, &env, ptrs, buf));
                c.data_mut().env = env;
                r
            },
        )
        .expect("environ_get");
    linker
        .func_wrap(
            "wasi_snapshot_preview1",
            "environ_sizes_get",
            |mut c: Caller<'_, Ctx>, n: i32, size: i32| -> i32 {
                let env = std::mem::take(&mut c.data_mut().env);
                let r = memory(&mut c).map_or(EINVAL, |m| write_sizes(m, &env, n, size));
                c.data_mut().env = env;
                r
            },
        )
        .expect("environ_sizes_get");
    linker
        .func_wrap("wasi_snapshot_preview1", "proc_exit", |code: i32| -> () {
            // SAFETY: proc_exit takes no pointers and does not return.
            unsafe { p1::proc_exit(code) }
        })
        .expect("proc_exit");
    linker
        .func_wrap("wasi_snapshot_preview1", "sched_yield", || -> i32 {
            // SAFETY: no arguments.
            unsafe { p1::sched_yield() }
        })
        .expect("sched_yield");
    pass_iov!(linker, fd_read());
    pass_iov!(linker, fd_write());
    pass_iov!(linker, fd_pread(off: i64));
    pass_iov!(linker, fd_pwrite(off: i64));
    pass!(linker, clock_res_get(id: i32 = v, out: i32 = p(8)));
    pass!(linker, clock_time_get(id: i32 = v, precision: i64 = v, out: i32 = p(8)));
    pass!(linker, random_get(buf: i32 = s(len), len: i32 = v));
    pass!(linker, fd_advise(fd: i32 = v, off: i64 = v, len: i64 = v, advice: i32 = v));
    pass!(linker, fd_allocate(fd: i32 = v, off: i64 = v, len: i64 = v));
    pass!(linker, fd_close(fd: i32 = v));
    pass!(linker, fd_datasync(fd: i32 = v));
    pass!(linker, fd_sync(fd: i32 = v));
    pass!(linker, fd_fdstat_get(fd: i32 = v, out: i32 = p(24)));
    pass!(linker, fd_fdstat_set_flags(fd: i32 = v, flags: i32 = v));
    pass!(linker, fd_fdstat_set_rights(fd: i32 = v, base: i64 = v, inh: i64 = v));
    pass!(linker, fd_filestat_get(fd: i32 = v, out: i32 = p(64)));
    pass!(linker, fd_filestat_set_size(fd: i32 = v, size: i64 = v));
    pass!(linker, fd_filestat_set_times(fd: i32 = v, atim: i64 = v, mtim: i64 = v, flags: i32 = v));
    pass!(linker, fd_prestat_get(fd: i32 = v, out: i32 = p(8)));
    pass!(linker, fd_prestat_dir_name(fd: i32 = v, path: i32 = s(len), len: i32 = v));
    pass!(linker, fd_readdir(fd: i32 = v, buf: i32 = s(len), len: i32 = v, cookie: i64 = v, out: i32 = p(4)));
    pass!(linker, fd_renumber(fd: i32 = v, to: i32 = v));
    pass!(linker, fd_seek(fd: i32 = v, off: i64 = v, whence: i32 = v, out: i32 = p(8)));
    pass!(linker, fd_tell(fd: i32 = v, out: i32 = p(8)));
    pass!(linker, path_create_directory(fd: i32 = v, path: i32 = s(len), len: i32 = v));
    pass!(linker, path_filestat_get(fd: i32 = v, flags: i32 = v, path: i32 = s(len), len: i32 = v, out: i32 = p(64)));
    pass!(linker, path_filestat_set_times(fd: i32 = v, flags: i32 = v, path: i32 = s(len), len: i32 = v,
        atim: i64 = v, mtim: i64 = v, fst: i32 = v));
    pass!(linker, path_link(fd: i32 = v, flags: i32 = v, old: i32 = s(old_len), old_len: i32 = v,
        new_fd: i32 = v, new: i32 = s(new_len), new_len: i32 = v));
    pass!(linker, path_open(fd: i32 = v, dirflags: i32 = v, path: i32 = s(len), len: i32 = v, oflags: i32 = v,
        base: i64 = v, inh: i64 = v, fdflags: i32 = v, out: i32 = p(4)));
    pass!(linker, path_readlink(fd: i32 = v, path: i32 = s(len), len: i32 = v, buf: i32 = s(buf_len),
        buf_len: i32 = v, out: i32 = p(4)));
    pass!(linker, path_remove_directory(fd: i32 = v, path: i32 = s(len), len: i32 = v));
    pass!(linker, path_rename(fd: i32 = v, old: i32 = s(old_len), old_len: i32 = v, new_fd: i32 = v,
        new: i32 = s(new_len), new_len: i32 = v));
    pass!(linker, path_symlink(old: i32 = s(old_len), old_len: i32 = v, fd: i32 = v, new: i32 = s(new_len),
        new_len: i32 = v));
    pass!(linker, path_unlink_file(fd: i32 = v, path: i32 = s(len), len: i32 = v));
    linker
        .func_wrap(
            "wasi_snapshot_preview1",
            "poll_oneoff",
            |mut c: Caller<'_, Ctx>, subs: i32, events: i32, n: i32, out: i32| -> i32 {
                let Some(mem) = memory(&mut c) else {
                    return EINVAL;
                };
                let n32 = n as u32;
                let (Some(subs), Some(events), Some(out)) = (
                    n32.checked_mul(48).and_then(|l| rebase(mem, subs, l)),
                    n32.checked_mul(32).and_then(|l| rebase(mem, events, l)),
                    rebase(mem, out, 4),
                ) else {
                    return EFAULT;
                };
                // SAFETY: the subscription, event and count ranges are rebased and
                // bounds-checked; subscriptions hold no pointers.
                unsafe { p1::poll_oneoff(subs, events, n, out) }
            },
        )
        .expect("poll_oneoff");
}

fn main() -> ExitCode {
    let mut argv = std::env::args_os().skip(1);
    let Some(prog) = argv.next() else {
        eprintln!("usage: wasmi-peer prog.wasm [ARGS...]");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&prog) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("wasmi-peer: cannot read {}: {e}", prog.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    let engine = Engine::new(&Config::default());
    let module = match Module::new(&engine, &bytes[..]) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("wasmi-peer: invalid module {}: {e}", prog.to_string_lossy());
            return ExitCode::from(2);
        }
    };
    let as_bytes = |s: std::ffi::OsString| s.into_string().unwrap_or_default().into_bytes();
    // argv[0] is the program's file name, as wasmtime gives it.
    let name = std::path::Path::new(&prog)
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or(prog.clone());
    let args = std::iter::once(name).chain(argv).map(as_bytes).collect();
    let env = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = as_bytes(k);
            kv.push(b'=');
            kv.extend(as_bytes(v));
            kv
        })
        .collect();
    let mut store = Store::new(&engine, Ctx { args, env });
    let mut linker = Linker::new(&engine);
    define(&mut linker);
    let instance = match linker.instantiate_and_start(&mut store, &module) {
        Ok(i) => i,
        Err(e) => {
            // wasmi names a missing import (one the pass-through does not define).
            eprintln!("wasmi-peer: instantiation failed: {e}");
            return ExitCode::from(2);
        }
    };
    let start = match instance.get_typed_func::<(), ()>(&store, "_start") {
        Ok(f) => f,
        Err(e) => {
            eprintln!("wasmi-peer: no `_start() -> ()` export: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = start.call(&mut store, ()) {
        eprintln!("wasmi-peer: guest trapped: {e}");
        std::process::abort();
    }
    ExitCode::SUCCESS
}
