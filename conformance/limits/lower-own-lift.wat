;; The root lowers `g`, a function it lifts itself, and `run` calls it:
;; wasmtime's adapter for such a `canon lower` traps ("cannot enter
;; component instance", exit 134).
(component
  (core module $M1 (func (export "g")))
  (core instance $c1 (instantiate $M1))
  (func $g (canon lift (core func $c1 "g")))
  (core func $gl (canon lower (func $g)))
  (core module $M2 (import "" "g" (func $g)) (memory (export "memory") 1) (func (export "run") (result i32) (call $g) (i32.const 0)))
  (core instance $c2 (instantiate $M2 (with "" (instance (export "g" (func $gl))))))
  (func $run (result (result)) (canon lift (core func $c2 "run")))
  (instance $ri (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $ri)))
