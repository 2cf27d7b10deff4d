//! Typed errors of the Canonical ABI.
//!
//! Every `trap_if(...)` of the reference `definitions.py` that this crate
//! implements maps to one [`AbiError`] variant whose `Display` text says what
//! went wrong (e.g. "invalid utf-8 string"). Those are *traps*: the guest did
//! something the Canonical ABI forbids and the calling component instance must
//! be aborted. [`AbiError::is_trap`] returns `true` for them.
//!
//! A few variants are *embedder errors* instead: the spec states the condition
//! as an `assert(...)` that static validation or a well-typed host guarantees
//! (a [`Val`](super::Val) that does not match its type, flat core values of
//! the wrong core type, a missing `memory`/`realloc` option). They are reported
//! as errors rather than panics so that a host bug never takes the process
//! down; `is_trap` returns `false` for them.
//!
//! Invariant: this module has no dependencies (no `anyhow`); every error
//! is a plain, cloneable, comparable value so tests can match on it exactly.

use core::fmt;

/// An error produced while lifting or lowering values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AbiError {
    // ---- string traps (load_string_from_range / store_string_*) ----
    /// The bytes of a `utf8` string are not valid UTF-8.
    InvalidUtf8,
    /// The code units of a `utf16` string contain an unpaired surrogate.
    InvalidUtf16,
    /// `ptr + byte_length` of a string exceeds the memory.
    StringOutOfBounds { ptr: u32, byte_length: u64 },
    /// A UTF-16 (or `latin1+utf16`) string pointer is not 2-aligned.
    StringMisaligned { ptr: u32 },
    /// A string's byte length exceeds `MAX_STRING_BYTE_LENGTH` (when lifting)
    /// or an allocation would exceed `REALLOC_I32_MAX` (when lowering).
    StringTooLong { byte_length: u64 },

    // ---- list traps (load_list_from_range / store_list_into_range) ----
    /// `ptr + length * elem_size` of a list exceeds the memory.
    ListOutOfBounds { ptr: u32, byte_length: u64 },
    /// A list pointer is not aligned to the element type's alignment.
    ListMisaligned { ptr: u32, align: u32 },
    /// A list's byte length exceeds `MAX_LIST_BYTE_LENGTH` (when lifting) or
    /// `REALLOC_I32_MAX` (when lowering).
    ListTooLong { byte_length: u64 },

    // ---- scalar validation traps ----
    /// An `i32` that is not a Unicode Scalar Value was lifted as `char`.
    InvalidChar(u32),
    /// A variant/enum/option/result discriminant is `>= len(cases)`.
    InvalidDiscriminant { case_index: u32, num_cases: u32 },

    // ---- realloc traps ----
    /// `realloc` returned a pointer not aligned to the requested alignment.
    ReallocMisaligned { ptr: u32, align: u32 },
    /// `realloc` returned a pointer whose allocation exceeds the memory.
    ReallocOutOfBounds { ptr: u32, size: u64 },

    // ---- pointer traps (params / results passed through memory) ----
    /// A pointer to a spilled parameter/result tuple (or a value loaded or
    /// stored directly) is misaligned.
    PointerMisaligned { ptr: u32, align: u32 },
    /// A pointer to a spilled parameter/result tuple (or a value loaded or
    /// stored directly) points outside the memory.
    PointerOutOfBounds { ptr: u32, size: u64 },
    /// A raw memory access (through `GuestMemory`) was out of bounds.
    MemoryOutOfBounds { ptr: u32, len: u64 },

    // ---- resource handle traps (Table / lift_own / lift_borrow / drop) ----
    /// The handle index is out of range or refers to a free slot.
    InvalidHandle(u32),
    /// The handle refers to a resource of a different resource type.
    HandleTypeMismatch { handle: u32 },
    /// An `own` was expected but the handle is a `borrow`.
    NotAnOwnHandle(u32),
    /// The `own` handle is currently lent out (`num_lends != 0`).
    HandleLent(u32),
    /// A task finished while it still held borrowed handles
    /// (`num_borrows != 0`).
    BorrowsOutstanding(u32),
    /// The handle table reached `Table.MAX_LENGTH`.
    TableFull,

    /// The guest (e.g. its `realloc`) trapped or the embedder failed while
    /// running guest code on the ABI's behalf.
    Guest(String),

    // ---- embedder errors (spec `assert`s), not traps ----
    /// A [`Val`](super::Val) does not match the [`ValueType`](super::ValueType)
    /// it is lowered or checked as.
    TypeMismatch(String),
    /// A flat core value had a different core type than the flattened
    /// signature requires.
    FlatTypeMismatch {
        expected: super::CoreType,
        found: super::CoreType,
    },
    /// Fewer flat core values were supplied than the signature requires.
    FlatValuesExhausted,
    /// The operation needs linear memory but the `memory` option is absent.
    MissingMemory,
    /// The operation needs `realloc` but the `realloc` option is absent.
    MissingRealloc,
    /// Resource handles were lifted/lowered without a resource table.
    MissingResourceTables,
    /// The type is not a valid Canonical ABI type (e.g. an empty record or
    /// more than 32 flags); component validation rejects these.
    InvalidType(String),
}

impl AbiError {
    /// `true` if this is a spec-level trap (guest misbehaviour); `false` if it
    /// is an embedder error (a violated spec `assert`).
    pub fn is_trap(&self) -> bool {
        !matches!(
            self,
            AbiError::TypeMismatch(_)
                | AbiError::FlatTypeMismatch { .. }
                | AbiError::FlatValuesExhausted
                | AbiError::MissingMemory
                | AbiError::MissingRealloc
                | AbiError::MissingResourceTables
                | AbiError::InvalidType(_)
        )
    }
}

impl fmt::Display for AbiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use AbiError::*;
        match self {
            InvalidUtf8 => write!(f, "invalid utf-8 string"),
            InvalidUtf16 => write!(f, "invalid utf-16 string"),
            StringOutOfBounds { ptr, byte_length } => {
                write!(
                    f,
                    "out of bounds string (ptr {ptr:#x}, {byte_length} bytes)"
                )
            }
            StringMisaligned { ptr } => write!(f, "misaligned string pointer {ptr:#x}"),
            StringTooLong { byte_length } => {
                write!(f, "string too long ({byte_length} bytes)")
            }
            ListOutOfBounds { ptr, byte_length } => {
                write!(f, "out of bounds list (ptr {ptr:#x}, {byte_length} bytes)")
            }
            ListMisaligned { ptr, align } => {
                write!(f, "misaligned list pointer {ptr:#x} (alignment {align})")
            }
            ListTooLong { byte_length } => write!(f, "list too long ({byte_length} bytes)"),
            InvalidChar(i) => write!(f, "invalid char {i:#x}"),
            InvalidDiscriminant {
                case_index,
                num_cases,
            } => write!(
                f,
                "invalid variant discriminant {case_index} (type has {num_cases} cases)"
            ),
            ReallocMisaligned { ptr, align } => write!(
                f,
                "realloc returned misaligned pointer {ptr:#x} (alignment {align})"
            ),
            ReallocOutOfBounds { ptr, size } => write!(
                f,
                "realloc returned out of bounds pointer {ptr:#x} (size {size})"
            ),
            PointerMisaligned { ptr, align } => {
                write!(f, "misaligned pointer {ptr:#x} (alignment {align})")
            }
            PointerOutOfBounds { ptr, size } => {
                write!(f, "out of bounds pointer {ptr:#x} (size {size})")
            }
            MemoryOutOfBounds { ptr, len } => {
                write!(f, "out of bounds memory access (ptr {ptr:#x}, {len} bytes)")
            }
            InvalidHandle(i) => write!(f, "invalid resource handle index {i}"),
            HandleTypeMismatch { handle } => {
                write!(f, "resource handle {handle} has the wrong resource type")
            }
            NotAnOwnHandle(i) => write!(f, "resource handle {i} is a borrow, expected own"),
            HandleLent(i) => write!(f, "resource handle {i} is currently lent out"),
            BorrowsOutstanding(n) => {
                write!(
                    f,
                    "borrowed handles still remain at the end of the call ({n})"
                )
            }
            TableFull => write!(f, "resource handle table is full"),
            Guest(msg) => write!(f, "guest trapped: {msg}"),
            TypeMismatch(msg) => write!(f, "value does not match its type: {msg}"),
            FlatTypeMismatch { expected, found } => write!(
                f,
                "flat core value type mismatch: expected {expected:?}, found {found:?}"
            ),
            FlatValuesExhausted => write!(f, "not enough flat core values"),
            MissingMemory => write!(f, "canonical option `memory` is required but absent"),
            MissingRealloc => write!(f, "canonical option `realloc` is required but absent"),
            MissingResourceTables => write!(f, "no resource tables available"),
            InvalidType(msg) => write!(f, "invalid canonical ABI type: {msg}"),
        }
    }
}

impl std::error::Error for AbiError {}

/// The Canonical ABI failures that lowered mode's generated code (handle
/// tables, fused adapters, string transcoders) cannot report itself: it
/// passes the code and a value to the WASI library's `p2lib_canon_error`,
/// which ends the run with [`CanonError::message`], in wasmtime's words,
/// as wasmtime ends it: exit status 1 for the errors of its host-side
/// libcalls (handles, string encodings), a trap for the reentrance rules
/// its adapters and intrinsics check ([`CanonError::traps`]). Every other
/// Canonical ABI check is a plain trap on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i32)]
pub enum CanonError {
    /// A handle that is not a live handle of that resource type (never
    /// made, moved, dropped, or of another type); the value is the handle.
    UnknownHandle = 0,
    /// An own handle moved or dropped while lent to a call.
    LentHandle = 1,
    /// Borrow handles still held when the call that gave them ends.
    BorrowsRemain = 2,
    /// A borrow handle passed where an own one is taken.
    NotOwn = 3,
    /// A string's bytes are not UTF-8.
    InvalidUtf8 = 4,
    /// A string's code units have an unpaired surrogate.
    InvalidUtf16 = 5,
    /// An import called (a function, `resource.new`, `resource.drop`)
    /// while the caller's `may_leave` is false: from its `realloc` or its
    /// `post-return` run on the Canonical ABI's behalf. A trap.
    CannotLeave = 6,
    /// A function a component instance lifts, called through a `canon
    /// lower` of the same instance. A trap.
    CannotEnter = 7,
}

impl CanonError {
    /// Every code, in order.
    pub const ALL: [CanonError; 8] = [
        CanonError::UnknownHandle,
        CanonError::LentHandle,
        CanonError::BorrowsRemain,
        CanonError::NotOwn,
        CanonError::InvalidUtf8,
        CanonError::InvalidUtf16,
        CanonError::CannotLeave,
        CanonError::CannotEnter,
    ];

    /// The error of `code`, if it is one.
    pub fn from_code(code: i32) -> Option<CanonError> {
        Self::ALL.into_iter().find(|e| *e as i32 == code)
    }

    /// What wasmtime says (`value` is the handle of `UnknownHandle`).
    pub fn message(self, value: i32) -> String {
        match self {
            CanonError::UnknownHandle => format!("unknown handle index {value}"),
            CanonError::LentHandle => "cannot remove owned resource while borrowed".into(),
            CanonError::BorrowsRemain => {
                "borrow handles still remain at the end of the call".into()
            }
            CanonError::NotOwn => "cannot lift own resource from a borrow".into(),
            CanonError::InvalidUtf8 => "invalid utf8 encoding".into(),
            CanonError::InvalidUtf16 => "invalid utf16 encoding".into(),
            CanonError::CannotLeave => "cannot leave component instance".into(),
            CanonError::CannotEnter => "cannot enter component instance".into(),
        }
    }

    /// Whether wasmtime traps for it (the reentrance rules) rather than
    /// returning an error (exit status 134 against 1 for `wasmtime run`).
    pub fn traps(self) -> bool {
        matches!(self, CanonError::CannotLeave | CanonError::CannotEnter)
    }
}

#[cfg(test)]
mod canon_error_tests {
    use super::CanonError;

    #[test]
    fn every_code_comes_back() {
        for e in CanonError::ALL {
            assert_eq!(CanonError::from_code(e as i32), Some(e));
        }
        assert_eq!(CanonError::from_code(8), None);
        assert_eq!(CanonError::from_code(-1), None);
    }
}
