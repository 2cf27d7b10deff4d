//! A print-heavy program (the cost of host calls): prints N lines (100,000 by
//! default) to stdout, one `println!` each, so every line is one write to the
//! host (Rust's stdout is line-buffered). `print-heavy [LINES]`.
//! The expected output is checked by its SHA-256 (it is a few MB).
use p2shim_bench::{size_arg, Rng};

fn main() {
    let lines = size_arg(100_000);
    let mut rng = Rng::new(1);
    for i in 0..lines {
        println!(
            "line {i:06} value {:08x} {}",
            rng.next_u64() as u32,
            "*".repeat((i % 17) as usize)
        );
    }
    println!("print-heavy: {lines} lines");
}
