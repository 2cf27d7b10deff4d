;; A command whose `run` returns the result discriminant 2 (only 0 and 1 exist):
;; wasmtime fails to lift it, an embedder error: "invalid expected discriminant", exit 1.
(component
  (core module $m
    (func (export "run") (result i32) i32.const 2))
  (core instance $i (instantiate $m))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $r (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $r))
)
