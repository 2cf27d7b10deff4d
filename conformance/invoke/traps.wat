;; Exports that trap in the guest or in the Canonical ABI (conformance/invoke/run.sh).
(component
  (core module $m
    (memory (export "mem") 1)
    (func (export "boom") (result i32) unreachable)
    (func (export "bad-char") (result i32) (i32.const 0xd800))
    (func (export "bad-string") (result i32) (i32.store (i32.const 0) (i32.const 65535)) (i32.store (i32.const 4) (i32.const 9)) (i32.const 0)))
  (core instance $i (instantiate $m))
  (func (export "boom") (result u32) (canon lift (core func $i "boom")))
  (func (export "bad-char") (result char) (canon lift (core func $i "bad-char")))
  (func (export "bad-string") (result string) (canon lift (core func $i "bad-string") (memory (core memory $i "mem"))))
)
