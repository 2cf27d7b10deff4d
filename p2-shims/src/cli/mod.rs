//! `wasi:cli`: environment, exit, stdio and terminals.

mod environment;
mod exit;
mod stdio;
mod terminal;
