;; Two components composed: `run` (the root's main module) passes the
;; surrogate U+D800 as a `char` to `f` of the inner component `$B`. The
;; Canonical ABI traps lifting it; in wasmtime that check is in the fused
;; adapter compiled to Wasm, so the run ends with a Wasm trap (exit 134),
;; not a host error. Used by conformance/limits/run.sh (`fused-char`).
(component
  (component $B
    (core module $m
      (func (export "f") (param i32) (result i32) (local.get 0)))
    (core instance $i (instantiate $m))
    (func (export "f") (param "c" char) (result u32) (canon lift (core func $i "f"))))
  (instance $b (instantiate $B))
  (core func $f (canon lower (func $b "f")))
  (core module $main
    (import "b" "f" (func $f (param i32) (result i32)))
    (func (export "run") (result i32)
      (drop (call $f (i32.const 0xd800)))
      (i32.const 0)))
  (core instance $main (instantiate $main (with "b" (instance (export "f" (func $f))))))
  (func $run (result (result)) (canon lift (core func $main "run")))
  (instance $run-inst (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run-inst)))
