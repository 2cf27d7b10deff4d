//! The lowered side of the shim boundary: the library's state (the shims'
//! [`WasiCtx`] and the Canonical ABI handle table of the WASI resources)
//! and [`Call`], the [`Guest`] the generated glue runs with for one WASI
//! call from the guest.
//!
//! Invariants:
//! * There is one [`State`], created on the first WASI call (arguments
//!   from p1 `args_get`), and at most one [`Call`] at a time: a WASI call
//!   made while another is running (from inside the guest's `realloc`,
//!   the only guest code a WASI call runs) is refused with a trap, never
//!   given a second `&mut` to the state. So the phase says "in a call"
//!   only while the guest's `realloc` runs ([`Call`]'s `realloc` sets it):
//!   at any other point of a call no guest code runs, and a call whose
//!   glue asks no `realloc` (most of them) stores no phase at all.
//! * The phase [`NO_LEAVE`] is also the Canonical ABI's `may_leave` =
//!   false of the whole merged module: `lower`'s generated code sets it
//!   ([`phase`], exported as `p2lib_phase`) while a guest's `realloc` or
//!   `post-return` runs on the ABI's behalf outside a WASI call, and its
//!   adapters and `resource.new`/`resource.drop` check it; a WASI call
//!   then traps as wasmtime's do ("cannot leave component instance"). One
//!   flag serves every component instance: while it is set only the code
//!   of the instance that set it runs, and any import it calls traps.
//! * The handle table is the spec's (canonical-abi's [`HandleTable`]), one
//!   for the component: the merger links the WASI imports of one component
//!   instance (the guest's `i32` handles of WASI resources are its
//!   indices). A resource's type is its `HostResource` index.
//! * No lend is recorded: `lift_borrow` checks the handle as the spec's
//!   `lift_borrow` does and returns its rep, without the lend. A lend could
//!   only be seen by guest code reaching the handle table during the call
//!   (the guest's `realloc`, whose WASI calls, drops included, are refused,
//!   see above) or by an `own` argument of the same call lifting the same
//!   handle (no WASI function of the command world takes an `own`: the
//!   shims' test `no_wasi_function_takes_an_own_handle`), so the table is
//!   the same at every point the guest can look at it.
//! * A failure ends the program where it happens ([`fail`]: the message
//!   of a [`Trap`] naming `interface#function`, then [`Trap::abort`]), so
//!   the glue's trap type is uninhabited ([`Infallible`]): a `Result`
//!   of the glue is its value, and no failure is passed back up through
//!   memory.

use crate::guest::{Memory, Trap};
use canonical_abi::{
    AbiError, CanonError, CanonicalOptions, HandleTable, HostResource, ResourceTables,
    ResourceTypeId, StringEncoding,
};
use core::cell::{Cell, UnsafeCell};
use core::convert::Infallible;
use core::fmt::Display;
use p2_shims::bindings::{Fail, Guest};
use p2_shims::WasiCtx;

/// What the library keeps between calls.
pub struct State {
    pub ctx: WasiCtx,
    pub handles: HandleTable,
}

impl State {
    fn new() -> Self {
        let args = std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        State {
            ctx: WasiCtx::new(visible_args(args)),
            handles: HandleTable::new(),
        }
    }
}

/// Where the library is: no state yet, the state made and no guest code
/// running inside a call, or a call running the guest's `realloc`. One
/// byte, so that a call's entry is one load and one compare.
const NO_STATE: u8 = 0;
const IDLE: u8 = 1;
/// Guest code runs on the Canonical ABI's behalf (the `realloc` of a WASI
/// call, or a `realloc` or `post-return` the generated code runs): no
/// import may be called.
const NO_LEAVE: u8 = 2;

/// The one [`State`], and whether a call holds it.
struct Slot {
    /// [`NO_STATE`], [`IDLE`] or [`NO_LEAVE`]; `state` is `Some` from the
    /// first call on, so whenever this is [`IDLE`].
    phase: Cell<u8>,
    state: UnsafeCell<Option<State>>,
}

// SAFETY: wasm32-wasip1 has no threads: the library's code only ever runs
// on the one thread of the merged module.
unsafe impl Sync for Slot {}

static SLOT: Slot = Slot {
    phase: Cell::new(NO_STATE),
    state: UnsafeCell::new(None),
};

/// Runs `f` with the library's state as WASI function `func` (its
/// `interface#function`), or ends the program when a call is already
/// running.
#[inline]
pub fn with_state<R>(func: &'static str, f: impl FnOnce(&mut State) -> R) -> R {
    if SLOT.phase.get() != IDLE {
        enter_cold(func);
    }
    // SAFETY: the phase was IDLE (or NO_STATE, and `enter_cold` made the
    // state): no other reference to the state exists (it is only reached
    // here; the only guest code `f` can run is the guest's `realloc`,
    // during which the phase is NO_LEAVE, so a WASI call from it never
    // reaches this line), and the state is `Some`; single-threaded (see
    // `Slot`).
    let state = match unsafe { &mut *SLOT.state.get() } {
        Some(state) => state,
        // SAFETY: see above: the phase is IDLE only once the state is
        // made (`phase` sets IDLE only then).
        None => unsafe { core::hint::unreachable_unchecked() },
    };
    f(state)
}

/// A call's entry when the phase is not IDLE: the first call makes the
/// state; a call while guest code runs on the ABI's behalf traps, as in
/// wasmtime.
#[cold]
#[inline(never)]
fn enter_cold(func: &'static str) {
    if SLOT.phase.get() == NO_LEAVE {
        let reason = CanonError::CannotLeave.message(0);
        Trap::in_call(func, format_args!("wasm trap: {reason}")).trap();
    }
    // SAFETY: the phase is NO_STATE: no call runs, so no reference to the
    // state exists; single-threaded (see `Slot`).
    unsafe { *SLOT.state.get() = Some(State::new()) };
    SLOT.phase.set(IDLE);
}

/// The phase for `lower`'s generated code (see the module's invariants),
/// exported as `p2lib_phase`: returns the phase it found, and sets
/// [`NO_LEAVE`] for `set` = 2, or gives back the phase before it for `set`
/// = 0 or 1 (what an earlier call returned: [`IDLE`] once the state
/// exists, else [`NO_STATE`], whichever was passed); a negative `set` only
/// reads.
pub fn phase(set: i32) -> i32 {
    let old = SLOT.phase.get();
    match set {
        2 => SLOT.phase.set(NO_LEAVE),
        0 | 1 => {
            // SAFETY: single-threaded (see `Slot`), and no reference to the
            // state lives outside `with_state`, which is not running: the
            // generated code calls this between WASI calls.
            let made = unsafe { (*SLOT.state.get()).is_some() };
            SLOT.phase.set(if made { IDLE } else { NO_STATE });
        }
        _ => {}
    }
    i32::from(old)
}

/// Ends the program with the failure of WASI function `func` (out of the
/// hot path of every call).
#[cold]
#[inline(never)]
pub fn fail(func: &str, reason: &dyn Display) -> ! {
    Trap::in_call(func, reason).abort()
}

/// Runs the glue of WASI function `func` with a [`Call`]; its value (a
/// failure has ended the program).
#[inline]
pub fn with_call<R>(
    func: &'static str,
    glue: impl FnOnce(&mut Call<'_>) -> Result<R, Infallible>,
) -> R {
    with_state(func, |state| {
        let mut call = Call {
            state,
            mem: Memory::new(),
            func,
        };
        match glue(&mut call) {
            Ok(r) => r,
            Err(never) => match never {},
        }
    })
}

/// One WASI call from the guest: the [`Guest`] of the generated glue.
pub struct Call<'s> {
    state: &'s mut State,
    mem: Memory,
    func: &'static str,
}

impl Call<'_> {
    // Inlined, so that `self` need not be in memory for a failure that
    // may happen: the failure's own work is `fail`'s, out of line.
    #[inline(always)]
    fn abi(&self, e: AbiError) -> Infallible {
        fail(self.func, &e)
    }
}

/// The resource type of host resource `r` in the handle table.
fn rt(r: HostResource) -> ResourceTypeId {
    ResourceTypeId(r.0)
}

impl Guest for Call<'_> {
    type Host = WasiCtx;
    type Memory = Memory;
    type Trap = Infallible;

    #[inline]
    fn host(&mut self) -> &mut WasiCtx {
        &mut self.state.ctx
    }
    #[inline]
    fn split(&mut self) -> Result<(&mut WasiCtx, &Memory), AbiError> {
        Ok((&mut self.state.ctx, &self.mem))
    }
    #[inline]
    fn memory(&self) -> Result<&Memory, AbiError> {
        Ok(&self.mem)
    }
    #[inline]
    fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), AbiError> {
        Ok(self.mem.write(ptr, bytes)?)
    }
    /// The glue's stores of results, into ranges it checked: no
    /// `memory.size` per store.
    #[inline]
    fn store(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), AbiError> {
        Ok(self.mem.write_checked(ptr, bytes)?)
    }
    fn realloc(
        &mut self,
        old_ptr: u32,
        old_size: u32,
        align: u32,
        new_size: u32,
    ) -> Result<u32, Infallible> {
        // A trap in the guest's `realloc` ends the program there: it is a
        // trap of the merged module, as it is of the component natively.
        // While it runs, a WASI call is refused (see `with_state`).
        SLOT.phase.set(NO_LEAVE);
        let ptr = self.mem.realloc(old_ptr, old_size, align, new_size);
        SLOT.phase.set(IDLE);
        Ok(ptr)
    }
    fn options(&self) -> CanonicalOptions {
        // The merger links only UTF-8 `canon lower`s of memory 0; the
        // glue asks `realloc` only of functions whose `canon lower` has one.
        CanonicalOptions::with_memory(StringEncoding::Utf8)
    }
    fn lift_own(&mut self, r: HostResource, handle: u32) -> Result<u32, Infallible> {
        self.state
            .handles
            .lift_own(rt(r), handle)
            .map_err(|e| self.abi(e))
    }
    /// The handle's checks without the lend (see the module's invariants:
    /// no lend can be seen in the library).
    #[inline]
    fn lift_borrow(&mut self, r: HostResource, handle: u32) -> Result<u32, Infallible> {
        self.lift_borrow_unlent(r, handle)
    }
    /// The handle's checks without the lend: `resource.rep`'s lookup.
    #[inline]
    fn lift_borrow_unlent(&mut self, r: HostResource, handle: u32) -> Result<u32, Infallible> {
        self.state
            .handles
            .resource_rep(rt(r), handle)
            .map_err(|e| self.abi(e))
    }
    fn lower_own(&mut self, r: HostResource, rep: u32) -> Result<u32, Infallible> {
        self.state
            .handles
            .lower_own(rt(r), rep)
            .map_err(|e| self.abi(e))
    }
    #[inline(always)]
    fn trap(&self, f: Fail) -> Infallible {
        fail(self.func, &f)
    }
}

/// `[resource-drop]` of host resource `r`: the handle leaves the table, and
/// when it was the last `own`, `dtor` (the host's destructor) runs on its
/// rep.
pub fn resource_drop(
    func: &'static str,
    r: HostResource,
    handle: u32,
    dtor: impl FnOnce(&mut WasiCtx, u32) -> Result<(), p2_shims::HostError>,
) {
    with_state(func, |state| {
        match state.handles.resource_drop(rt(r), handle) {
            Ok(Some(rep)) => {
                if let Err(e) = dtor(&mut state.ctx, rep) {
                    fail(func, &e)
                }
            }
            Ok(None) => {}
            Err(e) => fail(func, &e),
        }
    })
}

// Kept at the end of the file, so that the code above it has the same line
// numbers (panic locations) with and without the `invoke` feature.

/// The arguments the guest's `get-arguments` sees: all of them, but with
/// `p2shim lower --invoke` not argv[1], the call (as under `wasmtime run
/// --invoke`). The `invoke` build is linked into `--invoke` outputs only,
/// whose argv[1] is always the call, so it is hidden from the first WASI
/// call on, a core start function's included.
#[cfg(not(feature = "invoke"))]
fn visible_args(args: Vec<String>) -> Vec<String> {
    args
}

/// See the other `visible_args`.
#[cfg(feature = "invoke")]
fn visible_args(mut args: Vec<String>) -> Vec<String> {
    if args.len() > 1 {
        args.remove(1);
    }
    args
}
