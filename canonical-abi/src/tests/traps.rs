//! Every trap (and embedder error) of lifting and lowering.

use super::*;
use crate::strings::{load_string_from_range, store_string_into_range, UTF16_TAG};
use ValueType as T;

fn lift_one(env: &mut Env, t: &ValueType, flat: &[FlatVal]) -> Result<Val, AbiError> {
    lift_flat(&mut env.cx(), &mut CoreValueIter::new(flat), t)
}

#[test]
fn string_lift_traps() {
    use StringEncoding::*;
    let end = 65536u32;
    // (encoding, bytes poked at 100, ptr, tagged code units, expected)
    let cases: Vec<(StringEncoding, &[u8], u32, u32, AbiError)> = vec![
        (Utf8, &[0xff], 100, 1, AbiError::InvalidUtf8),
        (Utf8, &[0xc3], 100, 1, AbiError::InvalidUtf8), // truncated sequence
        (Utf8, &[0xed, 0xa0, 0x80], 100, 3, AbiError::InvalidUtf8), // encoded surrogate
        (Utf8, &[0xc0, 0xaf], 100, 2, AbiError::InvalidUtf8), // overlong
        (
            Utf8,
            &[],
            end - 2,
            4,
            AbiError::StringOutOfBounds {
                ptr: end - 2,
                byte_length: 4,
            },
        ),
        (
            Utf8,
            &[],
            u32::MAX,
            1,
            AbiError::StringOutOfBounds {
                ptr: u32::MAX,
                byte_length: 1,
            },
        ),
        (
            Utf8,
            &[],
            0,
            1 << 28,
            AbiError::StringTooLong {
                byte_length: 1 << 28,
            },
        ),
        (Utf16, &[0x00, 0xd8], 100, 1, AbiError::InvalidUtf16), // lone high surrogate
        (
            Utf16,
            &[0x00, 0xdc, 0x41, 0x00],
            100,
            2,
            AbiError::InvalidUtf16,
        ), // lone low
        (Utf16, &[], 101, 1, AbiError::StringMisaligned { ptr: 101 }),
        (
            Utf16,
            &[],
            end - 2,
            2,
            AbiError::StringOutOfBounds {
                ptr: end - 2,
                byte_length: 4,
            },
        ),
        (
            Utf16,
            &[],
            0,
            1 << 27,
            AbiError::StringTooLong {
                byte_length: 1 << 28,
            },
        ),
        (
            CompactUtf16,
            &[],
            101,
            1,
            AbiError::StringMisaligned { ptr: 101 },
        ),
        (
            CompactUtf16,
            &[],
            101,
            1 | UTF16_TAG,
            AbiError::StringMisaligned { ptr: 101 },
        ),
        (
            CompactUtf16,
            &[0x00, 0xd8],
            100,
            1 | UTF16_TAG,
            AbiError::InvalidUtf16,
        ),
        (
            CompactUtf16,
            &[],
            end - 2,
            2 | UTF16_TAG,
            AbiError::StringOutOfBounds {
                ptr: end - 2,
                byte_length: 4,
            },
        ),
        (
            CompactUtf16,
            &[],
            0,
            (1 << 27) | UTF16_TAG,
            AbiError::StringTooLong {
                byte_length: 1 << 28,
            },
        ),
        (
            CompactUtf16,
            &[],
            0,
            UTF16_TAG - 1,
            AbiError::StringTooLong {
                byte_length: u64::from(UTF16_TAG - 1),
            },
        ),
    ];
    for (enc, bytes, ptr, tagged, expect) in cases {
        let mut env = Env::new(enc);
        env.poke(100, bytes);
        let got = load_string_from_range(&env.cx(), ptr, tagged);
        assert_eq!(
            got,
            Err(expect.clone()),
            "{enc:?} {bytes:?} ptr={ptr} n={tagged:#x}"
        );
        assert!(expect.is_trap());
        // The same through lift_flat.
        let flat = [FlatVal::I32(ptr as i32), FlatVal::I32(tagged as i32)];
        assert_eq!(lift_one(&mut env, &T::String, &flat), Err(expect));
    }
    // Latin-1 never fails to decode; every byte is a char.
    let mut env = Env::new(CompactUtf16);
    env.poke(100, &[0x00, 0x80, 0xff]);
    let s = load_string_from_range(&env.cx(), 100, 3).unwrap();
    assert_eq!(s.as_str(), "\u{0}\u{80}\u{ff}");
}

#[test]
fn char_lift_traps() {
    let mut env = Env::new(StringEncoding::Utf8);
    for bad in [0xD800u32, 0xDBFF, 0xDC00, 0xDFFF, 0x11_0000, 0xFFFF_FFFF] {
        assert_eq!(
            lift_one(&mut env, &T::Char, &[FlatVal::I32(bad as i32)]),
            Err(AbiError::InvalidChar(bad))
        );
        env.poke(64, &bad.to_le_bytes());
        assert_eq!(
            load(&mut env.cx(), 64, &T::Char),
            Err(AbiError::InvalidChar(bad))
        );
    }
    for good in [0u32, 0xD7FF, 0xE000, 0x10_FFFF] {
        let c = char::from_u32(good).unwrap();
        assert_eq!(
            lift_one(&mut env, &T::Char, &[FlatVal::I32(good as i32)]),
            Ok(Val::Char(c))
        );
    }
}

#[test]
fn bool_lifts_any_nonzero_as_true() {
    // definitions.py: convert_int_to_bool(i) = bool(i); no trap for i > 1.
    let mut env = Env::new(StringEncoding::Utf8);
    for (i, b) in [(0, false), (1, true), (2, true), (-1, true), (0x100, true)] {
        assert_eq!(
            lift_one(&mut env, &T::Bool, &[FlatVal::I32(i)]),
            Ok(Val::Bool(b)),
            "{i}"
        );
    }
    env.poke(64, &[0x80]);
    assert_eq!(load(&mut env.cx(), 64, &T::Bool), Ok(Val::Bool(true)));
}

#[test]
fn discriminant_traps() {
    let mut env = Env::new(StringEncoding::Utf8);
    let invalid = |case_index, num_cases| {
        Err(AbiError::InvalidDiscriminant {
            case_index,
            num_cases,
        })
    };
    // (type, discriminant bytes in memory, flat discriminant, num_cases)
    let cases: Vec<(ValueType, Vec<u8>, i32, u32)> = vec![
        (option(T::U8), vec![2], 2, 2),
        (result(Some(T::U32), None), vec![0xff], -1, 2),
        (T::Enum(labels(3)), vec![3], 3, 3),
        (
            T::Enum(labels(300)),
            300u16.to_le_bytes().to_vec(),
            300,
            300,
        ),
        (variant(&[("a", Some(T::F64))]), vec![1], 1, 1),
    ];
    for (t, bytes, flat_disc, n) in cases {
        env.poke(64, &[0; 16]);
        env.poke(64, &bytes);
        let disc = u32::from_le_bytes({
            let mut b = [0; 4];
            b[..bytes.len()].copy_from_slice(&bytes);
            b
        });
        assert_eq!(load(&mut env.cx(), 64, &t), invalid(disc, n), "{t:?}");
        let mut flat = vec![FlatVal::I32(flat_disc)];
        flat.extend(flatten_type(&t)[1..].iter().map(|&ct| FlatVal::zero(ct)));
        assert_eq!(
            lift_one(&mut env, &t, &flat),
            invalid(flat_disc as u32, n),
            "{t:?}"
        );
    }
}

#[test]
fn flags_ignore_unknown_bits() {
    let mut env = Env::new(StringEncoding::Utf8);
    let t = T::Flags(vec!["a".into(), "b".into(), "c".into()]);
    let expect = Val::Flags(vec!["a".into(), "c".into()]);
    assert_eq!(
        lift_one(&mut env, &t, &[FlatVal::I32(-8 | 0b101)]),
        Ok(expect.clone())
    );
    env.poke(64, &[0xf5]);
    assert_eq!(load(&mut env.cx(), 64, &t), Ok(expect));
}

#[test]
fn realloc_result_traps() {
    use StringEncoding::*;
    let oob = 65536 - 2;
    // (encoding, value, type, forced realloc result, expected)
    let cases: Vec<(StringEncoding, Val, ValueType, u32, AbiError)> = vec![
        (
            Utf8,
            Val::List(vec![Val::U32(1)]),
            list(T::U32),
            2,
            AbiError::ReallocMisaligned { ptr: 2, align: 4 },
        ),
        (
            Utf8,
            Val::List(vec![Val::U32(1)]),
            list(T::U32),
            65536,
            AbiError::ReallocOutOfBounds {
                ptr: 65536,
                size: 4,
            },
        ),
        (
            Utf8,
            Val::string("abc"),
            T::String,
            oob,
            AbiError::ReallocOutOfBounds { ptr: oob, size: 3 },
        ),
        (
            Utf16,
            Val::string("abc"),
            T::String,
            3,
            AbiError::ReallocMisaligned { ptr: 3, align: 2 },
        ),
        (
            Utf16,
            Val::string("abc"),
            T::String,
            oob,
            AbiError::ReallocOutOfBounds { ptr: oob, size: 6 },
        ),
        (
            CompactUtf16,
            Val::string("abc"),
            T::String,
            5,
            AbiError::ReallocMisaligned { ptr: 5, align: 2 },
        ),
        (
            CompactUtf16,
            Val::string("日"),
            T::String,
            oob,
            AbiError::ReallocOutOfBounds { ptr: oob, size: 3 },
        ),
    ];
    for (enc, v, t, forced, expect) in cases {
        let mut env = Env::new(enc);
        env.mem.forced_results.push_back(forced);
        let mut out = Vec::new();
        assert_eq!(
            lower_flat(&mut env.cx(), &v, &t, &mut out),
            Err(expect.clone()),
            "{enc:?} {v:?}"
        );
        assert!(expect.is_trap());
    }
    // A later realloc in a transcoding path is checked too: the growth step
    // of utf8 -> latin1+utf16 returns a misaligned pointer.
    let mut env = Env::new(CompactUtf16);
    env.mem.forced_results.extend([16, 33]);
    let got = store_string_into_range(&mut env.cx(), &StringValue::new("a日"));
    assert_eq!(got, Err(AbiError::ReallocMisaligned { ptr: 33, align: 2 }));
    // ... and the shrink step of utf16 -> utf8 returns an out-of-bounds one.
    let mut env = Env::new(Utf8);
    env.mem.forced_results.extend([16, 32, 65535]);
    let s = StringValue::with_hint("é", Utf16, 1).unwrap();
    let got = store_string_into_range(&mut env.cx(), &s);
    assert_eq!(
        got,
        Err(AbiError::ReallocOutOfBounds {
            ptr: 65535,
            size: 2
        })
    );
    // Spilled parameters: realloc result is checked.
    let mut env = Env::new(Utf8);
    env.mem.forced_results.push_back(6);
    let ts = vec![T::U32; 17];
    let vs = vec![Val::U32(0); 17];
    assert_eq!(
        lower_values(&mut env.cx(), MAX_FLAT_PARAMS, &vs, &ts, None),
        Err(AbiError::ReallocMisaligned { ptr: 6, align: 4 })
    );
}

#[test]
fn list_lift_traps() {
    let mut env = Env::new(StringEncoding::Utf8);
    let t = list(T::U32);
    let cases: Vec<(u32, u32, AbiError)> = vec![
        (2, 1, AbiError::ListMisaligned { ptr: 2, align: 4 }),
        (
            65532,
            2,
            AbiError::ListOutOfBounds {
                ptr: 65532,
                byte_length: 8,
            },
        ),
        (
            0,
            1 << 26,
            AbiError::ListTooLong {
                byte_length: 1 << 28,
            },
        ),
        (
            0,
            u32::MAX,
            AbiError::ListTooLong {
                byte_length: 4 * u64::from(u32::MAX),
            },
        ),
    ];
    for (ptr, len, expect) in cases {
        let flat = [FlatVal::I32(ptr as i32), FlatVal::I32(len as i32)];
        assert_eq!(lift_one(&mut env, &t, &flat), Err(expect.clone()));
        env.poke(64, &ptr.to_le_bytes());
        env.poke(68, &len.to_le_bytes());
        assert_eq!(load(&mut env.cx(), 64, &t), Err(expect));
    }
    // A list of an empty-sized... every element is validated: invalid char
    // inside a list traps.
    env.poke(128, &0xD800u32.to_le_bytes());
    let flat = [FlatVal::I32(128), FlatVal::I32(1)];
    assert_eq!(
        lift_one(&mut env, &list(T::Char), &flat),
        Err(AbiError::InvalidChar(0xD800))
    );
}

#[test]
fn pointer_traps() {
    let mut env = Env::new(StringEncoding::Utf8);
    let ts = vec![T::U64; 17];
    // Spilled params: misaligned / out of bounds pointer.
    for (ptr, expect) in [
        (4u32, AbiError::PointerMisaligned { ptr: 4, align: 8 }),
        (
            65536 - 128,
            AbiError::PointerOutOfBounds {
                ptr: 65536 - 128,
                size: 136,
            },
        ),
    ] {
        let flat = [FlatVal::I32(ptr as i32)];
        assert_eq!(
            lift_values(
                &mut env.cx(),
                MAX_FLAT_PARAMS,
                &mut CoreValueIter::new(&flat),
                &ts
            ),
            Err(expect)
        );
    }
    // Results through a retptr.
    let rt = [T::String];
    for (ptr, expect) in [
        (2u32, AbiError::PointerMisaligned { ptr: 2, align: 4 }),
        (
            65532,
            AbiError::PointerOutOfBounds {
                ptr: 65532,
                size: 8,
            },
        ),
    ] {
        let flat = [FlatVal::I32(ptr as i32)];
        let mut vi = CoreValueIter::new(&flat);
        assert_eq!(
            lower_values(
                &mut env.cx(),
                MAX_FLAT_RESULTS,
                &[Val::string("x")],
                &rt,
                Some(&mut vi)
            ),
            Err(expect.clone())
        );
        // Results returned as a pointer by a lifted callee.
        let mut vi = CoreValueIter::new(&flat);
        assert_eq!(
            lift_values(&mut env.cx(), MAX_FLAT_RESULTS, &mut vi, &rt),
            Err(expect)
        );
    }
    // load/store entry points.
    assert_eq!(
        load(&mut env.cx(), 3, &T::U32),
        Err(AbiError::PointerMisaligned { ptr: 3, align: 4 })
    );
    assert_eq!(
        store(&mut env.cx(), &Val::U64(1), &T::U64, 65536),
        Err(AbiError::PointerOutOfBounds {
            ptr: 65536,
            size: 8
        })
    );
}

#[test]
fn missing_options() {
    let mut env = Env::new(StringEncoding::Utf8);
    env.opts.has_realloc = false;
    let mut out = Vec::new();
    assert_eq!(
        lower_flat(&mut env.cx(), &Val::string("x"), &T::String, &mut out),
        Err(AbiError::MissingRealloc)
    );
    env.opts.has_memory = false;
    let flat = [FlatVal::I32(0), FlatVal::I32(0)];
    assert_eq!(
        lift_one(&mut env, &T::String, &flat),
        Err(AbiError::MissingMemory)
    );
    assert_eq!(
        lift_one(&mut env, &list(T::U8), &flat),
        Err(AbiError::MissingMemory)
    );
    // Scalars need neither.
    assert_eq!(
        lift_one(&mut env, &T::U8, &[FlatVal::I32(1)]),
        Ok(Val::U8(1))
    );
    // NoMemory / NoResources stand-ins.
    let mut mem = NoMemory;
    let mut res = NoResources;
    let mut cx = LiftLowerContext::new(
        CanonicalOptions::with_memory(StringEncoding::Utf8),
        &mut mem,
        &mut res,
    );
    assert_eq!(
        lower_flat(&mut cx, &Val::string("x"), &T::String, &mut out),
        Err(AbiError::MissingRealloc)
    );
    assert_eq!(
        lower_flat(
            &mut cx,
            &Val::Resource(1),
            &T::Own(ResourceTypeId(0)),
            &mut out
        ),
        Err(AbiError::MissingResourceTables)
    );
    assert!(!AbiError::MissingMemory.is_trap());
}

#[test]
fn flat_value_mismatches_are_embedder_errors() {
    let mut env = Env::new(StringEncoding::Utf8);
    let e = lift_one(&mut env, &T::U32, &[FlatVal::I64(1)]).unwrap_err();
    assert_eq!(
        e,
        AbiError::FlatTypeMismatch {
            expected: CoreType::I32,
            found: CoreType::I64
        }
    );
    assert!(!e.is_trap());
    assert_eq!(
        lift_one(&mut env, &T::String, &[FlatVal::I32(1)]),
        Err(AbiError::FlatValuesExhausted)
    );
    // Inside a variant the joined type is what is read.
    let t = option(T::F32);
    assert_eq!(
        lift_one(&mut env, &t, &[FlatVal::I32(1), FlatVal::I32(0)]),
        Err(AbiError::FlatTypeMismatch {
            expected: CoreType::F32,
            found: CoreType::I32
        })
    );
}

#[test]
fn ill_typed_values_are_rejected_not_lowered() {
    let mut env = Env::new(StringEncoding::Utf8);
    let r = rec(&[("a", T::U8), ("b", T::U8)]);
    let v = |case: &str, p: Option<Val>| Val::Variant(case.into(), p.map(Box::new));
    let vt = variant(&[("x", None), ("y", Some(T::U8))]);
    let flags = T::Flags(vec!["a".into(), "b".into()]);
    let cases: Vec<(Val, ValueType)> = vec![
        (Val::U8(1), T::U16),
        (Val::S32(1), T::U32),
        (Val::string("s"), T::Char),
        (Val::Record(vec![("a".into(), Val::U8(1))]), r.clone()),
        (
            Val::Record(vec![("a".into(), Val::U8(1)), ("c".into(), Val::U8(1))]),
            r.clone(),
        ),
        (
            Val::Record(vec![("a".into(), Val::U8(1)), ("b".into(), Val::U16(1))]),
            r,
        ),
        (Val::Tuple(vec![Val::U8(1)]), T::Tuple(vec![T::U8, T::U8])),
        (v("z", None), vt.clone()),
        (v("x", Some(Val::U8(1))), vt.clone()),
        (v("y", None), vt.clone()),
        (v("y", Some(Val::U16(1))), vt),
        (Val::Enum("nope".into()), T::Enum(labels(2))),
        (Val::Option(None), result(None, None)),
        (Val::Result(Ok(None)), result(Some(T::U8), None)),
        (Val::Flags(vec!["c".into()]), flags.clone()),
        (Val::Flags(vec!["a".into(), "a".into()]), flags),
        (Val::Resource(1), T::U32),
        (Val::List(vec![Val::U8(1), Val::U16(2)]), list(T::U8)),
    ];
    for (val, t) in cases {
        let e = val.type_check(&t).unwrap_err();
        assert!(matches!(e, AbiError::TypeMismatch(_)), "{val:?}: {e:?}");
        let mut out = Vec::new();
        let got = lower_flat(&mut env.cx(), &val, &t, &mut out);
        assert!(
            matches!(got, Err(AbiError::TypeMismatch(_))),
            "lower_flat {val:?}: {got:?}"
        );
        let got = store(&mut env.cx(), &val, &t, 1024);
        assert!(
            matches!(got, Err(AbiError::TypeMismatch(_))),
            "store {val:?}: {got:?}"
        );
    }
    assert!(matches!(
        lower_values(&mut env.cx(), 16, &[Val::U8(1)], &[T::U8, T::U8], None),
        Err(AbiError::TypeMismatch(_))
    ));
}

#[test]
fn host_values_too_big_for_a_32_bit_memory_trap() {
    // A host list whose byte length exceeds REALLOC_I32_MAX cannot be
    // lowered; this is checked before any allocation or element check, so
    // cheap placeholder elements suffice.
    let mut env = Env::new(StringEncoding::Utf8);
    let t = list(T::Tuple(vec![T::U64; 1024])); // elem_size 8192
    let n = (1usize << 19) + 1;
    let v = Val::List(vec![Val::Bool(false); n]);
    let mut out = Vec::new();
    assert_eq!(
        lower_flat(&mut env.cx(), &v, &t, &mut out),
        Err(AbiError::ListTooLong {
            byte_length: 8192 * n as u64
        })
    );
    assert!(env.mem.calls.is_empty());
}
