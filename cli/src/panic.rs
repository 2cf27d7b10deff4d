//! The release build's panic hook: a panic that is still left in the shim
//! (a bug, whatever the guest did) ends the process with one line on stderr,
//! `p2shim: internal error in PLACE: MESSAGE`, and exit status 1, the status
//! `wasmtime run` gives a failed host call (a host error, not a guest trap).
//!
//! Invariants:
//! * PLACE is the panic's source location (`cli/src/p1.rs:123`; a
//!   dependency's path starts at its crate folder, `wasmparser-0.263.0/...`):
//!   the shim is built stripped with `panic = "abort"`, so there is no
//!   backtrace and no symbol to name the Rust function by; the location is
//!   the precise substitute.
//! * MESSAGE is the panic payload on one line (line breaks become spaces).
//! * Output is not lost: `std::process::exit` flushes Rust's stdout buffer
//!   (the guest's own writes go straight to the host); the trace file is
//!   finished first, as on every other exit.
//! * A panic inside the hook itself (re-entry) falls back to the abort the
//!   release profile gives, so the hook can never loop.
//! * Debug builds keep Rust's default hook (message and backtrace), which is
//!   what a developer wants.
//!
//! `p2shim --internal-test-panic` (first argument, not in `--help`) panics on
//! purpose after writing an unterminated line to stdout; `conformance/limits`
//! runs it to show that the hook is installed in the shipped shim.

use std::cell::Cell;
use std::panic::PanicHookInfo;

/// Installs the hook (release builds only).
pub fn install() {
    if cfg!(debug_assertions) {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        thread_local!(static IN_HOOK: Cell<bool> = const { Cell::new(false) });
        if IN_HOOK.with(|h| h.replace(true)) {
            std::process::abort();
        }
        #[cfg(target_os = "wasi")]
        crate::watch::finish();
        eprintln!("{}", report(info));
        std::process::exit(1)
    }));
}

/// The one-line report of a panic.
pub fn report(info: &PanicHookInfo<'_>) -> String {
    let place = info
        .location()
        .map(|l| format!("{}:{}", short_path(l.file()), l.line()))
        .unwrap_or_else(|| "an unknown place".to_string());
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    line(&place, message)
}

/// `p2shim: internal error in PLACE: MESSAGE` with MESSAGE on one line.
fn line(place: &str, message: &str) -> String {
    let message: String = message
        .split(['\n', '\r'])
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    format!("p2shim: internal error in {place}: {message}")
}

/// A source path from the crate's folder on: `.../registry/src/index.../
/// wasmparser-0.263.0/src/x.rs` becomes `wasmparser-0.263.0/src/x.rs`; the
/// workspace's own paths (`cli/src/p1.rs`) and std's stay as they are.
fn short_path(file: &str) -> &str {
    let parts: Vec<&str> = file.split('/').collect();
    match parts.iter().rposition(|p| *p == "src") {
        Some(i) if i >= 1 && file.starts_with('/') => {
            let start: usize = parts[..i - 1].iter().map(|p| p.len() + 1).sum();
            &file[start..]
        }
        _ => file,
    }
}

/// The hidden `--internal-test-panic`: a panic in the shim with output
/// pending in Rust's stdout buffer.
pub fn internal_test_panic() -> ! {
    print!("output before the panic");
    panic!("a test panic\nasked for with --internal-test-panic")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line() {
        assert_eq!(
            line("cli/src/p1.rs:12", "first\nsecond\r\n\nthird"),
            "p2shim: internal error in cli/src/p1.rs:12: first second third"
        );
    }

    #[test]
    fn paths() {
        assert_eq!(short_path("cli/src/p1.rs"), "cli/src/p1.rs");
        assert_eq!(
            short_path("/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/wasmparser-0.263.0/src/validator.rs"),
            "wasmparser-0.263.0/src/validator.rs"
        );
        assert_eq!(
            short_path("/rustc/abc/library/alloc/src/raw_vec.rs"),
            "alloc/src/raw_vec.rs"
        );
        assert_eq!(short_path("/x/src"), "x/src");
    }
}
