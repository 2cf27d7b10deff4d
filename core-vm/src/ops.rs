//! Pure semantics of every WebAssembly 2.0 numeric instruction (no SIMD).
//!
//! Role: the executor calls these functions for the numeric opcodes; the
//! translator may call them to fold constants. Nothing here knows about
//! stacks, registers, memories or stores.
//!
//! Invariants:
//! - Every function is pure and stateless, `#[inline]`, and returns
//!   `Result<T, TrapCode>`; the non-trapping ones always return `Ok`.
//! - Integers are carried as signed `i32`/`i64`; the unsigned instructions
//!   reinterpret them as `u32`/`u64`. Arithmetic wraps; shift and rotate
//!   counts are taken modulo the bit width.
//! - Integer traps are exact: division by zero is
//!   [`TrapCode::IntegerDivisionByZero`], `MIN / -1` is
//!   [`TrapCode::IntegerOverflow`], and `MIN % -1` is `0` without a trap.
//! - Floats are Rust `f32`/`f64`, converted from and to raw bits by the
//!   caller. `abs`, `neg` and `copysign` are pure sign-bit operations and the
//!   `reinterpret` conversions are bit-exact, so NaN payloads survive them.
//!   Every other float operation returns, for a NaN input, a quiet NaN
//!   ("arithmetic NaN" in the spec), never a signalling one.
//! - `min`/`max` return NaN if either operand is NaN and order `-0 < +0`;
//!   `nearest` rounds half to even; all roundings keep the sign of zero.
//! - `trunc` conversions trap with [`TrapCode::BadConversionToInteger`] on
//!   NaN and [`TrapCode::IntegerOverflow`] when the truncated value does not
//!   fit; the `trunc_sat` forms saturate and map NaN to 0 (Rust's `as`).
//! - Integer-to-float conversions and `demote` round to nearest, ties to even
//!   (Rust's `as`).

use crate::trap::TrapCode;

/// Integer instructions, stamped out for `i32` and `i64`.
///
/// Each `op = name` pair binds the spec's instruction to the public name of
/// its function; `$t` is the signed carrier type and `$u` its unsigned twin.
macro_rules! int_ops {
    (
        $t:ident, $u:ident;
        add = $add:ident, sub = $sub:ident, mul = $mul:ident,
        div_s = $div_s:ident, div_u = $div_u:ident,
        rem_s = $rem_s:ident, rem_u = $rem_u:ident,
        and = $and:ident, or = $or:ident, xor = $xor:ident,
        shl = $shl:ident, shr_s = $shr_s:ident, shr_u = $shr_u:ident,
        rotl = $rotl:ident, rotr = $rotr:ident,
        eq = $eq:ident, ne = $ne:ident,
        lt_s = $lt_s:ident, lt_u = $lt_u:ident, gt_s = $gt_s:ident, gt_u = $gt_u:ident,
        le_s = $le_s:ident, le_u = $le_u:ident, ge_s = $ge_s:ident, ge_u = $ge_u:ident,
        eqz = $eqz:ident, clz = $clz:ident, ctz = $ctz:ident, popcnt = $popcnt:ident,
        extend8_s = $extend8_s:ident, extend16_s = $extend16_s:ident,
    ) => {
        // ---- arithmetic ----

        #[inline]
        pub fn $add(a: $t, b: $t) -> Result<$t, TrapCode> {
            Ok(a.wrapping_add(b))
        }

        #[inline]
        pub fn $sub(a: $t, b: $t) -> Result<$t, TrapCode> {
            Ok(a.wrapping_sub(b))
        }

        #[inline]
        pub fn $mul(a: $t, b: $t) -> Result<$t, TrapCode> {
            Ok(a.wrapping_mul(b))
        }

        /// Signed division, truncating toward zero; traps on `b == 0` and on
        /// `MIN / -1` (whose quotient is not representable).
        #[inline]
        pub fn $div_s(a: $t, b: $t) -> Result<$t, TrapCode> {
            if b == 0 {
                Err(TrapCode::IntegerDivisionByZero)
            } else if a == $t::MIN && b == -1 {
                Err(TrapCode::IntegerOverflow)
            } else {
                Ok(a / b)
            }
        }

        #[inline]
        pub fn $div_u(a: $t, b: $t) -> Result<$t, TrapCode> {
            match (a as $u).checked_div(b as $u) {
                Some(q) => Ok(q as $t),
                None => Err(TrapCode::IntegerDivisionByZero),
            }
        }

        /// Signed remainder (sign of the dividend); `MIN % -1` is `0`.
        #[inline]
        pub fn $rem_s(a: $t, b: $t) -> Result<$t, TrapCode> {
            if b == 0 {
                Err(TrapCode::IntegerDivisionByZero)
            } else {
                Ok(a.wrapping_rem(b))
            }
        }

        #[inline]
        pub fn $rem_u(a: $t, b: $t) -> Result<$t, TrapCode> {
            match (a as $u).checked_rem(b as $u) {
                Some(r) => Ok(r as $t),
                None => Err(TrapCode::IntegerDivisionByZero),
            }
        }

        // ---- bitwise, shifts, rotates (counts modulo the bit width) ----

        #[inline]
        pub fn $and(a: $t, b: $t) -> Result<$t, TrapCode> {
            Ok(a & b)
        }

        #[inline]
        pub fn $or(a: $t, b: $t) -> Result<$t, TrapCode> {
            Ok(a | b)
        }

        #[inline]
        pub fn $xor(a: $t, b: $t) -> Result<$t, TrapCode> {
            Ok(a ^ b)
        }

        #[inline]
        pub fn $shl(a: $t, b: $t) -> Result<$t, TrapCode> {
            Ok(a.wrapping_shl(b as u32))
        }

        /// Arithmetic shift right (copies the sign bit).
        #[inline]
        pub fn $shr_s(a: $t, b: $t) -> Result<$t, TrapCode> {
            Ok(a.wrapping_shr(b as u32))
        }

        /// Logical shift right (shifts in zeros).
        #[inline]
        pub fn $shr_u(a: $t, b: $t) -> Result<$t, TrapCode> {
            Ok((a as $u).wrapping_shr(b as u32) as $t)
        }

        #[inline]
        pub fn $rotl(a: $t, b: $t) -> Result<$t, TrapCode> {
            Ok(a.rotate_left(b as u32 % $t::BITS))
        }

        #[inline]
        pub fn $rotr(a: $t, b: $t) -> Result<$t, TrapCode> {
            Ok(a.rotate_right(b as u32 % $t::BITS))
        }

        // ---- comparisons ----

        #[inline]
        pub fn $eq(a: $t, b: $t) -> Result<bool, TrapCode> {
            Ok(a == b)
        }

        #[inline]
        pub fn $ne(a: $t, b: $t) -> Result<bool, TrapCode> {
            Ok(a != b)
        }

        #[inline]
        pub fn $lt_s(a: $t, b: $t) -> Result<bool, TrapCode> {
            Ok(a < b)
        }

        #[inline]
        pub fn $lt_u(a: $t, b: $t) -> Result<bool, TrapCode> {
            Ok((a as $u) < (b as $u))
        }

        #[inline]
        pub fn $gt_s(a: $t, b: $t) -> Result<bool, TrapCode> {
            Ok(a > b)
        }

        #[inline]
        pub fn $gt_u(a: $t, b: $t) -> Result<bool, TrapCode> {
            Ok((a as $u) > (b as $u))
        }

        #[inline]
        pub fn $le_s(a: $t, b: $t) -> Result<bool, TrapCode> {
            Ok(a <= b)
        }

        #[inline]
        pub fn $le_u(a: $t, b: $t) -> Result<bool, TrapCode> {
            Ok((a as $u) <= (b as $u))
        }

        #[inline]
        pub fn $ge_s(a: $t, b: $t) -> Result<bool, TrapCode> {
            Ok(a >= b)
        }

        #[inline]
        pub fn $ge_u(a: $t, b: $t) -> Result<bool, TrapCode> {
            Ok((a as $u) >= (b as $u))
        }

        // ---- unary ----

        #[inline]
        pub fn $eqz(a: $t) -> Result<bool, TrapCode> {
            Ok(a == 0)
        }

        /// Leading zero bits; the bit width for `0`.
        #[inline]
        pub fn $clz(a: $t) -> Result<$t, TrapCode> {
            Ok(a.leading_zeros() as $t)
        }

        /// Trailing zero bits; the bit width for `0`.
        #[inline]
        pub fn $ctz(a: $t) -> Result<$t, TrapCode> {
            Ok(a.trailing_zeros() as $t)
        }

        #[inline]
        pub fn $popcnt(a: $t) -> Result<$t, TrapCode> {
            Ok(a.count_ones() as $t)
        }

        /// Sign-extends the low 8 bits.
        #[inline]
        pub fn $extend8_s(a: $t) -> Result<$t, TrapCode> {
            Ok(a as i8 as $t)
        }

        /// Sign-extends the low 16 bits.
        #[inline]
        pub fn $extend16_s(a: $t) -> Result<$t, TrapCode> {
            Ok(a as i16 as $t)
        }
    };
}

int_ops! {
    i32, u32;
    add = i32_add, sub = i32_sub, mul = i32_mul,
    div_s = i32_div_s, div_u = i32_div_u,
    rem_s = i32_rem_s, rem_u = i32_rem_u,
    and = i32_and, or = i32_or, xor = i32_xor,
    shl = i32_shl, shr_s = i32_shr_s, shr_u = i32_shr_u,
    rotl = i32_rotl, rotr = i32_rotr,
    eq = i32_eq, ne = i32_ne,
    lt_s = i32_lt_s, lt_u = i32_lt_u, gt_s = i32_gt_s, gt_u = i32_gt_u,
    le_s = i32_le_s, le_u = i32_le_u, ge_s = i32_ge_s, ge_u = i32_ge_u,
    eqz = i32_eqz, clz = i32_clz, ctz = i32_ctz, popcnt = i32_popcnt,
    extend8_s = i32_extend8_s, extend16_s = i32_extend16_s,
}

int_ops! {
    i64, u64;
    add = i64_add, sub = i64_sub, mul = i64_mul,
    div_s = i64_div_s, div_u = i64_div_u,
    rem_s = i64_rem_s, rem_u = i64_rem_u,
    and = i64_and, or = i64_or, xor = i64_xor,
    shl = i64_shl, shr_s = i64_shr_s, shr_u = i64_shr_u,
    rotl = i64_rotl, rotr = i64_rotr,
    eq = i64_eq, ne = i64_ne,
    lt_s = i64_lt_s, lt_u = i64_lt_u, gt_s = i64_gt_s, gt_u = i64_gt_u,
    le_s = i64_le_s, le_u = i64_le_u, ge_s = i64_ge_s, ge_u = i64_ge_u,
    eqz = i64_eqz, clz = i64_clz, ctz = i64_ctz, popcnt = i64_popcnt,
    extend8_s = i64_extend8_s, extend16_s = i64_extend16_s,
}

/// Sign-extends the low 32 bits.
#[inline]
pub fn i64_extend32_s(a: i64) -> Result<i64, TrapCode> {
    Ok(a as i32 as i64)
}

/// Float instructions, stamped out for `f32` and `f64`.
///
/// `$f` is the float type and `$bits` the unsigned integer of its width.
macro_rules! float_ops {
    (
        $f:ident, $bits:ident;
        add = $add:ident, sub = $sub:ident, mul = $mul:ident, div = $div:ident,
        min = $min:ident, max = $max:ident, copysign = $copysign:ident,
        eq = $eq:ident, ne = $ne:ident, lt = $lt:ident, gt = $gt:ident,
        le = $le:ident, ge = $ge:ident,
        abs = $abs:ident, neg = $neg:ident, ceil = $ceil:ident, floor = $floor:ident,
        trunc = $trunc:ident, nearest = $nearest:ident, sqrt = $sqrt:ident,
    ) => {
        // ---- arithmetic (IEEE 754, round to nearest even) ----

        #[inline]
        pub fn $add(a: $f, b: $f) -> Result<$f, TrapCode> {
            Ok(a + b)
        }

        #[inline]
        pub fn $sub(a: $f, b: $f) -> Result<$f, TrapCode> {
            Ok(a - b)
        }

        #[inline]
        pub fn $mul(a: $f, b: $f) -> Result<$f, TrapCode> {
            Ok(a * b)
        }

        #[inline]
        pub fn $div(a: $f, b: $f) -> Result<$f, TrapCode> {
            Ok(a / b)
        }

        /// NaN if either operand is NaN; `-0` is less than `+0`.
        #[inline]
        pub fn $min(a: $f, b: $f) -> Result<$f, TrapCode> {
            Ok(if a < b {
                a
            } else if b < a {
                b
            } else if a == b {
                // Equal values only differ for zeros: OR keeps a minus sign.
                $f::from_bits(a.to_bits() | b.to_bits())
            } else {
                a + b // at least one NaN: the sum is a quiet NaN
            })
        }

        /// NaN if either operand is NaN; `+0` is greater than `-0`.
        #[inline]
        pub fn $max(a: $f, b: $f) -> Result<$f, TrapCode> {
            Ok(if a > b {
                a
            } else if b > a {
                b
            } else if a == b {
                // Equal values only differ for zeros: AND drops a minus sign.
                $f::from_bits(a.to_bits() & b.to_bits())
            } else {
                a + b // at least one NaN: the sum is a quiet NaN
            })
        }

        /// `a`'s magnitude with `b`'s sign bit; bit-exact, NaNs included.
        #[inline]
        pub fn $copysign(a: $f, b: $f) -> Result<$f, TrapCode> {
            const SIGN: $bits = 1 << ($bits::BITS - 1);
            Ok($f::from_bits((a.to_bits() & !SIGN) | (b.to_bits() & SIGN)))
        }

        // ---- comparisons (false on NaN, except `ne`) ----

        #[inline]
        pub fn $eq(a: $f, b: $f) -> Result<bool, TrapCode> {
            Ok(a == b)
        }

        #[inline]
        pub fn $ne(a: $f, b: $f) -> Result<bool, TrapCode> {
            Ok(a != b)
        }

        #[inline]
        pub fn $lt(a: $f, b: $f) -> Result<bool, TrapCode> {
            Ok(a < b)
        }

        #[inline]
        pub fn $gt(a: $f, b: $f) -> Result<bool, TrapCode> {
            Ok(a > b)
        }

        #[inline]
        pub fn $le(a: $f, b: $f) -> Result<bool, TrapCode> {
            Ok(a <= b)
        }

        #[inline]
        pub fn $ge(a: $f, b: $f) -> Result<bool, TrapCode> {
            Ok(a >= b)
        }

        // ---- unary ----

        /// Clears the sign bit; bit-exact, NaNs included.
        #[inline]
        pub fn $abs(a: $f) -> Result<$f, TrapCode> {
            const SIGN: $bits = 1 << ($bits::BITS - 1);
            Ok($f::from_bits(a.to_bits() & !SIGN))
        }

        /// Flips the sign bit; bit-exact, NaNs included.
        #[inline]
        pub fn $neg(a: $f) -> Result<$f, TrapCode> {
            const SIGN: $bits = 1 << ($bits::BITS - 1);
            Ok($f::from_bits(a.to_bits() ^ SIGN))
        }

        #[inline]
        pub fn $ceil(a: $f) -> Result<$f, TrapCode> {
            Ok(if a.is_nan() { a + a } else { a.ceil() })
        }

        #[inline]
        pub fn $floor(a: $f) -> Result<$f, TrapCode> {
            Ok(if a.is_nan() { a + a } else { a.floor() })
        }

        /// Rounds toward zero (the float instruction, not the conversion).
        #[inline]
        pub fn $trunc(a: $f) -> Result<$f, TrapCode> {
            Ok(if a.is_nan() { a + a } else { a.trunc() })
        }

        /// Rounds to the nearest integer, ties to even; `nearest(-0.5) = -0`.
        #[inline]
        pub fn $nearest(a: $f) -> Result<$f, TrapCode> {
            Ok(if a.is_nan() {
                a + a
            } else {
                a.round_ties_even()
            })
        }

        #[inline]
        pub fn $sqrt(a: $f) -> Result<$f, TrapCode> {
            Ok(a.sqrt())
        }
    };
}

// Note on `ceil`/`floor`/`trunc`/`nearest`: on native hosts these may go
// through a libm that hands a signalling NaN back unchanged, so a NaN is
// quieted explicitly with `a + a` (wasm requires an arithmetic NaN).

float_ops! {
    f32, u32;
    add = f32_add, sub = f32_sub, mul = f32_mul, div = f32_div,
    min = f32_min, max = f32_max, copysign = f32_copysign,
    eq = f32_eq, ne = f32_ne, lt = f32_lt, gt = f32_gt, le = f32_le, ge = f32_ge,
    abs = f32_abs, neg = f32_neg, ceil = f32_ceil, floor = f32_floor,
    trunc = f32_trunc, nearest = f32_nearest, sqrt = f32_sqrt,
}

float_ops! {
    f64, u64;
    add = f64_add, sub = f64_sub, mul = f64_mul, div = f64_div,
    min = f64_min, max = f64_max, copysign = f64_copysign,
    eq = f64_eq, ne = f64_ne, lt = f64_lt, gt = f64_gt, le = f64_le, ge = f64_ge,
    abs = f64_abs, neg = f64_neg, ceil = f64_ceil, floor = f64_floor,
    trunc = f64_trunc, nearest = f64_nearest, sqrt = f64_sqrt,
}

// ---- float -> integer conversions ----

/// A trapping truncation and its saturating twin.
///
/// `$lo` and `$hi` are the largest float below and the smallest float above
/// the accepted range, i.e. `x` converts iff `$lo < x < $hi`. Both are exactly
/// representable in `$f`: `$hi` is `2^N` (unsigned) or `2^(N-1)` (signed);
/// `$lo` is `-1.0` (unsigned) or, for signed, `-2^(N-1) - 1` when `$f`
/// represents it, else the next float below `-2^(N-1)`. `$via` is the
/// integer type Rust's `as` truncates into (the unsigned type for `_u`).
macro_rules! trunc_ops {
    ($(
        $name:ident, $sat:ident: $f:ident -> $t:ident via $via:ident, ($lo:expr, $hi:expr);
    )*) => {$(
        #[inline]
        pub fn $name(a: $f) -> Result<$t, TrapCode> {
            if a > $lo && a < $hi {
                Ok(a as $via as $t)
            } else if a.is_nan() {
                Err(TrapCode::BadConversionToInteger)
            } else {
                Err(TrapCode::IntegerOverflow)
            }
        }

        /// Saturating: NaN is `0`, out-of-range values clamp (Rust's `as`).
        #[inline]
        pub fn $sat(a: $f) -> Result<$t, TrapCode> {
            Ok(a as $via as $t)
        }
    )*};
}

trunc_ops! {
    i32_trunc_f32_s, i32_trunc_sat_f32_s: f32 -> i32 via i32, (-2147483904.0, 2147483648.0);
    i32_trunc_f32_u, i32_trunc_sat_f32_u: f32 -> i32 via u32, (-1.0, 4294967296.0);
    i32_trunc_f64_s, i32_trunc_sat_f64_s: f64 -> i32 via i32, (-2147483649.0, 2147483648.0);
    i32_trunc_f64_u, i32_trunc_sat_f64_u: f64 -> i32 via u32, (-1.0, 4294967296.0);
    i64_trunc_f32_s, i64_trunc_sat_f32_s: f32 -> i64 via i64,
        (-9223373136366403584.0, 9223372036854775808.0);
    i64_trunc_f32_u, i64_trunc_sat_f32_u: f32 -> i64 via u64, (-1.0, 18446744073709551616.0);
    i64_trunc_f64_s, i64_trunc_sat_f64_s: f64 -> i64 via i64,
        (-9223372036854777856.0, 9223372036854775808.0);
    i64_trunc_f64_u, i64_trunc_sat_f64_u: f64 -> i64 via u64, (-1.0, 18446744073709551616.0);
}

// ---- other conversions (never trap) ----

/// Stamps out `fn $name(a: $from) -> Result<$to, _> { Ok(a as $via as $to) }`:
/// integer width changes and int -> float conversions (round to nearest even).
macro_rules! cast_ops {
    ($($name:ident: $from:ident -> $to:ident via $via:ident;)*) => {$(
        #[inline]
        pub fn $name(a: $from) -> Result<$to, TrapCode> {
            Ok(a as $via as $to)
        }
    )*};
}

cast_ops! {
    i32_wrap_i64: i64 -> i32 via i32;
    i64_extend_i32_s: i32 -> i64 via i32;
    i64_extend_i32_u: i32 -> i64 via u32;
    f32_convert_i32_s: i32 -> f32 via i32;
    f32_convert_i32_u: i32 -> f32 via u32;
    f32_convert_i64_s: i64 -> f32 via i64;
    f32_convert_i64_u: i64 -> f32 via u64;
    f64_convert_i32_s: i32 -> f64 via i32;
    f64_convert_i32_u: i32 -> f64 via u32;
    f64_convert_i64_s: i64 -> f64 via i64;
    f64_convert_i64_u: i64 -> f64 via u64;
}

/// Rounds to nearest even; overflow gives ±inf, NaN stays a (quiet) NaN.
#[inline]
pub fn f32_demote_f64(a: f64) -> Result<f32, TrapCode> {
    Ok(a as f32)
}

/// Exact; NaN stays a (quiet) NaN.
#[inline]
pub fn f64_promote_f32(a: f32) -> Result<f64, TrapCode> {
    Ok(a as f64)
}

#[inline]
pub fn i32_reinterpret_f32(a: f32) -> Result<i32, TrapCode> {
    Ok(a.to_bits() as i32)
}

#[inline]
pub fn i64_reinterpret_f64(a: f64) -> Result<i64, TrapCode> {
    Ok(a.to_bits() as i64)
}

#[inline]
pub fn f32_reinterpret_i32(a: i32) -> Result<f32, TrapCode> {
    Ok(f32::from_bits(a as u32))
}

#[inline]
pub fn f64_reinterpret_i64(a: i64) -> Result<f64, TrapCode> {
    Ok(f64::from_bits(a as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;

    const OVF: Result<i32, TrapCode> = Err(TrapCode::IntegerOverflow);
    const DIV0: Result<i32, TrapCode> = Err(TrapCode::IntegerDivisionByZero);
    const BAD: Result<i32, TrapCode> = Err(TrapCode::BadConversionToInteger);
    const OVF64: Result<i64, TrapCode> = Err(TrapCode::IntegerOverflow);
    const DIV064: Result<i64, TrapCode> = Err(TrapCode::IntegerDivisionByZero);
    const BAD64: Result<i64, TrapCode> = Err(TrapCode::BadConversionToInteger);

    // Quiet NaNs with and without payload, and signalling NaNs, both signs.
    const F32_NAN: u32 = 0x7fc0_0000;
    const F32_SNAN: u32 = 0x7fa0_0000; // nan:0x200000
    const F32_NEG_SNAN: u32 = 0xffa0_0000;
    const F64_NAN: u64 = 0x7ff8_0000_0000_0000;
    const F64_SNAN: u64 = 0x7ff4_0000_0000_0000; // nan:0x4000000000000
    const F64_NEG_SNAN: u64 = 0xfff4_0000_0000_0000;

    // Operands built from bits go through `black_box`, as runtime values do:
    // otherwise LLVM folds e.g. `sNaN + -0.0` to the unquieted sNaN at
    // compile time, which no executed instruction would produce.
    fn f32b(bits: u32) -> f32 {
        black_box(f32::from_bits(bits))
    }
    fn f64b(bits: u64) -> f64 {
        black_box(f64::from_bits(bits))
    }
    fn bits32(r: Result<f32, TrapCode>) -> u32 {
        r.unwrap().to_bits()
    }
    fn bits64(r: Result<f64, TrapCode>) -> u64 {
        r.unwrap().to_bits()
    }
    /// A quiet ("arithmetic") NaN, as the spec requires for computed NaNs.
    fn is_arith_nan32(r: Result<f32, TrapCode>) -> bool {
        let b = r.unwrap().to_bits();
        b & 0x7fc0_0000 == 0x7fc0_0000
    }
    fn is_arith_nan64(r: Result<f64, TrapCode>) -> bool {
        let b = r.unwrap().to_bits();
        b & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000
    }

    // ---------------- integers ----------------

    #[test]
    fn int_arith_wraps() {
        assert_eq!(i32_add(i32::MAX, 1), Ok(i32::MIN));
        assert_eq!(i32_sub(i32::MIN, 1), Ok(i32::MAX));
        assert_eq!(i32_mul(0x1000_0000, 0x1000), Ok(0));
        assert_eq!(i32_mul(0x0123_4567, 0x7654_3210), Ok(0x358e_7470));
        assert_eq!(i64_add(i64::MAX, 1), Ok(i64::MIN));
        assert_eq!(i64_sub(i64::MIN, 1), Ok(i64::MAX));
        assert_eq!(
            i64_mul(0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210_u64 as i64),
            Ok(0x2236_d88f_e561_8cf0)
        );
        assert_eq!(i64_mul(i64::MIN, -1), Ok(i64::MIN));
    }

    #[test]
    fn int_div_s_traps_and_truncates() {
        assert_eq!(i32_div_s(1, 0), DIV0);
        assert_eq!(i32_div_s(0, 0), DIV0);
        assert_eq!(i32_div_s(i32::MIN, -1), OVF);
        assert_eq!(i32_div_s(i32::MIN, 0), DIV0); // zero is checked first
        assert_eq!(i32_div_s(i32::MIN, 2), Ok(-0x4000_0000));
        assert_eq!(i32_div_s(-7, 2), Ok(-3));
        assert_eq!(i32_div_s(7, -2), Ok(-3));
        assert_eq!(i32_div_s(-7, -2), Ok(3));
        assert_eq!(i64_div_s(1, 0), DIV064);
        assert_eq!(i64_div_s(i64::MIN, -1), OVF64);
        assert_eq!(i64_div_s(-7, 2), Ok(-3));
        assert_eq!(i64_div_s(i64::MIN, 2), Ok(-0x4000_0000_0000_0000));
    }

    #[test]
    fn int_div_u() {
        assert_eq!(i32_div_u(1, 0), DIV0);
        assert_eq!(i32_div_u(i32::MIN, -1), Ok(0));
        assert_eq!(i32_div_u(-1, 2), Ok(0x7fff_ffff));
        assert_eq!(i32_div_u(-5, 2), Ok(0x7fff_fffd));
        assert_eq!(i32_div_u(0x8ff0_0ff0_u32 as i32, 0x10001), Ok(0x8fef));
        assert_eq!(i64_div_u(1, 0), DIV064);
        assert_eq!(i64_div_u(i64::MIN, -1), Ok(0));
        assert_eq!(i64_div_u(-1, 2), Ok(i64::MAX));
        assert_eq!(i64_div_u(-5, 2), Ok(0x7fff_ffff_ffff_fffd));
    }

    #[test]
    fn int_rem() {
        assert_eq!(i32_rem_s(1, 0), DIV0);
        assert_eq!(i32_rem_s(i32::MIN, -1), Ok(0));
        assert_eq!(i32_rem_s(i32::MIN, 0), DIV0);
        assert_eq!(i32_rem_s(-7, 2), Ok(-1));
        assert_eq!(i32_rem_s(7, -2), Ok(1));
        assert_eq!(i32_rem_s(-7, -3), Ok(-1));
        assert_eq!(i32_rem_u(1, 0), DIV0);
        assert_eq!(i32_rem_u(i32::MIN, -1), Ok(i32::MIN));
        assert_eq!(i32_rem_u(-5, 2), Ok(1));
        assert_eq!(i32_rem_u(0x8ff0_0ff0_u32 as i32, 0x10001), Ok(0x8001));
        assert_eq!(i64_rem_s(1, 0), DIV064);
        assert_eq!(i64_rem_s(i64::MIN, -1), Ok(0));
        assert_eq!(i64_rem_s(-7, 2), Ok(-1));
        assert_eq!(i64_rem_u(1, 0), DIV064);
        assert_eq!(i64_rem_u(i64::MIN, -1), Ok(i64::MIN));
        assert_eq!(i64_rem_u(-5, 2), Ok(1));
    }

    #[test]
    fn int_bitwise() {
        assert_eq!(
            i32_and(0xf0f0_ffff_u32 as i32, 0xfffff0f0_u32 as i32),
            Ok(0xf0f0_f0f0_u32 as i32)
        );
        assert_eq!(
            i32_or(0xf0f0_ffff_u32 as i32, 0xfffff0f0_u32 as i32),
            Ok(-1)
        );
        assert_eq!(
            i32_xor(0xf0f0_ffff_u32 as i32, 0xfffff0f0_u32 as i32),
            Ok(0x0f0f_0f0f)
        );
        assert_eq!(i64_and(-1, 0x1234), Ok(0x1234));
        assert_eq!(i64_or(i64::MIN, 1), Ok(i64::MIN + 1));
        assert_eq!(i64_xor(-1, i64::MAX), Ok(i64::MIN));
    }

    #[test]
    fn int_shifts_mod_width() {
        assert_eq!(i32_shl(1, 31), Ok(i32::MIN));
        assert_eq!(i32_shl(1, 32), Ok(1));
        assert_eq!(i32_shl(1, 33), Ok(2));
        assert_eq!(i32_shl(1, -1), Ok(i32::MIN));
        assert_eq!(i32_shl(1, i32::MAX), Ok(i32::MIN));
        assert_eq!(i32_shr_s(i32::MIN, 31), Ok(-1));
        assert_eq!(i32_shr_s(i32::MIN, 32), Ok(i32::MIN));
        assert_eq!(i32_shr_s(-1, 33), Ok(-1));
        assert_eq!(i32_shr_s(0x4000_0000, 33), Ok(0x2000_0000));
        assert_eq!(i32_shr_u(i32::MIN, 31), Ok(1));
        assert_eq!(i32_shr_u(i32::MIN, 32), Ok(i32::MIN));
        assert_eq!(i32_shr_u(-1, 33), Ok(0x7fff_ffff));
        assert_eq!(i32_shr_u(-1, -1), Ok(1));
        assert_eq!(i64_shl(1, 63), Ok(i64::MIN));
        assert_eq!(i64_shl(1, 64), Ok(1));
        assert_eq!(i64_shl(1, 65), Ok(2));
        assert_eq!(i64_shl(1, -1), Ok(i64::MIN));
        // Only the low 6 bits count, even with high bits set in the i64.
        assert_eq!(i64_shl(1, 0x1_0000_0001), Ok(2));
        assert_eq!(i64_shr_s(i64::MIN, 63), Ok(-1));
        assert_eq!(i64_shr_s(i64::MIN, 64), Ok(i64::MIN));
        assert_eq!(i64_shr_s(-1, 65), Ok(-1));
        assert_eq!(i64_shr_u(i64::MIN, 63), Ok(1));
        assert_eq!(i64_shr_u(i64::MIN, 64), Ok(i64::MIN));
        assert_eq!(i64_shr_u(-1, 65), Ok(i64::MAX));
        assert_eq!(i64_shr_u(-1, -1), Ok(1));
    }

    #[test]
    fn int_rotates() {
        assert_eq!(i32_rotl(1, 1), Ok(2));
        assert_eq!(i32_rotl(1, 0), Ok(1));
        assert_eq!(i32_rotl(-1, 1), Ok(-1));
        assert_eq!(i32_rotl(1, 32), Ok(1));
        assert_eq!(i32_rotl(0xabcd_9876_u32 as i32, 1), Ok(0x579b_30ed));
        assert_eq!(
            i32_rotl(0xfe00_dc00_u32 as i32, 4),
            Ok(0xe00d_c00f_u32 as i32)
        );
        assert_eq!(i32_rotl(0xb0c1_d2e3_u32 as i32, 5), Ok(0x183a_5c76));
        assert_eq!(i32_rotl(0x0000_8000, 37), Ok(0x0010_0000));
        assert_eq!(i32_rotl(0xb0c1_d2e3_u32 as i32, 0xff05), Ok(0x183a_5c76));
        assert_eq!(i32_rotl(0x7698_3b39, -0x1901_5df0), Ok(0x3b39_7698));
        assert_eq!(i32_rotl(1, 31), Ok(i32::MIN));
        assert_eq!(i32_rotr(1, 1), Ok(i32::MIN));
        assert_eq!(i32_rotr(1, 32), Ok(1));
        assert_eq!(i32_rotr(-1, 1), Ok(-1));
        assert_eq!(i32_rotr(0xff00_cc00_u32 as i32, 1), Ok(0x7f80_6600));
        assert_eq!(i32_rotr(0x0008_0000, 4), Ok(0x0000_8000));
        assert_eq!(i32_rotr(0xb0c1_d2e3_u32 as i32, 5), Ok(0x1d86_0e97));
        assert_eq!(i32_rotr(0x0000_8000, 37), Ok(0x0000_0400));
        assert_eq!(i32_rotr(0xb0c1_d2e3_u32 as i32, 0xff05), Ok(0x1d86_0e97));
        assert_eq!(i32_rotr(1, -1), Ok(2));
        assert_eq!(i64_rotl(1, 1), Ok(2));
        assert_eq!(i64_rotl(1, 64), Ok(1));
        assert_eq!(i64_rotl(1, 63), Ok(i64::MIN));
        assert_eq!(i64_rotl(-1, 1), Ok(-1));
        assert_eq!(
            i64_rotl(0xabd1_2345_6789_0cde_u64 as i64, 0x3f),
            Ok(0x55e8_91a2_b3c4_866f)
        );
        assert_eq!(
            i64_rotl(0xabcd_7294_ef56_7654_u64 as i64, 63),
            Ok(0x55e6_b94a_77ab_3b2a)
        );
        assert_eq!(i64_rotl(1, 0x1_0000_0001), Ok(2));
        assert_eq!(i64_rotr(1, 1), Ok(i64::MIN));
        assert_eq!(i64_rotr(1, 64), Ok(1));
        assert_eq!(i64_rotr(1, -1), Ok(2));
        assert_eq!(
            i64_rotr(0xabcd_1234_ef56_7809_u64 as i64, 53),
            Ok(0x6891_a77a_b3c0_4d5e)
        );
        assert_eq!(
            i64_rotr(0xabd1_2345_6789_0cde_u64 as i64, 0x3f),
            Ok(0x57a2_468a_cf12_19bd)
        );
    }

    #[test]
    fn int_compares() {
        // i32: signed vs unsigned disagree on negatives.
        assert_eq!(i32_eq(-1, -1), Ok(true));
        assert_eq!(i32_eq(i32::MIN, i32::MAX), Ok(false));
        assert_eq!(i32_ne(0, 1), Ok(true));
        assert_eq!(i32_ne(5, 5), Ok(false));
        assert_eq!(i32_lt_s(-1, 0), Ok(true));
        assert_eq!(i32_lt_u(-1, 0), Ok(false));
        assert_eq!(i32_lt_s(i32::MIN, i32::MAX), Ok(true));
        assert_eq!(i32_lt_u(i32::MIN, i32::MAX), Ok(false));
        assert_eq!(i32_gt_s(-1, 0), Ok(false));
        assert_eq!(i32_gt_u(-1, 0), Ok(true));
        assert_eq!(i32_le_s(-1, -1), Ok(true));
        assert_eq!(i32_le_u(1, -1), Ok(true));
        assert_eq!(i32_le_s(1, -1), Ok(false));
        assert_eq!(i32_le_u(-1, 1), Ok(false));
        assert_eq!(i32_ge_s(0, -1), Ok(true));
        assert_eq!(i32_ge_u(0, -1), Ok(false));
        assert_eq!(i32_ge_u(i32::MIN, i32::MIN), Ok(true));
        assert_eq!(i64_eq(-1, -1), Ok(true));
        assert_eq!(i64_ne(i64::MIN, i64::MAX), Ok(true));
        assert_eq!(i64_lt_s(-1, 0), Ok(true));
        assert_eq!(i64_lt_u(-1, 0), Ok(false));
        assert_eq!(i64_gt_s(i64::MIN, i64::MAX), Ok(false));
        assert_eq!(i64_gt_u(i64::MIN, i64::MAX), Ok(true));
        assert_eq!(i64_le_s(i64::MIN, i64::MIN), Ok(true));
        assert_eq!(i64_le_u(i64::MIN, 0), Ok(false));
        assert_eq!(i64_ge_s(0, i64::MIN), Ok(true));
        assert_eq!(i64_ge_u(0, i64::MIN), Ok(false));
    }

    #[test]
    fn int_unary() {
        assert_eq!(i32_eqz(0), Ok(true));
        assert_eq!(i32_eqz(i32::MIN), Ok(false));
        assert_eq!(i64_eqz(0), Ok(true));
        assert_eq!(i64_eqz(i64::MIN), Ok(false));
        assert_eq!(i32_clz(0), Ok(32));
        assert_eq!(i32_clz(-1), Ok(0));
        assert_eq!(i32_clz(1), Ok(31));
        assert_eq!(i32_clz(0x0000_8000), Ok(16));
        assert_eq!(i32_ctz(0), Ok(32));
        assert_eq!(i32_ctz(i32::MIN), Ok(31));
        assert_eq!(i32_ctz(0x0001_0000), Ok(16));
        assert_eq!(i32_popcnt(-1), Ok(32));
        assert_eq!(i32_popcnt(0), Ok(0));
        assert_eq!(i32_popcnt(0xaaaa_5555_u32 as i32), Ok(16));
        assert_eq!(i64_clz(0), Ok(64));
        assert_eq!(i64_clz(-1), Ok(0));
        assert_eq!(i64_clz(1), Ok(63));
        assert_eq!(i64_ctz(0), Ok(64));
        assert_eq!(i64_ctz(i64::MIN), Ok(63));
        assert_eq!(i64_popcnt(-1), Ok(64));
        assert_eq!(i64_popcnt(0x0000_0000_ffff_ffff), Ok(32));
    }

    #[test]
    fn sign_extensions() {
        assert_eq!(i32_extend8_s(0x7f), Ok(127));
        assert_eq!(i32_extend8_s(0x80), Ok(-128));
        assert_eq!(i32_extend8_s(0x0123_4580), Ok(-128));
        assert_eq!(i32_extend8_s(-1), Ok(-1));
        assert_eq!(i32_extend8_s(0xfedc_ba00_u32 as i32), Ok(0));
        assert_eq!(i32_extend16_s(0x7fff), Ok(32767));
        assert_eq!(i32_extend16_s(0x8000), Ok(-32768));
        assert_eq!(i32_extend16_s(0x0123_8000), Ok(-32768));
        assert_eq!(i32_extend16_s(0xfedc_0000_u32 as i32), Ok(0));
        assert_eq!(i64_extend8_s(0x80), Ok(-128));
        assert_eq!(i64_extend8_s(0x0123_4567_89ab_cd7f), Ok(127));
        assert_eq!(i64_extend16_s(0x8000), Ok(-32768));
        assert_eq!(i64_extend16_s(0x0123_4567_89ab_7fff), Ok(32767));
        assert_eq!(i64_extend32_s(0x8000_0000), Ok(-0x8000_0000));
        assert_eq!(i64_extend32_s(0x0123_4567_7fff_ffff), Ok(0x7fff_ffff));
        assert_eq!(i64_extend32_s(0xffff_ffff_0000_0000_u64 as i64), Ok(0));
        assert_eq!(i64_extend_i32_s(-1), Ok(-1));
        assert_eq!(i64_extend_i32_s(i32::MIN), Ok(-0x8000_0000));
        assert_eq!(i64_extend_i32_u(-1), Ok(0xffff_ffff));
        assert_eq!(i64_extend_i32_u(i32::MIN), Ok(0x8000_0000));
        assert_eq!(i32_wrap_i64(-1), Ok(-1));
        assert_eq!(i32_wrap_i64(0x1_0000_0000), Ok(0));
        assert_eq!(
            i32_wrap_i64(0xfedc_ba98_7654_3210_u64 as i64),
            Ok(0x7654_3210)
        );
        assert_eq!(i32_wrap_i64(0x8000_0000), Ok(i32::MIN));
    }

    // ---------------- floats ----------------

    #[test]
    fn float_arith() {
        assert_eq!(f32_add(1.0, 2.0), Ok(3.0));
        assert_eq!(f32_sub(1.0, 2.0), Ok(-1.0));
        assert_eq!(f32_mul(-2.0, 3.0), Ok(-6.0));
        assert_eq!(f32_div(1.0, 0.0), Ok(f32::INFINITY));
        assert_eq!(f32_div(-1.0, 0.0), Ok(f32::NEG_INFINITY));
        assert!(is_arith_nan32(f32_div(0.0, 0.0)));
        assert!(is_arith_nan32(f32_sub(f32::INFINITY, f32::INFINITY)));
        assert!(is_arith_nan32(f32_add(f32b(F32_SNAN), 1.0)));
        assert_eq!(bits32(f32_add(-0.0, -0.0)), 0x8000_0000);
        assert_eq!(bits32(f32_add(-0.0, 0.0)), 0);
        assert_eq!(bits32(f32_mul(-0.0, 5.0)), 0x8000_0000);
        // Rounding to nearest even: 1 + 2^-24 is a tie, stays 1.
        assert_eq!(f32_add(1.0, f32b(0x3380_0000)), Ok(1.0));
        assert_eq!(f64_add(1.0, 2.0), Ok(3.0));
        assert_eq!(f64_sub(0.1, 0.1), Ok(0.0));
        assert_eq!(f64_mul(1e308, 10.0), Ok(f64::INFINITY));
        assert_eq!(f64_div(-1.0, 0.0), Ok(f64::NEG_INFINITY));
        assert!(is_arith_nan64(f64_div(0.0, 0.0)));
        assert!(is_arith_nan64(f64_mul(f64b(F64_SNAN), 2.0)));
        assert_eq!(bits64(f64_sub(-0.0, 0.0)), 0x8000_0000_0000_0000);
    }

    #[test]
    fn float_min_max_zeros_and_nans() {
        assert_eq!(bits32(f32_min(0.0, -0.0)), 0x8000_0000);
        assert_eq!(bits32(f32_min(-0.0, 0.0)), 0x8000_0000);
        assert_eq!(bits32(f32_min(0.0, 0.0)), 0);
        assert_eq!(bits32(f32_max(0.0, -0.0)), 0);
        assert_eq!(bits32(f32_max(-0.0, 0.0)), 0);
        assert_eq!(bits32(f32_max(-0.0, -0.0)), 0x8000_0000);
        assert_eq!(f32_min(1.0, -1.0), Ok(-1.0));
        assert_eq!(f32_max(1.0, -1.0), Ok(1.0));
        assert_eq!(
            f32_min(f32::NEG_INFINITY, f32::INFINITY),
            Ok(f32::NEG_INFINITY)
        );
        assert_eq!(f32_max(f32::NEG_INFINITY, f32::INFINITY), Ok(f32::INFINITY));
        for nan in [F32_NAN, F32_SNAN, F32_NEG_SNAN, 0xffc0_0000] {
            for other in [0.0, -0.0, 1.0, f32::INFINITY, f32::NEG_INFINITY] {
                let other = black_box(other);
                assert!(is_arith_nan32(f32_min(f32b(nan), other)));
                assert!(is_arith_nan32(f32_min(other, f32b(nan))));
                assert!(is_arith_nan32(f32_max(f32b(nan), other)));
                assert!(is_arith_nan32(f32_max(other, f32b(nan))));
            }
            assert!(is_arith_nan32(f32_min(f32b(nan), f32b(nan))));
            assert!(is_arith_nan32(f32_max(f32b(nan), f32b(F32_NAN))));
        }
        assert_eq!(bits64(f64_min(0.0, -0.0)), 0x8000_0000_0000_0000);
        assert_eq!(bits64(f64_min(-0.0, 0.0)), 0x8000_0000_0000_0000);
        assert_eq!(bits64(f64_max(0.0, -0.0)), 0);
        assert_eq!(bits64(f64_max(-0.0, 0.0)), 0);
        assert_eq!(f64_min(1.0, -1.0), Ok(-1.0));
        assert_eq!(f64_max(1.0, -1.0), Ok(1.0));
        for nan in [F64_NAN, F64_SNAN, F64_NEG_SNAN] {
            for other in [0.0, -0.0, 1.0, f64::INFINITY, f64::NEG_INFINITY] {
                let other = black_box(other);
                assert!(is_arith_nan64(f64_min(f64b(nan), other)));
                assert!(is_arith_nan64(f64_min(other, f64b(nan))));
                assert!(is_arith_nan64(f64_max(f64b(nan), other)));
                assert!(is_arith_nan64(f64_max(other, f64b(nan))));
            }
        }
    }

    #[test]
    fn float_sign_bit_ops_are_bit_exact() {
        // abs/neg/copysign never touch a NaN's payload or quiet bit.
        assert_eq!(bits32(f32_abs(f32b(F32_NEG_SNAN))), F32_SNAN);
        assert_eq!(bits32(f32_neg(f32b(F32_SNAN))), F32_NEG_SNAN);
        assert_eq!(bits32(f32_neg(f32b(0x7fc0_0123))), 0xffc0_0123);
        assert_eq!(bits32(f32_abs(-0.0)), 0);
        assert_eq!(bits32(f32_neg(0.0)), 0x8000_0000);
        assert_eq!(bits32(f32_neg(-0.0)), 0);
        assert_eq!(f32_abs(-1.5), Ok(1.5));
        assert_eq!(bits32(f32_copysign(f32b(F32_SNAN), -0.0)), F32_NEG_SNAN);
        assert_eq!(bits32(f32_copysign(1.0, f32b(F32_NEG_SNAN))), 0xbf80_0000);
        assert_eq!(bits32(f32_copysign(-1.0, f32b(F32_SNAN))), 0x3f80_0000);
        assert_eq!(bits32(f32_copysign(0.0, -0.0)), 0x8000_0000);
        assert_eq!(bits32(f32_copysign(-0.0, 0.0)), 0);
        assert_eq!(bits64(f64_abs(f64b(F64_NEG_SNAN))), F64_SNAN);
        assert_eq!(bits64(f64_neg(f64b(F64_SNAN))), F64_NEG_SNAN);
        assert_eq!(bits64(f64_neg(0.0)), 0x8000_0000_0000_0000);
        assert_eq!(bits64(f64_abs(-0.0)), 0);
        assert_eq!(bits64(f64_copysign(f64b(F64_SNAN), -1.0)), F64_NEG_SNAN);
        assert_eq!(
            bits64(f64_copysign(2.0, f64b(F64_NEG_SNAN))),
            (-2.0f64).to_bits()
        );
        assert_eq!(bits64(f64_copysign(0.0, -0.0)), 0x8000_0000_0000_0000);
    }

    #[test]
    fn float_compares() {
        let nan = f32b(F32_NAN);
        assert_eq!(f32_eq(0.0, -0.0), Ok(true));
        assert_eq!(f32_eq(nan, nan), Ok(false));
        assert_eq!(f32_ne(nan, nan), Ok(true));
        assert_eq!(f32_ne(0.0, -0.0), Ok(false));
        assert_eq!(f32_lt(-0.0, 0.0), Ok(false));
        assert_eq!(f32_le(-0.0, 0.0), Ok(true));
        assert_eq!(f32_ge(0.0, -0.0), Ok(true));
        assert_eq!(f32_gt(1.0, -1.0), Ok(true));
        for f in [f32_lt, f32_gt, f32_le, f32_ge, f32_eq] {
            assert_eq!(f(nan, 1.0), Ok(false));
            assert_eq!(f(1.0, nan), Ok(false));
            assert_eq!(f(nan, nan), Ok(false));
        }
        let nan = f64b(F64_SNAN);
        assert_eq!(f64_eq(0.0, -0.0), Ok(true));
        assert_eq!(f64_ne(nan, nan), Ok(true));
        assert_eq!(f64_ne(1.0, 1.0), Ok(false));
        assert_eq!(f64_lt(f64::NEG_INFINITY, f64::MIN), Ok(true));
        assert_eq!(f64_gt(f64::INFINITY, f64::MAX), Ok(true));
        assert_eq!(f64_le(1.0, 1.0), Ok(true));
        assert_eq!(f64_ge(1.0, 2.0), Ok(false));
        for f in [f64_lt, f64_gt, f64_le, f64_ge, f64_eq] {
            assert_eq!(f(nan, 1.0), Ok(false));
            assert_eq!(f(1.0, nan), Ok(false));
        }
    }

    #[test]
    fn float_rounding_keeps_signed_zero() {
        assert_eq!(bits32(f32_ceil(-0.5)), 0x8000_0000);
        assert_eq!(bits32(f32_ceil(-0.0)), 0x8000_0000);
        assert_eq!(f32_ceil(0.5), Ok(1.0));
        assert_eq!(f32_ceil(-1.5), Ok(-1.0));
        assert_eq!(bits32(f32_floor(0.5)), 0);
        assert_eq!(bits32(f32_floor(-0.0)), 0x8000_0000);
        assert_eq!(f32_floor(-0.5), Ok(-1.0));
        assert_eq!(bits32(f32_trunc(-0.9)), 0x8000_0000);
        assert_eq!(f32_trunc(-1.9), Ok(-1.0));
        assert_eq!(f32_trunc(1.9), Ok(1.0));
        assert_eq!(bits64(f64_ceil(-0.5)), 0x8000_0000_0000_0000);
        assert_eq!(bits64(f64_floor(0.5)), 0);
        assert_eq!(f64_floor(-0.5), Ok(-1.0));
        assert_eq!(bits64(f64_trunc(-0.9)), 0x8000_0000_0000_0000);
        assert_eq!(f64_ceil(f64::INFINITY), Ok(f64::INFINITY));
        assert_eq!(f64_floor(f64::NEG_INFINITY), Ok(f64::NEG_INFINITY));
        // Values already integral (beyond 2^52) are returned unchanged.
        assert_eq!(f64_ceil(4503599627370497.0), Ok(4503599627370497.0));
    }

    #[test]
    fn float_nearest_ties_to_even() {
        assert_eq!(bits32(f32_nearest(-0.5)), 0x8000_0000);
        assert_eq!(bits32(f32_nearest(0.5)), 0);
        assert_eq!(bits32(f32_nearest(-0.0)), 0x8000_0000);
        assert_eq!(bits32(f32_nearest(-0.4)), 0x8000_0000);
        assert_eq!(f32_nearest(1.5), Ok(2.0));
        assert_eq!(f32_nearest(2.5), Ok(2.0));
        assert_eq!(f32_nearest(-1.5), Ok(-2.0));
        assert_eq!(f32_nearest(-2.5), Ok(-2.0));
        assert_eq!(f32_nearest(3.5), Ok(4.0));
        assert_eq!(f32_nearest(0.6), Ok(1.0));
        assert_eq!(f32_nearest(-3.7), Ok(-4.0));
        assert_eq!(f32_nearest(4194303.5), Ok(4194304.0)); // spec: 0x1.fffffep+21
        assert_eq!(f32_nearest(8388609.0), Ok(8388609.0));
        assert_eq!(f32_nearest(f32::NEG_INFINITY), Ok(f32::NEG_INFINITY));
        assert_eq!(bits64(f64_nearest(-0.5)), 0x8000_0000_0000_0000);
        assert_eq!(bits64(f64_nearest(0.5)), 0);
        assert_eq!(f64_nearest(1.5), Ok(2.0));
        assert_eq!(f64_nearest(2.5), Ok(2.0));
        assert_eq!(f64_nearest(-2.5), Ok(-2.0));
        assert_eq!(f64_nearest(4503599627370495.5), Ok(4503599627370496.0));
        assert_eq!(f64_nearest(4503599627370497.0), Ok(4503599627370497.0));
        assert_eq!(f64_nearest(f64::INFINITY), Ok(f64::INFINITY));
    }

    #[test]
    fn float_unary_nans_come_out_quiet() {
        for nan in [F32_NAN, F32_SNAN, F32_NEG_SNAN] {
            for f in [f32_ceil, f32_floor, f32_trunc, f32_nearest, f32_sqrt] {
                assert!(is_arith_nan32(f(f32b(nan))), "{nan:#x}");
            }
        }
        for nan in [F64_NAN, F64_SNAN, F64_NEG_SNAN] {
            for f in [f64_ceil, f64_floor, f64_trunc, f64_nearest, f64_sqrt] {
                assert!(is_arith_nan64(f(f64b(nan))), "{nan:#x}");
            }
        }
    }

    #[test]
    fn float_sqrt() {
        assert_eq!(f32_sqrt(4.0), Ok(2.0));
        assert_eq!(bits32(f32_sqrt(-0.0)), 0x8000_0000);
        assert!(is_arith_nan32(f32_sqrt(-1.0)));
        assert_eq!(f32_sqrt(f32::INFINITY), Ok(f32::INFINITY));
        assert_eq!(f64_sqrt(2.0), Ok(std::f64::consts::SQRT_2));
        assert_eq!(bits64(f64_sqrt(-0.0)), 0x8000_0000_0000_0000);
        assert!(is_arith_nan64(f64_sqrt(f64::NEG_INFINITY)));
    }

    // ---------------- conversions ----------------

    #[test]
    fn i32_trunc_f32_boundaries() {
        assert_eq!(i32_trunc_f32_s(-0.0), Ok(0));
        assert_eq!(i32_trunc_f32_s(f32b(1)), Ok(0));
        assert_eq!(i32_trunc_f32_s(-1.9), Ok(-1));
        assert_eq!(i32_trunc_f32_s(2147483520.0), Ok(2147483520));
        assert_eq!(i32_trunc_f32_s(-2147483648.0), Ok(i32::MIN));
        assert_eq!(i32_trunc_f32_s(2147483648.0), OVF);
        assert_eq!(i32_trunc_f32_s(-2147483904.0), OVF);
        assert_eq!(i32_trunc_f32_s(f32::INFINITY), OVF);
        assert_eq!(i32_trunc_f32_s(f32::NEG_INFINITY), OVF);
        assert_eq!(i32_trunc_f32_u(-0.0), Ok(0));
        assert_eq!(i32_trunc_f32_u(1.9), Ok(1));
        assert_eq!(i32_trunc_f32_u(2147483648.0), Ok(i32::MIN));
        assert_eq!(i32_trunc_f32_u(4294967040.0), Ok(-256));
        assert_eq!(i32_trunc_f32_u(f32b(0xbf66_6666)), Ok(0)); // -0x1.ccccccp-1
        assert_eq!(i32_trunc_f32_u(f32b(0xbf7f_ffff)), Ok(0)); // -0x1.fffffep-1
        assert_eq!(i32_trunc_f32_u(4294967296.0), OVF);
        assert_eq!(i32_trunc_f32_u(-1.0), OVF);
        assert_eq!(i32_trunc_f32_u(f32::INFINITY), OVF);
        assert_eq!(i32_trunc_f32_u(f32::NEG_INFINITY), OVF);
        for nan in [F32_NAN, F32_SNAN, F32_NEG_SNAN, 0xffc0_0000] {
            assert_eq!(i32_trunc_f32_s(f32b(nan)), BAD);
            assert_eq!(i32_trunc_f32_u(f32b(nan)), BAD);
        }
    }

    #[test]
    fn i32_trunc_f64_boundaries() {
        assert_eq!(i32_trunc_f64_s(-0.0), Ok(0));
        assert_eq!(i32_trunc_f64_s(f64b(1)), Ok(0));
        assert_eq!(i32_trunc_f64_s(2147483647.0), Ok(i32::MAX));
        assert_eq!(i32_trunc_f64_s(-2147483648.0), Ok(i32::MIN));
        assert_eq!(i32_trunc_f64_s(-2147483648.9), Ok(i32::MIN));
        assert_eq!(i32_trunc_f64_s(2147483647.9), Ok(i32::MAX));
        assert_eq!(i32_trunc_f64_s(2147483648.0), OVF);
        assert_eq!(i32_trunc_f64_s(-2147483649.0), OVF);
        assert_eq!(i32_trunc_f64_s(f64::INFINITY), OVF);
        assert_eq!(i32_trunc_f64_s(f64::NEG_INFINITY), OVF);
        assert_eq!(i32_trunc_f64_u(-0.0), Ok(0));
        assert_eq!(i32_trunc_f64_u(2147483648.0), Ok(i32::MIN));
        assert_eq!(i32_trunc_f64_u(4294967295.0), Ok(-1));
        assert_eq!(i32_trunc_f64_u(4294967295.9), Ok(-1));
        assert_eq!(i32_trunc_f64_u(-0.9), Ok(0));
        assert_eq!(i32_trunc_f64_u(-0.99999), Ok(0));
        assert_eq!(i32_trunc_f64_u(f64b(0xbfef_ffff_ffff_ffff)), Ok(0)); // -0x1.fffffffffffffp-1
        assert_eq!(i32_trunc_f64_u(1e8), Ok(100_000_000));
        assert_eq!(i32_trunc_f64_u(4294967296.0), OVF);
        assert_eq!(i32_trunc_f64_u(-1.0), OVF);
        assert_eq!(i32_trunc_f64_u(1e16), OVF);
        assert_eq!(i32_trunc_f64_u(1e30), OVF);
        assert_eq!(i32_trunc_f64_u(9223372036854775808.0), OVF);
        assert_eq!(i32_trunc_f64_u(f64::INFINITY), OVF);
        assert_eq!(i32_trunc_f64_u(f64::NEG_INFINITY), OVF);
        for nan in [F64_NAN, F64_SNAN, F64_NEG_SNAN] {
            assert_eq!(i32_trunc_f64_s(f64b(nan)), BAD);
            assert_eq!(i32_trunc_f64_u(f64b(nan)), BAD);
        }
    }

    #[test]
    fn i64_trunc_f32_boundaries() {
        assert_eq!(i64_trunc_f32_s(-0.0), Ok(0));
        assert_eq!(i64_trunc_f32_s(-1.5), Ok(-1));
        assert_eq!(i64_trunc_f32_s(4294967296.0), Ok(4294967296));
        assert_eq!(i64_trunc_f32_s(-4294967296.0), Ok(-4294967296));
        assert_eq!(
            i64_trunc_f32_s(9223371487098961920.0),
            Ok(9223371487098961920)
        );
        assert_eq!(i64_trunc_f32_s(-9223372036854775808.0), Ok(i64::MIN));
        assert_eq!(i64_trunc_f32_s(9223372036854775808.0), OVF64);
        assert_eq!(i64_trunc_f32_s(-9223373136366403584.0), OVF64);
        assert_eq!(i64_trunc_f32_s(f32::INFINITY), OVF64);
        assert_eq!(i64_trunc_f32_s(f32::NEG_INFINITY), OVF64);
        assert_eq!(i64_trunc_f32_u(-0.0), Ok(0));
        assert_eq!(i64_trunc_f32_u(4294967296.0), Ok(4294967296));
        assert_eq!(i64_trunc_f32_u(18446742974197923840.0), Ok(-1099511627776));
        assert_eq!(i64_trunc_f32_u(f32b(0xbf66_6666)), Ok(0));
        assert_eq!(i64_trunc_f32_u(f32b(0xbf7f_ffff)), Ok(0));
        assert_eq!(i64_trunc_f32_u(18446744073709551616.0), OVF64);
        assert_eq!(i64_trunc_f32_u(-1.0), OVF64);
        assert_eq!(i64_trunc_f32_u(f32::INFINITY), OVF64);
        assert_eq!(i64_trunc_f32_u(f32::NEG_INFINITY), OVF64);
        for nan in [F32_NAN, F32_SNAN, F32_NEG_SNAN] {
            assert_eq!(i64_trunc_f32_s(f32b(nan)), BAD64);
            assert_eq!(i64_trunc_f32_u(f32b(nan)), BAD64);
        }
    }

    #[test]
    fn i64_trunc_f64_boundaries() {
        assert_eq!(i64_trunc_f64_s(-0.0), Ok(0));
        assert_eq!(i64_trunc_f64_s(-1.9), Ok(-1));
        assert_eq!(
            i64_trunc_f64_s(9223372036854774784.0),
            Ok(9223372036854774784)
        );
        assert_eq!(i64_trunc_f64_s(-9223372036854775808.0), Ok(i64::MIN));
        assert_eq!(i64_trunc_f64_s(9223372036854775808.0), OVF64);
        assert_eq!(i64_trunc_f64_s(-9223372036854777856.0), OVF64);
        assert_eq!(i64_trunc_f64_s(f64::INFINITY), OVF64);
        assert_eq!(i64_trunc_f64_s(f64::NEG_INFINITY), OVF64);
        assert_eq!(i64_trunc_f64_u(-0.0), Ok(0));
        assert_eq!(i64_trunc_f64_u(4294967295.0), Ok(0xffff_ffff));
        assert_eq!(i64_trunc_f64_u(4294967296.0), Ok(0x1_0000_0000));
        assert_eq!(i64_trunc_f64_u(18446744073709549568.0), Ok(-2048));
        assert_eq!(i64_trunc_f64_u(f64b(0xbfec_cccc_cccc_cccd)), Ok(0));
        assert_eq!(i64_trunc_f64_u(f64b(0xbfef_ffff_ffff_ffff)), Ok(0));
        assert_eq!(i64_trunc_f64_u(1e8), Ok(100_000_000));
        assert_eq!(i64_trunc_f64_u(1e16), Ok(10_000_000_000_000_000));
        assert_eq!(i64_trunc_f64_u(9223372036854775808.0), Ok(i64::MIN));
        assert_eq!(i64_trunc_f64_u(18446744073709551616.0), OVF64);
        assert_eq!(i64_trunc_f64_u(-1.0), OVF64);
        assert_eq!(i64_trunc_f64_u(f64::INFINITY), OVF64);
        assert_eq!(i64_trunc_f64_u(f64::NEG_INFINITY), OVF64);
        for nan in [F64_NAN, F64_SNAN, F64_NEG_SNAN] {
            assert_eq!(i64_trunc_f64_s(f64b(nan)), BAD64);
            assert_eq!(i64_trunc_f64_u(f64b(nan)), BAD64);
        }
    }

    /// The trapping form and the saturating form agree wherever the former
    /// does not trap, for every float adjacent to each boundary.
    #[test]
    fn trunc_neighbours_of_boundaries() {
        type Conv<F, T> = fn(F) -> Result<T, TrapCode>;
        /// `xs` and their neighbours must convert iff their truncation lies
        /// in `lo..hi` (signed) or `0..hu` (unsigned), like `_sat` when so.
        fn check<F: Copy + std::fmt::Display, T: PartialEq + std::fmt::Debug>(
            xs: &[F],
            around: fn(F) -> [F; 3],
            trunc_wide: fn(F) -> f64,
            [s, s_sat, u, u_sat]: [Conv<F, T>; 4],
            (lo, hi, hu): (f64, f64, f64),
        ) {
            for y in xs.iter().flat_map(|&x| around(x)) {
                let t = trunc_wide(y);
                for (fits, f, sat) in [
                    ((lo..hi).contains(&t), s, s_sat),
                    ((0.0..hu).contains(&t), u, u_sat),
                ] {
                    assert_eq!(f(y).is_ok(), fits, "{y}");
                    if fits {
                        assert_eq!(f(y), sat(y), "{y}");
                    }
                }
            }
        }
        let around32 = |x: f32| [f32b(x.to_bits() - 1), x, f32b(x.to_bits() + 1)];
        let around64 = |x: f64| [f64b(x.to_bits() - 1), x, f64b(x.to_bits() + 1)];
        let wide32 = |x: f32| f64::from(x.trunc());
        let wide64 = |x: f64| x.trunc();
        let r32 = (-2147483648.0, 2147483648.0, 4294967296.0);
        let r64 = (
            -9223372036854775808.0,
            9223372036854775808.0,
            18446744073709551616.0,
        );
        let common = [-1.0, -0.5, 0.5, 1.0];
        let xs32 = [-2147483648.0, 2147483648.0, 4294967296.0];
        let xs64 = [
            -9223372036854775808.0,
            9223372036854775808.0,
            18446744073709551616.0,
        ];
        for xs in [&xs32[..], &common[..]] {
            let f32s: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
            let c = [
                i32_trunc_f32_s,
                i32_trunc_sat_f32_s,
                i32_trunc_f32_u,
                i32_trunc_sat_f32_u,
            ];
            check(&f32s, around32, wide32, c, r32);
            let c = [
                i32_trunc_f64_s,
                i32_trunc_sat_f64_s,
                i32_trunc_f64_u,
                i32_trunc_sat_f64_u,
            ];
            check(xs, around64, wide64, c, r32);
        }
        check(
            &[-2147483649.0],
            around64,
            wide64,
            [
                i32_trunc_f64_s,
                i32_trunc_sat_f64_s,
                i32_trunc_f64_u,
                i32_trunc_sat_f64_u,
            ],
            r32,
        );
        for xs in [&xs64[..], &common[..]] {
            let f32s: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
            let c = [
                i64_trunc_f32_s,
                i64_trunc_sat_f32_s,
                i64_trunc_f32_u,
                i64_trunc_sat_f32_u,
            ];
            check(&f32s, around32, wide32, c, r64);
            let c = [
                i64_trunc_f64_s,
                i64_trunc_sat_f64_s,
                i64_trunc_f64_u,
                i64_trunc_sat_f64_u,
            ];
            check(xs, around64, wide64, c, r64);
        }
    }

    #[test]
    fn trunc_sat_saturates() {
        for nan in [F32_NAN, F32_SNAN, F32_NEG_SNAN] {
            assert_eq!(i32_trunc_sat_f32_s(f32b(nan)), Ok(0));
            assert_eq!(i32_trunc_sat_f32_u(f32b(nan)), Ok(0));
            assert_eq!(i64_trunc_sat_f32_s(f32b(nan)), Ok(0));
            assert_eq!(i64_trunc_sat_f32_u(f32b(nan)), Ok(0));
        }
        for nan in [F64_NAN, F64_SNAN, F64_NEG_SNAN] {
            assert_eq!(i32_trunc_sat_f64_s(f64b(nan)), Ok(0));
            assert_eq!(i32_trunc_sat_f64_u(f64b(nan)), Ok(0));
            assert_eq!(i64_trunc_sat_f64_s(f64b(nan)), Ok(0));
            assert_eq!(i64_trunc_sat_f64_u(f64b(nan)), Ok(0));
        }
        assert_eq!(i32_trunc_sat_f32_s(2147483648.0), Ok(i32::MAX));
        assert_eq!(i32_trunc_sat_f32_s(-2147483904.0), Ok(i32::MIN));
        assert_eq!(i32_trunc_sat_f32_s(f32::INFINITY), Ok(i32::MAX));
        assert_eq!(i32_trunc_sat_f32_s(-1.9), Ok(-1));
        assert_eq!(i32_trunc_sat_f32_u(4294967296.0), Ok(-1));
        assert_eq!(i32_trunc_sat_f32_u(-1.0), Ok(0));
        assert_eq!(i32_trunc_sat_f32_u(f32::NEG_INFINITY), Ok(0));
        assert_eq!(i32_trunc_sat_f32_u(4294967040.0), Ok(-256));
        assert_eq!(i32_trunc_sat_f64_s(2147483648.0), Ok(i32::MAX));
        assert_eq!(i32_trunc_sat_f64_s(-2147483649.0), Ok(i32::MIN));
        assert_eq!(i32_trunc_sat_f64_s(-2147483648.9), Ok(i32::MIN));
        assert_eq!(i32_trunc_sat_f64_u(4294967295.9), Ok(-1));
        assert_eq!(i32_trunc_sat_f64_u(1e16), Ok(-1));
        assert_eq!(i32_trunc_sat_f64_u(-0.9), Ok(0));
        assert_eq!(i32_trunc_sat_f64_u(-1e30), Ok(0));
        assert_eq!(i64_trunc_sat_f32_s(9223372036854775808.0), Ok(i64::MAX));
        assert_eq!(i64_trunc_sat_f32_s(-9223373136366403584.0), Ok(i64::MIN));
        assert_eq!(i64_trunc_sat_f32_u(18446744073709551616.0), Ok(-1));
        assert_eq!(i64_trunc_sat_f32_u(-1.0), Ok(0));
        assert_eq!(i64_trunc_sat_f64_s(f64::INFINITY), Ok(i64::MAX));
        assert_eq!(i64_trunc_sat_f64_s(f64::NEG_INFINITY), Ok(i64::MIN));
        assert_eq!(i64_trunc_sat_f64_s(-9223372036854775808.0), Ok(i64::MIN));
        assert_eq!(i64_trunc_sat_f64_u(18446744073709551616.0), Ok(-1));
        assert_eq!(i64_trunc_sat_f64_u(18446744073709549568.0), Ok(-2048));
        assert_eq!(i64_trunc_sat_f64_u(f64::NEG_INFINITY), Ok(0));
    }

    #[test]
    fn int_to_float_rounds_to_nearest_even() {
        assert_eq!(f32_convert_i32_s(1), Ok(1.0));
        assert_eq!(f32_convert_i32_s(-1), Ok(-1.0));
        assert_eq!(f32_convert_i32_s(i32::MIN), Ok(-2147483648.0));
        assert_eq!(f32_convert_i32_s(i32::MAX), Ok(2147483648.0));
        assert_eq!(f32_convert_i32_s(1234567890), Ok(1234567936.0));
        // Ties to even: 16777217 -> 16777216, 16777219 -> 16777220.
        assert_eq!(f32_convert_i32_s(16777217), Ok(16777216.0));
        assert_eq!(f32_convert_i32_s(-16777217), Ok(-16777216.0));
        assert_eq!(f32_convert_i32_s(16777219), Ok(16777220.0));
        assert_eq!(f32_convert_i32_u(-1), Ok(4294967296.0));
        assert_eq!(f32_convert_i32_u(i32::MIN), Ok(2147483648.0));
        assert_eq!(f32_convert_i32_u(0x1234_5678), Ok(305419904.0));
        assert_eq!(f32_convert_i32_u(0xffff_ff80_u32 as i32), Ok(4294967296.0));
        assert_eq!(f32_convert_i32_u(0xffff_ff7f_u32 as i32), Ok(4294967040.0));
        assert_eq!(f32_convert_i64_s(i64::MIN), Ok(-9223372036854775808.0));
        assert_eq!(f32_convert_i64_s(i64::MAX), Ok(9223372036854775808.0));
        assert_eq!(f32_convert_i64_s(9007199791611905), Ok(9007200328482816.0));
        assert_eq!(
            f32_convert_i64_s(-9007199791611905),
            Ok(-9007200328482816.0)
        );
        assert_eq!(f32_convert_i64_u(-1), Ok(18446744073709551616.0));
        assert_eq!(f32_convert_i64_u(i64::MIN), Ok(9223372036854775808.0));
        assert_eq!(
            f32_convert_i64_u(0x0020_0000_2000_0001),
            Ok(9007200328482816.0)
        );
        assert_eq!(
            f32_convert_i64_u(0xffff_ff7f_ffff_ffff_u64 as i64),
            Ok(18446742974197923840.0)
        );
        assert_eq!(f64_convert_i32_s(i32::MIN), Ok(-2147483648.0));
        assert_eq!(f64_convert_i32_u(-1), Ok(4294967295.0));
        assert_eq!(f64_convert_i32_u(i32::MIN), Ok(2147483648.0));
        assert_eq!(f64_convert_i64_s(i64::MIN), Ok(-9223372036854775808.0));
        assert_eq!(f64_convert_i64_s(9007199254740993), Ok(9007199254740992.0));
        assert_eq!(
            f64_convert_i64_s(-9007199254740993),
            Ok(-9007199254740992.0)
        );
        assert_eq!(f64_convert_i64_s(9007199254740995), Ok(9007199254740996.0));
        assert_eq!(f64_convert_i64_u(-1), Ok(18446744073709551616.0));
        assert_eq!(f64_convert_i64_u(i64::MIN), Ok(9223372036854775808.0));
        assert_eq!(
            f64_convert_i64_u(0xffff_ffff_ffff_fbff_u64 as i64),
            Ok(18446744073709549568.0)
        );
        // Ties at the top: 2^64 - 1024 lies between 2^64 - 2048 (odd) and 2^64.
        assert_eq!(
            f64_convert_i64_u(0xffff_ffff_ffff_fc00_u64 as i64),
            Ok(18446744073709551616.0)
        );
        assert_eq!(
            f64_convert_i64_u(0xffff_ffff_ffff_f400_u64 as i64),
            Ok(18446744073709547520.0)
        );
        assert_eq!(
            f64_convert_i64_u(0xffff_ffff_ffff_f401_u64 as i64),
            Ok(18446744073709549568.0)
        );
        assert_eq!(
            f64_convert_i64_u(0x8000_0000_0000_0400_u64 as i64),
            Ok(9223372036854775808.0)
        );
        assert_eq!(
            f64_convert_i64_u(0x8000_0000_0000_0401_u64 as i64),
            Ok(9223372036854777856.0)
        );
        assert_eq!(
            f32_convert_i64_u(0xffff_fe80_0000_0001_u64 as i64),
            Ok(18446742974197923840.0)
        );
        assert_eq!(
            f32_convert_i64_u(0x8000_0080_0000_0001_u64 as i64),
            Ok(9223373136366403584.0)
        );
        assert_eq!(
            f64_convert_i64_u(0xffff_ffff_ffff_fc01_u64 as i64),
            Ok(18446744073709551616.0)
        );
        assert_eq!(
            f64_convert_i64_u(0x0020_0000_0000_0001),
            Ok(9007199254740992.0)
        );
        assert_eq!(
            f64_convert_i64_u(0x0020_0000_0000_0003),
            Ok(9007199254740996.0)
        );
    }

    #[test]
    fn demote_and_promote() {
        assert_eq!(bits32(f32_demote_f64(-0.0)), 0x8000_0000);
        assert_eq!(f32_demote_f64(1.0), Ok(1.0));
        assert_eq!(f32_demote_f64(f64::MAX), Ok(f32::INFINITY));
        assert_eq!(f32_demote_f64(-f64::MAX), Ok(f32::NEG_INFINITY));
        // Largest f32 and the rounding boundary just above it.
        assert_eq!(
            bits32(f32_demote_f64(f64b(0x47ef_ffff_efff_ffff))),
            0x7f7f_ffff
        );
        assert_eq!(
            f32_demote_f64(f64b(0x47ef_ffff_f000_0000)),
            Ok(f32::INFINITY)
        );
        // Tie to even in the mantissa: 1 + 2^-24 -> 1, 1 + 3*2^-24 -> 1 + 2^-22.
        assert_eq!(f32_demote_f64(1.0 + f64::powi(2.0, -24)), Ok(1.0));
        assert_eq!(
            bits32(f32_demote_f64(1.0 + 3.0 * f64::powi(2.0, -24))),
            0x3f80_0002
        );
        // Underflow to the smallest subnormal and to zero (ties to even).
        assert_eq!(bits32(f32_demote_f64(f64b(0x36a0_0000_0000_0000))), 1);
        assert_eq!(bits32(f32_demote_f64(f64b(0x3690_0000_0000_0000))), 0);
        assert_eq!(
            bits32(f32_demote_f64(-f64b(0x3690_0000_0000_0000))),
            0x8000_0000
        );
        for nan in [F64_NAN, F64_SNAN, F64_NEG_SNAN] {
            assert!(is_arith_nan32(f32_demote_f64(f64b(nan))));
        }
        assert_eq!(bits64(f64_promote_f32(-0.0)), 0x8000_0000_0000_0000);
        assert_eq!(f64_promote_f32(f32::MAX), Ok(f32::MAX as f64));
        assert_eq!(f64_promote_f32(f32b(1)), Ok(f64b(0x36a0_0000_0000_0000)));
        assert_eq!(f64_promote_f32(f32::NEG_INFINITY), Ok(f64::NEG_INFINITY));
        for nan in [F32_NAN, F32_SNAN, F32_NEG_SNAN] {
            assert!(is_arith_nan64(f64_promote_f32(f32b(nan))));
        }
    }

    #[test]
    fn reinterpret_is_bit_exact() {
        for bits in [
            0u32,
            0x8000_0000,
            F32_NAN,
            F32_SNAN,
            F32_NEG_SNAN,
            0x7f80_0001,
            0xffff_ffff,
            1,
        ] {
            assert_eq!(i32_reinterpret_f32(f32b(bits)), Ok(bits as i32));
            assert_eq!(bits32(f32_reinterpret_i32(bits as i32)), bits);
        }
        for bits in [
            0u64,
            0x8000_0000_0000_0000,
            F64_NAN,
            F64_SNAN,
            F64_NEG_SNAN,
            0x7ff0_0000_0000_0001,
            u64::MAX,
        ] {
            assert_eq!(i64_reinterpret_f64(f64b(bits)), Ok(bits as i64));
            assert_eq!(bits64(f64_reinterpret_i64(bits as i64)), bits);
        }
        assert_eq!(i32_reinterpret_f32(1.0), Ok(0x3f80_0000));
        assert_eq!(
            i64_reinterpret_f64(-1.0),
            Ok(0xbff0_0000_0000_0000_u64 as i64)
        );
    }
}
