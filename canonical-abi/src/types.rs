//! Component-level value types and their static Canonical ABI properties.
//!
//! This module ports the type-directed, value-independent parts of
//! `definitions.py`: `despecialize`, `alignment`, `elem_size`,
//! `discriminant_type`, `max_case_alignment`, `flatten_type`,
//! `flatten_variant`, `join` and `flatten_functype` (with `MAX_FLAT_PARAMS`
//! and `MAX_FLAT_RESULTS`). Only 32-bit memories are supported, so every
//! pointer and length is an `i32`.
//!
//! Invariants:
//! * [`ValueType`] is the *specialized* type as written in a component
//!   (`tuple`, `enum`, `option`, `result` are kept distinct so lifted
//!   [`Val`](super::Val)s keep their shape); [`despecialize`] gives the
//!   record/variant view that all layout and flattening rules are defined on.
//!   `string` and `flags` are not despecialized (they have their own ABI).
//! * All functions here are total (they never panic), but their results are
//!   only meaningful for types accepted by [`ValueType::validate`]: records
//!   and tuples have at least one field, variants and enums at least one
//!   case, flags between 1 and 32 labels. Component validation guarantees
//!   this; the ABI entry points assume it.
//! * Layout is the spec's: `alignment(t)` is a power of two in `{1,2,4,8}`,
//!   `elem_size(t)` is a multiple of `alignment(t)`.

/// Identity of a resource type (as assigned by the component instantiation
/// layer). Handles of different resource types never mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceTypeId(pub u32);

/// A component-model value type (`valtype` in the spec, minus async and
/// `error-context` types, and minus fixed-length lists).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ValueType {
    Bool,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
    S64,
    U64,
    F32,
    F64,
    Char,
    String,
    List(Box<ValueType>),
    /// Named fields, in declaration order.
    Record(Vec<(String, ValueType)>),
    Tuple(Vec<ValueType>),
    /// Named cases, each with an optional payload, in declaration order.
    Variant(Vec<(String, Option<ValueType>)>),
    Enum(Vec<String>),
    Option(Box<ValueType>),
    Result {
        ok: Option<Box<ValueType>>,
        err: Option<Box<ValueType>>,
    },
    /// Flag labels in declaration order; bit `i` is label `i`.
    Flags(Vec<String>),
    Own(ResourceTypeId),
    Borrow(ResourceTypeId),
}

/// A flat core value type: what a component value flattens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoreType {
    I32,
    I64,
    F32,
    F64,
}

/// The spec's maximum number of flat parameters before they are spilled to
/// memory (a single `i32` pointer is passed instead).
pub const MAX_FLAT_PARAMS: usize = 16;
/// The spec's maximum number of flat results before they are returned through
/// memory (a returned pointer when lifting, a `retptr` parameter when
/// lowering).
pub const MAX_FLAT_RESULTS: usize = 1;

/// The despecialized view of a [`ValueType`] (`despecialize(t)` in the
/// spec): tuples become records, enums/options/results become variants.
/// Labels are dropped because layout and flattening never depend on them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Despecialized<'a> {
    Bool,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
    S64,
    U64,
    F32,
    F64,
    Char,
    String,
    List(&'a ValueType),
    /// Field types in order.
    Record(Vec<&'a ValueType>),
    /// Case payload types in order (`None` for payload-less cases).
    Variant(Vec<Option<&'a ValueType>>),
    /// Number of flag labels.
    Flags(usize),
    Own(ResourceTypeId),
    Borrow(ResourceTypeId),
}

/// `despecialize(t)`.
pub fn despecialize(t: &ValueType) -> Despecialized<'_> {
    use Despecialized as D;
    match t {
        ValueType::Bool => D::Bool,
        ValueType::S8 => D::S8,
        ValueType::U8 => D::U8,
        ValueType::S16 => D::S16,
        ValueType::U16 => D::U16,
        ValueType::S32 => D::S32,
        ValueType::U32 => D::U32,
        ValueType::S64 => D::S64,
        ValueType::U64 => D::U64,
        ValueType::F32 => D::F32,
        ValueType::F64 => D::F64,
        ValueType::Char => D::Char,
        ValueType::String => D::String,
        ValueType::List(t) => D::List(t),
        ValueType::Flags(labels) => D::Flags(labels.len()),
        ValueType::Own(rt) => D::Own(*rt),
        ValueType::Borrow(rt) => D::Borrow(*rt),
        _ => {
            if let Some(fields) = record_field_types(t) {
                D::Record(fields)
            } else {
                D::Variant(variant_case_types(t).unwrap_or_default())
            }
        }
    }
}

/// Field types of a record-like type (`record`, `tuple`), else `None`.
pub fn record_field_types(t: &ValueType) -> Option<Vec<&ValueType>> {
    match t {
        ValueType::Record(fields) => Some(fields.iter().map(|(_, t)| t).collect()),
        ValueType::Tuple(ts) => Some(ts.iter().collect()),
        _ => None,
    }
}

/// Case payload types of a variant-like type (`variant`, `enum`, `option`,
/// `result`), else `None`. The case order is the spec's: `option` is
/// `none | some(t)`, `result` is `ok(t?) | error(e?)`.
pub fn variant_case_types(t: &ValueType) -> Option<Vec<Option<&ValueType>>> {
    match t {
        ValueType::Variant(cases) => Some(cases.iter().map(|(_, t)| t.as_ref()).collect()),
        ValueType::Enum(labels) => Some(vec![None; labels.len()]),
        ValueType::Option(t) => Some(vec![None, Some(&**t)]),
        ValueType::Result { ok, err } => Some(vec![ok.as_deref(), err.as_deref()]),
        _ => None,
    }
}

/// Whether `ptr` is `alignment`-aligned: `align_to(ptr, alignment) == ptr`,
/// as one remainder (a mask for the constant alignments the glue passes).
#[inline]
pub fn is_aligned(ptr: u32, alignment: u32) -> bool {
    ptr.is_multiple_of(alignment.max(1))
}

/// `align_to(ptr, alignment)`: round `ptr` up to a multiple of `alignment`.
pub fn align_to(ptr: u64, alignment: u32) -> u64 {
    let a = u64::from(alignment.max(1));
    ptr.div_ceil(a) * a
}

/// Byte size (and alignment) of `discriminant_type(cases)` for `n` cases:
/// the smallest of `u8`/`u16`/`u32` that can number all cases.
pub fn discriminant_size(n: usize) -> u32 {
    // match math.ceil(math.log2(n)/8): 0|1 -> u8, 2 -> u16, 3 -> u32
    if n <= 1 << 8 {
        1
    } else if n <= 1 << 16 {
        2
    } else {
        4
    }
}

/// The core type a discriminant flattens to (always `i32`).
pub const DISCRIMINANT_CORE_TYPE: CoreType = CoreType::I32;

/// `alignment(t)`.
pub fn alignment(t: &ValueType) -> u32 {
    use Despecialized as D;
    match despecialize(t) {
        D::Bool | D::S8 | D::U8 => 1,
        D::S16 | D::U16 => 2,
        D::S32 | D::U32 | D::F32 | D::Char => 4,
        D::S64 | D::U64 | D::F64 => 8,
        D::String | D::List(_) => 4,
        D::Record(fields) => alignment_record(fields),
        D::Variant(cases) => alignment_variant(&cases),
        D::Flags(n) => alignment_flags(n),
        D::Own(_) | D::Borrow(_) => 4,
    }
}

/// `alignment_record(fields)`.
pub fn alignment_record<'a>(fields: impl IntoIterator<Item = &'a ValueType>) -> u32 {
    fields.into_iter().map(alignment).fold(1, u32::max)
}

/// `alignment_variant(cases)`.
pub fn alignment_variant(cases: &[Option<&ValueType>]) -> u32 {
    discriminant_size(cases.len()).max(max_case_alignment(cases))
}

/// `max_case_alignment(cases)`.
pub fn max_case_alignment(cases: &[Option<&ValueType>]) -> u32 {
    cases
        .iter()
        .flatten()
        .map(|t| alignment(t))
        .fold(1, u32::max)
}

/// `alignment_flags(labels)` for `n` labels (`0 < n <= 32`).
pub fn alignment_flags(n: usize) -> u32 {
    elem_size_flags(n)
}

/// `elem_size(t)`: the number of bytes a value of type `t` occupies in
/// memory (as a list element, record field, spilled tuple, ...).
pub fn elem_size(t: &ValueType) -> u32 {
    use Despecialized as D;
    match despecialize(t) {
        D::Bool | D::S8 | D::U8 => 1,
        D::S16 | D::U16 => 2,
        D::S32 | D::U32 | D::F32 | D::Char => 4,
        D::S64 | D::U64 | D::F64 => 8,
        D::String | D::List(_) => 8,
        D::Record(fields) => elem_size_record(fields),
        D::Variant(cases) => elem_size_variant(&cases),
        D::Flags(n) => elem_size_flags(n),
        D::Own(_) | D::Borrow(_) => 4,
    }
}

/// `elem_size_record(fields)`.
pub fn elem_size_record<'a>(fields: impl IntoIterator<Item = &'a ValueType> + Clone) -> u32 {
    let mut s: u64 = 0;
    for f in fields.clone() {
        s = align_to(s, alignment(f));
        s += u64::from(elem_size(f));
    }
    align_to(s, alignment_record(fields)) as u32
}

/// `elem_size_variant(cases)`.
pub fn elem_size_variant(cases: &[Option<&ValueType>]) -> u32 {
    let mut s = u64::from(discriminant_size(cases.len()));
    s = align_to(s, max_case_alignment(cases));
    let cs = cases
        .iter()
        .flatten()
        .map(|t| elem_size(t))
        .max()
        .unwrap_or(0);
    s += u64::from(cs);
    align_to(s, alignment_variant(cases)) as u32
}

/// `elem_size_flags(labels)` for `n` labels (`0 < n <= 32`).
pub fn elem_size_flags(n: usize) -> u32 {
    if n <= 8 {
        1
    } else if n <= 16 {
        2
    } else {
        4
    }
}

/// Byte offset of the case payload inside a variant:
/// `align_to(size(discriminant_type), max_case_alignment(cases))`.
pub fn variant_payload_offset(cases: &[Option<&ValueType>]) -> u32 {
    align_to(
        u64::from(discriminant_size(cases.len())),
        max_case_alignment(cases),
    ) as u32
}

/// `flatten_type(t)`.
pub fn flatten_type(t: &ValueType) -> Vec<CoreType> {
    let mut out = Vec::new();
    flatten_type_into(t, &mut out);
    out
}

/// `flatten_types(ts)`.
pub fn flatten_types<T: core::borrow::Borrow<ValueType>>(ts: &[T]) -> Vec<CoreType> {
    let mut out = Vec::new();
    for t in ts {
        flatten_type_into(t.borrow(), &mut out);
    }
    out
}

/// `flatten_type(t)`, appending to `out`.
pub fn flatten_type_into(t: &ValueType, out: &mut Vec<CoreType>) {
    use Despecialized as D;
    match despecialize(t) {
        D::Bool | D::S8 | D::U8 | D::S16 | D::U16 | D::S32 | D::U32 | D::Char => {
            out.push(CoreType::I32)
        }
        D::S64 | D::U64 => out.push(CoreType::I64),
        D::F32 => out.push(CoreType::F32),
        D::F64 => out.push(CoreType::F64),
        D::String | D::List(_) => out.extend([CoreType::I32, CoreType::I32]),
        D::Record(fields) => {
            for f in fields {
                flatten_type_into(f, out);
            }
        }
        D::Variant(cases) => out.extend(flatten_variant(&cases)),
        D::Flags(_) => out.push(CoreType::I32),
        D::Own(_) | D::Borrow(_) => out.push(CoreType::I32),
    }
}

/// `flatten_variant(cases)`: the discriminant's `i32` followed by the
/// element-wise [`join`] of all case payload flattenings.
pub fn flatten_variant(cases: &[Option<&ValueType>]) -> Vec<CoreType> {
    let mut flat: Vec<CoreType> = Vec::new();
    for t in cases.iter().flatten() {
        for (i, ft) in flatten_type(t).into_iter().enumerate() {
            if i < flat.len() {
                flat[i] = join(flat[i], ft);
            } else {
                flat.push(ft);
            }
        }
    }
    let mut out = Vec::with_capacity(flat.len() + 1);
    out.push(DISCRIMINANT_CORE_TYPE);
    out.extend(flat);
    out
}

/// `join(a, b)`: the tightest core type both `a` and `b` can be bit-cast to.
pub fn join(a: CoreType, b: CoreType) -> CoreType {
    use CoreType::*;
    match (a, b) {
        _ if a == b => a,
        (I32, F32) | (F32, I32) => I32,
        _ => I64,
    }
}

/// A component function type: named parameters and zero or one result.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FuncType {
    pub params: Vec<(String, ValueType)>,
    pub result: Option<ValueType>,
}

impl FuncType {
    /// `ft.param_types()`.
    pub fn param_types(&self) -> Vec<&ValueType> {
        self.params.iter().map(|(_, t)| t).collect()
    }
    /// `ft.result_type()` (zero or one type).
    pub fn result_types(&self) -> Vec<&ValueType> {
        self.result.iter().collect()
    }
}

/// A core function type (`CoreFuncType` in the spec).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CoreFuncType {
    pub params: Vec<CoreType>,
    pub results: Vec<CoreType>,
}

/// Which side of a call `flatten_functype` describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlattenContext {
    /// `canon lift`: the core function *is called* by the ABI; too many
    /// results are returned as a single `i32` pointer.
    Lift,
    /// `canon lower`: the core function *calls* the ABI; too many results
    /// are written through a caller-provided `retptr` appended to the params.
    Lower,
}

/// `flatten_functype(ft, context)` (synchronous ABI, 32-bit memory).
pub fn flatten_functype(ft: &FuncType, context: FlattenContext) -> CoreFuncType {
    let mut flat_params = flatten_types(&ft.param_types());
    let mut flat_results = flatten_types(&ft.result_types());
    if flat_params.len() > MAX_FLAT_PARAMS {
        flat_params = vec![CoreType::I32];
    }
    if flat_results.len() > MAX_FLAT_RESULTS {
        match context {
            FlattenContext::Lift => flat_results = vec![CoreType::I32],
            FlattenContext::Lower => {
                flat_params.push(CoreType::I32);
                flat_results = Vec::new();
            }
        }
    }
    CoreFuncType {
        params: flat_params,
        results: flat_results,
    }
}

impl ValueType {
    /// Checks the structural rules the Canonical ABI relies on (and that
    /// component validation enforces): records/tuples have a field,
    /// variants/enums a case, flags 1..=32 labels, no duplicate labels.
    pub fn validate(&self) -> Result<(), super::AbiError> {
        use super::AbiError::InvalidType;
        fn unique<'a>(
            what: &str,
            labels: impl Iterator<Item = &'a str>,
        ) -> Result<(), super::AbiError> {
            let mut seen = std::collections::HashSet::new();
            for l in labels {
                if !seen.insert(l) {
                    return Err(InvalidType(format!("duplicate {what} label `{l}`")));
                }
            }
            Ok(())
        }
        match self {
            ValueType::List(t) | ValueType::Option(t) => t.validate(),
            ValueType::Record(fields) => {
                if fields.is_empty() {
                    return Err(InvalidType("record with no fields".into()));
                }
                unique("field", fields.iter().map(|(n, _)| n.as_str()))?;
                fields.iter().try_for_each(|(_, t)| t.validate())
            }
            ValueType::Tuple(ts) => {
                if ts.is_empty() {
                    return Err(InvalidType("tuple with no fields".into()));
                }
                ts.iter().try_for_each(|t| t.validate())
            }
            ValueType::Variant(cases) => {
                if cases.is_empty() {
                    return Err(InvalidType("variant with no cases".into()));
                }
                unique("case", cases.iter().map(|(n, _)| n.as_str()))?;
                cases
                    .iter()
                    .flat_map(|(_, t)| t)
                    .try_for_each(|t| t.validate())
            }
            ValueType::Enum(labels) => {
                if labels.is_empty() {
                    return Err(InvalidType("enum with no cases".into()));
                }
                unique("enum", labels.iter().map(|s| s.as_str()))
            }
            ValueType::Result { ok, err } => {
                ok.iter().chain(err.iter()).try_for_each(|t| t.validate())
            }
            ValueType::Flags(labels) => {
                if labels.is_empty() || labels.len() > 32 {
                    return Err(InvalidType(format!(
                        "flags must have 1..=32 labels, found {}",
                        labels.len()
                    )));
                }
                unique("flag", labels.iter().map(|s| s.as_str()))
            }
            _ => Ok(()),
        }
    }
}
