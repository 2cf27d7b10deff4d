//! `fuzz-smoke`: a bounded, deterministic run of the core-vm fuzz harness
//! (`conformance::fuzz_harness`) for `make test` and CI.
//!
//! Usage: `fuzz-smoke [--iterations N] [--seed S] [--start I] [--save DIR] [--components-only] [--differential-only] [--component-diff-only] [--diff-file MODULE.wasm --arg-seed N [--exact-nans] [--expect OUTCOME] [--expect-with-arbiter OUTCOME]] [--reference wasmi|wasmtime] [--verbose]`
//!
//! Iteration `i` draws everything from `XorShift::new(seed + i)`, so any
//! failing iteration is reproduced alone by `--start i --iterations 1` with
//! the same seed. Each iteration (1) turns random bytes into a wasm-smith
//! module and runs it (the `core_vm_exec` fuzz target), (2) mutates that
//! module's bytes and feeds them to `Module::new` (the `core_vm_parse`
//! target), and every fourth one (3) feeds pure random bytes behind a valid
//! header, and (4) mutates one of the seed components and feeds it to
//! `Component::new` and instantiation (`conformance::component_fuzz`, the
//! `component_parse` target), and, when built with the `component-gen`
//! feature, (5) makes a component with wit-smith + wit-component, parses,
//! instantiates it and calls its exports (`conformance::component_gen`, the
//! `component_gen` target; `--components-only` runs just this step) and
//! (7) lowers that component (`conformance::lower_gen`, the `lower_gen`
//! target) and validates the lowered module, and (9) wraps a wasm-smith
//! module into a component, lowers it and runs it beside the module itself
//! on core-vm (`conformance::lower_diff`, the `lower_diff` target), and,
//! when built with the `differential` feature, (6) runs the module of (1)
//! on core-vm and on wasmi and compares them (`conformance::differential`,
//! the `core_vm_diff` target; `--differential-only` runs just this step;
//! with the `arbiter` feature, wasmtime 48 judges each module they disagree
//! on or that wasmi fails on, and `--reference wasmtime` compares with
//! wasmtime alone, for a module that crashes wasmi's process), and,
//! when built with the `component-diff` feature, with `--component-diff-only`
//! (and nothing else), (8) makes a component with real export bodies and runs
//! it on component-model and on wasmtime, comparing every call
//! (`conformance::component_diff`, the `component_diff` target). Exit
//! status 1 if anything panicked or the harness reported a finding; `--save
//! DIR` writes the inputs of failing iterations there, named for the fuzz
//! target that replays them. A panic of the reference engine (wasmi) is
//! reported with its iteration and counted, not a failure.
//!
//! Build it with `--profile fuzz` (the release profile with `panic =
//! "unwind"`, as `make fuzz-smoke` does): under the release profile's
//! `panic = "abort"` nothing can catch a panic, so the first one ends the run.

use conformance::component_fuzz::{parse_component, seeds};
use conformance::fuzz_harness::{exec_generated, generate, mutate, parse_raw, Stats, XorShift};
#[cfg(feature = "component-gen")]
use conformance::{component_gen, lower_diff, lower_gen};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

struct Args {
    iterations: u64,
    seed: u64,
    start: u64,
    save: Option<PathBuf>,
    verbose: bool,
    components_only: bool,
    differential_only: bool,
    component_diff_only: bool,
    diff_file: Option<PathBuf>,
    arg_seed: u64,
    exact_nans: bool,
    expect: Option<String>,
    expect_with_arbiter: Option<String>,
    reference_wasmtime: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        iterations: 500,
        seed: 0x5eed_c0de,
        start: 0,
        save: None,
        verbose: false,
        components_only: false,
        differential_only: false,
        component_diff_only: false,
        diff_file: None,
        arg_seed: 0,
        exact_nans: false,
        expect: None,
        expect_with_arbiter: None,
        reference_wasmtime: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> Result<u64, String> {
            let v = it.next().ok_or(format!("{name} needs a value"))?;
            let parsed = match v.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => v.parse(),
            };
            parsed.map_err(|e| format!("{name} {v}: {e}"))
        };
        match a.as_str() {
            "--iterations" | "-n" => args.iterations = num("--iterations")?,
            "--seed" => args.seed = num("--seed")?,
            "--start" => args.start = num("--start")?,
            "--save" => args.save = Some(it.next().ok_or("--save needs a directory")?.into()),
            "--verbose" | "-v" => args.verbose = true,
            "--components-only" => args.components_only = true,
            "--differential-only" => args.differential_only = true,
            "--component-diff-only" => args.component_diff_only = true,
            "--diff-file" => {
                args.diff_file = Some(it.next().ok_or("--diff-file needs a file")?.into())
            }
            "--arg-seed" => args.arg_seed = num("--arg-seed")?,
            "--exact-nans" => args.exact_nans = true,
            "--expect" | "--expect-with-arbiter" => {
                const OUTCOMES: &[&str] = &[
                    "equal",
                    "nan-payload",
                    "nan-derived",
                    "reference-disagreement",
                    "mismatch",
                ];
                let v = it.next().ok_or(format!("{a} needs one of {OUTCOMES:?}"))?;
                if !OUTCOMES.contains(&v.as_str()) {
                    return Err(format!("{a} {v}: not one of {OUTCOMES:?}"));
                }
                if a == "--expect" {
                    args.expect = Some(v);
                } else {
                    args.expect_with_arbiter = Some(v);
                }
            }
            "--reference" => match it.next().as_deref() {
                Some("wasmi") => args.reference_wasmtime = false,
                Some("wasmtime") => args.reference_wasmtime = true,
                other => return Err(format!("--reference {other:?}: not wasmi or wasmtime")),
            },
            "--help" | "-h" => {
                println!("usage: fuzz-smoke [--iterations N] [--seed S] [--start I] [--save DIR] [--components-only] [--differential-only] [--component-diff-only] [--diff-file MODULE.wasm --arg-seed N [--exact-nans] [--expect OUTCOME] [--expect-with-arbiter OUTCOME]] [--reference wasmi|wasmtime] [--verbose]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(args)
}

thread_local! {
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Runs one harness step, turning a panic into a finding.
fn guarded(what: &str, f: impl FnOnce() -> Stats) -> Stats {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(s) => s,
        Err(_) => {
            let msg = LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_else(|| "panic".into());
            Stats {
                findings: vec![format!("{what}: {msg}")],
                ..Stats::default()
            }
        }
    }
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("fuzz-smoke: {e}");
            std::process::exit(2);
        }
    };
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "<non-string panic>".into());
        let loc = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let msg = format!("panicked: {msg}{loc}");
        if cfg!(panic = "abort") {
            eprintln!("{msg}"); // nothing will catch it: say it before the abort
        }
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(msg));
    }));

    if cfg!(panic = "abort") {
        eprintln!(
            "fuzz-smoke: built with panic = \"abort\": the first panic ends the run instead of being \
             reported (build with --profile fuzz)"
        );
    }

    if args.component_diff_only {
        component_diff(&args);
    }
    #[cfg(feature = "differential")]
    if let Some(path) = &args.diff_file {
        diff_file(path, &args);
    }
    let started = std::time::Instant::now();
    let mut total = Stats::default();
    #[cfg(feature = "differential")]
    let mut diff_total = conformance::differential::DiffStats::default();
    #[cfg(feature = "differential")]
    let started_cpu = cpu_seconds();
    let mut failing = 0u64;
    // Step (9)'s counts, apart from the others'.
    #[cfg(feature = "component-gen")]
    let mut lower_diff_total = Stats::default();
    let component_seeds = seeds();
    for i in args.start..args.start + args.iterations {
        let mut rng = XorShift::new(args.seed.wrapping_add(i));
        let mut it = Stats::default();
        let mut inputs: Vec<(&str, Vec<u8>)> = Vec::new();

        // (6) core-vm against wasmi on a wasm-smith module (the bytes of (1)
        // behind a byte choosing the NaN mode).
        #[cfg(feature = "differential")]
        if !args.components_only {
            let mode = rng.next_u64() as u8;
            let len = 64 + rng.below(8 * 1024) as usize;
            let mut data = vec![mode];
            data.extend(rng.bytes(len));
            let mut diff = conformance::differential::DiffStats::default();
            it.merge(&guarded("differential", || {
                diff = diff_generated(&data, args.reference_wasmtime);
                Stats {
                    findings: diff.findings.clone(),
                    ..Stats::default()
                }
            }));
            if diff.reference_failed > 0 {
                // The hook's message names wasmi's source line; the payload does not.
                let msg = LAST_PANIC
                    .with(|p| p.borrow_mut().take())
                    .unwrap_or_else(|| diff.reference_panics.join("; "));
                let (who, flag) = if args.reference_wasmtime {
                    ("wasmtime 48", " --reference wasmtime")
                } else {
                    ("wasmi", "")
                };
                eprintln!(
                    "iteration {i}: {who} panicked (a reference failure, not a mismatch; \
                     reproduce: fuzz-smoke --differential-only{flag} --seed {:#x} --start {i} --iterations 1): {msg}",
                    args.seed
                );
                if let Some(dir) = &args.save {
                    save(dir, &format!("iter{i}-wasmi-panic.core_vm_diff"), &data);
                }
            }
            for note in &diff.nan_notes {
                eprintln!("iteration {i}: spec-allowed NaN difference: {note}");
            }
            for note in &diff.arbiter_notes {
                eprintln!("iteration {i}: arbiter: {note}");
            }
            diff_total.merge(&diff);
            inputs.push(("core_vm_diff", data));
        }
        #[cfg(not(feature = "differential"))]
        if args.differential_only {
            eprintln!("fuzz-smoke: --differential-only needs the `differential` feature");
            std::process::exit(2);
        }

        if !args.components_only && !args.differential_only {
            // (1) wasm-smith module, validated, instantiated and run.
            let len = 64 + rng.below(8 * 1024) as usize;
            let data = rng.bytes(len);
            it.merge(&guarded("exec", || exec_generated(&data)));
            inputs.push(("core_vm_exec", data.clone()));

            // (2) the same module, mutated, through the parser (and run if accepted).
            if let Some(mut wasm) = guarded_generate(&data) {
                mutate(&mut rng, &mut wasm);
                it.merge(&guarded("parse (mutated)", || parse_raw(&wasm)));
                inputs.push(("core_vm_parse", wasm));
            }

            // (3) random bytes behind a valid header.
            if i % 4 == 0 {
                let mut raw = b"\0asm\x01\0\0\0".to_vec();
                let n = rng.below(512) as usize;
                raw.extend(rng.bytes(n));
                it.merge(&guarded("parse (random)", || parse_raw(&raw)));
                inputs.push(("core_vm_parse", raw));
            }

            // (4) a seed component, mutated, through Component::new and instantiation.
            let mut comp = component_seeds[(i % component_seeds.len() as u64) as usize].clone();
            mutate(&mut rng, &mut comp);
            it.merge(&guarded("component (mutated)", || parse_component(&comp)));
            inputs.push(("component_parse", comp));
        }

        // (5) a generated component, parsed, instantiated, its exports called.
        #[cfg(feature = "component-gen")]
        if !args.differential_only {
            let len = 256 + rng.below(16 * 1024) as usize;
            let data = rng.bytes(len);
            let mut errors = Vec::new();
            let mut generated = None;
            it.merge(&guarded("component (generated)", || {
                let mut u = arbitrary::Unstructured::new(&data);
                match component_gen::generate(&mut u) {
                    Some(bytes) => {
                        let stats = component_gen::exec_component(&bytes, &mut u, &mut errors);
                        generated = Some(bytes);
                        stats
                    }
                    None => Stats::default(),
                }
            }));
            // (7) the same component lowered to one core module, which must validate.
            if let Some(bytes) = &generated {
                it.merge(&guarded("lower (generated)", || {
                    lower_gen::lower_component(bytes, &mut errors)
                }));
                inputs.push(("lower_gen", data.clone()));
            }
            // (9) a wasm-smith module wrapped into a component, lowered, and
            // run beside the module itself.
            let len = 64 + rng.below(8 * 1024) as usize;
            let smith = rng.bytes(len);
            let step = guarded("lower (wasm-smith, differential)", || {
                lower_diff::diff_lowered(&smith, &mut errors)
            });
            it.findings.extend(step.findings.iter().cloned());
            lower_diff_total.merge(&step);
            inputs.push(("lower_diff", smith));
            if args.verbose {
                for e in &errors {
                    eprintln!("iteration {i}: {e}");
                }
            }
            inputs.push(("component_gen", data));
        }

        if !it.findings.is_empty() {
            failing += 1;
            eprintln!(
                "iteration {i} FAILED (reproduce: fuzz-smoke --seed {:#x} --start {i} --iterations 1):",
                args.seed
            );
            for f in &it.findings {
                eprintln!("  - {f}");
            }
            if let Some(dir) = &args.save {
                for (k, (target, bytes)) in inputs.iter().enumerate() {
                    save(dir, &format!("iter{i}-{k}.{target}"), bytes);
                }
            }
        } else if args.verbose {
            eprintln!("iteration {i}: ok ({} calls, {} traps)", it.calls, it.traps);
        }
        total.merge(&it);
    }

    println!(
        "fuzz-smoke: {} iterations from seed {:#x} in {:.1}s: {} modules/components generated ({} rejected), \
         {} raw inputs ({} accepted), {} instantiated ({} failed), {} calls ({} ok, {} traps, {} errors), \
         {} lowered ({} refused); {} failing iterations",
        args.iterations,
        args.seed,
        started.elapsed().as_secs_f64(),
        total.generated,
        total.rejected_generated,
        total.raw_inputs,
        total.raw_accepted,
        total.instantiated,
        total.instantiation_errors,
        total.calls,
        total.calls_ok,
        total.traps,
        total.call_errors,
        total.lowered,
        total.lower_refused,
        failing,
    );
    #[cfg(feature = "component-gen")]
    if !args.differential_only {
        println!(
        "fuzz-smoke lowered against the module itself (step 9): {} wasm-smith modules, {} lowered ({} refused), \
         {} instantiated alike, {} calls compared ({} trapping alike)",
        lower_diff_total.generated,
        lower_diff_total.lowered,
        lower_diff_total.lower_refused,
        lower_diff_total.instantiated,
        lower_diff_total.calls,
        lower_diff_total.traps,
    );
    }
    #[cfg(feature = "differential")]
    let (reference, arbiter) = if args.reference_wasmtime {
        ("wasmtime 48", "none")
    } else if cfg!(feature = "arbiter") {
        ("wasmi 2.0", "wasmtime 48")
    } else {
        ("wasmi 2.0", "off")
    };
    #[cfg(feature = "differential")]
    println!(
        "fuzz-smoke differential (core-vm vs {reference}, arbiter {arbiter}): {} modules ({} rejected by the reference, {} stopped by a reference panic), {} instantiated, \
         {} calls compared ({} trapping alike), {} modules inconclusive (fuel, stack or caps), \
         {} NaN-payload and {} NaN-derived differences (spec-allowed, probe-confirmed), \
         {} modules judged by the arbiter: {} reference disagreements (wasmi differs from core-vm and wasmtime), \
         {} wasmi failures compared on wasmtime without a mismatch; {} mismatches; {:.1} s CPU",
        diff_total.modules,
        diff_total.reference_rejected,
        diff_total.reference_failed,
        diff_total.instantiated,
        diff_total.calls,
        diff_total.traps,
        diff_total.inconclusive,
        diff_total.nan_payload,
        diff_total.nan_derived,
        diff_total.arbitrated,
        diff_total.reference_disagreements.len(),
        diff_total.replaced_agreed,
        diff_total.findings.len(),
        cpu_seconds() - started_cpu,
    );
    std::process::exit(if failing == 0 { 0 } else { 1 });
}

/// Step (6) on the input `data`: against wasmi (with the arbiter if built
/// in), or with `wasmtime` against wasmtime 48 alone.
#[cfg(feature = "differential")]
fn diff_generated(data: &[u8], wasmtime: bool) -> conformance::differential::DiffStats {
    #[cfg(feature = "arbiter")]
    if wasmtime {
        return conformance::differential::diff_generated_on_wasmtime(data);
    }
    #[cfg(not(feature = "arbiter"))]
    if wasmtime {
        eprintln!("fuzz-smoke: --reference wasmtime needs the `arbiter` feature");
        std::process::exit(2);
    }
    conformance::differential::diff_generated(data)
}

/// `--diff-file`: step (6) on a saved module (`DIFF_SAVE` writes it and,
/// beside it, the `--arg-seed` and `--exact-nans` of the iteration), for
/// shrinking a mismatch (`wasm-tools shrink` with this as its predicate).
/// Exit status 1 on a mismatch; with `--expect`, exit status 0 exactly
/// when the outcome is the one expected (`make fuzz-smoke` replays the
/// saved cases of `conformance/differential-cases/` so).
#[cfg(feature = "differential")]
fn diff_file(path: &std::path::Path, args: &Args) -> ! {
    let wasm = match std::fs::read(path) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("fuzz-smoke: {}: {e}", path.display());
            std::process::exit(2);
        }
    };
    #[cfg(feature = "arbiter")]
    let diff = if args.reference_wasmtime {
        conformance::differential::diff_module_on_wasmtime(&wasm, args.arg_seed, args.exact_nans)
    } else {
        conformance::differential::diff_module(&wasm, args.arg_seed, args.exact_nans)
    };
    #[cfg(not(feature = "arbiter"))]
    let diff = if args.reference_wasmtime {
        eprintln!("fuzz-smoke: --reference wasmtime needs the `arbiter` feature");
        std::process::exit(2);
    } else {
        conformance::differential::diff_module(&wasm, args.arg_seed, args.exact_nans)
    };
    for n in &diff.nan_notes {
        eprintln!("  spec-allowed NaN difference: {n}");
    }
    for n in &diff.arbiter_notes {
        eprintln!("  arbiter: {n}");
    }
    for f in &diff.findings {
        eprintln!("  - {f}");
    }
    let outcome = if !diff.findings.is_empty() {
        "mismatch"
    } else if !diff.reference_disagreements.is_empty() {
        "reference-disagreement"
    } else if diff.nan_derived > 0 {
        "nan-derived"
    } else if diff.nan_payload > 0 {
        "nan-payload"
    } else {
        "equal"
    };
    // A build with the arbiter expects what the arbiter makes of the case.
    let expect = if cfg!(feature = "arbiter") && args.expect_with_arbiter.is_some() {
        &args.expect_with_arbiter
    } else {
        &args.expect
    };
    match expect {
        None => std::process::exit(if diff.findings.is_empty() { 0 } else { 1 }),
        Some(e) if e == outcome => {
            println!("{}: {outcome}, as expected", path.display());
            std::process::exit(0)
        }
        Some(e) => {
            eprintln!("{}: {outcome}, expected {e}", path.display());
            std::process::exit(1)
        }
    }
}

/// `--component-diff-only`: step (8) alone, with its own summary line.
#[cfg(feature = "component-diff")]
fn component_diff(args: &Args) -> ! {
    use conformance::component_diff::{diff_generated, DiffStats};
    let started_cpu = cpu_seconds();
    let mut total = DiffStats::default();
    let mut failing = 0u64;
    for i in args.start..args.start + args.iterations {
        let mut rng = XorShift::new(args.seed.wrapping_add(i));
        let len = 256 + rng.below(16 * 1024) as usize;
        let data = rng.bytes(len);
        let mut diff = DiffStats::default();
        let panicked = guarded("component diff", || {
            diff = diff_generated(&data);
            Stats::default()
        });
        diff.findings.extend(panicked.findings);
        if !diff.findings.is_empty() {
            failing += 1;
            eprintln!(
                "iteration {i} FAILED (reproduce: fuzz-smoke --component-diff-only --seed {:#x} --start {i} --iterations 1):",
                args.seed
            );
            for f in &diff.findings {
                eprintln!("  - {f}");
            }
            if let Some(dir) = &args.save {
                save(dir, &format!("iter{i}.component_diff"), &data);
            }
        } else if args.verbose {
            for n in &diff.notes {
                eprintln!("iteration {i}: {n}");
            }
            eprintln!("iteration {i}: ok ({} calls)", diff.calls);
        }
        total.merge(&diff);
    }
    println!(
        "fuzz-smoke component diff (component-model vs wasmtime 48): {} components ({} rejected by both), \
         {} instantiated, {} exports called, {} calls compared ({} equal values, {} failing alike, {} of them a trap on one side only), \
         {} imports implemented ({} with handles), {} import calls (argument logs compared; {} with handles), \
         {} imported resource types, {} host destructor runs (logged), {} calls with handles ({} nested in other types), \
         {} resource.new sequences placed, {} resource.drop calls placed, {} calls skipped (no handle held), \
         {} mismatches; {:.1} s CPU",
        total.components,
        total.rejected,
        total.instantiated,
        total.exports_called,
        total.calls,
        total.values_equal,
        total.failed_alike,
        total.failure_kinds_differ,
        total.imports_defined,
        total.handle_imports,
        total.import_calls,
        total.handle_import_calls,
        total.host_resources,
        total.dtor_calls,
        total.handle_calls,
        total.nested_handle_calls,
        total.resource_sequences,
        total.handle_drops,
        total.skipped,
        total.findings.len(),
        cpu_seconds() - started_cpu,
    );
    std::process::exit(if failing == 0 { 0 } else { 1 });
}

#[cfg(not(feature = "component-diff"))]
fn component_diff(_: &Args) -> ! {
    eprintln!("fuzz-smoke: --component-diff-only needs the `component-diff` feature");
    std::process::exit(2);
}

/// Writes one failing input to `dir/name`, saying where.
fn save(dir: &std::path::Path, name: &str, bytes: &[u8]) {
    let _ = std::fs::create_dir_all(dir);
    let path = dir.join(name);
    match std::fs::write(&path, bytes) {
        Ok(()) => eprintln!("  saved {}", path.display()),
        Err(e) => eprintln!("  cannot save {}: {e}", path.display()),
    }
}

fn guarded_generate(data: &[u8]) -> Option<Vec<u8>> {
    catch_unwind(AssertUnwindSafe(|| generate(data)))
        .ok()
        .flatten()
}

#[cfg(any(feature = "differential", feature = "component-diff"))]
/// CPU time of this process so far (user + system), from /proc; 0 where
/// there is none.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) in parentheses.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat: 11 and 12 after ')'.
    (ticks(11) + ticks(12)) / 100.0
}
