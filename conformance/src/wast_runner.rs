//! What the `.wast` runners (`tests/spec.rs`, `tests/component_wast.rs`)
//! share: locating the suites, the expected-failures lists, one trial per
//! file, and turning a panic of the code under test into a directive failure.
//!
//! Invariants: an expected-failures list is `path/to/file.wast:LINE  # reason`
//! per line; an entry naming a file outside the suite fails its own trial, so
//! a list can never silently go stale.

use anyhow::{anyhow, Context, Result};
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `path relative to the suite root` -> line (1-based) -> reason.
pub type ExpectedFailures = HashMap<String, BTreeMap<usize, String>>;

/// Runs one `.wast` file: (path relative to the suite root, full path, list).
pub type RunFile = fn(&str, &Path, &ExpectedFailures) -> Result<(), Failed>;

/// `sub` inside the shared test data: `$P2SHIM_SHARED/sub`, or the `shared`
/// folder beside the repository.
pub fn shared_dir(sub: &str) -> PathBuf {
    match std::env::var_os("P2SHIM_SHARED") {
        Some(shared) => PathBuf::from(shared).join(sub),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared")
            .join(sub),
    }
}

/// The test arguments, single-threaded on wasm32 (no threads there).
pub fn test_args() -> Arguments {
    let mut args = Arguments::from_args();
    if cfg!(target_family = "wasm") && args.test_threads.is_none() {
        args.test_threads = Some(1);
    }
    args
}

/// Parses an expected-failures list; `list` names it in error messages.
pub fn parse_expected_failures(list: &str, text: &str) -> Result<ExpectedFailures> {
    let mut map = ExpectedFailures::new();
    for (i, raw) in text.lines().enumerate() {
        let (entry, reason) = match raw.split_once('#') {
            Some((e, r)) => (e.trim(), r.trim()),
            None => (raw.trim(), ""),
        };
        if entry.is_empty() {
            continue;
        }
        let (file, line) = entry
            .rsplit_once(':')
            .ok_or_else(|| anyhow!("{list}:{}: expected `file.wast:LINE`", i + 1))?;
        let line: usize = line
            .trim()
            .parse()
            .with_context(|| format!("{list}:{}: bad line number", i + 1))?;
        map.entry(file.trim().to_string())
            .or_default()
            .insert(line, reason.to_string());
    }
    Ok(map)
}

/// One trial per file of `files` (relative to `root`), plus one that fails
/// when the list at `list_path` names a file outside `files`.
pub fn file_trials(
    root: &Path,
    files: Vec<String>,
    list_path: &Path,
    run: RunFile,
) -> Result<Vec<Trial>> {
    let list = list_path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let text = std::fs::read_to_string(list_path)
        .with_context(|| format!("reading {}", list_path.display()))?;
    let expected = Arc::new(parse_expected_failures(&list, &text)?);
    let stale: Vec<String> = expected
        .keys()
        .filter(|k| !files.contains(k))
        .cloned()
        .collect();
    let mut trials = vec![Trial::test(list, move || {
        if stale.is_empty() {
            Ok(())
        } else {
            Err(format!("entries for files not in the suite: {}", stale.join(", ")).into())
        }
    })];
    for file in files {
        let expected = expected.clone();
        let full = root.join(&file);
        trials.push(Trial::test(file.clone(), move || {
            run(&file, &full, &expected)
        }));
    }
    Ok(trials)
}

thread_local! {
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Records each panic's message and location for [`catch`].
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let msg = match info.payload().downcast_ref::<&str>() {
            Some(s) => s.to_string(),
            None => info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "<non-string panic>".into()),
        };
        let loc = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let msg = format!("panicked: {msg}{loc}");
        if cfg!(panic = "abort") {
            // Nothing will catch it (wasm32-wasip1): say what happened before the abort.
            eprintln!("{msg}");
        }
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(msg));
    }));
}

/// Runs `f`, turning a panic into an error carrying its message.
pub fn catch<R>(f: impl FnOnce() -> Result<R>) -> Result<R> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => Err(anyhow!(LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .unwrap_or_else(|| "panicked".into()))),
    }
}
