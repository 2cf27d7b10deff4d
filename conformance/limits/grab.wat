;; Takes all the memory it can (memory.grow until it fails), then makes the
;; runtime allocate for it: args, environment, a write with many iovecs.
;; Prints "grabbed\n" and exits 0 wherever the runtime keeps room for itself.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "grabbed\n")
  (func (export "_start")
    (local $i i32) (local $e i32)
    (block $full (loop $more
      (br_if $full (i32.eq (memory.grow (i32.const 1024)) (i32.const -1)))
      (br $more)))
    (block $full (loop $more
      (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
      (br $more)))
    (local.set $e (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (if (local.get $e) (then (call $proc_exit (local.get $e))))
    ;; 65536 iovecs at 1024: the first one the message, the others empty.
    (i32.store (i32.const 1024) (i32.const 64))
    (i32.store (i32.const 1028) (i32.const 8))
    (local.set $e (call $fd_write (i32.const 1) (i32.const 1024) (i32.const 65536) (i32.const 8)))
    (call $proc_exit (local.get $e))))
