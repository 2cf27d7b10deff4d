//! The register bytecode: one table declares the whole instruction set.
//!
//! [`for_each_instr!`] lists every instruction once, grouped into families.
//! The `Instr` enum below, the translator's mapping from Wasm operators
//! (`translate.rs`) and the executor's handlers (`exec.rs`) are all expanded
//! from it, so adding an operator is one table line plus, for the irregular
//! `other` family, one handler.
//!
//! Invariants:
//! * Registers ([`Reg`]) are frame-relative slot indices; the translator
//!   guarantees every register an instruction names is below the function's
//!   `num_regs`, and the executor reserves that many slots for each frame.
//! * Branch offsets are relative to the index of the branch instruction
//!   itself (`BrTable` entries are `Br` instructions following it).
//! * Instructions that produce a value read all their operands before
//!   writing `dst`, so `dst` may alias an operand.
//! * `*Imm` instructions carry their right operand as a sign-extended `i32`.
//! * Memory instructions without the `Mem` suffix address memory 0.

use crate::trap::TrapCode;

/// A register: a 64-bit slot of the current frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct Reg(pub u16);

/// A branch distance in instructions, relative to the branch itself.
pub type BranchOffset = i32;

/// Calls `$m!` with the instruction table.
///
/// Families and their columns:
/// * `int_binop`: (Instr, ImmInstr, wasm operator, `ops` fn, operand type)
/// * `int_cmp`: (Instr, ImmInstr, wasm operator, BrInstr, BrImmInstr,
///   negated BrInstr, negated BrImmInstr, `ops` fn, operand type)
/// * `float_binop`: (Instr, ImmInstr, ImmLInstr, wasm operator, `ops` fn,
///   type); `ImmInstr` has a constant right operand, `ImmLInstr` a constant
///   left one, as the value's bits in `lo`/`hi`.
/// * `float_cmp`: (Instr, wasm operator, `ops` fn, type)
/// * `unop`: (Instr, wasm operator, `ops` fn, operand type)
/// * `load`: (Instr, InstrMem, InstrAdd, InstrAddImm, InstrIdx, wasm
///   operator, stored type, result type); `InstrAdd` addresses memory 0 at
///   `base + idx`, `InstrAddImm` at `base + imm` and `InstrIdx` at
///   `base + (idx << shift)` (all wrapping, as the `i32.add` and `i32.shl`
///   they replace) plus `offset`.
/// * Superinstructions, each replacing two adjacent instructions where the
///   first one's result is a temporary consumed only by the second one
///   (see `Translator::fuse_pair`); the outer operators of `fused_rr_r` and
///   `fused_ri_r` are commutative, so the inner result may have been either
///   of their operands:
///   * `fused_rr_r`: (Instr, inner Instr, outer Instr, inner fn, outer fn,
///     type): `dst = outer(inner(a, b), c)`;
///   * `fused_rr_i`: (Instr, inner Instr, outer ImmInstr, inner fn, outer
///     fn, type): `dst = outer(inner(a, b), imm)`;
///   * `fused_ri_r`: (Instr, inner ImmInstr, outer Instr, inner fn, outer
///     fn, type): `dst = outer(inner(a, imm), c)`;
///   * `fused_ii`: (Instr, inner ImmInstr, outer ImmInstr, inner fn, outer
///     fn, type): `dst = outer(inner(a, imm1), imm2)`.
/// * `store`: (Instr, InstrMem, InstrImm, wasm operator, operand type,
///   stored type); `InstrImm` stores a constant: an `i32` that is the value's
///   bits, sign-extended for 64-bit values.
/// * `other`: hand-written variants with their fields.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_instr {
    ($m:ident) => {
        $m! {
            int_binop {
                (I32Add, I32AddImm, I32Add, i32_add, i32)
                (I32Sub, I32SubImm, I32Sub, i32_sub, i32)
                (I32Mul, I32MulImm, I32Mul, i32_mul, i32)
                (I32DivS, I32DivSImm, I32DivS, i32_div_s, i32)
                (I32DivU, I32DivUImm, I32DivU, i32_div_u, i32)
                (I32RemS, I32RemSImm, I32RemS, i32_rem_s, i32)
                (I32RemU, I32RemUImm, I32RemU, i32_rem_u, i32)
                (I32And, I32AndImm, I32And, i32_and, i32)
                (I32Or, I32OrImm, I32Or, i32_or, i32)
                (I32Xor, I32XorImm, I32Xor, i32_xor, i32)
                (I32Shl, I32ShlImm, I32Shl, i32_shl, i32)
                (I32ShrS, I32ShrSImm, I32ShrS, i32_shr_s, i32)
                (I32ShrU, I32ShrUImm, I32ShrU, i32_shr_u, i32)
                (I32Rotl, I32RotlImm, I32Rotl, i32_rotl, i32)
                (I32Rotr, I32RotrImm, I32Rotr, i32_rotr, i32)
                (I64Add, I64AddImm, I64Add, i64_add, i64)
                (I64Sub, I64SubImm, I64Sub, i64_sub, i64)
                (I64Mul, I64MulImm, I64Mul, i64_mul, i64)
                (I64DivS, I64DivSImm, I64DivS, i64_div_s, i64)
                (I64DivU, I64DivUImm, I64DivU, i64_div_u, i64)
                (I64RemS, I64RemSImm, I64RemS, i64_rem_s, i64)
                (I64RemU, I64RemUImm, I64RemU, i64_rem_u, i64)
                (I64And, I64AndImm, I64And, i64_and, i64)
                (I64Or, I64OrImm, I64Or, i64_or, i64)
                (I64Xor, I64XorImm, I64Xor, i64_xor, i64)
                (I64Shl, I64ShlImm, I64Shl, i64_shl, i64)
                (I64ShrS, I64ShrSImm, I64ShrS, i64_shr_s, i64)
                (I64ShrU, I64ShrUImm, I64ShrU, i64_shr_u, i64)
                (I64Rotl, I64RotlImm, I64Rotl, i64_rotl, i64)
                (I64Rotr, I64RotrImm, I64Rotr, i64_rotr, i64)
            }
            int_cmp {
                (I32Eq, I32EqImm, I32Eq, BrI32Eq, BrI32EqImm, BrI32Ne, BrI32NeImm, i32_eq, i32)
                (I32Ne, I32NeImm, I32Ne, BrI32Ne, BrI32NeImm, BrI32Eq, BrI32EqImm, i32_ne, i32)
                (I32LtS, I32LtSImm, I32LtS, BrI32LtS, BrI32LtSImm, BrI32GeS, BrI32GeSImm, i32_lt_s, i32)
                (I32LtU, I32LtUImm, I32LtU, BrI32LtU, BrI32LtUImm, BrI32GeU, BrI32GeUImm, i32_lt_u, i32)
                (I32GtS, I32GtSImm, I32GtS, BrI32GtS, BrI32GtSImm, BrI32LeS, BrI32LeSImm, i32_gt_s, i32)
                (I32GtU, I32GtUImm, I32GtU, BrI32GtU, BrI32GtUImm, BrI32LeU, BrI32LeUImm, i32_gt_u, i32)
                (I32LeS, I32LeSImm, I32LeS, BrI32LeS, BrI32LeSImm, BrI32GtS, BrI32GtSImm, i32_le_s, i32)
                (I32LeU, I32LeUImm, I32LeU, BrI32LeU, BrI32LeUImm, BrI32GtU, BrI32GtUImm, i32_le_u, i32)
                (I32GeS, I32GeSImm, I32GeS, BrI32GeS, BrI32GeSImm, BrI32LtS, BrI32LtSImm, i32_ge_s, i32)
                (I32GeU, I32GeUImm, I32GeU, BrI32GeU, BrI32GeUImm, BrI32LtU, BrI32LtUImm, i32_ge_u, i32)
                (I64Eq, I64EqImm, I64Eq, BrI64Eq, BrI64EqImm, BrI64Ne, BrI64NeImm, i64_eq, i64)
                (I64Ne, I64NeImm, I64Ne, BrI64Ne, BrI64NeImm, BrI64Eq, BrI64EqImm, i64_ne, i64)
                (I64LtS, I64LtSImm, I64LtS, BrI64LtS, BrI64LtSImm, BrI64GeS, BrI64GeSImm, i64_lt_s, i64)
                (I64LtU, I64LtUImm, I64LtU, BrI64LtU, BrI64LtUImm, BrI64GeU, BrI64GeUImm, i64_lt_u, i64)
                (I64GtS, I64GtSImm, I64GtS, BrI64GtS, BrI64GtSImm, BrI64LeS, BrI64LeSImm, i64_gt_s, i64)
                (I64GtU, I64GtUImm, I64GtU, BrI64GtU, BrI64GtUImm, BrI64LeU, BrI64LeUImm, i64_gt_u, i64)
                (I64LeS, I64LeSImm, I64LeS, BrI64LeS, BrI64LeSImm, BrI64GtS, BrI64GtSImm, i64_le_s, i64)
                (I64LeU, I64LeUImm, I64LeU, BrI64LeU, BrI64LeUImm, BrI64GtU, BrI64GtUImm, i64_le_u, i64)
                (I64GeS, I64GeSImm, I64GeS, BrI64GeS, BrI64GeSImm, BrI64LtS, BrI64LtSImm, i64_ge_s, i64)
                (I64GeU, I64GeUImm, I64GeU, BrI64GeU, BrI64GeUImm, BrI64LtU, BrI64LtUImm, i64_ge_u, i64)
            }
            float_binop {
                (F32Add, F32AddImm, F32AddImmL, F32Add, f32_add, f32)
                (F32Sub, F32SubImm, F32SubImmL, F32Sub, f32_sub, f32)
                (F32Mul, F32MulImm, F32MulImmL, F32Mul, f32_mul, f32)
                (F32Div, F32DivImm, F32DivImmL, F32Div, f32_div, f32)
                (F32Min, F32MinImm, F32MinImmL, F32Min, f32_min, f32)
                (F32Max, F32MaxImm, F32MaxImmL, F32Max, f32_max, f32)
                (F32Copysign, F32CopysignImm, F32CopysignImmL, F32Copysign, f32_copysign, f32)
                (F64Add, F64AddImm, F64AddImmL, F64Add, f64_add, f64)
                (F64Sub, F64SubImm, F64SubImmL, F64Sub, f64_sub, f64)
                (F64Mul, F64MulImm, F64MulImmL, F64Mul, f64_mul, f64)
                (F64Div, F64DivImm, F64DivImmL, F64Div, f64_div, f64)
                (F64Min, F64MinImm, F64MinImmL, F64Min, f64_min, f64)
                (F64Max, F64MaxImm, F64MaxImmL, F64Max, f64_max, f64)
                (F64Copysign, F64CopysignImm, F64CopysignImmL, F64Copysign, f64_copysign, f64)
            }
            float_cmp {
                (F32Eq, F32Eq, f32_eq, f32)
                (F32Ne, F32Ne, f32_ne, f32)
                (F32Lt, F32Lt, f32_lt, f32)
                (F32Gt, F32Gt, f32_gt, f32)
                (F32Le, F32Le, f32_le, f32)
                (F32Ge, F32Ge, f32_ge, f32)
                (F64Eq, F64Eq, f64_eq, f64)
                (F64Ne, F64Ne, f64_ne, f64)
                (F64Lt, F64Lt, f64_lt, f64)
                (F64Gt, F64Gt, f64_gt, f64)
                (F64Le, F64Le, f64_le, f64)
                (F64Ge, F64Ge, f64_ge, f64)
            }
            unop {
                (I32Eqz, I32Eqz, i32_eqz, i32)
                (I32Clz, I32Clz, i32_clz, i32)
                (I32Ctz, I32Ctz, i32_ctz, i32)
                (I32Popcnt, I32Popcnt, i32_popcnt, i32)
                (I64Eqz, I64Eqz, i64_eqz, i64)
                (I64Clz, I64Clz, i64_clz, i64)
                (I64Ctz, I64Ctz, i64_ctz, i64)
                (I64Popcnt, I64Popcnt, i64_popcnt, i64)
                (F32Abs, F32Abs, f32_abs, f32)
                (F32Neg, F32Neg, f32_neg, f32)
                (F32Ceil, F32Ceil, f32_ceil, f32)
                (F32Floor, F32Floor, f32_floor, f32)
                (F32Trunc, F32Trunc, f32_trunc, f32)
                (F32Nearest, F32Nearest, f32_nearest, f32)
                (F32Sqrt, F32Sqrt, f32_sqrt, f32)
                (F64Abs, F64Abs, f64_abs, f64)
                (F64Neg, F64Neg, f64_neg, f64)
                (F64Ceil, F64Ceil, f64_ceil, f64)
                (F64Floor, F64Floor, f64_floor, f64)
                (F64Trunc, F64Trunc, f64_trunc, f64)
                (F64Nearest, F64Nearest, f64_nearest, f64)
                (F64Sqrt, F64Sqrt, f64_sqrt, f64)
                (I32WrapI64, I32WrapI64, i32_wrap_i64, i64)
                (I32TruncF32S, I32TruncF32S, i32_trunc_f32_s, f32)
                (I32TruncF32U, I32TruncF32U, i32_trunc_f32_u, f32)
                (I32TruncF64S, I32TruncF64S, i32_trunc_f64_s, f64)
                (I32TruncF64U, I32TruncF64U, i32_trunc_f64_u, f64)
                (I64ExtendI32S, I64ExtendI32S, i64_extend_i32_s, i32)
                (I64ExtendI32U, I64ExtendI32U, i64_extend_i32_u, i32)
                (I64TruncF32S, I64TruncF32S, i64_trunc_f32_s, f32)
                (I64TruncF32U, I64TruncF32U, i64_trunc_f32_u, f32)
                (I64TruncF64S, I64TruncF64S, i64_trunc_f64_s, f64)
                (I64TruncF64U, I64TruncF64U, i64_trunc_f64_u, f64)
                (F32ConvertI32S, F32ConvertI32S, f32_convert_i32_s, i32)
                (F32ConvertI32U, F32ConvertI32U, f32_convert_i32_u, i32)
                (F32ConvertI64S, F32ConvertI64S, f32_convert_i64_s, i64)
                (F32ConvertI64U, F32ConvertI64U, f32_convert_i64_u, i64)
                (F32DemoteF64, F32DemoteF64, f32_demote_f64, f64)
                (F64ConvertI32S, F64ConvertI32S, f64_convert_i32_s, i32)
                (F64ConvertI32U, F64ConvertI32U, f64_convert_i32_u, i32)
                (F64ConvertI64S, F64ConvertI64S, f64_convert_i64_s, i64)
                (F64ConvertI64U, F64ConvertI64U, f64_convert_i64_u, i64)
                (F64PromoteF32, F64PromoteF32, f64_promote_f32, f32)
                (I32ReinterpretF32, I32ReinterpretF32, i32_reinterpret_f32, f32)
                (I64ReinterpretF64, I64ReinterpretF64, i64_reinterpret_f64, f64)
                (F32ReinterpretI32, F32ReinterpretI32, f32_reinterpret_i32, i32)
                (F64ReinterpretI64, F64ReinterpretI64, f64_reinterpret_i64, i64)
                (I32Extend8S, I32Extend8S, i32_extend8_s, i32)
                (I32Extend16S, I32Extend16S, i32_extend16_s, i32)
                (I64Extend8S, I64Extend8S, i64_extend8_s, i64)
                (I64Extend16S, I64Extend16S, i64_extend16_s, i64)
                (I64Extend32S, I64Extend32S, i64_extend32_s, i64)
                (I32TruncSatF32S, I32TruncSatF32S, i32_trunc_sat_f32_s, f32)
                (I32TruncSatF32U, I32TruncSatF32U, i32_trunc_sat_f32_u, f32)
                (I32TruncSatF64S, I32TruncSatF64S, i32_trunc_sat_f64_s, f64)
                (I32TruncSatF64U, I32TruncSatF64U, i32_trunc_sat_f64_u, f64)
                (I64TruncSatF32S, I64TruncSatF32S, i64_trunc_sat_f32_s, f32)
                (I64TruncSatF32U, I64TruncSatF32U, i64_trunc_sat_f32_u, f32)
                (I64TruncSatF64S, I64TruncSatF64S, i64_trunc_sat_f64_s, f64)
                (I64TruncSatF64U, I64TruncSatF64U, i64_trunc_sat_f64_u, f64)
            }
            load {
                (I32Load, I32LoadMem, I32LoadAdd, I32LoadAddImm, I32LoadIdx, I32Load, i32, i32)
                (I64Load, I64LoadMem, I64LoadAdd, I64LoadAddImm, I64LoadIdx, I64Load, i64, i64)
                (F32Load, F32LoadMem, F32LoadAdd, F32LoadAddImm, F32LoadIdx, F32Load, f32, f32)
                (F64Load, F64LoadMem, F64LoadAdd, F64LoadAddImm, F64LoadIdx, F64Load, f64, f64)
                (I32Load8S, I32Load8SMem, I32Load8SAdd, I32Load8SAddImm, I32Load8SIdx, I32Load8S, i8, i32)
                (I32Load8U, I32Load8UMem, I32Load8UAdd, I32Load8UAddImm, I32Load8UIdx, I32Load8U, u8, i32)
                (I32Load16S, I32Load16SMem, I32Load16SAdd, I32Load16SAddImm, I32Load16SIdx, I32Load16S, i16, i32)
                (I32Load16U, I32Load16UMem, I32Load16UAdd, I32Load16UAddImm, I32Load16UIdx, I32Load16U, u16, i32)
                (I64Load8S, I64Load8SMem, I64Load8SAdd, I64Load8SAddImm, I64Load8SIdx, I64Load8S, i8, i64)
                (I64Load8U, I64Load8UMem, I64Load8UAdd, I64Load8UAddImm, I64Load8UIdx, I64Load8U, u8, i64)
                (I64Load16S, I64Load16SMem, I64Load16SAdd, I64Load16SAddImm, I64Load16SIdx, I64Load16S, i16, i64)
                (I64Load16U, I64Load16UMem, I64Load16UAdd, I64Load16UAddImm, I64Load16UIdx, I64Load16U, u16, i64)
                (I64Load32S, I64Load32SMem, I64Load32SAdd, I64Load32SAddImm, I64Load32SIdx, I64Load32S, i32, i64)
                (I64Load32U, I64Load32UMem, I64Load32UAdd, I64Load32UAddImm, I64Load32UIdx, I64Load32U, u32, i64)
            }
            fused_rr_r {
                (I32MulAdd, I32Mul, I32Add, i32_mul, i32_add, i32)
                (I64MulAdd, I64Mul, I64Add, i64_mul, i64_add, i64)
                (I32AddAdd, I32Add, I32Add, i32_add, i32_add, i32)
                (I64AddAdd, I64Add, I64Add, i64_add, i64_add, i64)
                (I32XorXor, I32Xor, I32Xor, i32_xor, i32_xor, i32)
                (I64XorXor, I64Xor, I64Xor, i64_xor, i64_xor, i64)
                (I32XorAnd, I32Xor, I32And, i32_xor, i32_and, i32)
                (I32AndXor, I32And, I32Xor, i32_and, i32_xor, i32)
                (F64MulAdd, F64Mul, F64Add, f64_mul, f64_add, f64)
                (F64SubMul, F64Sub, F64Mul, f64_sub, f64_mul, f64)
                (F64MulMul, F64Mul, F64Mul, f64_mul, f64_mul, f64)
            }
            fused_rr_i {
                (I32XorRotlImm, I32Xor, I32RotlImm, i32_xor, i32_rotl, i32)
                (I64XorRotlImm, I64Xor, I64RotlImm, i64_xor, i64_rotl, i64)
                (I32AddAndImm, I32Add, I32AndImm, i32_add, i32_and, i32)
                (I32XorAndImm, I32Xor, I32AndImm, i32_xor, i32_and, i32)
                (I32SubAndImm, I32Sub, I32AndImm, i32_sub, i32_and, i32)
                (I32AddShrUImm, I32Add, I32ShrUImm, i32_add, i32_shr_u, i32)
                (I64AddShrUImm, I64Add, I64ShrUImm, i64_add, i64_shr_u, i64)
            }
            fused_ri_r {
                (I32ShlImmAdd, I32ShlImm, I32Add, i32_shl, i32_add, i32)
                (I32RotlImmXor, I32RotlImm, I32Xor, i32_rotl, i32_xor, i32)
                (I64RotlImmXor, I64RotlImm, I64Xor, i64_rotl, i64_xor, i64)
                (I32ShrUImmAnd, I32ShrUImm, I32And, i32_shr_u, i32_and, i32)
                (I64ShrUImmAnd, I64ShrUImm, I64And, i64_shr_u, i64_and, i64)
                (I64ShrUImmAdd, I64ShrUImm, I64Add, i64_shr_u, i64_add, i64)
                (I32AddImmXor, I32AddImm, I32Xor, i32_add, i32_xor, i32)
                (I32AddImmAdd, I32AddImm, I32Add, i32_add, i32_add, i32)
                (I32ShrUImmXor, I32ShrUImm, I32Xor, i32_shr_u, i32_xor, i32)
                (I32ShlImmXor, I32ShlImm, I32Xor, i32_shl, i32_xor, i32)
                (I64ShrUImmXor, I64ShrUImm, I64Xor, i64_shr_u, i64_xor, i64)
                (I64ShlImmXor, I64ShlImm, I64Xor, i64_shl, i64_xor, i64)
                (I32XorImmAnd, I32XorImm, I32And, i32_xor, i32_and, i32)
            }
            fused_ii {
                (I32AddImmXorImm, I32AddImm, I32XorImm, i32_add, i32_xor, i32)
                (I32XorImmAddImm, I32XorImm, I32AddImm, i32_xor, i32_add, i32)
                (I32XorImmXorImm, I32XorImm, I32XorImm, i32_xor, i32_xor, i32)
                (I32XorImmShrUImm, I32XorImm, I32ShrUImm, i32_xor, i32_shr_u, i32)
                (I32AddImmShrUImm, I32AddImm, I32ShrUImm, i32_add, i32_shr_u, i32)
                (I32ShrUImmAndImm, I32ShrUImm, I32AndImm, i32_shr_u, i32_and, i32)
                (I32OrImmAddImm, I32OrImm, I32AddImm, i32_or, i32_add, i32)
                (I32AddImmLtUImm, I32AddImm, I32LtUImm, i32_add, i32_lt_u, i32)
                (I32ShlImmAddImm, I32ShlImm, I32AddImm, i32_shl, i32_add, i32)
                (I32AndImmRotrImm, I32AndImm, I32RotrImm, i32_and, i32_rotr, i32)
                (I32RotrImmAndImm, I32RotrImm, I32AndImm, i32_rotr, i32_and, i32)
                (I64ShrUImmAndImm, I64ShrUImm, I64AndImm, i64_shr_u, i64_and, i64)
                (I64ShlImmShrUImm, I64ShlImm, I64ShrUImm, i64_shl, i64_shr_u, i64)
            }
            store {
                (I32Store, I32StoreMem, I32StoreImm, I32Store, i32, i32)
                (I64Store, I64StoreMem, I64StoreImm, I64Store, i64, i64)
                (F32Store, F32StoreMem, F32StoreImm, F32Store, f32, f32)
                (F64Store, F64StoreMem, F64StoreImm, F64Store, f64, f64)
                (I32Store8, I32Store8Mem, I32Store8Imm, I32Store8, i32, u8)
                (I32Store16, I32Store16Mem, I32Store16Imm, I32Store16, i32, u16)
                (I64Store8, I64Store8Mem, I64Store8Imm, I64Store8, i64, u8)
                (I64Store16, I64Store16Mem, I64Store16Imm, I64Store16, i64, u16)
                (I64Store32, I64Store32Mem, I64Store32Imm, I64Store32, i64, u32)
            }
            other {
                /// Traps with the given code (`unreachable`, known-bad code).
                Trap { code: TrapCode }
                /// Counts one unit of fuel (function entry, loop header).
                ConsumeFuel {}
                Copy { dst: Reg, src: Reg }
                /// Copies `len` consecutive registers (overlap-safe).
                CopySpan { dst: Reg, src: Reg, len: u16 }
                ConstI32 { dst: Reg, value: i32 }
                Const64 { dst: Reg, lo: u32, hi: u32 }
                Select { dst: Reg, cond: Reg, a: Reg, b: Reg }
                Br { offset: BranchOffset }
                BrIfNez { cond: Reg, offset: BranchOffset }
                BrIfEqz { cond: Reg, offset: BranchOffset }
                /// `reg += imm` (i32), then branches if `reg != 0`.
                BrAddImmNez { reg: Reg, imm: i32, offset: BranchOffset }
                /// `reg += imm` (i32), then branches if `reg != rhs`.
                BrAddImmNe { reg: Reg, imm: i32, rhs: Reg, offset: BranchOffset }
                /// `reg += imm` (i32), then branches if `reg != cmp`.
                BrAddImmNeImm { reg: Reg, imm: i32, cmp: i32, offset: BranchOffset }
                /// `reg += imm` (i32), then branches if `reg < rhs` (unsigned).
                BrAddImmLtU { reg: Reg, imm: i32, rhs: Reg, offset: BranchOffset }
                /// `reg += imm` (i32), then branches if `reg < rhs` (signed).
                BrAddImmLtS { reg: Reg, imm: i32, rhs: Reg, offset: BranchOffset }
                /// `dst = c + (a < b)` (i32, unsigned compare): a branchless count.
                I32LtUAdd { dst: Reg, a: Reg, b: Reg, c: Reg }
                /// `dst = a * b - c` (f64; two roundings, as the two operators).
                F64MulSub { dst: Reg, a: Reg, b: Reg, c: Reg }
                /// `dst = c - a * b` (f64).
                F64MulSubFrom { dst: Reg, a: Reg, b: Reg, c: Reg }
                /// `dst = (a * k) + c` (f64), `k` from its bits in `lo`/`hi`.
                F64MulImmAdd { dst: Reg, a: Reg, c: Reg, lo: u32, hi: u32 }
                /// Followed by `len` `Br` entries; the last one is the default.
                BrTable { index: Reg, len: u32 }
                /// Returns with no results.
                Return {}
                /// Returns one result held in `src`.
                ReturnReg { src: Reg }
                /// Returns `len` results held in consecutive registers from `src`.
                ReturnSpan { src: Reg, len: u16 }
                /// Calls function `func` of the module's index space; arguments
                /// and then results live in registers from `base`.
                Call { func: u32, base: Reg }
                CallIndirect { ty: u32, table: u32, index: Reg, base: Reg }
                ReturnCall { func: u32, base: Reg }
                ReturnCallIndirect { ty: u32, table: u32, index: Reg, base: Reg }
                GlobalGet { dst: Reg, global: u32 }
                GlobalSet { src: Reg, global: u32 }
                MemorySize { dst: Reg, mem: u32 }
                MemoryGrow { dst: Reg, delta: Reg, mem: u32 }
                MemoryFill { dst: Reg, val: Reg, len: Reg, mem: u16 }
                MemoryCopy { dst: Reg, src: Reg, len: Reg, dst_mem: u16, src_mem: u16 }
                MemoryInit { dst: Reg, src: Reg, len: Reg, mem: u16, data: u32 }
                DataDrop { data: u32 }
                TableGet { dst: Reg, index: Reg, table: u32 }
                TableSet { index: Reg, value: Reg, table: u32 }
                TableSize { dst: Reg, table: u32 }
                TableGrow { dst: Reg, init: Reg, delta: Reg, table: u32 }
                TableFill { index: Reg, value: Reg, len: Reg, table: u32 }
                TableCopy { dst: Reg, src: Reg, len: Reg, dst_table: u16, src_table: u16 }
                TableInit { dst: Reg, src: Reg, len: Reg, table: u16, elem: u32 }
                ElemDrop { elem: u32 }
                RefFunc { dst: Reg, func: u32 }
            }
        }
    };
}

macro_rules! define_instr_enum {
    (
        int_binop { $(($ib:ident, $ibi:ident, $ibop:ident, $ibf:ident, $ibty:ident))* }
        int_cmp { $(($ic:ident, $ici:ident, $icop:ident, $icbr:ident, $icbri:ident, $icnbr:ident, $icnbri:ident, $icf:ident, $icty:ident))* }
        float_binop { $(($fb:ident, $fbi:ident, $fbl:ident, $fbop:ident, $fbf:ident, $fbty:ident))* }
        float_cmp { $(($fc:ident, $fcop:ident, $fcf:ident, $fcty:ident))* }
        unop { $(($un:ident, $unop:ident, $unf:ident, $unty:ident))* }
        load { $(($ld:ident, $ldm:ident, $lda:ident, $ldi:ident, $ldx:ident, $ldop:ident, $ldraw:ident, $ldty:ident))* }
        fused_rr_r { $(($frr:ident, $frri:ident, $frro:ident, $frrif:ident, $frrof:ident, $frrty:ident))* }
        fused_rr_i { $(($fri:ident, $frii:ident, $frio:ident, $friif:ident, $friof:ident, $frity:ident))* }
        fused_ri_r { $(($fir:ident, $firi:ident, $firo:ident, $firif:ident, $firof:ident, $firty:ident))* }
        fused_ii { $(($fii:ident, $fiii:ident, $fiio:ident, $fiiif:ident, $fiiof:ident, $fiity:ident))* }
        store { $(($st:ident, $stm:ident, $sti:ident, $stop:ident, $stty:ident, $straw:ident))* }
        other { $( $(#[$doc:meta])* $o:ident { $($of:ident : $oty:ty),* } )* }
    ) => {
        /// One register-bytecode instruction; see the module docs.
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub enum Instr {
            $( $ib { dst: Reg, lhs: Reg, rhs: Reg }, $ibi { dst: Reg, lhs: Reg, imm: i32 }, )*
            $( $ic { dst: Reg, lhs: Reg, rhs: Reg }, $ici { dst: Reg, lhs: Reg, imm: i32 }, )*
            $( $icbr { lhs: Reg, rhs: Reg, offset: BranchOffset }, $icbri { lhs: Reg, imm: i32, offset: BranchOffset }, )*
            $(
                $fb { dst: Reg, lhs: Reg, rhs: Reg },
                $fbi { dst: Reg, lhs: Reg, lo: u32, hi: u32 },
                $fbl { dst: Reg, rhs: Reg, lo: u32, hi: u32 },
            )*
            $( $fc { dst: Reg, lhs: Reg, rhs: Reg }, )*
            $( $un { dst: Reg, src: Reg }, )*
            $( $frr { dst: Reg, a: Reg, b: Reg, c: Reg }, )*
            $( $fri { dst: Reg, a: Reg, b: Reg, imm: i32 }, )*
            $( $fir { dst: Reg, a: Reg, imm: i32, c: Reg }, )*
            $( $fii { dst: Reg, a: Reg, imm1: i32, imm2: i32 }, )*
            $(
                $ld { dst: Reg, ptr: Reg, offset: u32 },
                $ldm { dst: Reg, ptr: Reg, offset: u32, mem: u16 },
                $lda { dst: Reg, base: Reg, idx: Reg, offset: u32 },
                $ldi { dst: Reg, base: Reg, imm: i32, offset: u32 },
                $ldx { dst: Reg, base: Reg, idx: Reg, shift: u16, offset: u32 },
            )*
            $(
                $st { ptr: Reg, src: Reg, offset: u32 },
                $stm { ptr: Reg, src: Reg, offset: u32, mem: u16 },
                $sti { ptr: Reg, imm: i32, offset: u32 },
            )*
            $( $(#[$doc])* $o { $($of: $oty),* }, )*
        }

        impl Instr {
            /// The register this instruction writes its single result to, for
            /// the translator's `local.set` fusion.
            pub(crate) fn result_reg_mut(&mut self) -> Option<&mut Reg> {
                match self {
                    $( Instr::$ib { dst, .. } | Instr::$ibi { dst, .. } => Some(dst), )*
                    $( Instr::$ic { dst, .. } | Instr::$ici { dst, .. } => Some(dst), )*
                    $( Instr::$fb { dst, .. } | Instr::$fbi { dst, .. } | Instr::$fbl { dst, .. } => Some(dst), )*
                    $( Instr::$fc { dst, .. } => Some(dst), )*
                    $( Instr::$un { dst, .. } => Some(dst), )*
                    $( Instr::$frr { dst, .. } => Some(dst), )*
                    $( Instr::$fri { dst, .. } => Some(dst), )*
                    $( Instr::$fir { dst, .. } => Some(dst), )*
                    $( Instr::$fii { dst, .. } => Some(dst), )*
                    $( Instr::$ld { dst, .. } | Instr::$ldm { dst, .. } | Instr::$lda { dst, .. } | Instr::$ldi { dst, .. } | Instr::$ldx { dst, .. } => Some(dst), )*
                    Instr::Copy { dst, .. }
                    | Instr::ConstI32 { dst, .. }
                    | Instr::Const64 { dst, .. }
                    | Instr::Select { dst, .. }
                    | Instr::GlobalGet { dst, .. }
                    | Instr::MemorySize { dst, .. }
                    | Instr::MemoryGrow { dst, .. }
                    | Instr::TableGet { dst, .. }
                    | Instr::TableSize { dst, .. }
                    | Instr::TableGrow { dst, .. }
                    | Instr::RefFunc { dst, .. }
                    | Instr::I32LtUAdd { dst, .. }
                    | Instr::F64MulSub { dst, .. }
                    | Instr::F64MulSubFrom { dst, .. }
                    | Instr::F64MulImmAdd { dst, .. } => Some(dst),
                    _ => None,
                }
            }

            /// If this is an integer comparison (or an `eqz`), the fused
            /// compare-and-branch that jumps by `offset` when the comparison
            /// is true (or false, when `negate`).
            pub(crate) fn fuse_branch(&self, negate: bool, offset: BranchOffset) -> Option<Instr> {
                Some(match *self {
                    $(
                        Instr::$ic { lhs, rhs, .. } => if negate {
                            Instr::$icnbr { lhs, rhs, offset }
                        } else {
                            Instr::$icbr { lhs, rhs, offset }
                        },
                        Instr::$ici { lhs, imm, .. } => if negate {
                            Instr::$icnbri { lhs, imm, offset }
                        } else {
                            Instr::$icbri { lhs, imm, offset }
                        },
                    )*
                    Instr::I32Eqz { src, .. } => if negate {
                        Instr::BrIfNez { cond: src, offset }
                    } else {
                        Instr::BrIfEqz { cond: src, offset }
                    },
                    Instr::I64Eqz { src, .. } => if negate {
                        Instr::BrI64NeImm { lhs: src, imm: 0, offset }
                    } else {
                        Instr::BrI64EqImm { lhs: src, imm: 0, offset }
                    },
                    _ => return None,
                })
            }

            /// The superinstruction doing `inner` then `outer`, when `outer`
            /// reads `inner`'s result `t` (a temporary that nothing else
            /// reads) as exactly one of its operands.
            pub(crate) fn fuse_pair(inner: &Instr, outer: &Instr) -> Option<Instr> {
                /// The other operand of a commutative `outer` reading `t` once.
                fn other(t: Reg, lhs: Reg, rhs: Reg) -> Option<Reg> {
                    match (lhs == t, rhs == t) {
                        (true, false) => Some(rhs),
                        (false, true) => Some(lhs),
                        _ => None,
                    }
                }
                match (*inner, *outer) {
                    $(
                        (Instr::$frri { dst: t, lhs: a, rhs: b }, Instr::$frro { dst, lhs, rhs }) => {
                            other(t, lhs, rhs).map(|c| Instr::$frr { dst, a, b, c })
                        }
                    )*
                    $(
                        (Instr::$frii { dst: t, lhs: a, rhs: b }, Instr::$frio { dst, lhs, imm }) if lhs == t => {
                            Some(Instr::$fri { dst, a, b, imm })
                        }
                    )*
                    $(
                        (Instr::$firi { dst: t, lhs: a, imm }, Instr::$firo { dst, lhs, rhs }) => {
                            other(t, lhs, rhs).map(|c| Instr::$fir { dst, a, imm, c })
                        }
                    )*
                    $(
                        (Instr::$fiii { dst: t, lhs: a, imm: imm1 }, Instr::$fiio { dst, lhs, imm: imm2 }) if lhs == t => {
                            Some(Instr::$fii { dst, a, imm1, imm2 })
                        }
                    )*
                    (Instr::I32LtU { dst: t, lhs: a, rhs: b }, Instr::I32Add { dst, lhs, rhs }) => {
                        other(t, lhs, rhs).map(|c| Instr::I32LtUAdd { dst, a, b, c })
                    }
                    (Instr::F64Mul { dst: t, lhs: a, rhs: b }, Instr::F64Sub { dst, lhs, rhs }) => match (lhs == t, rhs == t) {
                        (true, false) => Some(Instr::F64MulSub { dst, a, b, c: rhs }),
                        (false, true) => Some(Instr::F64MulSubFrom { dst, a, b, c: lhs }),
                        _ => None,
                    },
                    (Instr::F64MulImm { dst: t, lhs: a, lo, hi }, Instr::F64Add { dst, lhs, rhs }) => {
                        other(t, lhs, rhs).map(|c| Instr::F64MulImmAdd { dst, a, c, lo, hi })
                    }
                    $(
                        (Instr::I32Add { dst: t, lhs: base, rhs: idx }, Instr::$ld { dst, ptr, offset }) if ptr == t => {
                            Some(Instr::$lda { dst, base, idx, offset })
                        }
                        (Instr::I32AddImm { dst: t, lhs: base, imm }, Instr::$ld { dst, ptr, offset }) if ptr == t => {
                            Some(Instr::$ldi { dst, base, imm, offset })
                        }
                        (Instr::I32ShlImmAdd { dst: t, a: idx, imm, c: base }, Instr::$ld { dst, ptr, offset }) if ptr == t => {
                            Some(Instr::$ldx { dst, base, idx, shift: (imm & 31) as u16, offset })
                        }
                    )*
                    _ => None,
                }
            }

            /// The branch offset of a branch instruction, for patching.
            pub(crate) fn branch_offset_mut(&mut self) -> Option<&mut BranchOffset> {
                match self {
                    $( Instr::$icbr { offset, .. } | Instr::$icbri { offset, .. } => Some(offset), )*
                    Instr::Br { offset }
                    | Instr::BrIfNez { offset, .. }
                    | Instr::BrIfEqz { offset, .. }
                    | Instr::BrAddImmNez { offset, .. }
                    | Instr::BrAddImmNe { offset, .. }
                    | Instr::BrAddImmNeImm { offset, .. }
                    | Instr::BrAddImmLtU { offset, .. }
                    | Instr::BrAddImmLtS { offset, .. } => Some(offset),
                    _ => None,
                }
            }
        }
    };
}

for_each_instr!(define_instr_enum);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instructions_stay_compact() {
        assert!(
            std::mem::size_of::<Instr>() <= 16,
            "Instr is {} bytes",
            std::mem::size_of::<Instr>()
        );
    }
}
