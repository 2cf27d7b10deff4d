//! The app component of p2-compose: calls `test:compose/greeter`, which the
//! greeter component it is composed with exports, with the Canonical ABI
//! written out by hand (strings, lists of `u32` and of strings, a record, a
//! variant with an `f32` in a joined slot, a `char`, a `result`, and handles
//! of `counter`, a resource the greeter defines: own and borrowed, as params,
//! results and list elements, dropped here and in the greeter), and prints
//! what comes back. Its arguments are names to greet; a first argument
//! `misuse-dropped` or `misuse-consumed` is not greeted but ends the run
//! with a handle misuse the Canonical ABI traps on (a method call on a
//! dropped handle; `consume` of a handle `consume` already took): wasmtime
//! fails with "unknown handle index N", exit 1.

include!(concat!(env!("OUT_DIR"), "/component_type.rs"));

#[link(wasm_import_module = "test:compose/greeter")]
extern "C" {
    #[link_name = "greet"]
    fn greet(ptr: *const u8, len: usize, ret: *mut u8);
    #[link_name = "sum"]
    fn sum(ptr: *const u32, len: usize, ret: *mut u8);
    #[link_name = "split"]
    fn split(ptr: *const u8, len: usize, sep: u32, ret: *mut u8);
    #[link_name = "area"]
    fn area(disc: u32, a: u32, b: u32, ret: *mut u8);
    #[link_name = "shout"]
    fn shout(ptr: *const [usize; 2], len: usize);
    #[link_name = "[constructor]counter"]
    fn counter_new(start: u32) -> u32;
    #[link_name = "[method]counter.add"]
    fn counter_add(this: u32, n: u32) -> u32;
    #[link_name = "[method]counter.get"]
    fn counter_get(this: u32) -> u32;
    #[link_name = "[resource-drop]counter"]
    fn counter_drop(this: u32);
    #[link_name = "total"]
    fn total(a: u32, b: u32) -> u32;
    #[link_name = "merge"]
    fn merge(a: u32, b: u32) -> u32;
    #[link_name = "tally"]
    fn tally(ptr: *const u32, len: usize) -> u32;
    #[link_name = "spawn"]
    fn spawn(ptr: *const u32, len: usize, ret: *mut u8);
    #[link_name = "consume"]
    fn consume(c: u32) -> u32;
}

/// The `retptr` area of the calls: 24 bytes, 8-aligned.
#[repr(C, align(8))]
struct Ret([u8; 24]);

impl Ret {
    fn word(&self, offset: usize) -> usize {
        u32::from_le_bytes(self.0[offset..offset + 4].try_into().unwrap()) as usize
    }
    fn u64(&self, offset: usize) -> u64 {
        u64::from_le_bytes(self.0[offset..offset + 8].try_into().unwrap())
    }
}

/// A string the callee returned, allocated with this component's
/// `cabi_realloc` (so it is ours to free).
unsafe fn take_string(ptr: usize, len: usize) -> String {
    String::from_utf8(Vec::from_raw_parts(ptr as *mut u8, len, len)).expect("UTF-8")
}

fn main() {
    let mut r = Ret([0; 24]);
    let mut names: Vec<String> = std::env::args().skip(1).collect();
    // A first argument `misuse-...` is no name: it picks a handle misuse at
    // the end, which the Canonical ABI traps on.
    let misuse = match names.first() {
        Some(m) if m.starts_with("misuse-") => Some(names.remove(0)),
        _ => None,
    };
    names.extend(["wörld".to_string(), String::new()]);
    for name in &names {
        let s = unsafe {
            greet(name.as_ptr(), name.len(), r.0.as_mut_ptr());
            take_string(r.word(0), r.word(4))
        };
        println!("greet: {s}");
    }
    let xs: Vec<u32> = (1..=10).chain([u32::MAX, 7]).collect();
    for list in [&xs[..], &[][..]] {
        unsafe { sum(list.as_ptr(), list.len(), r.0.as_mut_ptr()) };
        println!(
            "sum: count {} total {} mean {:.4}",
            r.word(0),
            r.u64(8),
            f64::from_bits(r.u64(16))
        );
    }
    for (s, sep) in [("a,b,,ünï,", ','), ("no separators", ';'), ("x→y→z", '→')] {
        let parts: Vec<String> = unsafe {
            split(s.as_ptr(), s.len(), sep as u32, r.0.as_mut_ptr());
            let (list, n) = (r.word(0) as *mut [usize; 2], r.word(4));
            let parts = (0..n)
                .map(|i| {
                    let [p, l] = *list.add(i);
                    take_string(p, l)
                })
                .collect();
            if n != 0 {
                drop(Vec::from_raw_parts(list, n, n));
            }
            parts
        };
        println!("split {s:?} at {sep:?}: {parts:?}");
    }
    // shape: circle(1.5) (an f32 in the joined i32 slot), rect(3, 4), none.
    for (disc, a, b) in [(0, 1.5f32.to_bits(), 0), (1, 3, 4), (2, 0, 0)] {
        unsafe { area(disc, a, b, r.0.as_mut_ptr()) };
        match r.0[0] {
            0 => println!("area: ok {:.6}", f64::from_bits(r.u64(8))),
            _ => println!("area: err {}", unsafe {
                take_string(r.word(8), r.word(12))
            }),
        }
    }
    let lines = ["first line", "ünïcödé"];
    let pairs: Vec<[usize; 2]> = lines
        .iter()
        .map(|l| [l.as_ptr() as usize, l.len()])
        .collect();
    unsafe { shout(pairs.as_ptr(), pairs.len()) };
    unsafe { counters(&mut r, misuse.as_deref()) };
    println!("app: done");
}

/// The handles of `counter`, a resource the greeter defines: own handles in
/// this component's table, lent as borrows (alone, twice in one call, in a
/// list), moved to the greeter (`merge`, `consume`, which drop them there),
/// received (the constructor, `merge`, a list from `spawn`) and dropped here.
unsafe fn counters(r: &mut Ret, misuse: Option<&str>) {
    let a = counter_new(10);
    let b = counter_new(5);
    println!("counter: a {} b {}", counter_get(a), counter_get(b));
    println!(
        "counter: a.add(7) {} b.add(1) {}",
        counter_add(a, 7),
        counter_add(b, 1)
    );
    println!(
        "counter: total(a, b) {} total(a, a) {}",
        total(a, b),
        total(a, a)
    );
    println!("counter: tally([a, b, a]) {}", tally([a, b, a].as_ptr(), 3));
    let starts = [100, 200, u32::MAX];
    spawn(starts.as_ptr(), starts.len(), r.0.as_mut_ptr());
    let spawned = {
        let (list, n) = (r.word(0) as *mut u32, r.word(4));
        let v = std::slice::from_raw_parts(list, n).to_vec();
        if n != 0 {
            drop(Vec::from_raw_parts(list, n, n));
        }
        v
    };
    let values: Vec<u32> = spawned.iter().map(|c| counter_get(*c)).collect();
    println!(
        "counter: spawn({starts:?}) {} counters {values:?}",
        spawned.len()
    );
    let (c, d, e) = (spawned[0], spawned[1], spawned[2]);
    println!("counter: e.add(2) {}", counter_add(e, 2));
    let m = merge(b, a);
    println!("counter: m = merge(b, a) {}", counter_get(m));
    println!("counter: consume(c) {}", consume(c));
    println!(
        "counter: tally([m, d, m, e]) {}",
        tally([m, d, m, e].as_ptr(), 4)
    );
    println!("counter: tally([]) {}", tally([0u32; 0].as_ptr(), 0));
    println!("app: dropping a");
    counter_drop(a);
    match misuse {
        Some("misuse-dropped") => {
            println!("app: misuse: a.get() after dropping a");
            counter_get(a);
        }
        Some("misuse-consumed") => {
            println!("app: misuse: consume(c) again");
            consume(c);
        }
        Some(m) => panic!("unknown misuse {m}"),
        None => {}
    }
    println!("app: dropping m, d, e");
    for h in [m, d, e] {
        counter_drop(h);
    }
}
