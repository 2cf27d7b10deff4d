//! `wasi:io`: `error`, `poll` and `streams`.

mod error;
pub mod poll;
pub mod streams;
