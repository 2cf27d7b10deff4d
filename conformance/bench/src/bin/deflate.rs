//! Deflate and inflate (miniz_oxide): compresses N KiB of text-like data at
//! levels 1 and 6, inflates each back and checks it is exact.
//! `deflate [KIB]`; prints compressed sizes and checksums.
use miniz_oxide::deflate::compress_to_vec;
use miniz_oxide::inflate::decompress_to_vec;
use p2shim_bench::{fnv1a, size_arg, words_text, Rng, FNV_START};

fn main() {
    let kib = size_arg(6144);
    let mut rng = Rng::new(99);
    let data = words_text(&mut rng, (kib * 1024) as usize).into_bytes();
    println!("deflate: {kib} KiB, fnv {:016x}", fnv1a(FNV_START, &data));
    for level in [1u8, 6] {
        let packed = compress_to_vec(&data, level);
        let unpacked = decompress_to_vec(&packed).expect("inflate");
        assert!(
            unpacked == data,
            "inflate(deflate(x)) != x at level {level}"
        );
        println!(
            "level {level}: {} bytes, fnv {:016x}",
            packed.len(),
            fnv1a(FNV_START, &packed)
        );
    }
}
