//! The relocator: places the p2 WASI library (crate `p2-lib`, a
//! `wasm32-wasip1` cdylib linked with `--emit-relocs`) inside the guest's
//! memory 0, so that the lowered output needs one memory only.
//!
//! # Design: static relocation at lowering time
//! The library is an ordinary linked module whose addresses run from 0 to
//! the end of its initial memory (`pages` 64 KiB pages): unused bytes below
//! `--global-base`, its data (`.rodata`, `.data`, `.bss`), its shadow stack
//! (linked with `--no-stack-first`, so the stack sits above the data and an
//! overflow runs into the library's own data, never into the guest's), and
//! the first part of its heap, up to `__heap_end`. [`relocate`] moves all of
//! that to `[memory_base, memory_base + pages * 64 KiB)` of the guest's
//! memory:
//! * every memory-address relocation of `reloc.CODE` (`i32.const` and load
//!   or store offsets, padded LEBs) and `reloc.DATA` (pointers inside data)
//!   whose symbol is defined gets `memory_base` added, in place;
//! * the active data segments move by `memory_base`; all-zero segments
//!   (`.bss`) are emptied, since the region is fresh zeroed memory;
//! * the linker-synthesised address globals (`__stack_pointer` and the
//!   like) move by `memory_base`; any other global is refused, as its
//!   meaning is unknown;
//! * the memory becomes an import ([`MEMORY_IMPORT`]) with a minimum that
//!   covers the region; the `memory` export stays (now of the imported
//!   memory: a p1 host reads a call's buffers through the caller's
//!   `memory` export, so the relocated library also runs as an instance of
//!   its own); other global and table exports are dropped;
//! * the function table stays the library's own ([`TablePlacement::Own`]:
//!   table-index relocations unchanged; the merged module then has several
//!   tables, which is Wasm 2.0 reference-types: wasmtime 49, wasmi 2.0,
//!   Node 20 and WAMR 2.4.3's fast interpreter all run a module whose
//!   `call_indirect` uses a second table), or joins an imported table
//!   at a given slot ([`TablePlacement::Shared`]: every table-index
//!   relocation and the element segment move by the same amount);
//! * index relocations (function, type, global, table number, tag) are
//!   checked and left alone: the relocated module keeps every index space;
//! * the table-index relocations are reported ([`Relocated::address_taken`]:
//!   which function's body, or which data, takes each function's slot), for
//!   the merger's walk of what the component reaches (the `reach` module);
//! * the reactor's `_initialize` (which runs `__wasm_call_ctors`) is
//!   exported as [`INIT_EXPORT`]; `linking`, `reloc.*`, `producers` and
//!   `target_features` are dropped, `name` is kept.
//!
//! Each relocated field must hold, before the change, exactly what the
//! symbol table says (symbol address or slot plus addend): a field that does
//! not, a relocation type not listed above, a relocation outside its
//! section, a 64-bit or shared memory, TLS or PIC constructs, are refused
//! with a [`RelocateError`] naming what was found. So the code runs with no
//! indirection at all: the cost per WASI call is that of the same library
//! linked at that address.
//!
//! # What the merger must do
//! * Choose `memory_base` at or above the end of every guest data segment,
//!   page-aligned; normally the guest memory's initial size, and raise memory
//!   0's minimum to `memory_base / 64 KiB + pages` (data segments are
//!   active, so the region must exist at instantiation). A memory whose
//!   maximum is below that cannot be lowered.
//! * Resolve [`MEMORY_IMPORT`] to memory 0, the library's other imports
//!   (`wasi_snapshot_preview1.*` stay imports of the output; the guest's
//!   `cabi_realloc`), and call [`INIT_EXPORT`] before any guest code.
//!
//! # What the guest's allocator must not do
//! The region lies above the guest's initial memory, so it is safe as long
//! as the guest takes memory above its initial size only through
//! `memory.grow` and uses only what `memory.grow` returned. That holds for
//! wasi-libc's dlmalloc (used by Rust `wasm32-wasip2` std, componentize-py's
//! CPython, componentize-js's StarlingMonkey): it starts with
//! `__heap_base..__heap_end`, link-time constants of the guest, then grows
//! with `sbrk`, which is `memory.grow`; Rust's own dlmalloc
//! (`wasm32-unknown-unknown`) asks `memory.grow` only; the preview1 adapter
//! takes its state page from `memory.grow` and places the results of its p2
//! calls in buffers of that state or of its p1 caller. An allocator that treats everything up to
//! `memory.size` as its own at start-up (AssemblyScript's TLSF does) would
//! hand out the library's region: such a guest cannot be lowered this way.
//! The library's own wasi-libc is separate: its malloc has its own
//! `__heap_base..__heap_end` (relocated into the region) and then grows
//! with `memory.grow` too, so the two heaps interleave page by page without
//! sharing any; its environ and preopen tables are its own (filled from the
//! same p1 calls); it has no `_start`, so no `__wasm_call_dtors` or stdio
//! flush runs at the guest's exit.

use std::collections::HashMap;
use std::fmt;

pub use crate::reach::AddressTaken;
use std::ops::Range;

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasmparser::{
    BinaryReader, DataKind, ElementItems, ElementKind, ExternalKind, KnownCustom, Linking,
    Operator, Parser, Payload, RelocSectionReader, RelocationType, SymbolFlags, SymbolInfo,
    TypeRef,
};

/// The Wasm page size.
pub const PAGE_SIZE: u32 = 65536;
/// Where the relocated library imports memory 0 from (when the library
/// defined its memory; an imported one keeps its name).
pub const MEMORY_IMPORT: (&str, &str) = ("env", "memory");
/// Where the relocated library imports its table from, with
/// [`TablePlacement::Shared`] (when the library defined its table).
pub const TABLE_IMPORT: (&str, &str) = ("env", "__indirect_function_table");
/// The export the merger calls once before any guest code.
pub const INIT_EXPORT: &str = "p2lib_init";
/// The reactor initialiser the library exports (wasm-ld then wraps no
/// export in `__wasm_call_ctors`/`__wasm_call_dtors`).
const REACTOR_INIT: &str = "_initialize";

/// Where the library goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// The byte address in memory 0 of the library's address 0; a multiple
    /// of [`PAGE_SIZE`].
    pub memory_base: u32,
    pub table: TablePlacement,
}

/// Where the library's function table goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TablePlacement {
    /// The library keeps its own table; its slots are unchanged.
    Own,
    /// The library's slots start at `base` of an imported table (the
    /// guest's), which must have room for [`Relocated::table_slots`].
    Shared { base: u32 },
}

/// The relocated library and what the merger needs to know about it.
#[derive(Debug, Clone)]
pub struct Relocated {
    /// A valid core module: imports the memory and keeps the library's
    /// other imports; exports its functions.
    pub module: Vec<u8>,
    /// The region `[memory_base, memory_base + pages * PAGE_SIZE)` the
    /// library owns (data, stack, first heap).
    pub pages: u32,
    /// The names of the function exports, [`INIT_EXPORT`] among them.
    pub exports: Vec<String>,
    /// How many table slots the library's element segments fill, counted
    /// from its first slot.
    pub table_slots: u32,
    /// Where the library takes its functions' table slots (for
    /// the `reach` module).
    pub address_taken: AddressTaken,
}

/// Why the library could not be relocated.
#[derive(Debug)]
pub enum RelocateError {
    /// The library is not a well-formed module.
    Malformed(wasmparser::BinaryReaderError),
    /// The library was linked without `--emit-relocs`: this section is
    /// missing.
    NotRelocatable(&'static str),
    /// A relocation type the relocator does not handle.
    UnsupportedRelocation {
        ty: RelocationType,
        section: &'static str,
    },
    /// A relocation whose field is not what the symbol table says, or lies
    /// outside its section.
    BadRelocation {
        section: &'static str,
        offset: u32,
        reason: String,
    },
    /// A construct of the library the relocator does not handle.
    Unsupported(String),
    /// The placement cannot hold the library.
    Placement(String),
}

impl fmt::Display for RelocateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RelocateError::Malformed(e) => {
                // One line: some of the parser's messages span several.
                let message = e.message().split_whitespace().collect::<Vec<_>>();
                write!(
                    f,
                    "p2 library: malformed module at byte {:#x}: {}",
                    e.offset(),
                    message.join(" ")
                )
            }
            RelocateError::NotRelocatable(s) => write!(
                f,
                "p2 library: no `{s}` section (the library must be linked with --emit-relocs)"
            ),
            RelocateError::UnsupportedRelocation { ty, section } => write!(
                f,
                "p2 library: relocation type {} in {section} is not supported",
                reloc_name(*ty)
            ),
            RelocateError::BadRelocation {
                section,
                offset,
                reason,
            } => write!(
                f,
                "p2 library: relocation at {section}+{offset:#x}: {reason}"
            ),
            RelocateError::Unsupported(what) => write!(f, "p2 library: {what} is not supported"),
            RelocateError::Placement(why) => write!(f, "p2 library: cannot place it: {why}"),
        }
    }
}

impl std::error::Error for RelocateError {}

impl From<wasmparser::BinaryReaderError> for RelocateError {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        RelocateError::Malformed(e)
    }
}

type Result<T, E = RelocateError> = std::result::Result<T, E>;

/// The name LLVM gives a relocation type.
pub fn reloc_name(ty: RelocationType) -> &'static str {
    use RelocationType::*;
    match ty {
        FunctionIndexLeb => "R_WASM_FUNCTION_INDEX_LEB",
        TableIndexSleb => "R_WASM_TABLE_INDEX_SLEB",
        TableIndexI32 => "R_WASM_TABLE_INDEX_I32",
        MemoryAddrLeb => "R_WASM_MEMORY_ADDR_LEB",
        MemoryAddrSleb => "R_WASM_MEMORY_ADDR_SLEB",
        MemoryAddrI32 => "R_WASM_MEMORY_ADDR_I32",
        TypeIndexLeb => "R_WASM_TYPE_INDEX_LEB",
        GlobalIndexLeb => "R_WASM_GLOBAL_INDEX_LEB",
        FunctionOffsetI32 => "R_WASM_FUNCTION_OFFSET_I32",
        SectionOffsetI32 => "R_WASM_SECTION_OFFSET_I32",
        EventIndexLeb => "R_WASM_TAG_INDEX_LEB",
        MemoryAddrRelSleb => "R_WASM_MEMORY_ADDR_REL_SLEB",
        TableIndexRelSleb => "R_WASM_TABLE_INDEX_REL_SLEB",
        GlobalIndexI32 => "R_WASM_GLOBAL_INDEX_I32",
        MemoryAddrLeb64 => "R_WASM_MEMORY_ADDR_LEB64",
        MemoryAddrSleb64 => "R_WASM_MEMORY_ADDR_SLEB64",
        MemoryAddrI64 => "R_WASM_MEMORY_ADDR_I64",
        MemoryAddrRelSleb64 => "R_WASM_MEMORY_ADDR_REL_SLEB64",
        TableIndexSleb64 => "R_WASM_TABLE_INDEX_SLEB64",
        TableIndexI64 => "R_WASM_TABLE_INDEX_I64",
        TableNumberLeb => "R_WASM_TABLE_NUMBER_LEB",
        MemoryAddrTlsSleb => "R_WASM_MEMORY_ADDR_TLS_SLEB",
        FunctionOffsetI64 => "R_WASM_FUNCTION_OFFSET_I64",
        MemoryAddrLocrelI32 => "R_WASM_MEMORY_ADDR_LOCREL_I32",
        TableIndexRelSleb64 => "R_WASM_TABLE_INDEX_REL_SLEB64",
        MemoryAddrTlsSleb64 => "R_WASM_MEMORY_ADDR_TLS_SLEB64",
        FunctionIndexI32 => "R_WASM_FUNCTION_INDEX_I32",
    }
}

/// Globals wasm-ld synthesises whose value is a memory address.
const ADDRESS_GLOBALS: &[&str] = &[
    "__stack_pointer",
    "__heap_base",
    "__heap_end",
    "__data_end",
    "__global_base",
    "__dso_handle",
    "__stack_low",
    "__stack_high",
];

/// One section of the input, in order (its position is the section index
/// the `reloc.*` sections name).
struct Section<'a> {
    id: u8,
    /// The section's contents (after its id and size).
    range: Range<usize>,
    custom: Option<&'a str>,
}

/// The symbol table, as far as relocation needs it.
enum Symbol {
    Func {
        index: u32,
        defined: bool,
    },
    /// `addr` is `None` for an undefined data symbol (address 0).
    Data {
        addr: Option<u32>,
    },
    Global {
        index: u32,
    },
    Table {
        index: u32,
    },
    Tag {
        index: u32,
    },
    Section,
}

/// The kind of field a relocation rewrites.
#[derive(Clone, Copy)]
enum Field {
    /// A 5-byte padded unsigned LEB.
    Uleb5,
    /// A 5-byte padded signed LEB.
    Sleb5,
    /// 4 little-endian bytes.
    I32,
}

/// Relocates the library `lib` to `placement`: see the module doc.
pub fn relocate(lib: &[u8], placement: &Placement) -> Result<Relocated> {
    let base = placement.memory_base;
    if base & (PAGE_SIZE - 1) != 0 {
        return Err(RelocateError::Placement(format!(
            "memory base {base:#x} is not a multiple of the page size"
        )));
    }
    let input = Input::read(lib)?;
    let pages = input.pages()?;
    let end = u64::from(base) + u64::from(pages) * u64::from(PAGE_SIZE);
    if end > 1 << 32 {
        return Err(RelocateError::Placement(format!(
            "{pages} pages at {base:#x} go past 4 GiB"
        )));
    }
    let table = Table::read(&input, placement.table)?;
    let segments = read_segments(input.payload(SECTION_DATA))?;
    let region = u64::from(pages) * u64::from(PAGE_SIZE);
    for seg in &segments {
        if let Some(a) = seg.address {
            if u64::from(a) + seg.content.len() as u64 > region {
                return Err(RelocateError::Unsupported(format!(
                    "a data segment at {a:#x} past the initial memory ({pages} pages)"
                )));
            }
        }
    }
    let symbols = Symbols::read(&input, &segments)?;
    let cx = Context {
        symbols: &symbols.list,
        slot_of: &table.slot_of,
        base,
        table_shift: table.shift,
    };
    let mut taken = Vec::new();
    let (code, data) = cx.apply_all(&input, &segments, &mut taken)?;
    let address_taken = address_taken(&input, &taken)?;
    let out = Output {
        input: &input,
        symbols: &symbols,
        table: &table,
        base,
        memory_min: end / u64::from(PAGE_SIZE),
    };
    let (module, exports) = out.write(&code, &data)?;
    Ok(Relocated {
        module,
        pages,
        exports,
        table_slots: table.slots,
        address_taken,
    })
}

/// A table-index relocation of a defined function: in `reloc.CODE` (at
/// this offset of the code section's payload) or `reloc.DATA`.
struct SlotTaken {
    code_offset: Option<u32>,
    func: u32,
}

/// Sorts the table-index relocations by the function whose body holds them.
fn address_taken(input: &Input, taken: &[SlotTaken]) -> Result<AddressTaken> {
    let payload = input.payload(SECTION_CODE);
    let mut bodies = Vec::new();
    if !payload.is_empty() {
        let reader = wasmparser::CodeSectionReader::new(BinaryReader::new(payload, 0))?;
        for body in reader {
            bodies.push(body?.range());
        }
    }
    let imported = input
        .imports
        .iter()
        .filter(|i| matches!(i.ty, TypeRef::Func(_) | TypeRef::FuncExact(_)))
        .count() as u32;
    let mut out = AddressTaken::default();
    for t in taken {
        match t.code_offset {
            None => out.in_data.push(t.func),
            Some(at) => {
                // Bodies are in order: the last one starting at or before `at`.
                let i = bodies.partition_point(|r| r.start <= u64::from(at));
                match i
                    .checked_sub(1)
                    .filter(|&i| bodies[i].contains(&u64::from(at)))
                {
                    Some(i) => out.in_code.push((imported + i as u32, t.func)),
                    None => {
                        return Err(RelocateError::BadRelocation {
                            section: "reloc.CODE",
                            offset: at,
                            reason: "outside every function body".into(),
                        })
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The parts of the library the relocator reads.
struct Input<'a> {
    bytes: &'a [u8],
    sections: Vec<Section<'a>>,
    linking: wasmparser::LinkingSectionReader<'a>,
    relocs: Vec<RelocSectionReader<'a>>,
    imports: Vec<wasmparser::Import<'a>>,
    tables: Vec<wasmparser::Table<'a>>,
    memories: Vec<wasmparser::MemoryType>,
    globals: Vec<wasmparser::Global<'a>>,
    exports: Vec<wasmparser::Export<'a>>,
    elements: Vec<wasmparser::Element<'a>>,
}

impl<'a> Input<'a> {
    fn read(bytes: &'a [u8]) -> Result<Self> {
        let mut sections = Vec::new();
        let mut linking = None;
        let mut relocs = Vec::new();
        let mut imports = Vec::new();
        let mut tables = Vec::new();
        let mut memories = Vec::new();
        let mut globals = Vec::new();
        let mut exports = Vec::new();
        let mut elements = Vec::new();
        for payload in Parser::new(0).parse_all(bytes) {
            let payload = payload?;
            match &payload {
                Payload::Version { encoding, .. } if *encoding != wasmparser::Encoding::Module => {
                    return Err(RelocateError::Unsupported(
                        "a component as the library".into(),
                    ));
                }
                Payload::ImportSection(r) => collect(r.clone().into_imports(), &mut imports)?,
                Payload::TableSection(r) => collect(r.clone(), &mut tables)?,
                Payload::MemorySection(r) => collect(r.clone(), &mut memories)?,
                Payload::GlobalSection(r) => collect(r.clone(), &mut globals)?,
                Payload::ExportSection(r) => collect(r.clone(), &mut exports)?,
                Payload::ElementSection(r) => collect(r.clone(), &mut elements)?,
                Payload::TagSection(_) => {
                    return Err(RelocateError::Unsupported("a tag section".into()));
                }
                Payload::CustomSection(c) => match c.as_known() {
                    KnownCustom::Linking(l) => linking = Some(l),
                    KnownCustom::Reloc(r) => relocs.push(r),
                    _ => {}
                },
                _ => {}
            }
            if let Some((id, range)) = payload.as_section() {
                let custom = match &payload {
                    Payload::CustomSection(c) => Some(c.name()),
                    _ => None,
                };
                sections.push(Section {
                    id,
                    range: range.start as usize..range.end as usize,
                    custom,
                });
            }
        }
        if imports
            .iter()
            .any(|i| matches!(i.ty, TypeRef::Table(_) | TypeRef::Global(_)))
        {
            return Err(RelocateError::Unsupported(
                "a library importing a table or a global (position-independent code)".into(),
            ));
        }
        if tables.len() > 1 {
            return Err(RelocateError::Unsupported(
                "a library with several tables".into(),
            ));
        }
        Ok(Input {
            bytes,
            sections,
            linking: linking.ok_or(RelocateError::NotRelocatable("linking"))?,
            relocs,
            imports,
            tables,
            memories,
            globals,
            exports,
            elements,
        })
    }

    /// The position of the (first) section `id`, as `reloc.*` count them.
    fn position(&self, id: u8) -> Option<usize> {
        self.sections.iter().position(|s| s.id == id)
    }

    /// The contents of section `id` (empty when there is none).
    fn payload(&self, id: u8) -> &'a [u8] {
        match self.position(id) {
            Some(i) => &self.bytes[self.sections[i].range.clone()],
            None => &[],
        }
    }

    /// The size of the library's memory in pages: its region.
    fn pages(&self) -> Result<u32> {
        let imported: Vec<_> = self
            .imports
            .iter()
            .filter_map(|i| match i.ty {
                TypeRef::Memory(m) => Some(m),
                _ => None,
            })
            .collect();
        let memory = match (imported.as_slice(), self.memories.as_slice()) {
            ([m], []) | ([], [m]) => *m,
            _ => {
                return Err(RelocateError::Unsupported(
                    "a library without exactly one memory".into(),
                ))
            }
        };
        if memory.memory64 || memory.shared || memory.page_size_log2.is_some() {
            return Err(RelocateError::Unsupported(
                "a 64-bit, shared or custom-page-size memory".into(),
            ));
        }
        u32::try_from(memory.initial)
            .map_err(|_| RelocateError::Unsupported("a memory over 4 GiB".into()))
    }
}

/// Appends the items of a section reader to `out`.
fn collect<T>(
    items: impl IntoIterator<Item = wasmparser::Result<T>>,
    out: &mut Vec<T>,
) -> Result<()> {
    for item in items {
        out.push(item?);
    }
    Ok(())
}

/// The library's table slots and where they go.
struct Table {
    /// Function index -> slot, from the active segments of table 0.
    slot_of: HashMap<u32, u32>,
    /// How many slots from the first one.
    slots: u32,
    /// What each slot moves by.
    shift: i64,
    /// The table becomes an import ([`TablePlacement::Shared`]).
    imported_at: Option<u32>,
}

impl Table {
    fn read(input: &Input, placement: TablePlacement) -> Result<Self> {
        let mut slot_of = HashMap::new();
        let mut first = u32::MAX;
        let mut end = 0u32;
        for e in &input.elements {
            let ElementKind::Active {
                table_index,
                offset_expr,
            } = &e.kind
            else {
                continue;
            };
            if table_index.unwrap_or(0) != 0 {
                return Err(RelocateError::Unsupported(
                    "an element segment of another table".into(),
                ));
            }
            let offset = const_i32(offset_expr).ok_or_else(|| {
                RelocateError::Unsupported("an element offset that is not i32.const".into())
            })? as u32;
            let funcs = element_funcs(&e.items)?;
            first = first.min(offset);
            end = end.max(offset.saturating_add(funcs.len() as u32));
            for (i, f) in funcs.into_iter().enumerate() {
                slot_of.entry(f).or_insert(offset + i as u32);
            }
        }
        let slots = end.saturating_sub(first.min(end));
        let (shift, imported_at) = match placement {
            TablePlacement::Shared { base } if !input.tables.is_empty() => {
                let shift = if slots == 0 {
                    0
                } else {
                    i64::from(base) - i64::from(first)
                };
                (shift, Some(base))
            }
            _ => (0, None),
        };
        Ok(Table {
            slot_of,
            slots,
            shift,
            imported_at,
        })
    }
}

/// The symbol table, and the names of the globals.
struct Symbols {
    list: Vec<Symbol>,
    global_names: HashMap<u32, String>,
}

impl Symbols {
    fn read(input: &Input, segments: &[Segment]) -> Result<Self> {
        let mut list = Vec::new();
        let mut global_names = HashMap::new();
        for sub in input.linking.subsections() {
            let Linking::SymbolTable(map) = sub? else {
                continue;
            };
            for s in map {
                list.push(match s? {
                    SymbolInfo::Func { flags, index, .. } => Symbol::Func {
                        index,
                        defined: !flags.contains(SymbolFlags::UNDEFINED),
                    },
                    SymbolInfo::Data { flags, symbol, .. } => {
                        if flags.contains(SymbolFlags::TLS) {
                            return Err(RelocateError::Unsupported("thread-local data".into()));
                        }
                        let addr = match symbol {
                            None => None,
                            Some(d) if flags.contains(SymbolFlags::ABSOLUTE) => Some(d.offset),
                            Some(d) => {
                                let seg = segments.get(d.index as usize).ok_or_else(|| {
                                    RelocateError::Unsupported(format!(
                                        "a data symbol in segment {} (there are {})",
                                        d.index,
                                        segments.len()
                                    ))
                                })?;
                                let start = seg.address.ok_or_else(|| {
                                    RelocateError::Unsupported(
                                        "a data symbol in a passive segment".into(),
                                    )
                                })?;
                                Some(start.wrapping_add(d.offset))
                            }
                        };
                        Symbol::Data { addr }
                    }
                    SymbolInfo::Global { index, name, .. } => {
                        if let Some(name) = name {
                            global_names
                                .entry(index)
                                .or_insert_with(|| name.to_string());
                        }
                        Symbol::Global { index }
                    }
                    SymbolInfo::Table { index, .. } => Symbol::Table { index },
                    SymbolInfo::Event { index, .. } => Symbol::Tag { index },
                    SymbolInfo::Section { .. } => Symbol::Section,
                });
            }
        }
        Ok(Symbols { list, global_names })
    }
}

/// Writes the relocated module.
struct Output<'a> {
    input: &'a Input<'a>,
    symbols: &'a Symbols,
    table: &'a Table,
    base: u32,
    /// The minimum of the imported memory: the end of the region.
    memory_min: u64,
}

impl Output<'_> {
    /// The module, from the relocated code and data section contents, and
    /// the names of its function exports.
    fn write(&self, code: &[u8], data: &[u8]) -> Result<(Vec<u8>, Vec<String>)> {
        let input = self.input;
        let mut out = wasm_encoder::Module::new();
        let mut exported = Vec::new();
        let imports = self.imports()?;
        let mut imports_written = false;
        for s in &input.sections {
            if !imports_written && s.id != 0 && s.id >= SECTION_IMPORT {
                out.section(&imports);
                imports_written = true;
                if s.id == SECTION_IMPORT {
                    continue;
                }
            }
            match s.id {
                // Of the custom sections only the names stay.
                0 if s.custom == Some("name") => {
                    let c = wasmparser::CustomSectionReader::new(BinaryReader::new(
                        &input.bytes[s.range.clone()],
                        s.range.start as u64,
                    ))?;
                    out.section(&wasm_encoder::CustomSection {
                        name: "name".into(),
                        data: c.data().into(),
                    });
                }
                0 | SECTION_MEMORY => {}
                SECTION_TABLE if self.table.imported_at.is_some() => {}
                SECTION_GLOBAL => {
                    out.section(&self.globals()?);
                }
                SECTION_EXPORT => {
                    let mut e = wasm_encoder::ExportSection::new();
                    for x in &input.exports {
                        match x.kind {
                            ExternalKind::Func => {
                                let name = if x.name == REACTOR_INIT {
                                    INIT_EXPORT
                                } else {
                                    x.name
                                };
                                e.export(name, wasm_encoder::ExportKind::Func, x.index);
                                exported.push(name.to_string());
                            }
                            ExternalKind::Memory => {
                                e.export(x.name, wasm_encoder::ExportKind::Memory, x.index);
                            }
                            _ => {}
                        }
                    }
                    out.section(&e);
                }
                SECTION_ELEMENT if self.table.shift != 0 => {
                    out.section(&self.elements()?);
                }
                SECTION_CODE => {
                    out.section(&wasm_encoder::RawSection {
                        id: SECTION_CODE,
                        data: code,
                    });
                }
                SECTION_DATA => {
                    out.section(&self.data(data)?);
                }
                id => {
                    out.section(&wasm_encoder::RawSection {
                        id,
                        data: &input.bytes[s.range.clone()],
                    });
                }
            }
        }
        if !imports_written {
            out.section(&imports);
        }
        Ok((out.finish(), exported))
    }

    /// The library's imports, with the memory (and the table) imported.
    fn imports(&self) -> Result<wasm_encoder::ImportSection> {
        let mut rt = RoundtripReencoder;
        let memory = wasm_encoder::EntityType::Memory(memory_type(self.memory_min));
        let mut s = wasm_encoder::ImportSection::new();
        let mut memory_imported = false;
        for i in &self.input.imports {
            let ty = match i.ty {
                TypeRef::Memory(_) => {
                    memory_imported = true;
                    memory
                }
                other => rt.entity_type(other).map_err(reencode_err)?,
            };
            s.import(i.module, i.name, ty);
        }
        if !memory_imported {
            s.import(MEMORY_IMPORT.0, MEMORY_IMPORT.1, memory);
        }
        if let (Some(at), Some(t)) = (self.table.imported_at, self.input.tables.first()) {
            let mut ty = rt.table_type(t.ty).map_err(reencode_err)?;
            ty.minimum = u64::from(at) + u64::from(self.table.slots);
            ty.maximum = None;
            s.import(
                TABLE_IMPORT.0,
                TABLE_IMPORT.1,
                wasm_encoder::EntityType::Table(ty),
            );
        }
        Ok(s)
    }

    /// The globals, the address globals moved.
    fn globals(&self) -> Result<wasm_encoder::GlobalSection> {
        let mut rt = RoundtripReencoder;
        let mut g = wasm_encoder::GlobalSection::new();
        for (index, global) in self.input.globals.iter().enumerate() {
            // No global is imported (refused in `Input::read`).
            let init = relocated_global(
                &self.symbols.global_names,
                index as u32,
                &global.init_expr,
                self.base,
            )?;
            g.global(rt.global_type(global.ty).map_err(reencode_err)?, &init);
        }
        Ok(g)
    }

    /// The element segments, moved to the imported table's slots.
    fn elements(&self) -> Result<wasm_encoder::ElementSection> {
        let mut e = wasm_encoder::ElementSection::new();
        for seg in &self.input.elements {
            let funcs = wasm_encoder::Elements::Functions(element_funcs(&seg.items)?.into());
            match &seg.kind {
                ElementKind::Active { offset_expr, .. } => {
                    let at =
                        i64::from(const_i32(offset_expr).unwrap_or(0) as u32) + self.table.shift;
                    let at = u32::try_from(at).map_err(|_| {
                        RelocateError::Placement(format!("table slot {at} is out of range"))
                    })?;
                    e.active(None, &wasm_encoder::ConstExpr::i32_const(at as i32), funcs);
                }
                ElementKind::Passive => {
                    e.passive(funcs);
                }
                ElementKind::Declared => {
                    e.declared(funcs);
                }
            }
        }
        Ok(e)
    }

    /// The data segments (contents relocated), moved to the region.
    fn data(&self, payload: &[u8]) -> Result<wasm_encoder::DataSection> {
        let mut d = wasm_encoder::DataSection::new();
        for seg in read_segments(payload)? {
            let bytes = &payload[seg.content.clone()];
            match seg.address {
                Some(a) => {
                    // The region is fresh memory: zeros need no bytes.
                    let bytes: &[u8] = if bytes.iter().all(|b| *b == 0) {
                        &[]
                    } else {
                        bytes
                    };
                    let at = wasm_encoder::ConstExpr::i32_const(a.wrapping_add(self.base) as i32);
                    d.active(0, &at, bytes.iter().copied());
                }
                None => {
                    d.passive(bytes.iter().copied());
                }
            }
        }
        Ok(d)
    }
}

/// A global's relocated initialiser: linker-made address globals move by
/// `base`; any other global is refused.
fn relocated_global(
    names: &HashMap<u32, String>,
    index: u32,
    init: &wasmparser::ConstExpr,
    base: u32,
) -> Result<wasm_encoder::ConstExpr> {
    let Some(name) = names.get(&index) else {
        return Err(RelocateError::Unsupported(format!(
            "global {index}, which has no symbol"
        )));
    };
    match const_i32(init) {
        Some(v) if ADDRESS_GLOBALS.contains(&name.as_str()) => {
            let v = (v as u32)
                .checked_add(base)
                .ok_or_else(|| RelocateError::Placement(format!("`{name}` goes past 4 GiB")))?;
            Ok(wasm_encoder::ConstExpr::i32_const(v as i32))
        }
        _ => Err(RelocateError::Unsupported(format!(
            "global `{name}` (not known to hold an address)"
        ))),
    }
}

/// What a relocation needs to know.
struct Context<'a> {
    symbols: &'a [Symbol],
    slot_of: &'a HashMap<u32, u32>,
    base: u32,
    table_shift: i64,
}

impl Context<'_> {
    /// Applies every relocation of the library: returns the contents of
    /// its code and data sections, relocated.
    fn apply_all(
        &self,
        input: &Input,
        segments: &[Segment],
        taken: &mut Vec<SlotTaken>,
    ) -> Result<(Vec<u8>, Vec<u8>)> {
        let code_index = input.position(SECTION_CODE);
        let data_index = input.position(SECTION_DATA);
        let mut code = input.payload(SECTION_CODE).to_vec();
        let mut data = input.payload(SECTION_DATA).to_vec();
        let mut saw_code_relocs = false;
        for r in &input.relocs {
            let target = r.section_index() as usize;
            let (name, buf, segs) = if Some(target) == code_index {
                saw_code_relocs = true;
                ("reloc.CODE", &mut code, None)
            } else if Some(target) == data_index {
                ("reloc.DATA", &mut data, Some(segments))
            } else {
                match input.sections.get(target) {
                    // Relocations of debug sections: those sections are dropped.
                    Some(s) if s.id == 0 => continue,
                    _ => {
                        return Err(RelocateError::Unsupported(format!(
                            "a relocation section for section {target}"
                        )))
                    }
                }
            };
            for e in r.entries() {
                let e = e?;
                self.apply(name, buf, segs, e)?;
                if let (
                    RelocationType::TableIndexSleb | RelocationType::TableIndexI32,
                    Some(Symbol::Func {
                        index,
                        defined: true,
                    }),
                ) = (e.ty, self.symbols.get(e.index as usize))
                {
                    taken.push(SlotTaken {
                        code_offset: segs.is_none().then_some(e.offset),
                        func: *index,
                    });
                }
            }
        }
        if code_index.is_some() && !saw_code_relocs {
            return Err(RelocateError::NotRelocatable("reloc.CODE"));
        }
        Ok((code, data))
    }

    /// Checks the field of relocation `e` in `buf` (the payload of section
    /// `section`; `segs` its data segments for `reloc.DATA`) against the
    /// symbol table and rewrites it for the placement.
    fn apply(
        &self,
        section: &'static str,
        buf: &mut [u8],
        segs: Option<&[Segment]>,
        e: wasmparser::RelocationEntry,
    ) -> Result<()> {
        use RelocationType::*;
        let bad = |reason: String| RelocateError::BadRelocation {
            section,
            offset: e.offset,
            reason,
        };
        let unsupported = || RelocateError::UnsupportedRelocation { ty: e.ty, section };
        let field = match e.ty {
            FunctionIndexLeb | TypeIndexLeb | GlobalIndexLeb | EventIndexLeb | TableNumberLeb
            | MemoryAddrLeb => Field::Uleb5,
            TableIndexSleb | MemoryAddrSleb => Field::Sleb5,
            TableIndexI32 | MemoryAddrI32 | GlobalIndexI32 | FunctionIndexI32 => Field::I32,
            MemoryAddrLocrelI32 if segs.is_some() => Field::I32,
            _ => return Err(unsupported()),
        };
        let at = e.offset as usize;
        let old = read_field(buf, at, field).map_err(bad)?;
        let symbol = self
            .symbols
            .get(e.index as usize)
            .ok_or_else(|| bad(format!("symbol {} does not exist", e.index)))?;
        let index_of = |want: &str| -> Result<u32> {
            match (symbol, want) {
                (Symbol::Func { index, .. }, "function")
                | (Symbol::Global { index }, "global")
                | (Symbol::Table { index }, "table")
                | (Symbol::Tag { index }, "tag") => Ok(*index),
                _ => Err(bad(format!("symbol {} is not a {want}", e.index))),
            }
        };
        let data_addr = || -> Result<Option<u32>> {
            match symbol {
                Symbol::Data { addr } => Ok(*addr),
                _ => Err(bad(format!("symbol {} is not data", e.index))),
            }
        };
        let (expected, new) = match e.ty {
            FunctionIndexLeb | FunctionIndexI32 => {
                let i = index_of("function")?;
                (i, i)
            }
            GlobalIndexLeb | GlobalIndexI32 => {
                let i = index_of("global")?;
                (i, i)
            }
            TableNumberLeb => {
                let i = index_of("table")?;
                (i, i)
            }
            EventIndexLeb => {
                let i = index_of("tag")?;
                (i, i)
            }
            // The type index is the relocation's own index.
            TypeIndexLeb => (e.index, e.index),
            MemoryAddrLeb | MemoryAddrSleb | MemoryAddrI32 => {
                let addr = data_addr()?;
                let v = addr.unwrap_or(0).wrapping_add(e.addend as u32);
                match addr {
                    Some(_) => (v, self.moved(v).map_err(bad)?),
                    None => (v, v),
                }
            }
            MemoryAddrLocrelI32 => {
                // S + A - P: unchanged when the symbol and the site both move.
                let addr = data_addr()?;
                let site = site_address(segs.unwrap_or(&[]), at).map_err(bad)?;
                let v = addr
                    .unwrap_or(0)
                    .wrapping_add(e.addend as u32)
                    .wrapping_sub(site);
                match addr {
                    Some(_) => (v, v),
                    None => (v, v.wrapping_sub(self.base)),
                }
            }
            TableIndexSleb | TableIndexI32 => {
                let Symbol::Func { index, defined } = symbol else {
                    return Err(bad(format!("symbol {} is not a function", e.index)));
                };
                match self.slot_of.get(index) {
                    Some(&slot) => {
                        let moved = u32::try_from(i64::from(slot) + self.table_shift)
                            .map_err(|_| bad(format!("table slot {slot} moves out of range")))?;
                        (slot, moved)
                    }
                    // An undefined weak function: the null slot.
                    None if !defined => (0, 0),
                    None => return Err(bad(format!("function {index} has no table slot"))),
                }
            }
            _ => return Err(unsupported()),
        };
        if old != expected {
            return Err(bad(format!(
                "{} holds {old:#x}, its symbol says {expected:#x}",
                reloc_name(e.ty)
            )));
        }
        write_field(buf, at, field, new);
        Ok(())
    }

    /// Address `v` of the library, moved to the placement.
    fn moved(&self, v: u32) -> Result<u32, String> {
        v.checked_add(self.base)
            .ok_or_else(|| format!("address {v:#x} moves past 4 GiB"))
    }
}

/// A data segment of the library: its address (`None`: passive) and where
/// its bytes are in the data section's payload.
struct Segment {
    address: Option<u32>,
    content: Range<usize>,
}

fn read_segments(payload: &[u8]) -> Result<Vec<Segment>> {
    if payload.is_empty() {
        return Ok(Vec::new());
    }
    let reader = wasmparser::DataSectionReader::new(BinaryReader::new(payload, 0))?;
    let mut out = Vec::new();
    for d in reader {
        let d = d?;
        let address = match &d.kind {
            DataKind::Passive => None,
            DataKind::Active {
                memory_index: 0,
                offset_expr,
            } => Some(const_i32(offset_expr).ok_or_else(|| {
                RelocateError::Unsupported("a data offset that is not i32.const".into())
            })? as u32),
            DataKind::Active { .. } => {
                return Err(RelocateError::Unsupported("a second memory".into()))
            }
        };
        let end = d.range.end as usize;
        out.push(Segment {
            address,
            content: end - d.data.len()..end,
        });
    }
    Ok(out)
}

/// The library address of byte `at` of the data section's payload.
fn site_address(segs: &[Segment], at: usize) -> Result<u32, String> {
    segs.iter()
        .find(|s| s.content.contains(&at))
        .and_then(|s| Some(s.address? + (at - s.content.start) as u32))
        .ok_or_else(|| "not inside an active data segment".to_string())
}

/// `N` of a constant expression `i32.const N`.
pub(crate) fn const_i32(e: &wasmparser::ConstExpr) -> Option<i32> {
    let mut ops = e.get_operators_reader();
    let v = match ops.read().ok()? {
        Operator::I32Const { value } => value,
        _ => return None,
    };
    match ops.read().ok()? {
        Operator::End if ops.eof() => Some(v),
        _ => None,
    }
}

/// The functions of an element segment (`ref.func` expressions included).
fn element_funcs(items: &ElementItems) -> Result<Vec<u32>> {
    let mut out = Vec::new();
    match items {
        ElementItems::Functions(r) => {
            for f in r.clone() {
                out.push(f?);
            }
        }
        ElementItems::Expressions(_, r) => {
            for e in r.clone() {
                let e = e?;
                let mut ops = e.get_operators_reader();
                match ops.read()? {
                    Operator::RefFunc { function_index } => out.push(function_index),
                    _ => {
                        return Err(RelocateError::Unsupported(
                            "an element that is not ref.func".into(),
                        ))
                    }
                }
            }
        }
    }
    Ok(out)
}

fn read_field(buf: &[u8], at: usize, field: Field) -> Result<u32, String> {
    let width = match field {
        Field::Uleb5 | Field::Sleb5 => 5,
        Field::I32 => 4,
    };
    let bytes = at
        .checked_add(width)
        .and_then(|end| buf.get(at..end))
        .ok_or_else(|| {
            format!(
                "field of {width} bytes past the section's end ({})",
                buf.len()
            )
        })?;
    match field {
        Field::I32 => Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
        Field::Uleb5 | Field::Sleb5 => {
            if bytes[..4].iter().any(|b| b & 0x80 == 0) || bytes[4] & 0x80 != 0 {
                return Err("not a 5-byte padded LEB".into());
            }
            let mut v: u64 = 0;
            for (i, b) in bytes.iter().enumerate() {
                v |= u64::from(b & 0x7f) << (7 * i);
            }
            match field {
                // 35 bits: the top 3 must be 0 (unsigned) or the sign of bit 31.
                Field::Uleb5 if v >> 32 != 0 => Err("LEB over 32 bits".into()),
                Field::Sleb5 if (v >> 31) != 0 && (v >> 31) != 0xf => {
                    Err("signed LEB over 32 bits".into())
                }
                _ => Ok(v as u32),
            }
        }
    }
}

fn write_field(buf: &mut [u8], at: usize, field: Field, v: u32) {
    match field {
        Field::I32 => buf[at..at + 4].copy_from_slice(&v.to_le_bytes()),
        Field::Uleb5 | Field::Sleb5 => {
            let wide: u64 = match field {
                Field::Sleb5 => (v as i32 as i64 as u64) & 0x7_ffff_ffff,
                _ => u64::from(v),
            };
            for i in 0..5 {
                let more = if i < 4 { 0x80 } else { 0 };
                buf[at + i] = ((wide >> (7 * i)) & 0x7f) as u8 | more;
            }
        }
    }
}

/// A 32-bit memory of `minimum` pages, with no maximum.
fn memory_type(minimum: u64) -> wasm_encoder::MemoryType {
    wasm_encoder::MemoryType {
        minimum,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    }
}

fn reencode_err(e: wasm_encoder::reencode::Error) -> RelocateError {
    RelocateError::Unsupported(format!("a construct wasm-encoder cannot write: {e}"))
}

const SECTION_IMPORT: u8 = 2;
const SECTION_TABLE: u8 = 4;
const SECTION_MEMORY: u8 = 5;
const SECTION_GLOBAL: u8 = 6;
const SECTION_EXPORT: u8 = 7;
const SECTION_ELEMENT: u8 = 9;
const SECTION_CODE: u8 = 10;
const SECTION_DATA: u8 = 11;

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-function module whose body is `i32.const ADDR` (a padded
    /// SLEB at payload offset 4 of the code section), with a data segment
    /// at 1024, a data symbol `x` at its start, and one relocation of type
    /// `ty` (raw byte) at `offset` against `x`.
    fn module(addr: u32, ty: u8, offset: u8, linking: bool) -> Vec<u8> {
        module_of(1, addr, ty, offset, linking)
    }

    /// [`module`] with a memory of `pages` pages.
    fn module_of(pages: u64, addr: u32, ty: u8, offset: u8, linking: bool) -> Vec<u8> {
        use wasm_encoder::*;
        let mut m = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], [ValType::I32]);
        m.section(&types);
        let mut imports = ImportSection::new();
        imports.import(
            "wasi_snapshot_preview1",
            "sched_yield",
            EntityType::Function(0),
        );
        m.section(&imports);
        let mut funcs = FunctionSection::new();
        funcs.function(0);
        m.section(&funcs);
        m.section(&MemorySection::new().memory(memory_type(pages)).clone());
        let mut code = vec![1u8, 8, 0, 0x41];
        let mut field = [0u8; 5];
        write_field(&mut field, 0, Field::Sleb5, addr);
        code.extend(field);
        code.push(0x0b);
        m.section(&RawSection {
            id: SECTION_CODE,
            data: &code,
        });
        let mut data = DataSection::new();
        data.active(0, &ConstExpr::i32_const(1024), [1, 2, 3, 4]);
        m.section(&data);
        if linking {
            // version 2; symbol table: one data symbol `x`, segment 0, offset 0, size 4.
            let symtab = [1u8, 1, 0, 1, b'x', 0, 0, 4];
            let mut l = vec![2u8, 8, symtab.len() as u8];
            l.extend(symtab);
            m.section(&CustomSection {
                name: "linking".into(),
                data: l.into(),
            });
            // Section index 4 is the code section (type, import, function, memory, code).
            let mut r = vec![4u8, 1, ty, offset, 0];
            if RelocationType::try_from(ty)
                .is_ok_and(|t| t.addend_kind() != wasmparser::RelocAddendKind::None)
            {
                r.push(0);
            }
            m.section(&CustomSection {
                name: "reloc.CODE".into(),
                data: r.into(),
            });
        }
        m.finish()
    }

    fn place(lib: &[u8], memory_base: u32) -> Result<Relocated> {
        relocate(
            lib,
            &Placement {
                memory_base,
                table: TablePlacement::Own,
            },
        )
    }

    /// The `i32.const` of the relocated function.
    fn constant(module: &[u8]) -> i32 {
        for p in Parser::new(0).parse_all(module) {
            if let Payload::CodeSectionEntry(body) = p.unwrap() {
                let mut ops = body.get_operators_reader().unwrap();
                if let Operator::I32Const { value } = ops.read().unwrap() {
                    return value;
                }
            }
        }
        panic!("no i32.const")
    }

    #[test]
    fn memory_address_moves_by_the_base() {
        let lib = module(1024, RelocationType::MemoryAddrSleb as u8, 4, true);
        let r = place(&lib, 5 * PAGE_SIZE).unwrap();
        wasmparser::Validator::new()
            .validate_all(&r.module)
            .unwrap();
        assert_eq!(constant(&r.module), 1024 + 5 * 65536);
        assert_eq!(r.pages, 1);
    }

    #[test]
    fn unsupported_relocation_type_is_named() {
        let lib = module(1024, RelocationType::MemoryAddrTlsSleb as u8, 4, true);
        let e = place(&lib, PAGE_SIZE).unwrap_err().to_string();
        assert_eq!(
            e,
            "p2 library: relocation type R_WASM_MEMORY_ADDR_TLS_SLEB in reloc.CODE is not supported"
        );
        let lib = module(1024, RelocationType::MemoryAddrSleb64 as u8, 4, true);
        let e = place(&lib, PAGE_SIZE).unwrap_err().to_string();
        assert!(e.contains("R_WASM_MEMORY_ADDR_SLEB64"), "{e}");
        // A number no relocation type has: the parser's error, on one line.
        let lib = module(1024, 99, 4, true);
        let e = place(&lib, PAGE_SIZE).unwrap_err().to_string();
        assert!(
            e.starts_with("p2 library: malformed module") && e.contains("(0x63)"),
            "{e}"
        );
    }

    #[test]
    fn field_that_disagrees_with_its_symbol_is_refused() {
        let lib = module(2048, RelocationType::MemoryAddrSleb as u8, 4, true);
        let e = place(&lib, PAGE_SIZE).unwrap_err().to_string();
        assert_eq!(
            e,
            "p2 library: relocation at reloc.CODE+0x4: R_WASM_MEMORY_ADDR_SLEB holds 0x800, \
             its symbol says 0x400"
        );
        // Pointing at the opcode instead of the field: not a padded LEB.
        let lib = module(1024, RelocationType::MemoryAddrSleb as u8, 3, true);
        let e = place(&lib, PAGE_SIZE).unwrap_err().to_string();
        assert!(e.ends_with("not a 5-byte padded LEB"), "{e}");
        let lib = module(1024, RelocationType::MemoryAddrSleb as u8, 9, true);
        let e = place(&lib, PAGE_SIZE).unwrap_err().to_string();
        assert!(e.contains("past the section's end"), "{e}");
    }

    #[test]
    fn library_without_relocations_or_misplaced_is_refused() {
        let lib = module(1024, 0, 0, false);
        assert_eq!(
            place(&lib, PAGE_SIZE).unwrap_err().to_string(),
            "p2 library: no `linking` section (the library must be linked with --emit-relocs)"
        );
        let lib = module(1024, RelocationType::MemoryAddrSleb as u8, 4, true);
        assert!(place(&lib, 4096)
            .unwrap_err()
            .to_string()
            .contains("not a multiple of the page size"));
        // The last page: the region ends at 4 GiB exactly.
        let last = u32::MAX - PAGE_SIZE + 1;
        assert_eq!(
            constant(&place(&lib, last).unwrap().module),
            (last + 1024) as i32
        );
        let lib = module_of(2, 1024, RelocationType::MemoryAddrSleb as u8, 4, true);
        assert_eq!(
            place(&lib, last).unwrap_err().to_string(),
            "p2 library: cannot place it: 2 pages at 0xffff0000 go past 4 GiB"
        );
    }

    #[test]
    fn padded_fields_round_trip() {
        for v in [0u32, 1, 63, 64, 1024, 0x7fff_ffff, 0x8000_0000, u32::MAX] {
            for field in [Field::Uleb5, Field::Sleb5, Field::I32] {
                let mut buf = [0u8; 6];
                write_field(&mut buf, 1, field, v);
                assert_eq!(read_field(&buf, 1, field), Ok(v));
            }
        }
        // A signed LEB of -1 is 0x7f in its last byte.
        let mut buf = [0u8; 5];
        write_field(&mut buf, 0, Field::Sleb5, u32::MAX);
        assert_eq!(buf, [0xff, 0xff, 0xff, 0xff, 0x7f]);
    }
}
