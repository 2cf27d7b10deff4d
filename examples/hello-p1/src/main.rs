//! `make demo`'s sample WASIp1 program. Build with
//! `cargo build --release --target wasm32-wasip1`, run with
//! `wasmtime run --dir . --env GREETING=hi hello-p1.wasm a b` (directly) or
//! `wasmtime run --dir . --env GREETING=hi p2shim.wasm hello-p1.wasm a b` (through the shim):
//! both must print the same lines.
use std::fs;
use std::process::ExitCode;

fn main() -> ExitCode {
    let kind = if cfg!(target_env = "p2") {
        "WASIp2 component"
    } else {
        "WASIp1 program"
    };
    println!("hello from a {kind}");
    let args: Vec<String> = std::env::args().collect();
    println!("args ({}): {:?}", args.len(), args);
    match std::env::var("GREETING") {
        Ok(v) => println!("env GREETING = {v:?}"),
        Err(_) => println!("env GREETING is not set"),
    }
    let path = "hello-p1-output.txt";
    let text = format!(
        "written by {} with {} args\n",
        args.first().map_or("?", |s| s),
        args.len()
    );
    if let Err(e) = fs::write(path, &text) {
        eprintln!("cannot write {path} (is a folder preopened as `.`?): {e}");
        return ExitCode::from(1);
    }
    match fs::read_to_string(path) {
        Ok(back) if back == text => println!("wrote and read back {path}: {:?}", back.trim_end()),
        Ok(back) => {
            eprintln!("read back different text: {back:?}");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("cannot read {path} back: {e}");
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}
