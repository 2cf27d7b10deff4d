//! Composed components: a nested component with its own memory, called by
//! the root's main module (fused adapters between the two memories, the
//! lowered module using multi-memory), and calling WASI from its own
//! memory (through the scratch area of the library's memory). Run on
//! core-vm with the stand-in library; each component also runs on native
//! wasmtime (`common::assert_as_native`; the wasmtime 49 that
//! `scripts/install-tools.sh` pins), which must print the same stdout and
//! end the same way.

mod common;
use common::{
    assert_as_native, component, lower_wat, main_module_with, run, Exit, LIBC, PRINT,
    PRINT_IMPORTS, STDOUT_IMPORTS,
};

/// Component `$B`: its own memory and heap ([`LIBC`]), WASI stdout (printing from its
/// memory), and four functions, instantiated as `$b` with the root's WASI
/// instances, its functions lowered into the root's `$libc` memory and
/// bundled as core instance `$b-funcs`.
fn b() -> String {
    format!(
        r#"
  (component $B
    {STDOUT_IMPORTS}
    {LIBC}
    (core instance $bi (instantiate $libc))
    (core module $bm
      (import "libc" "memory" (memory 1))
      (import "libc" "cabi_realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
      (import "wasi" "get-stdout" (func $get-stdout (result i32)))
      (import "wasi" "write" (func $write (param i32 i32 i32 i32)))
      (import "wasi" "drop" (func $drop (param i32)))
      (global $posts (mut i32) (i32.const 0))
      (data (i32.const 16) "hello, ")
      (data (i32.const 32) "B prints\n")
      ;; greet(name) -> "hello, " + name; prints from B's memory first
      (func (export "greet") (param $p i32) (param $n i32) (result i32)
        (local $out i32) (local $s i32)
        (local.set $s (call $get-stdout))
        (call $write (local.get $s) (i32.const 32) (i32.const 9) (i32.const 48))
        (call $drop (local.get $s))
        (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 1)
          (i32.add (local.get $n) (i32.const 7))))
        (memory.copy (local.get $out) (i32.const 16) (i32.const 7))
        (memory.copy (i32.add (local.get $out) (i32.const 7)) (local.get $p) (local.get $n))
        (i32.store (i32.const 64) (local.get $out))
        (i32.store (i32.const 68) (i32.add (local.get $n) (i32.const 7)))
        (i32.const 64))
      (func (export "greet-post") (param i32)
        (global.set $posts (i32.add (global.get $posts) (i32.const 1))))
      ;; stats(xs, flag, c) -> (sum: u64, count: u32, c: char, flag: bool, posts: u32)
      (func (export "stats") (param $p i32) (param $n i32) (param $flag i32) (param $c i32) (result i32)
        (local $i i32) (local $sum i64)
        (block $done (loop $each
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $sum (i64.add (local.get $sum)
            (i64.extend_i32_u (i32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $each)))
        (i64.store (i32.const 128) (local.get $sum))
        (i32.store (i32.const 136) (local.get $n))
        (i32.store (i32.const 140) (local.get $c))
        (i32.store8 (i32.const 144) (local.get $flag))
        (i32.store (i32.const 148) (global.get $posts))
        (i32.const 128))
      ;; pick(ok(s)) -> some(s); pick(err(_)) -> none
      (func (export "pick") (param $d i32) (param $p i32) (param $n i32) (result i32)
        (i32.store8 (i32.const 160) (i32.eqz (local.get $d)))
        (i32.store (i32.const 164) (local.get $p))
        (i32.store (i32.const 168) (local.get $n))
        (i32.const 160))
      ;; join(parts) -> the parts with "+" after each
      (func (export "join") (param $p i32) (param $n i32) (result i32)
        (local $i i32) (local $total i32) (local $out i32) (local $at i32) (local $e i32)
        (block $done (loop $each
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $total (i32.add (local.get $total)
            (i32.add (i32.load offset=4 (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3)))) (i32.const 1))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $each)))
        (local.set $out (call $realloc (i32.const 0) (i32.const 0) (i32.const 1) (local.get $total)))
        (local.set $at (local.get $out))
        (local.set $i (i32.const 0))
        (block $done (loop $each
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (local.set $e (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3))))
          (memory.copy (local.get $at) (i32.load (local.get $e)) (i32.load offset=4 (local.get $e)))
          (local.set $at (i32.add (local.get $at) (i32.load offset=4 (local.get $e))))
          (i32.store8 (local.get $at) (i32.const 43))
          (local.set $at (i32.add (local.get $at) (i32.const 1)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $each)))
        (i32.store (i32.const 176) (local.get $out))
        (i32.store (i32.const 180) (local.get $total))
        (i32.const 176)))
    (alias core export $bi "memory" (core memory $bmem))
    (alias core export $bi "cabi_realloc" (core func $brealloc))
    (core func $write (canon lower (func $streams "[method]output-stream.blocking-write-and-flush") (memory $bmem)))
    (core func $get-stdout (canon lower (func $stdout "get-stdout")))
    (core func $drop (canon resource.drop $os))
    (core instance $bwasi
      (export "write" (func $write)) (export "get-stdout" (func $get-stdout)) (export "drop" (func $drop)))
    (core instance $b (instantiate $bm (with "libc" (instance $bi)) (with "wasi" (instance $bwasi))))
    (func (export "greet") (param "name" string) (result string)
      (canon lift (core func $b "greet") (memory $bmem) (realloc $brealloc) (post-return (core func $b "greet-post"))))
    (func (export "stats") (param "xs" (list u32)) (param "flag" bool) (param "c" char)
      (result (tuple u64 u32 char bool u32))
      (canon lift (core func $b "stats") (memory $bmem) (realloc $brealloc)))
    (func (export "pick") (param "x" (result string (error u16))) (result (option string))
      (canon lift (core func $b "pick") (memory $bmem) (realloc $brealloc)))
    (func (export "join") (param "parts" (list string)) (result string)
      (canon lift (core func $b "join") (memory $bmem) (realloc $brealloc))))
  (instance $b (instantiate $B
    (with "wasi:io/error@0.2.0" (instance $error))
    (with "wasi:io/streams@0.2.0" (instance $streams))
    (with "wasi:cli/stdout@0.2.3" (instance $stdout))))
  (core func $greet (canon lower (func $b "greet") (memory $mem) (realloc $realloc)))
  (core func $stats (canon lower (func $b "stats") (memory $mem) (realloc $realloc)))
  (core func $pick (canon lower (func $b "pick") (memory $mem) (realloc $realloc)))
  (core func $join (canon lower (func $b "join") (memory $mem) (realloc $realloc)))
  (core instance $b-funcs
    (export "greet" (func $greet)) (export "stats" (func $stats))
    (export "pick" (func $pick)) (export "join" (func $join)))
"#
    )
}

/// The imports of the main module from `$b-funcs`, in their lowered types.
const B_IMPORTS: &str = r#"
    (import "b" "greet" (func $greet (param i32 i32 i32)))
    (import "b" "stats" (func $stats (param i32 i32 i32 i32 i32)))
    (import "b" "pick" (func $pick (param i32 i32 i32 i32)))
    (import "b" "join" (func $join (param i32 i32 i32)))"#;

/// The whole component: `$B`, then a main module whose `run` is `body`,
/// with `data` (its data segments).
fn composed(body: &str, data: &str) -> String {
    let main = main_module_with(
        B_IMPORTS,
        &format!(r#"(func (export "run") (result i32) {body}) {data}"#),
    )
    .replace(
        "(with \"wasi\" (instance $wasi))",
        "(with \"wasi\" (instance $wasi)) (with \"b\" (instance $b-funcs))",
    );
    component(&format!("{}{main}", b()), None)
}

fn lower(wat: &str) -> Vec<u8> {
    let l = lower_wat(wat).unwrap_or_else(|e| panic!("lowering failed: {e}"));
    assert_eq!(l.extra_features, ["multi-memory"]);
    l.bytes
}

/// Values cross from the root's memory to `$B`'s and back, with the
/// stdout native wasmtime prints for the same component (compared on each
/// run).
#[test]
fn values_cross_between_the_two_memories() {
    // Data of main (in the root's memory): strings and lists to pass.
    let body = r#"
      (local $r i32)
      ;; greet("world") -> "hello, world", printed with a newline
      (call $greet (i32.const 300) (i32.const 5) (i32.const 400))
      (call $print (i32.load (i32.const 400)) (i32.load (i32.const 404)))
      (call $print (i32.const 310) (i32.const 1))
      ;; stats([1, 2, 3, 4000000000], flag 7, 'é'): each field checked, a letter each
      (call $stats (i32.const 320) (i32.const 4) (i32.const 7) (i32.const 0xe9) (i32.const 416))
      (if (i64.eq (i64.load (i32.const 416)) (i64.const 4000000006)) (then (call $print (i32.const 500) (i32.const 1))))
      (if (i32.eq (i32.load (i32.const 424)) (i32.const 4)) (then (call $print (i32.const 501) (i32.const 1))))
      (if (i32.eq (i32.load (i32.const 428)) (i32.const 0xe9)) (then (call $print (i32.const 502) (i32.const 1))))
      ;; a bool is lifted as 0 or 1
      (if (i32.eq (i32.load8_u (i32.const 432)) (i32.const 1)) (then (call $print (i32.const 503) (i32.const 1))))
      ;; greet's post-return ran once before stats
      (if (i32.eq (i32.load (i32.const 436)) (i32.const 1)) (then (call $print (i32.const 504) (i32.const 1))))
      (call $print (i32.const 310) (i32.const 1))
      ;; pick(ok("abc")) -> some("abc"); pick(err(5)) -> none
      (call $pick (i32.const 0) (i32.const 305) (i32.const 3) (i32.const 440))
      (if (i32.eq (i32.load8_u (i32.const 440)) (i32.const 1))
        (then (call $print (i32.load (i32.const 444)) (i32.load (i32.const 448)))))
      (i32.store8 (i32.const 440) (i32.const 9))
      (call $pick (i32.const 1) (i32.const 5) (i32.const 0) (i32.const 440))
      (if (i32.eqz (i32.load8_u (i32.const 440))) (then (call $print (i32.const 505) (i32.const 4))))
      (call $print (i32.const 310) (i32.const 1))
      ;; join(["ab", "", "é"]) -> "ab++é+"
      (call $join (i32.const 340) (i32.const 3) (i32.const 456))
      (call $print (i32.load (i32.const 456)) (i32.load (i32.const 460)))
      (call $print (i32.const 310) (i32.const 1))
      (i32.const 0)"#;
    let data = r#"
    (data (i32.const 300) "worldabc")
    (data (i32.const 310) "\n")
    (data (i32.const 320) "\01\00\00\00\02\00\00\00\03\00\00\00\00\28\6b\ee")
    ;; three (ptr, len) pairs, then their bytes
    (data (i32.const 340) "\70\01\00\00\02\00\00\00\72\01\00\00\00\00\00\00\72\01\00\00\02\00\00\00")
    (data (i32.const 368) "ab\c3\a9")
    (data (i32.const 500) "TNCFPnone")"#;
    let wat = composed(body, data);
    let out = run(&lower(&wat), &["app"]);
    assert_as_native("values", &wat, &["app"], &out);
    assert_eq!(out.exit, Exit::Returned, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "B prints\nhello, world\nTNCFP\nabcnone\nab++é+\n"
    );
}

/// Each check the Canonical ABI makes on a lifted value ends the run in
/// the adapter, before B runs, as in native wasmtime, which runs each
/// component too (same stdout, same kind of ending): invalid UTF-8 is
/// reported through the library (wasmtime: "invalid utf8 encoding", exit
/// 1; the stand-in's exit 14), a surrogate `char`, a bad discriminant, a
/// misaligned list or `retptr`, a list out of bounds trap (wasmtime: a
/// wasm trap, exit 134).
#[test]
fn invalid_values_end_the_run() {
    for (what, call) in [
        (
            "invalid UTF-8",
            "(call $greet (i32.const 300) (i32.const 2) (i32.const 400))",
        ),
        (
            "overlong UTF-8",
            "(call $greet (i32.const 302) (i32.const 2) (i32.const 400))",
        ),
        (
            "a truncated sequence",
            "(call $greet (i32.const 304) (i32.const 1) (i32.const 400))",
        ),
        (
            "a surrogate char",
            "(call $stats (i32.const 320) (i32.const 0) (i32.const 0) (i32.const 0xd800) (i32.const 416))",
        ),
        (
            "a bad discriminant",
            "(call $pick (i32.const 2) (i32.const 0) (i32.const 0) (i32.const 440))",
        ),
        (
            "a misaligned list",
            "(call $stats (i32.const 321) (i32.const 1) (i32.const 0) (i32.const 65) (i32.const 416))",
        ),
        (
            "a list out of bounds",
            "(call $stats (i32.const 65532) (i32.const 2) (i32.const 0) (i32.const 65) (i32.const 416))",
        ),
        (
            "a misaligned retptr",
            "(call $stats (i32.const 320) (i32.const 0) (i32.const 0) (i32.const 65) (i32.const 417))",
        ),
    ] {
        let body = format!("{call} (i32.const 0)");
        let data = r#"(data (i32.const 300) "\ff\fe\c0\80\e2\82")"#;
        let wat = composed(&body, data);
        let out = run(&lower(&wat), &["app"]);
        assert_as_native(what, &wat, &["app"], &out);
        if what.contains("UTF-8") || what.contains("sequence") {
            assert_eq!(out.exit, Exit::Code(14), "{what}");
        } else {
            // The trap is the adapter's.
            assert!(
                matches!(&out.exit, Exit::Trap(t) if t.contains("adapter of")),
                "{what}: {:?} {}",
                out.exit,
                out.stdout
            );
        }
        assert_eq!(out.stdout, "", "{what}");
    }
}

/// Component `$R` defines resource `res` (rep `i32`; its destructor counts
/// the drops) and exports functions taking and returning its handles;
/// component `$M` imports the type and `val`, and holds handles of it
/// (borrow and own) without defining it. Both are instantiated in the
/// root, whose main module gets their functions as core instance `$r`.
fn with_resources(body: &str) -> String {
    let r = format!(
        r#"
  (component $R
    (core module $D
      (global $drops (export "drops") (mut i32) (i32.const 0))
      (func (export "dtor") (param i32)
        (global.set $drops (i32.add (global.get $drops) (i32.const 1)))))
    (core instance $d (instantiate $D))
    (type $res (resource (rep i32) (dtor (core func $d "dtor"))))
    (export $r "res" (type $res))
    (core func $new (canon resource.new $res))
    (core func $rep (canon resource.rep $res))
    (core func $drop (canon resource.drop $res))
    {LIBC}
    (core instance $rl (instantiate $libc))
    (core module $m
      (import "d" "drops" (global $drops (mut i32)))
      (import "r" "new" (func $new (param i32) (result i32)))
      (import "r" "rep" (func $rep (param i32) (result i32)))
      (import "r" "drop" (func $drop (param i32)))
      (import "libc" "memory" (memory 1))
      (func (export "mk") (param i32) (result i32) (call $new (local.get 0)))
      ;; a borrow of its own resource arrives as the rep
      (func (export "val") (param i32) (result i32) (local.get 0))
      (func (export "take") (param $h i32) (result i32) (local $v i32)
        (local.set $v (call $rep (local.get $h)))
        (call $drop (local.get $h))
        (local.get $v))
      (func (export "sum") (param $p i32) (param $n i32) (result i32) (local $s i32)
        (block $done (loop $each
          (br_if $done (i32.eqz (local.get $n)))
          (local.set $s (i32.add (local.get $s) (i32.load (local.get $p))))
          (local.set $p (i32.add (local.get $p) (i32.const 4)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $each)))
        (local.get $s))
      (func (export "both") (param i32 i32) (result i32)
        (call $drop (local.get 1))
        (local.get 0))
      (func (export "drops") (result i32) (global.get $drops)))
    (core instance $ri (instantiate $m
      (with "d" (instance $d))
      (with "r" (instance (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))))
      (with "libc" (instance $rl))))
    (alias core export $rl "memory" (core memory $rmem))
    (alias core export $rl "cabi_realloc" (core func $rrealloc))
    (func (export "mk") (param "n" u32) (result (own $r)) (canon lift (core func $ri "mk")))
    (func (export "val") (param "r" (borrow $r)) (result u32) (canon lift (core func $ri "val")))
    (func (export "take") (param "r" (own $r)) (result u32) (canon lift (core func $ri "take")))
    (func (export "sum") (param "rs" (list (borrow $r))) (result u32)
      (canon lift (core func $ri "sum") (memory $rmem) (realloc $rrealloc)))
    (func (export "both") (param "a" (borrow $r)) (param "b" (own $r)) (result u32)
      (canon lift (core func $ri "both")))
    (func (export "drops") (result u32) (canon lift (core func $ri "drops"))))
  (instance $ri (instantiate $R))
  (alias export $ri "res" (type $res))
  (component $M
    (import "res" (type $r (sub resource)))
    (import "val" (func $val (param "r" (borrow $r)) (result u32)))
    (core func $val (canon lower (func $val)))
    (core func $drop (canon resource.drop $r))
    (core module $mm
      (import "" "val" (func $val (param i32) (result i32)))
      (import "" "drop" (func $drop (param i32)))
      (global $kept (mut i32) (i32.const 0))
      ;; a borrow handle of its own, passed on as a borrow, then dropped
      (func (export "peek") (param $h i32) (result i32) (local $v i32)
        (local.set $v (call $val (local.get $h)))
        (call $drop (local.get $h))
        (local.get $v))
      ;; ... or not dropped: the call's end traps
      (func (export "leak") (param $h i32) (result i32) (call $val (local.get $h)))
      (func (export "keep") (param $h i32) (global.set $kept (local.get $h)))
      (func (export "give") (result i32) (global.get $kept)))
    (core instance $mi (instantiate $mm
      (with "" (instance (export "val" (func $val)) (export "drop" (func $drop))))))
    (func (export "peek") (param "r" (borrow $r)) (result u32) (canon lift (core func $mi "peek")))
    (func (export "leak") (param "r" (borrow $r)) (result u32) (canon lift (core func $mi "leak")))
    (func (export "keep") (param "r" (own $r)) (canon lift (core func $mi "keep")))
    (func (export "give") (result (own $r)) (canon lift (core func $mi "give"))))
  (instance $mi (instantiate $M (with "res" (type $res)) (with "val" (func $ri "val"))))
  (core func $mk (canon lower (func $ri "mk")))
  (core func $val (canon lower (func $ri "val")))
  (core func $take (canon lower (func $ri "take")))
  (core func $sum (canon lower (func $ri "sum") (memory $mem)))
  (core func $both (canon lower (func $ri "both")))
  (core func $drops (canon lower (func $ri "drops")))
  (core func $peek (canon lower (func $mi "peek")))
  (core func $leak (canon lower (func $mi "leak")))
  (core func $keep (canon lower (func $mi "keep")))
  (core func $give (canon lower (func $mi "give")))
  (core func $rdrop (canon resource.drop $res))
  (core instance $r-funcs
    (export "mk" (func $mk)) (export "val" (func $val)) (export "take" (func $take))
    (export "sum" (func $sum)) (export "both" (func $both)) (export "drops" (func $drops))
    (export "peek" (func $peek)) (export "leak" (func $leak)) (export "keep" (func $keep))
    (export "give" (func $give)) (export "drop" (func $rdrop)))
"#
    );
    let main = main_module_with(
        r#"
    (import "r" "mk" (func $mk (param i32) (result i32)))
    (import "r" "val" (func $val (param i32) (result i32)))
    (import "r" "take" (func $take (param i32) (result i32)))
    (import "r" "sum" (func $sum (param i32 i32) (result i32)))
    (import "r" "both" (func $both (param i32 i32) (result i32)))
    (import "r" "drops" (func $drops (result i32)))
    (import "r" "peek" (func $peek (param i32) (result i32)))
    (import "r" "leak" (func $leak (param i32) (result i32)))
    (import "r" "keep" (func $keep (param i32)))
    (import "r" "give" (func $give (result i32)))
    (import "r" "drop" (func $rdrop (param i32)))"#,
        &format!(
            r#"
    (data (i32.const 310) "\n")
    ;; prints a digit
    (func $d (param i32)
      (i32.store8 (i32.const 700) (i32.add (i32.const 48) (local.get 0)))
      (call $print (i32.const 700) (i32.const 1)))
    (func (export "run") (result i32) (local $a i32) (local $b i32) (local $c i32) {body})"#
        ),
    )
    .replace(
        "(with \"wasi\" (instance $wasi))",
        "(with \"wasi\" (instance $wasi)) (with \"r\" (instance $r-funcs))",
    );
    component(&format!("{r}{main}"), None)
}

/// Handles of a resource `$R` defines move between the root, `$R` and `$M`
/// as the Canonical ABI moves them: each digit as native wasmtime prints
/// it for the same component (`wasmtime run`, compared on each run, as
/// are the misuses of `handle_misuse_is_reported`: wasmtime's exit 1 with
/// the message of each error the stand-in reports).
#[test]
fn handles_of_component_resources_cross_components() {
    let body = r#"
      (local.set $a (call $mk (i32.const 1)))
      (local.set $b (call $mk (i32.const 2)))
      ;; the root's own handles: 1 and 2
      (call $d (local.get $a)) (call $d (local.get $b))
      ;; borrows into the definer arrive as reps, twice in a row
      (call $d (call $val (local.get $a))) (call $d (call $val (local.get $a)))
      ;; a list of borrows, one handle twice: 1 + 2 + 1
      (i32.store (i32.const 600) (local.get $a))
      (i32.store (i32.const 604) (local.get $b))
      (i32.store (i32.const 608) (local.get $a))
      (call $d (call $sum (i32.const 600) (i32.const 3)))
      ;; a borrow handle in $M, lent on to $R, dropped by $M
      (call $d (call $peek (local.get $b)))
      ;; own: to $M, and back as a new handle of the root (slot 2, reused)
      (call $keep (local.get $b))
      (local.set $c (call $give))
      (call $d (local.get $c))
      (call $d (call $val (local.get $c)))
      ;; own into the definer, dropped there: its destructor runs
      (call $d (call $take (local.get $a)))
      (call $d (call $drops))
      ;; dropped by the root, which does not define it: the destructor runs
      (call $rdrop (local.get $c))
      (call $d (call $drops))
      ;; the freed slots are reused, the last freed first
      (call $d (call $mk (i32.const 3)))
      (call $d (call $mk (i32.const 4)))
      (call $print (i32.const 310) (i32.const 1))
      (i32.const 0)"#;
    let wat = with_resources(body);
    let out = run(&lower(&wat), &["app"]);
    assert_as_native("handles", &wat, &["app"], &out);
    assert_eq!(out.exit, Exit::Returned, "{}", out.stderr);
    assert_eq!(out.stdout, "1211422211221\n");
}

/// Each misuse of a handle that wasmtime reports ends the run here too,
/// through the library's report (the stand-in's exits 10 + its kind: 10
/// an unknown handle, 11 a lent handle moved or dropped, 12 borrow handles
/// left at a call's end), before the call's callee runs; native wasmtime
/// runs each component too and must exit 1 with that error's message.
#[test]
fn handle_misuse_is_reported() {
    for (what, body, code) in [
        (
            "a handle used after it was moved",
            "(drop (call $take (local.get $a))) (drop (call $val (local.get $a)))",
            10,
        ),
        (
            "a borrow handle still held when the call ends",
            "(drop (call $leak (local.get $a)))",
            12,
        ),
        (
            "an own handle moved while lent in the same call",
            "(drop (call $both (local.get $a) (local.get $a)))",
            11,
        ),
        (
            "a handle dropped twice",
            "(call $rdrop (local.get $a)) (call $rdrop (local.get $a))",
            10,
        ),
        (
            "a handle that never was",
            "(drop (call $val (i32.const 7)))",
            10,
        ),
    ] {
        let body = format!(
            "(local.set $a (call $mk (i32.const 1))) (call $d (i32.const 0)) {body} (call $d (i32.const 9)) (i32.const 0)"
        );
        let wat = with_resources(&body);
        let out = run(&lower(&wat), &["app"]);
        assert_as_native(what, &wat, &["app"], &out);
        assert_eq!(out.exit, Exit::Code(code), "{what}: {}", out.stdout);
        assert_eq!(out.stdout, "0", "{what}");
    }
}

/// A memory and a `cabi_realloc` that keeps the old contents, as the
/// Canonical ABI's transcoders expect of a `realloc` that grows or shrinks
/// (a bump allocator that copies).
const COPYING_LIBC: &str = r#"(core module $clibc
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 8192))
    (func (export "cabi_realloc") (param $old i32) (param $old_size i32) (param $align i32) (param $size i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $align))))
      (global.set $heap (i32.add (local.get $p) (local.get $size)))
      (if (local.get $old)
        (then (memory.copy (local.get $p) (local.get $old)
          (select (local.get $old_size) (local.get $size) (i32.lt_u (local.get $old_size) (local.get $size))))))
      (local.get $p)))"#;

/// A string stored in `encoding` (`utf8`, `utf16`, `latin1+utf16`) in
/// the Canonical ABI's form for it: its bytes and its tagged code units.
/// `wide` stores a `latin1+utf16` string as UTF-16 even if it fits
/// Latin-1.
fn stored(s: &str, encoding: &str, wide: bool) -> (Vec<u8>, u32) {
    let utf16 = || -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    match encoding {
        "utf8" => (s.as_bytes().to_vec(), s.len() as u32),
        "utf16" => (utf16(), s.encode_utf16().count() as u32),
        _ if !wide && s.chars().all(|c| (c as u32) < 256) => (
            s.chars().map(|c| c as u32 as u8).collect(),
            s.chars().count() as u32,
        ),
        _ => (utf16(), s.encode_utf16().count() as u32 | 1 << 31),
    }
}

fn data(at: u32, bytes: &[u8]) -> String {
    let escaped: String = bytes.iter().map(|b| format!("\\{b:02x}")).collect();
    format!("(data (memory $s) (i32.const {at}) \"{escaped}\")")
}

/// The root's main module (string encoding `x`) passes each string to
/// `$B` (encoding `y`), which answers its own code units (`len`) and the
/// string back (`echo`); each answer is compared with the Canonical ABI's
/// form of the string in that encoding (`Y` or `N`, two per string).
fn transcoding(x: &str, y: &str, strings: &[(&str, bool)]) -> String {
    let b = format!(
        r#"
  (component $B
    {COPYING_LIBC}
    (core instance $bi (instantiate $clibc))
    (core module $bm
      (import "libc" "memory" (memory 1))
      (func (export "echo") (param $p i32) (param $n i32) (result i32)
        (i32.store (i32.const 64) (local.get $p))
        (i32.store (i32.const 68) (local.get $n))
        (i32.const 64))
      (func (export "len") (param $p i32) (param $n i32) (result i32) (local.get $n)))
    (core instance $b (instantiate $bm (with "libc" (instance $bi))))
    (alias core export $bi "memory" (core memory $bmem))
    (alias core export $bi "cabi_realloc" (core func $brealloc))
    (func (export "echo") (param "s" string) (result string)
      (canon lift (core func $b "echo") (memory $bmem) (realloc $brealloc) string-encoding={y}))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $b "len") (memory $bmem) (realloc $brealloc) string-encoding={y})))
  (instance $b (instantiate $B))
  {COPYING_LIBC}
  (core instance $sl (instantiate $clibc))
  (alias core export $sl "memory" (core memory $smem))
  (alias core export $sl "cabi_realloc" (core func $srealloc))
  (core func $echo (canon lower (func $b "echo") (memory $smem) (realloc $srealloc) string-encoding={x}))
  (core func $len (canon lower (func $b "len") (memory $smem) string-encoding={x}))
  (core instance $b-funcs (export "echo" (func $echo)) (export "len" (func $len)))
"#
    );
    // The strings, then what should come back, from 1024 on (even
    // addresses: UTF-16 is 2-aligned); the checks in `run`.
    let (mut segments, mut checks, mut at) = (String::new(), String::new(), 1024u32);
    let mut place = |bytes: &[u8], segments: &mut String| {
        let a = at;
        segments.push_str(&data(a, bytes));
        at += (bytes.len() as u32 + 2) & !1;
        a
    };
    for (s, wide) in strings {
        let (src, src_units) = stored(s, x, *wide);
        let (_, y_units) = stored(s, y, false);
        let (back, back_units) = stored(s, x, false);
        let src_at = place(&src, &mut segments);
        let back_at = place(&back, &mut segments);
        checks.push_str(&format!(
            r#"
      (call $yn (i32.eq (call $len (i32.const {src_at}) (i32.const {src_units})) (i32.const {y_units})))
      (call $echo (i32.const {src_at}) (i32.const {src_units}) (i32.const 16))
      (call $yn (i32.and (i32.eq (i32.load $s (i32.const 20)) (i32.const {back_units}))
        (call $same (i32.load $s (i32.const 16)) (i32.const {back_at}) (i32.const {}))))"#,
            back.len()
        ));
    }
    let main = format!(
        r#"(core module $main
    (import "libc" "memory" (memory 1))
    {PRINT_IMPORTS}
    (import "s" "memory" (memory $s 1))
    (import "b" "echo" (func $echo (param i32 i32 i32)))
    (import "b" "len" (func $len (param i32 i32) (result i32)))
    {PRINT}
    (data (i32.const 300) "YN\n")
    {segments}
    (func $yn (param i32)
      (call $print (select (i32.const 300) (i32.const 301) (local.get 0)) (i32.const 1)))
    ;; n bytes at a (memory $s) equal n bytes at b (memory $s)
    (func $same (param $a i32) (param $b i32) (param $n i32) (result i32)
      (block $no (loop $each
        (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
        (br_if $no (i32.ne (i32.load8_u $s (local.get $a)) (i32.load8_u $s (local.get $b))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $each)))
      (i32.const 0))
    (func (export "run") (result i32) {checks}
      (call $print (i32.const 302) (i32.const 1))
      (i32.const 0)))
  (core instance $main (instantiate $main (with "libc" (instance $libc)) (with "wasi" (instance $wasi))
    (with "s" (instance (export "memory" (memory $smem)))) (with "b" (instance $b-funcs))))"#
    );
    component(&format!("{b}{main}"), None)
}

/// Strings cross between components in every pair of string encodings,
/// with the results native wasmtime gives for the same components
/// (compared on each run), transcoded as the Canonical ABI stores them:
/// ASCII, Latin-1, the BMP beyond, a surrogate pair, empty; a
/// `latin1+utf16` string held as UTF-16 though it fits Latin-1.
#[test]
fn strings_are_transcoded_between_encodings() {
    let strings = [
        ("hello", false),
        ("", false),
        ("caf\u{e9} \u{ff}", false),
        ("x\u{2192}y", false),
        ("\u{1f600}!\u{e9}", false),
        ("latin \u{e9}", true),
        (
            "a\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}",
            false,
        ),
    ];
    for x in ["utf8", "utf16", "latin1+utf16"] {
        for y in ["utf8", "utf16", "latin1+utf16"] {
            let wat = transcoding(x, y, &strings);
            let out = run(&lower(&wat), &["app"]);
            assert_as_native(&format!("{x} -> {y}"), &wat, &["app"], &out);
            assert_eq!(out.exit, Exit::Returned, "{x} -> {y}: {}", out.stderr);
            assert_eq!(
                out.stdout,
                format!("{}\n", "Y".repeat(2 * strings.len())),
                "{x} -> {y}"
            );
        }
    }
}

/// What the Canonical ABI rejects when lifting a string ends the run in
/// the transcoder, before `$B` runs, as in native wasmtime, which runs
/// each component too (same stdout, same kind of ending): an unpaired
/// surrogate (high at the end, high then not low, low alone) is reported
/// through the library (wasmtime: "invalid utf16 encoding", exit 1; the
/// stand-in's exit 15); a misaligned UTF-16 or `latin1+utf16` string
/// (Latin-1 too), one past the end of memory, one over the length limit
/// trap (wasmtime: a wasm trap, exit 134).
#[test]
fn invalid_strings_end_the_run_in_the_transcoder() {
    for (what, x, bytes, at, units) in [
        (
            "a high surrogate at the end",
            "utf16",
            &b"a\0\x00\xd8"[..],
            1024,
            2,
        ),
        (
            "a high surrogate, then no low",
            "utf16",
            b"\x00\xd8a\0",
            1024,
            2,
        ),
        ("a low surrogate alone", "utf16", b"\x00\xdc", 1024, 1),
        ("misaligned UTF-16", "utf16", b"xa\0", 1025, 1),
        ("misaligned Latin-1", "latin1+utf16", b"xa", 1025, 1),
        ("past the end of memory", "utf16", b"", 65534, 2),
        ("over the length limit", "latin1+utf16", b"", 0, 1 << 28),
    ] {
        let wat = transcoding(x, "utf8", &[]).replace(
            "(func (export \"run\") (result i32)",
            &format!(
                "{} (func (export \"run\") (result i32) (call $yn (i32.const 1)) (drop (call $len (i32.const {at}) (i32.const {units}))) (call $yn (i32.const 1))",
                data(1024, bytes)
            ),
        );
        let out = run(&lower(&wat), &["app"]);
        assert_as_native(what, &wat, &["app"], &out);
        if what.contains("surrogate") {
            assert_eq!(out.exit, Exit::Code(15), "{what}");
        } else {
            assert!(
                matches!(&out.exit, Exit::Trap(t) if t.contains("string transcoder")),
                "{what}: {:?}",
                out.exit
            );
        }
        assert_eq!(out.stdout, "Y", "{what}");
    }
}
