(module
  (type (;0;) (func))
  (type (;1;) (func))
  (import "E\u{1a}" "" (func (;0;) (type 0)))
  (global (;0;) (mut i64) i64.const 0)
  (global (;1;) (mut i32) i32.const 0)
  (global (;2;) (mut i64) i64.const 0)
  (global (;3;) (mut i32) i32.const 3)
  (export "" (func 3))
  (func (;1;) (type 1))
  (func (;2;) (type 0))
  (func (;3;) (type 0)
    i32.const 0
    if ;; label = @1
      unreachable
    end
    global.get 3
    global.set 3
    call 2
    loop (result f64) ;; label = @1
      i32.const 1
      if ;; label = @2
      else
        unreachable
      end
      global.get 3
      global.set 3
      loop ;; label = @2
        i32.const 0
        if ;; label = @3
          unreachable
        end
        i32.const 0
        global.set 3
        call 4
        i32.const 0
        block (result externref) ;; label = @3
          block ;; label = @4
            global.get 2
            global.get 2
            i64.xor
            global.set 2
          end
          ref.null extern
        end
        drop
        i32.const 0
        i32.xor
        global.set 1
      end
      f64.const -0x1.f3a1b733af577p-777 (;=-0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000245529336592576;)
    end
    i64.reinterpret_f64
    global.get 0
    i64.xor
    global.set 0
  )
  (func (;4;) (type 0)
    i32.const 0
    if ;; label = @1
      unreachable
    end
    global.get 3
    global.set 3
    block (type 0) ;; label = @1
      call 5
      loop ;; label = @2
        i32.const 0
        if ;; label = @3
          unreachable
        end
        i32.const 0
        global.set 3
      end
      loop (type 1) ;; label = @2
        i32.const 0
        if ;; label = @3
          unreachable
        end
        global.get 3
        global.set 3
        ref.null extern
        return_call 0
        return_call 1
        loop (result funcref) ;; label = @3
          global.get 3
          if ;; label = @4
            unreachable
          end
          global.get 3
          global.set 3
          i64.const 0
          i64.const 0
          br 3
          i64.rem_s
          i64.ctz
          i64.extend8_s
          i64.popcnt
          br 2 (;@1;)
          i64.eqz
          return_call 2
          ref.null extern
          br 2 (;@1;)
          br 0 (;@3;)
          i64.const 1
          global.set 2
          drop
          global.get 1
          i32.xor
          global.set 1
          ref.null func
        end
        drop
        drop
      end
    end
  )
  (func (;5;) (type 0))
)
