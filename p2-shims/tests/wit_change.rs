//! A change to `wit/` fails the build of p2-shims: the bindings are
//! generated from the WIT at build time (`build/`), so the shims must follow
//! every signature in it. Each case copies `wit/` into a temporary folder,
//! edits one file, and runs `cargo check -p p2-shims` with `P2_SHIMS_WIT`
//! pointing at the copy:
//! * a changed function signature (`exit: func(status: result)` becoming
//!   `exit: func(status: u32)`): the generated `cli_exit::Host` trait changes
//!   and the shims' `impl Host for WasiCtx` in `src/cli/exit.rs` no longer
//!   compiles (rustc's E0053, naming the method and the file);
//! * WIT that does not parse: the build script stops with one line,
//!   `p2-shims: cannot read the WASI WIT in DIR: ...`;
//! * the unchanged copy checks cleanly (so the failures above come from the
//!   edits, not from the copy or the harness).
//!
//! The checks run in their own target folder (`target/wit-change`; cargo
//! holds the lock of the one `cargo test` uses), without default features
//! (the bindings and the shims, not component-model), offline. The first run
//! builds wit-parser and its dependencies there; later ones only re-run the
//! build script and check p2-shims. Natively only: a wasm32 test cannot run
//! cargo.
#![cfg(not(target_os = "wasi"))]

use std::path::{Path, PathBuf};
use std::process::Command;

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies `src` into `dst`, recursively.
fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// A copy of `wit/` in a fresh folder under the target folder, with `edit`
/// applied to `file` (a path inside `wit/`).
fn wit_copy(case: &str, file: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let dir = target_dir().join("wit-change-cases").join(case);
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&manifest().join("../wit"), &dir);
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit of {file} changed nothing");
    std::fs::write(&path, edited).unwrap();
    dir
}

fn target_dir() -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest().join("../target"));
    base.join("wit-change")
}

/// `cargo check -p p2-shims` against the WIT in `wit`: (success, stderr).
fn check(wit: &Path) -> (bool, String) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(manifest().join(".."))
        .args([
            "check",
            "--offline",
            "--quiet",
            "-p",
            "p2-shims",
            "--no-default-features",
        ])
        .env("CARGO_TARGET_DIR", target_dir())
        .env("P2_SHIMS_WIT", wit)
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The three cases in one test, one after another: they share the target
/// folder, and cargo would only make parallel tests wait for its lock.
#[test]
fn a_wit_change_fails_the_build() {
    // The copy as it is builds.
    let same = target_dir().join("wit-change-cases/unchanged");
    let _ = std::fs::remove_dir_all(&same);
    copy_dir(&manifest().join("../wit"), &same);
    let (ok, err) = check(&same);
    assert!(ok, "the unchanged WIT does not check:\n{err}");

    // A changed signature: the trait changes, the shims' impl does not match.
    let wit = wit_copy("signature", "cli/exit.wit", |t| {
        t.replace("exit: func(status: result);", "exit: func(status: u32);")
    });
    let (ok, err) = check(&wit);
    assert!(!ok, "a changed `exit` signature still builds");
    assert!(
        err.contains("E0053") && err.contains("method `exit` has an incompatible type for trait"),
        "not the expected trait mismatch:\n{err}"
    );
    assert!(
        err.contains("src/cli/exit.rs"),
        "the error does not name the shim:\n{err}"
    );

    // WIT that does not parse: one clear line from the build script.
    let wit = wit_copy("syntax", "cli/exit.wit", |t| {
        t.replace("exit: func(status: result);", "exit: func(status: result")
    });
    let (ok, err) = check(&wit);
    assert!(!ok, "unparsable WIT still builds");
    let line = format!("p2-shims: cannot read the WASI WIT in {}: ", wit.display());
    assert!(err.contains(&line), "no line `{line}` on stderr:\n{err}");
}
