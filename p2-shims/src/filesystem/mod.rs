//! `wasi:filesystem`: `preopens` and `types`.

pub(crate) mod preopens;
mod types;
