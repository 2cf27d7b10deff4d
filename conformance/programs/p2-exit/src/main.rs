//! Every way a command ends, chosen by the first argument: `wasi:cli/exit`
//! `exit(ok)` and `exit(err)`, `exit-with-code(n)`, Rust's
//! `std::process::exit(n)`, returning from `main` with `Ok` and `Err`, a
//! panic (a trap) and an explicit `unreachable`, each after output on both
//! streams (which must not be lost). Compared by `../run.sh`.

use std::io::Write;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let form = args.first().map(String::as_str).unwrap_or("");
    let n: u8 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(0);
    println!("form {form:?} n {n}");
    eprintln!("stderr before {form}");
    // A large unflushed write through the raw stream must reach the host.
    let out = wasi::cli::stdout::get_stdout();
    let line = [b'x'; 1000];
    for _ in 0..64 {
        out.write(&line).unwrap();
        out.write(b"\n").unwrap();
    }
    std::io::stdout().flush().unwrap();
    match form {
        "exit-ok" => wasi::cli::exit::exit(Ok(())),
        "exit-err" => wasi::cli::exit::exit(Err(())),
        "exit-with-code" => wasi::cli::exit::exit_with_code(n),
        "process-exit" => std::process::exit(n.into()),
        "return-ok" => return Ok(()),
        "return-err" => return Err(format!("returned an error after {n}")),
        "panic" => panic!("panicking on purpose ({n})"),
        "unreachable" => core::arch::wasm32::unreachable(),
        "stack-overflow" => {
            fn deep(x: u64) -> u64 {
                if x == u64::MAX {
                    0
                } else {
                    deep(x + 1) + std::hint::black_box(1)
                }
            }
            println!("{}", deep(0));
        }
        _ => {}
    }
    println!("fell through {form}");
    Ok(())
}
