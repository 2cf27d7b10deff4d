//! `cargo run -p lower --example lower-stub -- app.wasm [out.wasm [lib.wasm]]`: lowers a
//! component with the stub library made for it (`lower::stub_library`, every
//! WASI function trapping), to see whether and how the merger handles its
//! structure, independently of the real library; prints the sizes and the
//! time taken.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: lower-stub app.wasm [out.wasm]");
        std::process::exit(2)
    };
    let bytes = std::fs::read(path).unwrap_or_else(|e| {
        eprintln!("{path}: {e}");
        std::process::exit(1)
    });
    if std::env::var_os("LOWER_TIMING").is_some() {
        let t = std::time::Instant::now();
        let _ = component_model::inline::flatten(&bytes, lower::INPUT_FEATURES);
        eprintln!(
            "flatten (validates the component): {:.3} s",
            t.elapsed().as_secs_f64()
        );
        let t = std::time::Instant::now();
        let _ = wasmparser::Validator::new_with_features(
            lower::INPUT_FEATURES | wasmparser::WasmFeatures::COMPONENT_MODEL,
        )
        .validate_all(&bytes);
        eprintln!("validate_all: {:.3} s", t.elapsed().as_secs_f64());
    }
    let t0 = std::time::Instant::now();
    let result = lower::stub_library(&bytes).and_then(|lib| lower::lower(&bytes, &lib));
    let secs = t0.elapsed().as_secs_f64();
    match result {
        Ok(l) => {
            println!(
                "{path}: {} bytes -> {} bytes in {secs:.3} s; extra features: {:?}",
                bytes.len(),
                l.bytes.len(),
                l.extra_features
            );
            if let Some(out) = args.get(1) {
                std::fs::write(out, &l.bytes).expect("writing the output");
            }
            if let Some(lib) = args.get(2) {
                let stub = lower::stub_library(&bytes).expect("made above");
                std::fs::write(lib, stub).expect("writing the stub library");
            }
        }
        Err(e) => {
            println!("{path}: {e}");
            std::process::exit(1)
        }
    }
}
