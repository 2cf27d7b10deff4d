//! p1 `environ_get` of a variable given an empty value on the host's command line
//! (`host-args`: `--env P1C_EMPTY= --env P1C_SET=x`): wasmtime, node and iwasm pass
//! `P1C_EMPTY=` to the guest; the wasmi CLI refuses the empty value ("missing VAL in
//! --env KEY=VAL") and exits 2 before running anything, so p2shim on wasmi cannot
//! give it to a p2 program either (conformance/programs/p2-env).

use wasi::*;

fn main() {
    // SAFETY: the buffers are sized by environ_sizes_get, as environ_get requires.
    let vars = unsafe {
        let (count, size) = environ_sizes_get().expect("environ_sizes_get");
        let mut ptrs = vec![std::ptr::null_mut::<u8>(); count];
        let mut buf = vec![0u8; size];
        environ_get(ptrs.as_mut_ptr(), buf.as_mut_ptr()).expect("environ_get");
        ptrs.iter()
            .map(|&p| {
                std::ffi::CStr::from_ptr(p as *const _)
                    .to_string_lossy()
                    .into_owned()
            })
            .collect::<Vec<_>>()
    };
    for v in vars.iter().filter(|v| v.starts_with("P1C_")) {
        println!("environ_get: {v:?}");
    }
}
