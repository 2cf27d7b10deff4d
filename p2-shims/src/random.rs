//! `wasi:random/random`, `insecure` and `insecure-seed`, all from p1
//! `random_get`.
//!
//! Invariant: requests above [`MAX_BYTES`] trap instead of exhausting the
//! shim's memory; a failing `random_get` traps (p2 random cannot fail).

use crate::vals::bytes;
use crate::{def, iface, p1, HostError, WasiView};
use canonical_abi::Val;
use component_model::Linker;

const MAX_BYTES: u64 = 64 << 20;

fn random_bytes(len: u64) -> Result<Vec<u8>, HostError> {
    if len > MAX_BYTES {
        return Err(HostError::Refused(format!(
            "get-random-bytes: {len} bytes is more than {MAX_BYTES}"
        )));
    }
    let mut b = vec![0u8; len as usize];
    p1::random(&mut b)
        .map_err(|e| HostError::Refused(format!("random_get: {}", crate::errno::message(e))))?;
    Ok(b)
}

fn random_u64() -> Result<u64, HostError> {
    let b = random_bytes(8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(&b);
    Ok(u64::from_le_bytes(a))
}

pub fn add<T: WasiView>(l: &mut Linker<T>) {
    let r = iface("random/random");
    def(l, &r, "get-random-bytes", |_, a| {
        Ok(vec![bytes(&random_bytes(a.u64(0)?)?)])
    });
    def(l, &r, "get-random-u64", |_, _| {
        Ok(vec![Val::U64(random_u64()?)])
    });
    let i = iface("random/insecure");
    def(l, &i, "get-insecure-random-bytes", |_, a| {
        Ok(vec![bytes(&random_bytes(a.u64(0)?)?)])
    });
    def(l, &i, "get-insecure-random-u64", |_, _| {
        Ok(vec![Val::U64(random_u64()?)])
    });
    def(
        l,
        &iface("random/insecure-seed"),
        "insecure-seed",
        |cx, _| {
            let (a, b) = match cx.insecure_seed {
                Some(seed) => seed,
                None => *cx.insecure_seed.insert((random_u64()?, random_u64()?)),
            };
            Ok(vec![Val::Tuple(vec![Val::U64(a), Val::U64(b)])])
        },
    );
}
