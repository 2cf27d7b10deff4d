//! Flat core values: what component values are lowered to and lifted from
//! when passed in core function parameters and results.
//!
//! Representation choice: [`FlatVal`] is a tagged core value
//! (`I32(i32)`, `I64(i64)`, `F32(u32)`, `F64(u64)`) where floats are carried
//! as their raw IEEE-754 bit patterns, so NaN payloads survive untouched
//! until the ABI itself canonicalizes them, and `FlatVal` is `Eq`.
//! Integers are carried as the core wasm types (two's complement); the spec's
//! Python models them as unsigned `int`s, which is the same bit pattern.
//!
//! [`CoreValueIter`] is the spec's `CoreValueIter`: a cursor over a slice of
//! flat values whose `next(t)` checks the expected core type. The spec only
//! `assert`s the type (core validation guarantees it); here a mismatch or
//! running out of values is an embedder error
//! ([`AbiError::FlatTypeMismatch`], [`AbiError::FlatValuesExhausted`]).

use super::{AbiError, CoreType};

/// One flat core value. Floats are raw bits (see module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlatVal {
    I32(i32),
    I64(i64),
    /// `f32` as its bit pattern.
    F32(u32),
    /// `f64` as its bit pattern.
    F64(u64),
}

impl FlatVal {
    /// The core type of this value.
    pub fn ty(&self) -> CoreType {
        match self {
            FlatVal::I32(_) => CoreType::I32,
            FlatVal::I64(_) => CoreType::I64,
            FlatVal::F32(_) => CoreType::F32,
            FlatVal::F64(_) => CoreType::F64,
        }
    }

    /// The zero value of core type `t` (used to pad variant payloads).
    pub fn zero(t: CoreType) -> FlatVal {
        match t {
            CoreType::I32 => FlatVal::I32(0),
            CoreType::I64 => FlatVal::I64(0),
            CoreType::F32 => FlatVal::F32(0),
            CoreType::F64 => FlatVal::F64(0),
        }
    }

    /// Builds an `f32` flat value from a float (bit-exact).
    pub fn from_f32(f: f32) -> FlatVal {
        FlatVal::F32(f.to_bits())
    }

    /// Builds an `f64` flat value from a float (bit-exact).
    pub fn from_f64(f: f64) -> FlatVal {
        FlatVal::F64(f.to_bits())
    }

    /// The `i32` payload as an unsigned number, if this is an `i32`.
    pub fn as_u32(&self) -> Option<u32> {
        match *self {
            FlatVal::I32(v) => Some(v as u32),
            _ => None,
        }
    }
}

/// Something flat values can be pulled from, one expected core type at a
/// time. Implemented by [`CoreValueIter`] and by the coercing iterator used
/// inside `lift_flat_variant`.
pub trait FlatSource {
    /// Returns the next flat value, which must have core type `want`.
    fn next(&mut self, want: CoreType) -> Result<FlatVal, AbiError>;
}

/// The spec's `CoreValueIter` over a slice of flat core values.
#[derive(Debug, Clone)]
pub struct CoreValueIter<'a> {
    values: &'a [FlatVal],
    i: usize,
}

impl<'a> CoreValueIter<'a> {
    pub fn new(values: &'a [FlatVal]) -> Self {
        CoreValueIter { values, i: 0 }
    }

    /// `done()`: all values have been consumed.
    pub fn done(&self) -> bool {
        self.i == self.values.len()
    }

    /// Number of values consumed so far.
    pub fn position(&self) -> usize {
        self.i
    }

    /// Next value as an `i32`, returned as its unsigned bit pattern (pointers,
    /// lengths, discriminants).
    pub fn next_u32(&mut self) -> Result<u32, AbiError> {
        next_u32(self)
    }
}

impl FlatSource for CoreValueIter<'_> {
    fn next(&mut self, want: CoreType) -> Result<FlatVal, AbiError> {
        let v = *self
            .values
            .get(self.i)
            .ok_or(AbiError::FlatValuesExhausted)?;
        if v.ty() != want {
            return Err(AbiError::FlatTypeMismatch {
                expected: want,
                found: v.ty(),
            });
        }
        self.i += 1;
        Ok(v)
    }
}

/// Pulls an `i32` from `src` as its unsigned bit pattern.
pub(crate) fn next_u32(src: &mut (impl FlatSource + ?Sized)) -> Result<u32, AbiError> {
    match src.next(CoreType::I32)? {
        FlatVal::I32(v) => Ok(v as u32),
        other => Err(AbiError::FlatTypeMismatch {
            expected: CoreType::I32,
            found: other.ty(),
        }),
    }
}
