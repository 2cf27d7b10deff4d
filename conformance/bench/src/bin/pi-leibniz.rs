//! pi by the Leibniz series: a tight f64 loop (add, div, sign flip).
//! `pi-leibniz [TERMS]`; prints the approximation. Deterministic output.
use std::hint::black_box;

const DEFAULT_TERMS: u64 = 250_000_000;

fn main() {
    let terms: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("TERMS must be an integer"))
        .unwrap_or(DEFAULT_TERMS);
    let terms = black_box(terms);
    let mut sum = 0.0f64;
    let mut sign = 1.0f64;
    let mut k = 0u64;
    while k < terms {
        sum += sign / (2 * k + 1) as f64;
        sign = -sign;
        k += 1;
    }
    let pi = 4.0 * sum;
    println!("pi-leibniz: {terms} terms");
    println!("pi ~= {pi:.12}");
    println!("error = {:.3e}", (pi - std::f64::consts::PI).abs());
}
