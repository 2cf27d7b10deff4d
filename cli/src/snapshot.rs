//! The checkpoint file: `--checkpoint-to` writes it, `--restore` reads it.
//!
//! Layout: the 8 bytes [`MAGIC`], the format version as a little-endian
//! `u32` ([`VERSION`]), then one CBOR value (RFC 8949, written by the
//! `ciborium` crate): a map whose keys name every field, so any CBOR tool
//! can show it ([`Snapshot`]):
//! * `format`, `version`, `producer`: "p2shim-checkpoint", the version again
//!   and the p2shim that wrote it;
//! * `program`: the SHA-256 of the program's bytes, its size and kind
//!   (`module` or `component`); restoring against other bytes is refused;
//! * `argv`, `env`: what the guest was started with (a restored guest keeps
//!   them);
//! * `entry`: the export whose call was running (`_start`, `_initialize`,
//!   an `--invoke` name, or `wasi:cli/run#run`);
//! * `vm`: core-vm's [`core_vm::ExecState`]: memories (LZ4), tables,
//!   globals, dropped segments, and the frames as Wasm offsets with their
//!   locals and operand stacks;
//! * `p1`: for a core module, the WASIp1 descriptors the guest holds (see
//!   [`P1State`]) and the last monotonic time it saw;
//! * `component`: for a component, the Canonical ABI's state
//!   ([`component_model::checkpoint::ComponentState`]: every instance's
//!   handle table, poisoned flags, the export call in progress and whether
//!   its `post-return` is pending) and the WASI state
//!   ([`p2_shims::checkpoint::WasiState`]: preopen names, the files to
//!   reopen, every resource by rep, the monotonic time, the insecure seed).
//!
//! Invariants: decoding checks the magic, the version and the CBOR shape
//! and fails with a one-line reason; nothing is trusted beyond that until
//! core-vm checks the state against the instantiated program.

use anyhow::{bail, Context as _, Result};
use serde::{Deserialize, Serialize};

/// The first bytes of every checkpoint file.
pub const MAGIC: &[u8; 8] = b"\0p2shimC";
/// The format version this build writes and reads.
pub const VERSION: u32 = 2;

/// A checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Snapshot {
    pub format: String,
    pub version: u32,
    pub producer: String,
    pub program: Program,
    #[serde(with = "bytes_list")]
    pub argv: Vec<Vec<u8>>,
    #[serde(with = "bytes_list")]
    pub env: Vec<Vec<u8>>,
    pub entry: String,
    pub vm: core_vm::ExecState,
    #[serde(default)]
    pub p1: Option<P1State>,
    #[serde(default)]
    pub component: Option<ComponentParts>,
}

/// A component's layers in a checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ComponentParts {
    pub cm: component_model::checkpoint::ComponentState,
    pub wasi: p2_shims::checkpoint::WasiState,
}

/// Which program a snapshot belongs to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Program {
    pub sha256: String,
    pub size: u64,
    pub kind: String,
}

impl Program {
    pub fn of(bytes: &[u8], component: bool) -> Program {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(bytes);
        Program {
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
            size: bytes.len() as u64,
            kind: if component { "component" } else { "module" }.into(),
        }
    }
}

/// The WASIp1 state of a core module guest: its descriptors are the
/// host's, so what reopens them is kept.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct P1State {
    /// The host's preopens when the snapshot was taken: (fd, name).
    pub preopens: Vec<(u32, String)>,
    /// Every descriptor the guest opened and still holds.
    pub files: Vec<OpenFile>,
    /// The last monotonic clock value (ns) the guest was given: a restored
    /// guest's monotonic time continues from there.
    pub monotonic_last: u64,
}

/// A descriptor opened with `path_open`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OpenFile {
    pub fd: u32,
    /// The preopen the path is relative to (its name when taken).
    pub preopen: String,
    pub path: String,
    pub dirflags: u32,
    /// `path_open`'s oflags without `creat`, `excl` and `trunc`.
    pub oflags: u32,
    pub rights_base: u64,
    pub rights_inheriting: u64,
    pub fdflags: u32,
    /// The file position (none for a directory).
    pub position: Option<u64>,
}

/// Encodes `s` as a checkpoint file.
pub fn encode(s: &Snapshot) -> Result<Vec<u8>> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&VERSION.to_le_bytes());
    ciborium::into_writer(s, &mut out).context("cannot encode the snapshot")?;
    Ok(out)
}

/// Decodes a checkpoint file.
pub fn decode(bytes: &[u8]) -> Result<Snapshot> {
    if bytes.len() < 12 || &bytes[..8] != MAGIC {
        bail!("not a p2shim checkpoint (bad magic)");
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        bail!("checkpoint format version {version}; this p2shim reads version {VERSION}");
    }
    let s: Snapshot = ciborium::from_reader(&bytes[12..]).context("malformed checkpoint")?;
    if s.format != "p2shim-checkpoint" || s.version != VERSION {
        bail!(
            "malformed checkpoint: format {:?} version {}",
            s.format,
            s.version
        );
    }
    Ok(s)
}

/// Byte strings (CBOR major type 2) for lists of non-UTF-8-safe strings.
mod bytes_list {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        v.iter()
            .map(|b| serde_bytes::Bytes::new(b))
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        Ok(Vec::<serde_bytes::ByteBuf>::deserialize(d)?
            .into_iter()
            .map(|b| b.into_vec())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Snapshot {
        Snapshot {
            format: "p2shim-checkpoint".into(),
            version: VERSION,
            producer: "test".into(),
            program: Program::of(b"\0asm", false),
            argv: vec![b"a.wasm".to_vec(), vec![0xff, 0]],
            env: vec![b"K=V".to_vec()],
            entry: "_start".into(),
            vm: core_vm::ExecState {
                shape: core_vm::Shape {
                    funcs: 1,
                    memories: 0,
                    tables: 0,
                    globals: 0,
                    instances: 1,
                },
                memories: vec![],
                tables: vec![],
                globals: vec![],
                instances: vec![],
                frames: vec![],
                instr_count: 5,
            },
            p1: Some(P1State {
                preopens: vec![(3, ".".into())],
                files: vec![],
                monotonic_last: 9,
            }),
            component: None,
        }
    }

    #[test]
    fn round_trip_and_refusals() {
        let s = sample();
        let bytes = encode(&s).unwrap();
        assert_eq!(decode(&bytes).unwrap(), s);
        assert_eq!(
            s.program.sha256,
            "cd5d4935a48c0672cb06407bb443bc0087aff947c6b864bac886982c73b3027f"
        );
        assert!(decode(b"nonsense")
            .unwrap_err()
            .to_string()
            .contains("magic"));
        let mut v2 = bytes.clone();
        v2[8] = 3;
        assert!(decode(&v2).unwrap_err().to_string().contains("version 3"));
        assert!(decode(&bytes[..bytes.len() - 3]).is_err());
    }

    /// A component's parts survive CBOR, every output stream kind included
    /// (an `Option<Option<_>>` once lost append streams there).
    #[test]
    fn component_parts_round_trip() {
        use component_model::checkpoint::{CallState, ComponentState, HandleState, TableState};
        use p2_shims::checkpoint::{FdRef, Kind, OpenFile, Resource, WasiState, WriteAt};
        let mut s = sample();
        s.p1 = None;
        s.program = Program::of(b"\0asm\x0d\0\x01\0", true);
        s.entry = "wasi:cli/run#run".into();
        let out = |rep, fd, at| Resource {
            rep,
            parent: None,
            kind: Kind::OutputStream {
                fd,
                at,
                closed: false,
                failed: None,
            },
        };
        s.component = Some(ComponentParts {
            cm: ComponentState {
                tables: vec![TableState {
                    slots: vec![
                        None,
                        Some(HandleState {
                            rt: 0,
                            rep: 1,
                            own: true,
                            borrow_scoped: false,
                            num_lends: 0,
                        }),
                    ],
                    free: vec![],
                    num_borrows: 0,
                }],
                poisoned: vec![false],
                call: CallState {
                    func: "wasi:cli/run@0.2.0#run".into(),
                    instance: 0,
                    post_return: true,
                },
            },
            wasi: WasiState {
                preopens: vec![".".into()],
                files: vec![OpenFile {
                    preopen: 0,
                    path: "log".into(),
                    lookup: 1,
                    oflags: 0,
                    rights_base: 64,
                    rights_inheriting: 0,
                    fdflags: 0,
                }],
                last_rep: 3,
                resources: vec![
                    out(1, FdRef::Stdio(1), WriteAt::Stream),
                    out(2, FdRef::File(0), WriteAt::Append),
                    out(3, FdRef::File(0), WriteAt::Offset(7)),
                ],
                monotonic_last: 5,
                insecure_seed: Some((1, 2)),
            },
        });
        assert_eq!(decode(&encode(&s).unwrap()).unwrap(), s);
    }
}
