//! Instantiates a real Rust `wasm32-wasip2` hello-world component
//! (`tests/data/hello-p2.wasm`, see `tests/data/README.md`) against stub
//! WASI host functions that record their calls, runs its
//! `wasi:cli/run@0.2.x#run` export, and checks "Hello, world!" was written
//! through `wasi:io/streams#[method]output-stream.write`.
//!
//! The stubs are registered at `@0.2.12` while the component imports
//! `@0.2.6`: that exercises semver-compatible import matching.

use canonical_abi::Val;
use component_model::{Component, Error, Linker};
use core_vm::{Engine, Store};

#[derive(Default)]
struct Recorder {
    calls: Vec<String>,
    stdout: Vec<u8>,
    dropped: Vec<u32>,
}

const STDOUT: u32 = 1;
const STDERR: u32 = 2;
const STDIN: u32 = 3;

fn ok(v: Option<Val>) -> Val {
    Val::Result(Ok(v.map(Box::new)))
}

fn linker() -> Linker<Recorder> {
    let mut l: Linker<Recorder> = Linker::new();
    let io = "wasi:io/streams@0.2.12";
    l.func("wasi:cli/stdout@0.2.12", "get-stdout", |cx, _| {
        cx.data_mut().calls.push("get-stdout".into());
        Ok(vec![Val::Resource(STDOUT)])
    });
    l.func("wasi:cli/stderr@0.2.12", "get-stderr", |cx, _| {
        cx.data_mut().calls.push("get-stderr".into());
        Ok(vec![Val::Resource(STDERR)])
    });
    l.func("wasi:cli/stdin@0.2.12", "get-stdin", |cx, _| {
        cx.data_mut().calls.push("get-stdin".into());
        Ok(vec![Val::Resource(STDIN)])
    });
    l.func(io, "[method]output-stream.check-write", |cx, args| {
        cx.data_mut()
            .calls
            .push(format!("check-write({:?})", args[0]));
        Ok(vec![ok(Some(Val::U64(4096)))])
    });
    l.func(io, "[method]output-stream.write", |cx, args| {
        let Val::List(bytes) = &args[1] else {
            return Err(cx.trap("contents is not a list"));
        };
        let bytes: Vec<u8> = bytes
            .iter()
            .map(|b| if let Val::U8(b) = b { *b } else { 0 })
            .collect();
        let rec = cx.data_mut();
        rec.calls
            .push(format!("write({:?}, {} bytes)", args[0], bytes.len()));
        if args[0] == Val::Resource(STDOUT) {
            rec.stdout.extend_from_slice(&bytes);
        }
        Ok(vec![ok(None)])
    });
    l.func(io, "[method]output-stream.blocking-flush", |cx, _| {
        cx.data_mut().calls.push("blocking-flush".into());
        Ok(vec![ok(None)])
    });
    l.func(
        io,
        "[method]output-stream.blocking-write-and-flush",
        |cx, args| {
            let Val::List(bytes) = &args[1] else {
                return Err(cx.trap("contents is not a list"));
            };
            let bytes: Vec<u8> = bytes
                .iter()
                .map(|b| if let Val::U8(b) = b { *b } else { 0 })
                .collect();
            let rec = cx.data_mut();
            rec.calls.push("blocking-write-and-flush".into());
            rec.stdout.extend_from_slice(&bytes);
            Ok(vec![ok(None)])
        },
    );
    l.func(io, "[method]output-stream.subscribe", |cx, _| {
        cx.data_mut().calls.push("subscribe".into());
        Ok(vec![Val::Resource(100)])
    });
    l.func(
        "wasi:io/poll@0.2.12",
        "[method]pollable.block",
        |cx, args| {
            cx.data_mut().calls.push(format!("block({:?})", args[0]));
            Ok(vec![])
        },
    );
    l.func("wasi:cli/environment@0.2.12", "get-environment", |cx, _| {
        cx.data_mut().calls.push("get-environment".into());
        Ok(vec![Val::List(vec![])])
    });
    l.func("wasi:cli/environment@0.2.12", "get-arguments", |cx, _| {
        cx.data_mut().calls.push("get-arguments".into());
        Ok(vec![Val::List(vec![Val::string("hello")])])
    });
    for which in ["stdin", "stdout", "stderr"] {
        l.func(
            &format!("wasi:cli/terminal-{which}@0.2.12"),
            &format!("get-terminal-{which}"),
            |_, _| Ok(vec![Val::Option(None)]),
        );
    }
    l.resource_dtor(
        "wasi:io/streams@0.2.12",
        "output-stream",
        |rec: &mut Recorder, rep| {
            rec.dropped.push(rep);
            Ok(())
        },
    );
    l.stub_missing(true);
    l
}

fn hello_bytes() -> Option<Vec<u8>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/hello-p2.wasm");
    std::fs::read(path).ok()
}

#[test]
fn hello_world_runs() {
    let Some(bytes) = hello_bytes() else {
        eprintln!("skipping: tests/data/hello-p2.wasm is missing (run tests/build-hello.sh)");
        return;
    };
    let engine = Engine::default();
    let component = Component::new(&engine, &bytes).expect("component translates");
    let (modules, core_instances, _, instances) = component.stats();
    assert_eq!(modules, 3, "main, shim, fixup");
    assert_eq!(core_instances, 3);
    assert_eq!(instances, 2, "the root and the nested run shim");
    let mut store = Store::new(&engine, Recorder::default());
    let instance = linker()
        .instantiate(&mut store, &component)
        .expect("instantiates");
    let run = instance
        .get_instance_func("wasi:cli/run@0.2.0", "run")
        .expect("run export");
    assert!(run.ty().params.is_empty());
    let out = run.call(&mut store, &[]).expect("run succeeds");
    assert_eq!(out, vec![Val::Result(Ok(None))]);
    let rec = store.data();
    assert_eq!(
        String::from_utf8_lossy(&rec.stdout),
        "Hello, world!\n",
        "calls: {:?}",
        rec.calls
    );
    assert!(
        rec.calls.iter().any(|c| c == "get-stdout"),
        "calls: {:?}",
        rec.calls
    );
    assert!(
        rec.calls
            .iter()
            .any(|c| c == "write(Resource(1), 14 bytes)"),
        "calls: {:?}",
        rec.calls
    );
    // Semver-compatible lookup of the export works with other patch versions too.
    assert!(instance
        .get_instance_func("wasi:cli/run@0.2.12", "run")
        .is_some());
    assert!(instance
        .get_instance_func("wasi:cli/run@0.3.0", "run")
        .is_none());
}

#[test]
fn hello_world_missing_import_is_reported() {
    let Some(bytes) = hello_bytes() else { return };
    let engine = Engine::default();
    let component = Component::new(&engine, &bytes).unwrap();
    let mut store = Store::new(&engine, Recorder::default());
    let mut l: Linker<Recorder> = Linker::new();
    l.func("wasi:cli/stdout@0.2.12", "get-stdout", |_, _| {
        Ok(vec![Val::Resource(STDOUT)])
    });
    let err = l
        .instantiate(&mut store, &component)
        .err()
        .expect("missing imports");
    let Error::Import { kind, name, causes } = &err else {
        panic!("unexpected error {err}")
    };
    // The first import with a missing item, in import order: wasi:io/poll,
    // whose resource nothing defines.
    assert_eq!((*kind, name.as_str()), ("instance", "wasi:io/poll@0.2.6"));
    assert_eq!(
        causes,
        &[
            "instance export `pollable` has the wrong type",
            "resource implementation is missing"
        ]
    );
}

#[test]
fn hello_world_stubbed_import_traps_naming_itself() {
    let Some(bytes) = hello_bytes() else { return };
    let engine = Engine::default();
    let component = Component::new(&engine, &bytes).unwrap();
    let mut store = Store::new(&engine, Recorder::default());
    let mut l: Linker<Recorder> = Linker::new();
    l.stub_missing(true);
    let instance = l
        .instantiate(&mut store, &component)
        .expect("stubs instantiate");
    let run = instance
        .get_instance_func("wasi:cli/run@0.2.0", "run")
        .unwrap();
    let err = run.call(&mut store, &[]).expect_err("a stub traps");
    let msg = err.to_string();
    assert!(msg.contains("wasi:") && msg.contains("stubbed"), "{msg}");
}

/// Truncated and bit-flipped variants of a real component never panic:
/// they are rejected with an error (or, rarely, still valid).
#[test]
fn corrupted_components_do_not_panic() {
    let Some(bytes) = hello_bytes() else { return };
    let engine = Engine::default();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..64 {
        let len = (bytes.len() * i) / 64;
        if let Err(e) = Component::new(&engine, &bytes[..len]) {
            assert!(
                matches!(e, Error::Validation { .. }),
                "truncated at {len}: {e}"
            );
        }
    }
    for _ in 0..150 {
        let mut b = bytes.clone();
        for _ in 0..1 + next() % 4 {
            let at = (next() % b.len() as u64) as usize;
            b[at] ^= 1 << (next() % 8);
        }
        if let Ok(c) = Component::new(&engine, &b) {
            // Still valid: it must also instantiate or fail cleanly.
            let mut store = Store::new(&engine, Recorder::default());
            let _ = linker().instantiate(&mut store, &c);
        }
    }
}
