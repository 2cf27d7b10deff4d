//! Clocks, sleeps, polling and random: `monotonic-clock` (now, resolution,
//! subscribe-duration, subscribe-instant in the past and future),
//! `wall-clock`, `pollable.ready`/`block`, `poll` over several pollables
//! (timers, an output stream, the same pollable twice), Rust std sleeps, and
//! `random`/`insecure`/`insecure-seed`. Prints relations, not times or
//! random values. Compared by `../run.sh`.

use wasi::clocks::{monotonic_clock as mono, wall_clock as wall};
use wasi::io::poll::poll;

fn main() {
    let t0 = mono::now();
    println!("resolution > 0 {}", mono::resolution() > 0);
    let w = wall::now();
    let wr = wall::resolution();
    println!(
        "wall after 2020 {} nanos < 1e9 {} resolution > 0 {}",
        w.seconds > 1_577_836_800,
        w.nanoseconds < 1_000_000_000,
        wr.seconds > 0 || wr.nanoseconds > 0
    );
    println!("now monotonic {}", mono::now() >= t0);

    // Sleeps: std, subscribe-duration, subscribe-instant.
    let t = mono::now();
    std::thread::sleep(std::time::Duration::from_millis(30));
    println!(
        "std sleep 30ms elapsed >= 30ms {}",
        mono::now() - t >= 30_000_000
    );
    let t = mono::now();
    let p = mono::subscribe_duration(25_000_000);
    println!("duration ready before {}", p.ready());
    p.block();
    println!(
        "duration ready after block {} elapsed >= 25ms {}",
        p.ready(),
        mono::now() - t >= 25_000_000
    );
    let t = mono::now();
    let p = mono::subscribe_instant(t + 20_000_000);
    println!("instant future ready {}", p.ready());
    p.block();
    println!("instant elapsed >= 20ms {}", mono::now() - t >= 20_000_000);
    // (A past instant's `ready` right after subscribing is false on wasmtime
    // until its timer driver has run, so only `block` is checked.)
    let t = mono::now();
    mono::subscribe_instant(t0).block();
    mono::subscribe_duration(0).block();
    println!(
        "past instant and zero duration block briefly {}",
        mono::now() - t < 1_000_000_000
    );
    let t = std::time::Instant::now();
    let d = t.elapsed();
    println!("std Instant monotonic {}", d.as_nanos() < 10_000_000_000);

    // poll over several pollables.
    let long = mono::subscribe_duration(60_000_000_000);
    let short = mono::subscribe_duration(10_000_000);
    let shorter = mono::subscribe_duration(0);
    println!("poll [long, zero] {:?}", poll(&[&long, &shorter]));
    println!("poll [long, short] {:?}", poll(&[&long, &short]));
    println!(
        "poll [short, long, short] {:?}",
        poll(&[&short, &long, &short])
    );
    let out = wasi::cli::stdout::get_stdout();
    let op = out.subscribe();
    println!("poll [long, stdout] {:?}", poll(&[&long, &op]));
    println!("stdout ready {}", op.ready());
    let many: Vec<_> = (0..10)
        .map(|i| mono::subscribe_duration(if i == 7 { 5_000_000 } else { 60_000_000_000 }))
        .collect();
    let refs: Vec<_> = many.iter().collect();
    println!("poll 10 timers {:?}", poll(&refs));
    println!("long still pending {}", long.ready());

    // random.
    let a = wasi::random::random::get_random_bytes(32);
    let b = wasi::random::random::get_random_bytes(32);
    println!("random 32 {} {} differ {}", a.len(), b.len(), a != b);
    println!(
        "random 0 {}",
        wasi::random::random::get_random_bytes(0).len()
    );
    println!(
        "random 100k {}",
        wasi::random::random::get_random_bytes(100_000).len()
    );
    println!(
        "random u64 differ {}",
        wasi::random::random::get_random_u64() != wasi::random::random::get_random_u64()
    );
    let a = wasi::random::insecure::get_insecure_random_bytes(16);
    println!(
        "insecure 16 {} differ {}",
        a.len(),
        a != wasi::random::insecure::get_insecure_random_bytes(16)
    );
    println!(
        "insecure u64 differ {}",
        wasi::random::insecure::get_insecure_random_u64()
            != wasi::random::insecure::get_insecure_random_u64()
    );
    println!(
        "insecure-seed stable {}",
        wasi::random::insecure_seed::insecure_seed()
            == wasi::random::insecure_seed::insecure_seed()
    );
    let m: std::collections::HashMap<u32, u32> = (0..100).map(|i| (i, i * i)).collect();
    println!("hashmap sum {}", m.values().sum::<u32>());
}
