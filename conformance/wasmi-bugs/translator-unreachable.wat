(module
  (type (;0;) (func (param i32)))
  (type (;1;) (func (result i32 i64)))
  (type (;2;) (func (param f32)))
  (import "" "%\u{19}7" (func (;0;) (type 2) (param f32)))
  (import "" "" (global (;0;) (mut f32)))
  (table (;0;) 1 21 funcref)
  (memory (;0;) 0)
  (memory (;1;) 0)
  (memory (;2;) 0)
  (global (;1;) (mut i32) i32.const 0)
  (global (;2;) (mut i32) i32.const 0)
  (global (;3;) (mut i64) i64.const 0)
  (global (;4;) (mut i64) i64.const 0)
  (global (;5;) (mut i32) i32.const 6)
  (export "" (func 2))
  (func (;1;) (type 2) (param f32))
  (func (;2;) (type 0) (param i32)
    (local f64 f64 f32 f32 f64 f64 f32 f32 f64 f64)
    global.get 5
    i32.eqz
    if ;; label = @1
      unreachable
    end
    global.get 5
    i32.const 1
    i32.sub
    global.set 5
    i64.const 0
    table.size 0
    local.set 0
    block (result i64) ;; label = @1
      local.get 0
      local.get 0
      i32.store16 2
      br 1
      memory.size 2
      i32.extend8_s
      local.tee 0
      block (type 0) (param i32) ;; label = @2
        call 3
        i64.eqz
        global.get 0
        i64.trunc_sat_f32_s
        i32.wrap_i64
        i64.load8_s
        table.size 0
        if (result f32) ;; label = @3
          global.get 0
          memory.size 1
          i32.const -4
          if ;; label = @4
            call 4
            i64.popcnt
            table.size 0
            f64.const 0x1.aa575c67a60bp+636 (;=474891760990118250000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000;)
            loop ;; label = @5
              global.get 5
              i32.eqz
              if ;; label = @6
                unreachable
              end
              global.get 5
              global.set 5
              i32.const 0
              i64.load 2 align=1
              i32.const 1
              i32.extend8_s
              return_call 2
              i64.popcnt
              f32.convert_i64_s
              f32.neg
              f64.const inf (;=inf;)
              f64.sqrt
              local.tee 1
              f64.const nan (;=NaN;)
              local.get 1
              local.get 1
              f64.eq
              select
              f64.floor
              local.tee 2
              f64.const nan (;=NaN;)
              local.get 2
              local.get 2
              f64.eq
              select
              f32.demote_f64
              f32.max
              local.tee 3
              f32.const nan (;=NaN;)
              local.get 3
              local.get 3
              f32.eq
              select
              call 0
              f32.const 0x1.cf4e42p+111 (;=4698478000000000000000000000000000;)
              f32.nearest
              local.tee 4
              f32.const nan (;=NaN;)
              local.get 4
              local.get 4
              f32.eq
              select
              return
              f32.neg
              i32.reinterpret_f32
              call 4
              f32.convert_i64_u
              table.size 0
              memory.size
              i64.load8_u 1 offset=1027614235
              i64.ctz
              i64.clz
              i64.store32 1 offset=3063162452
              f64.const -nan:0xf7fffffffffff (;=NaN;)
              i32.const 511
              i32.load 1
              br_table 0 (;@5;) 1 (;@4;) 3 (;@2;) 5 3 (;@2;)
              ref.null extern
              block (type 1) (result i32 i64) ;; label = @6
                i32.const 0
                i64.const 1
                f32.convert_i64_s
                i32.reinterpret_f32
                i32.const 0
                f64.convert_i32_s
                loop ;; label = @7
                  global.get 5
                  if ;; label = @8
                    unreachable
                  end
                  i32.const 1
                  global.set 5
                  block ;; label = @8
                    ref.null func
                    call 4
                    i64.extend32_s
                    loop (result f64) ;; label = @9
                      i32.const 0
                      i32.eqz
                      if ;; label = @10
                        unreachable
                      end
                      global.get 5
                      global.set 5
                      return
                      block ;; label = @10
                        i64.const 0
                        i32.const -619450384
                        call_indirect (type 1)
                        i32.wrap_i64
                        i32.le_s
                        table.get 0
                        call 3
                        block ;; label = @11
                          f32.const -0x1.61ab5ap+66 (;=-101938250000000000000;)
                          local.get 0
                          i64.const 2950114653260813067
                          br 0 (;@11;)
                          f64.convert_i64_u
                          i64.trunc_sat_f64_s
                          local.get 5
                          loop ;; label = @12
                            global.get 5
                            i32.eqz
                            if ;; label = @13
                            else
                              unreachable
                            end
                            i32.const 0
                            global.set 5
                            f32.const -0x1.02fc94p+58 (;=-291593030000000000;)
                            call 1
                            global.get 0
                            call 0
                            i64.const -8735097657723761694
                            i32.const 492637132
                            if (type 1) (result i32 i64) ;; label = @13
                              i32.const 0
                              f64.convert_i32_s
                              f64.const nan (;=NaN;)
                              i32.const 0
                              select
                              f64.abs
                              i32.trunc_f64_s
                              br_if 6 (;@7;)
                              i32.const -12959042
                              i64.const 0
                            else
                              i32.const 0
                              i64.const 2851532712330901614
                            end
                            global.get 3
                            i64.xor
                            global.set 3
                            drop
                            global.get 3
                            i64.xor
                            global.set 3
                          end
                          i64.reinterpret_f64
                          global.get 4
                          i64.xor
                          global.set 4
                          global.get 3
                          i64.xor
                          global.set 3
                          global.get 2
                          i32.xor
                          global.set 2
                          i32.reinterpret_f32
                          global.get 1
                          i32.xor
                          global.set 1
                        end
                        global.get 3
                        i64.xor
                        global.set 3
                        global.get 2
                        i32.xor
                        global.set 2
                        drop
                        global.get 3
                        i64.xor
                        global.set 3
                      end
                      f64.const 0x1.8ea84f5dccc76p+305 (;=101509948795370130000000000000000000000000000000000000000000000000000000000000000000000000000;)
                    end
                    i64.reinterpret_f64
                    global.get 4
                    i64.xor
                    global.set 4
                    global.get 3
                    i64.xor
                    global.set 3
                    global.get 2
                    i32.xor
                    global.set 2
                    drop
                  end
                end
                i64.reinterpret_f64
                global.get 4
                i64.xor
                global.set 4
                global.get 2
                i32.xor
                global.set 2
                i64.const 0
              end
              global.get 3
              i64.xor
              global.set 3
              global.get 2
              i32.xor
              global.set 2
              drop
              i64.reinterpret_f64
              global.get 4
              i64.xor
              global.set 4
              i32.reinterpret_f32
              global.get 1
              i32.xor
              global.set 1
              global.get 2
              i32.xor
              global.set 2
              global.get 2
              i32.xor
              global.set 2
            end
            i64.reinterpret_f64
            global.get 4
            i64.xor
            global.set 4
            global.get 2
            i32.xor
            global.set 2
            global.get 3
            i64.xor
            global.set 3
            global.get 2
            i32.xor
            global.set 2
          end
          global.get 2
          i32.xor
          global.set 2
        else
          f32.const 0x1.165402p-76 (;=0.000000000000000000000014389228;)
        end
        i32.reinterpret_f32
        global.get 1
        i32.xor
        global.set 1
        global.get 3
        i64.xor
        global.set 3
        global.get 2
        i32.xor
        global.set 2
        global.get 2
        i32.xor
        global.set 2
        global.get 2
        i32.xor
        global.set 2
      end
      i64.const 0
    end
    global.get 3
    i64.xor
    global.set 3
    global.get 3
    i64.xor
    global.set 3
  )
  (func (;3;) (type 1) (result i32 i64)
    unreachable
  )
  (func (;4;) (type 1) (result i32 i64)
    unreachable
  )
)
