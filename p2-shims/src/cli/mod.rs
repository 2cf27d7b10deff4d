//! `wasi:cli`: environment, exit, stdio and terminals.

mod environment;
mod exit;
mod stdio;
mod terminal;

use crate::WasiView;
use component_model::Linker;

pub fn add<T: WasiView>(l: &mut Linker<T>) {
    environment::add(l);
    exit::add(l);
    stdio::add(l);
    terminal::add(l);
}
