//! The one table from WASIp1 `errno` values to WASIp2
//! `wasi:filesystem/types.error-code` cases.
//!
//! Invariants:
//! * Every p1 errno maps to exactly one error-code case (the generated
//!   [`ErrorCode`], so only cases of the WIT exist); errnos p2 has no case
//!   for map to `io` (the nearest generic failure), never to success.
//! * The numeric values are p1's (`wasi_snapshot_preview1.witx`); a
//!   compile-time check ties a sample of them to the `wasi` crate's
//!   constants.

pub use crate::bindings::filesystem_types::ErrorCode;

/// The p1 errno numbers used below.
pub mod p1 {
    pub const ACCES: u16 = 2;
    pub const AGAIN: u16 = 6;
    pub const ALREADY: u16 = 7;
    pub const BADF: u16 = 8;
    pub const BUSY: u16 = 10;
    pub const DEADLK: u16 = 16;
    pub const DQUOT: u16 = 19;
    pub const EXIST: u16 = 20;
    pub const FBIG: u16 = 22;
    pub const ILSEQ: u16 = 25;
    pub const INPROGRESS: u16 = 26;
    pub const INTR: u16 = 27;
    pub const INVAL: u16 = 28;
    pub const IO: u16 = 29;
    pub const ISDIR: u16 = 31;
    pub const LOOP: u16 = 32;
    pub const MLINK: u16 = 34;
    pub const MSGSIZE: u16 = 35;
    pub const NAMETOOLONG: u16 = 37;
    pub const NODEV: u16 = 43;
    pub const NOENT: u16 = 44;
    pub const NOLCK: u16 = 46;
    pub const NOMEM: u16 = 48;
    pub const NOSPC: u16 = 51;
    pub const NOSYS: u16 = 52;
    pub const NOTDIR: u16 = 54;
    pub const NOTEMPTY: u16 = 55;
    pub const NOTRECOVERABLE: u16 = 56;
    pub const NOTSUP: u16 = 58;
    pub const NOTTY: u16 = 59;
    pub const NXIO: u16 = 60;
    pub const OVERFLOW: u16 = 61;
    pub const PERM: u16 = 63;
    pub const PIPE: u16 = 64;
    pub const ROFS: u16 = 69;
    pub const SPIPE: u16 = 70;
    pub const TXTBSY: u16 = 74;
    pub const XDEV: u16 = 75;
    pub const NOTCAPABLE: u16 = 76;
}

const _: () = {
    assert!(wasi::ERRNO_ACCES.raw() == p1::ACCES);
    assert!(wasi::ERRNO_NOENT.raw() == p1::NOENT);
    assert!(wasi::ERRNO_NOTCAPABLE.raw() == p1::NOTCAPABLE);
    assert!(wasi::ERRNO_XDEV.raw() == p1::XDEV);
    assert!(wasi::ERRNO_PIPE.raw() == p1::PIPE);
};

/// The `error-code` case for p1 errno `errno`.
pub fn error_code(errno: u16) -> ErrorCode {
    use p1::*;
    use ErrorCode as E;
    match errno {
        ACCES => E::Access,
        AGAIN => E::WouldBlock,
        ALREADY => E::Already,
        BADF => E::BadDescriptor,
        BUSY => E::Busy,
        DEADLK => E::Deadlock,
        DQUOT => E::Quota,
        EXIST => E::Exist,
        FBIG => E::FileTooLarge,
        ILSEQ => E::IllegalByteSequence,
        INPROGRESS => E::InProgress,
        INTR => E::Interrupted,
        INVAL => E::Invalid,
        IO => E::Io,
        ISDIR => E::IsDirectory,
        LOOP => E::Loop,
        MLINK => E::TooManyLinks,
        MSGSIZE => E::MessageSize,
        NAMETOOLONG => E::NameTooLong,
        NODEV => E::NoDevice,
        NOENT => E::NoEntry,
        NOLCK => E::NoLock,
        NOMEM => E::InsufficientMemory,
        NOSPC => E::InsufficientSpace,
        NOTDIR => E::NotDirectory,
        NOTEMPTY => E::NotEmpty,
        NOTRECOVERABLE => E::NotRecoverable,
        NOTSUP | NOSYS => E::Unsupported,
        NOTTY => E::NoTty,
        NXIO => E::NoSuchDevice,
        OVERFLOW => E::Overflow,
        PERM | NOTCAPABLE => E::NotPermitted,
        PIPE => E::Pipe,
        ROFS => E::ReadOnly,
        SPIPE => E::InvalidSeek,
        TXTBSY => E::TextFileBusy,
        XDEV => E::CrossDevice,
        _ => E::Io,
    }
}

/// The p1 errno of a failed transfer (`fd_read`, `fd_write` and their
/// positioned forms): a descriptor lacking the p1 right for the transfer is
/// one not opened for it, which p2 reports as `bad-descriptor` (wasmtime's
/// p1 says EBADF there, node's uvwasi ENOTCAPABLE).
pub fn transfer(errno: u16) -> u16 {
    if errno == p1::NOTCAPABLE {
        p1::BADF
    } else {
        errno
    }
}

/// How a p1 errno is named in trap messages and `error` debug strings.
pub fn message(errno: u16) -> String {
    format!("{} (WASIp1 errno {errno})", error_code(errno).name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errnos_map_to_their_cases() {
        assert_eq!(error_code(p1::NOENT), ErrorCode::NoEntry);
        assert_eq!(error_code(p1::NOTCAPABLE), ErrorCode::NotPermitted);
        assert_eq!(error_code(p1::AGAIN).name(), "would-block");
        // An errno p2 has no case for is `io`, never success.
        assert_eq!(error_code(9999), ErrorCode::Io);
        assert_eq!(message(p1::NOENT), "no-entry (WASIp1 errno 44)");
    }
}
