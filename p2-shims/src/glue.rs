//! The shim boundary: how the generated glue (`crate::bindings`) reaches
//! the caller's memory, its `realloc` and the resource handle tables, in
//! either mode, and the run-time half of the glue (`rt`).
//!
//! [`Guest`] is the one trait the two modes implement:
//! * the interpreter: component-model's `FlatCall` (`crate::interp`, feature
//!   `component-model`), over a core-vm memory, the caller's `realloc`
//!   function and the component instance's handle table;
//! * the lowered library (crate `p2-lib`): direct access to memory 0 in the
//!   same address space, `cabi_realloc` as an imported guest function, and
//!   the library's own handle table.
//!
//! It holds no core-vm type. A call of WASI function `F` runs the generated
//! `bindings::<iface>::glue::F(g, p0, p1, ..)` with the flat core arguments
//! of the `canon lower` (the exact core signature, listed by
//! `for_each_wasi_func!`), which lifts them, calls the typed
//! `bindings::<iface>::Host` method on [`Guest::host`] and lowers the
//! result. A lowered library stamps its exports from the table:
//!
//! ```ignore
//! macro_rules! export {
//!     ($id:ident, $iface:literal, $func:literal, ($($p:ident: $t:ty),*) -> $r:ty, $glue:path, $ty:path) => {
//!         #[export_name = concat!($iface, "#", $func)]
//!         extern "C" fn $id($($p: $t),*) -> $r {
//!             let mut g = MyGuest::new();          // the lowered `Guest`
//!             match $glue(&mut g, $($p),*) { Ok(r) => r, Err(t) => t.abort() }
//!         }
//!     };
//! }
//! p2_shims::for_each_wasi_func!(export);
//! ```
//!
//! and the resource drops from `for_each_wasi_resource!`
//! (`($id, $iface, $resource, $index, $drop)`: after its own table drops
//! the last `own` handle, it calls `$drop(host, rep)`, the host's
//! destructor). `bindings::FUNCS` and `bindings::RESOURCES` are the same
//! tables as data.
//!
//! Invariants every [`Guest`] must keep:
//! * `memory()`/`split()` view the caller's whole memory as it is now; the
//!   glue never holds a view across `realloc` (which may grow memory).
//! * `write` and the views are bounds-checked (`canonical_abi::MemoryView`'s
//!   rules); the glue also checks every range first, with canonical-abi's
//!   checks, so a failure is the spec's trap. `store` is only given ranges
//!   so checked (the `retptr`, a list the Canonical ABI allocated), and may
//!   skip the bounds check.
//! * `lift_own` moves the handle out of the caller's table, `lift_borrow`
//!   lends it until the call returns (the mode ends the lends after the
//!   glue returns), `lower_own` adds a new handle; each traps on a handle of
//!   the wrong resource type. `lift_borrow_unlent` (chosen by the generated
//!   glue, per function, where the lend cannot be observed) checks as
//!   `lift_borrow` does and may skip the lend; a mode in which no lend can
//!   ever be observed may skip it in `lift_borrow` too (the lowered
//!   library: no guest code reaches its handle table during a call, and no
//!   function takes an `own`, test `no_wasi_function_takes_an_own_handle`).
//!   `HostResource(k)` is the index in `bindings::RESOURCES`.
//! * `realloc` returns the guest's trap unchanged (a trap in the guest's
//!   `cabi_realloc` is a guest trap, not a host error).

use crate::error::HostError;
use canonical_abi::{
    AbiError, CanonicalOptions, CoreType, GuestMemory, HostResource, LiftLowerContext, MemoryView,
    NoResources, StaticFuncType, StringEncoding, StringValue,
};
use std::fmt;
use std::marker::PhantomData;

/// What the generated glue needs from the mode it runs in (see the module
/// docs).
pub trait Guest {
    /// The implementation of the interfaces (`WasiCtx`).
    type Host: ?Sized;
    /// The caller's memory.
    type Memory: MemoryView + ?Sized;
    /// How the mode fails a call (the interpreter: a core-vm trap).
    type Trap;

    /// The host state.
    fn host(&mut self) -> &mut Self::Host;
    /// The host state and a view of the caller's memory, at once (for
    /// `string` and `list<u8>` parameters handed over as views).
    fn split(&mut self) -> Result<(&mut Self::Host, &Self::Memory), AbiError>;
    /// The caller's memory (`MissingMemory` without a `memory` option).
    fn memory(&self) -> Result<&Self::Memory, AbiError>;
    /// Copies `bytes` into the caller's memory at `ptr` (bounds-checked).
    fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), AbiError>;
    /// Copies `bytes` to `ptr`, inside a range this call has already
    /// checked: the `retptr` (`rt::check_pointer`) or a list the Canonical
    /// ABI allocated and checked (`alloc_list`). Memory never shrinks, so
    /// the range is still in bounds and a mode may skip the bounds check;
    /// the default checks, as [`Guest::write`]. The generated glue stores
    /// results only through this (`rt::store_*`).
    fn store(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), AbiError> {
        self.write(ptr, bytes)
    }
    /// Calls the caller's `realloc(old_ptr, old_size, align, new_size)`.
    fn realloc(
        &mut self,
        old_ptr: u32,
        old_size: u32,
        align: u32,
        new_size: u32,
    ) -> Result<u32, Self::Trap>;
    /// The `canon lower`'s options (string encoding, memory, realloc).
    fn options(&self) -> CanonicalOptions;
    /// `lift_own`: the rep of `own` handle `handle` of resource `r`, moved
    /// out of the caller's table.
    fn lift_own(&mut self, r: HostResource, handle: u32) -> Result<u32, Self::Trap>;
    /// `lift_borrow`: the rep of handle `handle` of resource `r`, lent
    /// until the call returns (where a lend can be seen: see the module
    /// docs).
    fn lift_borrow(&mut self, r: HostResource, handle: u32) -> Result<u32, Self::Trap>;
    /// `lift_borrow` where the lend cannot be seen: the glue asks this for
    /// the `borrow` of a function whose only handle it is and which runs no
    /// guest code (no `realloc`), so nothing can move or drop the handle
    /// while it is lent. The same checks and traps as `lift_borrow`; a mode
    /// may skip recording the lend (the default records it).
    fn lift_borrow_unlent(&mut self, r: HostResource, handle: u32) -> Result<u32, Self::Trap> {
        self.lift_borrow(r, handle)
    }
    /// `lower_own`: a new `own` handle of resource `r` for `rep`.
    fn lower_own(&mut self, r: HostResource, rep: u32) -> Result<u32, Self::Trap>;
    /// The mode's failure for `f` (naming the function being called).
    fn trap(&self, f: Fail) -> Self::Trap;
}

/// Why a call fails: the Canonical ABI trapped (bad pointer, handle,
/// string...) or the host refused ([`HostError`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fail {
    Abi(AbiError),
    Host(HostError),
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fail::Abi(e) => e.fmt(f),
            Fail::Host(e) => e.fmt(f),
        }
    }
}

/// A WIT resource of the imported interfaces (the generated marker types).
pub trait Resource {
    /// Its index in `bindings::RESOURCES`.
    const INDEX: HostResource;
    /// Its WIT name.
    const NAME: &'static str;
}

/// An `own<R>` handle as the host sees it: the resource's rep (the index
/// of its entry in the shims' table). Moved, never copied.
#[repr(transparent)]
pub struct Own<R> {
    rep: u32,
    _r: PhantomData<fn() -> R>,
}

impl<R> Own<R> {
    pub fn new(rep: u32) -> Self {
        Own {
            rep,
            _r: PhantomData,
        }
    }
    pub fn rep(&self) -> u32 {
        self.rep
    }
}

/// A `borrow<R>` handle as the host sees it: the resource's rep, valid for
/// the call.
#[repr(transparent)]
pub struct Borrow<R> {
    rep: u32,
    _r: PhantomData<fn() -> R>,
}

macro_rules! handle_traits {
    ($h:ident, $what:literal) => {
        impl<R> fmt::Debug for $h<R> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($what, "({})"), self.rep)
            }
        }
        impl<R> PartialEq for $h<R> {
            fn eq(&self, other: &Self) -> bool {
                self.rep == other.rep
            }
        }
        impl<R> Eq for $h<R> {}
    };
}
handle_traits!(Own, "own");
handle_traits!(Borrow, "borrow");

impl<R> Clone for Borrow<R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R> Copy for Borrow<R> {}

impl<R> Borrow<R> {
    pub fn new(rep: u32) -> Self {
        Borrow {
            rep,
            _r: PhantomData,
        }
    }
    pub fn rep(&self) -> u32 {
        self.rep
    }
}

/// Where the glue hands back a `list<u8>` result once it is copied into
/// guest memory, so that a host can keep one buffer instead of allocating
/// per call (every `Host` trait has it as supertrait).
pub trait ReuseBytes {
    fn reuse_bytes(&mut self, bytes: Vec<u8>) {
        drop(bytes);
    }
}

/// One resource of `bindings::RESOURCES`.
#[derive(Debug, Clone, Copy)]
pub struct ResourceDecl {
    /// `wasi:io/streams@0.2.12`.
    pub interface: &'static str,
    /// `output-stream`.
    pub name: &'static str,
    pub index: HostResource,
}

/// One function of `bindings::FUNCS`.
#[derive(Debug, Clone, Copy)]
pub struct FuncDecl {
    /// `wasi:io/streams@0.2.12`.
    pub interface: &'static str,
    /// `[method]output-stream.write`.
    pub name: &'static str,
    /// The declared (WIT) type, for import type-checking.
    pub ty: &'static StaticFuncType,
    /// The `canon lower` core signature (the `retptr` last, if any).
    pub params: &'static [CoreType],
    pub results: &'static [CoreType],
}

/// The run-time half of the generated glue: loads and stores at offsets the
/// build computed, and the checks and string/list lowering of canonical-abi
/// (never restated here).
pub mod rt {
    use super::*;

    #[inline]
    fn abi<G: Guest + ?Sized>(g: &G, e: AbiError) -> G::Trap {
        g.trap(Fail::Abi(e))
    }

    #[inline]
    fn read<G: Guest + ?Sized, const N: usize>(g: &G, at: u32) -> Result<[u8; N], G::Trap> {
        let mem = g.memory().map_err(|e| abi(g, e))?;
        let b = mem.read(at, N as u32).map_err(|e| abi(g, e))?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    #[inline]
    pub fn load_u8<G: Guest + ?Sized>(g: &G, at: u32) -> Result<u8, G::Trap> {
        Ok(read::<G, 1>(g, at)?[0])
    }
    #[inline]
    pub fn load_u16<G: Guest + ?Sized>(g: &G, at: u32) -> Result<u16, G::Trap> {
        Ok(u16::from_le_bytes(read(g, at)?))
    }
    #[inline]
    pub fn load_u32<G: Guest + ?Sized>(g: &G, at: u32) -> Result<u32, G::Trap> {
        Ok(u32::from_le_bytes(read(g, at)?))
    }
    #[inline]
    pub fn load_u64<G: Guest + ?Sized>(g: &G, at: u32) -> Result<u64, G::Trap> {
        Ok(u64::from_le_bytes(read(g, at)?))
    }

    /// A store of the generated glue: always inside a range the call
    /// checked ([`Guest::store`]).
    #[inline]
    fn write<G: Guest + ?Sized>(g: &mut G, at: u32, b: &[u8]) -> Result<(), G::Trap> {
        g.store(at, b).map_err(|e| abi(g, e))
    }

    #[inline]
    pub fn store_u8<G: Guest + ?Sized>(g: &mut G, at: u32, v: u8) -> Result<(), G::Trap> {
        write(g, at, &[v])
    }
    #[inline]
    pub fn store_u16<G: Guest + ?Sized>(g: &mut G, at: u32, v: u16) -> Result<(), G::Trap> {
        write(g, at, &v.to_le_bytes())
    }
    #[inline]
    pub fn store_u32<G: Guest + ?Sized>(g: &mut G, at: u32, v: u32) -> Result<(), G::Trap> {
        write(g, at, &v.to_le_bytes())
    }
    #[inline]
    pub fn store_u64<G: Guest + ?Sized>(g: &mut G, at: u32, v: u64) -> Result<(), G::Trap> {
        write(g, at, &v.to_le_bytes())
    }

    #[inline]
    fn mem_len<G: Guest + ?Sized>(g: &G) -> Result<u64, G::Trap> {
        g.memory().map(|m| m.byte_len()).map_err(|e| abi(g, e))
    }

    /// `check_pointer`: a spilled tuple or a `retptr`.
    #[inline]
    pub fn check_pointer<G: Guest + ?Sized>(
        g: &G,
        ptr: u32,
        align: u32,
        size: u32,
    ) -> Result<(), G::Trap> {
        canonical_abi::context::check_pointer(ptr, align, size, mem_len(g)?).map_err(|e| abi(g, e))
    }

    /// `check_discriminant` of a case index lifted from `n` cases.
    pub fn discriminant<G: Guest + ?Sized>(g: &G, d: u32, n: usize) -> Result<(), G::Trap> {
        canonical_abi::lift::check_discriminant(d, n).map_err(|e| abi(g, e))
    }

    /// `convert_i32_to_char`.
    pub fn char<G: Guest + ?Sized>(g: &G, v: u32) -> Result<char, G::Trap> {
        canonical_abi::lift::convert_i32_to_char(v).map_err(|e| abi(g, e))
    }

    /// A string at `(ptr, tagged_code_units)`, lifted into an owned value.
    pub fn lift_string<G: Guest + ?Sized>(g: &G, ptr: u32, len: u32) -> Result<String, G::Trap> {
        let enc = g.options().string_encoding;
        let mem = g.memory().map_err(|e| abi(g, e))?;
        canonical_abi::strings::lift_string(mem, enc, ptr, len)
            .map(|s| s.into_owned())
            .map_err(|e| abi(g, e))
    }

    /// The traps of lifting the string at `(ptr, len)`, in its turn among the
    /// parameters; the host then gets it as a view.
    pub fn check_string<G: Guest + ?Sized>(g: &G, ptr: u32, len: u32) -> Result<(), G::Trap> {
        let enc = g.options().string_encoding;
        let mem = g.memory().map_err(|e| abi(g, e))?;
        canonical_abi::strings::lift_string(mem, enc, ptr, len)
            .map(drop)
            .map_err(|e| abi(g, e))
    }

    /// A `list<u8>` at `(ptr, len)`, copied out.
    pub fn lift_bytes<G: Guest + ?Sized>(g: &G, ptr: u32, len: u32) -> Result<Vec<u8>, G::Trap> {
        let mem = g.memory().map_err(|e| abi(g, e))?;
        canonical_abi::lift::lift_bytes(mem, ptr, len)
            .map(<[u8]>::to_vec)
            .map_err(|e| abi(g, e))
    }

    /// The traps of lifting the `list<u8>` at `(ptr, len)` (the host then
    /// gets it as a view).
    #[inline]
    pub fn check_bytes<G: Guest + ?Sized>(g: &G, ptr: u32, len: u32) -> Result<(), G::Trap> {
        canonical_abi::lift::check_list(ptr, len, 1, 1, mem_len(g)?)
            .map(drop)
            .map_err(|e| abi(g, e))
    }

    /// `load_list_from_range` of `len` elements of `size` bytes: the checks,
    /// then `load` of each element (a handle or a nested list may fail).
    pub fn lift_list<G: Guest + ?Sized, T>(
        g: &mut G,
        ptr: u32,
        len: u32,
        size: u32,
        align: u32,
        mut load: impl FnMut(&mut G, u32) -> Result<T, G::Trap>,
    ) -> Result<Vec<T>, G::Trap> {
        canonical_abi::lift::check_list(ptr, len, size, align, mem_len(g)?)
            .map_err(|e| abi(g, e))?;
        // Grows as elements lift: every element was checked in bounds, but
        // the length alone does not reserve memory.
        let mut out = Vec::new();
        for i in 0..len {
            out.push(load(g, ptr + i * size)?);
        }
        Ok(out)
    }

    /// `store_string_into_range` (every string encoding): `(ptr, tagged
    /// code units)`.
    pub fn store_string<G: Guest + ?Sized>(g: &mut G, s: String) -> Result<(u32, u32), G::Trap> {
        if g.options().string_encoding == StringEncoding::Utf8 {
            // A host string is UTF-8: `store_string_copy`'s steps, made on
            // the `Guest` itself (no `LiftLowerContext` and its `dyn`
            // memory), as `store_bytes` does.
            let len = canonical_abi::strings::check_realloc_size(s.len() as u64)
                .map_err(|e| abi(g, e))?;
            let ptr = g.realloc(0, 0, 1, len)?;
            canonical_abi::context::check_realloc(ptr, 1, u64::from(len), mem_len(g)?)
                .map_err(|e| abi(g, e))?;
            write(g, ptr, s.as_bytes())?;
            return Ok((ptr, len));
        }
        let v = StringValue::new(s);
        with_cx(g, |cx| {
            canonical_abi::strings::store_string_into_range(cx, &v)
        })
    }

    /// `store_list_into_range` of a `list<u8>`: one `realloc`, one copy; the
    /// buffer then goes back to the host ([`ReuseBytes`]). The steps of
    /// canonical-abi's `store_bytes_into_range` (its length check, then
    /// `realloc`, `check_realloc` and the copy), made directly on the
    /// [`Guest`] rather than through a `LiftLowerContext` (whose memory
    /// and `realloc` are reached through `dyn` calls: a `blocking-read`
    /// of the lowered library paid three calls for them).
    #[inline]
    pub fn store_bytes<G: Guest + ?Sized>(g: &mut G, b: Vec<u8>) -> Result<(u32, u32), G::Trap>
    where
        G::Host: ReuseBytes,
    {
        let r = store_bytes_of(g, &b);
        g.host().reuse_bytes(b);
        r
    }

    #[inline(always)]
    fn store_bytes_of<G: Guest + ?Sized>(g: &mut G, b: &[u8]) -> Result<(u32, u32), G::Trap> {
        let len = canonical_abi::lower::list_byte_length(b.len(), 1).map_err(|e| abi(g, e))?;
        let ptr = g.realloc(0, 0, 1, len)?;
        canonical_abi::context::check_realloc(ptr, 1, u64::from(len), mem_len(g)?)
            .map_err(|e| abi(g, e))?;
        write(g, ptr, b)?;
        Ok((ptr, len))
    }

    /// The allocation of `store_list_into_range` for `len` elements.
    pub fn alloc_list<G: Guest + ?Sized>(
        g: &mut G,
        len: usize,
        size: u32,
        align: u32,
    ) -> Result<u32, G::Trap> {
        with_cx(g, |cx| {
            canonical_abi::lower::alloc_list(cx, len, size, align)
        })
    }

    /// A host method's result: a [`HostError`] traps.
    #[inline]
    pub fn host<G: Guest + ?Sized, T>(g: &G, r: Result<T, HostError>) -> Result<T, G::Trap> {
        r.map_err(|e| g.trap(Fail::Host(e)))
    }

    /// A host call made with views: the views' traps, then the host's.
    #[inline]
    pub fn finish<G: Guest + ?Sized, T>(
        g: &G,
        r: Result<Result<T, HostError>, AbiError>,
    ) -> Result<T, G::Trap> {
        match r {
            Ok(r) => host(g, r),
            Err(e) => Err(abi(g, e)),
        }
    }

    /// Runs canonical-abi code that needs a `LiftLowerContext` over the
    /// caller's memory and `realloc`; a trap of `realloc` comes back as is.
    fn with_cx<G: Guest + ?Sized, R>(
        g: &mut G,
        f: impl FnOnce(&mut LiftLowerContext<'_>) -> Result<R, AbiError>,
    ) -> Result<R, G::Trap> {
        let opts = g.options();
        let mut mem = GuestAsMemory { g, trap: None };
        let r = f(&mut LiftLowerContext::new(opts, &mut mem, &mut NoResources));
        r.map_err(|e| match mem.trap.take() {
            Some(t) => t,
            None => abi(mem.g, e),
        })
    }

    /// A [`Guest`] as canonical-abi's `GuestMemory`; keeps the trap of a
    /// failed `realloc`.
    struct GuestAsMemory<'g, G: Guest + ?Sized> {
        g: &'g mut G,
        trap: Option<G::Trap>,
    }

    impl<G: Guest + ?Sized> MemoryView for GuestAsMemory<'_, G> {
        fn byte_len(&self) -> u64 {
            self.g.memory().map_or(0, |m| m.byte_len())
        }
        fn read(&self, ptr: u32, len: u32) -> Result<&[u8], AbiError> {
            self.g.memory()?.read(ptr, len)
        }
    }

    impl<G: Guest + ?Sized> GuestMemory for GuestAsMemory<'_, G> {
        fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), AbiError> {
            self.g.write(ptr, bytes)
        }
        fn realloc(
            &mut self,
            old_ptr: u32,
            old_size: u32,
            align: u32,
            new_size: u32,
        ) -> Result<u32, AbiError> {
            self.g
                .realloc(old_ptr, old_size, align, new_size)
                .map_err(|t| {
                    self.trap = Some(t);
                    AbiError::Guest("realloc trapped".into())
                })
        }
    }
}

/// The generated glue's choice of `lift_borrow_unlent` (see [`Guest`]).
#[cfg(test)]
mod tests {
    const BINDINGS: &str = include_str!(concat!(env!("OUT_DIR"), "/bindings.rs"));

    /// The body of generated glue function `name`.
    fn glue(name: &str) -> &'static str {
        let at = BINDINGS
            .find(&format!("pub fn {name}<G: Guest>"))
            .unwrap_or_else(|| panic!("no glue for {name}"));
        let rest = &BINDINGS[at + 1..];
        &rest[..rest.find("pub fn ").unwrap_or(rest.len())]
    }

    /// Whether a value of `t` holds an `own` handle.
    fn holds_own(t: &canonical_abi::StaticType) -> bool {
        use canonical_abi::StaticType as S;
        match t {
            S::Own(_) => true,
            S::List(t) | S::Option(t) => holds_own(t),
            S::Record(fs) => fs.iter().any(|(_, t)| holds_own(t)),
            S::Tuple(ts) => ts.iter().any(holds_own),
            S::Variant(cs) => cs.iter().any(|(_, t)| t.as_ref().is_some_and(holds_own)),
            S::Result { ok, err } => ok.is_some_and(holds_own) || err.is_some_and(holds_own),
            _ => false,
        }
    }

    /// The lowered library records no lends (p2-lib's `call`): a lend
    /// could be seen by an `own` argument lifting a handle the same call
    /// borrowed, and no function of the imports takes one.
    #[test]
    fn no_wasi_function_takes_an_own_handle() {
        let own: Vec<_> = crate::bindings::FUNCS
            .iter()
            .filter(|f| f.ty.params.iter().any(|(_, t)| holds_own(t)))
            .map(|f| format!("{}#{}", f.interface, f.name))
            .collect();
        assert!(own.is_empty(), "functions that take an own: {own:?}");
        assert!(holds_own(&canonical_abi::StaticType::Result {
            ok: None,
            err: Some(&canonical_abi::StaticType::Own(
                canonical_abi::HostResource(0)
            )),
        }));
    }

    #[test]
    fn the_lend_is_skipped_only_where_it_cannot_be_seen() {
        // The borrow is the only handle and no guest code runs.
        for f in [
            "output_stream_check_write",
            "output_stream_write",
            "output_stream_blocking_flush",
            "descriptor_stat",
        ] {
            let g = glue(f);
            assert!(
                g.contains("lift_borrow_unlent") && !g.contains("lift_borrow("),
                "{f}"
            );
        }
        // Two handles (splice), a list of them (poll), a result that needs
        // `realloc` (read: the guest's allocator runs during the call).
        for f in ["output_stream_splice", "poll", "input_stream_read"] {
            let g = glue(f);
            assert!(
                !g.contains("lift_borrow_unlent") && g.contains("lift_borrow("),
                "{f}"
            );
        }
    }
}
