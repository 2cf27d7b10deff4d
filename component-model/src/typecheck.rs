//! Import type-checking at instantiation: a component's import of a host
//! function declared with a type ([`crate::Linker::func_typed`]) must have
//! that type, as in wasmtime, whose rules and words this follows (its
//! `typecheck_*` functions and `desc`): the first mismatch is reported as a
//! chain of causes, outermost first (`type mismatch with results`,
//! `expected `list` found `u32``).
//!
//! Invariants:
//! * The order of checks is wasmtime's: parameters then results; a record's
//!   field count, then each field's type, then its name; a variant's case
//!   count, then each case's name, then its payload; an enum's or flags'
//!   count, then each name.
//! * Resources: a handle of the import's type must be of the resource type
//!   the host declared (the import's resource is the host's resource of the
//!   same interface and name, see `instantiate`), and each host resource
//!   maps to one resource type of the import: that map is the result, used
//!   by the flat glue to lift and lower handles. One difference from
//!   wasmtime: an `own` where the declared type has a `borrow` (or the
//!   reverse) is refused ("resource type mismatch"); wasmtime lifts it as
//!   the import says, which a host with a static layout cannot.

use canonical_abi::{
    FuncType, HostResource, ResourceTypeId, StaticFuncType, StaticType, ValueType,
};

/// Why an import does not match: causes, outermost first.
pub(crate) type Mismatch = Vec<String>;

fn fail(msg: String) -> Mismatch {
    vec![msg]
}

fn context(mut m: Mismatch, ctx: String) -> Mismatch {
    m.insert(0, ctx);
    m
}

/// Checks import type `actual` against declared type `expected`;
/// `same_resource(r, rt)` says whether the import's resource type `rt` is
/// the host's resource `r`. Returns the import's resource type of each host
/// resource of `expected` (indexed by `HostResource`).
pub(crate) fn check_func(
    expected: &StaticFuncType,
    actual: &FuncType,
    same_resource: &dyn Fn(HostResource, ResourceTypeId) -> bool,
) -> Result<Vec<Option<ResourceTypeId>>, Mismatch> {
    let mut cx = Checker {
        same_resource,
        rts: Vec::new(),
    };
    let params: Vec<&StaticType> = expected.params.iter().map(|(_, t)| t).collect();
    let actual_params: Vec<&ValueType> = actual.params.iter().map(|(_, t)| t).collect();
    cx.tuple(&params, &actual_params)
        .map_err(|m| context(m, "type mismatch with parameters".into()))?;
    let results: Vec<&StaticType> = expected.result.iter().collect();
    let actual_results: Vec<&ValueType> = actual.result.iter().collect();
    cx.tuple(&results, &actual_results)
        .map_err(|m| context(m, "type mismatch with results".into()))?;
    Ok(cx.rts)
}

struct Checker<'a> {
    same_resource: &'a dyn Fn(HostResource, ResourceTypeId) -> bool,
    rts: Vec<Option<ResourceTypeId>>,
}

impl Checker<'_> {
    /// wasmtime's `typecheck_tuple` over the elements.
    fn tuple(&mut self, expected: &[&StaticType], actual: &[&ValueType]) -> Result<(), Mismatch> {
        if expected.len() != actual.len() {
            return Err(fail(format!(
                "expected {}-tuple, found {}-tuple",
                expected.len(),
                actual.len()
            )));
        }
        for (e, a) in expected.iter().zip(actual) {
            self.check(e, a)?;
        }
        Ok(())
    }

    /// A `result` case the declared type has no payload for: wasmtime
    /// checks the import's payload against `()`, the empty tuple.
    fn unit(actual: &ValueType) -> Result<(), Mismatch> {
        match actual {
            ValueType::Tuple(ts) => {
                Err(fail(format!("expected 0-tuple, found {}-tuple", ts.len())))
            }
            other => Err(fail(format!("expected `tuple` found `{}`", other.desc()))),
        }
    }

    fn resource(&mut self, r: HostResource, rt: ResourceTypeId) -> Result<(), Mismatch> {
        let i = r.0 as usize;
        if self.rts.len() <= i {
            self.rts.resize(i + 1, None);
        }
        let ok = (self.same_resource)(r, rt) && self.rts[i].is_none_or(|seen| seen == rt);
        if !ok {
            return Err(fail("resource type mismatch".into()));
        }
        self.rts[i] = Some(rt);
        Ok(())
    }

    fn check(&mut self, expected: &StaticType, actual: &ValueType) -> Result<(), Mismatch> {
        use StaticType as S;
        use ValueType as V;
        let kind = || {
            fail(format!(
                "expected `{}` found `{}`",
                expected.desc(),
                actual.desc()
            ))
        };
        match (expected, actual) {
            (S::Bool, V::Bool)
            | (S::S8, V::S8)
            | (S::U8, V::U8)
            | (S::S16, V::S16)
            | (S::U16, V::U16)
            | (S::S32, V::S32)
            | (S::U32, V::U32)
            | (S::S64, V::S64)
            | (S::U64, V::U64)
            | (S::F32, V::F32)
            | (S::F64, V::F64)
            | (S::Char, V::Char)
            | (S::String, V::String) => Ok(()),
            (S::List(e), V::List(a)) | (S::Option(e), V::Option(a)) => self.check(e, a),
            (S::Record(ef), V::Record(af)) => {
                if ef.len() != af.len() {
                    return Err(fail(format!(
                        "expected record of {} fields, found {} fields",
                        ef.len(),
                        af.len()
                    )));
                }
                for ((en, et), (an, at)) in ef.iter().zip(af) {
                    self.check(et, at)
                        .map_err(|m| context(m, format!("type mismatch for field {en}")))?;
                    if en != an {
                        return Err(fail(format!(
                            "expected record field named {en}, found {an}"
                        )));
                    }
                }
                Ok(())
            }
            (S::Tuple(et), V::Tuple(at)) => {
                let e: Vec<&StaticType> = et.iter().collect();
                let a: Vec<&ValueType> = at.iter().collect();
                self.tuple(&e, &a)
            }
            (S::Variant(ec), V::Variant(ac)) => {
                if ec.len() != ac.len() {
                    return Err(fail(format!(
                        "expected variant of {} cases, found {} cases",
                        ec.len(),
                        ac.len()
                    )));
                }
                for ((en, et), (an, at)) in ec.iter().zip(ac) {
                    if en != an {
                        return Err(fail(format!(
                            "expected variant case named {en}, found {an}"
                        )));
                    }
                    match (et, at) {
                        (Some(e), Some(a)) => self
                            .check(e, a)
                            .map_err(|m| context(m, format!("type mismatch for case {en}")))?,
                        (None, None) => {}
                        (Some(_), None) => {
                            return Err(fail(format!(
                                "case `{en}` has no type but one was expected"
                            )))
                        }
                        (None, Some(_)) => {
                            return Err(fail(format!(
                                "case `{en}` has a type but none was expected"
                            )))
                        }
                    }
                }
                Ok(())
            }
            (S::Enum(el), V::Enum(al)) => {
                if el.len() != al.len() {
                    return Err(fail(format!(
                        "expected enum of {} names, found {} names",
                        el.len(),
                        al.len()
                    )));
                }
                for (e, a) in el.iter().zip(al) {
                    if e != a {
                        return Err(fail(format!("expected enum case named {e}, found {a}")));
                    }
                }
                Ok(())
            }
            (S::Flags(el), V::Flags(al)) => {
                if el.len() != al.len() {
                    return Err(fail(format!(
                        "expected flags type with {} names, found {} names",
                        el.len(),
                        al.len()
                    )));
                }
                for (e, a) in el.iter().zip(al) {
                    if e != a {
                        return Err(fail(format!("expected flag named {e}, found {a}")));
                    }
                }
                Ok(())
            }
            (S::Result { ok: eo, err: ee }, V::Result { ok: ao, err: ae }) => {
                for (e, a, which) in [(eo, ao, "ok"), (ee, ae, "err")] {
                    match (e, a) {
                        (Some(e), Some(a)) => self.check(e, a)?,
                        (None, None) => {}
                        (Some(_), None) => return Err(fail(format!("expected no `{which}` type"))),
                        (None, Some(a)) => Self::unit(a)?,
                    }
                }
                Ok(())
            }
            (S::Own(r), V::Own(rt)) | (S::Borrow(r), V::Borrow(rt)) => self.resource(*r, *rt),
            (S::Own(_), V::Borrow(_)) | (S::Borrow(_), V::Own(_)) => {
                Err(fail("resource type mismatch".into()))
            }
            (S::Own(_) | S::Borrow(_), other) => Err(fail(format!(
                "expected `own` or `borrow`, found `{}`",
                other.desc()
            ))),
            _ => Err(kind()),
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
    static NOW: StaticFuncType = StaticFuncType {
        params: &[],
        result: Some(DATETIME),
    };
    static WRITE: StaticFuncType = StaticFuncType {
        params: &[
            ("self", StaticType::Borrow(HostResource(2))),
            ("contents", StaticType::List(&StaticType::U8)),
        ],
        result: Some(StaticType::Result {
            ok: None,
            err: Some(&StaticType::Variant(&[
                (
                    "last-operation-failed",
                    Some(StaticType::Own(HostResource(0))),
                ),
                ("closed", None),
            ])),
        }),
    };

    fn host_is(r: HostResource, rt: ResourceTypeId) -> bool {
        r.0 + 10 == rt.0
    }

    fn write_type(self_rt: u32, err: Option<ValueType>) -> FuncType {
        FuncType {
            params: vec![
                ("self".into(), ValueType::Borrow(ResourceTypeId(self_rt))),
                ("contents".into(), ValueType::List(Box::new(ValueType::U8))),
            ],
            result: Some(ValueType::Result {
                ok: None,
                err: err.map(Box::new),
            }),
        }
    }

    fn stream_error(own: u32) -> ValueType {
        ValueType::Variant(vec![
            (
                "last-operation-failed".into(),
                Some(ValueType::Own(ResourceTypeId(own))),
            ),
            ("closed".into(), None),
        ])
    }

    #[test]
    fn matching_import_gives_the_resource_map() {
        let rts = check_func(&WRITE, &write_type(12, Some(stream_error(10))), &host_is).unwrap();
        assert_eq!(
            rts,
            vec![Some(ResourceTypeId(10)), None, Some(ResourceTypeId(12))]
        );
    }

    #[test]
    fn wrong_resource_is_refused() {
        let e = check_func(&WRITE, &write_type(11, Some(stream_error(10))), &host_is).unwrap_err();
        assert_eq!(
            e,
            ["type mismatch with parameters", "resource type mismatch"]
        );
        let mut own_self = write_type(12, Some(stream_error(10)));
        own_self.params[0].1 = ValueType::Own(ResourceTypeId(12));
        let e = check_func(&WRITE, &own_self, &host_is).unwrap_err();
        assert_eq!(
            e,
            ["type mismatch with parameters", "resource type mismatch"]
        );
        let mut not_handle = write_type(12, Some(stream_error(10)));
        not_handle.params[0].1 = ValueType::U32;
        let e = check_func(&WRITE, &not_handle, &host_is).unwrap_err();
        assert_eq!(
            e,
            [
                "type mismatch with parameters",
                "expected `own` or `borrow`, found `u32`"
            ]
        );
    }

    #[test]
    fn wasmtime_wording_for_each_kind() {
        let e = check_func(&WRITE, &write_type(12, None), &host_is).unwrap_err();
        assert_eq!(e, ["type mismatch with results", "expected no `err` type"]);
        let renamed = ValueType::Variant(vec![
            (
                "last-operation-failed".into(),
                Some(ValueType::Own(ResourceTypeId(10))),
            ),
            ("shut".into(), None),
        ]);
        let e = check_func(&WRITE, &write_type(12, Some(renamed)), &host_is).unwrap_err();
        assert_eq!(
            e,
            [
                "type mismatch with results",
                "expected variant case named closed, found shut"
            ]
        );
        let payload = ValueType::Variant(vec![
            ("last-operation-failed".into(), Some(ValueType::U32)),
            ("closed".into(), None),
        ]);
        let e = check_func(&WRITE, &write_type(12, Some(payload)), &host_is).unwrap_err();
        assert_eq!(
            e,
            [
                "type mismatch with results",
                "type mismatch for case last-operation-failed",
                "expected `own` or `borrow`, found `u32`"
            ]
        );
        let mut extra = write_type(12, Some(stream_error(10)));
        extra.params.push(("x".into(), ValueType::U32));
        let e = check_func(&WRITE, &extra, &host_is).unwrap_err();
        assert_eq!(
            e,
            [
                "type mismatch with parameters",
                "expected 2-tuple, found 3-tuple"
            ]
        );

        let record = |a: &str, t: ValueType| FuncType {
            params: vec![],
            result: Some(ValueType::Record(vec![
                ("seconds".into(), ValueType::U64),
                (a.into(), t),
            ])),
        };
        assert!(check_func(&NOW, &record("nanoseconds", ValueType::U32), &host_is).is_ok());
        assert_eq!(
            check_func(&NOW, &record("nanosecondz", ValueType::U32), &host_is).unwrap_err(),
            [
                "type mismatch with results",
                "expected record field named nanoseconds, found nanosecondz"
            ]
        );
        assert_eq!(
            check_func(&NOW, &record("nanoseconds", ValueType::U64), &host_is).unwrap_err(),
            [
                "type mismatch with results",
                "type mismatch for field nanoseconds",
                "expected `u32` found `u64`"
            ]
        );
        let none = FuncType {
            params: vec![],
            result: None,
        };
        assert_eq!(
            check_func(&NOW, &none, &host_is).unwrap_err(),
            [
                "type mismatch with results",
                "expected 1-tuple, found 0-tuple"
            ]
        );
    }
}
