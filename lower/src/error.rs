//! Why a component cannot be lowered.
//!
//! Invariants: every variant displays as one line that names the construct
//! (the import, export, module or built-in) it is about, so `p2shim lower`
//! and `p2shim lower --check` can print it as the whole reason. No variant
//! is raised for a component that lowering supports: a failure of the
//! merger's own output (`InvalidOutput`) is a bug, and says so.

use std::fmt;

/// Everything that stops a component from being lowered.
#[derive(Debug)]
pub enum LowerError {
    /// The component did not parse, validate or flatten (component-model's
    /// own words).
    Component(component_model::Error),
    /// A core module (of the component or the library) is malformed.
    Malformed {
        what: String,
        message: String,
        offset: usize,
    },
    /// The component uses something lowered mode does not support; the
    /// text names it (the caller says it cannot be lowered).
    Unsupported(String),
    /// The WASI library does not provide what the component needs, or
    /// breaks the contract of the crate docs.
    Library(String),
    /// A lowered import's core type differs from the library's function.
    ImportType {
        import: String,
        component: String,
        library: String,
    },
    /// Re-encoding a core module failed.
    Encode { what: String, message: String },
    /// The merged module does not validate: a bug of the merger.
    InvalidOutput { message: String, offset: usize },
}

impl fmt::Display for LowerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LowerError::Component(e) => write!(f, "{e}"),
            LowerError::Malformed {
                what,
                message,
                offset,
            } => write!(f, "malformed {what}: {message} (at offset {offset:#x})"),
            LowerError::Unsupported(what) => f.write_str(what),
            LowerError::Library(what) => write!(f, "WASI library: {what}"),
            LowerError::ImportType {
                import,
                component,
                library,
            } => write!(
                f,
                "import `{import}` is lowered as {component} but the WASI library's function is {library}"
            ),
            LowerError::Encode { what, message } => {
                write!(f, "re-encoding {what} failed: {message}")
            }
            LowerError::InvalidOutput { message, offset } => write!(
                f,
                "internal error: the lowered module does not validate: {message} (at offset {offset:#x})"
            ),
        }
    }
}

/// No `source()`: the display is the whole one-line reason (the wrapped
/// component error's words included), which `{:#}` would otherwise repeat.
impl std::error::Error for LowerError {}

impl From<component_model::Error> for LowerError {
    fn from(e: component_model::Error) -> Self {
        match e {
            component_model::Error::Unsupported(what) => LowerError::Unsupported(what),
            e => LowerError::Component(e),
        }
    }
}
