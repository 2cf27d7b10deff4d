//! Arguments and environment with unicode, empty strings, spaces, `=` in
//! values and empty values, read through Rust std and through the raw
//! `wasi:cli/environment` functions (`get-arguments`, `get-environment`,
//! `initial-cwd`); argv[0] is left out (hosts name the program differently).
//! Compared by `../run.sh`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("std args {}: {:?}", args.len(), args);
    for a in &args {
        println!("  {:?} bytes {} chars {}", a, a.len(), a.chars().count());
    }
    let raw = wasi::cli::environment::get_arguments();
    println!("raw args equal std {}", raw[1..] == args[..]);
    let mut env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("P2T"))
        .collect();
    env.sort();
    println!("std env {env:?}");
    let mut raw: Vec<(String, String)> = wasi::cli::environment::get_environment()
        .into_iter()
        .filter(|(k, _)| k.starts_with("P2T"))
        .collect();
    raw.sort();
    println!("raw env equal std {}", raw == env);
    println!("var P2T_EMPTY {:?}", std::env::var("P2T_EMPTY"));
    println!(
        "var P2T_MISSING {:?}",
        std::env::var("P2T_MISSING").is_err()
    );
}
