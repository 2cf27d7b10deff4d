//! The hook through which the ABI lifts and lowers `own` / `borrow` handles.
//!
//! In the spec a handle is an `i32` index into the current component
//! instance's `handles` table, and the lifted value of a handle type is the
//! resource's `rep`. The four operations and the rules an implementation of
//! [`ResourceTables`] must enforce (each violated rule is a trap) are:
//!
//! * `lift_own(rt, i)`: remove element `i` from the table; trap if `i` is
//!   not a live handle, if its resource type is not `rt`, if it is currently
//!   lent out (`num_lends != 0`), or if it is not an `own` handle. Ownership
//!   moves to the receiver; returns `rep`.
//! * `lift_borrow(rt, i)` (only while lifting the arguments of a
//!   `canon lower`ed call): look up `i` (trap if absent or of the wrong
//!   resource type), then `add_lender`: increment its `num_lends` and
//!   remember it so the lend ends when the call returns; returns `rep`.
//! * `lower_own(rt, rep)`: add a new `own` handle for `rep`; returns its index.
//! * `lower_borrow(rt, rep)` (only while lowering the arguments of a
//!   `canon lift`ed call): if the receiving instance implements `rt`, return
//!   `rep` itself; otherwise add a `borrow` handle scoped to the current task
//!   and increment the task's `num_borrows` (which must be back to 0, via
//!   `resource.drop`, when the task exits, else trap).
//!
//! Invariant: the value carried in [`Val::Resource`](super::Val) is exactly
//! what `lift_*` returned / `lower_*` receives. For guest-implemented
//! resources that is the spec's `rep`; a host is free to use its own
//! identifier instead, as long as its `ResourceTables` is consistent.
//!
//! [`HandleTable`] is a simple, spec-faithful single-instance implementation
//! (the spec's `Table` of `ResourceHandle`s) used by the tests.

use super::{AbiError, ResourceTypeId};
use std::collections::HashSet;

/// Lifting and lowering of resource handles (see module docs for the rules).
pub trait ResourceTables {
    /// Lifts an `own<rt>` handle index, transferring ownership out.
    fn lift_own(&mut self, rt: ResourceTypeId, handle: u32) -> Result<u32, AbiError>;
    /// Lifts a `borrow<rt>` handle index, lending it for the current call.
    fn lift_borrow(&mut self, rt: ResourceTypeId, handle: u32) -> Result<u32, AbiError>;
    /// Lowers an owned resource into a new `own<rt>` handle index.
    fn lower_own(&mut self, rt: ResourceTypeId, rep: u32) -> Result<u32, AbiError>;
    /// Lowers a borrowed resource into a `borrow<rt>` handle index (or the
    /// `rep` itself when the receiver implements `rt`).
    fn lower_borrow(&mut self, rt: ResourceTypeId, rep: u32) -> Result<u32, AbiError>;
}

/// For contexts that never see handle types: every operation fails with
/// [`AbiError::MissingResourceTables`].
#[derive(Debug, Clone, Copy, Default)]
pub struct NoResources;

impl ResourceTables for NoResources {
    fn lift_own(&mut self, _: ResourceTypeId, _: u32) -> Result<u32, AbiError> {
        Err(AbiError::MissingResourceTables)
    }
    fn lift_borrow(&mut self, _: ResourceTypeId, _: u32) -> Result<u32, AbiError> {
        Err(AbiError::MissingResourceTables)
    }
    fn lower_own(&mut self, _: ResourceTypeId, _: u32) -> Result<u32, AbiError> {
        Err(AbiError::MissingResourceTables)
    }
    fn lower_borrow(&mut self, _: ResourceTypeId, _: u32) -> Result<u32, AbiError> {
        Err(AbiError::MissingResourceTables)
    }
}

/// The spec's `ResourceHandle`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceHandle {
    pub rt: ResourceTypeId,
    pub rep: u32,
    pub own: bool,
    /// `borrow_scope is not None`: this borrow counts in the current task's
    /// `num_borrows`.
    pub borrow_scoped: bool,
    pub num_lends: u32,
}

/// A spec-faithful handle table for one component instance, plus the state
/// of the one task / subtask in flight (`num_borrows`, `lenders`).
#[derive(Debug, Clone)]
pub struct HandleTable {
    array: Vec<Option<ResourceHandle>>,
    free: Vec<u32>,
    /// `Task.num_borrows` of the current export call.
    pub num_borrows: u32,
    /// Handles lent by `lift_borrow` during the current import call.
    lenders: Vec<u32>,
    /// Resource types implemented by this instance (`t.rt.impl is cx.inst`).
    pub implemented: HashSet<ResourceTypeId>,
}

impl Default for HandleTable {
    fn default() -> Self {
        Self::new()
    }
}

impl HandleTable {
    /// `Table.MAX_LENGTH`.
    pub const MAX_LENGTH: u32 = (1 << 28) - 1;

    /// An empty table; index 0 is reserved (never a valid handle).
    pub fn new() -> Self {
        HandleTable {
            array: vec![None],
            free: Vec::new(),
            num_borrows: 0,
            lenders: Vec::new(),
            implemented: HashSet::new(),
        }
    }

    /// `Table.get(i)`.
    pub fn get(&self, i: u32) -> Result<&ResourceHandle, AbiError> {
        self.array
            .get(i as usize)
            .and_then(|e| e.as_ref())
            .ok_or(AbiError::InvalidHandle(i))
    }

    /// `Table.add(e)`.
    pub fn add(&mut self, h: ResourceHandle) -> Result<u32, AbiError> {
        if let Some(i) = self.free.pop() {
            self.array[i as usize] = Some(h);
            Ok(i)
        } else {
            let i = self.array.len() as u32;
            if i > Self::MAX_LENGTH {
                return Err(AbiError::TableFull);
            }
            self.array.push(Some(h));
            Ok(i)
        }
    }

    /// `Table.remove(i)`.
    pub fn remove(&mut self, i: u32) -> Result<ResourceHandle, AbiError> {
        self.get(i)?;
        self.free.push(i);
        Ok(self.array[i as usize].take().expect("checked by get"))
    }

    fn get_typed(&self, rt: ResourceTypeId, i: u32) -> Result<&ResourceHandle, AbiError> {
        let h = self.get(i)?;
        if h.rt != rt {
            return Err(AbiError::HandleTypeMismatch { handle: i });
        }
        Ok(h)
    }

    /// `canon resource.new`.
    pub fn resource_new(&mut self, rt: ResourceTypeId, rep: u32) -> Result<u32, AbiError> {
        self.add(ResourceHandle {
            rt,
            rep,
            own: true,
            borrow_scoped: false,
            num_lends: 0,
        })
    }

    /// `canon resource.rep`.
    pub fn resource_rep(&self, rt: ResourceTypeId, i: u32) -> Result<u32, AbiError> {
        Ok(self.get_typed(rt, i)?.rep)
    }

    /// `canon resource.drop`: returns `Some(rep)` when an owned resource was
    /// dropped (its destructor must then run), `None` for a borrow.
    pub fn resource_drop(&mut self, rt: ResourceTypeId, i: u32) -> Result<Option<u32>, AbiError> {
        // `get_typed`'s checks and `remove`, with one lookup of the slot.
        let slot = self.array.get_mut(i as usize);
        let Some(h) = slot.as_ref().and_then(|s| s.as_ref()) else {
            return Err(AbiError::InvalidHandle(i));
        };
        if h.rt != rt {
            return Err(AbiError::HandleTypeMismatch { handle: i });
        }
        if h.num_lends != 0 {
            return Err(AbiError::HandleLent(i));
        }
        let (own, rep, borrow_scoped) = (h.own, h.rep, h.borrow_scoped);
        if let Some(s) = slot {
            *s = None;
        }
        self.free.push(i);
        if own {
            Ok(Some(rep))
        } else {
            if borrow_scoped {
                self.num_borrows = self.num_borrows.saturating_sub(1);
            }
            Ok(None)
        }
    }

    /// Every slot, index 0 (reserved) first: what a checkpoint saves.
    pub fn slots(&self) -> &[Option<ResourceHandle>] {
        &self.array
    }

    /// The free slots, in the order [`HandleTable::add`] reuses them from
    /// the end.
    pub fn free_slots(&self) -> &[u32] {
        &self.free
    }

    /// Whether a `canon lower`ed call is lending handles (between its
    /// `lift_borrow`s and [`HandleTable::finish_import_call`]).
    pub fn is_lending(&self) -> bool {
        !self.lenders.is_empty()
    }

    /// Puts back a table saved with [`HandleTable::slots`],
    /// [`HandleTable::free_slots`] and `num_borrows`, keeping
    /// `implemented`. Fails, changing nothing, unless slot 0 is empty and
    /// the free list names exactly the other empty slots, each once.
    pub fn restore(
        &mut self,
        slots: Vec<Option<ResourceHandle>>,
        free: Vec<u32>,
        num_borrows: u32,
    ) -> Result<(), AbiError> {
        let bad = AbiError::InvalidHandle;
        if slots.first().is_none_or(Option::is_some) {
            return Err(bad(0));
        }
        if slots.len() as u64 > u64::from(Self::MAX_LENGTH) + 1 {
            return Err(AbiError::TableFull);
        }
        let mut seen = vec![false; slots.len()];
        for &i in &free {
            match slots.get(i as usize) {
                Some(None) if i != 0 && !std::mem::replace(&mut seen[i as usize], true) => {}
                _ => return Err(bad(i)),
            }
        }
        let empty = slots.iter().skip(1).filter(|s| s.is_none()).count();
        if empty != free.len() {
            return Err(bad(0));
        }
        self.array = slots;
        self.free = free;
        self.num_borrows = num_borrows;
        self.lenders.clear();
        Ok(())
    }

    /// End of a `canon lower`ed call: every lend taken by `lift_borrow` ends.
    pub fn finish_import_call(&mut self) {
        // `lenders` keeps its capacity: most calls lend one handle.
        for &i in &self.lenders {
            if let Some(Some(h)) = self.array.get_mut(i as usize) {
                h.num_lends = h.num_lends.saturating_sub(1);
            }
        }
        self.lenders.clear();
    }

    /// End of a `canon lift`ed call (`Task.exit`): trap if borrows remain.
    pub fn finish_export_call(&self) -> Result<(), AbiError> {
        if self.num_borrows != 0 {
            return Err(AbiError::BorrowsOutstanding(self.num_borrows));
        }
        Ok(())
    }
}

impl ResourceTables for HandleTable {
    fn lift_own(&mut self, rt: ResourceTypeId, i: u32) -> Result<u32, AbiError> {
        let h = self.get_typed(rt, i)?;
        if h.num_lends != 0 {
            return Err(AbiError::HandleLent(i));
        }
        if !h.own {
            return Err(AbiError::NotAnOwnHandle(i));
        }
        Ok(self.remove(i)?.rep)
    }

    fn lift_borrow(&mut self, rt: ResourceTypeId, i: u32) -> Result<u32, AbiError> {
        self.get_typed(rt, i)?;
        let h = self.array[i as usize].as_mut().expect("checked by get");
        h.num_lends += 1;
        self.lenders.push(i);
        Ok(h.rep)
    }

    fn lower_own(&mut self, rt: ResourceTypeId, rep: u32) -> Result<u32, AbiError> {
        self.resource_new(rt, rep)
    }

    fn lower_borrow(&mut self, rt: ResourceTypeId, rep: u32) -> Result<u32, AbiError> {
        if self.implemented.contains(&rt) {
            return Ok(rep);
        }
        let i = self.add(ResourceHandle {
            rt,
            rep,
            own: false,
            borrow_scoped: true,
            num_lends: 0,
        })?;
        self.num_borrows += 1;
        Ok(i)
    }
}
