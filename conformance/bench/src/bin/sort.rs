//! A sort of 1M integers: sorts N pseudo-random u32s in rounds of at most
//! 1,000,000 (each round: an unstable sort of the values, then a stable sort of
//! (16-bit key, index) pairs by key). `sort [N]` (default 8,000,000: 8 rounds);
//! prints a checksum of the sorted arrays.
use p2shim_bench::{size_arg, Rng};

const ROUND: u64 = 1_000_000;

fn main() {
    let total = size_arg(8 * ROUND);
    let mut rng = Rng::new(2024);
    let mut h = 0u64;
    println!("sort: {total} integers in rounds of at most {ROUND}");
    let mut left = total;
    while left > 0 {
        let n = left.min(ROUND);
        left -= n;
        let mut v: Vec<u32> = (0..n).map(|_| rng.next_u64() as u32).collect();
        let mut w: Vec<(u16, u32)> = v
            .iter()
            .enumerate()
            .map(|(i, &x)| ((x >> 16) as u16, i as u32))
            .collect();
        v.sort_unstable();
        w.sort_by_key(|p| p.0);
        assert!(v.windows(2).all(|p| p[0] <= p[1]));
        for (i, x) in v.iter().enumerate().step_by(997) {
            h = h.wrapping_mul(31).wrapping_add(*x as u64 ^ i as u64);
        }
        for (k, i) in w.iter().step_by(991) {
            h = h
                .wrapping_mul(31)
                .wrapping_add(((*k as u64) << 32) | *i as u64);
        }
    }
    println!("checksum {h:016x}");
}
