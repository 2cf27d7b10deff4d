//! The component layer's typed error enum.
//!
//! Invariants: no `anyhow`; every variant names what it is about (the
//! import/export path, the interface and function) so a message alone says
//! what went wrong. Validation errors keep wasmparser's message and byte
//! offset. Guest traps keep the core-vm [`core_vm::Trap`] (with its
//! backtrace); Canonical ABI traps raised while lifting or lowering are
//! carried as [`Error::Abi`] with the function they happened in.

use canonical_abi::{AbiError, CanonError};
use std::fmt;

/// Everything that can go wrong while parsing, instantiating or calling a
/// component.
#[derive(Debug)]
pub enum Error {
    /// The bytes are not a valid component (malformed or invalid).
    Validation { message: String, offset: usize },
    /// The component uses a feature this implementation does not support
    /// (async, values, start functions, module imports, ...).
    Unsupported(String),
    /// An import the linker cannot satisfy (an item missing, or a function
    /// of the wrong type), in wasmtime's words: `kind` is `instance` or
    /// `function`, `name` the import's name, `causes` the chain below
    /// "a matching implementation was not found", outermost first
    /// (`instance export `get-arguments` has the wrong type`,
    /// `type mismatch with results`, `expected `list` found `u32``).
    Import {
        kind: &'static str,
        name: String,
        causes: Vec<String>,
    },
    /// An import exists but cannot be used as requested.
    Link(String),
    /// A core module failed to compile or instantiate in core-vm.
    Core {
        context: String,
        error: core_vm::Error,
    },
    /// The guest trapped (or a host function failed) during a call.
    Trap { func: String, trap: core_vm::Trap },
    /// A Canonical ABI trap (or embedder error) while lifting or lowering
    /// values of `func`.
    Abi { func: String, error: AbiError },
    /// Values given to a call do not match the function's type.
    Type { func: String, message: String },
    /// No export with that name.
    NotFound(String),
    /// A function name that several exported instances define.
    Ambiguous {
        name: String,
        candidates: Vec<String>,
    },
    /// A checkpoint cannot be taken now (see [`Error::is_busy`]), or a
    /// saved state does not fit this component instance.
    Checkpoint { busy: bool, message: String },
}

impl Error {
    /// Whether this error is a guest trap (core or Canonical ABI).
    pub fn is_trap(&self) -> bool {
        match self {
            Error::Trap { .. } => true,
            Error::Abi { error, .. } => error.is_trap(),
            Error::Core { error, .. } => matches!(error, core_vm::Error::Trap(_)),
            _ => false,
        }
    }

    /// Whether a checkpoint was refused only because of what runs now (a
    /// `realloc` or `post-return`): a later safe point may take it.
    pub fn is_busy(&self) -> bool {
        matches!(self, Error::Checkpoint { busy: true, .. })
    }

    pub(crate) fn validation(e: wasmparser::BinaryReaderError) -> Self {
        Error::Validation {
            message: e.message().to_string(),
            offset: e.offset() as usize,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Validation { message, offset } => {
                write!(f, "invalid component: {message} (at offset {offset:#x})")
            }
            Error::Unsupported(what) => write!(f, "unsupported: {what}"),
            Error::Import { kind, name, causes } => {
                write!(
                    f,
                    "component imports {kind} `{name}`, but a matching implementation was not found in the linker"
                )?;
                for c in causes {
                    write!(f, ": {c}")?;
                }
                Ok(())
            }
            Error::Link(msg) => write!(f, "link error: {msg}"),
            Error::Core { context, error } => write!(f, "{context}: {error}"),
            Error::Trap { func, trap } => write!(f, "trap in `{func}`: {trap}"),
            Error::Abi { func, error } => write!(f, "canonical ABI error in `{func}`: {error}"),
            Error::Type { func, message } => write!(f, "type mismatch calling `{func}`: {message}"),
            Error::NotFound(name) => write!(f, "no export named `{name}`"),
            Error::Ambiguous { name, candidates } => write!(
                f,
                "several exported instances have a function named `{name}`: {}",
                candidates
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Error::Checkpoint { message, .. } => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Core { error, .. } => Some(error),
            Error::Trap { trap, .. } => Some(trap),
            Error::Abi { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// The error a trampoline raises (as a core-vm host trap) when a lowered
/// call fails: which function, and why.
#[derive(Debug)]
pub struct CallError {
    pub func: String,
    pub message: String,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.func, self.message)
    }
}

impl std::error::Error for CallError {}

/// A Canonical ABI trap in a call from one component instance to another,
/// raised (as a core-vm host trap) instead of a [`CallError`]: wasmtime
/// compiles such a call to a fused adapter in Wasm, where these checks are
/// Wasm traps (a misaligned or out-of-bounds string or list, a bad `char`
/// or discriminant, a bad `realloc` result), so an embedder reports it as
/// a trap of the guest, not as a failure of the host; so are its
/// reentrance rules, checked by its adapters and intrinsics. An invalid
/// string encoding or a handle error stays a [`CallError`]: wasmtime's
/// adapters check those in libcalls (transcoding, resource transfer), host
/// errors.
#[derive(Debug)]
pub struct AdapterTrap {
    pub func: String,
    pub fault: AdapterFault,
}

/// Which check an [`AdapterTrap`] failed.
#[derive(Debug)]
pub enum AdapterFault {
    /// A value's (lifting or lowering it).
    Abi(AbiError),
    /// A reentrance rule ([`CanonError::CannotLeave`]: an import called
    /// from a `realloc` or `post-return` the ABI runs;
    /// [`CanonError::CannotEnter`]: a function called through a `canon
    /// lower` of the instance that lifts it).
    Reentrance(CanonError),
}

impl fmt::Display for AdapterTrap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.fault {
            AdapterFault::Abi(e) => write!(f, "{}: {e}", self.func),
            AdapterFault::Reentrance(e) => write!(f, "{}: {}", self.func, e.message(0)),
        }
    }
}

impl std::error::Error for AdapterTrap {}
