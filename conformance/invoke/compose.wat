;; Two components composed in one: $Callee (UTF-8, its own memory) lifts
;; `greet` and `sum`; $Caller (UTF-16, its own memory) lowers them and lifts
;; `run` and `total` on top. Strings and lists are copied (and transcoded
;; UTF-16 <-> UTF-8) between the two instances' memories by the Canonical
;; ABI. Used by conformance/invoke/run.sh (the shim against wasmtime) and
;; component-model/tests/wat_components.rs.
(component
  (component $Callee
    (core module $M
      (memory (export "mem") 1)
      (global $bump (mut i32) (i32.const 1024))
      (func $alloc (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get 2))))
        (global.set $bump (i32.add (local.get $p) (local.get 3)))
        (if (i32.ne (local.get 0) (i32.const 0))
          (then (memory.copy (local.get $p) (local.get 0) (local.get 1))))
        (local.get $p))
      (data (i32.const 0) "hello, ")
      ;; greet(name) = "hello, " ++ name
      (func (export "greet") (param $ptr i32) (param $len i32) (result i32)
        (local $out i32)
        (local.set $out (call $alloc (i32.const 0) (i32.const 0) (i32.const 1)
                                     (i32.add (local.get $len) (i32.const 7))))
        (memory.copy (local.get $out) (i32.const 0) (i32.const 7))
        (memory.copy (i32.add (local.get $out) (i32.const 7)) (local.get $ptr) (local.get $len))
        (i32.store (i32.const 512) (local.get $out))
        (i32.store (i32.const 516) (i32.add (local.get $len) (i32.const 7)))
        (i32.const 512))
      ;; sum(xs) = the sum of the u32s, as u64
      (func (export "sum") (param $ptr i32) (param $len i32) (result i64)
        (local $acc i64)
        (block $done
          (loop $next
            (br_if $done (i32.eqz (local.get $len)))
            (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (i32.load (local.get $ptr)))))
            (local.set $ptr (i32.add (local.get $ptr) (i32.const 4)))
            (local.set $len (i32.sub (local.get $len) (i32.const 1)))
            (br $next)))
        (local.get $acc)))
    (core instance $m (instantiate $M))
    (func (export "greet") (param "name" string) (result string)
      (canon lift (core func $m "greet") (memory (core memory $m "mem"))
        (realloc (core func $m "realloc"))))
    (func (export "sum") (param "xs" (list u32)) (result u64)
      (canon lift (core func $m "sum") (memory (core memory $m "mem"))
        (realloc (core func $m "realloc")))))

  (component $Caller
    (import "greet" (func $greet (param "name" string) (result string)))
    (import "sum" (func $sum (param "xs" (list u32)) (result u64)))
    (core module $Libc
      (memory (export "mem") 1)
      (global $bump (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1)))
                               (i32.sub (i32.const 0) (local.get 2))))
        (global.set $bump (i32.add (local.get $p) (local.get 3)))
        (if (i32.ne (local.get 0) (i32.const 0))
          (then (memory.copy (local.get $p) (local.get 0) (local.get 1))))
        (local.get $p)))
    (core instance $libc (instantiate $Libc))
    (core func $greet-lowered (canon lower (func $greet) (memory (core memory $libc "mem"))
      (realloc (core func $libc "realloc")) string-encoding=utf16))
    (core func $sum-lowered (canon lower (func $sum) (memory (core memory $libc "mem"))
      (realloc (core func $libc "realloc"))))
    (core module $Main
      (import "libc" "mem" (memory 1))
      (import "host" "greet" (func $greet (param i32 i32 i32)))
      (import "host" "sum" (func $sum (param i32 i32) (result i64)))
      ;; run(name): greet(name) twice, to check the callee keeps its state.
      (func (export "run") (param i32 i32) (result i32)
        (call $greet (local.get 0) (local.get 1) (i32.const 16))
        (call $greet (i32.load (i32.const 16)) (i32.load (i32.const 20)) (i32.const 16))
        (i32.const 16))
      (func (export "total") (param i32 i32) (result i64)
        (call $sum (local.get 0) (local.get 1))))
    (core instance $main (instantiate $Main
      (with "libc" (instance $libc))
      (with "host" (instance (export "greet" (func $greet-lowered)) (export "sum" (func $sum-lowered))))))
    (func (export "run") (param "name" string) (result string)
      (canon lift (core func $main "run") (memory (core memory $libc "mem"))
        (realloc (core func $libc "realloc")) string-encoding=utf16))
    (func (export "total") (param "xs" (list u32)) (result u64)
      (canon lift (core func $main "total") (memory (core memory $libc "mem"))
        (realloc (core func $libc "realloc")))))

  (instance $callee (instantiate $Callee))
  (instance $caller (instantiate $Caller
    (with "greet" (func $callee "greet"))
    (with "sum" (func $callee "sum"))))
  (export "run" (func $caller "run"))
  (export "total" (func $caller "total"))
  (instance $api (export "greet" (func $callee "greet")) (export "sum" (func $callee "sum")))
  (export "test:compose/api@1.2.0" (instance $api))
)
