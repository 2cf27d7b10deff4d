//! `wasi:filesystem`: `preopens` and `types`.

pub(crate) mod preopens;
mod types;

use crate::WasiView;
use component_model::Linker;

pub fn add<T: WasiView>(l: &mut Linker<T>) {
    preopens::add(l);
    types::add(l);
}
