//! Conversion of wasmparser's validated component types into the Canonical
//! ABI's [`ValueType`] / [`FuncType`], and resource-type bookkeeping.
//!
//! Invariants:
//! * A *static* resource id ([`ResourceTypeId`] as produced here) numbers a
//!   wasmparser `ResourceId` densely, once per validation of a component:
//!   two handle types refer to the same static id iff wasmparser considers
//!   them the same resource. The inliner maps static ids to *runtime*
//!   resource ids (one per imported resource, one per defined resource per
//!   component instance) with [`remap_func_type`].
//! * Only synchronous types are converted; `future`, `stream`,
//!   `error-context`, maps and fixed-length lists are
//!   [`Error::Unsupported`].

use crate::error::Error;
use canonical_abi::{FuncType, ResourceTypeId, ValueType};
use std::collections::HashMap;
use wasmparser::component_types::ResourceId;
use wasmparser::component_types::{
    ComponentAnyTypeId, ComponentDefinedType, ComponentEntityType, ComponentValType,
};
use wasmparser::types::TypesRef;
use wasmparser::PrimitiveValType;

/// Dense numbering of wasmparser resource ids.
#[derive(Default, Debug)]
pub(crate) struct ResourceIds {
    map: HashMap<ResourceId, u32>,
}

impl ResourceIds {
    pub fn static_id(&mut self, id: ResourceId) -> ResourceTypeId {
        let n = self.map.len() as u32;
        ResourceTypeId(*self.map.entry(id).or_insert(n))
    }
}

/// Converts a component function type.
pub(crate) fn func_type(
    types: TypesRef<'_>,
    id: wasmparser::component_types::ComponentFuncTypeId,
    rids: &mut ResourceIds,
) -> Result<FuncType, Error> {
    let ft = &types[id];
    if ft.async_ {
        return Err(Error::Unsupported("async function types".into()));
    }
    let mut params = Vec::new();
    for (name, t) in ft.params.iter() {
        params.push((name.to_string(), val_type(types, t, rids)?));
    }
    let result = match &ft.result {
        Some(t) => Some(val_type(types, t, rids)?),
        None => None,
    };
    Ok(FuncType { params, result })
}

/// Converts a component value type.
pub(crate) fn val_type(
    types: TypesRef<'_>,
    t: &ComponentValType,
    rids: &mut ResourceIds,
) -> Result<ValueType, Error> {
    match t {
        ComponentValType::Primitive(p) => primitive(*p),
        ComponentValType::Type(id) => {
            let d = &types[*id];
            Ok(match d {
                ComponentDefinedType::Primitive(p) => primitive(*p)?,
                ComponentDefinedType::Record(r) => ValueType::Record(
                    r.fields
                        .iter()
                        .map(|(n, t)| Ok((n.to_string(), val_type(types, t, rids)?)))
                        .collect::<Result<_, Error>>()?,
                ),
                ComponentDefinedType::Variant(v) => ValueType::Variant(
                    v.cases
                        .iter()
                        .map(|(n, c)| {
                            let t = match &c.ty {
                                Some(t) => Some(val_type(types, t, rids)?),
                                None => None,
                            };
                            Ok((n.to_string(), t))
                        })
                        .collect::<Result<_, Error>>()?,
                ),
                ComponentDefinedType::List { element, .. } => {
                    ValueType::List(Box::new(val_type(types, element, rids)?))
                }
                ComponentDefinedType::Tuple(t) => ValueType::Tuple(
                    t.types
                        .iter()
                        .map(|t| val_type(types, t, rids))
                        .collect::<Result<_, _>>()?,
                ),
                ComponentDefinedType::Flags(names) => {
                    ValueType::Flags(names.iter().map(|n| n.to_string()).collect())
                }
                ComponentDefinedType::Enum(names) => {
                    ValueType::Enum(names.iter().map(|n| n.to_string()).collect())
                }
                ComponentDefinedType::Option { ty, .. } => {
                    ValueType::Option(Box::new(val_type(types, ty, rids)?))
                }
                ComponentDefinedType::Result { ok, err, .. } => ValueType::Result {
                    ok: match ok {
                        Some(t) => Some(Box::new(val_type(types, t, rids)?)),
                        None => None,
                    },
                    err: match err {
                        Some(t) => Some(Box::new(val_type(types, t, rids)?)),
                        None => None,
                    },
                },
                ComponentDefinedType::Own(r) => ValueType::Own(rids.static_id(r.resource())),
                ComponentDefinedType::Borrow(r) => ValueType::Borrow(rids.static_id(r.resource())),
                ComponentDefinedType::Map { .. } => {
                    return Err(Error::Unsupported("map types".into()))
                }
                ComponentDefinedType::FixedLengthList { .. } => {
                    return Err(Error::Unsupported("fixed-length lists".into()))
                }
                ComponentDefinedType::Future { .. } | ComponentDefinedType::Stream { .. } => {
                    return Err(Error::Unsupported("future and stream types".into()))
                }
            })
        }
    }
}

fn primitive(p: PrimitiveValType) -> Result<ValueType, Error> {
    use PrimitiveValType as P;
    Ok(match p {
        P::Bool => ValueType::Bool,
        P::S8 => ValueType::S8,
        P::U8 => ValueType::U8,
        P::S16 => ValueType::S16,
        P::U16 => ValueType::U16,
        P::S32 => ValueType::S32,
        P::U32 => ValueType::U32,
        P::S64 => ValueType::S64,
        P::U64 => ValueType::U64,
        P::F32 => ValueType::F32,
        P::F64 => ValueType::F64,
        P::Char => ValueType::Char,
        P::String => ValueType::String,
        P::ErrorContext => return Err(Error::Unsupported("error-context".into())),
    })
}

/// Every resource type *created* by an entity of type `ty` (an imported or
/// exported resource type, possibly inside nested instances), with the path
/// of export names leading to it.
pub(crate) fn resources_in(
    types: TypesRef<'_>,
    ty: &ComponentEntityType,
    path: &mut Vec<String>,
    rids: &mut ResourceIds,
    out: &mut Vec<(Vec<String>, ResourceTypeId)>,
) {
    match ty {
        ComponentEntityType::Type {
            created: ComponentAnyTypeId::Resource(r),
            ..
        } => {
            out.push((path.clone(), rids.static_id(r.resource())));
        }
        ComponentEntityType::Instance(id) => {
            for (name, item) in types[*id].exports.iter() {
                path.push(name.clone());
                resources_in(types, &item.ty, path, rids, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Replaces every static resource id of `t` by its runtime id.
pub(crate) fn remap_value_type(
    t: &ValueType,
    map: &dyn Fn(ResourceTypeId) -> ResourceTypeId,
) -> ValueType {
    let r = |t: &ValueType| remap_value_type(t, map);
    match t {
        ValueType::List(t) => ValueType::List(Box::new(r(t))),
        ValueType::Record(fs) => {
            ValueType::Record(fs.iter().map(|(n, t)| (n.clone(), r(t))).collect())
        }
        ValueType::Tuple(ts) => ValueType::Tuple(ts.iter().map(r).collect()),
        ValueType::Variant(cs) => ValueType::Variant(
            cs.iter()
                .map(|(n, t)| (n.clone(), t.as_ref().map(r)))
                .collect(),
        ),
        ValueType::Option(t) => ValueType::Option(Box::new(r(t))),
        ValueType::Result { ok, err } => ValueType::Result {
            ok: ok.as_ref().map(|t| Box::new(r(t))),
            err: err.as_ref().map(|t| Box::new(r(t))),
        },
        ValueType::Own(id) => ValueType::Own(map(*id)),
        ValueType::Borrow(id) => ValueType::Borrow(map(*id)),
        other => other.clone(),
    }
}

/// [`remap_value_type`] over a function type.
pub(crate) fn remap_func_type(
    ft: &FuncType,
    map: &dyn Fn(ResourceTypeId) -> ResourceTypeId,
) -> FuncType {
    FuncType {
        params: ft
            .params
            .iter()
            .map(|(n, t)| (n.clone(), remap_value_type(t, map)))
            .collect(),
        result: ft.result.as_ref().map(|t| remap_value_type(t, map)),
    }
}

/// Converts a flat core type of the ABI into a core-vm value type.
pub(crate) fn core_val_type(t: canonical_abi::CoreType) -> core_vm::ValType {
    match t {
        canonical_abi::CoreType::I32 => core_vm::ValType::I32,
        canonical_abi::CoreType::I64 => core_vm::ValType::I64,
        canonical_abi::CoreType::F32 => core_vm::ValType::F32,
        canonical_abi::CoreType::F64 => core_vm::ValType::F64,
    }
}
