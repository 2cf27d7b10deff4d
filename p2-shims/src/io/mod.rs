//! `wasi:io`: `error`, `poll` and `streams`.

mod error;
pub mod poll;
pub mod streams;

use crate::WasiView;
use component_model::Linker;

pub fn add<T: WasiView>(l: &mut Linker<T>) {
    error::add(l);
    poll::add(l);
    streams::add(l);
}
