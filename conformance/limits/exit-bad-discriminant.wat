;; A command that calls `wasi:cli/exit.exit` with the result discriminant 2
;; (only 0 and 1 exist): wasmtime fails to lift the argument, an error of the
;; host call (exit 1), the backtrace naming the caller.
(component
  (import "wasi:cli/exit@0.2.0" (instance $exit
    (export "exit" (func (param "status" (result))))))
  (core func $ex (canon lower (func $exit "exit")))
  (core module $m
    (import "env" "exit" (func $ex (param i32)))
    (func (export "run") (result i32) (call $ex (i32.const 2)) i32.const 0))
  (core instance $i (instantiate $m (with "env" (instance (export "exit" (func $ex))))))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $r (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $r))
)
