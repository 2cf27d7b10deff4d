//! Host functions registered on their flat form with a declared type
//! (`Linker::func_typed`), written by hand here as the WASI shims' glue is
//! generated: a guest writes bytes to a host stream resource through a
//! `list<u8>` view of its memory, gets `result` values through the `retptr`
//! (with `realloc` for a string and for a `list<u8>` read result), every
//! misuse (bad handle, out-of-bounds list, wrong flat type, missing result,
//! calling it from the host) is a clear error, and an import whose type
//! differs from the declared one, or a missing resource, fails
//! instantiation in wasmtime's words.

use canonical_abi::context::check_pointer;
use canonical_abi::lift::lift_bytes;
use canonical_abi::{AbiError, HostResource, StaticFuncType, StaticType, Val};
use component_model::{Component, Error, FlatCall, Linker, Trap};
use core_vm::{Engine, Store};

mod common;
use common::LIBC;

/// The component under test; `{LIBC}` is spliced in by [`wat`].
const WAT: &str = r#"(component
    (import "test:io/out@0.1.0" (instance $io
      (export "stream" (type $stream (sub resource)))
      (export "open" (func (result (own $stream))))
      (export "[method]stream.write" (func (param "self" (borrow $stream)) (param "data" (list u8))
        (result (result (error string)))))
      (export "[method]stream.budget" (func (param "self" (borrow $stream)) (result (result u64 (error string)))))
      (export "[method]stream.read" (func (param "self" (borrow $stream)) (param "len" u64)
        (result (result (list u8) (error string)))))
      (export "mix" (func (param "a" u32) (param "b" u64) (result u64)))
      (export "silent" (func (result u32)))))
    (alias export $io "stream" (type $stream))
    {LIBC}
    (core func $open (canon lower (func $io "open")))
    (core func $write (canon lower (func $io "[method]stream.write") (memory (core memory $libc "mem"))
      (realloc (core func $libc "realloc"))))
    (core func $budget (canon lower (func $io "[method]stream.budget") (memory (core memory $libc "mem"))
      (realloc (core func $libc "realloc"))))
    (core func $read (canon lower (func $io "[method]stream.read") (memory (core memory $libc "mem"))
      (realloc (core func $libc "realloc"))))
    (core func $mix (canon lower (func $io "mix")))
    (core func $silent (canon lower (func $io "silent")))
    (core func $drop (canon resource.drop $stream))
    (core module $m
      (import "libc" "mem" (memory 1))
      (import "io" "open" (func $open (result i32)))
      (import "io" "write" (func $write (param i32 i32 i32 i32)))
      (import "io" "budget" (func $budget (param i32 i32)))
      (import "io" "read" (func $read (param i32 i64 i32)))
      (import "io" "mix" (func $mix (param i32 i64) (result i64)))
      (import "io" "silent" (func $silent (result i32)))
      (import "io" "drop" (func $drop (param i32)))
      (data (i32.const 16) "hello, world")
      ;; Writes "hello" and ", world", then "bad" (the host answers err("bad")),
      ;; drops the stream (so the lends have ended) and returns
      ;; disc1 + 10*disc3 + 100*len(err string) + 1000*(first byte of err == 'b').
      (func (export "run") (result i32)
        (local $h i32) (local $s i32)
        (local.set $h (call $open))
        (call $write (local.get $h) (i32.const 16) (i32.const 5) (i32.const 256))
        (local.set $s (i32.load8_u (i32.const 256)))
        (call $write (local.get $h) (i32.const 21) (i32.const 7) (i32.const 256))
        (local.set $s (i32.add (local.get $s) (i32.load8_u (i32.const 256))))
        (i32.store8 (i32.const 40) (i32.const 98)) (i32.store8 (i32.const 41) (i32.const 97))
        (i32.store8 (i32.const 42) (i32.const 100))
        (call $write (local.get $h) (i32.const 40) (i32.const 3) (i32.const 256))
        (local.set $s (i32.add (local.get $s) (i32.mul (i32.const 10) (i32.load8_u (i32.const 256)))))
        (local.set $s (i32.add (local.get $s) (i32.mul (i32.const 100) (i32.load (i32.const 264)))))
        (local.set $s (i32.add (local.get $s)
          (i32.mul (i32.const 1000) (i32.eq (i32.load8_u (i32.load (i32.const 260))) (i32.const 98)))))
        (call $drop (local.get $h))
        local.get $s)
      (func (export "budget") (result i64)
        (local $h i32)
        (local.set $h (call $open))
        (call $budget (local.get $h) (i32.const 512))
        (call $drop (local.get $h))
        (i64.add (i64.load (i32.const 520)) (i64.extend_i32_u (i32.load8_u (i32.const 512)))))
      ;; Reads 5 bytes: disc + 10*len + 100*(ptr is a realloc'd block) + 1000*(bytes[4] == 'e').
      (func (export "read") (result i32)
        (local $h i32)
        (local.set $h (call $open))
        (call $read (local.get $h) (i64.const 5) (i32.const 600))
        (call $drop (local.get $h))
        (i32.add (i32.add (i32.load8_u (i32.const 600)) (i32.mul (i32.const 10) (i32.load (i32.const 608))))
          (i32.add (i32.mul (i32.const 100) (i32.ge_u (i32.load (i32.const 604)) (i32.const 1024)))
            (i32.mul (i32.const 1000) (i32.eq (i32.load8_u (i32.add (i32.load (i32.const 604)) (i32.const 4)))
              (i32.const 101))))))
      (func (export "mix") (result i64) (call $mix (i32.const 7) (i64.const 5)))
      (func (export "out-of-bounds")
        (call $write (call $open) (i32.const 65530) (i32.const 100) (i32.const 256)))
      (func (export "misaligned-retptr")
        (call $budget (call $open) (i32.const 513)))
      (func (export "bad-handle")
        (call $write (i32.const 77) (i32.const 16) (i32.const 5) (i32.const 256)))
      (func (export "silent") (result i32) (call $silent)))
    (core instance $i (instantiate $m (with "libc" (instance $libc)) (with "io" (instance
      (export "open" (func $open)) (export "write" (func $write)) (export "budget" (func $budget)) (export "read" (func $read))
      (export "mix" (func $mix)) (export "silent" (func $silent)) (export "drop" (func $drop))))))
    (func (export "run") (result u32) (canon lift (core func $i "run")))
    (func (export "budget") (result u64) (canon lift (core func $i "budget")))
    (func (export "read") (result u32) (canon lift (core func $i "read")))
    (func (export "mix") (result u64) (canon lift (core func $i "mix")))
    (func (export "out-of-bounds") (canon lift (core func $i "out-of-bounds")))
    (func (export "misaligned-retptr") (canon lift (core func $i "misaligned-retptr")))
    (func (export "bad-handle") (canon lift (core func $i "bad-handle")))
    (func (export "silent") (result u32) (canon lift (core func $i "silent")))
    (export "mix-import" (func $io "mix")))"#;

const STREAM: HostResource = HostResource(0);
static OPEN: StaticFuncType = StaticFuncType {
    params: &[],
    result: Some(StaticType::Own(STREAM)),
};
static WRITE: StaticFuncType = StaticFuncType {
    params: &[
        ("self", StaticType::Borrow(STREAM)),
        ("data", StaticType::List(&StaticType::U8)),
    ],
    result: Some(StaticType::Result {
        ok: None,
        err: Some(&StaticType::String),
    }),
};
static BUDGET: StaticFuncType = StaticFuncType {
    params: &[("self", StaticType::Borrow(STREAM))],
    result: Some(StaticType::Result {
        ok: Some(&StaticType::U64),
        err: Some(&StaticType::String),
    }),
};
static READ: StaticFuncType = StaticFuncType {
    params: &[
        ("self", StaticType::Borrow(STREAM)),
        ("len", StaticType::U64),
    ],
    result: Some(StaticType::Result {
        ok: Some(&StaticType::List(&StaticType::U8)),
        err: Some(&StaticType::String),
    }),
};
static MIX: StaticFuncType = StaticFuncType {
    params: &[("a", StaticType::U32), ("b", StaticType::U64)],
    result: Some(StaticType::U64),
};
static SILENT: StaticFuncType = StaticFuncType {
    params: &[],
    result: Some(StaticType::U32),
};

fn abi(cx: &FlatCall<'_, Out>, e: AbiError) -> Trap {
    cx.trap(e.to_string())
}

/// Writes `bytes` into a fresh `realloc`ed block; returns its pointer.
fn alloc_copy(cx: &mut FlatCall<'_, Out>, bytes: &[u8]) -> Result<u32, Trap> {
    let p = cx.realloc(0, 0, 1, bytes.len() as u32)?;
    cx.write(p, bytes).map_err(|e| abi(cx, e))?;
    Ok(p)
}

/// The `retptr` (flat argument `i`), checked for a `result<_, string>`-like
/// value of `size` bytes aligned to `align`.
fn retptr(cx: &FlatCall<'_, Out>, i: usize, align: u32, size: u32) -> Result<u32, Trap> {
    let ret = cx.arg_i32(i)? as u32;
    let len = cx.memory().map_err(|e| abi(cx, e))?.len() as u64;
    check_pointer(ret, align, size, len).map_err(|e| abi(cx, e))?;
    Ok(ret)
}

fn write_all(cx: &mut FlatCall<'_, Out>, parts: &[(u32, &[u8])]) -> Result<(), Trap> {
    for (at, b) in parts {
        cx.write(*at, b).map_err(|e| abi(cx, e))?;
    }
    Ok(())
}

/// The host of the test component, with `write` declared as `write_ty`.
fn linker(write_ty: &'static StaticFuncType) -> Linker<Out> {
    let mut l: Linker<Out> = Linker::new();
    let i = "test:io/out@0.1.0";
    l.func_typed(i, "open", &OPEN, |cx| {
        cx.data_mut().next += 1;
        let rep = cx.data().next;
        let h = cx.lower_own(STREAM, rep).map_err(|e| abi(cx, e))?;
        cx.set_result_i32(h as i32)
    });
    l.func_typed(i, "[method]stream.write", write_ty, |cx| {
        let h = cx.arg_i32(0)? as u32;
        let rep = cx.lift_borrow(STREAM, h).map_err(|e| abi(cx, e))?;
        assert_eq!(rep, cx.data().next, "the borrow lifts to the rep");
        let (p, n) = (cx.arg_i32(1)? as u32, cx.arg_i32(2)? as u32);
        let mem = cx.memory().map_err(|e| abi(cx, e))?;
        let bytes = lift_bytes(mem, p, n).map_err(|e| abi(cx, e))?.to_vec();
        let ret = retptr(cx, 3, 4, 12)?;
        if bytes == b"bad" {
            let s = alloc_copy(cx, b"bad")?;
            return write_all(
                cx,
                &[
                    (ret, &[1]),
                    (ret + 4, &s.to_le_bytes()),
                    (ret + 8, &3u32.to_le_bytes()),
                ],
            );
        }
        cx.data_mut().written.extend_from_slice(&bytes);
        write_all(cx, &[(ret, &[0])])
    });
    l.func_typed(i, "[method]stream.budget", &BUDGET, |cx| {
        let h = cx.arg_i32(0)? as u32;
        cx.lift_borrow(STREAM, h).map_err(|e| abi(cx, e))?;
        let ret = retptr(cx, 1, 8, 16)?;
        write_all(cx, &[(ret, &[0]), (ret + 8, &(1u64 << 40).to_le_bytes())])
    });
    l.func_typed(i, "[method]stream.read", &READ, |cx| {
        let h = cx.arg_i32(0)? as u32;
        cx.lift_borrow(STREAM, h).map_err(|e| abi(cx, e))?;
        let n = cx.arg_i64(1)? as usize;
        let ret = retptr(cx, 2, 4, 12)?;
        let p = alloc_copy(cx, &b"abcdefgh"[..n])?;
        write_all(
            cx,
            &[
                (ret, &[0]),
                (ret + 4, &p.to_le_bytes()),
                (ret + 8, &(n as u32).to_le_bytes()),
            ],
        )
    });
    l.func_typed(i, "mix", &MIX, |cx| {
        // Reading flat argument 0 as the wrong core type traps.
        assert!(cx.arg_i64(0).is_err());
        let a = cx.arg_i32(0)? as u32;
        let b = cx.arg_i64(1)? as u64;
        cx.set_result_i64((u64::from(a) * 100 + b) as i64)
    });
    l.func_typed(i, "silent", &SILENT, |_| Ok(()));
    l.resource(i, "stream", STREAM, |o: &mut Out, rep| {
        o.dropped.push(rep);
        Ok(())
    });
    l
}

#[derive(Default)]
struct Out {
    next: u32,
    written: Vec<u8>,
    dropped: Vec<u32>,
}

fn setup() -> (Store<Out>, component_model::ComponentInstance<Out>) {
    let engine = Engine::default();
    let bytes = wat::parse_str(WAT.replace("{LIBC}", LIBC)).expect("valid WAT");
    let c = Component::new(&engine, &bytes).unwrap_or_else(|e| panic!("component: {e}"));
    let mut store = Store::new(
        &engine,
        Out {
            next: 40,
            ..Default::default()
        },
    );
    let l = linker(&WRITE);
    let inst = l
        .instantiate(&mut store, &c)
        .unwrap_or_else(|e| panic!("instantiate: {e}"));
    (store, inst)
}

#[test]
fn flat_host_functions_read_guest_memory_and_lower_results() {
    let (mut store, inst) = setup();
    let out = inst.get_func("run").unwrap().call(&mut store, &[]).unwrap();
    // ok, ok (0 + 0), err (10), "bad" has 3 bytes (300), starts with 'b' (1000).
    assert_eq!(out, vec![Val::U32(1310)]);
    assert_eq!(store.data().written, b"hello, world");
    assert_eq!(
        store.data().dropped,
        vec![41],
        "the lends ended, so the drop ran the dtor"
    );
    let out = inst
        .get_func("budget")
        .unwrap()
        .call(&mut store, &[])
        .unwrap();
    assert_eq!(
        out,
        vec![Val::U64(1 << 40)],
        "ok discriminant 0 and the u64 at offset 8"
    );
    let out = inst
        .get_func("read")
        .unwrap()
        .call(&mut store, &[])
        .unwrap();
    assert_eq!(
        out,
        vec![Val::U32(1150)],
        "ok, 5 bytes in a realloc'd block, ending in 'e'"
    );
    let out = inst.get_func("mix").unwrap().call(&mut store, &[]).unwrap();
    assert_eq!(out, vec![Val::U64(705)]);
}

fn trap_of(name: &str) -> String {
    let (mut store, inst) = setup();
    let err = inst
        .get_func(name)
        .unwrap()
        .call(&mut store, &[])
        .unwrap_err();
    assert!(err.is_trap(), "{name}: {err}");
    err.to_string()
}

#[test]
fn flat_host_function_misuse_traps_clearly() {
    let e = trap_of("out-of-bounds");
    assert!(
        e.contains("[method]stream.write") && e.contains("out of bounds"),
        "{e}"
    );
    let e = trap_of("misaligned-retptr");
    assert!(
        e.contains("[method]stream.budget") && e.contains("aligned"),
        "{e}"
    );
    let e = trap_of("bad-handle");
    assert!(e.contains("invalid resource handle"), "{e}");
    let e = trap_of("silent");
    assert!(
        e.contains("silent") && e.contains("returned no result"),
        "{e}"
    );
}

#[test]
fn flat_host_functions_are_not_callable_with_vals() {
    let (mut store, inst) = setup();
    let f = inst.get_func("mix-import").expect("the re-exported import");
    let err = f.call(&mut store, &[Val::U32(1), Val::U64(2)]).unwrap_err();
    assert!(
        matches!(err, Error::Unsupported(_)) && err.to_string().contains("flat host function"),
        "{err}"
    );
}

fn instantiate_error(l: &Linker<Out>) -> Error {
    let engine = Engine::default();
    let bytes = wat::parse_str(WAT.replace("{LIBC}", LIBC)).expect("valid WAT");
    let c = Component::new(&engine, &bytes).unwrap();
    let mut store = Store::new(&engine, Out::default());
    l.instantiate(&mut store, &c)
        .err()
        .expect("instantiation fails")
}

static WRITE_U16: StaticFuncType = StaticFuncType {
    params: &[
        ("self", StaticType::Borrow(STREAM)),
        ("data", StaticType::List(&StaticType::U16)),
    ],
    result: WRITE.result,
};

#[test]
fn an_import_of_another_type_fails_instantiation_in_wasmtimes_words() {
    let err = instantiate_error(&linker(&WRITE_U16));
    let Error::Import { kind, name, causes } = &err else {
        panic!("{err}")
    };
    assert_eq!((*kind, name.as_str()), ("instance", "test:io/out@0.1.0"));
    assert_eq!(
        causes,
        &[
            "instance export `[method]stream.write` has the wrong type",
            "type mismatch with parameters",
            "expected `u16` found `u8`"
        ]
    );
    assert_eq!(
        err.to_string(),
        "component imports instance `test:io/out@0.1.0`, but a matching implementation was not found in the linker: instance export `[method]stream.write` has the wrong type: type mismatch with parameters: expected `u16` found `u8`"
    );
}

#[test]
fn a_missing_resource_fails_instantiation_in_wasmtimes_words() {
    // A host with one function and no resource.
    let mut l: Linker<Out> = Linker::new();
    l.func_typed("test:io/out@0.1.0", "open", &OPEN, |_| Ok(()));
    let err = instantiate_error(&l);
    let Error::Import { causes, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(
        causes,
        &[
            "instance export `stream` has the wrong type",
            "resource implementation is missing"
        ]
    );
    // With the resource but a function missing: the first missing function.
    l.resource("test:io/out@0.1.0", "stream", STREAM, |_, _| Ok(()));
    let err = instantiate_error(&l);
    let Error::Import { causes, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(
        causes,
        &[
            "instance export `[method]stream.write` has the wrong type",
            "function implementation is missing"
        ]
    );
}

#[test]
fn a_resource_of_another_host_index_is_a_resource_type_mismatch() {
    let mut l = linker(&WRITE);
    // `stream` registered under another host index than the declared types use.
    l.resource(
        "test:io/out@0.1.0",
        "stream",
        HostResource(7),
        |_, _| Ok(()),
    );
    let err = instantiate_error(&l);
    let Error::Import { causes, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(
        causes,
        &[
            "instance export `open` has the wrong type",
            "type mismatch with results",
            "resource type mismatch"
        ]
    );
}
