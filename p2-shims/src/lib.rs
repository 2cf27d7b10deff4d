//! p2-shims: the WASIp2 (0.2.x) interfaces a command component imports,
//! implemented over the WASIp1 host the shim itself runs on (through the
//! `wasi` 0.11 crate), once for both modes: registered into a
//! [`component_model::Linker`] for the interpreter (feature
//! `component-model`, [`add_to_linker`]), and exported by the lowered
//! library (crate `p2-lib`) through the same generated glue.
//!
//! Invariants:
//! * The WIT in `wit/` is the one source of the interfaces: [`bindings`]
//!   is generated from it at build time (types, one `Host` trait per
//!   interface, the flat glue of every function, the function table); each
//!   interface module implements its `Host` trait on [`WasiCtx`] with typed
//!   arguments and results, and reaches guest memory, `realloc` and the
//!   handle tables only through [`glue::Guest`].
//! * Every interface is registered at `@0.2.12` ([`VERSION`]); the linker's
//!   semver matching binds any `0.2.x` import to it.
//! * One module per interface; the p1 calls live in `p1` (the only
//!   `unsafe`), the errno table in [`errno`], the resources in [`table`].
//! * A p1 failure becomes the WIT's own error value (an `error-code`, a
//!   `stream-error` carrying an `error`), never a panic. Where p1 cannot
//!   express a function the nearest correct error is returned (see
//!   README.md, "WASIp2 over WASIp1"). A [`HostError`] (bad handle, a
//!   request refused) traps the guest.
//! * [`WasiCtx`] is plain data (no engine type in it).
//! * Everything compiles on every target; the p1 host calls are real only
//!   on `target_os = "wasi"` (`p1.rs`). Elsewhere `p1_fake.rs`, an
//!   in-memory p1 host with the same signatures, stands in for them, so the
//!   shims' logic runs in native unit tests (chosen at compile time: the
//!   shim itself pays nothing for it).

#[macro_use]
pub mod bindings;
#[cfg(feature = "checkpoint")]
pub mod checkpoint;
pub mod errno;
pub mod error;
mod fds;
pub mod glue;
#[cfg(feature = "component-model")]
mod interp;
pub mod table;

mod cli;
mod clocks;
mod filesystem;
mod io;
/// The p1 host calls: the real ones on `target_os = "wasi"`, an in-memory
/// stand-in with the same signatures elsewhere (native unit tests).
#[cfg_attr(not(target_os = "wasi"), path = "p1_fake.rs")]
mod p1;
mod random;
mod sockets;

pub use error::HostError;
/// The host's preopened directories `(fd, name)`, stepping over closed fds.
pub use filesystem::preopens::host_preopens as preopens;
use table::Table;

/// Run before `wasi:cli/exit` ends the process (the embedder flushes its
/// traces and profiles there); set once.
static BEFORE_EXIT: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Sets the function run before `wasi:cli/exit` ends the process.
pub fn set_before_exit(f: fn()) {
    let _ = BEFORE_EXIT.set(f);
}

/// Runs the function set by [`set_before_exit`], if any.
#[cfg_attr(not(target_os = "wasi"), allow(dead_code))]
fn before_exit() {
    if let Some(f) = BEFORE_EXIT.get() {
        f()
    }
}

/// Receives every p1 call the shims make (`--trace=wasi`): the p1
/// function's name, its arguments and its result, as text; set once.
static P1_TRACER: std::sync::OnceLock<fn(&str, &str, &str)> = std::sync::OnceLock::new();

/// Sets the function that sees every p1 call the shims make.
pub fn trace_p1_calls(f: fn(&str, &str, &str)) {
    let _ = P1_TRACER.set(f);
}

/// The p1 tracer, if one is set.
#[cfg_attr(not(target_os = "wasi"), allow(dead_code))]
fn p1_tracer() -> Option<fn(&str, &str, &str)> {
    P1_TRACER.get().copied()
}

/// The WASI version the shims register.
pub const VERSION: &str = "0.2.12";

/// The host state of the p2 shims, kept in the store's data.
#[derive(Debug, Default)]
pub struct WasiCtx {
    /// The guest's `get-arguments`.
    pub args: Vec<String>,
    pub table: Table,
    /// `(fd, name)` of the host's preopens, read once.
    preopens: Option<Vec<(u32, String)>>,
    /// `insecure-seed`'s answer, drawn once: the WIT has it return the same
    /// value for the life of the instance.
    insecure_seed: Option<(u64, u64)>,
    /// A buffer reads fill before their bytes are copied to the guest, kept
    /// so that a read does not allocate.
    scratch: Vec<u8>,
    /// The guest's `get-environment` when it is not the host's (a restored
    /// guest keeps the environment it started with).
    pub env: Option<Vec<(String, String)>>,
    /// How each p1 fd the shims opened was opened (what reopens it after
    /// a checkpoint; only a checkpoint reads it, so only the build with
    /// checkpoints keeps it: the lowered library does not pay its map per
    /// `open-at` and close).
    #[cfg(feature = "checkpoint")]
    origins: table::SmallMap<Origin>,
    /// What the shims learned about each p1 fd (`fds`), by fd.
    fds: fds::Fds,
    /// Whether stdin has been read in part (bytes read, its end not seen).
    stdin_partial: bool,
    /// The guest's monotonic clock.
    monotonic: Monotonic,
    /// The entry a directory stream returned last, which answers a
    /// `metadata-hash-at` of its name right after it (see
    /// `filesystem::types::Listed`).
    listed: filesystem::types::Listed,
}

/// How a p1 fd was opened by `open-at`: relative to a preopen, so that it
/// can be opened again.
#[cfg(feature = "checkpoint")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The preopen's p1 fd.
    pub preopen: u32,
    /// The path below the preopen (through the directories it was opened
    /// relative to), as the guest gave it.
    pub path: String,
    pub lookup: wasi::Lookupflags,
    /// `path_open`'s oflags without `creat`, `excl` and `trunc`.
    pub oflags: wasi::Oflags,
    pub rights_base: wasi::Rights,
    pub rights_inheriting: wasi::Rights,
    pub fdflags: wasi::Fdflags,
}

/// The guest's monotonic time: the host's plus `offset` (0 until a restore
/// continues time from where the guest saw it last), never going back.
#[derive(Debug, Default, Clone, Copy)]
struct Monotonic {
    offset: u64,
    /// The latest value the guest was given.
    last: u64,
}

impl WasiCtx {
    pub fn new(args: Vec<String>) -> Self {
        WasiCtx {
            args,
            ..Default::default()
        }
    }
}

/// Store data that holds a [`WasiCtx`].
pub trait WasiView: 'static {
    fn wasi(&mut self) -> &mut WasiCtx;
}

impl WasiView for WasiCtx {
    fn wasi(&mut self) -> &mut WasiCtx {
        self
    }
}

#[cfg(feature = "component-model")]
pub use interp::add_to_linker;

impl WasiCtx {
    /// The destructor of every resource: the entry leaves the table, and a
    /// shims-owned fd is closed with its last holder. Dropping an entry that
    /// still has children traps, as in wasmtime.
    fn drop_entry(&mut self, rep: u32) -> Result<(), HostError> {
        if let Some(fd) = self.table.remove(rep)? {
            #[cfg(feature = "checkpoint")]
            self.origins.remove(fd);
            self.fds.remove(fd);
            let _ = p1::close(fd);
        }
        Ok(())
    }
}

/// A `list<u8>` result handed back after it was copied to the guest: kept
/// as the read buffer (`scratch`) when it is at least as large, up to
/// [`SCRATCH_MAX`], so that reads do not allocate.
impl glue::ReuseBytes for WasiCtx {
    fn reuse_bytes(&mut self, bytes: Vec<u8>) {
        if bytes.capacity() > self.scratch.capacity() && bytes.capacity() <= SCRATCH_MAX {
            self.scratch = bytes;
        }
    }
}

/// The largest read buffer [`WasiCtx`] keeps between calls.
const SCRATCH_MAX: usize = 1 << 20;
