//! `wasi:filesystem`: `preopens` and `types`.

pub(crate) mod preopens;
pub(crate) mod types;
