;; The cost of one p1 file call on a host, for the README's file-heavy analysis
;; (Performance, "Lowered mode"): `hostcall-cost MODE N` opens (creates) hc.tmp in
;; the preopen (fd 3), then makes N `fd_filestat_get` calls on it (MODE 0), N
;; `path_filestat_get` calls of its path (MODE 1) or none (MODE 2, the loop alone).
;; Arguments are read crudely: MODE one digit, N decimal digits. Run in an empty
;; folder, e.g. on wasmi and iwasm:
;;   wasm-tools parse conformance/bench/hostcall-cost.wat -o hc.wasm
;;   wasmi run --dir . hc.wasm 0 100000;  iwasm --map-dir=.::. hc.wasm 1 100000
;; and take (time(MODE) - time(2)) / N.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $asg (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $ag (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_get" (func $fst (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_filestat_get" (func $pst (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 900) "hc.tmp")
  (func (export "_start")
    (local $argv i32) (local $p i32) (local $n i32) (local $mode i32) (local $fd i32) (local $c i32)
    (drop (call $asg (i32.const 0) (i32.const 4)))
    (drop (call $ag (i32.const 16) (i32.const 256)))
    (local.set $mode (i32.sub (i32.load8_u (i32.load (i32.const 20))) (i32.const 48)))
    (local.set $p (i32.load (i32.const 24)))
    (block $done (loop $l
      (local.set $c (i32.load8_u (local.get $p)))
      (br_if $done (i32.eqz (local.get $c)))
      (local.set $n (i32.add (i32.mul (local.get $n) (i32.const 10)) (i32.sub (local.get $c) (i32.const 48))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l)))
    ;; open (create) hc.tmp in the preopen fd 3
    (if (call $open (i32.const 3) (i32.const 1) (i32.const 900) (i32.const 6) (i32.const 1)
          (i64.const 0x200042) (i64.const 0) (i32.const 0) (i32.const 800))
      (then unreachable))
    (local.set $fd (i32.load (i32.const 800)))
    (block $end (loop $k
      (br_if $end (i32.eqz (local.get $n)))
      (if (i32.eqz (local.get $mode)) (then (drop (call $fst (local.get $fd) (i32.const 1000)))))
      (if (i32.eq (local.get $mode) (i32.const 1))
        (then (drop (call $pst (i32.const 3) (i32.const 1) (i32.const 900) (i32.const 6) (i32.const 1000)))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $k))))
)
