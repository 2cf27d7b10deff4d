//! The canonical options (`canonopt`) that parameterize lifting and lowering.
//!
//! Only the synchronous ABI is modelled: `string-encoding`, `memory`,
//! `realloc` and `post-return`. The options record *which* options were
//! given; the memory and `realloc` themselves are reached through
//! [`GuestMemory`](super::GuestMemory) in the
//! [`LiftLowerContext`](super::LiftLowerContext).
//!
//! Invariants (checked by component validation, relied upon here):
//! `has_realloc` implies `has_memory`; `has_post_return` only on `canon lift`.
//! At run time the ABI reports [`AbiError::MissingMemory`](super::AbiError) /
//! [`AbiError::MissingRealloc`](super::AbiError) instead of touching memory
//! an absent option would have provided.

/// The `string-encoding=` canonical option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StringEncoding {
    /// `string-encoding=utf8` (the default).
    #[default]
    Utf8,
    /// `string-encoding=utf16` (little-endian code units, 2-aligned).
    Utf16,
    /// `string-encoding=latin1+utf16`: per string, either Latin-1 bytes or
    /// UTF-16 code units, selected by [`UTF16_TAG`](super::strings::UTF16_TAG)
    /// in the code-unit count.
    CompactUtf16,
}

/// The canonical options of one `canon lift` / `canon lower`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CanonicalOptions {
    pub string_encoding: StringEncoding,
    /// A `memory` option is present.
    pub has_memory: bool,
    /// A `realloc` option is present.
    pub has_realloc: bool,
    /// A `post-return` option is present (`canon lift` only). The ABI itself
    /// never calls it: the caller of `canon lift` runs it with the flat
    /// results after the results have been lifted.
    pub has_post_return: bool,
}

impl CanonicalOptions {
    /// Options with `memory` and `realloc` present and the given encoding.
    pub fn with_memory(string_encoding: StringEncoding) -> Self {
        CanonicalOptions {
            string_encoding,
            has_memory: true,
            has_realloc: true,
            has_post_return: false,
        }
    }
}
