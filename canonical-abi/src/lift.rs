//! Lifting: core representation → [`Val`]. Ports `load` (from linear
//! memory), `lift_flat` (from flat core values) and `lift_flat_values`
//! (exposed as [`lift_values`]) of `definitions.py`.
//!
//! Validation performed while lifting, exactly as in the spec:
//! * `bool`: any non-zero integer lifts as `true` (`convert_int_to_bool` is
//!   `bool(i)`; no trap for values other than 0/1).
//! * `char`: traps unless the `i32` is a Unicode Scalar Value
//!   (`< 0x110000` and not a surrogate).
//! * variants (and enum/option/result): a discriminant `>= len(cases)` traps.
//! * flags: bits beyond the declared labels are ignored (no trap).
//! * integers narrower than the core type ignore the unused high bits.
//! * floats: every NaN lifts as the canonical NaN (`canonicalize_nan32/64`).
//! * strings and lists: see [`strings`](super::strings) and
//!   `load_list_from_range` (length limit, alignment, bounds: all traps).
//!
//! Invariants: a successful lift returns a value that type-checks against
//! its type; memory is only read (resource tables may change: `lift_own`
//! removes handles, `lift_borrow` lends them).

use super::context::LiftLowerContext;
use super::flat::{next_u32, CoreValueIter, FlatSource, FlatVal};
use super::strings::{load_string, load_string_from_range};
use super::types::{
    alignment, alignment_record, despecialize, elem_size, elem_size_record, flatten_types,
    flatten_variant, max_case_alignment, Despecialized,
};
use super::{AbiError, CoreType, Val, ValueType};

/// `CANONICAL_FLOAT32_NAN`.
pub const CANONICAL_FLOAT32_NAN: u32 = 0x7fc0_0000;
/// `CANONICAL_FLOAT64_NAN`.
pub const CANONICAL_FLOAT64_NAN: u64 = 0x7ff8_0000_0000_0000;
/// Maximum byte length of a lifted list (`MAX_LIST_BYTE_LENGTH`).
pub const MAX_LIST_BYTE_LENGTH: u64 = (1 << 28) - 1;

/// `canonicalize_nan32(core_f32_reinterpret_i32(bits))`.
pub fn decode_i32_as_float(bits: u32) -> f32 {
    let f = f32::from_bits(bits);
    if f.is_nan() {
        f32::from_bits(CANONICAL_FLOAT32_NAN)
    } else {
        f
    }
}

/// `canonicalize_nan64(core_f64_reinterpret_i64(bits))`.
pub fn decode_i64_as_float(bits: u64) -> f64 {
    let f = f64::from_bits(bits);
    if f.is_nan() {
        f64::from_bits(CANONICAL_FLOAT64_NAN)
    } else {
        f
    }
}

/// `convert_i32_to_char`: traps on surrogates and values `>= 0x110000`.
pub fn convert_i32_to_char(i: u32) -> Result<char, AbiError> {
    char::from_u32(i).ok_or(AbiError::InvalidChar(i))
}

// ------------------------------------------------------------------ load

/// `load(cx, ptr, t)`: lifts a value of type `t` stored at `ptr`.
///
/// The spec merely asserts that `ptr` is aligned and in bounds (its callers
/// check); as a public entry point this traps with
/// [`AbiError::PointerMisaligned`] / [`AbiError::PointerOutOfBounds`].
pub fn load(cx: &mut LiftLowerContext<'_>, ptr: u32, t: &ValueType) -> Result<Val, AbiError> {
    cx.check_ptr(ptr, alignment(t), elem_size(t))?;
    load_unchecked(cx, ptr, t)
}

fn load_unchecked(cx: &mut LiftLowerContext<'_>, ptr: u32, t: &ValueType) -> Result<Val, AbiError> {
    use Despecialized as D;
    Ok(match despecialize(t) {
        D::Bool => Val::Bool(cx.load_uint(ptr, 1)? != 0),
        D::U8 => Val::U8(cx.load_uint(ptr, 1)? as u8),
        D::U16 => Val::U16(cx.load_uint(ptr, 2)? as u16),
        D::U32 => Val::U32(cx.load_uint(ptr, 4)? as u32),
        D::U64 => Val::U64(cx.load_uint(ptr, 8)?),
        D::S8 => Val::S8(cx.load_uint(ptr, 1)? as u8 as i8),
        D::S16 => Val::S16(cx.load_uint(ptr, 2)? as u16 as i16),
        D::S32 => Val::S32(cx.load_uint(ptr, 4)? as u32 as i32),
        D::S64 => Val::S64(cx.load_uint(ptr, 8)? as i64),
        D::F32 => Val::Float32(decode_i32_as_float(cx.load_uint(ptr, 4)? as u32)),
        D::F64 => Val::Float64(decode_i64_as_float(cx.load_uint(ptr, 8)?)),
        D::Char => Val::Char(convert_i32_to_char(cx.load_uint(ptr, 4)? as u32)?),
        D::String => Val::String(load_string(cx, ptr)?),
        D::List(et) => {
            let begin = cx.load_uint(ptr, 4)? as u32;
            let length = cx.load_uint(ptr + 4, 4)? as u32;
            Val::List(load_list_from_range(cx, begin, length, et)?)
        }
        D::Record(fields) => {
            let vals = load_record(cx, ptr, &fields)?;
            Val::from_fields(t, vals)
        }
        D::Variant(cases) => {
            let (index, payload) = load_variant(cx, ptr, &cases)?;
            Val::from_case(t, index, payload)
        }
        D::Flags(n) => {
            let ValueType::Flags(labels) = t else {
                unreachable!()
            };
            let bits = cx.load_uint(ptr, super::types::elem_size_flags(n))? as u32;
            Val::from_flags_bits(labels, bits)
        }
        D::Own(rt) => Val::Resource(cx.resources.lift_own(rt, cx.load_uint(ptr, 4)? as u32)?),
        D::Borrow(rt) => Val::Resource(cx.resources.lift_borrow(rt, cx.load_uint(ptr, 4)? as u32)?),
    })
}

/// `load_list_from_range(cx, ptr, length, elem_type)`.
pub fn load_list_from_range(
    cx: &mut LiftLowerContext<'_>,
    ptr: u32,
    length: u32,
    elem_type: &ValueType,
) -> Result<Vec<Val>, AbiError> {
    let size = elem_size(elem_type);
    check_list(ptr, length, size, alignment(elem_type), cx.mem_len()?)?;
    (0..length)
        .map(|i| load_unchecked(cx, ptr + i * size, elem_type))
        .collect()
}

/// The traps of `load_list_from_range` for `length` elements of
/// `elem_size` bytes aligned to `align` at `ptr`, in a memory of `mem_len`
/// bytes: the length limit, the alignment, the bounds. Returns the byte
/// length (which fits in memory, so in a `u32`).
pub fn check_list(
    ptr: u32,
    length: u32,
    elem_size: u32,
    align: u32,
    mem_len: u64,
) -> Result<u32, AbiError> {
    let byte_length = u64::from(length) * u64::from(elem_size);
    if byte_length > MAX_LIST_BYTE_LENGTH {
        return Err(AbiError::ListTooLong { byte_length });
    }
    if !super::types::is_aligned(ptr, align) {
        return Err(AbiError::ListMisaligned { ptr, align });
    }
    if u64::from(ptr) + byte_length > mem_len {
        return Err(AbiError::ListOutOfBounds { ptr, byte_length });
    }
    Ok(byte_length as u32)
}

/// A `list<u8>` (or `list<s8>`) at `(ptr, length)` as a borrowed view of
/// `mem`, after the checks of `load_list_from_range` ([`check_list`]).
pub fn lift_bytes<M: super::MemoryView + ?Sized>(
    mem: &M,
    ptr: u32,
    length: u32,
) -> Result<&[u8], AbiError> {
    let n = check_list(ptr, length, 1, 1, mem.byte_len())?;
    mem.read(ptr, n)
}

/// The trap of lifting a variant (or enum, option, result) discriminant:
/// `case_index` must number one of the `num_cases` cases.
pub fn check_discriminant(case_index: u32, num_cases: usize) -> Result<(), AbiError> {
    if case_index as usize >= num_cases {
        return Err(AbiError::InvalidDiscriminant {
            case_index,
            num_cases: num_cases as u32,
        });
    }
    Ok(())
}

/// `load_record(cx, ptr, fields)`: the field values in order.
fn load_record(
    cx: &mut LiftLowerContext<'_>,
    ptr: u32,
    fields: &[&ValueType],
) -> Result<Vec<Val>, AbiError> {
    let mut ptr = u64::from(ptr);
    let mut out = Vec::with_capacity(fields.len());
    for f in fields {
        ptr = super::types::align_to(ptr, alignment(f));
        out.push(load_unchecked(cx, ptr as u32, f)?);
        ptr += u64::from(elem_size(f));
    }
    Ok(out)
}

/// `load_variant(cx, ptr, cases)`: the case index and payload.
fn load_variant(
    cx: &mut LiftLowerContext<'_>,
    ptr: u32,
    cases: &[Option<&ValueType>],
) -> Result<(u32, Option<Val>), AbiError> {
    let disc_size = super::types::discriminant_size(cases.len());
    let case_index = cx.load_uint(ptr, disc_size)? as u32;
    check_discriminant(case_index, cases.len())?;
    let ptr = super::types::align_to(u64::from(ptr + disc_size), max_case_alignment(cases)) as u32;
    let payload = match cases[case_index as usize] {
        None => None,
        Some(ct) => Some(load_unchecked(cx, ptr, ct)?),
    };
    Ok((case_index, payload))
}

// ------------------------------------------------------------------ lift_flat

/// `lift_flat(cx, vi, t)`: lifts a value of type `t` from flat core values.
pub fn lift_flat(
    cx: &mut LiftLowerContext<'_>,
    vi: &mut dyn FlatSource,
    t: &ValueType,
) -> Result<Val, AbiError> {
    use Despecialized as D;
    Ok(match despecialize(t) {
        D::Bool => Val::Bool(next_u32(vi)? != 0),
        D::U8 => Val::U8(next_u32(vi)? as u8),
        D::U16 => Val::U16(next_u32(vi)? as u16),
        D::U32 => Val::U32(next_u32(vi)?),
        D::U64 => Val::U64(next_i64(vi)? as u64),
        D::S8 => Val::S8(next_u32(vi)? as u8 as i8),
        D::S16 => Val::S16(next_u32(vi)? as u16 as i16),
        D::S32 => Val::S32(next_u32(vi)? as i32),
        D::S64 => Val::S64(next_i64(vi)?),
        D::F32 => match vi.next(CoreType::F32)? {
            FlatVal::F32(bits) => Val::Float32(decode_i32_as_float(bits)),
            other => return Err(flat_mismatch(CoreType::F32, other)),
        },
        D::F64 => match vi.next(CoreType::F64)? {
            FlatVal::F64(bits) => Val::Float64(decode_i64_as_float(bits)),
            other => return Err(flat_mismatch(CoreType::F64, other)),
        },
        D::Char => Val::Char(convert_i32_to_char(next_u32(vi)?)?),
        D::String => {
            let ptr = next_u32(vi)?;
            let packed_length = next_u32(vi)?;
            Val::String(load_string_from_range(cx, ptr, packed_length)?)
        }
        D::List(et) => {
            let ptr = next_u32(vi)?;
            let length = next_u32(vi)?;
            Val::List(load_list_from_range(cx, ptr, length, et)?)
        }
        D::Record(fields) => {
            let vals = fields
                .iter()
                .map(|f| lift_flat(cx, vi, f))
                .collect::<Result<Vec<_>, _>>()?;
            Val::from_fields(t, vals)
        }
        D::Variant(cases) => {
            let (index, payload) = lift_flat_variant(cx, vi, &cases)?;
            Val::from_case(t, index, payload)
        }
        D::Flags(_) => {
            let ValueType::Flags(labels) = t else {
                unreachable!()
            };
            Val::from_flags_bits(labels, next_u32(vi)?)
        }
        D::Own(rt) => Val::Resource(cx.resources.lift_own(rt, next_u32(vi)?)?),
        D::Borrow(rt) => Val::Resource(cx.resources.lift_borrow(rt, next_u32(vi)?)?),
    })
}

fn flat_mismatch(expected: CoreType, found: FlatVal) -> AbiError {
    AbiError::FlatTypeMismatch {
        expected,
        found: found.ty(),
    }
}

fn next_i64(vi: &mut dyn FlatSource) -> Result<i64, AbiError> {
    match vi.next(CoreType::I64)? {
        FlatVal::I64(v) => Ok(v),
        other => Err(flat_mismatch(CoreType::I64, other)),
    }
}

/// The spec's `CoerceValueIter` inside `lift_flat_variant`: reads each value
/// with the joined core type (`have`) and reinterprets it as the payload's
/// own core type (`want`).
struct CoerceValueIter<'a, 'b> {
    vi: &'a mut dyn FlatSource,
    flat_types: &'b [CoreType],
    pos: usize,
}

impl FlatSource for CoerceValueIter<'_, '_> {
    fn next(&mut self, want: CoreType) -> Result<FlatVal, AbiError> {
        let have = *self
            .flat_types
            .get(self.pos)
            .ok_or(AbiError::FlatValuesExhausted)?;
        self.pos += 1;
        let x = self.vi.next(have)?;
        use CoreType::*;
        Ok(match (have, want, x) {
            (I32, F32, FlatVal::I32(i)) => FlatVal::F32(decode_i32_as_float(i as u32).to_bits()),
            (I64, I32, FlatVal::I64(i)) => FlatVal::I32(wrap_i64_to_i32(i)),
            (I64, F32, FlatVal::I64(i)) => {
                FlatVal::F32(decode_i32_as_float(wrap_i64_to_i32(i) as u32).to_bits())
            }
            (I64, F64, FlatVal::I64(i)) => FlatVal::F64(decode_i64_as_float(i as u64).to_bits()),
            _ if have == want => x,
            _ => {
                return Err(AbiError::FlatTypeMismatch {
                    expected: want,
                    found: have,
                })
            }
        })
    }
}

/// `wrap_i64_to_i32`: keeps the low 32 bits (the spec's code wraps; it does
/// not trap on set high bits).
fn wrap_i64_to_i32(i: i64) -> i32 {
    i as i32
}

/// `lift_flat_variant(cx, vi, cases)`: the case index and payload.
fn lift_flat_variant(
    cx: &mut LiftLowerContext<'_>,
    vi: &mut dyn FlatSource,
    cases: &[Option<&ValueType>],
) -> Result<(u32, Option<Val>), AbiError> {
    let flat_types = flatten_variant(cases);
    let payload_types = &flat_types[1..];
    let case_index = next_u32(vi)?;
    check_discriminant(case_index, cases.len())?;
    let mut coerce = CoerceValueIter {
        vi,
        flat_types: payload_types,
        pos: 0,
    };
    let payload = match cases[case_index as usize] {
        None => None,
        Some(ct) => Some(lift_flat(cx, &mut coerce, ct)?),
    };
    let pos = coerce.pos;
    for &have in &payload_types[pos..] {
        vi.next(have)?;
    }
    Ok((case_index, payload))
}

// ------------------------------------------------------------------ values

/// `lift_flat_values(cx, max_flat, vi, ts)`: lifts a parameter or result
/// tuple. If `flatten_types(ts)` has more than `max_flat` values, a single
/// `i32` pointer is read from `vi` and the tuple is loaded from memory
/// (trapping if the pointer is misaligned or out of bounds).
///
/// Use `max_flat = MAX_FLAT_PARAMS` to lift the arguments of a
/// `canon lower`ed call and `MAX_FLAT_RESULTS` to lift the results of a
/// `canon lift`ed callee. After lifting arguments in `canon lower`, `vi` is
/// positioned at the `retptr` (if any) for [`lower_values`](super::lower_values).
pub fn lift_values<T: core::borrow::Borrow<ValueType>>(
    cx: &mut LiftLowerContext<'_>,
    max_flat: usize,
    vi: &mut CoreValueIter<'_>,
    ts: &[T],
) -> Result<Vec<Val>, AbiError> {
    let flat_types = flatten_types(ts);
    if flat_types.len() > max_flat {
        let ptr = vi.next_u32()?;
        let fields: Vec<&ValueType> = ts.iter().map(|t| t.borrow()).collect();
        let align = alignment_record(fields.iter().copied());
        let size = elem_size_record(fields.iter().copied());
        cx.check_ptr(ptr, align, size)?;
        load_record(cx, ptr, &fields)
    } else {
        ts.iter().map(|t| lift_flat(cx, vi, t.borrow())).collect()
    }
}
