//! Taking and resuming checkpoints of a program run by the shim: the
//! layers' state around core-vm's [`core_vm::ExecState`], written in the
//! format of [`crate::snapshot`].
//!
//! Invariants:
//! * A snapshot is only resumed against the program it was taken from
//!   (same SHA-256); the guest keeps the arguments and environment it was
//!   started with.
//! * A p1 module is instantiated afresh (its data segments and start
//!   function run again, then are overwritten by the snapshot's memories
//!   and globals), its descriptors are reopened ([`crate::p1_state`]), and
//!   the suspended export's call is resumed; a checkpoint taken in
//!   `_initialize` resumes it, then calls `_start` as a plain run would.
//! * A component's WASI state is restored first (its files reopened: a
//!   missing one fails before any guest code runs), then the component is
//!   instantiated afresh, its Canonical ABI state put back, and the
//!   suspended export call (`wasi:cli/run` or the `--invoke` call) resumed
//!   in its core function ([`component_model::ComponentFunc::resume`]). A
//!   checkpoint is not taken while the export's `realloc` or `post-return`
//!   runs: it waits for the next safe point.

use crate::p1::Ctx;
use crate::report;
use crate::snapshot::{self, ComponentParts, Program, Snapshot};
use crate::watch::Checkpointable;
use crate::Run;
use anyhow::{anyhow, bail, Context as _, Result};
use component_model::checkpoint::ComponentState;
use component_model::ComponentInstance;
use core_vm::{Context, Instance, Store};
use p2_shims::checkpoint::Checkpoint as _;
use p2_shims::WasiCtx;
use std::cell::RefCell;
use std::rc::Rc;

/// Reads the file at `path`, keeping its fd open (a spare for
/// [`crate::p1_state::Track::restore`]).
pub fn read_keeping_fd(path: &std::ffi::OsStr, spares: &mut Vec<u32>) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    use std::os::fd::IntoRawFd as _;
    let mut f = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes)?;
    spares.push(f.into_raw_fd() as u32);
    Ok(bytes)
}

/// Reads the snapshot at `path` and checks it belongs to `program`.
pub fn read(path: &std::ffi::OsStr, program: &[u8], spares: &mut Vec<u32>) -> Result<Snapshot> {
    let shown = path.to_string_lossy();
    let bytes = read_keeping_fd(path, spares)
        .with_context(|| format!("failed to read the checkpoint `{shown}`"))?;
    let s = snapshot::decode(&bytes).with_context(|| format!("cannot restore `{shown}`"))?;
    let is_component = core_vm::is_component(program);
    let here = Program::of(program, is_component);
    if here.sha256 != s.program.sha256 {
        bail!(
            "the checkpoint `{shown}` belongs to another program ({} bytes, sha256 {}), not this one ({} bytes, sha256 {})",
            s.program.size,
            s.program.sha256,
            here.size,
            here.sha256
        );
    }
    Ok(s)
}

/// Writes `s` to `path`, returning its size.
fn write(s: &Snapshot, path: &std::path::Path) -> Result<u64> {
    let bytes = snapshot::encode(s)?;
    std::fs::write(path, &bytes).with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(bytes.len() as u64)
}

/// A snapshot of everything but the layers' own state.
fn base<T>(
    cx: &Context<'_, T>,
    program: &Option<Program>,
    argv: &[Vec<u8>],
    env: &[Vec<u8>],
    entry: &str,
) -> Result<Snapshot> {
    Ok(Snapshot {
        format: "p2shim-checkpoint".into(),
        version: snapshot::VERSION,
        producer: format!("p2shim {}", env!("CARGO_PKG_VERSION")),
        program: program
            .clone()
            .ok_or_else(|| anyhow!("no program identity"))?,
        argv: argv.to_vec(),
        env: env.to_vec(),
        entry: entry.to_string(),
        vm: cx.capture().map_err(|e| anyhow!("{e}"))?,
        p1: None,
        component: None,
    })
}

/// The p1 pass-through's part of a checkpoint.
pub struct P1Layers {
    pub program: Option<Program>,
    pub argv: Vec<Vec<u8>>,
    pub env: Vec<Vec<u8>>,
}

impl Checkpointable<Ctx> for P1Layers {
    fn write(&mut self, cx: &mut Context<'_, Ctx>, path: &std::path::Path) -> Result<u64> {
        let data = cx.store().data();
        let p1 = data
            .track
            .as_ref()
            .ok_or_else(|| anyhow!("descriptors were not tracked"))?
            .capture()?;
        let mut s = base(cx, &self.program, &self.argv, &self.env, &data.entry)?;
        s.p1 = Some(p1);
        write(&s, path)
    }
}

/// Resumes a p1 module's snapshot in `store` (`instance` freshly made).
pub fn resume_p1(store: &mut Store<Ctx>, instance: Instance, file: &str, s: &Snapshot, run: &Run) {
    if s.program.kind != "module" {
        report::fail(anyhow!(
            "the checkpoint is of a component, and `{file}` is a module"
        ));
    }
    store.data_mut().entry = s.entry.clone();
    let results = match store.resume(&s.vm) {
        Ok(r) => r,
        Err(e @ core_vm::Error::Trap(_)) => {
            report::guest_error(file, "failed to resume the checkpoint", e)
        }
        Err(e) => report::fail(anyhow!("cannot restore the checkpoint: {e}")),
    };
    match s.entry.as_str() {
        "_initialize" => {
            if let Some(name) = &run.invoke {
                crate::wasi_run::invoke(store, instance, file, name, run);
            } else if let Some(main) = instance
                .get_func(store, "")
                .or_else(|| instance.get_func(store, "_start"))
            {
                store.data_mut().entry = "_start".into();
                crate::wasi_run::call(store, file, "failed to invoke command default", main, &[]);
            }
        }
        "" | "_start" => {}
        _ => {
            for r in results {
                println!("{}", crate::wasi_run::show_val(r));
            }
        }
    }
}

/// The entry of a component's snapshot that ran `wasi:cli/run`.
pub const RUN_ENTRY: &str = "wasi:cli/run#run";

/// A component's part of a checkpoint.
pub struct ComponentLayers {
    pub program: Option<Program>,
    pub argv: Vec<Vec<u8>>,
    pub env: Vec<Vec<u8>>,
    /// [`RUN_ENTRY`], or the `--invoke` call.
    pub entry: String,
    /// The instance, once made.
    pub instance: Rc<RefCell<Option<ComponentInstance<WasiCtx>>>>,
}

impl ComponentLayers {
    fn capture_cm(&self) -> Result<ComponentState, component_model::Error> {
        match self.instance.borrow().as_ref() {
            Some(i) => i.capture(),
            None => Err(component_model::Error::Checkpoint {
                busy: true,
                message: "the component is being instantiated".into(),
            }),
        }
    }
}

impl Checkpointable<WasiCtx> for ComponentLayers {
    fn busy(&self, _: &mut Context<'_, WasiCtx>) -> bool {
        self.capture_cm().is_err_and(|e| e.is_busy())
    }

    fn write(&mut self, cx: &mut Context<'_, WasiCtx>, path: &std::path::Path) -> Result<u64> {
        let cm = self.capture_cm().map_err(|e| anyhow!("{e}"))?;
        let wasi = cx.data_mut().capture()?;
        let mut s = base(cx, &self.program, &self.argv, &self.env, &self.entry)?;
        s.component = Some(ComponentParts { cm, wasi });
        write(&s, path)
    }
}
