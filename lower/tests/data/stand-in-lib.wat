;; A stand-in for the lowered WASI library (crate docs of `lower`: the
;; contract), until the real one is linked: enough of wasi:cli/command
;; for a Rust wasm32-wasip2 hello world that prints its arguments to stdout
;; and stderr and exits. Handles: stdin 0, stdout 1, stderr 2 (the p1 fds);
;; pollables 100. Every result that does not fit flat is written at the
;; retptr, as `canon lower` lays it out. Every function is named `$lib.*`:
;; tests read which ones an output kept.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get"
    (func $args_get (param i32 i32) (result i32)))
  (import "env" "memory" (memory 0))
  (import "env" "cabi_realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))
  (global $scratch (mut i32) (i32.const 0))

  (func $lib.init (export "p2lib_init")
    (global.set $scratch (call $realloc (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 64))))

  ;; A Canonical ABI error of the generated code (a misused handle, an
  ;; invalid string encoding): exit 10 + its code; a broken reentrance
  ;; rule (codes 6 and 7) traps.
  (func $lib.canon-error (export "p2lib_canon_error") (param i32 i32)
    (if (i32.ge_u (local.get 0) (i32.const 6)) (then unreachable))
    (call $proc_exit (i32.add (i32.const 10) (local.get 0))))

  ;; The phase, as p2-lib's `p2lib_phase(set) -> old`: 2 while no import
  ;; may be called; `get-stdout`, `write` and `get-arguments` then trap.
  (global $phase (mut i32) (i32.const 0))
  (func $lib.phase (export "p2lib_phase") (param i32) (result i32)
    (global.get $phase)
    (if (i32.ge_s (local.get 0) (i32.const 0)) (then (global.set $phase (local.get 0)))))
  (func $lib.may-leave
    (if (i32.eq (global.get $phase) (i32.const 2)) (then unreachable)))

  (func $lib.get-stdin (export "wasi:cli/stdin@0.2.12#get-stdin") (result i32) (i32.const 0))
  (func $lib.get-stdout (export "wasi:cli/stdout@0.2.12#get-stdout") (result i32)
    (call $lib.may-leave) (i32.const 1))
  (func $lib.get-stderr (export "wasi:cli/stderr@0.2.12#get-stderr") (result i32) (i32.const 2))
  ;; option<own<terminal-*>>: none.
  (func $lib.no-terminal (param $ret i32) (i32.store8 (local.get $ret) (i32.const 0)))
  (export "wasi:cli/terminal-stdin@0.2.12#get-terminal-stdin" (func $lib.no-terminal))
  (export "wasi:cli/terminal-stdout@0.2.12#get-terminal-stdout" (func $lib.no-terminal))
  (export "wasi:cli/terminal-stderr@0.2.12#get-terminal-stderr" (func $lib.no-terminal))
  ;; list<tuple<string, string>>: empty.
  (func $lib.get-environment (export "wasi:cli/environment@0.2.12#get-environment") (param $ret i32)
    (i32.store (local.get $ret) (i32.const 0))
    (i32.store offset=4 (local.get $ret) (i32.const 0)))
  ;; list<string> from args_get.
  (func $lib.get-arguments (export "wasi:cli/environment@0.2.12#get-arguments") (param $ret i32)
    (local $argc i32) (local $argv i32) (local $buf i32) (local $list i32)
    (local $i i32) (local $p i32) (local $n i32)
    (call $lib.may-leave)
    (drop (call $args_sizes_get (global.get $scratch) (i32.add (global.get $scratch) (i32.const 4))))
    (local.set $argc (i32.load (global.get $scratch)))
    (local.set $argv (call $realloc (i32.const 0) (i32.const 0) (i32.const 4)
      (i32.mul (local.get $argc) (i32.const 4))))
    (local.set $buf (call $realloc (i32.const 0) (i32.const 0) (i32.const 1)
      (i32.load offset=4 (global.get $scratch))))
    (drop (call $args_get (local.get $argv) (local.get $buf)))
    (local.set $list (call $realloc (i32.const 0) (i32.const 0) (i32.const 4)
      (i32.mul (local.get $argc) (i32.const 8))))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $argc)))
        (local.set $p (i32.load (i32.add (local.get $argv) (i32.mul (local.get $i) (i32.const 4)))))
        (local.set $n (i32.const 0))
        (block $end
          (loop $len
            (br_if $end (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))
            (br $len)))
        (i32.store (i32.add (local.get $list) (i32.mul (local.get $i) (i32.const 8))) (local.get $p))
        (i32.store offset=4 (i32.add (local.get $list) (i32.mul (local.get $i) (i32.const 8))) (local.get $n))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (i32.store (local.get $ret) (local.get $list))
    (i32.store offset=4 (local.get $ret) (local.get $argc)))
  ;; result<_, _>: exit 0 or 1.
  (func $lib.exit (export "wasi:cli/exit@0.2.12#exit") (param i32) (call $proc_exit (local.get 0)))

  ;; result<u64, stream-error>: ok(1 MiB).
  (func $lib.check-write (export "wasi:io/streams@0.2.12#[method]output-stream.check-write") (param $self i32) (param $ret i32)
    (i32.store8 (local.get $ret) (i32.const 0))
    (i64.store offset=8 (local.get $ret) (i64.const 1048576)))
  ;; result<_, stream-error>: ok, or closed if fd_write fails.
  (func $lib.write (export "wasi:io/streams@0.2.12#[method]output-stream.write")
    (param $self i32) (param $ptr i32) (param $len i32) (param $ret i32)
    (local $err i32)
    (call $lib.may-leave)
    (i32.store (global.get $scratch) (local.get $ptr))
    (i32.store offset=4 (global.get $scratch) (local.get $len))
    (local.set $err (call $fd_write (local.get $self) (global.get $scratch) (i32.const 1)
      (i32.add (global.get $scratch) (i32.const 8))))
    (i32.store8 (local.get $ret) (i32.ne (local.get $err) (i32.const 0)))
    (i32.store8 offset=4 (local.get $ret) (i32.const 1)))
  (export "wasi:io/streams@0.2.12#[method]output-stream.blocking-write-and-flush" (func $lib.write))
  (func $lib.blocking-flush (export "wasi:io/streams@0.2.12#[method]output-stream.blocking-flush") (param $self i32) (param $ret i32)
    (i32.store8 (local.get $ret) (i32.const 0)))
  (func $lib.subscribe (export "wasi:io/streams@0.2.12#[method]output-stream.subscribe") (param i32) (result i32)
    (i32.const 100))
  (func $lib.pollable-block (export "wasi:io/poll@0.2.12#[method]pollable.block") (param i32))
  (func $lib.drop (param i32))
  (export "wasi:io/error@0.2.12#[resource-drop]error" (func $lib.drop))
  (export "wasi:io/poll@0.2.12#[resource-drop]pollable" (func $lib.drop))
  (export "wasi:io/streams@0.2.12#[resource-drop]input-stream" (func $lib.drop))
  (export "wasi:io/streams@0.2.12#[resource-drop]output-stream" (func $lib.drop))
  (export "wasi:cli/terminal-input@0.2.12#[resource-drop]terminal-input" (func $lib.drop))
  (export "wasi:cli/terminal-output@0.2.12#[resource-drop]terminal-output" (func $lib.drop))
)
