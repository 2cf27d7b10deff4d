//! `wasi:cli/environment`: the host's environment (p1 `environ_get`, via
//! std), the guest argv the CLI put in [`crate::WasiCtx::args`], and no
//! initial cwd (p1 has none).
//!
//! Invariant: non-UTF-8 variables are converted lossily (p2 strings must be
//! UTF-8); nothing is dropped.

use crate::bindings::cli_environment::Host;
use crate::{HostError, WasiCtx};

impl Host for WasiCtx {
    fn get_environment(&mut self) -> Result<Vec<(String, String)>, HostError> {
        if let Some(env) = &self.env {
            return Ok(env.clone());
        }
        Ok(std::env::vars_os()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.to_string_lossy().into_owned(),
                )
            })
            .collect())
    }
    fn get_arguments(&mut self) -> Result<Vec<String>, HostError> {
        Ok(self.args.clone())
    }
    fn initial_cwd(&mut self) -> Result<Option<String>, HostError> {
        Ok(None)
    }
}
