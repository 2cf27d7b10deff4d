//! A regex search over text (the regex crate): builds a pseudo-random text of
//! N KiB and counts the matches of a few patterns (words by suffix, e-mail-like
//! tokens, dates, an alternation). `regex-search [KIB]`; prints the counts.
use p2shim_bench::{fnv1a, size_arg, words_text, Rng, FNV_START};
use regex::Regex;

fn main() {
    let kib = size_arg(24576);
    let mut rng = Rng::new(42);
    let text = words_text(&mut rng, (kib * 1024) as usize);
    let patterns = [
        r"\b\w+ing\b",
        r"[a-z]+@example\.org",
        r"\b(19|20)\d\d-\d{4}\b",
        r"(?i)kalo|mine|ruti|zzqu",
        r"(?m)^st\w*",
    ];
    println!("regex-search: {kib} KiB");
    for p in patterns {
        let re = Regex::new(p).expect("valid pattern");
        let mut n = 0u64;
        let mut h = FNV_START;
        for m in re.find_iter(&text) {
            n += 1;
            h = fnv1a(h, m.as_str().as_bytes());
        }
        println!("{p}: {n} matches, fnv {h:016x}");
    }
}
