//! p2-shims: WASIp2 over WASIp1 (work in progress).
