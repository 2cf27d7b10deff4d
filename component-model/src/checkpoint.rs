//! What a checkpoint carries of an instantiated component beyond core-vm's
//! [`core_vm::ExecState`]: the Canonical ABI's own state
//! ([`ComponentState`]), captured by `ComponentInstance::capture` and put
//! back by `ComponentInstance::restore` before `ComponentFunc::resume`
//! resumes the suspended export call.
//!
//! Invariants:
//! * A capture is taken at a core-vm safe point, which lies in the
//!   outermost entry into Wasm: the core function of the one `canon
//!   lift`ed export call in progress (no host function, so no lowered call,
//!   lend or `realloc` of a lowered call, is in progress). So every
//!   instance's `may_leave` is true and exactly one call is running;
//!   when the outermost entry is instead the export's `realloc` or
//!   `post-return` (`may_leave` false), the capture is refused as *busy*
//!   ([`crate::Error::is_busy`]) and a later safe point may take it.
//! * The call in progress is saved by name, instance and whether it has a
//!   `post-return` still to run: resuming it runs the rest of the call
//!   (lift the results, `post-return`, the borrow check) exactly as the
//!   uninterrupted call would have.
//! * Resource types are saved as their runtime index, which instantiating
//!   the same component reproduces; reps are whatever the tables held (for
//!   host resources, the host's own ids, which the host restores itself).

use canonical_abi::{HandleTable, ResourceHandle, ResourceTypeId};
use serde::{Deserialize, Serialize};

/// The component-model state of a suspended component instance.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ComponentState {
    /// Per runtime component instance, its handle table.
    pub tables: Vec<TableState>,
    /// Per runtime component instance, whether an earlier trap poisoned it.
    pub poisoned: Vec<bool>,
    /// The export call in progress.
    pub call: CallState,
}

/// The `canon lift`ed call a checkpoint suspends.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CallState {
    /// The function's name as messages show it (`wasi:cli/run@0.2.0#run`).
    pub func: String,
    /// The runtime component instance it entered.
    pub instance: u32,
    /// Whether a `post-return` runs after its results are lifted.
    pub post_return: bool,
}

/// One instance's handle table (the spec's `Table` of `ResourceHandle`s).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableState {
    /// Every slot, index 0 (never a handle) first.
    pub slots: Vec<Option<HandleState>>,
    /// The free slots, reused from the end.
    pub free: Vec<u32>,
    /// `num_borrows` of the export call in progress.
    pub num_borrows: u32,
}

/// A `ResourceHandle`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct HandleState {
    /// The runtime resource type's index.
    pub rt: u32,
    pub rep: u32,
    pub own: bool,
    pub borrow_scoped: bool,
    pub num_lends: u32,
}

impl TableState {
    pub(crate) fn of(t: &HandleTable) -> TableState {
        TableState {
            slots: t
                .slots()
                .iter()
                .map(|s| {
                    s.as_ref().map(|h| HandleState {
                        rt: h.rt.0,
                        rep: h.rep,
                        own: h.own,
                        borrow_scoped: h.borrow_scoped,
                        num_lends: h.num_lends,
                    })
                })
                .collect(),
            free: t.free_slots().to_vec(),
            num_borrows: t.num_borrows,
        }
    }

    /// Writes this state into `t`; `resources` is the number of runtime
    /// resource types (a handle of another type is refused).
    pub(crate) fn put(&self, t: &mut HandleTable, resources: usize) -> Result<(), String> {
        let mut slots = Vec::with_capacity(self.slots.len());
        for (i, s) in self.slots.iter().enumerate() {
            slots.push(match s {
                Some(h) if h.rt as usize >= resources => {
                    return Err(format!(
                        "handle {i} has resource type {}; the component has {resources}",
                        h.rt
                    ))
                }
                Some(h) => Some(ResourceHandle {
                    rt: ResourceTypeId(h.rt),
                    rep: h.rep,
                    own: h.own,
                    borrow_scoped: h.borrow_scoped,
                    num_lends: h.num_lends,
                }),
                None => None,
            });
        }
        t.restore(slots, self.free.clone(), self.num_borrows)
            .map_err(|e| format!("inconsistent handle table: {e}"))
    }
}
