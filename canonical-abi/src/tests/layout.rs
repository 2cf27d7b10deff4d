//! Static properties: alignment, elem_size, discriminants, flattening,
//! flatten_functype, type validation.

use super::*;
use crate::types::{discriminant_size, flatten_variant, join, variant_payload_offset};
use CoreType::*;
use ValueType as T;

#[test]
fn alignment_and_elem_size() {
    // (type, alignment, elem_size)
    let cases: Vec<(ValueType, u32, u32)> = vec![
        (T::Bool, 1, 1),
        (T::S8, 1, 1),
        (T::U8, 1, 1),
        (T::S16, 2, 2),
        (T::U16, 2, 2),
        (T::S32, 4, 4),
        (T::U32, 4, 4),
        (T::S64, 8, 8),
        (T::U64, 8, 8),
        (T::F32, 4, 4),
        (T::F64, 8, 8),
        (T::Char, 4, 4),
        (T::String, 4, 8),
        (list(T::U64), 4, 8),
        (T::Own(ResourceTypeId(0)), 4, 4),
        (T::Borrow(ResourceTypeId(0)), 4, 4),
        (rec(&[("a", T::U8), ("b", T::U32)]), 4, 8),
        (rec(&[("a", T::U8), ("b", T::U64), ("c", T::U8)]), 8, 24),
        (rec(&[("a", T::U8), ("b", T::U16), ("c", T::U8)]), 2, 6),
        (T::Tuple(vec![T::U8, T::U8, T::U8]), 1, 3),
        (T::Tuple(vec![T::Char, T::U8]), 4, 8),
        (option(T::U8), 1, 2),
        (option(T::U32), 4, 8),
        (option(T::U64), 8, 16),
        (option(T::String), 4, 12),
        (result(None, None), 1, 1),
        (result(Some(T::U64), Some(T::U8)), 8, 16),
        (result(Some(T::U8), None), 1, 2),
        (T::Enum(labels(2)), 1, 1),
        (T::Enum(labels(256)), 1, 1),
        (T::Enum(labels(257)), 2, 2),
        (T::Enum(labels(65536)), 2, 2),
        (T::Enum(labels(65537)), 4, 4),
        (variant(&[("a", None), ("b", Some(T::U16))]), 2, 4),
        (T::Flags(labels(1)), 1, 1),
        (T::Flags(labels(8)), 1, 1),
        (T::Flags(labels(9)), 2, 2),
        (T::Flags(labels(16)), 2, 2),
        (T::Flags(labels(17)), 4, 4),
        (T::Flags(labels(32)), 4, 4),
    ];
    for (t, a, s) in cases {
        assert_eq!(alignment(&t), a, "alignment of {t:?}");
        assert_eq!(elem_size(&t), s, "elem_size of {t:?}");
        assert_eq!(elem_size(&t) % alignment(&t), 0);
    }
}

#[test]
fn discriminant_sizes() {
    for (n, s) in [
        (1, 1),
        (2, 1),
        (255, 1),
        (256, 1),
        (257, 2),
        (65536, 2),
        (65537, 4),
    ] {
        assert_eq!(discriminant_size(n), s, "{n} cases");
    }
}

#[test]
fn variant_payload_offsets() {
    let u64_ = T::U64;
    let u8_ = T::U8;
    assert_eq!(variant_payload_offset(&[None, Some(&u64_)]), 8);
    assert_eq!(variant_payload_offset(&[None, Some(&u8_)]), 1);
    assert_eq!(variant_payload_offset(&[None, None]), 1);
}

#[test]
fn join_table() {
    let cases = [
        (I32, I32, I32),
        (I32, F32, I32),
        (F32, I32, I32),
        (F32, F32, F32),
        (I32, I64, I64),
        (I32, F64, I64),
        (F32, F64, I64),
        (F32, I64, I64),
        (F64, F64, F64),
        (I64, F64, I64),
    ];
    for (a, b, j) in cases {
        assert_eq!(join(a, b), j, "join({a:?}, {b:?})");
    }
}

#[test]
fn flattening() {
    let cases: Vec<(ValueType, Vec<CoreType>)> = vec![
        (T::Bool, vec![I32]),
        (T::U8, vec![I32]),
        (T::S64, vec![I64]),
        (T::F32, vec![F32]),
        (T::F64, vec![F64]),
        (T::Char, vec![I32]),
        (T::String, vec![I32, I32]),
        (list(T::String), vec![I32, I32]),
        (
            rec(&[("a", T::U8), ("b", T::F64), ("c", T::String)]),
            vec![I32, F64, I32, I32],
        ),
        (T::Enum(labels(3)), vec![I32]),
        (option(T::F32), vec![I32, F32]),
        (option(T::F64), vec![I32, F64]),
        (result(Some(T::U32), Some(T::F32)), vec![I32, I32]),
        (result(Some(T::F32), Some(T::F64)), vec![I32, I64]),
        (result(Some(T::U64), Some(T::String)), vec![I32, I64, I32]),
        (result(None, None), vec![I32]),
        (
            variant(&[
                ("a", Some(T::Tuple(vec![T::F32, T::F32]))),
                ("b", Some(T::F64)),
                ("c", None),
            ]),
            vec![I32, I64, F32],
        ),
        (T::Flags(labels(32)), vec![I32]),
        (T::Own(ResourceTypeId(1)), vec![I32]),
    ];
    for (t, flat) in cases {
        assert_eq!(flatten_type(&t), flat, "flatten_type({t:?})");
    }
    let f32_ = T::F32;
    assert_eq!(flatten_variant(&[Some(&f32_), None]), vec![I32, F32]);
}

fn func(params: Vec<ValueType>, result: Option<ValueType>) -> FuncType {
    FuncType {
        params: params
            .into_iter()
            .enumerate()
            .map(|(i, t)| (format!("p{i}"), t))
            .collect(),
        result,
    }
}

#[test]
fn flatten_functype_limits() {
    use FlattenContext::*;
    // (params, result, lift signature, lower signature)
    type Sig = (Vec<CoreType>, Vec<CoreType>);
    let cases: Vec<(FuncType, Sig, Sig)> = vec![
        (func(vec![], None), (vec![], vec![]), (vec![], vec![])),
        (
            func(vec![T::U32; 16], Some(T::U32)),
            (vec![I32; 16], vec![I32]),
            (vec![I32; 16], vec![I32]),
        ),
        (
            func(vec![T::U32; 17], None),
            (vec![I32], vec![]),
            (vec![I32], vec![]),
        ),
        (
            func(vec![T::String; 8], None),
            (vec![I32; 16], vec![]),
            (vec![I32; 16], vec![]),
        ),
        (
            func(vec![T::String; 8], Some(T::U8)),
            (vec![I32; 16], vec![I32]),
            (vec![I32; 16], vec![I32]),
        ),
        (
            func(vec![T::U64], Some(T::String)),
            (vec![I64], vec![I32]),
            (vec![I64, I32], vec![]),
        ),
        (
            func(vec![T::U32; 17], Some(option(T::U8))),
            (vec![I32], vec![I32]),
            (vec![I32, I32], vec![]),
        ),
        (
            func(vec![T::F64], Some(T::F64)),
            (vec![F64], vec![F64]),
            (vec![F64], vec![F64]),
        ),
    ];
    for (ft, lift, lower) in cases {
        let l = flatten_functype(&ft, Lift);
        assert_eq!((l.params, l.results), lift, "lift {ft:?}");
        let l = flatten_functype(&ft, Lower);
        assert_eq!((l.params, l.results), lower, "lower {ft:?}");
    }
    assert_eq!(MAX_FLAT_PARAMS, 16);
    assert_eq!(MAX_FLAT_RESULTS, 1);
}

#[test]
fn validate_types() {
    let good = [
        T::Flags(labels(32)),
        rec(&[("a", T::U8)]),
        result(None, None),
        option(list(T::Enum(labels(1)))),
    ];
    for t in good {
        assert_eq!(t.validate(), Ok(()), "{t:?}");
    }
    let bad = [
        T::Flags(vec![]),
        T::Flags(labels(33)),
        T::Record(vec![]),
        T::Tuple(vec![]),
        T::Variant(vec![]),
        T::Enum(vec![]),
        rec(&[("a", T::U8), ("a", T::U8)]),
        list(T::Tuple(vec![])),
        T::Enum(vec!["x".into(), "x".into()]),
    ];
    for t in bad {
        assert!(
            matches!(t.validate(), Err(AbiError::InvalidType(_))),
            "{t:?}"
        );
    }
}
