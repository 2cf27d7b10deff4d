;; p2-nomem: a command component with no linear memory at all. Its canonical
;; options name none, so every WASI function it calls passes scalars only:
;; clocks, random, a pollable (an own handle from subscribe-duration, borrowed
;; by block and ready, then dropped) and exit. `p2shim lower` gives the WASI
;; library a memory of its own here (lower::link::ADDED_MEMORY).
;;
;; Exit status: each check that fails sets a bit of `$bad`; `run` then calls
;; exit(err) (status 1), and returns ok (status 0) when all hold:
;;   1  monotonic-clock `now` went backwards
;;   2  a 1 ms pollable was not ready after `block`
;;   4  the monotonic clock advanced less than the 1 ms waited
;;   8  a fresh 10 s pollable was ready at once
;;  16  four get-random-u64 calls gave one value twice (chance 2^-61)
;;  32  get-insecure-random-u64 gave the same value twice in a row
(component
  (import "wasi:io/poll@0.2.0" (instance $poll
    (export "pollable" (type (sub resource)))
    (export "[method]pollable.ready" (func (param "self" (borrow 0)) (result bool)))
    (export "[method]pollable.block" (func (param "self" (borrow 0))))))
  (alias export $poll "pollable" (type $pollable))
  (import "wasi:clocks/monotonic-clock@0.2.0" (instance $clock
    (alias outer 1 $pollable (type $p0))
    (export "pollable" (type $p (eq $p0)))
    (export "now" (func (result u64)))
    (export "subscribe-duration" (func (param "when" u64) (result (own $p))))))
  (import "wasi:random/random@0.2.0" (instance $random
    (export "get-random-u64" (func (result u64)))))
  (import "wasi:random/insecure@0.2.0" (instance $insecure
    (export "get-insecure-random-u64" (func (result u64)))))
  (import "wasi:cli/exit@0.2.0" (instance $exit
    (export "exit" (func (param "status" (result))))))
  (core func $ready (canon lower (func $poll "[method]pollable.ready")))
  (core func $block (canon lower (func $poll "[method]pollable.block")))
  (core func $drop (canon resource.drop $pollable))
  (core func $now (canon lower (func $clock "now")))
  (core func $subscribe (canon lower (func $clock "subscribe-duration")))
  (core func $random (canon lower (func $random "get-random-u64")))
  (core func $insecure (canon lower (func $insecure "get-insecure-random-u64")))
  (core func $exit (canon lower (func $exit "exit")))
  (core module $m
    (import "wasi" "ready" (func $ready (param i32) (result i32)))
    (import "wasi" "block" (func $block (param i32)))
    (import "wasi" "drop" (func $drop (param i32)))
    (import "wasi" "now" (func $now (result i64)))
    (import "wasi" "subscribe" (func $subscribe (param i64) (result i32)))
    (import "wasi" "random" (func $random (result i64)))
    (import "wasi" "insecure" (func $insecure (result i64)))
    (import "wasi" "exit" (func $exit (param i32)))
    (func (export "run") (result i32)
      (local $bad i32) (local $t0 i64) (local $t1 i64) (local $p i32)
      (local $a i64) (local $b i64) (local $c i64) (local $d i64)
      (local.set $t0 (call $now))
      (local.set $p (call $subscribe (i64.const 1000000)))
      (call $block (local.get $p))
      (if (i32.eqz (call $ready (local.get $p)))
        (then (local.set $bad (i32.or (local.get $bad) (i32.const 2)))))
      (call $drop (local.get $p))
      (local.set $t1 (call $now))
      (if (i64.lt_u (local.get $t1) (local.get $t0))
        (then (local.set $bad (i32.or (local.get $bad) (i32.const 1)))))
      (if (i64.lt_u (i64.sub (local.get $t1) (local.get $t0)) (i64.const 1000000))
        (then (local.set $bad (i32.or (local.get $bad) (i32.const 4)))))
      (local.set $p (call $subscribe (i64.const 10000000000)))
      (if (call $ready (local.get $p))
        (then (local.set $bad (i32.or (local.get $bad) (i32.const 8)))))
      (call $drop (local.get $p))
      (local.set $a (call $random))
      (local.set $b (call $random))
      (local.set $c (call $random))
      (local.set $d (call $random))
      (if (i32.or (i32.or (i32.or (i64.eq (local.get $a) (local.get $b))
                                  (i64.eq (local.get $a) (local.get $c)))
                          (i32.or (i64.eq (local.get $a) (local.get $d))
                                  (i64.eq (local.get $b) (local.get $c))))
                  (i32.or (i64.eq (local.get $b) (local.get $d))
                          (i64.eq (local.get $c) (local.get $d))))
        (then (local.set $bad (i32.or (local.get $bad) (i32.const 16)))))
      (if (i64.eq (call $insecure) (call $insecure))
        (then (local.set $bad (i32.or (local.get $bad) (i32.const 32)))))
      (if (local.get $bad) (then (call $exit (i32.const 1))))
      (i32.const 0)))
  (core instance $wasi
    (export "ready" (func $ready)) (export "block" (func $block))
    (export "drop" (func $drop)) (export "now" (func $now))
    (export "subscribe" (func $subscribe)) (export "random" (func $random))
    (export "insecure" (func $insecure)) (export "exit" (func $exit)))
  (core instance $i (instantiate $m (with "wasi" (instance $wasi))))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $run-inst (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $run-inst))
)
