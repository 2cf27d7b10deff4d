//! Watching execution: an [`Observer`] installed in a store is told of
//! executed instructions, calls and returns, and is offered *safe points*
//! where it can capture the whole execution state ([`crate::ExecState`]).
//!
//! Invariants:
//! * A store without an observer runs the dispatch loop instantiated with
//!   observation compiled out (`run_loop::<T, false>`): the same machine
//!   code as before observers existed. The choice is made once per entry
//!   into Wasm, so an observer installed while Wasm runs takes effect at
//!   the next entry.
//! * The instruction count is the number of bytecode instructions executed
//!   by observed entries of the store (a fused superinstruction is one). It
//!   is deterministic for a given program, input and p2shim build.
//! * The observer is taken out of the store while one of its methods runs,
//!   so it cannot be re-entered; its methods never run Wasm.
//! * Safe points are function entries and loop headers (the targets of
//!   back-edges) of the outermost entry into Wasm only: a host function
//!   that called back into Wasm holds native state no snapshot can carry.
//!   They are offered only after the observer asked for one
//!   ([`Context::request_safe_point`]), so they cost one flag test.

use crate::instr::Instr;
use crate::store::{Func, Instance, Store};

/// What an observer wants to hear about, read when it is installed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wants {
    /// [`Observer::on_call`] and [`Observer::on_return`].
    pub calls: bool,
    /// [`Observer::on_instr`] before every instruction.
    pub instrs: bool,
}

/// Receives execution events of a store's Wasm code. Every method has an
/// empty default.
pub trait Observer<T> {
    /// Which events this observer wants.
    fn wants(&self) -> Wants {
        Wants::default()
    }
    /// The instruction count at which [`Observer::on_deadline`] is first
    /// called (`u64::MAX`: never).
    fn first_deadline(&self) -> u64 {
        u64::MAX
    }
    /// The instruction count reached the deadline; returns the next one.
    fn on_deadline(&mut self, cx: &mut Context<'_, T>) -> u64 {
        let _ = cx;
        u64::MAX
    }
    /// An instruction is about to execute (with [`Wants::instrs`]).
    fn on_instr(&mut self, cx: &mut Context<'_, T>) {
        let _ = cx;
    }
    /// `callee` (Wasm or host) is entered; for a Wasm callee its frame is
    /// set up and [`Context::regs`] holds its arguments.
    fn on_call(&mut self, cx: &mut Context<'_, T>, callee: Func) {
        let _ = (cx, callee);
    }
    /// `func` returns (a tail call returns, then calls).
    fn on_return(&mut self, cx: &mut Context<'_, T>, func: Func) {
        let _ = (cx, func);
    }
    /// A safe point, after [`Context::request_safe_point`]; the request is
    /// cleared before the call.
    fn on_safe_point(&mut self, cx: &mut Context<'_, T>) {
        let _ = cx;
    }
}

/// A suspended caller's resume point (see `exec.rs`).
pub(crate) struct Frame {
    pub ip: *const Instr,
    pub bp: usize,
    pub instance: Instance,
    pub func: Func,
}

/// The running entry's stack as an observer sees it.
pub(crate) struct StackView<'a> {
    /// Suspended callers, outermost first.
    pub frames: &'a [Frame],
    /// The running function and its position.
    pub func: Func,
    pub ip: *const Instr,
    pub bp: usize,
    pub instance: Instance,
    /// The entry's value stack.
    pub values: &'a [u64],
    /// Whether this is the outermost entry into Wasm.
    pub outermost: bool,
}

/// What an observer's method may look at.
pub struct Context<'a, T> {
    pub(crate) store: &'a mut Store<T>,
    pub(crate) stack: StackView<'a>,
}

impl<'a, T> Context<'a, T> {
    /// The store (its memories, globals, tables and data).
    pub fn store(&self) -> &Store<T> {
        self.store
    }

    /// The store's data, mutably.
    pub fn data_mut(&mut self) -> &mut T {
        self.store.data_mut()
    }

    /// Instructions executed so far by observed entries of the store.
    pub fn instr_count(&self) -> u64 {
        self.store.inner.obs.count
    }

    /// Asks for [`Observer::on_safe_point`] at the next safe point.
    pub fn request_safe_point(&mut self) {
        self.store.inner.obs.safe_point_requested = true;
    }

    /// The functions on the stack, outermost first, the running one last
    /// (the stack of this entry into Wasm only).
    pub fn stack_funcs(&self) -> Vec<Func> {
        self.stack
            .frames
            .iter()
            .map(|f| f.func)
            .chain(std::iter::once(self.stack.func))
            .collect()
    }

    /// The running function.
    pub fn func(&self) -> Func {
        self.stack.func
    }

    /// The running function's registers (parameters and locals first).
    pub fn regs(&self) -> &[u64] {
        &self.stack.values[self.stack.bp.min(self.stack.values.len())..]
    }

    /// The instruction about to execute, with its index in the running
    /// function's code and the offset of the Wasm operator it came from
    /// (when the function's debug information can be made).
    pub fn instr(&self) -> (Instr, u32, Option<u32>) {
        // SAFETY: `ip` points into the running function's live code.
        let instr = unsafe { *self.stack.ip };
        let (index, offset) =
            crate::snapshot::position(&self.store.inner, self.stack.func, self.stack.ip);
        (instr, index, offset)
    }

    /// The instruction about to execute, as text: its Wasm offset, then the
    /// bytecode instruction with each register operand's value before it
    /// runs (`r3=7`); `dst` registers are shown without a value.
    pub fn describe_instr(&self) -> String {
        let (instr, index, offset) = self.instr();
        let regs = self.regs();
        let text = format!("{instr:?}");
        let mut out = String::with_capacity(text.len() + 16);
        match offset {
            Some(o) => out.push_str(&format!("@{o:#x} ")),
            None => out.push_str(&format!("#{index} ")),
        }
        let mut rest = text.as_str();
        while let Some(at) = rest.find("Reg(") {
            let field_is_dst = rest[..at].ends_with("dst: ");
            out.push_str(&rest[..at]);
            let tail = &rest[at + 4..];
            let end = tail.find(')').unwrap_or(tail.len());
            let n: usize = tail[..end].parse().unwrap_or(usize::MAX);
            out.push('r');
            out.push_str(&tail[..end]);
            if !field_is_dst {
                if let Some(v) = regs.get(n) {
                    out.push_str(&format!("={}", *v as i64));
                }
            }
            rest = tail.get(end + 1..).unwrap_or("");
        }
        out.push_str(rest);
        out
    }

    /// Captures the whole execution state at a safe point (only valid in
    /// [`Observer::on_safe_point`]).
    pub fn capture(&self) -> Result<crate::ExecState, crate::Error> {
        crate::snapshot::capture(&self.store.inner, &self.stack)
    }
}

/// The store's observation state (in `StoreInner`).
#[derive(Default)]
pub(crate) struct ObsState {
    pub count: u64,
    pub deadline: u64,
    pub safe_point_requested: bool,
    pub wants: Wants,
}

impl<T> Store<T> {
    /// Installs `observer` (replacing any other); it sees entries into Wasm
    /// made from now on.
    pub fn set_observer(&mut self, observer: Box<dyn Observer<T>>) {
        self.inner.obs.wants = observer.wants();
        self.inner.obs.deadline = observer.first_deadline();
        self.observer = Some(observer);
    }

    /// Removes the observer.
    pub fn take_observer(&mut self) -> Option<Box<dyn Observer<T>>> {
        self.observer.take()
    }

    /// Instructions executed so far by observed entries.
    pub fn instr_count(&self) -> u64 {
        self.inner.obs.count
    }
}

/// An event for [`notify`].
#[derive(Clone, Copy)]
pub(crate) enum Event {
    Deadline,
    Instr,
    Call(Func),
    Return(Func),
    SafePoint,
}

/// Calls the observer's method for `event` (out of line: the observed loop
/// stays compact).
#[cold]
#[inline(never)]
pub(crate) fn notify<T>(store: &mut Store<T>, stack: StackView<'_>, event: Event) {
    let Some(mut observer) = store.observer.take() else {
        return;
    };
    let mut cx = Context { store, stack };
    match event {
        Event::Deadline => {
            let next = observer.on_deadline(&mut cx);
            cx.store.inner.obs.deadline = next;
        }
        Event::Instr => observer.on_instr(&mut cx),
        Event::Call(f) => observer.on_call(&mut cx, f),
        Event::Return(f) => observer.on_return(&mut cx, f),
        Event::SafePoint => {
            cx.store.inner.obs.safe_point_requested = false;
            observer.on_safe_point(&mut cx)
        }
    }
    store.observer = Some(observer);
}

impl<T> Store<T> {
    /// A name for `func` in traces and profiles: a Wasm function as
    /// `module!name` (the name section's names, else `<module>` and
    /// `func[N]`) with the names its instance exports it under; a host
    /// function as the first import that binds it, `import module::name`.
    pub fn func_label(&self, func: Func) -> String {
        let inner = &self.inner;
        let Some(entity) = inner.funcs.get(func.0 as usize) else {
            return format!("<no function {}>", func.0);
        };
        match &entity.kind {
            crate::store::FuncKind::Wasm {
                module,
                func_index,
                instance,
                ..
            } => {
                let mut label = format!(
                    "{}!{}",
                    module.name.as_deref().unwrap_or("<module>"),
                    module
                        .func_name(*func_index)
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("func[{func_index}]"))
                );
                for (name, kind, idx) in &inner.instances[instance.0 as usize].module.exports {
                    if *kind == crate::module::ExportKind::Func && idx == func_index {
                        label.push_str(&format!(" (export \"{name}\")"));
                    }
                }
                label
            }
            crate::store::FuncKind::Host(_) => {
                for inst in &inner.instances {
                    let m = &inst.module;
                    let imported = m
                        .imports
                        .iter()
                        .filter(|i| matches!(i.desc, crate::module::ImportDesc::Func(_)));
                    for (imp, f) in imported.zip(&inst.funcs) {
                        if *f == func {
                            return format!("import {}::{}", imp.module, imp.name);
                        }
                    }
                }
                format!("host function {}", func.0)
            }
        }
    }
}
