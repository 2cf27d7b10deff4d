//! Shared helpers of the benchmark programs: a deterministic PRNG (xorshift64*),
//! an FNV-1a checksum, and the size argument. Every program prints only values
//! derived deterministically from its size argument, so its stdout can be
//! compared with a checked-in expected output on any host.

/// xorshift64*: small, fast, deterministic across hosts.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// FNV-1a over bytes, continuing from `h` (start with `FNV_START`).
pub const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;
pub fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The program's first argument as a number, or `default`.
pub fn size_arg(default: u64) -> u64 {
    let n = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("the size argument must be an integer"))
        .unwrap_or(default);
    std::hint::black_box(n)
}

/// Lower-case pseudo-words, separated by spaces and newlines.
pub fn words_text(rng: &mut Rng, bytes: usize) -> String {
    const SYL: [&str; 16] = [
        "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ing", "er", "ed", "qu", "zz", "th", "an",
        "st",
    ];
    let mut s = String::with_capacity(bytes + 16);
    let mut col = 0;
    while s.len() < bytes {
        let n = 1 + rng.below(4);
        for _ in 0..n {
            s.push_str(SYL[rng.below(16) as usize]);
        }
        if rng.below(50) == 0 {
            s.push_str("@example.org");
        }
        if rng.below(40) == 0 {
            s.push_str(&format!(
                " {}-{:04}",
                1900 + rng.below(200),
                rng.below(10000)
            ));
        }
        col += 1;
        if col % 12 == 0 {
            s.push('\n');
        } else {
            s.push(' ');
        }
    }
    s
}
