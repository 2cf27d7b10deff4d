//! A validated, parsed module: the static description that instances are
//! created from.
//!
//! Invariants: a [`Module`] only exists for bytes that wasmparser validated
//! with the features in [`crate::Engine::features`]: every section, and every
//! function body too unless [`crate::Config::lazy_validation`] is on, in which
//! case a body is validated just before its translation. Function bodies and
//! data segments are kept as byte ranges into the module's bytes, which are
//! shared, not copied ([`Module::from_shared`]); a body is translated lazily,
//! once per module, on its first call (see [`ModuleInner::compiled`]). So
//! loading costs follow the module's sections other than code, and the cost
//! of a body is paid only when it runs. Index spaces follow the spec: imported
//! entities come first in each space.

use crate::engine::Engine;
use crate::translate::{CompiledFunc, DebugInfo};
use crate::trap::Error;
use crate::values::{ExternType, FuncType, GlobalType, MemoryType, TableType, ValType};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, OnceLock};
use wasmparser::{Parser, Payload, Validator};

/// A typed index into a module's type section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TypeIdx(pub u32);

/// A constant expression (global initialisers, segment offsets and items).
#[derive(Debug, Clone)]
pub(crate) enum ConstOp {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    RefNull,
    RefFunc(u32),
    GlobalGet(u32),
    I32Add,
    I32Sub,
    I32Mul,
    I64Add,
    I64Sub,
    I64Mul,
}

pub(crate) type ConstExpr = Box<[ConstOp]>;

#[derive(Debug, Clone)]
pub(crate) enum ImportDesc {
    Func(TypeIdx),
    Table(TableType),
    Memory(MemoryType),
    Global(GlobalType),
}

#[derive(Debug, Clone)]
pub(crate) struct Import {
    pub module: String,
    pub name: String,
    pub desc: ImportDesc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExportKind {
    Func,
    Table,
    Memory,
    Global,
}

#[derive(Debug, Clone)]
pub(crate) enum SegmentMode {
    Passive,
    Declared,
    Active { index: u32, offset: ConstExpr },
}

/// The items of an element segment.
#[derive(Debug, Clone)]
pub(crate) enum ElemItems {
    /// `funcref` items given as function indices (the common case: one
    /// allocation for the whole segment).
    Funcs(Box<[u32]>),
    /// Items given as constant expressions.
    Exprs(Box<[ConstExpr]>),
}

#[derive(Debug, Clone)]
pub(crate) struct ElemSegment {
    pub mode: SegmentMode,
    pub ty: ValType,
    pub items: ElemItems,
}

#[derive(Debug, Clone)]
pub(crate) struct DataSegment {
    pub mode: SegmentMode,
    /// Where the segment's bytes are in the module's bytes.
    pub range: Range<usize>,
}

/// The body of a defined function: where its bytes are, and its translation.
pub(crate) struct FuncBody {
    pub range: Range<usize>,
    pub compiled: OnceLock<Result<Arc<CompiledFunc>, Error>>,
    /// Offsets and safe points, from a second translation made only when a
    /// checkpoint, trace or profile needs them.
    pub debug: OnceLock<Option<Arc<DebugInfo>>>,
}

/// What a lazily validated body is validated against: the module's
/// validation context, shared by all bodies.
pub(crate) struct Deferred {
    pub resources: wasmparser::ValidatorResources,
    pub features: wasmparser::WasmFeatures,
}

/// The bytes of a module: a range of a shared buffer (a whole file, or a
/// component that holds the module), never copied.
#[derive(Clone)]
pub(crate) struct ModuleBytes {
    owner: Arc<dyn AsRef<[u8]> + Send + Sync>,
    range: Range<usize>,
}

impl std::ops::Deref for ModuleBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &(*self.owner).as_ref()[self.range.clone()]
    }
}

pub(crate) struct ModuleInner {
    pub engine: Engine,
    pub bytes: ModuleBytes,
    pub name: Option<String>,
    pub types: Vec<Arc<FuncType>>,
    pub imports: Vec<Import>,
    /// Type of every function in the function index space (imports first).
    pub funcs: Vec<TypeIdx>,
    pub num_imported_funcs: u32,
    pub num_imported_tables: u32,
    pub num_imported_memories: u32,
    pub num_imported_globals: u32,
    pub tables: Vec<(TableType, Option<ConstExpr>)>,
    pub memories: Vec<MemoryType>,
    pub globals: Vec<(GlobalType, ConstExpr)>,
    /// Types of every global in the global index space (imports first).
    pub global_types: Vec<GlobalType>,
    pub exports: Vec<(String, ExportKind, u32)>,
    pub export_index: HashMap<String, usize>,
    pub start: Option<u32>,
    pub elems: Vec<ElemSegment>,
    pub datas: Vec<DataSegment>,
    pub bodies: Vec<FuncBody>,
    /// With lazy validation: the context bodies are validated in.
    pub deferred: Option<Deferred>,
    /// Where the name section's contents are, if there is one.
    pub name_section: Option<Range<usize>>,
    /// Function names from the name section, read on first use (a backtrace):
    /// a large module's names cost nothing at load.
    pub func_names: OnceLock<HashMap<u32, Box<str>>>,
}

impl ModuleInner {
    /// The bytes of active or passive data segment `index`.
    pub fn data_bytes(&self, index: usize) -> &[u8] {
        &self.bytes[self.datas[index].range.clone()]
    }

    /// With lazy validation, the validator of defined function `def_index`.
    pub fn body_validator(
        &self,
        def_index: u32,
    ) -> Option<wasmparser::FuncToValidate<wasmparser::ValidatorResources>> {
        let d = self.deferred.as_ref()?;
        let index = self.num_imported_funcs + def_index;
        Some(wasmparser::FuncToValidate {
            resources: d.resources.clone(),
            index,
            ty: self.funcs[index as usize].0,
            features: d.features,
        })
    }

    pub fn func_type(&self, func: u32) -> &Arc<FuncType> {
        &self.types[self.funcs[func as usize].0 as usize]
    }

    pub fn func_name(&self, func: u32) -> Option<&str> {
        self.func_names
            .get_or_init(|| self.read_func_names())
            .get(&func)
            .map(|s| &**s)
    }

    fn read_func_names(&self) -> HashMap<u32, Box<str>> {
        let mut names = HashMap::new();
        let Some(range) = self.name_section.clone() else {
            return names;
        };
        let reader = wasmparser::BinaryReader::new(&self.bytes[range.clone()], range.start as u64);
        for name in wasmparser::NameSectionReader::new(reader) {
            // A malformed name section is ignored, as the spec requires:
            // the names read before the error are kept.
            let Ok(wasmparser::Name::Function(map)) = name else {
                if name.is_err() {
                    break;
                }
                continue;
            };
            for naming in map {
                let Ok(naming) = naming else { break };
                names.insert(naming.index, naming.name.into());
            }
        }
        names
    }

    /// The translation of defined function `def_index`, made (and, with lazy
    /// validation, validated) on first use and kept for every later call.
    pub fn compiled(&self, def_index: u32) -> Result<&Arc<CompiledFunc>, Error> {
        let body = &self.bodies[def_index as usize];
        match body
            .compiled
            .get_or_init(|| crate::translate::translate(self, def_index).map(Arc::new))
        {
            Ok(c) => Ok(c),
            Err(Error::Validation { message, offset }) => Err(Error::Validation {
                message: message.clone(),
                offset: *offset,
            }),
            Err(other) => Err(Error::Unsupported(other.to_string())),
        }
    }
}

impl ModuleInner {
    /// The [`DebugInfo`] of defined function `def_index`, or `None` if its
    /// body does not translate.
    pub fn debug_info(&self, def_index: u32) -> Option<&Arc<DebugInfo>> {
        self.bodies[def_index as usize]
            .debug
            .get_or_init(|| {
                crate::translate::debug_info(self, def_index)
                    .ok()
                    .map(Arc::new)
            })
            .as_ref()
    }
}

/// A validated WebAssembly module. Cheap to clone.
#[derive(Clone)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Module")
            .field("name", &self.inner.name)
            .finish_non_exhaustive()
    }
}

/// An import of a module, with its type.
#[derive(Debug, Clone)]
pub struct ImportType<'m> {
    pub module: &'m str,
    pub name: &'m str,
    pub ty: ExternType,
}

/// An export of a module, with its type.
#[derive(Debug, Clone)]
pub struct ExportType<'m> {
    pub name: &'m str,
    pub ty: ExternType,
}

impl Module {
    /// Parses and validates `bytes` (binary only; use the `wat` crate for
    /// text). The module keeps a copy of `bytes`; [`Module::from_shared`]
    /// keeps the caller's buffer instead.
    pub fn new(engine: &Engine, bytes: &[u8]) -> Result<Module, Error> {
        let len = bytes.len();
        Module::from_shared(engine, Arc::new(bytes.to_vec()), 0..len)
    }

    /// Parses and validates the module in `owner[range]`, keeping `owner`
    /// (shared, not copied) for the function bodies and data segments it
    /// reads later. Error offsets are relative to `range.start`.
    ///
    /// # Panics
    ///
    /// If `range` is not within `owner`.
    pub fn from_shared(
        engine: &Engine,
        owner: Arc<dyn AsRef<[u8]> + Send + Sync>,
        range: Range<usize>,
    ) -> Result<Module, Error> {
        assert!(
            range.start <= range.end && range.end <= (*owner).as_ref().len(),
            "module range out of bounds"
        );
        let inner = parse(engine, ModuleBytes { owner, range })?;
        Ok(Module {
            inner: Arc::new(inner),
        })
    }

    /// The module's name from its name section.
    pub fn name(&self) -> Option<&str> {
        self.inner.name.as_deref()
    }

    pub fn imports(&self) -> impl ExactSizeIterator<Item = ImportType<'_>> + '_ {
        self.inner.imports.iter().map(|imp| ImportType {
            module: &imp.module,
            name: &imp.name,
            ty: match &imp.desc {
                ImportDesc::Func(t) => ExternType::Func((*self.inner.types[t.0 as usize]).clone()),
                ImportDesc::Table(t) => ExternType::Table(*t),
                ImportDesc::Memory(m) => ExternType::Memory(*m),
                ImportDesc::Global(g) => ExternType::Global(*g),
            },
        })
    }

    pub fn exports(&self) -> impl ExactSizeIterator<Item = ExportType<'_>> + '_ {
        self.inner
            .exports
            .iter()
            .map(|(name, kind, idx)| ExportType {
                name,
                ty: self.entity_type(*kind, *idx),
            })
    }

    fn entity_type(&self, kind: ExportKind, idx: u32) -> ExternType {
        let m = &self.inner;
        // The type of the `idx`-th import that `pick` accepts.
        let imported = |pick: fn(&ImportDesc) -> Option<ExternType>| {
            m.imports
                .iter()
                .filter_map(|i| pick(&i.desc))
                .nth(idx as usize)
                .expect("validated module: import index in range")
        };
        match kind {
            ExportKind::Func => ExternType::Func((**m.func_type(idx)).clone()),
            ExportKind::Global => ExternType::Global(m.global_types[idx as usize]),
            ExportKind::Memory if idx < m.num_imported_memories => imported(|d| match d {
                ImportDesc::Memory(t) => Some(ExternType::Memory(*t)),
                _ => None,
            }),
            ExportKind::Memory => {
                ExternType::Memory(m.memories[(idx - m.num_imported_memories) as usize])
            }
            ExportKind::Table if idx < m.num_imported_tables => imported(|d| match d {
                ImportDesc::Table(t) => Some(ExternType::Table(*t)),
                _ => None,
            }),
            ExportKind::Table => {
                ExternType::Table(m.tables[(idx - m.num_imported_tables) as usize].0)
            }
        }
    }
}

pub(crate) fn val_type(ty: wasmparser::ValType) -> Result<ValType, Error> {
    use wasmparser::ValType as V;
    Ok(match ty {
        V::I32 => ValType::I32,
        V::I64 => ValType::I64,
        V::F32 => ValType::F32,
        V::F64 => ValType::F64,
        V::V128 => ValType::V128,
        V::Ref(r) => ref_type(r)?,
    })
}

fn ref_type(r: wasmparser::RefType) -> Result<ValType, Error> {
    if r.is_func_ref() {
        Ok(ValType::FuncRef)
    } else if r.is_extern_ref() {
        Ok(ValType::ExternRef)
    } else {
        Err(Error::Unsupported(format!("reference type {r}")))
    }
}

fn table_type(t: &wasmparser::TableType) -> Result<TableType, Error> {
    if t.table64 || t.shared {
        return Err(Error::Unsupported("64-bit or shared tables".into()));
    }
    Ok(TableType {
        element: ref_type(t.element_type)?,
        min: t.initial,
        max: t.maximum,
    })
}

fn memory_type(m: &wasmparser::MemoryType) -> Result<MemoryType, Error> {
    if m.memory64 || m.shared || m.page_size_log2.is_some() {
        return Err(Error::Unsupported(
            "64-bit, shared or custom-page-size memories".into(),
        ));
    }
    Ok(MemoryType {
        min: m.initial,
        max: m.maximum,
        memory64: false,
        shared: false,
    })
}

fn global_type(g: &wasmparser::GlobalType) -> Result<GlobalType, Error> {
    Ok(GlobalType {
        content: val_type(g.content_type)?,
        mutable: g.mutable,
    })
}

fn const_expr(expr: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr, Error> {
    use wasmparser::Operator as O;
    // Usually one operand: one allocation of the exact size.
    let mut ops = Vec::with_capacity(1);
    let mut reader = expr.get_operators_reader();
    while !reader.eof() {
        ops.push(match reader.read()? {
            O::I32Const { value } => ConstOp::I32(value),
            O::I64Const { value } => ConstOp::I64(value),
            O::F32Const { value } => ConstOp::F32(value.bits()),
            O::F64Const { value } => ConstOp::F64(value.bits()),
            O::RefNull { .. } => ConstOp::RefNull,
            O::RefFunc { function_index } => ConstOp::RefFunc(function_index),
            O::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
            O::I32Add => ConstOp::I32Add,
            O::I32Sub => ConstOp::I32Sub,
            O::I32Mul => ConstOp::I32Mul,
            O::I64Add => ConstOp::I64Add,
            O::I64Sub => ConstOp::I64Sub,
            O::I64Mul => ConstOp::I64Mul,
            O::End => break,
            other => {
                return Err(Error::Unsupported(format!(
                    "constant expression operator {other:?}"
                )))
            }
        });
    }
    Ok(ops.into_boxed_slice())
}

fn parse(engine: &Engine, bytes: ModuleBytes) -> Result<ModuleInner, Error> {
    let mut validator = Validator::new_with_features(engine.features());
    let mut m = ModuleInner {
        engine: engine.clone(),
        bytes: bytes.clone(),
        name: None,
        types: Vec::new(),
        imports: Vec::new(),
        funcs: Vec::new(),
        num_imported_funcs: 0,
        num_imported_tables: 0,
        num_imported_memories: 0,
        num_imported_globals: 0,
        tables: Vec::new(),
        memories: Vec::new(),
        globals: Vec::new(),
        global_types: Vec::new(),
        exports: Vec::new(),
        export_index: HashMap::new(),
        start: None,
        elems: Vec::new(),
        datas: Vec::new(),
        bodies: Vec::new(),
        deferred: None,
        name_section: None,
        func_names: OnceLock::new(),
    };
    let mut saw_module_header = false;
    let bytes = &*bytes;
    let mut parser = Parser::new(0);
    let mut rest = bytes;
    loop {
        let payload = match parser.parse(rest, true)? {
            wasmparser::Chunk::Parsed { consumed, payload } => {
                rest = &rest[consumed..];
                payload
            }
            // Not returned when `eof` is true; reported like a truncation.
            wasmparser::Chunk::NeedMoreData(_) => {
                return Err(Error::Validation {
                    message: "unexpected end of module".into(),
                    offset: bytes.len(),
                })
            }
        };
        // The code section is read here, not through the parser: one
        // bounds-checked walk over the bodies' sizes, nothing copied.
        if let Payload::CodeSectionStart {
            unchecked_range,
            size,
            ..
        } = &payload
        {
            validator.payload(&payload)?;
            let range = unchecked_range.start as usize..unchecked_range.end as usize;
            let section = bytes
                .get(range.clone())
                .filter(|_| rest.len() >= *size as usize)
                .ok_or_else(|| Error::Validation {
                    message: "unexpected end of the code section".into(),
                    offset: range.start,
                })?;
            read_code(&mut m, &mut validator, engine, section, range.start)?;
            parser.skip_section();
            rest = &rest[*size as usize..];
            continue;
        }
        let end = matches!(payload, Payload::End(_));
        validator.payload(&payload)?;
        match payload {
            Payload::Version { encoding, .. } => {
                if encoding != wasmparser::Encoding::Module {
                    return Err(Error::Validation {
                        message: "expected a core module, found a component".into(),
                        offset: 0,
                    });
                }
                saw_module_header = true;
            }
            Payload::TypeSection(reader) => {
                for rec in reader {
                    for sub in rec?.into_types() {
                        match &sub.composite_type.inner {
                            wasmparser::CompositeInnerType::Func(f) => {
                                let params = f
                                    .params()
                                    .iter()
                                    .map(|t| val_type(*t))
                                    .collect::<Result<Vec<_>, _>>()?;
                                let results = f
                                    .results()
                                    .iter()
                                    .map(|t| val_type(*t))
                                    .collect::<Result<Vec<_>, _>>()?;
                                m.types.push(Arc::new(FuncType::new(params, results)));
                            }
                            _ => return Err(Error::Unsupported("GC types".into())),
                        }
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for imp in reader.into_imports() {
                    let imp = imp?;
                    let desc = match imp.ty {
                        wasmparser::TypeRef::Func(t) => {
                            m.funcs.push(TypeIdx(t));
                            m.num_imported_funcs += 1;
                            ImportDesc::Func(TypeIdx(t))
                        }
                        wasmparser::TypeRef::Table(t) => {
                            m.num_imported_tables += 1;
                            ImportDesc::Table(table_type(&t)?)
                        }
                        wasmparser::TypeRef::Memory(t) => {
                            m.num_imported_memories += 1;
                            ImportDesc::Memory(memory_type(&t)?)
                        }
                        wasmparser::TypeRef::Global(g) => {
                            m.num_imported_globals += 1;
                            let g = global_type(&g)?;
                            m.global_types.push(g);
                            ImportDesc::Global(g)
                        }
                        other => return Err(Error::Unsupported(format!("import of {other:?}"))),
                    };
                    m.imports.push(Import {
                        module: imp.module.into(),
                        name: imp.name.into(),
                        desc,
                    });
                }
            }
            Payload::FunctionSection(reader) => {
                m.funcs.reserve_exact(reader.count() as usize);
                for t in reader {
                    m.funcs.push(TypeIdx(t?));
                }
            }
            Payload::TableSection(reader) => {
                for t in reader {
                    let t = t?;
                    let init = match &t.init {
                        wasmparser::TableInit::RefNull => None,
                        wasmparser::TableInit::Expr(e) => Some(const_expr(e)?),
                    };
                    m.tables.push((table_type(&t.ty)?, init));
                }
            }
            Payload::MemorySection(reader) => {
                for t in reader {
                    m.memories.push(memory_type(&t?)?);
                }
            }
            Payload::TagSection(_) => {
                return Err(Error::Unsupported("exception handling (tags)".into()))
            }
            Payload::GlobalSection(reader) => {
                for g in reader {
                    let g = g?;
                    let ty = global_type(&g.ty)?;
                    m.global_types.push(ty);
                    m.globals.push((ty, const_expr(&g.init_expr)?));
                }
            }
            Payload::ExportSection(reader) => {
                for e in reader {
                    let e = e?;
                    let kind = match e.kind {
                        wasmparser::ExternalKind::Func => ExportKind::Func,
                        wasmparser::ExternalKind::Table => ExportKind::Table,
                        wasmparser::ExternalKind::Memory => ExportKind::Memory,
                        wasmparser::ExternalKind::Global => ExportKind::Global,
                        other => return Err(Error::Unsupported(format!("export of {other:?}"))),
                    };
                    m.export_index.insert(e.name.to_string(), m.exports.len());
                    m.exports.push((e.name.to_string(), kind, e.index));
                }
            }
            Payload::StartSection { func, .. } => m.start = Some(func),
            Payload::ElementSection(reader) => {
                for e in reader {
                    let e = e?;
                    let mode = match e.kind {
                        wasmparser::ElementKind::Passive => SegmentMode::Passive,
                        wasmparser::ElementKind::Declared => SegmentMode::Declared,
                        wasmparser::ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            index: table_index.unwrap_or(0),
                            offset: const_expr(&offset_expr)?,
                        },
                    };
                    let (ty, items) = match e.items {
                        wasmparser::ElementItems::Functions(r) => {
                            let items = r.into_iter().collect::<Result<Box<[u32]>, _>>()?;
                            (ValType::FuncRef, ElemItems::Funcs(items))
                        }
                        wasmparser::ElementItems::Expressions(ty, r) => {
                            let mut items = Vec::with_capacity(r.count() as usize);
                            for x in r {
                                items.push(const_expr(&x?)?);
                            }
                            (ref_type(ty)?, ElemItems::Exprs(items.into_boxed_slice()))
                        }
                    };
                    m.elems.push(ElemSegment { mode, ty, items });
                }
            }
            Payload::DataSection(reader) => {
                m.datas.reserve_exact(reader.count() as usize);
                for d in reader {
                    let d = d?;
                    let mode = match d.kind {
                        wasmparser::DataKind::Passive => SegmentMode::Passive,
                        wasmparser::DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            index: memory_index,
                            offset: const_expr(&offset_expr)?,
                        },
                    };
                    // The data are the last bytes of the segment's entry.
                    let end = d.range.end as usize;
                    let range = end - d.data.len()..end;
                    debug_assert!(bytes[range.clone()] == *d.data);
                    m.datas.push(DataSegment { mode, range });
                }
            }
            Payload::CustomSection(c) => {
                if let wasmparser::KnownCustom::Name(names) = c.as_known() {
                    let start = c.data_offset() as usize;
                    m.name_section = Some(start..start + c.data().len());
                    m.name = module_name(names);
                }
            }
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => {
                return Err(Error::Validation {
                    message: "expected a core module, found a component".into(),
                    offset: 0,
                })
            }
            _ => {}
        }
        if end {
            break;
        }
    }
    if !saw_module_header {
        return Err(Error::Validation {
            message: "missing module header".into(),
            offset: 0,
        });
    }
    Ok(m)
}

/// Records the bodies of the code section `section` (at `offset` in the
/// module) as ranges, telling `validator` of each; validates them now unless
/// validation is lazy.
fn read_code(
    m: &mut ModuleInner,
    validator: &mut Validator,
    engine: &Engine,
    section: &[u8],
    offset: usize,
) -> Result<(), Error> {
    let reader =
        wasmparser::CodeSectionReader::new(wasmparser::BinaryReader::new(section, offset as u64))?;
    m.bodies.reserve_exact(reader.count() as usize);
    let mut allocs = wasmparser::FuncValidatorAllocations::default();
    for body in reader {
        let body = body?;
        let func = validator.code_section_entry(&body)?;
        if engine.lazy_validation() {
            // Every body shares one context; the first one records it.
            if m.deferred.is_none() {
                m.deferred = Some(Deferred {
                    resources: func.resources,
                    features: func.features,
                });
            }
        } else {
            let mut fv = func.into_validator(std::mem::take(&mut allocs));
            fv.validate(&body)?;
            allocs = fv.into_allocations();
        }
        let r = body.range();
        m.bodies.push(FuncBody {
            range: r.start as usize..r.end as usize,
            compiled: OnceLock::new(),
            debug: OnceLock::new(),
        });
    }
    Ok(())
}

/// The module name of a name section: its first subsection if any (the
/// spec orders subsections by id, the module name's is 0). A malformed name
/// section is ignored, as the spec requires.
fn module_name(mut names: wasmparser::NameSectionReader<'_>) -> Option<String> {
    match names.next()? {
        Ok(wasmparser::Name::Module { name, .. }) => Some(name.to_string()),
        _ => None,
    }
}

impl Module {
    /// The register bytecode of function `func_index` (translating it if
    /// needed), one instruction per line: for tests and profiling.
    pub fn disassemble(&self, func_index: u32) -> Result<String, Error> {
        let def = func_index
            .checked_sub(self.inner.num_imported_funcs)
            .filter(|d| (*d as usize) < self.inner.bodies.len())
            .ok_or_else(|| {
                Error::Type(format!(
                    "function {func_index} is not defined in this module"
                ))
            })?;
        let code = self.inner.compiled(def)?;
        let mut out = format!(
            "; regs={} params={} locals={}\n",
            code.num_regs, code.num_params, code.num_locals
        );
        for (i, instr) in code.code.iter().enumerate() {
            out.push_str(&format!("{i:4}: {instr:?}\n"));
        }
        Ok(out)
    }
}
