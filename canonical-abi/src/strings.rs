//! Strings: `load_string` / `store_string` for `utf8`, `utf16` and
//! `latin1+utf16`, including every transcoding path of `definitions.py`.
//!
//! A lifted string is a [`StringValue`]: the text plus the spec's *hint*,
//! i.e. the encoding it was lifted from and its (tagged) number of code
//! units, which `store_string` uses to pick an allocation strategy
//! (`store_string_copy`, `store_utf16_to_utf8`, `store_latin1_to_utf8`,
//! `store_utf8_to_utf16`, `store_string_to_latin1_or_utf16`,
//! `store_probably_utf16_to_latin1_or_utf16`). Host-created strings carry
//! the hint "utf8, byte length".
//!
//! Invariants:
//! * A `StringValue`'s hint is always consistent with its text (the
//!   constructors guarantee it), so each copy path writes exactly the number
//!   of bytes it allocated.
//! * Lifting traps (per spec) when the byte length exceeds
//!   [`MAX_STRING_BYTE_LENGTH`], the pointer is misaligned (2 for UTF-16
//!   and `latin1+utf16`), the range is out of bounds, or the bytes do not
//!   decode. Lowering calls `realloc` with exactly the spec's arguments in
//!   the spec's order, writes the bytes the spec has written *before* each
//!   `realloc` (a `realloc` is guest code and may move the allocation), and
//!   traps when a returned pointer is misaligned or out of bounds.
//! * Lengths are computed in `u64`, so no arithmetic wraps.

use super::context::LiftLowerContext;
use super::{AbiError, StringEncoding};
use std::borrow::Cow;

/// High bit of the code-unit count: the `latin1+utf16` string is UTF-16.
pub const UTF16_TAG: u32 = 1 << 31;
/// The largest size `realloc` can be asked for in a 32-bit memory.
pub const REALLOC_I32_MAX: u64 = (1 << 32) - 1;
/// Maximum byte length of a lifted string.
pub const MAX_STRING_BYTE_LENGTH: u64 = (1 << 28) - 1;

/// A string value together with its source-encoding hint (the spec's
/// `(str, encoding, tagged_code_units)` triple).
///
/// Equality compares the text only: the hint is an optimization aid, not
/// part of the abstract value.
#[derive(Debug, Clone)]
pub struct StringValue {
    text: String,
    src_encoding: StringEncoding,
    src_tagged_code_units: u64,
}

impl PartialEq for StringValue {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}
impl Eq for StringValue {}

impl StringValue {
    /// A host string: hint `utf8` with its byte length.
    pub fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        let n = text.len() as u64;
        StringValue {
            text,
            src_encoding: StringEncoding::Utf8,
            src_tagged_code_units: n,
        }
    }

    /// A string with an explicit hint; `None` if the hint does not describe
    /// `text` (wrong code-unit count, or untagged `latin1+utf16` with a
    /// char outside Latin-1).
    pub fn with_hint(
        text: impl Into<String>,
        src_encoding: StringEncoding,
        src_tagged_code_units: u64,
    ) -> Option<Self> {
        let text = text.into();
        let ok = match src_encoding {
            StringEncoding::Utf8 => src_tagged_code_units == text.len() as u64,
            StringEncoding::Utf16 => src_tagged_code_units == utf16_len(&text),
            StringEncoding::CompactUtf16 => {
                let tag = u64::from(UTF16_TAG);
                if src_tagged_code_units & tag != 0 {
                    src_tagged_code_units ^ tag == utf16_len(&text)
                } else {
                    text.chars().all(|c| (c as u32) < 256)
                        && src_tagged_code_units == text.chars().count() as u64
                }
            }
        };
        ok.then_some(StringValue {
            text,
            src_encoding,
            src_tagged_code_units,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
    pub fn into_string(self) -> String {
        self.text
    }
    /// The encoding this string was lifted from (hint).
    pub fn src_encoding(&self) -> StringEncoding {
        self.src_encoding
    }
    /// The tagged code-unit count it was lifted with (hint).
    pub fn src_tagged_code_units(&self) -> u64 {
        self.src_tagged_code_units
    }
}

impl From<&str> for StringValue {
    fn from(s: &str) -> Self {
        StringValue::new(s)
    }
}
impl From<String> for StringValue {
    fn from(s: String) -> Self {
        StringValue::new(s)
    }
}

fn utf16_len(s: &str) -> u64 {
    s.chars().map(|c| c.len_utf16() as u64).sum()
}

fn encode_utf16le(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() * 2);
    for u in s.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

fn encode_latin1(s: &str) -> Vec<u8> {
    // Only called on strings whose chars are all < 256 (hint invariant).
    s.chars().map(|c| c as u32 as u8).collect()
}

// ------------------------------------------------------------------ loading

/// `load_string(cx, ptr)`: reads the `(begin, tagged_code_units)` pair at
/// `ptr` and lifts the string it points to.
pub fn load_string(cx: &LiftLowerContext<'_>, ptr: u32) -> Result<StringValue, AbiError> {
    let len_ptr = second_word(ptr)?;
    let begin = cx.load_uint(ptr, 4)? as u32;
    let tagged_code_units = cx.load_uint(len_ptr, 4)? as u32;
    load_string_from_range(cx, begin, tagged_code_units)
}

/// `load_string_from_range(cx, ptr, tagged_code_units)`.
pub fn load_string_from_range(
    cx: &LiftLowerContext<'_>,
    ptr: u32,
    tagged_code_units: u32,
) -> Result<StringValue, AbiError> {
    cx.mem_len()?;
    let text = lift_string(&*cx.memory, cx.opts.string_encoding, ptr, tagged_code_units)?;
    Ok(StringValue {
        text: text.into_owned(),
        src_encoding: cx.opts.string_encoding,
        src_tagged_code_units: u64::from(tagged_code_units),
    })
}

/// The text of the string at `(ptr, tagged_code_units)` in `mem`, stored in
/// `encoding`, with every trap of `load_string_from_range` (length limit,
/// alignment, bounds, invalid code units). A UTF-8 string is borrowed from
/// memory, not copied; the other encodings are decoded into a new string.
pub fn lift_string<M: super::MemoryView + ?Sized>(
    mem: &M,
    encoding: StringEncoding,
    ptr: u32,
    tagged_code_units: u32,
) -> Result<Cow<'_, str>, AbiError> {
    #[derive(Clone, Copy)]
    enum Dec {
        Utf8,
        Utf16,
        Latin1,
    }
    let (alignment, byte_length, encoding) = match encoding {
        StringEncoding::Utf8 => (1, u64::from(tagged_code_units), Dec::Utf8),
        StringEncoding::Utf16 => (2, 2 * u64::from(tagged_code_units), Dec::Utf16),
        StringEncoding::CompactUtf16 => {
            if tagged_code_units & UTF16_TAG != 0 {
                (2, 2 * u64::from(tagged_code_units ^ UTF16_TAG), Dec::Utf16)
            } else {
                (2, u64::from(tagged_code_units), Dec::Latin1)
            }
        }
    };

    if byte_length > MAX_STRING_BYTE_LENGTH {
        return Err(AbiError::StringTooLong { byte_length });
    }
    if !super::types::is_aligned(ptr, alignment) {
        return Err(AbiError::StringMisaligned { ptr });
    }
    if u64::from(ptr) + byte_length > mem.byte_len() {
        return Err(AbiError::StringOutOfBounds { ptr, byte_length });
    }
    let bytes = mem.read(ptr, byte_length as u32)?;
    Ok(match encoding {
        Dec::Utf8 => Cow::Borrowed(std::str::from_utf8(bytes).map_err(|_| AbiError::InvalidUtf8)?),
        Dec::Utf16 => {
            let units = bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]));
            Cow::Owned(
                char::decode_utf16(units)
                    .collect::<Result<String, _>>()
                    .map_err(|_| AbiError::InvalidUtf16)?,
            )
        }
        Dec::Latin1 => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    })
}

// ------------------------------------------------------------------ storing

/// `store_string(cx, v, ptr)`: lowers `v` into a fresh allocation and writes
/// the `(begin, tagged_code_units)` pair at `ptr`.
pub fn store_string(
    cx: &mut LiftLowerContext<'_>,
    v: &StringValue,
    ptr: u32,
) -> Result<(), AbiError> {
    let len_ptr = second_word(ptr)?;
    let (begin, tagged_code_units) = store_string_into_range(cx, v)?;
    cx.store_uint(u64::from(begin), ptr, 4)?;
    cx.store_uint(u64::from(tagged_code_units), len_ptr, 4)
}

/// `ptr + 4` for the length word of a `(ptr, len)` pair, trapping instead of
/// wrapping at the top of the address space.
fn second_word(ptr: u32) -> Result<u32, AbiError> {
    ptr.checked_add(4)
        .ok_or(AbiError::MemoryOutOfBounds { ptr, len: 8 })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Simple {
    Utf8,
    Utf16,
    Latin1,
}

#[derive(Clone, Copy)]
enum DstEncoding {
    Utf8,
    Utf16Le,
    Latin1,
}

/// `store_string_into_range(cx, v)`: returns `(ptr, tagged_code_units)`.
pub fn store_string_into_range(
    cx: &mut LiftLowerContext<'_>,
    v: &StringValue,
) -> Result<(u32, u32), AbiError> {
    let src = v.text.as_str();
    let src_encoding = v.src_encoding;
    let src_tagged_code_units = v.src_tagged_code_units;
    let tag = u64::from(UTF16_TAG);

    let (src_simple_encoding, src_code_units) = match src_encoding {
        StringEncoding::CompactUtf16 => {
            if src_tagged_code_units & tag != 0 {
                (Simple::Utf16, src_tagged_code_units ^ tag)
            } else {
                (Simple::Latin1, src_tagged_code_units)
            }
        }
        StringEncoding::Utf8 => (Simple::Utf8, src_tagged_code_units),
        StringEncoding::Utf16 => (Simple::Utf16, src_tagged_code_units),
    };

    use StringEncoding as E;
    match cx.opts.string_encoding {
        E::Utf8 => match src_simple_encoding {
            Simple::Utf8 => store_string_copy(cx, src, src_code_units, 1, 1, DstEncoding::Utf8),
            Simple::Utf16 => store_utf16_to_utf8(cx, src, src_code_units),
            Simple::Latin1 => store_latin1_to_utf8(cx, src, src_code_units),
        },
        E::Utf16 => match src_simple_encoding {
            Simple::Utf8 => store_utf8_to_utf16(cx, src, src_code_units),
            Simple::Utf16 | Simple::Latin1 => {
                store_string_copy(cx, src, src_code_units, 2, 2, DstEncoding::Utf16Le)
            }
        },
        E::CompactUtf16 => match src_encoding {
            E::Utf8 | E::Utf16 => store_string_to_latin1_or_utf16(cx, src, src_code_units),
            E::CompactUtf16 => match src_simple_encoding {
                Simple::Latin1 => {
                    store_string_copy(cx, src, src_code_units, 1, 2, DstEncoding::Latin1)
                }
                _ => store_probably_utf16_to_latin1_or_utf16(cx, src, src_code_units),
            },
        },
    }
}

/// The spec `assert`s these sizes stay below `REALLOC_I32_MAX` (true for any
/// string that was *lifted*, thanks to `MAX_STRING_BYTE_LENGTH`); host
/// strings are unbounded, so this is a trap here instead. Public for code
/// with no `LiftLowerContext` (the WASI shims' generated glue), which
/// stores a host string into UTF-8 with `store_string_copy`'s steps: this,
/// `realloc(0, 0, 1, size)`, [`crate::context::check_realloc`], the copy.
#[inline]
pub fn check_realloc_size(size: u64) -> Result<u32, AbiError> {
    if size > REALLOC_I32_MAX {
        return Err(AbiError::StringTooLong { byte_length: size });
    }
    Ok(size as u32)
}

/// `store_string_copy`: exact-size allocation and a straight copy (possibly
/// inflating Latin-1 to UTF-16).
fn store_string_copy(
    cx: &mut LiftLowerContext<'_>,
    src: &str,
    src_code_units: u64,
    dst_code_unit_size: u64,
    dst_alignment: u32,
    dst_encoding: DstEncoding,
) -> Result<(u32, u32), AbiError> {
    let dst_byte_length = check_realloc_size(dst_code_unit_size * src_code_units)?;
    let ptr = cx.realloc(0, 0, dst_alignment, dst_byte_length)?;
    cx.check_realloc(ptr, dst_alignment, u64::from(dst_byte_length))?;
    let encoded: std::borrow::Cow<'_, [u8]> = match dst_encoding {
        DstEncoding::Utf8 => src.as_bytes().into(),
        DstEncoding::Utf16Le => encode_utf16le(src).into(),
        DstEncoding::Latin1 => encode_latin1(src).into(),
    };
    debug_assert_eq!(encoded.len() as u64, u64::from(dst_byte_length));
    cx.write(ptr, &encoded)?;
    Ok((ptr, src_code_units as u32))
}

/// `store_utf16_to_utf8`.
fn store_utf16_to_utf8(
    cx: &mut LiftLowerContext<'_>,
    src: &str,
    src_code_units: u64,
) -> Result<(u32, u32), AbiError> {
    let worst_case_size = src_code_units * 3;
    store_string_to_utf8(cx, src, src_code_units, worst_case_size)
}

/// `store_latin1_to_utf8`.
fn store_latin1_to_utf8(
    cx: &mut LiftLowerContext<'_>,
    src: &str,
    src_code_units: u64,
) -> Result<(u32, u32), AbiError> {
    let worst_case_size = src_code_units * 2;
    store_string_to_utf8(cx, src, src_code_units, worst_case_size)
}

/// `store_string_to_utf8`: optimistically one byte per code unit; on the
/// first non-ASCII char, grow to the worst case, finish, then shrink.
fn store_string_to_utf8(
    cx: &mut LiftLowerContext<'_>,
    src: &str,
    src_code_units: u64,
    worst_case_size: u64,
) -> Result<(u32, u32), AbiError> {
    let src_code_units32 = check_realloc_size(src_code_units)?;
    let mut ptr = cx.realloc(0, 0, 1, src_code_units32)?;
    cx.check_realloc_bounds(ptr, src_code_units)?;
    for (i, code_point) in src.chars().enumerate() {
        if (code_point as u32) < 0x80 {
            continue; // all bytes before the first non-ASCII char are its prefix
        }
        // Everything before `i` is ASCII: its UTF-8 bytes are `src[..i]`.
        cx.write(ptr, &src.as_bytes()[..i])?;
        let worst_case_size = check_realloc_size(worst_case_size)?;
        ptr = cx.realloc(ptr, src_code_units32, 1, worst_case_size)?;
        cx.check_realloc_bounds(ptr, u64::from(worst_case_size))?;
        let encoded = src.as_bytes();
        cx.write(ptr + i as u32, &encoded[i..])?;
        let len = encoded.len() as u32;
        if worst_case_size > len {
            ptr = cx.realloc(ptr, worst_case_size, 1, len)?;
            cx.check_realloc_bounds(ptr, u64::from(len))?;
        }
        return Ok((ptr, len));
    }
    cx.write(ptr, src.as_bytes())?;
    Ok((ptr, src_code_units32))
}

/// `store_utf8_to_utf16`: worst-case allocation, then shrink.
fn store_utf8_to_utf16(
    cx: &mut LiftLowerContext<'_>,
    src: &str,
    src_code_units: u64,
) -> Result<(u32, u32), AbiError> {
    let worst_case_size = check_realloc_size(2 * src_code_units)?;
    let mut ptr = cx.realloc(0, 0, 2, worst_case_size)?;
    cx.check_realloc(ptr, 2, u64::from(worst_case_size))?;
    let encoded = encode_utf16le(src);
    cx.write(ptr, &encoded)?;
    let len = encoded.len() as u32;
    if len < worst_case_size {
        ptr = cx.realloc(ptr, worst_case_size, 2, len)?;
        cx.check_realloc(ptr, 2, u64::from(len))?;
    }
    Ok((ptr, len / 2))
}

/// `store_string_to_latin1_or_utf16`: speculate Latin-1; on the first char
/// outside Latin-1, grow to UTF-16 worst case, inflate the bytes copied so
/// far in place, finish in UTF-16 and shrink.
fn store_string_to_latin1_or_utf16(
    cx: &mut LiftLowerContext<'_>,
    src: &str,
    src_code_units: u64,
) -> Result<(u32, u32), AbiError> {
    let src_code_units32 = check_realloc_size(src_code_units)?;
    let mut ptr = cx.realloc(0, 0, 2, src_code_units32)?;
    cx.check_realloc(ptr, 2, src_code_units)?;
    let mut latin1: Vec<u8> = Vec::new();
    for usv in src.chars() {
        if (usv as u32) < (1 << 8) {
            latin1.push(usv as u32 as u8);
            continue;
        }
        // Bytes copied so far must be in memory before `realloc` moves them.
        cx.write(ptr, &latin1)?;
        let dst_byte_length = latin1.len();
        let worst_case_size = check_realloc_size(2 * src_code_units)?;
        ptr = cx.realloc(ptr, src_code_units32, 2, worst_case_size)?;
        cx.check_realloc(ptr, 2, u64::from(worst_case_size))?;
        // for j in range(dst_byte_length-1, -1, -1): inflate in place
        let copied = cx.read(ptr, dst_byte_length as u32)?.to_vec();
        let inflated: Vec<u8> = copied.iter().flat_map(|&b| [b, 0]).collect();
        cx.write(ptr, &inflated)?;
        let encoded = encode_utf16le(src);
        cx.write(
            ptr + 2 * dst_byte_length as u32,
            &encoded[2 * dst_byte_length..],
        )?;
        let len = encoded.len() as u32;
        if worst_case_size > len {
            ptr = cx.realloc(ptr, worst_case_size, 2, len)?;
            cx.check_realloc(ptr, 2, u64::from(len))?;
        }
        return Ok((ptr, (len / 2) | UTF16_TAG));
    }
    cx.write(ptr, &latin1)?;
    let dst_byte_length = latin1.len() as u32;
    if dst_byte_length < src_code_units32 {
        ptr = cx.realloc(ptr, src_code_units32, 2, dst_byte_length)?;
        cx.check_realloc(ptr, 2, u64::from(dst_byte_length))?;
    }
    Ok((ptr, dst_byte_length))
}

/// `store_probably_utf16_to_latin1_or_utf16`: allocate for UTF-16, copy, and
/// deflate to Latin-1 at the end if every char turned out to fit.
fn store_probably_utf16_to_latin1_or_utf16(
    cx: &mut LiftLowerContext<'_>,
    src: &str,
    src_code_units: u64,
) -> Result<(u32, u32), AbiError> {
    let src_byte_length = check_realloc_size(2 * src_code_units)?;
    let mut ptr = cx.realloc(0, 0, 2, src_byte_length)?;
    cx.check_realloc(ptr, 2, u64::from(src_byte_length))?;
    let encoded = encode_utf16le(src);
    cx.write(ptr, &encoded)?;
    if src.chars().any(|c| (c as u32) >= (1 << 8)) {
        let tagged_code_units = (encoded.len() as u32 / 2) | UTF16_TAG;
        return Ok((ptr, tagged_code_units));
    }
    let latin1_size = encoded.len() as u32 / 2;
    // for i in range(latin1_size): mem[ptr + i] = mem[ptr + 2*i]
    let wide = cx.read(ptr, 2 * latin1_size)?.to_vec();
    let narrow: Vec<u8> = wide.iter().step_by(2).copied().collect();
    cx.write(ptr, &narrow)?;
    ptr = cx.realloc(ptr, src_byte_length, 1, latin1_size)?;
    cx.check_realloc_bounds(ptr, u64::from(latin1_size))?;
    Ok((ptr, latin1_size))
}
