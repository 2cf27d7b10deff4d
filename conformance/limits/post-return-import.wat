;; `run`'s post-return calls WASI `get-stdout`: `may_leave` is false while
;; the post-return of a call from the host runs, so wasmtime traps ("cannot
;; leave component instance", exit 134).
(component
  (import "wasi:io/error@0.2.0" (instance $error (export "error" (type (sub resource)))))
  (alias export $error "error" (type $error-type))
  (import "wasi:io/streams@0.2.0" (instance $streams
    (alias outer 1 $error-type (type $e0))
    (export "error" (type $e (eq $e0)))
    (export "output-stream" (type $os (sub resource)))))
  (alias export $streams "output-stream" (type $os))
  (import "wasi:cli/stdout@0.2.0" (instance $stdout
    (alias outer 1 $os (type $os2))
    (export "output-stream" (type $os3 (eq $os2)))
    (export "get-stdout" (func (result (own $os3))))))
  (core func $get-stdout (canon lower (func $stdout "get-stdout")))
  (core instance $w (export "get-stdout" (func $get-stdout)))
  (core module $main
    (import "w" "get-stdout" (func $gs (result i32)))
    (memory (export "memory") 1)
    (func (export "run") (result i32) (i32.const 0))
    (func (export "post") (param i32) (drop (call $gs))))
  (core instance $main (instantiate $main (with "w" (instance $w))))
  (func $run (result (result)) (canon lift (core func $main "run") (post-return (core func $main "post"))))
  (instance $run-inst (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run-inst))
)
