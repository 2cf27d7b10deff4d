;; A reactor component: root exports and the same functions in an exported
;; instance (conformance/invoke/run.sh).
(component
  (core module $m
    (memory (export "mem") 1)
    (global $bump (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      global.get $bump
      local.get 2
      i32.add
      i32.const 1
      i32.sub
      i32.const 0
      local.get 2
      i32.sub
      i32.and
      local.tee $p
      local.get 3
      i32.add
      global.set $bump
      local.get $p)
    (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
    (func (export "nothing"))
    (func (export "echo") (param i32 i32) (result i32)
      (i32.store (i32.const 16) (local.get 0))
      (i32.store (i32.const 20) (local.get 1))
      i32.const 16)
  )
  (core instance $i (instantiate $m))
  (func $add (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  (func $nothing (canon lift (core func $i "nothing")))
  (func $echo (param "s" string) (result string) (canon lift (core func $i "echo") (memory (core memory $i "mem")) (realloc (core func $i "realloc"))))
  (export "add" (func $add))
  (export "nothing" (func $nothing))
  (instance $api (export "echo" (func $echo)) (export "add" (func $add)))
  (export "test:demo/api@0.1.0" (instance $api))
)
