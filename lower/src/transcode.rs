//! String transcoders of the fused adapters: a string lifted from one
//! memory in one string encoding and lowered into another memory in
//! another (`utf8`, `utf16`, `latin1+utf16`), generated as one core
//! function `(ptr, tagged_code_units) -> (ptr, tagged_code_units)` per
//! pair of sides.
//!
//! The code follows the Canonical ABI's `load_string` and
//! `store_string` step by step, as `canonical_abi::strings` does for the
//! interpreter:
//! * lifting checks the length limit (`MAX_STRING_BYTE_LENGTH`), the
//!   alignment (2 for `utf16` and `latin1+utf16`) and the bounds (traps),
//!   then the code units: UTF-8 by the adapter's validator, UTF-16 while
//!   decoding (an unpaired surrogate); Latin-1 has no invalid byte. An
//!   invalid encoding is reported through the library (exit status 1, as
//!   wasmtime's transcoding libcalls report it), the rest trap, as in
//!   wasmtime;
//! * lowering calls the destination's `realloc` with the spec's arguments
//!   in the spec's order (the optimistic size, the worst case when the
//!   guess fails, the shrink to the exact size), checking each result's
//!   alignment and bounds, and writes what the spec has written before each
//!   call, since a `realloc` may move the allocation.
//!
//! Invariants: the source bytes are read where they are (the source memory
//! is not the destination's, or, for a WASI import, the destination's
//! `realloc` is the scratch allocator, which never hands out the caller's
//! data), so they are decoded twice when the spec needs a length first;
//! sizes cannot overflow, since a lifted string has at most 2^28 - 1 bytes
//! and so at most three times as many UTF-8 bytes.

use crate::adapter::{mem_arg_at, Code};
use canonical_abi::strings::{MAX_STRING_BYTE_LENGTH, UTF16_TAG};
use canonical_abi::{CanonError, StringEncoding};
use wasm_encoder::{BlockType, Function, Instruction as I, ValType};

/// One fixed-width reading of the source: `latin1+utf16` is Latin-1 or
/// UTF-16 depending on its tag.
#[derive(Clone, Copy, PartialEq)]
enum Units {
    Utf8,
    Utf16,
    Latin1,
}

/// Where a copy loop stops early.
#[derive(Clone, Copy, PartialEq)]
enum Stop {
    Never,
    /// Before the first char above U+007F.
    NonAscii,
    /// Before the first char above U+00FF.
    NonLatin1,
}

/// The merged indices a transcoder uses.
pub struct Sides {
    pub src_mem: u32,
    pub src: StringEncoding,
    pub dst_mem: u32,
    pub dst: StringEncoding,
    pub realloc: u32,
    /// The UTF-8 validator of the source memory (for a `utf8` source).
    pub validator: Option<u32>,
    /// The library's report of a Canonical ABI error (an invalid
    /// encoding), if any (`resources::raise`).
    pub report: Option<u32>,
}

/// The transcoder's body.
pub fn body(s: &Sides) -> Function {
    let mut t = T {
        c: Code::new(2),
        s,
        p: 0,
        end: 0,
        units: 0,
        d: 0,
        q: 0,
        cp: 0,
    };
    t.p = t.c.local(ValType::I32);
    t.end = t.c.local(ValType::I32);
    t.units = t.c.local(ValType::I32);
    t.d = t.c.local(ValType::I32);
    t.q = t.c.local(ValType::I32);
    t.cp = t.c.local(ValType::I32);
    match s.src {
        StringEncoding::Utf8 => t.case(Units::Utf8, false),
        StringEncoding::Utf16 => t.case(Units::Utf16, false),
        StringEncoding::CompactUtf16 => {
            t.c.emit(I::LocalGet(1));
            t.c.emit(I::I32Const(UTF16_TAG as i32));
            t.c.emit(I::I32And);
            t.c.emit(I::If(BlockType::Empty));
            t.case(Units::Utf16, true);
            t.c.emit(I::End);
            t.case(Units::Latin1, true);
        }
    }
    t.c.emit(I::Unreachable);
    t.c.finish()
}

struct T<'a> {
    c: Code,
    s: &'a Sides,
    /// Source cursor and end.
    p: u32,
    end: u32,
    /// Source code units (untagged).
    units: u32,
    /// Destination allocation and cursor.
    d: u32,
    q: u32,
    /// The char just decoded.
    cp: u32,
}

impl T<'_> {
    fn get(&mut self, l: u32) {
        self.c.emit(I::LocalGet(l));
    }

    fn set(&mut self, l: u32) {
        self.c.emit(I::LocalSet(l));
    }

    fn ops<const N: usize>(&mut self, is: [I<'static>; N]) {
        for i in is {
            self.c.emit(i);
        }
    }

    fn konst(&mut self, v: i32) {
        self.c.emit(I::I32Const(v));
    }

    /// `local += v`.
    fn bump(&mut self, l: u32, v: i32) {
        self.get(l);
        self.konst(v);
        self.c.emit(I::I32Add);
        self.set(l);
    }

    /// Lifts (checks) the source read as `units`, then lowers it; ends
    /// with a `return`.
    fn case(&mut self, units: Units, compact: bool) {
        // The code units and the byte length, within the limit.
        self.get(1);
        if units == Units::Utf16 && compact {
            self.konst(UTF16_TAG as i32);
            self.c.emit(I::I32Xor);
        }
        self.set(self.units);
        let width = if units == Units::Utf16 { 2 } else { 1 };
        self.get(self.units);
        self.c.emit(I::I64ExtendI32U);
        self.c.emit(I::I64Const(width));
        self.c.emit(I::I64Mul);
        self.c.emit(I::I64Const(MAX_STRING_BYTE_LENGTH as i64));
        self.c.emit(I::I64GtU);
        self.c.trap_if();
        if units != Units::Utf8 {
            self.get(0);
            self.konst(1);
            self.c.emit(I::I32And);
            self.c.trap_if();
        }
        // In bounds (the length is below 2^28, so no wrap in i64).
        self.in_bounds(self.s.src_mem, 0, |t| {
            t.get(t.units);
            t.c.emit(I::I64ExtendI32U);
            t.c.emit(I::I64Const(width));
            t.c.emit(I::I64Mul);
        });
        self.get(0);
        self.get(self.units);
        if width == 2 {
            self.konst(1);
            self.c.emit(I::I32Shl);
        }
        self.c.emit(I::I32Add);
        self.set(self.end);
        if units == Units::Utf8 {
            let v = self
                .s
                .validator
                .expect("a validator for every UTF-8 source");
            self.get(0);
            self.get(self.units);
            self.c.emit(I::Call(v));
        }
        self.restart();
        use StringEncoding as E;
        match (self.s.dst, units, compact) {
            (E::Utf8, Units::Utf8, _) => unreachable!("UTF-8 to UTF-8 is a copy"),
            (E::Utf8, _, _) => self.store_to_utf8(if units == Units::Utf16 { 3 } else { 2 }, units),
            (E::Utf16, Units::Utf8, _) => self.utf8_to_utf16(),
            (E::Utf16, _, _) => self.copy(units, Units::Utf16, false),
            (E::CompactUtf16, Units::Latin1, true) => self.copy(units, Units::Latin1, false),
            (E::CompactUtf16, Units::Utf16, true) => self.copy(units, Units::Utf16, true),
            (E::CompactUtf16, _, _) => self.store_to_latin1_or_utf16(units),
        }
    }

    /// The source cursor back at the start.
    fn restart(&mut self) {
        self.get(0);
        self.set(self.p);
    }

    /// `d = realloc(old, old_size, align, size)`, then the spec's checks
    /// of the result (alignment, bounds).
    fn realloc(&mut self, old: Option<(u32, Size)>, align: u32, size: Size) {
        match old {
            Some((d, old_size)) => {
                self.get(d);
                self.size(old_size);
            }
            None => {
                self.konst(0);
                self.konst(0);
            }
        }
        self.konst(align as i32);
        self.size(size);
        self.c.emit(I::Call(self.s.realloc));
        self.set(self.d);
        if align > 1 {
            self.get(self.d);
            self.konst(align as i32 - 1);
            self.c.emit(I::I32And);
            self.c.trap_if();
        }
        self.in_bounds(self.s.dst_mem, self.d, |t| {
            t.size(size);
            t.c.emit(I::I64ExtendI32U);
        });
    }

    /// Traps unless `ptr` (a local) plus the `i64` size `push_size` pushes
    /// is within memory `mem`.
    fn in_bounds(&mut self, mem: u32, ptr: u32, push_size: impl FnOnce(&mut Self)) {
        self.get(ptr);
        self.c.emit(I::I64ExtendI32U);
        push_size(self);
        self.c.emit(I::I64Add);
        self.c.emit(I::MemorySize(mem));
        self.c.emit(I::I64ExtendI32U);
        self.c.emit(I::I64Const(16));
        self.c.emit(I::I64Shl);
        self.c.emit(I::I64GtU);
        self.c.trap_if();
    }

    fn size(&mut self, s: Size) {
        match s {
            Size::Units(k) => {
                self.get(self.units);
                if k > 1 {
                    self.konst(k);
                    self.c.emit(I::I32Mul);
                }
            }
            Size::Local(l) => self.get(l),
        }
    }

    /// `store_string_to_utf8` (from UTF-16 or Latin-1): one byte per code
    /// unit while the chars are ASCII; on the first that is not, the worst
    /// case (`worst` bytes per unit), the rest, and the shrink.
    fn store_to_utf8(&mut self, worst: i32, units: Units) {
        self.realloc(None, 1, Size::Units(1));
        self.get(self.d);
        self.set(self.q);
        self.copy_loop(units, Units::Utf8, Stop::NonAscii, None);
        // All ASCII: done.
        self.get(self.p);
        self.get(self.end);
        self.c.emit(I::I32GeU);
        self.c.emit(I::If(BlockType::Empty));
        self.get(self.d);
        self.get(self.units);
        self.c.emit(I::Return);
        self.c.emit(I::End);
        let written = self.c.local(ValType::I32);
        self.written(written);
        self.realloc(Some((self.d, Size::Units(1))), 1, Size::Units(worst));
        self.resume(written);
        self.copy_loop(units, Units::Utf8, Stop::Never, None);
        self.shrink(Size::Units(worst), 1, 1, false);
    }

    /// `store_utf8_to_utf16`: the worst case (two bytes per byte), then
    /// the shrink.
    fn utf8_to_utf16(&mut self) {
        self.realloc(None, 2, Size::Units(2));
        self.get(self.d);
        self.set(self.q);
        self.copy_loop(Units::Utf8, Units::Utf16, Stop::Never, None);
        self.shrink(Size::Units(2), 2, 2, false);
    }

    /// `store_string_copy` into `to` units (UTF-16 from UTF-16 or Latin-1,
    /// Latin-1 from Latin-1), or with `deflate`,
    /// `store_probably_utf16_to_latin1_or_utf16`.
    fn copy(&mut self, units: Units, to: Units, deflate: bool) {
        let width = if to == Units::Utf16 { 2 } else { 1 };
        self.realloc(None, 2, Size::Units(width));
        self.get(self.d);
        self.set(self.q);
        let wide = deflate.then(|| self.c.local(ValType::I32));
        self.copy_loop(units, to, Stop::Never, wide);
        if let Some(w) = wide {
            // A char above U+00FF: stays UTF-16, tagged.
            self.get(w);
            self.c.emit(I::If(BlockType::Empty));
            self.get(self.d);
            self.get(self.units);
            self.konst(UTF16_TAG as i32);
            self.c.emit(I::I32Or);
            self.c.emit(I::Return);
            self.c.emit(I::End);
            // Deflate: mem[d + i] = mem[d + 2i].
            let i = self.c.local(ValType::I32);
            self.konst(0);
            self.set(i);
            self.c.emit(I::Block(BlockType::Empty));
            self.c.emit(I::Loop(BlockType::Empty));
            self.get(i);
            self.get(self.units);
            self.c.emit(I::I32GeU);
            self.c.emit(I::BrIf(1));
            self.get(self.d);
            self.get(i);
            self.c.emit(I::I32Add);
            self.get(self.d);
            self.get(i);
            self.konst(1);
            self.c.emit(I::I32Shl);
            self.c.emit(I::I32Add);
            self.c.emit(I::I32Load8U(mem_arg_at(self.s.dst_mem, 0, 0)));
            self.c.emit(I::I32Store8(mem_arg_at(self.s.dst_mem, 0, 0)));
            self.bump(i, 1);
            self.c.emit(I::Br(0));
            self.c.emit(I::End);
            self.c.emit(I::End);
            self.realloc(Some((self.d, Size::Units(2))), 1, Size::Units(1));
        }
        self.get(self.d);
        self.get(self.units);
        self.c.emit(I::Return);
    }

    /// `store_string_to_latin1_or_utf16` (from UTF-8 or UTF-16): Latin-1
    /// while the chars fit, shrunk at the end; on the first that does not,
    /// the UTF-16 worst case, the Latin-1 so far inflated in place, the
    /// rest, the shrink, and the tag.
    fn store_to_latin1_or_utf16(&mut self, units: Units) {
        self.realloc(None, 2, Size::Units(1));
        self.get(self.d);
        self.set(self.q);
        self.copy_loop(units, Units::Latin1, Stop::NonLatin1, None);
        let k = self.c.local(ValType::I32);
        self.written(k);
        self.get(self.p);
        self.get(self.end);
        self.c.emit(I::I32GeU);
        self.c.emit(I::If(BlockType::Empty));
        {
            // All Latin-1: shrink if smaller.
            self.get(k);
            self.get(self.units);
            self.c.emit(I::I32LtU);
            self.c.emit(I::If(BlockType::Empty));
            self.realloc(Some((self.d, Size::Units(1))), 2, Size::Local(k));
            self.c.emit(I::End);
            self.get(self.d);
            self.get(k);
            self.c.emit(I::Return);
        }
        self.c.emit(I::End);
        self.realloc(Some((self.d, Size::Units(1))), 2, Size::Units(2));
        // Inflate the k bytes in place, from the last.
        let j = self.c.local(ValType::I32);
        self.get(k);
        self.set(j);
        self.c.emit(I::Block(BlockType::Empty));
        self.c.emit(I::Loop(BlockType::Empty));
        self.get(j);
        self.c.emit(I::I32Eqz);
        self.c.emit(I::BrIf(1));
        self.bump(j, -1);
        self.get(self.d);
        self.get(j);
        self.konst(1);
        self.c.emit(I::I32Shl);
        self.c.emit(I::I32Add);
        self.get(self.d);
        self.get(j);
        self.c.emit(I::I32Add);
        self.c.emit(I::I32Load8U(mem_arg_at(self.s.dst_mem, 0, 0)));
        self.c.emit(I::I32Store16(mem_arg_at(self.s.dst_mem, 0, 1)));
        self.c.emit(I::Br(0));
        self.c.emit(I::End);
        self.c.emit(I::End);
        self.get(self.d);
        self.get(k);
        self.konst(1);
        self.c.emit(I::I32Shl);
        self.c.emit(I::I32Add);
        self.set(self.q);
        self.copy_loop(units, Units::Utf16, Stop::Never, None);
        self.shrink(Size::Units(2), 2, 2, true);
    }

    /// `local = q - d`: the bytes written so far.
    fn written(&mut self, local: u32) {
        self.get(self.q);
        self.get(self.d);
        self.c.emit(I::I32Sub);
        self.set(local);
    }

    /// `q = d + written`, after a `realloc` moved `d`.
    fn resume(&mut self, written: u32) {
        self.get(self.d);
        self.get(written);
        self.c.emit(I::I32Add);
        self.set(self.q);
    }

    /// The end of a worst-case allocation: `len = q - d`; if smaller than
    /// `worst`, `realloc(d, worst, align, len)`; returns `(d, len / unit)`,
    /// tagged if `tag`.
    fn shrink(&mut self, worst: Size, align: u32, unit: i32, tag: bool) {
        let len = self.c.local(ValType::I32);
        self.written(len);
        self.get(len);
        self.size(worst);
        self.c.emit(I::I32LtU);
        self.c.emit(I::If(BlockType::Empty));
        self.realloc(Some((self.d, worst)), align, Size::Local(len));
        self.c.emit(I::End);
        self.get(self.d);
        self.get(len);
        if unit == 2 {
            self.konst(1);
            self.c.emit(I::I32ShrU);
        }
        if tag {
            self.konst(UTF16_TAG as i32);
            self.c.emit(I::I32Or);
        }
        self.c.emit(I::Return);
    }

    /// Decodes chars from `p` to `end` and encodes each at `q` in `to`,
    /// stopping (with `p` at that char) before the first `stop` says; with
    /// `wide`, notes in it whether a char above U+00FF went by.
    fn copy_loop(&mut self, units: Units, to: Units, stop: Stop, wide: Option<u32>) {
        let at = self.c.local(ValType::I32);
        self.c.emit(I::Block(BlockType::Empty));
        self.c.emit(I::Loop(BlockType::Empty));
        self.get(self.p);
        self.get(self.end);
        self.c.emit(I::I32GeU);
        self.c.emit(I::BrIf(1));
        self.get(self.p);
        self.set(at);
        self.decode(units);
        let limit = match stop {
            Stop::Never => None,
            Stop::NonAscii => Some(0x80),
            Stop::NonLatin1 => Some(0x100),
        };
        if let Some(limit) = limit {
            self.get(self.cp);
            self.konst(limit);
            self.c.emit(I::I32GeU);
            self.c.emit(I::If(BlockType::Empty));
            self.get(at);
            self.set(self.p);
            self.c.emit(I::Br(2));
            self.c.emit(I::End);
        }
        if let Some(w) = wide {
            self.get(w);
            self.get(self.cp);
            self.konst(0xff);
            self.c.emit(I::I32GtU);
            self.c.emit(I::I32Or);
            self.set(w);
        }
        self.encode(to);
        self.c.emit(I::Br(0));
        self.c.emit(I::End);
        self.c.emit(I::End);
    }

    fn load8(&mut self, offset: u32) {
        self.get(self.p);
        self.c
            .emit(I::I32Load8U(mem_arg_at(self.s.src_mem, offset, 0)));
    }

    /// `cp` = the char at `p`, `p` past it.
    fn decode(&mut self, units: Units) {
        match units {
            Units::Latin1 => {
                self.load8(0);
                self.set(self.cp);
                self.bump(self.p, 1);
            }
            Units::Utf16 => {
                let m = mem_arg_at(self.s.src_mem, 0, 1);
                self.get(self.p);
                self.c.emit(I::I32Load16U(m));
                self.set(self.cp);
                self.bump(self.p, 2);
                // A surrogate: a high one, then a low one, else a trap.
                let (cp, p, end) = (self.cp, self.p, self.end);
                let lo = self.c.local(ValType::I32);
                self.ops([
                    I::LocalGet(cp),
                    I::I32Const(0xd800),
                    I::I32Sub,
                    I::I32Const(0x800),
                    I::I32LtU,
                    I::If(BlockType::Empty),
                    // A low one first, or nothing after the high one.
                    I::LocalGet(cp),
                    I::I32Const(0xdc00),
                    I::I32GeU,
                    I::LocalGet(p),
                    I::LocalGet(end),
                    I::I32GeU,
                    I::I32Or,
                ]);
                self.c.raise_if(self.s.report, CanonError::InvalidUtf16);
                self.ops([
                    I::LocalGet(p),
                    I::I32Load16U(m),
                    I::I32Const(0xdc00),
                    I::I32Sub,
                    I::LocalTee(lo),
                    I::I32Const(0x400),
                    I::I32GeU,
                ]);
                self.c.raise_if(self.s.report, CanonError::InvalidUtf16);
                self.bump(p, 2);
                self.ops([
                    I::LocalGet(cp),
                    I::I32Const(0xd800),
                    I::I32Sub,
                    I::I32Const(10),
                    I::I32Shl,
                    I::LocalGet(lo),
                    I::I32Or,
                    I::I32Const(0x10000),
                    I::I32Add,
                    I::LocalSet(cp),
                    I::End,
                ]);
            }
            Units::Utf8 => {
                // Validated already: the lead byte says the length.
                self.load8(0);
                self.set(self.cp);
                self.utf8_ladder([0x80, 0xe0, 0xf0], |t, n| {
                    if n > 1 {
                        let lead_mask = 0x7f >> n;
                        t.get(t.cp);
                        t.konst(lead_mask);
                        t.c.emit(I::I32And);
                        for k in 1..n {
                            t.konst(6);
                            t.c.emit(I::I32Shl);
                            t.load8(k);
                            t.konst(0x3f);
                            t.c.emit(I::I32And);
                            t.c.emit(I::I32Or);
                        }
                        t.set(t.cp);
                    }
                    t.bump(t.p, n as i32);
                });
            }
        }
    }

    /// UTF-8's lengths 1 to 4 as an `if`/`else` ladder on `cp`:
    /// `below[n - 1]` bounds what has length `n` (or fewer), and `body`
    /// emits the case of length `n`.
    fn utf8_ladder(&mut self, below: [i32; 3], mut body: impl FnMut(&mut Self, u32)) {
        for (n, bound) in (1..).zip(below) {
            self.get(self.cp);
            self.konst(bound);
            self.c.emit(I::I32LtU);
            self.c.emit(I::If(BlockType::Empty));
            body(self, n);
            self.c.emit(I::Else);
        }
        body(self, 4);
        for _ in below {
            self.c.emit(I::End);
        }
    }

    fn store8_at(&mut self, offset: u32) {
        self.c
            .emit(I::I32Store8(mem_arg_at(self.s.dst_mem, offset, 0)));
    }

    /// Writes `cp` at `q` in `to`, `q` past it.
    fn encode(&mut self, to: Units) {
        match to {
            Units::Latin1 => {
                self.get(self.q);
                self.get(self.cp);
                self.store8_at(0);
                self.bump(self.q, 1);
            }
            Units::Utf16 => {
                // One unit, or a surrogate pair from `cp - 0x10000`.
                let m = |o| mem_arg_at(self.s.dst_mem, o, 1);
                let (cp, q) = (self.cp, self.q);
                self.ops([
                    I::LocalGet(cp),
                    I::I32Const(0x10000),
                    I::I32LtU,
                    I::If(BlockType::Empty),
                    I::LocalGet(q),
                    I::LocalGet(cp),
                    I::I32Store16(m(0)),
                ]);
                self.bump(q, 2);
                self.ops([
                    I::Else,
                    I::LocalGet(cp),
                    I::I32Const(0x10000),
                    I::I32Sub,
                    I::LocalSet(cp),
                    I::LocalGet(q),
                    I::LocalGet(cp),
                    I::I32Const(10),
                    I::I32ShrU,
                    I::I32Const(0xd800),
                    I::I32Or,
                    I::I32Store16(m(0)),
                    I::LocalGet(q),
                    I::LocalGet(cp),
                    I::I32Const(0x3ff),
                    I::I32And,
                    I::I32Const(0xdc00),
                    I::I32Or,
                    I::I32Store16(m(2)),
                ]);
                self.bump(q, 4);
                self.c.emit(I::End);
            }
            Units::Utf8 => {
                // One to four bytes: the lead byte, then 6 bits each.
                self.utf8_ladder([0x80, 0x800, 0x10000], |t, n| {
                    let lead = [0, 0xc0, 0xe0, 0xf0][n as usize - 1];
                    for k in 0..n {
                        t.get(t.q);
                        t.get(t.cp);
                        t.konst(6 * (n - 1 - k) as i32);
                        t.c.emit(I::I32ShrU);
                        if k == 0 {
                            t.konst(lead);
                            t.c.emit(I::I32Or);
                        } else {
                            t.konst(0x3f);
                            t.c.emit(I::I32And);
                            t.konst(0x80);
                            t.c.emit(I::I32Or);
                        }
                        t.store8_at(k);
                    }
                    t.bump(t.q, n as i32);
                });
            }
        }
    }
}

/// A size: `units * k`, or a local.
#[derive(Clone, Copy)]
enum Size {
    Units(i32),
    Local(u32),
}
