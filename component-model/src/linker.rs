//! The host side of linking: implementations of imported interfaces,
//! registered per interface name (`wasi:cli/environment@0.2.12`) and
//! function name, as closures over lifted [`Val`]s.
//!
//! Invariants:
//! * An import binds to an implementation of the *same package and
//!   interface* on the same semver-compatible track (wasmtime's rule):
//!   `x.y.z` with `x >= 1` matches any `x.*.*`, `0.y.z` with `y >= 1`
//!   matches any `0.y.*`, `0.0.z` only itself; pre-release versions only
//!   match exactly. An exact match wins, otherwise the highest compatible
//!   version registered.
//! * A host function receives its arguments already lifted (and borrows
//!   already lent, to be released when it returns) and returns its results
//!   to be lowered; it must return exactly one value per result type (zero
//!   or one), which is type-checked before lowering.
//! * A function is defined either on [`Val`]s ([`Linker::func`]), checked
//!   dynamically at each call, or on its flat Canonical ABI form with a
//!   declared type ([`Linker::func_typed`], see [`crate::host_flat`]),
//!   checked against the import's type at instantiation (wasmtime's rules
//!   and words, `crate::typecheck`); the latter can only be called by a
//!   guest's `canon lower`, not through [`crate::ComponentFunc::call`].
//! * A host resource is defined per interface ([`Linker::resource`], with
//!   the host's own [`HostResource`] index that its declared types use, or
//!   [`Linker::resource_dtor`]); an imported resource the linker does not
//!   define fails instantiation.
//! * The first import that is missing or has the wrong type fails
//!   instantiation ([`crate::Error::Import`]), unless
//!   [`Linker::stub_missing`] is set, in which case each missing function
//!   (or resource) is stubbed: a function traps when called, naming itself.

use crate::error::CallError;
use crate::host_flat::{FlatCall, FlatHostFunc};
use canonical_abi::{
    AbiError, GuestMemory, HostResource, MemoryView, ResourceTables, StaticFuncType, Val,
};
use core_vm::{Func, Memory, Store, Trap};
use std::collections::HashMap;
use std::sync::Arc;

/// A host implementation of one imported function.
pub type HostFunc<T> = dyn Fn(&mut HostContext<'_, T>, &[Val]) -> Result<Vec<Val>, Trap>;

/// A host destructor for a host-implemented resource type, called with the
/// resource's rep when the guest drops its last `own` handle.
pub type ResourceDtor<T> = dyn Fn(&mut T, u32) -> Result<(), Trap>;

/// One registered host implementation.
pub(crate) enum HostImpl<T> {
    Vals(Arc<HostFunc<T>>),
    /// On the flat form, with its declared type.
    Typed {
        ty: &'static StaticFuncType,
        f: Arc<FlatHostFunc<T>>,
    },
}

impl<T> Clone for HostImpl<T> {
    fn clone(&self) -> Self {
        match self {
            HostImpl::Vals(f) => HostImpl::Vals(f.clone()),
            HostImpl::Typed { ty, f } => HostImpl::Typed { ty, f: f.clone() },
        }
    }
}

/// One host resource type of an interface.
pub(crate) struct HostResourceDef<T> {
    /// The host's index of it, used by declared types.
    pub id: Option<HostResource>,
    pub dtor: Option<Arc<ResourceDtor<T>>>,
}

impl<T> Clone for HostResourceDef<T> {
    fn clone(&self) -> Self {
        HostResourceDef {
            id: self.id,
            dtor: self.dtor.clone(),
        }
    }
}

pub(crate) struct Interface<T> {
    pub funcs: HashMap<String, HostImpl<T>>,
    pub resources: HashMap<String, HostResourceDef<T>>,
}

impl<T> Default for Interface<T> {
    fn default() -> Self {
        Interface {
            funcs: HashMap::new(),
            resources: HashMap::new(),
        }
    }
}

/// Host implementations of imports, by interface and function name.
pub struct Linker<T> {
    pub(crate) interfaces: HashMap<String, Interface<T>>,
    pub(crate) stub_missing: bool,
    pub(crate) observer: Option<std::rc::Rc<dyn crate::trace::HostCallObserver>>,
}

impl<T> Default for Linker<T> {
    fn default() -> Self {
        Linker {
            interfaces: HashMap::new(),
            stub_missing: false,
            observer: None,
        }
    }
}

impl<T: 'static> Linker<T> {
    /// Sets what sees every flat host call of the components this linker
    /// instantiates (see [`crate::trace`]).
    pub fn observe_host_calls(
        &mut self,
        observer: std::rc::Rc<dyn crate::trace::HostCallObserver>,
    ) {
        self.observer = Some(observer);
    }

    pub fn new() -> Self {
        Self::default()
    }

    /// Defines function `name` of interface `interface` (an instance import
    /// such as `wasi:cli/stdout@0.2.12`). A function of an instance nested
    /// in the import is named by its path joined with `#`
    /// (`nested#return-four`).
    pub fn func(
        &mut self,
        interface: &str,
        name: &str,
        f: impl Fn(&mut HostContext<'_, T>, &[Val]) -> Result<Vec<Val>, Trap> + 'static,
    ) -> &mut Self {
        self.define(interface, name, HostImpl::Vals(Arc::new(f)))
    }

    /// Defines function `name` of interface `interface` on its flat form,
    /// with declared type `ty` (resources named by the host's indices, see
    /// [`Linker::resource`]): an import of it must have that type, and `f`
    /// lifts its arguments and lowers its result itself through the
    /// [`FlatCall`] (see [`crate::host_flat`]). Replaces a [`Linker::func`]
    /// definition of the same name.
    pub fn func_typed(
        &mut self,
        interface: &str,
        name: &str,
        ty: &'static StaticFuncType,
        f: impl Fn(&mut FlatCall<'_, T>) -> Result<(), Trap> + 'static,
    ) -> &mut Self {
        self.define(interface, name, HostImpl::Typed { ty, f: Arc::new(f) })
    }

    /// Defines (or replaces) function `name` of `interface`.
    fn define(&mut self, interface: &str, name: &str, f: HostImpl<T>) -> &mut Self {
        self.interfaces
            .entry(interface.to_string())
            .or_default()
            .funcs
            .insert(name.to_string(), f);
        self
    }

    /// Defines a function imported directly by the root component (not
    /// inside an instance).
    pub fn root_func(
        &mut self,
        name: &str,
        f: impl Fn(&mut HostContext<'_, T>, &[Val]) -> Result<Vec<Val>, Trap> + 'static,
    ) -> &mut Self {
        self.func("", name, f)
    }

    /// Defines host resource `resource` of `interface`, which the host's
    /// declared types (see [`Linker::func_typed`]) name `id`, with its
    /// destructor.
    pub fn resource(
        &mut self,
        interface: &str,
        resource: &str,
        id: HostResource,
        dtor: impl Fn(&mut T, u32) -> Result<(), Trap> + 'static,
    ) -> &mut Self {
        self.define_resource(interface, resource, Some(id), Arc::new(dtor))
    }

    /// Defines host resource `resource` of `interface` with its destructor
    /// (for hosts whose functions are on [`Val`]s).
    pub fn resource_dtor(
        &mut self,
        interface: &str,
        resource: &str,
        f: impl Fn(&mut T, u32) -> Result<(), Trap> + 'static,
    ) -> &mut Self {
        self.define_resource(interface, resource, None, Arc::new(f))
    }

    fn define_resource(
        &mut self,
        interface: &str,
        resource: &str,
        id: Option<HostResource>,
        dtor: Arc<ResourceDtor<T>>,
    ) -> &mut Self {
        self.interfaces
            .entry(interface.to_string())
            .or_default()
            .resources
            .insert(
                resource.to_string(),
                HostResourceDef {
                    id,
                    dtor: Some(dtor),
                },
            );
        self
    }

    /// When set, functions nothing provides are defined as stubs that trap
    /// when called instead of failing instantiation.
    pub fn stub_missing(&mut self, yes: bool) -> &mut Self {
        self.stub_missing = yes;
        self
    }

    /// Whether `interface` (or a semver-compatible version of it) is defined.
    pub fn has_interface(&self, interface: &str) -> bool {
        self.resolve_interface(interface).is_some()
    }

    /// The registered interface name an import named `name` binds to.
    pub fn resolve_interface(&self, name: &str) -> Option<&str> {
        resolve_interface(name, self.interfaces.keys().map(String::as_str))
    }

    /// Whether function `func` of `interface` (or of a semver-compatible
    /// version of it) is defined, as an import of that name would bind.
    pub fn defines_func(&self, interface: &str, func: &str) -> bool {
        self.lookup(&[interface.to_string(), func.to_string()])
            .is_some()
    }

    /// Whether resource `resource` of `interface` (or of a
    /// semver-compatible version of it) is defined.
    pub fn defines_resource(&self, interface: &str, resource: &str) -> bool {
        self.lookup_resource(interface, resource).is_some()
    }

    pub(crate) fn lookup(&self, path: &[String]) -> Option<HostImpl<T>> {
        let (iface, func) = match path {
            [name] => ("", name.clone()),
            [iface, rest @ ..] => (iface.as_str(), rest.join("#")),
            [] => return None,
        };
        let key = if iface.is_empty() {
            ""
        } else {
            self.resolve_interface(iface)?
        };
        self.interfaces.get(key)?.funcs.get(&func).cloned()
    }

    pub(crate) fn lookup_resource(
        &self,
        interface: &str,
        resource: &str,
    ) -> Option<&HostResourceDef<T>> {
        let key = if interface.is_empty() {
            ""
        } else {
            self.resolve_interface(interface)?
        };
        self.interfaces.get(key)?.resources.get(resource)
    }
}

/// A parsed `major.minor.patch[-pre]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    /// Empty for releases. Releases sort after pre-releases only by this
    /// simplification: pre-releases never match anything but themselves.
    pre: String,
}

/// The interface among `available` that an import named `name` binds to,
/// by the rule of this module's docs (an exact match, otherwise the highest
/// semver-compatible version of the same package and interface).
pub fn resolve_interface<'a>(
    name: &str,
    available: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let split = split_version(name);
    let mut best: Option<(&str, Version)> = None;
    for key in available {
        if key == name {
            return Some(key);
        }
        let Some((base, want)) = &split else {
            continue;
        };
        let Some((b, have)) = split_version(key) else {
            continue;
        };
        if b != *base || !compatible(want, &have) {
            continue;
        }
        if best.as_ref().is_none_or(|(_, v)| have > *v) {
            best = Some((key, have));
        }
    }
    best.map(|(k, _)| k)
}

fn split_version(name: &str) -> Option<(&str, Version)> {
    let (base, v) = name.rsplit_once('@')?;
    let (core, pre) = match v.split_once(['-', '+']) {
        Some((c, p)) => (c, p.to_string()),
        None => (v, String::new()),
    };
    let mut it = core.split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next()?.parse().ok()?;
    let patch = it.next()?.parse().ok()?;
    if it.next().is_some() {
        return None;
    }
    Some((
        base,
        Version {
            major,
            minor,
            patch,
            pre,
        },
    ))
}

fn compatible(a: &Version, b: &Version) -> bool {
    if !a.pre.is_empty() || !b.pre.is_empty() {
        return a == b;
    }
    match (a.major, a.minor) {
        (0, 0) => b.major == 0 && b.minor == 0 && a.patch == b.patch,
        (0, m) => b.major == 0 && b.minor == m,
        (x, _) => b.major == x,
    }
}

/// What a host function sees of its caller: the store (and host data), and
/// the calling instance's memory and `realloc` from the `canon lower`
/// options, as a [`GuestMemory`].
pub struct HostContext<'a, T> {
    pub(crate) store: &'a mut Store<T>,
    pub(crate) memory: Option<Memory>,
    pub(crate) realloc: Option<Func>,
    pub(crate) func_name: &'a str,
    pub(crate) resources: Option<&'a mut dyn ResourceTables>,
}

impl<'a, T> HostContext<'a, T> {
    pub fn data(&self) -> &T {
        self.store.data()
    }
    pub fn data_mut(&mut self) -> &mut T {
        self.store.data_mut()
    }
    pub fn store(&mut self) -> &mut Store<T> {
        self.store
    }
    /// `interface#function` of the import being called.
    pub fn func_name(&self) -> &str {
        self.func_name
    }
    /// The caller's memory and `realloc`, if the `canon lower` had a
    /// `memory` option.
    pub fn memory(&mut self) -> Option<StoreMemory<'_, T>> {
        Some(StoreMemory {
            store: self.store,
            memory: self.memory?,
            realloc: self.realloc,
            trapped: None,
        })
    }
    /// The calling component instance's handle table (own/borrow handles
    /// by index), for hosts that exchange raw handles; `None` when the host
    /// itself called an exported import.
    pub fn resources(&mut self) -> Option<&mut dyn ResourceTables> {
        match &mut self.resources {
            Some(r) => Some(&mut **r),
            None => None,
        }
    }
    /// A trap naming this function.
    pub fn trap(&self, message: impl Into<String>) -> Trap {
        Trap::host(CallError {
            func: self.func_name.to_string(),
            message: message.into(),
        })
    }
}

/// A core-vm memory (and optional `realloc`) as a [`GuestMemory`].
pub struct StoreMemory<'a, T> {
    pub(crate) store: &'a mut Store<T>,
    pub(crate) memory: Memory,
    pub(crate) realloc: Option<Func>,
    /// The trap of the guest's `realloc`, if it trapped (the Canonical ABI
    /// sees [`AbiError::Guest`]; the caller can end the call with the trap
    /// itself, as the guest's).
    pub(crate) trapped: Option<Trap>,
}

impl<T> MemoryView for StoreMemory<'_, T> {
    fn byte_len(&self) -> u64 {
        self.memory.data(self.store).len() as u64
    }

    fn read(&self, ptr: u32, len: u32) -> Result<&[u8], AbiError> {
        self.memory.data(self.store).read(ptr, len)
    }
}

impl<T> GuestMemory for StoreMemory<'_, T> {
    fn write(&mut self, ptr: u32, bytes: &[u8]) -> Result<(), AbiError> {
        let data = self.memory.data_mut(self.store);
        canonical_abi::memory::check_bounds(data.len() as u64, ptr, bytes.len() as u64)?;
        data[ptr as usize..ptr as usize + bytes.len()].copy_from_slice(bytes);
        Ok(())
    }

    fn realloc(
        &mut self,
        old_ptr: u32,
        old_size: u32,
        align: u32,
        new_size: u32,
    ) -> Result<u32, AbiError> {
        let f = self.realloc.ok_or(AbiError::MissingRealloc)?;
        call_realloc(self.store, f, [old_ptr, old_size, align, new_size]).map_err(|e| {
            let message = format!("realloc: {e}");
            if let core_vm::Error::Trap(t) = e {
                self.trapped = Some(t);
            }
            AbiError::Guest(message)
        })
    }
}

/// Calls a guest `realloc` with `(old_ptr, old_size, align, new_size)`.
pub(crate) fn call_realloc<T>(
    store: &mut Store<T>,
    f: Func,
    args: [u32; 4],
) -> Result<u32, core_vm::Error> {
    let args = args.map(|x| core_vm::Val::I32(x as i32));
    let mut out = [core_vm::Val::I32(0)];
    f.call(store, &args, &mut out)?;
    match out[0] {
        core_vm::Val::I32(p) => Ok(p as u32),
        // Validation gives `realloc` the type (i32 i32 i32 i32) -> i32.
        _ => Err(core_vm::Error::Trap(Trap::host(CallError {
            func: "realloc".into(),
            message: "returned a non-i32".into(),
        }))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_tracks() {
        let mut l: Linker<()> = Linker::new();
        l.func("wasi:cli/environment@0.2.12", "get-environment", |_, _| {
            Ok(vec![])
        });
        l.func("wasi:cli/environment@0.2.3", "get-environment", |_, _| {
            Ok(vec![])
        });
        l.func("wasi:cli/environment@0.3.0", "get-environment", |_, _| {
            Ok(vec![])
        });
        assert_eq!(
            l.resolve_interface("wasi:cli/environment@0.2.0"),
            Some("wasi:cli/environment@0.2.12")
        );
        assert_eq!(
            l.resolve_interface("wasi:cli/environment@0.2.3"),
            Some("wasi:cli/environment@0.2.3")
        );
        assert_eq!(
            l.resolve_interface("wasi:cli/environment@0.3.1"),
            Some("wasi:cli/environment@0.3.0")
        );
        assert_eq!(l.resolve_interface("wasi:cli/environment@0.4.0"), None);
        assert_eq!(l.resolve_interface("wasi:cli/exit@0.2.0"), None);
        l.func("a:b/c@1.0.0", "f", |_, _| Ok(vec![]));
        assert_eq!(l.resolve_interface("a:b/c@1.5.2"), Some("a:b/c@1.0.0"));
    }
}
