;; Two components composed: `run` passes a string that is not UTF-8 to `g`
;; of the inner component `$B`. In wasmtime the fused adapter checks it with
;; its transcoding libcall, a host function, so the run ends with a host
;; error, "invalid utf8 encoding", exit 1 (not a Wasm trap). Used by
;; conformance/limits/run.sh (`fused-utf8`).
(component
  (component $B
    (core module $m
      (memory (export "mem") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 256))
      (func (export "g") (param i32 i32) (result i32) (local.get 1)))
    (core instance $i (instantiate $m))
    (func (export "g") (param "s" string) (result u32)
      (canon lift (core func $i "g") (memory (core memory $i "mem")) (realloc (core func $i "realloc")))))
  (instance $b (instantiate $B))
  (core module $libc
    (memory (export "mem") 1)
    (data (i32.const 16) "\ff\fe"))
  (core instance $libc (instantiate $libc))
  (core func $g (canon lower (func $b "g") (memory (core memory $libc "mem"))))
  (core module $main
    (import "b" "g" (func $g (param i32 i32) (result i32)))
    (func (export "run") (result i32)
      (drop (call $g (i32.const 16) (i32.const 2)))
      (i32.const 0)))
  (core instance $main (instantiate $main (with "b" (instance (export "g" (func $g))))))
  (func $run (result (result)) (canon lift (core func $main "run")))
  (instance $run-inst (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run-inst)))
