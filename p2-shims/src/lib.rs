//! p2-shims: the WASIp2 (0.2.x) interfaces a command component imports,
//! implemented over the WASIp1 host the shim itself runs on (through the
//! `wasi` 0.11 crate), registered into a [`component_model::Linker`].
//!
//! Invariants:
//! * Every interface is registered at `@0.2.12` ([`VERSION`]); the linker's
//!   semver matching binds any `0.2.x` import to it.
//! * One module per interface; the p1 calls live in `p1` (the only
//!   `unsafe`), the errno table in [`errno`], the resources in [`table`].
//! * A p1 failure becomes the WIT's own error value (an `error-code`, a
//!   `stream-error` carrying an `error`), never a panic. Where p1 cannot
//!   express a function the nearest correct error is returned (see
//!   README.md, "WASIp2 over WASIp1"). A [`HostError`] (bad handle, argument
//!   of the wrong shape) traps the guest.
//! * Everything compiles on every target; the p1 host calls are real only
//!   on `target_os = "wasi"` (`p1.rs`). Elsewhere `p1_fake.rs`, an
//!   in-memory p1 host with the same signatures, stands in for them, so the
//!   shims' logic runs in native unit tests (chosen at compile time: the
//!   shim itself pays nothing for it).

pub mod errno;
pub mod error;
pub mod table;
pub mod vals;

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

/// `wasi:NAME@0.2.12`.
fn iface(name: &str) -> String {
    format!("wasi:{name}@{VERSION}")
}

/// Registers every interface of the shims.
pub fn add_to_linker<T: WasiView>(linker: &mut component_model::Linker<T>) {
    cli::add(linker);
    io::add(linker);
    clocks::add(linker);
    random::add(linker);
    filesystem::add(linker);
    sockets::add(linker);
}

/// Defines `iface#name` as the shim function `f`; a [`HostError`] traps.
fn def<T: WasiView>(
    l: &mut component_model::Linker<T>,
    iface: &str,
    name: &str,
    f: fn(&mut WasiCtx, vals::Args<'_>) -> vals::Ret,
) {
    l.func(iface, name, move |cx, args| {
        f(cx.data_mut().wasi(), vals::Args(args)).map_err(|e| cx.trap(e.to_string()))
    });
}

/// Defines `iface#name` on its flat form (see `component_model::host_flat`):
/// for the hot calls, which read their arguments straight from the guest's
/// flat values and memory. A [`HostError`] traps, as with [`def`].
fn def_flat<T: WasiView>(
    l: &mut component_model::Linker<T>,
    iface: &str,
    name: &str,
    f: fn(&mut component_model::FlatCall<'_, T>) -> Result<(), FlatFail>,
) {
    l.func_flat(iface, name, move |cx| match f(cx) {
        Ok(()) => Ok(()),
        Err(FlatFail::Trap(t)) => Err(t),
        Err(FlatFail::Host(e)) => Err(cx.trap(e.to_string())),
    });
}

/// Why a flat shim function failed: a trap of the ABI layer (bad handle
/// index, out-of-bounds list...) or a [`HostError`].
enum FlatFail {
    Trap(component_model::Trap),
    Host(HostError),
}

impl From<component_model::Trap> for FlatFail {
    fn from(t: component_model::Trap) -> Self {
        FlatFail::Trap(t)
    }
}

impl From<HostError> for FlatFail {
    fn from(e: HostError) -> Self {
        FlatFail::Host(e)
    }
}

/// Registers the destructor of resource `resource` of `iface`: the entry
/// leaves the table, and a shims-owned fd is closed with its last holder.
/// Dropping an entry that still has children traps, as in wasmtime.
fn dtor<T: WasiView>(l: &mut component_model::Linker<T>, iface: &str, resource: &str) {
    let func = format!("{iface}#[resource-drop]{resource}");
    l.resource_dtor(iface, resource, move |d: &mut T, rep| {
        match d.wasi().table.remove(rep) {
            Ok(Some(fd)) => {
                let _ = p1::close(fd);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => Err(component_model::Trap::host(
                component_model::CallError {
                    func: func.clone(),
                    message: e.to_string(),
                },
            )),
        }
    });
}
