//! `lower --invoke` (`lower::Options::invoke`) with the real library (p2-lib
//! built for wasm32-wasip1 with its `invoke` feature, as `make p2-lib`
//! builds target/p2lib-invoke.wasm): each reactor below is lowered once,
//! each call runs on core-vm as the module's argv[1] (`common::run`) and is
//! compared with `wasmtime run --invoke CALL` of the component
//! (`common::assert_invoke_as_native`: the same stdout, the same kind of
//! ending). Strings, lists, records, variants, options, results, flags,
//! spilled arguments and results, a post-return, a trap, parse and type
//! errors, the arguments a core start function sees; and the refusals (a command component, a library without
//! `p2lib_invoke`).
//!
//! Needs the wasm32-wasip1 Rust target and wasmtime (`scripts/install-tools.sh`).

mod common;
use common::{build, run, stand_in_library, Exit, Library};
use std::sync::OnceLock;

fn library() -> &'static [u8] {
    static LIB: OnceLock<Vec<u8>> = OnceLock::new();
    LIB.get_or_init(|| build(Library::P2LibInvoke, ""))
}

fn lower_invoke(wat: &str) -> Result<lower::Lowered, lower::LowerError> {
    let bytes = wat::parse_str(wat).expect("the test component assembles");
    lower::lower_with(&bytes, library(), lower::Options { invoke: true })
}

/// Lowers `wat` with `--invoke` and runs each call against native wasmtime.
fn check(what: &str, wat: &str, calls: &[&str]) {
    let lowered = lower_invoke(wat).unwrap_or_else(|e| panic!("{what}: {e}"));
    let (_, exports) = common::imports_exports(&lowered.bytes);
    assert_eq!(exports, ["_start", "memory"], "{what}");
    for call in calls {
        let out = run(&lowered.bytes, &["app.p1.wasm", call]);
        common::assert_invoke_as_native(what, wat, call, &out);
    }
}

/// A core module with memory `mem`, a bump `realloc` from 1024 and `body`.
fn module(body: &str) -> String {
    format!(
        r#"(core module $m
    (memory (export "mem") 1)
    (global $bump (mut i32) (i32.const 1024))
    (func $realloc (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $bump (i32.add (local.get $p) (local.get 3)))
      (if (i32.ne (local.get 0) (i32.const 0))
        (then (memory.copy (local.get $p) (local.get 0) (local.get 1))))
      (local.get $p))
    {body})
  (core instance $i (instantiate $m))"#
    )
}

/// `canon lift` options with the memory and realloc of [`module`].
const OPTS: &str = r#"(memory (core memory $i "mem")) (realloc (core func $i "realloc"))"#;

#[test]
fn strings_and_lists() {
    let wat = format!(
        r#"(component
  {}
  (func (export "echo") (param "s" string) (result string)
    (canon lift (core func $i "echo") {OPTS}))
  (func (export "sum") (param "xs" (list u32)) (result u64)
    (canon lift (core func $i "sum") {OPTS}))
  (func (export "rev") (param "xs" (list u8)) (result (list u8))
    (canon lift (core func $i "rev") {OPTS}))
)"#,
        module(
            r#"
    (func (export "echo") (param i32 i32) (result i32)
      (i32.store (i32.const 16) (local.get 0))
      (i32.store (i32.const 20) (local.get 1))
      (i32.const 16))
    (func (export "sum") (param $p i32) (param $n i32) (result i64)
      (local $acc i64)
      (block $done (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (i32.load (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
      (local.get $acc))
    (func (export "rev") (param $p i32) (param $n i32) (result i32)
      (local $out i32) (local $k i32)
      (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (local.get $n)))
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
        (i32.store8 (i32.add (local.get $out) (local.get $k))
          (i32.load8_u (i32.sub (i32.add (local.get $p) (local.get $n))
                                (i32.add (local.get $k) (i32.const 1)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
      (i32.store (i32.const 24) (local.get $out))
      (i32.store (i32.const 28) (local.get $n))
      (i32.const 24))"#
        )
    );
    check(
        "strings and lists",
        &wat,
        &[
            r#"echo("hi \u{1F600}")"#,
            r#"echo("")"#,
            "sum([1, 2, 4294967295])",
            "sum([])",
            "rev([1, 2, 3])",
            "rev([])",
            // Type errors: the interpreter's messages, exit 1.
            "echo(1)",
            "sum([-1])",
        ],
    );
}

#[test]
fn records_variants_options_results() {
    let wat = format!(
        r#"(component
  {}
  (type $point' (record (field "x" s32) (field "y" s32)))
  (type $shape' (variant (case "none") (case "dot" u8) (case "line" u64)))
  (type $color' (enum "red" "green"))
  (type $perm' (flags "read" "write" "exec"))
  (export $point "point" (type $point'))
  (export $shape "shape" (type $shape'))
  (export $color "color" (type $color'))
  (export $perm "perm" (type $perm'))
  (func (export "norm") (param "p" $point) (result s32)
    (canon lift (core func $i "norm")))
  (func (export "mk") (param "x" s32) (param "y" s32) (result $point)
    (canon lift (core func $i "mk") {OPTS}))
  (func (export "size") (param "s" $shape) (result u64)
    (canon lift (core func $i "size")))
  (func (export "check") (param "x" (option u32)) (result (result u32 (error string)))
    (canon lift (core func $i "check") {OPTS}))
  (func (export "flip") (param "c" $color) (param "p" $perm) (result (tuple $color $perm))
    (canon lift (core func $i "flip") {OPTS}))
)"#,
        module(
            r#"
    (data (i32.const 64) "none")
    (func (export "norm") (param i32 i32) (result i32)
      (i32.add (local.get 0) (local.get 1)))
    ;; A record of two fields is returned through memory (a spilled result).
    (func (export "mk") (param i32 i32) (result i32)
      (i32.store (i32.const 32) (local.get 0))
      (i32.store (i32.const 36) (local.get 1))
      (i32.const 32))
    ;; variant { none, dot(u8), line(u64) }: (disc i32, payload i64).
    (func (export "size") (param i32 i64) (result i64)
      (if (result i64) (i32.eqz (local.get 0))
        (then (i64.const 0))
        (else (i64.add (local.get 1) (i64.const 100)))))
    ;; option<u32> in, result<u32, string> out (through memory).
    (func (export "check") (param i32 i32) (result i32)
      (if (i32.eqz (local.get 0))
        (then
          (i32.store (i32.const 40) (i32.const 1))
          (i32.store (i32.const 44) (i32.const 64))
          (i32.store (i32.const 48) (i32.const 4)))
        (else
          (i32.store (i32.const 40) (i32.const 0))
          (i32.store (i32.const 44) (i32.mul (local.get 1) (i32.const 2)))))
      (i32.const 40))
    ;; (enum, flags) -> tuple<enum, flags>: the other color, the flags inverted.
    (func (export "flip") (param i32 i32) (result i32)
      (i32.store8 (i32.const 56) (i32.sub (i32.const 1) (local.get 0)))
      (i32.store8 (i32.const 57) (i32.xor (local.get 1) (i32.const 7)))
      (i32.const 56))"#
        )
    );
    check(
        "records, variants, options, results",
        &wat,
        &[
            "norm({x: 3, y: -5})",
            "norm({y: 1, x: 1})",
            "mk(7, -8)",
            "size(none)",
            "size(dot(5))",
            "size(line(18446744073709551515))",
            "check(none)",
            "check(some(21))",
            "check()",
            "flip(red, {read, exec})",
            "flip(green, {})",
            "norm({x: 3})",
            "size(circle)",
        ],
    );
}

#[test]
fn spilled_arguments_go_through_realloc() {
    // 17 flat parameters: passed as a pointer to memory the ABI allocates
    // with the export's realloc.
    let params: String = (0..17).map(|k| format!(r#"(param "p{k}" u32) "#)).collect();
    let wat = format!(
        r#"(component
  {}
  (func (export "many") {params} (result u32)
    (canon lift (core func $i "many") {OPTS}))
)"#,
        module(
            r#"
    (func (export "many") (param $p i32) (result i32)
      (local $k i32) (local $acc i32)
      (block $done (loop $next
        (br_if $done (i32.ge_u (local.get $k) (i32.const 17)))
        (local.set $acc (i32.add (local.get $acc)
          (i32.mul (i32.add (local.get $k) (i32.const 1))
                   (i32.load (i32.add (local.get $p) (i32.shl (local.get $k) (i32.const 2)))))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
      (local.get $acc))"#
        )
    );
    let args: Vec<String> = (1..=17).map(|k| k.to_string()).collect();
    check(
        "spilled arguments",
        &wat,
        &[&format!("many({})", args.join(", ")), "many(1, 2)"],
    );
}

#[test]
fn post_return_traps_and_errors() {
    let wat = format!(
        r#"(component
  {}
  (func $greet (export "greet") (param "s" string) (result string)
    (canon lift (core func $i "greet") {OPTS} (post-return (core func $i "free"))))
  (func (export "boom") (result u32) (canon lift (core func $i "boom")))
  (func (export "bad-char") (result char) (canon lift (core func $i "bad-char")))
  (func (export "bad-string") (result string) (canon lift (core func $i "bad-string") {OPTS}))
  (func (export "bad-free") (result string)
    (canon lift (core func $i "greet-x") {OPTS} (post-return (core func $i "trap"))))
  (instance $api (export "greet" (func $greet)))
  (export "test:demo/api@1.0.0" (instance $api))
)"#,
        module(
            r#"
    (data (i32.const 200) "hello, ")
    (global $live (mut i32) (i32.const 0))
    (func (export "greet") (param $p i32) (param $n i32) (result i32)
      (local $out i32)
      (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 1)
                                     (i32.add (local.get $n) (i32.const 7))))
      (memory.copy (local.get $out) (i32.const 200) (i32.const 7))
      (memory.copy (i32.add (local.get $out) (i32.const 7)) (local.get $p) (local.get $n))
      (i32.store (i32.const 16) (local.get $out))
      (i32.store (i32.const 20) (i32.add (local.get $n) (i32.const 7)))
      (global.set $live (i32.const 1))
      (i32.const 16))
    ;; The post-return clears the result: it runs after the result was lifted.
    (func (export "free") (param i32)
      (memory.fill (i32.load (local.get 0)) (i32.const 0) (i32.load offset=4 (local.get 0))))
    (func (export "greet-x") (result i32)
      (i32.store (i32.const 16) (i32.const 200))
      (i32.store (i32.const 20) (i32.const 5))
      (i32.const 16))
    (func (export "trap") (param i32) unreachable)
    (func (export "boom") (result i32) unreachable)
    (func (export "bad-char") (result i32) (i32.const 0xd800))
    (func (export "bad-string") (result i32)
      (i32.store (i32.const 0) (i32.const 65535))
      (i32.store (i32.const 4) (i32.const 9))
      (i32.const 0))"#
        )
    );
    check(
        "post-return, traps and errors",
        &wat,
        &[
            r#"greet("wörld")"#,
            r#"test:demo/api.greet@1.0.0("x")"#,
            r#"test:demo/api.greet@1.2.0("y")"#,
            "boom()",
            "bad-char()",
            "bad-string()",
            "bad-free()",
            // Parse errors and unknown names: exit 1 before any guest code.
            "greet(",
            "greet",
            "nope()",
            r#"greet("a", "b")"#,
        ],
    );
    // Without a call: a one-line hint, exit 1.
    let lowered = lower_invoke(&wat).unwrap();
    let out = run(&lowered.bytes, &["app.p1.wasm"]);
    assert_eq!(out.exit, Exit::Code(1));
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("give the call"), "{}", out.stderr);
}

/// The call, argv[1], is hidden from the guest's `get-arguments` from its
/// first WASI call on, a core start function's included, as under
/// `wasmtime run --invoke` (whose guest sees argv[0] only here).
#[test]
fn a_start_function_sees_the_arguments_without_the_call() {
    let wat = format!(
        r#"(component
  (import "wasi:cli/environment@0.2.0" (instance $env
    (export "get-arguments" (func (result (list string))))))
  {}
  (core instance $libc (instantiate $libc))
  (core func $get-arguments (canon lower (func $env "get-arguments")
    (memory (core memory $libc "memory")) (realloc (core func $libc "cabi_realloc"))))
  (core module $m
    (import "libc" "memory" (memory 1))
    (import "env" "get-arguments" (func $get-arguments (param i32)))
    (global $at-start (mut i32) (i32.const -1))
    (func $count (result i32)
      (call $get-arguments (i32.const 8))
      (i32.load (i32.const 12)))
    (func $start (global.set $at-start (call $count)))
    (start $start)
    (func (export "at-start") (result i32) (global.get $at-start))
    (func (export "now") (result i32) (call $count)))
  (core instance $i (instantiate $m
    (with "libc" (instance $libc))
    (with "env" (instance (export "get-arguments" (func $get-arguments))))))
  (func (export "at-start") (result u32) (canon lift (core func $i "at-start")))
  (func (export "now") (result u32) (canon lift (core func $i "now")))
)"#,
        common::LIBC
    );
    check("argv at start", &wat, &["at-start()", "now()"]);
    let lowered = lower_invoke(&wat).unwrap();
    let out = run(&lowered.bytes, &["app.p1.wasm", "at-start()"]);
    assert_eq!(out.stdout, "1\n", "argv[0] only: {out:?}");
}

#[test]
fn refusals() {
    // A command: `--invoke` lowers reactors only.
    let command = common::component(
        &common::main_module(r#"(func (export "run") (result i32) (i32.const 0))"#),
        None,
    );
    let e = lower_invoke(&command).unwrap_err().to_string();
    assert!(e.contains("this is a command"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    // A library without `p2lib_invoke` (the stand-in, or the ordinary p2-lib).
    let reactor = format!(
        r#"(component
  {}
  (func (export "nothing") (canon lift (core func $i "nothing")))
)"#,
        module(r#"(func (export "nothing"))"#)
    );
    let bytes = wat::parse_str(&reactor).unwrap();
    let e = lower::lower_with(&bytes, &stand_in_library(), lower::Options { invoke: true })
        .unwrap_err()
        .to_string();
    assert!(e.contains("--features invoke"), "{e}");
    // Without --invoke, the invoke library's hooks become functions that
    // trap: the reactor's usual exports, no import of `p2lib-invoke`, and
    // it runs.
    let plain = lower::lower(&bytes, library()).unwrap();
    let (imports, exports) = common::imports_exports(&plain.bytes);
    assert!(
        imports.iter().all(|i| !i.starts_with("p2lib-invoke")),
        "{imports:?}"
    );
    assert!(exports.contains(&"nothing".to_string()), "{exports:?}");
    let calls = common::call_reactor(&plain.bytes, &[("nothing", vec![])]);
    assert!(calls.trapped.is_none());
}
