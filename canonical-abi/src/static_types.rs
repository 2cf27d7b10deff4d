//! Value types known when the host is compiled: the declared signature of a
//! function a host implements, as `static` data.
//!
//! The WASI shims' build script generates one [`StaticFuncType`] per
//! function from `wit/`; the interpreter's linker type-checks a component's
//! import against it at instantiation (as wasmtime does), and the shims'
//! generated glue trusts the flat layout that follows from it.
//!
//! Invariants:
//! * A [`StaticType`] mirrors [`ValueType`] case for case, with the
//!   component's resource type ids replaced by the host's own
//!   [`HostResource`] indices (the same WIT resource is the same index in
//!   every function of one host), and is const-constructible (only
//!   `&'static` references), so a whole signature table is a `static`.
//! * [`StaticType::to_value_type`] gives the type whose layout and
//!   flattening are those of the declared type (all Canonical ABI rules live
//!   on [`ValueType`], never on `StaticType`).

use super::{FuncType, ResourceTypeId, ValueType};

/// A host's own index of a resource type it implements (in the WASI shims:
/// the index in the generated resource table). Not a [`ResourceTypeId`]:
/// those are per component instance, assigned at instantiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostResource(pub u32);

/// A value type declared by a host (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaticType {
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
    List(&'static StaticType),
    Record(&'static [(&'static str, StaticType)]),
    Tuple(&'static [StaticType]),
    Variant(&'static [(&'static str, Option<StaticType>)]),
    Enum(&'static [&'static str]),
    Option(&'static StaticType),
    Result {
        ok: Option<&'static StaticType>,
        err: Option<&'static StaticType>,
    },
    Flags(&'static [&'static str]),
    Own(HostResource),
    Borrow(HostResource),
}

/// A function signature declared by a host: named parameters and zero or
/// one result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaticFuncType {
    pub params: &'static [(&'static str, StaticType)],
    pub result: Option<StaticType>,
}

impl StaticType {
    /// The same type as a [`ValueType`], with each host resource mapped to a
    /// resource type id by `rt`.
    pub fn to_value_type(&self, rt: &dyn Fn(HostResource) -> ResourceTypeId) -> ValueType {
        use StaticType as S;
        use ValueType as V;
        match *self {
            S::Bool => V::Bool,
            S::S8 => V::S8,
            S::U8 => V::U8,
            S::S16 => V::S16,
            S::U16 => V::U16,
            S::S32 => V::S32,
            S::U32 => V::U32,
            S::S64 => V::S64,
            S::U64 => V::U64,
            S::F32 => V::F32,
            S::F64 => V::F64,
            S::Char => V::Char,
            S::String => V::String,
            S::List(t) => V::List(Box::new(t.to_value_type(rt))),
            S::Record(fields) => V::Record(
                fields
                    .iter()
                    .map(|(n, t)| (n.to_string(), t.to_value_type(rt)))
                    .collect(),
            ),
            S::Tuple(ts) => V::Tuple(ts.iter().map(|t| t.to_value_type(rt)).collect()),
            S::Variant(cases) => V::Variant(
                cases
                    .iter()
                    .map(|(n, t)| (n.to_string(), t.map(|t| t.to_value_type(rt))))
                    .collect(),
            ),
            S::Enum(labels) => V::Enum(labels.iter().map(|l| l.to_string()).collect()),
            S::Option(t) => V::Option(Box::new(t.to_value_type(rt))),
            S::Result { ok, err } => V::Result {
                ok: ok.map(|t| Box::new(t.to_value_type(rt))),
                err: err.map(|t| Box::new(t.to_value_type(rt))),
            },
            S::Flags(labels) => V::Flags(labels.iter().map(|l| l.to_string()).collect()),
            S::Own(r) => V::Own(rt(r)),
            S::Borrow(r) => V::Borrow(rt(r)),
        }
    }

    /// wasmtime's name of the kind of this type in type-check errors
    /// (`expected `list` found `u32``).
    pub fn desc(&self) -> &'static str {
        use StaticType as S;
        match self {
            S::Bool => "bool",
            S::S8 => "s8",
            S::U8 => "u8",
            S::S16 => "s16",
            S::U16 => "u16",
            S::S32 => "s32",
            S::U32 => "u32",
            S::S64 => "s64",
            S::U64 => "u64",
            S::F32 => "f32",
            S::F64 => "f64",
            S::Char => "char",
            S::String => "string",
            S::List(_) => "list",
            S::Record(_) => "record",
            S::Tuple(_) => "tuple",
            S::Variant(_) => "variant",
            S::Enum(_) => "enum",
            S::Option(_) => "option",
            S::Result { .. } => "result",
            S::Flags(_) => "flags",
            S::Own(_) => "owned resource",
            S::Borrow(_) => "borrowed resource",
        }
    }
}

impl StaticFuncType {
    /// The same signature as a [`FuncType`] (see
    /// [`StaticType::to_value_type`]).
    pub fn to_func_type(&self, rt: &dyn Fn(HostResource) -> ResourceTypeId) -> FuncType {
        FuncType {
            params: self
                .params
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_value_type(rt)))
                .collect(),
            result: self.result.map(|t| t.to_value_type(rt)),
        }
    }
}

impl ValueType {
    /// wasmtime's name of the kind of this type in type-check errors (see
    /// [`StaticType::desc`]).
    pub fn desc(&self) -> &'static str {
        use ValueType as V;
        match self {
            V::Bool => "bool",
            V::S8 => "s8",
            V::U8 => "u8",
            V::S16 => "s16",
            V::U16 => "u16",
            V::S32 => "s32",
            V::U32 => "u32",
            V::S64 => "s64",
            V::U64 => "u64",
            V::F32 => "f32",
            V::F64 => "f64",
            V::Char => "char",
            V::String => "string",
            V::List(_) => "list",
            V::Record(_) => "record",
            V::Tuple(_) => "tuple",
            V::Variant(_) => "variant",
            V::Enum(_) => "enum",
            V::Option(_) => "option",
            V::Result { .. } => "result",
            V::Flags(_) => "flags",
            V::Own(_) => "owned resource",
            V::Borrow(_) => "borrowed resource",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static DATETIME: StaticType = StaticType::Record(&[
        ("seconds", StaticType::U64),
        ("nanoseconds", StaticType::U32),
    ]);
    static F: StaticFuncType = StaticFuncType {
        params: &[
            ("self", StaticType::Borrow(HostResource(3))),
            ("when", StaticType::Option(&DATETIME)),
        ],
        result: Some(StaticType::Result {
            ok: None,
            err: Some(&StaticType::Enum(&["access", "busy"])),
        }),
    };

    #[test]
    fn static_signature_converts_case_for_case() {
        let ft = F.to_func_type(&|r| ResourceTypeId(r.0 + 10));
        assert_eq!(ft.params[0].1, ValueType::Borrow(ResourceTypeId(13)));
        assert_eq!(
            ft.params[1].1,
            ValueType::Option(Box::new(ValueType::Record(vec![
                ("seconds".into(), ValueType::U64),
                ("nanoseconds".into(), ValueType::U32)
            ])))
        );
        assert_eq!(
            ft.result,
            Some(ValueType::Result {
                ok: None,
                err: Some(Box::new(ValueType::Enum(vec![
                    "access".into(),
                    "busy".into()
                ])))
            })
        );
        assert_eq!(F.params[1].1.desc(), ft.params[1].1.desc());
    }
}
