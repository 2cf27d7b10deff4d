//! The WASI bindings generated from `wit/` at build time (`build/`): for
//! every interface `wasi:cli/command@0.2.12` imports, a module
//! (`io_streams`, `filesystem_types`, ...) with
//! * the WIT's types as Rust types (records as structs, variants and enums
//!   as enums, flags as bit sets, resources as marker types used in
//!   [`Own`]/[`Borrow`] handles, `type` aliases as aliases);
//! * `Host`, the trait the shims implement (on `WasiCtx`): one method per
//!   function with typed parameters and results (`string` and `list<u8>`
//!   parameters as views of guest memory, `&str` / `&[u8]`), plus
//!   `drop_<resource>` per resource; an `Err(HostError)` traps the guest;
//! * `sig`: each function's declared type as a `StaticFuncType` (and each
//!   named type as a `StaticType`), for import type-checking;
//! * `glue`: per function, the flat glue, generic over [`Guest`] (see
//!   `crate::glue`), and per named type its `load_`/`store_` at build-time
//!   offsets.
//!
//! And the tables, in interface order: [`RESOURCES`] (the index of a
//! resource is its `HostResource`), [`FUNCS`], and the same as macros for
//! code that stamps one item per function:
//! * `for_each_wasi_func!(m)` calls, per function,
//!   `m!(ident, "wasi:io/streams@0.2.12", "[method]output-stream.write",
//!   (p0: i32, p1: i32, p2: i32, p3: i32) -> (), glue::path, sig::PATH);`
//!   where the parameter list and result are the exact `canon lower` core
//!   signature (`-> ()` without a flat result; the `retptr`, if any, is the
//!   last parameter) and `ident` is unique (`<module>__<method>`);
//! * `for_each_wasi_resource!(m)` calls, per resource,
//!   `m!(ident, "wasi:io/streams@0.2.12", "output-stream", 3, drop::path);`
//!   where `3` is the `HostResource` index and `drop::path(host, rep)` runs
//!   the host's destructor.

pub use crate::error::HostError;
pub use crate::glue::{rt, Borrow, Fail, FuncDecl, Guest, Own, Resource, ResourceDecl, ReuseBytes};
pub use canonical_abi::{AbiError, CoreType, HostResource, StaticFuncType, StaticType};

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
