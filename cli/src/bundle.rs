//! `p2shim bundle`: writes one self-contained WASIp1 core module, the shim
//! with a program embedded in its linear memory, and (in the shim) finds that
//! program at start.
//!
//! The layout, shared by the writer ([`bundle`]) and the reader
//! ([`embedded`]):
//! * The shim defines a [`Descriptor`] static exported by address as the
//!   global `P2SHIM_BUNDLE` (wasm-ld `--export`, see cli/build.rs). In a plain
//!   shim its `len` is 0.
//! * The bundler appends one active data segment to memory 0 at the old
//!   initial size (a page boundary) and grows the memory's minimum by the
//!   payload's pages, then patches `addr`/`len` in the data segment holding
//!   the descriptor. The payload is `name_len: u32 LE`, the guest's argv[0]
//!   (UTF-8), then the program's bytes.
//! * Memory past the shim's original initial size is never handed out by the
//!   allocator's initial heap (wasi-libc's dlmalloc uses `__heap_base` to
//!   `__heap_end`, fixed at link time) and `memory.grow` only adds pages past
//!   the current size, so the payload stays intact for the process lifetime.
//! * The rewrite copies every section but the memory, data-count and data
//!   sections byte for byte (`wasm_encoder::RawSection`), so it needs no
//!   re-encoder of instructions in the shim. A shim that already carries a
//!   payload is refused.

use anyhow::{anyhow, bail, Context as _, Result};

/// Identifies the descriptor in the shim's data (checked before patching).
pub const MAGIC: [u8; 16] = *b"p2shim:bundle:v1";
/// The export naming the descriptor's address.
pub const EXPORT: &str = "P2SHIM_BUNDLE";
const PAGE: u64 = 65536;

/// The shim's record of its embedded program (all zero but `magic` in a
/// plain shim).
#[repr(C)]
pub struct Descriptor {
    pub magic: [u8; 16],
    pub addr: u32,
    pub len: u32,
}

#[no_mangle]
#[used]
pub static P2SHIM_BUNDLE: Descriptor = Descriptor {
    magic: MAGIC,
    addr: 0,
    len: 0,
};

/// The embedded program of a bundle, `(argv0, bytes)`, or `None` in a plain
/// shim.
#[cfg(target_os = "wasi")]
pub fn embedded() -> Option<(String, &'static [u8])> {
    // SAFETY: volatile reads of a live static: the bundler patches these
    // fields in the binary, so the compiler must not assume their values.
    let (addr, len) = unsafe {
        (
            core::ptr::read_volatile(&P2SHIM_BUNDLE.addr),
            core::ptr::read_volatile(&P2SHIM_BUNDLE.len),
        )
    };
    if len == 0 {
        return None;
    }
    // SAFETY: the bundler wrote `len` bytes at `addr` in an active data
    // segment inside the initial memory, above everything the allocator and
    // the stack use (see the module doc); nothing writes there afterwards.
    let payload: &'static [u8] =
        unsafe { core::slice::from_raw_parts(addr as usize as *const u8, len as usize) };
    let (name, program) = split_payload(payload).unwrap_or_else(|| {
        eprintln!("Error: the embedded program of this bundle is corrupt");
        std::process::exit(1)
    });
    Some((name, program))
}

#[cfg(any(target_os = "wasi", test))]
fn split_payload(p: &[u8]) -> Option<(String, &[u8])> {
    let n = u32::from_le_bytes(p.get(..4)?.try_into().ok()?) as usize;
    let name = std::str::from_utf8(p.get(4..4 + n)?).ok()?.to_string();
    Some((name, &p[4 + n..]))
}

/// What the first pass learns about the shim.
struct Layout {
    /// Address of the descriptor.
    desc_addr: u32,
    /// Memory 0's initial pages.
    min_pages: u64,
    /// Memory 0's maximum, if any.
    max_pages: Option<u64>,
}

fn const_i32(expr: &wasmparser::ConstExpr<'_>) -> Option<u32> {
    let mut ops = expr.get_operators_reader();
    match (ops.read().ok()?, ops.read().ok()?) {
        (wasmparser::Operator::I32Const { value }, wasmparser::Operator::End) => Some(value as u32),
        _ => None,
    }
}

fn layout(shim: &[u8]) -> Result<Layout> {
    let mut imported_globals = 0u32;
    let mut globals = Vec::new();
    let mut export = None;
    let mut memory = None;
    for payload in wasmparser::Parser::new(0).parse_all(shim) {
        match payload.context("the shim is not a valid WebAssembly module")? {
            wasmparser::Payload::Version {
                encoding: wasmparser::Encoding::Component,
                ..
            } => {
                bail!("the shim is a component, not p2shim's core module")
            }
            wasmparser::Payload::ImportSection(s) => {
                for import in s.into_imports() {
                    match import?.ty {
                        wasmparser::TypeRef::Global(_) => imported_globals += 1,
                        wasmparser::TypeRef::Memory(_) if memory.is_none() => {
                            bail!("the shim imports its memory; p2shim defines its own")
                        }
                        _ => {}
                    }
                }
            }
            wasmparser::Payload::MemorySection(s) => {
                if let Some(m) = s.into_iter().next() {
                    memory.get_or_insert(m?);
                }
            }
            wasmparser::Payload::GlobalSection(s) => {
                for g in s {
                    globals.push(const_i32(&g?.init_expr));
                }
            }
            wasmparser::Payload::ExportSection(s) => {
                for e in s {
                    let e = e?;
                    if e.name == EXPORT && e.kind == wasmparser::ExternalKind::Global {
                        export = Some(e.index);
                    }
                }
            }
            _ => {}
        }
    }
    let index = export.ok_or_else(|| {
        anyhow!("the shim has no `{EXPORT}` export: not a p2shim.wasm that can bundle")
    })?;
    let desc_addr = index
        .checked_sub(imported_globals)
        .and_then(|i| globals.get(i as usize).copied().flatten())
        .ok_or_else(|| anyhow!("`{EXPORT}` is not a defined i32 constant global"))?;
    let memory = memory.ok_or_else(|| anyhow!("the shim has no memory"))?;
    if memory.memory64 {
        bail!("the shim's memory is 64-bit");
    }
    Ok(Layout {
        desc_addr,
        min_pages: memory.initial,
        max_pages: memory.maximum,
    })
}

/// The memory section with memory 0's minimum set to `new_min`.
fn memory_section(
    section: wasmparser::MemorySectionReader<'_>,
    new_min: u64,
) -> Result<wasm_encoder::MemorySection> {
    let mut out = wasm_encoder::MemorySection::new();
    for (i, m) in section.into_iter().enumerate() {
        let m = m?;
        out.memory(wasm_encoder::MemoryType {
            minimum: if i == 0 { new_min } else { m.initial },
            maximum: m.maximum,
            memory64: m.memory64,
            shared: m.shared,
            page_size_log2: m.page_size_log2,
        });
    }
    Ok(out)
}

/// The data section with the descriptor patched to point at the payload,
/// which is appended as one more active segment at `payload_addr`. Every
/// other segment is copied as encoded.
fn data_section(
    shim: &[u8],
    section: wasmparser::DataSectionReader<'_>,
    layout: &Layout,
    payload: &[u8],
    payload_addr: u32,
) -> Result<wasm_encoder::DataSection> {
    let mut out = wasm_encoder::DataSection::new();
    let mut patched = false;
    for datum in section {
        let datum = datum?;
        let mut encoded = shim[datum.range.start as usize..datum.range.end as usize].to_vec();
        if let wasmparser::DataKind::Active {
            memory_index: 0,
            offset_expr,
        } = &datum.kind
        {
            let inside = const_i32(offset_expr)
                .and_then(|s| layout.desc_addr.checked_sub(s))
                .map(|off| off as usize);
            if let Some(off) =
                inside.filter(|off| off + size_of::<Descriptor>() <= datum.data.len())
            {
                // The segment's bytes end its encoding.
                let at = encoded.len() - datum.data.len() + off;
                let d = &mut encoded[at..at + size_of::<Descriptor>()];
                if d[..16] != MAGIC {
                    bail!("`{EXPORT}` does not point at a bundle descriptor");
                }
                if d[20..24] != [0; 4] {
                    bail!("the shim is already a bundle (it carries an embedded program); bundle a plain p2shim.wasm");
                }
                d[16..20].copy_from_slice(&payload_addr.to_le_bytes());
                d[20..24].copy_from_slice(&(payload.len() as u32).to_le_bytes());
                patched = true;
            }
        }
        out.raw(&encoded);
    }
    if !patched {
        bail!("no data segment of the shim holds the `{EXPORT}` descriptor");
    }
    out.active(
        0,
        &wasm_encoder::ConstExpr::i32_const(payload_addr as i32),
        payload.iter().copied(),
    );
    Ok(out)
}

/// The bundle of `shim` (p2shim.wasm's bytes) with `program` (a component
/// or core module) embedded, run with `argv0` as the guest's argv[0].
pub fn bundle(shim: &[u8], program: &[u8], argv0: &str) -> Result<Vec<u8>> {
    if !program.starts_with(b"\0asm") {
        bail!("the program to bundle is not a WebAssembly binary (no `\\0asm` header)");
    }
    let layout = layout(shim)?;
    let mut payload = Vec::with_capacity(4 + argv0.len() + program.len());
    payload.extend_from_slice(&(argv0.len() as u32).to_le_bytes());
    payload.extend_from_slice(argv0.as_bytes());
    payload.extend_from_slice(program);
    let start = layout.min_pages * PAGE;
    let pages = (payload.len() as u64).div_ceil(PAGE);
    let new_min = layout.min_pages + pages;
    if new_min > 65536 {
        bail!("the program is too large to embed in a 32-bit memory");
    }
    if let Some(max) = layout.max_pages {
        if new_min > max {
            bail!(
                "the shim's memory maximum ({max} pages) leaves no room for a {} byte program",
                program.len()
            );
        }
    }
    let payload_addr = start as u32;
    let mut module = wasm_encoder::Module::new();
    let mut has_data = false;
    for p in wasmparser::Parser::new(0).parse_all(shim) {
        let p = p.context("failed to re-encode the shim")?;
        match p {
            wasmparser::Payload::MemorySection(s) => {
                module.section(&memory_section(s, new_min)?);
            }
            wasmparser::Payload::DataCountSection { count, .. } => {
                module.section(&wasm_encoder::DataCountSection { count: count + 1 });
            }
            wasmparser::Payload::DataSection(s) => {
                module.section(&data_section(shim, s, &layout, &payload, payload_addr)?);
                has_data = true;
            }
            other => {
                if let Some((id, range)) = other.as_section() {
                    module.section(&wasm_encoder::RawSection {
                        id,
                        data: &shim[range.start as usize..range.end as usize],
                    });
                }
            }
        }
    }
    if !has_data {
        bail!("no data segment of the shim holds the `{EXPORT}` descriptor");
    }
    Ok(module.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in shim: memory 0 of 2 pages, the descriptor at 1024 exported
    /// as `P2SHIM_BUNDLE`, and a function reading the patched length.
    fn fake_shim(data_count: bool) -> Vec<u8> {
        use wasm_encoder::*;
        let mut m = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], [ValType::I32]);
        m.section(&types);
        let mut funcs = FunctionSection::new();
        funcs.function(0);
        m.section(&funcs);
        let mut mems = MemorySection::new();
        mems.memory(MemoryType {
            minimum: 2,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        m.section(&mems);
        let mut globals = GlobalSection::new();
        globals.global(
            GlobalType {
                val_type: ValType::I32,
                mutable: false,
                shared: false,
            },
            &ConstExpr::i32_const(1024),
        );
        m.section(&globals);
        let mut exports = ExportSection::new();
        exports.export("memory", ExportKind::Memory, 0);
        exports.export(EXPORT, ExportKind::Global, 0);
        exports.export("len", ExportKind::Func, 0);
        m.section(&exports);
        if data_count {
            m.section(&DataCountSection { count: 2 });
        }
        let mut code = CodeSection::new();
        let mut f = Function::new([]);
        f.instructions()
            .i32_const(1024 + 20)
            .i32_load(MemArg {
                offset: 0,
                align: 2,
                target: MemArgTarget::Memory(0),
                ordering: None,
            })
            .end();
        code.function(&f);
        m.section(&code);
        let mut data = DataSection::new();
        data.active(0, &ConstExpr::i32_const(16), b"other".iter().copied());
        let mut bytes = b"xxxx".to_vec();
        bytes.extend_from_slice(&MAGIC);
        bytes.extend_from_slice(&[0; 8]);
        data.active(0, &ConstExpr::i32_const(1020), bytes);
        m.section(&data);
        m.finish()
    }

    fn read_back(bundle: &[u8]) -> (u32, u32, Vec<u8>) {
        let mut segs = Vec::new();
        let mut min = 0;
        for p in wasmparser::Parser::new(0).parse_all(bundle) {
            match p.unwrap() {
                wasmparser::Payload::MemorySection(s) => {
                    min = s.into_iter().next().unwrap().unwrap().initial
                }
                wasmparser::Payload::DataSection(s) => {
                    for d in s {
                        let d = d.unwrap();
                        let wasmparser::DataKind::Active { offset_expr, .. } = d.kind else {
                            panic!()
                        };
                        segs.push((const_i32(&offset_expr).unwrap(), d.data.to_vec()));
                    }
                }
                _ => {}
            }
        }
        let desc = &segs[1].1[4..28];
        assert_eq!(desc[..16], MAGIC);
        let addr = u32::from_le_bytes(desc[16..20].try_into().unwrap());
        let len = u32::from_le_bytes(desc[20..24].try_into().unwrap());
        let payload = segs
            .iter()
            .find(|(a, _)| *a == addr)
            .expect("payload segment")
            .1
            .clone();
        assert_eq!(payload.len(), len as usize);
        (min as u32, addr, payload)
    }

    #[test]
    fn embeds_program_after_initial_memory() {
        for data_count in [false, true] {
            let program = [b"\0asm\x0d\0\x01\0".as_slice(), &vec![7u8; 70_000]].concat();
            let out = bundle(&fake_shim(data_count), &program, "app.wasm").unwrap();
            wasmparser::Validator::new()
                .validate_all(&out)
                .expect("valid bundle");
            let (min, addr, payload) = read_back(&out);
            assert_eq!(addr, 2 * 65536);
            assert_eq!(min, 2 + 2, "70 KB of payload needs two more pages");
            let (name, prog) = split_payload(&payload).unwrap();
            assert_eq!((name.as_str(), prog), ("app.wasm", program.as_slice()));
        }
    }

    #[test]
    fn refuses_bad_inputs() {
        let shim = fake_shim(false);
        let err = bundle(&shim, b"not wasm", "x").unwrap_err().to_string();
        assert!(err.contains("not a WebAssembly binary"), "{err}");
        let once = bundle(&shim, b"\0asm\x01\0\0\0", "a").unwrap();
        let err = bundle(&once, b"\0asm\x01\0\0\0", "a")
            .unwrap_err()
            .to_string();
        assert!(err.contains("already a bundle"), "{err}");
        let err = bundle(b"\0asm\x01\0\0\0", b"\0asm\x01\0\0\0", "a")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no `P2SHIM_BUNDLE` export"), "{err}");
    }
}
