//! Composed components: a nested component with its own memory, called by
//! the root's main module (fused adapters between the two memories, the
//! lowered module using multi-memory), and calling WASI from its own
//! memory (through the scratch area of the library's memory). Run on
//! core-vm with the stand-in library.

mod common;
use common::{component, lower_wat, main_module_with, run, Exit, LIBC, STDOUT_IMPORTS};

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
    let out = run(&lower(&composed(body, data)), &["app"]);
    assert_eq!(out.exit, Exit::Returned, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "B prints\nhello, world\nTNCFP\nabcnone\nab++é+\n"
    );
}

/// Each check the Canonical ABI makes on a lifted value traps in the
/// adapter: invalid UTF-8, a surrogate `char`, a bad discriminant, a
/// misaligned list, a list out of bounds.
#[test]
fn invalid_values_trap() {
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
        let out = run(&lower(&composed(&body, data)), &["app"]);
        // The trap is the adapter's, before B runs.
        assert!(
            matches!(&out.exit, Exit::Trap(t) if t.contains("adapter of")),
            "{what}: {:?} {}",
            out.exit,
            out.stdout
        );
        assert_eq!(out.stdout, "", "{what}");
    }
}

#[test]
fn handles_of_component_resources_across_components_are_refused() {
    let r = r#"
  (component $R
    (type $res (resource (rep i32)))
    (export $r "res" (type $res))
    (core func $new (canon resource.new $res))
    (core module $m
      (import "" "new" (func $new (param i32) (result i32)))
      (func (export "mk") (result i32) (call $new (i32.const 7))))
    (core instance $i (instantiate $m (with "" (instance (export "new" (func $new))))))
    (func (export "mk") (result (own $r)) (canon lift (core func $i "mk"))))
  (instance $ri (instantiate $R))
  (core func $mk (canon lower (func $ri "mk")))
  (core instance $r-funcs (export "mk" (func $mk)))
"#;
    let main = main_module_with(
        r#"(import "r" "mk" (func $mk (result i32)))"#,
        r#"(func (export "run") (result i32) (drop (call $mk)) (i32.const 0))"#,
    )
    .replace(
        "(with \"wasi\" (instance $wasi))",
        "(with \"wasi\" (instance $wasi)) (with \"r\" (instance $r-funcs))",
    );
    let e = lower_wat(&component(&format!("{r}{main}"), None))
        .map(|_| ())
        .expect_err("a handle of a component's resource across components");
    let e = e.to_string();
    assert!(e.contains("`mk`") && e.contains("resource"), "{e}");
}
