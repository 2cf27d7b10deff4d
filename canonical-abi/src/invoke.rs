//! The pieces of `--invoke 'name(args)'` shared by the interpreter
//! (`p2shim --invoke`, cli's `component` module over component-model) and
//! lowered mode (`p2shim lower --invoke`, whose WASI library runs the call
//! inside the lowered module): one source of truth for how a call names an
//! export, how the exports' types travel into a lowered module, and what
//! is printed when a call cannot be made.
//!
//! * **Lookup** ([`find_func`], [`find_item`], [`split_item_name`]):
//!   wasmtime's rules over any export tree ([`ExportItem`]): a root export
//!   `name`; or `ns:pkg/iface.func@version`, function `func` of the
//!   exported instance `ns:pkg/iface@version` (instance names matched
//!   semver-compatibly, `0.2.0` finds `0.2.6`), and when no instance has
//!   that name, the root function `func` (as wasmtime 49 does, seen by
//!   trying: `x:y/z.add` calls the root `add`, while an instance that is
//!   found but lacks `func` gives no fallback); or else a function called
//!   `name` in exactly one exported instance ([`Lookup::Ambiguous`] when
//!   several have one, naming them in export order).
//! * **The export table** ([`InvokeFunc`], [`encode_funcs`],
//!   [`decode_funcs`]): the lifted functions of a reactor with their
//!   component types and canonical options, in a compact binary form that
//!   `lower` writes into the lowered module and the library reads at
//!   start-up. Format: the magic `p2i1`, a `u32` count, then per function
//!   its instance (a byte 0/1, then the name), its name, its parameters
//!   (`u32` count, then name and type each), its result (a byte 0/1, then
//!   the type), its string encoding (a byte: 0 UTF-8, 1 UTF-16, 2
//!   latin1+utf16) and a byte of flags (1 memory, 2 realloc, 4
//!   post-return). A type is a tag byte (the order of [`ValueType`]'s
//!   variants) and its parts; names are a `u32` byte length and UTF-8;
//!   every integer is little-endian. Functions of one instance are
//!   consecutive, in the component's export order.
//! * **Messages** ([`prepare`], [`InvokeError`], feature `wave`): parsing
//!   the call (wasm-wave), the lookup and the type check of the arguments,
//!   and the interpreter's report of each failure (`Caused by:` lines in
//!   the shape of `wasmtime run --invoke`'s).
//!
//! Invariants: decoding never panics on any input (a truncated or
//! malformed table, a type nested deeper than [`MAX_DEPTH`], a name that is
//! not UTF-8 are each a [`DecodeError`]); `decode_funcs(&encode_funcs(f))`
//! gives `f` back.

use crate::{CanonicalOptions, FuncType, ResourceTypeId, StringEncoding, ValueType};
use core::fmt;

/// An export tree node, as [`find_func`] walks it.
pub trait ExportItem: Sized {
    /// What a function export yields.
    type Func;
    /// The function, if this item is one.
    fn as_func(&self) -> Option<Self::Func>;
    /// The items of an exported instance, if this item is one.
    fn as_instance(&self) -> Option<&[(String, Self)]>;
}

/// Why a function is not found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    NotFound(String),
    Ambiguous {
        name: String,
        /// Each match as `ns:pkg/iface.name@version`.
        candidates: Vec<String>,
    },
}

/// The compatibility track of a version: `0.2.x` → `0.2`, `1.x.y` → `1`.
pub fn semver_track(v: &str) -> String {
    let parts: Vec<&str> = v.split('.').collect();
    match parts.as_slice() {
        ["0", "0", p, ..] => format!("0.0.{p}"),
        ["0", m, ..] => format!("0.{m}"),
        [x, ..] => x.to_string(),
        [] => String::new(),
    }
}

/// The item called `name`, exactly or else semver-compatibly (the last
/// compatible one: `wasi:cli/run@0.2.0` finds `wasi:cli/run@0.2.6`).
pub fn find_item<'a, I>(items: &'a [(String, I)], name: &str) -> Option<&'a I> {
    if let Some((_, d)) = items.iter().find(|(n, _)| n == name) {
        return Some(d);
    }
    let (base, want) = name.rsplit_once('@')?;
    let mut best = None;
    for (n, d) in items {
        if let Some((b, have)) = n.rsplit_once('@') {
            if b == base && semver_track(want) == semver_track(have) {
                best = Some(d);
            }
        }
    }
    best
}

/// Splits a WIT item name `ns:pkg/iface.func@version` (or `iface.func`)
/// into the instance name `ns:pkg/iface@version` and `func`; `None` for a
/// plain name. (WIT names have no `.` of their own: the last one before
/// the version separates the function.)
pub fn split_item_name(name: &str) -> Option<(String, &str)> {
    let (path, version) = match name.rsplit_once('@') {
        Some((p, v)) => (p, Some(v)),
        None => (name, None),
    };
    let dot = path.rfind('.')?;
    let (iface, func) = (&path[..dot], &path[dot + 1..]);
    if iface.is_empty() || func.is_empty() {
        return None;
    }
    Some((
        version.map_or_else(|| iface.to_string(), |v| format!("{iface}@{v}")),
        func,
    ))
}

/// Finds an exported function by the name `wasmtime run --invoke` uses
/// (see the module docs).
pub fn find_func<I: ExportItem>(exports: &[(String, I)], name: &str) -> Result<I::Func, Lookup> {
    if let Some(f) = find_item(exports, name).and_then(I::as_func) {
        return Ok(f);
    }
    if let Some((instance, func)) = split_item_name(name) {
        let found = match find_item(exports, &instance).and_then(I::as_instance) {
            Some(items) => find_item(items, func),
            // No such instance: wasmtime 49 then calls the root function
            // of that name (`x:y/z.add` calls `add`).
            None => find_item(exports, func),
        };
        if let Some(f) = found.and_then(I::as_func) {
            return Ok(f);
        }
    }
    let mut found = Vec::new();
    for (n, item) in exports {
        let Some(items) = item.as_instance() else {
            continue;
        };
        if let Some(f) = items
            .iter()
            .find(|(f, _)| f == name)
            .and_then(|(_, i)| i.as_func())
        {
            let shown = match n.split_once('@') {
                Some((iface, version)) => format!("{iface}.{name}@{version}"),
                None => format!("{n}.{name}"),
            };
            found.push((shown, f));
        }
    }
    match found.len() {
        0 => Err(Lookup::NotFound(name.to_string())),
        1 => Ok(found.pop().expect("one match").1),
        _ => Err(Lookup::Ambiguous {
            name: name.to_string(),
            candidates: found.into_iter().map(|(n, _)| n).collect(),
        }),
    }
}

/// One lifted function of the export table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeFunc {
    /// The exported instance it belongs to (`ns:pkg/iface@1.0.0`), `None`
    /// for a root export.
    pub instance: Option<String>,
    pub name: String,
    pub ty: FuncType,
    /// Its `canon lift` options.
    pub opts: CanonicalOptions,
}

/// The export tree of a table: each root function or instance, in order,
/// with positions in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableItem {
    Func(usize),
    Instance(Vec<(String, TableItem)>),
}

impl ExportItem for TableItem {
    type Func = usize;
    fn as_func(&self) -> Option<usize> {
        match self {
            TableItem::Func(i) => Some(*i),
            TableItem::Instance(_) => None,
        }
    }
    fn as_instance(&self) -> Option<&[(String, TableItem)]> {
        match self {
            TableItem::Instance(items) => Some(items),
            TableItem::Func(_) => None,
        }
    }
}

/// The export tree of `funcs` (functions of one instance grouped under
/// its first appearance).
pub fn export_tree(funcs: &[InvokeFunc]) -> Vec<(String, TableItem)> {
    let mut tree: Vec<(String, TableItem)> = Vec::new();
    for (k, f) in funcs.iter().enumerate() {
        match &f.instance {
            None => tree.push((f.name.clone(), TableItem::Func(k))),
            Some(i) => {
                let entry = tree
                    .iter_mut()
                    .find(|(n, item)| n == i && matches!(item, TableItem::Instance(_)));
                match entry {
                    Some((_, TableItem::Instance(items))) => {
                        items.push((f.name.clone(), TableItem::Func(k)))
                    }
                    _ => tree.push((
                        i.clone(),
                        TableItem::Instance(vec![(f.name.clone(), TableItem::Func(k))]),
                    )),
                }
            }
        }
    }
    tree
}

const MAGIC: &[u8; 4] = b"p2i1";

/// The deepest type nesting [`decode_funcs`] accepts.
pub const MAX_DEPTH: u32 = 1000;

/// A malformed export table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset where decoding stopped.
    pub offset: usize,
    pub what: &'static str,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "malformed export table at byte {}: {}",
            self.offset, self.what
        )
    }
}

impl std::error::Error for DecodeError {}

/// Encodes the export table (see the module docs).
pub fn encode_funcs(funcs: &[InvokeFunc]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    put_u32(&mut out, funcs.len());
    for f in funcs {
        match &f.instance {
            None => out.push(0),
            Some(i) => {
                out.push(1);
                put_str(&mut out, i);
            }
        }
        put_str(&mut out, &f.name);
        put_u32(&mut out, f.ty.params.len());
        for (n, t) in &f.ty.params {
            put_str(&mut out, n);
            put_type(&mut out, t);
        }
        put_opt(&mut out, f.ty.result.as_ref());
        out.push(match f.opts.string_encoding {
            StringEncoding::Utf8 => 0,
            StringEncoding::Utf16 => 1,
            StringEncoding::CompactUtf16 => 2,
        });
        out.push(
            u8::from(f.opts.has_memory)
                | u8::from(f.opts.has_realloc) << 1
                | u8::from(f.opts.has_post_return) << 2,
        );
    }
    out
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u32).to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt(out: &mut Vec<u8>, t: Option<&ValueType>) {
    match t {
        None => out.push(0),
        Some(t) => {
            out.push(1);
            put_type(out, t);
        }
    }
}

fn put_type(out: &mut Vec<u8>, t: &ValueType) {
    use ValueType as T;
    let tag = match t {
        T::Bool => 0,
        T::S8 => 1,
        T::U8 => 2,
        T::S16 => 3,
        T::U16 => 4,
        T::S32 => 5,
        T::U32 => 6,
        T::S64 => 7,
        T::U64 => 8,
        T::F32 => 9,
        T::F64 => 10,
        T::Char => 11,
        T::String => 12,
        T::List(_) => 13,
        T::Record(_) => 14,
        T::Tuple(_) => 15,
        T::Variant(_) => 16,
        T::Enum(_) => 17,
        T::Option(_) => 18,
        T::Result { .. } => 19,
        T::Flags(_) => 20,
        T::Own(_) => 21,
        T::Borrow(_) => 22,
    };
    out.push(tag);
    match t {
        T::List(e) | T::Option(e) => put_type(out, e),
        T::Record(fields) => {
            put_u32(out, fields.len());
            for (n, t) in fields {
                put_str(out, n);
                put_type(out, t);
            }
        }
        T::Tuple(ts) => {
            put_u32(out, ts.len());
            for t in ts {
                put_type(out, t);
            }
        }
        T::Variant(cases) => {
            put_u32(out, cases.len());
            for (n, t) in cases {
                put_str(out, n);
                put_opt(out, t.as_ref());
            }
        }
        T::Enum(labels) | T::Flags(labels) => {
            put_u32(out, labels.len());
            for l in labels {
                put_str(out, l);
            }
        }
        T::Result { ok, err } => {
            put_opt(out, ok.as_deref());
            put_opt(out, err.as_deref());
        }
        T::Own(r) | T::Borrow(r) => put_u32(out, r.0 as usize),
        _ => {}
    }
}

/// Decodes an export table written by [`encode_funcs`].
pub fn decode_funcs(bytes: &[u8]) -> Result<Vec<InvokeFunc>, DecodeError> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(4)? != MAGIC {
        return Err(r.error("not an export table (bad magic)"));
    }
    let n = r.u32()?;
    let mut funcs = Vec::new();
    for _ in 0..n {
        let instance = match r.byte()? {
            0 => None,
            1 => Some(r.string()?),
            _ => return Err(r.error("bad instance flag")),
        };
        let name = r.string()?;
        let np = r.u32()?;
        let mut params = Vec::new();
        for _ in 0..np {
            let n = r.string()?;
            params.push((n, r.ty(0)?));
        }
        let result = r.opt(0)?;
        let string_encoding = match r.byte()? {
            0 => StringEncoding::Utf8,
            1 => StringEncoding::Utf16,
            2 => StringEncoding::CompactUtf16,
            _ => return Err(r.error("bad string encoding")),
        };
        let flags = r.byte()?;
        if flags > 7 {
            return Err(r.error("bad option flags"));
        }
        funcs.push(InvokeFunc {
            instance,
            name,
            ty: FuncType { params, result },
            opts: CanonicalOptions {
                string_encoding,
                has_memory: flags & 1 != 0,
                has_realloc: flags & 2 != 0,
                has_post_return: flags & 4 != 0,
            },
        });
    }
    if r.at != bytes.len() {
        return Err(r.error("bytes after the last function"));
    }
    Ok(funcs)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn error(&self, what: &'static str) -> DecodeError {
        DecodeError {
            offset: self.at,
            what,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or_else(|| self.error("truncated"))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let n = self.u32()? as usize;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|_| self.error("a name is not UTF-8"))
    }

    fn strings(&mut self) -> Result<Vec<String>, DecodeError> {
        let n = self.u32()?;
        (0..n).map(|_| self.string()).collect()
    }

    fn opt(&mut self, depth: u32) -> Result<Option<ValueType>, DecodeError> {
        match self.byte()? {
            0 => Ok(None),
            1 => Ok(Some(self.ty(depth)?)),
            _ => Err(self.error("bad option byte")),
        }
    }

    fn ty(&mut self, depth: u32) -> Result<ValueType, DecodeError> {
        use ValueType as T;
        if depth > MAX_DEPTH {
            return Err(self.error("types nested too deeply"));
        }
        let d = depth + 1;
        Ok(match self.byte()? {
            0 => T::Bool,
            1 => T::S8,
            2 => T::U8,
            3 => T::S16,
            4 => T::U16,
            5 => T::S32,
            6 => T::U32,
            7 => T::S64,
            8 => T::U64,
            9 => T::F32,
            10 => T::F64,
            11 => T::Char,
            12 => T::String,
            13 => T::List(Box::new(self.ty(d)?)),
            14 => {
                let n = self.u32()?;
                let mut fields = Vec::new();
                for _ in 0..n {
                    let name = self.string()?;
                    fields.push((name, self.ty(d)?));
                }
                T::Record(fields)
            }
            15 => {
                let n = self.u32()?;
                T::Tuple((0..n).map(|_| self.ty(d)).collect::<Result<_, _>>()?)
            }
            16 => {
                let n = self.u32()?;
                let mut cases = Vec::new();
                for _ in 0..n {
                    let name = self.string()?;
                    cases.push((name, self.opt(d)?));
                }
                T::Variant(cases)
            }
            17 => T::Enum(self.strings()?),
            18 => T::Option(Box::new(self.ty(d)?)),
            19 => {
                let ok = self.opt(d)?.map(Box::new);
                let err = self.opt(d)?.map(Box::new);
                T::Result { ok, err }
            }
            20 => T::Flags(self.strings()?),
            21 => T::Own(ResourceTypeId(self.u32()?)),
            22 => T::Borrow(ResourceTypeId(self.u32()?)),
            _ => return Err(self.error("unknown type tag")),
        })
    }
}

#[cfg(feature = "wave")]
pub use messages::*;

#[cfg(feature = "wave")]
mod messages {
    use super::Lookup;
    use crate::wave::{FuncCall, ParserError, WriterError};
    use crate::{FuncType, Val};

    /// Why an `--invoke` call failed, with the interpreter's report of it.
    #[derive(Debug)]
    pub enum InvokeError {
        /// The call is not WAVE call syntax.
        Parse {
            call: String,
            error: ParserError,
        },
        Lookup(Lookup),
        /// Another error of the lookup, as its text.
        Other(String),
        /// The arguments do not fit the function's type.
        Params {
            call: String,
            error: ParserError,
        },
        /// The call itself failed (`name` as written in the call).
        Failed {
            name: String,
            message: String,
        },
        /// The results have no WAVE form.
        Print {
            name: String,
            error: WriterError,
        },
    }

    impl InvokeError {
        /// The `Caused by:` lines of the report (indented, no final newline).
        pub fn causes(&self) -> String {
            match self {
                InvokeError::Parse { call, error } => format!(
                    "    0: Failed to parse invoke '{call}': see `p2shim --help` for the syntax\n    1: {error}"
                ),
                InvokeError::Lookup(Lookup::NotFound(name)) => {
                    format!("    No exported func named `{name}` in component.")
                }
                InvokeError::Lookup(Lookup::Ambiguous { name, candidates }) => format!(
                    "    Multiple instances contained funcs named `{name}`, retry with a more specific name: {}",
                    candidates
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                InvokeError::Other(message) => format!("    {message}"),
                InvokeError::Params { call, error } => format!(
                    "    0: while interpreting parameters in invoke \"{call}\"\n    1: {error}"
                ),
                InvokeError::Failed { name, message } => {
                    format!("    0: failed to invoke `{name}`\n    1: {message}")
                }
                InvokeError::Print { name, error } => format!(
                    "    0: failed to invoke `{name}`\n    1: cannot print the result in WAVE: {error}"
                ),
            }
        }

        /// The whole report for program `file`, as the interpreter prints
        /// it on stderr (ending in a newline).
        pub fn report(&self, file: &str) -> String {
            format!(
                "Error: failed to run main module `{file}`\n\nCaused by:\n{}\n",
                self.causes()
            )
        }
    }

    /// Parses `call`, finds its function with `find` and type-checks the
    /// arguments against its type (`ty`): the function, its name as
    /// written, and the arguments.
    pub fn prepare<F>(
        call: &str,
        find: impl FnOnce(&str) -> Result<F, InvokeError>,
        ty: impl FnOnce(&F) -> &FuncType,
    ) -> Result<(F, String, Vec<Val>), InvokeError> {
        let parsed = FuncCall::parse(call).map_err(|error| InvokeError::Parse {
            call: call.to_string(),
            error,
        })?;
        let name = parsed.name().to_string();
        let func = find(&name)?;
        let params = parsed
            .params(ty(&func))
            .map_err(|error| InvokeError::Params {
                call: call.to_string(),
                error,
            })?;
        Ok((func, name, params))
    }

    /// The line `--invoke` prints for `results` (without the newline).
    pub fn results_line(name: &str, results: &[Val]) -> Result<String, InvokeError> {
        crate::wave::results_to_string(results).map_err(|error| InvokeError::Print {
            name: name.to_string(),
            error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ValueType as T;

    fn func(instance: Option<&str>, name: &str, ty: FuncType) -> InvokeFunc {
        InvokeFunc {
            instance: instance.map(str::to_string),
            name: name.into(),
            ty,
            opts: CanonicalOptions::with_memory(StringEncoding::Utf16),
        }
    }

    fn every_type() -> FuncType {
        FuncType {
            params: vec![
                ("a".into(), T::List(Box::new(T::String))),
                (
                    "b".into(),
                    T::Record(vec![("x".into(), T::U8), ("y".into(), T::Char)]),
                ),
                ("c".into(), T::Tuple(vec![T::S64, T::F32, T::F64, T::Bool])),
                (
                    "d".into(),
                    T::Variant(vec![("n".into(), None), ("s".into(), Some(T::S8))]),
                ),
                ("e".into(), T::Enum(vec!["p".into(), "q".into()])),
                ("f".into(), T::Option(Box::new(T::U16))),
                ("g".into(), T::Flags(vec!["r".into()])),
                ("h".into(), T::Own(ResourceTypeId(3))),
                ("i".into(), T::Borrow(ResourceTypeId(4))),
                ("j".into(), T::S16),
                ("k".into(), T::S32),
                ("l".into(), T::U32),
                ("m".into(), T::U64),
            ],
            result: Some(T::Result {
                ok: None,
                err: Some(Box::new(T::String)),
            }),
        }
    }

    #[test]
    fn tables_round_trip() {
        let funcs = vec![
            func(None, "f", every_type()),
            func(
                Some("ns:pkg/i@1.0.0"),
                "g",
                FuncType {
                    params: vec![],
                    result: None,
                },
            ),
        ];
        let bytes = encode_funcs(&funcs);
        assert_eq!(decode_funcs(&bytes).unwrap(), funcs);
        // Every truncation and every extra byte is an error, not a panic.
        for n in 0..bytes.len() {
            assert!(decode_funcs(&bytes[..n]).is_err(), "truncated at {n}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode_funcs(&longer).is_err());
        // Any byte changed: an error or another table, never a panic.
        for at in 0..bytes.len() {
            let mut b = bytes.clone();
            b[at] ^= 0xff;
            let _ = decode_funcs(&b);
        }
        let deep: Vec<u8> = MAGIC
            .iter()
            .copied()
            .chain([1, 0, 0, 0, 0, 1, 0, 0, 0, b'f', 0, 0, 0, 0, 1])
            .chain(std::iter::repeat_n(13, 5000))
            .collect();
        assert_eq!(
            decode_funcs(&deep).unwrap_err().what,
            "types nested too deeply"
        );
    }

    #[test]
    fn lookup_follows_wasmtime() {
        let unit = || FuncType {
            params: vec![],
            result: None,
        };
        let funcs = vec![
            func(None, "add", unit()),
            func(Some("test:demo/api@0.1.0"), "echo", unit()),
            func(Some("test:demo/api@0.1.0"), "add", unit()),
            func(Some("test:other/api"), "echo", unit()),
        ];
        let tree = export_tree(&funcs);
        assert_eq!(tree.len(), 3);
        assert_eq!(find_func(&tree, "add"), Ok(0));
        assert_eq!(find_func(&tree, "test:demo/api.echo@0.1.0"), Ok(1));
        assert_eq!(find_func(&tree, "test:demo/api.add@0.1.5"), Ok(2));
        assert_eq!(
            find_func(&tree, "test:demo/api.echo@0.2.0"),
            Err(Lookup::NotFound("test:demo/api.echo@0.2.0".into()))
        );
        assert_eq!(
            find_func(&tree, "echo"),
            Err(Lookup::Ambiguous {
                name: "echo".into(),
                candidates: vec![
                    "test:demo/api.echo@0.1.0".into(),
                    "test:other/api.echo".into()
                ],
            })
        );
        assert_eq!(
            find_func(&tree, "nope"),
            Err(Lookup::NotFound("nope".into()))
        );
        // A qualified name whose instance is not exported: the root
        // function of that name, if any; an instance that is found but
        // lacks the function: none (wasmtime 49, seen by trying).
        assert_eq!(find_func(&tree, "x:y/z.add"), Ok(0));
        assert_eq!(find_func(&tree, "foo.add"), Ok(0));
        assert_eq!(find_func(&tree, "test:demo/api.add@0.2.0"), Ok(0));
        assert_eq!(find_func(&tree, "test:demo/api.add"), Ok(0));
        assert_eq!(
            find_func(&tree, "x:y/z.echo"),
            Err(Lookup::NotFound("x:y/z.echo".into()))
        );
        let with_root_nothing = {
            let mut f = funcs.clone();
            f.push(func(None, "nothing", unit()));
            export_tree(&f)
        };
        assert_eq!(find_func(&with_root_nothing, "x:y/z.nothing"), Ok(4));
        assert_eq!(
            find_func(&with_root_nothing, "test:demo/api.nothing@0.1.5"),
            Err(Lookup::NotFound("test:demo/api.nothing@0.1.5".into()))
        );
        assert_eq!(split_item_name("plain"), None);
        assert_eq!(split_item_name("foo.add"), Some(("foo".into(), "add")));
        assert_eq!(
            split_item_name("a:b/c.f@1.2.3"),
            Some(("a:b/c@1.2.3".into(), "f"))
        );
        assert_eq!(split_item_name(".f"), None);
        assert_eq!(semver_track("0.2.6"), "0.2");
        assert_eq!(semver_track("1.4.0"), "1");
    }
}
