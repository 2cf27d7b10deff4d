;; A p1 command that closes fd 2, checks that writing to it now fails with
;; EBADF (8; else it traps at once with another function), then traps: the trap
;; report still reaches the host's stderr, its first line in wasmtime's words.
(module
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func $bad_errno unreachable)
  (func (export "_start")
    (if (call $close (i32.const 2)) (then (call $bad_errno)))
    (if (i32.ne (call $write (i32.const 2) (i32.const 0) (i32.const 0) (i32.const 16)) (i32.const 8))
      (then (call $bad_errno)))
    unreachable))
