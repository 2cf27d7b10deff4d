//! The WASIp1 pass-through: every `wasi_snapshot_preview1` function a guest
//! may import, served by calling the host's own import of the same name
//! (the raw bindings of the `wasi` crate) with guest pointers translated into
//! host addresses inside the guest's linear memory.
//!
//! Invariants:
//! * One table, [`TABLE`], declares each function once with how every one of
//!   its Wasm parameters is passed on ([`P`]). The Linker registration, the
//!   function's core type and the forwarding call are all derived from that
//!   declaration; the guest signature equals the host's (same ABI), so
//!   parameter `i` of the guest call becomes parameter `i` of the host call.
//! * No host address is formed from a guest pointer without the bounds and
//!   alignment check of [`crate::guest`]; a bad input pointer traps the guest
//!   before the host is called (wasmtime traps too, see `guest`).
//! * Fixed-size results (`Out`) are written by the host into shim-owned
//!   scratch slots and copied to the guest only when the call succeeded,
//!   checking the guest pointer then, as wasmtime does.
//! * `args_*` and `environ_*` are served from [`Ctx`]: the guest's argv
//!   (FILE then its ARGS) and the host's environment, copied once at start.
//! * `proc_exit` calls the host's `proc_exit` directly: guest output goes
//!   straight to the host's `fd_write`, so nothing is buffered in the shim.
//! * Every function needs the caller's exported `memory` and traps with
//!   wasmtime's "missing required memory export" without it.
//! * The host's fd 2 stays open for the shim's own reports (a trap, an
//!   error): a guest's `fd_close(2)` is answered without closing it, and fd 2
//!   is closed for that guest from then on (`EBADF` for every `fd_*`,
//!   `path_*` and `sock_*` call on it, and for `fd_renumber` onto it), as
//!   under wasmtime, whose report goes to the host's stderr whatever the
//!   guest did. A guest's `fd_renumber` from or onto fd 2 is passed on: the
//!   guest's fds must then be what it asked for, and p1 has no `dup` to keep
//!   the old stderr for the shim, so the shim's later report goes to the
//!   file now at fd 2 (or nowhere, when fd 2 was moved away).

use crate::guest::{GuestError, GuestMem, HostIovec};
use core_vm::{Caller, FuncType, Linker, Memory, Trap, Val, ValType};
use wasi::wasi_snapshot_preview1 as raw;

/// The import module name of WASIp1.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// The most parameters any p1 function has (`path_open`).
const MAX_PARAMS: usize = 9;

/// How one Wasm parameter of a p1 function is passed to the host.
#[derive(Debug, Clone, Copy)]
enum P {
    /// An `i32` value (fd, flags, count...), passed unchanged.
    I32,
    /// An `i64` value, passed unchanged.
    I64,
    /// A pointer to bytes whose length is the next parameter ([`P::Len`]).
    Buf,
    /// The length of the preceding [`P::Buf`] or [`P::Iovs`].
    Len,
    /// A pointer to an iovec array whose count is the next parameter.
    Iovs,
    /// A pointer to an array of `count` elements of `size` bytes and the
    /// given alignment, `count` being the value of parameter `index`.
    Arr { size: u32, align: u32, index: usize },
    /// A pointer to a fixed-size result of `size` bytes and the given
    /// alignment, written on success.
    Out(u32, u32),
}

impl P {
    fn val_type(self) -> ValType {
        match self {
            P::I64 => ValType::I64,
            _ => ValType::I32,
        }
    }
}

/// How a p1 function is served.
#[derive(Clone, Copy)]
enum Imp {
    /// Forward to the host's import of the same name.
    Forward(unsafe fn(&[u64; MAX_PARAMS]) -> i32),
    /// `*_sizes_get`: count and total size of a string list of [`Ctx`].
    Sizes(fn(&Ctx) -> &Strings),
    /// `*_get`: a string list of [`Ctx`], copied into the guest.
    Strings(fn(&Ctx) -> &Strings),
    /// `proc_exit`: exit the whole process through the host.
    Exit,
}

/// One p1 function: its name, its parameters and how it is served.
struct Entry {
    name: &'static str,
    params: &'static [P],
    imp: Imp,
}

/// The Rust type of a raw host parameter of kind `$k`.
macro_rules! raw_ty {
    (I64) => {
        i64
    };
    ($k:ident) => {
        i32
    };
}

/// How an entry is served: `=> EXPR` given, or forwarded to `raw::$name`.
macro_rules! imp {
    ($name:ident ($($k:ident),*) => $imp:expr) => { $imp };
    ($name:ident ($($k:ident),*)) => {{
        #[allow(unused_mut, unused_variables)]
        unsafe fn call(a: &[u64; MAX_PARAMS]) -> i32 {
            let mut it = a.iter();
            // Values are kept zero-extended; `as` truncates an I32 back.
            unsafe { raw::$name($(*it.next().unwrap() as raw_ty!($k)),*) }
        }
        Imp::Forward(call)
    }};
}

/// Declares [`TABLE`]: `name(param kinds) [=> how it is served];`.
macro_rules! p1_table {
    ($($name:ident ($($k:ident $(($($a:tt)*))? $({$($f:tt)*})?),*) $(=> $imp:expr)?;)*) => {
        static TABLE: &[Entry] = &[$(Entry {
            name: stringify!($name),
            params: &[$(P::$k $(($($a)*))? $({$($f)*})?),*],
            imp: imp!($name ($($k),*) $(=> $imp)?),
        }),*];
    };
}

p1_table! {
    args_get(I32, I32) => Imp::Strings(|c| &c.args);
    args_sizes_get(Out(4, 4), Out(4, 4)) => Imp::Sizes(|c| &c.args);
    environ_get(I32, I32) => Imp::Strings(|c| &c.environ);
    environ_sizes_get(Out(4, 4), Out(4, 4)) => Imp::Sizes(|c| &c.environ);
    clock_res_get(I32, Out(8, 8));
    clock_time_get(I32, I64, Out(8, 8));
    fd_advise(I32, I64, I64, I32);
    fd_allocate(I32, I64, I64);
    fd_close(I32);
    fd_datasync(I32);
    fd_fdstat_get(I32, Out(24, 8));
    fd_fdstat_set_flags(I32, I32);
    fd_fdstat_set_rights(I32, I64, I64);
    fd_filestat_get(I32, Out(64, 8));
    fd_filestat_set_size(I32, I64);
    fd_filestat_set_times(I32, I64, I64, I32);
    fd_pread(I32, Iovs, Len, I64, Out(4, 4));
    fd_prestat_get(I32, Out(8, 4));
    fd_prestat_dir_name(I32, Buf, Len);
    fd_pwrite(I32, Iovs, Len, I64, Out(4, 4));
    fd_read(I32, Iovs, Len, Out(4, 4));
    fd_readdir(I32, Buf, Len, I64, Out(4, 4));
    fd_renumber(I32, I32);
    fd_seek(I32, I64, I32, Out(8, 8));
    fd_sync(I32);
    fd_tell(I32, Out(8, 8));
    fd_write(I32, Iovs, Len, Out(4, 4));
    path_create_directory(I32, Buf, Len);
    path_filestat_get(I32, I32, Buf, Len, Out(64, 8));
    path_filestat_set_times(I32, I32, Buf, Len, I64, I64, I32);
    path_link(I32, I32, Buf, Len, I32, Buf, Len);
    path_open(I32, I32, Buf, Len, I32, I64, I64, I32, Out(4, 4));
    path_readlink(I32, Buf, Len, Buf, Len, Out(4, 4));
    path_remove_directory(I32, Buf, Len);
    path_rename(I32, Buf, Len, I32, Buf, Len);
    path_symlink(Buf, Len, I32, Buf, Len);
    path_unlink_file(I32, Buf, Len);
    // Subscriptions are 48 bytes, events 32, both 8-aligned, `nsubscriptions` of each.
    poll_oneoff(Arr { size: 48, align: 8, index: 2 }, Arr { size: 32, align: 8, index: 2 }, I32, Out(4, 4));
    proc_exit(I32) => Imp::Exit;
    proc_raise(I32);
    sched_yield();
    random_get(Buf, Len);
    sock_accept(I32, I32, Out(4, 4));
    sock_recv(I32, Iovs, Len, I32, Out(4, 4), Out(2, 2));
    sock_send(I32, Iovs, Len, I32, Out(4, 4));
    sock_shutdown(I32, I32);
}

/// A list of NUL-terminated strings laid out as `*_get` writes them.
#[derive(Debug, Default, Clone)]
pub struct Strings {
    /// The strings, each followed by a NUL.
    buf: Vec<u8>,
    /// Where each string starts in `buf`.
    offsets: Vec<u32>,
}

impl Strings {
    pub fn new<I: IntoIterator<Item = B>, B: AsRef<[u8]>>(items: I) -> Self {
        let mut s = Strings::default();
        for item in items {
            s.offsets.push(s.buf.len() as u32);
            s.buf.extend_from_slice(item.as_ref());
            s.buf.push(0);
        }
        s
    }

    /// The strings, without their NULs.
    pub fn items(&self) -> Vec<Vec<u8>> {
        let ends = self
            .offsets
            .iter()
            .skip(1)
            .map(|o| *o as usize - 1)
            .chain(std::iter::once(self.buf.len().saturating_sub(1)));
        self.offsets
            .iter()
            .zip(ends)
            .map(|(s, e)| self.buf[*s as usize..e].to_vec())
            .collect()
    }

    /// The host's own environment, exactly as its `environ_get` gives it.
    pub fn host_environ() -> Self {
        // SAFETY: the buffers are sized from `environ_sizes_get`, as the call requires.
        unsafe {
            let Ok((count, size)) = wasi::environ_sizes_get() else {
                return Strings::default();
            };
            let mut ptrs = vec![std::ptr::null_mut::<u8>(); count];
            let mut buf = vec![0u8; size];
            if wasi::environ_get(ptrs.as_mut_ptr(), buf.as_mut_ptr()).is_err() {
                return Strings::default();
            }
            let base = buf.as_ptr() as usize;
            let offsets = ptrs.iter().map(|p| (*p as usize - base) as u32).collect();
            Strings { buf, offsets }
        }
    }

    /// `*_sizes_get`: writes the count and the buffer size.
    fn sizes(&self, slots: &mut [Slot; 2]) {
        slots[0].0[..4].copy_from_slice(&(self.offsets.len() as u32).to_le_bytes());
        slots[1].0[..4].copy_from_slice(&(self.buf.len() as u32).to_le_bytes());
    }

    /// `*_get`: the strings at `buf`, their addresses at `ptrs`.
    fn copy_to(&self, g: &mut GuestMem<'_>, ptrs: u32, buf: u32) -> Result<(), GuestError> {
        g.region(ptrs, 4 * self.offsets.len() as u64, 4)?;
        g.write(buf, &self.buf, 1)?;
        for (i, off) in self.offsets.iter().enumerate() {
            g.write(
                ptrs + 4 * i as u32,
                &buf.wrapping_add(*off).to_le_bytes(),
                4,
            )?;
        }
        Ok(())
    }
}

/// The store data of a guest: what `args_*` and `environ_*` report.
#[derive(Debug, Default)]
pub struct Ctx {
    pub args: Strings,
    pub environ: Strings,
    /// Descriptor bookkeeping, kept only when a checkpoint may be taken.
    pub track: Option<crate::p1_state::Track>,
    /// The export whose call is running (for a checkpoint).
    pub entry: String,
    /// The guest closed fd 2 (the host's stays open for the shim's reports).
    pub stderr_closed: bool,
}

/// A scratch result slot the host writes a fixed-size result into (the
/// largest p1 result, `filestat`, is 64 bytes, aligned to 8).
#[repr(C, align(8))]
#[derive(Clone, Copy)]
struct Slot([u8; 64]);

/// Why a p1 call did not return an errno.
enum Stop {
    Guest(GuestError),
    NoMemory,
}

impl From<GuestError> for Stop {
    fn from(e: GuestError) -> Self {
        Stop::Guest(e)
    }
}

/// A host error raised when a guest calls WASI without exporting `memory`.
#[derive(Debug)]
struct MissingMemory;

impl std::fmt::Display for MissingMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("missing required memory export")
    }
}

impl std::error::Error for MissingMemory {}

impl Entry {
    fn func_type(&self) -> FuncType {
        let results: &[ValType] = match self.imp {
            Imp::Exit => &[],
            _ => &[ValType::I32],
        };
        FuncType::new(
            self.params.iter().map(|p| p.val_type()),
            results.iter().copied(),
        )
    }

    /// Runs the function for a guest call, returning its errno.
    fn call(&self, caller: &mut Caller<'_, Ctx>, params: &[Val]) -> Result<i32, Stop> {
        let mut vals = [0u64; MAX_PARAMS];
        for (v, p) in vals.iter_mut().zip(params) {
            *v = match *p {
                Val::I32(x) => u64::from(x as u32),
                Val::I64(x) => x as u64,
                _ => 0, // unreachable: the FuncType only has i32 and i64
            };
        }
        let memory: Memory = caller
            .get_export("memory")
            .and_then(|e| e.into_memory())
            .ok_or(Stop::NoMemory)?;
        let (bytes, ctx) = caller.memory_and_data(memory);
        let mut g = GuestMem::new(bytes);
        if let Some(errno) = self.stderr_guard(ctx, &vals) {
            return Ok(errno);
        }
        let mut slots = [Slot([0; 64]); 2];
        let errno = match self.imp {
            Imp::Forward(f) => {
                let errno = self.forward(f, &mut g, vals)?;
                if errno == 0 {
                    if let Some(t) = ctx.track.as_mut() {
                        self.track(t, &mut g, &vals)?;
                    }
                }
                Ok(errno)
            }
            Imp::Sizes(which) => {
                which(ctx).sizes(&mut slots);
                self.store_outs(&mut g, &vals, &slots)?;
                Ok(0)
            }
            Imp::Strings(which) => {
                which(ctx).copy_to(&mut g, vals[0] as u32, vals[1] as u32)?;
                Ok(0)
            }
            Imp::Exit => {
                if crate::watch::tracing_wasi() {
                    self.trace(&g, &vals, 0);
                }
                crate::watch::finish();
                // SAFETY: proc_exit takes a plain value and does not return.
                unsafe { raw::proc_exit(vals[0] as i32) }
            }
        };
        if crate::watch::tracing_wasi() {
            if let Ok(errno) = &errno {
                self.trace(&g, &vals, *errno);
            }
        }
        errno
    }

    /// The guest's view of fd 2 once it closed it (see the module docs):
    /// `Some(errno)` answers the call without the host.
    fn stderr_guard(&self, ctx: &mut Ctx, v: &[u64; MAX_PARAMS]) -> Option<i32> {
        const STDERR: u64 = 2;
        let ebadf = i32::from(wasi::ERRNO_BADF.raw());
        if !ctx.stderr_closed {
            if self.name == "fd_close" && v[0] == STDERR {
                ctx.stderr_closed = true;
                return Some(0);
            }
            return None;
        }
        let on_fd = ["fd_", "path_", "sock_"]
            .iter()
            .any(|p| self.name.starts_with(p));
        let onto = self.name == "fd_renumber" && v[1] == STDERR;
        ((on_fd && v[0] == STDERR) || onto).then_some(ebadf)
    }

    /// Keeps the checkpoint bookkeeping in step with a successful call.
    fn track(
        &self,
        t: &mut crate::p1_state::Track,
        g: &mut GuestMem<'_>,
        v: &[u64; MAX_PARAMS],
    ) -> Result<(), GuestError> {
        let a = |i: usize| v[i] as u32;
        match self.name {
            "path_open" => {
                let fd = g.read_u32(a(8))?;
                let path = g.read(a(2), v[3])?.to_vec();
                t.opened(fd, a(0), a(1), &path, a(4), v[5], v[6], a(7));
            }
            "fd_close" => t.closed(a(0)),
            "fd_renumber" => t.renumbered(a(0), a(1)),
            "sock_accept" => t.socket(g.read_u32(a(2))?),
            "fd_read" if a(0) == 0 => t.stdin_read(g.read_u32(a(3))?),
            "clock_time_get" if a(0) == wasi::CLOCKID_MONOTONIC.raw() => {
                let host = u64::from_le_bytes(g.read(a(2), 8)?.try_into().expect("8 bytes"));
                g.write(a(2), &t.monotonic(host).to_le_bytes(), 8)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Writes the call to the `wasi` trace: its parameters (strings for
    /// buffers of up to 256 bytes, fixed-size results after success) and
    /// its errno.
    fn trace(&self, g: &GuestMem<'_>, v: &[u64; MAX_PARAMS], errno: i32) {
        let mut args = Vec::new();
        let mut outs = Vec::new();
        for (i, p) in self.params.iter().enumerate() {
            match *p {
                P::I32 => args.push((v[i] as u32).to_string()),
                P::I64 => args.push((v[i] as i64).to_string()),
                P::Len => {}
                P::Buf => args.push(match g.read(v[i] as u32, v[i + 1]) {
                    Ok(b) if b.len() <= 256 => format!("{:?}", String::from_utf8_lossy(b)),
                    _ => format!("<{} bytes at {:#x}>", v[i + 1], v[i]),
                }),
                P::Iovs => args.push(format!("<{} iovecs at {:#x}>", v[i + 1], v[i])),
                P::Arr { .. } => args.push(format!("{:#x}", v[i])),
                P::Out(size, _) => {
                    if errno == 0 {
                        outs.push(match g.read(v[i] as u32, size as u64) {
                            Ok(b) if size == 4 => {
                                u32::from_le_bytes(b.try_into().expect("4")).to_string()
                            }
                            Ok(b) if size == 8 => {
                                u64::from_le_bytes(b.try_into().expect("8")).to_string()
                            }
                            Ok(b) => format!("{b:02x?}"),
                            Err(_) => "?".into(),
                        });
                    }
                }
            }
        }
        let result = match (errno, outs.is_empty()) {
            (0, true) => "ok".to_string(),
            (0, false) => format!("ok({})", outs.join(", ")),
            (e, _) => format!("errno {e}"),
        };
        crate::watch::trace_wasi("p1", self.name, &args.join(", "), &result);
    }

    /// Translates the parameters, calls the host, stores the results.
    fn forward(
        &self,
        f: unsafe fn(&[u64; MAX_PARAMS]) -> i32,
        g: &mut GuestMem<'_>,
        vals: [u64; MAX_PARAMS],
    ) -> Result<i32, GuestError> {
        let mut args = vals;
        let mut slots = [Slot([0; 64]); 2];
        let mut next_slot = 0;
        // The host iovec array must outlive the call; p1 functions take at most one.
        let mut iovs: Vec<HostIovec> = Vec::new();
        for (i, p) in self.params.iter().enumerate() {
            let ptr = vals[i] as u32;
            match *p {
                P::I32 | P::I64 | P::Len => {}
                P::Buf => args[i] = g.host_addr(ptr, vals[i + 1], 1)? as u64,
                P::Arr { size, align, index } => {
                    args[i] = g.host_addr(ptr, u64::from(size) * vals[index], align)? as u64
                }
                P::Iovs => {
                    let Some(v) = g.iovecs(ptr, vals[i + 1] as u32)? else {
                        return Ok(i32::from(wasi::ERRNO_NOMEM.raw()));
                    };
                    iovs = v;
                    args[i] = iovs.as_ptr() as usize as u64;
                    args[i + 1] = iovs.len() as u64;
                }
                P::Out(..) => {
                    args[i] = slots[next_slot].0.as_mut_ptr() as usize as u64;
                    next_slot += 1;
                }
            }
        }
        // SAFETY: every pointer argument is either inside guest memory (checked
        // above for the length the host will touch) or a scratch slot large
        // enough for the result; `iovs` and `slots` outlive the call.
        let errno = unsafe { f(&args) };
        drop(iovs);
        if errno == 0 {
            self.store_outs(g, &vals, &slots)?;
        }
        Ok(errno)
    }

    /// Copies the `Out` results from the scratch slots to the guest.
    fn store_outs(
        &self,
        g: &mut GuestMem<'_>,
        vals: &[u64],
        slots: &[Slot; 2],
    ) -> Result<(), GuestError> {
        let outs = self.params.iter().zip(vals).filter_map(|(p, v)| match *p {
            P::Out(size, align) => Some((*v as u32, size, align)),
            _ => None,
        });
        for ((ptr, size, align), slot) in outs.zip(slots) {
            g.write(ptr, &slot.0[..size as usize], align)?;
        }
        Ok(())
    }
}

/// Registers every p1 function in `linker`.
pub fn add_to_linker(linker: &mut Linker<Ctx>) {
    for entry in TABLE {
        let results = match entry.imp {
            Imp::Exit => 0,
            _ => 1,
        };
        linker.func_new(
            MODULE,
            entry.name,
            entry.func_type(),
            move |mut caller, params, out| match entry.call(&mut caller, params) {
                Ok(errno) => {
                    if results == 1 {
                        out[0] = Val::I32(errno);
                    }
                    Ok(())
                }
                Err(Stop::Guest(e)) => Err(Trap::host(e)),
                Err(Stop::NoMemory) => Err(Trap::host(MissingMemory)),
            },
        );
    }
}

/// Registers the benchmark hooks: `bench.start` and `bench.end` (no-ops, as
/// sightglass's programs import them) and `env.clock_ms` (milliseconds of
/// the host's monotonic clock, as CoreMark imports it).
pub fn add_bench_hooks(linker: &mut Linker<Ctx>) {
    for name in ["start", "end"] {
        linker.func_new("bench", name, FuncType::new([], []), |_, _, _| Ok(()));
    }
    linker.func_new(
        "env",
        "clock_ms",
        FuncType::new([], [ValType::I32]),
        |_, _, out| {
            // SAFETY: a plain host call with value arguments.
            let ns = unsafe { wasi::clock_time_get(wasi::CLOCKID_MONOTONIC, 1_000) }.unwrap_or(0);
            out[0] = Val::I32((ns / 1_000_000) as i32);
            Ok(())
        },
    );
}
