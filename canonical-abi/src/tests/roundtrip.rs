//! Lower-then-lift round trips for every value type, through memory
//! (`store`/`load`), through flat values (`lower_flat`/`lift_flat`) and
//! through `lower_values`/`lift_values`, in every string encoding.

use super::*;
use ValueType as T;

/// A table of (type, value) samples covering every value type.
pub(super) fn samples() -> Vec<(ValueType, Val)> {
    let rid = ResourceTypeId(7);
    let mixed = variant(&[
        ("none", None),
        ("small", Some(T::U8)),
        ("wide", Some(T::F64)),
        ("text", Some(T::String)),
        ("float", Some(T::F32)),
        ("big", Some(T::S64)),
    ]);
    let f_or_i = variant(&[("f", Some(T::F32)), ("i", Some(T::U32))]);
    let point = rec(&[("x", T::S16), ("y", T::F64), ("name", T::String)]);
    let v = |case: &str, p: Option<Val>| Val::Variant(case.into(), p.map(Box::new));
    let flags3 = T::Flags(vec!["read".into(), "write".into(), "exec".into()]);
    vec![
        (T::Bool, Val::Bool(true)),
        (T::Bool, Val::Bool(false)),
        (T::S8, Val::S8(i8::MIN)),
        (T::S8, Val::S8(-1)),
        (T::U8, Val::U8(u8::MAX)),
        (T::S16, Val::S16(i16::MIN)),
        (T::U16, Val::U16(u16::MAX)),
        (T::S32, Val::S32(i32::MIN)),
        (T::S32, Val::S32(-2)),
        (T::U32, Val::U32(u32::MAX)),
        (T::S64, Val::S64(i64::MIN)),
        (T::U64, Val::U64(u64::MAX)),
        (T::F32, Val::Float32(1.5)),
        (T::F32, Val::Float32(-0.0)),
        (T::F32, Val::Float32(f32::INFINITY)),
        (T::F32, Val::Float32(f32::MIN_POSITIVE / 2.0)),
        (T::F64, Val::Float64(-1e300)),
        (T::F64, Val::Float64(f64::NEG_INFINITY)),
        (T::Char, Val::Char('a')),
        (T::Char, Val::Char('\u{D7FF}')),
        (T::Char, Val::Char('\u{E000}')),
        (T::Char, Val::Char('\u{10FFFF}')),
        (T::Char, Val::Char('😀')),
        (T::String, Val::string("")),
        (T::String, Val::string("hello")),
        (T::String, Val::string("café")),
        (T::String, Val::string("héllo wörld 😀 日本")),
        (list(T::U8), Val::List(vec![])),
        (
            list(T::U8),
            Val::List(vec![Val::U8(1), Val::U8(2), Val::U8(3)]),
        ),
        (
            list(T::U64),
            Val::List(vec![Val::U64(1), Val::U64(u64::MAX)]),
        ),
        (
            list(T::String),
            Val::List(vec![Val::string("a"), Val::string(""), Val::string("ü😀")]),
        ),
        (
            list(list(T::U16)),
            Val::List(vec![
                Val::List(vec![]),
                Val::List(vec![Val::U16(7), Val::U16(8)]),
            ]),
        ),
        (
            point.clone(),
            Val::Record(vec![
                ("x".into(), Val::S16(-3)),
                ("y".into(), Val::Float64(0.25)),
                ("name".into(), Val::string("origin")),
            ]),
        ),
        (
            list(point),
            Val::List(vec![Val::Record(vec![
                ("x".into(), Val::S16(1)),
                ("y".into(), Val::Float64(2.0)),
                ("name".into(), Val::string("p")),
            ])]),
        ),
        (
            T::Tuple(vec![T::U8, T::F32, T::Char, T::U64]),
            Val::Tuple(vec![
                Val::U8(9),
                Val::Float32(2.5),
                Val::Char('ß'),
                Val::U64(1 << 40),
            ]),
        ),
        (mixed.clone(), v("none", None)),
        (mixed.clone(), v("small", Some(Val::U8(200)))),
        (mixed.clone(), v("wide", Some(Val::Float64(-2.75)))),
        (mixed.clone(), v("text", Some(Val::string("payload ✓")))),
        (mixed.clone(), v("float", Some(Val::Float32(3.25)))),
        (mixed, v("big", Some(Val::S64(-5)))),
        (f_or_i.clone(), v("f", Some(Val::Float32(-1.0)))),
        (f_or_i, v("i", Some(Val::U32(0xdead_beef)))),
        (T::Enum(labels(3)), Val::Enum("l2".into())),
        (T::Enum(labels(300)), Val::Enum("l299".into())),
        (option(T::U8), Val::Option(None)),
        (option(T::U8), some(Val::U8(0))),
        (option(T::F32), some(Val::Float32(0.5))),
        (option(option(T::String)), some(Val::Option(None))),
        (option(option(T::String)), some(some(Val::string("deep")))),
        (
            result(Some(T::U32), Some(T::String)),
            Val::Result(Ok(Some(Box::new(Val::U32(1))))),
        ),
        (
            result(Some(T::U32), Some(T::String)),
            Val::Result(Err(Some(Box::new(Val::string("bad"))))),
        ),
        (result(None, None), Val::Result(Ok(None))),
        (result(None, None), Val::Result(Err(None))),
        (
            result(Some(T::F64), Some(T::F32)),
            Val::Result(Err(Some(Box::new(Val::Float32(7.0))))),
        ),
        (
            result(Some(T::F64), Some(T::F32)),
            Val::Result(Ok(Some(Box::new(Val::Float64(7.0))))),
        ),
        (
            result(None, Some(T::U64)),
            Val::Result(Err(Some(Box::new(Val::U64(3))))),
        ),
        (flags3.clone(), Val::Flags(vec![])),
        (
            flags3.clone(),
            Val::Flags(vec!["read".into(), "exec".into()]),
        ),
        (
            T::Flags(labels(9)),
            Val::Flags(vec!["l0".into(), "l8".into()]),
        ),
        (T::Flags(labels(17)), Val::Flags(vec!["l16".into()])),
        (
            T::Flags(labels(32)),
            Val::Flags(vec!["l0".into(), "l15".into(), "l31".into()]),
        ),
        (T::Own(rid), Val::Resource(42)),
        (T::Borrow(rid), Val::Resource(43)),
        (
            list(T::Own(rid)),
            Val::List(vec![Val::Resource(1), Val::Resource(2)]),
        ),
    ]
}

#[test]
fn samples_type_check_and_validate() {
    for (t, v) in samples() {
        t.validate().unwrap();
        v.type_check(&t)
            .unwrap_or_else(|e| panic!("{v:?} : {t:?}: {e}"));
    }
}

#[test]
fn store_then_load() {
    for enc in ENCODINGS {
        for (t, v) in samples() {
            let mut env = Env::new(enc);
            let ptr = env.mem.alloc(alignment(&t), elem_size(&t)).unwrap();
            store(&mut env.cx(), &v, &t, ptr).unwrap_or_else(|e| panic!("store {v:?}: {e}"));
            let back = load(&mut env.cx(), ptr, &t).unwrap_or_else(|e| panic!("load {t:?}: {e}"));
            assert_eq!(back, v, "{enc:?} {t:?}");
            back.type_check(&t).unwrap();
        }
    }
}

#[test]
fn lower_flat_then_lift_flat() {
    for enc in ENCODINGS {
        for (t, v) in samples() {
            let mut env = Env::new(enc);
            let mut flat = Vec::new();
            lower_flat(&mut env.cx(), &v, &t, &mut flat).unwrap();
            // The flat values have exactly the types flatten_type promises.
            let tys: Vec<CoreType> = flat.iter().map(FlatVal::ty).collect();
            assert_eq!(tys, flatten_type(&t), "{t:?}");
            let mut vi = CoreValueIter::new(&flat);
            let back = lift_flat(&mut env.cx(), &mut vi, &t).unwrap();
            assert!(vi.done());
            assert_eq!(back, v, "{enc:?} {t:?}");
        }
    }
}

#[test]
fn lower_values_then_lift_values_per_sample() {
    for enc in ENCODINGS {
        for max_flat in [MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, 0] {
            for (t, v) in samples() {
                let mut env = Env::new(enc);
                let ts = [t.clone()];
                let vs = [v.clone()];
                let flat = lower_values(&mut env.cx(), max_flat, &vs, &ts, None).unwrap();
                let mut vi = CoreValueIter::new(&flat);
                let back = lift_values(&mut env.cx(), max_flat, &mut vi, &ts).unwrap();
                assert!(vi.done());
                assert_eq!(back, vs, "{enc:?} max_flat={max_flat} {t:?}");
            }
        }
    }
}

#[test]
fn all_samples_as_one_spilled_tuple() {
    for enc in ENCODINGS {
        let (ts, vs): (Vec<ValueType>, Vec<Val>) = samples().into_iter().unzip();
        let mut env = Env::new(enc);
        let flat = lower_values(&mut env.cx(), MAX_FLAT_PARAMS, &vs, &ts, None).unwrap();
        assert_eq!(flat.len(), 1);
        let mut vi = CoreValueIter::new(&flat);
        let back = lift_values(&mut env.cx(), MAX_FLAT_PARAMS, &mut vi, &ts).unwrap();
        assert_eq!(back, vs);
    }
}

#[test]
fn nan_is_canonicalized_both_ways() {
    let weird32 = f32::from_bits(0xffc0_1234);
    let weird64 = f64::from_bits(0xfff0_0000_0000_0001);
    let mut env = Env::new(StringEncoding::Utf8);
    // lower_flat: canonical NaN bits.
    let mut flat = Vec::new();
    lower_flat(&mut env.cx(), &Val::Float32(weird32), &T::F32, &mut flat).unwrap();
    lower_flat(&mut env.cx(), &Val::Float64(weird64), &T::F64, &mut flat).unwrap();
    assert_eq!(
        flat,
        vec![
            FlatVal::F32(0x7fc0_0000),
            FlatVal::F64(0x7ff8_0000_0000_0000)
        ]
    );
    // lift_flat: non-canonical NaN bits lift as the canonical NaN.
    let raw = [
        FlatVal::F32(0xffc0_1234),
        FlatVal::F64(0xfff0_0000_0000_0001),
    ];
    let mut vi = CoreValueIter::new(&raw);
    let Val::Float32(a) = lift_flat(&mut env.cx(), &mut vi, &T::F32).unwrap() else {
        panic!()
    };
    let Val::Float64(b) = lift_flat(&mut env.cx(), &mut vi, &T::F64).unwrap() else {
        panic!()
    };
    assert_eq!(
        (a.to_bits(), b.to_bits()),
        (0x7fc0_0000, 0x7ff8_0000_0000_0000)
    );
    // store/load.
    env.poke(64, &0xffc0_1234u32.to_le_bytes());
    let Val::Float32(c) = load(&mut env.cx(), 64, &T::F32).unwrap() else {
        panic!()
    };
    assert_eq!(c.to_bits(), 0x7fc0_0000);
    store(&mut env.cx(), &Val::Float64(weird64), &T::F64, 72).unwrap();
    assert_eq!(env.peek(72, 8), 0x7ff8_0000_0000_0000u64.to_le_bytes());
    // A NaN f32 payload joined into an i32 variant slot is canonical too.
    let t = variant(&[("f", Some(T::F32)), ("i", Some(T::U32))]);
    let mut flat = Vec::new();
    let v = Val::Variant("f".into(), Some(Box::new(Val::Float32(weird32))));
    lower_flat(&mut env.cx(), &v, &t, &mut flat).unwrap();
    assert_eq!(flat, vec![FlatVal::I32(0), FlatVal::I32(0x7fc0_0000)]);
}

#[test]
fn memory_layout_is_the_specs() {
    let mut env = Env::new(StringEncoding::Utf8);
    // record { a: u8, b: u64, c: u16 } at 16: a@16, b@24, c@32
    let t = rec(&[("a", T::U8), ("b", T::U64), ("c", T::U16)]);
    let v = Val::Record(vec![
        ("a".into(), Val::U8(0xaa)),
        ("b".into(), Val::U64(0x0102_0304_0506_0708)),
        ("c".into(), Val::U16(0xbeef)),
    ]);
    store(&mut env.cx(), &v, &t, 16).unwrap();
    assert_eq!(env.peek(16, 1), [0xaa]);
    assert_eq!(env.peek(24, 8), 0x0102_0304_0506_0708u64.to_le_bytes());
    assert_eq!(env.peek(32, 2), [0xef, 0xbe]);
    // result<u64, u8> err(5): disc 1 @0, payload @8
    let t = result(Some(T::U64), Some(T::U8));
    store(
        &mut env.cx(),
        &Val::Result(Err(Some(Box::new(Val::U8(5))))),
        &t,
        48,
    )
    .unwrap();
    assert_eq!(env.peek(48, 1), [1]);
    assert_eq!(env.peek(56, 1), [5]);
    // enum with 300 cases: u16 discriminant
    store(
        &mut env.cx(),
        &Val::Enum("l258".into()),
        &T::Enum(labels(300)),
        64,
    )
    .unwrap();
    assert_eq!(env.peek(64, 2), 258u16.to_le_bytes());
    // flags: bit i is label i, stored in the smallest integer
    let t = T::Flags(labels(9));
    store(
        &mut env.cx(),
        &Val::Flags(vec!["l8".into(), "l1".into()]),
        &t,
        80,
    )
    .unwrap();
    assert_eq!(env.peek(80, 2), 0b1_0000_0010u16.to_le_bytes());
    // bool true stores as 1; s8 -1 as 0xff; char as its scalar value
    store(&mut env.cx(), &Val::Bool(true), &T::Bool, 90).unwrap();
    store(&mut env.cx(), &Val::S8(-1), &T::S8, 91).unwrap();
    store(&mut env.cx(), &Val::Char('😀'), &T::Char, 92).unwrap();
    assert_eq!(env.peek(90, 2), [1, 0xff]);
    assert_eq!(env.peek(92, 4), 0x1F600u32.to_le_bytes());
}

#[test]
fn variant_flat_coercions() {
    let mut env = Env::new(StringEncoding::Utf8);
    // variant { a(u32), b(f32), c(f64), d(u64) } flattens to [i32, i64]
    let t = variant(&[
        ("a", Some(T::U32)),
        ("b", Some(T::F32)),
        ("c", Some(T::F64)),
        ("d", Some(T::U64)),
    ]);
    assert_eq!(flatten_type(&t), vec![CoreType::I32, CoreType::I64]);
    let cases = [
        ("a", Val::U32(0xffff_ffff), FlatVal::I64(0xffff_ffff)),
        (
            "b",
            Val::Float32(1.0),
            FlatVal::I64(i64::from(1.0f32.to_bits())),
        ),
        (
            "c",
            Val::Float64(2.0),
            FlatVal::I64(2.0f64.to_bits() as i64),
        ),
        ("d", Val::U64(u64::MAX), FlatVal::I64(-1)),
    ];
    for (i, (case, payload, slot)) in cases.into_iter().enumerate() {
        let v = Val::Variant(case.into(), Some(Box::new(payload)));
        let mut flat = Vec::new();
        lower_flat(&mut env.cx(), &v, &t, &mut flat).unwrap();
        assert_eq!(flat, vec![FlatVal::I32(i as i32), slot], "{case}");
        let back = lift_flat(&mut env.cx(), &mut CoreValueIter::new(&flat), &t).unwrap();
        assert_eq!(back, v);
    }
    // Unused slots are zero-filled: option<tuple<u8, f64>> none -> [0, 0, 0.0]
    let t = option(T::Tuple(vec![T::U8, T::F64]));
    let mut flat = Vec::new();
    lower_flat(&mut env.cx(), &Val::Option(None), &t, &mut flat).unwrap();
    assert_eq!(
        flat,
        vec![FlatVal::I32(0), FlatVal::I32(0), FlatVal::F64(0)]
    );
    // The spec wraps i64 slots to i32 (no trap on high bits).
    let t = variant(&[("a", Some(T::U32)), ("b", Some(T::U64))]);
    let flat = [FlatVal::I32(0), FlatVal::I64(0x1_0000_0005)];
    let back = lift_flat(&mut env.cx(), &mut CoreValueIter::new(&flat), &t).unwrap();
    assert_eq!(back, Val::Variant("a".into(), Some(Box::new(Val::U32(5)))));
}

#[test]
fn lifting_ignores_unused_high_bits_of_small_integers() {
    let mut env = Env::new(StringEncoding::Utf8);
    let cases = [
        (T::U8, FlatVal::I32(0x1234_5678), Val::U8(0x78)),
        (T::S8, FlatVal::I32(0x0000_0080), Val::S8(-128)),
        (T::U16, FlatVal::I32(-1), Val::U16(0xffff)),
        (T::S16, FlatVal::I32(0x0001_7fff), Val::S16(0x7fff)),
        (T::U32, FlatVal::I32(-1), Val::U32(u32::MAX)),
        (T::U64, FlatVal::I64(-1), Val::U64(u64::MAX)),
    ];
    for (t, flat, expect) in cases {
        let got = lift_flat(&mut env.cx(), &mut CoreValueIter::new(&[flat]), &t).unwrap();
        assert_eq!(got, expect, "{t:?}");
    }
}
