//! `vm-run`: runs a WASIp1 core module on the native build of core-vm, for
//! profiling the interpreter (callgrind, perf) without a Wasm host.
//!
//! Usage: `vm-run [--profile N] [--fuel F] [--lazy] [--invoke FUNC] MODULE.wasm [ARGS]...`
//!
//! Runs `_start`, or the export FUNC (no parameters; results printed).
//!
//! Only the few p1 functions that benchmark programs need are real:
//! `fd_write` to stdout and stderr, `proc_exit`, `args_*`, `environ_*`
//! (empty), `clock_time_get`, `random_get` (a fixed sequence); every other
//! p1 function returns `ENOSYS` (52), `bench.*` and `env.*` imports are no-ops
//! returning zeros. This is a profiling tool, not a WASI implementation: the
//! shim's real pass-through is in `cli/`.
//!
//! `--profile N` (build with `--features op-stats`) prints the N most
//! executed bytecode instructions and the instruction total to stderr.
//! `--fuel F` stops the guest after F units of fuel (function entries and
//! loop iterations), to profile a bounded slice of a long benchmark.
//! `--lazy` validates function bodies on their first call, as the shim does
//! (to profile start-up: `--lazy --invoke ABSENT big.wasm` loads and
//! instantiates, then fails on the missing export).

use anyhow::{anyhow, bail, Context, Result};
use core_vm::{
    Caller, Config, Engine, Extern, ExternType, Func, Instance, Module, Store, Trap, TrapCode, Val,
};
use std::io::Write;

struct Host {
    args: Vec<String>,
    exit: Option<i32>,
    rng: u64,
    start: std::time::Instant,
}

const ENOSYS: i32 = 52;

fn mem<'a>(caller: &'a mut Caller<'_, Host>) -> Result<(&'a mut [u8], &'a mut Host), Trap> {
    let m = caller
        .default_memory()
        .ok_or_else(|| Trap::new(TrapCode::Host))?;
    Ok(caller.memory_and_data(m))
}

fn rd32(m: &[u8], at: u32) -> Result<u32, Trap> {
    let at = at as usize;
    let b = m
        .get(at..at + 4)
        .ok_or_else(|| Trap::new(TrapCode::MemoryOutOfBounds))?;
    Ok(u32::from_le_bytes(b.try_into().unwrap()))
}

fn wr(m: &mut [u8], at: u32, bytes: &[u8]) -> Result<(), Trap> {
    let at = at as usize;
    m.get_mut(at..at + bytes.len())
        .ok_or_else(|| Trap::new(TrapCode::MemoryOutOfBounds))?
        .copy_from_slice(bytes);
    Ok(())
}

fn p1(name: &str, mut c: Caller<'_, Host>, a: &[Val], r: &mut [Val]) -> Result<(), Trap> {
    let i = |k: usize| a[k].i32().unwrap_or(0) as u32;
    let ret = match name {
        "fd_write" => {
            let (m, _) = mem(&mut c)?;
            let mut out = Vec::new();
            for k in 0..i(2) {
                let (p, n) = (rd32(m, i(1) + 8 * k)?, rd32(m, i(1) + 8 * k + 4)?);
                out.extend_from_slice(
                    m.get(p as usize..(p + n) as usize)
                        .ok_or_else(|| Trap::new(TrapCode::MemoryOutOfBounds))?,
                );
            }
            let done = match i(0) {
                1 => std::io::stdout().write_all(&out).is_ok(),
                2 => std::io::stderr().write_all(&out).is_ok(),
                _ => false,
            };
            if done {
                wr(m, i(3), &(out.len() as u32).to_le_bytes())?;
                0
            } else {
                8
            }
        }
        "proc_exit" => {
            c.data_mut().exit = Some(i(0) as i32);
            return Err(Trap::new(TrapCode::Host));
        }
        "args_sizes_get" => {
            let (m, h) = mem(&mut c)?;
            let size: usize = h.args.iter().map(|s| s.len() + 1).sum();
            let n = h.args.len() as u32;
            wr(m, i(0), &n.to_le_bytes())?;
            wr(m, i(1), &(size as u32).to_le_bytes())?;
            0
        }
        "args_get" => {
            let (m, h) = mem(&mut c)?;
            let (mut ptrs, mut buf) = (i(0), i(1));
            for s in h.args.clone() {
                wr(m, ptrs, &buf.to_le_bytes())?;
                wr(m, buf, s.as_bytes())?;
                wr(m, buf + s.len() as u32, &[0])?;
                ptrs += 4;
                buf += s.len() as u32 + 1;
            }
            0
        }
        "environ_sizes_get" => {
            let (m, _) = mem(&mut c)?;
            wr(m, i(0), &[0; 4])?;
            wr(m, i(1), &[0; 4])?;
            0
        }
        "environ_get" => 0,
        "clock_time_get" => {
            let (m, h) = mem(&mut c)?;
            let ns = h.start.elapsed().as_nanos() as u64;
            wr(m, i(2), &ns.to_le_bytes())?;
            0
        }
        "random_get" => {
            let (m, h) = mem(&mut c)?;
            for k in 0..i(1) {
                h.rng ^= h.rng << 13;
                h.rng ^= h.rng >> 7;
                h.rng ^= h.rng << 17;
                wr(m, i(0) + k, &[h.rng as u8])?;
            }
            0
        }
        _ => ENOSYS,
    };
    if let Some(slot) = r.first_mut() {
        *slot = Val::I32(ret);
    }
    Ok(())
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1).peekable();
    let (mut profile, mut fuel, mut invoke, mut lazy) = (0usize, None, None, false);
    loop {
        match args.peek().map(String::as_str) {
            Some("--profile") => {
                args.next();
                profile = args.next().context("--profile N")?.parse()?;
            }
            Some("--fuel") => {
                args.next();
                fuel = Some(args.next().context("--fuel F")?.parse::<u64>()?);
            }
            Some("--lazy") => {
                args.next();
                lazy = true;
            }
            Some("--invoke") => {
                args.next();
                invoke = Some(args.next().context("--invoke FUNC")?);
            }
            _ => break,
        }
    }
    let path = args.next().context(
        "usage: vm-run [--profile N] [--fuel F] [--lazy] [--invoke FUNC] MODULE.wasm [ARGS]...",
    )?;
    let guest_args: Vec<String> = std::iter::once(path.clone()).chain(args).collect();
    let bytes = std::fs::read(&path).with_context(|| format!("reading {path}"))?;
    let config = Config {
        fuel_metering: fuel.is_some(),
        lazy_validation: lazy,
        ..Config::default()
    };
    let engine = Engine::new(config);
    let len = bytes.len();
    // As the shim does: the module keeps the file's bytes, uncopied.
    let module = Module::from_shared(&engine, std::sync::Arc::new(bytes), 0..len)
        .map_err(|e| anyhow!("{path}: {e}"))?;
    let host = Host {
        args: guest_args,
        exit: None,
        rng: 0x2545_f491_4f6c_dd1d,
        start: std::time::Instant::now(),
    };
    let mut store = Store::new(&engine, host);
    if let Some(f) = fuel {
        store.set_fuel(f);
    }
    let mut imports = Vec::new();
    for imp in module.imports() {
        let ExternType::Func(ty) = imp.ty else {
            bail!("import {}.{} is not a function", imp.module, imp.name)
        };
        let name = imp.name.to_string();
        let is_p1 = imp.module == "wasi_snapshot_preview1";
        let f = Func::new(&mut store, ty.clone(), move |c, a, r| {
            if is_p1 {
                return p1(&name, c, a, r);
            }
            for (slot, t) in r.iter_mut().zip(ty.results()) {
                *slot = Val::default_for(*t);
            }
            Ok(())
        });
        imports.push(Extern::Func(f));
    }
    let instance =
        Instance::new(&mut store, &module, &imports).map_err(|e| anyhow!("instantiate: {e}"))?;
    let name = invoke.unwrap_or_else(|| "_start".into());
    let start = instance
        .get_func(&store, &name)
        .with_context(|| format!("no function export {name}"))?;
    let mut results: Vec<Val> = start
        .ty(&store)
        .results()
        .iter()
        .map(|t| Val::default_for(*t))
        .collect();
    let outcome = start.call(&mut store, &[], &mut results);
    if outcome.is_ok() && !results.is_empty() {
        println!("{results:?}");
    }
    std::io::stdout().flush()?;
    #[cfg(feature = "op-stats")]
    if profile > 0 {
        let prof = store.op_profile();
        let total: u64 = prof.iter().map(|p| p.4).sum();
        eprintln!("executed {total} bytecode instructions");
        for (_, func, at, instr, n) in prof.iter().take(profile) {
            eprintln!(
                "{:6.2}% {n:12} f{func}:{at:<5} {instr:?}",
                100.0 * *n as f64 / total as f64
            );
        }
    }
    #[cfg(not(feature = "op-stats"))]
    if profile > 0 {
        bail!("--profile needs a build with --features op-stats");
    }
    let code = match (outcome, store.data().exit) {
        (_, Some(code)) => code,
        (Ok(()), None) => 0,
        (Err(e), None) => {
            eprintln!("vm-run: {e}");
            if fuel.is_some() {
                0
            } else {
                134
            }
        }
    };
    std::process::exit(code);
}
