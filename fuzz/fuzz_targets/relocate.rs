//! Fuzz target `relocate`: raw bytes through `lower::relocate::relocate`
//! (its reading of the `linking` and `reloc.*` sections, through wasmparser,
//! and its rewriting). The first two bytes choose the placement (memory
//! base in pages, own or shared table), the rest is the library. Must never
//! panic; an error is one line; when the input validates, so does the output.
#![no_main]

use lower::relocate::{relocate, Placement, TablePlacement, PAGE_SIZE};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [pages, table, lib @ ..] = data else {
        return;
    };
    let placement = Placement {
        memory_base: u32::from(*pages) * PAGE_SIZE,
        table: match table % 2 {
            0 => TablePlacement::Own,
            _ => TablePlacement::Shared {
                base: u32::from(*table),
            },
        },
    };
    match relocate(lib, &placement) {
        Ok(r) => {
            if wasmparser::Validator::new().validate_all(lib).is_ok() {
                if let Err(e) = wasmparser::Validator::new().validate_all(&r.module) {
                    panic!("valid library, invalid relocated module: {e}");
                }
            }
        }
        Err(e) => assert!(!e.to_string().contains('\n'), "{e}"),
    }
});
