//! Small components written as WAT: lifting and lowering through host
//! functions (flat, spilled params, `retptr` results, strings with
//! `realloc` and `post-return`), resources (`resource.new` / `rep` / `drop`,
//! destructors, own/borrow across the host boundary), nested components
//! (guest-to-guest calls, outer aliases), and error reporting.

use canonical_abi::{Val, ValueType};
use component_model::{Component, Error, Linker};
use core_vm::{Engine, Store};

mod common;
use common::LIBC;

fn component(wat: &str) -> (Engine, Component) {
    let bytes = wat::parse_str(wat).expect("valid WAT");
    let engine = Engine::default();
    let c = Component::new(&engine, &bytes).unwrap_or_else(|e| panic!("component: {e}"));
    (engine, c)
}

#[test]
fn lift_scalar_export() {
    let (engine, c) = component(
        r#"(component
            (core module $m
              (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
            (core instance $i (instantiate $m))
            (func (export "add") (param "a" u32) (param "b" u32) (result u32)
              (canon lift (core func $i "add"))))"#,
    );
    let mut store = Store::new(&engine, ());
    let inst = Linker::new().instantiate(&mut store, &c).unwrap();
    let add = inst.get_func("add").unwrap();
    assert_eq!(add.ty().params.len(), 2);
    assert_eq!(
        add.call(&mut store, &[Val::U32(2), Val::U32(40)]).unwrap(),
        vec![Val::U32(42)]
    );
    // Type-checked against the function type.
    let err = add
        .call(&mut store, &[Val::U32(2), Val::S32(40)])
        .unwrap_err();
    assert!(matches!(err, Error::Type { .. }), "{err}");
    let err = add.call(&mut store, &[Val::U32(2)]).unwrap_err();
    assert!(matches!(err, Error::Type { .. }), "{err}");
    assert!(inst.get_func("nope").is_none());
}

#[test]
fn strings_through_host_with_realloc_and_post_return() {
    let wat = format!(
        r#"(component
            (import "test:host/greet@1.0.0" (instance $h
              (export "greet" (func (param "name" string) (result string)))))
            {LIBC}
            (core func $greet (canon lower (func $h "greet") (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
            (core module $main
              (import "libc" "mem" (memory 1))
              (import "host" "greet" (func $greet (param i32 i32 i32)))
              (global $post (mut i32) (i32.const 0))
              (func (export "run") (param i32 i32) (result i32)
                local.get 0 local.get 1 i32.const 16 call $greet
                i32.const 16)
              (func (export "post") (param i32) global.get $post i32.const 1 i32.add global.set $post)
              (func (export "posts") (result i32) global.get $post))
            (core instance $main (instantiate $main
              (with "libc" (instance $libc))
              (with "host" (instance (export "greet" (func $greet))))))
            (func (export "run") (param "s" string) (result string)
              (canon lift (core func $main "run") (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))
                (post-return (core func $main "post"))))
            (func (export "posts") (result u32) (canon lift (core func $main "posts"))))"#
    );
    let (engine, c) = component(&wat);
    let mut store = Store::new(&engine, Vec::<String>::new());
    let mut linker: Linker<Vec<String>> = Linker::new();
    // Registered at 1.2.0; the component imports 1.0.0 (compatible).
    linker.func("test:host/greet@1.2.0", "greet", |cx, args| {
        let Val::String(s) = &args[0] else {
            return Err(cx.trap("not a string"));
        };
        cx.data_mut().push(s.as_str().to_string());
        Ok(vec![Val::string(format!("Hello, {}!", s.as_str()))])
    });
    let inst = linker.instantiate(&mut store, &c).unwrap();
    let run = inst.get_func("run").unwrap();
    let out = run.call(&mut store, &[Val::string("world")]).unwrap();
    assert_eq!(out, vec![Val::string("Hello, world!")]);
    assert_eq!(store.data(), &vec!["world".to_string()]);
    let posts = inst
        .get_func("posts")
        .unwrap()
        .call(&mut store, &[])
        .unwrap();
    assert_eq!(posts, vec![Val::U32(1)], "post-return ran once");
}

#[test]
fn spilled_params_and_retptr_results() {
    let params: String = (0..17).map(|i| format!("(param \"p{i}\" u32) ")).collect();
    let wat = format!(
        r#"(component
            (import "pair" (func $pair (result (tuple u64 u64))))
            {LIBC}
            (core func $pair (canon lower (func $pair) (memory (core memory $libc "mem"))))
            (core module $main
              (import "libc" "mem" (memory 1))
              (import "host" "pair" (func $pair (param i32)))
              (func (export "first-last") (param i32) (result i32)
                (i32.add (i32.load (local.get 0)) (i32.load offset=64 (local.get 0))))
              (func (export "sum-pair") (result i64)
                (call $pair (i32.const 8))
                (i64.add (i64.load (i32.const 8)) (i64.load (i32.const 16)))))
            (core instance $main (instantiate $main
              (with "libc" (instance $libc))
              (with "host" (instance (export "pair" (func $pair))))))
            (func (export "first-last") {params} (result u32)
              (canon lift (core func $main "first-last") (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
            (func (export "sum-pair") (result u64) (canon lift (core func $main "sum-pair"))))"#
    );
    let (engine, c) = component(&wat);
    let mut store = Store::new(&engine, ());
    let mut linker: Linker<()> = Linker::new();
    linker.root_func("pair", |_, _| {
        Ok(vec![Val::Tuple(vec![Val::U64(40), Val::U64(2)])])
    });
    let inst = linker.instantiate(&mut store, &c).unwrap();
    let args: Vec<Val> = (0..17).map(|i| Val::U32(i * 10 + 1)).collect();
    let out = inst
        .get_func("first-last")
        .unwrap()
        .call(&mut store, &args)
        .unwrap();
    assert_eq!(out, vec![Val::U32(1 + 161)]);
    let out = inst
        .get_func("sum-pair")
        .unwrap()
        .call(&mut store, &[])
        .unwrap();
    assert_eq!(out, vec![Val::U64(42)]);
}

const RESOURCES: &str = r#"(component
    (core module $dm
      (global $d (export "dropped") (mut i32) (i32.const 0))
      (func (export "dtor") (param i32) local.get 0 global.set $d))
    (core instance $di (instantiate $dm))
    (type $r (resource (rep i32) (dtor (core func $di "dtor"))))
    (core func $new (canon resource.new $r))
    (core func $rep (canon resource.rep $r))
    (core func $drop (canon resource.drop $r))
    (core module $m
      (import "" "new" (func $new (param i32) (result i32)))
      (import "" "rep" (func $rep (param i32) (result i32)))
      (import "" "drop" (func $drop (param i32)))
      (import "d" "dropped" (global $d (mut i32)))
      (func (export "roundtrip") (result i32)
        (local $h i32)
        (local.set $h (call $new (i32.const 42)))
        (call $rep (local.get $h))
        (call $drop (local.get $h))
        global.get $d
        i32.add)
      (func (export "double-drop")
        (local $h i32)
        (local.set $h (call $new (i32.const 7)))
        (call $drop (local.get $h))
        (call $drop (local.get $h)))
      (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
      (func (export "get") (param i32) (result i32) local.get 0)
      (func (export "consume") (param i32) (call $drop (local.get 0)))
      (func (export "dropped") (result i32) global.get $d))
    (core instance $i (instantiate $m
      (with "" (instance (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))))
      (with "d" (instance $di))))
    (export $rr "r" (type $r))
    (func (export "roundtrip") (result u32) (canon lift (core func $i "roundtrip")))
    (func (export "double-drop") (canon lift (core func $i "double-drop")))
    (func (export "make") (param "v" u32) (result (own $rr)) (canon lift (core func $i "make")))
    (func (export "get") (param "x" (borrow $rr)) (result u32) (canon lift (core func $i "get")))
    (func (export "consume") (param "x" (own $rr)) (canon lift (core func $i "consume")))
    (func (export "dropped") (result u32) (canon lift (core func $i "dropped"))))"#;

#[test]
fn resources_new_rep_drop_and_dtor() {
    let (engine, c) = component(RESOURCES);
    let mut store = Store::new(&engine, ());
    let inst = Linker::new().instantiate(&mut store, &c).unwrap();
    let out = inst
        .get_func("roundtrip")
        .unwrap()
        .call(&mut store, &[])
        .unwrap();
    assert_eq!(out, vec![Val::U32(84)], "rep 42 + dtor saw 42");
    let err = inst
        .get_func("double-drop")
        .unwrap()
        .call(&mut store, &[])
        .unwrap_err();
    assert!(err.is_trap(), "{err}");
    assert!(err.to_string().contains("invalid resource handle"), "{err}");
}

#[test]
fn resources_own_and_borrow_across_the_host_boundary() {
    let (engine, c) = component(RESOURCES);
    let mut store = Store::new(&engine, ());
    let inst = Linker::new().instantiate(&mut store, &c).unwrap();
    let make = inst.get_func("make").unwrap();
    assert!(matches!(make.ty().result, Some(ValueType::Own(_))));
    let own = make.call(&mut store, &[Val::U32(5)]).unwrap();
    assert_eq!(own, vec![Val::Resource(5)], "the host holds the rep");
    // A borrow of a resource the callee implements arrives as its rep.
    let got = inst
        .get_func("get")
        .unwrap()
        .call(&mut store, &[Val::Resource(5)])
        .unwrap();
    assert_eq!(got, vec![Val::U32(5)]);
    // Passing the own back: lowered into a new handle, dropped by the guest, dtor runs.
    inst.get_func("consume")
        .unwrap()
        .call(&mut store, &[Val::Resource(5)])
        .unwrap();
    let d = inst
        .get_func("dropped")
        .unwrap()
        .call(&mut store, &[])
        .unwrap();
    assert_eq!(d, vec![Val::U32(5)]);
}

#[test]
fn host_resources_borrow_ends_when_the_call_returns() {
    // The guest gets an own<file> from the host, lends it to the host twice
    // (borrow), then drops it: the host destructor sees the rep.
    let wat = r#"(component
        (import "test:fs/files@0.1.0" (instance $fs
          (export "file" (type $file (sub resource)))
          (export "open" (func (result (own $file))))
          (export "[method]file.size" (func (param "self" (borrow $file)) (result u32)))))
        (alias export $fs "file" (type $file))
        (core func $open (canon lower (func $fs "open")))
        (core func $size (canon lower (func $fs "[method]file.size")))
        (core func $drop (canon resource.drop $file))
        (core module $m
          (import "fs" "open" (func $open (result i32)))
          (import "fs" "size" (func $size (param i32) (result i32)))
          (import "fs" "drop" (func $drop (param i32)))
          (func (export "run") (result i32)
            (local $h i32) (local $s i32)
            (local.set $h (call $open))
            (local.set $s (i32.add (call $size (local.get $h)) (call $size (local.get $h))))
            (call $drop (local.get $h))
            local.get $s)
          (func (export "use-after-drop") (result i32)
            (local $h i32)
            (local.set $h (call $open))
            (call $drop (local.get $h))
            (call $size (local.get $h))))
        (core instance $i (instantiate $m (with "fs" (instance
          (export "open" (func $open)) (export "size" (func $size)) (export "drop" (func $drop))))))
        (func (export "run") (result u32) (canon lift (core func $i "run")))
        (func (export "use-after-drop") (result u32) (canon lift (core func $i "use-after-drop"))))"#;
    let (engine, c) = component(wat);
    // The one imported resource type, under its import's name; its runtime
    // id is the one the imported functions' types use.
    let res = c.imported_resources();
    assert_eq!(res.len(), 1, "{res:?}");
    let (rt, iface, name) = &res[0];
    assert_eq!(
        (iface.as_str(), name.as_str()),
        ("test:fs/files@0.1.0", "file")
    );
    let open = c
        .imported_function_types()
        .into_iter()
        .find(|(n, _)| n.ends_with("#open"))
        .unwrap();
    assert_eq!(open.1.result, Some(ValueType::Own(*rt)));
    #[derive(Default)]
    struct Fs {
        next: u32,
        dropped: Vec<u32>,
    }
    let mut store = Store::new(
        &engine,
        Fs {
            next: 100,
            dropped: vec![],
        },
    );
    let mut linker: Linker<Fs> = Linker::new();
    linker.func("test:fs/files@0.1.3", "open", |cx, _| {
        cx.data_mut().next += 1;
        Ok(vec![Val::Resource(cx.data().next)])
    });
    linker.func("test:fs/files@0.1.3", "[method]file.size", |_, args| {
        let Val::Resource(rep) = args[0] else {
            unreachable!()
        };
        Ok(vec![Val::U32(rep * 10)])
    });
    linker.resource_dtor("test:fs/files@0.1.3", "file", |fs: &mut Fs, rep| {
        fs.dropped.push(rep);
        Ok(())
    });
    let inst = linker.instantiate(&mut store, &c).unwrap();
    let out = inst.get_func("run").unwrap().call(&mut store, &[]).unwrap();
    assert_eq!(out, vec![Val::U32(2020)]);
    assert_eq!(
        store.data().dropped,
        vec![101],
        "dropping the own ran the host dtor"
    );
    let err = inst
        .get_func("use-after-drop")
        .unwrap()
        .call(&mut store, &[])
        .unwrap_err();
    assert!(
        err.is_trap() && err.to_string().contains("invalid resource handle"),
        "{err}"
    );
}

#[test]
fn nested_components_guest_to_guest_and_outer_alias() {
    let wat = r#"(component
        (core module $seven (func (export "seven") (result i32) i32.const 7))
        (component $A
          (core module $m (func (export "double") (param i32) (result i32) local.get 0 i32.const 2 i32.mul))
          (core instance $i (instantiate $m))
          (func (export "double") (param "x" u32) (result u32) (canon lift (core func $i "double"))))
        (component $B
          (import "double" (func $d (param "x" u32) (result u32)))
          (core func $d (canon lower (func $d)))
          (core module $m
            (import "" "d" (func $d (param i32) (result i32)))
            (func (export "quad") (param i32) (result i32) local.get 0 call $d call $d))
          (core instance $i (instantiate $m (with "" (instance (export "d" (func $d))))))
          (func (export "quad") (param "x" u32) (result u32) (canon lift (core func $i "quad"))))
        (component $C
          (alias outer 1 $seven (core module $s))
          (core instance $i (instantiate $s))
          (func (export "seven") (result u32) (canon lift (core func $i "seven"))))
        (instance $a (instantiate $A))
        (instance $b (instantiate $B (with "double" (func $a "double"))))
        (instance $c (instantiate $C))
        (export "quad" (func $b "quad"))
        (export "test:api/api@1.0.0" (instance $a))
        (export "seven" (func $c "seven")))"#;
    let (engine, c) = component(wat);
    assert_eq!(c.stats().3, 4, "root + A + B + C");
    let mut store = Store::new(&engine, ());
    let inst = Linker::new().instantiate(&mut store, &c).unwrap();
    let out = inst
        .get_func("quad")
        .unwrap()
        .call(&mut store, &[Val::U32(3)])
        .unwrap();
    assert_eq!(out, vec![Val::U32(12)]);
    let out = inst
        .get_instance_func("test:api/api@1.0.0", "double")
        .unwrap()
        .call(&mut store, &[Val::U32(4)])
        .unwrap();
    assert_eq!(out, vec![Val::U32(8)]);
    assert!(
        inst.get_instance_func("test:api/api@1.2.0", "double")
            .is_some(),
        "semver-compatible export lookup"
    );
    let out = inst
        .get_func("seven")
        .unwrap()
        .call(&mut store, &[])
        .unwrap();
    assert_eq!(out, vec![Val::U32(7)]);
    let mut names = inst.exported_functions();
    names.sort();
    assert_eq!(names, vec!["quad", "seven", "test:api/api@1.0.0#double"]);
}

#[test]
fn missing_imports_are_reported_as_wasmtime_and_stubs_trap() {
    let wat = r#"(component
        (import "a:b/c@0.2.0" (instance $h
          (export "f" (func))
          (export "g" (func (param "x" u32)))))
        (import "root" (func $root))
        (core func $f (canon lower (func $h "f")))
        (core module $m (import "" "f" (func $f)) (func (export "run") call $f))
        (core instance $i (instantiate $m (with "" (instance (export "f" (func $f))))))
        (func (export "run") (canon lift (core func $i "run"))))"#;
    let (engine, c) = component(wat);
    let mut store = Store::new(&engine, ());
    // The first import with a missing item, in wasmtime's words.
    let err = Linker::new().instantiate(&mut store, &c).err().unwrap();
    match &err {
        Error::Import { kind, name, causes } => {
            assert_eq!((*kind, name.as_str()), ("instance", "a:b/c@0.2.0"));
            assert_eq!(
                causes,
                &[
                    "instance export `f` has the wrong type",
                    "function implementation is missing"
                ]
            );
        }
        other => panic!("{other}"),
    }
    let mut l: Linker<()> = Linker::new();
    l.func("a:b/c@0.2.0", "f", |_, _| Ok(vec![]));
    l.func("a:b/c@0.2.0", "g", |_, _| Ok(vec![]));
    let err = l.instantiate(&mut store, &c).err().unwrap();
    match &err {
        Error::Import { kind, name, causes } => {
            assert_eq!((*kind, name.as_str()), ("function", "root"));
            assert_eq!(causes, &["function implementation is missing"]);
        }
        other => panic!("{other}"),
    }
    let mut l: Linker<()> = Linker::new();
    l.stub_missing(true);
    let inst = l.instantiate(&mut store, &c).unwrap();
    let err = inst
        .get_func("run")
        .unwrap()
        .call(&mut store, &[])
        .unwrap_err();
    assert!(err.to_string().contains("a:b/c@0.2.0#f"), "{err}");
    // An implementation on an incompatible track does not bind.
    let mut l: Linker<()> = Linker::new();
    l.func("a:b/c@0.3.0", "f", |_, _| Ok(vec![]));
    let err = l.instantiate(&mut store, &c).err().unwrap();
    assert!(
        err.to_string().contains(
            "imports instance `a:b/c@0.2.0`, but a matching implementation was not found"
        ),
        "{err}"
    );
}

#[test]
fn host_result_is_type_checked() {
    let wat = r#"(component
        (import "f" (func $f (result u32)))
        (core func $f (canon lower (func $f)))
        (core module $m (import "" "f" (func $f (result i32))) (func (export "run") (result i32) call $f))
        (core instance $i (instantiate $m (with "" (instance (export "f" (func $f))))))
        (func (export "run") (result u32) (canon lift (core func $i "run"))))"#;
    let (engine, c) = component(wat);
    let mut store = Store::new(&engine, ());
    let mut l: Linker<()> = Linker::new();
    l.root_func("f", |_, _| Ok(vec![Val::String("no".into())]));
    let inst = l.instantiate(&mut store, &c).unwrap();
    let err = inst
        .get_func("run")
        .unwrap()
        .call(&mut store, &[])
        .unwrap_err();
    assert!(err.to_string().contains("f"), "{err}");
}

#[test]
fn malformed_and_invalid_components_are_validation_errors() {
    let engine = Engine::default();
    let err = Component::new(&engine, b"\0asm\x0d\0\x01\0\xff").unwrap_err();
    assert!(matches!(err, Error::Validation { .. }), "{err}");
    // A lift whose core function has the wrong type.
    let bytes = wat::parse_str(
        r#"(component
            (core module $m (func (export "f") (param i64)))
            (core instance $i (instantiate $m))
            (func (export "f") (param "x" u32) (canon lift (core func $i "f"))))"#,
    )
    .unwrap();
    match Component::new(&engine, &bytes).unwrap_err() {
        Error::Validation { offset, message } => assert!(offset > 0 && !message.is_empty()),
        other => panic!("{other}"),
    }
    // A core module is not a component.
    let core = wat::parse_str("(module)").unwrap();
    assert!(matches!(
        Component::new(&engine, &core).unwrap_err(),
        Error::Validation { .. }
    ));
}

#[test]
fn nested_component_sees_host_resources_through_its_import() {
    // The inner component gets the host's resource type through an
    // instantiation argument; dropping its own handle must run the host dtor.
    let wat = r#"(component
        (import "test:fs/files@0.1.0" (instance $fs
          (export "file" (type $file (sub resource)))
          (export "open" (func (result (own $file))))
          (export "[method]file.size" (func (param "self" (borrow $file)) (result u32)))))
        (component $Inner
          (import "fs" (instance $fs
            (export "file" (type $file (sub resource)))
            (export "open" (func (result (own $file))))
            (export "[method]file.size" (func (param "self" (borrow $file)) (result u32)))))
          (alias export $fs "file" (type $file))
          (core func $open (canon lower (func $fs "open")))
          (core func $size (canon lower (func $fs "[method]file.size")))
          (core func $drop (canon resource.drop $file))
          (core module $m
            (import "fs" "open" (func $open (result i32)))
            (import "fs" "size" (func $size (param i32) (result i32)))
            (import "fs" "drop" (func $drop (param i32)))
            (func (export "run") (result i32)
              (local $h i32) (local $s i32)
              (local.set $h (call $open))
              (local.set $s (call $size (local.get $h)))
              (call $drop (local.get $h))
              local.get $s))
          (core instance $i (instantiate $m (with "fs" (instance
            (export "open" (func $open)) (export "size" (func $size)) (export "drop" (func $drop))))))
          (func (export "run") (result u32) (canon lift (core func $i "run"))))
        (instance $in (instantiate $Inner (with "fs" (instance $fs))))
        (export "run" (func $in "run")))"#;
    let (engine, c) = component(wat);
    let mut store = Store::new(&engine, Vec::<u32>::new());
    let mut linker: Linker<Vec<u32>> = Linker::new();
    linker.func("test:fs/files@0.1.0", "open", |_, _| {
        Ok(vec![Val::Resource(9)])
    });
    linker.func("test:fs/files@0.1.0", "[method]file.size", |_, args| {
        let Val::Resource(rep) = args[0] else {
            unreachable!()
        };
        Ok(vec![Val::U32(rep + 1)])
    });
    linker.resource_dtor(
        "test:fs/files@0.1.0",
        "file",
        |dropped: &mut Vec<u32>, rep| {
            dropped.push(rep);
            Ok(())
        },
    );
    let inst = linker.instantiate(&mut store, &c).unwrap();
    let out = inst.get_func("run").unwrap().call(&mut store, &[]).unwrap();
    assert_eq!(out, vec![Val::U32(10)]);
    assert_eq!(
        store.data(),
        &vec![9],
        "the host destructor ran for the nested component's drop"
    );
}

#[test]
fn parent_drops_a_resource_defined_by_its_child() {
    // The child defines `r` (with a destructor) and exports it; the parent
    // creates one through the child's `make`, then drops it with its own
    // `resource.drop` of the exported type: the child's destructor runs.
    let wat = r#"(component
        (component $Child
          (core module $dm
            (global $d (export "dropped") (mut i32) (i32.const 0))
            (func (export "dtor") (param i32) local.get 0 global.set $d))
          (core instance $di (instantiate $dm))
          (type $r (resource (rep i32) (dtor (core func $di "dtor"))))
          (core func $new (canon resource.new $r))
          (core module $m
            (import "" "new" (func $new (param i32) (result i32)))
            (import "d" "dropped" (global $d (mut i32)))
            (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
            (func (export "dropped") (result i32) global.get $d))
          (core instance $i (instantiate $m
            (with "" (instance (export "new" (func $new))))
            (with "d" (instance $di))))
          (export $rr "r" (type $r))
          (func (export "make") (param "v" u32) (result (own $rr)) (canon lift (core func $i "make")))
          (func (export "dropped") (result u32) (canon lift (core func $i "dropped"))))
        (instance $c (instantiate $Child))
        (alias export $c "r" (type $r))
        (core func $make (canon lower (func $c "make")))
        (core func $drop (canon resource.drop $r))
        (core module $p
          (import "" "make" (func $make (param i32) (result i32)))
          (import "" "drop" (func $drop (param i32)))
          (func (export "run") (call $drop (call $make (i32.const 77)))))
        (core instance $pi (instantiate $p (with "" (instance (export "make" (func $make)) (export "drop" (func $drop))))))
        (func (export "run") (canon lift (core func $pi "run")))
        (export "dropped" (func $c "dropped")))"#;
    let (engine, c) = component(wat);
    let mut store = Store::new(&engine, ());
    let inst = Linker::<()>::new().instantiate(&mut store, &c).unwrap();
    inst.get_func("run").unwrap().call(&mut store, &[]).unwrap();
    let out = inst
        .get_func("dropped")
        .unwrap()
        .call(&mut store, &[])
        .unwrap();
    assert_eq!(out, vec![Val::U32(77)]);
}

#[test]
fn reentering_an_instance_traps() {
    // A function lowered from a lift of the same instance, called during
    // instantiation (start function).
    let wat = r#"(component
        (core module $m (func (export "")))
        (core instance $m (instantiate $m))
        (func $f1 (canon lift (core func $m "")))
        (core func $f2 (canon lower (func $f1)))
        (core module $m2 (import "" "" (func $f)) (func $start call $f) (start $start))
        (core instance (instantiate $m2 (with "" (instance (export "" (func $f2)))))))"#;
    let (engine, c) = component(wat);
    let mut store = Store::new(&engine, ());
    let err = Linker::<()>::new()
        .instantiate(&mut store, &c)
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("cannot enter component instance"),
        "{err}"
    );
}

#[test]
fn post_return_may_not_call_imports() {
    let wat = r#"(component
        (import "f" (func $f))
        (core func $f (canon lower (func $f)))
        (core module $m
          (import "" "f" (func $f))
          (func (export "run"))
          (func (export "pr") call $f))
        (core instance $i (instantiate $m (with "" (instance (export "f" (func $f))))))
        (func (export "run") (canon lift (core func $i "run") (post-return (core func $i "pr")))))"#;
    let (engine, c) = component(wat);
    let mut store = Store::new(&engine, ());
    let mut l = Linker::<()>::new();
    l.root_func("f", |_, _| Ok(vec![]));
    let inst = l.instantiate(&mut store, &c).unwrap();
    let err = inst
        .get_func("run")
        .unwrap()
        .call(&mut store, &[])
        .unwrap_err();
    assert!(
        err.is_trap() && err.to_string().contains("cannot leave component instance"),
        "{err}"
    );
}

/// Instantiates `wat` with a root import `log(n: u32)` that records `n`,
/// calls its export `run`, and returns what was logged.
fn run_logging(wat: &str) -> Vec<u32> {
    let (engine, c) = component(wat);
    let mut store = Store::new(&engine, Vec::<u32>::new());
    let mut l = Linker::<Vec<u32>>::new();
    l.root_func("log", |cx, args| {
        if let [Val::U32(n)] = args {
            cx.data_mut().push(*n);
        }
        Ok(vec![])
    });
    let inst = l.instantiate(&mut store, &c).unwrap();
    inst.get_func("run").unwrap().call(&mut store, &[]).unwrap();
    store.into_data()
}

/// wasmtime 49 lets a call re-enter a component instance through another
/// one (the root's `run` calls `$child`'s `h`, which calls the root's `g`):
/// its adapters keep no `may_enter`, so this runs.
#[test]
fn an_instance_may_be_entered_again_through_another() {
    let wat = r#"(component
        (import "log" (func $log (param "n" u32)))
        (core func $log (canon lower (func $log)))
        (core module $m1 (import "" "log" (func $log (param i32))) (func (export "g") (call $log (i32.const 2))))
        (core instance $c1 (instantiate $m1 (with "" (instance (export "log" (func $log))))))
        (func $g (canon lift (core func $c1 "g")))
        (component $child
          (import "g" (func $g))
          (core func $g (canon lower (func $g)))
          (core module $m (import "" "g" (func $g)) (func (export "h") (call $g)))
          (core instance $i (instantiate $m (with "" (instance (export "g" (func $g))))))
          (func (export "h") (canon lift (core func $i "h"))))
        (instance $child (instantiate $child (with "g" (func $g))))
        (core func $h (canon lower (func $child "h")))
        (core module $m2
          (import "" "h" (func $h)) (import "" "log" (func $log (param i32)))
          (func (export "run") (call $log (i32.const 1)) (call $h) (call $log (i32.const 3))))
        (core instance $c2 (instantiate $m2 (with "" (instance (export "h" (func $h)) (export "log" (func $log))))))
        (func (export "run") (canon lift (core func $c2 "run"))))"#;
    assert_eq!(run_logging(wat), [1, 2, 3]);
}

/// After a call from another component instance, the callee's
/// `post-return` may call imports: wasmtime 49's adapter runs it with
/// `may_leave` true (only a call from the host forbids it, as
/// `post_return_may_not_call_imports` shows).
#[test]
fn post_return_of_a_call_from_another_instance_may_call_imports() {
    let wat = r#"(component
        (import "log" (func $log (param "n" u32)))
        (component $child
          (import "log" (func $log (param "n" u32)))
          (core func $log (canon lower (func $log)))
          (core module $m
            (import "" "log" (func $log (param i32)))
            (func (export "f") (call $log (i32.const 1)))
            (func (export "pr") (call $log (i32.const 2))))
          (core instance $i (instantiate $m (with "" (instance (export "log" (func $log))))))
          (func (export "f") (canon lift (core func $i "f") (post-return (core func $i "pr")))))
        (instance $child (instantiate $child (with "log" (func $log))))
        (core func $f (canon lower (func $child "f")))
        (core module $m2 (import "" "f" (func $f)) (func (export "run") (call $f)))
        (core instance $c2 (instantiate $m2 (with "" (instance (export "f" (func $f))))))
        (func (export "run") (canon lift (core func $c2 "run"))))"#;
    assert_eq!(run_logging(wat), [1, 2]);
}

#[test]
fn host_reaches_caller_memory_and_realloc() {
    use canonical_abi::{GuestMemory, MemoryView};
    let wat = format!(
        r#"(component
            (import "peek" (func $peek (param "ptr" u32) (result u32)))
            {LIBC}
            (core func $peek (canon lower (func $peek) (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
            (core module $main
              (import "libc" "mem" (memory 1))
              (import "host" "peek" (func $peek (param i32) (result i32)))
              (func (export "run") (result i32)
                (i32.store (i32.const 64) (i32.const 0x01020304))
                (call $peek (i32.const 64))))
            (core instance $main (instantiate $main
              (with "libc" (instance $libc))
              (with "host" (instance (export "peek" (func $peek))))))
            (func (export "run") (result u32) (canon lift (core func $main "run"))))"#
    );
    let (engine, c) = component(&wat);
    let mut store = Store::new(&engine, ());
    let mut l = Linker::<()>::new();
    l.root_func("peek", |cx, args| {
        let Val::U32(ptr) = args[0] else {
            unreachable!()
        };
        assert_eq!(cx.func_name(), "peek");
        assert!(cx.resources().is_some());
        let mut mem = cx.memory().expect("memory option");
        let word = u32::from_le_bytes(mem.read(ptr, 4).unwrap().try_into().unwrap());
        let p = mem.realloc(0, 0, 8, 16).unwrap();
        assert!(
            p >= 1024 && p % 8 == 0,
            "allocated by the guest's realloc: {p}"
        );
        mem.write(p, b"x").unwrap();
        assert!(mem.read(u32::MAX, 1).is_err());
        Ok(vec![Val::U32(word)])
    });
    let inst = l.instantiate(&mut store, &c).unwrap();
    let out = inst.get_func("run").unwrap().call(&mut store, &[]).unwrap();
    assert_eq!(out, vec![Val::U32(0x01020304)]);
}

/// Two components composed in one (conformance/invoke/compose.wat): a
/// UTF-16 caller lowers functions a UTF-8 callee lifts; strings and lists
/// are copied (and transcoded) between the two instances' memories.
#[test]
fn composed_components_copy_between_memories() {
    let (engine, c) = component(include_str!("../../conformance/invoke/compose.wat"));
    let mut store = Store::new(&engine, ());
    let inst = Linker::new().instantiate(&mut store, &c).unwrap();
    let run = inst.get_func("run").unwrap();
    let out = run.call(&mut store, &[Val::string("wörld 😀")]).unwrap();
    assert_eq!(out, vec![Val::string("hello, hello, wörld 😀")]);
    let total = inst.get_func("total").unwrap();
    let out = total
        .call(
            &mut store,
            &[Val::List(vec![
                Val::U32(1),
                Val::U32(2),
                Val::U32(u32::MAX),
            ])],
        )
        .unwrap();
    assert_eq!(out, vec![Val::U64(4_294_967_298)]);
    // The callee's own exports, by wasmtime's `--invoke` names.
    let greet = inst.find_func("test:compose/api.greet@1.0.0").unwrap();
    assert_eq!(
        greet.call(&mut store, &[Val::string("ä")]).unwrap(),
        vec![Val::string("hello, ä")]
    );
    assert!(inst.find_func("greet").is_ok());
    assert!(matches!(
        inst.find_func("test:compose/api.greet@2.0.0"),
        Err(Error::NotFound(_))
    ));
    // Typed lookup.
    let ty = greet.ty().clone();
    assert!(inst.get_typed_func("greet", &ty).is_ok());
    let wrong = canonical_abi::FuncType {
        params: vec![("name".into(), ValueType::U32)],
        result: ty.result.clone(),
    };
    assert!(matches!(
        inst.get_typed_func("greet", &wrong),
        Err(Error::Type { .. })
    ));
}

/// A component whose `ok` export returns 42, whose `boom` export traps,
/// whose `bad-char` returns an invalid `char` and whose `via-host` export
/// calls the host import `f`.
const POISON_WAT: &str = r#"(component
    (import "f" (func $f (result u32)))
    (core func $f (canon lower (func $f)))
    (core module $m
      (import "" "f" (func $f (result i32)))
      (func (export "ok") (param i32) (result i32) i32.const 42)
      (func (export "boom") unreachable)
      (func (export "bad-char") (result i32) i32.const 0xd800)
      (func (export "via-host") (result i32) call $f))
    (core instance $i (instantiate $m (with "" (instance (export "f" (func $f))))))
    (func (export "ok") (param "x" u32) (result u32) (canon lift (core func $i "ok")))
    (func (export "boom") (canon lift (core func $i "boom")))
    (func (export "bad-char") (result char) (canon lift (core func $i "bad-char")))
    (func (export "via-host") (result u32) (canon lift (core func $i "via-host"))))"#;

#[test]
fn a_trap_poisons_the_instance() {
    let (engine, c) = component(POISON_WAT);
    let mut store = Store::new(&engine, ());
    let mut l = Linker::<()>::new();
    l.root_func("f", |_, _| Ok(vec![Val::U32(7)]));
    let inst = l.instantiate(&mut store, &c).unwrap();
    let ok = inst.get_func("ok").unwrap();
    assert_eq!(
        ok.call(&mut store, &[Val::U32(0)]).unwrap(),
        vec![Val::U32(42)]
    );
    // A host-side argument type error is caught before entering: no poison.
    let err = ok.call(&mut store, &[Val::S32(0)]).unwrap_err();
    assert!(matches!(err, Error::Type { .. }), "{err}");
    assert_eq!(
        ok.call(&mut store, &[Val::U32(0)]).unwrap(),
        vec![Val::U32(42)]
    );
    // An invalid result found while the host lifts it: no poison (wasmtime).
    let err = inst
        .get_func("bad-char")
        .unwrap()
        .call(&mut store, &[])
        .unwrap_err();
    assert!(
        err.is_trap() && !err.to_string().contains("cannot enter"),
        "{err}"
    );
    assert_eq!(
        ok.call(&mut store, &[Val::U32(0)]).unwrap(),
        vec![Val::U32(42)]
    );
    let err = inst
        .get_func("boom")
        .unwrap()
        .call(&mut store, &[])
        .unwrap_err();
    assert!(
        err.is_trap() && !err.to_string().contains("cannot enter"),
        "{err}"
    );
    for name in ["ok", "boom", "via-host"] {
        let f = inst.get_func(name).unwrap();
        let args = if name == "ok" {
            vec![Val::U32(0)]
        } else {
            vec![]
        };
        let err = f.call(&mut store, &args).unwrap_err();
        assert!(
            err.is_trap() && err.to_string().contains("cannot enter component instance"),
            "{name}: {err}"
        );
        assert!(err.to_string().contains(name), "{name}: {err}");
    }
    // A second instance of the same component is unaffected.
    let other = l.instantiate(&mut store, &c).unwrap();
    assert_eq!(
        other
            .get_func("via-host")
            .unwrap()
            .call(&mut store, &[])
            .unwrap(),
        vec![Val::U32(7)]
    );
}

#[test]
fn a_host_trap_through_a_lowered_import_poisons_the_caller() {
    let (engine, c) = component(POISON_WAT);
    let mut store = Store::new(&engine, ());
    let mut l = Linker::<()>::new();
    l.root_func("f", |cx, _| Err(cx.trap("host says no")));
    let inst = l.instantiate(&mut store, &c).unwrap();
    let err = inst
        .get_func("via-host")
        .unwrap()
        .call(&mut store, &[])
        .unwrap_err();
    assert!(err.to_string().contains("host says no"), "{err}");
    let err = inst
        .get_func("ok")
        .unwrap()
        .call(&mut store, &[Val::U32(0)])
        .unwrap_err();
    assert!(
        err.to_string().contains("cannot enter component instance"),
        "{err}"
    );
}

#[test]
fn the_host_may_not_reenter_an_instance_during_its_import_call() {
    use std::cell::RefCell;
    use std::rc::Rc;
    type Slot = Rc<RefCell<Option<component_model::ComponentFunc<()>>>>;
    let (engine, c) = component(POISON_WAT);
    let mut store = Store::new(&engine, ());
    let slot: Slot = Rc::new(RefCell::new(None));
    let mut l = Linker::<()>::new();
    let s = slot.clone();
    l.root_func("f", move |cx, _| {
        let ok = s.borrow().clone().unwrap();
        match ok.call(cx.store(), &[Val::U32(0)]) {
            Err(e) if e.to_string().contains("cannot enter component instance") => {
                Ok(vec![Val::U32(1)])
            }
            other => panic!("reentrance was not refused: {other:?}"),
        }
    });
    let inst = l.instantiate(&mut store, &c).unwrap();
    *slot.borrow_mut() = Some(inst.get_func("ok").unwrap());
    // The refused reentry is the host's error to handle; it handled it, so
    // the outer call succeeds and the instance stays usable.
    assert_eq!(
        inst.get_func("via-host")
            .unwrap()
            .call(&mut store, &[])
            .unwrap(),
        vec![Val::U32(1)]
    );
    assert_eq!(
        inst.get_func("ok")
            .unwrap()
            .call(&mut store, &[Val::U32(0)])
            .unwrap(),
        vec![Val::U32(42)]
    );
}
