//! A command component that exports `wasi:cli/run` directly (no Rust
//! `main`, so no call to `exit`): `run` returns `Ok` or `Err` as the first
//! argument says, after writing to stdout and stderr through the raw
//! streams. Native wasmtime exits 0 for `Ok` and 1 for `Err`. Compared by
//! `../run.sh`.

struct Run;

impl wasi::exports::cli::run::Guest for Run {
    fn run() -> Result<(), ()> {
        let args = wasi::cli::environment::get_arguments();
        let out = wasi::cli::stdout::get_stdout();
        let err = wasi::cli::stderr::get_stderr();
        out.blocking_write_and_flush(format!("args {:?}\n", &args[1..]).as_bytes())
            .unwrap();
        err.blocking_write_and_flush(b"run on stderr\n").unwrap();
        match args.get(1).map(String::as_str) {
            Some("err") => Err(()),
            _ => Ok(()),
        }
    }
}

wasi::cli::command::export!(Run with_types_in wasi);
