;; Instance poisoning after a trap, as wasmtime 49 does it (`wasmtime wast
;; instance-poisoning.wast` passes: it is the reference for these
;; expectations). A trap of guest code run for a call (the callee's core
;; code, a lowered import trapping inside it, its `realloc` while arguments
;; are lowered, its `post-return`) poisons the component instance: every
;; later call fails with "cannot enter component instance". A Canonical ABI
;; trap found while the host lifts the results does not poison.
(component definition $C
  (component $inner
    (core module $m (func (export "id") (param i32) (result i32) local.get 0))
    (core instance $i (instantiate $m))
    (func (export "id") (param "c" char) (result char) (canon lift (core func $i "id"))))
  (instance $inner (instantiate $inner))
  (core func $id (canon lower (func $inner "id")))
  (core module $m
    (import "" "id" (func $id (param i32) (result i32)))
    (memory (export "mem") 1)
    (func (export "ok") (result i32) i32.const 42)
    (func (export "boom") unreachable)
    (func (export "bad-char") (result i32) i32.const 0x110000)
    (func (export "call-id") (param i32) (result i32) local.get 0 call $id)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) unreachable)
    (func (export "take") (param i32 i32))
    (func (export "pr") (param i32) unreachable))
  (core instance $i (instantiate $m (with "" (instance (export "id" (func $id))))))
  (func (export "ok") (result u32) (canon lift (core func $i "ok")))
  (func (export "boom") (canon lift (core func $i "boom")))
  (func (export "bad-char") (result char) (canon lift (core func $i "bad-char")))
  (func (export "call-id") (param "x" u32) (result u32) (canon lift (core func $i "call-id")))
  (func (export "take") (param "s" string)
    (canon lift (core func $i "take") (memory $i "mem") (realloc (func $i "realloc"))))
  (func (export "ok-pr") (result u32) (canon lift (core func $i "ok") (post-return (func $i "pr")))))

;; A trap in the callee's core code poisons; so does calling a poisoned
;; instance again (it stays poisoned).
(component instance $a $C)
(assert_return (invoke "ok") (u32.const 42))
(assert_trap (invoke "boom") "unreachable")
(assert_trap (invoke "ok") "cannot enter component instance")
(assert_trap (invoke "boom") "cannot enter component instance")

;; An invalid `char` result lifted by the host: no poisoning.
(component instance $b $C)
(assert_trap (invoke "bad-char") "char")
(assert_return (invoke "ok") (u32.const 42))
;; An invalid `char` argument of a lowered guest-to-guest call traps inside
;; the caller's core code: poisoned.
(assert_return (invoke "call-id" (u32.const 65)) (u32.const 65))
(assert_trap (invoke "call-id" (u32.const 0x110000)) "char")
(assert_trap (invoke "ok") "cannot enter component instance")

;; `realloc` trapping while the host lowers a string argument.
(component instance $c $C)
(assert_trap (invoke "take" (str.const "hi")) "unreachable")
(assert_trap (invoke "ok") "cannot enter component instance")

;; `post-return` trapping.
(component instance $d $C)
(assert_trap (invoke "ok-pr") "unreachable")
(assert_trap (invoke "ok") "cannot enter component instance")
