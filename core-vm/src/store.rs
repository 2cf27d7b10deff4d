//! The store owns every runtime entity; handles are typed indices into it.
//!
//! Invariants: entities are never removed, so a handle stays valid for the
//! store's life (handles from another store are a caller bug and are caught
//! by index checks, never by unsafety). Memories, tables and globals live at
//! store level so several instances can share them. A function's type is kept
//! as an id of the store's type registry: two functions have equal signatures
//! iff their ids are equal, which is all `call_indirect` checks. Reference
//! values live in registers as `u64`: 0 is null, otherwise a funcref is
//! `FuncIdx + 1` and an externref is `ExternRef.0 + 1`.

use crate::engine::Engine;
use crate::linear::LinearMemory;
use crate::module::{ExportKind, ModuleInner};
use crate::translate::CompiledFunc;
use crate::trap::{Error, Trap, TrapCode};
use crate::values::{
    ExternRef, ExternType, FuncType, GlobalType, MemoryType, TableType, Val, ValType,
};
use std::collections::HashMap;
use std::sync::Arc;

/// The size of a Wasm page.
pub const PAGE_SIZE: u64 = 65536;

macro_rules! handle {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub(crate) u32);
        impl $name {
            /// The raw index of this handle in its store.
            pub fn index(self) -> u32 { self.0 }
        }
    };
}

handle!(/// A function in a store (Wasm-defined or host).
    Func);
handle!(/// A linear memory in a store.
    Memory);
handle!(/// A table in a store.
    Table);
handle!(/// A global in a store.
    Global);
handle!(/// An instance of a module in a store.
    Instance);

/// Any importable or exportable entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extern {
    Func(Func),
    Memory(Memory),
    Table(Table),
    Global(Global),
}

impl Extern {
    pub fn into_func(self) -> Option<Func> {
        match self {
            Extern::Func(f) => Some(f),
            _ => None,
        }
    }
    pub fn into_memory(self) -> Option<Memory> {
        match self {
            Extern::Memory(m) => Some(m),
            _ => None,
        }
    }
    pub fn into_table(self) -> Option<Table> {
        match self {
            Extern::Table(t) => Some(t),
            _ => None,
        }
    }
    pub fn into_global(self) -> Option<Global> {
        match self {
            Extern::Global(g) => Some(g),
            _ => None,
        }
    }
}

/// A host function's implementation.
pub type HostFn<T> = dyn Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Trap>;

/// A function type id in the store's registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TypeId(pub u32);

pub(crate) enum FuncKind {
    Wasm {
        instance: Instance,
        module: Arc<ModuleInner>,
        /// Index of the function among the module's *defined* functions.
        def_index: u32,
        /// Index in the module's function index space (for names).
        func_index: u32,
        /// Filled on first call.
        code: Option<*const CompiledFunc>,
    },
    Host(usize),
}

pub(crate) struct FuncEntity {
    pub ty: TypeId,
    pub kind: FuncKind,
}

pub(crate) struct MemoryEntity {
    pub ty: MemoryType,
    pub data: LinearMemory,
    /// Effective maximum in pages (declared maximum, capped by the config).
    pub max_pages: u64,
}

impl MemoryEntity {
    pub fn pages(&self) -> u64 {
        self.data.len() as u64 / PAGE_SIZE
    }

    /// `memory.grow`: the old size in pages, or `None` when growth fails.
    pub fn grow(&mut self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > self.max_pages {
            return None;
        }
        let new_len = usize::try_from(new * PAGE_SIZE).ok()?;
        let limit = usize::try_from(self.max_pages * PAGE_SIZE).unwrap_or(usize::MAX);
        if !self.data.grow_to(new_len, limit) {
            return None;
        }
        Some(old)
    }
}

pub(crate) struct TableEntity {
    pub ty: TableType,
    pub elements: Vec<u64>,
    pub max: u64,
}

impl TableEntity {
    /// `table.grow`: the old size, or `None` when growth fails.
    pub fn grow(&mut self, delta: u64, init: u64) -> Option<u64> {
        let old = self.elements.len() as u64;
        let new = old.checked_add(delta)?;
        if new > self.max {
            return None;
        }
        let new = usize::try_from(new).ok()?;
        let more = new - self.elements.len();
        if !crate::linear::may_allocate(more.checked_mul(8)?)
            || self.elements.try_reserve_exact(more).is_err()
        {
            return None;
        }
        self.elements.resize(new, init);
        Some(old)
    }
}

/// `n` table elements set to `init`, or `None` when the host cannot have
/// the memory (allocated fallibly, within the shim's headroom).
fn table_elements(n: usize, init: u64) -> Option<Vec<u64>> {
    if !crate::linear::may_allocate(n.checked_mul(8)?) {
        return None;
    }
    let mut v = Vec::new();
    v.try_reserve_exact(n).ok()?;
    v.resize(n, init);
    Some(v)
}

/// Whether `have + adding` entities of kind `what` stay within `max`; the
/// error is wasmtime's ("resource limit exceeded: instance count too high at 2").
pub(crate) fn count_fits(have: usize, adding: usize, max: usize, what: &str) -> Result<(), Error> {
    let new = have.saturating_add(adding);
    if new > max {
        return Err(Error::Limit(format!(
            "resource limit exceeded: {what} count too high at {new}"
        )));
    }
    Ok(())
}

pub(crate) struct GlobalEntity {
    pub ty: GlobalType,
    pub value: u64,
}

pub(crate) struct InstanceEntity {
    pub module: Arc<ModuleInner>,
    pub funcs: Vec<Func>,
    pub tables: Vec<Table>,
    pub memories: Vec<Memory>,
    pub globals: Vec<Global>,
    pub types: Vec<TypeId>,
    /// Resolved element segments; emptied by `elem.drop`.
    pub elems: Vec<Arc<[u64]>>,
    /// Whether each data segment was dropped.
    pub data_dropped: Vec<bool>,
}

#[derive(Default)]
pub(crate) struct TypeRegistry {
    ids: HashMap<Arc<FuncType>, TypeId>,
    types: Vec<Arc<FuncType>>,
}

impl TypeRegistry {
    pub fn intern(&mut self, ty: &Arc<FuncType>) -> TypeId {
        if let Some(id) = self.ids.get(ty) {
            return *id;
        }
        let id = TypeId(self.types.len() as u32);
        self.types.push(ty.clone());
        self.ids.insert(ty.clone(), id);
        id
    }
    pub fn get(&self, id: TypeId) -> &Arc<FuncType> {
        &self.types[id.0 as usize]
    }
}

/// The part of a store that does not depend on the host data type.
pub(crate) struct StoreInner {
    pub engine: Engine,
    pub funcs: Vec<FuncEntity>,
    pub memories: Vec<MemoryEntity>,
    pub tables: Vec<TableEntity>,
    pub globals: Vec<GlobalEntity>,
    pub instances: Vec<InstanceEntity>,
    pub types: TypeRegistry,
    /// Value stacks kept for reuse across calls (and re-entrant calls).
    pub stacks: Vec<Vec<u64>>,
    pub fuel: u64,
    /// Wasm frames held by enclosing entries (a host function re-entering
    /// Wasm runs on top of them) and the number of those entries: both are
    /// bounded so re-entry cannot exhaust the native stack.
    pub outer_frames: usize,
    pub entries: u32,
    /// The instruction count and requests of an observer.
    pub obs: crate::observe::ObsState,
}

/// All runtime state, plus the embedder's data `T`.
pub struct Store<T> {
    pub(crate) inner: StoreInner,
    pub(crate) host_funcs: Vec<Arc<HostFn<T>>>,
    /// Selects the observed dispatch loop when set (see [`crate::Observer`]).
    pub(crate) observer: Option<Box<dyn crate::Observer<T>>>,
    data: T,
}

impl<T> Store<T> {
    /// Takes the execution counts gathered on this thread (feature
    /// `op-stats`), hottest first: (module name, function index,
    /// instruction index, instruction, count). Counts at addresses of code
    /// this store no longer holds are dropped.
    #[cfg(feature = "op-stats")]
    pub fn op_profile(&self) -> Vec<(Option<String>, u32, usize, crate::instr::Instr, u64)> {
        let counts = crate::exec::op_stats::take();
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for f in &self.inner.funcs {
            let FuncKind::Wasm {
                module,
                func_index,
                code: Some(code),
                ..
            } = &f.kind
            else {
                continue;
            };
            if !seen.insert(*code as usize) {
                continue;
            }
            // SAFETY: compiled code lives as long as its module, held by `module`.
            let code = unsafe { &**code };
            for (i, instr) in code.code.iter().enumerate() {
                if let Some(&n) = counts.get(&(instr as *const _ as usize)) {
                    out.push((module.name.clone(), *func_index, i, *instr, n));
                }
            }
        }
        out.sort_by(|a, b| b.4.cmp(&a.4));
        out
    }

    pub fn new(engine: &Engine, data: T) -> Self {
        Store {
            inner: StoreInner {
                engine: engine.clone(),
                funcs: Vec::new(),
                memories: Vec::new(),
                tables: Vec::new(),
                globals: Vec::new(),
                instances: Vec::new(),
                types: TypeRegistry::default(),
                stacks: Vec::new(),
                fuel: u64::MAX,
                outer_frames: 0,
                entries: 0,
                obs: Default::default(),
            },
            host_funcs: Vec::new(),
            observer: None,
            data,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }
    pub fn data(&self) -> &T {
        &self.data
    }
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
    }
    pub fn into_data(self) -> T {
        self.data
    }

    /// Sets the remaining fuel (only counted when the engine meters fuel).
    pub fn set_fuel(&mut self, fuel: u64) {
        self.inner.fuel = fuel;
    }
    pub fn fuel(&self) -> u64 {
        self.inner.fuel
    }

    /// Split borrow of a memory's bytes and the host data.
    pub fn memory_and_data(&mut self, memory: Memory) -> (&mut [u8], &mut T) {
        (
            &mut self.inner.memories[memory.0 as usize].data,
            &mut self.data,
        )
    }
}

impl StoreInner {
    pub(crate) fn func_type(&self, f: Func) -> &Arc<FuncType> {
        self.types.get(self.funcs[f.0 as usize].ty)
    }

    /// Checks that `adding` more memories and tables fit the engine's
    /// counts, in wasmtime's words ("memory count too high at N"), before
    /// anything is allocated.
    pub(crate) fn check_counts(&self, memories: usize, tables: usize) -> Result<(), Error> {
        let config = self.engine.config();
        count_fits(self.memories.len(), memories, config.max_memories, "memory")?;
        count_fits(self.tables.len(), tables, config.max_tables, "table")
    }

    pub(crate) fn alloc_memory(&mut self, ty: MemoryType) -> Result<Memory, Error> {
        let cap = self.engine.config().max_memory_pages.min(65536);
        let max_pages = ty.max.unwrap_or(65536).min(cap);
        if ty.min > max_pages {
            return Err(Error::Limit(format!(
                "memory minimum size of {} pages exceeds memory limits",
                ty.min
            )));
        }
        let out_of_memory = || {
            Error::Limit(format!(
                "cannot allocate a memory of {} pages: out of memory",
                ty.min
            ))
        };
        let len = usize::try_from(ty.min * PAGE_SIZE).map_err(|_| out_of_memory())?;
        self.memories.try_reserve(1).map_err(|_| out_of_memory())?;
        let data = LinearMemory::new(len).ok_or_else(out_of_memory)?;
        self.memories.push(MemoryEntity {
            ty,
            data,
            max_pages,
        });
        Ok(Memory(self.memories.len() as u32 - 1))
    }

    pub(crate) fn alloc_table(&mut self, ty: TableType, init: u64) -> Result<Table, Error> {
        let cap = self.engine.config().max_table_elements;
        let max = ty.max.unwrap_or(u32::MAX as u64).min(cap);
        if ty.min > max {
            return Err(Error::Limit(format!(
                "table minimum size of {} elements exceeds table limits",
                ty.min
            )));
        }
        let elements = usize::try_from(ty.min)
            .ok()
            .and_then(|n| table_elements(n, init))
            .ok_or_else(|| {
                Error::Limit(format!(
                    "cannot allocate a table of {} elements: out of memory",
                    ty.min
                ))
            })?;
        self.tables
            .try_reserve(1)
            .map_err(|_| Error::Limit("cannot allocate a table: out of memory".into()))?;
        self.tables.push(TableEntity { ty, elements, max });
        Ok(Table(self.tables.len() as u32 - 1))
    }

    pub(crate) fn alloc_global(&mut self, ty: GlobalType, value: u64) -> Global {
        self.globals.push(GlobalEntity { ty, value });
        Global(self.globals.len() as u32 - 1)
    }

    /// Encodes a value into a 64-bit register.
    pub(crate) fn val_to_raw(&self, v: Val) -> u64 {
        match v {
            Val::I32(x) => x as u32 as u64,
            Val::I64(x) => x as u64,
            Val::F32(x) => x as u64,
            Val::F64(x) => x,
            Val::V128(x) => x as u64,
            Val::FuncRef(f) => f.map_or(0, |f| f.0 as u64 + 1),
            Val::ExternRef(e) => e.map_or(0, |e| e.0 as u64 + 1),
        }
    }

    /// Decodes a 64-bit register of the given type.
    pub(crate) fn raw_to_val(raw: u64, ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(raw as u32 as i32),
            ValType::I64 => Val::I64(raw as i64),
            ValType::F32 => Val::F32(raw as u32),
            ValType::F64 => Val::F64(raw),
            ValType::V128 => Val::V128(raw as u128),
            ValType::FuncRef => Val::FuncRef(if raw == 0 {
                None
            } else {
                Some(Func(raw as u32 - 1))
            }),
            ValType::ExternRef => Val::ExternRef(if raw == 0 {
                None
            } else {
                Some(ExternRef(raw as u32 - 1))
            }),
        }
    }

    /// Whether `v` may be stored where `ty` is expected (and belongs here).
    pub(crate) fn val_matches(&self, v: &Val, ty: ValType) -> bool {
        if v.ty() != ty {
            return false;
        }
        match v {
            Val::FuncRef(Some(f)) => (f.0 as usize) < self.funcs.len(),
            _ => true,
        }
    }
}

// ---------------------------------------------------------------------------
// Handle methods.

impl Func {
    /// Creates a host function.
    pub fn new<T>(
        store: &mut Store<T>,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Trap> + 'static,
    ) -> Func {
        Func::new_arc(store, Arc::new(ty), Arc::new(func))
    }

    pub(crate) fn new_arc<T>(
        store: &mut Store<T>,
        ty: Arc<FuncType>,
        func: Arc<HostFn<T>>,
    ) -> Func {
        let ty = store.inner.types.intern(&ty);
        store.host_funcs.push(func);
        store.inner.funcs.push(FuncEntity {
            ty,
            kind: FuncKind::Host(store.host_funcs.len() - 1),
        });
        Func(store.inner.funcs.len() as u32 - 1)
    }

    pub fn ty<T>(&self, store: &Store<T>) -> FuncType {
        (**store.inner.func_type(*self)).clone()
    }

    /// Calls the function: checks `params` against its type, runs it, and
    /// writes the results (whose slice must have the right length).
    pub fn call<T>(
        &self,
        store: &mut Store<T>,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<(), Error> {
        let ty = store.inner.func_type(*self).clone();
        if params.len() != ty.params().len()
            || params
                .iter()
                .zip(ty.params())
                .any(|(v, t)| !store.inner.val_matches(v, *t))
        {
            let got = params
                .iter()
                .map(|v| v.ty().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Error::Type(format!(
                "function of type {ty} called with ({got})"
            )));
        }
        if results.len() != ty.results().len() {
            return Err(Error::Type(format!(
                "function of type {ty} called with room for {} results",
                results.len()
            )));
        }
        crate::exec::invoke(store, *self, &ty, params, results)
    }
}

impl Memory {
    pub fn new<T>(store: &mut Store<T>, ty: MemoryType) -> Result<Memory, Error> {
        store.inner.check_counts(1, 0)?;
        store.inner.alloc_memory(ty)
    }
    pub fn ty<T>(&self, store: &Store<T>) -> MemoryType {
        let m = &store.inner.memories[self.0 as usize];
        MemoryType {
            min: m.pages(),
            ..m.ty
        }
    }
    pub fn data<'a, T>(&self, store: &'a Store<T>) -> &'a [u8] {
        &store.inner.memories[self.0 as usize].data
    }
    pub fn data_mut<'a, T>(&self, store: &'a mut Store<T>) -> &'a mut [u8] {
        &mut store.inner.memories[self.0 as usize].data
    }
    /// Size in pages.
    pub fn size<T>(&self, store: &Store<T>) -> u64 {
        store.inner.memories[self.0 as usize].pages()
    }
    /// Grows by `delta` pages, returning the old size.
    pub fn grow<T>(&self, store: &mut Store<T>, delta: u64) -> Result<u64, Error> {
        store.inner.memories[self.0 as usize]
            .grow(delta)
            .ok_or_else(|| Error::Limit(format!("failed to grow memory by {delta} pages")))
    }
}

impl Table {
    pub fn new<T>(store: &mut Store<T>, ty: TableType, init: Val) -> Result<Table, Error> {
        if !store.inner.val_matches(&init, ty.element) {
            return Err(Error::Type(format!(
                "table of {} initialised with {}",
                ty.element,
                init.ty()
            )));
        }
        let raw = store.inner.val_to_raw(init);
        store.inner.check_counts(0, 1)?;
        store.inner.alloc_table(ty, raw)
    }
    pub fn ty<T>(&self, store: &Store<T>) -> TableType {
        let t = &store.inner.tables[self.0 as usize];
        TableType {
            min: t.elements.len() as u64,
            ..t.ty
        }
    }
    pub fn size<T>(&self, store: &Store<T>) -> u64 {
        store.inner.tables[self.0 as usize].elements.len() as u64
    }
    pub fn get<T>(&self, store: &Store<T>, index: u64) -> Option<Val> {
        let t = &store.inner.tables[self.0 as usize];
        let raw = *t.elements.get(usize::try_from(index).ok()?)?;
        Some(StoreInner::raw_to_val(raw, t.ty.element))
    }
    pub fn set<T>(&self, store: &mut Store<T>, index: u64, val: Val) -> Result<(), Error> {
        let elem = store.inner.tables[self.0 as usize].ty.element;
        if !store.inner.val_matches(&val, elem) {
            return Err(Error::Type(format!("table of {elem} set to {}", val.ty())));
        }
        let raw = store.inner.val_to_raw(val);
        let t = &mut store.inner.tables[self.0 as usize];
        let slot = usize::try_from(index)
            .ok()
            .and_then(|i| t.elements.get_mut(i));
        *slot.ok_or(Error::Trap(Trap::new(TrapCode::TableOutOfBounds)))? = raw;
        Ok(())
    }
    pub fn grow<T>(&self, store: &mut Store<T>, delta: u64, init: Val) -> Result<u64, Error> {
        let elem = store.inner.tables[self.0 as usize].ty.element;
        if !store.inner.val_matches(&init, elem) {
            return Err(Error::Type(format!(
                "table of {elem} grown with {}",
                init.ty()
            )));
        }
        let raw = store.inner.val_to_raw(init);
        store.inner.tables[self.0 as usize]
            .grow(delta, raw)
            .ok_or_else(|| Error::Limit(format!("failed to grow table by {delta}")))
    }
}

impl Global {
    pub fn new<T>(store: &mut Store<T>, ty: GlobalType, val: Val) -> Result<Global, Error> {
        if !store.inner.val_matches(&val, ty.content) {
            return Err(Error::Type(format!(
                "global of {} initialised with {}",
                ty.content,
                val.ty()
            )));
        }
        let raw = store.inner.val_to_raw(val);
        Ok(store.inner.alloc_global(ty, raw))
    }
    pub fn ty<T>(&self, store: &Store<T>) -> GlobalType {
        store.inner.globals[self.0 as usize].ty
    }
    pub fn get<T>(&self, store: &Store<T>) -> Val {
        let g = &store.inner.globals[self.0 as usize];
        StoreInner::raw_to_val(g.value, g.ty.content)
    }
    pub fn set<T>(&self, store: &mut Store<T>, val: Val) -> Result<(), Error> {
        let ty = store.inner.globals[self.0 as usize].ty;
        if !ty.mutable {
            return Err(Error::Type("cannot set an immutable global".into()));
        }
        if !store.inner.val_matches(&val, ty.content) {
            return Err(Error::Type(format!(
                "global of {} set to {}",
                ty.content,
                val.ty()
            )));
        }
        store.inner.globals[self.0 as usize].value = store.inner.val_to_raw(val);
        Ok(())
    }
}

impl Instance {
    /// Instantiates `module` with imports given in the module's import order.
    pub fn new<T>(
        store: &mut Store<T>,
        module: &crate::Module,
        imports: &[Extern],
    ) -> Result<Instance, Error> {
        crate::instantiate::instantiate(store, module, imports)
    }

    /// Looks an export up by name.
    pub fn get_export<T>(&self, store: &Store<T>, name: &str) -> Option<Extern> {
        store.inner.instance_export(*self, name)
    }
    pub fn get_func<T>(&self, store: &Store<T>, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }
    pub fn get_memory<T>(&self, store: &Store<T>, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }
    pub fn get_table<T>(&self, store: &Store<T>, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }
    pub fn get_global<T>(&self, store: &Store<T>, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }
    /// All exports, in the module's order.
    pub fn exports<T>(&self, store: &Store<T>) -> Vec<(String, Extern)> {
        let inst = &store.inner.instances[self.0 as usize];
        inst.module
            .exports
            .iter()
            .map(|(name, kind, idx)| (name.clone(), store.inner.resolve_export(*self, *kind, *idx)))
            .collect()
    }
    /// The instance's memory 0, whether defined or imported.
    pub fn default_memory<T>(&self, store: &Store<T>) -> Option<Memory> {
        store.inner.instances[self.0 as usize]
            .memories
            .first()
            .copied()
    }
}

impl StoreInner {
    pub(crate) fn resolve_export(&self, inst: Instance, kind: ExportKind, idx: u32) -> Extern {
        let i = &self.instances[inst.0 as usize];
        match kind {
            ExportKind::Func => Extern::Func(i.funcs[idx as usize]),
            ExportKind::Table => Extern::Table(i.tables[idx as usize]),
            ExportKind::Memory => Extern::Memory(i.memories[idx as usize]),
            ExportKind::Global => Extern::Global(i.globals[idx as usize]),
        }
    }

    pub(crate) fn instance_export(&self, inst: Instance, name: &str) -> Option<Extern> {
        let i = &self.instances[inst.0 as usize];
        let &pos = i.module.export_index.get(name)?;
        let (_, kind, idx) = &i.module.exports[pos];
        Some(self.resolve_export(inst, *kind, *idx))
    }

    pub(crate) fn extern_type(&self, e: Extern) -> ExternType {
        match e {
            Extern::Func(f) => ExternType::Func((**self.func_type(f)).clone()),
            Extern::Memory(m) => {
                let m = &self.memories[m.0 as usize];
                ExternType::Memory(MemoryType {
                    min: m.pages(),
                    ..m.ty
                })
            }
            Extern::Table(t) => {
                let t = &self.tables[t.0 as usize];
                ExternType::Table(TableType {
                    min: t.elements.len() as u64,
                    ..t.ty
                })
            }
            Extern::Global(g) => ExternType::Global(self.globals[g.0 as usize].ty),
        }
    }
}

/// What a host function sees of its caller.
pub struct Caller<'a, T> {
    pub(crate) store: &'a mut Store<T>,
    pub(crate) instance: Option<Instance>,
}

impl<'a, T> Caller<'a, T> {
    /// Wraps a store for a host function called from outside any instance.
    pub fn new(store: &'a mut Store<T>, instance: Option<Instance>) -> Self {
        Caller { store, instance }
    }
    pub fn data(&self) -> &T {
        self.store.data()
    }
    pub fn data_mut(&mut self) -> &mut T {
        self.store.data_mut()
    }
    /// The calling instance, if the call came from Wasm.
    pub fn instance(&self) -> Option<Instance> {
        self.instance
    }
    /// An export of the calling instance.
    pub fn get_export(&self, name: &str) -> Option<Extern> {
        self.store.inner.instance_export(self.instance?, name)
    }
    /// The calling instance's memory 0.
    pub fn default_memory(&self) -> Option<Memory> {
        self.instance?.default_memory(self.store)
    }
    /// The whole store, e.g. to call back into Wasm.
    pub fn store(&self) -> &Store<T> {
        self.store
    }
    pub fn store_mut(&mut self) -> &mut Store<T> {
        self.store
    }
    /// Split borrow of a memory's bytes and the host data.
    pub fn memory_and_data(&mut self, memory: Memory) -> (&mut [u8], &mut T) {
        self.store.memory_and_data(memory)
    }
}

// ---------------------------------------------------------------------------
// The linker.

enum Definition<T> {
    Extern(Extern),
    HostFunc(Arc<FuncType>, Arc<HostFn<T>>),
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Extern(e) => Definition::Extern(*e),
            Definition::HostFunc(t, f) => Definition::HostFunc(t.clone(), f.clone()),
        }
    }
}

/// Resolves imports by (module, name).
pub struct Linker<T> {
    defs: HashMap<(String, String), Definition<T>>,
}

impl<T> Default for Linker<T> {
    fn default() -> Self {
        Linker {
            defs: HashMap::new(),
        }
    }
}

impl<T> Clone for Linker<T> {
    fn clone(&self) -> Self {
        Linker {
            defs: self.defs.clone(),
        }
    }
}

impl<T> Linker<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Defines (or redefines) an entity of a store.
    pub fn define(&mut self, module: &str, name: &str, item: Extern) -> &mut Self {
        self.defs
            .insert((module.into(), name.into()), Definition::Extern(item));
        self
    }

    /// Defines a host function; it is created in a store when a module that
    /// imports it is instantiated there.
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Trap> + 'static,
    ) -> &mut Self {
        self.defs.insert(
            (module.into(), name.into()),
            Definition::HostFunc(Arc::new(ty), Arc::new(func)),
        );
        self
    }

    /// Defines every export of `instance` under the module name `module`.
    pub fn instance(&mut self, store: &Store<T>, module: &str, instance: Instance) -> &mut Self {
        for (name, item) in instance.exports(store) {
            self.define(module, &name, item);
        }
        self
    }

    /// Whether something is defined under (module, name).
    pub fn contains(&self, module: &str, name: &str) -> bool {
        self.defs
            .contains_key(&(module.to_string(), name.to_string()))
    }

    /// Looks a definition up, creating a host function in `store` if needed.
    pub fn get(&self, store: &mut Store<T>, module: &str, name: &str) -> Option<Extern> {
        match self.defs.get(&(module.to_string(), name.to_string()))? {
            Definition::Extern(e) => Some(*e),
            Definition::HostFunc(ty, f) => {
                Some(Extern::Func(Func::new_arc(store, ty.clone(), f.clone())))
            }
        }
    }

    /// Resolves every import of `module` and instantiates it. A missing import
    /// is an error that lists every missing import.
    pub fn instantiate(
        &self,
        store: &mut Store<T>,
        module: &crate::Module,
    ) -> Result<Instance, Error> {
        let mut imports = Vec::new();
        let mut missing = Vec::new();
        for imp in module.imports() {
            match self.get(store, imp.module, imp.name) {
                Some(e) => imports.push(e),
                None => missing.push(format!(
                    "{}::{} ({})",
                    imp.module,
                    imp.name,
                    imp.ty.kind_name()
                )),
            }
        }
        if !missing.is_empty() {
            return Err(Error::Link(format!(
                "unknown import: {}",
                missing.join(", ")
            )));
        }
        Instance::new(store, module, &imports)
    }
}
