//! Typed traps and the crate's error enum.
//!
//! Invariants: every way a guest can stop abnormally is a [`TrapCode`] whose
//! `Display` is the spec's own wording (the spec suite matches on it); host
//! functions raise [`TrapCode::Host`] traps that carry the host's error, which
//! the embedder can take back with [`Trap::downcast_host`].

use std::fmt;

/// Why a guest stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrapCode {
    Unreachable,
    MemoryOutOfBounds,
    TableOutOfBounds,
    /// `call_indirect` through an index past the table's end.
    UndefinedElement,
    /// `call_indirect` through a null entry.
    UninitializedElement,
    BadSignature,
    IntegerOverflow,
    IntegerDivisionByZero,
    BadConversionToInteger,
    /// The call stack or the value stack hit its limit.
    StackOverflow,
    /// The configured fuel (a step limit) ran out.
    OutOfFuel,
    /// A host function failed; see [`Trap::downcast_host`].
    Host,
}

impl TrapCode {
    /// The spec's message for this trap.
    pub fn message(self) -> &'static str {
        match self {
            TrapCode::Unreachable => "unreachable",
            TrapCode::MemoryOutOfBounds => "out of bounds memory access",
            TrapCode::TableOutOfBounds => "out of bounds table access",
            TrapCode::UndefinedElement => "undefined element",
            TrapCode::UninitializedElement => "uninitialized element",
            TrapCode::BadSignature => "indirect call type mismatch",
            TrapCode::IntegerOverflow => "integer overflow",
            TrapCode::IntegerDivisionByZero => "integer divide by zero",
            TrapCode::BadConversionToInteger => "invalid conversion to integer",
            TrapCode::StackOverflow => "call stack exhausted",
            TrapCode::OutOfFuel => "all fuel consumed",
            TrapCode::Host => "host function error",
        }
    }
}

impl fmt::Display for TrapCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for TrapCode {}

/// One frame of a trap's backtrace, innermost first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameInfo {
    /// The module's name from its name section, if any.
    pub module_name: Option<String>,
    /// The function index in its module's function index space.
    pub func_index: u32,
    /// The function's name from the name section, if any.
    pub func_name: Option<String>,
}

impl fmt::Display for FrameInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let module = self.module_name.as_deref().unwrap_or("<unknown>");
        match &self.func_name {
            Some(name) => write!(f, "{module}!{name}"),
            None => write!(f, "{module}!<wasm function {}>", self.func_index),
        }
    }
}

type HostError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A trap: its code, a backtrace, and for host traps the host's error.
#[derive(Debug)]
pub struct Trap {
    code: TrapCode,
    backtrace: Vec<FrameInfo>,
    host: Option<HostError>,
}

impl Trap {
    pub fn new(code: TrapCode) -> Self {
        Trap {
            code,
            backtrace: Vec::new(),
            host: None,
        }
    }

    /// A trap raised by a host function, carrying its error.
    pub fn host(error: impl Into<HostError>) -> Self {
        Trap {
            code: TrapCode::Host,
            backtrace: Vec::new(),
            host: Some(error.into()),
        }
    }

    pub fn code(&self) -> TrapCode {
        self.code
    }

    /// Innermost frame first.
    pub fn backtrace(&self) -> &[FrameInfo] {
        &self.backtrace
    }

    /// Adds the frames of an outer call below the ones already recorded.
    pub(crate) fn extend_backtrace(&mut self, frames: Vec<FrameInfo>) {
        self.backtrace.extend(frames);
    }

    /// The host error of a [`TrapCode::Host`] trap, if it is an `E`.
    pub fn downcast_host<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.host.as_ref()?.downcast_ref::<E>()
    }

    /// The host error of a [`TrapCode::Host`] trap.
    pub fn host_error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.host.as_deref()
    }

    /// The name of the innermost function, as the backtrace prints it.
    pub fn function(&self) -> Option<String> {
        self.backtrace.first().map(|f| f.to_string())
    }
}

impl From<TrapCode> for Trap {
    fn from(code: TrapCode) -> Self {
        Trap::new(code)
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Some(err) => write!(f, "{err}")?,
            None => write!(f, "wasm trap: {}", self.code)?,
        }
        if !self.backtrace.is_empty() {
            write!(f, "\nwasm backtrace:")?;
            for (i, frame) in self.backtrace.iter().enumerate() {
                write!(f, "\n  {i:>3}: {frame}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Trap {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.host {
            Some(e) => Some(&**e),
            None => None,
        }
    }
}

/// Everything that can go wrong in core-vm.
#[derive(Debug)]
pub enum Error {
    /// The bytes are not a valid module (malformed or invalid), with the
    /// parser's message and byte offset.
    Validation { message: String, offset: usize },
    /// The module uses a feature core-vm does not implement.
    Unsupported(String),
    /// An import could not be satisfied (unknown or of the wrong type).
    Link(String),
    /// A resource limit (memory cap, table size, instance count) was
    /// exceeded, or the host had no memory for what the guest asked, outside
    /// a guest call; the message says which, in wasmtime's words where
    /// wasmtime has them.
    Limit(String),
    /// Values passed to or from a call do not match the function's type.
    Type(String),
    /// The guest trapped (also during instantiation: data, elem, start).
    Trap(Trap),
    /// Execution state cannot be captured, or a snapshot does not fit the
    /// store it is restored into.
    Snapshot(String),
}

impl Error {
    pub fn as_trap(&self) -> Option<&Trap> {
        match self {
            Error::Trap(t) => Some(t),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Validation { message, offset } => {
                write!(f, "invalid module: {message} (at offset {offset:#x})")
            }
            Error::Unsupported(what) => write!(f, "unsupported: {what}"),
            Error::Link(msg) => write!(f, "link error: {msg}"),
            Error::Limit(msg) => f.write_str(msg),
            Error::Type(msg) => write!(f, "type mismatch: {msg}"),
            Error::Trap(t) => write!(f, "{t}"),
            Error::Snapshot(msg) => write!(f, "snapshot: {msg}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Trap(t) => Some(t),
            _ => None,
        }
    }
}

impl From<Trap> for Error {
    fn from(t: Trap) -> Self {
        Error::Trap(t)
    }
}

impl From<wasmparser::BinaryReaderError> for Error {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        Error::Validation {
            message: e.message().to_string(),
            offset: e.offset() as usize,
        }
    }
}
