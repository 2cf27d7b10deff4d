;; A command whose `cabi_realloc` traps when the host lowers `get-arguments`:
;; a guest trap (exit 134), the backtrace going from the realloc down to `run`.
(component
  (import "wasi:cli/environment@0.2.0" (instance $env
    (export "get-arguments" (func (result (list string))))))
  (core module $mem (memory (export "memory") 1))
  (core instance $mi (instantiate $mem))
  (core module $ra
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) unreachable))
  (core instance $ri (instantiate $ra))
  (core func $ga (canon lower (func $env "get-arguments") (memory (core memory $mi "memory")) (realloc (core func $ri "cabi_realloc"))))
  (core module $m
    (import "env" "get-arguments" (func $ga (param i32)))
    (func (export "run") (result i32) (call $ga (i32.const 16)) i32.const 0))
  (core instance $i (instantiate $m (with "env" (instance (export "get-arguments" (func $ga))))))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $r (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $r))
)
