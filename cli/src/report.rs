//! Reporting failures the way `wasmtime run` does, and ending the process
//! with the exit status wasmtime uses for them.
//!
//! Invariants:
//! * Everything goes to stderr; nothing here writes to stdout.
//! * Usage, load, parse and link errors are one line (`Error: ...`, the
//!   causes joined by `: `) and exit with status 1, as wasmtime does.
//! * A guest trap is printed in wasmtime's shape (context, the innermost
//!   function first in the backtrace, the trap message in wasmtime's wording).
//!   A trap raised by a Wasm instruction then aborts the shim, which traps the
//!   *host* guest: that is the only way a WASIp1 program can end with the
//!   host's trap status (wasmtime: 134; `proc_exit` cannot report 134). A trap
//!   raised by a host function (a bad pointer given to WASI, a missing
//!   `memory` export) is an ordinary error in wasmtime and exits with 1.

use component_model::AdapterTrap;
use core_vm::{Error, Trap, TrapCode};
use std::fmt::Write as _;

/// At most this many backtrace frames are printed (wasmtime shows 20 of a
/// call-stack overflow too).
const MAX_FRAMES: usize = 20;

/// Prints a one-line error and exits with status 1.
pub fn fail(err: anyhow::Error) -> ! {
    crate::watch::finish();
    eprintln!("Error: {err:#}");
    std::process::exit(1)
}

/// Reports a core-vm error met while `context` (e.g. "failed to invoke
/// command default"), running the main module `file`, and exits.
pub fn guest_error(file: &str, context: &str, err: Error) -> ! {
    crate::watch::finish();
    match err {
        Error::Trap(trap) => trapped(file, context, &trap),
        other => fail(anyhow::Error::msg(other.to_string()).context(context.to_string())),
    }
}

/// Prints a trap in wasmtime's shape and ends the process accordingly.
fn trapped(file: &str, context: &str, trap: &Trap) -> ! {
    eprint!("{}", render_trap(file, context, trap));
    // A host error exits 1, but a Canonical ABI trap between two component
    // instances is a trap of the guest (wasmtime's fused adapters).
    if trap.code() == TrapCode::Host && trap.downcast_host::<AdapterTrap>().is_none() {
        std::process::exit(1)
    }
    // Trap the host as the guest trapped (`abort` is `unreachable` on wasm32).
    std::process::abort()
}

/// The text of a trap report, ending in a newline.
pub fn render_trap(file: &str, context: &str, trap: &Trap) -> String {
    let mut s =
        format!("Error: failed to run main module `{file}`\n\nCaused by:\n    0: {context}\n");
    let mut cause = 1;
    if !trap.backtrace().is_empty() {
        s.push_str("    1: error while executing at wasm backtrace:\n");
        let frames = trap.backtrace();
        for (i, frame) in frames.iter().take(MAX_FRAMES).enumerate() {
            let _ = writeln!(s, "{i:>5}: {}", frame.to_string());
        }
        if frames.len() > MAX_FRAMES {
            let _ = writeln!(s, "       ... {} more frames", frames.len() - MAX_FRAMES);
        }
        cause = 2;
    }
    let message = match trap.host_error() {
        Some(e) => e.to_string(),
        None => format!("wasm trap: {}", trap_message(trap.code())),
    };
    let _ = writeln!(s, "    {cause}: {message}");
    s
}

/// wasmtime's wording for each trap.
fn trap_message(code: TrapCode) -> &'static str {
    match code {
        TrapCode::Unreachable => "wasm `unreachable` instruction executed",
        TrapCode::MemoryOutOfBounds => "out of bounds memory access",
        TrapCode::TableOutOfBounds | TrapCode::UndefinedElement => {
            "undefined element: out of bounds table access"
        }
        TrapCode::UninitializedElement => "uninitialized element",
        TrapCode::BadSignature => "indirect call type mismatch",
        TrapCode::IntegerOverflow => "integer overflow",
        TrapCode::IntegerDivisionByZero => "integer divide by zero",
        TrapCode::BadConversionToInteger => "invalid conversion to integer",
        TrapCode::StackOverflow => "call stack exhausted",
        TrapCode::OutOfFuel => "all fuel consumed by WebAssembly",
        #[allow(unreachable_patterns)]
        other => other.message(),
    }
}
