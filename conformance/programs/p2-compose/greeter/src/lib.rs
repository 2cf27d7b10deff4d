//! The greeter component of p2-compose: exports `test:compose/greeter`
//! with the Canonical ABI written out by hand (no bindings generator), and
//! prints to stdout and stderr itself (WASI from its own memory). It defines
//! the resource `counter` (`[resource-new]`, `[resource-rep]` and
//! `[resource-drop]` imported from `[export]test:compose/greeter`, the
//! destructor exported as `#[dtor]counter`): it drops the own handles that
//! `merge` and `consume` take, and each destructor run prints a line.
use std::alloc::{alloc, dealloc, Layout};

include!(concat!(env!("OUT_DIR"), "/component_type.rs"));

/// Where results that do not fit flat are returned.
#[repr(C, align(8))]
struct RetArea([u8; 24]);
static mut RET: RetArea = RetArea([0; 24]);

fn ret() -> *mut u8 {
    // One call at a time: the component model does not re-enter.
    std::ptr::addr_of_mut!(RET) as *mut u8
}

/// A string the caller gave (its bytes were copied into this memory).
unsafe fn arg_str<'a>(ptr: *const u8, len: usize) -> &'a str {
    std::str::from_utf8(std::slice::from_raw_parts(ptr, len)).expect("the adapter checked UTF-8")
}

/// Leaks `s` into (ptr, len), freed by the post-return.
fn leak(s: String) -> (usize, usize) {
    let s = s.into_bytes().into_boxed_slice();
    let len = s.len();
    (Box::into_raw(s) as *mut u8 as usize, len)
}

unsafe fn free(ptr: usize, len: usize, align: usize) {
    if len != 0 {
        dealloc(ptr as *mut u8, Layout::from_size_align(len, align).unwrap());
    }
}

#[export_name = "test:compose/greeter#greet"]
unsafe extern "C" fn greet(ptr: *const u8, len: usize) -> *mut u8 {
    let name = arg_str(ptr, len);
    eprintln!("greeter: greeting {name}");
    let (p, l) = leak(format!("Hello, {name}! ({} bytes)", name.len()));
    free(ptr as usize, len, 1);
    let r = ret() as *mut usize;
    *r = p;
    *r.add(1) = l;
    ret()
}

#[export_name = "cabi_post_test:compose/greeter#greet"]
unsafe extern "C" fn greet_post(r: *mut usize) {
    free(*r, *r.add(1), 1);
}

#[export_name = "test:compose/greeter#sum"]
unsafe extern "C" fn sum(ptr: *const u32, len: usize) -> *mut u8 {
    let xs = std::slice::from_raw_parts(ptr, len);
    let total: u64 = xs.iter().map(|x| u64::from(*x)).sum();
    let mean = if xs.is_empty() {
        0.0
    } else {
        total as f64 / xs.len() as f64
    };
    free(ptr as usize, len * 4, 4);
    let r = ret();
    *(r as *mut u32) = len as u32;
    *(r.add(8) as *mut u64) = total;
    *(r.add(16) as *mut f64) = mean;
    r
}

#[export_name = "test:compose/greeter#split"]
unsafe extern "C" fn split(ptr: *const u8, len: usize, sep: u32) -> *mut u8 {
    let s = arg_str(ptr, len);
    let sep = char::from_u32(sep).expect("the adapter checked the char");
    let parts: Vec<[usize; 2]> = s
        .split(sep)
        .map(|p| {
            let (a, b) = leak(p.to_string());
            [a, b]
        })
        .collect();
    free(ptr as usize, len, 1);
    let n = parts.len();
    let list = if n == 0 {
        4 as *mut [usize; 2]
    } else {
        alloc(Layout::array::<[usize; 2]>(n).unwrap()) as *mut [usize; 2]
    };
    for (i, p) in parts.into_iter().enumerate() {
        *list.add(i) = p;
    }
    let r = ret() as *mut usize;
    *r = list as usize;
    *r.add(1) = n;
    ret()
}

#[export_name = "cabi_post_test:compose/greeter#split"]
unsafe extern "C" fn split_post(r: *mut usize) {
    let (list, n) = (*r as *mut [usize; 2], *r.add(1));
    for i in 0..n {
        let [p, l] = *list.add(i);
        free(p, l, 1);
    }
    if n != 0 {
        dealloc(list as *mut u8, Layout::array::<[usize; 2]>(n).unwrap());
    }
}

/// `area(shape)`: the variant flattened as (discriminant, joined i32, i32).
#[export_name = "test:compose/greeter#area"]
unsafe extern "C" fn area(disc: u32, a: u32, b: u32) -> *mut u8 {
    let r = ret();
    let result = match disc {
        0 => Ok(std::f64::consts::PI * f64::from(f32::from_bits(a)).powi(2)),
        1 => Ok(f64::from(a) * f64::from(b)),
        _ => Err("a shape of no shape".to_string()),
    };
    match result {
        Ok(x) => {
            *r = 0;
            *(r.add(8) as *mut f64) = x;
        }
        Err(e) => {
            *r = 1;
            let (p, l) = leak(e);
            *(r.add(8) as *mut usize) = p;
            *(r.add(12) as *mut usize) = l;
        }
    }
    r
}

#[export_name = "cabi_post_test:compose/greeter#area"]
unsafe extern "C" fn area_post(r: *mut u8) {
    if *r == 1 {
        free(*(r.add(8) as *mut usize), *(r.add(12) as *mut usize), 1);
    }
}

#[export_name = "test:compose/greeter#shout"]
unsafe extern "C" fn shout(ptr: *const [usize; 2], len: usize) {
    for i in 0..len {
        let [p, l] = *ptr.add(i);
        println!("greeter: {}", arg_str(p as *const u8, l).to_uppercase());
        free(p, l, 1);
    }
    if len != 0 {
        dealloc(ptr as *mut u8, Layout::array::<[usize; 2]>(len).unwrap());
    }
}

// The resource `counter`, defined here: a rep is a `Box<Counter>` pointer;
// an own handle (a param of `merge` and `consume`, the results of the
// constructor, `merge` and `spawn`) is an index in this component's handle
// table, made by `[resource-new]` and read by `[resource-rep]`; a borrow
// (`self`, `total`, `tally`, `merge`'s second param) arrives as the rep.

#[link(wasm_import_module = "[export]test:compose/greeter")]
extern "C" {
    #[link_name = "[resource-new]counter"]
    fn counter_new(rep: *mut Counter) -> u32;
    #[link_name = "[resource-rep]counter"]
    fn counter_rep(handle: u32) -> *mut Counter;
    #[link_name = "[resource-drop]counter"]
    fn counter_drop(handle: u32);
}

#[repr(C)]
struct Counter {
    id: u32,
    value: u32,
}

static mut NEXT_ID: u32 = 1;

/// A new counter and its own handle.
unsafe fn new_counter(value: u32) -> u32 {
    let id = NEXT_ID;
    NEXT_ID += 1;
    println!("greeter: counter #{id} made with {value}");
    counter_new(Box::into_raw(Box::new(Counter { id, value })))
}

#[export_name = "test:compose/greeter#[constructor]counter"]
unsafe extern "C" fn counter_constructor(start: u32) -> u32 {
    new_counter(start)
}

#[export_name = "test:compose/greeter#[method]counter.add"]
unsafe extern "C" fn counter_add(this: *mut Counter, n: u32) -> u32 {
    let c = &mut *this;
    c.value = c.value.wrapping_add(n);
    c.value
}

#[export_name = "test:compose/greeter#[method]counter.get"]
unsafe extern "C" fn counter_get(this: *mut Counter) -> u32 {
    (*this).value
}

/// The destructor: runs when the last own handle is dropped, by the app
/// (`[resource-drop]counter` there) or by this component.
#[export_name = "test:compose/greeter#[dtor]counter"]
unsafe extern "C" fn counter_dtor(rep: *mut Counter) {
    let c = Box::from_raw(rep);
    println!("greeter: counter #{} dropped at {}", c.id, c.value);
}

#[export_name = "test:compose/greeter#total"]
unsafe extern "C" fn total(a: *mut Counter, b: *mut Counter) -> u32 {
    (*a).value.wrapping_add((*b).value)
}

/// `merge(a, b)`: a new counter holding a + b; `a` (owned) is dropped here.
#[export_name = "test:compose/greeter#merge"]
unsafe extern "C" fn merge(a: u32, b: *mut Counter) -> u32 {
    let rep = counter_rep(a);
    let (id, sum) = ((*rep).id, (*rep).value.wrapping_add((*b).value));
    println!("greeter: merging #{id} and #{}", (*b).id);
    counter_drop(a);
    new_counter(sum)
}

#[export_name = "test:compose/greeter#tally"]
unsafe extern "C" fn tally(ptr: *const *mut Counter, len: usize) -> u32 {
    let cs = std::slice::from_raw_parts(ptr, len);
    let ids: Vec<u32> = cs.iter().map(|c| (**c).id).collect();
    let sum = cs.iter().fold(0u32, |s, c| s.wrapping_add((**c).value));
    println!("greeter: tally of {ids:?}");
    free(ptr as usize, len * 4, 4);
    sum
}

#[export_name = "test:compose/greeter#spawn"]
unsafe extern "C" fn spawn(ptr: *const u32, len: usize) -> *mut u8 {
    let handles: Vec<u32> = std::slice::from_raw_parts(ptr, len)
        .iter()
        .map(|v| new_counter(*v))
        .collect();
    free(ptr as usize, len * 4, 4);
    let (list, n) = if len == 0 {
        (4, 0)
    } else {
        let l = Box::into_raw(handles.into_boxed_slice());
        (l as *mut u32 as usize, len)
    };
    let r = ret() as *mut usize;
    *r = list;
    *r.add(1) = n;
    ret()
}

#[export_name = "cabi_post_test:compose/greeter#spawn"]
unsafe extern "C" fn spawn_post(r: *mut usize) {
    free(*r, *r.add(1) * 4, 4);
}

/// `consume(c)`: `c`'s value; the handle is dropped here (the destructor runs).
#[export_name = "test:compose/greeter#consume"]
unsafe extern "C" fn consume(c: u32) -> u32 {
    let value = (*counter_rep(c)).value;
    println!("greeter: consuming #{}", (*counter_rep(c)).id);
    counter_drop(c);
    value
}
