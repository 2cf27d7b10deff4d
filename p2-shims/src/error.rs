//! [`HostError`]: why a shim function could not run at all. Such failures
//! become traps of the guest (a WASI-level failure is a returned
//! `error-code` / `stream-error` value instead, never a `HostError`).
//!
//! Invariant: every variant names what it is about, so the trap message
//! alone says what went wrong.

use std::fmt;

/// A failure that traps the calling guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// Argument `index` is not a value of the expected shape (the linker
    /// type-checks, so this means the shims and the WIT disagree).
    BadArgument {
        index: usize,
        expected: &'static str,
    },
    /// A resource rep that is not (or no longer) a live resource of `kind`.
    BadHandle { rep: u32, kind: &'static str },
    /// A resource dropped while resources made from it live (a stream
    /// while its pollable does), as wasmtime's resource table refuses.
    HasChildren,
    /// More bytes than a `blocking-*-and-flush` call takes.
    BufferTooLarge { func: &'static str, max: u64 },
    /// `write-zeroes` of more than `check-write` grants.
    ZeroesOverBudget,
    /// A request the shim refuses rather than answer wrongly.
    Refused(String),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::BadArgument { index, expected } => {
                write!(f, "argument {index} is not a {expected}")
            }
            HostError::BadHandle { rep, kind } => write!(f, "{rep} is not a live {kind} resource"),
            HostError::HasChildren => f.write_str("resource has children"),
            // wasmtime's wording for both.
            HostError::BufferTooLarge { func, max } => {
                write!(f, "Buffer too large for {func} (expected at most {max})")
            }
            HostError::ZeroesOverBudget => {
                f.write_str("cannot write more zeroes than `check_write` allows")
            }
            HostError::Refused(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for HostError {}
