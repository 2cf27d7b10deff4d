//! `componentize-p1`: turns WASIp1 command modules into WASIp2 command components.
//!
//!     componentize-p1 OUT_DIR INPUT.wasm...
//!
//! Each INPUT is encoded with `wit_component::ComponentEncoder` and the
//! `wasi_snapshot_preview1.command.wasm` adapter of
//! `wasi-preview1-component-adapter-provider` (pinned to the wasmtime release the
//! conformance oracle runs), then validated, and written to OUT_DIR under the
//! input's file name. Invariant: a component is written only when encoding and
//! validation succeeded; any failure names the input and exits non-zero.
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
};

fn componentize(input: &Path, out_dir: &Path) -> Result<PathBuf> {
    let module = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .context("not a WASIp1 module wit-component accepts")?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
        )
        .context("adding the preview1 command adapter")?
        .validate(true)
        .encode()
        .context("encoding the component")?;
    let name = input.file_name().context("input has no file name")?;
    let out = out_dir.join(name);
    std::fs::write(&out, component).with_context(|| format!("writing {}", out.display()))?;
    Ok(out)
}

fn main() -> Result<()> {
    let mut args = std::env::args_os().skip(1);
    let Some(out_dir) = args.next().map(PathBuf::from) else {
        bail!("usage: componentize-p1 OUT_DIR INPUT.wasm...");
    };
    std::fs::create_dir_all(&out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let mut failed = 0;
    for input in args.map(PathBuf::from) {
        if let Err(e) = componentize(&input, &out_dir) {
            eprintln!("componentize-p1: {}: {e:#}", input.display());
            failed += 1;
        }
    }
    if failed > 0 {
        bail!("{failed} input(s) could not be componentized");
    }
    Ok(())
}
