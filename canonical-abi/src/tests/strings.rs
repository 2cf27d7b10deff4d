//! Strings: every (source encoding, destination encoding) pair, the exact
//! `realloc` sequence of each transcoding path, and the bytes written.

use super::*;
use crate::memory::ReallocCall;
use crate::strings::{store_string_into_range, UTF16_TAG};

const TEXTS: &[&str] = &[
    "",
    "a",
    "hello world",
    "café",
    "ÿÿÿ",
    "naïve\u{0}nul",
    "日本語",
    "a😀b",
    "😀",
    "mixed: é ü 日 😀 end",
];

/// Lowers `text` (host hint) into a guest using `enc` and lifts it back, so
/// the result carries that guest's hint (`enc`, tagged code units).
fn lifted_from(enc: StringEncoding, text: &str) -> StringValue {
    let mut env = Env::new(enc);
    let flat = lower_values(
        &mut env.cx(),
        16,
        &[Val::string(text)],
        &[ValueType::String],
        None,
    )
    .unwrap();
    let v = lift_values(
        &mut env.cx(),
        16,
        &mut CoreValueIter::new(&flat),
        &[ValueType::String],
    )
    .unwrap();
    let [Val::String(s)] = <[Val; 1]>::try_from(v).unwrap() else {
        panic!()
    };
    assert_eq!(s.as_str(), text);
    assert_eq!(s.src_encoding(), enc);
    s
}

/// The bytes and tagged length a destination encoding must produce.
fn expected_encoding(dst: StringEncoding, text: &str) -> (Vec<u8>, u32) {
    let utf16: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    match dst {
        StringEncoding::Utf8 => (text.as_bytes().to_vec(), text.len() as u32),
        StringEncoding::Utf16 => (utf16.clone(), utf16.len() as u32 / 2),
        StringEncoding::CompactUtf16 => {
            if text.chars().all(|c| (c as u32) < 256) {
                (
                    text.chars().map(|c| c as u8).collect(),
                    text.chars().count() as u32,
                )
            } else {
                (utf16.clone(), (utf16.len() as u32 / 2) | UTF16_TAG)
            }
        }
    }
}

#[test]
fn every_encoding_pair_round_trips() {
    for &text in TEXTS {
        for src in ENCODINGS {
            let s = lifted_from(src, text);
            for dst in ENCODINGS {
                let mut env = Env::new(dst);
                let (ptr, tagged) = store_string_into_range(&mut env.cx(), &s).unwrap();
                let (bytes, expect_tagged) = expected_encoding(dst, text);
                assert_eq!(tagged, expect_tagged, "{src:?}->{dst:?} {text:?}");
                assert_eq!(
                    env.peek(ptr, bytes.len() as u32),
                    bytes,
                    "{src:?}->{dst:?} {text:?}"
                );
                let back = crate::strings::load_string_from_range(&env.cx(), ptr, tagged).unwrap();
                assert_eq!(back.as_str(), text);
                assert_eq!(back.src_encoding(), dst);
                assert_eq!(back.src_tagged_code_units(), u64::from(tagged));
            }
        }
    }
}

#[test]
fn host_strings_in_every_encoding() {
    for &text in TEXTS {
        for dst in ENCODINGS {
            let mut env = Env::new(dst);
            let ptr = 1024;
            store(&mut env.cx(), &Val::string(text), &ValueType::String, ptr).unwrap();
            assert_eq!(
                load(&mut env.cx(), ptr, &ValueType::String).unwrap(),
                Val::string(text)
            );
        }
    }
}

/// `(old_ptr != 0, old_size, align, new_size)` of one realloc call.
type Call = (bool, u32, u32, u32);

/// Runs one store and returns the realloc calls as
/// `(old_ptr != 0, old_size, align, new_size)` plus the result.
fn realloc_trace(dst: StringEncoding, s: &StringValue) -> (Vec<Call>, u32, Vec<u8>) {
    let mut env = Env::new(dst);
    let (ptr, tagged) = store_string_into_range(&mut env.cx(), s).unwrap();
    let bytes_len = match dst {
        StringEncoding::Utf8 => tagged,
        StringEncoding::Utf16 => 2 * tagged,
        StringEncoding::CompactUtf16 if tagged & UTF16_TAG != 0 => 2 * (tagged ^ UTF16_TAG),
        StringEncoding::CompactUtf16 => tagged,
    };
    let calls = env
        .mem
        .calls
        .iter()
        .map(|c: &ReallocCall| (c.old_ptr != 0, c.old_size, c.align, c.new_size))
        .collect();
    (calls, tagged, env.peek(ptr, bytes_len))
}

fn hinted(text: &str, enc: StringEncoding, tagged: u64) -> StringValue {
    StringValue::with_hint(text, enc, tagged).expect("consistent hint")
}

#[test]
fn transcoding_paths_call_realloc_like_the_spec() {
    use StringEncoding::*;
    let tag = u64::from(UTF16_TAG);
    // (source, destination encoding, expected realloc calls, expected tagged length)
    let cases: Vec<(StringValue, StringEncoding, Vec<Call>, u32)> = vec![
        // store_string_copy utf8 -> utf8
        (hinted("héllo", Utf8, 6), Utf8, vec![(false, 0, 1, 6)], 6),
        // store_utf16_to_utf8, ASCII only: no growth
        (hinted("hello", Utf16, 5), Utf8, vec![(false, 0, 1, 5)], 5),
        // store_utf16_to_utf8: grow to 3x, then shrink
        (
            hinted("héllo", Utf16, 5),
            Utf8,
            vec![(false, 0, 1, 5), (true, 5, 1, 15), (true, 15, 1, 6)],
            6,
        ),
        // store_latin1_to_utf8: grow to 2x, then shrink
        (
            hinted("héllo", CompactUtf16, 5),
            Utf8,
            vec![(false, 0, 1, 5), (true, 5, 1, 10), (true, 10, 1, 6)],
            6,
        ),
        // store_latin1_to_utf8 where the worst case is exact: no shrink
        (
            hinted("éé", CompactUtf16, 2),
            Utf8,
            vec![(false, 0, 1, 2), (true, 2, 1, 4)],
            4,
        ),
        // store_utf8_to_utf16: worst case 2x bytes, then shrink
        (
            hinted("héllo", Utf8, 6),
            Utf16,
            vec![(false, 0, 2, 12), (true, 12, 2, 10)],
            5,
        ),
        // store_utf8_to_utf16, ASCII: exact, no shrink
        (hinted("abc", Utf8, 3), Utf16, vec![(false, 0, 2, 6)], 3),
        // store_string_copy utf16 -> utf16 and latin1 -> utf16
        (hinted("a😀", Utf16, 3), Utf16, vec![(false, 0, 2, 6)], 3),
        (
            hinted("ÿa", CompactUtf16, 2),
            Utf16,
            vec![(false, 0, 2, 4)],
            2,
        ),
        // store_string_to_latin1_or_utf16 from utf8: fits latin1, shrink
        (
            hinted("héllo", Utf8, 6),
            CompactUtf16,
            vec![(false, 0, 2, 6), (true, 6, 2, 5)],
            5,
        ),
        // ... exact latin1 size: no shrink
        (
            hinted("hello", Utf8, 5),
            CompactUtf16,
            vec![(false, 0, 2, 5)],
            5,
        ),
        // ... needs utf16: grow to 2x code units, inflate, shrink
        (
            hinted("h😀", Utf8, 5),
            CompactUtf16,
            vec![(false, 0, 2, 5), (true, 5, 2, 10), (true, 10, 2, 6)],
            3 | UTF16_TAG,
        ),
        // ... from utf16 source: worst case exact, no shrink
        (
            hinted("é日", Utf16, 2),
            CompactUtf16,
            vec![(false, 0, 2, 2), (true, 2, 2, 4)],
            2 | UTF16_TAG,
        ),
        // store_string_copy latin1 -> latin1
        (
            hinted("ÿes", CompactUtf16, 3),
            CompactUtf16,
            vec![(false, 0, 2, 3)],
            3,
        ),
        // store_probably_utf16_to_latin1_or_utf16: stays utf16
        (
            hinted("日本", CompactUtf16, 2 | tag),
            CompactUtf16,
            vec![(false, 0, 2, 4)],
            2 | UTF16_TAG,
        ),
        // ... all latin1 after all: deflate and shrink with alignment 1
        (
            hinted("abé", CompactUtf16, 3 | tag),
            CompactUtf16,
            vec![(false, 0, 2, 6), (true, 6, 1, 3)],
            3,
        ),
        // empty strings still call realloc(0, 0, align, 0)
        (hinted("", Utf8, 0), Utf8, vec![(false, 0, 1, 0)], 0),
        (hinted("", Utf8, 0), Utf16, vec![(false, 0, 2, 0)], 0),
        (hinted("", Utf8, 0), CompactUtf16, vec![(false, 0, 2, 0)], 0),
    ];
    for (src, dst, calls, tagged) in cases {
        let (got_calls, got_tagged, bytes) = realloc_trace(dst, &src);
        assert_eq!(got_calls, calls, "{src:?} -> {dst:?}");
        assert_eq!(got_tagged, tagged, "{src:?} -> {dst:?}");
        assert_eq!(
            bytes,
            expected_encoding(dst, src.as_str()).0,
            "{src:?} -> {dst:?}"
        );
    }
}

#[test]
fn inflation_survives_a_moving_realloc() {
    // The bump allocator always moves on growth, so the in-place inflation of
    // the already-copied Latin-1 prefix must read it from the new block.
    let mut env = Env::new(StringEncoding::CompactUtf16);
    let s = hinted("abcdé日", StringEncoding::Utf8, 9);
    let (ptr, tagged) = store_string_into_range(&mut env.cx(), &s).unwrap();
    assert_ne!(env.mem.calls[0].result, env.mem.calls[1].result);
    assert_eq!(tagged, 6 | UTF16_TAG);
    let expect: Vec<u8> = "abcdé日"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    assert_eq!(env.peek(ptr, 12), expect);
}

#[test]
fn hints_must_be_consistent() {
    use StringEncoding::*;
    assert!(StringValue::with_hint("é", Utf8, 1).is_none());
    assert!(StringValue::with_hint("é", Utf8, 2).is_some());
    assert!(StringValue::with_hint("😀", Utf16, 2).is_some());
    assert!(StringValue::with_hint("😀", Utf16, 1).is_none());
    assert!(StringValue::with_hint("日", CompactUtf16, 1).is_none());
    assert!(StringValue::with_hint("日", CompactUtf16, 1 | u64::from(UTF16_TAG)).is_some());
    assert!(StringValue::with_hint("é", CompactUtf16, 1).is_some());
    // equality ignores the hint
    assert_eq!(StringValue::new("é"), hinted("é", CompactUtf16, 1));
}
