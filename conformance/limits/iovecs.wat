;; fd_write to stdout with 2^28 iovecs (each {0, 0}) in a 2 GiB memory:
;; wasmtime's p1 returns ENOMEM (48) for more than 2^24; the exit status is
;; the errno.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 32768)
  (func (export "_start")
    (call $proc_exit (call $fd_write (i32.const 1) (i32.const 0) (i32.const 0x10000000) (i32.const 16)))))
