//! The merger: several core modules, each instantiated once, linked into
//! ONE core module, with every index space renumbered.
//!
//! The caller (the component-level planner in [`crate::plan`]) adds the
//! inputs in instantiation order, says where each import of each input
//! comes from ([`Origin`]), declares the output's own imports and the
//! generated functions and globals (glue), then calls [`Merger::layout`];
//! after that every origin has its merged index, the glue bodies can be
//! written against them, and [`Merger::encode`] re-encodes each input with
//! `wasm_encoder::reencode::Reencode` and per-input index maps.
//!
//! Merged index spaces, in order:
//! * functions: the output's imports (those something kept refers to:
//!   [`Merger::import_func_if_used`]), then each input's defined functions
//!   (inputs in order; of an input given [`Merger::keep_funcs`], the kept
//!   ones only, their element segment slots of the others `ref.null func`),
//!   then the glue functions;
//! * tables, globals, element and data segments: each input's defined ones
//!   in order, then the glue globals;
//! * memories: the *primary* memory first (the one the WASI library and the
//!   lifted `run` use, exported as `memory`), then the others in order;
//! * types: one entry per distinct function type (deduplicated).
//!
//! Invariants:
//! * Imports of inputs never reach the output: each one is resolved to the
//!   merged item it names (an [`Origin`]), so an imported and an exporting
//!   module share one item, as instantiation made them share it.
//! * Constant expressions are folded: `global.get` of a (formerly imported)
//!   global, and the extended-const arithmetic, become one constant, so the
//!   output's constant expressions are plain Wasm 2.0 (Node 20 and WAMR
//!   accept them). A global is folded from its input's initializer, so every
//!   global a constant expression reads must come from an earlier input.
//! * Start functions are not kept as a start section: [`Merger::starts`]
//!   lists them in instantiation order for the generated `_start`. The
//!   active segments of inputs after the first one with a start function
//!   become passive ([`Merger::deferred_segments`]), to be applied by
//!   `_start` after the earlier start functions ran, as instantiation
//!   would have ordered them.

use crate::error::LowerError;
use crate::module::ModuleInfo;
use std::collections::HashMap;
use wasm_encoder::reencode::{Error as ReencodeError, Reencode};
use wasm_encoder::{
    CodeSection, ConstExpr, DataCountSection, DataSection, ElementSection, EntityType, ExportKind,
    ExportSection, Function, FunctionSection, GlobalSection, GlobalType, ImportSection,
    MemorySection, Module, NameMap, NameSection, TableSection, TypeSection, ValType,
};
use wasmparser::{ExternalKind, TypeRef};

/// An input: its position in [`Merger::add_input`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InputId(pub u32);

/// A generated function: its position in [`Merger::declare_glue`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GlueFunc(pub u32);

/// A generated global: its position in [`Merger::declare_global`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GlueGlobal(pub u32);

/// A function imported by the output: its position in
/// [`Merger::import_func`] order (its merged function index counts only the
/// imports kept at layout: [`Merger::index`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OutputImport(pub u32);

/// The kind of a core item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Func,
    Table,
    Memory,
    Global,
}

impl Kind {
    pub fn of_external(k: ExternalKind) -> Option<Kind> {
        match k {
            ExternalKind::Func | ExternalKind::FuncExact => Some(Kind::Func),
            ExternalKind::Table => Some(Kind::Table),
            ExternalKind::Memory => Some(Kind::Memory),
            ExternalKind::Global => Some(Kind::Global),
            ExternalKind::Tag => None,
        }
    }

    pub fn of_import(t: &TypeRef) -> Option<Kind> {
        match t {
            TypeRef::Func(_) | TypeRef::FuncExact(_) => Some(Kind::Func),
            TypeRef::Table(_) => Some(Kind::Table),
            TypeRef::Memory(_) => Some(Kind::Memory),
            TypeRef::Global(_) => Some(Kind::Global),
            TypeRef::Tag(_) => None,
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Func => "function",
            Kind::Table => "table",
            Kind::Memory => "memory",
            Kind::Global => "global",
        })
    }
}

/// Where an item of the merged module comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Item `index` of kind `kind` *defined* by `input` (counted without
    /// the input's imports).
    Defined {
        input: InputId,
        kind: Kind,
        index: u32,
    },
    Glue(GlueFunc),
    GlueGlobal(GlueGlobal),
    Import(OutputImport),
}

impl Origin {
    pub fn kind(&self) -> Kind {
        match self {
            Origin::Defined { kind, .. } => *kind,
            Origin::Glue(_) | Origin::Import(_) => Kind::Func,
            Origin::GlueGlobal(_) => Kind::Global,
        }
    }
}

/// An active segment turned passive, to be applied by `_start`.
#[derive(Debug, Clone)]
pub struct DeferredSegment {
    pub data: bool,
    /// Merged segment index.
    pub segment: u32,
    /// Merged table (element segment) or memory (data segment).
    pub target: u32,
    pub offset: ConstVal,
    pub len: u32,
}

/// A folded constant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConstVal {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(i128),
    RefNull(wasm_encoder::HeapType),
    /// Merged function index.
    RefFunc(u32),
}

impl ConstVal {
    pub fn expr(&self) -> ConstExpr {
        match *self {
            ConstVal::I32(v) => ConstExpr::i32_const(v),
            ConstVal::I64(v) => ConstExpr::i64_const(v),
            ConstVal::F32(v) => ConstExpr::f32_const(f32::from_bits(v).into()),
            ConstVal::F64(v) => ConstExpr::f64_const(f64::from_bits(v).into()),
            ConstVal::V128(v) => ConstExpr::v128_const(v),
            ConstVal::RefNull(h) => ConstExpr::ref_null(h),
            ConstVal::RefFunc(f) => ConstExpr::ref_func(f),
        }
    }

    /// Emits the constant as an instruction of a function body.
    pub fn emit(&self, f: &mut Function) {
        let mut i = f.instructions();
        match *self {
            ConstVal::I32(v) => i.i32_const(v),
            ConstVal::I64(v) => i.i64_const(v),
            ConstVal::F32(v) => i.f32_const(f32::from_bits(v).into()),
            ConstVal::F64(v) => i.f64_const(f64::from_bits(v).into()),
            ConstVal::V128(v) => i.v128_const(v),
            ConstVal::RefNull(h) => i.ref_null(h),
            ConstVal::RefFunc(x) => i.ref_func(x),
        };
    }
}

struct Input<'a> {
    info: ModuleInfo<'a>,
    /// Where each import comes from, in import order.
    imports: Vec<Option<Origin>>,
    /// Make active segments passive (see module docs).
    defer_segments: bool,
    func_base: u32,
    table_base: u32,
    global_base: u32,
    elem_base: u32,
    data_base: u32,
    /// Merged index of each defined memory.
    memories: Vec<u32>,
    /// Which defined functions are kept ([`Merger::keep_funcs`]); `None`:
    /// all of them.
    keep: Option<Vec<bool>>,
    /// With `keep`: each defined function's position among the kept ones
    /// ([`DROPPED`] for one left out), set by layout.
    compact: Vec<u32>,
}

/// The merged index of a function left out: never valid, so that a use the
/// walk missed fails validation instead of calling another function.
const DROPPED: u32 = u32::MAX;

/// Each flagged item's position among the flagged ones ([`DROPPED`] for the
/// others), and how many are flagged.
fn compact(flags: &[bool]) -> (Vec<u32>, u32) {
    let mut n = 0;
    let positions = flags
        .iter()
        .map(|&k| {
            n += u32::from(k);
            if k {
                n - 1
            } else {
                DROPPED
            }
        })
        .collect();
    (positions, n)
}

impl Input<'_> {
    /// Whether defined function `f` is kept.
    fn kept(&self, f: usize) -> bool {
        self.keep
            .as_ref()
            .is_none_or(|k| k.get(f).copied().unwrap_or(false))
    }

    /// The merged index of defined function `f` (after layout; [`DROPPED`]
    /// for one left out).
    fn defined_func(&self, f: u32) -> u32 {
        match &self.keep {
            None => self.func_base + f,
            Some(_) => match self.compact.get(f as usize) {
                Some(&c) if c != DROPPED => self.func_base + c,
                _ => DROPPED,
            },
        }
    }
}

struct Glue {
    ty: wasm_encoder::FuncType,
    name: String,
}

/// The features the merged module uses beyond Wasm 2.0 without SIMD, as
/// far as the merger sees them (SIMD is found by validation).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Extras {
    pub tail_call: bool,
    pub multi_memory: bool,
}

/// See module docs.
#[derive(Default)]
pub struct Merger<'a> {
    inputs: Vec<Input<'a>>,
    out_imports: Vec<(String, String, wasm_encoder::FuncType)>,
    /// Per output import: asked for by [`Merger::import_func`] (always
    /// kept), not only by [`Merger::import_func_if_used`].
    import_wanted: Vec<bool>,
    /// Per output import: its merged index, [`DROPPED`] for one no kept
    /// code refers to (set by layout).
    import_index: Vec<u32>,
    glue: Vec<Glue>,
    globals: Vec<(GlobalType, ConstVal, String)>,
    primary_memory: Option<(InputId, u32)>,
    /// Raised minimum sizes of defined memories.
    memory_min: HashMap<(InputId, u32), u32>,
    exports: Vec<(String, Origin)>,
    laid_out: bool,
    glue_base: u32,
    glue_global_base: u32,
    num_memories: u32,
}

impl<'a> Merger<'a> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a core module instance (in instantiation order).
    pub fn add_input(&mut self, info: ModuleInfo<'a>) -> InputId {
        let n = info.imports.len();
        self.inputs.push(Input {
            info,
            imports: vec![None; n],
            defer_segments: false,
            func_base: 0,
            table_base: 0,
            global_base: 0,
            elem_base: 0,
            data_base: 0,
            memories: Vec::new(),
            keep: None,
            compact: Vec::new(),
        });
        InputId(self.inputs.len() as u32 - 1)
    }

    pub fn info(&self, input: InputId) -> &ModuleInfo<'a> {
        &self.inputs[input.0 as usize].info
    }

    pub fn inputs(&self) -> impl Iterator<Item = InputId> {
        (0..self.inputs.len() as u32).map(InputId)
    }

    /// Resolves import number `import` of `input`.
    pub fn resolve(&mut self, input: InputId, import: usize, origin: Origin) {
        self.inputs[input.0 as usize].imports[import] = Some(origin);
    }

    /// What import number `import` of `input` is resolved to, if it is.
    pub fn resolution(&self, input: InputId, import: usize) -> Option<Origin> {
        self.inputs[input.0 as usize]
            .imports
            .get(import)
            .copied()
            .flatten()
    }

    /// The origin of item `index` of kind `kind` in `input`'s own index
    /// space (an import's resolution, or the defined item).
    pub fn local_origin(
        &self,
        input: InputId,
        kind: Kind,
        index: u32,
    ) -> Result<Origin, LowerError> {
        let inp = &self.inputs[input.0 as usize];
        let mut n = 0;
        for (i, imp) in inp.info.imports.iter().enumerate() {
            if Kind::of_import(&imp.ty) == Some(kind) {
                if n == index {
                    return inp.imports[i].ok_or_else(|| {
                        LowerError::Unsupported(format!(
                            "import `{}` `{}` of {} is used before it is resolved",
                            imp.module, imp.name, inp.info.label
                        ))
                    });
                }
                n += 1;
            }
        }
        Ok(Origin::Defined {
            input,
            kind,
            index: index - n,
        })
    }

    /// The origin of `input`'s export `name`, with its kind.
    pub fn export_origin(&self, input: InputId, name: &str) -> Result<Origin, LowerError> {
        let info = &self.inputs[input.0 as usize].info;
        let e = info.export(name).ok_or_else(|| {
            LowerError::Unsupported(format!("{} has no export `{name}`", info.label))
        })?;
        let kind = Kind::of_external(e.kind).ok_or_else(|| {
            LowerError::Unsupported(format!("export `{name}` of {} is a tag", info.label))
        })?;
        self.local_origin(input, kind, e.index)
    }

    /// The core type of function `origin`.
    pub fn func_type(&self, origin: Origin) -> Option<wasm_encoder::FuncType> {
        match origin {
            Origin::Defined {
                input,
                kind: Kind::Func,
                index,
            } => {
                let info = &self.inputs[input.0 as usize].info;
                info.func_type(info.imported_funcs + index)
                    .map(encoder_func_type)
            }
            Origin::Glue(g) => Some(self.glue[g.0 as usize].ty.clone()),
            Origin::Import(i) => Some(self.out_imports[i.0 as usize].2.clone()),
            _ => None,
        }
    }

    /// An import of the output (deduplicated by module and name; the same
    /// name with another type is an error).
    pub fn import_func(
        &mut self,
        module: &str,
        name: &str,
        ty: wasm_encoder::FuncType,
    ) -> Result<OutputImport, LowerError> {
        let i = self.import_func_if_used(module, name, ty)?;
        self.import_wanted[i.0 as usize] = true;
        Ok(i)
    }

    /// An import of the output that stays only if something refers to it
    /// at layout: an input that resolves an import to it and keeps all its
    /// functions, a kept function of an input given [`Merger::keep_funcs`]
    /// (or that input's element segments, global initializers, exports or
    /// start function: [`crate::reach::referenced_imports`]), an export of
    /// the output, or a caller of [`Merger::import_func`]. The library's p1
    /// imports are declared so: a component reaches a few of them.
    pub fn import_func_if_used(
        &mut self,
        module: &str,
        name: &str,
        ty: wasm_encoder::FuncType,
    ) -> Result<OutputImport, LowerError> {
        assert!(!self.laid_out, "imports are declared before layout");
        if let Some(i) = self
            .out_imports
            .iter()
            .position(|(m, n, _)| m == module && n == name)
        {
            if self.out_imports[i].2 != ty {
                return Err(LowerError::Library(format!(
                    "`{module}` `{name}` is imported with two different types"
                )));
            }
            return Ok(OutputImport(i as u32));
        }
        self.out_imports
            .push((module.to_string(), name.to_string(), ty));
        self.import_wanted.push(false);
        Ok(OutputImport(self.out_imports.len() as u32 - 1))
    }

    /// Declares a generated function; its body is given after layout.
    pub fn declare_glue(&mut self, name: &str, ty: wasm_encoder::FuncType) -> GlueFunc {
        assert!(!self.laid_out, "glue is declared before layout");
        self.glue.push(Glue {
            ty,
            name: name.to_string(),
        });
        GlueFunc(self.glue.len() as u32 - 1)
    }

    /// Declares a generated global.
    pub fn declare_global(&mut self, name: &str, ty: GlobalType, init: ConstVal) -> GlueGlobal {
        assert!(!self.laid_out, "globals are declared before layout");
        self.globals.push((ty, init, name.to_string()));
        GlueGlobal(self.globals.len() as u32 - 1)
    }

    /// Declares a generated mutable `i32` global.
    pub fn declare_i32_global(&mut self, name: &str, init: i32) -> GlueGlobal {
        self.declare_global(
            name,
            GlobalType {
                val_type: ValType::I32,
                mutable: true,
                shared: false,
            },
            ConstVal::I32(init),
        )
    }

    /// The memory that becomes memory 0 (exported as `memory`).
    pub fn set_primary_memory(&mut self, origin: Origin) {
        if let Origin::Defined {
            input,
            kind: Kind::Memory,
            index,
        } = origin
        {
            self.primary_memory = Some((input, index));
        }
    }

    /// Raises the minimum size of memory `origin` (defined by an input) to
    /// `pages`; refused if its maximum is lower.
    pub fn raise_memory_min(&mut self, origin: Origin, pages: u32) -> Result<(), LowerError> {
        let Origin::Defined {
            input,
            kind: Kind::Memory,
            index,
        } = origin
        else {
            return Err(LowerError::Unsupported(
                "the shared memory is not defined by the component".into(),
            ));
        };
        let inp = &self.inputs[input.0 as usize];
        let mem = inp.info.memories.get(index as usize).ok_or_else(|| {
            LowerError::Unsupported(format!(
                "memory {index} of {} does not exist",
                inp.info.label
            ))
        })?;
        if mem.maximum.is_some_and(|max| max < u64::from(pages)) {
            return Err(LowerError::Unsupported(format!(
                "the memory of {} has a maximum of {} pages, below the {pages} pages the WASI library needs",
                inp.info.label,
                mem.maximum.unwrap_or_default()
            )));
        }
        self.memory_min.insert((input, index), pages);
        Ok(())
    }

    /// Keeps only the defined functions of `input` flagged in `keep` (from
    /// [`crate::reach::reachable`]); the others are left out of the output,
    /// and their element segment slots become `ref.null func`.
    pub fn keep_funcs(&mut self, input: InputId, keep: Vec<bool>) {
        assert!(!self.laid_out, "functions are dropped before layout");
        self.inputs[input.0 as usize].keep = Some(keep);
    }

    /// Turns the active segments of `input` into passive ones (see module docs).
    pub fn defer_segments(&mut self, input: InputId) {
        self.inputs[input.0 as usize].defer_segments = true;
    }

    pub fn export(&mut self, name: &str, origin: Origin) {
        self.exports.push((name.to_string(), origin));
    }

    /// Assigns every merged index (see module docs). Every import of every
    /// input must be resolved.
    pub fn layout(&mut self) -> Result<(), LowerError> {
        for inp in &self.inputs {
            if let Some(i) = inp.imports.iter().position(Option::is_none) {
                let imp = &inp.info.imports[i];
                return Err(LowerError::Unsupported(format!(
                    "import `{}` `{}` of {} is not resolved",
                    imp.module, imp.name, inp.info.label
                )));
            }
        }
        let mut used = self.import_wanted.clone();
        for inp in &self.inputs {
            let referenced = match &inp.keep {
                None => None,
                Some(keep) => Some(crate::reach::referenced_imports(&inp.info, keep)?),
            };
            let func_imports = inp
                .info
                .imports
                .iter()
                .zip(&inp.imports)
                .filter(|(imp, _)| Kind::of_import(&imp.ty) == Some(Kind::Func));
            for (f, (_, origin)) in func_imports.enumerate() {
                if let Some(Origin::Import(o)) = origin {
                    if referenced
                        .as_ref()
                        .is_none_or(|r| r.get(f).copied().unwrap_or(true))
                    {
                        used[o.0 as usize] = true;
                    }
                }
            }
        }
        for (_, origin) in &self.exports {
            if let Origin::Import(o) = origin {
                used[o.0 as usize] = true;
            }
        }
        let (import_index, mut funcs) = compact(&used);
        self.import_index = import_index;
        let (mut tables, mut globals, mut elems, mut datas) = (0, 0, 0, 0);
        let mut memories = u32::from(self.primary_memory.is_some());
        for (i, inp) in self.inputs.iter_mut().enumerate() {
            inp.func_base = funcs;
            match &inp.keep {
                Some(keep) => {
                    let (positions, n) = compact(keep);
                    inp.compact = positions;
                    funcs += n;
                }
                None => funcs += inp.info.funcs.len() as u32,
            }
            inp.table_base = tables;
            tables += inp.info.tables.len() as u32;
            inp.global_base = globals;
            globals += inp.info.globals.len() as u32;
            inp.elem_base = elems;
            elems += inp.info.elements.len() as u32;
            inp.data_base = datas;
            datas += inp.info.data.len() as u32;
            inp.memories = (0..inp.info.memories.len() as u32)
                .map(|m| {
                    if self.primary_memory == Some((InputId(i as u32), m)) {
                        0
                    } else {
                        memories += 1;
                        memories - 1
                    }
                })
                .collect();
        }
        self.glue_base = funcs;
        self.glue_global_base = globals;
        self.num_memories = memories;
        self.laid_out = true;
        Ok(())
    }

    /// Number of generated functions declared.
    pub fn glue_count(&self) -> usize {
        self.glue.len()
    }

    /// The merged index of `origin` (after layout).
    pub fn index(&self, origin: Origin) -> u32 {
        assert!(self.laid_out, "indices exist after layout");
        match origin {
            Origin::Defined { input, kind, index } => {
                let inp = &self.inputs[input.0 as usize];
                match kind {
                    Kind::Func => inp.defined_func(index),
                    Kind::Table => inp.table_base + index,
                    Kind::Memory => inp.memories[index as usize],
                    Kind::Global => inp.global_base + index,
                }
            }
            Origin::Glue(g) => self.glue_base + g.0,
            Origin::GlueGlobal(g) => self.glue_global_base + g.0,
            Origin::Import(i) => self
                .import_index
                .get(i.0 as usize)
                .copied()
                .unwrap_or(DROPPED),
        }
    }

    /// The merged index of function `f` of `input`'s own index space.
    pub fn func_index(&self, input: InputId, f: u32) -> Result<u32, LowerError> {
        Ok(self.index(self.local_origin(input, Kind::Func, f)?))
    }

    /// The start functions, in instantiation order, as merged indices.
    pub fn starts(&self) -> Result<Vec<(InputId, u32)>, LowerError> {
        let mut out = Vec::new();
        for id in self.inputs() {
            if let Some(s) = self.info(id).start {
                out.push((id, self.func_index(id, s)?));
            }
        }
        Ok(out)
    }

    /// Re-encodes every input and assembles the merged module. `glue`
    /// gives the bodies of the generated functions, in declaration order,
    /// from the segments `_start` must apply (per deferred input, in
    /// order).
    pub fn encode(
        &self,
        glue: impl FnOnce(&[(InputId, Vec<DeferredSegment>)]) -> Result<Vec<Function>, LowerError>,
    ) -> Result<Encoded, LowerError> {
        assert!(self.laid_out, "encode after layout");
        let mut types = Types::default();
        let mut imports = ImportSection::new();
        for ((m, n, ty), &index) in self.out_imports.iter().zip(&self.import_index) {
            if index == DROPPED {
                continue;
            }
            let t = types.intern(ty.clone());
            imports.import(m, n, EntityType::Function(t));
        }
        let mut funcs = FunctionSection::new();
        let mut tables = TableSection::new();
        let mut memories: Vec<(u32, wasm_encoder::MemoryType)> = Vec::new();
        let mut globals = GlobalSection::new();
        let mut elements = ElementSection::new();
        let mut data = DataSection::new();
        let mut code = CodeSection::new();
        let mut consts: Vec<Option<ConstVal>> = Vec::new();
        let mut deferred: Vec<(InputId, Vec<DeferredSegment>)> = Vec::new();
        let mut names = NameMap::new();
        let mut extras = Extras::default();
        for (i, inp) in self.inputs.iter().enumerate() {
            let id = InputId(i as u32);
            let mut map = self.input_map(id, &mut types)?;
            map.consts = std::mem::take(&mut consts);
            let info = &inp.info;
            let err = |e: ReencodeError<LowerError>| reencode_error(&info.label, e);
            for (f, &t) in info.funcs.iter().enumerate() {
                if inp.kept(f) {
                    funcs.function(map.type_index(t).map_err(err)?);
                }
            }
            for t in &info.tables {
                map.parse_table(&mut tables, t.clone()).map_err(err)?;
            }
            for (m, t) in info.memories.iter().enumerate() {
                let mut t = map.memory_type(*t).map_err(err)?;
                if let Some(&min) = self.memory_min.get(&(id, m as u32)) {
                    t.minimum = t.minimum.max(u64::from(min));
                }
                memories.push((inp.memories[m], t));
            }
            for g in &info.globals {
                let ty = map.global_type(g.ty).map_err(err)?;
                let init = map.fold(g.init_expr.clone()).map_err(err)?;
                globals.global(ty, &init.expr());
                map.consts.push(Some(init));
            }
            let mut segs = Vec::new();
            for (n, e) in info.elements.iter().enumerate() {
                match &e.kind {
                    wasmparser::ElementKind::Active {
                        table_index,
                        offset_expr,
                    } if inp.defer_segments => {
                        let items = if inp.keep.is_some() {
                            map.nulled_items(&e.items)
                        } else {
                            map.element_items(e.items.clone())
                        }
                        .map_err(err)?;
                        segs.push(DeferredSegment {
                            data: false,
                            segment: inp.elem_base + n as u32,
                            target: map.table_index(table_index.unwrap_or(0)).map_err(err)?,
                            offset: map.fold(offset_expr.clone()).map_err(err)?,
                            len: match &e.items {
                                wasmparser::ElementItems::Functions(r) => r.count(),
                                wasmparser::ElementItems::Expressions(_, r) => r.count(),
                            },
                        });
                        elements.passive(items);
                    }
                    _ if inp.keep.is_some() => map.pruned_element(&mut elements, e).map_err(err)?,
                    _ => map.parse_element(&mut elements, e.clone()).map_err(err)?,
                }
            }
            for (n, d) in info.data.iter().enumerate() {
                match &d.kind {
                    wasmparser::DataKind::Active {
                        memory_index,
                        offset_expr,
                    } if inp.defer_segments => {
                        segs.push(DeferredSegment {
                            data: true,
                            segment: inp.data_base + n as u32,
                            target: map.memory_index(*memory_index).map_err(err)?,
                            offset: map.fold(offset_expr.clone()).map_err(err)?,
                            len: d.data.len() as u32,
                        });
                        data.passive(d.data.iter().copied());
                    }
                    _ => map.parse_data(&mut data, d.clone()).map_err(err)?,
                }
            }
            if inp.defer_segments {
                deferred.push((id, segs));
            }
            for (f, body) in info.bodies.iter().enumerate() {
                if inp.kept(f) {
                    map.parse_function_body(&mut code, body.clone())
                        .map_err(err)?;
                }
            }
            for &(f, name) in &info.func_names {
                if let Some(f) = f.checked_sub(info.imported_funcs) {
                    if inp.kept(f as usize) {
                        names.append(inp.defined_func(f), name);
                    }
                }
            }
            extras.tail_call |= map.extras.tail_call;
            consts = map.consts;
        }
        let bodies = glue(&deferred)?;
        if bodies.len() != self.glue.len() {
            return Err(LowerError::Encode {
                what: "the generated code".into(),
                message: format!("{} bodies for {} functions", bodies.len(), self.glue.len()),
            });
        }
        for (n, (g, body)) in self.glue.iter().zip(&bodies).enumerate() {
            funcs.function(types.intern(g.ty.clone()));
            code.function(body);
            names.append(self.glue_base + n as u32, &g.name);
        }
        for (ty, init, _) in &self.globals {
            globals.global(*ty, &init.expr());
        }
        memories.sort_by_key(|(i, _)| *i);
        extras.multi_memory = memories.len() > 1;
        let mut memory_section = MemorySection::new();
        for (_, m) in &memories {
            memory_section.memory(*m);
        }
        let mut exports = ExportSection::new();
        for (name, origin) in &self.exports {
            let kind = match origin.kind() {
                Kind::Func => ExportKind::Func,
                Kind::Table => ExportKind::Table,
                Kind::Memory => ExportKind::Memory,
                Kind::Global => ExportKind::Global,
            };
            exports.export(name, kind, self.index(*origin));
        }

        let mut module = Module::new();
        module.section(&types.section);
        module.section(&imports);
        module.section(&funcs);
        module.section(&tables);
        module.section(&memory_section);
        module.section(&globals);
        module.section(&exports);
        module.section(&elements);
        module.section(&DataCountSection { count: data.len() });
        module.section(&code);
        module.section(&data);
        let mut name_section = NameSection::new();
        name_section.functions(&names);
        module.section(&name_section);
        Ok(Encoded {
            bytes: module.finish(),
            extras,
        })
    }

    /// The index maps of one input.
    fn input_map(&self, id: InputId, types: &mut Types) -> Result<InputMap, LowerError> {
        let inp = &self.inputs[id.0 as usize];
        let info = &inp.info;
        let type_map = info
            .types
            .iter()
            .map(|t| types.intern(encoder_func_type(t)))
            .collect();
        let mut map = InputMap {
            types: type_map,
            funcs: Vec::with_capacity(info.num_funcs() as usize),
            tables: Vec::new(),
            memories: Vec::new(),
            globals: Vec::new(),
            elem_base: inp.elem_base,
            data_base: inp.data_base,
            consts: Vec::new(),
            extras: Extras::default(),
        };
        for (imp, origin) in info.imports.iter().zip(&inp.imports) {
            let origin = origin.expect("resolved before layout");
            let expected = Kind::of_import(&imp.ty);
            if expected != Some(origin.kind()) {
                return Err(LowerError::Unsupported(format!(
                    "import `{}` `{}` of {} is resolved to a {}",
                    imp.module,
                    imp.name,
                    info.label,
                    origin.kind()
                )));
            }
            let merged = self.index(origin);
            match origin.kind() {
                Kind::Func => map.funcs.push(merged),
                Kind::Table => map.tables.push(merged),
                Kind::Memory => map.memories.push(merged),
                Kind::Global => map.globals.push(merged),
            }
        }
        map.funcs
            .extend((0..info.funcs.len() as u32).map(|f| inp.defined_func(f)));
        map.tables
            .extend((0..info.tables.len() as u32).map(|t| inp.table_base + t));
        map.memories.extend(inp.memories.iter().copied());
        map.globals
            .extend((0..info.globals.len() as u32).map(|g| inp.global_base + g));
        Ok(map)
    }
}

/// The result of [`Merger::encode`].
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub extras: Extras,
}

fn reencode_error(label: &str, e: ReencodeError<LowerError>) -> LowerError {
    match e {
        ReencodeError::UserError(e) => e,
        ReencodeError::ParseError(p) => LowerError::Malformed {
            what: label.to_string(),
            message: p.message().to_string(),
            offset: p.offset() as usize,
        },
        other => LowerError::Encode {
            what: label.to_string(),
            message: other.to_string(),
        },
    }
}

/// The deduplicated type section.
#[derive(Default)]
struct Types {
    section: TypeSection,
    map: HashMap<wasm_encoder::FuncType, u32>,
}

impl Types {
    fn intern(&mut self, ty: wasm_encoder::FuncType) -> u32 {
        if let Some(&i) = self.map.get(&ty) {
            return i;
        }
        let i = self.section.len();
        self.section
            .ty()
            .function(ty.params().iter().copied(), ty.results().iter().copied());
        self.map.insert(ty, i);
        i
    }
}

/// A wasmparser function type as a wasm-encoder one (no GC types reach
/// here: [`ModuleInfo::parse`] refuses them).
pub fn encoder_func_type(t: &wasmparser::FuncType) -> wasm_encoder::FuncType {
    let v = |t: &wasmparser::ValType| -> ValType {
        wasm_encoder::reencode::RoundtripReencoder
            .val_type(*t)
            .unwrap_or(ValType::I32)
    };
    wasm_encoder::FuncType::new(t.params().iter().map(v), t.results().iter().map(v))
}

/// One input's index maps (see [`Reencode`]).
struct InputMap {
    types: Vec<u32>,
    funcs: Vec<u32>,
    tables: Vec<u32>,
    memories: Vec<u32>,
    globals: Vec<u32>,
    elem_base: u32,
    data_base: u32,
    /// Folded value of each merged global so far.
    consts: Vec<Option<ConstVal>>,
    extras: Extras,
}

fn out_of_range(what: &str, i: u32) -> ReencodeError<LowerError> {
    ReencodeError::UserError(LowerError::Encode {
        what: "a core module".into(),
        message: format!("{what} index {i} out of range"),
    })
}

impl InputMap {
    /// Folds a constant expression (see module docs).
    fn fold(
        &mut self,
        e: wasmparser::ConstExpr<'_>,
    ) -> Result<ConstVal, ReencodeError<LowerError>> {
        let mut stack: Vec<ConstVal> = Vec::new();
        let mut ops = e.get_operators_reader();
        let bad = |what: &str| {
            ReencodeError::UserError(LowerError::Unsupported(format!(
                "constant expression with {what}"
            )))
        };
        while !ops.eof() {
            use wasmparser::Operator as O;
            let op = ops.read()?;
            let v = match op {
                O::End => break,
                O::I32Const { value } => ConstVal::I32(value),
                O::I64Const { value } => ConstVal::I64(value),
                O::F32Const { value } => ConstVal::F32(value.bits()),
                O::F64Const { value } => ConstVal::F64(value.bits()),
                O::V128Const { value } => ConstVal::V128(value.i128()),
                O::RefNull { hty } => ConstVal::RefNull(self.heap_type(hty)?),
                O::RefFunc { function_index } => {
                    ConstVal::RefFunc(self.function_index(function_index)?)
                }
                O::GlobalGet { global_index } => {
                    let g = self.global_index(global_index)?;
                    self.consts
                        .get(g as usize)
                        .copied()
                        .flatten()
                        .ok_or_else(|| bad(&format!("global {g} defined later")))?
                }
                O::I32Add | O::I32Sub | O::I32Mul | O::I64Add | O::I64Sub | O::I64Mul => {
                    let (b, a) = (stack.pop(), stack.pop());
                    match (a, b, op) {
                        (Some(ConstVal::I32(a)), Some(ConstVal::I32(b)), O::I32Add) => {
                            ConstVal::I32(a.wrapping_add(b))
                        }
                        (Some(ConstVal::I32(a)), Some(ConstVal::I32(b)), O::I32Sub) => {
                            ConstVal::I32(a.wrapping_sub(b))
                        }
                        (Some(ConstVal::I32(a)), Some(ConstVal::I32(b)), O::I32Mul) => {
                            ConstVal::I32(a.wrapping_mul(b))
                        }
                        (Some(ConstVal::I64(a)), Some(ConstVal::I64(b)), O::I64Add) => {
                            ConstVal::I64(a.wrapping_add(b))
                        }
                        (Some(ConstVal::I64(a)), Some(ConstVal::I64(b)), O::I64Sub) => {
                            ConstVal::I64(a.wrapping_sub(b))
                        }
                        (Some(ConstVal::I64(a)), Some(ConstVal::I64(b)), O::I64Mul) => {
                            ConstVal::I64(a.wrapping_mul(b))
                        }
                        _ => return Err(bad("mistyped arithmetic")),
                    }
                }
                // (Not formatted with Debug: that pulls wasmparser's
                // printer of every operator into p2shim.wasm.)
                _ => return Err(bad("an instruction that is not constant")),
            };
            stack.push(v);
        }
        match stack.as_slice() {
            [v] => Ok(*v),
            _ => Err(bad("no single value")),
        }
    }
}

impl InputMap {
    /// An element segment's items, each function left out as `ref.null
    /// func` (the items become expressions when one is).
    fn nulled_items<'b>(
        &mut self,
        items: &wasmparser::ElementItems<'b>,
    ) -> Result<wasm_encoder::Elements<'b>, ReencodeError<LowerError>> {
        let wasmparser::ElementItems::Functions(r) = items else {
            // Expressions name functions by ref.func, which the walk follows.
            return self.element_items(items.clone());
        };
        let funcs = r
            .clone()
            .into_iter()
            .map(|f| Ok(self.funcs.get(f? as usize).copied().unwrap_or(DROPPED)))
            .collect::<Result<Vec<u32>, ReencodeError<LowerError>>>()?;
        if !funcs.contains(&DROPPED) {
            return Ok(wasm_encoder::Elements::Functions(funcs.into()));
        }
        let exprs: Vec<ConstExpr> = funcs
            .iter()
            .map(|&f| match f {
                DROPPED => ConstExpr::ref_null(wasm_encoder::HeapType::FUNC),
                f => ConstExpr::ref_func(f),
            })
            .collect();
        Ok(wasm_encoder::Elements::Expressions(
            wasm_encoder::RefType::FUNCREF,
            exprs.into(),
        ))
    }

    /// Re-encodes an element segment of an input whose functions were
    /// pruned (see [`InputMap::nulled_items`]).
    fn pruned_element(
        &mut self,
        out: &mut ElementSection,
        e: &wasmparser::Element<'_>,
    ) -> Result<(), ReencodeError<LowerError>> {
        let items = self.nulled_items(&e.items)?;
        match &e.kind {
            wasmparser::ElementKind::Active {
                table_index,
                offset_expr,
            } => {
                // Form 0 (no table index) stays so where it still fits.
                let table = match (table_index, self.table_index(table_index.unwrap_or(0))?) {
                    (None, 0) => None,
                    (_, n) => Some(n),
                };
                let offset = self.fold(offset_expr.clone())?.expr();
                out.active(table, &offset, items);
            }
            wasmparser::ElementKind::Passive => {
                out.passive(items);
            }
            wasmparser::ElementKind::Declared => {
                out.declared(items);
            }
        }
        Ok(())
    }
}

impl Reencode for InputMap {
    type Error = LowerError;

    fn type_index(&mut self, ty: u32) -> Result<u32, ReencodeError<LowerError>> {
        self.types
            .get(ty as usize)
            .copied()
            .ok_or_else(|| out_of_range("type", ty))
    }
    fn function_index(&mut self, f: u32) -> Result<u32, ReencodeError<LowerError>> {
        match self.funcs.get(f as usize) {
            Some(&DROPPED) => Err(ReencodeError::UserError(LowerError::Encode {
                what: "a core module".into(),
                message: format!("function {f} is used but was left out as unreachable"),
            })),
            Some(&i) => Ok(i),
            None => Err(out_of_range("function", f)),
        }
    }
    fn table_index(&mut self, t: u32) -> Result<u32, ReencodeError<LowerError>> {
        self.tables
            .get(t as usize)
            .copied()
            .ok_or_else(|| out_of_range("table", t))
    }
    fn memory_index(&mut self, m: u32) -> Result<u32, ReencodeError<LowerError>> {
        self.memories
            .get(m as usize)
            .copied()
            .ok_or_else(|| out_of_range("memory", m))
    }
    fn global_index(&mut self, g: u32) -> Result<u32, ReencodeError<LowerError>> {
        self.globals
            .get(g as usize)
            .copied()
            .ok_or_else(|| out_of_range("global", g))
    }
    fn element_index(&mut self, e: u32) -> Result<u32, ReencodeError<LowerError>> {
        Ok(self.elem_base + e)
    }
    fn data_index(&mut self, d: u32) -> Result<u32, ReencodeError<LowerError>> {
        Ok(self.data_base + d)
    }
    fn const_expr(
        &mut self,
        e: wasmparser::ConstExpr<'_>,
    ) -> Result<ConstExpr, ReencodeError<LowerError>> {
        Ok(self.fold(e)?.expr())
    }
    fn instruction<'b>(
        &mut self,
        op: wasmparser::Operator<'b>,
    ) -> Result<wasm_encoder::Instruction<'b>, ReencodeError<LowerError>> {
        use wasmparser::Operator as O;
        if let O::ReturnCall { .. } | O::ReturnCallIndirect { .. } = op {
            self.extras.tail_call = true;
        }
        wasm_encoder::reencode::utils::instruction(self, op)
    }
}
