;; A trap: wasmtime exits 134, wasmi 1, iwasm 1 after `Exception: unreachable` on stdout.
(module (memory (export "memory") 1) (func (export "_start") unreachable))
