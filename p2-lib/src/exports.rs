//! The library's exports: one per WASI function of the generated table
//! (`p2_shims::for_each_wasi_func!`), named `interface#function` with the
//! `canon lower` core signature, and one `[resource-drop]` per resource
//! (`p2_shims::for_each_wasi_resource!`), as the `lower` crate's contract
//! says. Nothing here is written per function.
//!
//! Invariant: an export returns only on success; a failed call (the
//! Canonical ABI's trap, a host refusal, a WASI call made from inside the
//! guest's `realloc`) ends the program (`call::fail`).

use crate::call::{resource_drop, with_call};
use p2_shims::bindings::HostResource;

macro_rules! export_func {
    ($id:ident, $iface:literal, $func:literal, ($($p:ident: $t:ty),*) -> $r:ty, $glue:path, $ty:path) => {
        #[export_name = concat!($iface, "#", $func)]
        pub extern "C" fn $id($($p: $t),*) -> $r {
            with_call(concat!($iface, "#", $func), |g| $glue(g, $($p),*))
        }
    };
}

macro_rules! export_drop {
    ($id:ident, $iface:literal, $name:literal, $index:literal, $drop:path) => {
        #[export_name = concat!($iface, "#[resource-drop]", $name)]
        pub extern "C" fn $id(handle: i32) {
            let func = concat!($iface, "#[resource-drop]", $name);
            resource_drop(func, HostResource($index), handle as u32, $drop)
        }
    };
}

/// The functions.
pub mod funcs {
    use super::*;
    p2_shims::for_each_wasi_func!(export_func);
}

/// The resource destructors.
pub mod drops {
    use super::*;
    p2_shims::for_each_wasi_resource!(export_drop);
}
