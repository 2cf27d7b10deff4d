;; A trap: wasmtime exits 134, wasmi 1.
(module (memory (export "memory") 1) (func (export "_start") unreachable))
