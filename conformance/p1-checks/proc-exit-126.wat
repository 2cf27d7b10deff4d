;; proc_exit(126): wasmtime refuses p1 exit statuses outside [0, 126) and exits 1.
(module (import "wasi_snapshot_preview1" "proc_exit" (func $e (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $e (i32.const 126))))
