//! Dynamic component-level values ([`Val`]), the lifted form of every value
//! type, and their type check.
//!
//! Invariants:
//! * Lifting a value of type `t` always yields a `Val` for which
//!   `val.type_check(t)` succeeds, with the *specialized* shape of `t`
//!   (a `tuple` lifts to [`Val::Tuple`], an `option` to [`Val::Option`], ...).
//! * Lowering checks the value against its type as it goes and reports
//!   [`AbiError::TypeMismatch`] (an embedder error, not a trap) instead of
//!   panicking; [`Val::type_check`] performs the same check up front.
//! * Record fields must appear in the type's field order with the type's
//!   names; [`Val::Flags`] lists the names of the flags that are set (any
//!   order, no duplicates; lifting yields them in declaration order).
//! * [`Val::Resource`] carries the lifted value of an `own`/`borrow` handle
//!   (see [`ResourceTables`](super::ResourceTables)), not a guest handle
//!   index.

use super::{AbiError, StringValue, ValueType};

/// A component-level value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Bool(bool),
    S8(i8),
    U8(u8),
    S16(i16),
    U16(u16),
    S32(i32),
    U32(u32),
    S64(i64),
    U64(u64),
    Float32(f32),
    Float64(f64),
    Char(char),
    String(StringValue),
    List(Vec<Val>),
    /// Fields as `(name, value)` in the type's order.
    Record(Vec<(String, Val)>),
    Tuple(Vec<Val>),
    /// Case name and payload.
    Variant(String, Option<Box<Val>>),
    /// Case name.
    Enum(String),
    Option(Option<Box<Val>>),
    Result(Result<Option<Box<Val>>, Option<Box<Val>>>),
    /// Names of the flags that are set.
    Flags(Vec<String>),
    /// The lifted value of an `own` or `borrow` handle.
    Resource(u32),
}

fn mismatch(v: &Val, t: &ValueType) -> AbiError {
    AbiError::TypeMismatch(format!("{} is not a value of type {t:?}", v.kind()))
}

impl Val {
    /// A string value with the host hint (utf8).
    pub fn string(s: impl Into<String>) -> Val {
        Val::String(StringValue::new(s))
    }

    /// Short name of the value's variant, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Val::Bool(_) => "bool",
            Val::S8(_) => "s8",
            Val::U8(_) => "u8",
            Val::S16(_) => "s16",
            Val::U16(_) => "u16",
            Val::S32(_) => "s32",
            Val::U32(_) => "u32",
            Val::S64(_) => "s64",
            Val::U64(_) => "u64",
            Val::Float32(_) => "f32",
            Val::Float64(_) => "f64",
            Val::Char(_) => "char",
            Val::String(_) => "string",
            Val::List(_) => "list",
            Val::Record(_) => "record",
            Val::Tuple(_) => "tuple",
            Val::Variant(..) => "variant",
            Val::Enum(_) => "enum",
            Val::Option(_) => "option",
            Val::Result(_) => "result",
            Val::Flags(_) => "flags",
            Val::Resource(_) => "resource",
        }
    }

    /// Checks that this value is a value of type `t`.
    pub fn type_check(&self, t: &ValueType) -> Result<(), AbiError> {
        use ValueType as T;
        match (self, t) {
            (Val::Bool(_), T::Bool)
            | (Val::S8(_), T::S8)
            | (Val::U8(_), T::U8)
            | (Val::S16(_), T::S16)
            | (Val::U16(_), T::U16)
            | (Val::S32(_), T::S32)
            | (Val::U32(_), T::U32)
            | (Val::S64(_), T::S64)
            | (Val::U64(_), T::U64)
            | (Val::Float32(_), T::F32)
            | (Val::Float64(_), T::F64)
            | (Val::Char(_), T::Char)
            | (Val::String(_), T::String)
            | (Val::Resource(_), T::Own(_) | T::Borrow(_)) => Ok(()),
            (Val::List(vs), T::List(et)) => vs.iter().try_for_each(|v| v.type_check(et)),
            (Val::Record(_) | Val::Tuple(_), T::Record(_) | T::Tuple(_)) => self
                .record_values(t)?
                .into_iter()
                .zip(super::types::record_field_types(t).unwrap_or_default())
                .try_for_each(|(v, ft)| v.type_check(ft)),
            (Val::Variant(..) | Val::Enum(_) | Val::Option(_) | Val::Result(_), _) => {
                let (index, payload) = self.case_of(t)?;
                let cases = super::types::variant_case_types(t).unwrap_or_default();
                match (cases[index as usize], payload) {
                    (Some(pt), Some(p)) => p.type_check(pt),
                    _ => Ok(()),
                }
            }
            (Val::Flags(_), T::Flags(_)) => self.flags_bits(t).map(|_| ()),
            _ => Err(mismatch(self, t)),
        }
    }

    /// For a record/tuple value of record-like type `t`: the field values in
    /// order (names checked, payloads not recursively checked).
    pub(crate) fn record_values(&self, t: &ValueType) -> Result<Vec<&Val>, AbiError> {
        match (self, t) {
            (Val::Record(fields), ValueType::Record(ftys)) => {
                if fields.len() != ftys.len() {
                    return Err(AbiError::TypeMismatch(format!(
                        "record has {} fields, type has {}",
                        fields.len(),
                        ftys.len()
                    )));
                }
                fields
                    .iter()
                    .zip(ftys)
                    .map(|((n, v), (tn, _))| {
                        if n == tn {
                            Ok(v)
                        } else {
                            Err(AbiError::TypeMismatch(format!(
                                "record field `{n}` where `{tn}` was expected"
                            )))
                        }
                    })
                    .collect()
            }
            (Val::Tuple(vs), ValueType::Tuple(ts)) => {
                if vs.len() != ts.len() {
                    return Err(AbiError::TypeMismatch(format!(
                        "tuple has {} elements, type has {}",
                        vs.len(),
                        ts.len()
                    )));
                }
                Ok(vs.iter().collect())
            }
            _ => Err(mismatch(self, t)),
        }
    }

    /// For a variant-like value of variant-like type `t`: `match_case`, i.e.
    /// the case index and the payload. Checks that the payload's presence
    /// matches the case (the payload itself is not recursively checked).
    pub(crate) fn case_of(&self, t: &ValueType) -> Result<(u32, Option<&Val>), AbiError> {
        use ValueType as T;
        let (index, payload, has_payload_type) = match (self, t) {
            (Val::Variant(name, payload), T::Variant(cases)) => {
                let i = cases
                    .iter()
                    .position(|(n, _)| n == name)
                    .ok_or_else(|| AbiError::TypeMismatch(format!("no variant case `{name}`")))?;
                (i, payload.as_deref(), cases[i].1.is_some())
            }
            (Val::Enum(name), T::Enum(labels)) => {
                let i = labels
                    .iter()
                    .position(|n| n == name)
                    .ok_or_else(|| AbiError::TypeMismatch(format!("no enum case `{name}`")))?;
                (i, None, false)
            }
            (Val::Option(None), T::Option(_)) => (0, None, false),
            (Val::Option(Some(v)), T::Option(_)) => (1, Some(&**v), true),
            (Val::Result(Ok(v)), T::Result { ok, .. }) => (0, v.as_deref(), ok.is_some()),
            (Val::Result(Err(v)), T::Result { err, .. }) => (1, v.as_deref(), err.is_some()),
            _ => return Err(mismatch(self, t)),
        };
        if payload.is_some() != has_payload_type {
            return Err(AbiError::TypeMismatch(format!(
                "case {index} of {t:?} {} a payload",
                if has_payload_type {
                    "requires"
                } else {
                    "has no"
                }
            )));
        }
        Ok((index as u32, payload))
    }

    /// Builds the value of case `index` of variant-like type `t`.
    pub(crate) fn from_case(t: &ValueType, index: u32, payload: Option<Val>) -> Val {
        let payload = payload.map(Box::new);
        match t {
            ValueType::Variant(cases) => Val::Variant(cases[index as usize].0.clone(), payload),
            ValueType::Enum(labels) => Val::Enum(labels[index as usize].clone()),
            ValueType::Option(_) => Val::Option(if index == 0 { None } else { payload }),
            ValueType::Result { .. } => Val::Result(if index == 0 {
                Ok(payload)
            } else {
                Err(payload)
            }),
            _ => unreachable!("from_case on a non-variant type"),
        }
    }

    /// Builds the value of record-like type `t` from its field values.
    pub(crate) fn from_fields(t: &ValueType, vals: Vec<Val>) -> Val {
        match t {
            ValueType::Record(fields) => {
                Val::Record(fields.iter().map(|(n, _)| n.clone()).zip(vals).collect())
            }
            _ => Val::Tuple(vals),
        }
    }

    /// `pack_flags_into_int(v, labels)`.
    pub(crate) fn flags_bits(&self, t: &ValueType) -> Result<u32, AbiError> {
        let (Val::Flags(set), ValueType::Flags(labels)) = (self, t) else {
            return Err(mismatch(self, t));
        };
        let mut bits: u32 = 0;
        for name in set {
            let i = labels
                .iter()
                .position(|l| l == name)
                .ok_or_else(|| AbiError::TypeMismatch(format!("no flag `{name}`")))?;
            if i >= 32 {
                return Err(AbiError::InvalidType("more than 32 flags".into()));
            }
            if bits & (1 << i) != 0 {
                return Err(AbiError::TypeMismatch(format!(
                    "flag `{name}` listed twice"
                )));
            }
            bits |= 1 << i;
        }
        Ok(bits)
    }

    /// `unpack_flags_from_int(i, labels)`: bits beyond the labels are ignored.
    pub(crate) fn from_flags_bits(labels: &[String], bits: u32) -> Val {
        Val::Flags(
            labels
                .iter()
                .take(32)
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, l)| l.clone())
                .collect(),
        )
    }
}
