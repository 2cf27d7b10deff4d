;; The root's `run` calls the child's `h`, which calls the root's `g`: the
;; root is entered again while its `run` runs. wasmtime 49 lets it (its
;; adapters keep no `may_enter`; only a lower of the same instance's own
;; lift traps), so the run ends well.
(component
  (core module $M1 (func (export "g")))
  (core instance $c1 (instantiate $M1))
  (func $g (canon lift (core func $c1 "g")))
  (component $B
    (import "g" (func $g))
    (core func $gl (canon lower (func $g)))
    (core module $MB (import "" "g" (func $g)) (memory (export "memory") 1) (func (export "h") (call $g)))
    (core instance $mb (instantiate $MB (with "" (instance (export "g" (func $gl))))))
    (func (export "h") (canon lift (core func $mb "h"))))
  (instance $b (instantiate $B (with "g" (func $g))))
  (core func $hl (canon lower (func $b "h")))
  (core module $M2 (import "" "h" (func $h)) (memory (export "memory") 1) (func (export "run") (result i32) (call $h) (i32.const 0)))
  (core instance $c2 (instantiate $M2 (with "" (instance (export "h" (func $hl))))))
  (func $run (result (result)) (canon lift (core func $c2 "run")))
  (instance $ri (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $ri)))
