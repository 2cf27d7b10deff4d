//! `wasi:random/random`, `insecure` and `insecure-seed`, all from p1
//! `random_get`.
//!
//! Invariant: requests above [`MAX_BYTES`] trap instead of exhausting the
//! shim's memory; a failing `random_get` traps (p2 random cannot fail).

use crate::bindings::{random_insecure, random_insecure_seed, random_random};
use crate::{p1, HostError, WasiCtx};

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

impl random_random::Host for WasiCtx {
    fn get_random_bytes(&mut self, len: u64) -> Result<Vec<u8>, HostError> {
        random_bytes(len)
    }
    fn get_random_u64(&mut self) -> Result<u64, HostError> {
        random_u64()
    }
}

impl random_insecure::Host for WasiCtx {
    fn get_insecure_random_bytes(&mut self, len: u64) -> Result<Vec<u8>, HostError> {
        random_bytes(len)
    }
    fn get_insecure_random_u64(&mut self) -> Result<u64, HostError> {
        random_u64()
    }
}

impl random_insecure_seed::Host for WasiCtx {
    fn insecure_seed(&mut self) -> Result<(u64, u64), HostError> {
        match self.insecure_seed {
            Some(seed) => Ok(seed),
            None => Ok(*self.insecure_seed.insert((random_u64()?, random_u64()?))),
        }
    }
}
