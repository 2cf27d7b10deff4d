//! The merger on WAT components, linked with the stand-in WASI library
//! (tests/data/stand-in-lib.wat) and run on core-vm: index spaces
//! renumbered, imports resolved, start functions and segments in
//! instantiation order, `_start`'s exits, realloc plumbing, and every
//! refusal naming its construct. Each command component that runs here
//! also runs on native wasmtime (`common::assert_as_native`: same stdout,
//! same kind of ending, the same arguments, argv[0] included), except
//! the one of `post_return_gets_runs_result` whose post-return prints
//! (wasmtime traps there: a post-return may not call an import).

mod common;
use common::{
    assert_as_native, call_reactor, component, counts, imports_exports, lower_wat, main_module,
    main_module_with, run, Exit, PRINT, PRINT_IMPORTS,
};
use core_vm::Val;

fn lower_ok(wat: &str) -> Vec<u8> {
    match lower_wat(wat) {
        Ok(l) => {
            assert!(l.extra_features.is_empty(), "{:?}", l.extra_features);
            l.bytes
        }
        Err(e) => panic!("lowering failed: {e}"),
    }
}

fn lower_err(wat: &str) -> String {
    match lower_wat(wat) {
        Ok(_) => panic!("lowering should fail"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn hello_imports_p1_only_exports_start_and_memory() {
    let wat = component(
        &main_module(
            r#"(data (i32.const 100) "hello\n")
    (func (export "run") (result i32) (call $print (i32.const 100) (i32.const 6)) (i32.const 0))"#,
        ),
        None,
    );
    let bytes = lower_ok(&wat);
    let (imports, exports) = imports_exports(&bytes);
    assert!(
        imports
            .iter()
            .all(|i| i.starts_with("wasi_snapshot_preview1 ")),
        "{imports:?}"
    );
    assert_eq!(exports, ["_start", "memory"]);
    let out = run(&bytes, &["app"]);
    assert_as_native("hello", &wat, &["app"], &out);
    assert_eq!(out.stdout, "hello\n");
    assert_eq!(out.exit, Exit::Returned);
}

#[test]
fn run_err_exits_1_and_invalid_discriminant_says_so() {
    for (ret, exit, stderr) in [
        (1, Exit::Code(1), ""),
        (2, Exit::Code(1), "invalid expected discriminant"),
        (-1, Exit::Code(1), "invalid expected discriminant"),
    ] {
        let wat = component(
            &main_module(&format!(
                r#"(func (export "run") (result i32) (i32.const {ret}))"#
            )),
            None,
        );
        let out = run(&lower_ok(&wat), &["app"]);
        assert_as_native(&format!("run returned {ret}"), &wat, &["app"], &out);
        assert_eq!(out.exit, exit, "run returned {ret}");
        assert!(out.stderr.contains(stderr), "{}", out.stderr);
    }
}

/// `run`'s post-return gets its result, and may not call an import
/// (`may_leave` is false while it runs): each compared with native
/// wasmtime.
#[test]
fn post_return_gets_runs_result() {
    // A post-return that prints: wasmtime traps at its first WASI call
    // ("cannot leave component instance"), nothing printed.
    let wat = component(
        &main_module(
            r#"(data (i32.const 100) "post 0\n")
    (func (export "run") (result i32) (i32.const 0))
    (func (export "post") (param i32)
      (i32.store8 (i32.const 105) (i32.add (i32.const 48) (local.get 0)))
      (call $print (i32.const 100) (i32.const 7)))"#,
        ),
        Some("post"),
    );
    let out = run(&lower_ok(&wat), &["app"]);
    assert_as_native("a post-return that prints", &wat, &["app"], &out);
    assert!(matches!(out.exit, Exit::Trap(_)), "{:?}", out.exit);
    assert_eq!(out.stdout, "");
    // A post-return that calls nothing and traps if it gets `ok` (0): the
    // trap shows it ran with run's result.
    let wat = component(
        &main_module(
            r#"(func (export "run") (result i32) (i32.const 0))
    (func (export "post") (param i32) (if (i32.eqz (local.get 0)) (then unreachable)))"#,
        ),
        Some("post"),
    );
    let out = run(&lower_ok(&wat), &["app"]);
    assert_as_native("a post-return that traps on ok", &wat, &["app"], &out);
    assert!(matches!(out.exit, Exit::Trap(_)), "{:?}", out.exit);
    assert_eq!(out.stdout, "");
}

#[test]
fn wasi_calls_reach_the_library_with_the_realloc() {
    // get-arguments: a list<string> written through the guest's realloc.
    let wat = component(
        &main_module_with(
            r#"(import "wasi" "get-arguments" (func $args (param i32)))
    (import "wasi" "exit" (func $exit (param i32)))"#,
            r#"(func (export "run") (result i32)
      (local $list i32) (local $n i32) (local $i i32)
      (call $args (i32.const 200))
      (local.set $list (i32.load (i32.const 200)))
      (local.set $n (i32.load (i32.const 204)))
      (block $done (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $print
          (i32.load (i32.add (local.get $list) (i32.mul (local.get $i) (i32.const 8))))
          (i32.load offset=4 (i32.add (local.get $list) (i32.mul (local.get $i) (i32.const 8)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
      (call $exit (i32.const 1))
      (unreachable))"#,
        ),
        None,
    );
    let out = run(&lower_ok(&wat), &["app", "x", "yz"]);
    // argv[0] too: wasmtime gets it as `--argv0`, not the file's name.
    assert_as_native("get-arguments", &wat, &["app", "x", "yz"], &out);
    assert_eq!(out.stdout, "appxyz");
    assert_eq!(out.exit, Exit::Code(1));
}

/// Three modules that import each other's functions, table, memory and
/// globals, each defining its own too: every call, table slot, global and
/// segment must land on its merged index.
#[test]
fn index_spaces_renumbered() {
    let body = r#"
  (core module $a
    (import "libc" "memory" (memory 1))
    (type $i2i (func (param i32) (result i32)))
    (table (export "table") 4 funcref)
    (global (export "base") i32 (i32.const 300))
    (global $count (export "count") (mut i32) (i32.const 0))
    (func $double (export "double") (type $i2i) (i32.mul (local.get 0) (i32.const 2)))
    (func $inc (export "inc") (type $i2i)
      (global.set $count (i32.add (global.get $count) (i32.const 1)))
      (i32.add (local.get 0) (i32.const 1)))
    (elem (i32.const 0) func $double $inc)
    (data (i32.const 300) "A"))
  (core instance $a (instantiate $a (with "libc" (instance $libc))))
  (core module $b
    (import "libc" "memory" (memory 1))
    (import "a" "table" (table 4 funcref))
    (import "a" "base" (global $base i32))
    (import "a" "count" (global $count (mut i32)))
    (import "a" "inc" (func $inc (param i32) (result i32)))
    (type $i2i (func (param i32) (result i32)))
    (table $own 2 funcref)
    (global $ten i32 (i32.const 10))
    (func $square (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
    (func $neg (param i32) (result i32) (i32.sub (i32.const 0) (local.get 0)))
    ;; slots 2 and 3 of a's table, from b's functions; b's own table too
    (elem (table 0) (i32.const 2) func $square $inc)
    (elem (table $own) (i32.const 0) func $neg)
    ;; at a's `base` + 1: an offset made of an imported global
    (data (global.get $base) "B")
    (func (export "compute") (param $x i32) (result i32)
      ;; ((x*2)+1)^2 then +1 through slot 3, then negated, + count + ten
      (i32.add
        (i32.add
          (call_indirect $own (type $i2i)
            (call_indirect 0 (type $i2i)
              (call_indirect 0 (type $i2i)
                (call_indirect 0 (type $i2i)
                  (call_indirect 0 (type $i2i) (local.get $x) (i32.const 0))
                  (i32.const 1))
                (i32.const 2))
              (i32.const 3))
            (i32.const 0))
          (global.get $count))
        (global.get $ten))))
  (core instance $b (instantiate $b (with "libc" (instance $libc)) (with "a" (instance $a))))
  "#;
    let main_imports = r#"(import "b" "compute" (func $compute (param i32) (result i32)))
    (import "a" "base" (global $base i32))"#;
    let main = r#"(func (export "run") (result i32)
      (local $r i32)
      ;; x = 3: ((3*2+1)^2 + 1) = 50, negated -50, +2 incs, +10 = -38
      (local.set $r (call $compute (i32.const 3)))
      (i32.store8 (i32.const 310) (i32.add (i32.const 48) (i32.div_u (i32.sub (i32.const 0) (local.get $r)) (i32.const 10))))
      (i32.store8 (i32.const 311) (i32.add (i32.const 48) (i32.rem_u (i32.sub (i32.const 0) (local.get $r)) (i32.const 10))))
      (call $print (global.get $base) (i32.const 1))
      (call $print (i32.const 310) (i32.const 2))
      (i32.const 0))"#;
    let body = format!(
        "{body}(core module $main
    (import \"libc\" \"memory\" (memory 1))
    {PRINT_IMPORTS}
    {main_imports}
    {PRINT}
    {main})
  (core instance $main (instantiate $main (with \"libc\" (instance $libc)) (with \"wasi\" (instance $wasi))
    (with \"a\" (instance $a)) (with \"b\" (instance $b))))"
    );
    let wat = component(&body, None);
    let bytes = lower_ok(&wat);
    let out = run(&bytes, &["app"]);
    assert_as_native("index spaces", &wat, &["app"], &out);
    // b's data segment at a's base overwrote a's "A".
    assert_eq!(out.stdout, "B38");
    assert_eq!(out.exit, Exit::Returned);
    // Defined items: libc (1 func, 1 memory, 1 global), a (2 funcs, 1
    // table, 2 globals, 1 elem, 1 data), b (3 funcs, 1 table, 1 global,
    // 2 elems, 1 data), main (2 funcs, 1 data? no), the stand-in library
    // and `_start`.
    let lib = counts(&common::stand_in_library());
    let kept = common::library_funcs(&bytes).len() as u32;
    let [types, funcs, tables, memories, globals, elems, datas] = counts(&bytes);
    assert_eq!(funcs, 1 + 2 + 3 + 2 + kept + 1);
    assert_eq!(tables, 1 + 1 + lib[2]);
    assert_eq!(memories, 1);
    assert_eq!(globals, 1 + 2 + 1 + lib[4]);
    assert_eq!(elems, 1 + 2 + lib[5]);
    assert_eq!(datas, 1 + 1 + lib[6]);
    // Types are deduplicated: far fewer than the inputs' sum.
    assert!(types < 15, "{types} types");
}

/// Start functions run in instantiation order inside `_start`, after
/// `p2lib_init`; segments of instances after the first start function are
/// applied after it, as instantiation would.
#[test]
fn start_functions_and_segments_in_instantiation_order() {
    let body = r#"
  (core module $first
    (import "libc" "memory" (memory 1))
    (global (export "pos") (mut i32) (i32.const 400))
    (func $start
      (i32.store8 (i32.const 400) (i32.const 49))
      (i32.store8 (i32.const 401) (i32.const 49)))
    (start $start))
  (core instance $first (instantiate $first (with "libc" (instance $libc))))
  (core module $second
    (import "libc" "memory" (memory 1))
    ;; applied after $first's start: overwrites its second byte
    (data (i32.const 401) "2")
    (func $start (i32.store8 (i32.const 402) (i32.load8_u (i32.const 401))))
    (start $start))
  (core instance $second (instantiate $second (with "libc" (instance $libc))))
  "#;
    let body = format!(
        "{body}{}",
        main_module(
            r#"(data (i32.const 403) "\n")
    (func (export "run") (result i32) (call $print (i32.const 400) (i32.const 4)) (i32.const 0))"#
        )
    );
    let wat = component(&body, None);
    let out = run(&lower_ok(&wat), &["app"]);
    assert_as_native("start functions", &wat, &["app"], &out);
    assert_eq!(out.stdout, "122\n");
}

/// A component whose `run` returns at once (and imports [`PRINT_IMPORTS`]).
fn minimal_component() -> String {
    component(
        &main_module(r#"(func (export "run") (result i32) (i32.const 0))"#),
        None,
    )
}

/// Only the library functions the component's core instances reach are
/// kept: the stand-in library has 17 functions; this component imports five
/// WASI functions and a resource, and its `main` lowers two of them and the
/// resource's drop (`get-arguments` and `exit` are lowered into the `$wasi`
/// bundle but no core module imports them), and the two call the
/// stand-in's `may_leave` check.
#[test]
fn only_the_library_functions_the_component_imports_are_kept() {
    let bytes = lower_ok(&minimal_component());
    assert_eq!(
        common::library_funcs(&bytes),
        [
            "lib.drop",
            "lib.get-stdout",
            "lib.init",
            "lib.may-leave",
            "lib.write"
        ]
    );
    assert_eq!(counts(&common::stand_in_library())[1], 17);
    // Of the library's four p1 imports, what the kept functions and `_start`
    // call: `args_sizes_get` and `args_get` (only `get-arguments` calls them)
    // are not imported.
    let (imports, _) = imports_exports(&bytes);
    assert_eq!(
        imports,
        [
            "wasi_snapshot_preview1 fd_write",
            "wasi_snapshot_preview1 proc_exit"
        ]
    );
}

#[test]
fn a_single_realloc_adds_no_code() {
    let bytes = lower_ok(&minimal_component());
    let lib = counts(&common::stand_in_library());
    let kept = common::library_funcs(&bytes).len() as u32;
    // libc's realloc, main's print and run, the library's functions the
    // component reaches, `_start`: no thunk, no dispatcher, no global added.
    let [_, funcs, _, _, globals, ..] = counts(&bytes);
    assert_eq!(funcs, 1 + 2 + kept + 1);
    assert_eq!(globals, 1 + lib[4]);
}

#[test]
fn several_reallocs_are_dispatched() {
    // A second module with its own heap lowers get-arguments with its own
    // realloc; both lists must land in their own heaps.
    let body = r#"
  (core module $heap2
    (global $next (mut i32) (i32.const 8000))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (global.get $next)
      (global.set $next (i32.add (global.get $next) (i32.and (i32.add (local.get 3) (i32.const 7)) (i32.const -8))))))
  (core instance $heap2 (instantiate $heap2))
  (alias core export $heap2 "realloc" (core func $realloc2))
  (core func $get-arguments2 (canon lower (func $env "get-arguments") (memory $mem) (realloc $realloc2)))
  (core instance $wasi2 (export "get-arguments" (func $get-arguments2)))
  (core module $main
    (import "libc" "memory" (memory 1))
    (import "wasi" "get-arguments" (func $args (param i32)))
    (import "wasi2" "get-arguments" (func $args2 (param i32)))
    (import "wasi" "write" (func $write (param i32 i32 i32 i32)))
    (import "wasi" "get-stdout" (func $get-stdout (result i32)))
    (func (export "run") (result i32)
      (local $s i32)
      (call $args (i32.const 200))
      (call $args2 (i32.const 208))
      (local.set $s (call $get-stdout))
      ;; the first list is in libc's heap (below 8000), the second above
      (if (i32.ge_u (i32.load (i32.const 200)) (i32.const 8000)) (then (unreachable)))
      (if (i32.lt_u (i32.load (i32.const 208)) (i32.const 8000)) (then (unreachable)))
      (call $write (local.get $s)
        (i32.load (i32.load (i32.const 208))) (i32.load offset=4 (i32.load (i32.const 208))) (i32.const 8))
      (i32.const 0)))
  (core instance $main (instantiate $main (with "libc" (instance $libc)) (with "wasi" (instance $wasi)) (with "wasi2" (instance $wasi2))))
  "#;
    let wat = component(body, None);
    let out = run(&lower_ok(&wat), &["app"]);
    assert_as_native("two reallocs", &wat, &["app"], &out);
    assert_eq!(out.exit, Exit::Returned, "{}", out.stderr);
    assert_eq!(out.stdout, "app");
}

#[test]
fn a_module_instantiated_twice_is_refused() {
    let body = format!(
        "{}{}",
        r#"(core module $twice (func (export "f")))
  (core instance $t1 (instantiate $twice))
  (core instance $t2 (instantiate $twice))"#,
        main_module(r#"(func (export "run") (result i32) (i32.const 0))"#)
    );
    let e = lower_err(&component(&body, None));
    assert!(
        e.contains("core module") && e.contains("instantiated more than once"),
        "{e}"
    );
}

#[test]
fn refusals_name_the_construct() {
    let run0 = r#"(func (export "run") (result i32) (i32.const 0))"#;
    // An import that is not a WASI interface function.
    let wat = component(&main_module(run0), None).replacen(
        "(core module $libc",
        r#"(import "host-fn" (func $hf))
  (core func $hf (canon lower (func $hf)))
  (core module $libc"#,
        1,
    );
    let e = lower_err(&wat.replace(
        "(export \"exit\" (func $exit)))",
        "(export \"exit\" (func $exit)) (export \"hf\" (func $hf)))",
    ));
    assert!(e.contains("`host-fn`"), "{e}");
    // An interface the library does not have.
    let wat = component(&main_module(run0), None).replacen(
        "(core module $libc",
        r#"(import "wasi:random/random@0.2.0" (instance $random (export "get-random-u64" (func (result u64)))))
  (core func $rand (canon lower (func $random "get-random-u64")))
  (core module $libc"#,
        1,
    );
    let e = lower_err(&wat.replace(
        "(export \"exit\" (func $exit)))",
        "(export \"exit\" (func $exit)) (export \"rand\" (func $rand)))",
    ));
    assert!(e.contains("wasi:random/random@0.2.0"), "{e}");
}

/// Where no canonical option names a memory, the library's memory is
/// memory 0 of the module whose function the component exports; with no
/// such function, the component's only memory; with none at all, one added
/// for it. With several and no exported function, lowering refuses and
/// says so.
#[test]
fn the_library_memory_must_be_known() {
    let reactor = |memories: &str, export: bool| {
        let lift = r#"(func (export "f") (result s32) (canon lift (core func $i "f")))"#;
        format!(
            r#"(component
  (core module $m {memories} (func (export "f") (result i32) (i32.const 7)))
  (core instance $i (instantiate $m))
  {})"#,
            if export { lift } else { "" }
        )
    };
    // Not run here: the stand-in's init takes its scratch from the guest's
    // realloc, which this component lacks (p2-lib's region is static;
    // conformance/programs/p2-nomem runs such a component on every host).
    let l = lower_wat(&reactor("", true)).expect("a memory is added");
    assert_eq!(imports_exports(&l.bytes).1, ["_initialize", "f", "memory"]);
    assert_eq!(counts(&l.bytes)[3], 1, "one memory");
    let e = lower_err(&reactor("(memory 1) (memory 1)", false));
    assert!(
        e.contains("2 linear memories and no canonical option names one"),
        "{e}"
    );
    for memories in ["(memory 1)", "(memory 1) (memory 1)"] {
        let l = lower_wat(&reactor(memories, true)).expect("lowers");
        assert_eq!(l.reactor_exports.as_deref(), Some(&["f".to_string()][..]));
    }
    lower_wat(&reactor("(memory 1)", false)).expect("its only memory");
}

#[test]
fn exports_besides_run_are_dropped_and_named() {
    let wat = component(
        &main_module(r#"(func (export "run") (result i32) (i32.const 0))"#),
        None,
    )
    .replace(
        "(export \"wasi:cli/run@0.2.0\" (instance $run-inst))",
        "(export \"wasi:cli/run@0.2.0\" (instance $run-inst)) (export \"other\" (func $run))",
    );
    let l = lower_wat(&wat).expect("lowers");
    assert_eq!(l.dropped_exports, ["other"]);
    assert_eq!(imports_exports(&l.bytes).1, ["_start", "memory"]);
}

#[test]
fn import_types_and_encodings_are_checked() {
    let run0 = r#"(func (export "run") (result i32) (i32.const 0))"#;
    // get-stdout declared with another flat type than the library's.
    let wat = component(&main_module(run0), None).replace(
        "(export \"get-stdout\" (func (result (own $os3))))",
        "(export \"get-stdout\" (func (result u64)))",
    );
    let e = lower_err(
        &wat.replace(
            r#"(import "wasi" "get-stdout" (func $get-stdout (result i32)))"#,
            r#"(import "wasi" "get-stdout" (func $get-stdout (result i64)))"#,
        )
        .replace(
            "(local.set $s (call $get-stdout))",
            "(local.set $s (i32.wrap_i64 (call $get-stdout)))",
        ),
    );
    assert!(e.contains("get-stdout") && e.contains("i64"), "{e}");
}

/// A WASI import lowered with `string-encoding=utf16` (or `latin1+utf16`)
/// gets its strings transcoded from the library's UTF-8, through the
/// scratch area: `get-arguments`' list of strings, each compared with its
/// Canonical ABI form (a `Y` or `N` each).
#[test]
fn wasi_strings_in_utf16_are_transcoded() {
    let args = ["app", "h\u{e9}llo", "\u{1f600}", ""];
    for (encoding, expected) in [
        (
            "utf16",
            args.map(|a| {
                let b: Vec<u8> = a.encode_utf16().flat_map(u16::to_le_bytes).collect();
                (b, a.encode_utf16().count() as u32)
            }),
        ),
        (
            "latin1+utf16",
            args.map(|a| {
                if a.chars().all(|c| (c as u32) < 256) {
                    (
                        a.chars().map(|c| c as u32 as u8).collect(),
                        a.chars().count() as u32,
                    )
                } else {
                    let b: Vec<u8> = a.encode_utf16().flat_map(u16::to_le_bytes).collect();
                    (b, a.encode_utf16().count() as u32 | 1 << 31)
                }
            }),
        ),
    ] {
        let mut checks = String::new();
        let mut data = String::new();
        for (i, (bytes, units)) in expected.iter().enumerate() {
            let at = 1024 + 64 * i;
            let escaped: String = bytes.iter().map(|b| format!("\\{b:02x}")).collect();
            data.push_str(&format!("(data (i32.const {at}) \"{escaped}\")"));
            checks.push_str(&format!(
                "(call $yn (i32.and (i32.eq (i32.load offset=4 (i32.add (i32.load (i32.const 200)) (i32.const {}))) (i32.const {units})) \
                 (call $same (i32.load (i32.add (i32.load (i32.const 200)) (i32.const {}))) (i32.const {at}) (i32.const {}))))",
                8 * i,
                8 * i,
                bytes.len()
            ));
        }
        let main = main_module_with(
            r#"(import "wasi" "get-arguments" (func $args (param i32)))"#,
            &format!(
                r#"(data (i32.const 300) "YN\n") {data}
    (func $yn (param i32)
      (call $print (select (i32.const 300) (i32.const 301) (local.get 0)) (i32.const 1)))
    (func $same (param $a i32) (param $b i32) (param $n i32) (result i32)
      (block $no (loop $each
        (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
        (br_if $no (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $each)))
      (i32.const 0))
    (func (export "run") (result i32)
      (call $args (i32.const 200))
      (call $yn (i32.eq (i32.load offset=4 (i32.const 200)) (i32.const {})))
      {checks}
      (call $print (i32.const 302) (i32.const 1))
      (i32.const 0))"#,
                args.len()
            ),
        );
        // The transcoders shrink what they allocated: the root's `realloc`
        // must keep the contents (the shared one is a bump allocator that
        // does not copy).
        let wat = component(&main, None)
            .replace(
                "(memory $mem) (realloc $realloc)))",
                &format!("(memory $mem) (realloc $realloc) string-encoding={encoding}))"),
            )
            .replace(
                "(local.get $p)))",
                "(if (local.get 0) (then (memory.copy (local.get $p) (local.get 0) \
                   (select (local.get 1) (local.get 3) (i32.lt_u (local.get 1) (local.get 3)))))) (local.get $p)))",
            );
        let out = run(&lower_ok(&wat), &args);
        assert_as_native(encoding, &wat, &args, &out);
        assert_eq!(out.exit, Exit::Returned, "{encoding}: {}", out.stderr);
        assert_eq!(out.stdout, "YYYYY\n", "{encoding}");
    }
}

/// A reactor: `_initialize` (start functions included), then its lifted
/// core functions under their component names, with post-return and
/// realloc; its `cabi_post_*` runs the post-return with `may_leave` false,
/// as the host's call of a post-return does in wasmtime (which traps when
/// the post-return calls an import).
#[test]
fn reactor_exports_its_lifted_functions() {
    let body = main_module(
        r#"(global $ready (mut i32) (i32.const 0))
    (func $start (global.set $ready (i32.const 100)))
    (start $start)
    (func (export "add") (param i32 i32) (result i32)
      (i32.add (global.get $ready) (i32.add (local.get 0) (local.get 1))))
    ;; shout(s) = s + "!" in a fresh buffer; the result (ptr, len) at 600
    (func (export "shout") (param $p i32) (param $n i32) (result i32)
      (memory.copy (i32.const 700) (local.get $p) (local.get $n))
      (i32.store8 (i32.add (i32.const 700) (local.get $n)) (i32.const 33))
      (i32.store (i32.const 600) (i32.const 700))
      (i32.store (i32.const 604) (i32.add (local.get $n) (i32.const 1)))
      (i32.const 600))
    ;; post(ptr): the result's last byte copied to 800, then printed when
    ;; the result is longer than one byte
    (func (export "post") (param i32)
      (i32.store8 (i32.const 800) (i32.load8_u (i32.add (i32.load (local.get 0))
        (i32.sub (i32.load offset=4 (local.get 0)) (i32.const 1)))))
      (if (i32.gt_u (i32.load offset=4 (local.get 0)) (i32.const 1))
        (then (call $print (i32.load (local.get 0)) (i32.load offset=4 (local.get 0))))))"#,
    );
    let wat = component(&body, None).replace(
        r#"(func $run (result (result)) (canon lift (core func $main "run") ))
  (instance $run-inst (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run-inst))"#,
        r#"(func $add (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $main "add")))
  (export "add" (func $add))
  (func $shout (param "s" string) (result string)
    (canon lift (core func $main "shout") (memory $mem) (realloc $realloc) (post-return (core func $main "post"))))
  (instance $strings (export "shout" (func $shout)))
  (export "test:pkg/strings@1.0.0" (instance $strings))"#,
    );
    let l = lower_wat(&wat).expect("lowers");
    assert_eq!(
        l.reactor_exports.as_deref(),
        Some(
            &[
                "add".to_string(),
                "test:pkg/strings@1.0.0#shout".to_string()
            ][..]
        )
    );
    let (_, exports) = imports_exports(&l.bytes);
    assert_eq!(
        exports,
        [
            "_initialize",
            "add",
            "test:pkg/strings@1.0.0#shout",
            "cabi_post_test:pkg/strings@1.0.0#shout",
            "cabi_realloc",
            "memory"
        ]
    );
    let shout = "test:pkg/strings@1.0.0#shout";
    let post = "cabi_post_test:pkg/strings@1.0.0#shout";
    // "hey" placed by the caller through cabi_realloc (in libc's heap).
    let calls = call_reactor(
        &l.bytes,
        &[
            ("add", vec![Val::I32(2), Val::I32(3)]),
            (
                "cabi_realloc",
                vec![Val::I32(0), Val::I32(0), Val::I32(1), Val::I32(3)],
            ),
        ],
    );
    assert_eq!(calls.results[0], [Val::I32(105)]);
    let Val::I32(p) = calls.results[1][0] else {
        panic!()
    };
    assert!(p >= 4096, "allocated in libc's heap: {p}");
    // The string call on a fresh instance: memory starts as the data says.
    let calls = call_reactor(
        &l.bytes,
        &[
            (shout, vec![Val::I32(16), Val::I32(0)]),
            (post, vec![Val::I32(600)]),
        ],
    );
    assert_eq!(calls.results[0], [Val::I32(600)]);
    assert_eq!(&calls.memory[700..701], b"!");
    assert_eq!(calls.memory[800], b'!', "the post-return ran on the result");
    assert!(calls.trapped.is_none(), "{:?}", calls.trapped);
    // Three bytes (zeros) and "!": the post-return prints a result longer
    // than one byte, and traps there, `may_leave` being false.
    let calls = call_reactor(
        &l.bytes,
        &[
            (shout, vec![Val::I32(100), Val::I32(3)]),
            (post, vec![Val::I32(600)]),
        ],
    );
    assert_eq!(calls.results[0], [Val::I32(600)]);
    assert_eq!(&calls.memory[700..704], b"\0\0\0!");
    assert_eq!(calls.trapped.as_ref().map(|(f, _)| f.as_str()), Some(post));
    assert_eq!(calls.stdout, "");
}

#[test]
fn a_component_exporting_nothing_is_a_reactor_with_only_initialize() {
    let wat = component(
        &main_module(
            r#"(func $start (call $print (i32.const 0) (i32.const 0)))
    (start $start)
    (func (export "run") (result i32) (i32.const 0))"#,
        ),
        None,
    )
    .replace("(export \"wasi:cli/run@0.2.0\" (instance $run-inst))", "");
    let l = lower_wat(&wat).expect("lowers");
    assert_eq!(l.reactor_exports, Some(vec![]));
    assert_eq!(imports_exports(&l.bytes).1, ["_initialize", "memory"]);
    call_reactor(&l.bytes, &[]);
}

/// `resource.new`/`rep`/`drop` of a resource the component defines: a
/// generated handle table (handles from 1, freed slots reused first, the
/// destructor called with the rep on drop; a dropped handle traps).
#[test]
fn own_resources_get_a_handle_table() {
    let body = |after_drop: &str| {
        format!(
            r#"
  (core module $dtor
    (import "libc" "memory" (memory 1))
    ;; appends the rep's digit to the log at 500 (its length at 499)
    (func (export "dtor") (param i32)
      (i32.store8 (i32.add (i32.const 500) (i32.load8_u (i32.const 499)))
        (i32.add (i32.const 48) (local.get 0)))
      (i32.store8 (i32.const 499) (i32.add (i32.load8_u (i32.const 499)) (i32.const 1)))))
  (core instance $dtor (instantiate $dtor (with "libc" (instance $libc))))
  (type $r (resource (rep i32) (dtor (core func $dtor "dtor"))))
  (core func $new (canon resource.new $r))
  (core func $rep (canon resource.rep $r))
  (core func $rdrop (canon resource.drop $r))
  (core instance $res (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $rdrop)))
  (core module $main
    (import "libc" "memory" (memory 1))
    {PRINT_IMPORTS}
    (import "res" "new" (func $new (param i32) (result i32)))
    (import "res" "rep" (func $rep (param i32) (result i32)))
    (import "res" "drop" (func $drop-r (param i32)))
    {PRINT}
    (func (export "run") (result i32)
      (local $a i32) (local $b i32) (local $c i32)
      (local.set $a (call $new (i32.const 4)))
      (local.set $b (call $new (i32.const 7)))
      (if (i32.ne (local.get $a) (i32.const 1)) (then (unreachable)))
      (if (i32.ne (local.get $b) (i32.const 2)) (then (unreachable)))
      (if (i32.ne (call $rep (local.get $b)) (i32.const 7)) (then (unreachable)))
      (call $drop-r (local.get $a))
      ;; the freed slot comes back first
      (local.set $c (call $new (i32.const 9)))
      (if (i32.ne (local.get $c) (i32.const 1)) (then (unreachable)))
      (call $drop-r (local.get $b))
      (call $drop-r (local.get $c))
      (call $print (i32.const 500) (i32.load8_u (i32.const 499)))
      {after_drop}
      (i32.const 0)))
  (core instance $main (instantiate $main (with "libc" (instance $libc)) (with "wasi" (instance $wasi)) (with "res" (instance $res))))"#
        )
    };
    let wat = component(&body(""), None);
    let out = run(&lower_ok(&wat), &["app"]);
    assert_as_native("handle table", &wat, &["app"], &out);
    assert_eq!(out.stdout, "479");
    assert_eq!(out.exit, Exit::Returned);
    // A dropped handle is gone: rep ends the run through the library's
    // report of an unknown handle (the stand-in's exit 10; wasmtime's
    // "unknown handle index", exit 1).
    let wat = component(&body("(drop (call $rep (local.get $b)))"), None);
    let out = run(&lower_ok(&wat), &["app"]);
    assert_as_native("rep of a dropped handle", &wat, &["app"], &out);
    assert_eq!(out.exit, Exit::Code(10));
}

/// A wit-component-style indirect-call shim: `$shim`'s functions call
/// through its table, which `$fixup` (instantiated after `$main`) fills.
/// `main_extra` goes into `$main`, `run` is its `run` body.
fn shim_component(main_extra: &str, run: &str) -> String {
    let body = format!(
        r#"
  (core module $shim
    (type $w (func (param i32 i32 i32 i32)))
    (type $g (func (result i32)))
    (table (export "$imports") 2 2 funcref)
    (func (export "0") (type $w)
      local.get 0 local.get 1 local.get 2 local.get 3 i32.const 0 call_indirect (type $w))
    (func (export "1") (type $g) i32.const 1 call_indirect (type $g)))
  (core instance $shim (instantiate $shim))
  (core module $main
    (import "libc" "memory" (memory 1))
    (import "shim" "write" (func $write (param i32 i32 i32 i32)))
    (import "shim" "get-stdout" (func $get-stdout (result i32)))
    (import "shim" "$imports" (table $t 2 2 funcref))
    (import "wasi" "drop" (func $drop (param i32)))
    (import "wasi" "write" (func $real-write (param i32 i32 i32 i32)))
    {PRINT}
    (data (i32.const 100) "hi\n")
    {main_extra}
    (func (export "run") (result i32) {run} (call $print (i32.const 100) (i32.const 3)) (i32.const 0)))
  (core instance $main (instantiate $main (with "libc" (instance $libc)) (with "wasi" (instance $wasi))
    (with "shim" (instance (export "write" (func $shim "0")) (export "get-stdout" (func $shim "1"))
      (export "$imports" (table $shim "$imports"))))))
  (core module $fixup
    (import "" "0" (func (param i32 i32 i32 i32)))
    (import "" "1" (func (result i32)))
    (import "" "$imports" (table 2 2 funcref))
    (elem (i32.const 0) func 0 1))
  (core instance $fixup (instantiate $fixup
    (with "" (instance (export "0" (func $write)) (export "1" (func $get-stdout))
      (export "$imports" (table $shim "$imports"))))))
  "#
    );
    component(&body, None)
}

/// How many `call`s of the output go to a forwarder (a function of at most
/// seven instructions with a `call_indirect`).
fn calls_to_forwarders(bytes: &[u8]) -> usize {
    let mut imported = 0;
    let mut forwarders = Vec::new();
    let mut calls = Vec::new();
    let mut f = 0;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.unwrap() {
            wasmparser::Payload::ImportSection(r) => {
                for i in r.into_imports() {
                    if matches!(i.unwrap().ty, wasmparser::TypeRef::Func(_)) {
                        imported += 1;
                    }
                }
            }
            wasmparser::Payload::CodeSectionEntry(body) => {
                let ops: Vec<_> = body
                    .get_operators_reader()
                    .unwrap()
                    .into_iter()
                    .map(Result::unwrap)
                    .collect();
                if ops.len() <= 7
                    && ops
                        .iter()
                        .any(|o| matches!(o, wasmparser::Operator::CallIndirect { .. }))
                {
                    forwarders.push(imported + f);
                }
                calls.extend(ops.iter().filter_map(|o| match o {
                    wasmparser::Operator::Call { function_index } => Some(*function_index),
                    _ => None,
                }));
                f += 1;
            }
            _ => {}
        }
    }
    assert_eq!(forwarders.len(), 2, "the shim's two functions stay");
    calls.iter().filter(|c| forwarders.contains(c)).count()
}

/// `$main`'s imports from the shim resolve to the functions the fixup's
/// segment puts in the slots: no call goes through the shim.
#[test]
fn the_indirect_call_shim_becomes_direct_calls() {
    let wat = shim_component("", "");
    let bytes = lower_ok(&wat);
    let out = run(&bytes, &["app"]);
    assert_as_native("shim", &wat, &["app"], &out);
    assert_eq!(out.stdout, "hi\n");
    assert_eq!(out.exit, Exit::Returned);
    assert_eq!(calls_to_forwarders(&bytes), 0);
}

/// Where a slot can change (a `table.set` in `$main`) or a start function
/// could call through the shim before the fixup's segment is applied, the
/// calls stay indirect, and a changed slot is seen.
#[test]
fn the_indirect_call_shim_stays_where_a_slot_can_change() {
    let twice = r#"(func $twice (param i32 i32 i32 i32)
      (call $real-write (local.get 0) (local.get 1) (local.get 2) (local.get 3))
      (call $real-write (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
    (elem declare func $twice)"#;
    let wat = shim_component(twice, "(table.set $t (i32.const 0) (ref.func $twice))");
    let bytes = lower_ok(&wat);
    let out = run(&bytes, &["app"]);
    assert_as_native("a slot set", &wat, &["app"], &out);
    assert_eq!(out.stdout, "hi\nhi\n");
    assert_eq!(out.exit, Exit::Returned);
    assert_eq!(calls_to_forwarders(&bytes), 2);
    // A start function in `$main`, before the fixup: its segment is applied
    // after that start function, which could call through the shim.
    let wat = shim_component("(func $s) (start $s)", "");
    let bytes = lower_ok(&wat);
    let out = run(&bytes, &["app"]);
    assert_as_native("a start function before the fixup", &wat, &["app"], &out);
    assert_eq!(out.stdout, "hi\n");
    assert_eq!(calls_to_forwarders(&bytes), 2);
}
