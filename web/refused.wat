;; A component `p2shim lower` refuses (a core module instantiated twice) but the
;; interpreter and wasmtime run: it prints one line. web/test.mjs checks that the
;; page, asked to lower it, says so and runs it in the interpreter instead.
(component
  (import "wasi:io/error@0.2.0" (instance $error (export "error" (type (sub resource)))))
  (alias export $error "error" (type $error-type))
  (import "wasi:io/streams@0.2.0" (instance $streams
    (alias outer 1 $error-type (type $e0))
    (export "error" (type $e (eq $e0)))
    (export "output-stream" (type $os (sub resource)))
    (type $se (variant (case "last-operation-failed" (own $e)) (case "closed")))
    (export "stream-error" (type $err (eq $se)))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" (list u8)) (result (result (error $err)))))))
  (alias export $streams "output-stream" (type $os))
  (import "wasi:cli/stdout@0.2.0" (instance $stdout
    (alias outer 1 $os (type $os2))
    (export "output-stream" (type $os3 (eq $os2)))
    (export "get-stdout" (func (result (own $os3))))))
  (core module $libc
    (memory (export "memory") 1)
    (data (i32.const 64) "not lowered, still run\n"))
  (core instance $libc (instantiate $libc))
  (alias core export $libc "memory" (core memory $mem))
  (core func $write (canon lower (func $streams "[method]output-stream.blocking-write-and-flush") (memory $mem)))
  (core func $get-stdout (canon lower (func $stdout "get-stdout")))
  (core func $drop (canon resource.drop $os))
  (core instance $wasi
    (export "write" (func $write)) (export "get-stdout" (func $get-stdout)) (export "drop" (func $drop)))
  ;; The module instantiated twice: lowered mode gives each core module one instance.
  (core module $twice (func (export "f")))
  (core instance $t1 (instantiate $twice))
  (core instance $t2 (instantiate $twice))
  (core module $main
    (import "wasi" "write" (func $write (param i32 i32 i32 i32)))
    (import "wasi" "get-stdout" (func $get-stdout (result i32)))
    (import "wasi" "drop" (func $drop (param i32)))
    (func (export "run") (result i32)
      (local $s i32)
      (local.set $s (call $get-stdout))
      (call $write (local.get $s) (i32.const 64) (i32.const 23) (i32.const 8))
      (call $drop (local.get $s))
      (i32.const 0)))
  (core instance $main (instantiate $main (with "wasi" (instance $wasi))))
  (func $run (result (result)) (canon lift (core func $main "run")))
  (instance $run-inst (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run-inst))
)
