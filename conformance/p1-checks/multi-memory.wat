;; Two memories (multi-memory, as a lowered composed component has): prints
;; "two memories" from memory 0, its length read from memory 1. Hosts without
;; multi-memory refuse to load it (Node 20: "memory count of 2 exceeds internal
;; limit of 1"; iwasm's fast interpreter: "multiple memories").
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (memory $m1 1)
  (data (memory 0) (i32.const 16) "two memories\n")
  (func (export "_start")
    (i32.store $m1 (i32.const 0) (i32.const 13))
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.load $m1 (i32.const 0)))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
