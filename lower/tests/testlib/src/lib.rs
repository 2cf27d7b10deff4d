//! A test library for the relocator (lower/tests/relocate.rs): built for
//! wasm32-wasip1 as p2-lib is, with what a relocation has to get right:
//! static data and strings, pointers inside data (a table of trait
//! objects: vtables with function pointers), indirect calls, a heap that
//! grows (Vec, String, HashMap), formatting, and p1 calls.

use std::collections::HashMap;
use std::fmt::Write;

static GREETING: &str = "hello from the library";
static mut CALLS: u32 = 0;

trait Shape {
    fn area(&self) -> u32;
    fn name(&self) -> &'static str;
}
struct Square(u32);
struct Rect(u32, u32);
impl Shape for Square {
    fn area(&self) -> u32 {
        self.0 * self.0
    }
    fn name(&self) -> &'static str {
        "square"
    }
}
impl Shape for Rect {
    fn area(&self) -> u32 {
        self.0 * self.1
    }
    fn name(&self) -> &'static str {
        "rect"
    }
}
/// Pointers to data and to vtables, inside data.
static SHAPES: [&(dyn Shape + Sync); 3] = [&Square(3), &Rect(2, 5), &Square(4)];
/// Function pointers inside data.
static OPS: [fn(u32) -> u32; 2] = [double, square];
fn double(x: u32) -> u32 {
    x * 2
}
fn square(x: u32) -> u32 {
    x * x
}

#[repr(C)]
struct Ciovec {
    buf: *const u8,
    len: usize,
}

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn fd_write(fd: u32, iovs: *const Ciovec, n: usize, written: *mut usize) -> u16;
}

extern "C" {
    fn __wasm_call_ctors();
}

/// The reactor's initialiser: with it wasm-ld wraps no export in
/// ctors/dtors calls. The relocator exports it as `p2lib_init`.
#[export_name = "_initialize"]
pub extern "C" fn initialize() {
    unsafe { __wasm_call_ctors() }
}

fn print(s: &str) {
    let iov = Ciovec {
        buf: s.as_ptr(),
        len: s.len(),
    };
    let mut written = 0;
    unsafe { fd_write(1, &iov, 1, &mut written) };
}

/// Prints a line built from all of the above and returns a checksum of it.
#[no_mangle]
pub extern "C" fn tlib_run(n: u32) -> u32 {
    let calls = unsafe {
        CALLS += 1;
        CALLS
    };
    let mut areas: Vec<u32> = Vec::new();
    let mut names: HashMap<&'static str, u32> = HashMap::new();
    for i in 0..n {
        let s = SHAPES[(i % 3) as usize];
        areas.push(OPS[(i % 2) as usize](s.area()));
        *names.entry(s.name()).or_default() += 1;
    }
    let mut keys: Vec<_> = names.into_iter().collect();
    keys.sort();
    let mut line = String::new();
    let sum: u32 = areas.iter().sum();
    write!(line, "{GREETING}: call {calls}, sum {sum}, {keys:?}").unwrap();
    line.push('\n');
    print(&line);
    line.bytes().map(u32::from).sum::<u32>() ^ sum
}

/// Allocates `len` bytes filled with 0xab from the library's heap (which
/// grows with memory.grow past its first region) and returns their address.
#[no_mangle]
pub extern "C" fn tlib_alloc(len: u32) -> u32 {
    let v = vec![0xabu8; len as usize];
    v.leak().as_ptr() as u32
}
