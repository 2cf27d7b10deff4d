//! Lowering: [`Val`] → core representation. Ports `store` (into linear
//! memory), `lower_flat` (into flat core values) and `lower_flat_values`
//! (exposed as [`lower_values`]) of `definitions.py`.
//!
//! Behaviour fixed by the spec and kept here:
//! * `bool` stores/lowers as 0 or 1; signed integers as two's complement.
//! * floats: NaNs are lowered as the canonical NaN. (The spec lowers NaNs to
//!   a nondeterministic NaN unless `DETERMINISTIC_PROFILE` is set; this
//!   implementation always takes the deterministic-profile choice.)
//! * variants: the discriminant is the smallest of u8/u16/u32 fitting the
//!   case count; flat payloads are bit-cast to the joined core types and
//!   unused slots are zero-filled (`lower_flat_variant`).
//! * lists are allocated with one `realloc(0, 0, alignment, byte_length)`;
//!   strings per [`strings`](super::strings). A returned pointer that is
//!   misaligned or out of bounds traps.
//!
//! Invariants: values are type-checked as they are lowered (a mismatch is
//! [`AbiError::TypeMismatch`], never a panic); `realloc` calls happen in
//! the spec's traversal order, so a guest observes the same sequence.

use super::context::LiftLowerContext;
use super::flat::{CoreValueIter, FlatVal};
use super::lift::{CANONICAL_FLOAT32_NAN, CANONICAL_FLOAT64_NAN};
use super::strings::{store_string, store_string_into_range, REALLOC_I32_MAX};
use super::types::{
    align_to, alignment, alignment_record, despecialize, discriminant_size, elem_size,
    elem_size_flags, elem_size_record, flatten_type, flatten_types, flatten_variant,
    max_case_alignment, Despecialized,
};
use super::{AbiError, CoreType, Val, ValueType};

/// `maybe_scramble_nan32` + `core_i32_reinterpret_f32` (deterministic
/// profile: NaN becomes the canonical NaN).
pub fn encode_float_as_i32(f: f32) -> u32 {
    if f.is_nan() {
        CANONICAL_FLOAT32_NAN
    } else {
        f.to_bits()
    }
}

/// `maybe_scramble_nan64` + `core_i64_reinterpret_f64` (deterministic
/// profile).
pub fn encode_float_as_i64(f: f64) -> u64 {
    if f.is_nan() {
        CANONICAL_FLOAT64_NAN
    } else {
        f.to_bits()
    }
}

fn mismatch(v: &Val, t: &ValueType) -> AbiError {
    AbiError::TypeMismatch(format!("{} is not a value of type {t:?}", v.kind()))
}

/// The integer bits (zero-extended) of a scalar that is stored as an
/// integer of `elem_size(t)` bytes, checking the value's type.
fn scalar_bits(v: &Val, t: &ValueType) -> Result<u64, AbiError> {
    use ValueType as T;
    Ok(match (v, t) {
        (Val::Bool(b), T::Bool) => u64::from(*b),
        (Val::U8(x), T::U8) => u64::from(*x),
        (Val::U16(x), T::U16) => u64::from(*x),
        (Val::U32(x), T::U32) => u64::from(*x),
        (Val::U64(x), T::U64) => *x,
        (Val::S8(x), T::S8) => u64::from(*x as u8),
        (Val::S16(x), T::S16) => u64::from(*x as u16),
        (Val::S32(x), T::S32) => u64::from(*x as u32),
        (Val::S64(x), T::S64) => *x as u64,
        (Val::Float32(f), T::F32) => u64::from(encode_float_as_i32(*f)),
        (Val::Float64(f), T::F64) => encode_float_as_i64(*f),
        (Val::Char(c), T::Char) => u64::from(*c as u32),
        _ => return Err(mismatch(v, t)),
    })
}

// ------------------------------------------------------------------ store

/// `store(cx, v, t, ptr)`: lowers `v` into memory at `ptr`.
///
/// The spec asserts `ptr` is aligned and in bounds; as a public entry point
/// this traps with [`AbiError::PointerMisaligned`] /
/// [`AbiError::PointerOutOfBounds`].
pub fn store(
    cx: &mut LiftLowerContext<'_>,
    v: &Val,
    t: &ValueType,
    ptr: u32,
) -> Result<(), AbiError> {
    cx.check_ptr(ptr, alignment(t), elem_size(t))?;
    store_unchecked(cx, v, t, ptr)
}

fn store_unchecked(
    cx: &mut LiftLowerContext<'_>,
    v: &Val,
    t: &ValueType,
    ptr: u32,
) -> Result<(), AbiError> {
    use Despecialized as D;
    match despecialize(t) {
        D::Bool
        | D::U8
        | D::U16
        | D::U32
        | D::U64
        | D::S8
        | D::S16
        | D::S32
        | D::S64
        | D::F32
        | D::F64
        | D::Char => {
            let bits = scalar_bits(v, t)?;
            cx.store_uint(bits, ptr, elem_size(t))
        }
        D::String => match v {
            Val::String(s) => store_string(cx, s, ptr),
            _ => Err(mismatch(v, t)),
        },
        D::List(et) => {
            let Val::List(vs) = v else {
                return Err(mismatch(v, t));
            };
            let (begin, length) = store_list_into_range(cx, vs, et)?;
            cx.store_uint(u64::from(begin), ptr, 4)?;
            cx.store_uint(u64::from(length), ptr + 4, 4)
        }
        D::Record(fields) => {
            let vals = v.record_values(t)?;
            store_record(cx, &vals, &fields, ptr)
        }
        D::Variant(cases) => {
            let (case_index, case_value) = v.case_of(t)?;
            let disc_size = discriminant_size(cases.len());
            cx.store_uint(u64::from(case_index), ptr, disc_size)?;
            let ptr = align_to(u64::from(ptr + disc_size), max_case_alignment(&cases)) as u32;
            match (cases[case_index as usize], case_value) {
                (Some(ct), Some(cv)) => store_unchecked(cx, cv, ct, ptr),
                _ => Ok(()),
            }
        }
        D::Flags(n) => {
            let bits = v.flags_bits(t)?;
            cx.store_uint(u64::from(bits), ptr, elem_size_flags(n))
        }
        D::Own(rt) => {
            let Val::Resource(rep) = v else {
                return Err(mismatch(v, t));
            };
            let i = cx.resources.lower_own(rt, *rep)?;
            cx.store_uint(u64::from(i), ptr, 4)
        }
        D::Borrow(rt) => {
            let Val::Resource(rep) = v else {
                return Err(mismatch(v, t));
            };
            let i = cx.resources.lower_borrow(rt, *rep)?;
            cx.store_uint(u64::from(i), ptr, 4)
        }
    }
}

/// `store_record(cx, v, ptr, fields)`.
fn store_record(
    cx: &mut LiftLowerContext<'_>,
    vals: &[&Val],
    fields: &[&ValueType],
    ptr: u32,
) -> Result<(), AbiError> {
    let mut ptr = u64::from(ptr);
    for (v, f) in vals.iter().zip(fields) {
        ptr = align_to(ptr, alignment(f));
        store_unchecked(cx, v, f, ptr as u32)?;
        ptr += u64::from(elem_size(f));
    }
    Ok(())
}

/// `store_list_into_range(cx, v, elem_type)`: returns `(ptr, length)`.
pub fn store_list_into_range(
    cx: &mut LiftLowerContext<'_>,
    vs: &[Val],
    elem_type: &ValueType,
) -> Result<(u32, u32), AbiError> {
    let size = elem_size(elem_type);
    let ptr = alloc_list(cx, vs.len(), size, alignment(elem_type))?;
    for (i, e) in vs.iter().enumerate() {
        store_unchecked(cx, e, elem_type, ptr + i as u32 * size)?;
    }
    Ok((ptr, vs.len() as u32))
}

/// The allocation `store_list_into_range` makes for `length` elements of
/// `elem_size` bytes aligned to `align`: one `realloc(0, 0, align,
/// byte_length)`, whose result is checked. The elements are then stored at
/// `ptr + i * elem_size` by the caller.
pub fn alloc_list(
    cx: &mut LiftLowerContext<'_>,
    length: usize,
    elem_size: u32,
    align: u32,
) -> Result<u32, AbiError> {
    let byte_length = list_byte_length(length, elem_size)?;
    let ptr = cx.realloc(0, 0, align, byte_length)?;
    cx.check_realloc(ptr, align, u64::from(byte_length))?;
    Ok(ptr)
}

/// The byte length [`alloc_list`] asks `realloc` for, `length` elements of
/// `elem_size` bytes; a list too long for it traps. Code with no
/// `LiftLowerContext` (the WASI shims' generated glue) allocates a list
/// with this, `realloc`, then [`crate::context::check_realloc`]: the same
/// checks with the same errors.
#[inline]
pub fn list_byte_length(length: usize, elem_size: u32) -> Result<u32, AbiError> {
    let byte_length = length as u64 * u64::from(elem_size);
    // The spec asserts this (lifted lists are bounded by
    // MAX_LIST_BYTE_LENGTH); host lists are not, so it traps here.
    if byte_length > REALLOC_I32_MAX {
        return Err(AbiError::ListTooLong { byte_length });
    }
    Ok(byte_length as u32)
}

/// `store_list_into_range` for a `list<u8>`: one allocation, one copy.
/// Returns `(ptr, length)`.
pub fn store_bytes_into_range(
    cx: &mut LiftLowerContext<'_>,
    bytes: &[u8],
) -> Result<(u32, u32), AbiError> {
    let ptr = alloc_list(cx, bytes.len(), 1, 1)?;
    cx.write(ptr, bytes)?;
    Ok((ptr, bytes.len() as u32))
}

// ------------------------------------------------------------------ lower_flat

/// `lower_flat(cx, v, t)`: lowers `v` to flat core values, appended to `out`.
pub fn lower_flat(
    cx: &mut LiftLowerContext<'_>,
    v: &Val,
    t: &ValueType,
    out: &mut Vec<FlatVal>,
) -> Result<(), AbiError> {
    use Despecialized as D;
    match despecialize(t) {
        // lower_flat_signed: a negative s8/s16 becomes the sign-extended i32.
        D::S8 | D::S16 => {
            let x = match (v, t) {
                (Val::S8(x), ValueType::S8) => i32::from(*x),
                (Val::S16(x), ValueType::S16) => i32::from(*x),
                _ => return Err(mismatch(v, t)),
            };
            out.push(FlatVal::I32(x))
        }
        D::Bool | D::U8 | D::U16 | D::U32 | D::S32 | D::Char => {
            out.push(FlatVal::I32(scalar_bits(v, t)? as u32 as i32))
        }
        D::U64 | D::S64 => out.push(FlatVal::I64(scalar_bits(v, t)? as i64)),
        D::F32 => out.push(FlatVal::F32(scalar_bits(v, t)? as u32)),
        D::F64 => out.push(FlatVal::F64(scalar_bits(v, t)?)),
        D::String => {
            let Val::String(s) = v else {
                return Err(mismatch(v, t));
            };
            let (ptr, packed_length) = store_string_into_range(cx, s)?;
            out.extend([FlatVal::I32(ptr as i32), FlatVal::I32(packed_length as i32)]);
        }
        D::List(et) => {
            let Val::List(vs) = v else {
                return Err(mismatch(v, t));
            };
            let (ptr, length) = store_list_into_range(cx, vs, et)?;
            out.extend([FlatVal::I32(ptr as i32), FlatVal::I32(length as i32)]);
        }
        D::Record(fields) => {
            let vals = v.record_values(t)?;
            for (fv, ft) in vals.into_iter().zip(fields) {
                lower_flat(cx, fv, ft, out)?;
            }
        }
        D::Variant(cases) => lower_flat_variant(cx, v, t, &cases, out)?,
        D::Flags(_) => out.push(FlatVal::I32(v.flags_bits(t)? as i32)),
        D::Own(rt) => {
            let Val::Resource(rep) = v else {
                return Err(mismatch(v, t));
            };
            out.push(FlatVal::I32(cx.resources.lower_own(rt, *rep)? as i32));
        }
        D::Borrow(rt) => {
            let Val::Resource(rep) = v else {
                return Err(mismatch(v, t));
            };
            out.push(FlatVal::I32(cx.resources.lower_borrow(rt, *rep)? as i32));
        }
    }
    Ok(())
}

/// `lower_flat_variant(cx, v, cases)`.
fn lower_flat_variant(
    cx: &mut LiftLowerContext<'_>,
    v: &Val,
    t: &ValueType,
    cases: &[Option<&ValueType>],
    out: &mut Vec<FlatVal>,
) -> Result<(), AbiError> {
    let (case_index, case_value) = v.case_of(t)?;
    let flat_types = flatten_variant(cases);
    let want_types = &flat_types[1..];
    out.push(FlatVal::I32(case_index as i32));
    let start = out.len();
    if let (Some(ct), Some(cv)) = (cases[case_index as usize], case_value) {
        lower_flat(cx, cv, ct, out)?;
        let have_types = flatten_type(ct);
        for (i, (&have, &want)) in have_types.iter().zip(want_types).enumerate() {
            let fv = out[start + i];
            use CoreType::*;
            out[start + i] = match (have, want, fv) {
                // f32 payloads were already NaN-encoded by lower_flat.
                (F32, I32, FlatVal::F32(bits)) => FlatVal::I32(bits as i32),
                (I32, I64, FlatVal::I32(x)) => FlatVal::I64(i64::from(x as u32)),
                (F32, I64, FlatVal::F32(bits)) => FlatVal::I64(i64::from(bits)),
                (F64, I64, FlatVal::F64(bits)) => FlatVal::I64(bits as i64),
                _ if have == want => fv,
                _ => {
                    return Err(AbiError::FlatTypeMismatch {
                        expected: want,
                        found: have,
                    })
                }
            };
        }
    }
    let written = out.len() - start;
    for &want in &want_types[written..] {
        out.push(FlatVal::zero(want));
    }
    Ok(())
}

// ------------------------------------------------------------------ values

/// `lower_flat_values(cx, max_flat, vs, ts, out_param)`: lowers a parameter
/// or result tuple.
///
/// If `flatten_types(ts)` has more than `max_flat` values, the tuple is
/// stored in memory instead: with `out_param = None` (lowering the arguments
/// of a `canon lift`ed callee) space is allocated with
/// `realloc(0, 0, alignment, elem_size)` and the pointer is the only flat
/// value returned; with `out_param = Some(vi)` (lowering the results of a
/// `canon lower`ed call) the caller's `retptr` is read from `vi` and no flat
/// value is returned. Either pointer traps if misaligned or out of bounds.
///
/// Use `max_flat = MAX_FLAT_PARAMS` for arguments, `MAX_FLAT_RESULTS` for
/// results. The spec's `may_leave` bookkeeping is the caller's job.
pub fn lower_values<T: core::borrow::Borrow<ValueType>>(
    cx: &mut LiftLowerContext<'_>,
    max_flat: usize,
    vs: &[Val],
    ts: &[T],
    out_param: Option<&mut CoreValueIter<'_>>,
) -> Result<Vec<FlatVal>, AbiError> {
    if vs.len() != ts.len() {
        return Err(AbiError::TypeMismatch(format!(
            "{} values for {} types",
            vs.len(),
            ts.len()
        )));
    }
    let flat_types = flatten_types(ts);
    let mut flat_vals = Vec::new();
    if flat_types.len() > max_flat {
        let fields: Vec<&ValueType> = ts.iter().map(|t| t.borrow()).collect();
        let align = alignment_record(fields.iter().copied());
        let size = elem_size_record(fields.iter().copied());
        let ptr = match out_param {
            None => {
                let ptr = cx.realloc(0, 0, align, size)?;
                cx.check_realloc(ptr, align, u64::from(size))?;
                flat_vals.push(FlatVal::I32(ptr as i32));
                ptr
            }
            Some(vi) => {
                let ptr = vi.next_u32()?;
                cx.check_ptr(ptr, align, size)?;
                ptr
            }
        };
        let vals: Vec<&Val> = vs.iter().collect();
        store_record(cx, &vals, &fields, ptr)?;
    } else {
        for (v, t) in vs.iter().zip(ts) {
            lower_flat(cx, v, t.borrow(), &mut flat_vals)?;
        }
    }
    Ok(flat_vals)
}
