//! SHA-256 over a buffer (integer and memory work): hashes a 1 MiB
//! pseudo-random buffer N times, each round folding the previous digest into
//! the buffer. `sha256 [ROUNDS]`; prints the final digest.
use p2shim_bench::{size_arg, Rng};
use sha2::{Digest, Sha256};

fn main() {
    let rounds = size_arg(150);
    let mut rng = Rng::new(0x5a5a);
    let mut buf: Vec<u8> = (0..1 << 20).map(|_| rng.next_u64() as u8).collect();
    let mut digest = [0u8; 32];
    for r in 0..rounds {
        let off = (r as usize * 32) % (buf.len() - 32);
        buf[off..off + 32].copy_from_slice(&digest);
        digest = Sha256::digest(&buf).into();
    }
    println!("sha256: {rounds} rounds over 1 MiB");
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    println!("{hex}");
}
