//! One core module, read once with wasmparser into what the merger needs:
//! its index spaces (imported items first, then defined ones, as the core
//! spec numbers them), its exports, its start function and its sections'
//! readers, kept for re-encoding.
//!
//! Invariants:
//! * Only function types are accepted in the type section (no GC types):
//!   the merged module is plain Wasm 2.0 (plus what its inputs use).
//! * Tags (exception handling) are refused, naming the module.
//! * Nothing here validates: the component's modules were validated when
//!   the component was flattened, the library is validated on its own
//!   before it is read.

use crate::error::LowerError;
use wasmparser::{
    Data, Element, Export, FunctionBody, Global, MemoryType, Parser, Payload, Table, TypeRef,
};

/// What one core module imports: `module`, `name` and the kind of item.
#[derive(Debug, Clone)]
pub(crate) struct Import<'a> {
    pub module: &'a str,
    pub name: &'a str,
    pub ty: TypeRef,
}

/// A core module, parsed (see module docs).
pub(crate) struct ModuleInfo<'a> {
    /// For messages: which module this is.
    pub label: String,
    pub types: Vec<wasmparser::FuncType>,
    pub imports: Vec<Import<'a>>,
    /// The type index of each defined function.
    pub funcs: Vec<u32>,
    pub tables: Vec<Table<'a>>,
    pub memories: Vec<MemoryType>,
    pub globals: Vec<Global<'a>>,
    pub exports: Vec<Export<'a>>,
    pub start: Option<u32>,
    pub elements: Vec<Element<'a>>,
    pub data: Vec<Data<'a>>,
    pub bodies: Vec<FunctionBody<'a>>,
    /// The function names of the `name` section, if any (index, name).
    pub func_names: Vec<(u32, &'a str)>,
    pub imported_funcs: u32,
    pub imported_tables: u32,
    pub imported_memories: u32,
    pub imported_globals: u32,
}

impl<'a> ModuleInfo<'a> {
    /// Reads `bytes` (a whole core module).
    pub fn parse(bytes: &'a [u8], label: String) -> Result<ModuleInfo<'a>, LowerError> {
        let mut m = ModuleInfo {
            label,
            types: Vec::new(),
            imports: Vec::new(),
            funcs: Vec::new(),
            tables: Vec::new(),
            memories: Vec::new(),
            globals: Vec::new(),
            exports: Vec::new(),
            start: None,
            elements: Vec::new(),
            data: Vec::new(),
            bodies: Vec::new(),
            func_names: Vec::new(),
            imported_funcs: 0,
            imported_tables: 0,
            imported_memories: 0,
            imported_globals: 0,
        };
        let bad = |e: wasmparser::BinaryReaderError, label: &str| LowerError::Malformed {
            what: label.to_string(),
            message: e.message().to_string(),
            offset: e.offset() as usize,
        };
        for payload in Parser::new(0).parse_all(bytes) {
            let payload = payload.map_err(|e| bad(e, &m.label))?;
            match payload {
                Payload::TypeSection(r) => {
                    for ty in r.into_iter_err_on_gc_types() {
                        m.types.push(ty.map_err(|e| bad(e, &m.label))?);
                    }
                }
                Payload::ImportSection(r) => {
                    for imp in r.into_imports() {
                        let imp = imp.map_err(|e| bad(e, &m.label))?;
                        match imp.ty {
                            TypeRef::Func(_) | TypeRef::FuncExact(_) => m.imported_funcs += 1,
                            TypeRef::Table(_) => m.imported_tables += 1,
                            TypeRef::Memory(_) => m.imported_memories += 1,
                            TypeRef::Global(_) => m.imported_globals += 1,
                            TypeRef::Tag(_) => return Err(m.unsupported("tag imports")),
                        }
                        m.imports.push(Import {
                            module: imp.module,
                            name: imp.name,
                            ty: imp.ty,
                        });
                    }
                }
                Payload::FunctionSection(r) => {
                    for f in r {
                        m.funcs.push(f.map_err(|e| bad(e, &m.label))?);
                    }
                }
                Payload::TableSection(r) => {
                    for t in r {
                        m.tables.push(t.map_err(|e| bad(e, &m.label))?);
                    }
                }
                Payload::MemorySection(r) => {
                    for t in r {
                        m.memories.push(t.map_err(|e| bad(e, &m.label))?);
                    }
                }
                Payload::GlobalSection(r) => {
                    for g in r {
                        m.globals.push(g.map_err(|e| bad(e, &m.label))?);
                    }
                }
                Payload::ExportSection(r) => {
                    for e in r {
                        m.exports.push(e.map_err(|e| bad(e, &m.label))?);
                    }
                }
                Payload::StartSection { func, .. } => m.start = Some(func),
                Payload::ElementSection(r) => {
                    for e in r {
                        m.elements.push(e.map_err(|e| bad(e, &m.label))?);
                    }
                }
                Payload::DataSection(r) => {
                    for d in r {
                        m.data.push(d.map_err(|e| bad(e, &m.label))?);
                    }
                }
                Payload::CodeSectionEntry(body) => m.bodies.push(body),
                Payload::TagSection(_) => return Err(m.unsupported("tags (exception handling)")),
                Payload::CustomSection(c) => {
                    if let wasmparser::KnownCustom::Name(names) = c.as_known() {
                        // A malformed name section is ignored, as engines do.
                        for sub in names.into_iter().flatten() {
                            if let wasmparser::Name::Function(map) = sub {
                                m.func_names
                                    .extend(map.into_iter().flatten().map(|n| (n.index, n.name)));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(m)
    }

    fn unsupported(&self, what: &str) -> LowerError {
        LowerError::Unsupported(format!("{what} in {}", self.label))
    }

    /// Number of functions, imported and defined.
    pub fn num_funcs(&self) -> u32 {
        self.imported_funcs + self.funcs.len() as u32
    }

    /// The type of function `f` (imported or defined).
    pub fn func_type(&self, f: u32) -> Option<&wasmparser::FuncType> {
        let ty = if f < self.imported_funcs {
            self.imports
                .iter()
                .filter_map(|i| match i.ty {
                    TypeRef::Func(t) | TypeRef::FuncExact(t) => Some(t),
                    _ => None,
                })
                .nth(f as usize)?
        } else {
            *self.funcs.get((f - self.imported_funcs) as usize)?
        };
        self.types.get(ty as usize)
    }

    /// The export named `name`.
    pub fn export(&self, name: &str) -> Option<&Export<'a>> {
        self.exports.iter().find(|e| e.name == name)
    }
}
