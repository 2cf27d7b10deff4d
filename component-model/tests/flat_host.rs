//! Host functions registered on their flat form (`Linker::func_flat`): a
//! guest writes bytes to a host stream resource through a `list<u8>` view
//! of its memory, gets `result` values through the `retptr` (typed
//! shortcuts and the general `FlatCall::ret`, with `realloc` for a string
//! and for a `list<u8>` read result),
//! and every misuse (bad handle, out-of-bounds list, wrong accessor type,
//! missing result, calling it from the host) is a clear error.

use canonical_abi::Val;
use component_model::{Component, Error, Linker};
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
    let mut l: Linker<Out> = Linker::new();
    let i = "test:io/out@0.1.0";
    l.func_flat(i, "open", |cx| {
        cx.data_mut().next += 1;
        let rep = cx.data().next;
        cx.ret_own(rep)
    });
    l.func_flat(i, "[method]stream.write", |cx| {
        let rep = cx.arg_resource(0)?;
        assert_eq!(rep, cx.data().next, "the borrow lifts to the rep");
        let bytes = cx.arg_bytes(1)?.to_vec();
        if bytes == b"bad" {
            return cx.ret(&Val::Result(Err(Some(Box::new(Val::String("bad".into()))))));
        }
        cx.data_mut().written.extend_from_slice(&bytes);
        cx.ret_ok_unit()
    });
    l.func_flat(i, "[method]stream.budget", |cx| {
        cx.arg_resource(0)?;
        cx.ret_ok_u64(1 << 40)
    });
    l.func_flat(i, "[method]stream.read", |cx| {
        cx.arg_resource(0)?;
        let n = cx.arg_u64(1)? as usize;
        cx.ret_ok_bytes(&b"abcdefgh"[..n])
    });
    l.func_flat(i, "mix", |cx| {
        // Reading parameter 0 as the wrong type traps; the general path works.
        assert!(cx.arg_u64(0).is_err());
        let a = cx.arg_u32(0)?;
        let b = cx.arg_u64(1)?;
        assert_eq!(cx.arg(1)?, Val::U64(5));
        cx.ret(&Val::U64(u64::from(a) * 100 + b))
    });
    l.func_flat(i, "silent", |_| Ok(()));
    l.resource_dtor(i, "stream", |o: &mut Out, rep| {
        o.dropped.push(rep);
        Ok(())
    });
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
