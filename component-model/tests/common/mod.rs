//! WAT shared by the component-model integration tests.
//!
//! Invariants: text only; each test file that uses it declares `mod common;`.

/// A core module exporting memory `mem` and a bump `realloc` (never frees),
/// instantiated as core instance `$libc`: splice into a component's text.
pub const LIBC: &str = r#"
    (core module $libc
      (memory (export "mem") 1)
      (global $bump (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $p i32)
        global.get $bump
        local.get 2 i32.const 1 i32.sub i32.add
        i32.const 0 local.get 2 i32.sub i32.and
        local.tee $p
        local.get 3 i32.add global.set $bump
        local.get $p))
    (core instance $libc (instantiate $libc))
"#;
