//! `p2shim lower [--check] [--invoke] [--library LIB] [--without FEATURES] FILE -o OUT`: lowered mode
//! (crate `lower`): writes OUT, one WASIp1 core module made of the component
//! FILE and the p2 WASI library, which the host's own engine runs.
//!
//! Invariants:
//! * Works natively and inside p2shim.wasm (no interpreter involved).
//! * The library is the one embedded at build time (`P2SHIM_P2LIB`, see
//!   build.rs; with `--invoke`, `P2SHIM_P2LIB_INVOKE`, the library built
//!   with its `invoke` feature) unless `--library` names another; a build
//!   without one says so.
//! * `--invoke` lowers a reactor into a command that runs the WAVE call
//!   given as its first argument (`lower::Options::invoke`); a command
//!   component is refused (one line, exit 1).
//! * A component that cannot be lowered: one `Error:` line naming the
//!   construct, exit 1, and OUT is not written (nor left half-written).
//! * `--check` lowers without writing: `FILE: can be lowered` on stdout
//!   (with the features beyond Wasm 2.0 the output needs and the exports it
//!   does not keep, if any) and exit 0, or the reason and exit 1.
//! * `--without simd,tail-call,multi-memory` (any of them) refuses, as a
//!   component that cannot be lowered, an output that would need one of
//!   them (for a host without it: `wasip2-run` passes the features its host
//!   lacks, so such a component runs in the interpreter there).

use anyhow::{bail, Context as _, Result};
use std::ffi::OsString;

/// `p2shim lower`'s arguments.
#[derive(Debug, PartialEq)]
pub struct Lower {
    pub check: bool,
    /// `--invoke` (see the module docs).
    pub invoke: bool,
    pub library: Option<OsString>,
    /// Features the output must not need (`--without`).
    pub without: Vec<&'static str>,
    pub file: OsString,
    pub out: Option<OsString>,
}

/// The WASI library embedded at build time, LZ4-compressed with its size prepended
/// (cli/build.rs); empty when the build had none.
static EMBEDDED_LIBRARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/p2lib.wasm"));

/// The library built with its `invoke` feature, for `--invoke` (same form).
static EMBEDDED_INVOKE_LIBRARY: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/p2lib-invoke.wasm"));

/// The features beyond Wasm 2.0 an output may need (as
/// `lower::Lowered::extra_features` names them).
const EXTRA_FEATURES: [&str; 3] = ["simd", "tail-call", "multi-memory"];

/// Parses `lower`'s options (in any order).
pub fn parse(mut args: impl Iterator<Item = OsString>) -> Result<Lower> {
    let (mut check, mut library, mut file, mut out) = (false, None, None, None);
    let mut invoke = false;
    let mut without = Vec::new();
    while let Some(arg) = args.next() {
        let mut value = |what: &str| {
            args.next()
                .ok_or_else(|| anyhow::anyhow!("a value is required for '{what}'"))
        };
        match arg.to_str() {
            Some("--check") => check = true,
            Some("--invoke") => invoke = true,
            Some("--library") => library = Some(value("--library <LIB>")?),
            Some("--without") => {
                let list = value("--without <FEATURES>")?;
                for f in list.to_string_lossy().split(',').filter(|f| !f.is_empty()) {
                    match EXTRA_FEATURES.iter().find(|k| **k == f) {
                        Some(k) => without.push(*k),
                        None => bail!(
                            "unknown feature '{f}' for --without (one of {})",
                            EXTRA_FEATURES.join(", ")
                        ),
                    }
                }
            }
            Some("-o" | "--output") => out = Some(value("-o <OUT>")?),
            Some(s) if s.starts_with('-') && s.len() > 1 => {
                bail!("unexpected argument '{s}' of `lower`")
            }
            _ if file.is_none() => file = Some(arg),
            _ => bail!("`lower` takes one FILE; unexpected {arg:?}"),
        }
    }
    let file = file.ok_or_else(|| anyhow::anyhow!("`lower` needs the component FILE"))?;
    if out.is_none() && !check {
        bail!("`lower` needs `-o <OUT>` (or `--check`)");
    }
    Ok(Lower {
        check,
        invoke,
        library,
        without,
        file,
        out,
    })
}

/// Runs `lower`; the error is the one line to print.
pub fn run(l: &Lower) -> Result<()> {
    let name = l.file.to_string_lossy();
    let component = std::fs::read(&l.file).with_context(|| format!("failed to read `{name}`"))?;
    let library = match &l.library {
        Some(path) => std::fs::read(path)
            .with_context(|| format!("failed to read `{}`", path.to_string_lossy()))?,
        None if l.invoke && EMBEDDED_INVOKE_LIBRARY.is_empty() => bail!(
            "this p2shim was built without the WASI library for --invoke (build p2-lib with \
             --features invoke and set P2SHIM_P2LIB_INVOKE, as `make shim` does); give one with --library"
        ),
        None if EMBEDDED_LIBRARY.is_empty() => bail!(
            "this p2shim was built without the WASI library (build p2-lib and set P2SHIM_P2LIB, \
             as `make shim` does), so it cannot lower; give one with --library"
        ),
        None => lz4_flex::decompress_size_prepended(if l.invoke {
            EMBEDDED_INVOKE_LIBRARY
        } else {
            EMBEDDED_LIBRARY
        })
        .context("the embedded WASI library is corrupt (rebuild p2shim)")?,
    };
    let options = lower::Options { invoke: l.invoke };
    let lowered = lower::lower_with(&component, &library, options)
        .with_context(|| format!("`{name}` cannot be lowered"))?;
    let excluded: Vec<_> = lowered
        .extra_features
        .iter()
        .filter(|f| l.without.contains(f))
        .copied()
        .collect();
    if !excluded.is_empty() {
        bail!(
            "`{name}` cannot be lowered for this host: the output would need {}{}, which --without excludes",
            excluded.join(", "),
            if excluded.contains(&"multi-memory") {
                " (a composed component: one memory per inner component)"
            } else {
                ""
            }
        );
    }
    if l.check {
        match &lowered.reactor_exports {
            None if l.invoke => println!(
                "{name}: can be lowered with --invoke (a command whose first argument is the call)"
            ),
            None => println!("{name}: can be lowered"),
            Some(funcs) if funcs.is_empty() => println!(
                "{name}: can be lowered, as a reactor that exports no function (only _initialize)"
            ),
            Some(funcs) => println!(
                "{name}: can be lowered, as a reactor (_initialize, then the core functions {})",
                funcs
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
        if !lowered.extra_features.is_empty() {
            println!(
                "{name}: the output needs {} (beyond Wasm 2.0)",
                lowered.extra_features.join(", ")
            );
        }
        if !lowered.dropped_exports.is_empty() {
            println!(
                "{name}: not kept (a command only runs wasi:cli/run): export {}",
                lowered
                    .dropped_exports
                    .iter()
                    .map(|e| format!("`{e}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        return Ok(());
    }
    let out = l.out.as_ref().expect("parse requires -o without --check");
    std::fs::write(out, &lowered.bytes).with_context(|| {
        // Never leave a partial module behind.
        let _ = std::fs::remove_file(out);
        format!("failed to write `{}`", out.to_string_lossy())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Lower> {
        parse(words.iter().map(OsString::from))
    }

    #[test]
    fn invoke_is_a_flag() {
        assert!(
            parse_words(&["--invoke", "lib.wasm", "-o", "x"])
                .unwrap()
                .invoke
        );
        assert!(!parse_words(&["lib.wasm", "-o", "x"]).unwrap().invoke);
    }

    #[test]
    fn without_takes_a_list_of_known_features() {
        let l = parse_words(&["--without", "multi-memory,simd", "app.wasm", "-o", "x"]).unwrap();
        assert_eq!(l.without, ["multi-memory", "simd"]);
        let l = parse_words(&["app.wasm", "--without", "", "-o", "x"]).unwrap();
        assert!(l.without.is_empty());
        let e = parse_words(&["--without", "gc", "app.wasm"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown feature 'gc' for --without (one of simd, tail-call, multi-memory)"
        );
    }
}
