//! WAVE (the WebAssembly Value Encoding) for the dynamic [`Val`] API:
//! `wasm_wave`'s [`WasmType`], [`WasmValue`] and [`WasmFunc`] traits
//! implemented for [`ValueType`], [`Val`] and [`FuncType`], so that the
//! `wasm-wave` crate parses typed values and function calls
//! (`name(arg, ...)`) and prints results, as `wasmtime run --invoke` does.
//!
//! Invariants:
//! * A `Val` built by the parser for type `t` passes `val.type_check(t)`:
//!   record fields come out in the type's field order, flags in
//!   declaration order, and every `make_*` checks its input against `t`
//!   instead of trusting the parser.
//! * `own`/`borrow` have no WAVE form: their kind is
//!   [`WasmTypeKind::Unsupported`], so parsing a value of such a type is a
//!   parser error and writing a [`Val::Resource`] is a writer error; nothing
//!   panics.
//! * `kind()` of a value always matches the `unwrap_*` method that succeeds
//!   on it (the writer relies on this).

use crate::{FuncType, StringValue, Val, ValueType};
use std::borrow::Cow;
use wasm_wave::wasm::{WasmFunc, WasmType, WasmTypeKind, WasmValue, WasmValueError};

pub use wasm_wave::parser::ParserError;
pub use wasm_wave::untyped::UntypedFuncCall;
pub use wasm_wave::writer::WriterError;

impl WasmType for ValueType {
    fn kind(&self) -> WasmTypeKind {
        use ValueType as T;
        match self {
            T::Bool => WasmTypeKind::Bool,
            T::S8 => WasmTypeKind::S8,
            T::U8 => WasmTypeKind::U8,
            T::S16 => WasmTypeKind::S16,
            T::U16 => WasmTypeKind::U16,
            T::S32 => WasmTypeKind::S32,
            T::U32 => WasmTypeKind::U32,
            T::S64 => WasmTypeKind::S64,
            T::U64 => WasmTypeKind::U64,
            T::F32 => WasmTypeKind::F32,
            T::F64 => WasmTypeKind::F64,
            T::Char => WasmTypeKind::Char,
            T::String => WasmTypeKind::String,
            T::List(_) => WasmTypeKind::List,
            T::Record(_) => WasmTypeKind::Record,
            T::Tuple(_) => WasmTypeKind::Tuple,
            T::Variant(_) => WasmTypeKind::Variant,
            T::Enum(_) => WasmTypeKind::Enum,
            T::Option(_) => WasmTypeKind::Option,
            T::Result { .. } => WasmTypeKind::Result,
            T::Flags(_) => WasmTypeKind::Flags,
            T::Own(_) | T::Borrow(_) => WasmTypeKind::Unsupported,
        }
    }

    fn list_element_type(&self) -> Option<Self> {
        match self {
            ValueType::List(t) => Some((**t).clone()),
            _ => None,
        }
    }

    fn record_fields(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Self)> + '_> {
        match self {
            ValueType::Record(fields) => Box::new(
                fields
                    .iter()
                    .map(|(n, t)| (Cow::Borrowed(n.as_str()), t.clone())),
            ),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn tuple_element_types(&self) -> Box<dyn Iterator<Item = Self> + '_> {
        match self {
            ValueType::Tuple(ts) => Box::new(ts.iter().cloned()),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn variant_cases(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Option<Self>)> + '_> {
        match self {
            ValueType::Variant(cases) => Box::new(
                cases
                    .iter()
                    .map(|(n, t)| (Cow::Borrowed(n.as_str()), t.clone())),
            ),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn enum_cases(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        match self {
            ValueType::Enum(labels) => Box::new(labels.iter().map(|l| Cow::Borrowed(l.as_str()))),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn option_some_type(&self) -> Option<Self> {
        match self {
            ValueType::Option(t) => Some((**t).clone()),
            _ => None,
        }
    }

    fn result_types(&self) -> Option<(Option<Self>, Option<Self>)> {
        match self {
            ValueType::Result { ok, err } => {
                Some((ok.as_deref().cloned(), err.as_deref().cloned()))
            }
            _ => None,
        }
    }

    fn flags_names(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        match self {
            ValueType::Flags(labels) => Box::new(labels.iter().map(|l| Cow::Borrowed(l.as_str()))),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn map_key_value_types(&self) -> Option<(Self, Self)> {
        None
    }
}

/// The error for a value that is not of type `ty`.
fn wrong(ty: &ValueType, got: &str) -> WasmValueError {
    WasmValueError::WrongValueType {
        ty: wasm_wave::wasm::DisplayType(ty).to_string(),
        val: got.to_string(),
    }
}

/// Runs `v.type_check(ty)` and turns a mismatch into a WAVE error.
fn checked(ty: &ValueType, v: Val) -> Result<Val, WasmValueError> {
    v.type_check(ty)
        .map_err(|e| WasmValueError::Other(e.to_string()))?;
    Ok(v)
}

impl WasmValue for Val {
    type Type = ValueType;

    fn kind(&self) -> WasmTypeKind {
        match self {
            Val::Bool(_) => WasmTypeKind::Bool,
            Val::S8(_) => WasmTypeKind::S8,
            Val::U8(_) => WasmTypeKind::U8,
            Val::S16(_) => WasmTypeKind::S16,
            Val::U16(_) => WasmTypeKind::U16,
            Val::S32(_) => WasmTypeKind::S32,
            Val::U32(_) => WasmTypeKind::U32,
            Val::S64(_) => WasmTypeKind::S64,
            Val::U64(_) => WasmTypeKind::U64,
            Val::Float32(_) => WasmTypeKind::F32,
            Val::Float64(_) => WasmTypeKind::F64,
            Val::Char(_) => WasmTypeKind::Char,
            Val::String(_) => WasmTypeKind::String,
            Val::List(_) => WasmTypeKind::List,
            Val::Record(_) => WasmTypeKind::Record,
            Val::Tuple(_) => WasmTypeKind::Tuple,
            Val::Variant(..) => WasmTypeKind::Variant,
            Val::Enum(_) => WasmTypeKind::Enum,
            Val::Option(_) => WasmTypeKind::Option,
            Val::Result(_) => WasmTypeKind::Result,
            Val::Flags(_) => WasmTypeKind::Flags,
            Val::Resource(_) => WasmTypeKind::Unsupported,
        }
    }

    fn make_bool(val: bool) -> Self {
        Val::Bool(val)
    }
    fn make_s8(val: i8) -> Self {
        Val::S8(val)
    }
    fn make_s16(val: i16) -> Self {
        Val::S16(val)
    }
    fn make_s32(val: i32) -> Self {
        Val::S32(val)
    }
    fn make_s64(val: i64) -> Self {
        Val::S64(val)
    }
    fn make_u8(val: u8) -> Self {
        Val::U8(val)
    }
    fn make_u16(val: u16) -> Self {
        Val::U16(val)
    }
    fn make_u32(val: u32) -> Self {
        Val::U32(val)
    }
    fn make_u64(val: u64) -> Self {
        Val::U64(val)
    }
    fn make_f32(val: f32) -> Self {
        Val::Float32(val)
    }
    fn make_f64(val: f64) -> Self {
        Val::Float64(val)
    }
    fn make_char(val: char) -> Self {
        Val::Char(val)
    }
    fn make_string(val: Cow<'_, str>) -> Self {
        Val::String(StringValue::new(val.into_owned()))
    }

    fn make_list(
        ty: &ValueType,
        vals: impl IntoIterator<Item = Self>,
    ) -> Result<Self, WasmValueError> {
        checked(ty, Val::List(vals.into_iter().collect()))
    }

    fn make_record<'a>(
        ty: &ValueType,
        fields: impl IntoIterator<Item = (&'a str, Self)>,
    ) -> Result<Self, WasmValueError> {
        let ValueType::Record(ftys) = ty else {
            return Err(wrong(ty, "record"));
        };
        let mut given: Vec<(&str, Val)> = fields.into_iter().collect();
        let mut out = Vec::with_capacity(ftys.len());
        for (name, _) in ftys {
            let i = given
                .iter()
                .position(|(n, _)| n == name)
                .ok_or_else(|| WasmValueError::MissingField(name.clone()))?;
            out.push((name.clone(), given.swap_remove(i).1));
        }
        if let Some((extra, _)) = given.first() {
            return Err(WasmValueError::UnknownField(extra.to_string()));
        }
        checked(ty, Val::Record(out))
    }

    fn make_tuple(
        ty: &ValueType,
        vals: impl IntoIterator<Item = Self>,
    ) -> Result<Self, WasmValueError> {
        let vals: Vec<Val> = vals.into_iter().collect();
        if let ValueType::Tuple(ts) = ty {
            if ts.len() != vals.len() {
                return Err(WasmValueError::WrongNumberOfTupleValues {
                    want: ts.len(),
                    got: vals.len(),
                });
            }
        }
        checked(ty, Val::Tuple(vals))
    }

    fn make_variant(ty: &ValueType, case: &str, val: Option<Self>) -> Result<Self, WasmValueError> {
        let ValueType::Variant(cases) = ty else {
            return Err(wrong(ty, "variant"));
        };
        match cases.iter().find(|(n, _)| n == case) {
            None => Err(WasmValueError::UnknownCase(case.to_string())),
            Some((_, Some(_))) if val.is_none() => {
                Err(WasmValueError::MissingPayload(case.to_string()))
            }
            Some((_, None)) if val.is_some() => {
                Err(WasmValueError::UnexpectedPayload(case.to_string()))
            }
            Some(_) => checked(ty, Val::Variant(case.to_string(), val.map(Box::new))),
        }
    }

    fn make_enum(ty: &ValueType, case: &str) -> Result<Self, WasmValueError> {
        let ValueType::Enum(labels) = ty else {
            return Err(wrong(ty, "enum"));
        };
        if !labels.iter().any(|l| l == case) {
            return Err(WasmValueError::UnknownCase(case.to_string()));
        }
        Ok(Val::Enum(case.to_string()))
    }

    fn make_option(ty: &ValueType, val: Option<Self>) -> Result<Self, WasmValueError> {
        checked(ty, Val::Option(val.map(Box::new)))
    }

    fn make_result(
        ty: &ValueType,
        val: Result<Option<Self>, Option<Self>>,
    ) -> Result<Self, WasmValueError> {
        let v = match val {
            Ok(v) => Ok(v.map(Box::new)),
            Err(e) => Err(e.map(Box::new)),
        };
        checked(ty, Val::Result(v))
    }

    fn make_flags<'a>(
        ty: &ValueType,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, WasmValueError> {
        let ValueType::Flags(labels) = ty else {
            return Err(wrong(ty, "flags"));
        };
        let names: Vec<&str> = names.into_iter().collect();
        if let Some(unknown) = names.iter().find(|n| !labels.iter().any(|l| l == *n)) {
            return Err(WasmValueError::UnknownCase(unknown.to_string()));
        }
        // Declaration order, each set flag once.
        let set = labels
            .iter()
            .filter(|l| names.contains(&l.as_str()))
            .cloned()
            .collect();
        checked(ty, Val::Flags(set))
    }

    fn unwrap_bool(&self) -> bool {
        matches!(self, Val::Bool(true))
    }
    fn unwrap_s8(&self) -> i8 {
        match self {
            Val::S8(v) => *v,
            _ => 0,
        }
    }
    fn unwrap_s16(&self) -> i16 {
        match self {
            Val::S16(v) => *v,
            _ => 0,
        }
    }
    fn unwrap_s32(&self) -> i32 {
        match self {
            Val::S32(v) => *v,
            _ => 0,
        }
    }
    fn unwrap_s64(&self) -> i64 {
        match self {
            Val::S64(v) => *v,
            _ => 0,
        }
    }
    fn unwrap_u8(&self) -> u8 {
        match self {
            Val::U8(v) => *v,
            _ => 0,
        }
    }
    fn unwrap_u16(&self) -> u16 {
        match self {
            Val::U16(v) => *v,
            _ => 0,
        }
    }
    fn unwrap_u32(&self) -> u32 {
        match self {
            Val::U32(v) => *v,
            _ => 0,
        }
    }
    fn unwrap_u64(&self) -> u64 {
        match self {
            Val::U64(v) => *v,
            _ => 0,
        }
    }
    fn unwrap_f32(&self) -> f32 {
        match self {
            Val::Float32(v) => *v,
            _ => 0.0,
        }
    }
    fn unwrap_f64(&self) -> f64 {
        match self {
            Val::Float64(v) => *v,
            _ => 0.0,
        }
    }
    fn unwrap_char(&self) -> char {
        match self {
            Val::Char(v) => *v,
            _ => '\0',
        }
    }
    fn unwrap_string(&self) -> Cow<'_, str> {
        match self {
            Val::String(s) => Cow::Borrowed(s.as_str()),
            _ => Cow::Borrowed(""),
        }
    }
    fn unwrap_list(&self) -> Box<dyn Iterator<Item = Cow<'_, Self>> + '_> {
        match self {
            Val::List(vs) => Box::new(vs.iter().map(Cow::Borrowed)),
            _ => Box::new(std::iter::empty()),
        }
    }
    fn unwrap_record(&self) -> Box<dyn Iterator<Item = (Cow<'_, str>, Cow<'_, Self>)> + '_> {
        match self {
            Val::Record(fs) => Box::new(
                fs.iter()
                    .map(|(n, v)| (Cow::Borrowed(n.as_str()), Cow::Borrowed(v))),
            ),
            _ => Box::new(std::iter::empty()),
        }
    }
    fn unwrap_tuple(&self) -> Box<dyn Iterator<Item = Cow<'_, Self>> + '_> {
        match self {
            Val::Tuple(vs) => Box::new(vs.iter().map(Cow::Borrowed)),
            _ => Box::new(std::iter::empty()),
        }
    }
    fn unwrap_variant(&self) -> (Cow<'_, str>, Option<Cow<'_, Self>>) {
        match self {
            Val::Variant(n, p) => (Cow::Borrowed(n.as_str()), p.as_deref().map(Cow::Borrowed)),
            _ => (Cow::Borrowed(""), None),
        }
    }
    fn unwrap_enum(&self) -> Cow<'_, str> {
        match self {
            Val::Enum(n) => Cow::Borrowed(n.as_str()),
            _ => Cow::Borrowed(""),
        }
    }
    fn unwrap_option(&self) -> Option<Cow<'_, Self>> {
        match self {
            Val::Option(v) => v.as_deref().map(Cow::Borrowed),
            _ => None,
        }
    }
    fn unwrap_result(&self) -> Result<Option<Cow<'_, Self>>, Option<Cow<'_, Self>>> {
        match self {
            Val::Result(Ok(v)) => Ok(v.as_deref().map(Cow::Borrowed)),
            Val::Result(Err(v)) => Err(v.as_deref().map(Cow::Borrowed)),
            _ => Ok(None),
        }
    }
    fn unwrap_flags(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        match self {
            Val::Flags(set) => Box::new(set.iter().map(|n| Cow::Borrowed(n.as_str()))),
            _ => Box::new(std::iter::empty()),
        }
    }
}

impl WasmFunc for FuncType {
    type Type = ValueType;

    fn params(&self) -> Box<dyn Iterator<Item = ValueType> + '_> {
        Box::new(self.params.iter().map(|(_, t)| t.clone()))
    }

    fn param_names(&self) -> Box<dyn Iterator<Item = Cow<'_, str>> + '_> {
        Box::new(self.params.iter().map(|(n, _)| Cow::Borrowed(n.as_str())))
    }

    fn results(&self) -> Box<dyn Iterator<Item = ValueType> + '_> {
        Box::new(self.result.iter().cloned())
    }
}

/// Parses a WAVE value of type `ty`.
pub fn parse_value(ty: &ValueType, text: &str) -> Result<Val, ParserError> {
    wasm_wave::from_str(ty, text)
}

/// Writes `val` in WAVE syntax (fails for resources, which have none).
pub fn to_string(val: &Val) -> Result<String, WriterError> {
    wasm_wave::to_string(val)
}

/// The results of a call as `wasmtime run --invoke` prints them: one result
/// alone, otherwise a parenthesized list (`()` for none).
pub fn results_to_string(results: &[Val]) -> Result<String, WriterError> {
    match results {
        [one] => to_string(one),
        many => {
            let parts = many.iter().map(to_string).collect::<Result<Vec<_>, _>>()?;
            Ok(format!("({})", parts.join(", ")))
        }
    }
}

/// A parsed `name(args...)` call.
pub struct FuncCall {
    call: UntypedFuncCall<'static>,
}

impl FuncCall {
    /// Parses the call syntax (the arguments are type-checked later, by
    /// [`FuncCall::params`]).
    pub fn parse(text: &str) -> Result<FuncCall, ParserError> {
        Ok(FuncCall {
            call: UntypedFuncCall::parse(text)?.into_owned(),
        })
    }

    /// The function name as written (e.g. `add` or `wasi:cli/run.run@0.2.0`).
    pub fn name(&self) -> &str {
        self.call.name()
    }

    /// The arguments as values of `ty`'s parameter types; trailing
    /// `option` parameters may be omitted (they are `none`).
    pub fn params(&self, ty: &FuncType) -> Result<Vec<Val>, ParserError> {
        let types: Vec<ValueType> = ty.params.iter().map(|(_, t)| t.clone()).collect();
        self.call.to_wasm_params::<Val>(&types)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(ty: ValueType, text: &str, expect: &str) {
        let v = parse_value(&ty, text).unwrap_or_else(|e| panic!("parse {text}: {e}"));
        v.type_check(&ty).unwrap();
        assert_eq!(to_string(&v).unwrap(), expect, "{text}");
    }

    #[test]
    fn every_type_round_trips() {
        use ValueType as T;
        rt(T::Bool, "true", "true");
        rt(T::S8, "-128", "-128");
        rt(T::U64, "18446744073709551615", "18446744073709551615");
        rt(T::F32, "1.5", "1.5");
        rt(T::F64, "nan", "nan");
        rt(T::Char, "'\\u{1F44B}'", "'👋'");
        rt(T::String, "\"a\\nb\"", "\"a\\nb\"");
        rt(T::List(Box::new(T::U8)), "[1, 2]", "[1, 2]");
        let rec = T::Record(vec![
            ("a".into(), T::U8),
            ("b".into(), T::Option(Box::new(T::U8))),
        ]);
        rt(rec.clone(), "{b: some(2), a: 1}", "{a: 1, b: some(2)}");
        rt(rec, "{a: 1, b: none}", "{a: 1}");
        rt(T::Tuple(vec![T::U8, T::String]), "(1, \"x\")", "(1, \"x\")");
        let var = T::Variant(vec![("n".into(), None), ("s".into(), Some(T::S32))]);
        rt(var.clone(), "s(-3)", "s(-3)");
        rt(var, "n", "n");
        rt(T::Enum(vec!["x".into(), "y".into()]), "y", "y");
        rt(
            T::Result {
                ok: Some(Box::new(T::U8)),
                err: None,
            },
            "err",
            "err",
        );
        rt(
            T::Result {
                ok: None,
                err: None,
            },
            "ok",
            "ok",
        );
        rt(
            T::Flags(vec!["a".into(), "b".into(), "c".into()]),
            "{c, a}",
            "{a, c}",
        );
    }

    #[test]
    fn bad_values_are_errors() {
        use ValueType as T;
        assert!(parse_value(&T::U8, "256").is_err());
        assert!(parse_value(&T::U8, "\"x\"").is_err());
        assert!(parse_value(&T::Enum(vec!["x".into()]), "z").is_err());
        assert!(parse_value(&T::Flags(vec!["a".into()]), "{b}").is_err());
        assert!(parse_value(&T::Own(crate::ResourceTypeId(0)), "1").is_err());
        assert!(to_string(&Val::Resource(3)).is_err());
    }

    #[test]
    fn calls() {
        let ty = FuncType {
            params: vec![
                ("a".into(), ValueType::U32),
                ("b".into(), ValueType::Option(Box::new(ValueType::U32))),
            ],
            result: None,
        };
        let c = FuncCall::parse("ns:pkg/iface.f@1.0.0(7)").unwrap();
        assert_eq!(c.name(), "ns:pkg/iface.f@1.0.0");
        assert_eq!(c.params(&ty).unwrap(), vec![Val::U32(7), Val::Option(None)]);
        assert!(FuncCall::parse("f(1,").is_err());
        assert!(FuncCall::parse("f(1, 2, 3)").unwrap().params(&ty).is_err());
        assert!(FuncCall::parse("f()").unwrap().params(&ty).is_err());
        assert_eq!(results_to_string(&[]).unwrap(), "()");
        assert_eq!(results_to_string(&[Val::U8(1)]).unwrap(), "1");
    }
}
