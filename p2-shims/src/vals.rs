//! Building and taking apart the component-level [`Val`]s the shims
//! exchange with the linker, so interface modules read like the WIT.
//!
//! Invariant: accessors never panic; a value of the wrong shape is a
//! [`HostError::BadArgument`].

use crate::error::HostError;
use canonical_abi::Val;

/// What a shim function returns: its results (zero or one value).
pub type Ret = Result<Vec<Val>, HostError>;

pub fn ok(v: Val) -> Val {
    Val::Result(Ok(Some(Box::new(v))))
}
pub fn ok_unit() -> Val {
    Val::Result(Ok(None))
}
pub fn err(v: Val) -> Val {
    Val::Result(Err(Some(Box::new(v))))
}
pub fn some(v: Val) -> Val {
    Val::Option(Some(Box::new(v)))
}
pub fn none() -> Val {
    Val::Option(None)
}
pub fn bytes(b: &[u8]) -> Val {
    Val::List(b.iter().map(|&b| Val::U8(b)).collect())
}
pub fn record(fields: &[(&str, Val)]) -> Val {
    Val::Record(
        fields
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect(),
    )
}
/// `result<_, error-code>`-style failure with enum case `code`.
pub fn err_enum(code: &str) -> Val {
    err(Val::Enum(code.to_string()))
}

/// The arguments of one call.
pub struct Args<'a>(pub &'a [Val]);

impl Args<'_> {
    fn get(&self, i: usize, expected: &'static str) -> Result<&Val, HostError> {
        self.0
            .get(i)
            .ok_or(HostError::BadArgument { index: i, expected })
    }
    pub fn res(&self, i: usize) -> Result<u32, HostError> {
        match self.get(i, "resource")? {
            Val::Resource(r) => Ok(*r),
            _ => Err(HostError::BadArgument {
                index: i,
                expected: "resource",
            }),
        }
    }
    pub fn u64(&self, i: usize) -> Result<u64, HostError> {
        match self.get(i, "u64")? {
            Val::U64(v) => Ok(*v),
            _ => Err(HostError::BadArgument {
                index: i,
                expected: "u64",
            }),
        }
    }
    pub fn u8(&self, i: usize) -> Result<u8, HostError> {
        match self.get(i, "u8")? {
            Val::U8(v) => Ok(*v),
            _ => Err(HostError::BadArgument {
                index: i,
                expected: "u8",
            }),
        }
    }
    pub fn str(&self, i: usize) -> Result<&str, HostError> {
        match self.get(i, "string")? {
            Val::String(s) => Ok(s.as_str()),
            _ => Err(HostError::BadArgument {
                index: i,
                expected: "string",
            }),
        }
    }
    pub fn bytes(&self, i: usize) -> Result<Vec<u8>, HostError> {
        match self.get(i, "list<u8>")? {
            Val::List(l) => l
                .iter()
                .map(|v| match v {
                    Val::U8(b) => Ok(*b),
                    _ => Err(HostError::BadArgument {
                        index: i,
                        expected: "list<u8>",
                    }),
                })
                .collect(),
            _ => Err(HostError::BadArgument {
                index: i,
                expected: "list<u8>",
            }),
        }
    }
    /// The names of the set flags of a `flags` argument.
    pub fn flags(&self, i: usize) -> Result<&[String], HostError> {
        match self.get(i, "flags")? {
            Val::Flags(f) => Ok(f),
            _ => Err(HostError::BadArgument {
                index: i,
                expected: "flags",
            }),
        }
    }
    pub fn has_flag(&self, i: usize, name: &str) -> Result<bool, HostError> {
        Ok(self.flags(i)?.iter().any(|f| f == name))
    }
    pub fn enum_case(&self, i: usize) -> Result<&str, HostError> {
        match self.get(i, "enum")? {
            Val::Enum(c) => Ok(c),
            _ => Err(HostError::BadArgument {
                index: i,
                expected: "enum",
            }),
        }
    }
    pub fn variant(&self, i: usize) -> Result<(&str, Option<&Val>), HostError> {
        match self.get(i, "variant")? {
            Val::Variant(c, p) => Ok((c, p.as_deref())),
            _ => Err(HostError::BadArgument {
                index: i,
                expected: "variant",
            }),
        }
    }
    pub fn list(&self, i: usize) -> Result<&[Val], HostError> {
        match self.get(i, "list")? {
            Val::List(l) => Ok(l),
            _ => Err(HostError::BadArgument {
                index: i,
                expected: "list",
            }),
        }
    }
    pub fn raw(&self, i: usize) -> Result<&Val, HostError> {
        self.get(i, "value")
    }
}

/// A record field by name.
pub fn field<'v>(v: &'v Val, name: &str) -> Option<&'v Val> {
    match v {
        Val::Record(fs) => fs.iter().find(|(n, _)| n == name).map(|(_, v)| v),
        _ => None,
    }
}
