//! Tests of the Canonical ABI, using [`VecMemory`](super::VecMemory) and
//! [`HandleTable`](super::HandleTable). Shared fixtures live here.

use super::*;

mod layout;
mod resources;
mod roundtrip;
mod spill;
mod strings;
mod traps;

pub(super) const ENCODINGS: [StringEncoding; 3] = [
    StringEncoding::Utf8,
    StringEncoding::Utf16,
    StringEncoding::CompactUtf16,
];

/// One guest: a 64 KiB memory with a bump `realloc`, a handle table and
/// canonical options with `memory` and `realloc`.
pub(super) struct Env {
    pub mem: VecMemory,
    pub res: HandleTable,
    pub opts: CanonicalOptions,
}

impl Env {
    pub fn new(enc: StringEncoding) -> Self {
        Env {
            mem: VecMemory::page(),
            res: HandleTable::new(),
            opts: CanonicalOptions::with_memory(enc),
        }
    }

    pub fn cx(&mut self) -> LiftLowerContext<'_> {
        LiftLowerContext::new(self.opts, &mut self.mem, &mut self.res)
    }

    /// Writes raw bytes at `ptr`.
    pub fn poke(&mut self, ptr: u32, bytes: &[u8]) {
        self.mem.write(ptr, bytes).unwrap();
    }

    /// Reads raw bytes at `ptr`.
    pub fn peek(&self, ptr: u32, len: u32) -> Vec<u8> {
        self.mem.read(ptr, len).unwrap().to_vec()
    }
}

pub(super) fn rec(fields: &[(&str, ValueType)]) -> ValueType {
    ValueType::Record(
        fields
            .iter()
            .map(|(n, t)| (n.to_string(), t.clone()))
            .collect(),
    )
}

pub(super) fn variant(cases: &[(&str, Option<ValueType>)]) -> ValueType {
    ValueType::Variant(
        cases
            .iter()
            .map(|(n, t)| (n.to_string(), t.clone()))
            .collect(),
    )
}

pub(super) fn labels(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("l{i}")).collect()
}

pub(super) fn list(t: ValueType) -> ValueType {
    ValueType::List(Box::new(t))
}

pub(super) fn option(t: ValueType) -> ValueType {
    ValueType::Option(Box::new(t))
}

pub(super) fn result(ok: Option<ValueType>, err: Option<ValueType>) -> ValueType {
    ValueType::Result {
        ok: ok.map(Box::new),
        err: err.map(Box::new),
    }
}

pub(super) fn some(v: Val) -> Val {
    Val::Option(Some(Box::new(v)))
}
